"""Display filters: the one number style of every page (issue 13, point 4).

- amounts in yuan with separators: ``{{ amount|money }}`` → ``1,234,567.89``;
- 万元 only where the page's header says so: ``{{ amount|wan_number }}`` → ``123.46`` under a
  "(万元)" column, or ``{{ amount|wan }}`` → ``123.46 万元`` standing alone;
- ratios as percentages with two decimals: ``{{ ratio|percent }}`` → ``0.80%`` for ``0.008000``;
- multiples (leverage, 放大倍数) with two decimals: ``{{ leverage|times }}`` → ``3.46``.

Empty values show as an em dash. Rounding is half-up and stays in ``Decimal``; a value that is
not a number is shown unchanged.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext as _

register = template.Library()

CENT = Decimal("0.01")
EMPTY = "—"


def _decimal(value) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _grouped(number: Decimal, places: Decimal = CENT) -> str:
    return f"{number.quantize(places, rounding=ROUND_HALF_UP):,}"


@register.filter
def money(value) -> str:
    """Yuan with thousands separators and 2 decimals: 1234567.891 → 1,234,567.89."""
    number = _decimal(value)
    if number is None:
        return EMPTY if value in (None, "") else str(value)
    return _grouped(number)


@register.filter
def wan(value) -> str:
    """Yuan shown in 万元 (10,000 yuan) with 2 decimals: 1234567 → 123.46 万元."""
    number = _decimal(value)
    if number is None:
        return EMPTY if value in (None, "") else str(value)
    return _("%(amount)s 万元") % {"amount": _grouped(number.scaleb(-4))}


@register.filter
def wan_number(value) -> str:
    """Yuan in 万元 without the unit, for a column whose header names it: 1234567 → 123.46."""
    number = _decimal(value)
    if number is None:
        return EMPTY if value in (None, "") else str(value)
    return _grouped(number.scaleb(-4))


@register.filter
def times(value) -> str:
    """A multiple such as leverage (放大倍数) with two decimals: 3.456 → 3.46."""
    number = _decimal(value)
    if number is None:
        return EMPTY if value in (None, "") else str(value)
    return _grouped(number)


def plain_percent(value) -> str:
    """A 6-place fraction as a percentage number without trailing zeros: 0.008000 → "0.8".

    Exact (a shift of the decimal point), so it is also the initial value of percentage inputs.
    """
    number = _decimal(value)
    if number is None:
        return ""
    text = format(number.scaleb(2).normalize(), "f")
    return "0" if text in ("-0", "0") else text


@register.filter
def percent(value) -> str:
    """A 6-place ratio as a percentage with two decimals, half-up: 0.008000 → 0.80%,
    0.200000 → 20.00%, 0.123456 → 12.35%."""
    number = _decimal(value)
    if number is None:
        return EMPTY if value in (None, "") else str(value)
    return f"{_grouped(number.scaleb(2))}%"
