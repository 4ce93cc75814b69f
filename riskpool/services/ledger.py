"""RP-1 pool money: the ledger is the only way money moves in or out of a pool, each entry
idempotent by key, the balance never below 0."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import i18n_text
from core.audit import audit
from core.errors import Conflict, RuleViolation
from core.models import AuditEvent
from core.money import money
from core.services import require_member
from riskpool.models import (
    LedgerEntry,
    Pool,
)

INFLOWS = {
    LedgerEntry.Kind.BUDGET, LedgerEntry.Kind.RETURN_UPGRADE, LedgerEntry.Kind.RETURN_RECOVERY,
    LedgerEntry.Kind.CLAWBACK, LedgerEntry.Kind.CLAWBACK_INTEREST, LedgerEntry.Kind.INTEREST,
}
OUTFLOWS = {LedgerEntry.Kind.PAYOUT}


# --- the ledger (RP-1): the only way money moves ------------------------------------------


def _existing_entry(idempotency_key: str | None, *, pool: Pool, kind: str, amount: Decimal) -> LedgerEntry | None:
    """A request repeated with the same key gets the entry of the first one, once."""
    if not idempotency_key:
        return None
    entry = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
    if entry is not None and (entry.pool_id, entry.kind, abs(entry.amount)) != (pool.pk, kind, amount):
        raise Conflict("RP-1", _("This idempotency key was already used for a different movement."), "idempotency_key")
    return entry


def ledger_post(
    *, user, pool: Pool, kind: str, amount, booked_on: date, claim=None, m_claim=None,
    idempotency_key: str | None = None, note: str = "",
) -> LedgerEntry:
    """Book one movement of pool money. ``amount`` is positive; the kind says which way it goes.

    The pool row is locked (SELECT … FOR UPDATE) for the length of the transaction, so two
    payouts at the same moment are booked one after the other and the second sees the first's
    balance: the balance can never go below zero (RP-1), whatever the concurrency.
    """
    amount = money(amount, rule="RP-1", field="amount")
    if amount <= 0:
        raise RuleViolation("RP-1", _("A ledger amount must be more than 0."), "amount")
    if kind not in INFLOWS | OUTFLOWS:
        raise RuleViolation("RP-1", _("Unknown kind of ledger movement."), "kind")
    with transaction.atomic():
        locked = Pool.objects.select_for_update().get(pk=pool.pk)
        # Checked under the pool lock: a concurrent twin holding the lock has committed by now.
        existing = _existing_entry(idempotency_key, pool=pool, kind=kind, amount=amount)
        if existing is not None:
            return existing
        signed = -amount if kind in OUTFLOWS else amount
        if locked.balance + signed < 0:
            raise RuleViolation(
                "RP-1",
                _("The pool's balance (%(balance)s yuan) does not cover %(amount)s yuan; the claim waits for money.")
                % {"balance": locked.balance, "amount": amount},
                "amount",
            )
        locked.balance += signed
        locked.save(update_fields=["balance"])
        try:
            with transaction.atomic():
                entry = LedgerEntry.objects.create(
                    pool=locked, kind=kind, amount=signed, balance_after=locked.balance, claim=claim,
                    m_claim=m_claim, booked_on=booked_on, idempotency_key=idempotency_key or None,
                    note=note, created_by=user if getattr(user, "pk", None) else None,
                )
        except IntegrityError:
            # The same key committed by a concurrent request between our check and insert.
            raise Conflict("RP-1", _("This request is already being processed."), "idempotency_key") from None
        audit(actor=user, action=AuditEvent.Action.CREATE, instance=entry, organisation=locked.authority,
              summary=i18n_text.gettext_lazy("%(kind)s %(amount)s") % {"kind": i18n_text.label(kind), "amount": signed})
    pool.balance = locked.balance
    return entry


def pool_budget_add(*, user, pool: Pool, amount, booked_on: date, idempotency_key: str | None = None,
                    note: str = "") -> LedgerEntry:
    """A budget allocation into the pool (the authority's or finance bureau's money)."""
    require_member(user, pool.authority, "authority_admin")
    return ledger_post(user=user, pool=pool, kind=LedgerEntry.Kind.BUDGET, amount=amount, booked_on=booked_on,
                       idempotency_key=idempotency_key, note=note)
