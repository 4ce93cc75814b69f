"""RP-1: the ledger is the only way pool money moves; the balance never goes negative, also
under concurrent payouts; a repeated request with the same idempotency key books once."""
from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connections
from django.db.models import Sum

from core.errors import Conflict, RuleViolation
from riskpool import services
from riskpool.models import LedgerEntry, Pool
from tests.factories import PoolFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = date(2025, 6, 30)
K = LedgerEntry.Kind


@pytest.fixture
def pool():
    return PoolFactory()


@pytest.fixture
def admin_user(pool):
    return UserFactory(organisation=pool.authority, roles=["authority_admin"])


def book(pool, kind, amount, **kwargs):
    return services.ledger_post(user="test", pool=pool, kind=kind, amount=amount, booked_on=TODAY, **kwargs)


def test_rp1_budget_then_payout_moves_the_balance_through_the_ledger(pool, admin_user):
    services.pool_budget_add(user=admin_user, pool=pool, amount="1000000.00", booked_on=TODAY)
    entry = book(pool, K.PAYOUT, "400000.00")
    pool.refresh_from_db()
    assert entry.amount == D("-400000.00") and entry.balance_after == D("600000.00")
    assert pool.balance == D("600000.00") == pool.ledger.aggregate(s=Sum("amount"))["s"]


def test_rp1_a_payout_of_exactly_the_balance_is_allowed_one_cent_more_is_refused(pool):
    book(pool, K.BUDGET, "100.00")
    with pytest.raises(RuleViolation) as exc:
        book(pool, K.PAYOUT, "100.01")
    assert exc.value.rule == "RP-1"
    book(pool, K.PAYOUT, "100.00")
    pool.refresh_from_db()
    assert pool.balance == D("0.00") and pool.ledger.count() == 2


@pytest.mark.parametrize("amount", ["0", "-5.00", "abc"])
def test_rp1_ledger_amounts_must_be_positive_numbers(pool, amount):
    with pytest.raises(RuleViolation):
        book(pool, K.BUDGET, amount)
    assert not pool.ledger.exists()


def test_rp1_same_idempotency_key_books_once(pool):
    book(pool, K.BUDGET, "1000.00")
    first = book(pool, K.PAYOUT, "300.00", idempotency_key="pay-claim-7")
    again = book(pool, K.PAYOUT, "300.00", idempotency_key="pay-claim-7")
    pool.refresh_from_db()
    assert first.pk == again.pk and pool.balance == D("700.00") and pool.ledger.count() == 2


def test_rp1_an_idempotency_key_reused_for_another_amount_is_a_conflict(pool):
    book(pool, K.BUDGET, "1000.00")
    book(pool, K.PAYOUT, "300.00", idempotency_key="k1")
    with pytest.raises(Conflict):
        book(pool, K.PAYOUT, "301.00", idempotency_key="k1")


def test_rp1_only_the_pools_authority_adds_budget(pool):
    stranger = UserFactory(roles=["authority_admin"])
    with pytest.raises(Exception) as exc:
        services.pool_budget_add(user=stranger, pool=pool, amount="10.00", booked_on=TODAY)
    assert exc.type.__name__ == "PermissionDenied"
    assert not pool.ledger.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rp1_concurrent_payouts_never_spend_the_same_yuan():
    """Twelve payouts of 100,000 fired at once, each on its own connection, against a balance of
    1,000,000: exactly ten are paid, two refused, and the ledger adds up to the balance."""
    pool = PoolFactory()
    book(pool, K.BUDGET, "1000000.00")
    start = threading.Barrier(12, timeout=30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def pay(n: int) -> None:
        try:
            start.wait()
            book(Pool.objects.get(pk=pool.pk), K.PAYOUT, "100000.00", idempotency_key=f"concurrent-{n}")
            result = "paid"
        except RuleViolation:
            result = "refused"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=pay, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pool.refresh_from_db()
    paid = -(pool.ledger.filter(kind=K.PAYOUT).aggregate(s=Sum("amount"))["s"])
    assert sorted(outcomes) == ["paid"] * 10 + ["refused"] * 2
    assert paid == D("1000000.00") and pool.balance == D("0.00")
    assert pool.ledger.aggregate(s=Sum("amount"))["s"] == pool.balance


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rp1_the_same_payout_request_fired_twice_at_once_books_once():
    pool = PoolFactory()
    book(pool, K.BUDGET, "1000.00")
    start = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def pay() -> None:
        try:
            start.wait()
            entry = book(Pool.objects.get(pk=pool.pk), K.PAYOUT, "600.00", idempotency_key="twice")
            outcomes.append(entry.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pool.refresh_from_db()
    assert pool.ledger.filter(kind=K.PAYOUT).count() == 1 and pool.balance == D("400.00")
    assert len(outcomes) == 2 and outcomes[0] == outcomes[1]  # both answered with the one entry
