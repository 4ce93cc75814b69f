"""Issue 15: the guarantees replay. A draft equal to the rule set in force changes nothing; a
higher bank minimum moves exactly the agreements below it (GU-2); a lower fee cap moves exactly
the small-micro guarantees between the two caps (GU-5)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core.models import RuleSet, Simulation
from core.services_rulesets import draft_create
from core.simulation import simulation_start
from tests.factories import AgreementFactory, GuaranteeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book():
    low_bank = AgreementFactory()
    high_bank = AgreementFactory(share_bank=Decimal("0.300000"), share_firm=Decimal("0.300000"))
    return {
        "low_bank": low_bank, "high_bank": high_bank,
        "at_8": GuaranteeFactory(agreement=low_bank, fee_rate=Decimal("0.008000")),
        "at_5": GuaranteeFactory(agreement=low_bank, fee_rate=Decimal("0.005000")),
        "large": GuaranteeFactory(agreement=low_bank, fee_rate=Decimal("0.008000"), small_micro_or_agri=False),
    }


def run(admin, capture, **changes) -> Simulation:
    rule_set = RuleSet.objects.get(scheme=RuleSet.Scheme.GUARANTEES)
    draft = draft_create(user=admin, rule_set=rule_set)
    draft.params = {**draft.params, **changes}
    draft.save()
    with capture(execute=True):
        sim = simulation_start(user=admin, draft=draft)
    sim.refresh_from_db()
    assert sim.state == Simulation.State.SUCCEEDED, sim.error
    return sim


def changed(sim):
    return {(c["kind"], c["id"], c["field"], c["rule"], c["after"]) for c in sim.result["changes"]}


def test_an_equal_draft_changes_nothing(admin, book, django_capture_on_commit_callbacks):
    sim = run(admin, django_capture_on_commit_callbacks)
    assert sim.result["changes"] == []
    assert sim.result["replayed"] == {"agreements": 2, "guarantees": 3}


def test_gu2_a_higher_bank_minimum_moves_exactly_the_agreement_below_it(admin, book,
                                                                        django_capture_on_commit_callbacks):
    sim = run(admin, django_capture_on_commit_callbacks, bank_min_share="0.250000")
    assert changed(sim) == {("agreement", book["low_bank"].pk, "compliant", "GU-2", "no")}


def test_gu5_a_lower_cap_moves_exactly_the_small_guarantee_between_the_caps(admin, book,
                                                                            django_capture_on_commit_callbacks):
    sim = run(admin, django_capture_on_commit_callbacks, fee_cap_low="0.007000")
    assert changed(sim) == {("guarantee", book["at_8"].pk, "fee_compliant", "GU-5", "no")}
    over = next(t for t in sim.result["totals"] if t["code"] == "guarantees_over_cap")
    assert (over["before"], over["after"]) == ("0", "1")
