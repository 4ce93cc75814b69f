"""Small helpers shared by every app's services."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit, snapshot
from core.errors import Conflict
from core.models import ApiToken, AuditEvent


def require_member(user, organisation, *roles: str) -> None:
    """Refuse unless ``user`` belongs to ``organisation`` with one of ``roles`` (or is a superuser).

    Reads already hide other organisations' rows (404); this guards writes by a person of the
    right organisation but the wrong role, or a write naming another organisation's id.
    """
    if user.is_superuser:
        return
    if user.organisation_id != organisation.pk or not user.has_role(*roles):
        raise PermissionDenied(_("Your role does not allow this action for %(org)s.") % {"org": organisation})


def transition(model, *, pk, field: str, allowed: dict, old: str, new: str, **changes) -> None:
    """Move a workflow row from ``old`` to ``new`` if the transitions map allows it.

    The conditional UPDATE (… WHERE state = old) means two concurrent requests cannot both
    take the same step: the loser updates no row and gets a Conflict.
    """
    if new not in allowed.get(old, ()):
        raise Conflict("STATE", _("This step is not allowed from the state “%(state)s”.") % {"state": old})
    updated = model.objects.filter(pk=pk, **{field: old}).update(**{field: new}, **changes)
    if updated != 1:
        raise Conflict("STATE", _("Someone else changed this record just now; reload and try again."))


def api_token_issue(*, actor, user, name: str):
    """Issue an API token acting as ``user`` for its organisation; returns (token, full key).

    The key is returned once and never stored (only its hash), so the audit row leaves it out.
    """
    with transaction.atomic():
        token = ApiToken(organisation=user.organisation, user=user, name=name)
        key = token.assign_new_key()
        token.save()
        after = snapshot(token)
        after.pop("key_hash")
        audit(actor=actor, action=AuditEvent.Action.CREATE, instance=token, organisation=user.organisation,
              after=after, summary=f"API token {token}")
    return token, key
