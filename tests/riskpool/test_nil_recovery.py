"""RP-17 / RP-16 8b (seed 004 第十九条(六) "分次收回的，应……于每季度前15个工作日内在系统中上报清收及资金
返还信息"): recoveries are reported for a quarter in which money came in; a quarter with nothing
recovered owes no report. A bank may still file an explicit nil report (零清收报告) for a closed
quarter; it is refused for a quarter not yet over, one before the payout, one with a recovery,
or twice. A recovery found later in a nil quarter supersedes the nil report."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from core.errors import Conflict, RuleViolation
from core.models import AuditEvent
from riskpool import services
from riskpool.models import MissingRecoveryReport, NilRecoveryReport
from tests.factories import bank_user
from tests.riskpool.test_api import set_today, token_client

pytestmark = pytest.mark.django_db
AFTER_Q2 = date(2025, 7, 3)


@pytest.fixture
def compensated(world):
    """The worked example paid on 2025-04-28 and moved to the compensation library."""
    world.budget()
    claim = world.claim()
    world.to_documents(claim)
    world.pay(claim)
    return services.claim_to_compensation_library(user=world.bank_user, claim=claim, on=date(2025, 4, 30))


def test_rp17_nil_report_for_a_closed_quarter_is_filed_and_audited(world, compensated):
    MissingRecoveryReport.objects.create(pool=world.pool, period="2025Q2", member=world.member, claim=compensated,
                                         due_on=date(2025, 7, 21))
    report = services.recovery_nil_report(user=world.bank_user, claim=compensated, period="2025q2", on=AFTER_Q2)
    assert (report.period, report.filed_on, report.filed_by) == ("2025Q2", AFTER_Q2, world.bank_user)
    assert not MissingRecoveryReport.objects.filter(claim=compensated).exists()  # the obligation clears
    assert AuditEvent.objects.filter(object_type="riskpool.nilrecoveryreport", object_id=str(report.pk)).exists()


def test_rp17_nil_report_boundaries_of_the_quarter(world, compensated):
    # The last day of the quarter is still inside it: not yet closed.
    with pytest.raises(RuleViolation) as caught:
        services.recovery_nil_report(user=world.bank_user, claim=compensated, period="2025Q2", on=date(2025, 6, 30))
    assert caught.value.rule == "RP-17" and caught.value.field == "period"
    assert services.recovery_nil_report(user=world.bank_user, claim=compensated, period="2025Q2",
                                        on=date(2025, 7, 1)).period == "2025Q2"


def test_rp17_nil_report_refused_before_the_payout_or_for_a_non_quarter(world, compensated):
    for period in ("2025Q1", "2025H1", "2025-Q2", ""):
        with pytest.raises(RuleViolation) as caught:
            services.recovery_nil_report(user=world.bank_user, claim=compensated, period=period, on=AFTER_Q2)
        assert caught.value.rule == "RP-17"
    assert not NilRecoveryReport.objects.exists()


def test_rp17_nil_report_refused_twice_or_with_a_recovery_in_the_quarter(world, compensated):
    services.recovery_nil_report(user=world.bank_user, claim=compensated, period="2025Q2", on=AFTER_Q2)
    with pytest.raises(Conflict):
        services.recovery_nil_report(user=world.bank_user, claim=compensated, period="2025Q2", on=AFTER_Q2)
    services.recovery_report(user=world.bank_user, claim=compensated, received_on=date(2025, 8, 1),
                             gross=D("800000.00"), method="collection", on=date(2025, 8, 2))
    with pytest.raises(Conflict):
        services.recovery_nil_report(user=world.bank_user, claim=compensated, period="2025Q3",
                                     on=date(2025, 10, 2))


def test_rp17_a_recovery_found_later_supersedes_the_nil_report(world, compensated):
    services.recovery_nil_report(user=world.bank_user, claim=compensated, period="2025Q2", on=AFTER_Q2)
    report = services.recovery_report(user=world.bank_user, claim=compensated, received_on=date(2025, 6, 20),
                                      gross=D("800000.00"), method="collection", on=AFTER_Q2)
    assert report.return_amount == D("400000.00")
    assert not NilRecoveryReport.objects.filter(claim=compensated).exists()


def test_rp17_nil_report_only_by_the_claims_bank(world, compensated):
    from django.core.exceptions import PermissionDenied

    for user in (bank_user(), world.reviewer):
        with pytest.raises(PermissionDenied):
            services.recovery_nil_report(user=user, claim=compensated, period="2025Q2", on=AFTER_Q2)


def test_rp17_nil_report_button_on_the_claim_page(client, world, compensated, server_day):
    server_day(AFTER_Q2)
    client.force_login(world.bank_user)
    url = reverse("riskpool:claim-detail", args=[compensated.pk])
    page = client.get(url).content.decode()
    assert 'id="nil-recovery-form"' in page and 'value="2025Q2"' in page  # the quarter just closed
    response = client.post(reverse("riskpool:claim-action", args=[compensated.pk, "nil-recovery"]),
                           {"nil-recovery-period": "2025Q2"})
    assert response.status_code == 302
    assert 'id="nil-recoveries"' in client.get(url).content.decode()
    again = client.post(reverse("riskpool:claim-action", args=[compensated.pk, "nil-recovery"]),
                        {"nil-recovery-period": "2025Q2"})
    assert again.status_code == 409
    client.force_login(bank_user())
    assert client.post(reverse("riskpool:claim-action", args=[compensated.pk, "nil-recovery"]),
                       {"nil-recovery-period": "2025Q2"}).status_code == 404


def test_rp17_nil_report_through_the_api(world, compensated, monkeypatch):
    set_today(monkeypatch, AFTER_Q2)
    url = reverse("riskpool-api:claim-nil-recovery-report", args=[compensated.pk])
    response = token_client(world.bank_user).post(url, {"period": "2025Q2"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["period"] == "2025Q2" and response.json()["filed_on"] == "2025-07-03"
    assert token_client(world.bank_user).post(url, {"period": "2025Q2"}, format="json").status_code == 409
    assert token_client(world.bank_user).post(url, {"period": "2025Q3"}, format="json").status_code == 400
    assert token_client(bank_user()).post(url, {"period": "2025Q2"}, format="json").status_code == 404
