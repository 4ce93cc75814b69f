"""CG-1 … CG-14 as pure functions (counterguarantee.rules), without a database.

The tables are the shipped defaults of migration 0002 (asset classes, registries, bank rates), so
the rules are tested against the numbers the product ships with.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from importlib import import_module

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import RuleViolation
from counterguarantee import rules
from counterguarantee.rules import (
    FAIL,
    INFO,
    NOT_APPLICABLE,
    PASS,
    WARNING,
    AssetClassInfo,
    Params,
    PlanInput,
    Tables,
    check_plan,
    credit_shares,
    limitation_due_on,
)

_defaults = import_module("counterguarantee.migrations.0002_default_tables")


def shipped_tables(**params) -> Tables:
    classes = {code: AssetClassInfo(code, name, registry) for code, name, registry, _r in _defaults.ASSET_CLASSES}
    rates = {code: D(rate) for code, _n, _g, rate in _defaults.ASSET_CLASSES if rate}
    return Tables(asset_classes=classes, bank_rates=rates, params=Params(**params))


TABLES = shipped_tables()


def mortgage(**overrides) -> dict:
    """The worked example's mortgage (spec counterguarantee.md)."""
    measure = {
        "kind": "mortgage", "asset_class": "real_estate", "value": "1600000.00", "rate": "0.70",
        "valued_on": "2024-12-01", "valuation_valid_until": "2025-11-30",
        "start": "2025-01-01", "end": "2026-06-30",
        "owners": ["张三"], "signatories": ["张三"], "organisation": False, "resolution_on_file": False,
        "registration_number": "鄂(2024)武汉市不动产证明第0001号", "innovative": False,
    }
    measure.update(overrides)
    return measure


def guarantor(**overrides) -> dict:
    measure = {"kind": "guarantee", "start": "2025-01-01", "end": "2025-12-31", "owners": ["李四"],
               "signatories": ["李四"], "contract_no": "BZ-001"}
    measure.update(overrides)
    return measure


def payload(measures=None, checked_on="2025-01-01", **guarantee) -> dict:
    g = {"amount": "1000000.00", "start": "2025-01-01", "end": "2025-12-31",
         "credit_grounds": ["CG-1.2"], "lowered_grounds": [], "resolving_existing_risk": False}
    g.update(guarantee)
    return {"checked_on": checked_on, "guarantee": g, "measures": [mortgage()] if measures is None else measures}


def check(data: dict, tables: Tables = TABLES):
    return check_plan(PlanInput.from_mapping(data, tables), tables)


def outcomes(result) -> dict:
    return {r.rule: r.outcome for r in result.results}


def input_error(data: dict) -> list[dict]:
    with pytest.raises(RuleViolation) as caught:
        PlanInput.from_mapping(data, TABLES)
    return [p.as_dict() for p in caught.value.problems]


# --- the worked example ------------------------------------------------------------------------


def test_worked_example_of_the_spec():
    """Family farm, 1,000,000 guaranteed; real-estate mortgage 1,600,000 at 70% = 1,120,000."""
    result = check(payload())
    assert [r.rule for r in result.results] == list(rules.CHECKED_RULES)
    assert outcomes(result) == {
        "CG-1": WARNING, "CG-2": NOT_APPLICABLE, "CG-5": PASS, "CG-6": PASS, "CG-7": FAIL,
        "CG-9": FAIL, "CG-10": WARNING, "CG-11": PASS,
    }
    assert result.passed is False
    assert result.result("CG-7").excess == D("120000.00")
    assert "120,000.00" in result.result("CG-7").message
    assert "CG-1.2" in result.result("CG-1").message
    assert "2026-06-30" in result.result("CG-9").message
    data = result.as_dict()
    cg7 = next(r for r in data["results"] if r["rule"] == "CG-7")
    assert cg7["excess"] == "120000.00" and data["passed"] is False


def test_passed_is_true_when_nothing_fails_even_with_warnings():
    result = check(payload([mortgage(value="1000000.00", end="2025-12-31", contract_no="DY-1")]))
    assert outcomes(result)["CG-1"] == WARNING
    assert FAIL not in outcomes(result).values()
    assert result.passed is True


# --- CG-1 --------------------------------------------------------------------------------------


def test_cg1_no_ground_is_not_applicable():
    assert outcomes(check(payload(credit_grounds=[])))["CG-1"] == NOT_APPLICABLE


def test_cg1_credit_ground_with_guarantee_only_passes():
    result = check(payload([guarantor()], credit_grounds=["CG-1.1"]))
    assert result.result("CG-1").outcome == PASS


def test_cg1_ground_with_no_measure_at_all_passes():
    result = check(payload([], credit_grounds=["CG-1.6"]))
    assert result.result("CG-1").outcome == PASS
    assert outcomes(result)["CG-7"] == NOT_APPLICABLE


def test_cg1_mortgage_under_a_ground_warns_naming_the_ground_and_the_measure():
    result = check(payload([guarantor(), mortgage()], credit_grounds=["CG-1.3"]))
    cg1 = result.result("CG-1")
    assert cg1.outcome == WARNING and "CG-1.3" in cg1.message
    assert [(d.measure, d.field, d.outcome) for d in cg1.details] == [(1, "kind", WARNING)]


def test_cg1_2_holds_at_exactly_2_000_000():
    result = check(payload(amount="2000000.00"))
    assert result.result("CG-1").outcome == WARNING
    assert "CG-1.2" in result.result("CG-1").message


def test_cg1_2_does_not_hold_one_cent_above_2_000_000():
    cg1 = check(payload(amount="2000000.01")).result("CG-1")
    assert cg1.outcome == INFO
    assert "does not hold" in cg1.message and "2,000,000.00" in cg1.message


def test_cg1_2_cap_is_a_parameter():
    tables = shipped_tables(agri_amount_cap=D("3000000.00"))
    assert check(payload(amount="2500000.00"), tables).result("CG-1").outcome == WARNING


def test_cg1_other_ground_holds_above_the_amount_cap():
    cg1 = check(payload(amount="5000000.00", credit_grounds=["CG-1.2", "CG-1.5"])).result("CG-1")
    assert cg1.outcome == WARNING and "CG-1.5" in cg1.message and "does not hold" in cg1.message


def test_cg1_unknown_ground_is_an_input_error():
    problems = input_error(payload(credit_grounds=["CG-1.9"]))
    assert problems == [{"rule": "CG-1", "field": "guarantee.credit_grounds", "message": "Unknown ground: CG-1.9."}]


# --- CG-2, CG-3 --------------------------------------------------------------------------------


def test_cg2_grounds_are_shown_as_information():
    cg2 = check(payload(lowered_grounds=["CG-2.3", "CG-2.6"])).result("CG-2")
    assert cg2.outcome == INFO and "CG-2.3" in cg2.message and "CG-2.6" in cg2.message
    assert cg2.field == "lowered_grounds"


def test_cg2_no_ground_is_not_applicable():
    assert check(payload()).result("CG-2").outcome == NOT_APPLICABLE


# --- CG-4 --------------------------------------------------------------------------------------


def test_cg4_unknown_kind_names_the_measure_by_position():
    problems = input_error(payload([guarantor(), mortgage(kind="lease")]))
    assert {(p["rule"], p["field"]) for p in problems} == {("CG-4", "measures[1].kind")}


def test_cg4_unknown_asset_class_is_refused():
    problems = input_error(payload([mortgage(asset_class="spaceship")]))
    assert problems[0]["field"] == "measures[0].asset_class" and problems[0]["rule"] == "CG-4"


def test_cg4_mortgage_needs_an_asset_class():
    problems = input_error(payload([mortgage(asset_class=None)]))
    assert problems[0]["field"] == "measures[0].asset_class"


def test_cg4_guarantee_measure_has_no_asset_class_value_or_rate():
    problems = input_error(payload([guarantor(value="100.00", rate="0.5", asset_class="real_estate")]))
    assert {p["field"] for p in problems} == {"measures[0].value", "measures[0].rate", "measures[0].asset_class"}


def test_cg4_every_class_of_the_spec_is_in_the_shipped_table():
    wanted = {"real_estate", "vehicle", "ship", "agri_machinery", "livestock", "land_management_right",
              "aquaculture_right", "ip", "emission_right", "carbon_right", "income_right", "franchise_right",
              "plant_variety_right", "equipment", "raw_materials", "inventory", "receivables", "deposit_receipt",
              "warehouse_receipt", "bill_of_lading", "equity", "export_tax_refund_account",
              "export_credit_insurance", "agri_insurance", "expected_income"}
    assert wanted <= set(TABLES.asset_classes)


def test_cg4_bad_numbers_and_dates_are_all_reported_at_once():
    problems = input_error(payload([mortgage(value="abc", rate="1.5", end="2025-13-01"), mortgage(start=None)]))
    fields = {p["field"] for p in problems}
    assert {"measures[0].value", "measures[0].rate", "measures[0].end", "measures[1].start"} <= fields


def test_cg4_unknown_field_and_missing_guarantee_are_refused():
    problems = input_error({"checked_on": "2025-01-01", "measures": [mortgage(colour="red")]})
    fields = {p["field"] for p in problems}
    assert "measures[0].colour" in fields and "guarantee" in fields


def test_checked_on_defaults_to_the_given_day():
    data = payload()
    data.pop("checked_on")
    plan = PlanInput.from_mapping(data, TABLES, default_date=date(2025, 3, 1))
    assert plan.checked_on == date(2025, 3, 1)


# --- CG-5 --------------------------------------------------------------------------------------


def test_cg5_valuation_valid_until_exactly_the_check_date_passes():
    result = check(payload([mortgage(valuation_valid_until="2025-01-01")]))
    assert result.result("CG-5").outcome == PASS


def test_cg5_valuation_expired_the_day_before_fails_with_the_date():
    cg5 = check(payload([mortgage(valuation_valid_until="2024-12-31")])).result("CG-5")
    assert cg5.outcome == FAIL and "2024-12-31" in cg5.message
    assert [(d.measure, d.field) for d in cg5.details] == [(0, "valuation_valid_until")]


def test_cg5_missing_value_fails():
    cg5 = check(payload([mortgage(value=None)])).result("CG-5")
    assert cg5.outcome == FAIL and cg5.details[0].field == "value"


def test_cg5_missing_date_or_validity_fails():
    assert check(payload([mortgage(valued_on=None)])).result("CG-5").outcome == FAIL
    assert check(payload([mortgage(valuation_valid_until=None)])).result("CG-5").outcome == FAIL


def test_cg5_valuation_dated_after_the_check_fails():
    assert check(payload([mortgage(valued_on="2025-01-02")])).result("CG-5").outcome == FAIL


def test_cg5_validity_before_the_valuation_date_is_an_input_error():
    problems = input_error(payload([mortgage(valuation_valid_until="2024-11-30")]))
    assert problems[0]["field"] == "measures[0].valuation_valid_until"


def test_cg5_source_is_named():
    cg5 = check(payload([mortgage(valuation_source="approved_appraiser")])).result("CG-5")
    assert cg5.outcome == PASS and "appraiser" in cg5.details[0].message


def test_cg5_guarantee_only_is_not_applicable():
    assert check(payload([guarantor()])).result("CG-5").outcome == NOT_APPLICABLE


# --- CG-6 --------------------------------------------------------------------------------------


def test_cg6_rate_exactly_the_bank_bound_passes():
    assert check(payload([mortgage(rate="0.70")])).result("CG-6").outcome == PASS


def test_cg6_rate_below_the_bank_bound_fails():
    cg6 = check(payload([mortgage(rate="0.699999")])).result("CG-6")
    assert cg6.outcome == FAIL and "70%" in cg6.message
    assert cg6.details[0].field == "rate"


@pytest.mark.parametrize(("asset_class", "bound"), [
    ("real_estate", "0.70"), ("vehicle", "0.60"), ("ship", "0.60"), ("equipment", "0.50"), ("receivables", "0.70"),
    ("deposit_receipt", "0.90"), ("warehouse_receipt", "0.60"), ("bill_of_lading", "0.60"), ("ip", "0.30"),
    ("equity", "0.50"), ("livestock", "0.50"), ("expected_income", "0.50"),
])
def test_cg6_shipped_bank_rates(asset_class, bound):
    assert TABLES.bank_rate(asset_class) == D(bound)
    kind = "pledge" if asset_class in ("receivables", "deposit_receipt", "ip", "equity") else "mortgage"
    low = str(D(bound) - D("0.01"))
    assert check(payload([mortgage(kind=kind, asset_class=asset_class, rate=bound)])).result("CG-6").outcome == PASS
    assert check(payload([mortgage(kind=kind, asset_class=asset_class, rate=low)])).result("CG-6").outcome == FAIL


def test_cg6_class_without_a_rate_uses_the_rule_sets_default():
    tables = Tables(asset_classes=TABLES.asset_classes, bank_rates={}, params=Params(default_bank_rate=D("0.55")))
    assert check(payload([mortgage(rate="0.55")]), tables).result("CG-6").outcome == PASS
    assert check(payload([mortgage(rate="0.54")]), tables).result("CG-6").outcome == FAIL


def test_cg6_missing_rate_fails():
    assert check(payload([mortgage(rate=None)])).result("CG-6").outcome == FAIL


def test_cg6_no_collateral_is_not_applicable():
    assert check(payload([guarantor()])).result("CG-6").outcome == NOT_APPLICABLE


def test_cg6_rate_above_one_is_an_input_error():
    assert input_error(payload([mortgage(rate="1.01")]))[0]["field"] == "measures[0].rate"


# --- CG-7 --------------------------------------------------------------------------------------


def test_cg7_discounted_sum_exactly_equal_to_the_amount_passes():
    result = check(payload([mortgage(value="1000000.00", rate="0.70"), mortgage(value="1000000.00", rate="0.30",
                                                                             asset_class="ip", kind="pledge")]))
    cg7 = result.result("CG-7")
    assert cg7.outcome == PASS and cg7.excess == D("0.00")


def test_cg7_one_cent_over_fails_with_the_excess():
    cg7 = check(payload([mortgage(value="1428571.44", rate="0.70")])).result("CG-7")
    # 1,428,571.44 × 0.7 = 1,000,000.008 → 1,000,000.01
    assert cg7.outcome == FAIL and cg7.excess == D("0.01")


def test_cg7_each_part_rounds_half_up_to_the_cent():
    assert rules.discounted_value(D("0.05"), D("0.500000")) == D("0.03")
    cg7 = check(payload([mortgage(value="1428571.42", rate="0.70")])).result("CG-7")
    # 999,999.994 → 999,999.99
    assert cg7.outcome == PASS and cg7.excess == D("-0.01")


def test_cg7_guarantee_measures_have_no_value_in_the_sum():
    cg7 = check(payload([guarantor(), mortgage(value="1000000.00")])).result("CG-7")
    assert cg7.outcome == PASS and cg7.excess == D("-300000.00")


def test_cg7_no_collateral_is_not_applicable_without_excess():
    cg7 = check(payload([guarantor()])).result("CG-7")
    assert cg7.outcome == NOT_APPLICABLE and cg7.excess is None
    assert "excess" not in cg7.as_dict()


def test_cg7_missing_value_leaves_the_sum_incomplete():
    cg7 = check(payload([mortgage(value=None), mortgage(value="1000000.00")])).result("CG-7")
    assert cg7.outcome == WARNING and cg7.excess == D("-300000.00")


# --- CG-8 --------------------------------------------------------------------------------------


def test_cg8_plan_resolving_existing_risk_lifts_cg6_and_cg7_and_says_so():
    result = check(payload([mortgage(rate="0.50")], resolving_existing_risk=True,
                           resolving_reason="化解存量代偿风险"))
    assert result.result("CG-6").outcome == INFO and "CG-8" in result.result("CG-6").message
    cg7 = result.result("CG-7")
    assert cg7.outcome == INFO and "CG-8" in cg7.message and "化解存量代偿风险" in cg7.message
    assert cg7.excess == D("-200000.00")


def test_cg8_flag_without_a_reason_is_not_used():
    result = check(payload([mortgage()], resolving_existing_risk=True))
    assert result.result("CG-7").outcome == FAIL
    assert any(d.field == "resolving_reason" and d.outcome == WARNING for d in result.result("CG-7").details)


def test_cg8_innovative_collateral_is_left_out_of_cg6_and_cg7():
    innovative = mortgage(kind="pledge", asset_class="carbon_right", rate="0.20", value="5000000.00",
                          innovative=True, innovative_reason="碳排放权质押，银行尚未接受")
    result = check(payload([innovative, mortgage(value="1000000.00")]))
    cg6, cg7 = result.result("CG-6"), result.result("CG-7")
    assert cg6.outcome == PASS
    assert [(d.measure, d.outcome) for d in cg6.details] == [(0, INFO), (1, PASS)]
    assert cg7.outcome == PASS and cg7.excess == D("-300000.00")
    assert cg7.details[0].outcome == INFO and "CG-8" in cg7.details[0].message


def test_cg8_innovative_flag_needs_a_reason():
    result = check(payload([mortgage(rate="0.20", innovative=True)]))
    cg6 = result.result("CG-6")
    assert cg6.outcome == FAIL
    assert any(d.field == "innovative_reason" for d in cg6.details)


# --- CG-9 --------------------------------------------------------------------------------------


def test_cg9_measure_ending_exactly_with_the_guarantee_passes():
    assert check(payload([mortgage(end="2025-12-31")])).result("CG-9").outcome == PASS


def test_cg9_measure_ending_a_day_later_fails():
    cg9 = check(payload([guarantor(), mortgage(end="2026-01-01")])).result("CG-9")
    assert cg9.outcome == FAIL and "2026-01-01" in cg9.message
    assert [(d.measure, d.outcome) for d in cg9.details] == [(0, PASS), (1, FAIL)]


def test_cg9_measure_ending_before_it_starts_is_an_input_error():
    assert input_error(payload([mortgage(start="2025-02-01", end="2025-01-31")]))[0]["field"] == "measures[0].end"


# --- CG-10 -------------------------------------------------------------------------------------


def test_cg10_everything_signed_passes():
    result = check(payload([guarantor(), mortgage(contract_no="DY-001")]))
    assert result.result("CG-10").outcome == PASS


def test_cg10_property_held_in_common_needs_every_co_owner():
    cg10 = check(payload([mortgage(contract_no="DY-1", owners=["张三", "王芳"], signatories=["张三"])])).result("CG-10")
    assert cg10.outcome == FAIL and "王芳" in cg10.message and "co-owner" in cg10.message
    assert any(d.field == "signatories" for d in cg10.details)


def test_cg10_organisation_needs_a_resolution():
    measure = guarantor(owners=["某某农业有限公司"], signatories=["某某农业有限公司"], organisation=True)
    assert check(payload([measure])).result("CG-10").outcome == FAIL
    measure["resolution_on_file"] = True
    assert check(payload([measure])).result("CG-10").outcome == PASS


def test_cg10_several_measures_need_separate_contracts():
    cg10 = check(payload([guarantor(contract_no="HT-1"), mortgage(contract_no="HT-1")])).result("CG-10")
    assert cg10.outcome == FAIL and "HT-1" in cg10.message
    assert sorted(d.measure for d in cg10.details if d.field == "contract_no") == [0, 1]


def test_cg10_no_guarantor_named_fails_and_no_contract_number_warns():
    assert check(payload([guarantor(owners=[], signatories=[])])).result("CG-10").outcome == FAIL
    assert check(payload([guarantor(contract_no="")])).result("CG-10").outcome == WARNING


# --- CG-11, CG-12 ------------------------------------------------------------------------------


def test_cg11_registration_required_and_missing_fails_naming_the_registry():
    cg11 = check(payload([mortgage(registration_number="")])).result("CG-11")
    assert cg11.outcome == FAIL and "real-estate registry" in cg11.message


def test_cg11_receivables_go_to_the_pboc_registry():
    cg11 = check(payload([mortgage(kind="pledge", asset_class="receivables", registration_number="")])).result("CG-11")
    assert cg11.outcome == FAIL and "动产融资统一登记公示系统" in cg11.message


def test_cg11_class_needing_no_registration_is_not_applicable():
    measure = mortgage(kind="pledge", asset_class="agri_insurance", registration_number="")
    assert check(payload([measure])).result("CG-11").outcome == NOT_APPLICABLE


def test_cg11_registry_other_than_the_tables_warns():
    cg11 = check(payload([mortgage(registry="pboc")])).result("CG-11")
    assert cg11.outcome == WARNING


def test_cg11_online_registration_is_named():
    cg11 = check(payload([mortgage(registry="real_estate", registered_online=True)])).result("CG-11")
    assert cg11.outcome == PASS and "online" in cg11.message


def test_cg12_lien_needs_no_registration():
    measure = mortgage(kind="pledge", asset_class="equipment", rate="0.5", registration_number="", flexible_form="lien")
    assert check(payload([measure])).result("CG-11").outcome == PASS


def test_cg12_flexible_forms_are_accepted_and_unknown_ones_refused():
    for form in ("residual_value", "second_ranking", "advance_registration", "lien"):
        PlanInput.from_mapping(payload([mortgage(flexible_form=form)]), TABLES)
    assert input_error(payload([mortgage(flexible_form="floating")]))[0]["rule"] == "CG-12"


# --- CG-13 -------------------------------------------------------------------------------------


P = Params()


def test_cg13_guarantor_must_be_demanded_within_six_months():
    assert limitation_due_on(kind="guarantee", recourse_from=date(2025, 3, 10), last_interruption=None,
                             params=P) == date(2025, 9, 10)


def test_cg13_guarantee_period_clamps_to_month_end():
    assert limitation_due_on(kind="guarantee", recourse_from=date(2024, 8, 31), last_interruption=None,
                             params=P) == date(2025, 2, 28)


def test_cg13_collateral_within_three_years():
    assert limitation_due_on(kind="mortgage", recourse_from=date(2024, 2, 29), last_interruption=None,
                             params=P) == date(2027, 2, 28)


def test_cg13_an_action_restarts_three_years():
    for kind in ("guarantee", "pledge"):
        assert limitation_due_on(kind=kind, recourse_from=date(2025, 3, 10), last_interruption=date(2025, 5, 1),
                                 params=P) == date(2028, 5, 1)


def test_cg13_periods_are_parameters():
    params = Params(guarantee_period_months=12, limitation_years=2)
    assert limitation_due_on(kind="guarantee", recourse_from=date(2025, 1, 15), last_interruption=None,
                             params=params) == date(2026, 1, 15)
    assert limitation_due_on(kind="pledge", recourse_from=date(2025, 1, 15), last_interruption=None,
                             params=params) == date(2027, 1, 15)


# --- CG-14 -------------------------------------------------------------------------------------


def test_cg14_shares_and_trend_on_aim():
    rows = credit_shares([(2024, 10, 6), (2025, 20, 8)])
    assert [(r.credit_share, r.collateral_share) for r in rows] == [
        (D("0.400000"), D("0.600000")), (D("0.600000"), D("0.400000"))]
    assert rows[0].on_aim is None and rows[0].credit_change is None
    assert rows[1].on_aim is True and rows[1].credit_change == D("0.200000")


def test_cg14_falling_credit_share_is_off_aim():
    rows = credit_shares([(2025, 10, 2), (2024, 10, 1)])
    assert [r.year for r in rows] == [2024, 2025]
    assert rows[1].on_aim is False


def test_cg14_no_change_is_off_aim_and_a_gap_year_has_no_change():
    assert credit_shares([(2024, 4, 1), (2025, 8, 2)])[1].on_aim is False
    rows = credit_shares([(2023, 4, 1), (2025, 8, 2)])
    assert rows[1].credit_change is None and rows[1].on_aim is None


def test_cg14_year_without_business_has_no_share():
    row = credit_shares([(2025, 0, 0)])[0]
    assert row.credit_share is None and row.on_aim is None


def test_cg14_counts_must_add_up():
    with pytest.raises(RuleViolation):
        credit_shares([(2025, 1, 2)])


# --- parameters and properties -----------------------------------------------------------------


def test_params_from_a_stored_rule_set():
    params = Params.from_mapping(_defaults.PARAMS)
    assert params == Params()
    with pytest.raises(RuleViolation):
        Params.from_mapping({"default_bank_rate": "1.5"})
    with pytest.raises(RuleViolation):
        Params.from_mapping({"limitation_years": "three"})


def test_tables_round_trip_through_json():
    assert Tables.from_mapping(TABLES.as_mapping()).bank_rates == TABLES.bank_rates


def test_plan_input_round_trips_through_json():
    plan = PlanInput.from_mapping(payload([guarantor(), mortgage()]), TABLES)
    assert PlanInput.from_mapping(plan.as_mapping(), TABLES) == plan


money = st.decimals(min_value=D("0.01"), max_value=D("100000000"), places=2)
rates = st.decimals(min_value=D("0"), max_value=D("1"), places=6)


@given(amount=money, parts=st.lists(st.tuples(money, rates), min_size=1, max_size=4))
def test_cg7_fails_exactly_when_the_discounted_sum_exceeds_the_amount(amount, parts):
    measures = [mortgage(value=str(v), rate=str(r), end="2025-12-31", contract_no=f"DY-{i}")
                for i, (v, r) in enumerate(parts)]
    cg7 = check(payload(measures, amount=str(amount))).result("CG-7")
    total = sum(rules.discounted_value(v, r) for v, r in parts)
    assert cg7.excess == total - amount
    assert (cg7.outcome == FAIL) == (total > amount)
