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
from core.models import RuleSet, Simulation
from core.services_rulesets import draft_adopt, draft_create
from core.simulation import result_view, simulation_start
from riskpool.models import BankEvaluation
from tests.factories import ClaimFactory, MemberFactory, PoolFactory, bank_user

pytestmark = pytest.mark.django_db

BACKEND = "core.auth.ActiveAccountBackend"


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


# --- issue 15 "Scale": the set-based replay decides every claim as the per-row replay does -----

def varied_claims(pool, bank) -> dict:
    """Claims that pass or fail each rule of the quote, or sit on a boundary a draft can move."""
    from guarantees.models import BorrowerQualification
    from riskpool.models import SpecialListEntry

    def claim(project=None, **kwargs):
        return ClaimFactory(project__pool=pool, project__bank=bank, **{f"project__{k}": v for k, v in (project or {}).items()},
                            **kwargs)

    made = {
        "plain": claim(),
        "green": claim({"features": ["green"]}),
        "tier2": claim({"other_balance": Decimal("6000000.00")}),
        "tier3": claim({"other_balance": Decimal("20000000.00")}, state="paid", paid_on=date(2025, 7, 15)),
        "above_top": claim({"other_balance": Decimal("29500000.00"), "principal": Decimal("1000000.00")}),
        "owner": claim({"loan_kind": "owner", "other_balance": Decimal("8500000.00")}),
        "late": claim(submitted_on=date(2025, 5, 20), credit_report_on=date(2025, 5, 15)),
        "too_late": claim(submitted_on=date(2025, 6, 20), credit_report_on=date(2025, 6, 16)),
        "old_report": claim(credit_report_on=date(2025, 3, 10)),
        "entered_late": claim({"entered_on": date(2024, 7, 25)}),
        "npl_before_entry": claim({"entered_on": date(2024, 4, 10)}, npl_on=date(2024, 4, 9),
                                  submitted_on=date(2024, 5, 6), credit_report_on=date(2024, 5, 1)),
        "dear": claim({"annual_rate": Decimal("0.056000")}),  # above the 1-year LPR 3.45% + 2%, not the 5-year
        "relending": claim({"purpose": "relending"}),
        "covered": claim({"covered_by_other_scheme": True}),
        "rejected": claim({"features": ["pure_credit"]}, state="rejected"),
        "unknown_feature": claim({"features": ["moonshot"]}),
        "usd": claim({"currency": "USD", "principal": Decimal("100000.00"), "principal_yuan": Decimal("712345.67")},
                     outstanding_principal=Decimal("90000.00")),
        "qualified": claim(),
        "special_code": claim({"other_balance": Decimal("40000000.00")}),
        "special_industry": claim({"borrower__industry": "semis"}),
    }
    BorrowerQualification.objects.create(borrower=made["qualified"].project.borrower, code="high_tech",
                                         valid_from=date(2024, 1, 1), valid_to=date(2026, 1, 1))
    SpecialListEntry.objects.create(pool=pool, credit_code=made["special_code"].project.borrower.id_number,
                                    ratio=Decimal("0.350000"), valid_from=date(2025, 1, 1))
    SpecialListEntry.objects.create(pool=pool, industry="semis", ratio=Decimal("0.450000"), valid_from=date(2025, 1, 1))
    return made


DRAFTS = {
    "equal": {},
    "tiers +10": {"tiers": [["5000000.00", "0.500000"], ["15000000.00", "0.400000"], ["30000000.00", "0.300000"]]},
    "tier ceilings": {"tiers": [["4000000.00", "0.400000"], ["25000000.00", "0.300000"], ["50000000.00", "0.200000"]]},
    "npl gate": {"npl_gate": "0.020000"},
    "cap": {"ratio_cap": "0.450000"},
    "bonuses": {"qualification_bonus": "0.050000", "feature_bonus": "0"},
    "window": {"claim_window_months": 2},
    "credit report": {"credit_report_working_days": 20},
    "entry": {"entry_working_day": 40},
    "spread": {"lpr_spread": "0.030000"},
    "caps": {"enterprise_balance_cap": "25000000.00", "household_credit_cap": "9000000.00"},
    "purposes": {"excluded_purposes": ["entrusted"]},
    "feature codes": {"feature_codes": ["first_loan", "green", "moonshot"]},
    "term": {"lpr_short_term_years": 0},
}


@pytest.mark.postgres
@pytest.mark.parametrize("name", list(DRAFTS))
def test_the_set_based_replay_decides_every_claim_as_the_per_row_replay(admin, portfolio, name):
    from core.simulation import ReplayContext
    from riskpool.simulation import replay_scheme_s

    varied_claims(portfolio["pool"], portfolio["banks"][0].organisation)
    params = {**scheme_s().params, **DRAFTS[name]}
    draft = draft_create(user=admin, rule_set=scheme_s())
    seen = []
    context = ReplayContext(draft=draft, draft_params=params, scenario={}, progress=lambda d, t: seen.append((d, t)))
    set_based = replay_scheme_s(context)
    assert seen and seen[-1][0] == seen[-1][1] and all(d <= t for d, t in seen)
    per_row = replay_scheme_s(context, set_based=False)
    assert set_based == per_row
    if name == "equal":
        assert set_based["changes"] == [] and set_based["replayed"]["claims"] == 22
    elif name in ("purposes", "feature codes"):
        # a code one of the two sets does not know: the claims using it cannot be decided
        assert set_based["replayed"]["claims_not_quotable"] >= 1
    else:
        assert set_based["changes"], name  # each draft moves something in this portfolio


def test_each_claim_parameter_moves_exactly_its_claims(admin, portfolio, django_capture_on_commit_callbacks):
    made = varied_claims(portfolio["pool"], portfolio["banks"][0].organisation)
    # RP-14: two months instead of three: the claim submitted in the third month only.
    sim = run(admin, django_capture_on_commit_callbacks, claim_window_months=2)
    assert {(c["id"], c["field"], c["rule"]) for c in sim.result["changes"]} == {
        (made["late"].pk, f, "RP-14") for f in ("eligible", "ratio", "amount")}
    # RP-9: a 5-point qualification bonus moves the qualified borrower's claim alone.
    sim = run(admin, django_capture_on_commit_callbacks, qualification_bonus="0.050000")
    assert {(c["id"], c["field"], c["rule"]) for c in sim.result["changes"]} == {
        (made["qualified"].pk, f, "RP-9") for f in ("ratio", "amount")}
    # RP-7: a 300bp spread lets the dear loan in, nothing else.
    sim = run(admin, django_capture_on_commit_callbacks, lpr_spread="0.030000")
    assert {c["id"] for c in sim.result["changes"]} == {made["dear"].pk}
    assert sim.progress_done == sim.progress_total > 0


def test_side_by_side_reads_the_simulations_in_one_query(admin, portfolio, client, django_capture_on_commit_callbacks,
                                                           django_assert_max_num_queries):
    sims = [run(admin, django_capture_on_commit_callbacks, npl_gate=gate)
            for gate in ("0.020000", "0.025000", "0.040000", "0.050000")]
    client.force_login(admin, backend=BACKEND)
    url = reverse("rulesets:simulation-compare")
    client.get(url, {"ids": [s.pk for s in sims[:2]]})  # warm the session and the caches
    with django_assert_max_num_queries(6) as two:
        assert client.get(url, {"ids": [s.pk for s in sims[:2]]}).status_code == 200
    with django_assert_max_num_queries(len(two.captured_queries)):
        assert client.get(url, {"ids": [s.pk for s in sims]}).status_code == 200
    assert client.get(url, {"ids": [sims[0].pk, 999999]}).status_code == 404
