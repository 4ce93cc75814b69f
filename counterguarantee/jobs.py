"""Batch jobs of the counter-guarantee app (found by core.jobs through autodiscovery)."""
from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q

from core.jobs import register_part
from core.periods import period_bounds
from counterguarantee import rules
from counterguarantee.models import Measure, Plan
from guarantees.models import FirmIndicatorSnapshot


@register_part("JB-5")
def snapshot_credit_share(run, period: str, progress) -> dict:
    """JB-5, counter-guarantee part: CG-14 on each firm's quarterly snapshot (written by the
    guarantees part just before, in the same transaction): the guarantees started in the quarter
    whose plan is decided, those with a mortgage or pledge, and the credit-business share through
    the same rule function as the CG-14 page. One grouped query and one bulk update."""
    _kind, start, end = period_bounds(period)
    collateral = Measure.objects.filter(plan=OuterRef("pk"), kind__in=rules.COLLATERAL_KINDS)
    counts = {
        row["firm_id"]: row
        for row in Plan.objects.filter(status__in=(Plan.Status.APPROVED, Plan.Status.RELEASED),
                                       guarantee__start__range=(start, end))
        .annotate(collateral=Exists(collateral)).values("firm_id")
        .annotate(total=Count("id"), with_collateral=Count("id", filter=Q(collateral=True))).order_by()
    }
    snapshots = list(FirmIndicatorSnapshot.objects.filter(period=period, firm_id__in=counts))
    for snap in snapshots:
        row = counts[snap.firm_id]
        [share] = rules.credit_shares([(start.year, row["total"], row["with_collateral"])])
        snap.planned_guarantees, snap.collateral_guarantees = row["total"], row["with_collateral"]
        snap.credit_share = share.credit_share
    FirmIndicatorSnapshot.objects.bulk_update(
        snapshots, ["planned_guarantees", "collateral_guarantees", "credit_share"], batch_size=1000)
    return {"credit_share_firms": len(snapshots)}
