"""Browser pages of Scheme M (马政办〔2024〕6号, spec riskpool.md RP-M1 … RP-M6), under /riskpool/m/:
thin views that parse input, call a selector or a service of riskpool.services_m, and render.

- the guarantee firm: its claims, a claim for one of its paid compensations with the ratio,
  amount, exclusions and the product's suspension shown before saving (``m_claim_preview``, the
  same rule functions as ``m_claim_submit``), recovery returns (RP-M5) with their due date;
- the pool's reviewer (the fund manager, 管理机构): the review queue, the products page, the RP-M6
  annual reports and their submission to the finance bureau;
- the treasurer: approved claims to pay (ledger, idempotent, after a confirmation);
- the authority: the products page, the claims and the reports of its pools.

Every object comes through a scoped selector (riskpool.selectors_m), so another firm's or
another pool's row answers 404; a page of another role answers 403."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.calendar import shanghai_today
from core.errors import RuleViolation
from core.exports import MONEY_FORMAT, Workbook
from core.i18n_text import render as render_text
from core.models import Organisation
from core.views_helpers import add_rule_violation, carried_fields, confirm_page, is_confirmed, paginate
from riskpool import rules, selectors_m, services_m
from riskpool.forms_m import MClaimForm, MDecisionForm, MReportSubmitForm, MReturnForm, PayForm, new_key
from riskpool.permissions import is_authority, is_firm_operator, is_pool_office, is_reviewer, is_treasurer
from riskpool.views import OUTCOME_LABELS
from riskpool.workflows import M_CLAIM

K = Organisation.Kind

def state_label(state: str) -> str:
    """The Scheme M claim state's label in the reader's language (the workflow's states)."""
    return M_CLAIM.label(state)


def _require(check, user) -> None:
    if not (user.is_superuser or check(user)):
        raise PermissionDenied(_("Your role does not allow this page."))


def _status(exc: RuleViolation | None) -> int:
    return exc.status_code if exc is not None else 400


def _reasons(reasons) -> list[dict]:
    rows = []
    for r in reasons:
        r = r.as_dict() if isinstance(r, rules.Reason) else r
        rows.append({**r, "outcome_label": OUTCOME_LABELS.get(r.get("outcome"), r.get("outcome"))})
    return rows


@login_required
def m_home(request):
    """Scheme M's entry in the navigation: the page of the user's role."""
    user = request.user
    if is_firm_operator(user):
        return redirect("riskpool:m-claim-list")
    if is_reviewer(user):
        return redirect("riskpool:m-review")
    if is_treasurer(user):
        return redirect("riskpool:m-pay")
    if is_authority(user) or user.is_superuser:
        return redirect("riskpool:m-products")
    raise PermissionDenied(_("Your role does not allow this page."))


# --- claims -------------------------------------------------------------------------------


def _rows(claims) -> list[dict]:
    return [{"claim": c, "label": state_label(c.state)} for c in claims]


@login_required
def m_claim_list(request):
    _require(lambda u: is_firm_operator(u) or is_pool_office(u), request.user)
    page = paginate(request, selectors_m.m_claim_list(user=request.user))
    return render(request, "riskpool/m/claim_list.html", {
        "page": page, "rows": _rows(page.object_list), "firm": is_firm_operator(request.user),
    })


@login_required
def m_claim_create(request):
    """A claim for one paid compensation. The first POST shows the quote (RP-M1 ratio and amount,
    RP-M3 suspension, RP-M4 exclusions, in words) and saves nothing; the second, confirmed,
    submits."""
    user = request.user
    _require(is_firm_operator, user)
    products, compensations = selectors_m.open_products(), selectors_m.claimable_compensations(user=user)
    form = MClaimForm(request.POST or None, products=products, compensations=compensations)
    preview, status = None, 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            d = form.cleaned_data
            try:
                if not is_confirmed(request):
                    preview = services_m.m_claim_preview(user=user, product=d["product"],
                                                         compensation=d["compensation"], exclusions=form.exclusions())
                else:
                    m_claim = services_m.m_claim_submit(
                        user=user, product=d["product"], compensation=d["compensation"],
                        submitted_on=shanghai_today(), exclusions=form.exclusions(),
                    )
                    messages.success(request, _("The claim is submitted: %(amount)s yuan.") % {"amount": m_claim.amount})
                    return redirect("riskpool:m-claim-detail", pk=m_claim.pk)
            except RuleViolation as exc:
                add_rule_violation(form, exc, field_map={"exclusions": None, "amount": None})
                status = _status(exc)
    return render(request, "riskpool/m/claim_form.html", {
        "form": form, "preview": preview, "preview_reasons": _reasons(preview.reasons) if preview else [],
        "hidden": carried_fields(request) if preview else [], "has_compensations": compensations.exists(),
    }, status=status)


# The form of each step of the Scheme M claim's workflow (riskpool.workflows.M_CLAIM, same names).
ACTION_FORMS = {"review": MDecisionForm, "pay": PayForm, "return": MReturnForm}


def _render_claim(request, m_claim, bound: dict | None = None, status: int = 200):
    user, today = request.user, shanghai_today()
    bound = bound or {}
    initial = {
        "review": {},
        "pay": {"on": today, "idempotency_key": new_key()},
        "return": {"on": today, "costs": 0, "idempotency_key": new_key()},
    }
    open_now = {action.name for action in M_CLAIM.actions_for(user, m_claim, names=ACTION_FORMS)}
    forms = {
        key: bound.get(key) or ACTION_FORMS[key](prefix=key, initial=initial[key])
        for key in ACTION_FORMS if key in open_now or key in bound
    }
    entries = list(m_claim.ledger_entries.order_by("booked_on", "id"))
    return render(request, "riskpool/m/claim_detail.html", {
        "claim": m_claim, "state_label": state_label(m_claim.state), "reasons": _reasons(m_claim.reasons or []),
        "entries": entries, "forms": forms, "remaining": m_claim.amount - m_claim.returned_amount,
        "return_days": services_m.scheme_m_params(today).return_days,
    }, status=status)


@login_required
def m_claim_detail(request, pk: int):
    m_claim = selectors_m.m_claim_get_for_user(user=request.user, m_claim_id=pk)
    return _render_claim(request, m_claim)


@require_POST
@login_required
def m_claim_action(request, pk: int, action: str):
    m_claim = selectors_m.m_claim_get_for_user(user=request.user, m_claim_id=pk)
    if action not in ACTION_FORMS:
        raise Http404
    M_CLAIM.require_party(request.user, m_claim, action)
    form = ACTION_FORMS[action](request.POST, prefix=action)
    exc = None
    if form.is_valid():
        d = form.cleaned_data
        confirmed = is_confirmed(request)
        url = reverse("riskpool:m-claim-action", args=[m_claim.pk, action])
        cancel = reverse("riskpool:m-claim-detail", args=[m_claim.pk])
        try:
            if action == "review":
                if d["approve"]:
                    services_m.m_claim_approve(user=request.user, m_claim=m_claim, note=d["note"])
                    messages.success(request, _("The claim is approved."))
                else:
                    services_m.m_claim_reject(user=request.user, m_claim=m_claim, note=d["note"])
                    messages.success(request, _("The claim is rejected."))
                return redirect("riskpool:m-claim-detail", pk=m_claim.pk)
            if action == "pay":
                if not confirmed:
                    return confirm_page(request, title=_("Pay the reimbursement"), action=url, cancel=cancel, lines=[
                        _("%(firm)s, %(product)s: %(amount)s yuan out of the %(subfund)s sub-fund, booked on %(on)s.") % {
                            "firm": m_claim.firm.name, "product": m_claim.product.name, "amount": m_claim.amount,
                            "subfund": _subfund(m_claim.product), "on": d["on"].isoformat()},
                    ])
                services_m.m_claim_pay(user=request.user, m_claim=m_claim, on=d["on"],
                                       idempotency_key=d["idempotency_key"])
                messages.success(request, _("The reimbursement is paid."))
                return redirect("riskpool:m-claim-detail", pk=m_claim.pk)
            # return (RP-M5)
            booked_on = d["on"] or shanghai_today()
            timing = selectors_m.return_timing(d["received_on"], booked_on)
            if not confirmed:
                amount = rules.m_return(d["recovery"], d["costs"], m_claim.ratio, m_claim.amount,
                                        m_claim.returned_amount)
                return confirm_page(request, title=_("Record a recovery return (RP-M5)"), action=url, cancel=cancel,
                                danger=False, lines=_return_lines(m_claim, d, amount, timing, booked_on))
            result = services_m.m_return_record(
                user=request.user, m_claim=m_claim, received_on=d["received_on"], recovery=d["recovery"],
                costs=d["costs"], idempotency_key=d["idempotency_key"], on=booked_on,
            )
            messages.success(request, _("The recovery is recorded: %(amount)s yuan returned, due by %(due)s.") % {
                "amount": result.amount, "due": result.due_on.isoformat()})
            return redirect("riskpool:m-claim-detail", pk=m_claim.pk)
        except RuleViolation as error:
            exc = error
            add_rule_violation(form, error, field_map={"amount": None})
    m_claim = selectors_m.m_claim_get_for_user(user=request.user, m_claim_id=pk)
    return _render_claim(request, m_claim, {action: form}, status=_status(exc))


def _return_lines(m_claim, d, amount, timing, booked_on) -> list[str]:
    lines = [
        _("(%(recovery)s − %(costs)s costs) × %(ratio)s = %(amount)s yuan to return; at most %(left)s yuan "
          "of the reimbursement is not returned yet.") % {
            "recovery": d["recovery"], "costs": d["costs"], "ratio": f"{(m_claim.ratio * 100).normalize():f}%",
            "amount": amount, "left": m_claim.amount - m_claim.returned_amount},
        _("Due within 30 days of receipt: by %(due)s.") % {"due": timing.due_on.isoformat()},
    ]
    if timing.late_days:
        lines.append(_("Returned on %(on)s: %(n)d days late.") % {"on": booked_on.isoformat(), "n": timing.late_days})
    else:
        lines.append(_("Returned on %(on)s: on time.") % {"on": booked_on.isoformat()})
    return lines


# --- the pool's parties ----------------------------------------------------------------------


def _subfund(product) -> str:
    return selectors_m.subfund_labels([product]).get((product.pool_id, product.subfund), product.subfund)


@login_required
def m_products(request):
    """RP-M2 / RP-M3: each product's size, reimbursed so far, the usage line, the NPL and
    compensation rates against the suspension rate, and whether new business is suspended and why."""
    _require(is_pool_office, request.user)
    today = shanghai_today()
    rows = selectors_m.product_rows(user=request.user, on=today)
    subfunds = selectors_m.subfund_labels([r.product for r in rows])
    return render(request, "riskpool/m/products.html", {
        "rows": [{"row": r, "reasons": _reasons(r.suspension.reasons),
                  "subfund": subfunds.get((r.product.pool_id, r.product.subfund), r.product.subfund)} for r in rows],
        "today": today,
        "params": services_m.scheme_m_params(today),  # the RP-M3 rates the help text states
    })


@login_required
def m_review(request):
    _require(is_reviewer, request.user)
    page = paginate(request, selectors_m.m_review_queue(user=request.user))
    return render(request, "riskpool/m/review.html", {"page": page, "rows": _rows(page.object_list)})


@login_required
def m_pay(request):
    _require(is_treasurer, request.user)
    page = paginate(request, selectors_m.m_pay_queue(user=request.user))
    today = shanghai_today()
    subfunds = selectors_m.subfund_labels([c.product for c in page.object_list])
    rows = [{"claim": c, "form": PayForm(prefix="pay", initial={"on": today, "idempotency_key": new_key()}),
             "subfund": subfunds.get((c.product.pool_id, c.product.subfund), c.product.subfund)}
            for c in page.object_list]
    return render(request, "riskpool/m/pay.html", {"page": page, "rows": rows})


# --- RP-M6 annual reports ----------------------------------------------------------------------


@login_required
def m_reports(request):
    _require(is_pool_office, request.user)
    page = paginate(request, selectors_m.m_reports(user=request.user))
    today = shanghai_today()
    return render(request, "riskpool/m/reports.html", {
        "page": page, "today": today,
        "rows": [{"report": r, "late": (r.submitted_on or today) > r.due_on} for r in page.object_list],
    })


def _render_report(request, report, form=None, status=200):
    user = request.user
    may_submit = report.submitted_on is None and (
        user.is_superuser or (is_reviewer(user) and user.organisation_id == report.pool.reviewer_id))
    today = shanghai_today()
    return render(request, "riskpool/m/report_detail.html", {
        "report": report, "lines": report.lines.select_related("product").order_by("product__code"),
        "form": (form or MReportSubmitForm(initial={"on": today})) if may_submit else None,
        "late": (report.submitted_on or today) > report.due_on,
    }, status=status)


@login_required
def m_report_detail(request, pk: int):
    _require(is_pool_office, request.user)
    return _render_report(request, selectors_m.m_report_get_for_user(user=request.user, report_id=pk))


@require_POST
@login_required
def m_report_submit(request, pk: int):
    """RP-M6: the fund manager records the report as submitted to the finance bureau."""
    report = selectors_m.m_report_get_for_user(user=request.user, report_id=pk)
    if not (request.user.is_superuser or (is_reviewer(request.user)
                                          and request.user.organisation_id == report.pool.reviewer_id)):
        raise PermissionDenied(_("Your role does not allow this step."))
    form = MReportSubmitForm(request.POST)
    exc = None
    if form.is_valid():
        try:
            services_m.m_annual_report_submit(user=request.user, report=report, on=form.cleaned_data["on"])
        except RuleViolation as error:
            exc = error
            add_rule_violation(form, error)
        else:
            messages.success(request, _("The report is recorded as submitted to the finance bureau."))
            return redirect("riskpool:m-report-detail", pk=report.pk)
    report = selectors_m.m_report_get_for_user(user=request.user, report_id=pk)
    return _render_report(request, report, form=form, status=_status(exc))


EXPORT_COLUMNS = [
    ("product", gettext_lazy("Product"), None),
    ("subfund", gettext_lazy("Sub-fund"), None),
    ("claims_submitted", gettext_lazy("Claims submitted"), "0"),
    ("submitted_amount", gettext_lazy("Reimbursement claimed (yuan)"), "#,##0.00"),
    ("claims_rejected", gettext_lazy("Of these, rejected"), "0"),
    ("claims_paid", gettext_lazy("Claims paid"), "0"),
    ("reimbursed", gettext_lazy("Reimbursed in the year (yuan)"), "#,##0.00"),
    ("returned", gettext_lazy("Returned in the year (yuan)"), "#,##0.00"),
    ("reimbursed_to_date", gettext_lazy("Reimbursed to the year's end (yuan)"), "#,##0.00"),
    ("returned_to_date", gettext_lazy("Returned to the year's end (yuan)"), "#,##0.00"),
    ("subfund_size", gettext_lazy("Sub-fund size (yuan)"), "#,##0.00"),
    ("subfund_reimbursed", gettext_lazy("Sub-fund reimbursed (yuan)"), "#,##0.00"),
    ("suspended", gettext_lazy("Suspended at the year's end (RP-M3)"), None),
    ("why", gettext_lazy("Why"), None),
]


def _export_value(line, key):
    if key == "product":
        return line.product.name
    if key == "subfund":
        return _subfund(line.product)
    if key == "suspended":
        return _("yes") if line.suspended else _("no")
    if key == "why":
        return " ".join(render_text(r["message"]) for r in line.suspension_reasons if r.get("outcome") == rules.FAIL)
    return getattr(line, key)


@login_required
def m_report_export(request, pk: int):
    """The report as xlsx: a title, the pool's figures, then a row per product."""
    _require(is_pool_office, request.user)
    report = selectors_m.m_report_get_for_user(user=request.user, report_id=pk)
    book = Workbook()
    sheet = book.sheet(str(report.year))
    sheet.append([_("%(pool)s: fund use in %(year)d (RP-M6)") % {"pool": report.pool.name, "year": report.year}],
                 bold=True, size=13)
    submitted = report.submitted_on.isoformat() if report.submitted_on else _("not yet")
    sheet.append([_("Due to the finance bureau by %(due)s; submitted: %(on)s") % {
        "due": report.due_on.isoformat(), "on": submitted}])
    sheet.append([])
    for label, value in (
        (_("Balance at the start of the year"), report.balance_start), (_("Budget and interest received"), report.budget_in),
        (_("Reimbursed in the year"), report.reimbursed), (_("Returned in the year"), report.returned),
        (_("Balance at the end of the year"), report.balance_end),
    ):
        sheet.append([str(label), value], formats={1: MONEY_FORMAT})
    sheet.append([])
    sheet.append([str(label) for _key, label, _fmt in EXPORT_COLUMNS], bold=True)
    formats = [fmt for _key, _label, fmt in EXPORT_COLUMNS]
    for line in report.lines.select_related("product").order_by("product__code"):
        sheet.append([_export_value(line, key) for key, _label, _fmt in EXPORT_COLUMNS], formats=formats)
    sheet.widths({0: 34})
    return book.response(f"scheme-m-report-{report.pool_id}-{report.year}.xlsx")
