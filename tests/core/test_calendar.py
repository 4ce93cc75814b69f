"""JB-1: the working-day calendar."""
from datetime import date

import pytest

from core.calendar import (
    Deadline,
    add_working_days,
    is_provisional,
    is_working_day,
    nth_working_day_of_month,
    nth_working_day_of_quarter,
    provisional_years,
    working_day_deadline,
)
from core.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db


def test_jb1_fifth_working_day_after_2024_09_27_is_2024_10_10():
    assert add_working_days(date(2024, 9, 27), 5) == date(2024, 10, 10)


def test_jb1_fifteenth_working_day_of_2024_q3_is_2024_07_19():
    assert nth_working_day_of_quarter(2024, 3, 15) == date(2024, 7, 19)


def test_jb1_adjusted_weekend_days_2024_are_working_days():
    assert is_working_day(date(2024, 9, 29))  # Sunday, 调休
    assert is_working_day(date(2024, 10, 12))  # Saturday, 调休


def test_jb1_national_day_week_2024_is_holiday():
    assert not any(is_working_day(date(2024, 10, d)) for d in range(1, 8))


def test_jb1_zero_working_days_is_the_same_day():
    assert add_working_days(date(2024, 10, 1), 0) == date(2024, 10, 1)


def test_jb1_negative_count_is_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2024, 10, 1), -1)


def test_jb1_first_of_month_counts_when_it_is_a_working_day():
    assert nth_working_day_of_month(2024, 7, 1) == date(2024, 7, 1)  # Monday
    assert nth_working_day_of_month(2024, 6, 1) == date(2024, 6, 3)  # 1 June is a Saturday
    assert nth_working_day_of_quarter(2024, 4, 1) == date(2024, 10, 8)  # after the National Day week


def test_jb1_override_turns_a_weekday_into_a_holiday():
    day = date(2024, 7, 3)  # Wednesday
    assert is_working_day(day)
    CalendarDay.objects.create(date=day, is_working_day=False, name="typhoon")
    assert not is_working_day(day)
    assert nth_working_day_of_quarter(2024, 3, 15) == date(2024, 7, 22)


def test_jb1_override_turns_a_saturday_into_a_working_day():
    day = date(2024, 7, 6)  # Saturday
    assert not is_working_day(day)
    CalendarDay.objects.create(date=day, is_working_day=True, name="调休")
    assert is_working_day(day)
    assert nth_working_day_of_quarter(2024, 3, 15) == date(2024, 7, 18)


def test_jb1_2027_falls_back_to_the_statutory_holidays_and_is_provisional():
    assert not is_working_day(date(2027, 1, 1))  # a Friday: 元旦, a statutory holiday
    assert is_working_day(date(2027, 1, 4))
    assert not is_working_day(date(2027, 1, 2))  # Saturday
    assert is_provisional(date(2027, 1, 1))
    assert not is_provisional(date(2026, 12, 31))
    assert provisional_years([2026, 2027, 2003, 2027]) == [2003, 2027]


def test_jb1_deadline_into_an_unknown_year_is_provisional():
    # 2026-12-31 is a Thursday; 2027-01-01 (Friday) is 元旦, so the next working day is Monday.
    assert working_day_deadline(date(2026, 12, 30), 1) == Deadline(date(2026, 12, 31), False)
    assert working_day_deadline(date(2026, 12, 30), 2) == Deadline(date(2027, 1, 4), True, date(2027, 1, 4))
    assert working_day_deadline(date(2027, 3, 1), 0) == Deadline(date(2027, 3, 1), True)


def test_jb1_authority_entering_2027_ends_provisional():
    CalendarDay.objects.create(date=date(2027, 1, 4), is_working_day=False, name="元旦")
    assert working_day_deadline(date(2026, 12, 30), 2).date == date(2027, 1, 5)
    assert working_day_deadline(date(2026, 12, 30), 2).provisional
    CalendarYear.objects.create(year=2027, holidays_entered=True)
    assert not is_provisional(date(2027, 6, 1))
    assert provisional_years([2027]) == []
    assert working_day_deadline(date(2026, 12, 30), 2) == Deadline(date(2027, 1, 5), False)


def test_jb1_calendar_year_not_yet_entered_stays_provisional():
    CalendarYear.objects.create(year=2027, holidays_entered=False)
    assert is_provisional(date(2027, 6, 1))


def test_jb1_cache_is_cleared_when_an_override_is_saved_or_deleted(django_assert_num_queries):
    day = date(2024, 7, 3)
    assert is_working_day(day)
    with django_assert_num_queries(0):  # served from the cache
        assert is_working_day(day)
    override = CalendarDay.objects.create(date=day, is_working_day=False)
    assert not is_working_day(day)
    override.is_working_day = True
    override.save()
    assert is_working_day(day)
    override.is_working_day = False
    override.save()
    assert not is_working_day(day)
    override.delete()
    assert is_working_day(day)
    CalendarDay.objects.create(date=date(2024, 7, 6), is_working_day=True)
    assert is_working_day(date(2024, 7, 6))


def test_jb1_cache_is_cleared_when_a_calendar_year_is_saved():
    assert is_provisional(date(2028, 1, 3))
    year = CalendarYear.objects.create(year=2028, holidays_entered=True)
    assert not is_provisional(date(2028, 1, 3))
    year.delete()
    assert is_provisional(date(2028, 1, 3))


def test_jb1_override_moved_to_another_year_leaves_no_stale_entry():
    override = CalendarDay.objects.create(date=date(2024, 7, 3), is_working_day=False)
    assert not is_working_day(date(2024, 7, 3))
    override.date = date(2025, 7, 2)
    override.save()
    assert is_working_day(date(2024, 7, 3))
    assert not is_working_day(date(2025, 7, 2))
