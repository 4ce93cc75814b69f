"""Browser pages of the risk compensation pool, Scheme S (spec riskpool.md, RP-16): thin views
that parse input, call a selector or a service, and render. Every object comes through a scoped
selector, so another bank's row answers 404 (RP-25); a page of another role answers 403.

Irreversible steps (pay, reject, close the notice, close a claim, add budget) go through a
confirmation page: the first POST validates and shows what will happen, the second (with
``confirmed=1``) does it. A payment carries an idempotency key made when the page rendered, so
a double submit pays once (RP-1).

This module holds the loan projects and the claim with its steps; the parties' desks are in
``views_desks``, the authority's pool pages in ``views_pools``, the public notice in
``views_public``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.calendar import shanghai_today
from core.errors import RuleViolation
from core.models import Organisation
from core.periods import previous_quarter
from core.views_helpers import add_problems, add_rule_violation, confirm_page, is_confirmed, paginate
from riskpool import rules, selectors, services
from riskpool.forms import (
    ClaimForm,
    ClassifyForm,
    DateNoteForm,
    DecisionForm,
    DisposalForm,
    DocumentsForm,
    NilRecoveryForm,
    NoteForm,
    PayForm,
    ProjectFilterForm,
    ProjectForm,
    RecoveryForm,
    SettlementForm,
    new_key,
)
from riskpool.permissions import (
    is_authority,
    is_bank_operator,
    is_pool_party,
    is_reviewer,
)
from riskpool.workflows import CLAIM

K = Organisation.Kind
# Long lists of a city-size pool (approvals to put on notice, notices running, claims passed for a
# funding plan, closures to approve) are shown and offered in batches of this size, oldest first.
NOTICE_BATCH = 100

OUTCOME_LABELS = {
    "pass": gettext_lazy("met"), "fail": gettext_lazy("not met"), "info": gettext_lazy("note"),
    "not_checked": gettext_lazy("not checked"),
}
OWNER_LABELS = {
    "bank": gettext_lazy("the bank"), "reviewer": gettext_lazy("the pool reviewer"),
    "treasurer": gettext_lazy("the treasurer"), "authority": gettext_lazy("the authority"),
    "finance_bureau": gettext_lazy("the finance bureau"),
    "public": gettext_lazy("the public may object until then"),
}
# Who owes the next step in each state, for the claim's page (the selectors' map, plus the
# states whose step has no deadline of its own).
NEXT_OWNER = {**selectors.STATE_OWNERS, "on_notice": "public", "approved": "authority", "held_npl_gate": "bank",
              "notice_passed": "authority", "settled": "authority", "rejected": "bank"}


# --- who may do what ----------------------------------------------------------------------


def _require(check: Callable, user) -> None:
    if not (user.is_superuser or check(user)):
        raise PermissionDenied(_("Your role does not allow this page."))


def _status(exc: RuleViolation | None) -> int:
    return exc.status_code if exc is not None else 400


def state_label(state: str) -> str:
    """The claim state's label in the reader's language (the workflow's states)."""
    return CLAIM.label(state)


# --- loan projects ------------------------------------------------------------------------


def _bank_members(user):
    """The bank's own memberships, with its NPL ratio against the gate (RP-15)."""
    if not is_bank_operator(user):
        return []
    today = shanghai_today()
    params = services.scheme_s_params(today)
    rows = []
    for m in selectors.memberships_of_bank(user=user):
        status = selectors.member_status(m, params=params, today=today)
        rows.append({"member": m, "limit": status.limit, "over": status.suspended})
    return rows


@login_required
def project_list(request):
    _require(is_pool_party, request.user)
    banks = None if is_bank_operator(request.user) else selectors.banks_of_overseen_pools(user=request.user)
    form = ProjectFilterForm(request.GET or None, banks=banks)
    queryset = form.filter(selectors.project_list(user=request.user))
    page = paginate(request, queryset)
    return render(request, "riskpool/project_list.html", {
        "filter_form": form, "page": page, "projects": page.object_list,
        "bank_operator": is_bank_operator(request.user), "members": _bank_members(request.user),
    })


@login_required
def claim_list(request):
    """A bank's claims (an overseer's: its pools'), by state in workflow order, each with the
    date its next step is due and who owes it (RP-16, RP-25)."""
    _require(is_pool_party, request.user)
    page = paginate(request, selectors.claims_in_workflow_order(user=request.user, states=list(CLAIM.states.values)))
    rows = [{"claim": c, "label": state_label(c.state), "owner": OWNER_LABELS.get(NEXT_OWNER.get(c.state, ""), "")}
            for c in page.object_list]
    return render(request, "riskpool/claim_list.html", {
        "page": page, "rows": rows, "bank_operator": is_bank_operator(request.user), "today": shanghai_today(),
    })


def _member_pools(user):
    return selectors.pools_of_bank(user=user)


@login_required
def project_create(request):
    _require(is_bank_operator, request.user)
    pools = _member_pools(request.user)
    status = 200
    if request.method == "POST":
        form = ProjectForm(request.POST, pools=pools)
        if form.is_valid():
            try:
                project = services.project_register(user=request.user, pool=form.cleaned_data["pool"],
                                                    borrower=form.borrower_data(), data=form.project_data())
            except RuleViolation as exc:
                add_rule_violation(form, exc, field_map=ProjectForm.FIELD_MAP)
                status = _status(exc)
            else:
                messages.success(request, _("Loan %(no)s entered in the loan library.") % {"no": project.loan_no})
                return redirect("riskpool:project-detail", pk=project.pk)
        else:
            status = 400
    else:
        form = ProjectForm(pools=pools, initial={"pool": pools.first(), "currency": "CNY", "id_kind": "credit_code"})
    return render(request, "riskpool/project_form.html", {"form": form, "has_pools": pools.exists()}, status=status)


def _render_project(request, project, classify_form=None, status=200):
    own = is_bank_operator(request.user) and request.user.organisation_id == project.bank_id
    claims = selectors.claim_list(user=request.user).filter(project=project).order_by("-submitted_on", "-id")
    return render(request, "riskpool/project_detail.html", {
        "project": project,
        "history": project.classifications.select_related("recorded_by"),
        "claims": [{"claim": c, "label": state_label(c.state)} for c in claims],
        "own": own,
        "classify_form": classify_form or (ClassifyForm(initial={"on": shanghai_today()}) if own else None),
        "may_claim": own and project.is_npl and not any(c.state not in ("withdrawn", "upgraded") for c in claims),
        # RP-18: a performing loan with no claim under way may be closed by its bank as repaid.
        "may_close": own and project.library == project.Library.LOAN and not project.is_npl
        and not any(c.state not in ("withdrawn", "upgraded") for c in claims),
        # A forecast for a loan not yet due: counted by today's rule set, since none may be
        # in force yet on a maturity years ahead (the page answered 500 for those).
        "close_due": rules.normal_closure_due(
            project.maturity_on, services.scheme_s_params(min(project.maturity_on, shanghai_today())))
        if project.library == project.Library.LOAN else None,
    }, status=status)


@login_required
def project_detail(request, pk: int):
    project = selectors.project_get_for_user(user=request.user, project_id=pk)
    return _render_project(request, project)


@login_required
def projects_to_close(request):
    """RP-18: the bank's matured performing loans to close within 3 months of maturity."""
    _require(is_bank_operator, request.user)
    today = shanghai_today()
    params = services.scheme_s_params(today)
    page = paginate(request, selectors.projects_to_close(user=request.user, today=today))
    rows = [{"project": p, "due": rules.normal_closure_due(p.maturity_on, params),
             "auto": rules.auto_close_on(p.maturity_on, params)} for p in page.object_list]
    return render(request, "riskpool/projects_to_close.html", {"page": page, "rows": rows, "today": today})


@require_POST
@login_required
def project_close_repaid(request, pk: int):
    """RP-18: the bank closes a repaid loan (today's date, after a confirmation)."""
    project = selectors.project_get_for_user(user=request.user, project_id=pk)
    _require(is_bank_operator, request.user)
    if not is_confirmed(request):
        return confirm_page(
            request, template="riskpool/confirm_close_repaid.html", title=_("Close as repaid (RP-18)"),
            action=reverse("riskpool:project-close", args=[project.pk]),
            cancel=reverse("riskpool:project-detail", args=[project.pk]), project=project, today=shanghai_today(),
            due=rules.normal_closure_due(project.maturity_on, services.scheme_s_params(project.maturity_on)),
        )
    try:
        services.project_close_repaid(user=request.user, project=project)
    except RuleViolation as error:
        messages.error(request, error.message)
        return _render_project(request, project, status=_status(error))
    messages.success(request, _("Loan %(no)s is closed as repaid.") % {"no": project.loan_no})
    if request.POST.get("next") == "list":
        return redirect("riskpool:projects-to-close")
    return redirect("riskpool:project-detail", pk=project.pk)


@require_POST
@login_required
def project_classify(request, pk: int):
    project = selectors.project_get_for_user(user=request.user, project_id=pk)
    _require(is_bank_operator, request.user)
    form = ClassifyForm(request.POST)
    exc = None
    if form.is_valid():
        try:
            services.project_classify(user=request.user, project=project, **form.cleaned_data)
        except RuleViolation as error:
            exc = error
            add_rule_violation(form, error)
        else:
            messages.success(request, _("The classification change is recorded."))
            return redirect("riskpool:project-detail", pk=project.pk)
    return _render_project(request, project, classify_form=form, status=_status(exc))


@login_required
def claim_create(request, pk: int):
    project = selectors.project_get_for_user(user=request.user, project_id=pk)
    _require(is_bank_operator, request.user)
    status = 200
    if request.method == "POST":
        form = ClaimForm(request.POST, request.FILES)
        if form.is_valid():
            d = form.cleaned_data
            try:
                claim = services.claim_submit(
                    user=request.user, project=project, submitted_on=shanghai_today(),
                    outstanding_principal=d["outstanding_principal"], credit_report_on=d["credit_report_on"],
                    documents=form.documents(),
                )
            except RuleViolation as exc:
                add_rule_violation(form, exc, field_map={"file": None, "kind": None})
                status = _status(exc)
            else:
                messages.success(request, _("The claim is submitted."))
                return redirect("riskpool:claim-detail", pk=claim.pk)
        else:
            # Issue 13.3: the rules the fields that did validate already break, with the field errors.
            d = form.cleaned_data
            add_problems(form, services.claim_problems(
                user=request.user, project=project, submitted_on=shanghai_today(),
                outstanding_principal=d.get("outstanding_principal"), credit_report_on=d.get("credit_report_on"),
                document_kinds=[kind for kind, _upload in form.documents()]), field_map={"file": None, "kind": None})
            status = 400
    else:
        form = ClaimForm()
    return render(request, "riskpool/claim_form.html", {"form": form, "project": project}, status=status)


@login_required
def claim_document_download(request, pk: int):
    """A claim's attachment (RP-14, RP-16 step 5), only through the claim's scope (RP-25): another
    organisation's document answers 404. The files are never served from a public media URL."""
    document = selectors.claim_document_get_for_user(user=request.user, document_id=pk)
    return FileResponse(document.file.open("rb"), as_attachment=True, content_type=document.content_type,
                        filename=document.file.name.rsplit("/", 1)[-1])


# --- the claim and its RP-16 steps --------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """How the claim's page takes one RP-16 step: its form, the service it calls and what it says.
    Who may take it in which state is the workflow's (riskpool.workflows.CLAIM, same names)."""

    title: str
    form: type
    call: Callable  # (user, claim, cleaned_data, form) -> None
    success: str
    confirm: Callable | None = None  # (cleaned_data) -> bool: this submission needs a confirmation
    danger: bool = False
    files: bool = False


ACTIONS: dict[str, Action] = {
    "documents": Action(
        gettext_lazy("Upload the payment documents (RP-16 step 5)"), DocumentsForm,
        lambda u, c, d, f: services.claim_documents_upload(user=u, claim=c, files=f.files_list()),
        gettext_lazy("The documents are uploaded."), files=True,
    ),
    "re-review": Action(
        gettext_lazy("Ask for a re-review (once)"), DateNoteForm,
        lambda u, c, d, f: services.claim_request_re_review(user=u, claim=c, on=d["on"], note=d["note"]),
        gettext_lazy("The re-review is requested."),
    ),
    "withdraw": Action(
        gettext_lazy("Withdraw the claim"), DateNoteForm,
        lambda u, c, d, f: services.claim_withdraw(user=u, claim=c, on=d["on"], note=d["note"]),
        gettext_lazy("The claim is withdrawn."), confirm=lambda d: True, danger=True,
    ),
    "to-library": Action(
        gettext_lazy("Move to the compensation library (RP-16 step 7)"), DateNoteForm,
        lambda u, c, d, f: services.claim_to_compensation_library(user=u, claim=c, on=d["on"]),
        gettext_lazy("The project is in the compensation library."),
    ),
    "upgrade": Action(
        gettext_lazy("Apply for the upgrade (RP-16 8a)"), NoteForm,
        lambda u, c, d, f: services.claim_upgrade_request(user=u, claim=c, note=d["note"]),
        gettext_lazy("The upgrade application is sent to the pool reviewer."),
    ),
    "disposal-complete": Action(
        gettext_lazy("Record the end of the disposal (RP-16 8b)"), DisposalForm,
        lambda u, c, d, f: services.claim_disposal_complete(user=u, claim=c, completed_on=d["completed_on"]),
        gettext_lazy("The end of the disposal is recorded; the settlement application is due within 15 working days."),
    ),
    "settlement-request": Action(
        gettext_lazy("Apply for settlement (RP-16 8b)"), SettlementForm,
        lambda u, c, d, f: services.claim_settlement_request(user=u, claim=c, completed_on=d["completed_on"],
                                                             note=d["note"]),
        gettext_lazy("The settlement application is sent to the pool reviewer."),
    ),
    "recovery": Action(
        gettext_lazy("Report a recovery (RP-17)"), RecoveryForm,
        lambda u, c, d, f: services.recovery_report(user=u, claim=c, **d),
        gettext_lazy("The recovery is reported."),
    ),
    "nil-recovery": Action(
        gettext_lazy("Report a quarter with nothing recovered (RP-16 8b)"), NilRecoveryForm,
        lambda u, c, d, f: services.recovery_nil_report(user=u, claim=c, period=d["period"]),
        gettext_lazy("The nil recovery report is filed."),
    ),
    "closure-request": Action(
        gettext_lazy("Request write-off closure (RP-16 8c)"), DateNoteForm,
        lambda u, c, d, f: services.claim_closure_request(user=u, claim=c, on=d["on"], note=d["note"]),
        gettext_lazy("The closure is requested."),
    ),
    "review": Action(
        gettext_lazy("Decide the claim (RP-16 steps 1-2)"), DecisionForm,
        lambda u, c, d, f: services.claim_review(user=u, claim=c, approve=d["approve"], note=d["note"], on=d["on"]),
        gettext_lazy("The decision is recorded."), confirm=lambda d: not d["approve"],
    ),
    "notice-close": Action(
        gettext_lazy("Close the notice"), DateNoteForm,
        lambda u, c, d, f: services.claim_notice_close(user=u, claim=c, on=d["on"]),
        gettext_lazy("The notice is closed."), confirm=lambda d: True,
    ),
    "upgrade-decide": Action(
        gettext_lazy("Decide the upgrade application (RP-16 8a)"), DecisionForm,
        lambda u, c, d, f: services.claim_upgrade_decide(user=u, claim=c, approve=d["approve"], on=d["on"],
                                                         note=d["note"], idempotency_key=f"upgrade-{c.pk}"),
        gettext_lazy("The upgrade decision is recorded."), confirm=lambda d: True,
    ),
    "settlement-decide": Action(
        gettext_lazy("Check the settlement application (RP-16 8b)"), DecisionForm,
        lambda u, c, d, f: services.claim_settlement_decide(user=u, claim=c, approve=d["approve"], on=d["on"],
                                                            note=d["note"]),
        gettext_lazy("The settlement check is recorded."),
    ),
    "closure-review": Action(
        gettext_lazy("Check the closure (RP-16 8c)"), DecisionForm,
        lambda u, c, d, f: services.claim_closure_review(user=u, claim=c, approve=d["approve"], on=d["on"],
                                                         note=d["note"]),
        gettext_lazy("The closure check is recorded."),
    ),
    "pay": Action(
        gettext_lazy("Pay the claim (RP-16 step 6)"), PayForm,
        lambda u, c, d, f: services.claim_pay(user=u, claim=c, on=d["on"], idempotency_key=d["idempotency_key"]),
        gettext_lazy("The claim is paid."), confirm=lambda d: True, danger=True,
    ),
    "closure-recheck": Action(
        gettext_lazy("Re-check the closure (RP-16 8c)"), DecisionForm,
        lambda u, c, d, f: services.claim_closure_recheck(user=u, claim=c, approve=d["approve"], on=d["on"],
                                                          note=d["note"]),
        gettext_lazy("The closure re-check is recorded."),
    ),
    "close": Action(
        gettext_lazy("Approve the closure (结项)"), DecisionForm,
        lambda u, c, d, f: services.claim_close(user=u, claim=c, on=d["on"], approve=d["approve"], note=d["note"]),
        gettext_lazy("The closure decision is recorded."), confirm=lambda d: d["approve"],
    ),
    "finance-decide": Action(
        gettext_lazy("Approve the write-off closure as finance bureau (RP-16 8c)"), DecisionForm,
        lambda u, c, d, f: services.claim_closure_finance_decide(user=u, claim=c, approve=d["approve"], on=d["on"],
                                                                 note=d["note"]),
        gettext_lazy("The finance bureau's decision is recorded."), confirm=lambda d: d["approve"],
    ),
}


def _initial_for(key: str) -> dict:
    initial = {"on": shanghai_today(), "received_on": shanghai_today(), "period": previous_quarter(shanghai_today())}
    if key == "pay":
        initial["idempotency_key"] = new_key()
    return initial


def _actions_for(user, claim, bound: dict | None = None) -> list[dict]:
    """The steps the workflow lets ``user`` take on ``claim`` now that this page has a form for."""
    rows = []
    for step in CLAIM.actions_for(user, claim, names=ACTIONS):
        action = ACTIONS[step.name]
        form = (bound or {}).get(step.name) or action.form(prefix=step.name, initial=_initial_for(step.name))
        rows.append({"key": step.name, "action": action, "form": form, "due": step.due})
    return rows


def _deadline(claim) -> dict | None:
    owner = NEXT_OWNER.get(claim.state)
    due = claim.notice_end if claim.state == "on_notice" else claim.next_due_on
    latest = services.notice_last_day(claim) if claim.state == "on_notice" else (claim.next_due_latest or due)
    if owner is None or (claim.state in services.APPLICATION_STATES and due is None):
        return None  # in the libraries the bank owes something only once an 8a / 8b clock runs
    # JB-1: a provisional deadline is overdue only once its latest possible date has passed.
    return {"owner": OWNER_LABELS[owner], "due": due, "provisional": claim.next_due_provisional,
            "latest": latest if latest != due else None,
            "overdue": latest is not None and latest < shanghai_today() and claim.state != "on_notice"}


def _render_claim(request, claim, bound: dict | None = None, status: int = 200):
    member = selectors.member_of_claim(claim)
    today = shanghai_today()
    params = services.scheme_s_params(today)
    gate = selectors.member_status(member, params=params, today=today) if member is not None else None
    sees_objections = is_reviewer(request.user) or is_authority(request.user) or request.user.is_superuser
    actions = _actions_for(request.user, claim, bound)
    shown = {row["key"] for row in actions}
    step_errors = [e for key, form in (bound or {}).items() if key not in shown
                   for errors in form.errors.values() for e in errors]
    return render(request, "riskpool/claim_detail.html", {
        "claim": claim, "project": claim.project, "state_label": state_label(claim.state),
        "reasons": [{**r, "outcome_label": OUTCOME_LABELS.get(r.get("outcome"), r.get("outcome"))}
                    for r in claim.reasons or []],
        "steps": [{"step": s, "old": state_label(s.old) if s.old else "", "new": state_label(s.new)}
                  for s in claim.steps.select_related("by")],
        "documents": claim.documents.all(), "recoveries": claim.recoveries.all(),
        "nil_reports": claim.nil_recovery_reports.all(),
        "objections": claim.objections.all() if sees_objections else None,
        "deadline": _deadline(claim), "member": member, "limit": params.npl_gate,
        "over_limit": gate is not None and gate.suspended,
        "actions": actions, "step_errors": step_errors,
    }, status=status)


@login_required
def claim_detail(request, pk: int):
    claim = selectors.claim_get_for_user(user=request.user, claim_id=pk)
    return _render_claim(request, claim)


@require_POST
@login_required
def claim_action(request, pk: int, action: str):
    claim = selectors.claim_get_for_user(user=request.user, claim_id=pk)
    step = ACTIONS.get(action)
    if step is None:
        raise Http404
    CLAIM.require_party(request.user, claim, action)
    # The right person in a state where the step is not offered gets the service's 409 message.
    form = step.form(request.POST, request.FILES if step.files else None, prefix=action)
    exc = None
    if form.is_valid():
        data = form.cleaned_data
        # A step's date is the server's today unless the form carries a fact date of its own (the
        # treasurer's payment date): the dates that start or end a window are never typed.
        data.setdefault("on", shanghai_today())
        if step.confirm and step.confirm(data) and not is_confirmed(request):
            return confirm_page(
                request, template="riskpool/confirm.html", title=step.title,
                action=reverse("riskpool:claim-action", args=[claim.pk, action]),
                cancel=reverse("riskpool:claim-detail", args=[claim.pk]), claim=claim, form=form,
                state_label=state_label(claim.state),
            )
        try:
            step.call(request.user, claim, data, form)
        except RuleViolation as error:
            exc = error
            add_rule_violation(form, error, field_map={"note": "note", "file": None, "kind": None})
        else:
            messages.success(request, step.success)
            return redirect("riskpool:claim-detail", pk=claim.pk)
    claim = selectors.claim_get_for_user(user=request.user, claim_id=pk)
    return _render_claim(request, claim, {action: form}, status=_status(exc))
