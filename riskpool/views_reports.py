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
from riskpool import selectors_reports as selectors
from riskpool.views import _require, is_authority, is_reviewer, is_treasurer


def _is_report_reader(user) -> bool:
    return is_authority(user) or is_reviewer(user) or is_treasurer(user)


@login_required
def report_index(request):
    _require(_is_report_reader, request.user)
    return render(request, "riskpool/reports/index.html", {"pools": selectors.report_index(user=request.user)})


def _half_year(period: str) -> str:
    try:
        kind, _start, _end = period_bounds(period)
    except RuleViolation:
        raise Http404 from None
    if kind != "half":
        raise Http404
    return period


@login_required
def half_year_report(request, pk: int, period: str):
    _require(_is_report_reader, request.user)
    pool = selectors.report_pool_get(user=request.user, pool_id=pk)
    rows = selectors.half_year_rows(pool=pool, period=_half_year(period))
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            filename=f"half-year-report-{pool.pk}-{period}.xlsx",
            title=_("Half-year report %(period)s of %(pool)s (RP-23)") % {"period": period, "pool": pool.name},
            headers=[_("Bank"), _("Claims submitted"), _("Claims approved"), _("Claims paid"), _("Paid (yuan)"),
                     _("Returned (yuan)"), _("Gross recoveries (yuan)"), _("Projects closed")],
            rows=([r.member.organisation.name, r.claims_submitted, r.claims_approved, r.claims_paid, r.paid_amount,
                   r.returned_amount, r.recoveries_gross, r.closures] for r in rows),
            widths=(34, 12, 12, 12, 18, 18, 18, 12),
        )
    return render(request, "riskpool/reports/half_year.html", {
        "pool": pool, "period": period, "rows": rows, "totals": selectors.half_year_totals(rows)})


@login_required
def bank_evaluation(request, pk: int, year: int):
    _require(_is_report_reader, request.user)
    pool = selectors.report_pool_get(user=request.user, pool_id=pk)
    rows = selectors.evaluation_rows(pool=pool, year=year)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            filename=f"bank-evaluation-{pool.pk}-{year}.xlsx",
            title=_("Annual bank evaluation %(year)s of %(pool)s (RP-20)") % {"year": year, "pool": pool.name},
            headers=[_("Bank"), _("Amount lent (yuan)"), _("Borrowers"), _("Amount lent the year before (yuan)"),
                     _("Growth"), _("Rank on amount"), _("Rank on borrowers"), _("Rank on growth"),
                     _("Violation (RP-21)"), _("Grade")],
            rows=([r.member.organisation.name, r.amount, r.borrowers, r.prev_amount, r.growth, r.rank_amount,
                   r.rank_borrowers, r.rank_growth, _("yes") if r.violation else _("no"), r.get_grade_display()]
                  for r in rows),
            ratio_columns=[4], widths=(34, 18, 10, 18, 10, 10, 10, 10, 10, 10),
        )
    return render(request, "riskpool/reports/bank_evaluation.html", {
        "pool": pool, "year": year, "rows": rows, "grades": selectors.grade_counts(rows),
        "revoked": selectors.revoked_after(pool=pool, year=year)})
