"""Issue 15: the Scheme S replay. A draft equal to the rule set in force changes nothing; each
changed parameter moves exactly the objects it should (tiers: the claims below the cap; the NPL
gate: the banks between the old and the new gate; growth shares: the grades); only the
authority runs simulations; adoption keeps the simulation attached."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from core.errors import RuleViolation
from core.models import Organisation, RuleSet, Simulation
from core.services_rulesets import draft_adopt, draft_create
from core.simulation import result_view, simulation_start
from riskpool.models import BankEvaluation
from tests.factories import ClaimFactory, MemberFactory, PoolFactory, UserFactory, bank_user

pytestmark = pytest.mark.django_db

BACKEND = "core.auth.ActiveAccountBackend"


@pytest.fixture
def admin():
    return UserFactory(organisation__kind=Organisation.Kind.AUTHORITY, roles=["authority_admin"])


@pytest.fixture
def portfolio():
    """Two claims (one plain at 40%, one with a feature bonus at the 50% cap) and three banks with
    NPL ratios 1%, 2.5% and 3.5%."""
    pool = PoolFactory()
    banks = [MemberFactory(pool=pool, npl_ratio=Decimal(r)) for r in ("0.010000", "0.025000", "0.035000")]
    plain = ClaimFactory(project__pool=pool, project__bank=banks[0].organisation)
    bonus = ClaimFactory(project__pool=pool, project__bank=banks[0].organisation, project__features=["green"])
    return {"pool": pool, "banks": banks, "plain": plain, "bonus": bonus}


def scheme_s() -> RuleSet:
    return RuleSet.objects.get(scheme=RuleSet.Scheme.RISKPOOL_S)


def run(admin, django_capture_on_commit_callbacks, scenario=None, **changes) -> Simulation:
    draft = draft_create(user=admin, rule_set=scheme_s())
    draft.params = {**draft.params, **changes}
    draft.save()
    with django_capture_on_commit_callbacks(execute=True):
        sim = simulation_start(user=admin, draft=draft, scenario=scenario)
    sim.refresh_from_db()
    assert sim.state == Simulation.State.SUCCEEDED, sim.error
    return sim


def changed(sim) -> set[tuple[str, int, str]]:
    return {(c["kind"], c["id"], c["field"]) for c in sim.result["changes"]}


def test_a_draft_equal_to_the_rule_set_in_force_changes_nothing(admin, portfolio, django_capture_on_commit_callbacks):
    sim = run(admin, django_capture_on_commit_callbacks)
    assert sim.result["changes"] == []
    assert sim.result["replayed"]["claims"] == 2 and sim.result["replayed"]["banks"] == 3
    assert all(t["before"] == t["after"] for t in sim.result["totals"])
    payouts = next(t for t in sim.result["totals"] if t["code"] == "payouts")
    assert payouts["before"] == "720,000.00"  # 40% and 50% of 800,000: the rules were really applied


def test_rp8_tiers_raised_10_points_move_only_the_claims_below_the_cap(admin, portfolio,
                                                                     django_capture_on_commit_callbacks):
    tiers = [[c, str(Decimal(r) + Decimal("0.1"))] for c, r in scheme_s().params["tiers"]]
    sim = run(admin, django_capture_on_commit_callbacks, tiers=tiers)
    plain = portfolio["plain"].pk
    assert changed(sim) == {("claim", plain, "ratio"), ("claim", plain, "amount")}
    ratio = next(c for c in sim.result["changes"] if c["field"] == "ratio")
    assert (ratio["before"], ratio["after"], ratio["rule"]) == ("40.00%", "50.00%", "RP-8")
    payouts = next(t for t in sim.result["totals"] if t["code"] == "payouts")
    assert payouts["delta"] == "80,000.00"
    assert sum(Decimal(q["delta"].replace(",", "")) for q in sim.result["by_quarter"]) == Decimal("80000.00")


def test_rp15_gate_tightened_to_2_percent_holds_exactly_the_bank_between_2_and_3(admin, portfolio,
                                                                              django_capture_on_commit_callbacks):
    sim = run(admin, django_capture_on_commit_callbacks, npl_gate="0.020000")
    assert changed(sim) == {("bank", portfolio["banks"][1].pk, "npl_gate")}
    gated = next(t for t in sim.result["totals"] if t["code"] == "banks_gated")
    assert (gated["before"], gated["after"]) == ("1", "2")


def test_rp11_cap_lowered_moves_the_claim_at_the_cap(admin, portfolio, django_capture_on_commit_callbacks):
    sim = run(admin, django_capture_on_commit_callbacks, ratio_cap="0.450000")
    assert changed(sim) == {("claim", portfolio["bonus"].pk, "ratio"), ("claim", portfolio["bonus"].pk, "amount")}


def test_rp20_growth_share_moves_the_grade(admin, portfolio, django_capture_on_commit_callbacks):
    pool, banks = portfolio["pool"], portfolio["banks"]
    for rank, (member, amount, prev) in enumerate(
            zip(banks, ("300", "200", "100"), ("100", "180", "99"), strict=True), start=1):
        BankEvaluation.objects.create(pool=pool, year=2024, member=member, amount=Decimal(amount), borrowers=10,
                                      prev_amount=Decimal(prev), prev_borrowers=10, rank_amount=rank,
                                      rank_borrowers=1, grade="qualified")
    same = run(admin, django_capture_on_commit_callbacks)
    assert not [c for c in same.result["changes"] if c["field"] == "grade"]
    # With three banks nobody is in the top 15% or 30% of growth; 34% lets the best one in.
    sim = run(admin, django_capture_on_commit_callbacks, evaluation_growth_excellent_top="0.340000")
    assert changed(sim) == {("bank", banks[0].pk, "grade")}


def test_only_the_authority_runs_simulations_and_sees_them(admin, portfolio, client,
                                                           django_capture_on_commit_callbacks):
    sim = run(admin, django_capture_on_commit_callbacks)
    with pytest.raises(RuleViolation):
        simulation_start(user=bank_user(), draft=sim.draft)
    client.force_login(bank_user(), backend=BACKEND)
    assert client.get(reverse("rulesets:simulation", args=[sim.pk])).status_code == 404
    assert client.post(reverse("rulesets:simulate", args=[sim.draft.pk])).status_code == 404


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_simulation_page_lists_the_changes_in_the_readers_language(admin, portfolio, client, language,
                                                                   django_capture_on_commit_callbacks):
    sim = run(admin, django_capture_on_commit_callbacks, npl_gate="0.020000")
    client.force_login(admin, backend=BACKEND)
    page = client.get(reverse("rulesets:simulation", args=[sim.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    text = page.content.decode()
    assert "RP-15" in text
    assert ("不良率门槛" if language == "zh-hans" else "NPL gate") in text


def test_the_page_starts_a_simulation_and_adoption_keeps_it_attached(admin, portfolio, client,
                                                                      django_capture_on_commit_callbacks):
    draft = draft_create(user=admin, rule_set=scheme_s())
    client.force_login(admin, backend=BACKEND)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("rulesets:simulate", args=[draft.pk]), {"date_from": "2025-01-01"})
    sim = Simulation.objects.get(draft=draft)
    assert response.status_code == 302 and sim.state == "succeeded" and sim.scenario == {"date_from": "2025-01-01"}
    draft.effective_from = date(2026, 1, 1)
    draft.save()
    rule_set = draft_adopt(user=admin, draft=draft, simulation=sim)
    assert rule_set.adopted_from.adopted_with == sim
    assert result_view(sim)["change_count"] == 0


def test_api_starts_a_simulation_from_a_rule_set_and_returns_its_result(admin, portfolio,
                                                                       django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/simulations/", {"base": scheme_s().pk, "params": {"npl_gate": "0.020000"},
                                                  "scenario": {"date_from": "2025-01-01"}}, format="json")
    assert response.status_code == 202, response.json()
    result = api.get(f"/api/simulations/{response.json()['id']}/").json()
    assert result["state"] == "succeeded"
    assert [(c["kind"], c["field"], c["rule"], c["before"], c["after"]) for c in result["result"]["changes"]] == [
        ("bank", "npl_gate", "RP-15", "open", "held")]


def test_api_refuses_a_bad_parameter_naming_it_and_other_organisations(admin, portfolio):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(admin)
    response = api.post("/api/simulations/", {"base": scheme_s().pk, "params": {"npl_gate": "7"}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "npl_gate"
    sim_id = Simulation.objects.values_list("pk", flat=True).first()
    other = APIClient()
    other.force_authenticate(bank_user())
    assert other.post("/api/simulations/", {"base": scheme_s().pk}, format="json").status_code == 403
    assert other.get(f"/api/simulations/{sim_id or 1}/").status_code == 404


def test_projection_follows_the_draft_and_the_stress(admin, portfolio, django_capture_on_commit_callbacks):
    from core.calendar import shanghai_today
    from riskpool.models import Classification, Pool
    from tests.factories import LoanProjectFactory

    pool, bank = portfolio["pool"], portfolio["banks"][0].organisation
    LoanProjectFactory(pool=pool, bank=bank, principal=Decimal("10000000.00"))  # performing
    fell = LoanProjectFactory(pool=pool, bank=bank, principal=Decimal("400000.00"), classification="substandard")
    Classification.objects.create(project=fell, on=shanghai_today(), old="normal", new="substandard")
    Pool.objects.filter(pk=pool.pk).update(balance=Decimal("1000000.00"))
    tiers = [[c, str(Decimal(r) + Decimal("0.1"))] for c, r in scheme_s().params["tiers"]]
    sim = run(admin, django_capture_on_commit_callbacks, scenario={"floor": "500000"}, tiers=tiers)
    p = sim.result["projection"]
    first = p["quarters"][0]
    # 400,000 fell over 4 quarters of 10,000,000 performing: 1% a quarter, 100,000 a quarter, paid
    # at the enterprise claims' average ratio: 45% in force (40% and 50%), 50% under the draft.
    assert (Decimal(first["payouts_before"]), Decimal(first["payouts_after"])) == (Decimal("45000.00"),
                                                                                    Decimal("50000.00"))
    assert Decimal(p["quarters"][-1]["after"]) == Decimal("400000.00")  # no recoveries: nothing was paid yet
    assert p["run_out"]["after"] is None
    assert p["budget"]["after"] == "8,333.34"  # 100,000 short of the floor after 12 quarters
    stressed = run(admin, django_capture_on_commit_callbacks, scenario={"npl_factor": "2"}, tiers=tiers)
    q = stressed.result["projection"]
    assert Decimal(q["quarters"][0]["payouts_after"]) == Decimal("100000.00")
    assert q["run_out"]["after"] == q["quarters"][10]["quarter"]  # 1,000,000 − 11 × 100,000 < 0


def test_projection_is_on_the_page_with_its_chart_and_as_xlsx(admin, portfolio, client,
                                                               django_capture_on_commit_callbacks):
    sim = run(admin, django_capture_on_commit_callbacks)
    client.force_login(admin, backend=BACKEND)
    page = client.get(reverse("rulesets:simulation", args=[sim.pk])).content.decode()
    assert 'id="sim-projection"' in page and "<svg" in page
    response = client.get(reverse("rulesets:simulation-xlsx", args=[sim.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    client.force_login(bank_user(), backend=BACKEND)
    assert client.get(reverse("rulesets:simulation-xlsx", args=[sim.pk])).status_code == 404


def scheme_m() -> RuleSet:
    return RuleSet.objects.filter(scheme=RuleSet.Scheme.RISKPOOL_M).order_by("-effective_from").first()


def run_m(admin, django_capture_on_commit_callbacks, **changes) -> Simulation:
    draft = draft_create(user=admin, rule_set=scheme_m())
    draft.params = {**draft.params, **changes}
    draft.save()
    with django_capture_on_commit_callbacks(execute=True):
        sim = simulation_start(user=admin, draft=draft)
    sim.refresh_from_db()
    assert sim.state == Simulation.State.SUCCEEDED, sim.error
    return sim


def test_rp_m3_an_equal_draft_changes_nothing_and_usage_zero_suspends_exactly_the_products(
        admin, django_capture_on_commit_callbacks):
    from riskpool.models import Product
    from tests.factories import ProductFactory

    product = ProductFactory(code="sci_tech")
    same = run_m(admin, django_capture_on_commit_callbacks)
    assert same.result["changes"] == [] and same.result["replayed"]["products"] == Product.objects.count()
    # Nothing reimbursed yet reaches 0% of any sub-fund: every product would be suspended.
    sim = run_m(admin, django_capture_on_commit_callbacks, suspension_usage="0")
    assert {(c["kind"], c["id"], c["field"], c["rule"]) for c in sim.result["changes"]} == {
        ("product", p.pk, "suspended", "RP-M3") for p in Product.objects.all()}
    assert product.pk in {c["id"] for c in sim.result["changes"]}


def test_several_drafts_side_by_side(admin, portfolio, client, django_capture_on_commit_callbacks):
    tiers = [[c, str(Decimal(r) + Decimal("0.1"))] for c, r in scheme_s().params["tiers"]]
    a = run(admin, django_capture_on_commit_callbacks, tiers=tiers)
    b = run(admin, django_capture_on_commit_callbacks, npl_gate="0.020000")
    client.force_login(admin, backend=BACKEND)
    page = client.get(reverse("rulesets:simulation-compare"), {"ids": [a.pk, b.pk]})
    assert page.status_code == 200
    text = page.content.decode()
    assert "800,000.00" in text and "720,000.00" in text  # draft a's payouts beside those in force
    assert client.get(reverse("rulesets:list")).status_code == 200
    client.force_login(bank_user(), backend=BACKEND)
    assert client.get(reverse("rulesets:simulation-compare"), {"ids": [a.pk, b.pk]}).status_code == 403


@pytest.mark.postgres
def test_bench_simulation_replays_the_generated_data_set():
    import io

    from django.core.management import call_command

    call_command("riskpool_generate", projects=2000, banks=8, seed=7, stdout=io.StringIO())
    out = io.StringIO()
    call_command("bench_simulation", repeat=1, stdout=out)
    text = out.getvalue()
    assert "tiers +10 points" in text and "NPL gate 2%" in text and "within" in text
