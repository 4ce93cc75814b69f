"""Member banks: joining, the dishonesty list (RP-24), readmission after revocation (RP-22) and
the RP-15 NPL gate kept on each member (JB-15 refresh), which holds and releases claims."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core import i18n_text
from core.audit import audit, snapshot
from core.calendar import shanghai_today
from core.errors import Conflict, RuleViolation
from core.models import AuditEvent, Organisation, RuleSet
from core.money import points
from core.services import require_member
from riskpool import rules
from riskpool.models import (
    Claim,
    LoanProject,
    Member,
    Pool,
)
from riskpool.permissions import AUTHORITY_ROLES

from .claim_state import _move
from .common import LP, scheme_s_params


def _member_of(pool: Pool, bank) -> Member:
    member = Member.objects.filter(pool=pool, organisation=bank).first()
    if member is None:
        raise RuleViolation("MEMBER", _("%(bank)s is not a member bank of this pool.") % {"bank": bank})
    return member


@transaction.atomic
def member_add(*, user, pool: Pool, bank: Organisation, joined_on: date) -> Member:
    """加盟银行: the authority admits a bank that signed the cooperation agreement."""
    require_member(user, pool.authority, *AUTHORITY_ROLES)
    if bank.kind != Organisation.Kind.BANK:
        raise RuleViolation("MEMBER", _("Only a bank can join a Scheme S pool."), "bank")
    if Member.objects.filter(pool=pool, organisation=bank).exists():
        raise Conflict("MEMBER", _("%(bank)s is already a member of this pool.") % {"bank": bank}, "bank")
    member = Member.objects.create(pool=pool, organisation=bank, joined_on=joined_on)
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=member, organisation=pool.authority,
          summary=i18n_text.gettext_lazy("Member %(bank)s") % {"bank": bank})
    return member


@transaction.atomic
def member_set_dishonest(*, user, member: Member, flag: bool, reason: str = "") -> Member:
    """RP-24: put a bank on, or take it off, the serious-dishonesty list. ``reason`` (the
    authority's pages require one) is kept in the audit row."""
    require_member(user, member.pool.authority, *AUTHORITY_ROLES)
    before = snapshot(member)
    member.dishonest = bool(flag)
    member.save(update_fields=["dishonest"])
    reason = (reason or "").strip()
    if member.dishonest:
        summary = i18n_text.gettext_lazy("RP-24 listed as dishonest: %(reason)s")
    else:
        summary = i18n_text.gettext_lazy("RP-24 no longer listed as dishonest: %(reason)s")
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=member, organisation=member.pool.authority,
          before=before, after={**snapshot(member), "reason": reason} if reason else None,
          summary=summary % {"reason": reason or "—"})
    return member


@transaction.atomic
def member_readmit(*, user, member: Member, on: date) -> Member:
    """RP-22 (第二十四条): a bank whose membership was revoked applies again and the authority
    admits it, from the date it may apply again (``may_reapply_on``, or two years after the
    revocation when that date was not recorded). The revocation is cleared and the membership
    starts anew on ``on`` (``joined_on``), so JB-7 evaluates it from that year as a new member;
    the earlier dates stay in the audit trail."""
    require_member(user, member.pool.authority, *AUTHORITY_ROLES)
    member = Member.objects.select_for_update().select_related("pool", "organisation").get(pk=member.pk)
    if member.revoked_on is None:
        raise Conflict("RP-22", _("%(bank)s's membership is not revoked.") % {"bank": member.organisation}, "member")
    may = member.may_reapply_on or rules.may_reapply_on(member.revoked_on, scheme_s_params(member.revoked_on))
    if on < may:
        raise RuleViolation(
            "RP-22",
            _("The membership was revoked on %(revoked)s; the bank may apply again from %(date)s, not on %(on)s.")
            % {"revoked": member.revoked_on.isoformat(), "date": may.isoformat(), "on": on.isoformat()},
            "on",
        )
    before = snapshot(member)
    member.revoked_on = None
    member.may_reapply_on = None
    member.joined_on = on
    member.save(update_fields=["revoked_on", "may_reapply_on", "joined_on"])
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=member, organisation=member.pool.authority,
          before=before, summary=i18n_text.gettext_lazy("RP-22 re-admitted on %(on)s (revoked on %(revoked)s)")
          % {"on": on, "revoked": before["revoked_on"]})
    return member


NPL_CHUNK = 1000  # JB-15: members per set-based pass


def current_rule_set_range(on: date) -> tuple[date | None, date | None]:
    """RP-15: the dates of the Scheme S rule set in force on ``on`` (its projects are those
    disbursed in that range, RP-19); (None, None) when none is."""
    row = (
        RuleSet.objects.filter(scheme=RuleSet.Scheme.RISKPOOL_S, effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .order_by("-effective_from").values_list("effective_from", "effective_to").first()
    )
    return row if row is not None else (None, None)


def members_refresh_npl(members, *, on: date | None = None) -> list[Member]:
    """RP-15, set-based (JB-15): the NPL figures of many members in one GROUP BY query and one
    bulk UPDATE, as ``rules.npl_figures`` defines them: outstanding principal (yuan; the
    principal while no claim has given it) of each bank's projects in the pool now substandard,
    doubtful or loss and not closed by write-off ÷ principal of its projects in the pool entered
    under the rule set in force on ``on`` (today). Members with no project get 0, 0 and no ratio."""
    members = list(members)
    if not members:
        return members
    start, end = current_rule_set_range(on or shanghai_today())
    npl_q = Q(classification__in=LP.NPL_CLASSES) & ~Q(closed_reason=LP.ClosedReason.WRITE_OFF)
    entered_q = Q()
    if start is not None:
        entered_q &= Q(disbursed_on__gte=start)
    if end is not None:
        entered_q &= Q(disbursed_on__lte=end)
    rows = (
        LoanProject.objects.filter(pool_id__in={m.pool_id for m in members},
                                   bank_id__in={m.organisation_id for m in members})
        .values("pool_id", "bank_id")
        .annotate(npl=Sum(Coalesce("outstanding_yuan", "principal_yuan"), filter=npl_q, default=Decimal("0")),
                  entered=Sum("principal_yuan", filter=entered_q, default=Decimal("0")))
        .order_by()
    )
    sums = {(row["pool_id"], row["bank_id"]): (row["npl"], row["entered"]) for row in rows}
    now = timezone.now()
    for member in members:
        npl, entered = sums.get((member.pool_id, member.organisation_id), (Decimal("0"), Decimal("0")))
        member.npl_principal = npl
        member.entered_principal = entered
        member.npl_ratio = rules.npl_ratio(npl, entered)
        member.npl_checked_at = now
    Member.objects.bulk_update(members, ["npl_principal", "entered_principal", "npl_ratio", "npl_checked_at"],
                               batch_size=NPL_CHUNK)
    return members


def member_refresh_npl(member: Member, *, on: date | None = None) -> Member:
    """RP-15: one bank's NPL figures (``members_refresh_npl`` for a single member)."""
    members_refresh_npl([member], on=on)
    return member


def npl_gates_refresh(*, on: date, user, progress=None) -> dict:
    """JB-4, Scheme S part (RP-15): every Scheme S member's NPL figures, set-based in chunks of
    ``NPL_CHUNK`` (a constant number of queries per chunk, whatever the number of members);
    then the held claims of every bank whose gate is open on ``on`` go back to the reviewer.
    Running it again the same day gives the same figures and releases nothing twice."""
    members = Member.objects.filter(pool__scheme=Pool.Scheme.S).order_by("pk")
    total = members.count()
    done, last = 0, 0
    if progress:
        progress(0, total)
    while True:
        chunk = list(members.filter(pk__gt=last)[:NPL_CHUNK])
        if not chunk:
            break
        members_refresh_npl(chunk, on=on)
        done += len(chunk)
        last = chunk[-1].pk
        if progress:
            progress(done, total)
    params = scheme_s_params(on)
    held = Claim.objects.filter(project__pool_id=OuterRef("pool_id"), project__bank_id=OuterRef("organisation_id"),
                                state="held_npl_gate")
    shut = members.filter(npl_ratio__gt=params.npl_gate).count()
    released = 0
    for member in members.filter(Exists(held)).select_related("pool"):
        if rules.npl_gate_open(member.npl_ratio, params):
            released += _release_held(member, on=on, user=user)
    return {"members": total, "gates_shut": shut, "claims_released": released}


def _gate_open(member: Member, on: date) -> bool:
    return rules.npl_gate_open(member.npl_ratio, scheme_s_params(on))


def _gate_reason(member: Member, on: date):
    # Kept as its msgid and values: the hold reads in each viewer's language (core.i18n_text).
    params = scheme_s_params(on)
    return i18n_text.gettext_lazy("RP-15: the bank's NPL ratio is %(ratio)s%%, above the limit of %(limit)s%%; the claim is held until "
             "it is at most the limit.") % {"ratio": _percent(member.npl_ratio), "limit": _percent(params.npl_gate)}


def _percent(fraction: Decimal) -> str:
    return points(fraction, Decimal("0.0001"))


def _release_held(member: Member, *, on: date, user) -> int:
    """RP-15: the gate is open again: held claims go back to the reviewer; the 30 days run anew."""
    held = Claim.objects.filter(project__pool_id=member.pool_id, project__bank_id=member.organisation_id,
                                state="held_npl_gate").order_by("submitted_on", "id")
    count = 0
    for claim in held:
        _move(claim, "submitted", user=user, on=on, note=i18n_text.gettext_lazy("RP-15: the NPL gate is open again."), held_reason="")
        count += 1
    return count
