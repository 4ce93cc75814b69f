"""``manage.py seed_demo``: idempotent, 200 guarantees through the services, valid credit codes,
and every demo login can sign in."""
from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse

from core import demo
from core.models import Organisation, Region, User
from core.validators import credit_code_problem
from guarantees.models import Agreement, Guarantee

pytestmark = pytest.mark.django_db




def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for app in ("core", "guarantees", "auth")
        for model in apps.get_app_config(app).get_models()
    }


def test_seed_demo_twice_gives_the_same_data():
    _seed()
    first = _counts()
    guarantees = list(Guarantee.objects.order_by("firm_id", "contract_no").values_list(
        "contract_no", "amount", "fee_rate", "status", "closed_on", "fee_compliant"))
    output = _seed()
    assert _counts() == first  # no duplicates, no new audit rows, no new job runs
    assert list(Guarantee.objects.order_by("firm_id", "contract_no").values_list(
        "contract_no", "amount", "fee_rate", "status", "closed_on", "fee_compliant")) == guarantees
    assert "0 guarantees created this run" in output


def test_seed_demo_builds_the_demo_through_the_rules():
    _seed()
    assert Guarantee.objects.count() == 200
    assert Region.objects.filter(level="province", children__isnull=False).distinct().count() == 1
    assert Region.objects.filter(level="city").count() == 2
    assert Region.objects.filter(level="county").count() == 3
    kinds = Organisation.objects.values_list("kind", flat=True)
    assert list(kinds).count("bank") == 4 and list(kinds).count("guarantee_firm") == 3
    assert {"reguarantee_firm", "national_fund", "authority", "supervisor", "pool_reviewer",
            "pool_treasurer"} <= set(kinds)
    for firm in Organisation.objects.filter(kind="guarantee_firm"):
        assert firm.firm_agreements.count() in (2, 3)
        assert firm.net_assets_reports.count() == 8
    assert Agreement.objects.filter(compliant=False).exists()  # GU-2 flagged
    assert Guarantee.objects.filter(fee_compliant=False).exists()  # GU-5 flagged
    statuses = set(Guarantee.objects.values_list("status", flat=True))
    assert {"active", "released", "defaulted", "compensated", "recovering", "written_off"} <= statuses
    assert Guarantee.objects.values("firm").distinct().count() == 3


def test_every_organisation_has_a_valid_credit_code():
    _seed()
    codes = list(Organisation.objects.values_list("credit_code", flat=True))
    assert len(codes) == len(demo.ORGANISATIONS)
    assert [c for c in codes if credit_code_problem(c)] == []


def test_every_demo_login_can_sign_in_and_is_printed(client):
    output = _seed()
    usernames = [spec.username for spec in demo.LOGINS] + ["admin"]
    assert {spec.role for spec in demo.LOGINS} == {
        "authority_admin", "authority_reviewer", "pool_reviewer", "pool_treasurer", "bank_operator",
        "firm_operator", "county_supervisor", "city_supervisor", "province_supervisor"}
    for username in usernames:
        assert username in output and demo.DEMO_PASSWORD in output
        response = client.post(reverse("login"), {"username": username, "password": demo.DEMO_PASSWORD})
        assert response.status_code == 302, username
        assert client.get(reverse("home")).status_code == 200, username
        client.post(reverse("logout"))
    assert User.objects.get(username="admin").is_superuser
    for spec in demo.LOGINS:
        assert User.objects.get(username=spec.username).has_role(spec.role)
