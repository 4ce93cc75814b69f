"""Reads of the risk compensation pool, always scoped to the requesting user (RP-25).

A loan project and its claims are visible to the bank that entered it, the pool's reviewer and
treasurer organisations, and its authority (riskpool.access decides who; a supervisor is not a
party); anyone else sees nothing,
and a get of a row they may not see answers 404, like a missing row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncQuarter
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.calendar import SHANGHAI, shanghai_today
from core.models import Organisation, RuleSet
from core.money import round_half_up
from core.periods import Quarter
from core.rulesets import rule_params
from core.scoping import sees_everything, visible_organisations
from riskpool import access, rules
from riskpool.models import (
    BankEvaluation,
    Claim,
    ClaimDocument,
    ClaimStep,
    LedgerEntry,
    LoanProject,
    Member,
    Objection,
    Pool,
    SpecialListEntry,
    Violation,
)
from riskpool.permissions import in_finance_bureau
from riskpool.workflows import STATE_OWNERS as CLAIM_STATE_OWNERS

# Who owes the next step in each state with a deadline (RP-16), read from the claim's workflow.
STATE_OWNERS = CLAIM_STATE_OWNERS
REVIEW_QUEUE_STATES = ("submitted", "re_review", "held_npl_gate", "closure_requested", "upgrade_requested",
                       "settlement_requested")
RETURN_KINDS = (LedgerEntry.Kind.RETURN_UPGRADE, LedgerEntry.Kind.RETURN_RECOVERY)


def project_list(*, user) -> QuerySet[LoanProject]:
    return LoanProject.objects.filter(access.project_q(user)).select_related("pool", "bank", "borrower")


def project_get_for_user(*, user, project_id: int) -> LoanProject:
    return get_object_or_404(project_list(user=user), pk=project_id)


def projects_to_close(*, user, today: date) -> QuerySet[LoanProject]:
    """RP-18: the user's bank's performing loans in the loan library, matured by ``today``, with
    no claim under way: to be closed by the bank within 3 months of maturity (earliest first)."""
    live = Claim.objects.filter(project_id=OuterRef("pk")).exclude(state__in=("withdrawn", "upgraded"))
    return (
        project_list(user=user)
        .filter(library=LoanProject.Library.LOAN, maturity_on__lte=today)
        .exclude(classification__in=LoanProject.NPL_CLASSES)
        .exclude(Exists(live))
        .order_by("maturity_on", "id")
    )


def claim_list(*, user) -> QuerySet[Claim]:
    return Claim.objects.filter(access.claim_q(user)).select_related(
        "project__pool", "project__bank", "project__borrower"
    )


def claims_in_workflow_order(*, user, states) -> QuerySet[Claim]:
    """The claims list page: the user's claims grouped by state in the order of the RP-16
    workflow (``states``, first step first), each group the earliest next deadline first."""
    rank = Case(*(When(state=s, then=Value(i)) for i, s in enumerate(states)), default=Value(len(states)),
                output_field=IntegerField())
    return claim_list(user=user).annotate(state_rank=rank).order_by(
        "state_rank", F("next_due_on").asc(nulls_last=True), "-submitted_on", "id")


def claim_queue_for_finance_bureau(*, user) -> QuerySet[Claim]:
    """RP-16 8c: the write-off closures the authority approved in the finance bureau's pools,
    the earliest deadline first."""
    if not (user.is_authenticated and (sees_everything(user) or in_finance_bureau(user))):
        return Claim.objects.none()
    return (
        claim_list(user=user).filter(state="closure_approved")
        .order_by(F("next_due_on").asc(nulls_last=True), "id")
    )


def claim_get_for_user(*, user, claim_id: int) -> Claim:
    return get_object_or_404(claim_list(user=user), pk=claim_id)


def claim_document_get_for_user(*, user, document_id: int) -> ClaimDocument:
    """RP-25: a claim's attachment, for download, only to those who may see its claim (404 for
    anyone else, like a missing document)."""
    documents = ClaimDocument.objects.filter(claim__in=claim_list(user=user).values("pk"))
    return get_object_or_404(documents, pk=document_id)


def claim_queue_for_reviewer(*, user) -> QuerySet[Claim]:
    """The reviewer's queue: claims awaiting a decision in its pools, the earliest deadline first
    (held claims last, with no deadline, and their held_reason)."""
    scope = Q() if user.is_authenticated and sees_everything(user) else Q(pool__reviewer_id=user.organisation_id)
    return (
        claim_list(user=user).filter(scope, state__in=REVIEW_QUEUE_STATES)
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
        Organisation.Kind.FINANCE_BUREAU: "finance_bureau",
    }.get(org.kind)


def overdue_q(today: date) -> Q:
    """RP-16, JB-1: a claim's next step is overdue once its deadline has passed; a provisional
    deadline only once the latest date it could turn out to be has passed (rows written before
    that date was kept have none, and their date is the deadline)."""
    return Q(next_due_latest__lt=today) | Q(next_due_latest__isnull=True, next_due_on__lt=today)


def overdue_claims(*, user, today: date) -> QuerySet[Claim]:
    """RP-16: claims past the deadline of their next step, for whoever owes it (the authority sees
    every overdue claim of its pools)."""
    claims = claim_list(user=user).filter(overdue_q(today))
    if not user.is_authenticated:
        return claims.none()
    if sees_everything(user) or user.organisation.kind == Organisation.Kind.AUTHORITY:
        owed = list(STATE_OWNERS)
    else:
        owner = _owner_of(user)
        owed = [state for state, who in STATE_OWNERS.items() if who == owner]
    claims = claims.filter(state__in=owed)
    return claims.order_by("next_due_on", "id")


def public_notice_rows() -> list[dict]:
    """RP-25, 公示: the claims on public notice with only the bank, the borrower's name, its
    masked credit code, the amount and the ratio (and the claim's id, for the objection form),
    with the notice period (RP-16 step 3: objections are accepted from its first to its last
    day; ``open`` says whether today is inside it)."""
    rows = (
        Claim.objects.filter(state="on_notice")
        .order_by("notice_start", "id")
        .values("id", "amount", "ratio", "notice_start", "notice_end", "notice_end_latest",
                bank_name=F("project__bank__name"),
                borrower_name=F("project__borrower__name"), code=F("project__borrower__id_number"))
    )
    today = shanghai_today()
    return [
        {"id": r["id"], "bank": r["bank_name"], "borrower": r["borrower_name"],
         "credit_code": rules.mask_credit_code(r["code"]), "amount": r["amount"], "ratio": r["ratio"],
         "notice_start": r["notice_start"], "notice_end": r["notice_end"], "notice_end_latest": last,
         "open": r["notice_start"] is not None and last is not None and r["notice_start"] <= today <= last,
         "over": last is not None and today > last}
        for r in rows
        # JB-1: a provisional end is shown with the latest it could be; objections are taken until then.
        for last in [r["notice_end_latest"] or r["notice_end"]]
    ]


def pool_summary(*, user, pool: Pool) -> dict:
    """The pool page: balance, paid, returned, claims by state and each bank's NPL ratio against
    the gate (RP-15), in a constant number of queries. Only the pool's authority, reviewer and
    treasurer see it; anyone else gets 404."""
    if not access.oversees(user, pool):
        raise Http404
    pool = Pool.objects.get(pk=pool.pk)  # the balance as booked now, not as the caller read it
    money = LedgerEntry.objects.filter(pool=pool).aggregate(
        paid=Sum("amount", filter=Q(kind=LedgerEntry.Kind.PAYOUT), default=Decimal("0")),
        returned=Sum("amount", filter=Q(kind__in=RETURN_KINDS), default=Decimal("0")),
    )
    counts = dict(Claim.objects.filter(pool=pool).values_list("state").annotate(n=Count("id")).order_by("state"))
    # in workflow order (issue 13.4), as a reader follows a claim; a state unknown to the order last
    by_state = {s: counts.pop(s) for s in rules.CLAIM_STATES if s in counts} | counts
    params = rules.SchemeSParams.from_mapping(rule_params(RuleSet.Scheme.RISKPOOL_S, shanghai_today()))
    gate = params.npl_gate
    banks = [
        {"bank": m.organisation.name, "bank_id": m.organisation_id, "npl_ratio": m.npl_ratio, "npl_principal": m.npl_principal,
         "entered_principal": m.entered_principal, "limit": gate, "gate_open": rules.npl_gate_open(m.npl_ratio, params)}
        for m in Member.objects.filter(pool=pool).select_related("organisation").order_by("organisation__name")
    ]
    return {"balance": pool.balance, "paid": -money["paid"], "returned": money["returned"],
            "claims_by_state": by_state, "banks": banks}


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
    return pools.filter(access.pools_q(user))


OPEN_STEP_STATES = ("submitted", "held_npl_gate", "re_review", "approved", "on_notice", "notice_passed",
                    "in_funding_plan", "documents_uploaded", "paid", "upgrade_requested", "settlement_requested",
                    "closure_requested", "closure_reviewed", "closure_rechecked", "closure_approved")


def oversight_pool_figures(*, user, today: date) -> list[dict]:
    """The regulator's home figures of each Scheme S pool overseen: balance, paid net of returns
    and its share of the pool's size, claims waiting at each step with how many are overdue, and
    the member banks above the RP-15 gate. Three queries, whatever the number of pools."""
    pools = list(
        pools_overseen(user=user).annotate(
            paid=Sum("ledger__amount", filter=Q(ledger__kind=LedgerEntry.Kind.PAYOUT), default=Decimal("0")),
            returned=Sum("ledger__amount", filter=Q(ledger__kind__in=RETURN_KINDS), default=Decimal("0")),
        ).order_by("name")
    )
    if not pools:
        return []
    steps: dict[int, list[dict]] = {}
    for row in (
        Claim.objects.filter(pool__in=pools, state__in=OPEN_STEP_STATES)
        .values("pool_id", "state")
        .annotate(n=Count("id"), overdue=Count("id", filter=overdue_q(today)))
        .order_by("pool_id", "state")
    ):
        steps.setdefault(row["pool_id"], []).append(row)
    params = rules.SchemeSParams.from_mapping(rule_params(RuleSet.Scheme.RISKPOOL_S, today))
    over_gate: dict[int, int] = {}
    for pool_id, ratio in Member.objects.filter(pool__in=pools, npl_ratio__isnull=False).values_list("pool_id", "npl_ratio"):
        over_gate[pool_id] = over_gate.get(pool_id, 0) + (not rules.npl_gate_open(ratio, params))
    order = {state: i for i, state in enumerate(OPEN_STEP_STATES)}
    figures = []
    for pool in pools:
        net_paid = -pool.paid - pool.returned
        waiting = sorted(steps.get(pool.pk, []), key=lambda r: order[r["state"]])
        figures.append({
            "pool": pool, "balance": pool.balance, "net_paid": net_paid,
            "utilisation": round_half_up(net_paid / pool.size, Decimal("0.0001")) if pool.size else None,
            "steps": waiting, "waiting": sum(r["n"] for r in waiting), "overdue": sum(r["overdue"] for r in waiting),
            "banks_over_gate": over_gate.get(pool.pk, 0), "gate": params.npl_gate,
        })
    return figures


def banks_of_overseen_pools(*, user) -> QuerySet[Organisation]:
    """The member banks of the Scheme S pools the user oversees (the project list's bank filter)."""
    return Organisation.objects.filter(
        pool_memberships__pool__in=pools_overseen(user=user), kind=Organisation.Kind.BANK).distinct().order_by("name")


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
    claims = claim_list(user=user).filter(pool__reviewer_id=user.organisation_id)
    return get_object_or_404(Objection.objects.select_related("claim"), pk=objection_id, claim__in=claims)


def claim_on_notice(*, claim_id: int) -> Claim:
    """A claim on public notice (the only ones the public may object to); anything else is 404."""
    return get_object_or_404(Claim, pk=claim_id, state="on_notice")


# --- RP-1: the payment queue ---------------------------------------------------------------


def _in_approval_order(claims: QuerySet[Claim]) -> QuerySet[Claim]:
    approved_at = ClaimStep.objects.filter(claim=OuterRef("pk"), new="approved").order_by("-at", "-id").values("at")[:1]
    return claims.filter(state="documents_uploaded").annotate(approved_at=Subquery(approved_at)).order_by(
        "pool_id", F("approved_at").asc(nulls_last=True), "id"
    )


def payment_queue(pool_id: int) -> QuerySet[Claim]:
    """The pool's claims waiting for payment (documents complete), in order of approval (RP-1):
    the time of their latest approval step, then id."""
    return _in_approval_order(Claim.objects.filter(pool_id=pool_id))


def payment_queue_for_treasurer(*, user) -> list[dict]:
    """The treasurer's payment queues, pool by pool in approval order, each claim with whether
    the balance pays it now or it waits its turn (RP-1)."""
    claims = list(
        _in_approval_order(claim_list(user=user).filter(pool__treasurer_id=user.organisation_id))
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


# --- the authority's pool administration (riskpool/views_manage.py) -------------------------
# Membership (RP-15, RP-22, RP-24), violations (RP-21) and the special list (RP-12) of the
# Scheme S pools whose authority is in the user's authority's jurisdiction. Every get answers
# 404 for a row of a pool the user does not administer, like a missing row.


def _administers(user, pool: Pool) -> bool:
    """The user's authority administers ``pool``: its own, or one in its jurisdiction."""
    if not user.is_authenticated:
        return False
    if sees_everything(user):
        return True
    return pool.scheme == Pool.Scheme.S and access.oversees_as_authority(user, pool)


def _require_administers(user, pool: Pool) -> None:
    if not _administers(user, pool):
        raise Http404


def pools_administered(*, user) -> QuerySet[Pool]:
    """Scheme S pools whose authority is the user's authority or in its jurisdiction (every one
    for a superuser); none for anybody else."""
    pools = Pool.objects.filter(scheme=Pool.Scheme.S)
    if not user.is_authenticated:
        return pools.none()
    if sees_everything(user):
        return pools
    return pools.filter(access.authority_pools_q(user))


def _count_of(model, **outer) -> Subquery:
    rows = model.objects.filter(**{k: OuterRef(v) for k, v in outer.items()}).order_by()
    return Coalesce(Subquery(rows.values(*outer).annotate(n=Count("pk")).values("n")[:1]), 0)


def pools_administered_overview(*, user, today: date) -> QuerySet[Pool]:
    """The pools of ``pools_administered`` with what the index page counts (one query): member
    banks, of them revoked (RP-22) and dishonest (RP-24), violations (RP-21) and special-list
    entries valid on ``today`` (RP-12)."""
    members = Member.objects.filter(pool=OuterRef("pk")).order_by().values("pool")
    return pools_administered(user=user).annotate(
        member_count=_count_of(Member, pool="pk"),
        revoked_count=Coalesce(Subquery(members.filter(revoked_on__isnull=False).annotate(n=Count("pk")).values("n")[:1]), 0),
        dishonest_count=Coalesce(Subquery(members.filter(dishonest=True).annotate(n=Count("pk")).values("n")[:1]), 0),
        violation_count=_count_of(Violation, pool="pk"),
        special_count=Coalesce(Subquery(
            SpecialListEntry.objects.filter(pool=OuterRef("pk"), valid_from__lte=today)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today)).order_by().values("pool")
            .annotate(n=Count("pk")).values("n")[:1]), 0),
    ).select_related("authority").order_by("name")


def pool_get_for_authority(*, user, pool_id: int) -> Pool:
    """A Scheme S pool the user administers; any other answers 404 like a missing one."""
    return get_object_or_404(pools_administered(user=user).select_related("authority"), pk=pool_id)


def member_list_for_authority(*, user, pool: Pool) -> QuerySet[Member]:
    """The pool's member banks by name (404 for a pool the user does not administer)."""
    _require_administers(user, pool)
    return Member.objects.filter(pool=pool).select_related("organisation").order_by("organisation__name", "pk")


def member_get_for_authority(*, user, member_id: int) -> Member:
    member = get_object_or_404(Member.objects.select_related("pool", "organisation"), pk=member_id)
    _require_administers(user, member.pool)
    return member


def grade_years(*, pool: Pool, count: int = 3) -> list[int]:
    """The latest ``count`` years with an annual evaluation (RP-20) in the pool, latest first."""
    years = BankEvaluation.objects.filter(pool=pool).order_by("-year").values_list("year", flat=True).distinct()
    return list(years[:count])


def with_recent_grades(members: QuerySet[Member], years: list[int]) -> QuerySet[Member]:
    """``members`` with ``recent_evaluations`` (those of ``years``), fetched in one more query."""
    evaluations = BankEvaluation.objects.filter(year__in=years).order_by("-year")
    return members.prefetch_related(Prefetch("evaluations", queryset=evaluations, to_attr="recent_evaluations"))


@dataclass(frozen=True)
class MemberStatus:
    """A member bank's status (spec: active / compensation suspended by RP-15 / membership
    revoked until a date by RP-22 / on the serious-dishonesty list by RP-24); several can hold
    at once, and the bank is active when none does."""

    npl_ratio: Decimal | None
    limit: Decimal
    suspended: bool  # RP-15: NPL ratio above the limit, claims held
    revoked_on: date | None
    may_reapply_on: date | None
    may_readmit: bool  # RP-22: the date to apply again has come
    dishonest: bool  # RP-24

    @property
    def revoked(self) -> bool:
        return self.revoked_on is not None

    @property
    def active(self) -> bool:
        return not (self.suspended or self.revoked or self.dishonest)


def member_status(member: Member, *, params: rules.SchemeSParams, today: date) -> MemberStatus:
    """The status of a member row already fetched, under the Scheme S rule set ``params`` in
    force ``today`` (RP-15's limit, RP-22's two years)."""
    may = member.may_reapply_on
    if member.revoked_on is not None and may is None:
        may = rules.may_reapply_on(member.revoked_on, params)
    return MemberStatus(
        npl_ratio=member.npl_ratio, limit=params.npl_gate, suspended=not rules.npl_gate_open(member.npl_ratio, params),
        revoked_on=member.revoked_on, may_reapply_on=may if member.revoked_on else None,
        may_readmit=member.revoked_on is not None and may <= today, dishonest=member.dishonest,
    )


def banks_joinable(*, user, pool: Pool) -> QuerySet[Organisation]:
    """Active banks the user may see (its jurisdiction) that are not yet members of ``pool``."""
    _require_administers(user, pool)
    return (visible_organisations(user).filter(kind=Organisation.Kind.BANK, is_active=True)
            .exclude(pool_memberships__pool=pool).order_by("name"))


def violation_list_for_authority(*, user, pool: Pool) -> QuerySet[Violation]:
    _require_administers(user, pool)
    return (Violation.objects.filter(pool=pool).select_related("member__organisation", "recorded_by")
            .annotate(claim_count=Count("claims")).order_by("-recorded_on", "-id"))


def violation_get_for_authority(*, user, violation_id: int) -> Violation:
    violation = get_object_or_404(Violation.objects.select_related("pool", "member__organisation", "recorded_by"),
                                  pk=violation_id)
    _require_administers(user, violation.pool)
    return violation


def violation_ledger(*, violation: Violation) -> QuerySet[LedgerEntry]:
    """RP-21: the claw-back and interest entries ``violation_record`` booked for ``violation``."""
    return (LedgerEntry.objects.filter(pool_id=violation.pool_id, note__startswith=f"RP-21 violation {violation.pk}, ",
                                       kind__in=(LedgerEntry.Kind.CLAWBACK, LedgerEntry.Kind.CLAWBACK_INTEREST))
            .select_related("claim__project__borrower").order_by("claim_id", "id"))


def paid_claims_of_member(*, user, member: Member) -> QuerySet[Claim]:
    """The member bank's claims in its pool that were paid (the claims a violation may name, RP-21)."""
    _require_administers(user, member.pool)
    return (Claim.objects.filter(project__pool_id=member.pool_id, project__bank_id=member.organisation_id,
                                 paid_on__isnull=False)
            .select_related("project__borrower").order_by("paid_on", "id"))


def special_list_for_authority(*, user, pool: Pool) -> QuerySet[SpecialListEntry]:
    _require_administers(user, pool)
    return SpecialListEntry.objects.filter(pool=pool).order_by("-valid_from", "-id")


def special_entry_get_for_authority(*, user, entry_id: int) -> SpecialListEntry:
    entry = get_object_or_404(SpecialListEntry.objects.select_related("pool"), pk=entry_id)
    _require_administers(user, entry.pool)
    return entry


# --- the pool page by quarter --------------------------------------------------------------

QUARTER_RETURN_KINDS = (
    LedgerEntry.Kind.RETURN_UPGRADE, LedgerEntry.Kind.RETURN_RECOVERY,
    LedgerEntry.Kind.CLAWBACK, LedgerEntry.Kind.CLAWBACK_INTEREST,
)


def _oversees(user, pool: Pool) -> bool:
    """The pool page's audience: the pool's authority, reviewer or treasurer (riskpool.access)."""
    return access.oversees(user, pool)


def pool_quarters(*, user, pool: Pool) -> dict:
    """The pool by calendar quarter, from the first quarter of its life (its creation, or its
    earliest booking or claim if earlier) to the current one: compensation paid, money returned
    by kind (upgrade RP-16 8a, recovery RP-17, claw-back and its interest RP-21) and in total,
    claims submitted (by submission date) and approved (claims with a step to "approved" dated
    in the quarter, a re-approval in the same quarter counted once). Two GROUP BY queries
    whatever the number of quarters: the ledger, and the claims (a UNION of submissions and
    approvals). Only the pool's authority, reviewer and treasurer see it; anyone else gets 404."""
    if not _oversees(user, pool):
        raise Http404
    zero = Decimal("0")
    sums = {kind: Sum("amount", filter=Q(kind=kind), default=zero) for kind in QUARTER_RETURN_KINDS}
    ledger = (
        LedgerEntry.objects.filter(pool_id=pool.pk).annotate(q=TruncQuarter("booked_on")).values("q")
        .annotate(paid=Sum("amount", filter=Q(kind=LedgerEntry.Kind.PAYOUT), default=zero), **sums).order_by()
    )
    submitted = (
        Claim.objects.filter(pool_id=pool.pk).annotate(q=TruncQuarter("submitted_on")).values("q")
        .annotate(submitted=Count("pk"), approved=Value(0)).order_by()
    )
    approved = (
        ClaimStep.objects.filter(claim__pool_id=pool.pk, new="approved").annotate(q=TruncQuarter("on"))
        .values("q").annotate(submitted=Value(0), approved=Count("claim_id", distinct=True)).order_by()
    )
    money_by_q = {row["q"]: row for row in ledger}
    counts_by_q: dict[date, dict] = {}
    for row in submitted.union(approved, all=True):
        counts = counts_by_q.setdefault(row["q"], {"submitted": 0, "approved": 0})
        counts["submitted"] += row["submitted"]
        counts["approved"] += row["approved"]
    created = timezone.localtime(pool.created_at, SHANGHAI).date() if pool.created_at else shanghai_today()
    starts = [created, *money_by_q, *counts_by_q]
    first, last = Quarter.of(min(starts)), Quarter.of(max([shanghai_today(), *money_by_q, *counts_by_q]))
    rows, quarter = [], first
    totals = {"paid": zero, "returned": {kind: zero for kind in QUARTER_RETURN_KINDS}, "returned_total": zero,
              "submitted": 0, "approved": 0}
    while (quarter.year, quarter.quarter) <= (last.year, last.quarter):
        money = money_by_q.get(quarter.start, {})
        counts = counts_by_q.get(quarter.start, {})
        returned = {kind: money.get(kind, zero) for kind in QUARTER_RETURN_KINDS}
        row = {"quarter": quarter, "label": str(quarter), "paid": -money.get("paid", zero), "returned": returned,
               "returned_total": sum(returned.values(), zero), "submitted": counts.get("submitted", 0),
               "approved": counts.get("approved", 0)}
        rows.append(row)
        totals["paid"] += row["paid"]
        totals["returned_total"] += row["returned_total"]
        totals["submitted"] += row["submitted"]
        totals["approved"] += row["approved"]
        for kind in QUARTER_RETURN_KINDS:
            totals["returned"][kind] += returned[kind]
        quarter = Quarter(quarter.year + 1, 1) if quarter.quarter == 4 else Quarter(quarter.year, quarter.quarter + 1)
    return {"rows": rows, "totals": totals,
            "return_kinds": [(kind, LedgerEntry.Kind(kind).label) for kind in QUARTER_RETURN_KINDS]}
