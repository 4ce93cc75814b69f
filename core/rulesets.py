"""Reading the rule set in force on a date (spec README: versioned rule sets)."""
from __future__ import annotations

from datetime import date

from django.db.models import Q
from django.utils.translation import gettext as _

from core.errors import RuleViolation
from core.models import RuleSet


def rule_params(scheme: str, on: date) -> dict:
    """The parameters of ``scheme``'s rule set in force on ``on``; a gap is a clear error."""
    found = (
        RuleSet.objects.filter(scheme=scheme, effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .order_by("-effective_from")
        .values_list("params", flat=True)
        .first()
    )
    if found is None:
        raise RuleViolation(
            "RULESET",
            _("No %(scheme)s rule set is in force on %(date)s; the authority must add one.")
            % {"scheme": scheme, "date": on.isoformat()},
        )
    return found
