"""RP-7 loan prime rate look-up and RP-5 currency conversion."""
from datetime import date
from decimal import Decimal

import pytest

from core.errors import RuleViolation
from core.models import ExchangeRate, LprRate
from core.rates import lpr_on, to_yuan

pytestmark = pytest.mark.django_db

DAY = date(2024, 3, 15)


def test_rp7_lpr_seeded_from_csv_in_force_on_its_effective_date():
    assert lpr_on(date(2025, 5, 20)) == Decimal("3.00")
    assert lpr_on(date(2025, 5, 20), "5y") == Decimal("3.50")


def test_rp7_lpr_before_a_change_is_the_previous_rate():
    assert lpr_on(date(2025, 5, 19)) == Decimal("3.10")
    assert lpr_on(date(2024, 10, 21)) == Decimal("3.10")
    assert lpr_on(date(2024, 10, 20)) == Decimal("3.35")
    assert lpr_on(date(2019, 8, 20)) == Decimal("4.25")


def test_rp7_lpr_entered_by_the_authority_takes_effect():
    LprRate.objects.create(effective_on=date(2025, 10, 20), term="1y", rate_percent=Decimal("2.9000"))
    assert lpr_on(date(2025, 10, 19)) == Decimal("3.00")
    assert lpr_on(date(2026, 1, 1)) == Decimal("2.90")


def test_rp7_no_lpr_before_its_start_is_a_rule_violation():
    with pytest.raises(RuleViolation) as info:
        lpr_on(date(2019, 8, 19))
    assert (info.value.rule, info.value.field) == ("RP-7", "lpr")
    assert "2019-08-19" in info.value.message


def test_rp7_unknown_term_is_a_programming_error():
    with pytest.raises(ValueError):
        lpr_on(DAY, "3y")


def _rate(kind, rate, currency="USD", unit=1, on=DAY):
    return ExchangeRate.objects.create(currency=currency, on=on, kind=kind, unit=unit, rate=Decimal(rate))


def test_rp5_yuan_is_returned_unchanged():
    assert to_yuan(Decimal("1234.56"), "CNY", DAY) == (Decimal("1234.56"), "cny")


def test_rp5_central_parity_comes_first():
    _rate(ExchangeRate.Kind.CASH_BUYING, "7.0100")
    _rate(ExchangeRate.Kind.SPOT_BUYING, "7.0500")
    _rate(ExchangeRate.Kind.CENTRAL_PARITY, "7.1000")
    assert to_yuan(Decimal("100.00"), "USD", DAY) == (Decimal("710.00"), "central_parity")


def test_rp5_spot_buying_when_no_central_parity():
    _rate(ExchangeRate.Kind.CASH_BUYING, "7.0100")
    _rate(ExchangeRate.Kind.SPOT_BUYING, "7.0500")
    assert to_yuan(Decimal("100.00"), "usd", DAY) == (Decimal("705.00"), "spot_buying")


def test_rp5_cash_buying_when_nothing_else():
    _rate(ExchangeRate.Kind.CASH_BUYING, "7.0100")
    assert to_yuan(Decimal("100.00"), "USD", DAY) == (Decimal("701.00"), "cash_buying")


def test_rp5_jpy_is_quoted_per_100_units_and_rounded_half_up():
    _rate(ExchangeRate.Kind.CENTRAL_PARITY, "4.7850", currency="JPY", unit=100)
    # 1,000,010 yen × 4.7850 / 100 = 47,850.4785 yuan → 47,850.48
    assert to_yuan(Decimal("1000010"), "JPY", DAY) == (Decimal("47850.48"), "central_parity")
    assert to_yuan(Decimal("10"), "JPY", DAY)[0] == Decimal("0.48")  # 0.4785


def test_rp5_an_exact_half_cent_rounds_up():
    _rate(ExchangeRate.Kind.CENTRAL_PARITY, "7.1250")
    assert to_yuan(Decimal("1.00"), "USD", DAY)[0] == Decimal("7.13")  # half-even would give 7.12


def test_rp5_only_the_exact_date_counts():
    _rate(ExchangeRate.Kind.CENTRAL_PARITY, "7.1000", on=date(2024, 3, 14))
    with pytest.raises(RuleViolation) as info:
        to_yuan(Decimal("100.00"), "USD", DAY)
    assert (info.value.rule, info.value.field) == ("RP-5", "currency")
    assert "USD" in info.value.message and "2024-03-15" in info.value.message


def test_rp5_rate_of_another_currency_does_not_count():
    _rate(ExchangeRate.Kind.CENTRAL_PARITY, "7.8000", currency="EUR")
    with pytest.raises(RuleViolation):
        to_yuan(Decimal("100.00"), "USD", DAY)
