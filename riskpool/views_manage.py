"""The authority's pool administration pages (spec riskpool.md, Scheme S), under /riskpool/manage/:
member banks and their status (加盟银行: RP-15, RP-22, RP-24), violations with their claw-back
(RP-21) and the special list (RP-12); and the xlsx of the pool page's table by quarter.

Thin views, as in riskpool/views.py: a page of another role answers 403; a pool, member,
violation or entry of a pool the user's authority does not administer answers 404 (the scoped
selectors). Reads are open to the pool's authority (admin or reviewer role, by jurisdiction);
each write to the people its service allows (the pool's own authority; violations and the
special list need the authority administrator role), and goes through a confirmation page: the
first POST validates and shows what will happen, the second (with ``confirmed=1``) does it."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from core.calendar import shanghai_today
from core.errors import RuleViolation
from core.exports import MONEY_FORMAT, Workbook
from core.models import Organisation
from core.money import percent
from core.views_helpers import add_rule_violation, confirm_page, is_confirmed, paginate
from riskpool import selectors, services
from riskpool.forms import LateEntryForm
from riskpool.forms_manage import (
    DishonestyForm,
    MemberAddForm,
    ReadmitForm,
    SpecialListEndForm,
    SpecialListFilterForm,
    SpecialListForm,
    ViolationFilterForm,
    ViolationForm,
)
from riskpool.models import BankEvaluation, Pool
from riskpool.permissions import is_authority, is_reviewer, is_treasurer

ADMIN_ROLES = ("authority_admin",)  # violation_record, special_list_add/_end


# --- who may do what ----------------------------------------------------------------------


def _require_authority(user) -> None:
    if not (user.is_superuser or is_authority(user)):
        raise PermissionDenied(_("The pool administration is for the authority."))


def _may(user, pool: Pool, roles) -> bool:
    """The user may write for ``pool``: its own authority with one of ``roles`` (the services'
    own check; a parent authority sees the pages but does not act for the pool's authority)."""
    return user.is_superuser or (is_authority(user) and user.organisation_id == pool.authority_id
                                 and user.has_role(*roles))


def _require_may(user, pool: Pool, roles) -> None:
    if not _may(user, pool, roles):
        raise PermissionDenied(_("Only the pool's authority, with the right role, may do this."))


def _to_write(request, roles, get, **lookup):
    """The row a write page acts on, ``get(user=…, **lookup)``, with its pool (the row itself when it is one):
    403 for another role or a user who may not write for the pool, 404 for a row outside the
    user's authority (the scoped selector)."""
    _require_authority(request.user)
    row = get(user=request.user, **lookup)
    pool = row if isinstance(row, Pool) else row.pool
    _require_may(request.user, pool, roles)
    return row, pool


def _status(exc: RuleViolation | None) -> int:
    return exc.status_code if exc is not None else 400


def _page(request, queryset):
    return paginate(request, queryset)


def _form_page(request, *, form, title: str, intro: str, submit: str, cancel: str, pool: Pool, form_id: str,
               status: int = 200, facts: list | None = None):
    return render(request, "riskpool/manage/form.html", {
        "form": form, "title": title, "intro": intro, "submit": submit, "cancel": cancel, "pool": pool,
        "form_id": form_id, "facts": facts or [],
    }, status=status)


def _confirm_then_act(request, *, form, confirm, act, page, field_map=None):
    """The confirm-then-act flow every write here shares: ``form(data)`` builds the form (data is
    None on GET); a valid first POST answers ``confirm(form)``, the confirmed one ``act(form)``; a refusal from either lands on the form, next to its field, with the
    rule's status, so a confirmation never shows a step the service would refuse.
    ``page(form, status)`` renders the form."""
    if request.method != "POST":
        return page(form(None), 200)
    bound = form(request.POST)
    if not bound.is_valid():
        return page(bound, 400)
    try:
        if not is_confirmed(request):
            return confirm(bound)
        return act(bound)
    except RuleViolation as exc:
        add_rule_violation(bound, exc, field_map=field_map)
        return page(bound, _status(exc))


# --- the index ----------------------------------------------------------------------------


@login_required
def admin_home(request):
    """The pools the authority administers, with what each page below counts."""
    _require_authority(request.user)
    today = shanghai_today()
    pools = selectors.pools_administered_overview(user=request.user, today=today)
    return render(request, "riskpool/manage/home.html", {"pools": pools, "today": today})


# --- membership (加盟银行) -------------------------------------------------------------------


@login_required
def member_list(request, pk: int):
    """Member banks with their status (RP-15, RP-22, RP-24), join date and recent grades (RP-20)."""
    _require_authority(request.user)
    user = request.user
    pool = selectors.pool_get_for_authority(user=user, pool_id=pk)
    today = shanghai_today()
    years = selectors.grade_years(pool=pool)
    page = _page(request, selectors.with_recent_grades(selectors.member_list_for_authority(user=user, pool=pool),
                                                       years))
    params = services.scheme_s_params(today)
    grade_labels = dict(BankEvaluation.Grade.choices)
    rows = []
    for member in page.object_list:
        by_year = {e.year: e for e in member.recent_evaluations}
        rows.append({
            "member": member, "status": selectors.member_status(member, params=params, today=today),
            "grades": [{"year": y, "grade": by_year[y].grade if y in by_year else "",
                        "label": grade_labels.get(by_year[y].grade, "") if y in by_year else ""} for y in years],
        })
    return render(request, "riskpool/manage/members.html", {
        "pool": pool, "page": page, "rows": rows, "years": years, "limit": params.npl_gate, "today": today,
        "may_act": _may(user, pool, services.AUTHORITY_ROLES), "may_record": _may(user, pool, ADMIN_ROLES),
        "section": "members",
    })


@login_required
def member_add(request, pk: int):
    """加盟: admit a bank of the jurisdiction, after a confirmation."""
    user = request.user
    pool = _to_write(request, services.AUTHORITY_ROLES, selectors.pool_get_for_authority, pool_id=pk)[1]
    banks = selectors.banks_joinable(user=user, pool=pool)
    members_url = reverse("riskpool:admin-members", args=[pool.pk])

    def confirm(form):
        d = form.cleaned_data
        return confirm_page(
            request, title=_("Admit %(bank)s to %(pool)s?") % {"bank": d["bank"].name, "pool": pool.name},
            facts=[(_("Bank"), d["bank"].name), (_("Joined on"), d["joined_on"].isoformat())],
            action=request.path, cancel=members_url, button=_("Yes, admit the bank"), pool=pool,
            warning=_("A member bank cannot be removed; it can be revoked (RP-21, RP-22)."),
        )

    def act(form):
        d = form.cleaned_data
        services.member_add(user=user, pool=pool, bank=d["bank"], joined_on=d["joined_on"])
        messages.success(request, _("%(bank)s is a member bank of the pool.") % {"bank": d["bank"].name})
        return redirect(members_url)

    def page(form, status):
        return _form_page(request, form=form, title=_("Add a member bank"), pool=pool, form_id="member-add-form",
                          intro=_("A bank with a branch or higher in the city that signed the cooperation agreement."),
                          submit=_("Continue"), cancel=members_url, status=status)

    return _confirm_then_act(
        request, confirm=confirm, act=act, page=page,
        form=lambda data: MemberAddForm(data, banks=banks, initial={"joined_on": shanghai_today()}))


@login_required
def member_dishonest(request, pk: int):
    """RP-24: put the bank on, or take it off, the serious-dishonesty list, with a reason."""
    user = request.user
    member, pool = _to_write(request, services.AUTHORITY_ROLES, selectors.member_get_for_authority, member_id=pk)
    members_url = reverse("riskpool:admin-members", args=[pool.pk])
    putting_on = not member.dishonest
    title = (_("Put %(bank)s on the serious-dishonesty list (RP-24)") if putting_on
             else _("Take %(bank)s off the serious-dishonesty list (RP-24)")) % {"bank": member.organisation.name}

    def confirm(form):
        d = form.cleaned_data
        return confirm_page(
            request, title=title, facts=[(_("Bank"), member.organisation.name), (_("Reason"), d["reason"])],
            action=request.path, cancel=members_url, pool=pool,
            button=_("Yes, put it on the list") if d["flag"] else _("Yes, take it off the list"),
            warning=_("While on the list the bank cannot submit claims.") if d["flag"]
            else _("The bank may submit claims again."),
        )

    def act(form):
        d = form.cleaned_data
        services.member_set_dishonest(user=user, member=member, flag=d["flag"], reason=d["reason"])
        messages.success(request, _("The serious-dishonesty list is updated."))
        return redirect(members_url)

    intro = (_("While on the list the bank cannot submit compensation claims (RP-24).") if putting_on
             else _("The bank is on the list since an earlier decision; taking it off lets it submit claims again."))

    def page(form, status):
        return _form_page(request, form=form, title=title, intro=intro, submit=_("Continue"), cancel=members_url,
                          pool=pool, form_id="dishonest-form", status=status)

    return _confirm_then_act(request, form=lambda data: DishonestyForm(data, member=member),
                             confirm=confirm, act=act, page=page)


@login_required
def member_readmit(request, pk: int):
    """RP-22: a bank whose revocation is over is admitted again (``services.member_readmit``)."""
    user = request.user
    member, pool = _to_write(request, services.AUTHORITY_ROLES, selectors.member_get_for_authority, member_id=pk)
    members_url = reverse("riskpool:admin-members", args=[pool.pk])
    today = shanghai_today()
    state = selectors.member_status(member, params=services.scheme_s_params(today), today=today)
    facts = [(_("Bank"), member.organisation.name),
             (_("Membership revoked on"), member.revoked_on.isoformat() if member.revoked_on else "—"),
             (_("May apply again on"), state.may_reapply_on.isoformat() if state.may_reapply_on else "—")]

    def confirm(form):
        d = form.cleaned_data
        return confirm_page(
            request, title=_("Admit %(bank)s again?") % {"bank": member.organisation.name},
            facts=[*facts, (_("Admitted again on"), d["on"].isoformat())], action=request.path,
            cancel=members_url, button=_("Yes, admit it again"), pool=pool,
            warning=_("The membership starts anew on this date; the revocation stays in the audit trail."),
        )

    def act(form):
        d = form.cleaned_data
        services.member_readmit(user=user, member=member, on=d["on"])
        messages.success(request, _("%(bank)s is a member again.") % {"bank": member.organisation.name})
        return redirect(members_url)

    def page(form, status):
        return _form_page(request, form=form, title=_("Admit a revoked bank again (RP-22)"), pool=pool,
                          intro=_("A bank whose membership was revoked may apply again two years later."),
                          facts=facts, submit=_("Continue"), cancel=members_url, form_id="readmit-form",
                          status=status)

    return _confirm_then_act(request, form=lambda data: ReadmitForm(data, initial={"on": today}),
                             confirm=confirm, act=act, page=page, field_map={"member": None})


# --- violations (RP-21) --------------------------------------------------------------------


@login_required
def violation_list(request, pk: int):
    _require_authority(request.user)
    user = request.user
    pool = selectors.pool_get_for_authority(user=user, pool_id=pk)
    members = selectors.member_list_for_authority(user=user, pool=pool)
    form = ViolationFilterForm(request.GET or None, members=members)
    page = _page(request, form.filter(selectors.violation_list_for_authority(user=user, pool=pool)))
    return render(request, "riskpool/manage/violations.html", {
        "pool": pool, "page": page, "violations": page.object_list, "filter_form": form,
        "may_record": _may(user, pool, ADMIN_ROLES), "section": "violations",
    })


def _violation_form(request, pool, members, data=None, initial=None):
    user = request.user
    return ViolationForm(data, initial=initial, members=members,
                         claims_of=lambda member: selectors.paid_claims_of_member(user=user, member=member))


@login_required
def violation_create(request, pk: int):
    """违规处理 (RP-21): record a violation. The first POST shows the claw-back of each affected
    claim and its interest, computed by ``services.violation_preview`` (the service's own
    arithmetic); the second records it. "Show the bank's claims" re-renders with the chosen
    bank's paid claims, keeping what was typed."""
    user = request.user
    pool = _to_write(request, ADMIN_ROLES, selectors.pool_get_for_authority, pool_id=pk)[1]
    members = selectors.member_list_for_authority(user=user, pool=pool)

    def page(form, status):
        return render(request, "riskpool/manage/violation_form.html", {"pool": pool, "form": form,
                                                                       "section": "violations"}, status=status)

    if request.method == "POST" and "refresh" in request.POST:
        initial = request.POST.dict()
        initial["claims"] = request.POST.getlist("claims")
        return page(_violation_form(request, pool, members, initial=initial), 200)

    def call(d):
        return {"user": user, "member": d["member"], "claims": list(d["claims"]), "returned_on": d["returned_on"]}

    def confirm(form):
        d = form.cleaned_data
        preview = services.violation_preview(**call(d), recorded_on=d["recorded_on"], revoke=d["revoke"])
        return confirm_page(
            request, template="riskpool/manage/violation_confirm.html",
            title=_("Record a violation (RP-21)"), action="",
            warning=_("Ledger entries cannot be changed afterwards, and the violation makes the bank "
                      "unqualified in this year's evaluation (RP-20)."),
            cancel=reverse("riskpool:admin-violations", args=[pool.pk]), pool=pool, data=d,
            preview=preview, kind_label=dict(form.fields["kind"].choices)[d["kind"]],
        )

    def act(form):
        d = form.cleaned_data
        violation = services.violation_record(
            **call(d), kind=d["kind"], recorded_on=d["recorded_on"], description=d["description"].strip(),
            revoke=d["revoke"], idempotency_key=d["idempotency_key"],
        )
        messages.success(request, _("The violation is recorded and the compensation clawed back."))
        return redirect("riskpool:admin-violation-detail", pk=violation.pk)

    today = shanghai_today()
    return _confirm_then_act(
        request, confirm=confirm, act=act, page=page, field_map={"lpr": "returned_on", "amount": None},
        form=lambda data: _violation_form(request, pool, members, data=data, initial={
            "member": request.GET.get("member") or None, "recorded_on": today, "returned_on": today}))


@login_required
def violation_detail(request, pk: int):
    """A violation, its claims and the claw-back ledger entries it booked (RP-21)."""
    _require_authority(request.user)
    violation = selectors.violation_get_for_authority(user=request.user, violation_id=pk)
    entries = list(selectors.violation_ledger(violation=violation))
    return render(request, "riskpool/manage/violation_detail.html", {
        "pool": violation.pool, "violation": violation, "entries": entries,
        "claims": violation.claims.select_related("project__borrower").order_by("pk"),
        "entries_total": sum((e.amount for e in entries), 0), "section": "violations",
    })


# --- the special list (RP-12) --------------------------------------------------------------


def _entry_state(entry, today) -> str:
    if entry.valid_from > today:
        return "future"
    if entry.valid_to is not None and entry.valid_to < today:
        return "ended"
    return "valid"


@login_required
def special_list(request, pk: int):
    _require_authority(request.user)
    user = request.user
    pool = selectors.pool_get_for_authority(user=user, pool_id=pk)
    today = shanghai_today()
    form = SpecialListFilterForm(request.GET or None)
    page = _page(request, form.filter(selectors.special_list_for_authority(user=user, pool=pool), today))
    may_edit = _may(user, pool, ADMIN_ROLES)
    rows = [{"entry": e, "state": _entry_state(e, today),
             "may_end": may_edit and (e.valid_to is None or e.valid_to >= today)} for e in page.object_list]
    return render(request, "riskpool/manage/special_list.html", {
        "pool": pool, "page": page, "rows": rows, "filter_form": form, "may_edit": may_edit, "today": today,
        "section": "special",
    })


@login_required
def special_add(request, pk: int):
    """RP-12: add an enterprise or an industry of the city government's list, after a confirmation."""
    user = request.user
    pool = _to_write(request, ADMIN_ROLES, selectors.pool_get_for_authority, pool_id=pk)[1]
    list_url = reverse("riskpool:admin-special-list", args=[pool.pk])

    def confirm(form):
        # The service's own checks first, so the confirmation never shows an entry it refuses.
        clean = services.special_list_check(user=user, pool=pool, **form.service_kwargs())
        return confirm_page(
            request, title=_("Add this entry to the special list (RP-12)?"), pool=pool,
            facts=[(_("Enterprise or industry"), clean["credit_code"] or clean["industry"]),
                   (_("Compensation ratio"), percent(clean["ratio"])),
                   (_("Valid from"), clean["valid_from"].isoformat()),
                   (_("Valid until"), clean["valid_to"].isoformat() if clean["valid_to"] else "—"),
                   (_("Note"), clean["note"] or "—")],
            action=request.path, cancel=list_url, button=_("Yes, add it"),
            warning=_("Claims on loans classified non-performing while the entry is valid take this ratio. "
                      "An entry cannot be deleted, only ended."),
        )

    def act(form):
        services.special_list_add(user=user, pool=pool, **form.service_kwargs())
        messages.success(request, _("The entry is on the special list."))
        return redirect(list_url)

    def page(form, status):
        return _form_page(request, form=form, title=_("Add to the special list (RP-12)"), pool=pool,
                          intro=_("Loans to enterprises or industries on a list approved by the city government use "
                                  "the list's ratio instead of RP-8 … RP-11."),
                          submit=_("Continue"), cancel=list_url, form_id="special-add-form", status=status)

    return _confirm_then_act(request, form=lambda data: SpecialListForm(data, initial={"valid_from": shanghai_today()}),
                             confirm=confirm, act=act, page=page)


@login_required
def special_end(request, pk: int):
    """RP-12: end an entry on a date (never extend it), after a confirmation."""
    user = request.user
    entry, pool = _to_write(request, ADMIN_ROLES, selectors.special_entry_get_for_authority, entry_id=pk)
    list_url = reverse("riskpool:admin-special-list", args=[pool.pk])
    facts = [(_("Enterprise or industry"), entry.credit_code or entry.industry),
             (_("Compensation ratio"), percent(entry.ratio)), (_("Valid from"), entry.valid_from.isoformat()),
             (_("Valid until"), entry.valid_to.isoformat() if entry.valid_to else "—")]

    def confirm(form):
        return confirm_page(
            request, title=_("End this special-list entry (RP-12)?"), pool=pool,
            facts=[*facts, (_("Last day valid"), form.cleaned_data["valid_to"].isoformat())], action=request.path,
            cancel=list_url, button=_("Yes, end it"),
            warning=_("An ended entry cannot be extended; add a new entry instead."),
        )

    def act(form):
        valid_to = form.cleaned_data["valid_to"]
        services.special_list_end(user=user, entry=entry, valid_to=valid_to)
        messages.success(request, _("The entry ends on %(date)s.") % {"date": valid_to.isoformat()})
        return redirect(list_url)

    def page(form, status):
        return _form_page(request, form=form, title=_("End a special-list entry (RP-12)"), pool=pool, facts=facts,
                          intro=_("The entry stays valid up to and including the day you give."),
                          submit=_("Continue"), cancel=list_url, form_id="special-end-form", status=status)

    return _confirm_then_act(request, form=lambda data: SpecialListEndForm(data, initial={"valid_to": shanghai_today()}),
                             confirm=confirm, act=act, page=page)


# --- the pool page's table by quarter, as xlsx ----------------------------------------------


@login_required
def pool_quarters_export(request, pk: int):
    """The pool page's table by quarter (``selectors.pool_quarters``) as xlsx: a title row, a
    header row, one row per quarter and the totals; the same figures as the page."""
    user = request.user
    if not (user.is_superuser or is_authority(user) or is_reviewer(user) or is_treasurer(user)):
        raise PermissionDenied(_("Your role does not allow this page."))
    pool = get_object_or_404(Pool, pk=pk, scheme=Pool.Scheme.S)
    table = selectors.pool_quarters(user=user, pool=pool)  # 404 for anyone not overseeing the pool
    kinds = table["return_kinds"]

    book = Workbook()
    sheet = book.sheet(_("By quarter"))
    sheet.append([_("%(pool)s by quarter, as of %(date)s") % {"pool": pool.name, "date": shanghai_today().isoformat()}],
                 bold=True, size=13)
    sheet.append([])
    header = [_("Quarter"), _("Paid out (yuan)"), *[f"{label} ({_('yuan')})" for _kind, label in kinds],
              _("Returned in total (yuan)"), _("Claims submitted"), _("Claims approved")]
    sheet.append([str(h) for h in header], bold=True)
    money_columns = {index: MONEY_FORMAT for index in range(1, len(kinds) + 3)}

    def line(label, row, bold=False):
        sheet.append([label, row["paid"], *[row["returned"][kind] for kind, _label in kinds], row["returned_total"],
                      row["submitted"], row["approved"]], formats=money_columns, bold=bold)

    for row in table["rows"]:
        line(row["label"], row)
    line(_("Total"), table["totals"], bold=True)
    sheet.freeze("B4")
    sheet.widths([12, *[18] * (len(header) - 1)])
    return book.response(f"pool-{pool.pk}-quarters-{shanghai_today():%Y%m%d}.xlsx")


# --- RP-6: a late entry on a bank's behalf -------------------------------------------------


@login_required
def project_late_entry(request, pk: int):
    """RP-6, the authority correcting a record: enter a loan for a member bank with the date it
    counts as entered and the reason (``services.project_register_late``, audited). The pool's own
    authority only; another authority's pool answers 404."""
    user = request.user
    pool = _to_write(request, services.AUTHORITY_ROLES, selectors.pool_get_for_authority, pool_id=pk)[1]
    banks = Organisation.objects.filter(pool_memberships__pool=pool).order_by("name")
    status = 200
    if request.method == "POST":
        form = LateEntryForm(request.POST, pool=pool, banks=banks)
        if form.is_valid():
            d = form.cleaned_data
            try:
                project = services.project_register_late(
                    user=user, pool=pool, bank=d["bank"], borrower=form.borrower_data(), data=form.project_data(),
                    reason=d["reason"])
            except RuleViolation as exc:
                add_rule_violation(form, exc, field_map=LateEntryForm.FIELD_MAP)
                status = _status(exc)
            else:
                messages.success(request, _("Loan %(no)s entered for %(bank)s as of %(date)s.") % {
                    "no": project.loan_no, "bank": d["bank"].name, "date": project.entered_on.isoformat()})
                return redirect("riskpool:project-detail", pk=project.pk)
        else:
            status = 400
    else:
        form = LateEntryForm(pool=pool, banks=banks, initial={"currency": "CNY", "id_kind": "credit_code"})
    return render(request, "riskpool/manage/late_entry.html", {"form": form, "pool": pool}, status=status)
