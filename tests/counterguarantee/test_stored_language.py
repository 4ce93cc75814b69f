"""Issue 13.1: a check run while an English-speaking operator was signed in reads in Chinese on
the Chinese page and in English on the English one (the results are stored as codes)."""
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from tests.counterguarantee.factories import draft_plan, ensure_tables, guarantor_data
from tests.factories import firm_user

pytestmark = pytest.mark.django_db

CONTRACTS_ZH = "每项措施均有单独合同，并经全部所有人签署。"
CONTRACTS_EN = "Every measure has its own contract, signed by every owner."


def test_a_check_stored_under_english_shows_each_readers_language(client):
    ensure_tables()
    with translation.override("en"):
        plan, user = draft_plan(measures=[guarantor_data()])
    stored = {r["rule"]: r for r in plan.last_check["results"]}["CG-10"]["message"]
    assert stored == {"code": CONTRACTS_EN}
    client.force_login(user)
    url = reverse("counterguarantee:plan-detail", args=[plan.pk])
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert CONTRACTS_ZH in chinese and CONTRACTS_EN not in chinese
    assert CONTRACTS_EN in english and CONTRACTS_ZH not in english
    assert "&quot;code&quot;" not in chinese + english


def test_another_firms_plan_is_404(client):
    ensure_tables()
    plan, _user = draft_plan(measures=[guarantor_data()])
    client.force_login(firm_user())
    assert client.get(reverse("counterguarantee:plan-detail", args=[plan.pk])).status_code == 404
