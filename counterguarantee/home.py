"""The counter-guarantees' panel on the regulator's home page (core.home): the plans approved
although their check failed, in the user's jurisdiction."""
from __future__ import annotations

from datetime import date

from core import home
from core.permissions import is_oversight_user
from counterguarantee import selectors


@home.panel(order=40)
def failed_plans_panel(user, today: date) -> dict | None:
    if not is_oversight_user(user):
        return None
    return {"template": "counterguarantee/_home_panel.html", "failed": selectors.failed_at_approval(user=user).count()}
