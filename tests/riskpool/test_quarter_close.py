"""JB-5, riskpool part: the quarterly close (services_reports.quarter_close). RP-6: the entry
window of the closed quarter is reported per bank and nothing disbursed in it can be entered
afterwards; RP-16 8b: claims in recovery without a recovery report for the quarter are listed
per bank; per pool, paid, returned and balance at the quarter's end (RP-1). Set-based (JB-15),
a re-run replaces (JB-12)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import riskpool.jobs
from core import calendar as core_calendar
from core.calendar import nth_working_day_of_quarter
from core.errors import RuleViolation
from core.jobs import job_run
from core.models import JobRun
from riskpool import rules, services, services_reports
from riskpool.models import (
    LedgerEntry,
    MissingRecoveryReport,
    PoolQuarterSnapshot,
    QuarterBankReport,
    RecoveryReport,
)
from tests.factories import BorrowerDataFactory, ClaimFactory, LoanProjectFactory, MemberFactory, PoolFactory
from tests.riskpool.factories import example_data

pytestmark = pytest.mark.django_db
Q1 = "2025Q1"
# 2025Q2 starts on Tuesday 1 April; 4 April (清明) and 1–5 May are holidays, 27 April a working Sunday.
CLOSE_DAY = date(2025, 4, 23)  # JB-5's day for 2025Q1: the 16th working day of 2025Q2
DEADLINE = date(2025, 4, 22)  # RP-6 / RP-16 8b: the 15th working day of 2025Q2


def test_the_days_of_the_close():
    assert nth_working_day_of_quarter(2025, 2, 16) == CLOSE_DAY
    assert nth_working_day_of_quarter(2025, 2, 15) == DEADLINE


@pytest.fixture
def on_day(monkeypatch):
    def set_day(day: date) -> None:
        monkeypatch.setattr(riskpool.jobs, "run_day", lambda run: day)

    return set_day


def run_jb5(period=Q1) -> JobRun:
    run = job_run(job_id="JB-5", period=period, trigger=JobRun.Trigger.COMMAND)
    assert run.state == JobRun.State.SUCCEEDED
    return run


def claim(pool, bank, state, *, paid_on=date(2025, 1, 20), amount=D("400000.00"), **fields):
    project = LoanProjectFactory(pool=pool, bank=bank, classification="substandard", library="compensation",
                                 disbursed_on=date(2024, 3, 1), entered_on=date(2024, 3, 5))
    return ClaimFactory(project=project, state=state, paid_on=paid_on, paid_amount=amount, amount=amount, **fields)


def report(c, received_on, gross=D("100000.00")):
    return RecoveryReport.objects.create(claim=c, received_on=received_on, gross=gross, method="collection",
                                         return_amount=(gross * c.ratio).quantize(D("0.01")),
                                         report_due_on=DEADLINE)


def test_rp16_8b_claims_in_recovery_without_a_report_for_the_quarter_are_listed_per_bank(world, on_day):
    pool, bank = world.pool, world.bank
    other = MemberFactory(pool=pool)
    silent = claim(pool, bank, "in_compensation_library")
    reported = claim(pool, bank, "recovering")
    report(reported, date(2025, 2, 10))
    reported_late_quarter = claim(pool, bank, "recovering")
    report(reported_late_quarter, date(2025, 4, 2))  # money of Q2: not the report Q1 owes
    paid_after = claim(pool, bank, "in_compensation_library", paid_on=date(2025, 4, 3))
    settled = claim(pool, bank, "settled")
    unpaid = claim(pool, bank, "documents_uploaded", paid_on=None)
    others = claim(pool, other.organisation, "recovering")
    foreign = claim(PoolFactory(scheme="M"), MemberFactory().organisation, "recovering")

    on_day(CLOSE_DAY)
    run_jb5()

    missing = MissingRecoveryReport.objects.filter(period=Q1)
    assert {(m.claim_id, m.member_id) for m in missing} == {
        (silent.pk, world.member.pk), (reported_late_quarter.pk, world.member.pk), (others.pk, other.pk)}
    assert {m.due_on for m in missing} == {DEADLINE}
    assert {m.job_run_id for m in missing} == {JobRun.objects.get(job="JB-5").pk}
    ours = QuarterBankReport.objects.get(period=Q1, member=world.member)
    assert (ours.recovery_claims, ours.reports_received, ours.reports_missing) == (3, 1, 2)
    assert ours.recoveries_gross == D("100000.00") and ours.returns_due == D("40000.00")
    assert QuarterBankReport.objects.get(period=Q1, member=other).reports_missing == 1
    for untouched in (reported, paid_after, settled, unpaid, foreign):
        assert not MissingRecoveryReport.objects.filter(claim=untouched).exists()


def test_jb12_a_rerun_replaces_the_quarter_and_a_late_report_clears_the_claim(world, on_day):
    silent = claim(world.pool, world.bank, "in_compensation_library")
    also = claim(world.pool, world.bank, "recovering")
    on_day(CLOSE_DAY)
    run_jb5()
    run_jb5()
    assert MissingRecoveryReport.objects.filter(period=Q1).count() == 2
    assert QuarterBankReport.objects.filter(period=Q1).count() == 1
    assert PoolQuarterSnapshot.objects.filter(period=Q1).count() == 1
    report(silent, date(2025, 3, 28))  # reported (late) for money of the quarter
    run_jb5()
    assert list(MissingRecoveryReport.objects.filter(period=Q1).values_list("claim_id", flat=True)) == [also.pk]
    assert QuarterBankReport.objects.get(period=Q1).reports_missing == 1
    # another quarter's rows are left alone
    run_jb5("2024Q4")
    assert MissingRecoveryReport.objects.filter(period=Q1).count() == 1
    assert JobRun.objects.filter(job="JB-5").count() == 2


def test_rp6_window_report_and_nothing_of_the_quarter_can_be_entered_after_the_close(world, on_day):
    q1 = [world.register(loan_no=f"JJ-Q1-{i}", disbursed_on=date(2025, 2, 3 + i), entered_on=date(2025, 2, 20),
                         maturity_on=date(2026, 2, 3)) for i in range(3)]
    late_in_window = world.register(loan_no="JJ-Q1-LAST", disbursed_on=date(2025, 3, 31), entered_on=DEADLINE,
                                    maturity_on=date(2026, 3, 31))
    on_day(CLOSE_DAY)
    run_jb5()
    row = QuarterBankReport.objects.get(period=Q1, member=world.member)
    assert row.window_projects == len(q1) + 1
    assert row.window_principal == sum((p.principal_yuan for p in [*q1, late_in_window]), D("0"))
    assert row.entered_in_quarter == len(q1)  # the last one was entered in Q2, within the window
    snapshot = PoolQuarterSnapshot.objects.get(period=Q1, pool=world.pool)
    assert snapshot.entry_window_closed_on == DEADLINE
    assert DEADLINE == rules.entry_deadline(date(2025, 3, 31), calendar=core_calendar).date

    # After the close, no loan of the quarter can be entered: RP-6 names the deadline.
    for disbursed in (date(2025, 1, 2), date(2025, 3, 31)):
        with pytest.raises(RuleViolation) as refused:
            services.project_register(user=world.bank_user, pool=world.pool, borrower=BorrowerDataFactory(),
                                      data=example_data(loan_no=f"JJ-LATE-{disbursed}", disbursed_on=disbursed,
                                                        entered_on=CLOSE_DAY, maturity_on=date(2026, 3, 31)))
        assert refused.value.rule == "RP-6" and DEADLINE.isoformat() in str(refused.value.message)
    # A loan of the new quarter still can.
    services.project_register(user=world.bank_user, pool=world.pool, borrower=BorrowerDataFactory(),
                              data=example_data(loan_no="JJ-Q2-1", disbursed_on=date(2025, 4, 1),
                                                entered_on=CLOSE_DAY, maturity_on=date(2026, 4, 1)))


def test_pool_snapshot_paid_returned_and_balance_at_the_quarter_end_are_the_ledger(world, on_day):
    pool = world.pool
    c = claim(pool, world.bank, "recovering", amount=D("1000000.00"))

    def book(kind, amount, on, claim=c):
        services.ledger_post(user="test", pool=pool, kind=kind, amount=D(amount), booked_on=on, claim=claim)

    book(LedgerEntry.Kind.BUDGET, "5000000.00", date(2024, 12, 20), claim=None)
    book(LedgerEntry.Kind.PAYOUT, "300000.00", date(2024, 12, 28))
    book(LedgerEntry.Kind.PAYOUT, "1000000.00", date(2025, 1, 20))
    book(LedgerEntry.Kind.RETURN_RECOVERY, "40000.00", date(2025, 3, 31))
    book(LedgerEntry.Kind.RETURN_UPGRADE, "10000.00", date(2024, 12, 30))
    book(LedgerEntry.Kind.PAYOUT, "200000.00", date(2025, 4, 1))  # after the quarter
    on_day(CLOSE_DAY)
    run_jb5()
    s = PoolQuarterSnapshot.objects.get(period=Q1, pool=pool)
    assert (s.paid, s.returned) == (D("1000000.00"), D("40000.00"))
    assert (s.paid_total, s.returned_total) == (D("1300000.00"), D("50000.00"))
    assert s.balance == D("5000000.00") - D("1300000.00") + D("50000.00")
    pool.refresh_from_db()
    assert pool.balance == s.balance - D("200000.00")
    empty = PoolFactory()
    run_jb5()
    assert PoolQuarterSnapshot.objects.get(period=Q1, pool=empty).balance == D("0")


def test_jb15_quarter_close_is_a_constant_number_of_queries(world):
    def queries() -> int:
        _k, start, end = "quarter", date(2025, 1, 1), date(2025, 3, 31)
        with CaptureQueriesContext(connection) as ctx:
            services_reports.quarter_close(period=Q1, start=start, end=end, entries={})
        return len(ctx.captured_queries)

    claim(world.pool, world.bank, "recovering")
    queries()  # warm-up: the calendar's cache, and rows to replace from now on
    few = queries()
    for _ in range(4):
        member = MemberFactory(pool=world.pool)
        for _j in range(3):
            claim(world.pool, member.organisation, "in_compensation_library")
    PoolFactory()
    assert queries() == few
    assert MissingRecoveryReport.objects.filter(period=Q1).count() == 13


def test_jb5_rp17_a_quarter_without_a_recovery_report_is_not_an_overdue_item(world, on_day):
    """第十九条(六): a quarter with no money recovered owes no report, so the quarterly close's
    "no report" rows are information for the pool, never overdue items of the bank."""
    from core import deadlines

    silent = claim(world.pool, world.bank, "in_compensation_library")
    on_day(CLOSE_DAY)
    run_jb5()
    assert MissingRecoveryReport.objects.filter(claim=silent, period=Q1).exists()
    later = date(2025, 5, 30)
    owed = [o for o in deadlines.obligations(today=later, horizon=later) if "recover" in o.key]
    assert owed == []


def test_jb5_rp17_a_nil_report_clears_the_quarter_and_a_rerun_keeps_it_clear(world, on_day):
    silent = claim(world.pool, world.bank, "in_compensation_library")
    on_day(CLOSE_DAY)
    run_jb5()
    services.recovery_nil_report(user=world.bank_user, claim=silent, period=Q1, on=CLOSE_DAY)
    assert not MissingRecoveryReport.objects.filter(claim=silent, period=Q1).exists()
    run_jb5()  # JB-12: the re-run does not list it again
    assert not MissingRecoveryReport.objects.filter(claim=silent, period=Q1).exists()
    assert QuarterBankReport.objects.get(period=Q1, member=world.member).reports_missing == 0
