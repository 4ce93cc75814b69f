"""core.pagination.CappedPaginator (issue 12): a list counts at most COUNT_CAP + 1 rows."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Organisation
from core.pagination import CappedPaginator
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


class FiveCap(CappedPaginator):
    cap = 5


def test_count_stops_at_the_cap_and_says_so():
    OrganisationFactory.create_batch(7)
    paginator = FiveCap(Organisation.objects.order_by("pk"), 2)
    with CaptureQueriesContext(connection) as ctx:
        assert (paginator.count, paginator.capped, paginator.num_pages) == (5, True, 3)
    assert len(ctx.captured_queries) == 1
    assert "LIMIT 6" in ctx.captured_queries[0]["sql"]  # the database stops counting past the cap


def test_count_at_the_cap_is_exact():
    OrganisationFactory.create_batch(5 - Organisation.objects.count())
    paginator = FiveCap(Organisation.objects.order_by("pk"), 2)
    assert (paginator.count, paginator.capped, paginator.num_pages) == (5, False, 3)


def test_a_list_is_counted_too():
    paginator = FiveCap(list(range(9)), 4)
    assert (paginator.count, paginator.capped) == (5, True)
    assert FiveCap(list(range(3)), 4).capped is False
