"""Who is who in the evaluation, and who may act on a submission (EV-5): the party holding it at
each state. The step predicates take (user, submission) and answer True or refuse with
PermissionDenied naming why; evaluation.workflows puts them on the steps."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from core.models import Organisation, Region
from core.scoping import has_jurisdiction
from core.services import require_member
from evaluation.models import DistributionRecipient
from guarantees.permissions import is_firm_user

K = Organisation.Kind
FIRM_ROLES = ("firm_operator",)
COUNTY_ROLES = ("county_supervisor",)
CITY_ROLES = ("city_supervisor",)
PROVINCE_ROLES = ("province_supervisor", "authority_admin", "authority_reviewer")


# --- who is who ----------------------------------------------------------------------------------


def is_province_user(user) -> bool:
    """The province (EV-5's last step, EV-9 targets, results): a province-level authority or
    supervisor with a province role (or a superuser)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    org = user.organisation
    return bool(org and org.kind in (K.AUTHORITY, K.SUPERVISOR) and org.region.level == Region.Level.PROVINCE
                and user.has_role(*PROVINCE_ROLES))


def is_recipient(user) -> bool:
    """An organisation on the distribution list of the published results (EV-10)."""
    return bool(user.is_authenticated and user.organisation_id
                and DistributionRecipient.objects.filter(organisation_id=user.organisation_id).exists())


def home_role(user) -> str:
    """Which evaluation home page the user gets: firm, province, supervisor or other."""
    if is_firm_user(user):
        return "firm"
    if is_province_user(user):
        return "province"
    if user.is_authenticated and has_jurisdiction(user):
        return "supervisor"
    return "other"


# --- the holder of a submission (EV-5) ---------------------------------------------------------


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
    if not (org and org.kind in (K.SUPERVISOR, K.AUTHORITY)
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
