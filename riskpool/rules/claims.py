"""Scheme S claims: RP-1 pool money (payout order), the RP-16 claim workflow (states, allowed
transitions, step deadlines, ``StepDue``), RP-17 returns, RP-18 normal closure and RP-19
transition dates. Pure: nothing here queries or saves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core.errors import Conflict, RuleViolation
from core.i18n_text import gettext_lazy as _
from core.money import amount as _amount
from core.money import money, round_money
from core.periods import add_months, quarter_end

from .params import S_DEFAULTS, SchemeSParams, WorkingDayCalendar, _fraction

if TYPE_CHECKING:  # core.calendar reads its override table from the database; only its type here
    from core.calendar import Deadline

# --- RP-1 pool money -----------------------------------------------------------------------


def payout_fits(balance: Any, amount: Any) -> bool:
    """RP-1: a payout is allowed only when it leaves the pool balance 0 or more."""
    return _amount(amount, "RP-1", "amount") <= money(balance, rule="RP-1", field="balance")


def payout_fits_queue(balance: Any, ahead: Any, amount: Any) -> bool:
    """RP-1 "claims wait in order of approval when money is short": a claim is paid only when
    the balance covers it after every claim approved before it and still waiting for payment
    (``ahead``, their total) has been set aside. With money enough for all, order does not matter."""
    return payout_fits(money(balance, rule="RP-1", field="balance") - money(ahead, rule="RP-1", field="ahead"), amount)


def payable_in_order(balance: Any, amounts: list[Any]) -> list[bool]:
    """RP-1 over a queue already in approval order: which claims the balance pays now. A claim
    that does not fit stops the ones behind it (they may not jump the queue), so the answer is
    a run of True then only False."""
    left = money(balance, rule="RP-1", field="balance")
    flags, blocked = [], False
    for amount in amounts:
        fits = not blocked and payout_fits(left, amount)
        if fits:
            left -= _amount(amount, "RP-1", "amount")
        blocked = blocked or not fits
        flags.append(fits)
    return flags


# --- RP-16 claim workflow ------------------------------------------------------------------

CLAIM_STATES = (
    "submitted",  # 提交, awaiting the reviewer's decision (审核)
    "held_npl_gate",  # accepted but not processed: the bank's NPL ratio is above 3% (RP-15)
    "approved",  # 审核通过, waiting for the next public notice
    "rejected",  # 不予补偿, with reasons
    "re_review",  # 复核: asked for once by the bank after a rejection, or after an upheld objection
    "on_notice",  # 公示
    "objection_upheld",  # 异议成立: goes back to re-review
    "notice_passed",  # notice over without an upheld objection, waiting for a funding plan
    "in_funding_plan",  # 资助计划下达: the bank owes the payment documents
    "documents_uploaded",  # 拨款资料: the treasurer owes the payment
    "paid",  # 拨付 (ledger payout): the bank owes the move to the compensation library
    "in_compensation_library",  # 风险补偿项目库
    "upgrade_requested",  # 上调申请 (8a): the reviewer owes the decision
    "upgraded",  # 上调 approved: back to the loan library, compensation returned
    "recovering",  # 清收 reports under way
    "settlement_requested",  # 清收申请 (8b): disposal complete, the reviewer owes the check
    "settled",  # checked: 清偿项目库, the authority owes the final accounting (核账结项)
    "closure_requested",  # 核销结项 applied for: the reviewer owes the check
    "closure_reviewed",  # checked by the reviewer: the treasurer owes the re-check
    "closure_rechecked",  # re-checked: the authority (主管部门) approves
    "closure_approved",  # approved by the authority: the finance bureau (监管执行部门) approves
    "closed",  # 结项
    "withdrawn",  # withdrawn by the bank before approval
)

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"approved", "rejected", "held_npl_gate", "withdrawn"}),
    "held_npl_gate": frozenset({"submitted", "withdrawn"}),
    "rejected": frozenset({"re_review", "withdrawn"}),
    "re_review": frozenset({"approved", "rejected", "withdrawn"}),
    "approved": frozenset({"on_notice"}),
    "on_notice": frozenset({"objection_upheld", "notice_passed"}),
    "objection_upheld": frozenset({"re_review"}),
    "notice_passed": frozenset({"in_funding_plan"}),
    "in_funding_plan": frozenset({"documents_uploaded"}),
    "documents_uploaded": frozenset({"paid", "in_funding_plan"}),
    "paid": frozenset({"in_compensation_library"}),
    "in_compensation_library": frozenset({"upgrade_requested", "recovering", "settlement_requested",
                                          "closure_requested"}),
    "recovering": frozenset({"upgrade_requested", "settlement_requested", "closure_requested"}),
    "upgrade_requested": frozenset({"upgraded", "in_compensation_library", "recovering"}),
    "settlement_requested": frozenset({"settled", "in_compensation_library", "recovering"}),
    "settled": frozenset({"closed"}),
    "closure_requested": frozenset({"closure_reviewed", "in_compensation_library"}),
    "closure_reviewed": frozenset({"closure_rechecked", "closure_requested"}),
    "closure_rechecked": frozenset({"closure_approved", "closure_requested"}),
    "closure_approved": frozenset({"closed", "closure_rechecked"}),
    "upgraded": frozenset(),
    "closed": frozenset(),
    "withdrawn": frozenset(),
}
"""RP-16 (第十九条, 第二十条): the claim states and the steps allowed between them.

The main line is submitted → approved → on_notice → notice_passed → in_funding_plan →
documents_uploaded → paid → in_compensation_library, then one of: upgrade_requested → upgraded
(8a, on the reviewer's approval); recovering, settlement_requested → settled (the reviewer's check
moves the project to the settlement library) → closed (8b, 核账结项); closure_requested →
closure_reviewed → closure_rechecked → closure_approved (the authority) → closed (the finance
bureau, 8c). A rejected upgrade or settlement application goes back to where it came from
(recovering when the claim has recovery reports, else in_compensation_library). A rejected claim may go to re_review once at the bank's request (``transition_allowed``
counts the bank's requests; a re-review caused by an upheld objection does not count); an
upheld objection sends the claim to re_review through objection_upheld; a dismissed objection
changes nothing and the notice runs out to notice_passed. The treasurer may send incomplete
payment documents back (documents_uploaded → in_funding_plan); each closure check may send the
application back one level (the authority's refusal goes back to the reviewer's check, as before). A claim stays ``rejected`` when the bank does not ask again.

Interpretation: the RP-15 gate holds a claim before its first review decision (submitted →
held_npl_gate, and back to submitted when the bank's ratio is again at most 3%; the 30-day
review runs from that return). A claim already approved, or in re-review, is not stopped by
the gate, and a bank may withdraw a claim only before it is approved.
"""

TERMINAL_STATES = frozenset(state for state, nexts in ALLOWED_TRANSITIONS.items() if not nexts)


def transition_allowed(old: str, new: str, *, bank_re_reviews: int = 0) -> bool:
    """RP-16: whether a claim may go from ``old`` to ``new``; ``bank_re_reviews`` is how many
    re-reviews the bank has already asked for (第二十条(一): once; the second is refused). A
    claim's ``re_review_used`` flag may be passed as it is (True counts as 1)."""
    if new not in ALLOWED_TRANSITIONS.get(old, frozenset()):
        return False
    return not (old == "rejected" and new == "re_review" and bank_re_reviews >= 1)


def check_transition(old: str, new: str, *, bank_re_reviews: int = 0) -> None:
    """RP-16: raise ``Conflict`` (409) naming both states when the step is not allowed."""
    if old not in ALLOWED_TRANSITIONS or new not in ALLOWED_TRANSITIONS:
        raise RuleViolation("RP-16", _("Unknown claim state."), "state")
    if not transition_allowed(old, new, bank_re_reviews=bank_re_reviews):
        if old == "rejected" and new == "re_review":
            raise Conflict("RP-16", _("The bank may ask for a re-review only once."))
        raise Conflict("RP-16", _("A claim that is %(old)s cannot become %(new)s.") % {"old": old, "new": new})


def review_due(submitted_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 step 1 (第二十条(一)): the reviewer decides within 30 days of the submission (or of a
    held claim's release)."""
    return submitted_on + timedelta(days=params.review_days)


def re_review_due(requested_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 step 2 (第二十条(一)(二)): the re-review decision.

    Interpretation: the policy gives the re-review no period of its own; it gets the same 30
    days as the first review, from the bank's request or the upheld objection.
    """
    return requested_on + timedelta(days=params.review_days)


def notice_end(notice_start: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS) -> Deadline:
    """RP-16 step 3 (第二十条(二), 公示期不少于7个工作日): the last day of the public notice, and of
    the time to object.

    Interpretation: the day the notice is published does not count (民法典 第二百零一条: a
    period in days starts the next day), so the notice ends at the end of the 7th working day
    after its start; objections are accepted up to and including that day, and the claim may
    proceed (notice_passed, funding plan) from the next day, ``notice_may_proceed_on``.
    """
    return calendar.working_day_deadline(notice_start, params.notice_working_days)


def notice_may_proceed_on(
    notice_start: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS
) -> date:
    """RP-16 step 3: the first day a claim whose notice began on ``notice_start`` may pass the
    notice: the day after ``notice_end``; while that end is provisional (JB-1), the day after
    the latest date it could turn out to be."""
    return notice_end(notice_start, calendar=calendar, params=params).latest + timedelta(days=1)


def documents_due(plan_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 step 5 (第十九条(三)): the bank uploads the payment documents within 3 days of the
    funding plan (资助计划下达). Sending documents back does not move this date."""
    return plan_on + timedelta(days=params.documents_days)


def payment_due(documents_complete_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 step 6 (第二十条(三)): the treasurer pays within 10 days of complete documents."""
    return documents_complete_on + timedelta(days=params.payment_days)


def transfer_due(
    money_arrived_on: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS
) -> Deadline:
    """RP-16 step 7 (第十九条(四)): the bank moves the project to the compensation library within
    15 working days of the money arriving."""
    return calendar.working_day_deadline(money_arrived_on, params.transfer_working_days)


def upgrade_application_due(
    upgraded_on: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS
) -> Deadline:
    """RP-16 step 8a (第十九条(五)): the bank applies within 15 working days of the loan's
    reclassification as normal or special-mention."""
    return calendar.working_day_deadline(upgraded_on, params.upgrade_working_days)


def recovery_report_due(
    received_on: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS
) -> Deadline:
    """RP-16 step 8b (第十九条(六)): recovered money is reported and returned within the first 15
    working days of the quarter after the quarter it was received in."""
    return calendar.working_day_deadline(quarter_end(received_on), params.recovery_report_working_days)


def settlement_application_due(
    disposal_completed_on: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS
) -> Deadline:
    """RP-16 step 8b (第十九条(六)): once disposal is complete the bank applies for settlement
    (清收申请, into the settlement library) within 15 working days."""
    return calendar.working_day_deadline(disposal_completed_on, params.settlement_working_days)


def closure_review_due(applied_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 step 8c (第二十条(六)): the reviewer checks a write-off closure within 30 days."""
    return applied_on + timedelta(days=params.closure_review_days)


def application_review_due(applied_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 steps 8a and 8b (第十九条(五)(六)): the reviewer (高新投集团) decides an upgrade
    application, or checks a settlement application, before the project changes library.

    Interpretation: the policy names the reviewer's approval but gives it no period; it gets the
    30 days the reviewer has for a claim (第二十条(一)), from the bank's application.
    """
    return applied_on + timedelta(days=params.review_days)


def closure_approval_due(previous_step_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 step 8c (第十九条(七)): after the reviewer's check, the treasurer's re-check (金融中心复核),
    the authority's approval (主管部门) and the finance bureau's approval (监管执行部门), in turn.

    Interpretation: the policy gives these three steps no period of their own; each gets the 30
    days of the reviewer's closure check (第二十条(六)), from the step before it.
    """
    return previous_step_on + timedelta(days=params.closure_review_days)


def application_due(
    *,
    reclassified_on: date | None,
    disposal_completed_on: date | None,
    calendar: WorkingDayCalendar,
    params: SchemeSParams = S_DEFAULTS,
) -> StepDue | None:
    """RP-16 8a / 8b: what a compensated claim in the compensation library (or recovering) owes
    next, if anything: the upgrade application within 15 working days of the loan's
    reclassification as normal or special mention (``reclassified_on``, 第十九条(五)), or the
    settlement application within 15 working days of completed disposal (``disposal_completed_on``,
    第十九条(六)); the earlier when both are pending. The bank owes it."""
    options = []
    if reclassified_on is not None:
        options.append(_due("upgrade_application", "bank",
                            upgrade_application_due(reclassified_on, calendar=calendar, params=params)))
    if disposal_completed_on is not None:
        options.append(_due("settlement_application", "bank",
                            settlement_application_due(disposal_completed_on, calendar=calendar, params=params)))
    return min(options, key=lambda item: item.due) if options else None


def applied_late(due: date | None, applied_on: date) -> bool:
    """RP-16 8a / 8b / RP-18: an application made after the last day of its period.

    Interpretation: a late application is still accepted (refusing it would keep the loan, and
    the money owed to the pool, out of the workflow); it is recorded as late on the claim's steps
    and in the audit trail, and the item stays on the bank's overdue list until it is made.
    """
    return due is not None and applied_on > due


@dataclass(frozen=True)
class StepDue:
    """RP-16: a step of a claim, who owes it (``bank``, ``reviewer``, ``treasurer``,
    ``authority``, ``finance_bureau``; ``public`` for the end of the notice, until which anyone
    may object) and by when."""

    step: str
    owner: str
    due: date
    provisional: bool = False
    latest: date | None = None  # JB-1: the latest it could turn out to be; ``due`` when confirmed

    def __post_init__(self):
        if self.latest is None:
            object.__setattr__(self, "latest", self.due)


def _due(step: str, owner: str, deadline: date | Deadline) -> StepDue:
    if isinstance(deadline, date):
        return StepDue(step, owner, deadline)
    return StepDue(step, owner, deadline.date, deadline.provisional, deadline.latest)


def claim_deadlines(
    *,
    calendar: WorkingDayCalendar,
    params: SchemeSParams = S_DEFAULTS,
    submitted_on: date | None = None,
    re_review_requested_on: date | None = None,
    notice_start: date | None = None,
    plan_on: date | None = None,
    documents_complete_on: date | None = None,
    money_arrived_on: date | None = None,
    upgraded_on: date | None = None,
    recovery_received_on: date | None = None,
    disposal_completed_on: date | None = None,
    closure_applied_on: date | None = None,
    upgrade_applied_on: date | None = None,
    settlement_applied_on: date | None = None,
    closure_reviewed_on: date | None = None,
    closure_rechecked_on: date | None = None,
    closure_approved_on: date | None = None,
) -> dict[str, StepDue]:
    """RP-16: every deadline of a claim whose starting date is known, by step, for the claim's
    page (steps: review, re_review, notice_end, documents, payment, transfer,
    upgrade_application, recovery_report, settlement_application, closure_review, upgrade_review,
    settlement_review, closure_recheck, closure_approval, finance_approval)."""
    starts = {
        "review": (submitted_on, "reviewer", lambda d: review_due(d, params)),
        "re_review": (re_review_requested_on, "reviewer", lambda d: re_review_due(d, params)),
        "notice_end": (notice_start, "public", lambda d: notice_end(d, calendar=calendar, params=params)),
        "documents": (plan_on, "bank", lambda d: documents_due(d, params)),
        "payment": (documents_complete_on, "treasurer", lambda d: payment_due(d, params)),
        "transfer": (money_arrived_on, "bank", lambda d: transfer_due(d, calendar=calendar, params=params)),
        "upgrade_application": (
            upgraded_on,
            "bank",
            lambda d: upgrade_application_due(d, calendar=calendar, params=params),
        ),
        "recovery_report": (
            recovery_received_on,
            "bank",
            lambda d: recovery_report_due(d, calendar=calendar, params=params),
        ),
        "settlement_application": (
            disposal_completed_on,
            "bank",
            lambda d: settlement_application_due(d, calendar=calendar, params=params),
        ),
        "closure_review": (closure_applied_on, "reviewer", lambda d: closure_review_due(d, params)),
        "upgrade_review": (upgrade_applied_on, "reviewer", lambda d: application_review_due(d, params)),
        "settlement_review": (settlement_applied_on, "reviewer", lambda d: application_review_due(d, params)),
        "closure_recheck": (closure_reviewed_on, "treasurer", lambda d: closure_approval_due(d, params)),
        "closure_approval": (closure_rechecked_on, "authority", lambda d: closure_approval_due(d, params)),
        "finance_approval": (closure_approved_on, "finance_bureau", lambda d: closure_approval_due(d, params)),
    }
    return {step: _due(step, owner, compute(start)) for step, (start, owner, compute) in starts.items() if start}


# The step owed while a claim is in a state whose clock starts when it enters the state.
_STATE_STEPS = {
    "submitted": "review",
    "re_review": "re_review",
    "in_funding_plan": "documents",
    "documents_uploaded": "payment",
    "paid": "transfer",
    "closure_requested": "closure_review",
    "upgrade_requested": "upgrade_review",
    "settlement_requested": "settlement_review",
    "closure_reviewed": "closure_recheck",
    "closure_rechecked": "closure_approval",
    "closure_approved": "finance_approval",
}
_STEP_STARTS = {
    "review": "submitted_on",
    "re_review": "re_review_requested_on",
    "documents": "plan_on",
    "payment": "documents_complete_on",
    "transfer": "money_arrived_on",
    "closure_review": "closure_applied_on",
    "upgrade_review": "upgrade_applied_on",
    "settlement_review": "settlement_applied_on",
    "closure_recheck": "closure_reviewed_on",
    "closure_approval": "closure_rechecked_on",
    "finance_approval": "closure_approved_on",
}


def next_step_due(
    state: str, since: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS
) -> StepDue | None:
    """RP-16: the step owed in ``state`` and its deadline, counted from ``since``, the date its
    clock started (submission or release from the gate; re-review request; funding plan;
    complete documents; money arrived; closure application), for the overdue lists (JB-3).
    None for a state with no deadline of its own; the per-event deadlines (notice end, upgrade
    application, quarterly recovery report, settlement application) come from
    ``claim_deadlines`` or their own functions."""
    step = _STATE_STEPS.get(state)
    if step is None:
        return None
    return claim_deadlines(calendar=calendar, params=params, **{_STEP_STARTS[step]: since})[step]


# --- RP-17 returns -------------------------------------------------------------------------


def _remaining(paid: Any, returned_so_far: Any, rule: str) -> Decimal:
    paid_amount = _amount(paid, rule, "paid")
    returned = _amount(returned_so_far, rule, "returned_so_far")
    if returned > paid_amount:
        raise RuleViolation(rule, _("More has been returned than was paid."), "returned_so_far")
    return paid_amount - returned


def recovery_return(gross: Any, share: Any, paid: Any, returned_so_far: Any) -> Decimal:
    """RP-17 (第十九条(六)): a recovery returns gross recovery (before litigation or arbitration
    costs) × the claim's ratio, in cents, never more in total than the compensation paid:
    min(gross × ratio, paid − returned so far)."""
    gross_amount = _amount(gross, "RP-17", "gross")
    claim_ratio = _fraction(share, "RP-17", "ratio")
    return min(round_money(gross_amount * claim_ratio), _remaining(paid, returned_so_far, "RP-17"))


def upgrade_return(paid: Any, returned_so_far: Any) -> Decimal:
    """RP-16 step 8a (第十九条(五)): on an approved upgrade the bank returns the compensation not
    yet returned."""
    return _remaining(paid, returned_so_far, "RP-16")


# --- RP-18 normal-loan closure -------------------------------------------------------------


def normal_closure_due(maturity: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-18 (第十九条(八)): a loan repaid at maturity is closed by the bank within 3 months."""
    return add_months(maturity, params.normal_closure_months)


def auto_close_on(maturity: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-18 (第十九条(八)): a loan still open with no claim 6 months after maturity is closed by
    the system.

    Interpretation: the bank has the whole of maturity + 6 months (clamped to the month's end)
    to close it or claim; the system may close it from the next day on (the quarterly job, JB-5,
    closes every loan whose date has come).
    """
    return add_months(maturity, params.auto_closure_months) + timedelta(days=1)


# --- RP-19 transition ----------------------------------------------------------------------


def ratio_rule_date(npl_on: date) -> date:
    """RP-19 (第二十一条): the ratios (RP-8 … RP-14) come from the rule set in force on the date
    the loan was classified non-performing (2023-03-01 … 2023-08-09: 深工信规〔2020〕4号; from
    2023-08-10: the current rules). The services pass this date to ``core.rulesets.rule_params``."""
    return npl_on


def entry_rule_date(disbursed_on: date) -> date:
    """RP-19 (第二十一条): entry (RP-3 … RP-7) follows the rule set in force on the disbursement
    date."""
    return disbursed_on
