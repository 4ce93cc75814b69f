"""The typed shape of the guarantees rule set (risk-share minimums, fee caps, targets), for
core's rule-set forms, diff and simulator drafts (core.ruleset_families)."""
from __future__ import annotations

import dataclasses

from django.utils.translation import gettext_lazy as _

from core.models import RuleSet
from core.ruleset_families import Family, ParamSpec, register_family
from guarantees.rules import GuaranteeParams

SHARES, FEES, TARGETS = _("Risk-share minimums"), _("Fee caps"), _("Targets")

DESCRIBED = {
    "bank_min_share": (_("Bank's minimum risk share"), SHARES),
    "national_fund_min_share": (_("National fund's minimum risk share"), SHARES),
    "fee_cap_threshold": (_("Fee cap threshold (guaranteed amount)"), FEES),
    "fee_cap_low": (_("Fee cap at or below the threshold"), FEES),
    "fee_cap_high": (_("Fee cap above the threshold"), FEES),
    "avg_fee_rate_target": (_("Average fee rate target"), TARGETS),
    "support_share_target": (_("Share of support-sector guarantees target"), TARGETS),
    "small_amount_threshold": (_("Small guarantee threshold"), TARGETS),
    "small_amount_share_target": (_("Share of small guarantees target"), TARGETS),
}

_FIELDS = {f.name: f for f in dataclasses.fields(GuaranteeParams)}

register_family(Family(
    scheme=RuleSet.Scheme.GUARANTEES,
    specs=tuple(
        ParamSpec(name, _FIELDS[name].metadata["kind"], _FIELDS[name].metadata["rule"], label, group=group)
        for name, (label, group) in DESCRIBED.items()
    ),
    validate=lambda params: {**params, **GuaranteeParams.from_mapping(params).as_mapping()},
))
