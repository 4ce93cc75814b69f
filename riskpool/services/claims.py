"""RP-16 claims up to payment: submission (RP-14 … RP-15), review and re-review, the public
notice and objections, the funding plan, payment documents and payment in approval order
(RP-1); and the JB-1 recomputation of stored deadlines."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from core import calendar as core_calendar
from core import i18n_text
from core.audit import audit, snapshot
from core.calendar import shanghai_today
from core.errors import Conflict, Problem, RuleViolation
from core.i18n_text import dumps_within
from core.models import AuditEvent
from core.money import money
from core.services import require_member
from riskpool import permissions as can
from riskpool import rules
from riskpool.models import (
    Claim,
    ClaimStep,
    FundingPlan,
    LedgerEntry,
    LoanProject,
    Objection,
    Pool,
)
from riskpool.permissions import AUTHORITY_ROLES, BANK_ROLES
from riskpool.selectors import payment_queue_ahead
from riskpool.workflows import CLAIM

from .claim_state import _claim_params, _locked, _move, _require_reasons, _store_documents
from .common import PAYMENT_DOCUMENTS, lpr_rates, scheme_s_params
from .ledger import ledger_post
from .members import _gate_open, _gate_reason, _member_of, member_refresh_npl
from .projects import _latest_npl_on, special_ratio


def _claim_quote(project: LoanProject, npl_on: date, *, submitted_on: date, outstanding_principal,
                 credit_report_on: date):
    """The RP-3 … RP-14 quote of a claim on ``project`` (params, input and result)."""
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
    return params, data, result


def _quote_failures(result) -> list[Problem]:
    failing = [Problem(r.rule, r.message) for r in result.reasons if r.outcome == rules.FAIL]
    return failing or [Problem("RP-8", _("No compensation ratio applies."))]


def claim_problems(*, user, project: LoanProject, submitted_on: date, outstanding_principal=None,
                   credit_report_on: date | None = None, document_kinds=()) -> list[Problem]:
    """Issue 13.3: every reason ``claim_submit`` would refuse a claim for, from whatever the form
    could read (None: that field has its own error), without writing: RP-24, RP-14 (not
    non-performing, each missing attachment), RP-21 (a claim already made), RP-13 and, when both
    the outstanding principal and the credit report's date are given, the whole quote."""
    require_member(user, project.bank, *BANK_ROLES)
    problems: list[Problem] = []
    try:
        rules.check_may_submit(_member_of(project.pool, project.bank).dishonest)
    except RuleViolation as exc:
        problems += exc.problems
    npl_on = _latest_npl_on(project)
    if not project.is_npl or npl_on is None:
        problems.append(Problem("RP-14", _("The loan is not classified non-performing; there is nothing to claim.")))
    if project.claims.exclude(state__in=["withdrawn", "upgraded"]).exists():
        problems.append(Problem("RP-21", _("This loan already has a claim.")))
    if outstanding_principal is not None and npl_on is not None and project.is_npl:
        if credit_report_on is not None:
            try:
                result = _claim_quote(project, npl_on, submitted_on=submitted_on,
                                      outstanding_principal=outstanding_principal,
                                      credit_report_on=credit_report_on)[2]
            except RuleViolation as exc:
                problems += exc.problems
            else:
                problems += [] if result.eligible else _quote_failures(result)
        elif outstanding_principal > project.principal:
            problems.append(Problem("RP-13", _("The outstanding principal cannot be more than the principal."),
                                    "outstanding_principal"))
    return problems + rules.claim_document_problems(document_kinds)


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
    params, data, result = _claim_quote(project, npl_on, submitted_on=submitted_on,
                                        outstanding_principal=outstanding_principal, credit_report_on=credit_report_on)
    documents = list(documents)
    # RP-14: refused with every missing attachment beside every failing rule, before anything is stored.
    missing = rules.claim_document_problems(kind for kind, upload in documents if upload)
    if not result.eligible:
        raise RuleViolation.many(_quote_failures(result) + missing)
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
          summary=i18n_text.gettext_lazy("Claim on %(loan)s: %(amount)s") % {"loan": project.loan_no, "amount": claim.amount})
    _store_documents(claim, documents, user)
    member_refresh_npl(member, on=submitted_on)
    if not _gate_open(member, submitted_on):
        reason = _gate_reason(member, submitted_on)
        _move(claim, "held_npl_gate", user=user, on=submitted_on, note=reason, held_reason=dumps_within(reason, 255))
    return claim


@transaction.atomic
def claim_review(*, user, claim: Claim, approve: bool, note: str = "", on: date | None = None) -> Claim:
    """审核 / 复核 (RP-16 steps 1-2): the pool's reviewer approves, or rejects with reasons."""
    claim = _locked(claim)
    new = CLAIM.check(user, claim, "review", to="approved" if approve else "rejected")
    on = on or shanghai_today()
    _require_reasons(approve, note)
    return _move(claim, new, user=user, on=on, note=note, decision_note=note)


@transaction.atomic
def claim_request_re_review(*, user, claim: Claim, on: date | None = None, note: str = "") -> Claim:
    """复核 (RP-16 step 2): the bank may ask once for a rejected claim to be decided again."""
    claim = _locked(claim)
    CLAIM.check(user, claim, "re-review")
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
        CLAIM.check(user, claim, "notice-start")
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
          summary=i18n_text.gettext_lazy("Objection filed"))
    return objection


@transaction.atomic
def objection_decide(*, user, objection: Objection, upheld: bool, note: str = "", on: date | None = None) -> Objection:
    """RP-16 step 3: an upheld objection sends the claim to re-review (not counted as the bank's
    one request); a dismissed one lets the notice run out."""
    claim = _locked(objection.claim)
    if upheld:
        CLAIM.check(user, claim, "objection-uphold")
    elif not can.claim_reviewer(user, claim):  # a dismissal leaves the claim where it is: only the person counts
        raise PermissionDenied(_("Your role does not allow this step."))
    on = on or shanghai_today()
    status = Objection.Status.UPHELD if upheld else Objection.Status.DISMISSED
    updated = Objection.objects.filter(pk=objection.pk, status=Objection.Status.PENDING).update(
        status=status, decided_by=user, decision_note=note)
    if updated != 1:
        raise Conflict("RP-16", _("This objection has already been decided."))
    objection.refresh_from_db()
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=objection, organisation=claim.project.pool.reviewer,
          summary=i18n_text.gettext_lazy("Objection %(status)s") % {"status": i18n_text.label(status)})
    if upheld:
        _move(claim, "objection_upheld", user=user, on=on, note=note)
        _move(claim, CLAIM.check(user, claim, "objection-re-review"), user=user, on=on, note=note)
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
              summary=i18n_text.gettext_lazy("JB-1 calendar %(years)s confirmed: deadlines recomputed")
              % {"years": ", ".join(map(str, years))})
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
    # The definition's guard reads today; the notice is judged here against ``on``, in words naming its days.
    CLAIM.check(user, claim, "notice-close", guards=False)
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
          summary=i18n_text.gettext_lazy("Funding plan %(number)s") % {"number": number})
    for claim in claims:
        claim = _locked(claim)
        if claim.project.pool_id != pool.pk:
            raise RuleViolation("RP-16", _("A claim of another pool cannot be in this plan."), "claims")
        CLAIM.check(user, claim, "funding-plan")
        _move(claim, "in_funding_plan", user=user, on=on, funding_plan=plan)
    return plan


@transaction.atomic
def claim_documents_upload(*, user, claim: Claim, files, on: date | None = None) -> Claim:
    """RP-16 step 5: the bank uploads the payment documents (``files``: (kind, file) pairs); when
    all four are there the treasurer owes the payment within 10 days."""
    claim = _locked(claim)
    CLAIM.check(user, claim, "documents")
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
    try:
        CLAIM.check(user, claim, "pay")
    except Conflict:
        if LedgerEntry.objects.filter(idempotency_key=idempotency_key, claim=claim,
                                      kind=LedgerEntry.Kind.PAYOUT).exists():
            return claim  # the same payment again, already made: paid once
        raise
    _require_turn_in_queue(claim)
    ledger_post(user=user, pool=claim.project.pool, kind=LedgerEntry.Kind.PAYOUT, amount=claim.amount, booked_on=on,
                claim=claim, idempotency_key=idempotency_key, note=f"claim {claim.pk}")
    return _move(claim, "paid", user=user, on=on, paid_on=on, paid_amount=claim.amount)
