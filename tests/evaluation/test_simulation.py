"""Issue 15: the evaluation replay. A draft equal to the rule set in force changes nothing; a
higher excellence factor moves exactly the top firm whose leverage no longer clears it (EV-7)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.models import Organisation, RuleSet, Simulation
from core.services_rulesets import draft_create
from core.simulation import simulation_start
from evaluation.models import EvaluationYear, Result
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def published():
    """Ten firms of 2025, target leverage 3: the top one at leverage 5 (excellent: above 4.5), the
    bottom one at 2 (unqualified: below 3)."""
    year = EvaluationYear.objects.create(year=2025, target_leverage=Decimal("3"), target_clients=10,
                                         target_amount=Decimal("1000000"))
    results = []
    for i in range(10):
        firm = OrganisationFactory(kind=Organisation.Kind.GUARANTEE_FIRM)
        leverage = Decimal("5") if i == 0 else Decimal("2") if i == 9 else Decimal("3.5")
        results.append(Result.objects.create(year=year, firm=firm, region=firm.region, total=Decimal(100 - i * 5),
                                             leverage=leverage, rank=i + 1, rank_from_bottom=10 - i,
                                             klass="qualified"))
    RuleSet.objects.create(scheme=RuleSet.Scheme.EVALUATION, name="EV defaults", effective_from=date(2024, 1, 1),
                           params={"excellent_factor": "1.5"})
    return results


def run(admin, capture, **changes) -> Simulation:
    draft = draft_create(user=admin, rule_set=RuleSet.objects.get(scheme=RuleSet.Scheme.EVALUATION))
    draft.params = {**draft.params, **changes}
    draft.save()
    with capture(execute=True):
        sim = simulation_start(user=admin, draft=draft)
    sim.refresh_from_db()
    assert sim.state == Simulation.State.SUCCEEDED, sim.error
    return sim


def test_an_equal_draft_changes_nothing(admin, published, django_capture_on_commit_callbacks):
    sim = run(admin, django_capture_on_commit_callbacks)
    assert sim.result["changes"] == []
    totals = {t["code"]: (t["before"], t["after"]) for t in sim.result["totals"]}
    assert totals == {"firms_excellent": ("1", "1"), "firms_unqualified": ("1", "1")}


def test_ev7_a_higher_excellence_factor_moves_exactly_the_top_firm(admin, published,
                                                                   django_capture_on_commit_callbacks):
    sim = run(admin, django_capture_on_commit_callbacks, excellent_factor="2")
    assert [(c["id"], c["rule"], c["before"], c["after"]) for c in sim.result["changes"]] == [
        (published[0].firm_id, "EV-7", "excellent", "qualified")]
