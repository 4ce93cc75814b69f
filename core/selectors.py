"""Reads of the platform's own pages: the audit trail.

Every function takes the requesting user and scopes through core.scoping (or the app selectors
that start there), in a fixed number of queries whatever the amount of data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import QuerySet

from core.calendar import SHANGHAI
from core.models import AuditEvent
from core.permissions import is_oversight_user
from core.scoping import org_filter

# --- audit trail -------------------------------------------------------------------------------


def audit_events_for_user(
    *,
    user,
    object_type: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events whose organisation lies in ``user``'s jurisdiction, newest first.

    Anyone else gets no rows (the page answers 403 before it asks). Events without an
    organisation (platform settings) are shown to superusers only. The date range is of
    Asia/Shanghai dates, inclusive, turned into UTC bounds so the ``at`` index is used.
    """
    if not is_oversight_user(user):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.filter(org_filter(user, "organisation")).select_related("organisation")
    if object_type:
        events = events.filter(object_type=object_type)
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_label__icontains=actor)
    if date_from:
        events = events.filter(at__gte=datetime.combine(date_from, time.min, tzinfo=SHANGHAI))
    if date_to:
        events = events.filter(at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=SHANGHAI))
    return events.order_by("-at", "-id")


def audit_object_types() -> list[tuple[str, str]]:
    """(object_type, readable name) of the project's own models, for the filter.

    The list is the models, not a DISTINCT over the trail: that would scan a province's
    millions of events on every page view.
    """
    base = str(settings.BASE_DIR)
    types = [
        # Labelled by the model's and the app's verbose names: internal codes stay off the screen.
        (model._meta.label_lower, f"{model._meta.verbose_name} ({config.verbose_name})")
        for config in apps.get_app_configs()
        if config.path.startswith(base) and ".venv" not in config.path
        for model in config.get_models()
    ]
    return sorted(types, key=lambda row: str(row[1]))


@dataclass(frozen=True)
class Change:
    key: str
    before: object
    after: object


def audit_changes(event: AuditEvent) -> list[Change]:
    """Only the keys whose value differs between ``before`` and ``after`` (a create lists every
    key of ``after``, a delete every key of ``before``)."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    keys = sorted(set(before) | set(after))
    missing = object()
    changes = []
    for key in keys:
        old, new = before.get(key, missing), after.get(key, missing)
        if old == new:
            continue
        changes.append(Change(key, None if old is missing else old, None if new is missing else new))
    return changes
