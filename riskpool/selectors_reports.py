"""Reads behind the pool's report pages: the RP-23 half-year reports (JB-6) and the RP-20 annual
bank evaluations (JB-7), for the pools the user oversees as authority, reviewer or treasurer."""
from __future__ import annotations

from django.db.models import Count, QuerySet, Sum
from django.shortcuts import get_object_or_404

from riskpool.models import (
    BankEvaluation,
    HalfYearReport,
    Member,
    MissingRecoveryReport,
    Pool,
    PoolQuarterSnapshot,
    QuarterBankReport,
)
from riskpool.selectors import pools_overseen

GRADE_ORDER = [BankEvaluation.Grade.EXCELLENT, BankEvaluation.Grade.GOOD, BankEvaluation.Grade.QUALIFIED,
               BankEvaluation.Grade.UNQUALIFIED]


def report_pool_get(*, user, pool_id: int) -> Pool:
    """A Scheme S pool the user oversees; any other answers 404 like a missing one."""
    return get_object_or_404(pools_overseen(user=user), pk=pool_id)


def report_index(*, user) -> list[dict]:
    """Each overseen pool with the quarters, half-years and years it has reports for, newest first
    (four queries, whatever the number of pools)."""
    pools = list(pools_overseen(user=user).order_by("name"))
    periods: dict[int, list[str]] = {}
    for pool_id, period in (HalfYearReport.objects.filter(pool__in=pools).values_list("pool_id", "period")
                            .distinct().order_by("pool_id", "-period")):
        periods.setdefault(pool_id, []).append(period)
    years: dict[int, list[int]] = {}
    for pool_id, year in (BankEvaluation.objects.filter(pool__in=pools).values_list("pool_id", "year")
                          .distinct().order_by("pool_id", "-year")):
        years.setdefault(pool_id, []).append(year)
    quarters: dict[int, list[str]] = {}
    for pool_id, period in (PoolQuarterSnapshot.objects.filter(pool__in=pools).values_list("pool_id", "period")
                            .order_by("pool_id", "-period")):
        quarters.setdefault(pool_id, []).append(period)
    return [{"pool": p, "periods": periods.get(p.pk, []), "years": years.get(p.pk, []), "quarters": quarters.get(p.pk, [])}
            for p in pools]


def half_year_rows(*, pool: Pool, period: str) -> QuerySet[HalfYearReport]:
    return (HalfYearReport.objects.filter(pool=pool, period=period).select_related("member__organisation")
            .order_by("member__organisation__name"))


def half_year_totals(rows: QuerySet[HalfYearReport]) -> dict:
    return rows.aggregate(
        claims_submitted=Sum("claims_submitted"), claims_approved=Sum("claims_approved"),
        claims_paid=Sum("claims_paid"), paid_amount=Sum("paid_amount"), returned_amount=Sum("returned_amount"),
        recoveries_gross=Sum("recoveries_gross"), closures=Sum("closures"),
    )


def evaluation_rows(*, pool: Pool, year: int) -> QuerySet[BankEvaluation]:
    return (BankEvaluation.objects.filter(pool=pool, year=year).select_related("member__organisation")
            .order_by("rank_amount", "member__organisation__name"))


def grade_counts(rows: QuerySet[BankEvaluation]) -> list[tuple[str, str, int]]:
    counts = dict(rows.order_by().values_list("grade").annotate(n=Count("id")))
    labels = dict(BankEvaluation.Grade.choices)
    return [(grade, labels[grade], counts.get(grade, 0)) for grade in GRADE_ORDER]


def revoked_after(*, pool: Pool, year: int) -> QuerySet[Member]:
    """RP-22: members whose membership was revoked by the evaluation of ``year`` (dated in the
    following year, when JB-7 runs)."""
    return (Member.objects.filter(pool=pool, revoked_on__year=year + 1).select_related("organisation")
            .order_by("organisation__name"))


def quarter_snapshot(*, pool: Pool, period: str) -> PoolQuarterSnapshot | None:
    return PoolQuarterSnapshot.objects.filter(pool=pool, period=period).first()


def quarter_bank_rows(*, pool: Pool, period: str) -> QuerySet[QuarterBankReport]:
    return (QuarterBankReport.objects.filter(pool=pool, period=period).select_related("member__organisation")
            .order_by("member__organisation__name"))


def missing_recovery_rows(*, pool: Pool, period: str) -> QuerySet[MissingRecoveryReport]:
    return (MissingRecoveryReport.objects.filter(pool=pool, period=period)
            .select_related("member__organisation", "claim__project").order_by("member__organisation__name", "claim_id"))
