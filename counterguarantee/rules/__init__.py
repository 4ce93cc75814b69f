"""Counter-guarantee policy checks (rules CG-1 … CG-14), as pure functions.

Source: seed 002, 湖北省政府性融资担保机构融资担保业务反担保设置指引(试行) (2022); see docs/spec
counterguarantee.md. Counter-guarantee (反担保) is what the guarantee firm asks of the borrower or a
third party to secure its right of recourse after it pays the bank.

``check_plan`` is the one function that judges a plan: the preview API, the plan editor's live
check and the approval service all call it, on a ``PlanInput`` and the ``Tables`` in force on the
check date (asset classes, bank pledge rates, parameters). It returns one ``RuleResult`` per rule
of ``CHECKED_RULES``, each with its outcome, a message in words and, where the rule is about a
particular measure and field, ``details`` that the editor shows next to that field.

Nothing here queries or saves. Money is ``Decimal`` yuan in cents, rates ``Decimal`` fractions
with six places (both ROUND_HALF_UP). Input that cannot be computed raises
``core.errors.RuleViolation`` naming the field (``measures[1].rate``); a policy finding is a
result, never an exception.

The modules: ``params`` (vocabularies, parameters, tables), ``inputs`` (``PlanInput`` and its
parsing), ``checks`` (the rules and ``check_plan``) and ``after_guarantee`` (CG-13, CG-14); the
package re-exports them, so callers write ``rules.check_plan(...)``.
"""


from .after_guarantee import (
    Limitation,
    ShareYear,
    credit_shares,
    limitation,
    limitation_due_on,
)
from .checks import (
    RULES,
    CheckResult,
    Detail,
    RuleResult,
    check_bank_rate,
    check_contracts,
    check_credit_expected,
    check_lowered_threshold,
    check_over_collateral,
    check_plan,
    check_registration,
    check_term,
    check_valuation,
    contract_problems,
    valid_credit_grounds,
)
from .inputs import (
    GuaranteeFacts,
    MeasureFacts,
    PlanInput,
)
from .inputs import (
    _Reader as _Reader,  # the API reads one date with it (counterguarantee.api)
)
from .params import (
    ABNORMAL_EVENTS,
    AGRI_AMOUNT_GROUND,
    CHECKED_RULES,
    COLLATERAL_KINDS,
    CREDIT_GROUNDS,
    ENFORCEMENT_ACTIONS,
    FAIL,
    FLEXIBLE_FORMS,
    GENERAL,
    GUARANTEE,
    INFO,
    JOINT,
    KEEPS_GUARANTEE,
    KIND_LABELS,
    KINDS,
    LIABILITIES,
    LIEN,
    LOWERED_GROUNDS,
    MORTGAGE,
    NO_REGISTRY,
    NOT_APPLICABLE,
    OUTCOMES,
    PASS,
    PLEDGE,
    REGISTRIES,
    VALUATION_SOURCES,
    WARNING,
    AssetClassInfo,
    Params,
    Tables,
    discounted_value,
)

__all__ = [
    "ABNORMAL_EVENTS",
    "AGRI_AMOUNT_GROUND",
    "AssetClassInfo",
    "CHECKED_RULES",
    "COLLATERAL_KINDS",
    "CREDIT_GROUNDS",
    "CheckResult",
    "Detail",
    "ENFORCEMENT_ACTIONS",
    "FAIL",
    "FLEXIBLE_FORMS",
    "GENERAL",
    "GUARANTEE",
    "GuaranteeFacts",
    "INFO",
    "JOINT",
    "KEEPS_GUARANTEE",
    "KINDS",
    "KIND_LABELS",
    "LIABILITIES",
    "LIEN",
    "LOWERED_GROUNDS",
    "Limitation",
    "MORTGAGE",
    "MeasureFacts",
    "NOT_APPLICABLE",
    "NO_REGISTRY",
    "OUTCOMES",
    "PASS",
    "PLEDGE",
    "Params",
    "PlanInput",
    "REGISTRIES",
    "RULES",
    "RuleResult",
    "ShareYear",
    "Tables",
    "VALUATION_SOURCES",
    "WARNING",
    "check_bank_rate",
    "check_contracts",
    "contract_problems",
    "check_credit_expected",
    "check_lowered_threshold",
    "check_over_collateral",
    "check_plan",
    "check_registration",
    "check_term",
    "check_valuation",
    "credit_shares",
    "discounted_value",
    "limitation",
    "limitation_due_on",
    "valid_credit_grounds",
]
