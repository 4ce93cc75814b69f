"""Who may act on a counter-guarantee plan and its measures: the guarantee firm's operator (the
firm keeps its own plans; the authority and supervisors read them). Each predicate takes
(user, obj) and answers True or refuses with PermissionDenied naming why; counterguarantee.workflows
puts them on the steps."""
from __future__ import annotations

from core.services import require_member

FIRM_ROLES = ("firm_operator",)


def plan_firm_operator(user, plan) -> bool:
    """The operator of the firm that gave the plan's guarantee."""
    require_member(user, plan.guarantee.firm, *FIRM_ROLES)
    return True


def measure_firm_operator(user, measure) -> bool:
    """The operator of the firm whose plan holds the measure."""
    return plan_firm_operator(user, measure.plan)
