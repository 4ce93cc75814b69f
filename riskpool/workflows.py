"""The risk pool's claim workflows, each as one definition: the Scheme S claim (``CLAIM``, RP-16,
第十九条, 第二十条) and the Scheme M claim (``M_CLAIM``, RP-M4, RP-M5). For the Scheme S claim: its states (the
model's ``Claim.State``, in workflow order), the steps between them, who may take each step in
each state (riskpool.permissions), what else must hold, and which step carries the deadline of
its state. Every claim service takes its step through ``CLAIM.check`` (the Scheme M services
through ``M_CLAIM.check``); the claim page offers what ``CLAIM.actions_for`` lists and refuses a
step to anyone who is not its party; the JB-3 deadline lists and the overdue list read ``STATE_OWNERS``, which
is derived from the steps here. ``rules.ALLOWED_TRANSITIONS`` (pure, without Django) is the same
map; a test keeps the two equal (core.workflow).
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.calendar import shanghai_today
from core.workflow import Guard, Step, Workflow
from riskpool import permissions as can
from riskpool.models import Claim, MClaim

S = Claim.State
URL = "riskpool:claim-action"
LIBRARY = (S.IN_COMPENSATION_LIBRARY, S.RECOVERING)  # where the bank owes its 8a / 8b application


def _url_args(claim, name: str):
    return (claim.pk, name)


def _due(claim):
    """The stored deadline of the step the claim waits for (RP-16, JB-1 recomputes it)."""
    return claim.next_due_on


def _due_in(*states):
    """``_due`` only while the claim is in one of ``states`` (a step taken from several states
    whose deadline runs in some of them only); ``STATE_OWNERS`` reads ``states``."""
    def due(claim):
        return claim.next_due_on if claim.state in states else None

    due.states = states
    return due


def _forward(targets: dict):
    """A decision step leads to its first target when approved; a refusal takes the step's other
    transition from the same state, which the service chooses."""
    return lambda claim: targets[claim.state]


def _notice_over(claim) -> bool:
    from riskpool.services import notice_last_day  # the services read this module

    return claim.notice_end is not None and shanghai_today() > notice_last_day(claim)


NOTICE_OVER = Guard(_notice_over, "RP-16", _("The notice can be closed from the day after its last day."))
RE_REVIEW_ONCE = Guard(lambda claim: not claim.re_review_used, "RP-16", _("The bank may ask for a re-review only once."))
PERFORMING_AGAIN = Guard(lambda claim: not claim.project.is_npl, "RP-16",
                         _("The upgrade needs the loan reclassified as performing first (RP-16 8a)."))


def _step(name, label, transitions, who, *, rule="RP-16", **kwargs) -> Step:
    return Step(name, label, rule, transitions, who, url=URL, url_args=_url_args, **kwargs)


CLAIM = Workflow(
    name="riskpool.claim", rule="RP-16", states=S, noun=_("the claim"),
    steps=[
        # Steps 1-2: the reviewer's decision within 30 days; the RP-15 gate holds a claim first.
        Step("npl-gate-hold", _("Hold at the NPL gate (RP-15)"), "RP-15", [(S.SUBMITTED, S.HELD_NPL_GATE)], can.system),
        Step("npl-gate-release", _("Release from the NPL gate (RP-15)"), "RP-15",
             [(S.HELD_NPL_GATE, S.SUBMITTED)], can.system),
        _step("review", _("Decide the claim (RP-16 steps 1-2)"),
              [(S.SUBMITTED, S.APPROVED), (S.SUBMITTED, S.REJECTED), (S.RE_REVIEW, S.APPROVED),
               (S.RE_REVIEW, S.REJECTED)], can.claim_reviewer,
              target=_forward({S.SUBMITTED: S.APPROVED, S.RE_REVIEW: S.APPROVED}), deadline=_due),
        _step("re-review", _("Ask for a re-review (once)"), [(S.REJECTED, S.RE_REVIEW)], can.claim_bank,
              guards=[RE_REVIEW_ONCE]),
        _step("withdraw", _("Withdraw the claim"),
              [(S.SUBMITTED, S.WITHDRAWN), (S.HELD_NPL_GATE, S.WITHDRAWN), (S.REJECTED, S.WITHDRAWN),
               (S.RE_REVIEW, S.WITHDRAWN)], can.claim_bank),
        # Step 3: the authority's public notice; the reviewer decides objections.
        Step("notice-start", _("Put on the public notice"), "RP-16", [(S.APPROVED, S.ON_NOTICE)], can.claim_authority,
             url="riskpool:notice-desk", url_args=lambda claim, name: ()),
        _step("notice-close", _("Close the notice"), [(S.ON_NOTICE, S.NOTICE_PASSED)], can.claim_authority,
              guards=[NOTICE_OVER], deadline=_due),
        Step("objection-uphold", _("Uphold an objection"), "RP-16", [(S.ON_NOTICE, S.OBJECTION_UPHELD)],
             can.claim_reviewer),
        Step("objection-re-review", _("Re-review after the objection"), "RP-16",
             [(S.OBJECTION_UPHELD, S.RE_REVIEW)], can.claim_reviewer),
        # Steps 4-6: funding plan, payment documents, payment.
        Step("funding-plan", _("Put in a funding plan"), "RP-16", [(S.NOTICE_PASSED, S.IN_FUNDING_PLAN)],
             can.claim_authority, url="riskpool:pool-detail", url_args=lambda claim, name: (claim.pool_id,)),
        _step("documents", _("Upload the payment documents (RP-16 step 5)"),
              [(S.IN_FUNDING_PLAN, S.DOCUMENTS_UPLOADED)], can.claim_bank, deadline=_due),
        Step("documents-return", _("Send the payment documents back"), "RP-16",
             [(S.DOCUMENTS_UPLOADED, S.IN_FUNDING_PLAN)], can.claim_treasurer),
        _step("pay", _("Pay the claim (RP-16 step 6)"), [(S.DOCUMENTS_UPLOADED, S.PAID)], can.claim_treasurer,
              deadline=_due),
        # Step 7 and 8a / 8b / 8c: the compensation library and the ways out of it.
        _step("to-library", _("Move to the compensation library (RP-16 step 7)"),
              [(S.PAID, S.IN_COMPENSATION_LIBRARY)], can.claim_bank, deadline=_due),
        _step("upgrade", _("Apply for the upgrade (RP-16 8a)"),
              [(state, S.UPGRADE_REQUESTED) for state in LIBRARY], can.claim_bank,
              guards=[PERFORMING_AGAIN], deadline=_due),
        _step("upgrade-decide", _("Decide the upgrade application (RP-16 8a)"),
              [(S.UPGRADE_REQUESTED, S.UPGRADED), (S.UPGRADE_REQUESTED, S.IN_COMPENSATION_LIBRARY),
               (S.UPGRADE_REQUESTED, S.RECOVERING)], can.claim_reviewer,
              target=_forward({S.UPGRADE_REQUESTED: S.UPGRADED}), deadline=_due),
        _step("recovery", _("Report a recovery (RP-17)"),
              [(S.IN_COMPENSATION_LIBRARY, S.RECOVERING), (S.RECOVERING, S.RECOVERING)], can.claim_bank,
              rule="RP-17"),
        _step("nil-recovery", _("Report a quarter with nothing recovered (RP-16 8b)"),
              [(state, state) for state in LIBRARY], can.claim_bank),
        _step("disposal-complete", _("Record the end of the disposal (RP-16 8b)"),
              [(state, state) for state in LIBRARY], can.claim_bank),
        _step("settlement-request", _("Apply for settlement (RP-16 8b)"),
              [(state, S.SETTLEMENT_REQUESTED) for state in LIBRARY], can.claim_bank, deadline=_due),
        _step("settlement-decide", _("Check the settlement application (RP-16 8b)"),
              [(S.SETTLEMENT_REQUESTED, S.SETTLED), (S.SETTLEMENT_REQUESTED, S.IN_COMPENSATION_LIBRARY),
               (S.SETTLEMENT_REQUESTED, S.RECOVERING)], can.claim_reviewer,
              target=_forward({S.SETTLEMENT_REQUESTED: S.SETTLED}), deadline=_due),
        _step("closure-request", _("Request write-off closure (RP-16 8c)"),
              [(state, S.CLOSURE_REQUESTED) for state in LIBRARY], can.claim_bank),
        _step("closure-review", _("Check the closure (RP-16 8c)"),
              [(S.CLOSURE_REQUESTED, S.CLOSURE_REVIEWED), (S.CLOSURE_REQUESTED, S.IN_COMPENSATION_LIBRARY)],
              can.claim_reviewer, target=_forward({S.CLOSURE_REQUESTED: S.CLOSURE_REVIEWED}), deadline=_due),
        _step("closure-recheck", _("Re-check the closure (RP-16 8c)"),
              [(S.CLOSURE_REVIEWED, S.CLOSURE_RECHECKED), (S.CLOSURE_REVIEWED, S.CLOSURE_REQUESTED)],
              can.claim_treasurer, target=_forward({S.CLOSURE_REVIEWED: S.CLOSURE_RECHECKED}), deadline=_due),
        _step("close", _("Approve the closure (结项)"),
              [(S.SETTLED, S.CLOSED), (S.CLOSURE_RECHECKED, S.CLOSURE_APPROVED),
               (S.CLOSURE_RECHECKED, S.CLOSURE_REQUESTED)], can.claim_authority,
              target=_forward({S.SETTLED: S.CLOSED, S.CLOSURE_RECHECKED: S.CLOSURE_APPROVED}),
              deadline=_due_in(S.CLOSURE_RECHECKED)),
        _step("finance-decide", _("Approve the write-off closure as finance bureau (RP-16 8c)"),
              [(S.CLOSURE_APPROVED, S.CLOSED), (S.CLOSURE_APPROVED, S.CLOSURE_RECHECKED)], can.claim_finance_bureau,
              target=_forward({S.CLOSURE_APPROVED: S.CLOSED}), deadline=_due),
    ],
)

_PARTY_OF = {predicate: party for party, predicate in can.CLAIM_PARTIES.items()}


def _state_owners() -> dict[str, str]:
    """State → the party owing the step that carries the state's deadline."""
    owners: dict[str, str] = {}
    for step in CLAIM.steps:
        if step.deadline is None:
            continue
        for state in getattr(step.deadline, "states", step.sources):
            owners[state] = _PARTY_OF[step.predicate(state)]
    return owners


# Who owes the next step in each state with a deadline (RP-16), for the overdue and JB-3 lists.
STATE_OWNERS: dict[str, str] = _state_owners()


# --- Scheme M (马政办〔2024〕6号): the reviewer decides, the treasurer pays, the firm returns ---------

M = MClaim.State
M_URL = "riskpool:m-claim-action"

M_CLAIM = Workflow(
    name="riskpool.m_claim", rule="RP-M", states=M, noun=_("the claim"),
    steps=[
        Step("review", _("Decide the claim"), "RP-M4", [(M.SUBMITTED, M.APPROVED), (M.SUBMITTED, M.REJECTED)],
             can.m_claim_reviewer, target=_forward({M.SUBMITTED: M.APPROVED}), url=M_URL, url_args=_url_args),
        Step("pay", _("Pay the reimbursement"), "RP-M4", [(M.APPROVED, M.PAID)], can.m_claim_treasurer,
             url=M_URL, url_args=_url_args),
        Step("return", _("Record a recovery return (RP-M5)"), "RP-M5", [(M.PAID, M.PAID)], can.m_claim_firm,
             url=M_URL, url_args=_url_args, refused=_("Only a reimbursed claim returns recoveries.")),
    ],
)
