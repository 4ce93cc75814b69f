"""The authority's pool pages, Scheme S: its pools, one pool's figures with the bank list
(xlsx), the funding plan (RP-16 step 4) and budget additions to the ledger (RP-1), both behind
a confirmation page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.calendar import shanghai_today
from core.errors import RuleViolation
from core.exports import xlsx_response
from core.views_helpers import add_rule_violation, confirm_page, is_confirmed
from riskpool import selectors, services
from riskpool.forms import (
    BudgetForm,
    FundingPlanForm,
    new_key,
)
from riskpool.models import Claim, Pool
from riskpool.permissions import is_authority, is_reviewer, is_treasurer
from riskpool.views import NOTICE_BATCH, _require, _status, state_label

# --- the authority's pool page ------------------------------------------------------------


def _overseen_pools(user):
    return selectors.pools_overseen(user=user)


@login_required
def pool_list(request):
    _require(lambda u: is_authority(u) or is_reviewer(u) or is_treasurer(u), request.user)
    return render(request, "riskpool/pool_list.html", {"pools": _overseen_pools(request.user).order_by("name")})


def _pool_for(user, pk: int) -> tuple[Pool, dict]:
    pool = get_object_or_404(Pool, pk=pk, scheme=Pool.Scheme.S)
    return pool, selectors.pool_summary(user=user, pool=pool)  # 404 for anyone not overseeing it


def _render_pool(request, pool, summary, plan_form=None, budget_form=None, status=200):
    user = request.user
    authority = user.is_superuser or (is_authority(user) and user.organisation_id == pool.authority_id)
    claims = selectors.claim_list(user=user).filter(pool=pool)
    passed = claims.filter(state="notice_passed").order_by("notice_end", "id")
    passed = passed.filter(pk__in=list(passed.values_list("pk", flat=True)[:NOTICE_BATCH]))  # one plan's batch
    to_close = claims.filter(state__in=("settled", "closure_rechecked")).order_by("id") if authority else Claim.objects.none()
    today = shanghai_today()
    return render(request, "riskpool/pool_detail.html", {
        "pool": pool, "summary": summary, "authority": authority,
        "by_state": [(state_label(s), n) for s, n in summary["claims_by_state"].items()],
        "quarters": selectors.pool_quarters(user=user, pool=pool),  # the table by quarter, and its xlsx
        "administers": user.is_superuser or is_authority(user),  # the link to the pool administration
        "plan_form": (plan_form or FundingPlanForm(claims=passed, initial={"on": today})) if authority else None,
        "has_passed": passed.exists(),
        "to_close": to_close[:NOTICE_BATCH], "to_close_count": to_close.count() if authority else 0,
        "batch": NOTICE_BATCH,
        "budget_form": (budget_form or BudgetForm(initial={"booked_on": today, "idempotency_key": new_key()}))
        if authority else None,
    }, status=status)


@login_required
def pool_detail(request, pk: int):
    _require(lambda u: is_authority(u) or is_reviewer(u) or is_treasurer(u), request.user)
    pool, summary = _pool_for(request.user, pk)
    if request.GET.get("export") == "banks":
        return _banks_xlsx(pool, summary)
    return _render_pool(request, pool, summary)


def _banks_xlsx(pool, summary):
    """The member banks' RP-15 table of the pool page, as xlsx."""
    return xlsx_response(
        filename=f"pool-{pool.pk}-bank-npl.xlsx",
        title=_("Member banks' NPL ratios against the limit (RP-15): %(pool)s") % {"pool": pool.name},
        subtitle=_("As of %(day)s") % {"day": shanghai_today().isoformat()},
        headers=[_("Bank"), _("NPL ratio"), _("Limit"), _("Non-performing (yuan)"), _("Entered (yuan)"), _("Status")],
        rows=([b["bank"], b["npl_ratio"], b["limit"], b["npl_principal"], b["entered_principal"],
               _("Within the limit") if b["gate_open"] else _("Claims held")] for b in summary["banks"]),
        ratio_columns=[1, 2], widths=(34, 12, 10, 20, 20, 14),
    )


@require_POST
@login_required
def funding_plan_issue(request, pk: int):
    """资助计划下达 (RP-16 step 4): a batch of claims whose notice passed."""
    pool, summary = _pool_for(request.user, pk)
    _require(is_authority, request.user)
    passed = selectors.claim_list(user=request.user).filter(pool=pool, state="notice_passed")
    form = FundingPlanForm(request.POST, claims=passed)
    exc = None
    if form.is_valid():
        d = form.cleaned_data
        try:
            plan = services.funding_plan_issue(user=request.user, pool=pool, number=d["number"].strip(),
                                               claims=list(d["claims"]), on=d["on"])
        except RuleViolation as error:
            exc = error
            add_rule_violation(form, error)
        else:
            messages.success(request, _("Funding plan %(no)s issued.") % {"no": plan.number})
            return redirect("riskpool:pool-detail", pk=pool.pk)
    return _render_pool(request, pool, summary, plan_form=form, status=_status(exc))


@require_POST
@login_required
def pool_budget(request, pk: int):
    """A budget allocation into the pool, after a confirmation; the key makes a double submit book once."""
    pool, summary = _pool_for(request.user, pk)
    _require(is_authority, request.user)
    form = BudgetForm(request.POST)
    exc = None
    if form.is_valid():
        d = form.cleaned_data
        if not is_confirmed(request):
            return confirm_page(
                request, template="riskpool/confirm_budget.html", title=_("Please confirm the budget allocation"),
                action=reverse("riskpool:pool-budget", args=[pool.pk]),
                cancel=reverse("riskpool:pool-detail", args=[pool.pk]),
                warning=_("A ledger entry cannot be changed afterwards."), button=_("Yes, add it"), pool=pool, data=d,
            )
        try:
            services.pool_budget_add(user=request.user, pool=pool, amount=d["amount"], booked_on=d["booked_on"],
                                     idempotency_key=d["idempotency_key"], note=d["note"])
        except RuleViolation as error:
            exc = error
            add_rule_violation(form, error)
        else:
            messages.success(request, _("The budget is added to the pool."))
            return redirect("riskpool:pool-detail", pk=pool.pk)
    return _render_pool(request, pool, summary, budget_form=form, status=_status(exc))
