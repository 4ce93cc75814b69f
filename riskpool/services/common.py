"""What every risk-pool service shares: the roles that may take each kind of step, the claim
document kinds and upload limits, and the Scheme S rule set and LPR in force on a day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.errors import RuleViolation
from core.models import RuleSet
from core.rates import lpr_on
from core.rulesets import rule_params
from riskpool import rules
from riskpool.models import (
    ClaimDocument,
    LoanProject,
)

# --- members (RP-22, RP-24) ----------------------------------------------------------------

PAYMENT_DOCUMENTS = (
    ClaimDocument.Kind.ACCOUNT_CONFIRMATION, ClaimDocument.Kind.RECEIPT,
    ClaimDocument.Kind.ID_COPY, ClaimDocument.Kind.AUTHORISATION,
)
ALLOWED_CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
LP = LoanProject


def scheme_s_params(on: date) -> rules.SchemeSParams:
    """The Scheme S rule set in force on ``on`` (RP-19 picks the date)."""
    return rules.SchemeSParams.from_mapping(rule_params(RuleSet.Scheme.RISKPOOL_S, on))


def lpr_rates(on) -> dict[str, Decimal]:
    """RP-7: the 1-year and 5-year LPR in force on ``on``. A term without a rate is left out
    (the quote then names RP-7 only if the loan needs that term); none at all is a 400."""
    rates, missing = {}, []
    for term in (rules.LPR_ONE_YEAR, rules.LPR_FIVE_YEARS):
        try:
            rates[term] = lpr_on(on, term)
        except RuleViolation as error:
            missing.append(error)
    if not rates:
        raise missing[0]
    return rates
