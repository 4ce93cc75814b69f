"""Batch jobs of the risk pool (found by core.jobs through autodiscovery)."""
from __future__ import annotations

from datetime import date

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from core.jobs import JobSpec, register
from core.periods import period_bounds
from riskpool import services, services_m


def day_period(day: date) -> str:
    """JB-4 runs for one day: "2025-04-20"."""
    return day.isoformat()


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
