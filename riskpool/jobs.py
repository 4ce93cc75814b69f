"""Batch jobs of the risk pool (found by core.jobs through autodiscovery)."""
from __future__ import annotations

from datetime import date

from celery.schedules import crontab
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.calendar import SHANGHAI
from core.jobs import JobSpec, NthWorkingDayOfHalf, register, register_part
from core.periods import period_bounds
from riskpool import services, services_m, services_reports


def day_period(day: date) -> str:
    """JB-4 runs for one day: "2025-04-20"."""
    return day.isoformat()


def previous_half(day: date) -> str:
    """The half-year before ``day``'s: JB-6 in July 2025 reports "2025H1", in January "2024H2"."""
    return f"{day.year}H1" if day.month > 6 else f"{day.year - 1}H2"


def previous_year(day: date) -> str:
    """The year before ``day``'s: JB-7 in February 2026 evaluates "2025"."""
    return str(day.year - 1)


def run_day(run) -> date:
    """The run's date (Asia/Shanghai, JB-2): the day its current attempt started."""
    return timezone.localdate(run.started_at, timezone=SHANGHAI) if run.started_at else timezone.localdate()


@register(
    JobSpec(
        id="JB-4",
        name=_("Daily NPL ratios and product suspensions"),
        schedule=crontab(hour=1, minute=30),  # Asia/Shanghai (CELERY_TIMEZONE)
        period_for=day_period,
        when=_("Every day at 01:30"),
    )
)
def refresh_npl_and_suspensions(run, period: str, progress) -> dict:
    """JB-4 for the day ``period``: every Scheme S member bank's NPL figures and gate (RP-15),
    releasing the held claims of banks whose gate is open again, then every Scheme M product's
    suspension state (RP-M3). Set-based (JB-15): a constant number of queries per chunk of
    1,000 members or products. JB-12: the figures are recomputed, not added to, and a claim is
    released once, so a second run of the same day changes nothing; core.jobs.job_run keeps one
    JobRun per (JB-4, day) and runs this in one transaction (JB-14)."""
    _kind, day, _end = period_bounds(period)
    actor = f"system (JB-4 {period})"
    counts = services.npl_gates_refresh(on=day, user=actor, progress=progress)
    counts.update(services_m.products_refresh_all(on=day, progress=progress))
    return counts


@register_part("JB-5")
def close_quarter_riskpool(run, period: str, progress) -> dict:
    """JB-5, riskpool part (the guarantees part registers the job): RP-18 automatic closure of
    matured Scheme S loans on the run's date, the projects entered in the closed quarter
    ``period`` per pool and bank (RP-6), and the quarter's close (services_reports.quarter_close):
    the RP-6 entry window report per bank, the RP-16 8b recovery reports missing for the quarter,
    and each pool's paid, returned and balance. Runs after the guarantees part under the same
    JobRun and transaction; a re-run replaces the quarter's rows (JB-12)."""
    _kind, start, end = period_bounds(period)
    closed = services_reports.loans_auto_close(on=run_day(run))
    entries = services_reports.entries_per_bank(start=start, end=end)
    close = services_reports.quarter_close(period=period, start=start, end=end, entries=entries, run=run)
    return {"loans_auto_closed": closed, "projects_entered": sum(entries.values()), "entries_by_bank": entries,
            "recovery_reports_missing": close["recovery_reports_missing"]}


@register(
    JobSpec(
        id="JB-6",
        name=_("Half-year pool statistics per bank"),
        schedule=NthWorkingDayOfHalf(10, hour=3),
        period_for=previous_half,
    )
)
def report_half_year(run, period: str, progress) -> dict:
    """JB-6 for the half-year ``period`` ("2025H1", on the 10th working day of July 2025): the
    RP-23 figures of every Scheme S member bank as HalfYearReport (services_reports)."""
    _kind, start, end = period_bounds(period)
    return services_reports.half_year_reports(period=period, start=start, end=end, run=run, progress=progress)


@register(
    JobSpec(
        id="JB-7",
        name=_("Annual bank evaluation and revocations"),
        schedule=crontab(hour=2, minute=30, day_of_month=20, month_of_year=2),  # Asia/Shanghai
        period_for=previous_year,
        when=_("Every year on 20 February at 02:30"),
    )
)
def evaluate_banks_year(run, period: str, progress) -> dict:
    """JB-7 for the year ``period`` ("2025", on 20 February 2026): RP-20 grades of every Scheme S
    member bank as BankEvaluation and RP-22 revocations dated the run's day (services_reports)."""
    return services_reports.banks_evaluate(
        year=int(period), on=run_day(run), run=run, actor=f"system (JB-7 {period})", progress=progress
    )


@register(
    JobSpec(
        id="JB-11",
        name=_("Scheme M fund-use report"),
        schedule=crontab(hour=3, minute=0, day_of_month=20, month_of_year=3),  # Asia/Shanghai
        period_for=previous_year,
        when=_("Every year on 20 March at 03:00"),
    )
)
def report_scheme_m_year(run, period: str, progress) -> dict:
    """JB-11 for the year ``period`` ("2025", on 20 March 2026): the RP-M6 fund-use report of every
    Scheme M pool as MAnnualReport with a line per product (services_m.m_annual_report), for the
    fund manager to submit to the finance bureau by the end of March."""
    return services_m.m_annual_report(year=int(period), run=run, progress=progress)
