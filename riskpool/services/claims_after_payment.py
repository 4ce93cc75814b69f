"""RP-16 / RP-17 claims after payment: the compensation library, upgrade and settlement
applications, recovery and nil-recovery reports with their returns, disposal, closure (RP-18)
and withdrawal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from core import calendar as core_calendar
from core import i18n_text
from core.audit import audit, snapshot
from core.calendar import shanghai_today
from core.errors import Conflict, RuleViolation
from core.i18n_text import join
from core.models import AuditEvent
from core.money import money
from core.periods import Quarter, period_bounds
from riskpool import rules
from riskpool.models import (
    Claim,
    Classification,
    LedgerEntry,
    LoanProject,
    MissingRecoveryReport,
    NilRecoveryReport,
    RecoveryReport,
)
from riskpool.workflows import CLAIM

from .claim_state import (
    _claim_params,
    _locked,
    _move,
    _refresh_application_due,
    _require_reasons,
)
from .common import LP
from .ledger import ledger_post
from .members import _member_of, member_refresh_npl


def _set_library(project: LoanProject, library: str, *, user, **extra) -> None:
    before = snapshot(project)
    LoanProject.objects.filter(pk=project.pk).update(library=library, **extra)
    project.refresh_from_db()
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=project, organisation=project.bank, before=before,
          summary=i18n_text.gettext_lazy("Library → %(library)s") % {"library": i18n_text.label(library)})


@transaction.atomic
def claim_to_compensation_library(*, user, claim: Claim, on: date) -> Claim:
    """RP-16 step 7: the bank moves the paid project to the compensation library."""
    claim = _locked(claim)
    CLAIM.check(user, claim, "to-library")
    _move(claim, "in_compensation_library", user=user, on=on)
    _set_library(claim.project, LP.Library.COMPENSATION, user=user)
    return claim


def _return(claim: Claim, kind: str, amount: Decimal, *, user, on: date, key: str | None) -> None:
    if amount > 0:
        ledger_post(user=user, pool=claim.project.pool, kind=kind, amount=amount, booked_on=on, claim=claim,
                    idempotency_key=key, note=f"claim {claim.pk}")


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
    late = i18n_text.gettext_lazy("Late: the %(step)s was due by %(due)s.") % {"step": step, "due": due.isoformat()}
    return join(" ", [late, note]) if note else late


@transaction.atomic
def claim_upgrade_request(*, user, claim: Claim, on: date | None = None, note: str = "") -> Claim:
    """上调申请 (RP-16 8a, 第十九条(五)): the loan is normal or special mention again; the bank
    applies within 15 working days of the reclassification, and the reviewer decides. A late
    application is accepted and marked late (``rules.applied_late``)."""
    claim = _locked(claim)
    # The definition's guard says the same as a Conflict; an input the bank must change is a RuleViolation.
    CLAIM.check(user, claim, "upgrade", guards=False)
    if claim.project.is_npl:
        raise RuleViolation("RP-16", _("Reclassify the loan as normal or special mention first."))
    on = on or shanghai_today()
    reclassified = _reclassified_on(claim)
    due = rules.upgrade_application_due(reclassified, calendar=core_calendar, params=_claim_params(claim)).date \
        if reclassified else None
    return _move(claim, "upgrade_requested", user=user, on=on, reclassified_on=reclassified,
                 note=_late_note(i18n_text.gettext_lazy("upgrade application"), due, on, note))


@transaction.atomic
def claim_upgrade_decide(*, user, claim: Claim, approve: bool, on: date | None = None, note: str = "",
                         idempotency_key: str | None = None) -> Claim:
    """RP-16 8a: the pool's reviewer approves the upgrade: the compensation not yet returned goes
    back to the pool (ledger return) and the project to the loan library; or refuses it, with
    reasons, and the claim stays in the compensation library."""
    claim = _locked(claim)
    new = CLAIM.check(user, claim, "upgrade-decide", to="upgraded" if approve else _back_from_application(claim))
    on = on or shanghai_today()
    _require_reasons(approve, note)
    if not approve:
        return _move(claim, new, user=user, on=on, note=note, decision_note=note,
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
    CLAIM.check(user, claim, "recovery")
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
          summary=i18n_text.gettext_lazy("Recovery %(gross)s, return %(amount)s") % {"gross": gross, "amount": amount})
    # Money found later in a quarter reported nil: the recovery stands, the nil statement goes
    # (kept in the audit trail), so the quarter is counted once, as recovered.
    quarter = Quarter.of(received_on)
    for nil in NilRecoveryReport.objects.filter(claim=claim, period=str(quarter)):
        audit(actor=user, action=AuditEvent.Action.DELETE, instance=nil, organisation=claim.project.bank,
              summary=i18n_text.gettext_lazy("Nil recovery report %(period)s superseded by a recovery") % {"period": nil.period})
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
    CLAIM.check(user, claim, "disposal-complete")
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
    CLAIM.check(user, claim, "settlement-request")
    on = on or shanghai_today()
    completed_on = completed_on or claim.disposal_completed_on
    if completed_on is None:
        raise RuleViolation("RP-16", _("Give the date the disposal was complete."), "completed_on")
    _check_completed_on(claim, completed_on, on)
    due = rules.settlement_application_due(completed_on, calendar=core_calendar, params=_claim_params(claim)).date
    return _move(claim, "settlement_requested", user=user, on=on, disposal_completed_on=completed_on,
                 note=_late_note(i18n_text.gettext_lazy("settlement application"), due, on, note))


@transaction.atomic
def claim_settlement_decide(*, user, claim: Claim, approve: bool, on: date | None = None, note: str = "") -> Claim:
    """RP-16 8b: the reviewer checks the settlement application: approved, the project moves to the
    settlement library (清偿项目库) and the authority owes the final accounting (核账结项);
    refused, with reasons, the claim goes back to recovery."""
    claim = _locked(claim)
    new = CLAIM.check(user, claim, "settlement-decide", to="settled" if approve else _back_from_application(claim))
    on = on or shanghai_today()
    _require_reasons(approve, note)
    if not approve:
        return _move(claim, new, user=user, on=on, note=note, decision_note=note,
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
    CLAIM.check(user, claim, "nil-recovery")
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
          summary=i18n_text.gettext_lazy("Nil recovery report %(period)s") % {"period": period})
    return report


@transaction.atomic
def claim_closure_request(*, user, claim: Claim, on: date, note: str = "") -> Claim:
    """核销结项 (RP-16 8c): after write-off or loss confirmation the bank applies to close."""
    claim = _locked(claim)
    try:
        CLAIM.check(user, claim, "closure-request")
    except Conflict:
        if claim.state in ("closure_reviewed", "closure_rechecked"):
            raise Conflict("RP-16", _("The closure is already being checked.")) from None
        raise
    return _move(claim, "closure_requested", user=user, on=on, note=note)


@transaction.atomic
def claim_closure_review(*, user, claim: Claim, approve: bool, on: date, note: str = "") -> Claim:
    """RP-16 8c: the reviewer checks the closure within 30 days, or sends it back."""
    claim = _locked(claim)
    new = CLAIM.check(user, claim, "closure-review", to="closure_reviewed" if approve else "in_compensation_library")
    return _move(claim, new, user=user, on=on, note=note)


@transaction.atomic
def claim_closure_recheck(*, user, claim: Claim, approve: bool, on: date, note: str = "") -> Claim:
    """RP-16 8c: the treasurer re-checks, or sends it back one level."""
    claim = _locked(claim)
    new = CLAIM.check(user, claim, "closure-recheck", to="closure_rechecked" if approve else "closure_requested")
    return _move(claim, new, user=user, on=on, note=note)


def _close_project(claim: Claim, reason: str, *, user, on: date) -> None:
    _set_library(claim.project, LP.Library.CLOSED, user=user, closed_on=on, closed_reason=reason)
    member_refresh_npl(_member_of(claim.project.pool, claim.project.bank), on=on)


@transaction.atomic
def claim_close(*, user, claim: Claim, on: date, approve: bool = True, note: str = "") -> Claim:
    """结项 by the authority (主管部门): a settled claim is closed (8b, 核账结项); a re-checked
    write-off closure is approved and goes to the finance bureau (8c), or is sent back."""
    claim = _locked(claim)
    CLAIM.check(user, claim, "close", to=None if approve else "closure_requested")
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
    new = CLAIM.check(user, claim, "finance-decide", to="closed" if approve else "closure_rechecked")
    on = on or shanghai_today()
    _require_reasons(approve, note)
    if not approve:
        return _move(claim, new, user=user, on=on, note=note, decision_note=note)
    _move(claim, "closed", user=user, on=on, note=note)
    _close_project(claim, LP.ClosedReason.WRITE_OFF, user=user, on=on)
    return claim


@transaction.atomic
def claim_withdraw(*, user, claim: Claim, on: date, note: str = "") -> Claim:
    """The bank withdraws a claim before it is approved."""
    claim = _locked(claim)
    CLAIM.check(user, claim, "withdraw")
    return _move(claim, "withdrawn", user=user, on=on, note=note, held_reason="")
