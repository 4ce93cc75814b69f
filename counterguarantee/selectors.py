"""Reads of counter-guarantee plans, always scoped to the requesting user.

A plan is visible to its guarantee firm and to the authority and supervisors whose jurisdiction
contains the firm; anyone else (another firm, a bank) gets 404, like a missing row.
"""
from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.shortcuts import get_object_or_404

from core.models import Organisation
from core.scoping import org_filter, visible_organisations
from counterguarantee import rules
from counterguarantee.models import AssetClass, BankPledgeRate, Measure, Plan
from guarantees.models import Guarantee


def plan_list(*, user) -> QuerySet[Plan]:
    return Plan.objects.filter(org_filter(user, "firm")).select_related("guarantee__borrower", "firm")


def plan_get_for_user(*, user, plan_id: int) -> Plan:
    return get_object_or_404(plan_list(user=user), pk=plan_id)


def guarantee_list(*, user) -> QuerySet[Guarantee]:
    """Guarantees whose counter-guarantee the user may see: the firm's own, or its jurisdiction's
    (never a bank's view of the guarantee)."""
    return Guarantee.objects.filter(org_filter(user, "firm")).select_related("borrower", "firm", "bank")


def guarantee_get_for_user(*, user, guarantee_id: int) -> Guarantee:
    return get_object_or_404(guarantee_list(user=user), pk=guarantee_id)


def measure_get_for_user(*, user, measure_id: int) -> Measure:
    return get_object_or_404(
        Measure.objects.filter(plan__in=plan_list(user=user)).select_related("plan__guarantee__firm", "asset_class"),
        pk=measure_id,
    )


def guarantees_without_plan(*, user) -> QuerySet[Guarantee]:
    """The firm's active guarantees with no plan yet, newest first."""
    return (guarantee_list(user=user).filter(status=Guarantee.Status.ACTIVE, counterguarantee_plan__isnull=True)
            .order_by("-start", "-id"))


def limitation_dates(*, user, horizon: date) -> QuerySet[Measure]:
    """CG-13: measures being enforced whose date to act falls on or before ``horizon`` (overdue
    ones included), earliest first."""
    return (Measure.objects.filter(plan__in=plan_list(user=user), status=Measure.Status.ENFORCED,
                                   enforcement_closed_on__isnull=True, limitation_due_on__lte=horizon)
            .select_related("plan__guarantee__borrower", "plan__firm", "asset_class")
            .order_by("limitation_due_on", "id"))


def coming_due_horizon(today: date, params: rules.Params) -> date:
    return today + timedelta(days=params.coming_due_days)


def failed_at_approval(*, user) -> QuerySet[Plan]:
    """Plans approved although their check failed (for the authority and supervisors)."""
    return plan_list(user=user).filter(approval_passed=False).order_by("-approved_on", "-id")


def asset_classes() -> QuerySet[AssetClass]:
    return AssetClass.objects.all()


def active_asset_classes() -> QuerySet[AssetClass]:
    return AssetClass.objects.filter(is_active=True)


def bank_rate_rows() -> QuerySet[BankPledgeRate]:
    return BankPledgeRate.objects.select_related("asset_class")


def credit_share_rows(*, user) -> dict[int, list[tuple[int, int, int]]]:
    """CG-14, per firm the user may see: (year, guarantees with an approved plan, those whose plan
    has a mortgage or pledge), by the year the guarantee started. One grouped query.

    Interpretation: a guarantee counts once its plan is approved (a draft is not yet a decision);
    a guarantee with no plan is not counted (its counter-guarantee is unknown)."""
    collateral = Measure.objects.filter(plan=OuterRef("pk"), kind__in=rules.COLLATERAL_KINDS)
    rows = (Plan.objects.filter(org_filter(user, "firm"), status__in=(Plan.Status.APPROVED, Plan.Status.RELEASED))
            .annotate(year=ExtractYear("guarantee__start"), collateral=Exists(collateral))
            .values("firm_id", "year")
            .annotate(total=Count("id"), with_collateral=Count("id", filter=Q(collateral=True)))
            .order_by("firm_id", "year"))
    out: dict[int, list[tuple[int, int, int]]] = {}
    for row in rows:
        out.setdefault(row["firm_id"], []).append((row["year"], row["total"], row["with_collateral"]))
    return out


def credit_shares(*, user) -> list[dict]:
    """CG-14 for every guarantee firm the user may see, with its yearly shares and trend."""
    counts = credit_share_rows(user=user)
    firms = visible_organisations(user).filter(kind=Organisation.Kind.GUARANTEE_FIRM).order_by("name")
    return [{"firm": firm, "years": rules.credit_shares(counts.get(firm.pk, []))} for firm in firms]
