"""Issue 13.2: a job run's counts on the job page under translated labels, never their keys."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from core.job_counts import COUNT_LABELS, count_rows, counts_text
from core.jobs import all_jobs, job_run
from core.models import JobRun, Organisation
from tests.factories import OrganisationFactory, PoolFactory, UserFactory

pytestmark = pytest.mark.django_db

BACKEND = "core.auth.ActiveAccountBackend"


@pytest.fixture
def admin_client(client):
    admin = UserFactory(organisation__kind=Organisation.Kind.AUTHORITY, roles=["authority_admin"])
    client.force_login(admin, backend=BACKEND)
    return client


def test_every_count_a_job_records_has_a_label_in_both_languages():
    keys = set()
    for spec in all_jobs():
        run = job_run(job_id=spec.id, period=spec.default_period(), trigger=JobRun.Trigger.COMMAND)
        assert run.state == JobRun.State.SUCCEEDED, (spec.id, run.error)
        keys |= set(run.counts)
    assert keys, "the jobs record counts"
    assert keys <= set(COUNT_LABELS), keys - set(COUNT_LABELS)
    with translation.override("zh-hans"):
        chinese = [str(COUNT_LABELS[k]) for k in keys]
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in chinese), chinese


def test_a_breakdown_by_bank_names_the_pool_and_the_bank():
    pool = PoolFactory(name="深圳市风险补偿资金池")
    bank = OrganisationFactory(kind=Organisation.Kind.BANK, name="招商银行深圳分行")
    with translation.override("en"):
        rows = count_rows({"entries_by_bank": {f"{pool.pk}/{bank.pk}": 1234}, "year": 2025, "firms": 12000})
    assert rows == [
        {"label": "Projects entered, by pool and bank", "value": "深圳市风险补偿资金池 · 招商银行深圳分行: 1,234"},
        {"label": "Year", "value": "2025"},
        {"label": "Guarantee firms", "value": "12,000"},
    ]


def test_a_reason_in_words_is_translated():
    with translation.override("zh-hans"):
        text = counts_text({"year": 2025, "skipped": "review not closed"})
    assert "review not closed" not in text and "skipped" not in text


def test_the_page_and_its_live_json_show_labels_in_the_viewers_language(admin_client):
    pool = PoolFactory(name="示范资金池")
    bank = OrganisationFactory(kind=Organisation.Kind.BANK, name="示范银行")
    run = JobRun.objects.create(job="JB-5", period="2025Q1", trigger=JobRun.Trigger.BEAT, state=JobRun.State.QUEUED,
                                counts={"entries_by_bank": {f"{pool.pk}/{bank.pk}": 2}, "loans_auto_closed": 3})
    for language, label in (("zh-hans", "到期自动结项的贷款"), ("en", "Loans closed at maturity")):
        page = admin_client.get(reverse("jobs:list"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        progress = admin_client.get(reverse("jobs:progress"), HTTP_ACCEPT_LANGUAGE=language).json()
        text = {r["id"]: r for r in progress["runs"]}[run.pk]["counts_text"]
        for shown in (page, text):
            assert f"{label}: 3" in shown and "示范资金池 · 示范银行: 2" in shown
            assert "entries_by_bank" not in shown and "loans_auto_closed" not in shown and "{'" not in shown


def test_a_firm_user_cannot_see_the_job_page(client):
    client.force_login(UserFactory(organisation__kind=Organisation.Kind.GUARANTEE_FIRM), backend=BACKEND)
    assert client.get(reverse("jobs:list")).status_code == 403
