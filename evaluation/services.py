"""Writes of the evaluation app: one function per business action, in a transaction, with an
audit row. The arithmetic and decisions are evaluation.rules; this module applies them."""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import i18n_text
from core.audit import audit, snapshot
from core.errors import Conflict, RuleViolation
from core.models import AuditEvent, Organisation, Region, User
from core.money import round_money
from core.services import require_member
from evaluation import permissions as can
from evaluation import rules, selectors
from evaluation.models import (
    STEP_TAKEN_FIELDS,
    CaseDecision,
    CaseEvidence,
    DistributionRecipient,
    EvaluationYear,
    ExemptionCase,
    Interview,
    Material,
    RegionResult,
    Reminder,
    Result,
    Submission,
    SubmissionStep,
    YearExclusion,
)
from evaluation.workflows import CASE, YEAR, decision_stage, pending_decision
from evaluation.workflows import SUBMISSION as FLOW
from guarantees.models import Guarantee

K = Organisation.Kind
S = rules.State
FIRM_ROLES = ("firm_operator",)
FIGURES = rules.FIGURE_FIELDS


def _require_province(user) -> None:
    if not can.is_province_user(user):
        raise PermissionDenied(_("Only the province may do this."))


# --- EV-9 / EV-3 year setup ------------------------------------------------------------------------


def year_setup(*, user, year: int, scheme: list[dict] | None = None, targets: dict | None = None) -> EvaluationYear:
    """EV-9: the province creates the year and sets its targets (T, n_target, a_target) and, when
    given, its scoring scheme (EV-3, checked by rules.parse_scheme). Refused once published."""
    _require_province(user)
    with transaction.atomic():
        row, created = EvaluationYear.objects.select_for_update().get_or_create(year=year)
        if row.stage == EvaluationYear.Stage.PUBLISHED:
            raise Conflict("EV-9", _("The results of this year are published; its scheme and targets are final."))
        before = None if created else snapshot(row)
        if scheme is not None:
            row.scheme = [i.as_dict() for i in rules.parse_scheme(scheme)]
        if targets is not None:
            parsed = rules.Targets.from_mapping(targets)
            row.target_leverage = round_money(parsed.leverage)
            row.target_clients = int(parsed.clients)
            row.target_amount = round_money(parsed.amount)
            row.targets_set_at = timezone.now()
        row.save()
        audit(actor=user, action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE, instance=row,
              before=before, summary=i18n_text.gettext_lazy("Evaluation year %(year)s") % {"year": year})
    return row


def exclusion_set(*, user, year: EvaluationYear, firm: Organisation, reason: str | None) -> None:
    """EV-1: list (or unlist) a firm evaluated by another scheme this year."""
    _require_province(user)
    with transaction.atomic():
        if reason:
            YearExclusion.objects.update_or_create(year=year, firm=firm, defaults={"reason": reason})
        else:
            YearExclusion.objects.filter(year=year, firm=firm).delete()
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=year, organisation=firm,
              summary=i18n_text.gettext_lazy("EV-1 exclusion of %(firm)s: %(reason)s") % {"firm": firm.name, "reason": reason or "-"})


# --- JB-8 opening the year -----------------------------------------------------------------------


def _chain_orgs(firm: Organisation, supervisors: dict[int, tuple[int | None, str]]) -> tuple[int | None, int | None]:
    """The firm's county and city supervisors, walking its supervisor links (EV-5)."""
    county = city = None
    current, seen = firm.supervisor_id, set()
    while current and current not in seen:
        seen.add(current)
        parent, level = supervisors[current]
        if level == Region.Level.COUNTY and county is None and city is None:
            county = current
        elif level == Region.Level.CITY and city is None:
            city = current
        current = parent
    return county, city


def year_open(*, year: int, actor) -> dict:
    """JB-8 (EV-1, EV-3): open ``year`` for every evaluated firm: a submission per firm (created
    once), with the indicators computed from its recorded guarantees refreshed while it is still
    with the firm. Set-based: the figures of all firms in a few grouped queries (JB-15).
    Idempotent (JB-12): a second run creates nothing and recomputes the same figures."""
    with transaction.atomic():
        row, created = EvaluationYear.objects.get_or_create(year=year)
        if row.opened_at is None:
            row.opened_at = timezone.now()
            row.save(update_fields=["opened_at"])
        if created:
            audit(actor=actor, action=AuditEvent.Action.CREATE, instance=row, summary=i18n_text.gettext_lazy("Evaluation year %(year)s opened") % {"year": year})
        exclusions = dict(YearExclusion.objects.filter(year=row).values_list("firm_id", "reason"))
        candidates = Organisation.objects.filter(kind__in=(K.GUARANTEE_FIRM, K.REGUARANTEE_FIRM), is_active=True)
        evaluated = [pk for pk, kind in candidates.values_list("pk", "kind")
                     if rules.is_evaluated(kind=kind, exclusion=exclusions.get(pk))]  # EV-1
        excluded = set(exclusions)
        firms = Organisation.objects.filter(pk__in=evaluated)
        supervisors = {
            pk: (parent, level) for pk, parent, level in
            Organisation.objects.filter(kind__in=(K.SUPERVISOR, K.AUTHORITY)).values_list(
                "pk", "supervisor_id", "region__level")
        }
        existing = set(Submission.objects.filter(year=row).values_list("firm_id", flat=True))
        new = []
        for firm in firms.only("pk", "supervisor_id"):
            if firm.pk in existing:
                continue
            county, city = _chain_orgs(firm, supervisors)
            new.append(Submission(year=row, firm=firm, county_org_id=county, city_org_id=city))
        Submission.objects.bulk_create(new)
        drafts = Submission.objects.filter(year=row, state=S.DRAFT, firm__in=firms)
        figures = selectors.computed_figures(firms=firms.filter(pk__in=drafts.values("firm_id")), year=year)
        now = timezone.now()
        updated = []
        for sub in drafts:
            computed = figures.get(sub.firm_id, {})
            sub.computed, sub.computed_at = computed, now
            sub.flagged = _flags(computed, sub.declared, year)
            updated.append(sub)
        Submission.objects.bulk_update(updated, ["computed", "computed_at", "flagged"])
    return {"year": year, "submissions_created": len(new), "figures_refreshed": len(updated),
            "excluded": len(excluded)}


def _flags(computed: dict, declared: dict, year: int) -> list[str]:
    """EV-3: the figures whose declared value differs from the computed one by more than 1%."""
    tolerance = selectors.params_for(year).difference_flag
    return [name for name in FIGURES
            if name in declared and rules.differs(computed.get(name), declared.get(name), tolerance=tolerance)]


def _stage_reminder(year: int, on: date) -> str | None:
    """JB-8: the reminder stage due on ``on``: the first from 1 March, the second from 20 March."""
    if on >= date(year + 1, 3, 20):
        return "second"
    if on >= date(year + 1, 3, 1):
        return "first"
    return None


def _remind(*, key: str, organisation_id: int, rule: str, message, due_on: date) -> bool:
    """One in-app reminder per key, e-mailed to the organisation's people once (JB-12). The
    in-app one keeps the message's msgid, so it reads in each viewer's language (issue 13.1)."""
    reminder, created = Reminder.objects.get_or_create(
        key=key, defaults={"organisation_id": organisation_id, "rule": rule,
                           "message": i18n_text.dumps_within(message, 255), "due_on": due_on})
    message = str(message)
    if created:
        emails = list(User.objects.filter(organisation_id=organisation_id, is_active=True).exclude(email="")
                      .values_list("email", flat=True))
        if emails:
            transaction.on_commit(lambda: send_mass_mail([(message[:120], message, None, emails)], fail_silently=True))
    return created


def firm_reminders_send(*, year: int, on: date) -> int:
    """JB-8 (EV-5): remind every firm whose submission is still with it before the 90-day
    deadline, on 1 March and again on 20 March; once per stage (JB-12)."""
    stage = _stage_reminder(year, on)
    # A year whose review the province has closed takes no more filings: nothing to remind of.
    if stage is None or not EvaluationYear.objects.filter(year=year, stage=EvaluationYear.Stage.OPEN).exists():
        return 0
    due = selectors.params_for(year).dates(year).firm
    sent = 0
    for firm_id in Submission.objects.filter(year__year=year, state=S.DRAFT).values_list("firm_id", flat=True):
        message = i18n_text.gettext_lazy("Your %(year)s evaluation materials are due by %(due)s (EV-5).") % {
            "year": year, "due": due}
        sent += _remind(key=f"EV-5:{year}:{firm_id}:{stage}", organisation_id=firm_id, rule="EV-5",
                        message=message, due_on=due)
    return sent


def province_organisations() -> list[int]:
    return list(Organisation.objects.filter(kind=K.AUTHORITY, region__level=Region.Level.PROVINCE, is_active=True)
                .values_list("pk", flat=True))


def targets_reminder_send(*, year: int) -> int:
    """JB-10 (EV-9): remind the province's authority when ``year`` has no targets yet; once (JB-12)."""
    row = EvaluationYear.objects.filter(year=year).first()
    if row is not None and row.has_targets:
        return 0
    due = rules.targets_deadline(year)
    message = i18n_text.gettext_lazy("The %(year)s evaluation targets are not set; they are due by %(due)s (EV-9).") % {
        "year": year, "due": due}
    return sum(_remind(key=f"EV-9:{year}:{org}", organisation_id=org, rule="EV-9", message=message, due_on=due)
               for org in province_organisations())


# --- EV-3 / EV-4 the firm's submission ------------------------------------------------------------


def _locked(submission: Submission) -> Submission:
    return Submission.objects.select_for_update(of=("self",)).select_related("year", "firm").get(pk=submission.pk)


def submission_refresh(*, user, submission: Submission) -> Submission:
    """EV-3: recompute the figures from the recorded guarantees (the firm, while it holds it)."""
    with transaction.atomic():
        sub = _locked(submission)
        FLOW.check(user, sub, "refresh")
        figures = selectors.computed_figures(firms=Organisation.objects.filter(pk=sub.firm_id), year=sub.year.year)
        sub.computed, sub.computed_at = figures.get(sub.firm_id, {}), timezone.now()
        sub.flagged = _flags(sub.computed, sub.declared, sub.year.year)
        sub.form_signed_at, sub.form_signed_by = None, None  # the form shows other figures now
        sub.save()
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=sub, organisation=sub.firm, summary=i18n_text.gettext_lazy("EV-3 figures refreshed"))
    return sub


def submission_declare(*, user, submission: Submission, declared: dict[str, Any]) -> Submission:
    """EV-3: the firm's declared figures beside the computed ones; over 1% apart is flagged."""
    can.firm_holder(user, submission)  # the person first; the state is checked on the locked row
    clean, problems = rules.declared_problems(declared)
    if problems:
        raise RuleViolation.many(problems)
    with transaction.atomic():
        sub = _locked(submission)
        FLOW.check(user, sub, "declare")
        before = snapshot(sub)
        sub.declared, sub.flagged = clean, _flags(sub.computed, clean, sub.year.year)
        sub.save()
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=sub, organisation=sub.firm, before=before,
              summary=i18n_text.gettext_lazy("EV-3 declared figures"))
    return sub


def scoring_form_sign(*, user, submission: Submission) -> Submission:
    """EV-4: the firm signs off the scoring form generated from the computed indicators; the score
    (EV-3) is computed with the year's scheme and targets (EV-9) at that moment."""
    with transaction.atomic():
        sub = _locked(submission)
        FLOW.check(user, sub, "sign")
        _score_into(sub)
        sub.form_signed_by, sub.form_signed_at = user, timezone.now()
        sub.save()
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=sub, organisation=sub.firm,
              summary=i18n_text.gettext_lazy("EV-4 scoring form signed"))
    return sub


def _score_into(sub: Submission) -> None:
    targets = sub.year.targets()
    if targets is None:
        raise RuleViolation("EV-9", _("The province has not set this year's targets yet."))
    figures = selectors.figures_of(sub.computed)
    if figures is None:
        raise RuleViolation("EV-3", _("The leverage cannot be computed: record the firm's net assets at the year end "
                                      "(GU-8) and refresh."), "net_assets")
    declared = selectors.figures_of({**sub.computed, **sub.declared}) if sub.declared else None
    result = rules.score(figures, targets, sub.year.indicators(), declared=declared)
    sub.scores = {code: str(value) for code, value in result.scores.items()}
    sub.total, sub.leverage = result.total, figures.leverage


MATERIAL_ROLES = {
    **{kind: S.DRAFT for kind in Material.FIRM_KINDS},
    Material.Kind.COMPLIANCE_REPORT: S.COUNTY,
    Material.Kind.SPOT_CHECK: S.CITY,
}


def check_upload(upload) -> tuple[str, int]:
    """EV-4: PDF, xlsx or docx, recognised by content (not by name), at most 20 MB."""
    size = upload.size
    if size > rules.MAX_MATERIAL_BYTES:
        raise RuleViolation("EV-4", _("%(name)s is larger than 20 MB.") % {"name": upload.name}, "file")
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    names = None
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            names = None
    kind = rules.upload_kind(content[:8], names)
    if kind is None:
        raise RuleViolation("EV-4", _("%(name)s is not a PDF, Excel (xlsx) or Word (docx) file.")
                            % {"name": upload.name}, "file")
    return kind, size


def material_kinds(state: str) -> list[str]:
    """EV-4: the kinds of material uploaded while the submission is at ``state``."""
    return [kind for kind, at in MATERIAL_ROLES.items() if at == state]


def material_upload(*, user, submission: Submission, kind: str, upload, auditor: str = "",
                    auditor_clean: bool = False) -> Material:
    """EV-4: the firm's four materials; the county's compliance report; the city's spot-check
    report. A new upload of a kind replaces the old one. The audit report names the accounting
    firm and confirms it has no bad practice record in the last three years."""
    if kind not in MATERIAL_ROLES:
        raise RuleViolation("EV-4", _("Unknown kind of material."), "kind")
    content_type, size = check_upload(upload)
    if kind == Material.Kind.AUDIT_REPORT and not (auditor.strip() and auditor_clean):
        raise RuleViolation("EV-4", _("Name the accounting firm and confirm it has no bad practice record in the last "
                                      "three years."), "auditor")
    with transaction.atomic():
        sub = _locked(submission)
        FLOW.check(user, sub, "upload")
        if MATERIAL_ROLES[kind] != sub.state:
            raise Conflict("EV-4", _("This material is not uploaded while the submission is “%(state)s”.")
                           % {"state": FLOW.label(sub.state)}, "kind")
        material = Material.objects.filter(submission=sub, kind=kind).first() or Material(submission=sub, kind=kind)
        replaced = material.file.name if material.pk else ""
        material.content_type, material.size, material.uploaded_by = content_type, size, user
        material.auditor, material.auditor_clean = auditor.strip(), bool(auditor_clean)
        material.file.save(rules.material_file_name(upload.name, content_type), upload, save=False)
        material.save()
        if replaced and replaced != material.file.name:
            # The replaced file goes once the new one is committed; a rollback keeps the old one.
            storage = material.file.storage
            transaction.on_commit(lambda: storage.delete(replaced))
        audit(actor=user, action=AuditEvent.Action.CREATE, instance=material, organisation=sub.firm,
              after={"submission_id": sub.pk, "kind": kind, "content_type": content_type, "size": size},
              summary=i18n_text.gettext_lazy("EV-4 material: %(kind)s") % {"kind": i18n_text.label(kind)})
    return material


# --- EV-5 the chain -------------------------------------------------------------------------------


def _move(sub: Submission, *, user, new: str, action: str, reason: str = "", **changes) -> Submission:
    old = sub.state
    if action in ("submit", "forward", "accept"):
        taken = STEP_TAKEN_FIELDS[old]
        if getattr(sub, taken) is None:  # EV-5: the first time the step is taken is what counts
            changes[taken] = timezone.now()
    before = snapshot(sub)
    updated = Submission.objects.filter(pk=sub.pk, state=old).update(state=new, **changes)
    if updated != 1:
        raise Conflict("STATE", _("Someone else changed this record just now; reload and try again."))
    sub.refresh_from_db()
    SubmissionStep.objects.create(submission=sub, old=old, new=new, action=action, reason=reason,
                                  by=user if getattr(user, "pk", None) else None)
    audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=sub, organisation=sub.firm, before=before,
          summary=i18n_text.gettext_lazy("Evaluation submission: %(old)s → %(new)s") % {
              "old": i18n_text.label(old), "new": i18n_text.label(new)})
    return sub


def submission_submit(*, user, submission: Submission) -> Submission:
    """EV-4 / EV-5: the firm files its four materials and the signed scoring form with the first
    reviewer (the county supervisor, or the next level up when there is none)."""
    with transaction.atomic():
        sub = _locked(submission)
        new = FLOW.check(user, sub, "submit")
        have = set(sub.materials.values_list("kind", flat=True))
        missing = [str(Material.Kind(k).label) for k in Material.FIRM_KINDS if k not in have]
        if missing:
            raise RuleViolation("EV-4", _("Upload first: %(missing)s.") % {"missing": ", ".join(missing)}, "materials")
        if sub.form_signed_at is None:
            raise RuleViolation("EV-4", _("Sign off the scoring form first."), "form")
        return _move(sub, user=user, new=new, action="submit", return_reason="")


def submission_forward(*, user, submission: Submission, opinion: str) -> Submission:
    """EV-5: the county adds its compliance report and evaluation opinion and forwards; the city
    adds its spot-check report and review opinion and forwards to the province; the province
    reviews and accepts (its opinion optional)."""
    with transaction.atomic():
        sub = _locked(submission)
        action = "accept" if sub.state in FLOW.step("accept").sources else "forward"
        new = FLOW.check(user, sub, action)
        opinion = (opinion or "").strip()
        changes: dict[str, Any] = {"return_reason": ""}
        if sub.state in (S.COUNTY, S.CITY):
            needed = Material.Kind.COMPLIANCE_REPORT if sub.state == S.COUNTY else Material.Kind.SPOT_CHECK
            if not sub.materials.filter(kind=needed).exists():
                raise RuleViolation("EV-4", _("Upload the %(what)s first.") % {"what": Material.Kind(needed).label},
                                    "materials")
            if not opinion:
                raise RuleViolation("EV-4", _("Write your opinion."), "opinion")
            changes["county_opinion" if sub.state == S.COUNTY else "city_opinion"] = opinion
        elif opinion:
            changes["province_opinion"] = opinion
        return _move(sub, user=user, new=new, action=action, **changes)


def submission_return(*, user, submission: Submission, reason: str) -> Submission:
    """EV-5: the party holding the submission returns it one step back, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("EV-5", _("Give the reason for returning it."), "reason")
    with transaction.atomic():
        sub = _locked(submission)
        new = FLOW.check(user, sub, "return")
        changes = {"return_reason": reason}
        if new == S.DRAFT:
            changes.update(form_signed_at=None, form_signed_by=None)  # the firm signs again what it refiles
        return _move(sub, user=user, new=new, action="return", reason=reason, **changes)


def submission_sample(*, user, submission: Submission, note: str) -> Submission:
    """EV-5: the province sends the submission to a third party as part of its sample."""
    with transaction.atomic():
        sub = _locked(submission)
        FLOW.check(user, sub, "sample")
        before = snapshot(sub)
        sub.third_party_sample, sub.third_party_note = True, (note or "").strip()
        sub.save(update_fields=["third_party_sample", "third_party_note", "updated_at"])
        SubmissionStep.objects.create(submission=sub, old=sub.state, new=sub.state, action="sample",
                                      reason=sub.third_party_note, by=user)
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=sub, organisation=sub.firm, before=before,
              summary=i18n_text.gettext_lazy("EV-5 third-party sample"))
    return sub


def review_close(*, user, year: EvaluationYear) -> EvaluationYear:
    """EV-5: the province closes its review; JB-9 can then rank the accepted submissions."""
    with transaction.atomic():
        row = EvaluationYear.objects.select_for_update().get(pk=year.pk)
        row.stage = YEAR.check(user, row, "close")
        row.save(update_fields=["stage"])
        audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=row, summary=i18n_text.gettext_lazy("EV-5 review closed"))
    return row


# --- JB-9 results (EV-6 … EV-8, EV-10) ------------------------------------------------------------


def _city_of(region_id: int, regions: dict[int, tuple[int | None, str]]) -> int:
    """EV-8: the city (or Pingtan) a firm's region belongs to: itself when a city, else up the tree."""
    current = region_id
    while current is not None:
        parent, level = regions[current]
        if level == Region.Level.CITY:
            return current
        if parent is None:
            return current  # a province-level firm is its own group
        current = parent
    return region_id


@dataclass
class PublishCounts:
    ranked: int = 0
    regions: int = 0
    interviews: int = 0


def results_publish(*, year: int, run=None, actor="system") -> dict:
    """JB-9, in one transaction (JB-14); see ``_publish``."""
    with transaction.atomic():
        return _publish(year=year, run=run, actor=actor)


def _publish(*, year: int, run, actor) -> dict:
    """JB-9: score, rank and classify the year's accepted submissions (EV-3, EV-6, EV-7), rank the
    cities (EV-8) and open an interview for each unqualified firm (EV-10), once the province has
    closed its review. Replaces the year's own results (JB-12); a year still under review is
    left alone."""
    row = EvaluationYear.objects.select_for_update().filter(year=year).first()
    if row is None or row.stage == EvaluationYear.Stage.OPEN:
        return {"year": year, "skipped": "review not closed"}
    targets = row.targets()
    scheme = row.indicators()
    subs = list(Submission.objects.filter(year=row, state=S.ACCEPTED).select_related("firm"))
    figures = {sub.pk: selectors.figures_of(sub.computed) for sub in subs}
    scored = []
    for sub in subs:
        f = figures[sub.pk]
        if f is None:
            continue
        result = rules.score(f, targets, scheme)
        scored.append((sub, result, f.leverage))
    params = selectors.params_for(year)
    ranked = rules.rank_and_classify([(str(sub.pk), res.total, lev) for sub, res, lev in scored], targets.leverage,
                                     share=params.top_share, excellent_factor=params.excellent_factor)
    regions = {pk: (parent, level) for pk, parent, level in Region.objects.values_list("pk", "parent_id", "level")}
    Result.objects.filter(year=row).delete()
    RegionResult.objects.filter(year=row).delete()
    results = []
    for (sub, res, lev), r in zip(scored, ranked, strict=True):
        results.append(Result(year=row, firm=sub.firm, region_id=_city_of(sub.firm.region_id, regions),
                              scores={k: str(v) for k, v in res.scores.items()}, total=res.total, leverage=lev,
                              rank=r.rank, rank_from_bottom=r.rank_from_bottom, klass=r.klass, job_run=run))
    Result.objects.bulk_create(results)
    region_rows = rules.rank_regions((str(r.region_id), r.total) for r in results)
    RegionResult.objects.bulk_create([RegionResult(year=row, region_id=int(rr.region), mean=rr.mean, firms=rr.firms,
                                                   rank=rr.rank) for rr in region_rows])
    unqualified = {r.firm_id for r in results if rules.needs_interview(r.klass)}
    created = 0
    for firm_id in unqualified:
        created += Interview.objects.get_or_create(year=row, firm_id=firm_id)[1]
    # An interview not yet scheduled for a firm that is no longer unqualified goes (JB-12 replace).
    Interview.objects.filter(year=row, scheduled_on__isnull=True).exclude(firm_id__in=unqualified).delete()
    row.stage, row.published_at = EvaluationYear.Stage.PUBLISHED, timezone.now()
    row.save(update_fields=["stage", "published_at"])
    audit(actor=actor, action=AuditEvent.Action.RUN, instance=row, summary=i18n_text.gettext_lazy("JB-9 results %(year)s") % {"year": year})
    return {"year": year, "ranked": len(results), "regions": len(region_rows), "interviews_created": created}


def interview_update(*, user, interview: Interview, scheduled_on: date | None = None,
                     closed_on: date | None = None, note: str = "") -> Interview:
    """EV-10: schedule and close the interview (约谈) of an unqualified firm."""
    _require_province(user)
    with transaction.atomic():
        before = snapshot(interview)
        if scheduled_on:
            interview.scheduled_on = scheduled_on
        if closed_on:
            if not interview.scheduled_on:
                raise RuleViolation("EV-10", _("Schedule the interview before closing it."), "closed_on")
            if closed_on < interview.scheduled_on:
                raise RuleViolation("EV-10", _("The interview cannot be closed before the day it is held."),
                                    "closed_on")
            interview.closed_on = closed_on
        if note:
            interview.note = note
        interview.save()
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=interview, organisation=interview.firm,
              before=before, summary=i18n_text.gettext_lazy("EV-10 interview"))
    return interview


def distribution_add(*, user, organisation: Organisation, note: str = "") -> DistributionRecipient:
    """EV-10: add an organisation to the distribution list (read access to the results)."""
    _require_province(user)
    with transaction.atomic():
        row, _created = DistributionRecipient.objects.get_or_create(organisation=organisation, defaults={"note": note})
        audit(actor=user, action=AuditEvent.Action.CREATE, instance=row, organisation=organisation,
              summary=i18n_text.gettext_lazy("EV-10 distribution list"))
    return row


def distribution_remove(*, user, organisation: Organisation) -> None:
    _require_province(user)
    with transaction.atomic():
        for row in DistributionRecipient.objects.filter(organisation=organisation):
            audit(actor=user, action=AuditEvent.Action.DELETE, instance=row, organisation=organisation,
                  before=snapshot(row), summary=i18n_text.gettext_lazy("EV-10 distribution list"))
            row.delete()


# --- EV-11 … EV-14 exemption cases ----------------------------------------------------------------

COMPENSATED = (Guarantee.Status.COMPENSATED, Guarantee.Status.RECOVERING, Guarantee.Status.RECOVERED,
               Guarantee.Status.WRITTEN_OFF)


@dataclass(frozen=True)
class EvidenceData:
    ground: str
    description: str
    archive_ref: str = ""
    file: Any = None


def case_open(*, user, guarantee: Guarantee, staff: str, grounds: list[str], statement: str = "",
              evidence: list[EvidenceData] = ()) -> ExemptionCase:
    """EV-14: a firm opens a case on one of its compensated guarantees, naming the staff involved
    and the grounds it claims, with evidence from the work archive (第十五条)."""
    require_member(user, guarantee.firm, *FIRM_ROLES)
    if guarantee.status not in COMPENSATED:
        raise RuleViolation("EV-14", _("A case is opened on a compensated guarantee."), "guarantee")
    if not (staff or "").strip():
        raise RuleViolation("EV-14", _("Name the staff involved."), "staff")
    claimed = rules.check_grounds(grounds)
    for item in evidence:
        rules.check_grounds([item.ground])
    with transaction.atomic():
        case = ExemptionCase.objects.create(firm=guarantee.firm, guarantee=guarantee, staff=staff.strip(),
                                            grounds_claimed=claimed, statement=statement, opened_by=user)
        for item in evidence:
            row = CaseEvidence(case=case, ground=item.ground, description=item.description,
                               archive_ref=item.archive_ref)
            if item.file is not None:
                kind, _size = check_upload(item.file)
                row.file.save(rules.material_file_name(item.file.name, kind), item.file, save=False)
            row.save()
        audit(actor=user, action=AuditEvent.Action.CREATE, instance=case, organisation=case.firm,
              summary=i18n_text.gettext_lazy("EV-14 case opened"))
    return case


def case_findings_record(*, user, case: ExemptionCase, grounds: list[str], staff_at_fault: bool) -> CaseDecision:
    """EV-14: the reviewer records the grounds found and staff fault; the outcome is derived by
    rules.decide_exemption. On appeal, a different reviewer than the first decision's."""
    can.case_reviewer(user, case)  # the person first; the state is checked on the locked row
    decision = rules.decide_exemption(grounds, staff_at_fault=staff_at_fault)
    with transaction.atomic():
        case = ExemptionCase.objects.select_for_update().get(pk=case.pk)
        CASE.check(user, case, "findings")
        stage = decision_stage(case)
        if stage == CaseDecision.Stage.APPEAL:
            first = case.decisions.filter(stage=CaseDecision.Stage.FIRST).first()
            rules.check_appeal_reviewer(appeal_reviewer_id=user.pk, first_reviewer_id=first and first.reviewer_id)
        row, _created = CaseDecision.objects.update_or_create(case=case, stage=stage, defaults={
            "grounds_found": rules.check_grounds(grounds), "staff_at_fault": bool(staff_at_fault),
            "outcome": decision.outcome, "reasons": decision.reasons, "reviewer": user, "confirmed_at": None})
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=row, organisation=case.firm,
              summary=i18n_text.gettext_lazy("EV-14 findings: %(outcome)s") % {"outcome": i18n_text.label(decision.outcome)})
    return row


def case_confirm(*, user, case: ExemptionCase) -> ExemptionCase:
    """EV-14: the reviewer who recorded the findings confirms the derived outcome."""
    with transaction.atomic():
        case = ExemptionCase.objects.select_for_update().get(pk=case.pk)
        new = CASE.check(user, case, "confirm")
        row = pending_decision(case)
        row.confirmed_at = timezone.now()
        row.save(update_fields=["confirmed_at"])
        old = case.state
        case.state = new
        case.save(update_fields=["state"])
        audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=case, organisation=case.firm,
              summary=i18n_text.gettext_lazy("EV-14 case %(old)s → %(new)s: %(outcome)s")
              % {"old": i18n_text.label(old), "new": i18n_text.label(case.state), "outcome": i18n_text.label(row.outcome)})
    return case


def case_appeal(*, user, case: ExemptionCase, reason: str) -> ExemptionCase:
    """EV-14 (seed 000 (十五)): the firm appeals a decision; a different reviewer decides it."""
    can.case_firm(user, case)  # the person first; the state is checked on the locked row
    if not (reason or "").strip():
        raise RuleViolation("EV-14", _("Give the reason for the appeal."), "reason")
    with transaction.atomic():
        case = ExemptionCase.objects.select_for_update().get(pk=case.pk)
        case.state, case.appeal_reason = CASE.check(user, case, "appeal"), reason.strip()
        case.save(update_fields=["state", "appeal_reason"])
        audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=case, organisation=case.firm,
              summary=i18n_text.gettext_lazy("EV-14 case appealed"))
    return case
