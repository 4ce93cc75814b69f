"""Writing the audit trail. Every service that creates or changes a row calls ``audit``."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db import models

from core.i18n_text import dumps_within
from core.models import AuditEvent

_PLAIN = (str, int, bool, float, type(None))


def _jsonable(value):
    if type(value) in _PLAIN:  # most values; a bulk upload snapshots millions of them
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def snapshot(instance: models.Model) -> dict:
    """The row's concrete field values, as JSON-ready data (foreign keys as ids)."""
    data = {}
    for field in instance._meta.concrete_fields:
        data[field.attname] = _jsonable(getattr(instance, field.attname))
    return data


def audit(
    *,
    actor,
    action: str,
    instance: models.Model,
    organisation=None,
    before: dict | None = None,
    after: dict | None = None,
    summary="",
) -> AuditEvent:
    """Append one audit row. ``after`` defaults to the instance as it is now (except for deletes)."""
    if after is None and action != AuditEvent.Action.DELETE:
        after = snapshot(instance)
    actor_user = actor if getattr(actor, "pk", None) else None
    return AuditEvent.objects.create(
        actor=actor_user,
        actor_label=(actor.get_username() if actor_user else str(actor or "system"))[:150],
        organisation=organisation,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        # A message kept as its msgid and values reads in each viewer's language (issue 13.1).
        summary=dumps_within(summary, 255),
        before=before,
        after=after,
    )
