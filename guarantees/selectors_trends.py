"""Quarterly trends of the guarantee-firm indicators from the JB-5 snapshots, for a region of the
user's jurisdiction, with the drill-down region → sub-region or firm.

A region's figure for a quarter is built from its firms' snapshots in the database (one GROUP BY
per table): leverage = Σ balance ÷ Σ net assets of the firms that reported net assets (GU-8);
average fee rate and support share = the firms' figures weighted by the amount they wrote
(GU-6, GU-7); compensation rate = Σ compensation paid ÷ Σ released (GU-9); credit-business share = guarantees
without mortgage or pledge ÷ guarantees with a decided plan (CG-14). The ratios go through
the same rule functions as a single firm's; the CG-14 one is counterguarantee's, asked through
guarantees.signals.credit_share_asked so that guarantees does not import it."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum

from core.models import Organisation, Region
from core.money import round_money
from guarantees import rules
from guarantees.models import FirmIndicatorSnapshot
from guarantees.selectors import firms_for_user
from guarantees.signals import credit_share

QUARTERS = 12
ZERO = Decimal("0")
WEIGHTED = DecimalField(max_digits=30, decimal_places=8)


@dataclass(frozen=True)
class TrendPoint:
    period: str
    firms: int
    balance: Decimal
    leverage: Decimal | None
    avg_fee_rate: Decimal | None
    support_share: Decimal | None
    compensation_rate: Decimal | None
    credit_share: Decimal | None


def _weighted(field: str) -> Sum:
    return Sum(ExpressionWrapper(F(field) * F("written_amount"), output_field=WEIGHTED),
               filter=Q(**{f"{field}__isnull": False}), default=ZERO)


AGGREGATES = {
    "sum_balance": Sum("balance", default=ZERO),
    "sum_geared_balance": Sum("balance", filter=Q(net_assets__gt=0), default=ZERO),
    "sum_net_assets": Sum("net_assets", filter=Q(net_assets__gt=0), default=ZERO),
    "sum_fee_weighted": _weighted("avg_fee_rate"),
    "sum_fee_written": Sum("written_amount", filter=Q(avg_fee_rate__isnull=False), default=ZERO),
    "sum_support_weighted": _weighted("support_share"),
    "sum_support_written": Sum("written_amount", filter=Q(support_share__isnull=False), default=ZERO),
    "sum_compensation_paid": Sum("compensation_paid", default=ZERO),
    "sum_released": Sum("released_amount", default=ZERO),
    "sum_planned": Sum("planned_guarantees", default=0),
    "sum_collateral": Sum("collateral_guarantees", default=0),
}


def _point(period: str, firms: int, sums: dict) -> TrendPoint:
    return TrendPoint(
        period=period, firms=firms, balance=sums["sum_balance"],
        leverage=rules.leverage(sums["sum_geared_balance"], sums["sum_net_assets"]) if sums["sum_net_assets"] else None,
        avg_fee_rate=rules.average_fee_rate(sums["sum_fee_weighted"], sums["sum_fee_written"]),
        # the weighted part, rounded to cents, can exceed the whole by the stored ratios' rounding
        support_share=rules.support_share(min(round_money(sums["sum_support_weighted"]), sums["sum_support_written"]),
                                          sums["sum_support_written"]),
        compensation_rate=rules.compensation_rate(sums["sum_compensation_paid"], sums["sum_released"]),
        credit_share=credit_share(planned=sums["sum_planned"], collateral=sums["sum_collateral"]),
    )


def _snapshots(firms: QuerySet[Organisation]) -> QuerySet[FirmIndicatorSnapshot]:
    return FirmIndicatorSnapshot.objects.filter(firm__in=firms)


def firms_in(*, user, region: Region | None) -> QuerySet[Organisation]:
    firms = firms_for_user(user=user)
    return firms.filter(region__path__startswith=region.path) if region is not None else firms


def region_trend(*, user, region: Region | None, quarters: int = QUARTERS) -> list[TrendPoint]:
    """The region's (or the whole jurisdiction's) figures for its last ``quarters`` snapshot
    periods, oldest first: one query."""
    rows = (
        _snapshots(firms_in(user=user, region=region)).values("period")
        .annotate(firms=Count("firm", distinct=True), **AGGREGATES).order_by("-period")[:quarters]
    )
    return [_point(r["period"], r["firms"], r) for r in reversed(list(rows))]


def drill_down(*, user, region: Region | None, period: str) -> tuple[list[dict], list[dict]]:
    """For ``period``: each sub-region of ``region`` (or each top region of the jurisdiction) and
    each firm directly in ``region``, with its figures. One query for the firms' snapshots; the
    sub-regions are rolled up from them by their path."""
    firms = firms_in(user=user, region=region)
    snaps = list(
        _snapshots(firms).filter(period=period)
        .values("firm_id", "firm__name", "firm__region_id", "firm__region__path")
        .annotate(firms=Count("firm"), **AGGREGATES)
        .order_by("firm__name")
    )
    if region is not None:
        children = list(region.children.order_by("path"))
    else:
        children = list(Region.objects.filter(parent__isnull=True).order_by("path"))
        if len(children) == 1:  # one province: start from its cities
            children = list(children[0].children.order_by("path"))
    sub_regions = []
    for child in children:
        inside = [s for s in snaps if s["firm__region__path"].startswith(child.path)]
        if inside:
            sums = {key: sum((s[key] or ZERO for s in inside), ZERO) for key in AGGREGATES}
            sub_regions.append({"region": child, "point": _point(period, len(inside), sums)})
    direct = [{"firm_id": s["firm_id"], "name": s["firm__name"], "point": _point(period, 1, s)}
              for s in snaps if region is not None and s["firm__region_id"] == region.pk]
    return sub_regions, direct
