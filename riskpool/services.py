"""Writes of the risk compensation pool: one function per business action, each in a transaction
with an audit row. The policy decisions are in riskpool.rules; this module applies them."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import filetype
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core import calendar as core_calendar
from core.audit import audit, snapshot
from core.bulk import create_all_or_none_confirming_renames
from core.calendar import shanghai_today
from core.errors import Conflict, Problem, RuleViolation
from core.models import AuditEvent, LprRate, Organisation, RuleSet
from core.money import money, points
from core.periods import Quarter, period_bounds
from core.rates import lpr_on, to_yuan
from core.rulesets import rule_params
from core.services import require_member
from core.validators import credit_code_problem
from guarantees.services import BorrowerData, borrower_names, borrower_upsert
from riskpool import rules
from riskpool.models import (
    Claim,
    ClaimDocument,
    ClaimStep,
    Classification,
    FundingPlan,
    LedgerEntry,
    LoanProject,
    Member,
    MissingRecoveryReport,
    NilRecoveryReport,
    Objection,
    Pool,
    RecoveryReport,
    SpecialListEntry,
    Violation,
)
from riskpool.selectors import payment_queue_ahead

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
              summary=f"{kind} {signed}")
    pool.balance = locked.balance
    return entry


def pool_budget_add(*, user, pool: Pool, amount, booked_on: date, idempotency_key: str | None = None,
                    note: str = "") -> LedgerEntry:
    """A budget allocation into the pool (the authority's or finance bureau's money)."""
    require_member(user, pool.authority, "authority_admin")
    return ledger_post(user=user, pool=pool, kind=LedgerEntry.Kind.BUDGET, amount=amount, booked_on=booked_on,
                       idempotency_key=idempotency_key, note=note)


# --- members (RP-22, RP-24) ----------------------------------------------------------------

AUTHORITY_ROLES = ("authority_admin", "authority_reviewer")
BANK_ROLES = ("bank_operator",)
REVIEWER_ROLES = ("pool_reviewer",)
TREASURER_ROLES = ("pool_treasurer",)
FINANCE_ROLES = ("finance_approver",)
PAYMENT_DOCUMENTS = (
    ClaimDocument.Kind.ACCOUNT_CONFIRMATION, ClaimDocument.Kind.RECEIPT,
    ClaimDocument.Kind.ID_COPY, ClaimDocument.Kind.AUTHORISATION,
)
ALLOWED_CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
LP = LoanProject


def scheme_s_params(on: date) -> rules.SchemeSParams:
    """The Scheme S rule set in force on ``on`` (RP-19 picks the date)."""
    return rules.SchemeSParams.from_mapping(rule_params(RuleSet.Scheme.RISKPOOL_S, on))


def lpr_rates(on) -> dict[str, Decimal]:
    """RP-7: the 1-year and 5-year LPR in force on ``on``. A term without a rate is left out
    (the quote then names RP-7 only if the loan needs that term); none at all is a 400."""
    rates, missing = {}, []
    for term in (rules.LPR_ONE_YEAR, rules.LPR_FIVE_YEARS):
        try:
            rates[term] = lpr_on(on, term)
        except RuleViolation as error:
            missing.append(error)
    if not rates:
        raise missing[0]
    return rates


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
          summary=f"member {bank}")
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
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=member, organisation=member.pool.authority,
          before=before, after={**snapshot(member), "reason": reason} if reason else None,
          summary=f"RP-24 dishonest={member.dishonest}" + (f": {reason}" if reason else ""))
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
          before=before, summary=f"RP-22 re-admitted on {on.isoformat()} (revoked on {before['revoked_on']})")
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


def _gate_reason(member: Member, on: date) -> str:
    params = scheme_s_params(on)
    return _("RP-15: the bank's NPL ratio is %(ratio)s%%, above the limit of %(limit)s%%; the claim is held until "
             "it is at most the limit.") % {"ratio": _percent(member.npl_ratio), "limit": _percent(params.npl_gate)}


def _percent(fraction: Decimal) -> str:
    return points(fraction, Decimal("0.0001"))


# --- loan projects (RP-5, RP-6, RP-22, RP-25) ----------------------------------------------


@dataclass
class ProjectData:
    loan_no: str
    loan_kind: str
    principal: Decimal
    disbursed_on: date
    maturity_on: date
    annual_rate: Decimal
    other_balance: Decimal
    guarantee_method: str = "credit"
    currency: str = "CNY"
    features: list = field(default_factory=list)
    purpose: str = LP.Purpose.OPERATIONS
    covered_by_other_scheme: bool = False
    entered_on: date | None = None
    product: Any = None  # a Scheme M Product: the policy loan product the loan belongs to (RP-M3)


def _project_problems(data: ProjectData) -> list[Problem]:
    problems = []
    if not data.loan_no.strip():
        problems.append(Problem("INPUT", _("Enter the loan note number."), "loan_no"))
    if data.loan_kind not in LP.LoanKind.values:
        problems.append(Problem("RP-3", _("Unknown loan kind."), "loan_kind"))
    if data.purpose not in LP.Purpose.values:
        problems.append(Problem("RP-7", _("Unknown purpose."), "purpose"))
    if data.maturity_on <= data.disbursed_on:
        problems.append(Problem("RP-7", _("The maturity date must be after the disbursement date."), "maturity_on"))
    for name, value in (("principal", data.principal), ("other_balance", data.other_balance)):
        try:
            amount = money(value, rule="RP-4", field=name)
        except RuleViolation as exc:
            problems.extend(exc.problems)
            continue
        if amount < 0 or (name == "principal" and amount == 0):
            problems.append(Problem("RP-4", _("This amount must be more than 0."), name))
    return problems


@transaction.atomic
def project_register(*, user, pool: Pool, borrower: BorrowerData, data: ProjectData) -> LoanProject:
    """贷款项目入库: a member bank enters one loan. RP-5 converts a foreign principal at the
    disbursement date's rate; RP-6 refuses an entry after the 15th working day of the next
    quarter, naming the deadline; RP-22 refuses a bank whose membership is revoked."""
    project, member = _project_enter(user=user, pool=pool, borrower=borrower, data=data)
    member_refresh_npl(member)
    return project


@transaction.atomic
def project_register_late(*, user, pool: Pool, bank: Organisation, borrower: BorrowerData, data: ProjectData,
                          reason: str) -> LoanProject:
    """RP-6, the authority correcting a record: a loan entered on behalf of a member bank with the
    date it counts as entered (``data.entered_on``: the day the bank entered it, or tried to), not
    today. A separate action of the pool's own authority, with its reason kept in the audit
    trail; the entry window (RP-6) and every other entry rule are checked against that date,
    which cannot be in the future."""
    require_member(user, pool.authority, *AUTHORITY_ROLES)
    reason = (reason or "").strip()
    problems = []
    if not reason:
        problems.append(Problem("RP-6", _("Give the reason for entering the loan on the bank's behalf; it is kept in "
                                          "the audit trail."), "reason"))
    if data.entered_on is None:
        problems.append(Problem("RP-6", _("Give the date the loan counts as entered."), "entered_on"))
    elif data.entered_on > shanghai_today():
        problems.append(Problem("RP-6", _("The entry date cannot be in the future."), "entered_on"))
    if problems:
        raise RuleViolation.many(problems)
    project, member = _project_enter(user=user, pool=pool, borrower=borrower, data=data, bank=bank)
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=project, organisation=bank,
          summary=f"RP-6 late entry by the authority as of {data.entered_on.isoformat()}: {reason}"[:255])
    member_refresh_npl(member)
    return project


def _project_enter(*, user, pool: Pool, borrower: BorrowerData, data: ProjectData,
                   bank: Organisation | None = None) -> tuple[LoanProject, Member]:
    """One loan entered, without the RP-15 refresh of its bank's figures (the caller does it, once).
    ``bank`` is given only by ``project_register_late`` (the authority, already checked); a bank
    enters its own loans."""
    if bank is None:
        bank = user.organisation
        if bank is None:
            raise PermissionDenied(_("Only a member bank's operator can enter loans."))
        require_member(user, bank, *BANK_ROLES)
    member = _member_of(pool, bank)
    entered_on = data.entered_on or shanghai_today()
    if member.revoked_on is not None and member.revoked_on <= entered_on:
        raise RuleViolation("RP-22", _("The bank's membership was revoked on %(date)s; it cannot enter loans.")
                            % {"date": member.revoked_on.isoformat()})
    problems = _project_problems(data)
    if data.product is not None:
        # RP-M3 (马政办 第十条): the loan is the bank's new business in the product on its disbursement date.
        from riskpool.services_m import suspension_problems

        problems += suspension_problems(product=data.product, parties=[bank], on=data.disbursed_on)
    if problems:
        raise RuleViolation.many(problems)
    params = scheme_s_params(rules.entry_rule_date(data.disbursed_on))
    deadline = rules.entry_deadline(data.disbursed_on, calendar=core_calendar, params=params)
    if not rules.entered_in_time(data.disbursed_on, entered_on, deadline):
        raise RuleViolation(
            "RP-6",
            _("A loan disbursed on %(disbursed)s may be entered from that day until %(deadline)s; %(entered)s is "
              "outside that window.")
            % {"disbursed": data.disbursed_on.isoformat(), "deadline": rules.deadline_words(deadline),
               "entered": entered_on.isoformat()},
            "entered_on",
        )
    if LoanProject.objects.filter(bank=bank, loan_no=data.loan_no).exists():
        raise Conflict("RP-21", _("Loan note %(no)s is already entered.") % {"no": data.loan_no}, "loan_no")
    principal = money(data.principal, rule="RP-5", field="principal")
    principal_yuan, fx_kind = to_yuan(principal, data.currency, data.disbursed_on)
    owner = borrower_upsert(user=user, owner=bank, data=borrower)
    project = LoanProject.objects.create(
        pool=pool, bank=bank, borrower=owner, loan_no=data.loan_no, loan_kind=data.loan_kind,
        principal=principal, currency=data.currency.upper(), principal_yuan=principal_yuan, fx_kind=fx_kind,
        disbursed_on=data.disbursed_on, maturity_on=data.maturity_on, annual_rate=data.annual_rate,
        guarantee_method=data.guarantee_method, other_balance=money(data.other_balance, rule="RP-4", field="other_balance"),
        features=list(data.features), purpose=data.purpose, covered_by_other_scheme=data.covered_by_other_scheme,
        entered_on=entered_on, classified_on=entered_on, created_by=user, product=data.product,
    )
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=project, organisation=bank,
          summary=f"loan project {project.loan_no}")
    return project, member


@transaction.atomic
def project_bulk_register(*, user, pool: Pool, rows: list[dict], confirmed_renames: Collection[str] = ()) -> list[LoanProject]:
    """All rows or none. Each row: ``{"row": n, "borrower": BorrowerData, "data": ProjectData}`` or
    ``{"row": n, "errors": [RowError…]}`` from the file parser; every error is listed, a row
    renaming one of the bank's borrowers among them unless its change is in ``confirmed_renames``.
    The bank's RP-15 figures are refreshed once, after the last row (per row they cost a scan of
    its loans)."""
    members: dict[int, Member] = {}

    def enter(row):
        project, member = _project_enter(user=user, pool=pool, borrower=row["borrower"], data=row["data"])
        members[member.pk] = member
        return project

    existing = borrower_names(owner=user.organisation, rows=rows) if user.organisation_id else {}
    projects = create_all_or_none_confirming_renames(rows, enter, existing=existing, confirmed=confirmed_renames)
    members_refresh_npl(list(members.values()))
    return projects


def _latest_npl_on(project: LoanProject) -> date | None:
    """The date of the project's latest move into a non-performing class (RP-14)."""
    return (
        Classification.objects.filter(project=project, new__in=LP.NPL_CLASSES)
        .exclude(old__in=LP.NPL_CLASSES)
        .order_by("-on", "-id")
        .values_list("on", flat=True)
        .first()
    )


@transaction.atomic
def project_classify(*, user, project: LoanProject, new: str, on: date) -> LoanProject:
    """五级分类: record a classification change (RP-14's NPL date, RP-16 8a's upgrade). An NPL
    class dated before entry marks the project never compensated (RP-6). The bank's NPL ratio is
    recomputed (RP-15) and its held claims are released when the gate reopens."""
    require_member(user, project.bank, *BANK_ROLES)
    if new not in LP.Classification.values:
        raise RuleViolation("INPUT", _("Unknown classification."), "new")
    project = LoanProject.objects.select_for_update().get(pk=project.pk)
    if project.library == LP.Library.CLOSED:
        raise Conflict("RP-16", _("A closed project cannot be reclassified."))
    if on < project.disbursed_on:
        raise RuleViolation("INPUT", _("A loan cannot be classified before it is disbursed."), "on")
    old = project.classification
    before = snapshot(project)
    Classification.objects.create(project=project, on=on, old=old, new=new, recorded_by=user)
    project.classification = new
    project.classified_on = on
    if new in LP.NPL_CLASSES and rules.npl_before_entry(project.entered_on, on):
        project.npl_before_entry = True
    project.save(update_fields=["classification", "classified_on", "npl_before_entry"])
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=project, organisation=project.bank,
          before=before, summary=f"classified {old} → {new} on {on}")
    if (old in LP.NPL_CLASSES) != (new in LP.NPL_CLASSES):
        # RP-16 8a: a compensated loan back to normal or special mention starts the 15 working
        # days of the upgrade application; back to non-performing, nothing is owed any more.
        for claim in Claim.objects.select_for_update(of=("self",)).select_related("project__bank").filter(
                project=project, state__in=APPLICATION_STATES):
            _refresh_application_due(claim, user=user, reclassified_on=None if new in LP.NPL_CLASSES else on)
    member = _member_of(project.pool, project.bank)
    member_refresh_npl(member, on=on)
    if _gate_open(member, on):
        _release_held(member, on=on, user=user)
    return project


@transaction.atomic
def project_close_repaid(*, user, project: LoanProject, on: date | None = None, note: str = "") -> LoanProject:
    """结项 (RP-18, 第十九条(八)): the bank closes a performing loan of its loan library that was
    repaid, today (the server's date): within 3 months of its maturity, or later (marked late in
    the audit trail; 6 months after maturity the system closes it, JB-5). A non-performing loan,
    one with a live claim, or one already out of the loan library is refused, naming RP-18."""
    require_member(user, project.bank, *BANK_ROLES)
    project = LoanProject.objects.select_for_update().select_related("bank").get(pk=project.pk)
    on = on or shanghai_today()
    if project.library != LP.Library.LOAN:
        raise Conflict("RP-18", _("Only a loan in the loan library can be closed as repaid; this one is in the %(library)s.")
                       % {"library": project.get_library_display()})
    if project.is_npl:
        raise RuleViolation("RP-18", _("A non-performing loan is not closed as repaid; claim or reclassify it."),
                            "classification")
    if project.claims.exclude(state__in=["withdrawn", "upgraded"]).exists():
        raise Conflict("RP-18", _("The loan has a claim under way; it cannot be closed as repaid."))
    if on < project.disbursed_on:
        raise RuleViolation("RP-18", _("A loan cannot be closed before it is disbursed (%(date)s).")
                            % {"date": project.disbursed_on.isoformat()}, "on")
    due = rules.normal_closure_due(project.maturity_on, scheme_s_params(project.maturity_on))
    before = snapshot(project)
    project.library, project.closed_on, project.closed_reason = LP.Library.CLOSED, on, LP.ClosedReason.REPAID
    project.save(update_fields=["library", "closed_on", "closed_reason"])
    late = f" late: due by {due.isoformat()}" if rules.applied_late(due, on) else ""
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=project, organisation=project.bank, before=before,
          after={**snapshot(project), "note": note.strip()} if note.strip() else None,
          summary=f"RP-18 closed as repaid on {on.isoformat()}{late}")
    return project


def _release_held(member: Member, *, on: date, user) -> int:
    """RP-15: the gate is open again: held claims go back to the reviewer; the 30 days run anew."""
    held = Claim.objects.filter(project__pool_id=member.pool_id, project__bank_id=member.organisation_id,
                                state="held_npl_gate").order_by("submitted_on", "id")
    count = 0
    for claim in held:
        _move(claim, "submitted", user=user, on=on, note=_("RP-15: the NPL gate is open again."), held_reason="")
        count += 1
    return count


# --- claims: the RP-16 workflow ------------------------------------------------------------


def _claim_params(claim: Claim) -> rules.SchemeSParams:
    return scheme_s_params(rules.ratio_rule_date(claim.npl_on))


def _move(claim: Claim, new: str, *, user, on: date, note: str = "", since: date | None = None, **changes) -> Claim:
    """The one way a claim's state changes (RP-16): allowed by the map, a conditional UPDATE on the
    old state (a concurrent step makes it a Conflict), a ClaimStep row, the next deadline, an
    audit row."""
    old = claim.state
    rules.check_transition(old, new, bank_re_reviews=int(claim.re_review_used))
    if new in APPLICATION_STATES:
        due = rules.application_due(
            reclassified_on=changes.get("reclassified_on", claim.reclassified_on),
            disposal_completed_on=changes.get("disposal_completed_on", claim.disposal_completed_on),
            calendar=core_calendar, params=_claim_params(claim),
        )
    else:
        due = rules.next_step_due(new, since or on, calendar=core_calendar, params=_claim_params(claim))
    changes.setdefault("next_due_on", due.due if due else None)
    changes.setdefault("next_due_provisional", due.provisional if due else False)
    changes.setdefault("next_due_latest", due.latest if due else None)
    before = snapshot(claim)
    updated = Claim.objects.filter(pk=claim.pk, state=old).update(state=new, **changes)
    if updated != 1:
        raise Conflict("RP-16", _("Someone else changed this claim just now; reload and try again."))
    claim.state = new
    for name, value in changes.items():
        setattr(claim, name, value)
    ClaimStep.objects.create(claim=claim, old=old, new=new, on=on, by=user if getattr(user, "pk", None) else None,
                             note=note)
    audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=claim, organisation=claim.project.bank,
          before=before, summary=f"claim {old} → {new}")
    return claim


# States in which the bank may owe an 8a upgrade or 8b settlement application (RP-16).
APPLICATION_STATES = ("in_compensation_library", "recovering")


def _application_due(claim: Claim) -> rules.StepDue | None:
    """RP-16 8a / 8b: the bank's pending application and its deadline (None when none is owed)."""
    return rules.application_due(reclassified_on=claim.reclassified_on,
                                 disposal_completed_on=claim.disposal_completed_on,
                                 calendar=core_calendar, params=_claim_params(claim))


def _refresh_application_due(claim: Claim, *, user, **changes) -> Claim:
    """Store ``changes`` (reclassified_on, disposal_completed_on) and the deadline they give, on a
    locked claim still in a library state (a concurrent step makes it a Conflict)."""
    before = snapshot(claim)
    for name, value in changes.items():
        setattr(claim, name, value)
    due = _application_due(claim)
    changes.update(next_due_on=due.due if due else None, next_due_provisional=due.provisional if due else False)
    if Claim.objects.filter(pk=claim.pk, state=claim.state).update(**changes) != 1:
        raise Conflict("RP-16", _("Someone else changed this claim just now; reload and try again."))
    claim.next_due_on, claim.next_due_provisional = changes["next_due_on"], changes["next_due_provisional"]
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=claim, organisation=claim.project.bank,
          before=before, summary=", ".join(f"{k}={v}" for k, v in changes.items()))
    return claim


def _locked(claim: Claim) -> Claim:
    return Claim.objects.select_for_update(of=("self",)).select_related("project__pool", "project__bank").get(pk=claim.pk)


def _require_state(claim: Claim, *states: str) -> None:
    if claim.state not in states:
        raise Conflict("RP-16", _("This step is not possible while the claim is %(state)s.") % {"state": claim.state})


def _check_file(kind: str, upload) -> tuple[str, int]:
    """Documents are checked by content (magic bytes), not by name: PDF, JPEG or PNG, ≤ 10 MB."""
    if kind not in ClaimDocument.Kind.values:
        raise RuleViolation("INPUT", _("Unknown document kind."), "kind")
    size = upload.size
    if size > MAX_DOCUMENT_BYTES:
        raise RuleViolation("INPUT", _("%(name)s is larger than 10 MB.") % {"name": upload.name}, "file")
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    guessed = filetype.guess(head)
    mime = guessed.mime if guessed else None
    if mime not in ALLOWED_CONTENT_TYPES:
        raise RuleViolation("INPUT", _("%(name)s is not a PDF, JPEG or PNG file.") % {"name": upload.name}, "file")
    return mime, size


def _store_documents(claim: Claim, files, user) -> list[ClaimDocument]:
    stored = []
    for kind, upload in files:
        content_type, size = _check_file(kind, upload)
        doc = ClaimDocument(claim=claim, kind=kind, content_type=content_type, size=size, uploaded_by=user)
        doc.file.save(upload.name.rsplit("/", 1)[-1], upload, save=False)
        doc.save()
        audit(actor=user, action=AuditEvent.Action.CREATE, instance=doc, organisation=claim.project.bank,
              after={"claim_id": claim.pk, "kind": kind, "file": doc.file.name, "content_type": content_type,
                     "size": size},
              summary=f"document {kind}")
        stored.append(doc)
    return stored


def special_ratio(project: LoanProject, on: date) -> Decimal | None:
    """RP-12: the ratio of the special-list entry of the project's pool valid on ``on`` for its
    borrower (by unified social credit code) or, failing that, for the borrower's industry;
    None when the borrower is on no valid entry. The latest entry wins."""
    borrower = project.borrower
    match = Q(industry=borrower.industry) if borrower.industry else Q(pk__in=[])
    if borrower.id_kind == borrower.IdKind.CREDIT_CODE and borrower.id_number:
        match |= Q(credit_code=borrower.id_number.upper())
    entries = (
        SpecialListEntry.objects.filter(match, pool_id=project.pool_id, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("industry", "-valid_from", "-id")  # "" first: a credit-code entry beats an industry one
    )
    return entries.values_list("ratio", flat=True).first()


# --- the special list (RP-12): the authority's table ---------------------------------------

SPECIAL_LIST_ROLES = ("authority_admin",)
RATIO_PLACES = Decimal("0.000001")


def _special_list_problems(*, credit_code: str, industry: str, ratio, valid_from: date, valid_to: date | None,
                           note: str) -> list[Problem]:
    problems = []
    if bool(credit_code) == bool(industry):
        problems.append(Problem("RP-12", _("Give either the borrower's unified social credit code or an industry, "
                                           "not both and not neither."), "credit_code"))
    elif credit_code and (problem := credit_code_problem(credit_code)):
        problems.append(Problem("RP-12", problem, "credit_code"))
    if len(industry) > 40:
        problems.append(Problem("RP-12", _("An industry has at most 40 characters."), "industry"))
    try:
        fraction = Decimal(str(ratio))
    except (ArithmeticError, ValueError):
        fraction = None
    if fraction is None or not fraction.is_finite() or not (0 < fraction <= 1):
        problems.append(Problem("RP-12", _("The list's ratio must be more than 0% and at most 100%."), "ratio"))
    elif fraction != fraction.quantize(RATIO_PLACES):
        problems.append(Problem("RP-12", _("The ratio has at most six decimal places (0.0001%)."), "ratio"))
    if valid_to is not None and valid_to < valid_from:
        problems.append(Problem("RP-12", _("The entry cannot end before it starts."), "valid_to"))
    if len(note) > 255:
        problems.append(Problem("RP-12", _("The note has at most 255 characters."), "note"))
    return problems


def special_list_check(*, user, pool: Pool, ratio, valid_from: date, credit_code: str = "", industry: str = "",
                       valid_to: date | None = None, note: str = "") -> dict:
    """RP-12: the checks of ``special_list_add`` without the write, for a confirmation page.
    Returns the cleaned values; raises like ``special_list_add``."""
    require_member(user, pool.authority, *SPECIAL_LIST_ROLES)
    credit_code, industry, note = (credit_code or "").strip().upper(), (industry or "").strip(), (note or "").strip()
    problems = _special_list_problems(credit_code=credit_code, industry=industry, ratio=ratio, valid_from=valid_from,
                                      valid_to=valid_to, note=note)
    if problems:
        raise RuleViolation.many(problems)
    overlap = SpecialListEntry.objects.filter(pool=pool, credit_code=credit_code, industry=industry)
    overlap = overlap.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
    if valid_to is not None:
        overlap = overlap.filter(valid_from__lte=valid_to)
    clash = overlap.order_by("valid_from").first()
    if clash is not None:
        raise Conflict(
            "RP-12",
            _("%(who)s is already on the list from %(start)s to %(end)s; end that entry before this one starts.")
            % {"who": credit_code or industry, "start": clash.valid_from.isoformat(),
               "end": clash.valid_to.isoformat() if clash.valid_to else _("no end date")},
            "valid_from",
        )
    return {"credit_code": credit_code, "industry": industry, "ratio": Decimal(str(ratio)), "valid_from": valid_from,
            "valid_to": valid_to, "note": note}


@transaction.atomic
def special_list_add(*, user, pool: Pool, ratio, valid_from: date, credit_code: str = "", industry: str = "",
                     valid_to: date | None = None, note: str = "") -> SpecialListEntry:
    """RP-12 (第十六条(五)): the authority adds an enterprise (by unified social credit code) or an
    industry of the list approved by the city government, with its ratio and validity. Every
    problem is reported at once, each naming RP-12 and its field; an entry for the same
    enterprise or industry whose validity overlaps is refused (``special_ratio`` would have to
    choose between them): end the old one first."""
    Pool.objects.select_for_update().filter(pk=pool.pk).first()  # one addition at a time per pool
    values = special_list_check(user=user, pool=pool, ratio=ratio, valid_from=valid_from, credit_code=credit_code,
                                industry=industry, valid_to=valid_to, note=note)
    entry = SpecialListEntry.objects.create(pool=pool, **values)
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=entry, organisation=pool.authority,
          summary=f"RP-12 special list {entry.credit_code or entry.industry} {entry.ratio}")
    return entry


@transaction.atomic
def special_list_end(*, user, entry: SpecialListEntry, valid_to: date) -> SpecialListEntry:
    """RP-12: the authority ends an entry: it is valid up to and including ``valid_to``. An entry
    can be ended, or ended earlier, never extended; claims already submitted keep their ratio."""
    require_member(user, entry.pool.authority, *SPECIAL_LIST_ROLES)
    entry = SpecialListEntry.objects.select_for_update().select_related("pool").get(pk=entry.pk)
    if valid_to < entry.valid_from:
        raise RuleViolation("RP-12", _("The entry starts on %(date)s; it cannot end before that.")
                            % {"date": entry.valid_from.isoformat()}, "valid_to")
    if entry.valid_to is not None and valid_to >= entry.valid_to:
        raise Conflict("RP-12", _("The entry already ends on %(date)s; it can only be ended earlier.")
                       % {"date": entry.valid_to.isoformat()}, "valid_to")
    before = snapshot(entry)
    entry.valid_to = valid_to
    entry.save(update_fields=["valid_to"])
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=entry, organisation=entry.pool.authority,
          before=before, summary=f"RP-12 special list {entry.credit_code or entry.industry} ends {valid_to.isoformat()}")
    return entry


@transaction.atomic
def claim_submit(*, user, project: LoanProject, submitted_on: date, outstanding_principal, credit_report_on: date,
                 documents=()) -> Claim:
    """提交: the bank claims on a non-performing project. RP-24 refuses a dishonest bank; the quote
    (RP-3 … RP-14) refuses with every failing rule, and RP-14 (第十九条(二)) with every missing
    required attachment (``documents``: (kind, file) pairs; the credit report and the loan file);
    an eligible claim is held while the bank's NPL ratio is above 3% (RP-15)."""
    require_member(user, project.bank, *BANK_ROLES)
    project = LoanProject.objects.select_for_update().select_related("borrower", "pool").get(pk=project.pk)
    member = _member_of(project.pool, project.bank)
    rules.check_may_submit(member.dishonest)
    npl_on = _latest_npl_on(project)
    if not project.is_npl or npl_on is None:
        raise RuleViolation("RP-14", _("The loan is not classified non-performing; there is nothing to claim."))
    if project.claims.exclude(state__in=["withdrawn", "upgraded"]).exists():
        raise Conflict("RP-21", _("This loan already has a claim."))
    params = scheme_s_params(rules.ratio_rule_date(npl_on))
    lpr = lpr_rates(project.disbursed_on)
    qualifications = tuple(
        rules.Qualification(q.code, q.valid_from, q.valid_to) for q in project.borrower.qualifications.all()
    )
    data = rules.QuoteInput(
        loan_kind=project.loan_kind, principal=project.principal, disbursed_on=project.disbursed_on,
        maturity_on=project.maturity_on, annual_rate=project.annual_rate, other_balance=project.other_balance,
        npl_on=npl_on, outstanding_principal=money(outstanding_principal, rule="RP-13", field="outstanding_principal"),
        currency=project.currency, qualifications=qualifications, features=tuple(project.features),
        purpose=project.purpose, covered_by_other_scheme=project.covered_by_other_scheme,
        entered_on=project.entered_on, submitted_on=submitted_on, credit_report_on=credit_report_on,
    )
    rate = None if project.currency == "CNY" else project.principal_yuan / project.principal
    result = rules.quote(data, params=params, lpr_percent=lpr, calendar=core_calendar, rate_to_yuan=rate,
                         special_ratio=special_ratio(project, npl_on))
    documents = list(documents)
    # RP-14: refused with every missing attachment beside every failing rule, before anything is stored.
    missing = rules.claim_document_problems(kind for kind, upload in documents if upload)
    if not result.eligible:
        failing = [Problem(r.rule, r.message) for r in result.reasons if r.outcome == rules.FAIL]
        raise RuleViolation.many((failing or [Problem("RP-8", _("No compensation ratio applies."))]) + missing)
    if missing:
        raise RuleViolation.many(missing)
    claim = Claim.objects.create(
        project=project, state="submitted", submitted_on=submitted_on, npl_on=npl_on,
        outstanding_principal=data.outstanding_principal, credit_report_on=credit_report_on, ratio=result.ratio,
        amount=result.amount, reasons=[r.as_dict() for r in result.reasons], created_by=user,
    )
    due = rules.next_step_due("submitted", submitted_on, calendar=core_calendar, params=params)
    Claim.objects.filter(pk=claim.pk).update(next_due_on=due.due, next_due_provisional=due.provisional,
                                             next_due_latest=due.latest)
    claim.next_due_on, claim.next_due_provisional, claim.next_due_latest = due.due, due.provisional, due.latest
    # RP-15: from now on the bank's NPL ratio counts this loan's outstanding principal (in yuan).
    outstanding_yuan = money(data.outstanding_principal * project.principal_yuan / project.principal, rule="RP-15")
    LoanProject.objects.filter(pk=project.pk).update(outstanding_yuan=outstanding_yuan)
    ClaimStep.objects.create(claim=claim, old="", new="submitted", on=submitted_on, by=user)
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=claim, organisation=project.bank,
          summary=f"claim on {project.loan_no}: {claim.amount}")
    _store_documents(claim, documents, user)
    member_refresh_npl(member, on=submitted_on)
    if not _gate_open(member, submitted_on):
        reason = _gate_reason(member, submitted_on)
        _move(claim, "held_npl_gate", user=user, on=submitted_on, note=reason, held_reason=reason[:255])
    return claim


@transaction.atomic
def claim_review(*, user, claim: Claim, approve: bool, note: str = "", on: date | None = None) -> Claim:
    """审核 / 复核 (RP-16 steps 1-2): the pool's reviewer approves, or rejects with reasons."""
    claim = _locked(claim)
    require_member(user, claim.project.pool.reviewer, *REVIEWER_ROLES)
    _require_state(claim, "submitted", "re_review")
    on = on or shanghai_today()
    _require_reasons(approve, note)
    return _move(claim, "approved" if approve else "rejected", user=user, on=on, note=note, decision_note=note)


@transaction.atomic
def claim_request_re_review(*, user, claim: Claim, on: date | None = None, note: str = "") -> Claim:
    """复核 (RP-16 step 2): the bank may ask once for a rejected claim to be decided again."""
    claim = _locked(claim)
    require_member(user, claim.project.bank, *BANK_ROLES)
    on = on or shanghai_today()
    return _move(claim, "re_review", user=user, on=on, note=note, re_review_used=True)


@transaction.atomic
def claim_notice_start(*, user, claims, on: date) -> list[Claim]:
    """公示 (RP-16 step 3, 第二十条(二) "由主管部门定期进行集中网上公示"): the pool's authority puts
    approved claims on the public notice for at least 7 working days. Closing the notice is due
    from the day after its last day (``rules.notice_may_proceed_on``): on the last day itself
    anyone may still object, so the close is not yet owed, let alone overdue."""
    moved = []
    for claim in claims:
        claim = _locked(claim)
        require_member(user, claim.project.pool.authority, *AUTHORITY_ROLES)
        end = rules.notice_end(on, calendar=core_calendar, params=_claim_params(claim))
        moved.append(_move(claim, "on_notice", user=user, on=on, notice_start=on, notice_end=end.date,
                           notice_end_latest=end.latest, next_due_on=end.date + timedelta(days=1),
                           next_due_provisional=end.provisional, next_due_latest=end.latest + timedelta(days=1)))
    return moved


@transaction.atomic
def objection_file(*, claim: Claim, name: str, contact: str, text: str, on: date | None = None) -> Objection:
    """异议: anyone may object while the claim is on notice, up to and including its last day (JB-1:
    while that day is provisional, up to the latest it could turn out to be)."""
    claim = _locked(claim)
    on = on or shanghai_today()
    if claim.state != "on_notice" or claim.notice_end is None or not (claim.notice_start <= on <= notice_last_day(claim)):
        raise Conflict("RP-16", _("Objections are accepted only while the claim is on public notice."))
    if not (name.strip() and contact.strip() and text.strip()):
        raise RuleViolation("INPUT", _("Give your name, a contact and the objection."))
    objection = Objection.objects.create(claim=claim, name=name[:100], contact=contact[:100], text=text)
    audit(actor="public", action=AuditEvent.Action.CREATE, instance=objection, organisation=claim.project.pool.reviewer,
          summary="objection")
    return objection


@transaction.atomic
def objection_decide(*, user, objection: Objection, upheld: bool, note: str = "", on: date | None = None) -> Objection:
    """RP-16 step 3: an upheld objection sends the claim to re-review (not counted as the bank's
    one request); a dismissed one lets the notice run out."""
    claim = _locked(objection.claim)
    require_member(user, claim.project.pool.reviewer, *REVIEWER_ROLES)
    on = on or shanghai_today()
    status = Objection.Status.UPHELD if upheld else Objection.Status.DISMISSED
    updated = Objection.objects.filter(pk=objection.pk, status=Objection.Status.PENDING).update(
        status=status, decided_by=user, decision_note=note)
    if updated != 1:
        raise Conflict("RP-16", _("This objection has already been decided."))
    objection.refresh_from_db()
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=objection, organisation=claim.project.pool.reviewer,
          summary=f"objection {status}")
    if upheld:
        _move(claim, "objection_upheld", user=user, on=on, note=note)
        _move(claim, "re_review", user=user, on=on, note=note)
    return objection


def claims_recompute_deadlines(*, years, **kwargs) -> int:
    """JB-1: once the authority has entered the holiday notice of ``years`` (the
    ``core.calendar.calendar_confirmed`` signal, in the confirming transaction), every claim whose
    stored deadline was provisional has it counted again on the confirmed calendar: the public
    notice's end from its start, the other working-day steps from the day their state began.
    Each changed claim gets an audit row. Returns how many changed."""
    changed = 0
    claims = list(
        Claim.objects.select_for_update().filter(Q(next_due_provisional=True) | Q(
            state="on_notice", notice_end_latest__isnull=False, notice_end_latest__gt=F("notice_end")))
        .select_related("project__pool")
    )
    started = {}
    for claim_id, state, on in ClaimStep.objects.filter(claim__in=claims).order_by("claim_id", "id").values_list(
        "claim_id", "new", "on"
    ):
        started[(claim_id, state)] = on
    for claim in claims:
        params = _claim_params(claim)
        before = snapshot(claim)
        changes = {}
        if claim.state == "on_notice" and claim.notice_start:
            end = rules.notice_end(claim.notice_start, calendar=core_calendar, params=params)
            # Closing the notice is due from the day after it ends (see claim_notice_start).
            changes = {"notice_end": end.date, "notice_end_latest": end.latest,
                       "next_due_on": end.date + timedelta(days=1), "next_due_provisional": end.provisional,
                       "next_due_latest": end.latest + timedelta(days=1)}
        else:
            since = started.get((claim.pk, claim.state), claim.submitted_on)
            due = rules.next_step_due(claim.state, since, calendar=core_calendar, params=params)
            if due is not None:
                changes = {"next_due_on": due.due, "next_due_provisional": due.provisional,
                           "next_due_latest": due.latest}
        changes = {k: v for k, v in changes.items() if getattr(claim, k) != v}
        if not changes:
            continue
        Claim.objects.filter(pk=claim.pk).update(**changes)
        for name, value in changes.items():
            setattr(claim, name, value)
        audit(actor="system", action=AuditEvent.Action.UPDATE, instance=claim, before=before,
              organisation=claim.project.pool.reviewer,
              summary=f"JB-1 calendar {', '.join(map(str, years))} confirmed: deadlines recomputed")
        changed += 1
    return changed


def notice_last_day(claim: Claim) -> date:
    """JB-1, RP-16 step 3: the day the claim's notice surely ends: its latest possible end while
    the end is provisional, else its end."""
    return claim.notice_end_latest or claim.notice_end


def notice_is_over(claim: Claim, on: date) -> bool:
    """RP-16 step 3: the notice may be closed from the day after its last day (JB-1: the latest)."""
    return claim.notice_end is not None and on > notice_last_day(claim)


def objections_block_closing(statuses) -> bool:
    """RP-16 step 3: a pending or upheld objection keeps the notice open."""
    return any(status != Objection.Status.DISMISSED for status in statuses)


@transaction.atomic
def claim_notice_close(*, user, claim: Claim, on: date) -> Claim:
    """RP-16 step 3 (第二十条(二)): the authority that ran the notice closes it, after the notice's
    last day, with no pending or upheld objection. JB-1: while that day is provisional (its year's
    holiday notice not entered), the notice closes only after the latest day it could turn out to
    be, or once the year is confirmed and the end recomputed."""
    claim = _locked(claim)
    require_member(user, claim.project.pool.authority, *AUTHORITY_ROLES)
    _require_state(claim, "on_notice")
    last = notice_last_day(claim)
    if not notice_is_over(claim, on):
        if last != claim.notice_end:
            raise Conflict("RP-16", _(
                "The notice runs until %(date)s at the earliest and %(latest)s at the latest: the holidays of that "
                "year are not confirmed yet, so it can be closed after %(latest)s, or earlier once the authority "
                "enters the year's holiday notice.") % {"date": claim.notice_end.isoformat(), "latest": last.isoformat()})
        raise Conflict("RP-16", _("The notice runs until %(date)s.") % {"date": claim.notice_end.isoformat()})
    if objections_block_closing(claim.objections.values_list("status", flat=True)):
        raise Conflict("RP-16", _("An objection is still pending or was upheld."))
    return _move(claim, "notice_passed", user=user, on=on)


@transaction.atomic
def funding_plan_issue(*, user, pool: Pool, number: str, claims, on: date) -> FundingPlan:
    """资助计划下达 (RP-16 step 4): the authority's batch of claims past their notice."""
    require_member(user, pool.authority, *AUTHORITY_ROLES)
    if FundingPlan.objects.filter(pool=pool, number=number).exists():
        raise Conflict("RP-16", _("Plan number %(no)s is already used.") % {"no": number}, "number")
    plan = FundingPlan.objects.create(pool=pool, number=number, issued_on=on, issued_by=user)
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=plan, organisation=pool.authority,
          summary=f"funding plan {number}")
    for claim in claims:
        claim = _locked(claim)
        if claim.project.pool_id != pool.pk:
            raise RuleViolation("RP-16", _("A claim of another pool cannot be in this plan."), "claims")
        _move(claim, "in_funding_plan", user=user, on=on, funding_plan=plan)
    return plan


@transaction.atomic
def claim_documents_upload(*, user, claim: Claim, files, on: date | None = None) -> Claim:
    """RP-16 step 5: the bank uploads the payment documents (``files``: (kind, file) pairs); when
    all four are there the treasurer owes the payment within 10 days."""
    claim = _locked(claim)
    require_member(user, claim.project.bank, *BANK_ROLES)
    _require_state(claim, "in_funding_plan")
    on = on or shanghai_today()
    _store_documents(claim, files, user)
    present = set(claim.documents.values_list("kind", flat=True))
    if all(kind in present for kind in PAYMENT_DOCUMENTS):
        _move(claim, "documents_uploaded", user=user, on=on)
    return claim


def _require_turn_in_queue(claim: Claim) -> None:
    """RP-1: under the pool's row lock (held to the end of the payment's transaction, so the
    queue cannot change underneath), the balance must cover this claim after the claims
    approved before it. Otherwise it waits its turn and the message says how much is ahead."""
    pool = Pool.objects.select_for_update().get(pk=claim.project.pool_id)
    ahead = payment_queue_ahead(claim)
    if ahead and not rules.payout_fits_queue(pool.balance, ahead, claim.amount):
        raise RuleViolation(
            "RP-1",
            _("Money is short: claims approved earlier and waiting for %(ahead)s yuan are paid first; the pool's "
              "balance is %(balance)s yuan.") % {"ahead": ahead, "balance": pool.balance},
            "amount",
        )


@transaction.atomic
def claim_pay(*, user, claim: Claim, on: date, idempotency_key: str) -> Claim:
    """拨付 (RP-16 step 6): a ledger payout of the claim's amount. A repeated request pays once;
    a short balance refuses (RP-1) and the claim stays with its documents, waiting for money."""
    claim = _locked(claim)
    require_member(user, claim.project.pool.treasurer, *TREASURER_ROLES)
    if claim.state != "documents_uploaded" and LedgerEntry.objects.filter(
        idempotency_key=idempotency_key, claim=claim, kind=LedgerEntry.Kind.PAYOUT
    ).exists():
        return claim
    _require_state(claim, "documents_uploaded")
    _require_turn_in_queue(claim)
    ledger_post(user=user, pool=claim.project.pool, kind=LedgerEntry.Kind.PAYOUT, amount=claim.amount, booked_on=on,
                claim=claim, idempotency_key=idempotency_key, note=f"claim {claim.pk}")
    return _move(claim, "paid", user=user, on=on, paid_on=on, paid_amount=claim.amount)


def _set_library(project: LoanProject, library: str, *, user, **extra) -> None:
    before = snapshot(project)
    LoanProject.objects.filter(pk=project.pk).update(library=library, **extra)
    project.refresh_from_db()
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=project, organisation=project.bank, before=before,
          summary=f"library → {library}")


@transaction.atomic
def claim_to_compensation_library(*, user, claim: Claim, on: date) -> Claim:
    """RP-16 step 7: the bank moves the paid project to the compensation library."""
    claim = _locked(claim)
    require_member(user, claim.project.bank, *BANK_ROLES)
    _move(claim, "in_compensation_library", user=user, on=on)
    _set_library(claim.project, LP.Library.COMPENSATION, user=user)
    return claim


def _return(claim: Claim, kind: str, amount: Decimal, *, user, on: date, key: str | None) -> None:
    if amount > 0:
        ledger_post(user=user, pool=claim.project.pool, kind=kind, amount=amount, booked_on=on, claim=claim,
                    idempotency_key=key, note=f"claim {claim.pk}")


def _require_reasons(approve: bool, note: str) -> None:
    """RP-16: every refusal in the claim workflow carries its reasons."""
    if not approve and not note.strip():
        raise RuleViolation("RP-16", _("A rejection needs the reasons."), "note")


def _back_from_application(claim: Claim) -> str:
    """A refused 8a / 8b application returns the claim to the library state it came from."""
    return "recovering" if claim.recoveries.exists() else "in_compensation_library"


def _reclassified_on(claim: Claim) -> date | None:
    """RP-16 8a: the day the loan last left the non-performing classes (上调之日)."""
    if claim.reclassified_on is not None:
        return claim.reclassified_on
    return (
        Classification.objects.filter(project_id=claim.project_id, old__in=LP.NPL_CLASSES)
        .exclude(new__in=LP.NPL_CLASSES).order_by("-on", "-id").values_list("on", flat=True).first()
    )


def _late_note(step: str, due: date | None, on: date, note: str) -> str:
    if not rules.applied_late(due, on):
        return note
    late = _("Late: the %(step)s was due by %(due)s.") % {"step": step, "due": due.isoformat()}
    return f"{late} {note}".strip()


@transaction.atomic
def claim_upgrade_request(*, user, claim: Claim, on: date | None = None, note: str = "") -> Claim:
    """上调申请 (RP-16 8a, 第十九条(五)): the loan is normal or special mention again; the bank
    applies within 15 working days of the reclassification, and the reviewer decides. A late
    application is accepted and marked late (``rules.applied_late``)."""
    claim = _locked(claim)
    require_member(user, claim.project.bank, *BANK_ROLES)
    _require_state(claim, *APPLICATION_STATES)
    if claim.project.is_npl:
        raise RuleViolation("RP-16", _("Reclassify the loan as normal or special mention first."))
    on = on or shanghai_today()
    reclassified = _reclassified_on(claim)
    due = rules.upgrade_application_due(reclassified, calendar=core_calendar, params=_claim_params(claim)).date \
        if reclassified else None
    return _move(claim, "upgrade_requested", user=user, on=on, reclassified_on=reclassified,
                 note=_late_note(_("upgrade application"), due, on, note))


@transaction.atomic
def claim_upgrade_decide(*, user, claim: Claim, approve: bool, on: date | None = None, note: str = "",
                         idempotency_key: str | None = None) -> Claim:
    """RP-16 8a: the pool's reviewer approves the upgrade: the compensation not yet returned goes
    back to the pool (ledger return) and the project to the loan library; or refuses it, with
    reasons, and the claim stays in the compensation library."""
    claim = _locked(claim)
    require_member(user, claim.project.pool.reviewer, *REVIEWER_ROLES)
    _require_state(claim, "upgrade_requested")
    on = on or shanghai_today()
    _require_reasons(approve, note)
    if not approve:
        return _move(claim, _back_from_application(claim), user=user, on=on, note=note, decision_note=note,
                     reclassified_on=None)
    if claim.project.is_npl:
        raise Conflict("RP-16", _("The loan is classified non-performing again; the upgrade cannot be approved."))
    amount = rules.upgrade_return(claim.paid_amount, claim.returned_amount)
    _return(claim, LedgerEntry.Kind.RETURN_UPGRADE, amount, user=user, on=on, key=idempotency_key)
    _move(claim, "upgraded", user=user, on=on, note=note, returned_amount=claim.returned_amount + amount)
    _set_library(claim.project, LP.Library.LOAN, user=user)
    return claim


@transaction.atomic
def recovery_report(*, user, claim: Claim, received_on: date, gross, method: str, on: date | None = None,
                    idempotency_key: str | None = None) -> RecoveryReport:
    """清收 (RP-16 8b, RP-17): the bank reports a gross recovery and returns gross × ratio, never
    more in total than was paid."""
    claim = _locked(claim)
    require_member(user, claim.project.bank, *BANK_ROLES)
    _require_state(claim, "in_compensation_library", "recovering")
    if method not in RecoveryReport.Method.values:
        raise RuleViolation("INPUT", _("Unknown recovery method."), "method")
    on = on or shanghai_today()
    gross = money(gross, rule="RP-17", field="gross")
    if gross <= 0:
        raise RuleViolation("RP-17", _("This amount must be more than 0."), "gross")
    amount = rules.recovery_return(gross, claim.ratio, claim.paid_amount, claim.returned_amount)
    due = rules.recovery_report_due(received_on, calendar=core_calendar, params=_claim_params(claim))
    report = RecoveryReport.objects.create(
        claim=claim, received_on=received_on, gross=gross, method=method, return_amount=amount,
        report_due_on=due.date, returned_on=on if amount > 0 else None, created_by=user,
    )
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=report, organisation=claim.project.bank,
          summary=f"recovery {gross}, return {amount}")
    # Money found later in a quarter reported nil: the recovery stands, the nil statement goes
    # (kept in the audit trail), so the quarter is counted once, as recovered.
    quarter = Quarter.of(received_on)
    for nil in NilRecoveryReport.objects.filter(claim=claim, period=str(quarter)):
        audit(actor=user, action=AuditEvent.Action.DELETE, instance=nil, organisation=claim.project.bank,
              summary=f"nil recovery report {nil.period} superseded by a recovery")
        nil.delete()
    _return(claim, LedgerEntry.Kind.RETURN_RECOVERY, amount, user=user, on=on, key=idempotency_key)
    returned = claim.returned_amount + amount
    if claim.state == "in_compensation_library":
        _move(claim, "recovering", user=user, on=on, returned_amount=returned)
    else:
        if Claim.objects.filter(pk=claim.pk, state="recovering").update(returned_amount=returned) != 1:
            raise Conflict("RP-16", _("Someone else changed this claim just now; reload and try again."))
        claim.returned_amount = returned
    return report


@transaction.atomic
def claim_disposal_complete(*, user, claim: Claim, completed_on: date, on: date | None = None) -> Claim:
    """RP-16 8b (第十九条(六)): the bank records that its disposal of the loan is complete; the
    settlement application is due 15 working days later (on the overdue lists until made)."""
    claim = _locked(claim)
    require_member(user, claim.project.bank, *BANK_ROLES)
    _require_state(claim, *APPLICATION_STATES)
    on = on or shanghai_today()
    _check_completed_on(claim, completed_on, on)
    return _refresh_application_due(claim, user=user, disposal_completed_on=completed_on)


def _check_completed_on(claim: Claim, completed_on: date, on: date) -> None:
    if completed_on > on:
        raise RuleViolation("RP-16", _("The disposal cannot be complete after today (%(on)s).")
                            % {"on": on.isoformat()}, "completed_on")
    if claim.paid_on is not None and completed_on < claim.paid_on:
        raise RuleViolation("RP-16", _("The disposal of a compensated loan is complete after the payment "
                                       "(%(paid)s).") % {"paid": claim.paid_on.isoformat()}, "completed_on")


@transaction.atomic
def claim_settlement_request(*, user, claim: Claim, on: date | None = None, completed_on: date | None = None,
                             note: str = "") -> Claim:
    """清收申请 (RP-16 8b, 第十九条(六)): disposal complete, the bank applies within 15 working
    days for the project to move to the settlement library; the reviewer checks it first. The
    disposal date is the one recorded (``claim_disposal_complete``) or ``completed_on``. A late
    application is accepted and marked late."""
    claim = _locked(claim)
    require_member(user, claim.project.bank, *BANK_ROLES)
    _require_state(claim, *APPLICATION_STATES)
    on = on or shanghai_today()
    completed_on = completed_on or claim.disposal_completed_on
    if completed_on is None:
        raise RuleViolation("RP-16", _("Give the date the disposal was complete."), "completed_on")
    _check_completed_on(claim, completed_on, on)
    due = rules.settlement_application_due(completed_on, calendar=core_calendar, params=_claim_params(claim)).date
    return _move(claim, "settlement_requested", user=user, on=on, disposal_completed_on=completed_on,
                 note=_late_note(_("settlement application"), due, on, note))


@transaction.atomic
def claim_settlement_decide(*, user, claim: Claim, approve: bool, on: date | None = None, note: str = "") -> Claim:
    """RP-16 8b: the reviewer checks the settlement application: approved, the project moves to the
    settlement library (清偿项目库) and the authority owes the final accounting (核账结项);
    refused, with reasons, the claim goes back to recovery."""
    claim = _locked(claim)
    require_member(user, claim.project.pool.reviewer, *REVIEWER_ROLES)
    _require_state(claim, "settlement_requested")
    on = on or shanghai_today()
    _require_reasons(approve, note)
    if not approve:
        return _move(claim, _back_from_application(claim), user=user, on=on, note=note, decision_note=note,
                     disposal_completed_on=None)
    _move(claim, "settled", user=user, on=on, note=note)
    _set_library(claim.project, LP.Library.SETTLEMENT, user=user)
    return claim


@transaction.atomic
def recovery_nil_report(*, user, claim: Claim, period: str, on: date | None = None) -> NilRecoveryReport:
    """零清收报告 (RP-16 8b, 第十九条(六)): the bank states that nothing was recovered on a compensated
    claim in the closed quarter ``period``. Refused (RP-17) for a quarter that has not ended, one
    that ended before the claim was paid (nothing was owed then), one with a recovery reported,
    or one already reported nil. The quarter's missing-report row of the quarterly close (JB-5)
    is removed: the obligation clears, as it would with a recovery report."""
    claim = _locked(claim)
    require_member(user, claim.project.bank, *BANK_ROLES)
    _require_state(claim, "in_compensation_library", "recovering")
    on = on or shanghai_today()
    period = (period or "").strip().upper()
    try:
        kind, start, end = period_bounds(period)
    except RuleViolation:
        kind = None
    if kind != "quarter":
        raise RuleViolation("RP-17", _("Give a quarter such as 2025Q1."), "period")
    if end >= on:
        raise RuleViolation("RP-17", _("%(period)s has not ended yet; a nil report is for a closed quarter.")
                            % {"period": period}, "period")
    if claim.paid_on is None or end < claim.paid_on:
        raise RuleViolation("RP-17", _("The claim was paid after %(period)s; nothing is reported for it.")
                            % {"period": period}, "period")
    if claim.recoveries.filter(received_on__range=(start, end)).exists():
        raise Conflict("RP-17", _("A recovery received in %(period)s is already reported; the quarter is not nil.")
                       % {"period": period}, "period")
    if NilRecoveryReport.objects.filter(claim=claim, period=period).exists():
        raise Conflict("RP-17", _("%(period)s is already reported as nil.") % {"period": period}, "period")
    report = NilRecoveryReport.objects.create(claim=claim, period=period, filed_on=on,
                                              filed_by=user if getattr(user, "pk", None) else None)
    MissingRecoveryReport.objects.filter(claim=claim, period=period).delete()
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=report, organisation=claim.project.bank,
          summary=f"nil recovery report {period}")
    return report


@transaction.atomic
def claim_closure_request(*, user, claim: Claim, on: date, note: str = "") -> Claim:
    """核销结项 (RP-16 8c): after write-off or loss confirmation the bank applies to close."""
    claim = _locked(claim)
    require_member(user, claim.project.bank, *BANK_ROLES)
    _require_state(claim, "in_compensation_library", "recovering", "closure_reviewed", "closure_rechecked")
    if claim.state in ("closure_reviewed", "closure_rechecked"):
        raise Conflict("RP-16", _("The closure is already being checked."))
    return _move(claim, "closure_requested", user=user, on=on, note=note)


@transaction.atomic
def claim_closure_review(*, user, claim: Claim, approve: bool, on: date, note: str = "") -> Claim:
    """RP-16 8c: the reviewer checks the closure within 30 days, or sends it back."""
    claim = _locked(claim)
    require_member(user, claim.project.pool.reviewer, *REVIEWER_ROLES)
    _require_state(claim, "closure_requested")
    return _move(claim, "closure_reviewed" if approve else "in_compensation_library", user=user, on=on, note=note)


@transaction.atomic
def claim_closure_recheck(*, user, claim: Claim, approve: bool, on: date, note: str = "") -> Claim:
    """RP-16 8c: the treasurer re-checks, or sends it back one level."""
    claim = _locked(claim)
    require_member(user, claim.project.pool.treasurer, *TREASURER_ROLES)
    _require_state(claim, "closure_reviewed")
    return _move(claim, "closure_rechecked" if approve else "closure_requested", user=user, on=on, note=note)


def _close_project(claim: Claim, reason: str, *, user, on: date) -> None:
    _set_library(claim.project, LP.Library.CLOSED, user=user, closed_on=on, closed_reason=reason)
    member_refresh_npl(_member_of(claim.project.pool, claim.project.bank), on=on)


@transaction.atomic
def claim_close(*, user, claim: Claim, on: date, approve: bool = True, note: str = "") -> Claim:
    """结项 by the authority (主管部门): a settled claim is closed (8b, 核账结项); a re-checked
    write-off closure is approved and goes to the finance bureau (8c), or is sent back."""
    claim = _locked(claim)
    require_member(user, claim.project.pool.authority, *AUTHORITY_ROLES)
    _require_state(claim, "settled", "closure_rechecked")
    if not approve:
        return _move(claim, "closure_requested", user=user, on=on, note=note)
    if claim.state == "closure_rechecked":
        if claim.project.pool.finance_bureau_id is None:
            raise RuleViolation("RP-16", _("The pool has no finance bureau to approve the write-off closure; "
                                           "set it in the pool's administration first."), "finance_bureau")
        return _move(claim, "closure_approved", user=user, on=on, note=note)
    _move(claim, "closed", user=user, on=on, note=note)
    _close_project(claim, LP.ClosedReason.SETTLED, user=user, on=on)
    return claim


@transaction.atomic
def claim_closure_finance_decide(*, user, claim: Claim, approve: bool, on: date | None = None,
                                 note: str = "") -> Claim:
    """RP-16 8c (第十九条(七)): the pool's finance bureau (监管执行部门) approves the write-off
    closure after the authority, and the project is closed; or refuses it, with reasons, back
    to the authority."""
    claim = _locked(claim)
    bureau = claim.project.pool.finance_bureau
    if bureau is None:
        raise PermissionDenied(_("The pool has no finance bureau."))
    require_member(user, bureau, *FINANCE_ROLES)
    _require_state(claim, "closure_approved")
    on = on or shanghai_today()
    _require_reasons(approve, note)
    if not approve:
        return _move(claim, "closure_rechecked", user=user, on=on, note=note, decision_note=note)
    _move(claim, "closed", user=user, on=on, note=note)
    _close_project(claim, LP.ClosedReason.WRITE_OFF, user=user, on=on)
    return claim


@transaction.atomic
def claim_withdraw(*, user, claim: Claim, on: date, note: str = "") -> Claim:
    """The bank withdraws a claim before it is approved."""
    claim = _locked(claim)
    require_member(user, claim.project.bank, *BANK_ROLES)
    return _move(claim, "withdrawn", user=user, on=on, note=note, held_reason="")


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
              before=before, summary=f"RP-21 claw-back {principal} + interest {interest}")
        total_principal += principal
        total_interest += interest
    violation.clawback_principal, violation.clawback_interest = total_principal, total_interest
    violation.save(update_fields=["clawback_principal", "clawback_interest"])
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=violation, organisation=pool.authority,
          summary=f"RP-21 {kind}: claw-back {total_principal} + interest {total_interest}")
    if revoke and member.revoked_on is None:
        before = snapshot(member)
        member.revoked_on = recorded_on
        member.may_reapply_on = rules.may_reapply_on(recorded_on, scheme_s_params(recorded_on))
        member.save(update_fields=["revoked_on", "may_reapply_on"])
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=member, organisation=pool.authority,
              before=before, summary=f"RP-21 revoked on {recorded_on.isoformat()}")
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
