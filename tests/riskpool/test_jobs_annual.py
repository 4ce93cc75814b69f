"""JB-7 annual bank evaluation and revocations (RP-20, RP-22), JB-6 half-year reports (RP-23) and
JB-5's riskpool part: automatic closure (RP-18) and entries per bank, next to the guarantees part
under one JobRun. Set-based (JB-15), idempotent per (job, period) (JB-12)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import riskpool.jobs
import riskpool.services_reports
from core.calendar import nth_working_day_of_month
from core.jobs import get_job, job_run
from core.models import AuditEvent, JobRun, Organisation
from guarantees.models import FirmIndicatorSnapshot
from riskpool import rules
from riskpool.models import (
    BankEvaluation,
    ClaimStep,
    HalfYearReport,
    LedgerEntry,
    LoanProject,
    Member,
    RecoveryReport,
    Violation,
)
from riskpool.services_reports import auto_close_cutoff
from tests.audit_text import english
from tests.factories import ClaimFactory, LoanProjectFactory, MemberFactory, OrganisationFactory, PoolFactory

pytestmark = pytest.mark.django_db
COMMAND = JobRun.Trigger.COMMAND


@pytest.fixture
def on_day(monkeypatch):
    """Sets the run's date (Asia/Shanghai) the riskpool jobs act on."""

    def set_day(day: date) -> None:
        monkeypatch.setattr(riskpool.jobs, "run_day", lambda run: day)

    return set_day


def reload(obj):
    obj.refresh_from_db()
    return obj


# --- schedules ----------------------------------------------------------------------------


def test_jb6_runs_on_the_10th_working_day_of_january_and_july_for_the_previous_half():
    spec = get_job("JB-6")
    for year, month in ((2025, 1), (2025, 7), (2026, 1)):
        due = nth_working_day_of_month(year, month, 10)
        assert spec.is_due(due) and not spec.is_due(due - timedelta(days=1)) and not spec.is_due(due + timedelta(days=1))
    assert not spec.is_due(nth_working_day_of_month(2025, 4, 10))
    assert spec.period_for(date(2025, 7, 14)) == "2025H1" and spec.period_for(date(2025, 1, 14)) == "2024H2"
    assert "January and July" in spec.schedule_text


def test_jb7_runs_on_20_february_at_0230_for_the_previous_year():
    spec = get_job("JB-7")
    schedule = spec.crontab()
    assert (schedule.hour, schedule.minute, schedule.day_of_month, schedule.month_of_year) == ({2}, {30}, {20}, {2})
    assert spec.period_for(date(2026, 2, 20)) == "2025"


# --- JB-7 -----------------------------------------------------------------------------------


def lend(member: Member, year: int, total: str, borrowers: int, *, repeat: int = 0) -> None:
    """``borrowers`` loans to distinct borrowers, plus ``repeat`` more to the first of them,
    disbursed in ``year`` and together worth ``total`` yuan."""
    each = D(total) / (borrowers + repeat)
    projects = [
        LoanProjectFactory(pool=member.pool, bank=member.organisation, principal=each,
                           disbursed_on=date(year, 3 + i % 9, 1), maturity_on=date(year + 1, 6, 1),
                           entered_on=date(year, 3 + i % 9, 5))
        for i in range(borrowers)
    ]
    for _ in range(repeat):
        LoanProjectFactory(pool=member.pool, bank=member.organisation, borrower=projects[0].borrower, principal=each,
                           disbursed_on=date(year, 11, 1), maturity_on=date(year + 1, 6, 1),
                           entered_on=date(year, 11, 5))


@pytest.fixture
def banks():
    """Four banks since 2022 and one joining in 2025. X falls on A and N in 2024 and in 2025."""
    pool = PoolFactory()
    x, y, z, w = (MemberFactory(pool=pool, joined_on=date(2022, 1, 1)) for _ in range(4))
    v = MemberFactory(pool=pool, joined_on=date(2025, 3, 1))
    lend(x, 2023, "10000000", 5), lend(x, 2024, "8000000", 4), lend(x, 2025, "5000000", 3)
    lend(y, 2023, "10000000", 5), lend(y, 2024, "12000000", 6), lend(y, 2025, "15000000", 7, repeat=1)
    lend(z, 2023, "5000000", 2), lend(z, 2024, "6000000", 3), lend(z, 2025, "6000000", 3)
    lend(w, 2024, "6000000", 3), lend(w, 2025, "6000000", 3)
    lend(v, 2025, "2000000", 1)
    # the same bank's loan in another pool does not count
    LoanProjectFactory(bank=y.organisation, principal=D("99000000"), disbursed_on=date(2025, 5, 1),
                       maturity_on=date(2026, 5, 1))
    return {"pool": pool, "x": x, "y": y, "z": z, "w": w, "v": v}


def evaluations(year):
    return {e.member_id: e for e in BankEvaluation.objects.filter(year=year)}


def test_jb7_rp20_grades_are_those_of_evaluate_banks_on_the_same_figures(banks, on_day):
    on_day(date(2026, 2, 20))
    run = job_run(job_id="JB-7", period="2025", trigger=COMMAND)

    x, y, z, w, v = (banks[k] for k in "xyzwv")
    figures = [
        rules.BankYear(str(x.pk), D("5000000"), 3, D("8000000"), 4),
        rules.BankYear(str(y.pk), D("15000000"), 7, D("12000000"), 6),  # 8 loans, 7 borrowers
        rules.BankYear(str(z.pk), D("6000000"), 3, D("6000000"), 3),
        rules.BankYear(str(w.pk), D("6000000"), 3, D("6000000"), 3),
        rules.BankYear(str(v.pk), D("2000000"), 1, None, None),  # not a member in 2024
    ]
    expected = {int(g.id): g for g in rules.evaluate_banks(figures, rules.S_DEFAULTS)}
    stored = evaluations(2025)
    assert set(stored) == set(expected)
    for member_id, grade in expected.items():
        e = stored[member_id]
        assert (e.growth, e.rank_amount, e.rank_borrowers, e.rank_growth, e.grade) == (
            grade.growth, grade.amount_rank, grade.borrowers_rank, grade.growth_rank, grade.grade)
        assert e.violation is False and e.job_run_id == run.pk and e.pool_id == banks["pool"].pk
    # the figures themselves
    assert (stored[y.pk].amount, stored[y.pk].borrowers) == (D("15000000.00"), 7)
    assert (stored[v.pk].prev_amount, stored[v.pk].prev_borrowers, stored[v.pk].growth) == (None, None, None)
    # ties share the best rank: 1, 2, 2, 4, 5 on A; Z and W share growth rank 2
    assert [stored[m.pk].rank_amount for m in (y, z, w, x, v)] == [1, 2, 2, 4, 5]
    assert (stored[z.pk].rank_growth, stored[w.pk].rank_growth, stored[x.pk].rank_growth) == (2, 2, 4)
    assert stored[v.pk].rank_growth is None
    assert [stored[m.pk].grade for m in (x, y, z, w, v)] == ["unqualified", "good", "qualified", "qualified",
                                                              "qualified"]
    assert run.counts["banks_evaluated"] == 5 and run.counts["unqualified"] == 1 and run.counts["good"] == 1
    # only one unqualified year so far (2024 not evaluated): nobody revoked
    assert run.counts["revoked"] == 0 and reload(x).revoked_on is None


def test_jb7_rp20_rp21_a_violation_recorded_in_the_year_grades_the_bank_unqualified(banks, on_day):
    y, z = banks["y"], banks["z"]
    Violation.objects.create(pool=banks["pool"], member=y, kind="duplicate_claim", recorded_on=date(2025, 11, 3))
    Violation.objects.create(pool=banks["pool"], member=z, kind="misuse", recorded_on=date(2024, 12, 31))  # last year
    on_day(date(2026, 2, 20))
    run = job_run(job_id="JB-7", period="2025", trigger=COMMAND)

    stored = evaluations(2025)
    assert (stored[y.pk].violation, stored[y.pk].grade) == (True, "unqualified")  # "good" on its figures
    assert (stored[z.pk].violation, stored[z.pk].grade) == (False, "qualified")
    assert run.counts["unqualified"] == 2 and run.counts["good"] == 0


def test_jb7_rp22_unqualified_two_years_running_is_revoked_with_a_reapply_date(banks, on_day):
    x = banks["x"]
    on_day(date(2025, 2, 20))
    first = job_run(job_id="JB-7", period="2024", trigger=COMMAND)
    assert evaluations(2024)[x.pk].grade == "unqualified" and banks["v"].pk not in evaluations(2024)
    assert first.counts["revoked"] == 0 and reload(x).revoked_on is None

    on_day(date(2026, 2, 20))
    second = job_run(job_id="JB-7", period="2025", trigger=COMMAND)

    x = reload(x)
    assert second.counts["revoked"] == 1
    assert (x.revoked_on, x.may_reapply_on) == (date(2026, 2, 20), date(2028, 2, 20))
    assert x.may_reapply_on == rules.may_reapply_on(date(2026, 2, 20))
    assert Member.objects.filter(revoked_on__isnull=False).count() == 1
    event = AuditEvent.objects.get(object_type="riskpool.member", object_id=str(x.pk))
    assert english(event.summary).startswith("RP-22 revoked") and event.before["revoked_on"] is None
    assert event.after["revoked_on"] == "2026-02-20" and event.organisation_id == banks["pool"].authority_id
    assert event.actor_label == "system (JB-7 2025)"


def test_jb7_jb12_a_rerun_replaces_its_rows_and_does_not_revoke_again(banks, on_day):
    on_day(date(2025, 2, 20))
    job_run(job_id="JB-7", period="2024", trigger=COMMAND)
    on_day(date(2026, 2, 20))
    first = job_run(job_id="JB-7", period="2025", trigger=COMMAND)
    first_ids = set(BankEvaluation.objects.filter(year=2025).values_list("pk", flat=True))
    before = sorted(BankEvaluation.objects.filter(year=2025).values_list("member_id", "grade", "rank_amount"))

    on_day(date(2026, 2, 25))
    second = job_run(job_id="JB-7", period="2025", trigger=COMMAND)

    assert second.pk == first.pk and JobRun.objects.filter(job="JB-7", period="2025").count() == 1
    rows = BankEvaluation.objects.filter(year=2025)
    assert rows.count() == 5 and not first_ids & set(rows.values_list("pk", flat=True))
    assert sorted(rows.values_list("member_id", "grade", "rank_amount")) == before
    assert BankEvaluation.objects.filter(year=2024).count() == 4  # the other year untouched
    assert second.counts["replaced"] == 5 and second.counts["revoked"] == 0
    assert reload(banks["x"]).revoked_on == date(2026, 2, 20)  # the first run's date is kept
    assert AuditEvent.objects.filter(object_type="riskpool.member").count() == 1


def _evaluation_world(n: int) -> None:
    pool = PoolFactory()
    for i in range(n):
        member = MemberFactory(pool=pool, joined_on=date(2024, 1, 1))
        LoanProjectFactory(pool=pool, bank=member.organisation, principal=D(1000000 + 1000 * i),
                           disbursed_on=date(2025, 4, 1), maturity_on=date(2026, 4, 1), entered_on=date(2025, 4, 2))


def test_jb7_jb15_3_and_30_members_take_the_same_number_of_queries(on_day, django_assert_max_num_queries):
    on_day(date(2026, 2, 20))
    counts = []
    for n, period in ((3, "2025"), (30, "2026")):  # in 2026 every bank fell: nobody unqualified
        _evaluation_world(n)
        with CaptureQueriesContext(connection) as ctx:
            run = job_run(job_id="JB-7", period=period, trigger=COMMAND)
        counts.append(len(ctx.captured_queries))
        assert run.counts["unqualified"] == 0
    assert counts[0] == counts[1], counts
    assert BankEvaluation.objects.filter(year=2026).count() == 33
    with django_assert_max_num_queries(counts[0]):
        job_run(job_id="JB-7", period="2026", trigger=COMMAND)


# --- JB-6 -----------------------------------------------------------------------------------


def _book(claim, kind, amount, on):
    return LedgerEntry.objects.create(pool=claim.project.pool, kind=kind, amount=D(amount), balance_after=D("100000000.00"),
                                      claim=claim, booked_on=on)


def _claim(member, **fields):
    project = LoanProjectFactory(pool=member.pool, bank=member.organisation, classification="substandard")
    return ClaimFactory(project=project, **fields)


def test_jb6_rp23_half_year_figures_per_bank(django_assert_max_num_queries):
    pool = PoolFactory()
    one, two, idle = (MemberFactory(pool=pool) for _ in range(3))
    c1 = _claim(one, submitted_on=date(2025, 2, 1), state="recovering", paid_on=date(2025, 4, 1),
                paid_amount=D("320000.00"), returned_amount=D("40000.00"))
    ClaimStep.objects.create(claim=c1, old="submitted", new="approved", on=date(2025, 3, 1))
    _book(c1, LedgerEntry.Kind.PAYOUT, "-320000.00", date(2025, 4, 1))
    RecoveryReport.objects.create(claim=c1, received_on=date(2025, 5, 1), gross=D("100000.00"), method="collection",
                                  return_amount=D("40000.00"), report_due_on=date(2025, 5, 22))
    _book(c1, LedgerEntry.Kind.RETURN_RECOVERY, "40000.00", date(2025, 5, 20))
    c2 = _claim(one, submitted_on=date(2024, 12, 20), state="documents_uploaded")  # submitted in 2024H2
    ClaimStep.objects.create(claim=c2, old="submitted", new="approved", on=date(2025, 1, 5))
    ClaimStep.objects.create(claim=c2, old="re_review", new="approved", on=date(2025, 2, 5))  # counted once
    _book(c2, LedgerEntry.Kind.PAYOUT, "-100000.00", date(2025, 7, 1))  # paid in 2025H2
    RecoveryReport.objects.create(claim=c2, received_on=date(2024, 12, 31), gross=D("5.00"), method="collection",
                                  return_amount=D("2.00"), report_due_on=date(2025, 1, 22))
    LoanProjectFactory(pool=pool, bank=one.organisation, library="closed", closed_on=date(2025, 6, 30),
                       closed_reason="repaid")
    LoanProjectFactory(pool=pool, bank=one.organisation, library="closed", closed_on=date(2025, 7, 1),
                       closed_reason="auto")
    _claim(two, submitted_on=date(2025, 6, 30))
    _claim(two, submitted_on=date(2025, 1, 1))
    c3 = _claim(two, submitted_on=date(2025, 3, 1), state="upgraded", paid_amount=D("50000.00"),
                returned_amount=D("50000.00"))
    _book(c3, LedgerEntry.Kind.PAYOUT, "-50000.00", date(2025, 3, 20))
    _book(c3, LedgerEntry.Kind.RETURN_UPGRADE, "50000.00", date(2025, 6, 1))

    with django_assert_max_num_queries(25):
        run = job_run(job_id="JB-6", period="2025H1", trigger=COMMAND)

    def figures(member):
        r = HalfYearReport.objects.get(period="2025H1", member=member)
        return (r.claims_submitted, r.claims_approved, r.claims_paid, r.paid_amount, r.returned_amount,
                r.recoveries_gross, r.closures)

    assert figures(one) == (1, 2, 1, D("320000.00"), D("40000.00"), D("100000.00"), 1)
    assert figures(two) == (3, 0, 1, D("50000.00"), D("50000.00"), D("0"), 0)
    assert figures(idle) == (0, 0, 0, D("0"), D("0"), D("0"), 0)
    assert run.counts == {"reports": 3, "replaced_reports": 0}
    assert HalfYearReport.objects.get(member=one).job_run_id == run.pk and HalfYearReport.objects.get(
        member=one).pool_id == pool.pk

    first_ids = set(HalfYearReport.objects.values_list("pk", flat=True))
    again = job_run(job_id="JB-6", period="2025H1", trigger=COMMAND)
    assert again.pk == run.pk and again.counts == {"reports": 3, "replaced_reports": 3}
    assert HalfYearReport.objects.count() == 3 and not first_ids & set(HalfYearReport.objects.values_list("pk", flat=True))
    assert figures(one) == (1, 2, 1, D("320000.00"), D("40000.00"), D("100000.00"), 1)


# --- JB-5, riskpool part --------------------------------------------------------------------


@pytest.mark.parametrize("day", [date(2025, 1, 1) + timedelta(days=i) for i in range(0, 365, 7)] + [
    date(2025, 3, 1), date(2025, 3, 31), date(2024, 2, 29), date(2024, 3, 1), date(2025, 8, 31)])
def test_rp18_cutoff_is_the_last_maturity_due_by_the_day(day):
    cutoff = auto_close_cutoff(day, rules.S_DEFAULTS)
    assert rules.auto_close_on(cutoff) <= day < rules.auto_close_on(cutoff + timedelta(days=1))


def test_jb5_rp18_auto_closure_from_the_boundary_day_never_with_a_live_claim(on_day):
    pool = PoolFactory()
    member = MemberFactory(pool=pool)
    maturity = date(2024, 9, 30)  # + 6 months = 2025-03-30; closed from 2025-03-31
    assert rules.auto_close_on(maturity) == date(2025, 3, 31)

    def loan(**fields):
        fields = {"disbursed_on": date(2023, 8, 30), "entered_on": date(2023, 9, 8), "maturity_on": maturity, **fields}
        return LoanProjectFactory(pool=pool, bank=member.organisation, **fields)

    due = loan()
    earlier = loan(maturity_on=date(2024, 8, 31))  # clamped: 2025-02-28 + 1 day
    later = loan(maturity_on=date(2024, 10, 1))
    with_live_claim = loan()
    ClaimFactory(project=with_live_claim, state="rejected")
    with_withdrawn_claim = loan()
    ClaimFactory(project=with_withdrawn_claim, state="withdrawn")
    npl = loan(classification="substandard")
    compensated = loan(library="compensation")
    entered_in_quarter = [LoanProjectFactory(pool=pool, bank=member.organisation, disbursed_on=date(2025, 1, 2),
                                             entered_on=date(2025, 1, 10), maturity_on=date(2026, 1, 2))
                          for _ in range(2)]

    on_day(date(2025, 3, 30))  # the day before
    first = job_run(job_id="JB-5", period="2025Q1", trigger=COMMAND)
    assert reload(due).library == "loan"
    assert reload(earlier).library == "closed" and first.counts["loans_auto_closed"] == 1

    on_day(date(2025, 3, 31))  # the boundary day
    second = job_run(job_id="JB-5", period="2025Q1", trigger=COMMAND)

    due = reload(due)
    assert (due.library, due.closed_on, due.closed_reason) == ("closed", date(2025, 3, 31), "auto")
    assert reload(with_withdrawn_claim).library == "closed"
    assert reload(earlier).closed_on == date(2025, 3, 30)  # closed once, by the first run
    for untouched, library in ((later, "loan"), (with_live_claim, "loan"), (npl, "loan"),
                               (compensated, "compensation")):
        untouched = reload(untouched)
        assert (untouched.library, untouched.closed_on, untouched.closed_reason) == (library, None, "")
    assert second.counts["loans_auto_closed"] == 2
    assert second.counts["projects_entered"] == 2
    assert second.counts["entries_by_bank"] == {f"{pool.pk}/{member.organisation_id}": len(entered_in_quarter)}

    on_day(date(2026, 3, 31))  # however late, a live claim keeps the project open
    job_run(job_id="JB-5", period="2025Q1", trigger=COMMAND)
    assert reload(with_live_claim).library == "loan" and reload(npl).library == "loan"
    assert reload(later).library == "closed"
    assert LoanProject.objects.filter(closed_reason="auto").count() == 4


def test_jb5_both_parts_run_under_one_jobrun_and_the_snapshots_are_written(on_day):
    on_day(date(2025, 4, 23))
    firms = [OrganisationFactory(kind=Organisation.Kind.GUARANTEE_FIRM) for _ in range(2)]
    pool = PoolFactory()
    member = MemberFactory(pool=pool)
    matured = LoanProjectFactory(pool=pool, bank=member.organisation, disbursed_on=date(2023, 1, 3),
                                 entered_on=date(2023, 1, 10), maturity_on=date(2024, 1, 3))

    run = job_run(job_id="JB-5", period="2025Q1", trigger=COMMAND)

    assert JobRun.objects.filter(job="JB-5").count() == 1 and run.state == JobRun.State.SUCCEEDED
    assert FirmIndicatorSnapshot.objects.filter(period="2025Q1", job_run=run).count() == len(firms)
    assert reload(matured).library == "closed"
    assert {k: run.counts[k] for k in ("firms", "snapshots", "replaced", "loans_auto_closed", "projects_entered")} == {
        "firms": 2, "snapshots": 2, "replaced": 0, "loans_auto_closed": 1, "projects_entered": 0}


def test_jb5_a_failing_part_rolls_back_the_other_part(on_day, monkeypatch):
    """JB-14: both parts write in the run's one transaction."""
    on_day(date(2025, 4, 23))
    OrganisationFactory(kind=Organisation.Kind.GUARANTEE_FIRM)
    pool = PoolFactory()
    member = MemberFactory(pool=pool)
    matured = LoanProjectFactory(pool=pool, bank=member.organisation, disbursed_on=date(2023, 1, 3),
                                 entered_on=date(2023, 1, 10), maturity_on=date(2024, 1, 3))

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(riskpool.services_reports, "entries_per_bank", broken)
    with pytest.raises(RuntimeError):
        job_run(job_id="JB-5", period="2025Q1", trigger=COMMAND)
    assert reload(matured).library == "loan" and not FirmIndicatorSnapshot.objects.exists()
    assert JobRun.objects.get(job="JB-5").state == JobRun.State.FAILED
