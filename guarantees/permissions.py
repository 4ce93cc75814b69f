"""Who may do what with guaranteed loans: the role predicates views, APIs and panels share."""
from __future__ import annotations

from core.models import Organisation

FIRM_ROLES = ("firm_operator",)


def is_firm_user(user) -> bool:
    """Anyone of a guarantee firm (its home page shows the firm's own business)."""
    return bool(user.is_authenticated and user.organisation_id
                and user.organisation.kind == Organisation.Kind.GUARANTEE_FIRM)


def is_firm_operator(user) -> bool:
    """A guarantee firm's operator: the only people who record guarantees and their steps."""
    return is_firm_user(user) and user.has_role(*FIRM_ROLES)
