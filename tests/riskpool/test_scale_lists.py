"""Issue 12: the project list at a million loans. Each side of the scoping filter is one indexed
column of the project table (a bank its own column, the pool's parties the pool ids), the count
is capped, and the page costs the same number of queries for 1 or many rows and for each party."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import pagination
from riskpool import selectors
from tests.factories import LoanProjectFactory
from tests.riskpool.test_api import World

pytestmark = pytest.mark.django_db


def _where(queryset) -> str:
    return str(queryset.query).split(" WHERE ", 1)[1]


def test_a_bank_is_filtered_by_its_own_column_alone():
    world = World()
    where = _where(selectors.project_list(user=world.bank_user))
    assert where.startswith(f'"riskpool_loanproject"."bank_id" = {world.bank.pk}') and " OR " not in where


@pytest.mark.parametrize("who", ["authority", "reviewer", "treasurer"])
def test_a_pool_party_is_filtered_by_pool_id(who):
    world = World()
    where = _where(selectors.project_list(user=getattr(world, who)))
    assert where.startswith(f'"riskpool_loanproject"."pool_id" IN ({world.pool.pk})') and " OR " not in where


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["bank_user", "authority", "reviewer"])
def test_project_list_queries_constant_per_party(client, who):
    world = World()
    client.force_login(getattr(world, who))
    url = reverse("riskpool:project-list")
    LoanProjectFactory(pool=world.pool, bank=world.bank)
    few = _queries(client, url)
    LoanProjectFactory.create_batch(6, pool=world.pool, bank=world.bank)
    assert _queries(client, url) == few


def test_project_list_over_the_cap_says_more_than(client, monkeypatch):
    monkeypatch.setattr(pagination.CappedPaginator, "cap", 3)
    world = World()
    LoanProjectFactory.create_batch(5, pool=world.pool, bank=world.bank)
    client.force_login(world.authority)
    page = client.get(reverse("riskpool:project-list"), {"page_size": 1}).content.decode()
    assert "More than 3 loan projects" in page or "贷款项目超过 3 笔" in page
    assert "Page 1 of more than 3" in page or "共 3 页以上" in page


def test_jb5_auto_closure_is_a_flat_update_of_the_selected_ids():
    """RP-18 at a million loans: the loans are selected, then closed by one UPDATE of their ids
    with no join in it; a loan not due is left alone."""
    from datetime import date

    from riskpool.models import LoanProject
    from riskpool.services_reports import loans_auto_close

    world = World()
    due = LoanProjectFactory(pool=world.pool, bank=world.bank, disbursed_on=date(2020, 1, 1),
                             maturity_on=date(2021, 1, 1))
    young = LoanProjectFactory(pool=world.pool, bank=world.bank, maturity_on=date(2099, 1, 1))
    with CaptureQueriesContext(connection) as ctx:
        assert loans_auto_close(on=date(2025, 6, 30)) >= 1
    [update] = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]
    assert "JOIN" not in update and "riskpool_pool" not in update and f"{due.pk}" in update
    due.refresh_from_db()
    young.refresh_from_db()
    assert (due.library, due.closed_reason) == (LoanProject.Library.CLOSED, LoanProject.ClosedReason.AUTO)
    assert young.library == LoanProject.Library.LOAN
    assert loans_auto_close(on=date(2025, 6, 30)) == 0  # again the same day: nothing more
