"""Writes of rule sets and their drafts: the audited path every rule-set change takes (issue 13
point 7 typed edits; issue 15 drafts and adoption)."""
from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core import i18n_text
from core.audit import audit, snapshot
from core.errors import Conflict, Problem, RuleViolation
from core.models import AuditEvent, Role, RuleSet, RuleSetDraft, Simulation
from core.ruleset_families import get_family

A = AuditEvent.Action


def require_rule_editor(user) -> None:
    """Only the authority's administrators change rule sets and adopt drafts."""
    if not user.has_role(Role.Code.AUTHORITY_ADMIN):
        raise RuleViolation("RULESET", _("Only an authority administrator may change rule sets."))


def validated_params(scheme: str, params: dict) -> dict:
    """The family's own parser accepts the whole set, or its RuleViolation names the parameter."""
    family = get_family(scheme)
    if family is None:
        raise RuleViolation("RULESET", _("This scheme's parameters have no typed form."), "scheme")
    return family.validate(dict(params))


def _full_clean(rule_set: RuleSet) -> None:
    try:
        rule_set.full_clean()
    except ValidationError as exc:
        problems = [
            Problem("RULESET", message, None if field == "__all__" else field)
            for field, messages in exc.message_dict.items() for message in messages
        ]
        raise RuleViolation.many(problems) from None


@transaction.atomic
def ruleset_update(*, user, rule_set: RuleSet, name: str, effective_from: date, effective_to: date | None,
                   note: str, params: dict) -> RuleSet:
    """A typed edit of one rule-set version, audited with the row before and after."""
    require_rule_editor(user)
    rule_set = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
    before = snapshot(rule_set)
    rule_set.name, rule_set.effective_from, rule_set.effective_to, rule_set.note = (
        name, effective_from, effective_to, note)
    rule_set.params = validated_params(rule_set.scheme, params)
    _full_clean(rule_set)
    rule_set.save()
    audit(actor=user, action=A.UPDATE, instance=rule_set, before=before,
          summary=i18n_text.gettext_lazy("Rule set changed: %(rule_set)s") % {"rule_set": rule_set})
    return rule_set


@transaction.atomic
def ruleset_add_version(*, user, scheme: str, name: str, effective_from: date, effective_to: date | None,
                        note: str, params: dict) -> RuleSet:
    """A new version of ``scheme``'s rules from ``effective_from``: the version in force that day,
    if it started earlier, now ends the day before, so the dates never overlap or leave a gap."""
    require_rule_editor(user)
    current = (
        RuleSet.objects.select_for_update()
        .filter(scheme=scheme, effective_from__lt=effective_from)
        .exclude(effective_to__lt=effective_from)
        .first()
    )
    if current is not None:
        if effective_to is None and current.effective_to is not None:
            effective_to = current.effective_to  # the new version keeps the old one's end
        before = snapshot(current)
        current.effective_to = effective_from - timedelta(days=1)
        current.save(update_fields=["effective_to", "updated_at"])
        audit(actor=user, action=A.UPDATE, instance=current, before=before,
              summary=i18n_text.gettext_lazy("Rule set ends before a new version: %(rule_set)s") % {"rule_set": current})
    rule_set = RuleSet(scheme=scheme, name=name, effective_from=effective_from, effective_to=effective_to, note=note,
                       params=validated_params(scheme, params))
    _full_clean(rule_set)
    rule_set.save()
    audit(actor=user, action=A.CREATE, instance=rule_set,
          summary=i18n_text.gettext_lazy("Rule set version added: %(rule_set)s") % {"rule_set": rule_set})
    return rule_set


# --- drafts (issue 15) ----------------------------------------------------------------------


@transaction.atomic
def draft_create(*, user, rule_set: RuleSet, name: str = "") -> RuleSetDraft:
    """A draft copy of ``rule_set``; nothing but the simulator reads it."""
    draft = RuleSetDraft.objects.create(
        scheme=rule_set.scheme, name=name or _("Draft of %(name)s") % {"name": rule_set.display_name}, base=rule_set,
        params=dict(rule_set.params), effective_from=rule_set.effective_from, effective_to=rule_set.effective_to,
        created_by=user,
    )
    audit(actor=user, action=A.CREATE, instance=draft, summary=i18n_text.gettext_lazy("Draft made: %(draft)s") % {"draft": draft})
    return draft


def _open_draft(draft: RuleSetDraft) -> RuleSetDraft:
    draft = RuleSetDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.adopted_as_id:
        raise Conflict("RULESET", _("This draft has been adopted; copy the new rule set to a new draft instead."))
    return draft


@transaction.atomic
def draft_update(*, user, draft: RuleSetDraft, name: str, effective_from: date, effective_to: date | None,
                 note: str, params: dict) -> RuleSetDraft:
    draft = _open_draft(draft)
    before = snapshot(draft)
    draft.name, draft.effective_from, draft.effective_to, draft.note = name, effective_from, effective_to, note
    draft.params = validated_params(draft.scheme, params)
    draft.save()
    audit(actor=user, action=A.UPDATE, instance=draft, before=before,
          summary=i18n_text.gettext_lazy("Draft changed: %(draft)s") % {"draft": draft})
    return draft


@transaction.atomic
def draft_adopt(*, user, draft: RuleSetDraft, simulation: Simulation | None = None,
                effective_from: date | None = None) -> RuleSet:
    """The draft becomes a new rule-set version from its effective date (``effective_from``, when
    given, replaces the draft's), through the same audited path as a typed new version; the
    simulation that justified it stays attached to the draft."""
    draft = _open_draft(draft)
    if simulation is not None and simulation.draft_id != draft.pk:
        raise RuleViolation("RULESET", _("That simulation is of another draft."), "simulation")
    if effective_from is not None and effective_from != draft.effective_from:
        if draft.effective_to is not None and draft.effective_to < effective_from:
            raise RuleViolation("RULESET", _("The effective date is after the draft's end date %(end)s; change the "
                                              "draft's end date first.") % {"end": draft.effective_to.isoformat()},
                                "effective_from")
        before = snapshot(draft)
        draft.effective_from = effective_from
        draft.save(update_fields=["effective_from", "updated_at"])
        audit(actor=user, action=A.UPDATE, instance=draft, before=before,
              summary=i18n_text.gettext_lazy("Draft changed: %(draft)s") % {"draft": draft})
    rule_set = ruleset_add_version(
        user=user, scheme=draft.scheme, name=draft.name, effective_from=draft.effective_from,
        effective_to=draft.effective_to, note=draft.note, params=draft.params,
    )
    before = snapshot(draft)
    draft.adopted_as, draft.adopted_with = rule_set, simulation
    draft.save(update_fields=["adopted_as", "adopted_with", "updated_at"])
    audit(actor=user, action=A.UPDATE, instance=draft, before=before,
          summary=i18n_text.gettext_lazy("Draft adopted as %(rule_set)s") % {"rule_set": rule_set})
    return rule_set


class _DryRun(Exception):
    pass


def draft_adopt_preview(*, user, draft: RuleSetDraft, simulation: Simulation | None = None,
                        effective_from: date | None = None) -> dict:
    """What adopting would do, found by doing it and rolling it back: every rule the real
    adoption checks is checked (its RuleViolation is raised as it would be), nothing is kept.
    Returns the new version's dates and each version whose end date it moves (before → after)."""
    found: dict = {}
    try:
        with transaction.atomic():
            ends = dict(RuleSet.objects.filter(scheme=draft.scheme).values_list("pk", "effective_to"))
            rule_set = draft_adopt(user=user, draft=draft, simulation=simulation, effective_from=effective_from)
            found["effective_from"], found["effective_to"] = rule_set.effective_from, rule_set.effective_to
            found["ended"] = [
                {"name": r.name, "pk": r.pk, "before": ends[r.pk], "after": r.effective_to}
                for r in RuleSet.objects.filter(pk__in=ends).order_by("effective_from") if r.effective_to != ends[r.pk]
            ]
            raise _DryRun
    except _DryRun:
        pass
    return found
