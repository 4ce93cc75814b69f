"""Reads of the risk compensation pool, always scoped to the requesting user (RP-25).

A loan project and its claims are visible to the bank that entered it, the pool's reviewer and
treasurer organisations, and the authority (with its jurisdiction); anyone else sees nothing,
and a get of a row they may not see answers 404, like a missing row.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404

from core.calendar import shanghai_today
from core.models import Organisation, RuleSet
from core.rulesets import rule_params
from core.scoping import has_jurisdiction, org_filter, sees_everything
from riskpool import rules
from riskpool.models import Claim, ClaimStep, LedgerEntry, LoanProject, Member, Objection, Pool

# Who owes the next step in each state with a deadline (RP-16), for the overdue lists.
STATE_OWNERS = {
    "submitted": "reviewer",
    "re_review": "reviewer",
    "on_notice": "reviewer",  # after the notice's last day the reviewer closes it
    "closure_requested": "reviewer",
    "in_funding_plan": "bank",
    "paid": "bank",
    "documents_uploaded": "treasurer",
}
REVIEW_QUEUE_STATES = ("submitted", "re_review", "held_npl_gate", "closure_requested")
RETURN_KINDS = (LedgerEntry.Kind.RETURN_UPGRADE, LedgerEntry.Kind.RETURN_RECOVERY)


def _pool_party_q(user, prefix: str) -> Q:
    """Rows whose pool (``prefix`` + pool) the user oversees as authority, reviewer or treasurer."""
    if has_jurisdiction(user):
        return org_filter(user, f"{prefix}pool__authority")
    org = user.organisation_id
    return Q(**{f"{prefix}pool__reviewer_id": org}) | Q(**{f"{prefix}pool__treasurer_id": org})


def _visible_q(user, prefix: str = "") -> Q:
    """RP-25: the bank's own rows, or a pool the user's organisation takes part in."""
    if sees_everything(user):
        return Q()
    if not user.is_authenticated or user.organisation_id is None:
        return Q(pk__in=[])
    return Q(**{f"{prefix}bank_id": user.organisation_id}) | _pool_party_q(user, prefix)


def project_list(*, user) -> QuerySet[LoanProject]:
    return LoanProject.objects.filter(_visible_q(user)).select_related("pool", "bank", "borrower")


def project_get_for_user(*, user, project_id: int) -> LoanProject:
    return get_object_or_404(project_list(user=user), pk=project_id)


def claim_list(*, user) -> QuerySet[Claim]:
    return Claim.objects.filter(_visible_q(user, "project__")).select_related(
        "project__pool", "project__bank", "project__borrower"
    )


def claim_get_for_user(*, user, claim_id: int) -> Claim:
    return get_object_or_404(claim_list(user=user), pk=claim_id)


def claim_queue_for_reviewer(*, user) -> QuerySet[Claim]:
    """The reviewer's queue: claims awaiting a decision in its pools, the earliest deadline first
    (held claims last, with no deadline, and their held_reason)."""
    if user.is_authenticated and sees_everything(user):
        scope = Q()
    elif user.is_authenticated and user.organisation_id:
        scope = Q(project__pool__reviewer_id=user.organisation_id)
    else:
        scope = Q(pk__in=[])
    return (
        Claim.objects.filter(scope, state__in=REVIEW_QUEUE_STATES)
        .select_related("project__pool", "project__bank", "project__borrower")
        .order_by(F("next_due_on").asc(nulls_last=True), "id")
    )


def _owner_of(user) -> str | None:
    org = user.organisation
    if org is None:
        return None
    return {
        Organisation.Kind.BANK: "bank",
        Organisation.Kind.POOL_REVIEWER: "reviewer",
        Organisation.Kind.POOL_TREASURER: "treasurer",
    }.get(org.kind)


def overdue_claims(*, user, today: date) -> QuerySet[Claim]:
    """RP-16: claims past the deadline of their next step, for whoever owes it (the authority sees
    every overdue claim of its pools)."""
    claims = claim_list(user=user).filter(next_due_on__lt=today)
    if not user.is_authenticated:
        return claims.none()
    if sees_everything(user) or has_jurisdiction(user):
        owed = list(STATE_OWNERS)
    else:
        owner = _owner_of(user)
        owed = [state for state, who in STATE_OWNERS.items() if who == owner]
    claims = claims.filter(state__in=owed)
    return claims.order_by("next_due_on", "id")


def public_notice_rows() -> list[dict]:
    """RP-25, 公示: the claims on public notice with only the bank, the borrower's name, its
    masked credit code, the amount and the ratio (and the claim's id, for the objection form)."""
    rows = (
        Claim.objects.filter(state="on_notice")
        .order_by("notice_start", "id")
        .values("id", "amount", "ratio", bank_name=F("project__bank__name"),
                borrower_name=F("project__borrower__name"), code=F("project__borrower__id_number"))
    )
    return [
        {"id": r["id"], "bank": r["bank_name"], "borrower": r["borrower_name"],
         "credit_code": rules.mask_credit_code(r["code"]), "amount": r["amount"], "ratio": r["ratio"]}
        for r in rows
    ]


def pool_summary(*, user, pool: Pool) -> dict:
    """The pool page: balance, paid, returned, claims by state and each bank's NPL ratio against
    the gate (RP-15), in a constant number of queries. Only the pool's authority, reviewer and
    treasurer see it; anyone else gets 404."""
    if not user.is_authenticated or (user.organisation_id is None and not sees_everything(user)):
        raise Http404
    pool = Pool.objects.filter(pk=pool.pk).filter(Q() if sees_everything(user) else _pool_q(user)).first()
    if pool is None:
        raise Http404
    money = LedgerEntry.objects.filter(pool=pool).aggregate(
        paid=Sum("amount", filter=Q(kind=LedgerEntry.Kind.PAYOUT), default=Decimal("0")),
        returned=Sum("amount", filter=Q(kind__in=RETURN_KINDS), default=Decimal("0")),
    )
    by_state = dict(
        Claim.objects.filter(project__pool=pool).values_list("state").annotate(n=Count("id")).order_by("state")
    )
    params = rules.SchemeSParams.from_mapping(rule_params(RuleSet.Scheme.RISKPOOL_S, shanghai_today()))
    gate = params.npl_gate
    banks = [
        {"bank": m.organisation.name, "npl_ratio": m.npl_ratio, "npl_principal": m.npl_principal,
         "entered_principal": m.entered_principal, "limit": gate, "gate_open": rules.npl_gate_open(m.npl_ratio, params)}
        for m in Member.objects.filter(pool=pool).select_related("organisation").order_by("organisation__name")
    ]
    return {"balance": pool.balance, "paid": -money["paid"], "returned": money["returned"],
            "claims_by_state": by_state, "banks": banks}


def _pool_q(user) -> Q:
    """Pools the user oversees (Q over Pool itself)."""
    if has_jurisdiction(user):
        return org_filter(user, "authority")
    org = user.organisation_id
    return Q(reviewer_id=org) | Q(treasurer_id=org)


def pool_get_for_bank(*, user, pool_id: int) -> Pool:
    """A Scheme S pool among those the user's bank is a member of (any pool for a superuser);
    any other answers 404 like a missing one."""
    pools = Pool.objects.filter(scheme=Pool.Scheme.S)
    if not user.is_superuser:
        pools = pools.filter(members__organisation_id=user.organisation_id)
    return get_object_or_404(pools, pk=pool_id)


def pools_overseen(*, user) -> QuerySet[Pool]:
    """Scheme S pools the user oversees: as their authority (by jurisdiction), reviewer or treasurer."""
    pools = Pool.objects.filter(scheme=Pool.Scheme.S)
    return pools if sees_everything(user) else pools.filter(_pool_q(user))


def pools_of_bank(*, user) -> QuerySet[Pool]:
    """Scheme S pools the user's bank is a member of (choices for its forms)."""
    return Pool.objects.filter(members__organisation_id=user.organisation_id, scheme=Pool.Scheme.S).order_by("name")


def memberships_of_bank(*, user) -> QuerySet[Member]:
    """The user's bank's memberships, with their NPL figures (RP-15)."""
    return Member.objects.filter(organisation_id=user.organisation_id).select_related("pool")


def member_of_claim(claim: Claim) -> Member | None:
    """The membership of the bank behind a claim already fetched through a scoped selector."""
    return Member.objects.filter(pool_id=claim.project.pool_id, organisation_id=claim.project.bank_id).first()


def objection_get_for_reviewer(*, user, objection_id: int) -> Objection:
    """An objection on a claim of a pool the user's organisation reviews; anything else is 404."""
    claims = claim_list(user=user).filter(project__pool__reviewer_id=user.organisation_id)
    return get_object_or_404(Objection.objects.select_related("claim"), pk=objection_id, claim__in=claims)


def claim_on_notice(*, claim_id: int) -> Claim:
    """A claim on public notice (the only ones the public may object to); anything else is 404."""
    return get_object_or_404(Claim, pk=claim_id, state="on_notice")


# --- RP-1: the payment queue ---------------------------------------------------------------


def _in_approval_order(claims: QuerySet[Claim]) -> QuerySet[Claim]:
    approved_at = ClaimStep.objects.filter(claim=OuterRef("pk"), new="approved").order_by("-at", "-id").values("at")[:1]
    return claims.filter(state="documents_uploaded").annotate(approved_at=Subquery(approved_at)).order_by(
        "project__pool_id", F("approved_at").asc(nulls_last=True), "id"
    )


def payment_queue(pool_id: int) -> QuerySet[Claim]:
    """The pool's claims waiting for payment (documents complete), in order of approval (RP-1):
    the time of their latest approval step, then id."""
    return _in_approval_order(Claim.objects.filter(project__pool_id=pool_id))


def payment_queue_for_treasurer(*, user) -> list[dict]:
    """The treasurer's payment queues, pool by pool in approval order, each claim with whether
    the balance pays it now or it waits its turn (RP-1)."""
    claims = list(
        _in_approval_order(claim_list(user=user).filter(project__pool__treasurer_id=user.organisation_id))
        .select_related("project__pool").prefetch_related("documents")
    )
    by_pool: dict[int, list[Claim]] = {}
    for claim in claims:
        by_pool.setdefault(claim.project.pool_id, []).append(claim)
    rows = []
    for items in by_pool.values():
        flags = rules.payable_in_order(items[0].project.pool.balance, [c.amount for c in items])
        rows.extend({"claim": c, "payable": ok, "documents": list(c.documents.all())} for c, ok in zip(items, flags, strict=True))
    return rows


def payment_queue_ahead(claim: Claim) -> Decimal:
    """What the claims approved before ``claim`` and still waiting for payment add up to."""
    ahead = Decimal("0")
    for other_id, amount in payment_queue(claim.project.pool_id).values_list("id", "amount"):
        if other_id == claim.pk:
            return ahead
        ahead += amount
    return ahead
