"""Browser pages of the annual evaluation: thin, each parses input, calls a service or a selector
and renders. A refused step (RuleViolation, PermissionDenied) comes back as a message on the page."""
from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from core.calendar import shanghai_today
from core.errors import RuleViolation
from core.jobs import job_run
from core.models import JobRun, Organisation
from core.scoping import visible_organisations
from core.views_helpers import add_rule_violation, problem_message
from evaluation import exports, permissions, rules, selectors, services
from evaluation.forms import (
    AppealForm,
    CaseForm,
    DeclareForm,
    DistributionForm,
    FindingsForm,
    InterviewForm,
    MaterialForm,
    MaterialsForm,
    OpinionForm,
    ReturnForm,
    SampleForm,
    TargetsForm,
    YearForm,
)
from evaluation.forms_scheme import IN_INPUT_UNIT, IndicatorForm, IndicatorFormSet
from evaluation.models import (
    DistributionRecipient,
    EvaluationYear,
    Material,
    Submission,
)
from evaluation.workflows import CASE, YEAR, pending_decision
from evaluation.workflows import SUBMISSION as FLOW

# EV-5: each step named by what its holder owes (the key is the state it is owed at).
STEP_LABELS = {
    rules.State.DRAFT: gettext_lazy("The firm's filing"), rules.State.COUNTY: gettext_lazy("The county's opinion"),
    rules.State.CITY: gettext_lazy("The city's forwarding to the province"),
    rules.State.PROVINCE: gettext_lazy("The province's review"),
}
SUPERVISION_LABELS = {"yearly": gettext_lazy("Once a year"), "half_yearly": gettext_lazy("Twice a year"),
                      "quarterly": gettext_lazy("Every quarter, with an interview")}


def _refused(request, exc) -> None:
    if isinstance(exc, RuleViolation):
        for problem in exc.problems:
            messages.error(request, problem_message(problem))
    else:
        messages.error(request, str(exc) or _("Your role does not allow this action."))


def action(view):
    """A POST-only step: run it, report a refusal as a message, and go back to ``next`` or the page."""

    @wraps(view)
    @login_required
    @require_POST
    def wrapper(request, *args, **kwargs):
        try:
            target = view(request, *args, **kwargs)
        except (RuleViolation, PermissionDenied) as exc:
            _refused(request, exc)
            target = None
        if isinstance(target, HttpResponse):  # a form shown again with its errors
            return target
        return redirect(target or request.POST.get("next") or request.META.get("HTTP_REFERER") or "evaluation:home")

    return wrapper


def _province(user) -> None:
    if not permissions.is_province_user(user):
        raise PermissionDenied(_("This page is for the province."))


# --- home -------------------------------------------------------------------------------------------


@login_required
def home(request):
    """A firm: its submissions and what is due; a supervisor: the submissions waiting on it; the
    province: the years overview."""
    user = request.user
    role = permissions.home_role(user)
    today = shanghai_today()
    context = {"role": role, "today": today, "years": selectors.years()[:6], "year_form": YearForm()}
    if role == "other" and permissions.is_recipient(user):
        role = context["role"] = "recipient"  # EV-10: the distribution list reads the results
    if role == "other":
        raise PermissionDenied(_("The annual evaluation is for guarantee firms, supervisors and the authority."))
    subs = selectors.submissions_for_user(user=user)
    waiting = list(selectors.waiting_on(user=user))
    years: dict[int, EvaluationYear] = {}
    for sub in waiting:
        sub.year = years.setdefault(sub.year_id, sub.year)  # one instance per year: its dates are read once
        sub.due = FLOW.deadline(sub)
        sub.late = sub.due is not None and today > sub.due
    context.update(waiting=waiting, submissions=list(subs[:50]) if role == "firm" else [],
                   reminders=_reminders(user))
    return render(request, "evaluation/home.html", context)


def _reminders(user):
    return selectors.reminders_outstanding(user=user)


# --- year set-up and overview (EV-3, EV-5, EV-9) ---------------------------------------------------


@login_required
def year_setup(request, year: int | None = None):
    user = request.user
    _province(user)
    if year is None:
        form = YearForm(request.GET or None)
        if not form.is_valid():
            messages.error(request, _("Enter the year to set up."))
            return redirect("evaluation:home")
        return redirect("evaluation:year-setup", year=form.cleaned_data["year"])
    row = EvaluationYear.objects.filter(year=year).first() or EvaluationYear(year=year)
    initial_targets = ({"leverage": row.target_leverage, "clients": row.target_clients, "amount": row.target_amount}
                       if row.has_targets else None)
    initial_scheme = [IndicatorForm.initial_for(i) for i in row.scheme]
    status = 200
    if request.method == "POST":
        targets = TargetsForm(request.POST, prefix="t")
        formset = IndicatorFormSet(request.POST, prefix="i")
        # Both are checked, so one submission lists the targets' and the scheme's problems (issue 13.3).
        targets_ok, scheme_ok = targets.is_valid(), formset.is_valid()
        status = 400
        if targets_ok and scheme_ok:
            try:
                services.year_setup(user=user, year=year, scheme=formset.rows(), targets=targets.cleaned_data)
            except RuleViolation as exc:
                add_rule_violation(targets, exc, field_map={"indicators": None})
                status = exc.status_code
            else:
                messages.success(request, _("The %(year)s scheme and targets are saved.") % {"year": year})
                return redirect("evaluation:year", year=year)
    else:
        targets = TargetsForm(initial=initial_targets, prefix="t")
        formset = IndicatorFormSet(initial=initial_scheme, prefix="i")
    return render(request, "evaluation/year_setup.html", {
        "year": row, "targets_form": targets, "formset": formset, "deadline": rules.targets_deadline(year),
        "in_input_unit": IN_INPUT_UNIT}, status=status)


@login_required
def year_detail(request, year: int):
    """The province's (and supervisors') overview of a year: every submission with its deadline
    and lateness (EV-5), the counts per state, and the steps that close the year."""
    user = request.user
    row = selectors.year_get(year)
    if permissions.home_role(user) not in ("province", "supervisor"):
        raise PermissionDenied
    today = shanghai_today()
    subs = list(selectors.submissions_for_user(user=user, year=year))
    dates = selectors.year_dates(row)
    for sub in subs:
        sub.year = row  # one instance: the year's dates are read once, not per row
        sub.due = FLOW.deadline(sub)
        sub.late_steps = [{"step": step, "label": STEP_LABELS[step.state]}
                          for step in selectors.submission_lateness(sub, today=today, dates=dates) if step.late]
        sub.late = bool(sub.late_steps)
        # EV-3: the figures declared >1% off, by their labels (the stored field names stay internal).
        sub.flagged_labels = [str(exports.FIGURE_LABELS.get(name, name)) for name in sub.flagged]
    return render(request, "evaluation/year_detail.html", {
        "year": row, "submissions": subs, "late": [s for s in subs if s.late],
        "overview": selectors.year_overview(user=user, year=row), "dates": dates,
        "is_province": permissions.is_province_user(user), "today": today,
        "year_actions": YEAR.actions_for(user, row),
    })


@action
def year_close(request, year: int):
    services.review_close(user=request.user, year=selectors.year_get(year))
    messages.success(request, _("The review is closed; the results can now be published (JB-9)."))
    return reverse("evaluation:year", args=[year])


@action
def year_publish(request, year: int):
    """JB-9 on demand by the province: the same job as the schedule."""
    YEAR.check(request.user, selectors.year_get(year), "publish")
    job_run(job_id="JB-9", period=str(year), trigger=JobRun.Trigger.PAGE, user=request.user)
    messages.success(request, _("The results are published."))
    return reverse("evaluation:results", args=[year])


# --- submissions (EV-3 … EV-5) ----------------------------------------------------------------------


def _sub(request, pk: int) -> Submission:
    return selectors.submission_get_for_user(user=request.user, submission_id=pk)


def _form_rows(sub: Submission) -> list[dict]:
    indicators = sub.year.indicators()
    return [{"code": i.code, "label": i.label, "weight": i.weight, "function": i.function,
             "score": sub.scores.get(i.code)} for i in indicators]


@login_required
def submission_detail(request, pk: int):
    """A submission with the steps the user may take on it now (EV-3 … EV-5), as the workflow
    definition lists them: each form is shown only with its step."""
    return _submission_page(request, _sub(request, pk))


def _submission_page(request, sub, material_form=None, status=200, declare_form=None):
    user = request.user
    actions = FLOW.actions_by_name(user, sub)
    context = {
        "sub": sub, "actions": actions, "forward": actions["forward"] or actions["accept"], "is_province": permissions.is_province_user(user),
        "figures": exports.figure_rows(sub), "form_rows": _form_rows(sub), "due": FLOW.deadline(sub),
        "dates": selectors.year_dates(sub.year), "materials": sub.materials.all(), "history": sub.history.select_related("by"),
        "steps": sub.steps(), "today": shanghai_today(),
    }
    if actions["upload"]:
        context["material_form"] = material_form or MaterialsForm(kinds=services.material_kinds(sub.state))
    if actions["declare"]:
        context["declare_form"] = declare_form or DeclareForm(initial=sub.declared)
    if actions["forward"] or actions["accept"]:
        context["opinion_form"] = OpinionForm()
    if actions["return"]:
        context["return_form"] = ReturnForm()
    if actions["sample"]:
        context["sample_form"] = SampleForm()
    return render(request, "evaluation/submission_detail.html", context, status=status)


@login_required
@require_POST
def materials_upload(request, pk: int):
    """EV-4: several materials in one go (issue 13.9). Each file is its own upload: one that is
    refused keeps its problem beside its field, and the others are kept."""
    user = request.user
    sub = _sub(request, pk)
    if not FLOW.actions_by_name(user, sub)["upload"]:
        raise PermissionDenied(_("Your role does not allow this action."))
    form = MaterialsForm(request.POST, request.FILES, kinds=services.material_kinds(sub.state))
    if not form.is_valid():
        return _submission_page(request, sub, material_form=form, status=400)
    saved = 0
    for kind, upload in form.uploads():
        try:
            with transaction.atomic():
                services.material_upload(user=user, submission=sub, kind=kind, upload=upload,
                                         auditor=form.cleaned_data.get("auditor", ""),
                                         auditor_clean=form.cleaned_data.get("auditor_clean", False))
            saved += 1
        except RuleViolation as exc:
            for problem in exc.problems:
                form.add_error(f"file_{kind}", problem_message(problem))
    if form.errors:
        if saved:
            messages.warning(request, ngettext("%(n)d file was saved; the others are marked below.",
                                               "%(n)d files were saved; the others are marked below.", saved)
                             % {"n": saved})
        return _submission_page(request, sub, material_form=form, status=400)
    messages.success(request, ngettext("%(n)d file uploaded.", "%(n)d files uploaded.", saved) % {"n": saved})
    return redirect("evaluation:submission", pk=sub.pk)


@action
def submission_step(request, pk: int, step: str):
    user = request.user
    sub = _sub(request, pk)
    if step == "refresh":
        services.submission_refresh(user=user, submission=sub)
    elif step == "declare":
        form = DeclareForm(request.POST)
        if not form.is_valid():
            # Every figure's problem at once, beside its field (issue 13.3).
            return _submission_page(request, sub, declare_form=form, status=400)
        services.submission_declare(user=user, submission=sub, declared=form.cleaned_data)
    elif step == "upload":
        form = MaterialForm(request.POST, request.FILES, kinds=Material.Kind.values)
        if not form.is_valid():
            raise RuleViolation("EV-4", _("Choose the material and its file."))
        services.material_upload(user=user, submission=sub, kind=form.cleaned_data["kind"],
                                 upload=form.cleaned_data["file"], auditor=form.cleaned_data["auditor"],
                                 auditor_clean=form.cleaned_data["auditor_clean"])
    elif step == "sign":
        services.scoring_form_sign(user=user, submission=sub)
    elif step == "submit":
        services.submission_submit(user=user, submission=sub)
    elif step in ("forward", "accept"):
        services.submission_forward(user=user, submission=sub, opinion=request.POST.get("opinion", ""))
    elif step == "return":
        services.submission_return(user=user, submission=sub, reason=request.POST.get("reason", ""))
    elif step == "sample":
        services.submission_sample(user=user, submission=sub, note=request.POST.get("note", ""))
    else:
        raise Http404
    messages.success(request, _("Done."))
    return reverse("evaluation:submission", args=[pk])


@login_required
def scoring_form(request, pk: int, fmt: str = "html"):
    """EV-4: the scoring form generated from the indicators, printable or as xlsx."""
    sub = _sub(request, pk)
    rows = _form_rows(sub)
    if fmt == "xlsx":
        return exports.scoring_form_xlsx(sub, rows)
    return render(request, "evaluation/scoring_form.html", {"sub": sub, "rows": rows,
                                                            "figures": exports.figure_rows(sub)})


@login_required
def material_download(request, pk: int):
    material = Material.objects.filter(pk=pk).select_related("submission").first()
    if material is None:
        raise Http404
    _sub(request, material.submission_id)  # 404 unless the submission is visible
    # EV-4: served as what its content is (never as its name suggests); only a PDF opens inline.
    kind = material.content_type
    return FileResponse(material.file.open("rb"), content_type=rules.MATERIAL_CONTENT_TYPES[kind],
                        as_attachment=kind not in rules.MATERIAL_INLINE,
                        filename=rules.material_file_name(material.file.name, kind))


# --- results (EV-6 … EV-8, EV-10) -------------------------------------------------------------------


@login_required
def results(request, year: int, fmt: str = "html"):
    user = request.user
    row = selectors.year_get(year)
    rows = list(selectors.results_for_user(user=user, year=row))
    regions = list(selectors.region_results_for_user(user=user, year=row))
    if fmt == "xlsx":
        return exports.results_xlsx(row, rows, regions)
    for r in rows:
        r.supervision = SUPERVISION_LABELS[rules.supervision_frequency(r.klass)]
    return render(request, "evaluation/results.html", {
        "year": row, "results": rows, "regions": regions, "printable": request.GET.get("print") == "1",
        "is_province": permissions.is_province_user(user)})


@login_required
def firm_history(request, firm_id: int):
    """The year-on-year view of one firm."""
    firm = visible_organisations(request.user).filter(pk=firm_id, kind=Organisation.Kind.GUARANTEE_FIRM).first()
    if firm is None:
        raise Http404
    return render(request, "evaluation/firm_history.html", {
        "firm": firm, "results": selectors.firm_history(user=request.user, firm_id=firm_id)})


@login_required
def distribution(request):
    user = request.user
    _province(user)
    form = DistributionForm(request.POST or None, organisations=Organisation.objects.filter(
        kind__in=[Organisation.Kind.AUTHORITY, Organisation.Kind.SUPERVISOR, Organisation.Kind.REGUARANTEE_FIRM]))
    if request.method == "POST":
        try:
            if "remove" in request.POST:
                org = Organisation.objects.filter(pk=request.POST.get("remove")).first()
                if org:
                    services.distribution_remove(user=user, organisation=org)
            elif form.is_valid():
                services.distribution_add(user=user, organisation=form.cleaned_data["organisation"],
                                          note=form.cleaned_data["note"])
        except (RuleViolation, PermissionDenied) as exc:
            _refused(request, exc)
        return redirect("evaluation:distribution")
    return render(request, "evaluation/distribution.html", {
        "form": form, "rows": DistributionRecipient.objects.select_related("organisation")})


@login_required
def interviews(request):
    user = request.user
    if request.method == "POST":
        interview = selectors.interviews_for_user(user=user).filter(pk=request.POST.get("interview")).first()
        form = InterviewForm(request.POST)
        if interview is None:
            raise Http404
        if form.is_valid():
            try:
                services.interview_update(user=user, interview=interview, **form.cleaned_data)
                messages.success(request, _("Saved."))
            except (RuleViolation, PermissionDenied) as exc:
                _refused(request, exc)
        else:  # every problem at once (issue 13.3), never a silent redirect
            _refused(request, RuleViolation.many(form.problems()))
        return redirect("evaluation:interviews")
    return render(request, "evaluation/interviews.html", {
        "rows": selectors.interviews_for_user(user=user), "form": InterviewForm(),
        "is_province": permissions.is_province_user(user)})


# --- exemption cases (EV-11 … EV-14) ----------------------------------------------------------------


@login_required
def case_list(request):
    return render(request, "evaluation/case_list.html", {
        "cases": selectors.cases_for_user(user=request.user), "is_firm": permissions.is_firm_user(request.user)})


@login_required
def case_create(request):
    user = request.user
    if not permissions.is_firm_user(user):
        raise PermissionDenied
    form = CaseForm(request.POST or None, request.FILES or None,
                    guarantees=selectors.compensated_guarantees(user=user))
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        evidence = []
        if data["evidence_description"]:
            evidence.append(services.EvidenceData(data["evidence_ground"] or data["grounds"][0],
                                                  data["evidence_description"], data["evidence_archive_ref"],
                                                  data["evidence_file"]))
        try:
            case = services.case_open(user=user, guarantee=data["guarantee"], staff=data["staff"],
                                      grounds=data["grounds"], statement=data["statement"], evidence=evidence)
        except RuleViolation as exc:
            add_rule_violation(form, exc)
            status = exc.status_code
        else:
            return redirect("evaluation:case", pk=case.pk)
    return render(request, "evaluation/case_form.html", {"form": form}, status=status)


@login_required
def case_detail(request, pk: int):
    """A case with the steps the user may take on it now, as the EV-14 workflow lists them."""
    user = request.user
    case = selectors.case_get_for_user(user=user, case_id=pk)
    decisions = {d.stage: d for d in case.decisions.select_related("reviewer")}
    actions = CASE.actions_by_name(user, case)
    return render(request, "evaluation/case_detail.html", {
        "case": case, "first": decisions.get("first"), "appeal": decisions.get("appeal"),
        "evidence": case.evidence.all(), "grounds": rules.GROUNDS, "actions": actions,
        "pending": pending_decision(case) if actions["confirm"] else None,
        "findings_form": FindingsForm(), "appeal_form": AppealForm(),
    })


@action
def case_step(request, pk: int, step: str):
    user = request.user
    case = selectors.case_get_for_user(user=user, case_id=pk)
    if step == "findings":
        form = FindingsForm(request.POST)
        form.is_valid()
        services.case_findings_record(user=user, case=case, grounds=form.cleaned_data.get("grounds", []),
                                      staff_at_fault=form.cleaned_data.get("staff_at_fault", False))
    elif step == "confirm":
        services.case_confirm(user=user, case=case)
    elif step == "appeal":
        services.case_appeal(user=user, case=case, reason=request.POST.get("reason", ""))
    else:
        raise Http404
    messages.success(request, _("Done."))
    return reverse("evaluation:case", args=[pk])
