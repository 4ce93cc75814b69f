"""Browser pages for guarantees, agreements and compensations: thin views that parse input,
call a selector or a service, and render. Every object comes through a scoped selector, so
another organisation's row answers 404; writes are for the firm's own operators (403 else)."""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from core.bulk_import import import_run_start, runs_inline
from core.calendar import shanghai_today
from core.errors import RuleViolation
from core.exports import Workbook
from core.i18n_text import render as render_text
from core.models import ImportRun, Organisation
from core.views_helpers import add_rule_violation, paginate, problem_message, renames_of, run_upload
from guarantees import imports, rules, selectors, services
from guarantees.forms import (
    AgreementFilterForm,
    AgreementForm,
    CompensationFilterForm,
    DefaultForm,
    GuaranteeFilterForm,
    GuaranteeForm,
    ImportForm,
    NetAssetsForm,
    PayForm,
    RecoveryActionForm,
    RecoveryForm,
    ReleaseForm,
    WriteOffForm,
)
from guarantees.models import Agreement, Compensation, Guarantee
from guarantees.permissions import is_firm_operator

S = Guarantee.Status
# Where a compensated guarantee can still be worked on (GU-13).
RECOVERY_STATUSES = (S.COMPENSATED, S.RECOVERING, S.WRITTEN_OFF)
WRITE_OFF_STATUSES = (S.COMPENSATED, S.RECOVERING)
INDUSTRY_NAMES = dict(rules.INDUSTRIES)


# --- who may write ------------------------------------------------------------------------


def _require_firm_operator(user) -> Organisation:
    if not is_firm_operator(user):
        raise PermissionDenied(_("Only a guarantee firm's operators can do this."))
    return user.organisation


def _require_operator_of(user, firm_id: int) -> None:
    if not is_firm_operator(user) or user.organisation_id != firm_id:
        raise PermissionDenied(_("Only the guarantee firm's own operators can do this."))



def _error_status(exc: RuleViolation | None) -> int:
    return exc.status_code if exc is not None else 400


# --- guarantee list and export -----------------------------------------------------------


def _filtered_guarantees(request) -> tuple[GuaranteeFilterForm, QuerySet[Guarantee]]:
    form = GuaranteeFilterForm(request.GET or None, banks=selectors.banks_in_agreements(user=request.user))
    return form, form.filter(selectors.guarantee_list(user=request.user))


@login_required
def guarantee_list(request):
    form, queryset = _filtered_guarantees(request)
    page = paginate(request, queryset)
    firm_operator = is_firm_operator(request.user)
    context = {
        "filter_form": form,
        "page": page,
        "guarantees": page.object_list,
        "firm_operator": firm_operator,
        "show_firm": request.user.organisation_id is None
        or request.user.organisation.kind != Organisation.Kind.GUARANTEE_FIRM,
        "sort": form.cleaned_data.get("sort") if form.is_bound else "",
    }
    if firm_operator:
        context["net_assets_form"] = NetAssetsForm(prefix="na", initial={"as_of": shanghai_today()})
        context["latest_net_assets"] = selectors.latest_net_assets(user=request.user)
    return render(request, "guarantees/guarantee_list.html", context)


EXPORT_COLUMNS = [
    ("contract_no", gettext_lazy("Guarantee contract number")),
    ("borrower", gettext_lazy("Borrower")),
    ("borrower_id", gettext_lazy("Identifier")),
    ("firm", gettext_lazy("Guarantee firm")),
    ("bank", gettext_lazy("Bank")),
    ("agreement", gettext_lazy("Agreement number")),
    ("loan_principal", gettext_lazy("Loan principal (yuan)")),
    ("amount", gettext_lazy("Guaranteed amount (yuan)")),
    ("currency", gettext_lazy("Currency")),
    ("loan_start", gettext_lazy("Loan start")),
    ("loan_maturity", gettext_lazy("Loan maturity")),
    ("start", gettext_lazy("Guarantee start")),
    ("end", gettext_lazy("Guarantee end")),
    ("fee_rate", gettext_lazy("Annual guarantee fee rate (%)")),
    ("other_fees", gettext_lazy("Other fees (yuan)")),
    ("bank_fees", gettext_lazy("Bank fees (yuan)")),
    ("status", gettext_lazy("Status")),
    ("fee_compliant", gettext_lazy("Fee compliant (GU-5)")),
    ("problems", gettext_lazy("Problems")),
]


@login_required
def guarantee_export(request):
    """The filtered list as xlsx (write-only workbook: rows are streamed into the file)."""
    _form, queryset = _filtered_guarantees(request)
    workbook = Workbook(write_only=True)
    sheet = workbook.sheet(_("Guarantees"))
    sheet.append([str(label) for _key, label in EXPORT_COLUMNS])
    yes, no = _("Yes"), _("No")
    for g in queryset.iterator(chunk_size=2000):
        sheet.append([
            g.contract_no, g.borrower.name, g.borrower.id_number, g.firm.name, g.bank.name, g.agreement.code,
            g.loan_principal, g.amount, g.currency, g.loan_start, g.loan_maturity, g.start, g.end,
            g.fee_rate.scaleb(2).normalize(), g.other_fees, g.bank_fees, g.get_status_display(),
            yes if g.fee_compliant else no,
            "；".join(f"{p['rule']}: {render_text(p['message'])}" for p in g.problems or []),
        ])
    return workbook.response(f"guarantees-{shanghai_today():%Y%m%d}.xlsx")


# --- recording a guarantee ---------------------------------------------------------------


def _firm_agreements(user):
    return selectors.agreement_list(user=user).filter(firm_id=user.organisation_id).order_by("-signed_on", "code")


@login_required
def guarantee_create(request):
    _require_firm_operator(request.user)
    agreements = _firm_agreements(request.user)
    status = 200
    if request.method == "POST":
        form = GuaranteeForm(request.POST, agreements=agreements)
        if form.is_valid():
            try:
                guarantee = services.guarantee_create(
                    user=request.user, agreement=form.cleaned_data["agreement"],
                    borrower=form.borrower_data(), data=form.guarantee_data(),
                )
            except RuleViolation as exc:
                add_rule_violation(form, exc, field_map=GuaranteeForm.FIELD_MAP)
                status = _error_status(exc)
            else:
                messages.success(request, _("Guarantee %(no)s recorded.") % {"no": guarantee.contract_no})
                if not guarantee.fee_compliant:
                    messages.warning(request, _("Its fees break the caps of GU-5; it is saved and flagged for supervision."))
                return redirect("guarantees:guarantee-detail", pk=guarantee.pk)
        else:
            status = 400
    else:
        form = GuaranteeForm(agreements=agreements, initial={"agreement": agreements.first()})
    return render(request, "guarantees/guarantee_form.html",
                  {"form": form, "has_agreements": agreements.exists()}, status=status)


# --- guarantee detail and its status actions ---------------------------------------------


def _party_rows(shares: dict, parts: dict | None = None) -> list[dict]:
    return [
        {"party": rules.PARTY_LABELS[party], "share": shares.get(party), "part": (parts or {}).get(party)}
        for party in rules.PARTIES
    ]


def _compensation_context(compensation: Compensation | None) -> dict:
    if compensation is None:
        return {}
    recoveries = list(compensation.recoveries.all())
    for recovery in recoveries:
        recovery.costs_total = recovery.cost_litigation + recovery.cost_arbitration + recovery.cost_enforcement
    shares = {k: Decimal(v) for k, v in (compensation.shares or {}).items()}
    recovered = sum((r.net for r in recoveries), Decimal("0"))
    return {
        "compensation": compensation,
        "parts": _party_rows(shares, compensation.parts()),
        "payable": compensation.base - compensation.part_bank,
        "overdue": rules.is_compensation_overdue(compensation.due_on, compensation.paid_on, shanghai_today()),
        "actions": list(compensation.actions.select_related("created_by")),
        "recoveries": recoveries,
        "recovered": recovered,
    }


def _render_guarantee_detail(request, guarantee: Guarantee, forms: dict | None = None, status: int = 200):
    compensation = Compensation.objects.filter(guarantee=guarantee).first()
    can_act = is_firm_operator(request.user) and request.user.organisation_id == guarantee.firm_id
    today = shanghai_today()
    context = {
        "g": guarantee,
        "borrower": guarantee.borrower,
        "industry_label": INDUSTRY_NAMES.get(guarantee.borrower.industry, guarantee.borrower.industry),
        "agreement": guarantee.agreement,
        "split": _party_rows(guarantee.agreement.shares()),
        "can_act": can_act,
        "audit_events": selectors.audit_history(guarantee, compensation),
        **_compensation_context(compensation),
    }
    if can_act:
        status_now = guarantee.status
        available = {}
        if status_now == S.ACTIVE:
            available["release_form"] = ReleaseForm(prefix="release", initial={"released_on": today})
            available["default_form"] = DefaultForm(prefix="default", initial={"default_on": today})
        if compensation is not None and compensation.paid_on is None and status_now == S.DEFAULTED:
            available["pay_form"] = PayForm(prefix="pay", initial={"paid_on": today})
        if compensation is not None and compensation.paid_on is not None and status_now in RECOVERY_STATUSES:
            available["action_form"] = RecoveryActionForm(prefix="action", initial={"on": today})
            available["recovery_form"] = RecoveryForm(prefix="recovery", initial={"received_on": today})
        if compensation is not None and compensation.paid_on is not None and status_now in WRITE_OFF_STATUSES:
            available["write_off_form"] = WriteOffForm(prefix="writeoff", initial={"on": today})
        # A refused step whose form is not shown in this state (a Conflict) is reported on top.
        context["step_errors"] = [
            error for key, form in (forms or {}).items() if key not in available
            for errors in form.errors.values() for error in errors
        ]
        available.update({k: v for k, v in (forms or {}).items() if k in available})
        context.update(available)
    return render(request, "guarantees/guarantee_detail.html", context, status=status)


@login_required
def guarantee_detail(request, pk: int):
    guarantee = selectors.guarantee_get_for_user(user=request.user, guarantee_id=pk)
    return _render_guarantee_detail(request, guarantee)


def _run_action(request, guarantee: Guarantee, form, form_key: str, call, success: str, field_map=None):
    """Validate ``form``, call the service; re-render the detail with the errors, or redirect."""
    _require_operator_of(request.user, guarantee.firm_id)
    exc = None
    if form.is_valid():
        try:
            call(form)
        except RuleViolation as error:
            exc = error
            add_rule_violation(form, error, field_map=field_map)
        else:
            messages.success(request, success)
            return redirect("guarantees:guarantee-detail", pk=guarantee.pk)
    messages.error(request, _("The step was not recorded; see the form below."))
    return _render_guarantee_detail(request, guarantee, {form_key: form}, status=_error_status(exc))


@require_POST
@login_required
def guarantee_release(request, pk: int):
    guarantee = selectors.guarantee_get_for_user(user=request.user, guarantee_id=pk)
    return _run_action(
        request, guarantee, ReleaseForm(request.POST, prefix="release"), "release_form",
        lambda f: services.guarantee_release(user=request.user, guarantee=guarantee,
                                             released_on=f.cleaned_data["released_on"]),
        _("The guarantee is released."),
    )


@require_POST
@login_required
def guarantee_default(request, pk: int):
    guarantee = selectors.guarantee_get_for_user(user=request.user, guarantee_id=pk)
    return _run_action(
        request, guarantee, DefaultForm(request.POST, prefix="default"), "default_form",
        lambda f: services.guarantee_default(user=request.user, guarantee=guarantee, **f.cleaned_data),
        _("The default is recorded and the loss allocated (GU-3)."),
    )


def _compensation_and_guarantee(request, pk: int) -> tuple[Compensation, Guarantee]:
    compensation = selectors.compensation_get_for_user(user=request.user, compensation_id=pk)
    guarantee = selectors.guarantee_get_for_user(user=request.user, guarantee_id=compensation.guarantee_id)
    return compensation, guarantee


def _compensation_step(form_class, prefix: str, form_key: str, call, success: str, field_map=None):
    """A POST view for one step on a compensation: the compensation and its guarantee come through
    the scoped selectors (404 for another firm's), then ``_run_action`` with
    ``call(user, compensation, form)``."""

    @require_POST
    @login_required
    def view(request, pk: int):
        compensation, guarantee = _compensation_and_guarantee(request, pk)
        return _run_action(request, guarantee, form_class(request.POST, prefix=prefix), form_key,
                           lambda f: call(request.user, compensation, f), success, field_map=field_map)

    return view


compensation_pay = _compensation_step(
    PayForm, "pay", "pay_form",
    lambda user, c, f: services.compensation_pay(user=user, compensation=c, **f.cleaned_data),
    gettext_lazy("The compensation payment is recorded."))
compensation_recovery_action = _compensation_step(
    RecoveryActionForm, "action", "action_form",
    lambda user, c, f: services.recovery_action_record(user=user, compensation=c, **f.cleaned_data),
    gettext_lazy("The recovery effort is recorded."))
compensation_recovery = _compensation_step(
    RecoveryForm, "recovery", "recovery_form",
    lambda user, c, f: services.recovery_record(user=user, compensation=c, **f.values()),
    gettext_lazy("The recovery is recorded and shared back by the split (GU-13)."),
    field_map=RecoveryForm.FIELD_MAP)
compensation_write_off = _compensation_step(
    WriteOffForm, "writeoff", "write_off_form",
    lambda user, c, f: services.compensation_write_off(user=user, compensation=c, on=f.cleaned_data["on"]),
    gettext_lazy("The compensation is written off."),
    field_map={"recovery_efforts": None, "paid_on": None})


# --- net assets (GU-8) -------------------------------------------------------------------


@require_POST
@login_required
def net_assets(request):
    firm = _require_firm_operator(request.user)
    form = NetAssetsForm(request.POST, prefix="na")
    if form.is_valid():
        try:
            services.net_assets_record(user=request.user, firm=firm, as_of=form.cleaned_data["as_of"],
                                       net_assets=form.cleaned_data["net_assets"])
        except RuleViolation as exc:
            for problem in exc.problems:
                messages.error(request, problem_message(problem))
        else:
            messages.success(request, _("Net assets on %(date)s recorded.") % {"date": form.cleaned_data["as_of"]})
    else:
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
    return redirect("guarantees:guarantee-list")


# --- import --------------------------------------------------------------------------------


@login_required
def guarantee_import(request):
    firm = _require_firm_operator(request.user)
    errors, status = None, 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            saved, errors, status = run_upload(form, lambda: _import_or_queue(request, form, firm))
            if isinstance(saved, ImportRun):
                return redirect("imports:run", run_id=saved.pk)
            if saved is not None:
                messages.success(request, format_html(
                    '{} <a href="{}">{}</a>',
                    ngettext("%(count)d guarantee imported.", "%(count)d guarantees imported.", saved)
                    % {"count": saved},
                    reverse("guarantees:guarantee-list"), _("See the list"),
                ))
                return redirect("guarantees:guarantee-import")
        else:
            status = 400
    else:
        form = ImportForm()
    return render(request, "guarantees/guarantee_import.html", {
        "form": form, "errors": errors, "renames": renames_of(errors), "headers": imports.ALL_COLUMNS,
        "max_rows": settings.BULK_UPLOAD_MAX_ROWS, "max_mb": imports.megabytes(settings.BULK_UPLOAD_MAX_BYTES),
        "inline_rows": settings.BULK_IMPORT_INLINE_ROWS,
    }, status=status)


def _import_or_queue(request, form, firm):
    """A small file is imported now (rows saved); a large one is stored and queued (its ImportRun,
    whose page follows it: core.bulk_import)."""
    upload = form.cleaned_data["file"]
    content, deadline, rows = imports.checked_content(upload)
    if runs_inline(rows - 1):
        return imports.import_content(user=request.user, firm=firm, content=content, deadline=deadline,
                                      confirmed_renames=form.confirmed_renames())
    return import_run_start(user=request.user, kind=ImportRun.Kind.GUARANTEES, target_id=firm.pk, content=content,
                            file_name=upload.name, rows=rows - 1, confirmed_renames=form.confirmed_renames())


@login_required
def guarantee_import_template(request):
    _require_firm_operator(request.user)
    response = HttpResponse(imports.template_workbook(), content_type=imports.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="guarantees-template.xlsx"'
    return response


# --- agreements (GU-1, GU-2) -------------------------------------------------------------


@login_required
def agreement_list(request):
    form = AgreementFilterForm(request.GET or None)
    queryset = selectors.agreement_list(user=request.user).order_by("-signed_on", "code")
    if form.is_bound and form.is_valid():
        if form.cleaned_data["compliance"] == "ok":
            queryset = queryset.filter(compliant=True)
        elif form.cleaned_data["compliance"] == "breach":
            queryset = queryset.filter(compliant=False)
    page = paginate(request, queryset)
    return render(request, "guarantees/agreement_list.html", {
        "filter_form": form, "page": page, "agreements": page.object_list,
        "firm_operator": is_firm_operator(request.user),
    })


@login_required
def agreement_create(request):
    firm = _require_firm_operator(request.user)
    status = 200
    if request.method == "POST":
        form = AgreementForm(request.POST, banks=selectors.partner_bank_choices())
        if form.is_valid():
            try:
                agreement = services.agreement_create(
                    user=request.user, firm=firm, bank=form.cleaned_data["bank"], code=form.cleaned_data["code"].strip(),
                    shares=form.shares_value(), **form.terms_value(),
                )
            except RuleViolation as exc:
                add_rule_violation(form, exc)
                status = _error_status(exc)
            else:
                _agreement_saved_messages(request, agreement, _("Agreement %(code)s recorded."))
                return redirect("guarantees:agreement-detail", pk=agreement.pk)
        else:
            status = 400
    else:
        form = AgreementForm(banks=selectors.partner_bank_choices(), initial={"batch_mode": Agreement.BatchMode.NONE, "grace_days": 30})
    return render(request, "guarantees/agreement_form.html", {"form": form, "agreement": None}, status=status)


@login_required
def agreement_edit(request, pk: int):
    agreement = selectors.agreement_get_for_user(user=request.user, agreement_id=pk)
    _require_operator_of(request.user, agreement.firm_id)
    status = 200
    if request.method == "POST":
        form = AgreementForm(request.POST, editing=True)
        if form.is_valid():
            try:
                agreement = services.agreement_update(
                    user=request.user, agreement=agreement, shares=form.shares_value(), **form.terms_value()
                )
            except RuleViolation as exc:
                add_rule_violation(form, exc)
                status = _error_status(exc)
            else:
                _agreement_saved_messages(request, agreement, _("Agreement %(code)s changed."))
                return redirect("guarantees:agreement-detail", pk=agreement.pk)
        else:
            status = 400
    else:
        form = AgreementForm(editing=True, initial=AgreementForm.initial_for(agreement))
    return render(request, "guarantees/agreement_form.html", {"form": form, "agreement": agreement}, status=status)


def _agreement_saved_messages(request, agreement: Agreement, text: str) -> None:
    messages.success(request, text % {"code": agreement.code})
    if not agreement.compliant:
        messages.warning(request, _("The split breaks the minimum shares of GU-2; it is stored and marked non-compliant."))


@login_required
def agreement_detail(request, pk: int):
    agreement = selectors.agreement_get_for_user(user=request.user, agreement_id=pk)
    guarantees = selectors.guarantee_list(user=request.user).filter(agreement=agreement).order_by("-start", "-id")
    audit_events = selectors.audit_history(agreement)
    return render(request, "guarantees/agreement_detail.html", {
        "agreement": agreement,
        "split": _party_rows(agreement.shares()),
        "guarantee_count": guarantees.count(),
        "recent_guarantees": guarantees[:10],
        "can_edit": is_firm_operator(request.user) and request.user.organisation_id == agreement.firm_id,
        "audit_events": audit_events,
    })


# --- compensations (GU-3, GU-4, GU-13) ----------------------------------------------------


@login_required
def compensation_list(request):
    form = CompensationFilterForm(request.GET or None)
    today = shanghai_today()
    queryset = selectors.compensation_list(user=request.user).order_by("-default_on", "-id")
    state = form.cleaned_data.get("state") if form.is_bound and form.is_valid() else ""
    if state == "overdue":
        queryset = selectors.overdue_compensations(user=request.user, today=today).order_by("due_on", "-id")
    elif state == "unpaid":
        queryset = queryset.filter(paid_on__isnull=True)
    elif state == "written_off":
        queryset = queryset.filter(written_off_on__isnull=False)
    page = paginate(request, queryset)
    rows = [
        {"c": c, "overdue": rules.is_compensation_overdue(c.due_on, c.paid_on, today), "payable": c.base - c.part_bank}
        for c in page.object_list
    ]
    return render(request, "guarantees/compensation_list.html", {"filter_form": form, "page": page, "rows": rows})


@login_required
def compensation_detail(request, pk: int):
    compensation, guarantee = _compensation_and_guarantee(request, pk)
    return render(request, "guarantees/compensation_detail.html", {
        "g": guarantee,
        "can_act": is_firm_operator(request.user) and request.user.organisation_id == guarantee.firm_id,
        **_compensation_context(compensation),
    })
