"""JB-3: the daily deadline scan over every app's obligations (core.deadlines), its
notifications and e-mails, and what the home page shows of them."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core import mail
from django.urls import reverse

from core import deadlines
from core.jobs import get_job, job_run
from core.models import JobRun, Notification
from core.notifications import scan_horizon
from riskpool.models import Classification
from tests.factories import (
    ClaimFactory,
    CompensationFactory,
    LoanProjectFactory,
    UserFactory,
    firm_user,
)

pytestmark = pytest.mark.django_db
TODAY = date(2025, 4, 21)  # a Monday; the 5th working day after it is Sunday 2025-04-27, a 调休 working day


def scan(day: date = TODAY) -> JobRun:
    return job_run(job_id="JB-3", period=day.isoformat(), trigger=JobRun.Trigger.COMMAND)


def test_jb3_is_registered_daily_at_0100_for_a_day():
    spec = get_job("JB-3")
    assert (spec.crontab().hour, spec.crontab().minute) == ({1}, {0})
    assert spec.period_for(TODAY) == "2025-04-21"


def test_jb3_horizon_is_the_5th_working_day():
    assert scan_horizon(TODAY) == date(2025, 4, 27)
    assert scan_horizon(date(2024, 9, 27)) == date(2024, 10, 10)  # JB-1's example: National Day week


def test_jb3_gu4_overdue_and_due_soon_compensations_of_the_firm():
    firm = firm_user(email="ops@firm.invalid")
    overdue = CompensationFactory(guarantee__firm=firm.organisation, due_on=date(2025, 4, 18))
    soon = CompensationFactory(guarantee__firm=firm.organisation, due_on=date(2025, 4, 27))  # exactly the horizon
    CompensationFactory(guarantee__firm=firm.organisation, due_on=date(2025, 4, 28))  # after the horizon
    CompensationFactory(guarantee__firm=firm.organisation, due_on=date(2025, 4, 10), paid_on=date(2025, 4, 9),
                        paid_amount=D("1.00"))  # paid: nothing owed
    run = scan()
    assert run.state == JobRun.State.SUCCEEDED
    notes = {n.key: n.kind for n in Notification.objects.filter(organisation=firm.organisation)}
    assert notes == {f"guarantees.compensation:{overdue.pk}": "overdue", f"guarantees.compensation:{soon.pk}": "due_soon"}
    assert run.counts["overdue"] == 1 and run.counts["due_soon"] == 1


def test_jb12_rerunning_the_scan_the_same_day_adds_nothing_and_emails_once(django_capture_on_commit_callbacks):
    firm = firm_user(email="ops@firm.invalid")
    CompensationFactory(guarantee__firm=firm.organisation, due_on=date(2025, 4, 18))
    with django_capture_on_commit_callbacks(execute=True):  # the e-mail goes out once the scan commits
        scan()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ops@firm.invalid"]
    assert "GU-4" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        scan()
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        scan(date(2025, 4, 22))  # the next day, still overdue: the same notification, no new e-mail
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1
    assert Notification.objects.get().scanned_on == date(2025, 4, 22)


def test_jb3_rp16_next_step_is_owed_by_the_reviewer_not_the_bank():
    claim = ClaimFactory(state="submitted", next_due_on=date(2025, 4, 24))
    items = deadlines.obligations(today=TODAY, horizon=scan_horizon(TODAY))
    mine = [o for o in items if o.rule == "RP-16"]
    assert [(o.organisation_id, o.due_on) for o in mine] == [(claim.project.pool.reviewer_id, date(2025, 4, 24))]
    assert claim.project.loan_no in mine[0].text()


def test_jb3_rp16_payment_documents_are_owed_by_the_bank():
    claim = ClaimFactory(state="in_funding_plan", next_due_on=date(2025, 4, 17))
    owed = [o for o in deadlines.obligations(today=TODAY, horizon=scan_horizon(TODAY)) if o.rule == "RP-16"]
    assert [o.organisation_id for o in owed] == [claim.project.bank_id]


def test_jb3_rp14_open_claim_window_of_an_unclaimed_npl_loan():
    project = LoanProjectFactory(classification="substandard", classified_on=date(2025, 1, 24))
    Classification.objects.create(project=project, old="normal", new="substandard", on=date(2025, 1, 24))
    closed = LoanProjectFactory(classification="substandard", classified_on=date(2025, 1, 10))
    Classification.objects.create(project=closed, old="normal", new="substandard", on=date(2025, 1, 10))  # window over
    claimed = LoanProjectFactory(classification="substandard", classified_on=date(2025, 1, 25))
    Classification.objects.create(project=claimed, old="normal", new="substandard", on=date(2025, 1, 25))
    ClaimFactory(project=claimed, next_due_on=date(2025, 6, 1))
    owed = [o for o in deadlines.obligations(today=TODAY, horizon=scan_horizon(TODAY)) if o.rule == "RP-14"]
    assert [(o.organisation_id, o.due_on) for o in owed] == [(project.bank_id, date(2025, 4, 24))]


def test_jb3_home_page_shows_only_the_users_organisations_deadlines(client):
    firm = firm_user()
    other = firm_user()
    comp = CompensationFactory(guarantee__firm=firm.organisation, due_on=date(2025, 4, 18))
    CompensationFactory(guarantee__firm=other.organisation, due_on=date(2025, 4, 18), guarantee__contract_no="OTHER-1")
    scan()
    client.force_login(firm)
    page = client.get(reverse("home")).content.decode()
    assert comp.guarantee.contract_no in page and "OTHER-1" not in page
    assert reverse("guarantees:compensation-detail", args=[comp.pk]) in page


def test_jb3_home_page_before_any_scan_says_so(client):
    client.force_login(UserFactory())
    assert "has not run yet" in client.get(reverse("home")).content.decode()


def test_jb3_each_person_gets_the_email_in_the_language_they_chose(django_capture_on_commit_callbacks, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the site's default, for whoever has not chosen
    firm = firm_user(email="zh@firm.invalid")
    UserFactory(organisation=firm.organisation, email="en@firm.invalid", language="en")
    CompensationFactory(guarantee__firm=firm.organisation, due_on=date(2025, 4, 18))
    with django_capture_on_commit_callbacks(execute=True):
        scan()
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"zh@firm.invalid", "en@firm.invalid"}
    assert by_address["en@firm.invalid"].subject.startswith("Deadlines: 1 overdue")
    assert "逾期" in by_address["zh@firm.invalid"].subject


def test_jb3_no_email_to_a_deactivated_organisation_but_its_items_stay(django_capture_on_commit_callbacks):
    firm = firm_user(email="closed@firm.invalid")
    CompensationFactory(guarantee__firm=firm.organisation, due_on=date(2025, 4, 18))
    type(firm.organisation).objects.filter(pk=firm.organisation_id).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        result = scan()
    assert mail.outbox == [] and result.counts["emails"] == 0
    assert Notification.objects.filter(organisation=firm.organisation).count() == 1  # the item itself stays


def test_the_language_switch_keeps_the_choice_on_the_account(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "en"
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})  # not a language: kept as it was
    user.refresh_from_db()
    assert user.language == "en"
