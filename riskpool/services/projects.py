"""Loan projects (RP-5, RP-6, RP-22, RP-25): entry, late entry, bulk entry, classification and
closure on repayment; and the authority's RP-12 special list of ratios."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core import i18n_text
from core.audit import audit, snapshot
from core.calendar import shanghai_today
from core.errors import Conflict, Problem, RuleViolation
from core.models import AuditEvent, Organisation
from core.services import require_member
from core.validators import credit_code_problem
from guarantees.services import BorrowerData, borrower_upsert
from riskpool import entry, rules
from riskpool.models import (
    Claim,
    Classification,
    LoanProject,
    Member,
    Pool,
    SpecialListEntry,
)
from riskpool.permissions import AUTHORITY_ROLES, BANK_ROLES

from .claim_state import APPLICATION_STATES, _refresh_application_due
from .common import LP, scheme_s_params
from .members import _gate_open, _member_of, _release_held, member_refresh_npl

# The audit summary of a loan project entered (by hand or by an upload).
LOAN_PROJECT_SUMMARY = i18n_text.gettext_lazy("Loan project %(loan)s")

# --- loan projects (RP-5, RP-6, RP-22, RP-25) ----------------------------------------------


@dataclass
class ProjectData:
    loan_no: str
    loan_kind: str
    principal: Decimal
    disbursed_on: date
    maturity_on: date
    annual_rate: Decimal
    other_balance: Decimal
    guarantee_method: str = "credit"
    currency: str = "CNY"
    features: list = field(default_factory=list)
    purpose: str = LP.Purpose.OPERATIONS
    covered_by_other_scheme: bool = False
    entered_on: date | None = None
    product: Any = None  # a Scheme M Product: the policy loan product the loan belongs to (RP-M3)


def _project_problems(data: ProjectData) -> list[Problem]:
    """RP-3, RP-4, RP-7 and the loan number (``riskpool.entry``, shared with the bulk upload)."""
    return entry.input_problems(data)


def project_field_problems(*, user, values: dict, entered_on: date) -> list[Problem]:
    """Issue 13.3: what ``project_register`` would refuse in the fields of a request that did
    validate (``riskpool.entry.field_problems``), for the answer that lists the field errors; none
    for a user who enters no loans (the entry refuses them on its own)."""
    try:
        bank = entry.project_bank(user)
    except PermissionDenied:
        return []
    return entry.field_problems(values, bank=bank, entered_on=entered_on)


@transaction.atomic
def project_register(*, user, pool: Pool, borrower: BorrowerData, data: ProjectData) -> LoanProject:
    """贷款项目入库: a member bank enters one loan. RP-5 converts a foreign principal at the
    disbursement date's rate; RP-6 refuses an entry after the 15th working day of the next
    quarter, naming the deadline; RP-22 refuses a bank whose membership is revoked."""
    project, member = _project_enter(user=user, pool=pool, borrower=borrower, data=data)
    member_refresh_npl(member)
    return project


@transaction.atomic
def project_register_late(*, user, pool: Pool, bank: Organisation, borrower: BorrowerData, data: ProjectData,
                          reason: str) -> LoanProject:
    """RP-6, the authority correcting a record: a loan entered on behalf of a member bank with the
    date it counts as entered (``data.entered_on``: the day the bank entered it, or tried to), not
    today. A separate action of the pool's own authority, with its reason kept in the audit
    trail; the entry window (RP-6) and every other entry rule are checked against that date,
    which cannot be in the future."""
    require_member(user, pool.authority, *AUTHORITY_ROLES)
    reason = (reason or "").strip()
    problems = []
    if not reason:
        problems.append(Problem("RP-6", _("Give the reason for entering the loan on the bank's behalf; it is kept in "
                                          "the audit trail."), "reason"))
    if data.entered_on is None:
        problems.append(Problem("RP-6", _("Give the date the loan counts as entered."), "entered_on"))
    elif data.entered_on > shanghai_today():
        problems.append(Problem("RP-6", _("The entry date cannot be in the future."), "entered_on"))
    if problems:
        raise RuleViolation.many(problems)
    project, member = _project_enter(user=user, pool=pool, borrower=borrower, data=data, bank=bank)
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=project, organisation=bank,
          summary=i18n_text.gettext_lazy("RP-6 late entry by the authority as of %(on)s: %(reason)s")
          % {"on": data.entered_on, "reason": reason})
    member_refresh_npl(member)
    return project


def _project_enter(*, user, pool: Pool, borrower: BorrowerData, data: ProjectData,
                   bank: Organisation | None = None) -> tuple[LoanProject, Member]:
    """One loan entered, without the RP-15 refresh of its bank's figures (the caller does it, once).
    ``bank`` is given only by ``project_register_late`` (the authority, already checked); a bank
    enters its own loans. The checks are ``riskpool.entry``'s, the bulk upload's too: every
    problem of the loan at once (RP-3 … RP-7, RP-M3), then RP-21 as a conflict."""
    if bank is None:
        bank = entry.project_bank(user)
    entered_on = data.entered_on or shanghai_today()
    member = entry.member_for_entry(pool, bank, on=entered_on)
    context = entry.EntryContext()
    problems = entry.project_problems(data, entered_on=entered_on, bank=bank, context=context)
    if problems:
        raise RuleViolation.many(problems)
    if LoanProject.objects.filter(bank=bank, loan_no=data.loan_no).exists():
        duplicate = entry.duplicate_loan_problem(data.loan_no)
        raise Conflict(duplicate.rule, duplicate.message, duplicate.field)
    owner = borrower_upsert(user=user, owner=bank, data=borrower)
    project = entry.project_build(pool=pool, bank=bank, borrower=owner, data=data, entered_on=entered_on, user=user,
                                  context=context)
    project.save()
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=project, organisation=bank,
          summary=LOAN_PROJECT_SUMMARY % {"loan": project.loan_no})
    return project, member


@transaction.atomic
def project_bulk_register(*, user, pool: Pool, rows: list[dict], confirmed_renames: Collection[str] = ()) -> list[LoanProject]:
    """All rows or none. Each row: ``{"row": n, "borrower": BorrowerData, "data": ProjectData}`` or
    ``{"row": n, "errors": [RowError…]}`` from the parser; every error is listed, a row renaming
    one of the bank's borrowers among them unless its change is in ``confirmed_renames``. Entered
    set-based, as the file upload (``riskpool.imports.ProjectImporter``): the bank's RP-15 figures
    are refreshed once, after the last row."""
    from core.bulk_import import import_rows
    from riskpool.imports import ProjectImporter

    importer = ProjectImporter(user=user, pool=pool, confirmed_renames=confirmed_renames, keep=True)
    import_rows(rows, importer)
    return importer.created


def _latest_npl_on(project: LoanProject) -> date | None:
    """The date of the project's latest move into a non-performing class (RP-14)."""
    return (
        Classification.objects.filter(project=project, new__in=LP.NPL_CLASSES)
        .exclude(old__in=LP.NPL_CLASSES)
        .order_by("-on", "-id")
        .values_list("on", flat=True)
        .first()
    )


@transaction.atomic
def project_classify(*, user, project: LoanProject, new: str, on: date) -> LoanProject:
    """五级分类: record a classification change (RP-14's NPL date, RP-16 8a's upgrade). An NPL
    class dated before entry marks the project never compensated (RP-6). The bank's NPL ratio is
    recomputed (RP-15) and its held claims are released when the gate reopens."""
    require_member(user, project.bank, *BANK_ROLES)
    if new not in LP.Classification.values:
        raise RuleViolation("INPUT", _("Unknown classification."), "new")
    project = LoanProject.objects.select_for_update().get(pk=project.pk)
    if project.library == LP.Library.CLOSED:
        raise Conflict("RP-16", _("A closed project cannot be reclassified."))
    if on < project.disbursed_on:
        raise RuleViolation("INPUT", _("A loan cannot be classified before it is disbursed."), "on")
    old = project.classification
    before = snapshot(project)
    Classification.objects.create(project=project, on=on, old=old, new=new, recorded_by=user)
    project.classification = new
    project.classified_on = on
    if new in LP.NPL_CLASSES and rules.npl_before_entry(project.entered_on, on):
        project.npl_before_entry = True
    project.save(update_fields=["classification", "classified_on", "npl_before_entry"])
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=project, organisation=project.bank,
          before=before, summary=i18n_text.gettext_lazy("Classified %(old)s → %(new)s on %(on)s")
          % {"old": i18n_text.label(old), "new": i18n_text.label(new), "on": on})
    if (old in LP.NPL_CLASSES) != (new in LP.NPL_CLASSES):
        # RP-16 8a: a compensated loan back to normal or special mention starts the 15 working
        # days of the upgrade application; back to non-performing, nothing is owed any more.
        for claim in Claim.objects.select_for_update(of=("self",)).select_related("project__bank").filter(
                project=project, state__in=APPLICATION_STATES):
            _refresh_application_due(claim, user=user, reclassified_on=None if new in LP.NPL_CLASSES else on)
    member = _member_of(project.pool, project.bank)
    member_refresh_npl(member, on=on)
    if _gate_open(member, on):
        _release_held(member, on=on, user=user)
    return project


@transaction.atomic
def project_close_repaid(*, user, project: LoanProject, on: date | None = None, note: str = "") -> LoanProject:
    """结项 (RP-18, 第十九条(八)): the bank closes a performing loan of its loan library that was
    repaid, today (the server's date): within 3 months of its maturity, or later (marked late in
    the audit trail; 6 months after maturity the system closes it, JB-5). A non-performing loan,
    one with a live claim, or one already out of the loan library is refused, naming RP-18."""
    require_member(user, project.bank, *BANK_ROLES)
    project = LoanProject.objects.select_for_update().select_related("bank").get(pk=project.pk)
    on = on or shanghai_today()
    if project.library != LP.Library.LOAN:
        raise Conflict("RP-18", _("Only a loan in the loan library can be closed as repaid; this one is in the %(library)s.")
                       % {"library": project.get_library_display()})
    if project.is_npl:
        raise RuleViolation("RP-18", _("A non-performing loan is not closed as repaid; claim or reclassify it."),
                            "classification")
    if project.claims.exclude(state__in=["withdrawn", "upgraded"]).exists():
        raise Conflict("RP-18", _("The loan has a claim under way; it cannot be closed as repaid."))
    if on < project.disbursed_on:
        raise RuleViolation("RP-18", _("A loan cannot be closed before it is disbursed (%(date)s).")
                            % {"date": project.disbursed_on.isoformat()}, "on")
    due = rules.normal_closure_due(project.maturity_on, scheme_s_params(project.maturity_on))
    before = snapshot(project)
    project.library, project.closed_on, project.closed_reason = LP.Library.CLOSED, on, LP.ClosedReason.REPAID
    project.save(update_fields=["library", "closed_on", "closed_reason"])
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=project, organisation=project.bank, before=before,
          after={**snapshot(project), "note": note.strip()} if note.strip() else None,
          summary=(i18n_text.gettext_lazy("RP-18 closed as repaid on %(on)s, late: due by %(due)s") if rules.applied_late(due, on)
                   else i18n_text.gettext_lazy("RP-18 closed as repaid on %(on)s")) % {"on": on, "due": due})
    return project


def special_ratio(project: LoanProject, on: date) -> Decimal | None:
    """RP-12: the ratio of the special-list entry of the project's pool valid on ``on`` for its
    borrower (by unified social credit code) or, failing that, for the borrower's industry;
    None when the borrower is on no valid entry. The latest entry wins."""
    borrower = project.borrower
    match = Q(industry=borrower.industry) if borrower.industry else Q(pk__in=[])
    if borrower.id_kind == borrower.IdKind.CREDIT_CODE and borrower.id_number:
        match |= Q(credit_code=borrower.id_number.upper())
    entries = (
        SpecialListEntry.objects.filter(match, pool_id=project.pool_id, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("industry", "-valid_from", "-id")  # "" first: a credit-code entry beats an industry one
    )
    return entries.values_list("ratio", flat=True).first()


# --- the special list (RP-12): the authority's table ---------------------------------------

SPECIAL_LIST_ROLES = ("authority_admin",)
RATIO_PLACES = Decimal("0.000001")


def special_list_problems(*, credit_code: str, industry: str, ratio, valid_from: date | None, valid_to: date | None,
                          note: str) -> list[Problem]:
    """RP-12: every problem of an entry's values, each naming its field; reads nothing, so a form
    runs it on the fields that did validate (issue 13.3). A ``valid_from`` of None skips the
    order of the dates (that field has its own error)."""
    problems = []
    if bool(credit_code) == bool(industry):
        problems.append(Problem("RP-12", _("Give either the borrower's unified social credit code or an industry, "
                                           "not both and not neither."), "credit_code"))
    elif credit_code and (problem := credit_code_problem(credit_code)):
        problems.append(Problem("RP-12", problem, "credit_code"))
    if len(industry) > 40:
        problems.append(Problem("RP-12", _("An industry has at most 40 characters."), "industry"))
    try:
        fraction = Decimal(str(ratio))
    except (ArithmeticError, ValueError):
        fraction = None
    if fraction is None or not fraction.is_finite() or not (0 < fraction <= 1):
        problems.append(Problem("RP-12", _("The list's ratio must be more than 0% and at most 100%."), "ratio"))
    elif fraction != fraction.quantize(RATIO_PLACES):
        problems.append(Problem("RP-12", _("The ratio has at most six decimal places (0.0001%)."), "ratio"))
    if valid_to is not None and valid_from is not None and valid_to < valid_from:
        problems.append(Problem("RP-12", _("The entry cannot end before it starts."), "valid_to"))
    if len(note) > 255:
        problems.append(Problem("RP-12", _("The note has at most 255 characters."), "note"))
    return problems


def special_list_check(*, user, pool: Pool, ratio, valid_from: date, credit_code: str = "", industry: str = "",
                       valid_to: date | None = None, note: str = "") -> dict:
    """RP-12: the checks of ``special_list_add`` without the write, for a confirmation page.
    Returns the cleaned values; raises like ``special_list_add``."""
    require_member(user, pool.authority, *SPECIAL_LIST_ROLES)
    credit_code, industry, note = (credit_code or "").strip().upper(), (industry or "").strip(), (note or "").strip()
    problems = special_list_problems(credit_code=credit_code, industry=industry, ratio=ratio, valid_from=valid_from,
                                      valid_to=valid_to, note=note)
    if problems:
        raise RuleViolation.many(problems)
    overlap = SpecialListEntry.objects.filter(pool=pool, credit_code=credit_code, industry=industry)
    overlap = overlap.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
    if valid_to is not None:
        overlap = overlap.filter(valid_from__lte=valid_to)
    clash = overlap.order_by("valid_from").first()
    if clash is not None:
        raise Conflict(
            "RP-12",
            _("%(who)s is already on the list from %(start)s to %(end)s; end that entry before this one starts.")
            % {"who": credit_code or industry, "start": clash.valid_from.isoformat(),
               "end": clash.valid_to.isoformat() if clash.valid_to else _("no end date")},
            "valid_from",
        )
    return {"credit_code": credit_code, "industry": industry, "ratio": Decimal(str(ratio)), "valid_from": valid_from,
            "valid_to": valid_to, "note": note}


@transaction.atomic
def special_list_add(*, user, pool: Pool, ratio, valid_from: date, credit_code: str = "", industry: str = "",
                     valid_to: date | None = None, note: str = "") -> SpecialListEntry:
    """RP-12 (第十六条(五)): the authority adds an enterprise (by unified social credit code) or an
    industry of the list approved by the city government, with its ratio and validity. Every
    problem is reported at once, each naming RP-12 and its field; an entry for the same
    enterprise or industry whose validity overlaps is refused (``special_ratio`` would have to
    choose between them): end the old one first."""
    Pool.objects.select_for_update().filter(pk=pool.pk).first()  # one addition at a time per pool
    values = special_list_check(user=user, pool=pool, ratio=ratio, valid_from=valid_from, credit_code=credit_code,
                                industry=industry, valid_to=valid_to, note=note)
    entry = SpecialListEntry.objects.create(pool=pool, **values)
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=entry, organisation=pool.authority,
          summary=i18n_text.gettext_lazy("RP-12 special list %(who)s %(ratio)s") % {"who": entry.credit_code or entry.industry, "ratio": entry.ratio})
    return entry


@transaction.atomic
def special_list_end(*, user, entry: SpecialListEntry, valid_to: date) -> SpecialListEntry:
    """RP-12: the authority ends an entry: it is valid up to and including ``valid_to``. An entry
    can be ended, or ended earlier, never extended; claims already submitted keep their ratio."""
    require_member(user, entry.pool.authority, *SPECIAL_LIST_ROLES)
    entry = SpecialListEntry.objects.select_for_update().select_related("pool").get(pk=entry.pk)
    if valid_to < entry.valid_from:
        raise RuleViolation("RP-12", _("The entry starts on %(date)s; it cannot end before that.")
                            % {"date": entry.valid_from.isoformat()}, "valid_to")
    if entry.valid_to is not None and valid_to >= entry.valid_to:
        raise Conflict("RP-12", _("The entry already ends on %(date)s; it can only be ended earlier.")
                       % {"date": entry.valid_to.isoformat()}, "valid_to")
    before = snapshot(entry)
    entry.valid_to = valid_to
    entry.save(update_fields=["valid_to"])
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=entry, organisation=entry.pool.authority,
          before=before, summary=i18n_text.gettext_lazy("RP-12 special list %(who)s ends %(on)s")
          % {"who": entry.credit_code or entry.industry, "on": valid_to})
    return entry
