"""GU-4's overdue list, scoped in two small steps (issue 12): the same rows as the scoped join,
another firm's compensation never, and the same number of queries for 1 or many rows."""
from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guarantees import selectors
from tests.factories import AgreementFactory, CompensationFactory, GuaranteeFactory, authority_user, firm_user

pytestmark = pytest.mark.django_db

TODAY = date(2025, 6, 30)


def _overdue(firm, n):
    return [CompensationFactory(guarantee=GuaranteeFactory(agreement=AgreementFactory(firm=firm)),
                                due_on=date(2025, 5, 1)) for _ in range(n)]


def test_a_firm_sees_its_own_overdue_compensations_only():
    alice, bob = firm_user(), firm_user()
    mine = _overdue(alice.organisation, 2)
    _overdue(bob.organisation, 3)
    CompensationFactory(guarantee=GuaranteeFactory(agreement=AgreementFactory(firm=alice.organisation)),
                        due_on=date(2025, 5, 1), paid_on=date(2025, 5, 2))  # paid: not overdue
    rows = selectors.overdue_compensations(user=alice, today=TODAY)
    assert sorted(c.pk for c in rows) == sorted(c.pk for c in mine)
    joined = selectors.compensation_list(user=alice).filter(paid_on__isnull=True, due_on__lt=TODAY)
    assert sorted(c.pk for c in rows) == sorted(c.pk for c in joined)


def test_overdue_list_queries_constant():
    alice = firm_user()
    _overdue(alice.organisation, 1)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            rows = list(selectors.overdue_compensations(user=alice, today=TODAY))
            [row.guarantee.borrower for row in rows]  # noqa: B018 - what the list shows
        return len(ctx.captured_queries)

    few = count()
    _overdue(alice.organisation, 4)
    assert count() == few


def test_the_shorter_id_list_scopes_the_rows_either_way():
    """Issue 12: the list is narrowed by the visible guarantees or by the hidden ones, whichever
    is shorter; both give the scoped join's rows (here alice sees 1 of 4, then 4 of 5)."""
    alice, bob = firm_user(), firm_user()
    _overdue(alice.organisation, 1)
    _overdue(bob.organisation, 3)

    def same():
        rows = sorted(c.pk for c in selectors.overdue_compensations(user=alice, today=TODAY))
        joined = selectors.compensation_list(user=alice).filter(paid_on__isnull=True, due_on__lt=TODAY)
        assert rows == sorted(c.pk for c in joined)
        return len(rows)

    assert same() == 1
    _overdue(alice.organisation, 3)
    assert same() == 4


def test_an_authority_seeing_every_overdue_compensation_gets_them_all(django_assert_max_num_queries):
    firm = firm_user().organisation
    made = _overdue(firm, 3)
    authority = authority_user(region=firm.region)
    with django_assert_max_num_queries(6):
        rows = sorted(c.pk for c in selectors.overdue_compensations(user=authority, today=TODAY))
    assert rows == sorted(c.pk for c in made)
