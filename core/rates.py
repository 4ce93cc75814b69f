"""Reading the reference rates: the loan prime rate (RP-7) and exchange rates (RP-5)."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from core.errors import RuleViolation
from core.models import ExchangeRate, LprRate

CENT = Decimal("0.01")

# RP-5: the order in which the rate kinds are tried.
FX_FALLBACK_ORDER = (
    ExchangeRate.Kind.CENTRAL_PARITY,  # 中间价
    ExchangeRate.Kind.SPOT_BUYING,  # 现汇买入价
    ExchangeRate.Kind.CASH_BUYING,  # 现钞买入价
)


def lpr_on(on: date, term: str = LprRate.Term.ONE_YEAR) -> Decimal:
    """RP-7: the LPR (贷款市场报价利率, in percent) of ``term`` in force on ``on``: the rate with the
    latest effective date on or before ``on``."""
    if term not in LprRate.Term.values:
        raise ValueError(f"unknown LPR term {term!r}")
    rate = (
        LprRate.objects.filter(term=term, effective_on__lte=on)
        .order_by("-effective_on")
        .values_list("rate_percent", flat=True)
        .first()
    )
    if rate is None:
        raise RuleViolation(
            rule="RP-7",
            field="lpr",
            message=_("No %(term)s loan prime rate is in force on %(date)s; the authority must enter it.")
            % {"term": term, "date": on.isoformat()},
        )
    return rate


def to_yuan(amount: Decimal, currency: str, on: date, *, rate=None) -> tuple[Decimal, str]:
    """RP-5: ``amount`` of ``currency`` in yuan on ``on``, and the rate kind used ("cny" for yuan).

    Only a rate of that exact date counts (no carrying forward from an earlier day): the CFETS
    central parity, else the bank's spot buying rate, else its cash buying rate. ``rate`` is the
    lookup to use (``exchange_rate`` by default; a bulk upload passes one that asks once per
    currency and day).
    """
    currency = currency.upper()
    if currency == "CNY":
        return amount, "cny"
    value, unit, kind = (rate or exchange_rate)(currency, on)
    return (amount * value / unit).quantize(CENT, rounding=ROUND_HALF_UP), kind


def exchange_rate(currency: str, on: date) -> tuple[Decimal, Decimal, str]:
    """RP-5: the rate of ``currency`` on ``on`` as (rate, unit, kind), in the fallback order."""
    currency = currency.upper()
    rates = {
        row.kind: row
        for row in ExchangeRate.objects.filter(currency=currency, on=on, kind__in=FX_FALLBACK_ORDER)
    }
    for kind in FX_FALLBACK_ORDER:
        row = rates.get(kind)
        if row is not None:
            return row.rate, row.unit, kind.value
    raise RuleViolation(
        rule="RP-5",
        field="currency",
        message=_("No %(currency)s exchange rate is recorded for %(date)s; the authority must enter it.")
        % {"currency": currency, "date": on.isoformat()},
    )
