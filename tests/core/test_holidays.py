"""JB-1: the statutory holidays of the 全国年节及纪念日放假办法 for any year (core.holidays), and
the calendar's provisional years built on them: earliest and latest possible deadlines."""
from datetime import date, timedelta

import chinese_calendar
import pytest

from core.calendar import Deadline, is_working_day, working_day_deadline
from core.holidays import festivals, possible_days_off, statutory_holidays


def _days(first, last):
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_jb1_statutory_holidays_of_2027_from_the_lunar_calendar_and_the_solar_term():
    assert {f.name: (f.first, f.last) for f in festivals(2027)} == {
        "元旦": (date(2027, 1, 1), date(2027, 1, 1)),
        "春节": (date(2027, 2, 5), date(2027, 2, 8)),  # 除夕 to 初三 (2025 办法)
        "清明节": (date(2027, 4, 5), date(2027, 4, 5)),
        "劳动节": (date(2027, 5, 1), date(2027, 5, 2)),
        "端午节": (date(2027, 6, 9), date(2027, 6, 9)),
        "中秋节": (date(2027, 9, 15), date(2027, 9, 15)),
        "国庆节": (date(2027, 10, 1), date(2027, 10, 3)),
    }
    assert len(statutory_holidays(2027)) == 13


def test_jb1_mid_autumn_inside_national_day_is_counted_once():
    # 2028: 中秋 is 3 October, already a National Day holiday.
    assert statutory_holidays(2028)[date(2028, 10, 3)] == "国庆节"
    assert len(statutory_holidays(2028)) == 12


@pytest.mark.parametrize("year", range(2008, 2027))
def test_jb1_statutory_holidays_are_days_off_in_every_year_the_package_knows(year):
    """The computed days agree with the State Council's published calendars 2008–2026."""
    assert [d for d in statutory_holidays(year) if chinese_calendar.is_workday(d)] == []


@pytest.mark.parametrize("year", range(2008, 2027))
def test_jb1_every_published_bridge_day_lies_within_the_possible_days_off(year):
    """The latest-possible model: every weekday off the notices actually gave beyond the 办法's
    days falls in ``possible_days_off``; the one exception is the one-off 2015 commemoration of
    the 70th anniversary of the victory (3–4 September 2015), not a festival of the 办法."""
    extra = [
        d for d in _days(date(year, 1, 1), date(year, 12, 31))
        if d.weekday() < 5 and not chinese_calendar.is_workday(d) and d not in statutory_holidays(year)
    ]
    missed = [d for d in extra if d not in possible_days_off(year)]
    assert missed == ([date(2015, 9, 3), date(2015, 9, 4)] if year == 2015 else [])


def test_jb1_possible_days_off_of_2027_spring_festival_reach_five_days_each_side():
    possible = possible_days_off(2027)
    assert [d for d in _days(date(2027, 1, 25), date(2027, 2, 20)) if d in possible] == [
        date(2027, 2, 1), date(2027, 2, 2), date(2027, 2, 3), date(2027, 2, 4),
        date(2027, 2, 9), date(2027, 2, 10), date(2027, 2, 11), date(2027, 2, 12),
    ]
    assert not possible & set(statutory_holidays(2027))


def test_jb1_statutory_holidays_follow_the_version_of_the_law_in_force():
    assert date(2024, 2, 9) not in statutory_holidays(2024)  # 2014 办法: no 除夕
    assert date(2025, 1, 28) in statutory_holidays(2025)  # 2025 办法: 除夕 is back
    assert date(2024, 5, 2) not in statutory_holidays(2024)
    assert date(2025, 5, 2) in statutory_holidays(2025)


def test_jb1_year_out_of_range_is_refused():
    with pytest.raises(ValueError):
        statutory_holidays(1900)


@pytest.mark.django_db
class TestProvisionalDeadlines:
    def test_jb1_provisional_day_off_is_a_statutory_holiday_not_a_bridge_day(self):
        assert not is_working_day(date(2027, 2, 8))  # 初三, a Monday
        assert is_working_day(date(2027, 2, 9))  # possibly a bridge day: counted working for the earliest

    def test_jb1_notice_starting_2027_02_03_does_not_end_before_2027_02_16(self):
        deadline = working_day_deadline(date(2027, 2, 3), 7)
        assert deadline == Deadline(date(2027, 2, 16), True, date(2027, 2, 23))
        assert deadline.date >= date(2027, 2, 16)

    def test_jb1_confirmed_year_has_one_date(self):
        deadline = working_day_deadline(date(2026, 2, 10), 7)
        assert deadline.latest == deadline.date and not deadline.provisional

    def test_jb1_latest_counts_possible_bridge_days_off(self):
        # 2027-03-31 + 15 working days: 清明 (Mon 5 April) may bridge 6–7 April, and 劳动节 (a weekend)
        # may take 28–30 April: earliest 22 April, latest 26 April.
        assert working_day_deadline(date(2027, 3, 31), 15) == Deadline(date(2027, 4, 22), True, date(2027, 4, 26))
