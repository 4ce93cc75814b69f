"""The RP-16 claim's one way to change state (``_move``: allowed-transitions map, conditional
UPDATE, step row, next deadline, audit row) and the small guards and document storage every
claim step uses."""

from __future__ import annotations

from datetime import date

import filetype
from django.utils.translation import gettext as _

from core import calendar as core_calendar
from core import i18n_text
from core.audit import audit, snapshot
from core.errors import Conflict, RuleViolation
from core.i18n_text import dumps
from core.models import AuditEvent
from riskpool import rules
from riskpool.models import (
    Claim,
    ClaimDocument,
    ClaimStep,
)

from .common import ALLOWED_CONTENT_TYPES, MAX_DOCUMENT_BYTES, scheme_s_params

# --- claims: the RP-16 workflow ------------------------------------------------------------


def _claim_params(claim: Claim) -> rules.SchemeSParams:
    return scheme_s_params(rules.ratio_rule_date(claim.npl_on))


def _move(claim: Claim, new: str, *, user, on: date, note: str = "", since: date | None = None, **changes) -> Claim:
    """The one way a claim's state changes (RP-16): allowed by the map, a conditional UPDATE on the
    old state (a concurrent step makes it a Conflict), a ClaimStep row, the next deadline, an
    audit row."""
    old = claim.state
    rules.check_transition(old, new, bank_re_reviews=int(claim.re_review_used))
    if new in APPLICATION_STATES:
        due = rules.application_due(
            reclassified_on=changes.get("reclassified_on", claim.reclassified_on),
            disposal_completed_on=changes.get("disposal_completed_on", claim.disposal_completed_on),
            calendar=core_calendar, params=_claim_params(claim),
        )
    else:
        due = rules.next_step_due(new, since or on, calendar=core_calendar, params=_claim_params(claim))
    changes.setdefault("next_due_on", due.due if due else None)
    changes.setdefault("next_due_provisional", due.provisional if due else False)
    changes.setdefault("next_due_latest", due.latest if due else None)
    before = snapshot(claim)
    updated = Claim.objects.filter(pk=claim.pk, state=old).update(state=new, **changes)
    if updated != 1:
        raise Conflict("RP-16", _("Someone else changed this claim just now; reload and try again."))
    claim.state = new
    for name, value in changes.items():
        setattr(claim, name, value)
    ClaimStep.objects.create(claim=claim, old=old, new=new, on=on, by=user if getattr(user, "pk", None) else None,
                             note=dumps(note))
    audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=claim, organisation=claim.project.bank,
          before=before, summary=i18n_text.gettext_lazy("Claim: %(old)s → %(new)s") % {
              "old": i18n_text.label(old) if old else "—", "new": i18n_text.label(new)})
    return claim


# States in which the bank may owe an 8a upgrade or 8b settlement application (RP-16).
APPLICATION_STATES = ("in_compensation_library", "recovering")


def _application_due(claim: Claim) -> rules.StepDue | None:
    """RP-16 8a / 8b: the bank's pending application and its deadline (None when none is owed)."""
    return rules.application_due(reclassified_on=claim.reclassified_on,
                                 disposal_completed_on=claim.disposal_completed_on,
                                 calendar=core_calendar, params=_claim_params(claim))


def _refresh_application_due(claim: Claim, *, user, **changes) -> Claim:
    """Store ``changes`` (reclassified_on, disposal_completed_on) and the deadline they give, on a
    locked claim still in a library state (a concurrent step makes it a Conflict)."""
    before = snapshot(claim)
    for name, value in changes.items():
        setattr(claim, name, value)
    due = _application_due(claim)
    changes.update(next_due_on=due.due if due else None, next_due_provisional=due.provisional if due else False)
    if Claim.objects.filter(pk=claim.pk, state=claim.state).update(**changes) != 1:
        raise Conflict("RP-16", _("Someone else changed this claim just now; reload and try again."))
    claim.next_due_on, claim.next_due_provisional = changes["next_due_on"], changes["next_due_provisional"]
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=claim, organisation=claim.project.bank,
          before=before, summary=(
              i18n_text.gettext_lazy("No application deadline owed") if due is None
              else (i18n_text.gettext_lazy("Application deadline %(due)s (provisional)") if due.provisional
                    else i18n_text.gettext_lazy("Application deadline %(due)s")) % {"due": due.due}))
    return claim


def _locked(claim: Claim) -> Claim:
    return Claim.objects.select_for_update(of=("self",)).select_related("project__pool", "project__bank").get(pk=claim.pk)



def _check_file(kind: str, upload) -> tuple[str, int]:
    """Documents are checked by content (magic bytes), not by name: PDF, JPEG or PNG, ≤ 10 MB."""
    if kind not in ClaimDocument.Kind.values:
        raise RuleViolation("INPUT", _("Unknown document kind."), "kind")
    size = upload.size
    if size > MAX_DOCUMENT_BYTES:
        raise RuleViolation("INPUT", _("%(name)s is larger than 10 MB.") % {"name": upload.name}, "file")
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    guessed = filetype.guess(head)
    mime = guessed.mime if guessed else None
    if mime not in ALLOWED_CONTENT_TYPES:
        raise RuleViolation("INPUT", _("%(name)s is not a PDF, JPEG or PNG file.") % {"name": upload.name}, "file")
    return mime, size


def _store_documents(claim: Claim, files, user) -> list[ClaimDocument]:
    stored = []
    for kind, upload in files:
        content_type, size = _check_file(kind, upload)
        doc = ClaimDocument(claim=claim, kind=kind, content_type=content_type, size=size, uploaded_by=user)
        doc.file.save(upload.name.rsplit("/", 1)[-1], upload, save=False)
        doc.save()
        audit(actor=user, action=AuditEvent.Action.CREATE, instance=doc, organisation=claim.project.bank,
              after={"claim_id": claim.pk, "kind": kind, "file": doc.file.name, "content_type": content_type,
                     "size": size},
              summary=i18n_text.gettext_lazy("Claim document: %(kind)s") % {"kind": i18n_text.label(kind)})
        stored.append(doc)
    return stored


def _require_reasons(approve: bool, note: str) -> None:
    """RP-16: every refusal in the claim workflow carries its reasons."""
    if not approve and not note.strip():
        raise RuleViolation("RP-16", _("A rejection needs the reasons."), "note")
