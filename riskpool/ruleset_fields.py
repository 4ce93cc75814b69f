"""The typed shape of the Scheme S and Scheme M rule sets, for core's rule-set forms, diff and
simulator drafts (core.ruleset_families). The kinds and rule ids come from the parameter
dataclasses themselves, so a new parameter there shows up here with its rule id."""
from __future__ import annotations

import dataclasses

from django.utils.translation import gettext_lazy as _

from core.models import RuleSet
from core.ruleset_families import Family, ParamSpec, register_family
from riskpool.rules import FEATURE_LABELS, PURPOSE_LABELS, QUALIFICATION_LABELS, SchemeMParams, SchemeSParams

DAYS, WORKING_DAYS, MONTHS, YEARS = _("days"), _("working days"), _("months"), _("years")
LIMITS, RATIOS, GATES, PERIODS, EVALUATION = (
    _("Pool and limits"), _("Compensation ratios: tiers, bonuses and cap"), _("Gates"), _("Periods"),
    _("Bank evaluation and revocation"),
)

# name: (label, unit, group, choices)
SCHEME_S = {
    "pool_size": (_("Pool size"), "", LIMITS, None),
    "enterprise_balance_cap": (_("Enterprise loan balance cap"), "", LIMITS, None),
    "household_credit_cap": (_("Owner / individual business credit cap"), "", LIMITS, None),
    "lpr_spread": (_("Rate cap: spread over LPR"), "", LIMITS, None),
    "lpr_short_term_years": (_("Rate cap: longest term using the 1-year LPR"), YEARS, LIMITS, None),
    "excluded_purposes": (_("Purposes not compensated"), "", LIMITS,
                          {k: v for k, v in PURPOSE_LABELS.items() if k != "operations"}),
    "tiers": (_("Base ratio tiers by loan balance"), "", RATIOS, None),
    "qualification_bonus": (_("Qualification bonus"), "", RATIOS, None),
    "qualification_codes": (_("Qualifications that earn the bonus"), "", RATIOS, QUALIFICATION_LABELS),
    "feature_bonus": (_("Loan feature bonus"), "", RATIOS, None),
    "feature_codes": (_("Loan features that earn the bonus"), "", RATIOS, FEATURE_LABELS),
    "ratio_cap": (_("Compensation ratio cap"), "", RATIOS, None),
    "npl_gate": (_("NPL ratio gate (claims refused above it)"), "", GATES, None),
    "credit_report_working_days": (_("Credit report age at most"), WORKING_DAYS, GATES, None),
    "entry_working_day": (_("Entry by working day of the next quarter"), WORKING_DAYS, GATES, None),
    "claim_window_months": (_("Claim window after the NPL date"), MONTHS, GATES, None),
    "review_days": (_("Review period"), DAYS, PERIODS, None),
    "notice_working_days": (_("Public notice period"), WORKING_DAYS, PERIODS, None),
    "documents_days": (_("Payment documents due"), DAYS, PERIODS, None),
    "payment_days": (_("Payment due"), DAYS, PERIODS, None),
    "transfer_working_days": (_("Transfer due"), WORKING_DAYS, PERIODS, None),
    "upgrade_working_days": (_("Upgrade refund due"), WORKING_DAYS, PERIODS, None),
    "recovery_report_working_days": (_("Recovery report due"), WORKING_DAYS, PERIODS, None),
    "settlement_working_days": (_("Settlement due"), WORKING_DAYS, PERIODS, None),
    "closure_review_days": (_("Closure review period"), DAYS, PERIODS, None),
    "normal_closure_months": (_("Normal closure after"), MONTHS, PERIODS, None),
    "auto_closure_months": (_("Automatic closure after"), MONTHS, PERIODS, None),
    "evaluation_volume_top": (_("Evaluation: volume share for the top grade"), "", EVALUATION, None),
    "evaluation_growth_excellent_top": (_("Evaluation: growth share for excellent"), "", EVALUATION, None),
    "evaluation_growth_good_top": (_("Evaluation: growth share for good"), "", EVALUATION, None),
    "revocation_unqualified_years": (_("Revocation after unqualified years"), YEARS, EVALUATION, None),
    "reapply_after_years": (_("Re-application allowed after"), YEARS, EVALUATION, None),
}

SCHEME_M = {
    "ratio_in_system": (_("Ratio, firm in the provincial system"), "", RATIOS, None),
    "ratio_outside_system": (_("Ratio, firm outside the system"), "", RATIOS, None),
    "sub_funds": (_("Product sub-funds"), "", LIMITS, None),
    "suspension_rate": (_("Suspension: compensation rate above"), "", GATES, None),
    "suspension_usage": (_("Suspension: sub-fund usage above"), "", GATES, None),
    "return_days": (_("Return of recoveries within"), DAYS, PERIODS, None),
    "report_month": (_("Annual report by month"), "", PERIODS, None),
}


def _specs(params_class, described: dict) -> tuple[ParamSpec, ...]:
    fields = {f.name: f for f in dataclasses.fields(params_class)}
    return tuple(
        ParamSpec(name, fields[name].metadata["kind"], fields[name].metadata["rule"], label, unit, group,
                  choices or {})
        for name, (label, unit, group, choices) in described.items()
    )


register_family(Family(
    scheme=RuleSet.Scheme.RISKPOOL_S, specs=_specs(SchemeSParams, SCHEME_S),
    validate=lambda params: {**params, **SchemeSParams.from_mapping(params).as_mapping()},
))
register_family(Family(
    scheme=RuleSet.Scheme.RISKPOOL_M, specs=_specs(SchemeMParams, SCHEME_M),
    validate=lambda params: {**params, **SchemeMParams.from_mapping(params).as_mapping()},
))
