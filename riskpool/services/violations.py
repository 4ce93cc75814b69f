"""RP-21 violations: recording a bank's violation, the claw-back of paid claims with interest
at the LPR segments, and its preview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from core import i18n_text
from core.audit import audit, snapshot
from core.errors import Conflict, RuleViolation
from core.models import AuditEvent, LprRate
from core.services import require_member
from riskpool import rules
from riskpool.models import (
    Claim,
    LedgerEntry,
    Member,
    Violation,
)

from .common import scheme_s_params
from .ledger import ledger_post

# --- violations (RP-21) --------------------------------------------------------------------


def lpr_segments(start: date, end: date) -> list[tuple[date, Decimal]]:
    """RP-21: the 1-year LPR as (effective date, percent) pairs: the rate in force on ``start``
    and every change after it up to ``end`` (two queries). No rate in force on ``start`` gives
    an empty first part, which ``rules.clawback_interest`` refuses naming RP-21."""
    rows = LprRate.objects.filter(term=LprRate.Term.ONE_YEAR)
    first = rows.filter(effective_on__lte=start).order_by("-effective_on").values_list("effective_on", "rate_percent")
    later = rows.filter(effective_on__gt=start, effective_on__lte=end).order_by("effective_on")
    return list(first[:1]) + list(later.values_list("effective_on", "rate_percent"))


@transaction.atomic
def violation_record(*, user, member: Member, kind: str, recorded_on: date, description: str = "", claims=(),
                     returned_on: date, revoke: bool = False, idempotency_key: str) -> Violation:
    """违规处理 (RP-21, 第二十八条): the pool's authority records a violation of a member bank. For each
    affected claim, the compensation not yet returned is clawed back (CLAWBACK) with interest for
    the same period at the 1-year LPR from the payout to ``returned_on`` (CLAWBACK_INTEREST);
    membership may be revoked (RP-22 gives the date the bank may apply again). A repeated
    request with the same key returns the first violation and books nothing again."""
    pool = member.pool
    require_member(user, pool.authority, "authority_admin")
    if kind not in Violation.Kind.values:
        raise RuleViolation("RP-21", _("Unknown kind of violation."), "kind")
    if not idempotency_key:
        raise RuleViolation("RP-21", _("An idempotency key is required."), "idempotency_key")
    existing = Violation.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.member_id != member.pk:
            raise Conflict("RP-21", _("This idempotency key was already used for another violation."),
                           "idempotency_key")
        return existing
    claim_ids = {claim.pk for claim in claims}
    locked = list(
        Claim.objects.select_for_update(of=("self",)).select_related("project").filter(pk__in=claim_ids).order_by("pk")
    )
    if len(locked) != len(claim_ids) or any(
        c.project.pool_id != pool.pk or c.project.bank_id != member.organisation_id for c in locked
    ):
        raise RuleViolation("RP-21", _("Only claims of this bank in this pool can be part of the violation."),
                            "claims")
    violation = Violation.objects.create(
        pool=pool, member=member, kind=kind, recorded_on=recorded_on, description=description,
        revoke_membership=bool(revoke), recorded_by=user if getattr(user, "pk", None) else None,
        idempotency_key=idempotency_key,
    )
    violation.claims.set(locked)
    owed = [(c, c.paid_amount - c.returned_amount) for c in locked if c.paid_on and c.paid_amount > c.returned_amount]
    segments = lpr_segments(min(c.paid_on for c, _p in owed), returned_on) if owed else []
    total_principal = total_interest = Decimal("0")
    for claim, principal in owed:
        interest = rules.clawback_interest(principal, segments, claim.paid_on, returned_on)
        note = f"RP-21 violation {violation.pk}, claim {claim.pk}"
        ledger_post(user=user, pool=pool, kind=LedgerEntry.Kind.CLAWBACK, amount=principal, booked_on=returned_on,
                    claim=claim, idempotency_key=f"{idempotency_key}:{claim.pk}:principal", note=note)
        if interest > 0:
            ledger_post(user=user, pool=pool, kind=LedgerEntry.Kind.CLAWBACK_INTEREST, amount=interest,
                        booked_on=returned_on, claim=claim, idempotency_key=f"{idempotency_key}:{claim.pk}:interest",
                        note=note)
        before = snapshot(claim)
        claim.returned_amount += principal
        Claim.objects.filter(pk=claim.pk).update(returned_amount=claim.returned_amount)
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=claim, organisation=pool.authority,
              before=before, summary=i18n_text.gettext_lazy("RP-21 claw-back %(principal)s + interest %(interest)s")
              % {"principal": principal, "interest": interest})
        total_principal += principal
        total_interest += interest
    violation.clawback_principal, violation.clawback_interest = total_principal, total_interest
    violation.save(update_fields=["clawback_principal", "clawback_interest"])
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=violation, organisation=pool.authority,
          summary=i18n_text.gettext_lazy("RP-21 %(kind)s: claw-back %(principal)s + interest %(interest)s")
          % {"kind": i18n_text.label(kind), "principal": total_principal, "interest": total_interest})
    if revoke and member.revoked_on is None:
        before = snapshot(member)
        member.revoked_on = recorded_on
        member.may_reapply_on = rules.may_reapply_on(recorded_on, scheme_s_params(recorded_on))
        member.save(update_fields=["revoked_on", "may_reapply_on"])
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=member, organisation=pool.authority,
              before=before, summary=i18n_text.gettext_lazy("RP-21 revoked on %(on)s") % {"on": recorded_on})
    return violation


@dataclass(frozen=True)
class ClawbackLine:
    """One affected claim of a violation about to be recorded: what ``violation_record`` will book."""

    claim: Claim
    paid_on: date | None
    principal: Decimal  # compensation not yet returned (CLAWBACK)
    interest: Decimal  # 同期利息 at the 1-year LPR from the payout to the return (CLAWBACK_INTEREST)


@dataclass(frozen=True)
class ClawbackPreview:
    lines: list[ClawbackLine]
    principal: Decimal
    interest: Decimal
    segments: list[tuple[date, Decimal]]
    may_reapply_on: date | None  # RP-22, when membership is revoked

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


def violation_preview(*, user, member: Member, claims=(), returned_on: date, recorded_on: date | None = None,
                      revoke: bool = False) -> ClawbackPreview:
    """RP-21: what ``violation_record`` would claw back for ``claims``, computed the same way
    (compensation not yet returned; ``lpr_segments`` and ``rules.clawback_interest`` from the
    payout to ``returned_on``), for the confirmation page. Writes nothing. Refused like the
    service: another pool's authority, or a claim of another bank or pool (RP-21)."""
    pool = member.pool
    require_member(user, pool.authority, "authority_admin")
    claim_ids = {claim.pk for claim in claims}
    rows = list(Claim.objects.select_related("project").filter(pk__in=claim_ids).order_by("pk"))
    if len(rows) != len(claim_ids) or any(
        c.project.pool_id != pool.pk or c.project.bank_id != member.organisation_id for c in rows
    ):
        raise RuleViolation("RP-21", _("Only claims of this bank in this pool can be part of the violation."),
                            "claims")
    owed = [(c, c.paid_amount - c.returned_amount) for c in rows if c.paid_on and c.paid_amount > c.returned_amount]
    segments = lpr_segments(min(c.paid_on for c, _p in owed), returned_on) if owed else []
    lines = []
    for claim in rows:
        principal = dict((c.pk, p) for c, p in owed).get(claim.pk, Decimal("0"))
        interest = rules.clawback_interest(principal, segments, claim.paid_on, returned_on) if principal else Decimal("0")
        lines.append(ClawbackLine(claim=claim, paid_on=claim.paid_on, principal=principal, interest=interest))
    reapply = None
    if revoke and recorded_on is not None and member.revoked_on is None:
        reapply = rules.may_reapply_on(recorded_on, scheme_s_params(recorded_on))
    return ClawbackPreview(lines=lines, principal=sum((li.principal for li in lines), Decimal("0")),
                           interest=sum((li.interest for li in lines), Decimal("0")), segments=segments,
                           may_reapply_on=reapply)
