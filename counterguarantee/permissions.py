"""Who may act on a counter-guarantee plan and its measures: the guarantee firm's operator (the
firm keeps its own plans; the authority and supervisors read them). Each predicate takes
(user, obj) and answers True or refuses with PermissionDenied naming why; counterguarantee.workflows
puts them on the steps."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from core.models import Organisation
from core.services import require_member
from guarantees import permissions as guarantees_can

FIRM_ROLES = guarantees_can.FIRM_ROLES
AUTHORITY_ROLES = ("authority_admin",)


def is_firm_operator(user) -> bool:
    """A guarantee firm's operator (or a superuser): the people who keep counter-guarantee plans."""
    return user.is_superuser or guarantees_can.is_firm_operator(user)


def require_authority_admin(user) -> None:
    """The authority's administrator keeps the tables of asset classes and banks' rates (CG-4, CG-6, CG-11)."""
    if user.is_superuser:
        return
    org = user.organisation
    if org is None or org.kind != Organisation.Kind.AUTHORITY or not user.has_role(*AUTHORITY_ROLES):
        raise PermissionDenied(_("Only the authority's administrator keeps the counter-guarantee tables."))


def is_authority_admin(user) -> bool:
    try:
        require_authority_admin(user)
    except PermissionDenied:
        return False
    return True


def plan_firm_operator(user, plan) -> bool:
    """The operator of the firm that gave the plan's guarantee."""
    require_member(user, plan.guarantee.firm, *FIRM_ROLES)
    return True


def measure_firm_operator(user, measure) -> bool:
    """The operator of the firm whose plan holds the measure."""
    return plan_firm_operator(user, measure.plan)
