"""Reporting periods: quarters, half-years, years and days, as the jobs and pages name them
("2025Q1", "2025H1", "2025", "2025-03-04"). Dates are Asia/Shanghai dates (JB-2)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from core.calendar import shanghai_today
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
