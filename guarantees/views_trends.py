"""Quarterly trends of the guarantee-firm indicators (JB-5 snapshots) for the authority and the
supervisors: a region of the jurisdiction (the whole of it by default), its charts with their
table and xlsx export, and the drill-down to its sub-regions and firms."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.calendar import shanghai_today
from core.exports import xlsx_response
from core.models import Region
from core.rulesets import rule_params
from core.scoping import jurisdiction_region_path, sees_everything
from guarantees import selectors_trends as selectors
from guarantees.rules import GuaranteeParams
from guarantees.views_dashboard import require_oversight


def _region(user, code: str | None) -> Region | None:
    """The region asked for, which must lie in the user's jurisdiction; none means all of it."""
    if not code:
        return None
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise Http404
    if not sees_everything(user) and not region.path.startswith(jurisdiction_region_path(user) or "\0"):
        raise Http404
    return region


def _breadcrumbs(user, region: Region | None) -> list[Region]:
    if region is None:
        return []
    top = None if sees_everything(user) else jurisdiction_region_path(user)
    chain, node = [], region
    while node is not None and (top is None or node.path.startswith(top)):
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


@login_required
def trends(request):
    user = request.user
    require_oversight(user)
    region = _region(user, request.GET.get("region"))
    points = selectors.region_trend(user=user, region=region)
    title = region.name if region else _("Your jurisdiction")
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            filename=f"indicator-trends-{region.code if region else 'all'}.xlsx",
            title=_("Guarantee firm indicators by quarter: %(region)s") % {"region": title},
            headers=[_("Quarter"), _("Firms"), _("Guarantee balance (yuan)"), _("Leverage (GU-8)"),
                     _("Average fee rate (GU-6)"), _("Support share (GU-7)"), _("Compensation rate (GU-9)"),
                     _("Credit-business share (CG-14)")],
            rows=([p.period, p.firms, p.balance, p.leverage, p.avg_fee_rate, p.support_share, p.compensation_rate,
                   p.credit_share] for p in points),
            ratio_columns=[4, 5, 6, 7], widths=(10, 8, 20, 14, 16, 16, 18, 18),
        )
    period = request.GET.get("period") or (points[-1].period if points else None)
    if period and period not in {p.period for p in points}:
        raise Http404
    sub_regions, firms = selectors.drill_down(user=user, region=region, period=period) if period else ([], [])
    return render(request, "guarantees/indicator_trends.html", {
        "region": region, "title": title, "points": points, "period": period, "sub_regions": sub_regions,
        "firms": firms, "breadcrumbs": _breadcrumbs(user, region),
        "periods": [p.period for p in reversed(points)],
        # the policy lines the charts draw (GU-6, GU-7), from the rule set in force today
        "params": GuaranteeParams.from_mapping(rule_params("guarantees", shanghai_today())),
    })
