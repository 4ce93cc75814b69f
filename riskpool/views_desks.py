"""The desks of the RP-16 claim's pool parties, Scheme S: the reviewer's queue (with the
objections to decide), the authority's notice desk (公示, 第二十条(二)), the treasurer's payments
and re-checks, and the finance bureau's write-off closures (RP-16 8c). Each desk lists only its
own pools' claims; another role answers 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.calendar import shanghai_today
from core.errors import RuleViolation
from core.views_helpers import add_rule_violation, paginate
from riskpool import selectors, services
from riskpool.forms import (
    DecisionForm,
    NoticeStartForm,
    PayForm,
    new_key,
)
from riskpool.permissions import is_authority, is_finance_bureau, is_reviewer, is_treasurer
from riskpool.views import NOTICE_BATCH, OUTCOME_LABELS, _require, _status, state_label

# --- the pool reviewer ---------------------------------------------------------------------


def _claim_rows(claims) -> list[dict]:
    return [{"claim": c, "label": state_label(c.state), "fails": [r for r in c.reasons or [] if r.get("outcome") == "fail"],
             "reasons": [{**r, "outcome_label": OUTCOME_LABELS.get(r.get("outcome"), r.get("outcome"))}
                         for r in c.reasons or []]}
            for c in claims]


def _render_queue(request, objection_forms=None, status=200):
    """The reviewer's queue, and the objections to the claims on notice in its pools: the
    authority runs the notice (第二十条(二)), the reviewer decides objections (复核)."""
    user = request.user
    queue = selectors.claim_queue_for_reviewer(user=user)
    page = paginate(request, queue)
    mine = selectors.claim_list(user=user).filter(pool__reviewer_id=user.organisation_id)
    notices = mine.filter(state="on_notice").order_by("notice_end", "id")
    on_notice = list(notices.prefetch_related("objections")[:NOTICE_BATCH])
    today = shanghai_today()
    objection_forms = objection_forms or {}
    notice_rows = [
        {"claim": c,
         "objections": [{"o": o, "form": objection_forms.get(o.pk) or DecisionForm(prefix=f"o{o.pk}", initial={"on": today})}
                        for o in c.objections.all()]}
        for c in on_notice
    ]
    return render(request, "riskpool/review_queue.html", {
        "page": page, "rows": _claim_rows(page.object_list),
        "notice_rows": notice_rows, "notice_count": notices.count(), "notice_batch": NOTICE_BATCH, "today": today,
    }, status=status)


@login_required
def review_queue(request):
    _require(is_reviewer, request.user)
    return _render_queue(request)


# --- the authority's notice desk (公示, RP-16 step 3, 第二十条(二)) -----------------------------


def _render_notice_desk(request, notice_form=None, status=200):
    """Approved claims of the authority's pools to put on the public notice, and the notices
    running or over, each with its period and objections; an ended notice with no pending or
    upheld objection is offered for closing (from the day after its last day)."""
    user = request.user
    mine = selectors.claim_list(user=user)
    if not user.is_superuser:
        mine = mine.filter(pool__authority_id=user.organisation_id)
    approved = mine.filter(state="approved").order_by("submitted_on", "id")
    # A batch for the notice: the oldest approvals first (a city pool can have hundreds).
    approved = approved.filter(pk__in=list(approved.values_list("pk", flat=True)[:NOTICE_BATCH]))
    notices = mine.filter(state="on_notice").order_by("notice_end", "id")
    today = shanghai_today()
    rows = []
    for claim in notices.prefetch_related("objections")[:NOTICE_BATCH]:
        statuses = [o.status for o in claim.objections.all()]
        blocked = services.objections_block_closing(statuses)
        over = services.notice_is_over(claim, today)
        rows.append({
            "claim": claim, "over": over, "objections": len(statuses), "blocked": blocked,
            "may_close": over and not blocked,
        })
    return render(request, "riskpool/notice_desk.html", {
        "notice_form": notice_form or (NoticeStartForm(claims=approved, initial={"on": today}) if approved.exists() else None),
        "rows": rows, "notice_count": notices.count(), "notice_batch": NOTICE_BATCH, "today": today,
    }, status=status)


@login_required
def notice_desk(request):
    _require(is_authority, request.user)
    return _render_notice_desk(request)


@require_POST
@login_required
def notice_start(request):
    """公示 (RP-16 step 3): the authority puts the checked approved claims on the public notice."""
    _require(is_authority, request.user)
    approved = selectors.claim_list(user=request.user).filter(state="approved")
    if not request.user.is_superuser:
        approved = approved.filter(pool__authority_id=request.user.organisation_id)
    form = NoticeStartForm(request.POST, claims=approved)
    exc = None
    if form.is_valid():
        try:
            moved = services.claim_notice_start(user=request.user, claims=list(form.cleaned_data["claims"]),
                                                on=shanghai_today())
        except RuleViolation as error:
            exc = error
            add_rule_violation(form, error)
        else:
            messages.success(request, _("%(n)d claims are on the public notice.") % {"n": len(moved)})
            return redirect("riskpool:notice-desk")
    return _render_notice_desk(request, notice_form=form, status=_status(exc))


@require_POST
@login_required
def objection_decide(request, pk: int):
    """RP-16 step 3: uphold (back to re-review) or dismiss an objection."""
    _require(is_reviewer, request.user)
    objection = selectors.objection_get_for_reviewer(user=request.user, objection_id=pk)
    form = DecisionForm(request.POST, prefix=f"o{objection.pk}")
    exc = None
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.objection_decide(user=request.user, objection=objection, upheld=d["approve"], note=d["note"],
                                      on=shanghai_today())
        except RuleViolation as error:
            exc = error
            add_rule_violation(form, error)
        else:
            messages.success(request, _("The objection is decided."))
            return redirect("riskpool:review-queue")
    return _render_queue(request, objection_forms={objection.pk: form}, status=_status(exc))


# --- the treasurer -------------------------------------------------------------------------


@login_required
def treasurer_desk(request):
    """Claims whose documents are complete (pay) and closures to re-check."""
    _require(is_treasurer, request.user)
    mine = selectors.claim_list(user=request.user).filter(pool__treasurer_id=request.user.organisation_id)
    today = shanghai_today()
    to_pay = [{**row, "form": PayForm(prefix="pay", initial={"on": today, "idempotency_key": new_key()})}
              for row in selectors.payment_queue_for_treasurer(user=request.user)]
    rechecks = mine.filter(state="closure_reviewed").order_by("next_due_on", "id")
    return render(request, "riskpool/treasurer.html", {"to_pay": to_pay, "rechecks": rechecks, "today": today})


# --- the finance bureau (监管执行部门, RP-16 8c) ---------------------------------------------


@login_required
def finance_desk(request):
    """The write-off closures the authority approved in the bureau's pools, awaiting its approval,
    and the ones it closed."""
    _require(is_finance_bureau, request.user)
    queue = selectors.claim_queue_for_finance_bureau(user=request.user)
    closed = selectors.claim_list(user=request.user).filter(state="closed").order_by("-id")
    return render(request, "riskpool/finance.html", {
        "page": paginate(request, queue), "closed": closed[:NOTICE_BATCH], "today": shanghai_today(),
    })
