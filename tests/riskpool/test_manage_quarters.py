"""The pool page by quarter (selectors.pool_quarters): paid, returned by kind, claims submitted
and approved per calendar quarter, against a ledger and claims built here, in two GROUP BY
queries whatever the number of quarters; 404 for anyone not overseeing the pool."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from core.calendar import shanghai_today
from core.periods import Quarter
from riskpool import selectors, services
from riskpool.models import ClaimStep, LedgerEntry
from tests.factories import ClaimFactory, LoanProjectFactory, PoolFactory, UserFactory, bank_user

pytestmark = pytest.mark.django_db
K = LedgerEntry.Kind


@pytest.fixture
def pool():
    return PoolFactory()


@pytest.fixture
def authority(pool):
    return UserFactory(organisation=pool.authority, roles=["authority_admin"])


def book(pool, user, kind, amount, on, claim=None):
    services.ledger_post(user=user, pool=pool, kind=kind, amount=D(amount), booked_on=on, claim=claim)


def claim_in(pool, submitted_on, approved_on=(), **kwargs):
    claim = ClaimFactory(project=LoanProjectFactory(pool=pool, classification="substandard"),
                         submitted_on=submitted_on, **kwargs)
    for on in approved_on:
        ClaimStep.objects.create(claim=claim, old="submitted", new="approved", on=on)
    return claim


@pytest.fixture
def ledger(pool, authority):
    """2024Q4: budget; 2025Q1: two payouts, a claim submitted and approved, another submitted;
    2025Q2: a recovery return, an upgrade return, one claim approved twice (counted once);
    2025Q3: a claw-back with its interest, and a claim approved again after a re-review."""
    a = claim_in(pool, date(2025, 1, 5), [date(2025, 1, 20)])
    b = claim_in(pool, date(2025, 3, 31), [date(2025, 4, 2), date(2025, 5, 6), date(2025, 8, 1)])
    claim_in(pool, date(2025, 2, 14))
    book(pool, authority, K.BUDGET, "10000000.00", date(2024, 12, 31))
    book(pool, authority, K.PAYOUT, "1200000.00", date(2025, 1, 1), a)
    book(pool, authority, K.PAYOUT, "300000.50", date(2025, 3, 31), b)
    book(pool, authority, K.RETURN_RECOVERY, "400000.00", date(2025, 4, 1), a)
    book(pool, authority, K.RETURN_UPGRADE, "100000.25", date(2025, 6, 30), b)
    book(pool, authority, K.CLAWBACK, "200000.25", date(2025, 9, 1), b)
    book(pool, authority, K.CLAWBACK_INTEREST, "1234.56", date(2025, 9, 1), b)
    book(pool, authority, K.INTEREST, "99.00", date(2025, 9, 30))  # earned interest: not a return
    other = PoolFactory()  # another pool's money and claims never count
    book(other, UserFactory(organisation=other.authority, roles=["authority_admin"]), K.BUDGET, "5.00",
         date(2025, 1, 1))
    claim_in(other, date(2025, 1, 6), [date(2025, 1, 7)])
    return pool


def zero_returns():
    return {K.RETURN_UPGRADE: D("0"), K.RETURN_RECOVERY: D("0"), K.CLAWBACK: D("0"), K.CLAWBACK_INTEREST: D("0")}


def test_figures_per_quarter_match_the_ledger_built_here(ledger, authority):
    table = selectors.pool_quarters(user=authority, pool=ledger)
    rows = {row["label"]: row for row in table["rows"]}
    labels = [row["label"] for row in table["rows"]]
    assert labels[0] == "2024Q4" and labels[-1] == str(Quarter.of(shanghai_today()))
    assert len(labels) == len(set(labels))  # consecutive quarters, each once

    assert rows["2024Q4"]["paid"] == 0 and rows["2024Q4"]["returned_total"] == 0
    assert (rows["2025Q1"]["paid"], rows["2025Q1"]["submitted"], rows["2025Q1"]["approved"]) == (D("1500000.50"), 3, 1)
    assert rows["2025Q1"]["returned"] == zero_returns()
    assert rows["2025Q2"]["returned"] == {**zero_returns(), K.RETURN_RECOVERY: D("400000.00"),
                                         K.RETURN_UPGRADE: D("100000.25")}
    assert (rows["2025Q2"]["returned_total"], rows["2025Q2"]["submitted"], rows["2025Q2"]["approved"]) == \
        (D("500000.25"), 0, 1)
    assert rows["2025Q3"]["returned"] == {**zero_returns(), K.CLAWBACK: D("200000.25"),
                                         K.CLAWBACK_INTEREST: D("1234.56")}
    assert (rows["2025Q3"]["paid"], rows["2025Q3"]["approved"]) == (0, 1)
    assert rows["2025Q4"] == {**rows["2025Q4"], "paid": 0, "returned_total": 0, "submitted": 0, "approved": 0}

    totals = table["totals"]
    assert totals["paid"] == D("1500000.50") and totals["returned_total"] == D("701235.06")
    assert (totals["submitted"], totals["approved"]) == (3, 3)
    # the totals agree with the ledger itself
    ledger_returns = sum(e.amount for e in LedgerEntry.objects.filter(pool=ledger, kind__in=list(zero_returns())))
    assert totals["returned_total"] == ledger_returns


def test_two_queries_whatever_the_number_of_quarters(pool, authority):
    with CaptureQueriesContext(connection) as few:
        selectors.pool_quarters(user=authority, pool=pool)
    claim_in(pool, date(2019, 1, 2), [date(2019, 2, 1)])
    book(pool, authority, K.BUDGET, "1.00", date(2019, 1, 1))
    with CaptureQueriesContext(connection) as many:
        table = selectors.pool_quarters(user=authority, pool=pool)
    assert table["rows"][0]["label"] == "2019Q1" and len(table["rows"]) > 20
    assert len(few.captured_queries) == len(many.captured_queries) == 2


def test_only_the_pools_overseers_see_it(pool, authority):
    reviewer = UserFactory(organisation=pool.reviewer, roles=["pool_reviewer"])
    treasurer = UserFactory(organisation=pool.treasurer, roles=["pool_treasurer"])
    for user in (authority, reviewer, treasurer):
        assert selectors.pool_quarters(user=user, pool=pool)["rows"]
    other_authority = UserFactory(organisation=PoolFactory().authority, roles=["authority_admin"])
    member_bank = bank_user()
    services.member_add(user=authority, pool=pool, bank=member_bank.organisation, joined_on=date(2024, 1, 1))
    for user in (other_authority, member_bank):
        with pytest.raises(Http404):
            selectors.pool_quarters(user=user, pool=pool)
