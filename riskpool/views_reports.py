"""The pool's reports for the authority, the reviewer and the treasurer: the RP-23 half-year
statistics per bank (JB-6) and the RP-20 annual bank evaluation with the RP-22 revocations
(JB-7), each on screen and as xlsx (?export=xlsx) from the same rows."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.errors import RuleViolation
from core.exports import xlsx_response
from core.periods import period_bounds
from core.views_helpers import paginate
from riskpool import selectors_reports as selectors
from riskpool.permissions import is_pool_office
from riskpool.views import _require


@login_required
def report_index(request):
    _require(is_pool_office, request.user)
    return render(request, "riskpool/reports/index.html", {"pools": selectors.report_index(user=request.user)})


def _period_of(kind: str, period: str) -> str:
    try:
        found, _start, _end = period_bounds(period)
    except RuleViolation:
        raise Http404 from None
    if found != kind:
        raise Http404
    return period


def _report(request, pk: int, *, rows_of, template: str, xlsx, context):
    """One report of a pool, on screen or as xlsx (?export=xlsx) from the same rows: the pool
    through the scoped selector (404 for another's), ``rows_of(pool)``, then
    ``xlsx_response(**xlsx(pool, rows))`` or the template with ``context(pool, rows)``."""
    _require(is_pool_office, request.user)
    pool = selectors.report_pool_get(user=request.user, pool_id=pk)
    rows = rows_of(pool)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(**xlsx(pool, rows))
    return render(request, template, {"pool": pool, "rows": rows, **context(pool, rows)})


@login_required
def half_year_report(request, pk: int, period: str):
    return _report(
        request, pk, rows_of=lambda pool: selectors.half_year_rows(pool=pool, period=_period_of("half", period)),
        template="riskpool/reports/half_year.html",
        xlsx=lambda pool, rows: dict(
            filename=f"half-year-report-{pool.pk}-{period}.xlsx",
            title=_("Half-year report %(period)s of %(pool)s (RP-23)") % {"period": period, "pool": pool.name},
            headers=[_("Bank"), _("Claims submitted"), _("Claims approved"), _("Claims paid"), _("Paid (yuan)"),
                     _("Returned (yuan)"), _("Gross recoveries (yuan)"), _("Projects closed")],
            rows=([r.member.organisation.name, r.claims_submitted, r.claims_approved, r.claims_paid, r.paid_amount,
                   r.returned_amount, r.recoveries_gross, r.closures] for r in rows),
            widths=(34, 12, 12, 12, 18, 18, 18, 12),
        ),
        context=lambda pool, rows: {"period": period, "totals": selectors.half_year_totals(rows)},
    )


@login_required
def bank_evaluation(request, pk: int, year: int):
    return _report(
        request, pk, rows_of=lambda pool: selectors.evaluation_rows(pool=pool, year=year),
        template="riskpool/reports/bank_evaluation.html",
        xlsx=lambda pool, rows: dict(
            filename=f"bank-evaluation-{pool.pk}-{year}.xlsx",
            title=_("Annual bank evaluation %(year)s of %(pool)s (RP-20)") % {"year": year, "pool": pool.name},
            headers=[_("Bank"), _("Amount lent (yuan)"), _("Borrowers"), _("Amount lent the year before (yuan)"),
                     _("Growth"), _("Rank on amount"), _("Rank on borrowers"), _("Rank on growth"),
                     _("Violation (RP-21)"), _("Grade")],
            rows=([r.member.organisation.name, r.amount, r.borrowers, r.prev_amount, r.growth, r.rank_amount,
                   r.rank_borrowers, r.rank_growth, _("yes") if r.violation else _("no"), r.get_grade_display()]
                  for r in rows),
            ratio_columns=[4], widths=(34, 18, 10, 18, 10, 10, 10, 10, 10, 10),
        ),
        context=lambda pool, rows: {"year": year, "grades": selectors.grade_counts(rows),
                                    "revoked": selectors.revoked_after(pool=pool, year=year)},
    )


@login_required
def quarter_close(request, pk: int, period: str):
    """JB-5's close of a quarter: per bank the RP-6 entry window and the RP-16 8b recovery reports
    (with every claim whose report is missing), and the pool's paid, returned and balance."""
    return _report(
        request, pk, rows_of=lambda pool: selectors.quarter_bank_rows(pool=pool, period=_period_of("quarter", period)),
        template="riskpool/reports/quarter_close.html",
        xlsx=lambda pool, rows: dict(
            filename=f"quarter-close-{pool.pk}-{period}.xlsx",
            title=_("Quarterly close %(period)s of %(pool)s (RP-6, RP-16)") % {"period": period, "pool": pool.name},
            headers=[_("Bank"), _("Loans disbursed in the quarter"), _("Their principal (yuan)"),
                     _("Loans entered in the quarter"), _("Claims in recovery"), _("Recovery reports"),
                     _("Gross recoveries (yuan)"), _("Returns owed (yuan)"), _("No report (nothing recovered)")],
            rows=([r.member.organisation.name, r.window_projects, r.window_principal, r.entered_in_quarter,
                   r.recovery_claims, r.reports_received, r.recoveries_gross, r.returns_due, r.reports_missing]
                  for r in rows),
            widths=(34, 14, 18, 14, 14, 14, 18, 18, 12),
        ),
        context=lambda pool, rows: {
            "period": period, "snapshot": selectors.quarter_snapshot(pool=pool, period=period),
            "missing": paginate(request, selectors.missing_recovery_rows(pool=pool, period=period))},
    )
