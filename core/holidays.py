"""JB-1: the statutory public holidays of the 全国年节及纪念日放假办法, for any year.

The State Council publishes each year's exact days off and make-up working days (调休) only late
in the year before. What the 办法 itself fixes is known for every year: the festivals and how
many days each gives, the lunar ones from the Chinese calendar and 清明 from the solar term.
This module computes those (pure: no database), and the days around each festival that the
year's notice may still turn into days off (bridge days, and the weekday replacing a festival
day that falls on a weekend, 补假, 办法 第六条).

The lunar calendar is ``lunar_python`` (6tail's lunar, maintained, no data files). The 办法 has
changed over time; ``statutory_holidays`` applies the version in force in the year asked:

- 1999 (国务院令第270号): 元旦 1; 春节 初一–初三; 劳动节 1–3 May; 国庆 1–3 Oct.
- 2008 (国务院令第513号): 元旦 1; 春节 除夕–初二; 清明; 劳动节 1 May; 端午; 中秋; 国庆 1–3 Oct.
- 2014 (国务院令第644号): as 2008, but 春节 初一–初三.
- 2025 (国务院令第795号, from 2025-01-01): 元旦 1; 春节 除夕–初三; 清明; 劳动节 1–2 May; 端午;
  中秋; 国庆 1–3 Oct.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from lunar_python import Lunar, Solar

NEW_YEAR = "元旦"
SPRING_FESTIVAL = "春节"
QINGMING = "清明节"
LABOUR_DAY = "劳动节"
DRAGON_BOAT = "端午节"
MID_AUTUMN = "中秋节"
NATIONAL_DAY = "国庆节"

# Interpretation (JB-1 "the latest date it could turn out to be"): the longest run of days off
# the State Council has ever given each festival, its statutory days included, since the 2008
# 办法: 春节 9 days (2026-02-15 to 02-23), 国庆 8 (2020, 2023, 2025, with 中秋), 劳动节 5 (2019
# to 2025), the others 3. Any weekday within that reach of a festival's statutory days may still
# be announced as a day off; a deadline's latest possible date counts none of them as working.
LONGEST_BREAK = {
    NEW_YEAR: 3,
    SPRING_FESTIVAL: 9,
    QINGMING: 3,
    LABOUR_DAY: 5,
    DRAGON_BOAT: 3,
    MID_AUTUMN: 3,
    NATIONAL_DAY: 8,
}


@dataclass(frozen=True)
class Festival:
    """One festival's statutory days in a year (consecutive, first to last)."""

    name: str
    first: date
    last: date

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def _spring_festival(year: int) -> date:
    """初一 of the lunar year that begins in ``year`` (always between 21 January and 20 February)."""
    solar = Lunar.fromYmd(year, 1, 1).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _lunar(year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> date:
    """The solar term 清明 (the sun at 15°, 4 or 5 April)."""
    solar = Solar.fromYmd(year, 4, 1).getLunar().getJieQiTable()["清明"]
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@functools.cache
def festivals(year: int) -> tuple[Festival, ...]:
    """The festivals whose days are statutory holidays for everyone in ``year``, per the 办法 in
    force that year (see the module docstring)."""
    if year < 1950 or year > 2100:
        raise ValueError("year outside 1950–2100")
    spring = _spring_festival(year)
    eve = spring - timedelta(days=1)  # 除夕: the last day of the old lunar year
    # 初一 is ``spring``; 初二 and 初三 the next two days.
    if year >= 2025:
        spring_days, labour_days, lunar_ones = (eve, spring + timedelta(days=2)), 2, True
    elif year >= 2014:
        spring_days, labour_days, lunar_ones = (spring, spring + timedelta(days=2)), 1, True
    elif year >= 2008:
        spring_days, labour_days, lunar_ones = (eve, spring + timedelta(days=1)), 1, True
    else:
        spring_days, labour_days, lunar_ones = (spring, spring + timedelta(days=2)), 3, False
    found = [
        Festival(NEW_YEAR, date(year, 1, 1), date(year, 1, 1)),
        Festival(SPRING_FESTIVAL, *spring_days),
        Festival(LABOUR_DAY, date(year, 5, 1), date(year, 5, labour_days)),
        Festival(NATIONAL_DAY, date(year, 10, 1), date(year, 10, 3)),
    ]
    if lunar_ones:
        qingming = _qingming(year)
        dragon_boat = _lunar(year, 5, 5)
        mid_autumn = _lunar(year, 8, 15)
        found += [
            Festival(QINGMING, qingming, qingming),
            Festival(DRAGON_BOAT, dragon_boat, dragon_boat),
            Festival(MID_AUTUMN, mid_autumn, mid_autumn),
        ]
    return tuple(sorted(found, key=lambda f: f.first))


@functools.cache
def statutory_holidays(year: int) -> dict[date, str]:
    """JB-1: every statutory holiday of ``year`` (the 办法's days, not the notice's extra ones),
    with its festival's name. Where two festivals share a day (中秋 on 1–3 October) the earlier
    one in the year's order keeps the name."""
    days: dict[date, str] = {}
    for festival in festivals(year):
        for day in festival.days():
            days.setdefault(day, festival.name)
    return days


@functools.cache
def possible_days_off(year: int) -> frozenset[date]:
    """JB-1: the weekdays of ``year`` that are not statutory holidays but that the year's notice
    could still make days off (bridge days, 补假): those within ``LONGEST_BREAK`` of a festival,
    counted so that a run of that length would still hold all its statutory days. Days reached
    in a neighbouring year (元旦's reach into late December) are that year's concern and are
    included there (see ``_reach``)."""
    holidays = statutory_holidays(year)
    found = set()
    for festival in _reach(year):
        for day in festival:
            if day.year == year and day.weekday() < 5 and day not in holidays:
                found.add(day)
    return frozenset(found)


def _reach(year: int):
    """Each festival's window of possible days off, for the festivals of ``year`` and those of
    its neighbours whose window crosses into it."""
    for y in (year - 1, year, year + 1):
        if y < 1950 or y > 2100:
            continue
        for festival in festivals(y):
            spare = LONGEST_BREAK[festival.name] - ((festival.last - festival.first).days + 1)
            if spare <= 0:
                continue
            start = festival.first - timedelta(days=spare)
            yield [start + timedelta(days=i) for i in range((festival.last - start).days + spare + 1)]
