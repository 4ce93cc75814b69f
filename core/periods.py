"""Reporting periods: quarters, half-years, years and days, as the jobs and pages name them
("2025Q1", "2025H1", "2025", "2025-03-04"). Dates are Asia/Shanghai dates (JB-2)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from core.errors import RuleViolation


@dataclass(frozen=True)
class Quarter:
    year: int
    quarter: int

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def current(cls) -> Quarter:
        """The quarter of today in Asia/Shanghai (JB-2), whatever the server's clock zone."""
        # Imported here: core.calendar loads models, and the pure rules modules import this one.
        from core.calendar import shanghai_today

        return cls.of(shanghai_today())

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> date:
        if self.quarter == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.quarter + 1, 1) - timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"


_PERIOD_PATTERNS = {
    "quarter": re.compile(r"(\d{4})Q([1-4])"),
    "half": re.compile(r"(\d{4})H([12])"),
    "year": re.compile(r"(\d{4})"),
    "day": re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
}


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """Spec README: "within N months of D" ends on the same day-of-month N months later,
    clamped to that month's last day (2024-11-30 + 3 months = 2025-02-28)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, _month_end(year, month0 + 1).day))


def quarter_start(day: date) -> date:
    """The first day of ``day``'s calendar quarter."""
    return Quarter.of(day).start


def quarter_end(day: date) -> date:
    """The last day of ``day``'s calendar quarter."""
    return Quarter.of(day).end


def quarter_ends(before: date, count: int) -> list[date]:
    """The last days of the ``count`` quarters before ``before``'s, oldest first."""
    ends, day = [], quarter_start(before) - timedelta(days=1)
    while len(ends) < count:
        ends.append(day)
        day = quarter_start(day) - timedelta(days=1)
    return sorted(ends)


def period_bounds(period: str) -> tuple[str, date, date]:
    """(kind, first day, last day) of "2025Q1", "2025H1", "2025" or "2025-03-04"."""
    for kind, pattern in _PERIOD_PATTERNS.items():
        match = pattern.fullmatch(period or "")
        if not match:
            continue
        year, *rest = (int(part) for part in match.groups())
        if kind == "quarter":
            return kind, date(year, 3 * rest[0] - 2, 1), _month_end(year, 3 * rest[0])
        if kind == "half":
            return kind, date(year, 6 * rest[0] - 5, 1), _month_end(year, 6 * rest[0])
        if kind == "year":
            return kind, date(year, 1, 1), date(year, 12, 31)
        try:
            day = date(year, *rest)
        except ValueError:
            break
        return kind, day, day
    raise RuleViolation("JB-12", _("“%(period)s” is not a period.") % {"period": period}, "period")


def previous_quarter(day: date) -> str:
    """The quarter before ``day``'s: a quarterly close on 2025-04-23 closes "2025Q1"."""
    quarter = (day.month - 1) // 3 + 1
    return f"{day.year - 1}Q4" if quarter == 1 else f"{day.year}Q{quarter - 1}"
