"""The counter-guarantee plan and its measures as workflow definitions (core.workflow).

A plan is drafted and re-checked while a draft, approved with its check stored, and released
when the guarantee is repaid (CG-13). Each measure goes planned → contracted → registered as its
contract and registration are recorded (CG-10, CG-11), then released with the plan or enforced
on default, when the firm must act before its limitation date (CG-13). The services check every
step here; the plan page, the API and the JB-3 list read the same definitions."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.workflow import Guard, Step, Workflow
from counterguarantee import permissions as can
from counterguarantee.models import Measure, Plan
from guarantees.models import Guarantee

P = Plan.Status
M = Measure.Status
OPEN = (M.PLANNED, M.CONTRACTED, M.REGISTERED)
# CG-13: the guarantee states in which the firm pursues its counter-guarantors.
DEFAULTED_STATES = (Guarantee.Status.DEFAULTED, Guarantee.Status.COMPENSATED, Guarantee.Status.RECOVERING,
                    Guarantee.Status.WRITTEN_OFF)

GUARANTEE_RELEASED = Guard(lambda plan: plan.guarantee.status == Guarantee.Status.RELEASED, "CG-13",
                           _("The guarantee is not released (repaid) yet."))

PLAN = Workflow(
    name="counterguarantee.plan", rule="CG-13", states=P, state_field="status",
    noun=_("the counter-guarantee plan"),
    steps=[
        Step("edit", _("Edit the plan"), "STATE", [(P.DRAFT, P.DRAFT)], can.plan_firm_operator,
             refused=_("The plan is approved; record after-care steps instead of editing it."),
             url="counterguarantee:plan-edit", url_args=lambda plan, name: (plan.guarantee_id,)),
        Step("approve", _("Approve"), "STATE", [(P.DRAFT, P.APPROVED)], can.plan_firm_operator,
             refused=_("The plan is already approved."), url="counterguarantee:plan-approve"),
        Step("release", _("Release every measure"), "CG-13", [(P.APPROVED, P.RELEASED)], can.plan_firm_operator,
             guards=[GUARANTEE_RELEASED], refused=_("Only an approved, unreleased plan has after-care steps."),
             url="counterguarantee:plan-release"),
    ],
)

PLAN_APPROVED = Guard(lambda m: m.plan.status == P.APPROVED, "STATE",
                      _("Only an approved, unreleased plan has after-care steps."))
DEFAULTED = Guard(lambda m: m.plan.guarantee.status in DEFAULTED_STATES, "CG-13", _("The guarantee has not defaulted."))
ENFORCEMENT_OPEN = Guard(lambda m: m.enforcement_closed_on is None, "STATE", _("This measure is not being enforced."))
ENFORCEMENT_RECORDED = Guard(lambda m: m.enforcement_closed_on is None, "STATE",
                             _("Record enforcement of this measure first."))
URL = "counterguarantee:measure-action"


def _url_args(measure, name: str):
    return (measure.pk, name)


def _limitation(measure):
    return measure.limitation_due_on if measure.enforcement_closed_on is None else None


MEASURE = Workflow(
    name="counterguarantee.measure", rule="CG-13", states=M, state_field="status", noun=_("the measure"),
    steps=[
        Step("contract", _("Record the contract and registration"), "CG-10",
             [(M.PLANNED, M.CONTRACTED), (M.PLANNED, M.REGISTERED), (M.CONTRACTED, M.CONTRACTED),
              (M.CONTRACTED, M.REGISTERED)], can.measure_firm_operator, guards=[PLAN_APPROVED],
             refused=_("This measure is already registered, released or being enforced."),
             url=URL, url_args=_url_args),
        Step("inspection", _("Record an inspection"), "CG-13", [(s, s) for s in OPEN], can.measure_firm_operator,
             guards=[PLAN_APPROVED], url=URL, url_args=_url_args),
        Step("event", _("Record an abnormal event"), "CG-13", [(s, s) for s in OPEN], can.measure_firm_operator,
             guards=[PLAN_APPROVED], url=URL, url_args=_url_args),
        Step("enforce", _("Pursue on default"), "CG-13", [(s, M.ENFORCED) for s in OPEN], can.measure_firm_operator,
             guards=[PLAN_APPROVED, DEFAULTED], refused=_("This measure is already released or being enforced."),
             url=URL, url_args=_url_args),
        Step("action", _("Record an action (interrupts the limitation period)"), "CG-13",
             [(M.ENFORCED, M.ENFORCED)], can.measure_firm_operator, guards=[ENFORCEMENT_RECORDED],
             refused=_("Record enforcement of this measure first."), deadline=_limitation, url=URL,
             url_args=_url_args),
        Step("close", _("Close the enforcement"), "CG-13", [(M.ENFORCED, M.ENFORCED)], can.measure_firm_operator,
             guards=[ENFORCEMENT_OPEN], refused=_("This measure is not being enforced."), url=URL,
             url_args=_url_args),
        # Taken for every open measure at once by the plan's release (PLAN "release").
        Step("release", _("Release every measure"), "CG-13", [(s, M.RELEASED) for s in OPEN],
             can.measure_firm_operator),
    ],
)
