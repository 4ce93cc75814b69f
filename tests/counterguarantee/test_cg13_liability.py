"""CG-13 (seed 002 第十七条(五); 民法典 第六百八十六、六百九十二 – 六百九十四条): a general guarantee (一般保证)
keeps the guarantor liable only by a suit or arbitration within the guarantee period; a written
demand suffices only for joint liability (连带责任保证); nothing after the period revives it. And a
compensated guarantee gives every counter-guarantee measure its date to act at once, without the
firm first marking each one enforced."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from core.calendar import shanghai_today
from core.models import AuditEvent
from core.periods import add_months
from counterguarantee import rules, services
from counterguarantee.models import Measure
from counterguarantee.rules import GENERAL, JOINT, Params, limitation
from guarantees import services as guarantee_services
from tests.counterguarantee.factories import (
    draft_plan,
    ensure_tables,
    example_guarantee,
    guarantor_data,
    mortgage_data,
)

P = Params()  # guarantee period 6 months, limitation 3 years
PAID = date(2025, 3, 10)
PERIOD_END = date(2025, 9, 10)


def due(kind, liability, *actions):
    return limitation(kind=kind, liability=liability, recourse_from=PAID, actions=list(actions), params=P)


# --- the rule at its boundaries -----------------------------------------------------------------


def test_cg13_general_guarantee_a_written_demand_keeps_nothing():
    found = due("guarantee", GENERAL, (date(2025, 5, 1), "demand_notice"))
    assert found.due_on == PERIOD_END and found.last_interruption is None and not found.lapsed


def test_cg13_general_guarantee_a_suit_on_the_last_day_of_the_period_keeps_it():
    for action in ("lawsuit", "arbitration"):
        found = due("guarantee", GENERAL, (PERIOD_END, action))
        assert found.due_on == date(2028, 9, 10) and found.last_interruption == PERIOD_END


def test_cg13_general_guarantee_a_suit_the_day_after_the_period_is_too_late():
    found = due("guarantee", GENERAL, (PERIOD_END + timedelta(days=1), "lawsuit"))
    assert found.lapsed and found.due_on == PERIOD_END and found.last_interruption is None


def test_cg13_joint_liability_a_written_demand_on_the_last_day_keeps_it():
    found = due("guarantee", JOINT, (PERIOD_END, "demand_notice"))
    assert found.due_on == date(2028, 9, 10) and not found.lapsed


def test_cg13_joint_liability_a_demand_the_day_after_is_too_late():
    assert due("guarantee", JOINT, (PERIOD_END + timedelta(days=1), "demand_notice")).lapsed


def test_cg13_unagreed_liability_is_a_general_guarantee():
    """民法典 第六百八十六条: no agreed way of liability means a general guarantee."""
    assert due("guarantee", "", (date(2025, 5, 1), "demand_notice")).due_on == PERIOD_END


def test_cg13_once_kept_any_action_within_the_limitation_restarts_it():
    found = due("guarantee", GENERAL, (date(2025, 6, 1), "lawsuit"), (date(2027, 1, 5), "demand_notice"))
    assert found.due_on == date(2030, 1, 5) and found.last_interruption == date(2027, 1, 5)


def test_cg13_collateral_within_three_years_and_not_after():
    assert due("mortgage", "", (date(2028, 3, 10), "enforcement")).due_on == date(2031, 3, 10)
    late = due("pledge", "", (date(2028, 3, 11), "enforcement"))
    assert late.lapsed and late.due_on == date(2028, 3, 10)


def test_cg13_actions_before_the_recourse_claim_do_not_count():
    assert due("guarantee", JOINT, (PAID - timedelta(days=1), "demand_notice")).due_on == PERIOD_END


# --- with the database ----------------------------------------------------------------------------


@pytest.fixture
def approved(db):
    """An approved plan of an active guarantee: a general-guarantee guarantor, a joint one and a
    mortgage."""
    ensure_tables()
    today = shanghai_today()
    start, end = today - timedelta(days=400), today - timedelta(days=40)
    guarantee = example_guarantee(start=start, loan_start=start, end=end, loan_maturity=end)
    plan, user = draft_plan(guarantee, on=start, measures=[
        guarantor_data(start=start, end=end, liability=GENERAL),
        guarantor_data(start=start, end=end, liability=JOINT, owners=["王五"], signatories=["王五"], contract_no="BZ-2"),
        mortgage_data(start=start, end=end, valued_on=start, valuation_valid_until=end)])
    services.plan_approve(user=user, plan=plan, on=start)
    return plan, user


def test_cg13_the_liability_is_kept_on_the_measure(approved):
    plan, _ = approved
    assert list(plan.measures.order_by("position").values_list("liability", flat=True)) == [GENERAL, JOINT, ""]


def test_cg13_compensation_gives_every_measure_its_date_without_marking_it(approved):
    plan, user = approved
    guarantee = plan.guarantee
    paid = shanghai_today() - timedelta(days=10)
    compensation = guarantee_services.guarantee_default(user=user, guarantee=guarantee, default_on=paid,
                                                        principal=D("500000.00"))
    guarantee_services.compensation_pay(user=user, compensation=compensation, paid_on=paid)
    measures = list(Measure.objects.filter(plan=plan).order_by("position"))
    assert [m.status for m in measures] == [Measure.Status.ENFORCED] * 3
    assert [m.recourse_from for m in measures] == [paid] * 3
    assert [m.limitation_due_on for m in measures] == [add_months(paid, 6), add_months(paid, 6), add_months(paid, 36)]
    assert AuditEvent.objects.filter(object_type__icontains="measure", summary__contains="compensation paid by the firm").count() == 3


def test_cg13_a_demand_moves_the_date_of_a_joint_guarantor_only(approved):
    plan, user = approved
    from guarantees.models import Guarantee

    Guarantee.objects.filter(pk=plan.guarantee_id).update(status=Guarantee.Status.COMPENSATED)
    today = shanghai_today()
    general, joint, _mortgage = plan.measures.order_by("position")
    for m in (general, joint):
        services.measure_enforce(user=user, measure=m, recourse_from=today - timedelta(days=20))
        services.enforcement_action_record(user=user, measure=m, on=today, kind="demand_notice")
    general.refresh_from_db()
    joint.refresh_from_db()
    assert general.limitation_due_on == add_months(today - timedelta(days=20), 6) and general.last_interruption_on is None
    assert joint.limitation_due_on == add_months(today, 36) and joint.last_interruption_on == today
    services.enforcement_action_record(user=user, measure=general, on=today, kind="lawsuit")
    general.refresh_from_db()
    assert general.limitation_due_on == add_months(today, 36)


def test_cg13_liability_must_be_a_known_value():
    facts, problems = rules.MeasureFacts.read(
        {"kind": "guarantee", "start": "2025-01-01", "end": "2025-12-31", "liability": "partial"}, 0, rules.Tables(asset_classes={}))
    assert facts is None and [(p.rule, p.field) for p in problems] == [("CG-13", "measures[0].liability")]
