"""REST shapes of the risk-pool preview APIs (issue 3): the Scheme S quote and the RP-20 bank
evaluation preview.

No policy and no second validation here. The quote's input is parsed by
``rules.QuoteInput.from_mapping``, which reports every bad field at once, so its request
serializer only documents the shape for the OpenAPI schema. The evaluation preview checks its
envelope (``year``, a list of ``banks``) here and leaves each bank's figures to
``rules.BankYear.from_mapping``. The answers are the rules' ``as_dict()``; the response
serializers document them.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from riskpool import rules

_ENUM_FIELDS: dict[str, type[serializers.ChoiceField]] = {}


def enum(values, component: str, **kwargs) -> serializers.ChoiceField:
    """A ChoiceField documented as the named enum ``component`` (stable schema names, no
    collisions with other apps' ``kind`` or ``code`` enums)."""
    field_class = _ENUM_FIELDS.get(component)
    values = list(values)
    if field_class is None:
        field_class = extend_schema_field({"type": "string", "enum": values}, component_name=component)(
            type(f"{component}Field", (serializers.ChoiceField,), {"__doc__": f"One of {component}."})
        )
        _ENUM_FIELDS[component] = field_class
    return field_class(choices=values, **kwargs)


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def _ratio(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=6, **kwargs)


# --- POST /api/riskpool/quote/ ---------------------------------------------------------------


class QualificationSerializer(serializers.Serializer):
    code = enum(rules.QUALIFICATION_LABELS, "RiskpoolQualificationEnum", help_text=_("RP-9 qualification."))
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_to = serializers.DateField(required=False, allow_null=True)


class QuoteRequestSerializer(serializers.Serializer):
    """A Scheme S loan and its non-performing classification. Amounts are in ``currency``
    except ``other_balance`` (yuan, from the credit report); ``annual_rate`` is a fraction."""

    loan_kind = enum(rules.LOAN_KINDS, "RiskpoolLoanKindEnum", help_text=_("RP-3 loan kind."))
    principal = _money(help_text=_("Loan principal in the loan's currency."))
    currency = serializers.CharField(
        required=False, default="CNY", min_length=3, max_length=3,
        help_text=_("ISO code; a foreign currency is converted at the disbursement date's rate (RP-5)."),
    )
    disbursed_on = serializers.DateField(help_text=_("Date on the loan note (借据日期)."))
    maturity_on = serializers.DateField()
    annual_rate = _ratio(help_text=_("Annual interest rate as a fraction (0.042 for 4.2%); RP-7 caps it at LPR + 200bp."))
    other_balance = _money(help_text=_("RP-4: the borrower's other working-capital balance at disbursement, in yuan, excluding this loan."))
    qualifications = QualificationSerializer(many=True, required=False)
    features = serializers.ListField(
        child=enum(rules.FEATURE_LABELS, "RiskpoolFeatureEnum"), required=False, help_text=_("RP-10 loan features.")
    )
    purpose = enum(rules.PURPOSE_LABELS, "RiskpoolPurposeEnum", required=False, default=rules.OWN_OPERATIONS,
                   help_text=_("RP-7: only the borrower's own operations are compensated."))
    covered_by_other_scheme = serializers.BooleanField(
        required=False, default=False,
        help_text=_("Insured, guaranteed, re-guaranteed or under another compensation policy (RP-7)."),
    )
    entered_on = serializers.DateField(required=False, allow_null=True, help_text=_("RP-6; absent: not checked."))
    npl_on = serializers.DateField(help_text=_("Date classified non-performing; it names the rule set (RP-19)."))
    outstanding_principal = _money(help_text=_("Outstanding principal at the NPL date (RP-13)."))
    submitted_on = serializers.DateField(required=False, allow_null=True, help_text=_("RP-14; absent: not checked."))
    credit_report_on = serializers.DateField(required=False, allow_null=True, help_text=_("RP-4; absent: not checked."))


class ReasonSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text=_("Rule id, RP-3 … RP-14."))
    outcome = enum(rules.OUTCOMES, "RiskpoolReasonOutcomeEnum")
    message = serializers.CharField()


class QuoteResponseSerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    ratio = _ratio(help_text=_("Compensation ratio; 0.000000 when not eligible."))
    amount = _money(help_text=_("Compensation in yuan; 0.00 when not eligible."))
    claim_deadline = serializers.DateField(help_text=_("Last day to submit the claim (RP-14)."))
    entry_deadline = serializers.DateField(help_text=_("Last day to enter the loan (RP-6)."))
    reasons = ReasonSerializer(many=True, help_text=_("One result per rule, in rule order."))


# --- POST /api/riskpool/bank-evaluation/preview/ ---------------------------------------------


class BankIndicatorsSerializer(serializers.Serializer):
    """One member bank's RP-20 indicators (checked by ``rules.BankYear.from_mapping``)."""

    id = serializers.CharField()
    amount = _money(help_text=_("A: principal disbursed in the year, yuan."))
    borrowers = serializers.IntegerField(min_value=0, help_text=_("N: distinct borrowers with a loan in the year."))
    prev_amount = _money(required=False, allow_null=True, help_text=_("Last year's A; null or 0: no growth, not ranked on growth."))
    prev_borrowers = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    violation = serializers.BooleanField(required=False, default=False, help_text=_("A violation was recorded in the year."))


@extend_schema_field(BankIndicatorsSerializer)
class BankIndicatorsInputField(serializers.JSONField):
    """One bank's figures as sent; ``rules.BankYear.from_mapping`` parses them (RP-20)."""


class BankEvaluationRequestSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100, help_text=_("The year evaluated."))
    banks = serializers.ListField(child=BankIndicatorsInputField(), allow_empty=True)


class BankRanksSerializer(serializers.Serializer):
    amount = serializers.IntegerField()
    borrowers = serializers.IntegerField()
    growth = serializers.IntegerField(allow_null=True, help_text=_("Null when the bank has no growth."))


class BankGradeSerializer(serializers.Serializer):
    id = serializers.CharField()
    growth = _ratio(allow_null=True, help_text=_("G = (A − last year's A) ÷ last year's A; null without last year's A."))
    ranks = BankRanksSerializer(help_text=_("Ranks high to low, ties sharing the best rank (1, 2, 2, 4)."))
    grade = enum(rules.GRADES, "RiskpoolBankGradeEnum")


class BankEvaluationResponseSerializer(serializers.Serializer):
    banks = BankGradeSerializer(many=True)
