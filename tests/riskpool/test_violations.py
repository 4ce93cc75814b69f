"""RP-21 violations through the services: claw-back of the compensation with interest for the
same period at the 1-year LPR (across a rate change), the ledger, idempotency, who may record
one and which claims it may name, revocation (RP-22 dates)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import Sum

from core.errors import RuleViolation
from core.models import AuditEvent
from riskpool import rules, services
from riskpool.models import LedgerEntry, Violation
from tests.factories import ClaimFactory, LoanProjectFactory, PoolFactory, UserFactory
from tests.riskpool.factories import World

pytestmark = pytest.mark.django_db
PAID_ON, RETURNED_ON = date(2025, 4, 28), date(2025, 9, 1)  # the 1-year LPR fell 3.10 → 3.00 on 2025-05-20


@pytest.fixture
def paid():
    """The worked example paid (1,200,000 on 2025-04-28), then 50,000 returned from a recovery."""
    world = World()
    world.budget()
    claim = world.to_documents(world.claim())
    world.pay(claim)
    claim = services.claim_to_compensation_library(user=world.bank_user, claim=claim, on=date(2025, 5, 5))
    services.recovery_report(user=world.bank_user, claim=claim, received_on=date(2025, 5, 6), gross=D("100000.00"),
                             method="collection", on=date(2025, 5, 8), idempotency_key="rec-1")
    claim.refresh_from_db()
    assert (claim.paid_amount, claim.returned_amount, claim.paid_on) == (D("1200000.00"), D("50000.00"), PAID_ON)
    world.claim_row = claim
    return world


def record(world, key="vio-1", **kwargs):
    values = dict(user=world.authority, member=world.member, kind="false_documents", recorded_on=date(2025, 9, 1),
                  description="提供虚假材料", claims=[world.claim_row], returned_on=RETURNED_ON, idempotency_key=key)
    values.update(kwargs)
    return services.violation_record(**values)


def test_rp21_claw_back_of_the_unreturned_compensation_with_interest_across_an_lpr_change(paid):
    violation = record(paid)

    principal = D("1150000.00")  # paid − already returned
    # 22 days at 3.10% (to 2025-05-20), then 104 days at 3.00% (to 2025-09-01, excluded), actual/365
    by_hand = (principal * (D("3.10") * 22 + D("3.00") * 104) / D("36500")).quantize(D("0.01"))
    segments = services.lpr_segments(PAID_ON, RETURNED_ON)
    assert segments == [(date(2024, 10, 21), D("3.1000")), (date(2025, 5, 20), D("3.0000"))]
    assert violation.clawback_interest == rules.clawback_interest(principal, segments, PAID_ON, RETURNED_ON) == by_hand
    assert violation.clawback_principal == principal and violation.kind == Violation.Kind.FALSE_DOCUMENTS
    assert list(violation.claims.all()) == [paid.claim_row]
    paid.claim_row.refresh_from_db()
    assert paid.claim_row.returned_amount == paid.claim_row.paid_amount
    assert AuditEvent.objects.filter(object_type="riskpool.violation", object_id=str(violation.pk)).count() == 1


def test_rp21_the_ledger_adds_up(paid):
    paid.pool.refresh_from_db()
    before = paid.pool.balance
    assert before == D("5000000.00") - D("1200000.00") + D("50000.00")
    violation = record(paid)
    paid.pool.refresh_from_db()
    entries = LedgerEntry.objects.filter(claim=paid.claim_row, booked_on=RETURNED_ON)
    amounts = dict(entries.values_list("kind", "amount"))
    assert amounts == {LedgerEntry.Kind.CLAWBACK: violation.clawback_principal,
                       LedgerEntry.Kind.CLAWBACK_INTEREST: violation.clawback_interest}
    assert paid.pool.balance == before + violation.clawback_principal + violation.clawback_interest
    assert LedgerEntry.objects.filter(pool=paid.pool).aggregate(s=Sum("amount"))["s"] == paid.pool.balance
    assert entries.order_by("-id").first().balance_after == paid.pool.balance


def test_rp21_a_repeated_request_books_nothing_again(paid):
    first = record(paid)
    paid.pool.refresh_from_db()
    balance = paid.pool.balance
    again = record(paid)
    paid.pool.refresh_from_db()
    assert again.pk == first.pk and Violation.objects.count() == 1
    assert paid.pool.balance == balance
    assert LedgerEntry.objects.filter(kind__in=["clawback", "clawback_interest"]).count() == 2


def test_rp21_the_authority_of_another_pool_is_refused(paid):
    stranger = UserFactory(organisation=PoolFactory().authority, roles=["authority_admin"])
    with pytest.raises(PermissionDenied):
        record(paid, user=stranger)
    with pytest.raises(PermissionDenied):  # nor the pool's reviewer
        record(paid, user=paid.reviewer)
    assert not Violation.objects.exists() and not LedgerEntry.objects.filter(kind="clawback").exists()


def test_rp21_a_claim_of_another_bank_is_refused(paid):
    other = ClaimFactory(project=LoanProjectFactory(pool=paid.pool, classification="substandard"))
    with pytest.raises(RuleViolation) as error:
        record(paid, claims=[paid.claim_row, other])
    assert error.value.problems[0].rule == "RP-21"
    assert not Violation.objects.exists() and not LedgerEntry.objects.filter(kind="clawback").exists()
    paid.claim_row.refresh_from_db()
    assert paid.claim_row.returned_amount == D("50000.00")


def test_rp21_rp22_revocation_sets_the_reapply_date(paid):
    violation = record(paid, revoke=True, kind="misuse")
    member = paid.member
    member.refresh_from_db()
    assert violation.revoke_membership
    assert (member.revoked_on, member.may_reapply_on) == (date(2025, 9, 1), rules.may_reapply_on(date(2025, 9, 1)))
    assert AuditEvent.objects.filter(object_type="riskpool.member", summary__contains="RP-21 revoked").exists()
