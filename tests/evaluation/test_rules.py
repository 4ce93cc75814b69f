"""EV-1 … EV-14 pure rules, without a database."""
from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import RuleViolation
from evaluation import rules
from evaluation.rules import DEFAULT_SCHEME, FirmFigures, Klass, Outcome, State, Targets

TARGETS = Targets(leverage=D("3.00"), clients=D("200"), amount=D("400000000.00"))


def figures(**overrides) -> FirmFigures:
    data = {"guarantee_balance": "1500000000.00", "net_assets": "300000000.00", "sme_clients": 260,
            "sme_amount": "450000000.00", "total_amount": "500000000.00", "avg_fee_rate": "0.0085"}
    data.update(overrides)
    return FirmFigures.from_mapping(data)


# --- EV-1 ---


def test_ev1_guarantee_firms_are_evaluated_reguarantee_and_agri_credit_are_not():
    assert rules.is_evaluated(kind="guarantee_firm")
    assert not rules.is_evaluated(kind="reguarantee_firm")
    assert not rules.is_evaluated(kind="guarantee_firm", exclusion=rules.Exclusion.AGRI_CREDIT)
    assert not rules.is_evaluated(kind="guarantee_firm", exclusion=rules.Exclusion.PROVINCIAL_REGUARANTEE)
    assert not rules.is_evaluated(kind="bank")


# --- EV-2 / EV-3 ---


def test_ev2_default_scheme_is_100_points_50_30_20():
    assert [(i.code, i.weight) for i in DEFAULT_SCHEME] == [("leverage", 50), ("support", 30), ("fee", 20)]
    assert rules.parse_scheme([i.as_dict() for i in DEFAULT_SCHEME]) == DEFAULT_SCHEME


def test_ev2_weights_must_add_up_to_100():
    rows = [i.as_dict() for i in DEFAULT_SCHEME]
    rows[0]["weight"] = "40"
    with pytest.raises(RuleViolation) as err:
        rules.parse_scheme(rows)
    assert err.value.rule == "EV-2"


def test_ev3_parts_must_add_up_to_the_indicator_weight_and_functions_are_known():
    rows = [i.as_dict() for i in DEFAULT_SCHEME]
    rows[1]["params"]["parts"][0]["weight"] = "11"
    with pytest.raises(RuleViolation, match="parts"):
        rules.parse_scheme(rows)
    rows = [i.as_dict() for i in DEFAULT_SCHEME]
    rows[2]["function"] = "magic"
    with pytest.raises(RuleViolation):
        rules.parse_scheme(rows)


def test_ev3_issue_example_scores_100():
    result = rules.score(figures(), TARGETS)
    assert figures().leverage == D("5.000000")
    assert result.scores == {"leverage": D("50.00"), "support": D("30.00"), "fee": D("20.00")}
    assert result.total == D("100.00")


def test_ev3_leverage_exactly_at_target_scores_full_50():
    f = figures(guarantee_balance="900000000.00")  # L = 3.00 = T
    assert rules.score(f, TARGETS).scores["leverage"] == D("50.00")


def test_ev3_leverage_below_target_is_proportional_and_rounded_once():
    f = figures(guarantee_balance="400000000.00")  # L = 1.333333
    assert rules.score(f, TARGETS).scores["leverage"] == D("22.22")  # 50 × 1.333333 / 3 = 22.22222


def test_ev3_support_parts_are_summed_unrounded_then_rounded():
    # n 66/200 → 3.30; a 133,400,000 / 400,000,000 → 3.335; s 0.2668 / 0.8 → 3.335: 9.97 once rounded
    # (rounding each part first would give 3.30 + 3.34 + 3.34 = 9.98).
    f = figures(sme_clients=66, sme_amount="133400000.00", total_amount="500000000.00")
    assert f.support_share == D("0.266800")
    assert rules.score(f, TARGETS).scores["support"] == D("9.97")


@pytest.mark.parametrize(("rate", "expected"), [
    ("0.0100", "20.00"), ("0.0099", "20.00"), ("0.0200", "0.00"), ("0.0250", "0.00"),
    ("0.0150", "10.00"), ("0.0101", "19.80"), ("0.0123", "15.40"),
])
def test_ev3_fee_rate_boundaries_exactly_1_and_2_percent(rate, expected):
    assert rules.score(figures(avg_fee_rate=rate), TARGETS).scores["fee"] == D(expected)


def test_ev3_total_is_sum_of_rounded_indicator_scores():
    f = figures(guarantee_balance="400000000.00", avg_fee_rate="0.0123")
    result = rules.score(f, TARGETS)
    assert result.total == sum(result.scores.values())


def test_ev3_missing_or_nonpositive_net_assets_is_refused_naming_the_field():
    with pytest.raises(RuleViolation) as err:
        FirmFigures.from_mapping({**figures().as_dict(), "net_assets": "0"}, where="firms[0].")
    assert err.value.field == "firms[0].net_assets"
    data = figures().as_dict()
    del data["sme_clients"]
    with pytest.raises(RuleViolation) as err:
        FirmFigures.from_mapping(data)
    assert err.value.field == "sme_clients"


def test_ev3_declared_figures_over_1_percent_are_flagged():
    assert not rules.differs(D("100"), D("101"))  # exactly 1%: not over
    assert rules.differs(D("100"), D("101.01"))
    assert rules.differs(D("100"), D("98.9"))
    assert not rules.differs(D("100"), None)
    assert rules.differs(None, D("5")) and not rules.differs(D("0"), D("0"))


@given(
    balance=st.integers(min_value=0, max_value=10**12), assets=st.integers(min_value=1, max_value=10**11),
    clients=st.integers(min_value=0, max_value=10**5), sme=st.integers(min_value=0, max_value=10**11),
    extra=st.integers(min_value=0, max_value=10**11), fee=st.integers(min_value=0, max_value=500),
)
def test_ev3_scores_never_exceed_weights_or_go_negative(balance, assets, clients, sme, extra, fee):
    f = FirmFigures.from_mapping({"guarantee_balance": balance, "net_assets": assets, "sme_clients": clients,
                                  "sme_amount": sme, "total_amount": sme + extra, "avg_fee_rate": D(fee) / 10000})
    result = rules.score(f, TARGETS)
    for indicator in DEFAULT_SCHEME:
        assert D(0) <= result.scores[indicator.code] <= indicator.weight
    assert result.total == sum(result.scores.values())


# --- EV-5 ---


def test_ev5_firm_deadline_is_31_march_or_30_march_in_a_leap_february():
    assert rules.firm_deadline(2022) == date(2023, 3, 31)
    assert rules.firm_deadline(2023) == date(2024, 3, 30)  # February 2024 has 29 days
    dates = rules.chain_dates(2024)
    assert dates.firm == date(2025, 3, 31) and dates.city == date(2025, 4, 30)
    assert dates.firm < dates.county < dates.city < dates.province


def test_ev5_chain_goes_one_step_forward_and_one_step_back():
    steps = rules.chain_steps(has_county=True, has_city=True)
    assert steps == [State.DRAFT, State.COUNTY, State.CITY, State.PROVINCE, State.ACCEPTED]
    assert rules.next_step(State.DRAFT, steps) == State.COUNTY
    assert rules.previous_step(State.PROVINCE, steps) == State.CITY
    assert rules.previous_step(State.COUNTY, steps) == State.DRAFT
    with pytest.raises(RuleViolation):
        rules.previous_step(State.DRAFT, steps)
    with pytest.raises(RuleViolation):
        rules.next_step(State.ACCEPTED, steps)


def test_ev5_a_level_without_supervisor_is_skipped():
    steps = rules.chain_steps(has_county=False, has_city=True)
    assert rules.next_step(State.DRAFT, steps) == State.CITY
    assert rules.previous_step(State.CITY, steps) == State.DRAFT


# --- EV-6 / EV-7 ---


def test_ev6_equal_scores_share_the_best_rank():
    assert rules.competition_ranks([D(90), D(80), D(80), D(70)]) == [1, 2, 2, 4]
    assert rules.competition_ranks([D(90), D(80), D(80), D(70)], descending=False) == [4, 2, 2, 1]


def test_ev7_exactly_10_percent_of_n():
    assert rules.in_tenth(1, 10) and not rules.in_tenth(2, 10)
    assert not rules.in_tenth(1, 9)
    assert rules.in_tenth(2, 20) and not rules.in_tenth(3, 20)
    assert rules.in_tenth(1, 15) and not rules.in_tenth(2, 15)


def _ten(first_leverage: str, last_leverage: str, totals=None):
    totals = totals or [D(100 - 5 * i) for i in range(10)]
    levs = [D(first_leverage)] + [D("3.5")] * 8 + [D(last_leverage)]
    return rules.rank_and_classify([(f"F{i}", t, lev) for i, (t, lev) in enumerate(zip(totals, levs, strict=False))], D("3.00"))


def test_ev7_excellent_needs_leverage_strictly_above_1_5_t():
    assert _ten("4.500001", "3")[0].klass == Klass.EXCELLENT
    assert _ten("4.500000", "3")[0].klass == Klass.QUALIFIED  # exactly 1.5 × T is not 超过


def test_ev7_unqualified_needs_leverage_strictly_below_t():
    assert _ten("5", "2.999999")[-1].klass == Klass.UNQUALIFIED
    assert _ten("5", "3.000000")[-1].klass == Klass.QUALIFIED  # exactly T is completed


def test_ev7_ties_at_the_cut_all_count():
    # n = 10, two firms tied first: both rank 1 ≤ 1, both excellent.
    totals = [D(95), D(95)] + [D(90 - i) for i in range(8)]
    rows = [(f"F{i}", t, D("5")) for i, t in enumerate(totals)]
    result = rules.rank_and_classify(rows, D("3"))
    assert [r.rank for r in result[:3]] == [1, 1, 3]
    assert [r.klass for r in result[:3]] == [Klass.EXCELLENT, Klass.EXCELLENT, Klass.QUALIFIED]
    # two tied last: both rank 1 from the bottom, both unqualified when under T.
    totals = [D(100 - i) for i in range(8)] + [D(50), D(50)]
    rows = [(f"F{i}", t, D("2")) for i, t in enumerate(totals)]
    result = rules.rank_and_classify(rows, D("3"))
    assert [r.rank_from_bottom for r in result[-3:]] == [3, 1, 1]
    assert [r.klass for r in result[-3:]] == [Klass.QUALIFIED, Klass.UNQUALIFIED, Klass.UNQUALIFIED]


def test_ev7_tie_just_outside_the_cut_is_out():
    # n = 10, three firms at the 2nd place: rank 2 > 1, none of them excellent.
    totals = [D(99), D(95), D(95), D(95)] + [D(90 - i) for i in range(6)]
    result = rules.rank_and_classify([(f"F{i}", t, D("5")) for i, t in enumerate(totals)], D("3"))
    assert [r.klass for r in result[:4]] == [Klass.EXCELLENT] + [Klass.QUALIFIED] * 3


def test_ev7_nine_firms_have_no_excellent_or_unqualified():
    result = rules.rank_and_classify([(f"F{i}", D(100 - i), D("9") if i == 0 else D("1")) for i in range(9)], D("3"))
    assert {r.klass for r in result} == {Klass.QUALIFIED}


# --- EV-8 ---


def test_ev8_regions_ranked_by_mean_rounded_to_2_places():
    ranked = rules.rank_regions([("福州市", D("90.00")), ("福州市", D("80.01")), ("厦门市", D("85.005")),
                                 ("平潭综合实验区", D("70"))])
    assert [(r.region, r.mean, r.rank) for r in ranked] == [
        ("厦门市", D("85.01"), 1), ("福州市", D("85.01"), 1), ("平潭综合实验区", D("70.00"), 3)]


# --- EV-9 / EV-10 ---


def test_ev9_targets_are_due_by_end_of_may_and_must_be_positive():
    assert rules.targets_deadline(2025) == date(2025, 5, 31)
    with pytest.raises(RuleViolation) as err:
        Targets.from_mapping({"leverage": "0", "clients": 10, "amount": "1"})
    assert err.value.rule == "EV-9" and err.value.field == "targets.leverage"


def test_ev10_class_drives_supervision_and_interviews():
    assert rules.needs_interview(Klass.UNQUALIFIED) and not rules.needs_interview(Klass.QUALIFIED)
    assert rules.supervision_frequency(Klass.UNQUALIFIED) == "quarterly"


# --- EV-11 … EV-14 ---


def test_ev14_accountability_rules_out_everything():
    assert rules.decide_exemption(["EV-13.2", "EV-12.6", "EV-11.1"], staff_at_fault=False).outcome == Outcome.ACCOUNTABLE


def test_ev12_exempt_without_staff_fault():
    decision = rules.decide_exemption(["EV-12.6"], staff_at_fault=False)
    assert decision.outcome == Outcome.EXEMPT and decision.reasons[0]["rule"] == "EV-12"


def test_ev12_staff_fault_blocks_exemption_then_ev11_reduces():
    assert rules.decide_exemption(["EV-12.6"], staff_at_fault=True).outcome == Outcome.NOT_EXEMPT
    assert rules.decide_exemption(["EV-12.6", "EV-11.1"], staff_at_fault=True).outcome == Outcome.REDUCED


def test_ev11_reduced_and_ev14_not_exempt():
    assert rules.decide_exemption(["EV-11.2"], staff_at_fault=False).outcome == Outcome.REDUCED
    assert rules.decide_exemption([], staff_at_fault=False).outcome == Outcome.NOT_EXEMPT


def test_ev14_unknown_ground_is_refused():
    with pytest.raises(RuleViolation) as err:
        rules.decide_exemption(["EV-12.9"], staff_at_fault=False)
    assert err.value.field == "grounds"


def test_ev14_ground_codes_are_the_listed_items():
    assert len([c for c in rules.GROUNDS if c.startswith("EV-12.")]) == 8
    assert len([c for c in rules.GROUNDS if c.startswith("EV-13.")]) == 5
    assert [c for c in rules.GROUNDS if c.startswith("EV-11.")] == ["EV-11.1", "EV-11.2"]


def test_ev14_appeal_needs_a_different_reviewer():
    rules.check_appeal_reviewer(appeal_reviewer_id=2, first_reviewer_id=1)
    with pytest.raises(RuleViolation):
        rules.check_appeal_reviewer(appeal_reviewer_id=1, first_reviewer_id=1)


# --- EV-4 ---


def test_ev4_upload_type_is_read_from_content():
    assert rules.upload_kind(b"%PDF-1.4 ...", None) == "pdf"
    assert rules.upload_kind(b"PK\x03\x04", ["[Content_Types].xml", "xl/workbook.xml"]) == "xlsx"
    assert rules.upload_kind(b"PK\x03\x04", ["[Content_Types].xml", "word/document.xml"]) == "docx"
    assert rules.upload_kind(b"PK\x03\x04", ["a.txt"]) is None
    assert rules.upload_kind(b"MZ\x90\x00", None) is None


def test_ev3_a_declared_indicator_reads_the_firms_declared_figures():
    scheme = [dataclasses.replace(DEFAULT_SCHEME[0], source="declared"), *DEFAULT_SCHEME[1:]]
    computed, declared = figures(guarantee_balance="450000000.00"), figures()  # L 1.5 vs 5.0
    assert rules.score(computed, TARGETS, scheme).scores["leverage"] == D("25.00")
    assert rules.score(computed, TARGETS, scheme, declared=declared).scores["leverage"] == D("50.00")
    assert rules.score(computed, TARGETS, declared=declared).scores["leverage"] == D("25.00")


def test_ev5_ev7_parameters_are_data_with_checked_values():
    params = rules.EvaluationParams.from_mapping({"firm_days": 60, "city_due": "04-20", "top_share": "0.2"})
    assert params.dates(2024).firm == date(2025, 3, 1) and params.dates(2024).city == date(2025, 4, 20)
    assert rules.EvaluationParams().dates(2024) == rules.chain_dates(2024)
    assert rules.EvaluationParams.from_mapping(rules.EvaluationParams().as_mapping()) == rules.EvaluationParams()
    with pytest.raises(RuleViolation):
        rules.EvaluationParams.from_mapping({"county_due": "13-40"})
    with pytest.raises(RuleViolation):
        rules.EvaluationParams.from_mapping({"top_share": "0"})


@pytest.mark.parametrize("code", ["EV-13.1", "EV-13.2", "EV-13.3", "EV-13.4", "EV-13.5"])
def test_ev13_each_accountability_ground_rules_out_reduction_and_exemption(code):
    decision = rules.decide_exemption([code, "EV-12.1", "EV-11.1"], staff_at_fault=False)
    assert decision.outcome == Outcome.ACCOUNTABLE and decision.reasons[0]["rule"] == "EV-13"
