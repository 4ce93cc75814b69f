"""Who is who on the platform as a whole (each app keeps its own roles in its permissions.py)."""
from __future__ import annotations

from core.scoping import has_jurisdiction, sees_everything


def is_oversight_user(user) -> bool:
    """The authority and supervisors (and Django superusers): the people of the oversight pages,
    the firm-indicator dashboard and the audit trail."""
    return bool(user.is_authenticated and (sees_everything(user) or has_jurisdiction(user)))
