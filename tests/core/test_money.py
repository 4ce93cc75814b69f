"""The money kernel (issue 14): one rounding, half-up, for every app; parsing and formatting edges."""
from datetime import date
from decimal import Decimal as D

import pytest

from core.errors import RuleViolation
from core.money import (
    amount,
    money,
    percent,
    plain,
    points,
    ratio,
    round_money,
    round_ratio,
    share_of,
    to_decimal,
    yuan,
)
from core.periods import add_months, quarter_end, quarter_ends, quarter_start


@pytest.mark.parametrize("value, expected", [("0.005", "0.01"), ("0.125", "0.13"), ("2.675", "2.68"),
                                             ("-0.005", "-0.01"), ("0.0049", "0.00")])
def test_money_rounds_half_up_at_the_half_cent(value, expected):
    # Half-even (a bare quantize) would give 0.00, 0.12 and 2.68.
    assert money(value) == round_money(D(value)) == D(expected)


def test_ratio_rounds_half_up_at_the_seventh_place():
    assert ratio("0.0000005") == round_ratio(D("0.0000005")) == D("0.000001")
    assert ratio("0.1234565") == D("0.123457")


def test_yuan_formats_with_separators_and_rounds_half_up():
    assert yuan(D("1234.565")) == "1,234.57"
    assert yuan(D("0.125")) == "0.13"
    assert yuan(D("1000000")) == "1,000,000.00"


def test_plain_percent_and_points():
    assert plain(D("0.900000")) == "0.9"
    assert plain(D("-0.000")) == "0"
    assert plain(D("1E+3")) == "1000"
    assert percent(D("0.200000")) == "20%"
    assert percent(D("0.015")) == "1.5%"
    assert points(D("0.12345678"), D("0.0001")) == "12.3457"
    assert points(D("0.000000")) == "0"


@pytest.mark.parametrize("value, expected", [(" 12.5 ", D("12.50")), (0.2, D("0.20")), (7, D("7.00")), (D("3"), D("3.00"))])
def test_money_parses_strings_ints_decimals_and_floats_by_their_repr(value, expected):
    assert money(value) == expected


@pytest.mark.parametrize("value", [True, None, "", "abc", "NaN", "Infinity", float("inf"), [1], "1e999999"])
def test_money_refuses_what_is_not_an_amount_naming_rule_and_field(value):
    with pytest.raises(RuleViolation) as caught:
        money(value, rule="GU-3", field="principal")
    assert (caught.value.problems[0].rule, caught.value.problems[0].field) == ("GU-3", "principal")


def test_to_decimal_refuses_bool_and_non_finite():
    assert to_decimal(True) is None and to_decimal("nan") is None and to_decimal("1.5") == D("1.5")


def test_amount_refuses_a_negative_amount():
    assert amount("0", "RP-9", "gross") == D("0.00")
    with pytest.raises(RuleViolation) as caught:
        amount("-0.01", "RP-9", "gross")
    assert (caught.value.problems[0].rule, caught.value.problems[0].field) == ("RP-9", "gross")


@pytest.mark.parametrize("day, months, expected", [
    (date(2024, 11, 30), 3, date(2025, 2, 28)), (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2025, 3, 31), -1, date(2025, 2, 28)), (date(2024, 12, 15), 1, date(2025, 1, 15)),
    (date(2025, 1, 15), -13, date(2023, 12, 15)),
])
def test_add_months_clamps_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_quarter_helpers():
    assert quarter_start(date(2025, 5, 17)) == date(2025, 4, 1)
    assert quarter_end(date(2025, 11, 2)) == date(2025, 12, 31)
    assert quarter_end(date(2025, 2, 2)) == date(2025, 3, 31)
    assert quarter_ends(date(2025, 4, 23), 3) == [date(2024, 9, 30), date(2024, 12, 31), date(2025, 3, 31)]


def test_share_of_rounds_half_up_to_six_places_and_is_none_of_nothing():
    assert share_of(D("1"), D("3")) == D("0.333333")
    assert share_of(D("1"), D("2000000")) == D("0.000001")  # 0.0000005: half-up, where half-even gives 0
    assert share_of(D("1"), D("2500000")) == D("0.000000")  # 0.0000004 rounds down
    assert share_of(D("5"), D("0")) is None
