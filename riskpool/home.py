"""The risk pool's panel on the regulator's home page (core.home)."""
from __future__ import annotations

from datetime import date

from core import home
from core.permissions import is_oversight_user
from riskpool import selectors
from riskpool.workflows import CLAIM


@home.panel(order=20)
def pool_panel(user, today: date) -> dict | None:
    """Each overseen pool's balance and utilisation, claims waiting per step and overdue, and
    banks above the 3% NPL gate (RP-1, RP-15, RP-16)."""
    if not is_oversight_user(user):
        return None
    pools = selectors.oversight_pool_figures(user=user, today=today)
    for figures in pools:
        for step in figures["steps"]:
            step["label"] = CLAIM.label(step["state"])
    return {"template": "riskpool/_home_panel.html", "pools": pools} if pools else None
