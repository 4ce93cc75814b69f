"""JB-1: the working-day calendar (工作日).

A working day is Monday–Friday, minus the State Council public holidays, plus the adjusted
working weekend days (调休). Sources, strongest first:

1. the authority's ``CalendarDay`` overrides (an override always wins);
2. the ``chinese_calendar`` package, for the years it knows (1.11: 2004–2026);
3. Monday–Friday, for any other year.

A year is *known* when the package covers it or the authority has marked it
``CalendarYear(holidays_entered=True)``. Days in an unknown year use the fallback, and every
deadline computed through them is *provisional* until the year's holidays are entered.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.models import CalendarDay, CalendarYear

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai_today() -> date:
    """JB-2: the policy date today, in Asia/Shanghai whatever the server's clock zone."""
    return timezone.localdate(timezone=SHANGHAI)

# One cache entry for the whole override table: it is a few dozen rows a year, and one key
# means an edit that moves a day into another year cannot leave a stale per-year entry behind.
# The Django cache (Redis in production) is shared by every worker, so the signal below
# invalidates all of them at once; the timeout bounds staleness if a signal is ever missed.
_CACHE_KEY = "core:calendar:overrides:v1"
_CACHE_SECONDS = 60


@dataclass(frozen=True)
class Deadline:
    """A computed date, and whether any day counted towards it used the Mon–Fri fallback."""

    date: date
    provisional: bool


@dataclass(frozen=True)
class _Overrides:
    days: dict[date, bool]
    entered_years: frozenset[int]


@functools.cache
def _package_knows(year: int) -> bool:
    # Ask the package rather than hard-code its range, so upgrading it extends the known years.
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _overrides() -> _Overrides:
    table = cache.get(_CACHE_KEY)
    if table is None:
        table = _Overrides(
            days=dict(CalendarDay.objects.values_list("date", "is_working_day")),
            entered_years=frozenset(
                CalendarYear.objects.filter(holidays_entered=True).values_list("year", flat=True)
            ),
        )
        cache.set(_CACHE_KEY, table, _CACHE_SECONDS)
    return table


def clear_cache(**kwargs) -> None:
    """``post_save`` / ``post_delete`` receiver for CalendarDay and CalendarYear (see CoreConfig.ready).

    Cleared now, for this transaction's own reads, and again on commit, so a reader in another
    transaction that cached the old table in between does not keep it for the full timeout.
    """
    cache.delete(_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(_CACHE_KEY))


def _known(year: int, table: _Overrides) -> bool:
    return _package_knows(year) or year in table.entered_years


def _working(d: date, table: _Overrides) -> bool:
    if d in table.days:
        return table.days[d]
    if _package_knows(d.year):
        return chinese_calendar.is_workday(d)
    return d.weekday() < 5


def is_working_day(d: date) -> bool:
    """JB-1: whether offices in mainland China work on ``d``."""
    return _working(d, _overrides())


def is_provisional(d: date) -> bool:
    """JB-1: True when ``d``'s year is known to neither source, so the Mon–Fri fallback is used."""
    return not _known(d.year, _overrides())


def provisional_years(years: Iterable[int]) -> list[int]:
    """JB-1: which of ``years`` are on the fallback (the authority dashboard's warning)."""
    table = _overrides()
    return sorted({y for y in years if not _known(y, table)})


def working_day_deadline(d: date, n: int) -> Deadline:
    """JB-1: the ``n``-th working day after ``d`` (``n == 0`` gives ``d``), flagged provisional when
    any day stepped through lies in an unknown year."""
    if n < 0:
        raise ValueError("n must be zero or positive")
    table = _overrides()
    if n == 0:
        return Deadline(d, not _known(d.year, table))
    provisional = False
    day = d
    while n:
        day += timedelta(days=1)
        provisional = provisional or not _known(day.year, table)
        if _working(day, table):
            n -= 1
    return Deadline(day, provisional)


def add_working_days(d: date, n: int) -> date:
    """JB-1: the ``n``-th working day after ``d``; ``n == 0`` returns ``d``."""
    return working_day_deadline(d, n).date


def nth_working_day_of_month(year: int, month: int, n: int) -> date:
    """The ``n``-th working day of a month (n >= 1); the 1st counts if it is a working day."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return add_working_days(date(year, month, 1) - timedelta(days=1), n)


def nth_working_day_of_quarter(year: int, quarter: int, n: int) -> date:
    """The ``n``-th working day of a calendar quarter (RP-6 entry deadline, JB-5 schedule)."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError("quarter must be 1 to 4")
    return nth_working_day_of_month(year, 3 * quarter - 2, n)
