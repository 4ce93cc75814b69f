"""The counterguarantee services: saving and approving a plan through the one check, the stored
approval run, after-care state rules (CG-13) and the authority's tables (CG-4, CG-6)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied

from core.calendar import shanghai_today
from core.errors import Conflict, RuleViolation
from core.models import AuditEvent, Organisation
from core.periods import add_months
from counterguarantee import services
from counterguarantee.models import AssetClass, CheckRun, Measure, Plan
from guarantees.models import Guarantee
from tests.counterguarantee.factories import (
    draft_plan,
    ensure_tables,
    example_guarantee,
    guarantor_data,
    mortgage_data,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _tables():
    ensure_tables()


def authority_admin():
    return UserFactory(organisation__kind=Organisation.Kind.AUTHORITY, roles=["authority_admin"])


def test_plan_save_stores_the_days_check_and_replaces_measures():
    plan, user = draft_plan(measures=[guarantor_data(), mortgage_data()])
    assert plan.firm_id == plan.guarantee.firm_id
    assert [m.kind for m in plan.measures.all()] == ["guarantee", "mortgage"]
    assert plan.last_check["passed"] is True
    plan2 = services.plan_save(user=user, guarantee=plan.guarantee, data=services.PlanData(),
                               measures=[mortgage_data(value=D("2000000.00"))], on=date(2025, 1, 1))
    assert plan2.pk == plan.pk and plan2.measures.count() == 1
    assert plan2.last_check["passed"] is False
    assert AuditEvent.objects.filter(object_type="counterguarantee.plan", object_id=str(plan.pk)).count() == 2


def test_plan_save_refuses_another_firm_and_a_bank():
    guarantee = example_guarantee()
    for user in (UserFactory(organisation__kind="guarantee_firm", roles=["firm_operator"]),
                 UserFactory(organisation=guarantee.bank, roles=["bank_operator"])):
        with pytest.raises(PermissionDenied):
            services.plan_save(user=user, guarantee=guarantee, data=services.PlanData(), measures=[])


def test_cg8_plan_flag_needs_a_reason_at_save():
    guarantee = example_guarantee()
    with pytest.raises(RuleViolation) as caught:
        draft_plan(guarantee, resolving_existing_risk=True)
    assert caught.value.rule == "CG-8"


def test_approve_stores_the_run_with_the_plan_as_checked_and_the_rows_used():
    plan, user = draft_plan(measures=[guarantor_data(), mortgage_data()], credit_grounds=["CG-1.2"])
    run = services.plan_approve(user=user, plan=plan, on=date(2025, 1, 2))
    plan.refresh_from_db()
    assert plan.status == Plan.Status.APPROVED and plan.approval_passed is True and plan.approved_on == date(2025, 1, 2)
    assert run.checked_on == date(2025, 1, 2) and run.passed
    assert run.inputs["measures"][1]["asset_class"] == "real_estate"
    assert run.tables["bank_rates"] == {"real_estate": "0.700000"}
    assert {r["rule"]: r["outcome"] for r in run.results["results"]}["CG-1"] == "warning"
    statuses = dict(plan.measures.values_list("kind", "status"))
    assert statuses == {"guarantee": Measure.Status.CONTRACTED, "mortgage": Measure.Status.REGISTERED}
    with pytest.raises(Conflict):
        services.plan_approve(user=user, plan=plan, on=date(2025, 1, 3))
    with pytest.raises(Conflict):
        services.plan_save(user=user, guarantee=plan.guarantee, data=services.PlanData(), measures=[])


def test_approval_uses_the_tables_of_its_date():
    from counterguarantee.models import BankPledgeRate

    plan, user = draft_plan(measures=[mortgage_data()])
    BankPledgeRate.objects.create(asset_class=AssetClass.objects.get(code="real_estate"), rate=D("0.75"),
                                  effective_from=date(2025, 1, 2))
    with pytest.raises(RuleViolation) as caught:
        services.plan_approve(user=user, plan=plan, on=date(2025, 1, 2))
    assert caught.value.rule == "CG-6" and caught.value.field == "approval_note"
    assert not CheckRun.objects.exists()


def test_failing_plan_is_approved_with_a_note_and_recorded_as_failed():
    plan, user = draft_plan(measures=[mortgage_data(end=date(2026, 1, 31))])
    run = services.plan_approve(user=user, plan=plan, on=date(2025, 1, 1), note="化解存量风险")
    plan.refresh_from_db()
    assert run.passed is False and plan.approval_passed is False and plan.approval_note == "化解存量风险"


def test_cg13_enforce_only_after_default_and_release_only_after_repayment():
    today = shanghai_today()
    guarantee = example_guarantee(start=today - timedelta(days=30), loan_start=today - timedelta(days=30),
                                  end=today + timedelta(days=300), loan_maturity=today + timedelta(days=300))
    plan, user = draft_plan(guarantee, on=today, measures=[mortgage_data(
        start=guarantee.start, end=guarantee.end, valued_on=today, valuation_valid_until=guarantee.end)])
    services.plan_approve(user=user, plan=plan, on=today)
    measure = plan.measures.get()
    with pytest.raises(Conflict):
        services.measure_enforce(user=user, measure=measure, recourse_from=today)
    with pytest.raises(Conflict):
        services.plan_release(user=user, plan=plan, on=today, registration_cancelled=True, documents_returned=True)
    Guarantee.objects.filter(pk=guarantee.pk).update(status=Guarantee.Status.DEFAULTED)
    with pytest.raises(RuleViolation):
        services.measure_enforce(user=user, measure=measure, recourse_from=today + timedelta(days=1))
    measure = services.measure_enforce(user=user, measure=measure, recourse_from=today)
    assert measure.limitation_due_on == add_months(today, 36)
    with pytest.raises(RuleViolation):
        services.enforcement_action_record(user=user, measure=measure, on=today - timedelta(days=1), kind="lawsuit")
    services.enforcement_action_record(user=user, measure=measure, on=today, kind="lawsuit")
    services.enforcement_close(user=user, measure=measure, on=today)
    with pytest.raises(Conflict):
        services.enforcement_action_record(user=user, measure=measure, on=today, kind="lawsuit")


def test_authority_tables_are_audited_and_guarded():
    admin = authority_admin()
    row = services.bank_rate_set(user=admin, asset_class=AssetClass.objects.get(code="ship"), rate="0.55",
                                 effective_from=date(2026, 1, 1))
    assert services.bank_rates_on(date(2026, 1, 1))["ship"] == D("0.550000")
    assert services.bank_rates_on(date(2025, 12, 31))["ship"] == D("0.600000")
    assert AuditEvent.objects.filter(object_type="counterguarantee.bankpledgerate", object_id=str(row.pk)).exists()
    services.asset_class_save(user=admin, code="forest_right", name="林权", registry="real_estate")
    assert services.tables_on(date(2026, 1, 1)).asset_classes["forest_right"].registry == "real_estate"
    with pytest.raises(RuleViolation):
        services.bank_rate_set(user=admin, asset_class=AssetClass.objects.get(code="ship"), rate="1.2",
                               effective_from=date(2026, 1, 1))
    for user in (UserFactory(organisation__kind="guarantee_firm", roles=["firm_operator"]),
                 UserFactory(organisation__kind=Organisation.Kind.AUTHORITY, roles=["authority_reviewer"])):
        with pytest.raises(PermissionDenied):
            services.asset_class_save(user=user, code="x", name="x", registry="")


def test_cg3_the_adjustment_reason_is_kept_on_the_plan_and_shown_on_its_page(client):
    from django.urls import reverse

    reason = "区域信用环境良好，实际控制人信用记录优良，适当降低抵押要求"
    plan, user = draft_plan(credit_grounds=["CG-1.2"], adjustment_reason=reason)
    services.plan_approve(user=user, plan=plan, on=date(2025, 1, 2))
    assert Plan.objects.get(pk=plan.pk).adjustment_reason == reason
    client.force_login(user)
    assert reason in client.get(reverse("counterguarantee:plan-detail", args=[plan.pk])).content.decode()
