"""Who may act on an evaluation submission (EV-5): the party holding it at each state. Each
predicate takes (user, submission) and answers True or refuses with PermissionDenied naming why;
evaluation.workflows puts them on the steps."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from core.models import Organisation
from core.services import require_member
from evaluation.selectors import is_province_user

FIRM_ROLES = ("firm_operator",)
COUNTY_ROLES = ("county_supervisor",)
CITY_ROLES = ("city_supervisor",)


def firm_holder(user, sub) -> bool:
    """The firm's operator, while the submission is with the firm."""
    require_member(user, sub.firm, *FIRM_ROLES)
    return True


def county_holder(user, sub) -> bool:
    """The county supervisor the firm reports to."""
    if sub.county_org is None:
        raise PermissionDenied
    require_member(user, sub.county_org, *COUNTY_ROLES)
    return True


def city_holder(user, sub) -> bool:
    """The city supervisor the firm reports to."""
    if sub.city_org is None:
        raise PermissionDenied
    require_member(user, sub.city_org, *CITY_ROLES)
    return True


def province(user, sub=None) -> bool:
    """The province (a province-level authority or supervisor with a province role)."""
    if not is_province_user(user):
        raise PermissionDenied(_("Only the province may do this."))
    return True


def province_holder(user, sub) -> bool:
    """The province, for a firm of its own province."""
    province(user)
    if not user.is_superuser and not sub.firm.region.path.startswith(user.organisation.region.path):
        raise PermissionDenied(_("This firm is not in your province."))
    return True


# The holder of a submission at each state of the chain (EV-5).
HOLDERS = {"draft": firm_holder, "county_review": county_holder, "city_review": city_holder,
           "province_review": province_holder}


# --- EV-14 exemption cases ---------------------------------------------------------------------


def case_firm(user, case) -> bool:
    """The firm's operator, on its own case (it opens it and may appeal)."""
    require_member(user, case.firm, *FIRM_ROLES)
    return True


def case_reviewer(user, case) -> bool:
    """The reviewing body: a supervisor or the authority whose jurisdiction holds the firm."""
    if user.is_superuser:
        return True
    org = user.organisation
    if not (org and org.kind in (Organisation.Kind.SUPERVISOR, Organisation.Kind.AUTHORITY)
            and case.firm.region.path.startswith(org.region.path)):
        raise PermissionDenied(_("Only the reviewing body may decide this case."))
    return True


def case_confirmer(user, case) -> bool:
    """The reviewer who recorded the pending findings confirms them (EV-14)."""
    from evaluation.workflows import pending_decision

    case_reviewer(user, case)
    pending = pending_decision(case)
    if pending is not None and pending.reviewer_id != user.pk:
        raise PermissionDenied(_("The reviewer who recorded the findings confirms them."))
    return True
