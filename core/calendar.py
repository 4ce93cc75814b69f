"""JB-1: the working-day calendar (工作日).

A working day is Monday–Friday, minus the State Council public holidays, plus the adjusted
working weekend days (调休). Sources, strongest first:

1. the authority's ``CalendarDay`` overrides (an override always wins);
2. the ``chinese_calendar`` package, for the years it knows (1.11: 2004–2026);
3. for any other year, Monday–Friday minus the statutory holidays of the 全国年节及纪念日放假办法
   (``core.holidays``: 元旦, 春节 除夕–初三, 清明, 劳动节, 端午, 中秋, 国庆, computed).

A year is *confirmed* when the package covers it or the authority has entered the State
Council's notice for it (``calendar_year_confirm``, ``CalendarYear(holidays_entered=True)``).
In a *provisional* year the notice's make-up working days (调休) and bridge days are unknown, so
a deadline counted through it has two dates: the earliest (``Deadline.date``: the statutory
holidays alone, as the spec's fallback counts) and the latest it could turn out to be
(``Deadline.latest``: every day the notice could still make a day off, ``core.holidays.
possible_days_off``, counted as a day off). Only the latest is enforced against a bank, a firm
or a citizen, and a step that needs a period to have ended waits for it.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from django.core.cache import cache
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from core.holidays import possible_days_off, statutory_holidays
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

# Sent (inside the confirming transaction) with ``years`` once the authority has entered the
# State Council notice of those years: every app recomputes the deadlines it stored
# provisionally (riskpool: the claims' next step and public-notice end).
calendar_confirmed = Signal()


@dataclass(frozen=True)
class Deadline:
    """JB-1: a computed date. ``provisional`` when a day counted towards it lies in a year whose
    notice is not entered yet; then ``date`` is the earliest it can be and ``latest`` the latest
    (the same date when the year is confirmed)."""

    date: date
    provisional: bool
    latest: date | None = None

    def __post_init__(self):
        if self.latest is None:
            object.__setattr__(self, "latest", self.date)


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


@functools.cache
def _package_workday(d: date) -> bool:
    """The package's answer for a day (fixed for a package version; it searches its tables on
    every call, which a replay asking about thousands of days would feel)."""
    return chinese_calendar.is_workday(d)


# A table pinned by ``pinned()`` for a long read-only computation in this thread (a simulation's
# replay), so thousands of date questions do not each fetch the table from the shared cache.
_pinned = threading.local()


@contextmanager
def pinned():
    """Within the block, this thread reads the working-day table once and keeps it. For read-only
    batch work only: an edit of the calendar made meanwhile is seen after the block."""
    outer = getattr(_pinned, "table", None)
    _pinned.table = outer or _overrides()
    try:
        yield
    finally:
        _pinned.table = outer


def _overrides() -> _Overrides:
    held = getattr(_pinned, "table", None)
    if held is not None:
        return held
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
        return _package_workday(d)
    return d.weekday() < 5 and d not in statutory_holidays(d.year)


def _surely_working(d: date, table: _Overrides) -> bool:
    """Working whatever the year's notice turns out to say."""
    if d in table.days or _known(d.year, table):
        return _working(d, table)
    return _working(d, table) and d not in possible_days_off(d.year)


def is_working_day(d: date) -> bool:
    """JB-1: whether offices in mainland China work on ``d`` (in a provisional year: unless it
    is a statutory holiday or a weekend day, whatever the notice may still add)."""
    return _working(d, _overrides())


def is_provisional(d: date) -> bool:
    """JB-1: True when ``d``'s year is confirmed by neither source (its notice not entered)."""
    return not _known(d.year, _overrides())


def is_confirmed_year(year: int) -> bool:
    """JB-1: the package knows ``year`` or the authority has entered its notice."""
    return _known(year, _overrides())


def package_knows(year: int) -> bool:
    """JB-1: ``chinese_calendar`` covers ``year`` (the authority's notice is then not needed)."""
    return _package_knows(year)


def provisional_years(years: Iterable[int]) -> list[int]:
    """JB-1: which of ``years`` are on the fallback (the authority dashboard's warning)."""
    table = _overrides()
    return sorted({y for y in years if not _known(y, table)})


def _step(d: date, n: int, working, table: _Overrides) -> date:
    day = d
    while n:
        day += timedelta(days=1)
        if working(day, table):
            n -= 1
    return day


def working_day_deadline(d: date, n: int) -> Deadline:
    """JB-1: the ``n``-th working day after ``d`` (``n == 0`` gives ``d``), flagged provisional when
    any day stepped through lies in a year not confirmed; then ``date`` counts the statutory
    holidays alone (the earliest) and ``latest`` counts every possible day off too."""
    if n < 0:
        raise ValueError("n must be zero or positive")
    table = _overrides()
    if n == 0:
        return Deadline(d, not _known(d.year, table))
    earliest = _step(d, n, _working, table)
    latest = _step(d, n, _surely_working, table)
    first = d + timedelta(days=1)
    provisional = any(not _known(year, table) for year in range(first.year, latest.year + 1))
    return Deadline(earliest, provisional, latest)


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
