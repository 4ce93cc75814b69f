"""The authority's rule-set pages: typed forms per family, side-by-side diff of two versions
(issue 13 point 7), drafts, their simulations and adoption (issue 15). Thin: the services in
core.services_rulesets and core.simulation do the work."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import selectors_rulesets as sel
from core import services_rulesets as services
from core import simulation
from core.errors import RuleViolation
from core.exports import xlsx_response
from core.forms_rulesets import AdoptForm, ParamsForm, ScenarioForm, VersionForm
from core.models import Role
from core.ruleset_families import get_family, params_diff, typed_rows
from core.views_helpers import add_rule_violation, confirm_page, is_confirmed, problem_message


def _require_authority(user) -> None:
    if not sel.is_rule_user(user):
        raise PermissionDenied(_("Rule sets and the policy simulator are for the authority."))


def _family_or_404(scheme: str):
    family = get_family(scheme)
    if family is None:
        raise Http404(_("This scheme's parameters have no typed form."))
    return family


@login_required
def ruleset_list(request):
    _require_authority(request.user)
    return render(request, "core/rulesets/list.html", {
        "schemes": sel.rule_sets_by_scheme(user=request.user),
        "recent_simulations": sel.simulations_for_user(user=request.user).filter(state="succeeded")[:20],
        "choices": sel.compare_choices(user=request.user),
        "can_edit": request.user.has_role(Role.Code.AUTHORITY_ADMIN),
    })


@login_required
def ruleset_detail(request, pk: int):
    rule_set = sel.rule_set_get(user=request.user, pk=pk)
    return render(request, "core/rulesets/detail.html", {
        "object": rule_set, "rows": typed_rows(rule_set.scheme, rule_set.params),
        "drafts": rule_set.drafts.all(), "can_edit": request.user.has_role(Role.Code.AUTHORITY_ADMIN),
        "adopted_from": getattr(rule_set, "adopted_from", None),
    })


def _edit_page(request, *, scheme, params, initial, title, save, cancel_url):
    """One page for every typed edit: the version's name and dates, then the family's parameters."""
    family = _family_or_404(scheme)
    data = request.POST if request.method == "POST" else None
    version = VersionForm(data, initial=initial)
    form = ParamsForm(data, family=family, params=params, prefix="p")
    if data is not None and version.is_valid() & form.is_valid():
        try:
            saved = save(params=form.params, **version.cleaned_data)
        except RuleViolation as exc:
            add_rule_violation(version, exc, field_map={"effective_to": "effective_to"})
            for problem in exc.problems:
                if problem.field and problem.field in form.fields:
                    form.add_error(problem.field, problem_message(problem))
        else:
            messages.success(request, _("Saved."))
            return redirect(saved)
    return render(request, "core/rulesets/form.html", {
        "title": title, "version": version, "form": form, "scheme": scheme, "cancel_url": cancel_url,
    }, status=400 if data is not None else 200)


@login_required
def ruleset_edit(request, pk: int):
    rule_set = sel.rule_set_get(user=request.user, pk=pk)
    if not request.user.has_role(Role.Code.AUTHORITY_ADMIN):
        raise PermissionDenied
    return _edit_page(
        request, scheme=rule_set.scheme, params=rule_set.params,
        initial={f: getattr(rule_set, f) for f in ("name", "effective_from", "effective_to", "note")},
        title=_("Edit rule set %(name)s") % {"name": rule_set},
        save=lambda **kw: services.ruleset_update(user=request.user, rule_set=rule_set, **kw),
        cancel_url=rule_set.get_absolute_url(),
    )


@login_required
def ruleset_new_version(request, pk: int):
    rule_set = sel.rule_set_get(user=request.user, pk=pk)
    if not request.user.has_role(Role.Code.AUTHORITY_ADMIN):
        raise PermissionDenied
    return _edit_page(
        request, scheme=rule_set.scheme, params=rule_set.params,
        initial={"name": rule_set.display_name, "effective_to": rule_set.effective_to},
        title=_("New version of %(name)s") % {"name": rule_set},
        save=lambda **kw: services.ruleset_add_version(user=request.user, scheme=rule_set.scheme, **kw),
        cancel_url=rule_set.get_absolute_url(),
    )


@login_required
def compare(request):
    """Side by side: two versions (rule sets or drafts) of one scheme, changed rows marked."""
    _require_authority(request.user)
    a = sel.version_get(user=request.user, key=request.GET.get("a", ""))
    b = sel.version_get(user=request.user, key=request.GET.get("b", ""))
    if a.scheme != b.scheme:
        messages.error(request, _("Choose two versions of the same scheme."))
        return redirect("rulesets:list")
    rows = params_diff(a.scheme, a.params, b.params)
    return render(request, "core/rulesets/compare.html", {
        "a": a, "b": b, "rows": rows, "changed": sum(r["changed"] for r in rows),
        "choices": sel.compare_choices(user=request.user), "key_a": request.GET["a"], "key_b": request.GET["b"],
    })


# --- drafts ------------------------------------------------------------------------------------


@login_required
@require_POST
def draft_create(request, pk: int):
    rule_set = sel.rule_set_get(user=request.user, pk=pk)
    draft = services.draft_create(user=request.user, rule_set=rule_set)
    messages.success(request, _("Draft made. Nothing uses it until it is adopted."))
    return redirect("rulesets:draft-edit", pk=draft.pk)


@login_required
def draft_edit(request, pk: int):
    draft = sel.draft_get(user=request.user, pk=pk)
    return _edit_page(
        request, scheme=draft.scheme, params=draft.params,
        initial={f: getattr(draft, f) for f in ("name", "effective_from", "effective_to", "note")},
        title=_("Edit draft %(name)s") % {"name": draft},
        save=lambda **kw: services.draft_update(user=request.user, draft=draft, **kw),
        cancel_url=draft.get_absolute_url(),
    )


def _adopt_form(request, draft, data=None):
    from core.calendar import shanghai_today

    initial = {"simulation": request.GET.get("simulation")} if data is None else None
    return AdoptForm(data, initial=initial, draft=draft, today=shanghai_today(),
                     in_force_on=lambda day: sel.rule_set_in_force(draft.scheme, day))


def _draft_page(request, draft, *, adopt_form=None, status=200):
    in_force = sel.in_force_for(draft)
    rows = params_diff(draft.scheme, in_force.params if in_force else {}, draft.params)
    can_adopt = request.user.has_role(Role.Code.AUTHORITY_ADMIN) and not draft.adopted_as_id
    return render(request, "core/rulesets/draft.html", {
        "draft": draft, "in_force": in_force, "rows": rows, "changed": sum(r["changed"] for r in rows),
        "simulations": draft.simulations.all()[:20], "can_simulate": simulation.has_replay(draft.scheme),
        "scenario_form": ScenarioForm(), "can_adopt": can_adopt,
        "adopt_form": (adopt_form or _adopt_form(request, draft)) if can_adopt else None,
    }, status=status)


@login_required
def draft_detail(request, pk: int):
    return _draft_page(request, sel.draft_get(user=request.user, pk=pk))


def _adopt_facts(draft, sim, preview) -> list[tuple[str, str]]:
    end = preview["effective_to"]
    facts = [
        (_("Draft"), str(draft)),
        (_("New rule-set version"), draft.name),
        (_("Takes effect on"), preview["effective_from"].isoformat()),
        (_("Ends on"), end.isoformat() if end else _("open-ended")),
    ]
    for row in preview["ended"]:
        facts.append((_("Version in force until then"), _("%(name)s: now ends on %(after)s instead of %(before)s") % {
            "name": row["name"], "after": row["after"].isoformat(),
            "before": row["before"].isoformat() if row["before"] else _("open-ended")}))
    if sim is None:
        facts.append((_("Simulation attached"), _("none")))
    else:
        facts.append((_("Simulation attached"), _("#%(id)s of %(when)s: %(n)s objects whose outcome changes") % {
            "id": sim.pk, "when": f"{sim.created_at:%Y-%m-%d %H:%M}", "n": sim.result.get("changed_objects", 0)}))
    return facts


@login_required
@require_POST
def draft_adopt(request, pk: int):
    """Adopt a draft in two POSTs: the first checks the date and shows what will happen (a dry run
    of the adoption), the second, confirmed, adopts."""
    draft = sel.draft_get(user=request.user, pk=pk)
    if not request.user.has_role(Role.Code.AUTHORITY_ADMIN):
        raise PermissionDenied(_("Only an authority administrator may change rule sets."))
    if draft.adopted_as_id:
        messages.error(request, _("This draft has been adopted; copy the new rule set to a new draft instead."))
        return redirect(draft)
    form = _adopt_form(request, draft, request.POST)
    if form.is_valid():
        chosen = {"simulation": form.chosen_simulation(), "effective_from": form.cleaned_data["effective_from"]}
        try:
            if not is_confirmed(request):
                preview = services.draft_adopt_preview(user=request.user, draft=draft, **chosen)
                return confirm_page(
                    request, title=_("Adopt the draft %(name)s") % {"name": draft.name},
                    action=reverse("rulesets:draft-adopt", args=[draft.pk]), cancel=draft.get_absolute_url(),
                    lines=[_("The draft becomes a new version of the rule set. From the day it takes effect every "
                             "decision uses it; the step is recorded in the audit trail.")],
                    facts=_adopt_facts(draft, chosen["simulation"], preview), button=_("Yes, adopt it"),
                    warning=_("A version in force cannot be taken back; a later change needs a new version."))
            rule_set = services.draft_adopt(user=request.user, draft=draft, **chosen)
        except RuleViolation as exc:
            for problem in exc.problems:
                field = "simulation" if problem.field == "simulation" else "effective_from"
                form.add_error(field, problem_message(problem))
        else:
            messages.success(request, _("Adopted as a new rule-set version."))
            return redirect(rule_set)
    return _draft_page(request, sel.draft_get(user=request.user, pk=pk), adopt_form=form, status=400)


# --- simulations -------------------------------------------------------------------------------


@login_required
@require_POST
def simulation_start(request, pk: int):
    draft = sel.draft_get(user=request.user, pk=pk)
    form = ScenarioForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect(draft)
    try:
        sim = simulation.simulation_start(user=request.user, draft=draft, scenario=form.scenario())
    except RuleViolation as exc:
        messages.error(request, problem_message(exc.problems[0]))
        return redirect(draft)
    return redirect(sim)


@login_required
def simulation_detail(request, pk: int):
    sim = sel.simulation_get(user=request.user, pk=pk)
    return render(request, "core/rulesets/simulation.html", {
        "sim": sim, "draft": sim.draft, "result": sim.result, "view": simulation.result_view(sim),
        "can_adopt": request.user.has_role(Role.Code.AUTHORITY_ADMIN) and not sim.draft.adopted_as_id,
    })


@login_required
def simulation_progress(request, pk: int):
    sim = sel.simulation_get(user=request.user, pk=pk)
    return JsonResponse({"state": sim.state, "done": sim.progress_done, "total": sim.progress_total,
                         "percent": sim.progress_percent, "error": sim.error})


@login_required
def simulation_xlsx(request, pk: int):
    """The projection's table as xlsx, the same figures as the page."""
    sim = sel.simulation_get(user=request.user, pk=pk)
    projection = simulation.result_view(sim)["projection"]
    if not projection:
        raise Http404
    headers = [_("Quarter"), _("Payouts (in force)"), _("Balance (in force)"), _("Payouts (draft)"),
               _("Recoveries (draft)"), _("Balance (draft)")]
    rows = [[q["quarter"], q["payouts_before"], q["before"], q["payouts_after"], q["recoveries_after"], q["after"]]
            for q in projection["quarters"]]
    return xlsx_response(
        filename=f"simulation-{sim.pk}-projection.xlsx", title=_("Projected balance by quarter (yuan)"),
        subtitle=f"{sim.draft.name} · k = {projection['k']}, m = {projection['m']}", headers=headers, rows=rows,
        widths=[12, 18, 18, 18, 18, 18],
    )


@login_required
def simulation_compare(request):
    """Several drafts side by side: the totals of each chosen simulation (all of one scheme) beside
    the rule set in force."""
    _require_authority(request.user)
    sims = sel.simulations_get_many(user=request.user, pks=request.GET.getlist("ids")[:6])
    if len(sims) < 2 or len({s.draft.scheme for s in sims}) != 1:
        messages.error(request, _("Choose two or more simulations of the same scheme."))
        return redirect("rulesets:list")
    views = [simulation.summary_view(s) for s in sims]
    rows = []
    for index, total in enumerate(views[0]["totals"]):
        rows.append({"label": total["label"], "in_force": total["before"],
                     "values": [v["totals"][index]["after"] if index < len(v["totals"]) else "—" for v in views]})
    rows.append({"label": _("Objects whose outcome changes"), "in_force": "0",
                 "values": [str(v["changed_objects"]) for v in views]})
    if all(v["projection"] for v in views):
        rows.append({"label": _("Runs out"), "in_force": views[0]["projection"]["run_out"]["before"] or "—",
                     "values": [v["projection"]["run_out"]["after"] or "—" for v in views]})
        rows.append({"label": _("Budget per quarter to stay above the floor (yuan)"),
                     "in_force": views[0]["projection"]["budget"]["before"],
                     "values": [v["projection"]["budget"]["after"] for v in views]})
    return render(request, "core/rulesets/simulation_compare.html", {"sims": sims, "rows": rows})
