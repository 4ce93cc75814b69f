"""The typed shape of the counter-guarantee rule set (CG-1 cap, CG-6 default rate, CG-13 periods),
for core's rule-set forms, diff and simulator drafts (core.ruleset_families)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.models import RuleSet
from core.ruleset_families import INT, MONEY, RATIO, Family, ParamSpec, register_family
from counterguarantee.rules import Params

CAPS, PERIODS = _("Caps and rates"), _("Periods")

register_family(Family(
    scheme=RuleSet.Scheme.COUNTERGUARANTEE,
    specs=(
        ParamSpec("agri_amount_cap", MONEY, "CG-1", _("Agricultural guarantee amount cap"), group=CAPS),
        ParamSpec("default_bank_rate", RATIO, "CG-6", _("Bank pledge rate for a class with no row"), group=CAPS),
        ParamSpec("guarantee_period_months", INT, "CG-13", _("Guarantee period when none agreed"), _("months"),
                  PERIODS),
        ParamSpec("limitation_years", INT, "CG-13", _("Limitation period"), _("years"), PERIODS),
        ParamSpec("coming_due_days", INT, "CG-13", _("Coming-due list looks ahead"), _("days"), PERIODS),
    ),
    validate=lambda params: {**params, **Params.from_mapping(params).as_mapping()},
))
