"""Reads of Scheme M (马政办〔2024〕6号), always scoped to the requesting user.

A Scheme M claim is visible to the guarantee firm that made it, and to the pool's reviewer (the
fund manager, 管理机构), treasurer and authority (riskpool.access decides who); a product, the review
and payment queues and the RP-M6 annual reports only to the pool's reviewer, treasurer and
authority. A get of a row the user may not see answers 404, like a missing row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from core.models import Organisation
from core.money import round_money
from core.scoping import sees_everything
from guarantees.models import Compensation
from riskpool import access, rules
from riskpool.models import MAnnualReport, MClaim, Pool, Product
from riskpool.services_m import party_risk_figures, product_risk_figures, product_wide_suspension, scheme_m_params

M = Pool.Scheme.M


def pools_overseen(*, user) -> QuerySet[Pool]:
    return Pool.objects.filter(access.pools_q(user), scheme=M).select_related("authority", "reviewer", "treasurer")


def m_claim_list(*, user) -> QuerySet[MClaim]:
    """The firm's own claims, or the claims of the pools the user oversees."""
    return (
        MClaim.objects.filter(access.m_claim_q(user), product__pool__scheme=M)
        .select_related("product__pool", "firm", "compensation__guarantee__borrower")
        .order_by("-submitted_on", "-id")
    )


def m_claim_get_for_user(*, user, m_claim_id: int) -> MClaim:
    return get_object_or_404(m_claim_list(user=user), pk=m_claim_id)


def m_review_queue(*, user) -> QuerySet[MClaim]:
    """Submitted claims of the pools the user's organisation reviews, oldest first."""
    scope = Q() if sees_everything(user) else Q(product__pool__reviewer_id=user.organisation_id or -1)
    return m_claim_list(user=user).filter(scope, state="submitted").order_by("submitted_on", "id")


def m_pay_queue(*, user) -> QuerySet[MClaim]:
    """Approved claims of the pools the user's organisation pays for, oldest first."""
    scope = Q() if sees_everything(user) else Q(product__pool__treasurer_id=user.organisation_id or -1)
    return m_claim_list(user=user).filter(scope, state="approved").order_by("submitted_on", "id")


def claimable_compensations(*, user) -> QuerySet[Compensation]:
    """The firm's paid compensations (代偿) that have no Scheme M claim yet."""
    return (
        Compensation.objects.filter(guarantee__firm_id=user.organisation_id, paid_on__isnull=False,
                                    paid_amount__gt=0, m_claim__isnull=True)
        .select_related("guarantee__borrower", "guarantee__bank")
        .order_by("-paid_on", "-id")
    )


def compensation_get_for_firm(*, user, compensation_id: int) -> Compensation:
    return get_object_or_404(Compensation.objects.select_related("guarantee__firm"), pk=compensation_id,
                             guarantee__firm_id=user.organisation_id)


def open_products() -> QuerySet[Product]:
    """Every Scheme M product a firm may claim on (the services do not restrict a firm to a
    pool), with its pool."""
    return Product.objects.filter(pool__scheme=M).select_related("pool").order_by("pool__name", "code")


@dataclass(frozen=True)
class PartyRow:
    """One firm or bank in a product on the products page (RP-M3 第十条(一))."""

    name: str
    role: str
    rate: Decimal | None
    suspension: rules.Suspension


@dataclass(frozen=True)
class ProductRow:
    """One product on the products page (RP-M2, RP-M3)."""

    product: Product
    subfund_reimbursed: Decimal
    line_70: Decimal
    usage: Decimal | None
    npl_rate: Decimal | None
    compensation_rate: Decimal | None
    rate_limit: Decimal
    suspension: rules.Suspension
    parties: tuple[PartyRow, ...] = ()


def product_rows(*, user, on: date) -> list[ProductRow]:
    """The products of the pools the user oversees with RP-M3's figures and decisions on ``on``
    (``services_m.party_risk_figures``, ``product_risk_figures``, ``product_wide_suspension``
    and ``rules.party_suspended``, what JB-4 uses), each with its parties above 4%: a constant
    number of queries whatever the number of products."""
    products = list(Product.objects.filter(pool__in=pools_overseen(user=user)).select_related("pool")
                    .order_by("pool__name", "code"))
    if not products:
        return []
    params = scheme_m_params(on)
    parties = party_risk_figures(products, on=on)
    figures = product_risk_figures(products, on=on, parties=parties)
    names = dict(Organisation.objects.filter(pk__in={f.organisation_id for f in parties}).values_list("pk", "name"))
    by_product: dict[int, list[PartyRow]] = {}
    for f in parties:
        decision = rules.party_suspended(f.rate, f.role, params)
        by_product.setdefault(f.product_id, []).append(
            PartyRow(name=names.get(f.organisation_id, ""), role=f.role, rate=f.rate, suspension=decision))
    rows = []
    for product in products:
        f = figures[product.pk]
        rows.append(ProductRow(
            product=product, subfund_reimbursed=f.cumulative_reimbursed,
            line_70=round_money(product.size * params.suspension_usage),
            usage=(f.cumulative_reimbursed / product.size) if product.size else None,
            npl_rate=f.npl_rate, compensation_rate=f.firm_compensation_rate, rate_limit=params.suspension_rate,
            suspension=product_wide_suspension(product, f, params),
            parties=tuple(sorted(by_product.get(product.pk, []), key=lambda r: (r.role, r.name))),
        ))
    return rows


def m_reports(*, user) -> QuerySet[MAnnualReport]:
    return (
        MAnnualReport.objects.filter(access.pools_q(user, "pool__"), pool__scheme=M)
        .select_related("pool", "submitted_by")
        .order_by("-year", "pool__name")
    )


def m_report_get_for_user(*, user, report_id: int) -> MAnnualReport:
    return get_object_or_404(m_reports(user=user), pk=report_id)


@dataclass(frozen=True)
class ReturnTiming:
    """RP-M5: when a return of a recovery received on ``received_on`` is due, and how late a
    return booked on ``booked_on`` is (0 when on time: the 30th day itself is in time)."""

    due_on: date
    late_days: int


def return_timing(received_on: date, booked_on: date) -> ReturnTiming:
    due = rules.m_return_due(received_on, scheme_m_params(received_on))
    return ReturnTiming(due_on=due, late_days=max((booked_on - due).days, 0))


def subfund_labels(products) -> dict[tuple[int, str], str]:
    """A sub-fund by the names of the products sharing it ("税源贷、固定资产投资贷"), not its code
    (issue 13.2); one query for the pools on the page."""
    pools = {p.pool_id for p in products}
    names: dict[tuple[int, str], list[str]] = {}
    for pool_id, subfund, name in (Product.objects.filter(pool_id__in=pools).order_by("pk")
                                   .values_list("pool_id", "subfund", "name")):
        names.setdefault((pool_id, subfund), []).append(name)
    return {key: "、".join(value) for key, value in names.items()}
