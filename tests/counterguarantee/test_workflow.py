"""CG-10, CG-11, CG-13: the plan and measure workflow definitions (counterguarantee.workflows)
are the one place that says which step is open to whom in which state; these tests pin them to
the spec and to each role."""
from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from core.errors import Conflict
from counterguarantee import services
from counterguarantee.models import Measure, Plan
from counterguarantee.workflows import MEASURE, PLAN
from guarantees.models import Guarantee
from tests.counterguarantee.factories import draft_plan, ensure_tables, guarantor_data, mortgage_data, other_firm_user
from tests.factories import RegionFactory, authority_user

pytestmark = pytest.mark.django_db
P, M = Plan.Status, Measure.Status


@pytest.fixture(autouse=True)
def _tables():
    ensure_tables()


def moves(flow):
    return {(t.source, t.target) for t in flow.transitions() if t.source != t.target}


def test_cg13_every_state_has_a_label_in_workflow_order():
    assert list(P.values) == ["draft", "approved", "released"]
    assert list(M.values) == ["planned", "contracted", "registered", "released", "enforced"]
    for flow in (PLAN, MEASURE):
        for state in flow.states:
            assert state.label and str(state.label) != state.value
            assert flow.label(state.value) == state.label


def test_cg13_plan_transitions_draft_approved_released():
    assert moves(PLAN) == {(P.DRAFT, P.APPROVED), (P.APPROVED, P.RELEASED)}
    assert PLAN.terminal_states() == frozenset({P.RELEASED})


def test_cg10_cg11_cg13_measure_transitions_are_the_spec_status_line():
    """Spec: planned → contracted → registered → released | enforced (a contract recorded with its
    registration goes straight to registered; any open measure is released or enforced)."""
    open_states = (M.PLANNED, M.CONTRACTED, M.REGISTERED)
    assert moves(MEASURE) == {(M.PLANNED, M.CONTRACTED), (M.PLANNED, M.REGISTERED), (M.CONTRACTED, M.REGISTERED),
                              *((s, M.RELEASED) for s in open_states), *((s, M.ENFORCED) for s in open_states)}
    assert MEASURE.terminal_states() == frozenset({M.RELEASED, M.ENFORCED})


def plan_names(user, plan):
    return [a.name for a in PLAN.actions_for(user, plan)]


def measure_names(user, measure):
    return [a.name for a in MEASURE.actions_for(user, measure) if a.name != "release"]


def test_cg13_actions_for_the_firm_and_nobody_else_along_the_plan():
    plan, user = draft_plan(measures=[guarantor_data(), mortgage_data()], credit_grounds=["CG-1.2"])
    outsiders = (other_firm_user(), authority_user(RegionFactory()))
    assert plan_names(user, plan) == ["edit", "approve"]
    (edit,) = PLAN.actions_for(user, plan, names=["edit"])
    assert edit.url == f"/counterguarantee/guarantees/{plan.guarantee_id}/plan/"
    assert all(plan_names(u, plan) == [] for u in outsiders)
    measure = plan.measures.get(kind="mortgage")
    assert measure_names(user, measure) == []  # after-care starts with approval

    services.plan_approve(user=user, plan=plan, on=date(2025, 1, 2))
    plan.refresh_from_db()
    assert plan_names(user, plan) == []  # the guarantee is not repaid yet
    measure = Measure.objects.get(pk=measure.pk)
    contracted = plan.measures.get(kind="guarantee")
    assert measure.status == M.REGISTERED and measure_names(user, measure) == ["inspection", "event"]
    assert contracted.status == M.CONTRACTED and measure_names(user, contracted) == ["contract", "inspection", "event"]
    assert all(measure_names(u, measure) == [] for u in outsiders)

    Guarantee.objects.filter(pk=plan.guarantee_id).update(status=Guarantee.Status.DEFAULTED)
    measure = Measure.objects.get(pk=measure.pk)
    assert measure_names(user, measure) == ["inspection", "event", "enforce"]
    Measure.objects.filter(pk=measure.pk).update(status=M.ENFORCED, limitation_due_on=date(2028, 1, 2))
    measure = Measure.objects.get(pk=measure.pk)
    assert measure_names(user, measure) == ["action", "close"]
    assert MEASURE.deadline(measure) == date(2028, 1, 2)
    Measure.objects.filter(pk=measure.pk).update(enforcement_closed_on=date(2025, 6, 1))
    measure = Measure.objects.get(pk=measure.pk)
    assert measure_names(user, measure) == [] and MEASURE.deadline(measure) is None

    Guarantee.objects.filter(pk=plan.guarantee_id).update(status=Guarantee.Status.RELEASED)
    plan = Plan.objects.get(pk=plan.pk)
    assert plan_names(user, plan) == ["release"]
    assert all(plan_names(u, plan) == [] for u in outsiders)


def test_cg13_a_step_out_of_turn_is_refused_with_the_services_message():
    plan, user = draft_plan()
    with pytest.raises(PermissionDenied):
        PLAN.check(other_firm_user(), plan, "approve")
    with pytest.raises(Conflict, match="not released"):
        Plan.objects.filter(pk=plan.pk).update(status=P.APPROVED, approved_on=date(2025, 1, 2), approval_passed=True)
        PLAN.check(user, Plan.objects.get(pk=plan.pk), "release")
    with pytest.raises(Conflict, match="already approved"):
        PLAN.check(user, Plan.objects.get(pk=plan.pk), "approve")


def test_cg13_the_plan_api_lists_the_requesting_users_actions(client):
    plan, user = draft_plan()
    client.force_login(user)
    detail = client.get(f"/api/counterguarantee/plans/{plan.pk}/").json()
    assert [(a["name"], a["target"]) for a in detail["actions"]] == [("edit", "draft"), ("approve", "approved")]
    assert detail["actions"][1]["url"] == f"/counterguarantee/plans/{plan.pk}/approve/"
    client.force_login(authority_user(plan.firm.region))
    assert client.get(f"/api/counterguarantee/plans/{plan.pk}/").json()["actions"] == []
