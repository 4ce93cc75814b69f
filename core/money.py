"""Money and ratio kernel: the one place that parses, rounds and formats amounts.

Money is ``Decimal`` yuan in cents (``CENT``); ratios and rates are ``Decimal`` fractions with
six places (``RATIO``). Every rounding here is ROUND_HALF_UP, as the policies count (a bare
``Decimal.quantize`` rounds half-even, which pays 0.125 as 0.12). Pure: nothing queries or saves.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from core.errors import RuleViolation

CENT = Decimal("0.01")
RATIO = Decimal("0.000001")
_HUNDRED = Decimal("100")


def to_decimal(value: Any) -> Decimal | None:
    """A finite Decimal, or None when ``value`` is not a number.

    bool is refused although it is an int: ``True`` as a share or an amount is always a bug.
    A float goes through its shortest repr (as DRF's DecimalField does), so a JSON 0.2 means
    0.2 and not 0.200000000000000011.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def round_half_up(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def round_ratio(value: Decimal) -> Decimal:
    return value.quantize(RATIO, rounding=ROUND_HALF_UP)


def share_of(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` ÷ ``whole`` as a ratio (six places, half-up); None when ``whole`` is 0, where a
    share means nothing. The one division behind every indicator ratio (GU-6 … GU-9, EV-3)."""
    return None if whole == 0 else round_ratio(part / whole)


def _quantize(value: Any, step: Decimal, rule: str, field: str | None, message) -> Decimal:
    number = to_decimal(value)
    if number is not None:
        try:
            return number.quantize(step, rounding=ROUND_HALF_UP)
        except InvalidOperation:  # too many digits for the context: not a real amount
            pass
    raise RuleViolation(rule, message, field)


def money(value: Any, *, rule: str = "INPUT", field: str | None = None) -> Decimal:
    """Parse str/int/Decimal (a float through its repr) into yuan rounded to cents, ROUND_HALF_UP."""
    return _quantize(value, CENT, rule, field, _("Enter a valid amount in yuan."))


def ratio(value: Any, *, rule: str = "INPUT", field: str | None = None) -> Decimal:
    """Parse like ``money`` into a fraction rounded to six places, ROUND_HALF_UP."""
    return _quantize(value, RATIO, rule, field, _("Enter a valid ratio, as a fraction (0.2 for 20%)."))


def amount(value: Any, rule: str, field: str) -> Decimal:
    """A non-negative money amount; a negative one is an input error of ``rule``."""
    parsed = money(value, rule=rule, field=field)
    if parsed < 0:
        raise RuleViolation(rule, _("This amount must not be negative."), field)
    return parsed


# --- formatting, for messages ---------------------------------------------------------------


def plain(number: Decimal) -> str:
    """Decimal without trailing zeros or exponent: 0.900000 -> 0.9, -0 -> 0."""
    text = format(number.normalize(), "f")
    return "0" if text == "-0" else text


def points(fraction: Decimal, places: Decimal | None = None) -> str:
    """A fraction in percentage points without the sign (0.015 -> 1.5), optionally rounded
    half-up to ``places`` first."""
    value = fraction * _HUNDRED
    return plain(value if places is None else round_half_up(value, places))


def percent(fraction: Decimal) -> str:
    """A fraction as a percentage: 0.200000 -> 20%."""
    return f"{points(fraction)}%"


def yuan(value: Decimal) -> str:
    """Yuan with thousands separators and cents, rounded half-up: 1234.565 -> 1,234.57."""
    return format(round_money(value), ",.2f")
