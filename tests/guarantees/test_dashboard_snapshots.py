"""Issue 12: the dashboard reads a closed quarter from its JB-5 snapshots and the open quarter
live over its own business only, with the same figures as the live aggregation over everything
and a number of queries that does not grow with the firms."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from core.models import Organisation
from core.periods import Quarter
from guarantees.jobs import snapshot_quarter
from guarantees.models import FirmIndicatorSnapshot
from guarantees.selectors_indicators import firm_indicator_rows, quarter_indicator_rows
from tests.factories import AgreementFactory, GuaranteeFactory
from tests.guarantees.test_indicators import PARAMS, _firms_with_business, book  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

Q4 = Quarter(2024, 4)
Q1 = Quarter(2025, 1)
FIRMS = Organisation.objects.filter(kind=Organisation.Kind.GUARANTEE_FIRM)


def _snapshot(quarter: Quarter) -> None:
    snapshot_quarter(None, str(quarter), lambda *args: None)


def _live(quarter: Quarter, today: date):
    return firm_indicator_rows(firms=FIRMS.all(), period_start=quarter.start, period_end=quarter.end, params=PARAMS,
                               today=min(today, quarter.end))


def test_closed_quarter_from_snapshots_equals_live(book, django_assert_num_queries):  # noqa: F811
    _snapshot(Q4)
    today = date(2025, 3, 1)
    with django_assert_num_queries(2):  # the firms' heads and their snapshots: no sum over guarantees
        rows = quarter_indicator_rows(firms=FIRMS.all(), quarter=Q4, params=PARAMS, today=today)
    assert rows == _live(Q4, today)
    assert [r.overdue_compensations for r in rows] == [2, 0, 0]  # g9 and g10 unpaid on 12-31 (firm A)


def test_closed_quarter_shows_the_snapshot_not_a_later_change(book):  # noqa: F811
    """The snapshot is the quarter's official figure: it is what the dashboard shows."""
    _snapshot(Q4)
    FirmIndicatorSnapshot.objects.filter(firm=book["a"], period=str(Q4)).update(balance=D("1.00"))
    rows = quarter_indicator_rows(firms=FIRMS.all(), quarter=Q4, params=PARAMS, today=date(2025, 3, 1))
    assert rows[0].firm_id == book["a"].pk and rows[0].balance == D("1.00")


def test_closed_quarter_without_snapshot_is_summed_live(book):  # noqa: F811
    today = date(2025, 3, 1)
    assert quarter_indicator_rows(firms=FIRMS.all(), quarter=Q4, params=PARAMS, today=today) == _live(Q4, today)


def test_snapshot_without_overdue_count_is_summed_live(book):  # noqa: F811
    """Snapshots taken before the overdue count was kept do not show an empty count."""
    _snapshot(Q4)
    FirmIndicatorSnapshot.objects.update(overdue_compensations=None, balance=D("1.00"))
    today = date(2025, 3, 1)
    assert quarter_indicator_rows(firms=FIRMS.all(), quarter=Q4, params=PARAMS, today=today) == _live(Q4, today)


@pytest.mark.parametrize("today", [date(2025, 1, 1), date(2025, 2, 15), date(2025, 3, 31)])
def test_open_quarter_carried_from_the_previous_snapshot_equals_live(book, today):  # noqa: F811
    """Q1 2025 (open): g6 starts in it, g11 ends in it; the balance carried from Q4's snapshot
    plus the quarter's own business is the live balance."""
    _snapshot(Q4)
    GuaranteeFactory(agreement=AgreementFactory(firm=book["a"]), amount=D("50000.00"), start=date(2025, 1, 2),
                     closed_on=date(2025, 1, 3))  # written and ended inside the quarter
    GuaranteeFactory(agreement=AgreementFactory(firm=book["b"]), amount=D("70000.00"), start=date(2025, 1, 20))
    rows = quarter_indicator_rows(firms=FIRMS.all(), quarter=Q1, params=PARAMS, today=today)
    assert rows == _live(Q1, today)
    assert rows[0].balance != D("0.00")


@pytest.mark.parametrize("count", [3, 30])
def test_dashboard_queries_constant(count, django_assert_num_queries):
    _firms_with_business(count)
    _snapshot(Q4)
    with django_assert_num_queries(2):
        closed = quarter_indicator_rows(firms=FIRMS.all(), quarter=Q4, params=PARAMS, today=date(2025, 2, 1))
    with django_assert_num_queries(5):  # heads, Q4 balances, started, ended, compensations
        opened = quarter_indicator_rows(firms=FIRMS.all(), quarter=Q1, params=PARAMS, today=date(2025, 2, 1))
    assert len(closed) == len(opened) == count
