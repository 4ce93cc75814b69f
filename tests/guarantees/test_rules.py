"""Tests of the pure guarantee rules (GU-1 … GU-13): no database, boundaries and properties."""

from contextlib import contextmanager
from datetime import date
from decimal import Decimal as D
from itertools import pairwise

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from core.errors import Conflict, RuleViolation
from guarantees import rules
from guarantees.rules import (
    CENT,
    PARTIES,
    GuaranteeParams,
    Split,
    allocate,
    average_fee_rate,
    check_fees,
    check_forbidden_business,
    check_minimum_shares,
    check_write_off,
    compensation_due_on,
    compensation_rate,
    derive_enterprise_size,
    fee_cap,
    fee_rate_on_target,
    is_compensation_overdue,
    leverage,
    money,
    parse_split,
    ratio,
    recovery_net,
    share_recovery,
    small_amount_share_on_target,
    support_share,
    support_share_on_target,
)

PATTERN_2422 = {
    "bank": "0.20",
    "guarantee_firm": "0.40",
    "reguarantee": "0.20",
    "national_fund": "0.20",
}


def split_of(bank, firm, reguarantee, fund, government="0"):
    return Split(D(bank), D(firm), D(reguarantee), D(fund), D(government))


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in their English source text, whatever the default language."""
    with translation.override("en"):
        yield


@contextmanager
def raises_rule(rule, field=None):
    """pytest.raises for a RuleViolation of ``rule`` (and of ``field`` when given)."""
    with pytest.raises(RuleViolation) as info:
        yield info
    assert info.value.rule == rule
    if field is not None:
        assert info.value.field == field


# --- money / ratio -------------------------------------------------------------------------


def test_money_rounds_half_up_to_cents():
    assert money("1.005") == D("1.01")
    assert money("-1.005") == D("-1.01")
    assert money(7) == D("7.00")
    assert money(D("2.344")) == D("2.34")
    assert str(money("3")) == "3.00"


def test_ratio_rounds_half_up_to_six_places():
    assert ratio("0.0100005") == D("0.010001")
    assert str(ratio("0.2")) == "0.200000"


@pytest.mark.parametrize("junk", ["abc", "", None, True, "NaN", "inf", D("NaN"), D("-Infinity"), [1]])
def test_money_refuses_junk_with_callers_rule_and_field(junk):
    with raises_rule("GU-3", "base"):
        money(junk, rule="GU-3", field="base")


def test_money_refuses_absurdly_large_number():
    with pytest.raises(RuleViolation):
        money("1e40")


@pytest.mark.parametrize("junk", ["x", None, False, float("nan")])
def test_ratio_refuses_junk(junk):
    with raises_rule("GU-5", "fee_rate"):
        ratio(junk, rule="GU-5", field="fee_rate")


# --- parameters ----------------------------------------------------------------------------


def test_params_defaults_are_shipped_policy_values():
    params = GuaranteeParams()
    assert params.bank_min_share == D("0.2")
    assert params.fee_cap_threshold == D("5000000")
    assert params.fee_cap_low == D("0.01") and params.fee_cap_high == D("0.015")
    assert params.support_share_target == D("0.8")
    assert params.small_amount_share_target == D("0.5")


def test_params_from_mapping_parses_ignores_unknown_and_keeps_missing():
    params = GuaranteeParams.from_mapping({"bank_min_share": "0.25", "fee_cap_threshold": 3000000, "no_such_key": "x"})
    assert params.bank_min_share == D("0.250000")
    assert params.fee_cap_threshold == D("3000000.00")
    assert params.national_fund_min_share == D("0.20")


def test_params_round_trip_through_mapping():
    params = GuaranteeParams(fee_cap_low=D("0.008000"))
    mapping = params.as_mapping()
    assert all(isinstance(v, str) for v in mapping.values())
    assert list(mapping) == [
        "bank_min_share",
        "national_fund_min_share",
        "fee_cap_threshold",
        "fee_cap_low",
        "fee_cap_high",
        "avg_fee_rate_target",
        "support_share_target",
        "small_amount_threshold",
        "small_amount_share_target",
    ]
    assert GuaranteeParams.from_mapping(mapping) == params


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("bank_min_share", "abc", "GU-2"),
        ("fee_cap_low", "1.5", "GU-5"),
        ("support_share_target", "-0.1", "GU-7"),
    ],
)
def test_params_from_mapping_refuses_bad_values(key, value, rule):
    with raises_rule(rule, key):
        GuaranteeParams.from_mapping({key: value})


# --- GU-1 split ----------------------------------------------------------------------------


def test_gu1_2422_pattern_parses_with_government_omitted():
    split = parse_split(PATTERN_2422)
    assert split.government == 0
    assert split.as_dict() == {
        "bank": D("0.2"),
        "guarantee_firm": D("0.4"),
        "reguarantee": D("0.2"),
        "national_fund": D("0.2"),
        "government": D("0"),
    }
    assert list(split.as_dict()) == list(PARTIES)


def test_gu1_government_share_counts_toward_the_sum():
    split = parse_split({**PATTERN_2422, "guarantee_firm": "0.3", "government": "0.1"})
    assert split.government == D("0.1")


def test_gu1_sum_exactly_one_with_six_places_is_accepted():
    parse_split({"bank": "0.200001", "guarantee_firm": "0.399999", "reguarantee": "0.2", "national_fund": "0.2"})


def test_gu1_sum_0_999999_is_rejected_with_the_sum_in_the_message():
    with raises_rule("GU-1", "shares") as info:
        parse_split({**PATTERN_2422, "guarantee_firm": "0.399999"})
    assert "0.999999" in info.value.message


def test_gu1_sum_0_9_message_shows_plain_number():
    with raises_rule("GU-1", "shares") as info:
        parse_split({**PATTERN_2422, "national_fund": "0.1"})
    assert info.value.message == "Shares must add up to exactly 1 (they add up to 0.9)."


def test_gu1_sum_above_one_is_rejected():
    with raises_rule("GU-1", "shares"):
        parse_split({**PATTERN_2422, "government": "0.000001"})


def test_gu1_negative_share_is_rejected_naming_the_party():
    with raises_rule("GU-1", "shares") as info:
        parse_split({**PATTERN_2422, "bank": "-0.2", "guarantee_firm": "0.8"})
    assert info.value.message == "The bank share must be between 0 and 1."


def test_gu1_share_above_one_is_rejected():
    with raises_rule("GU-1", "shares") as info:
        parse_split(
            {
                "bank": "1.2",
                "guarantee_firm": "-0.2",
                "reguarantee": "0",
                "national_fund": "0",
            }
        )
    messages = [p.message for p in info.value.problems]
    assert len(messages) == 2
    assert "guarantee firm" in str(messages[1])


def test_gu1_whole_split_to_one_party_is_allowed():
    split = parse_split({"bank": 0, "guarantee_firm": 1, "reguarantee": 0, "national_fund": 0})
    assert split.guarantee_firm == 1


@pytest.mark.parametrize("junk", [True, False, None, "abc", "NaN", "Infinity", D("NaN"), [], {}])
def test_gu1_non_number_share_is_rejected(junk):
    with raises_rule("GU-1", "shares") as info:
        parse_split({**PATTERN_2422, "bank": junk})
    assert "bank" in info.value.message


def test_gu1_more_than_six_decimal_places_is_rejected():
    with raises_rule("GU-1", "shares") as info:
        parse_split({**PATTERN_2422, "bank": "0.2000001", "guarantee_firm": "0.3999999"})
    assert "6 decimal places" in info.value.message


def test_gu1_trailing_zeros_beyond_six_places_are_fine():
    assert parse_split({**PATTERN_2422, "bank": "0.20000000"}).bank == D("0.2")


def test_gu1_json_float_shares_mean_what_they_say():
    split = parse_split({"bank": 0.2, "guarantee_firm": 0.4, "reguarantee": 0.2, "national_fund": 0.2})
    assert split.guarantee_firm == D("0.4")


def test_gu1_unknown_key_is_rejected():
    with raises_rule("GU-1", "shares") as info:
        parse_split({**PATTERN_2422, "county": "0"})
    assert "county" in info.value.message


@pytest.mark.parametrize("party", ["bank", "guarantee_firm", "reguarantee", "national_fund"])
def test_gu1_missing_required_share_is_rejected(party):
    shares = dict(PATTERN_2422)
    del shares[party]
    with raises_rule("GU-1", "shares") as info:
        parse_split(shares)
    assert "missing" in info.value.message


@pytest.mark.parametrize("junk", [None, "0.2,0.4,0.2,0.2", [("bank", "1")]])
def test_gu1_not_a_mapping_is_rejected(junk):
    with raises_rule("GU-1", "shares"):
        parse_split(junk)


def test_gu1_split_built_directly_is_validated_too():
    with raises_rule("GU-1", "shares"):
        split_of("0.2", "0.4", "0.2", "0.1")


def test_gu1_split_is_frozen():
    split = parse_split(PATTERN_2422)
    with pytest.raises(AttributeError):
        split.bank = D("0.5")


# --- GU-2 minimum shares -------------------------------------------------------------------


def test_gu2_2422_pattern_is_compliant():
    assert check_minimum_shares(parse_split(PATTERN_2422)) == []


def test_gu2_bank_share_exactly_20_percent_is_compliant():
    assert check_minimum_shares(split_of("0.2", "0.8", "0", "0")) == []


def test_gu2_bank_share_below_20_percent_is_a_problem():
    problems = check_minimum_shares(split_of("0.199999", "0.400001", "0.2", "0.2"))
    assert [(p.rule, p.field) for p in problems] == [("GU-2", "shares.bank")]
    assert "19.9999%" in str(problems[0].message) and "20%" in str(problems[0].message)


def test_gu2_national_fund_absent_needs_no_minimum():
    assert check_minimum_shares(split_of("0.3", "0.7", "0", "0")) == []


def test_gu2_national_fund_below_20_percent_is_a_problem():
    problems = check_minimum_shares(split_of("0.2", "0.5", "0.2", "0.1"))
    assert [p.field for p in problems] == ["shares.national_fund"]


def test_gu2_national_fund_exactly_20_percent_is_compliant():
    assert check_minimum_shares(split_of("0.2", "0.4", "0.2", "0.2")) == []


def test_gu2_reguarantee_below_national_fund_is_a_problem():
    problems = check_minimum_shares(split_of("0.2", "0.45", "0.15", "0.2"))
    assert [p.field for p in problems] == ["shares.reguarantee"]
    assert "15%" in str(problems[0].message)


def test_gu2_reguarantee_equal_to_national_fund_is_compliant():
    assert check_minimum_shares(split_of("0.2", "0.3", "0.25", "0.25")) == []


def test_gu2_every_breach_is_listed():
    problems = check_minimum_shares(split_of("0.1", "0.8", "0", "0.1"))
    assert [p.field for p in problems] == [
        "shares.bank",
        "shares.national_fund",
        "shares.reguarantee",
    ]
    assert all(p.rule == "GU-2" for p in problems)


def test_gu2_minimum_comes_from_the_parameters():
    params = GuaranteeParams(bank_min_share=D("0.25"))
    assert [p.field for p in check_minimum_shares(parse_split(PATTERN_2422), params)] == ["shares.bank"]


# --- GU-3 loss allocation ------------------------------------------------------------------


def test_gu3_spec_example_leftover_cent_goes_to_largest_remainder():
    parts = allocate("1000000.01", parse_split(PATTERN_2422))
    assert parts == {
        "bank": D("200000.00"),
        "guarantee_firm": D("400000.01"),
        "reguarantee": D("200000.00"),
        "national_fund": D("200000.00"),
        "government": D("0.00"),
    }
    assert list(parts) == list(PARTIES)


def test_gu3_ties_go_in_party_order():
    split = split_of("0.25", "0.25", "0.25", "0.25")
    assert allocate("0.02", split) == {
        "bank": D("0.01"),
        "guarantee_firm": D("0.01"),
        "reguarantee": D("0.00"),
        "national_fund": D("0.00"),
        "government": D("0.00"),
    }


def test_gu3_zero_base_gives_zero_parts():
    assert set(allocate(0, parse_split(PATTERN_2422)).values()) == {D("0.00")}


def test_gu3_negative_base_is_rejected():
    with raises_rule("GU-3", "base"):
        allocate("-0.01", parse_split(PATTERN_2422))


def test_gu3_junk_base_is_rejected():
    with raises_rule("GU-3", "base"):
        allocate("lots", parse_split(PATTERN_2422))


@st.composite
def splits(draw):
    cuts = sorted(draw(st.lists(st.integers(0, 1_000_000), min_size=4, max_size=4)))
    bounds = [0, *cuts, 1_000_000]
    shares = [D(b - a) / D(1_000_000) for a, b in pairwise(bounds)]
    return Split(*shares)


cents = st.integers(0, 10**16 - 1).map(lambda c: D(c) * CENT)


@given(base=cents, split=splits())
def test_gu3_parts_always_add_up_exactly_to_base(base, split):
    parts = allocate(base, split)
    assert sum(parts.values()) == base
    assert list(parts) == list(PARTIES)


@given(base=cents, split=splits())
def test_gu3_each_part_within_one_cent_of_exact_share(base, split):
    for party, part in allocate(base, split).items():
        assert part >= 0
        assert part == part.quantize(CENT)
        assert abs(part - base * getattr(split, party)) < CENT


# --- GU-4 grace period ---------------------------------------------------------------------


def test_gu4_grace_zero_is_due_on_default_date():
    assert compensation_due_on(date(2024, 3, 15), 0) == date(2024, 3, 15)


def test_gu4_grace_counts_calendar_days_across_month_end():
    assert compensation_due_on(date(2024, 1, 31), 30) == date(2024, 3, 1)  # leap year
    assert compensation_due_on(date(2023, 1, 31), 30) == date(2023, 3, 2)
    assert compensation_due_on(date(2024, 12, 31), 1) == date(2025, 1, 1)


def test_gu4_grace_days_up_to_the_bound_give_a_date():
    from guarantees.rules import MAX_GRACE_DAYS

    assert MAX_GRACE_DAYS == 3650
    assert compensation_due_on(date(2024, 1, 1), 3650) == date(2033, 12, 29)


@pytest.mark.parametrize("days", [-1, True, 1.5, "3", 3651, 99999999])
def test_gu4_bad_grace_days_are_rejected(days):
    with raises_rule("GU-4", "grace_days"):
        compensation_due_on(date(2024, 1, 1), days)


def test_gu4_unpaid_on_due_date_is_not_overdue():
    assert not is_compensation_overdue(date(2024, 3, 1), None, date(2024, 3, 1))


def test_gu4_unpaid_day_after_due_date_is_overdue():
    assert is_compensation_overdue(date(2024, 3, 1), None, date(2024, 3, 2))


def test_gu4_paid_compensation_is_never_overdue():
    assert not is_compensation_overdue(date(2024, 3, 1), date(2024, 3, 5), date(2024, 4, 1))


# --- GU-5 fee caps -------------------------------------------------------------------------


def fees(amount, rate, other="0", small=True):
    return check_fees(small_micro_or_agri=small, single_borrower_amount=amount, fee_rate=rate, other_fees=other)


def test_gu5_fee_cap_threshold_is_inclusive():
    assert fee_cap("5000000.00") == D("0.01")
    assert fee_cap("5000000.01") == D("0.015")


def test_gu5_fee_cap_negative_amount_is_rejected():
    with raises_rule("GU-5", "single_borrower_amount"):
        fee_cap("-1")


def test_gu5_amount_exactly_5m_at_1_percent_passes():
    assert fees("5000000.00", "0.010000") == []


def test_gu5_amount_exactly_5m_at_1_0001_percent_fails():
    problems = fees("5000000.00", "0.010001")
    assert [(p.rule, p.field) for p in problems] == [("GU-5", "fee_rate")]
    assert "1.0001%" in str(problems[0].message) and "1%" in str(problems[0].message)


def test_gu5_amount_above_5m_at_1_5_percent_passes():
    assert fees("5000000.01", "0.015000") == []


def test_gu5_amount_above_5m_at_1_5001_percent_fails():
    problems = fees("5000000.01", "0.015001")
    assert [p.field for p in problems] == ["fee_rate"]
    assert "1.5001%" in str(problems[0].message) and "1.5%" in str(problems[0].message)


def test_gu5_large_enterprise_is_uncapped():
    assert fees("9000000", "0.05", small=False) == []


def test_gu5_large_enterprise_may_pay_other_fees():
    assert fees("9000000", "0.03", other="1000", small=False) == []


def test_gu5_other_fee_of_one_cent_fails():
    problems = fees("100000", "0.005", other="0.01")
    assert [(p.rule, p.field) for p in problems] == [("GU-5", "other_fees")]


def test_gu5_both_breaches_are_listed():
    assert [p.field for p in fees("100000", "0.02", other="50")] == [
        "fee_rate",
        "other_fees",
    ]


@pytest.mark.parametrize("small", [True, False])
def test_gu5_negative_fee_rate_is_an_input_error(small):
    with raises_rule("GU-5", "fee_rate"):
        fees("100000", "-0.001", small=small)


@pytest.mark.parametrize("small", [True, False])
def test_gu5_negative_other_fees_is_an_input_error(small):
    with raises_rule("GU-5", "other_fees"):
        fees("100000", "0.01", other="-0.01", small=small)


def test_gu5_cap_follows_parameters():
    params = GuaranteeParams(fee_cap_low=D("0.008"))
    problems = check_fees(
        small_micro_or_agri=True,
        single_borrower_amount="100",
        fee_rate="0.009",
        other_fees="0",
        params=params,
    )
    assert [p.field for p in problems] == ["fee_rate"]


# --- GU-6 average fee rate -----------------------------------------------------------------


def test_gu6_average_is_amount_weighted():
    weighted = D("1000000") * D("0.008") + D("3000000") * D("0.012")
    assert average_fee_rate(weighted, "4000000") == D("0.011000")


def test_gu6_average_rounds_to_six_places():
    assert average_fee_rate(D("1"), "3") == D("0.333333")


def test_gu6_no_business_gives_none():
    assert average_fee_rate(0, 0) is None


def test_gu6_negative_inputs_are_rejected():
    with raises_rule("GU-6", "weighted_sum"):
        average_fee_rate("-1", "10")
    with raises_rule("GU-6", "total_amount"):
        average_fee_rate("1", "-10")


def test_gu6_target_is_strictly_below_1_percent():
    assert not fee_rate_on_target(D("0.010000"))
    assert fee_rate_on_target(D("0.009999"))
    assert fee_rate_on_target(None)


# --- GU-7 support share --------------------------------------------------------------------


def test_gu7_share_exactly_80_percent_is_on_target():
    share = support_share("800000.00", "1000000.00")
    assert share == D("0.800000")
    assert support_share_on_target(share)


def test_gu7_share_0_799999_is_off_target():
    share = support_share("799999.00", "1000000.00")
    assert share == D("0.799999")
    assert not support_share_on_target(share)


def test_gu7_share_is_judged_as_shown_rounded_to_six_places():
    assert support_share("799999.99", "1000000.00") == D("0.800000")


def test_gu7_no_business_gives_none_and_counts_as_on_target():
    assert support_share(0, 0) is None
    assert support_share_on_target(None)
    assert small_amount_share_on_target(None)


def test_gu7_companion_small_amount_share_exactly_50_percent():
    assert small_amount_share_on_target(D("0.500000"))
    assert not small_amount_share_on_target(D("0.499999"))


def test_gu7_part_larger_than_total_is_rejected():
    with raises_rule("GU-7"):
        support_share("2", "1")


@given(part=cents, extra=cents)
def test_gu7_share_is_always_between_0_and_1(part, extra):
    share = support_share(part, part + extra)
    assert share is None or D(0) <= share <= D(1)


# --- GU-8 leverage -------------------------------------------------------------------------


def test_gu8_leverage_is_balance_over_net_assets():
    assert leverage("350000000", "100000000") == D("3.500000")


def test_gu8_net_assets_zero_cannot_be_computed():
    assert leverage("1000", "0") is None


def test_gu8_negative_net_assets_cannot_be_computed():
    assert leverage("1000", "-5") is None


def test_gu8_negative_balance_is_rejected():
    with raises_rule("GU-8", "balance"):
        leverage("-1", "10")


# --- GU-9 compensation rate ----------------------------------------------------------------


def test_gu9_compensation_rate():
    assert compensation_rate("30000", "1000000") == D("0.030000")


def test_gu9_nothing_released_gives_none():
    assert compensation_rate("30000", "0") is None


def test_gu9_negative_is_rejected():
    with raises_rule("GU-9", "compensated"):
        compensation_rate("-1", "10")


# --- GU-11 enterprise size -----------------------------------------------------------------

# 工信部联企业〔2011〕300号 第四条, typed again from the standard (not copied from the module):
# industry -> measures, then the large / medium / small lines (people; 万元).
STANDARD = {
    "agriculture": (("revenue",), [(20000,), (500,), (50,)]),
    "industry": (("employees", "revenue"), [(1000, 40000), (300, 2000), (20, 300)]),
    "construction": (("revenue", "total_assets"), [(80000, 80000), (6000, 5000), (300, 300)]),
    "wholesale": (("employees", "revenue"), [(200, 40000), (20, 5000), (5, 1000)]),
    "retail": (("employees", "revenue"), [(300, 20000), (50, 500), (10, 100)]),
    "transport": (("employees", "revenue"), [(1000, 30000), (300, 3000), (20, 200)]),
    "warehousing": (("employees", "revenue"), [(200, 30000), (100, 1000), (20, 100)]),
    "postal": (("employees", "revenue"), [(1000, 30000), (300, 2000), (20, 100)]),
    "accommodation": (("employees", "revenue"), [(300, 10000), (100, 2000), (10, 100)]),
    "catering": (("employees", "revenue"), [(300, 10000), (100, 2000), (10, 100)]),
    "information_transmission": (("employees", "revenue"), [(2000, 100000), (100, 1000), (10, 100)]),
    "software_it": (("employees", "revenue"), [(300, 10000), (100, 1000), (10, 50)]),
    "real_estate_development": (("revenue", "total_assets"), [(200000, 10000), (1000, 5000), (100, 2000)]),
    "property_management": (("employees", "revenue"), [(1000, 5000), (300, 1000), (100, 500)]),
    "leasing_business_services": (("employees", "total_assets"), [(300, 120000), (100, 8000), (10, 100)]),
    "other": (("employees",), [(300,), (100,), (10,)]),
}
LOWER = {"large": "medium", "medium": "small", "small": "micro"}


def figure(measure, line):
    return line if measure == "employees" else D(line) * 10000


def one_below(measure, line):
    return line - 1 if measure == "employees" else D(line) * 10000 - CENT


def size_of(industry, **figures):
    return derive_enterprise_size(
        industry=industry,
        employees=figures.get("employees"),
        revenue=figures.get("revenue"),
        total_assets=figures.get("total_assets"),
    )


def boundary_cases():
    for industry, (measures, lines) in STANDARD.items():
        for size, line in zip(("large", "medium", "small"), lines, strict=True):
            at = {m: figure(m, t) for m, t in zip(measures, line, strict=True)}
            yield pytest.param(industry, at, size, id=f"{industry}-{size}-at-line")
            for m, t in zip(measures, line, strict=True):
                below = {**at, m: one_below(m, t)}
                yield pytest.param(industry, below, LOWER[size], id=f"{industry}-{size}-{m}-one-below")


@pytest.mark.parametrize(("industry", "figures", "expected"), list(boundary_cases()))
def test_gu11_every_row_at_each_line_and_one_below(industry, figures, expected):
    assert size_of(industry, **figures) == expected


def test_gu11_every_industry_has_a_row_and_a_chinese_name():
    assert [code for code, _ in rules.INDUSTRIES] == list(STANDARD)
    assert all(name for _, name in rules.INDUSTRIES)
    assert rules.SIZES == ("large", "medium", "small", "micro")


def test_gu11_industry_example_from_the_brief():
    assert size_of("industry", employees=1000, revenue=D("400000000")) == "large"
    assert size_of("industry", employees=300, revenue=D("20000000")) == "medium"
    assert size_of("industry", employees=20, revenue=D("3000000")) == "small"
    assert size_of("industry", employees=19, revenue=D("3000000")) == "micro"


def test_gu11_large_needs_both_measures_above_the_upper_line():
    # Many people but little revenue: below the revenue line, so an SME (employees OR revenue).
    assert size_of("industry", employees=5000, revenue=D("1000000")) == "micro"
    assert size_of("industry", employees=1500, revenue=D("10000000")) == "small"
    assert size_of("industry", employees=10, revenue=D("900000000")) == "micro"


def test_gu11_zero_figures_are_micro():
    assert size_of("other", employees=0) == "micro"
    assert size_of("agriculture", revenue=D("0")) == "micro"


@pytest.mark.parametrize(
    ("industry", "figures"),
    [
        ("industry", {"revenue": D("1")}),
        ("industry", {"employees": 5}),
        ("agriculture", {"employees": 5}),
        ("construction", {"revenue": D("1")}),
        ("real_estate_development", {"total_assets": D("1")}),
        ("leasing_business_services", {"employees": 5, "revenue": D("1")}),
        ("other", {"revenue": D("1"), "total_assets": D("1")}),
    ],
)
def test_gu11_missing_figure_the_row_needs_gives_none(industry, figures):
    assert size_of(industry, **figures) is None


def test_gu11_figures_the_row_does_not_use_may_be_missing():
    assert size_of("agriculture", revenue=D("5000000")) == "medium"
    assert size_of("construction", revenue=D("3000000"), total_assets=D("3000000")) == "small"
    assert size_of("other", employees=100) == "medium"


def test_gu11_unknown_industry_is_rejected():
    with raises_rule("GU-11", "industry"):
        size_of("mining", employees=5, revenue=D("1"))


@pytest.mark.parametrize(
    ("figures", "field"),
    [
        ({"employees": -1}, "employees"),
        ({"employees": 2.5}, "employees"),
        ({"employees": True}, "employees"),
        ({"employees": 5, "revenue": D("-1")}, "revenue"),
        ({"employees": 5, "revenue": "x"}, "revenue"),
    ],
)
def test_gu11_bad_figures_are_rejected(figures, field):
    with raises_rule("GU-11", field):
        size_of("industry", **figures)


# --- GU-12 forbidden business --------------------------------------------------------------


def test_gu12_ordinary_business_is_allowed():
    assert check_forbidden_business(purpose="working_capital", borrower_is_government_platform=False) is None


@pytest.mark.parametrize("purpose", rules.FORBIDDEN_PURPOSES)
def test_gu12_forbidden_purpose_is_rejected(purpose):
    with raises_rule("GU-12", "purpose"):
        check_forbidden_business(purpose=purpose, borrower_is_government_platform=False)


def test_gu12_government_platform_borrower_is_rejected():
    with raises_rule("GU-12", "borrower"):
        check_forbidden_business(purpose="working_capital", borrower_is_government_platform=True)


def test_gu12_both_reasons_are_listed():
    with raises_rule("GU-12") as info:
        check_forbidden_business(purpose="government_platform", borrower_is_government_platform=True)
    assert [p.field for p in info.value.problems] == ["purpose", "borrower"]


# --- GU-13 write-off and recovery ----------------------------------------------------------


def test_gu13_write_off_after_one_recovery_effort_is_allowed():
    assert check_write_off(recovery_efforts=1, already_written_off=False) is None


def test_gu13_write_off_without_recovery_effort_is_rejected():
    with raises_rule("GU-13", "recovery_efforts"):
        check_write_off(recovery_efforts=0, already_written_off=False)


def test_gu13_second_write_off_is_a_conflict():
    with pytest.raises(Conflict) as info:
        check_write_off(recovery_efforts=3, already_written_off=True)
    assert info.value.rule == "GU-13"
    assert isinstance(info.value, RuleViolation)


@pytest.mark.parametrize("efforts", [-1, True, "2"])
def test_gu13_bad_effort_count_is_rejected(efforts):
    with raises_rule("GU-13", "recovery_efforts"):
        check_write_off(recovery_efforts=efforts, already_written_off=False)


def test_gu13_recovery_net_is_gross_minus_costs():
    assert recovery_net("10000.00", "2500.50") == D("7499.50")


def test_gu13_costs_equal_to_gross_leave_nothing():
    assert recovery_net("100", "100") == D("0.00")


def test_gu13_costs_above_gross_leave_nothing_to_share():
    assert recovery_net("100", "100.01") == D("0.00")


@pytest.mark.parametrize(("gross", "costs", "field"), [("-1", "0", "gross"), ("1", "-1", "costs")])
def test_gu13_negative_recovery_inputs_are_rejected(gross, costs, field):
    with raises_rule("GU-13", field):
        recovery_net(gross, costs)


def test_gu13_recovery_is_shared_in_proportion_by_largest_remainder():
    assert share_recovery("1000000.01", parse_split(PATTERN_2422)) == allocate("1000000.01", parse_split(PATTERN_2422))
    parts = share_recovery("0.03", split_of("0.2", "0.4", "0.2", "0.1", "0.1"))
    assert sum(parts.values()) == D("0.03")
    assert parts["guarantee_firm"] == D("0.01")


def test_gu13_negative_net_recovery_is_rejected():
    with raises_rule("GU-13", "net_amount"):
        share_recovery("-0.01", parse_split(PATTERN_2422))


@given(base=cents, split=splits())
def test_gu13_shared_recovery_always_adds_up(base, split):
    assert sum(share_recovery(base, split).values()) == base


@pytest.mark.parametrize(
    ("kind", "size", "agri", "expected"),
    [
        ("enterprise", "small", False, True),
        ("enterprise", "micro", False, True),
        ("enterprise", "medium", False, False),
        ("enterprise", "large", False, False),
        ("enterprise", "medium", True, True),
        ("owner", "", False, True),
        ("individual_business", "", False, True),
        ("farmer", "", False, True),
    ],
)
def test_gu5_gu7_who_counts_as_small_micro_or_agri(kind, size, agri, expected):
    assert rules.is_small_micro_or_agri(kind=kind, size=size, is_agricultural=agri) is expected
