"""The typed shape of the evaluation rule set (EV-5 chain dates, EV-7 class rules, EV-3 flag), for
core's rule-set forms, diff and simulator drafts (core.ruleset_families). The scoring weights and
targets are per year (EvaluationYear), not in the rule set."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.models import RuleSet
from core.ruleset_families import INT, NUMBER, RATIO, TEXT, Family, ParamSpec, register_family
from evaluation.rules import EvaluationParams

CHAIN, CLASSES = _("Submission chain"), _("Classes and flags")
MONTH_DAY = _("MM-DD")

register_family(Family(
    scheme=RuleSet.Scheme.EVALUATION,
    specs=(
        ParamSpec("firm_days", INT, "EV-5", _("Firm submits within, after 31 December"), _("days"), CHAIN),
        ParamSpec("county_due", TEXT, "EV-5", _("County review due"), MONTH_DAY, CHAIN),
        ParamSpec("city_due", TEXT, "EV-5", _("City review due"), MONTH_DAY, CHAIN),
        ParamSpec("province_due", TEXT, "EV-5", _("Province review due"), MONTH_DAY, CHAIN),
        ParamSpec("top_share", RATIO, "EV-7", _("Top and bottom share of the ranking"), group=CLASSES),
        ParamSpec("excellent_factor", NUMBER, "EV-7", _("Excellent: times the year's target"), "×", CLASSES),
        ParamSpec("difference_flag", RATIO, "EV-3", _("Declared vs computed difference flagged above"),
                  group=CLASSES),
    ),
    validate=lambda params: {**params, **EvaluationParams.from_mapping(params).as_mapping()},
))
