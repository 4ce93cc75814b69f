"""Display filters for money and ratios (spec README: yuan with 2 places, ratios with 6).

``{{ amount|money }}`` → ``1,234,567.89``; ``{{ amount|wan }}`` → ``123.46 万元``;
``{{ ratio|percent }}`` → ``0.8%`` for ``0.008000``. Empty values show as an em dash. The
arithmetic stays in ``Decimal``; a value that is not a number is shown unchanged.
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
    """A 6-place ratio as a percentage: 0.008000 → 0.8%, 0.200000 → 20%."""
    text = plain_percent(value)
    return f"{text}%" if text else EMPTY
