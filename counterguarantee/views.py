"""Browser pages of counterguarantee: thin views that parse input, call a selector or a service,
and render. Every object comes through a scoped selector, so another firm's plan answers 404;
a page of another role answers 403.

The plan editor shows ``rules.check_plan``'s result next to each field: on every change the
page's script sends the plan to the preview API (the same function), and every save re-renders
with the server's own run of it."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.calendar import shanghai_today
from core.errors import RuleViolation
from core.i18n_text import render as render_text
from core.models import Organisation
from core.permissions import is_oversight_user
from core.views_helpers import add_rule_violation, paginate, problem_message
from counterguarantee import forms as f
from counterguarantee import permissions as can
from counterguarantee import rules, selectors, services
from counterguarantee.models import Measure, Plan
from counterguarantee.workflows import MEASURE, PLAN

K = Organisation.Kind
OUTCOME_LABELS = {
    rules.PASS: gettext_lazy("pass"), rules.WARNING: gettext_lazy("warning"), rules.FAIL: gettext_lazy("fail"),
    rules.INFO: gettext_lazy("information"), rules.NOT_APPLICABLE: gettext_lazy("not applicable"),
}
RULE_TITLES = {
    "CG-1": gettext_lazy("Credit guarantee expected"), "CG-2": gettext_lazy("Lower threshold allowed"),
    "CG-5": gettext_lazy("Valuation"), "CG-6": gettext_lazy("Rate not below the banks'"),
    "CG-7": gettext_lazy("No over-collateralisation"), "CG-9": gettext_lazy("Term"),
    "CG-10": gettext_lazy("Contracts"), "CG-11": gettext_lazy("Registration"),
}


def _require_party(user) -> None:
    """Guarantee firms, and the authority and supervisors over them."""
    if not (user.is_superuser or is_oversight_user(user)
            or (user.organisation_id is not None and user.organisation.kind == K.GUARANTEE_FIRM)):
        raise PermissionDenied(_("Counter-guarantees are for guarantee firms and their authorities."))


def _require_oversight(user) -> None:
    if not is_oversight_user(user):
        raise PermissionDenied(_("This page is for the authority and supervisors."))


def _rows(check: dict | None) -> list[dict]:
    """A stored or fresh check result, with labels, for the results table."""
    if not check:
        return []
    return [{**r, "message": render_text(r["message"]), "label": OUTCOME_LABELS.get(r["outcome"], r["outcome"]),
             "title": RULE_TITLES.get(r["rule"], "")}
            for r in check.get("results", [])]


# --- home ---------------------------------------------------------------------------------


@login_required
def home(request):
    """A firm operator's plans and the CG-13 limitation dates coming due; for the authority and
    supervisors, the oversight pages."""
    user = request.user
    _require_party(user)
    today = shanghai_today()
    params = services.params_on(today)
    horizon = selectors.coming_due_horizon(today, params)
    context = {"today": today, "horizon": horizon, "oversight": is_oversight_user(user),
               "due": selectors.limitation_dates(user=user, horizon=horizon)[:100]}
    if context["oversight"]:
        context["failed_count"] = selectors.failed_at_approval(user=user).count()
    else:
        q = (request.GET.get("q") or "").strip()
        plans = selectors.plan_list(user=user).order_by("-updated_at", "-id")
        context["plans"] = paginate(request, plans)
        pending = selectors.guarantees_without_plan(user=user)
        if q:
            pending = pending.filter(contract_no__icontains=q) | pending.filter(borrower__name__icontains=q)
        context["pending"] = pending[:20]
        context["q"] = q
    return render(request, "counterguarantee/home.html", context)


# --- the plan editor ----------------------------------------------------------------------


def _hints(check: dict | None) -> tuple[dict, dict[int, dict]]:
    """The findings of a check by field: the plan's, and each measure's (by position)."""
    plan_hints: dict[str, list] = {}
    measure_hints: dict[int, dict[str, list]] = {}
    for r in (check or {}).get("results", []):
        if r["rule"] == "CG-7":
            plan_hints.setdefault("__sum", []).append({"rule": r["rule"], "outcome": r["outcome"],
                                                       "message": render_text(r["message"])})
        elif r.get("field"):
            plan_hints.setdefault(r["field"], []).append({"rule": r["rule"], "outcome": r["outcome"],
                                                          "message": render_text(r["message"])})
        for d in r.get("details", []):
            item = {"rule": r["rule"], "outcome": d["outcome"], "message": render_text(d["message"])}
            if d["measure"] is None:
                plan_hints.setdefault(d["field"], []).append(item)
            else:
                measure_hints.setdefault(d["measure"], {}).setdefault(d["field"], []).append(item)
    return plan_hints, measure_hints


def _editor(request, guarantee, plan, plan_form, formset, check, status=200):
    plan_hints, measure_hints = _hints(check)
    for position, form in enumerate(formset.live_forms() if formset.is_bound else formset.forms):
        form.cg_hints = measure_hints.get(position, {})
    plan_form.cg_hints = plan_hints
    return render(request, "counterguarantee/plan_edit.html", {
        "guarantee": guarantee, "plan": plan, "form": plan_form, "formset": formset, "check": check,
        "rows": _rows(check), "today": shanghai_today(),
        "labels": {"titles": RULE_TITLES, "outcomes": OUTCOME_LABELS, "passes": gettext_lazy("passes"),
                   "fails": gettext_lazy("fails"), "incomplete": gettext_lazy("cannot be checked yet")},
    }, status=status)


@login_required
def plan_edit(request, guarantee_id: int):
    """CG-1 … CG-12: build or change the draft plan of a guarantee, with the live check."""
    user = request.user
    guarantee = selectors.guarantee_get_for_user(user=user, guarantee_id=guarantee_id)
    plan = Plan.objects.filter(guarantee=guarantee).first()
    if plan is not None and not plan.is_draft:
        return redirect("counterguarantee:plan-detail", pk=plan.pk)
    if not (can.is_firm_operator(user) and (user.is_superuser or user.organisation_id == guarantee.firm_id)):
        if plan is not None:
            return redirect("counterguarantee:plan-detail", pk=plan.pk)
        raise PermissionDenied(_("Only the guarantee firm's operator builds its counter-guarantee plan."))
    today = shanghai_today()
    params = services.params_on(today)
    classes = list(selectors.active_asset_classes())
    if plan is not None:
        classes += [m.asset_class for m in plan.measures.select_related("asset_class")
                    if m.asset_class_id and not m.asset_class.is_active]
    if request.method == "POST":
        plan_form = f.PlanForm(request.POST, params=params)
        formset = f.MeasureFormSet(request.POST, prefix="m", classes=classes)
        # Both are checked, so one submission lists the plan's and every measure's problems (issue 13.3).
        if plan_form.is_valid() & formset.is_valid():
            try:
                plan = services.plan_save(user=user, guarantee=guarantee, data=plan_form.plan_data(),
                                          measures=formset.measures(), on=today)
            except RuleViolation as exc:
                _place_errors(plan_form, formset, exc)
                return _editor(request, guarantee, plan, plan_form, formset, None, status=exc.status_code)
            messages.success(request, _("Plan saved. The check below is today's."))
            return redirect("counterguarantee:plan-edit", guarantee_id=guarantee.pk)
        return _editor(request, guarantee, plan, plan_form, formset, None, status=400)
    if plan is None:
        suggested = [rules.AGRI_AMOUNT_GROUND] if (guarantee.borrower.kind == "farmer"
                                                   and guarantee.amount <= params.agri_amount_cap) else []
        plan_form = f.PlanForm(params=params, initial={"credit_grounds": suggested})
        formset = f.MeasureFormSet(prefix="m", classes=classes, initial=[])
        check = None
    else:
        plan_form = f.PlanForm(params=params, initial=services.plan_data(plan).__dict__)
        formset = f.MeasureFormSet(prefix="m", classes=classes, initial=[
            f.measure_initial(services.MeasureData.from_measure(m)) for m in plan.measures.select_related("asset_class")])
        check = services.plan_check(plan=plan, on=today).as_dict()
    return _editor(request, guarantee, plan, plan_form, formset, check)


def _place_errors(plan_form, formset, exc: RuleViolation) -> None:
    """A service's problems next to their fields: ``measures[1].rate`` on the second live measure."""
    import re

    live = formset.live_forms()
    rest = []
    for p in exc.problems:
        match = re.match(r"measures\[(\d+)\]\.(\w+)", p.field or "")
        if match and int(match.group(1)) < len(live) and match.group(2) in live[int(match.group(1))].fields:
            live[int(match.group(1))].add_error(match.group(2), problem_message(p))
        else:
            rest.append(p)
    if rest:
        add_rule_violation(plan_form, RuleViolation.many(rest))


# --- the plan: approval and after-care -----------------------------------------------------


def _measure_form(name: str, m: Measure, today):
    """The form of after-care step ``name`` on measure ``m``, with what it can be pre-filled with."""
    prefix, form_class = MEASURE_ACTIONS[name][:2]
    initial = {"on": today}
    if name == "contract":
        initial = {"contract_no": m.contract_no, "signatories": m.owners,
                   "registry": m.registry or (m.asset_class.registry if m.asset_class_id else ""),
                   "registration_number": m.registration_number}
    elif name == "enforce":
        paid = getattr(getattr(m.plan.guarantee, "compensation", None), "paid_on", None)
        initial = {"recourse_from": paid or today}
    return form_class(prefix=f"{prefix}{m.pk}", initial=initial, **_form_kwargs(name, m))


def _form_kwargs(name: str, m: Measure) -> dict:
    return {"owners": m.owners} if name == "contract" else {}


def _plan_context(request, plan: Plan, **extra) -> dict:
    """The plan with the steps the user may take on it and on each measure now, as the workflow
    definitions (counterguarantee.workflows) list them: each form is shown only with its step."""
    user = request.user
    own = can.is_firm_operator(user) and (user.is_superuser or user.organisation_id == plan.firm_id)
    measures = list(plan.measures.select_related("asset_class").prefetch_related("inspections", "abnormal_events",
                                                                                 "actions"))
    approval = plan.checks.filter(purpose="approval").first()
    today = shanghai_today()
    guarantee = plan.guarantee
    steps = PLAN.actions_by_name(user, plan)
    rows = []
    for m in measures:
        m.plan = plan  # the steps read the plan and its guarantee: once, not per measure
        forms_for = {action.name: {"form": _measure_form(action.name, m, today), "label": action.label,
                                   "url": action.url}
                     for action in MEASURE.actions_for(user, m, names=MEASURE_ACTIONS)}
        for name, form in extra.pop(f"forms_{m.pk}", {}).items():  # a refused form, shown with its errors
            forms_for[name] = {"label": MEASURE.step(name).label,
                               "url": reverse("counterguarantee:measure-action", args=[m.pk, name]), "form": form}
        rows.append((m, forms_for))
    return {
        "plan": plan, "guarantee": guarantee, "own": own, "steps": steps, "measures": rows, "approval": approval,
        "approval_rows": _rows(approval.results if approval else None),
        "current_rows": _rows(plan.last_check) if plan.is_draft else [],
        "approve_form": extra.pop("approve_form", None) or (f.ApproveForm() if steps["approve"] else None),
        "release_form": extra.pop("release_form", None) or (
            f.ReleaseForm(initial={"on": today}) if steps["release"] else None),
        "today": today, **extra,
    }


@login_required
def plan_detail(request, pk: int):
    plan = selectors.plan_get_for_user(user=request.user, plan_id=pk)
    return render(request, "counterguarantee/plan_detail.html", _plan_context(request, plan))


@login_required
@require_POST
def plan_approve(request, pk: int):
    plan = selectors.plan_get_for_user(user=request.user, plan_id=pk)
    form = f.ApproveForm(request.POST)
    form.is_valid()
    try:
        run = services.plan_approve(user=request.user, plan=plan, on=shanghai_today(),
                                    note=form.cleaned_data.get("approval_note", ""))
    except RuleViolation as exc:
        add_rule_violation(form, exc)
        plan.refresh_from_db()
        return render(request, "counterguarantee/plan_detail.html",
                      _plan_context(request, plan, approve_form=form), status=exc.status_code)
    if run.passed:
        messages.success(request, _("Plan approved; the check passed and is stored with it."))
    else:
        messages.warning(request, _("Plan approved although the check failed; the reason is on record."))
    return redirect("counterguarantee:plan-detail", pk=plan.pk)


@login_required
@require_POST
def plan_release(request, pk: int):
    plan = selectors.plan_get_for_user(user=request.user, plan_id=pk)
    form = f.ReleaseForm(request.POST)
    if form.is_valid():
        try:
            services.plan_release(user=request.user, plan=plan, **form.cleaned_data)
        except RuleViolation as exc:
            add_rule_violation(form, exc)
        else:
            messages.success(request, _("Measures released, registrations cancelled and documents returned."))
            return redirect("counterguarantee:plan-detail", pk=plan.pk)
    return render(request, "counterguarantee/plan_detail.html", _plan_context(request, plan, release_form=form),
                  status=400)


MEASURE_ACTIONS = {
    "contract": ("k", f.ContractForm, lambda user, m, d: services.measure_record_contract(user=user, measure=m, **d),
                 gettext_lazy("Contract and registration recorded.")),
    "inspection": ("i", f.InspectionForm, lambda user, m, d: services.inspection_record(user=user, measure=m, **d),
                   gettext_lazy("Inspection recorded.")),
    "event": ("e", f.AbnormalEventForm, lambda user, m, d: services.abnormal_event_record(user=user, measure=m, **d),
              gettext_lazy("Abnormal event recorded.")),
    "enforce": ("x", f.EnforceForm, lambda user, m, d: services.measure_enforce(user=user, measure=m, **d),
                gettext_lazy("Enforcement started; the date to act is shown.")),
    "action": ("a", f.EnforcementActionForm,
               lambda user, m, d: services.enforcement_action_record(user=user, measure=m, **d),
               gettext_lazy("Action recorded; the limitation date moved on.")),
    "close": ("c", f.CloseForm, lambda user, m, d: services.enforcement_close(user=user, measure=m, **d),
              gettext_lazy("Enforcement closed.")),
}


@login_required
@require_POST
def measure_action(request, pk: int, action: str):
    """CG-13 after-care on one measure: inspection, abnormal event, enforcement and its actions."""
    measure = selectors.measure_get_for_user(user=request.user, measure_id=pk)
    if action not in MEASURE_ACTIONS:
        raise PermissionDenied
    prefix, form_class, run, done = MEASURE_ACTIONS[action]
    form = form_class(request.POST, prefix=f"{prefix}{measure.pk}", **_form_kwargs(action, measure))
    if form.is_valid():
        try:
            run(request.user, measure, form.cleaned_data)
        except RuleViolation as exc:
            add_rule_violation(form, exc)
        else:
            messages.success(request, done)
            return redirect("counterguarantee:plan-detail", pk=measure.plan_id)
    context = _plan_context(request, measure.plan, **{f"forms_{measure.pk}": {action: form}})
    return render(request, "counterguarantee/plan_detail.html", context, status=400)


# --- the authority ------------------------------------------------------------------------


@login_required
def tables(request):
    """CG-4, CG-6, CG-11: the asset classes with their registry, and the banks' upper rates."""
    user = request.user
    _require_oversight(user)
    editor = can.is_authority_admin(user)
    class_form, rate_form, status = f.AssetClassForm(prefix="ac"), f.BankRateForm(prefix="br"), 200
    if request.method == "POST":
        if not editor:
            raise PermissionDenied(_("Only the authority's administrator keeps the counter-guarantee tables."))
        if "ac-code" in request.POST:
            class_form = f.AssetClassForm(request.POST, prefix="ac")
            form, save = class_form, lambda d: services.asset_class_save(user=user, **d)
        else:
            rate_form = f.BankRateForm(request.POST, prefix="br")
            form, save = rate_form, lambda d: services.bank_rate_set(user=user, **d)
        if form.is_valid():
            try:
                save(form.cleaned_data)
            except RuleViolation as exc:
                add_rule_violation(form, exc)
            else:
                messages.success(request, _("Table updated; the change is in the audit trail."))
                return redirect("counterguarantee:tables")
        status = 400
    today = shanghai_today()
    in_force = services.bank_rates_on(today)
    params = services.params_on(today)
    classes = [{"row": c, "registry": rules.REGISTRIES.get(c.registry, ""), "rate": in_force.get(c.code),
                "default_rate": params.default_bank_rate} for c in selectors.asset_classes()]
    return render(request, "counterguarantee/tables.html", {
        "classes": classes, "rates": selectors.bank_rate_rows(), "editor": editor, "class_form": class_form,
        "rate_form": rate_form, "today": today,
    }, status=status)


@login_required
def credit_share(request):
    """CG-14: per firm and year, the credit-business share and its trend."""
    user = request.user
    _require_party(user)
    return render(request, "counterguarantee/credit_share.html", {"firms": selectors.credit_shares(user=user)})


@login_required
def failed(request):
    """Plans approved although their check failed, in the user's jurisdiction."""
    _require_oversight(request.user)
    page = paginate(request, selectors.failed_at_approval(user=request.user))
    return render(request, "counterguarantee/failed.html", {"page": page})
