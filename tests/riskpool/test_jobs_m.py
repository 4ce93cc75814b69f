"""JB-11 / RP-M6: the Scheme M fund-use report of the previous year (services_m.m_annual_report),
its figures against data made here, idempotence per (pool, year) (JB-12), set-based queries
(JB-15), the schedule, and the fund manager's submission to the finance bureau."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import Conflict, RuleViolation
from core.i18n_text import render
from core.jobs import get_job, job_run
from core.models import AuditEvent, JobRun
from riskpool import services_m
from riskpool.models import MAnnualReport, MAnnualReportLine
from tests.audit_text import english
from tests.factories import SchemeMPoolFactory
from tests.riskpool.test_scheme_m import MWorld

pytestmark = pytest.mark.django_db
COMMAND = JobRun.Trigger.COMMAND


@pytest.fixture
def world():
    return MWorld()


def make_year(world):
    """2025: 65,000,000 budget; sci_tech A paid 400,000 and 180,000 returned; export B paid
    7,000,000 (70%: suspended); sci_tech C rejected; tax_source D approved, not paid; sci_tech E
    submitted in 2025 but paid in 2026."""
    a = world.pay(world.approve(world.submit("sci_tech", D("1000000.00"))), on=date(2025, 3, 10))
    services_m.m_return_record(user=world.firm_user, m_claim=a, received_on=date(2025, 6, 1), recovery=D("500000.00"),
                               costs=D("50000.00"), on=date(2025, 6, 20))
    world.pay(world.approve(world.submit("export", D("17500000.00"))), on=date(2025, 4, 1))
    services_m.m_claim_reject(user=world.reviewer, m_claim=world.submit("sci_tech", D("1000000.00")), note="材料不全")
    world.approve(world.submit("tax_source", D("2000000.00")))
    e = world.approve(world.submit("sci_tech", D("500000.00")))
    world.pay(e, on=date(2026, 1, 5))


def figures(line: MAnnualReportLine) -> tuple:
    return (line.claims_submitted, line.submitted_amount, line.claims_rejected, line.claims_paid, line.reimbursed,
            line.returned, line.reimbursed_to_date, line.returned_to_date, line.subfund_reimbursed, line.suspended)


def snapshot_rows():
    reports = list(MAnnualReport.objects.order_by("pool_id", "year").values(
        "pool_id", "year", "due_on", "balance_start", "budget_in", "reimbursed", "returned", "balance_end",
        "claims_submitted", "claims_paid", "products_suspended", "submitted_on"))
    lines = list(MAnnualReportLine.objects.order_by("report__pool_id", "product__code").values(
        "report__year", "product_id", "claims_submitted", "submitted_amount", "claims_rejected", "claims_paid",
        "reimbursed", "returned", "reimbursed_to_date", "returned_to_date", "subfund_reimbursed", "suspended",
        "suspension_reasons"))
    return reports, lines


def test_jb11_is_registered_yearly_on_20_march_for_the_previous_year():
    spec = get_job("JB-11")
    schedule = spec.crontab()
    assert (schedule.day_of_month, schedule.month_of_year) == ({20}, {3})
    assert spec.period_for(date(2026, 3, 20)) == "2025"
    assert "20 March" in spec.schedule_text


def test_rpm6_figures_of_the_year_against_the_data(world):
    make_year(world)
    run = job_run(job_id="JB-11", period="2025", trigger=COMMAND)
    assert run.state == JobRun.State.SUCCEEDED and run.counts["m_reports"] == 1
    report = MAnnualReport.objects.get(pool=world.pool, year=2025)
    assert (report.due_on, report.balance_start, report.budget_in, report.reimbursed, report.returned,
            report.balance_end) == (date(2026, 3, 31), D("0"), D("65000000.00"), D("7400000.00"), D("180000.00"),
                                    D("57780000.00"))
    assert (report.claims_submitted, report.claims_paid, report.products_suspended) == (5, 2, 1)
    assert report.job_run_id == run.pk
    lines = {line.product.code: line for line in report.lines.select_related("product")}
    assert set(lines) == {"sci_tech", "export", "tax_source", "fixed_asset_investment"}
    assert figures(lines["sci_tech"]) == (3, D("1000000.00"), 1, 1, D("400000.00"), D("180000.00"), D("400000.00"),
                                          D("180000.00"), D("400000.00"), False)
    assert figures(lines["export"]) == (1, D("7000000.00"), 0, 1, D("7000000.00"), D("0"), D("7000000.00"), D("0"),
                                        D("7000000.00"), True)
    assert "70%" in " ".join(render(r["message"]) for r in lines["export"].suspension_reasons if r["outcome"] == "fail")
    assert figures(lines["tax_source"])[:4] == (1, D("800000.00"), 0, 0)
    assert figures(lines["fixed_asset_investment"]) == (0, D("0"), 0, 0, D("0"), D("0"), D("0"), D("0"), D("0"), False)


def test_rpm6_the_next_year_starts_from_the_previous_balance(world):
    make_year(world)
    services_m.m_annual_report(year=2026)
    report = MAnnualReport.objects.get(pool=world.pool, year=2026)
    assert (report.balance_start, report.reimbursed, report.balance_end) == (
        D("57780000.00"), D("200000.00"), D("57580000.00"))
    sci = report.lines.get(product__code="sci_tech")
    assert (sci.claims_submitted, sci.claims_paid, sci.reimbursed, sci.reimbursed_to_date) == (
        0, 1, D("200000.00"), D("600000.00"))


def test_jb11_jb12_run_twice_gives_the_same_rows(world):
    make_year(world)
    job_run(job_id="JB-11", period="2025", trigger=COMMAND)
    first = snapshot_rows()
    second_run = job_run(job_id="JB-11", period="2025", trigger=COMMAND)
    assert snapshot_rows() == first
    assert MAnnualReport.objects.count() == 1 and MAnnualReportLine.objects.count() == 4
    assert second_run.counts["m_reports_replaced"] > 0


def test_jb11_a_rerun_sees_new_data_but_keeps_a_submitted_report_as_sent(world):
    world.paid_claim("sci_tech", D("1000000.00"))
    services_m.m_annual_report(year=2025)
    report = MAnnualReport.objects.get(pool=world.pool, year=2025)
    assert report.reimbursed == D("400000.00")
    world.paid_claim("sci_tech", D("1000000.00"))
    services_m.m_annual_report(year=2025)
    report = MAnnualReport.objects.get(pool=world.pool, year=2025)
    assert report.reimbursed == D("800000.00")
    services_m.m_annual_report_submit(user=world.reviewer, report=report, on=date(2026, 3, 25))
    world.paid_claim("sci_tech", D("1000000.00"))
    counts = services_m.m_annual_report(year=2025)
    assert counts["m_reports_kept_submitted"] == 1 and counts["m_reports"] == 0
    kept = MAnnualReport.objects.get(pool=world.pool, year=2025)
    assert (kept.pk, kept.reimbursed, kept.submitted_on) == (report.pk, D("800000.00"), date(2026, 3, 25))


def test_jb11_covers_every_scheme_m_pool_and_one_pool_on_demand(world):
    other = SchemeMPoolFactory()
    services_m.m_annual_report(year=2025)
    assert set(MAnnualReport.objects.values_list("pool_id", flat=True)) == {world.pool.pk, other.pk}
    assert MAnnualReport.objects.get(pool=other).lines.count() == 0
    MAnnualReport.objects.all().delete()
    services_m.m_annual_report(year=2025, pool=world.pool)
    assert list(MAnnualReport.objects.values_list("pool_id", flat=True)) == [world.pool.pk]


def test_jb11_jb15_the_number_of_queries_does_not_grow_with_the_claims(world):
    world.paid_claim("sci_tech")
    services_m.m_annual_report(year=2025)  # both measured runs replace a report
    with CaptureQueriesContext(connection) as few:
        services_m.m_annual_report(year=2025)
    for _ in range(6):
        world.paid_claim("sci_tech", D("10000.00"))
        world.submit("export", D("10000.00"))
    with CaptureQueriesContext(connection) as many:
        services_m.m_annual_report(year=2025)
    assert len(many.captured_queries) == len(few.captured_queries) <= 20


# --- RP-M6 submission to the finance bureau ---------------------------------------------------


@pytest.fixture
def report(world):
    services_m.m_annual_report(year=2025)
    return MAnnualReport.objects.get(pool=world.pool, year=2025)


def test_rpm6_submission_by_the_end_of_march_is_in_time_and_audited(world, report):
    services_m.m_annual_report_submit(user=world.reviewer, report=report, on=date(2026, 3, 31))
    report.refresh_from_db()
    assert report.submitted_on == date(2026, 3, 31) and report.submitted_by == world.reviewer
    event = AuditEvent.objects.filter(object_type="riskpool.mannualreport", object_id=str(report.pk)).last()
    assert "submitted to the finance bureau" in english(event.summary) and "late" not in english(event.summary)


def test_rpm6_submission_on_1_april_is_late(world, report):
    services_m.m_annual_report_submit(user=world.reviewer, report=report, on=date(2026, 4, 1))
    event = AuditEvent.objects.filter(object_type="riskpool.mannualreport", object_id=str(report.pk)).last()
    assert "late, due 2026-03-31" in english(event.summary)


def test_rpm6_submission_only_by_the_fund_manager_once_and_after_the_year(world, report):
    with pytest.raises(PermissionDenied):
        services_m.m_annual_report_submit(user=world.treasurer, report=report, on=date(2026, 3, 1))
    with pytest.raises(RuleViolation) as exc:
        services_m.m_annual_report_submit(user=world.reviewer, report=report, on=date(2025, 12, 31))
    assert exc.value.rule == "RP-M6"
    services_m.m_annual_report_submit(user=world.reviewer, report=report, on=date(2026, 1, 1))
    with pytest.raises(Conflict):
        services_m.m_annual_report_submit(user=world.reviewer, report=report, on=date(2026, 1, 2))


def test_rpm6_report_is_due_by_the_end_of_march(world, report):
    assert report.due_on == date(2026, 3, 31)
    assert services_m.m_annual_report(year=2024)["m_reports"] == 1
    assert MAnnualReport.objects.get(pool=world.pool, year=2024).due_on == date(2025, 3, 31)
