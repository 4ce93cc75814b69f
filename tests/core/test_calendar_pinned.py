"""core.calendar.pinned(): a read-only batch (the simulator's replay) reads the working-day table
once; outside the block every question reads the current table."""
from datetime import date

import pytest

from core import calendar
from core.models import CalendarDay

pytestmark = pytest.mark.django_db

SATURDAY = date(2025, 3, 8)


def test_pinned_keeps_the_table_of_its_start_and_lets_go_after():
    assert not calendar.is_working_day(SATURDAY)
    with calendar.pinned():
        CalendarDay.objects.create(date=SATURDAY, is_working_day=True, name="调休上班")
        assert not calendar.is_working_day(SATURDAY)  # the table read when the block began
        with calendar.pinned():  # nested: the outer table stays
            assert not calendar.is_working_day(SATURDAY)
    assert calendar.is_working_day(SATURDAY)


def test_pinned_reads_the_shared_cache_once(monkeypatch):
    reads = []
    real_get = calendar.cache.get
    monkeypatch.setattr(calendar.cache, "get", lambda *a, **k: reads.append(a) or real_get(*a, **k))
    with calendar.pinned():
        for day in range(1, 29):
            calendar.working_day_deadline(date(2025, 2, day), 10)
    assert len(reads) == 1
