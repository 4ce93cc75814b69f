"""The regulator's home page panel of the risk pools (core.home, riskpool.home): balance,
utilisation, claims waiting per RP-16 step with the overdue ones, banks above the RP-15 gate;
only for the pools the user oversees."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse

from core.calendar import shanghai_today
from riskpool.models import LedgerEntry
from riskpool.selectors import oversight_pool_figures
from tests.factories import ClaimFactory, MemberFactory, PoolFactory, UserFactory, bank_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool():
    pool = PoolFactory(size=D("100000000.00"), balance=D("9000000.00"))
    LedgerEntry.objects.create(pool=pool, kind=LedgerEntry.Kind.BUDGET, amount=D("10000000.00"),
                               balance_after=D("10000000.00"), booked_on=date(2025, 1, 2))
    LedgerEntry.objects.create(pool=pool, kind=LedgerEntry.Kind.PAYOUT, amount=D("-1200000.00"),
                               balance_after=D("8800000.00"), booked_on=date(2025, 2, 2))
    LedgerEntry.objects.create(pool=pool, kind=LedgerEntry.Kind.RETURN_RECOVERY, amount=D("200000.00"),
                               balance_after=D("9000000.00"), booked_on=date(2025, 3, 2))
    return pool


def authority_of(pool):
    return UserFactory(organisation=pool.authority, roles=["authority_admin"])


def test_figures_of_the_overseen_pool(pool, django_assert_max_num_queries):
    today = shanghai_today()
    ClaimFactory(project__pool=pool, state="submitted", next_due_on=today - timedelta(days=1))
    ClaimFactory(project__pool=pool, state="submitted", next_due_on=today + timedelta(days=3))
    ClaimFactory(project__pool=pool, state="documents_uploaded", next_due_on=today)
    ClaimFactory(project__pool=pool, state="closed")
    MemberFactory(pool=pool, npl_ratio=D("0.030001"))  # above 3%
    MemberFactory(pool=pool, npl_ratio=D("0.030000"))  # exactly 3%: open (RP-15)
    user = authority_of(pool)
    with django_assert_max_num_queries(5):  # pools, claims by step, members, the rule set (+ the user's org)
        [figures] = oversight_pool_figures(user=user, today=today)
    assert figures["net_paid"] == D("1000000.00") and figures["utilisation"] == D("0.0100")
    assert [(s["state"], s["n"], s["overdue"]) for s in figures["steps"]] == [
        ("submitted", 2, 1), ("documents_uploaded", 1, 0)]
    assert figures["waiting"] == 3 and figures["overdue"] == 1 and figures["banks_over_gate"] == 1


def test_home_page_shows_the_panel_to_the_authority_only(client, pool):
    other = PoolFactory(name="别处的资金池")
    client.force_login(authority_of(pool))
    page = client.get(reverse("home")).content.decode()
    assert 'id="pool-figures"' in page and pool.name in page and other.name not in page
    client.force_login(bank_user())
    assert 'id="pool-figures"' not in client.get(reverse("home")).content.decode()
