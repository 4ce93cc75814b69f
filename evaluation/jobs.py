"""Batch jobs of the evaluation app (found by core.jobs through autodiscovery): JB-8, JB-9, JB-10."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from celery.schedules import crontab
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.calendar import SHANGHAI
from core.jobs import JobSpec, NthWorkingDay, register
from core.periods import period_bounds
from evaluation import services


@dataclass(frozen=True)
class YearlyDates(NthWorkingDay):
    """Fixed calendar days of every year (``dates``: (month, day) pairs), at ``hour:minute``
    Asia/Shanghai. Ticks daily like NthWorkingDay; ``is_due`` keeps the listed days only."""

    dates: tuple = ()

    def crontab(self) -> crontab:
        return crontab(hour=self.hour, minute=self.minute)

    def is_due(self, day: date) -> bool:
        return (day.month, day.day) in self.dates

    def __str__(self) -> str:
        days = ", ".join(date(2000, m, d).strftime("%m-%d") for m, d in self.dates)
        return gettext("Every year on %(days)s at %(time)s") % {"days": days, "time": f"{self.hour:02d}:{self.minute:02d}"}


def previous_year(day: date) -> str:
    """The year evaluated on ``day``: the one before (JB-8 in January–March 2026 opens "2025")."""
    return str(day.year - 1)


def current_year(day: date) -> str:
    return str(day.year)


def run_day(run) -> date:
    return timezone.localdate(run.started_at, timezone=SHANGHAI) if run and run.started_at else timezone.localdate()


@register(JobSpec(id="JB-8", name=_("Open the evaluation year and remind firms"),
                  schedule=YearlyDates(n=0, hour=1, minute=15, dates=((1, 5), (3, 1), (3, 20))),
                  period_for=previous_year))
def open_evaluation_year(run, period: str, progress) -> dict:
    """JB-8 for the year ``period``: open it for every evaluated firm with the indicators
    pre-computed from the recorded guarantees (EV-1, EV-3); from 1 March, and again from 20 March
    of the next year, remind the firms that still hold their submission (EV-5). Idempotent (JB-12)."""
    _kind, start, _end = period_bounds(period)
    counts = services.year_open(year=start.year, actor=f"system (JB-8 {period})")
    counts["reminders_sent"] = services.firm_reminders_send(year=start.year, on=run_day(run))
    progress(1, 1)
    return counts


@register(JobSpec(id="JB-9", name=_("Score, rank and classify the evaluation year"),
                  schedule=crontab(hour=2, minute=0, day_of_month=2, month_of_year=5),
                  period_for=previous_year, when=_("Every year on 2 May at 02:00, and on demand by the province")))
def publish_evaluation_results(run, period: str, progress) -> dict:
    """JB-9 for the year ``period``: EV-3 scores, EV-6 ranks, EV-7 classes, EV-8 region ranking
    and EV-10 interviews, once the province has closed its review; replaces its own results."""
    _kind, start, _end = period_bounds(period)
    counts = services.results_publish(year=start.year, run=run, actor=f"system (JB-9 {period})")
    progress(1, 1)
    return counts


@register(JobSpec(id="JB-10", name=_("Remind the province of missing evaluation targets"),
                  schedule=crontab(hour=1, minute=20, day_of_month=20, month_of_year=5),
                  period_for=current_year, when=_("Every year on 20 May at 01:20")))
def remind_missing_targets(run, period: str, progress) -> dict:
    """JB-10 for the year ``period``: EV-9 reminder to the province when the year has no targets."""
    _kind, start, _end = period_bounds(period)
    return {"year": start.year, "reminders_sent": services.targets_reminder_send(year=start.year)}
