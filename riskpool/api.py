"""REST endpoints of the risk pool: the two previews of issue 3, thin. They run the same rule
functions as the real flow (``rules.quote``, ``rules.evaluate_banks``) on the rule set, LPR and
exchange rates the flow would use, and return the rules' ``as_dict()``. ``RuleViolation``
becomes 400 in the one error shape (``core.api.errors``).
"""
from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core import calendar as working_days
from core.errors import Problem, RuleViolation
from core.rates import lpr_on, to_yuan
from core.rulesets import rule_params
from guarantees.serializers import ErrorSerializer
from riskpool import rules
from riskpool import serializers as s

SCHEME_S = "riskpool_s"  # core.models.RuleSet.Scheme value of Scheme S (migration 0002)

# to_yuan rounds to cents; converting this many units keeps the rate's every digit (rates have
# 6 places and are quoted per 1, 10, 100 … units), so the quote's cents equal to_yuan's.
_FX_SCALE = Decimal("100000000")

_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description=gettext_lazy("Input refused; each error names its rule and field.")),
    401: OpenApiResponse(ErrorSerializer, description=gettext_lazy("Not signed in and no valid API token.")),
    403: OpenApiResponse(ErrorSerializer, description=gettext_lazy("Not allowed.")),
}


def _responses(ok: dict) -> dict:
    return {**ok, **_ERRORS}


def scheme_s_params(on) -> rules.SchemeSParams:
    """The Scheme S rule set in force on ``on`` (a gap is a 400 naming RULESET)."""
    return rules.SchemeSParams.from_mapping(rule_params(SCHEME_S, on))


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


def rate_to_yuan(currency: str, on) -> Decimal | None:
    """RP-5: yuan per unit of ``currency`` on ``on`` (central parity, else spot, else cash
    buying) from ``core.rates.to_yuan``; None for yuan. A missing rate is a 400 naming RP-5."""
    if currency.upper() == "CNY":
        return None
    yuan, _kind = to_yuan(_FX_SCALE, currency, on)
    return yuan / _FX_SCALE


# --- the worked example of spec riskpool.md, as the issue sends it ---------------------------

QUOTE_REQUEST = {
    "loan_kind": "enterprise",
    "principal": "3000000.00", "currency": "CNY",
    "disbursed_on": "2024-05-10", "maturity_on": "2025-05-09", "annual_rate": "0.0420",
    "other_balance": "1500000.00",
    "qualifications": [{"code": "high_tech", "valid_from": "2023-01-01", "valid_to": "2025-12-31"}],
    "features": ["pure_credit"],
    "purpose": "operations",
    "covered_by_other_scheme": False,
    "entered_on": "2024-06-01", "npl_on": "2025-03-03", "outstanding_principal": "2400000.00",
    "submitted_on": "2025-04-01", "credit_report_on": "2025-03-25",
}
QUOTE_RESPONSE = {
    "eligible": True, "ratio": "0.500000", "amount": "1200000.00",
    "claim_deadline": "2025-06-03", "entry_deadline": "2024-07-19",
    "reasons": [
        {"rule": "RP-8", "outcome": "pass",
         "message": "The total balance of 4,500,000.00 yuan is in the tier up to 5,000,000.00 yuan: base ratio 40%."},
        {"rule": "RP-11", "outcome": "info", "message": "The ratio of 60% is capped at 50%."},
        {"rule": "RP-13", "outcome": "pass",
         "message": "Compensation = 50% × outstanding principal 2,400,000.00 yuan = 1,200,000.00 yuan."},
    ],
}
def _bank(id_, amount, borrowers, prev_amount, prev_borrowers, violation=False) -> dict:
    return {"id": id_, "amount": amount, "borrowers": borrowers, "prev_amount": prev_amount,
            "prev_borrowers": prev_borrowers, "violation": violation}


def _grade(id_, growth, amount, borrowers, growth_rank, grade) -> dict:
    return {"id": id_, "growth": growth, "ranks": {"amount": amount, "borrowers": borrowers, "growth": growth_rank},
            "grade": grade}


# Eight banks, seven ranked on growth: the top 15% is rank <= 1.05, the top 30% rank <= 2.1.
EVALUATION_REQUEST = {
    "year": 2025,
    "banks": [
        _bank("B1", "900000000.00", 1200, "750000000.00", 1100),
        _bank("B2", "800000000.00", 1300, "700000000.00", 1250),
        _bank("B3", "600000000.00", 1000, "560000000.00", 950),
        _bank("B4", "500000000.00", 900, "480000000.00", 880, violation=True),
        _bank("B5", "400000000.00", 800, "390000000.00", 790),
        _bank("B6", "300000000.00", 700, "400000000.00", 800),
        _bank("B7", "200000000.00", 650, "190000000.00", 600),
        _bank("B8", "100000000.00", 600, None, None),
    ],
}
EVALUATION_RESPONSE = {
    "banks": [
        _grade("B1", "0.200000", 1, 2, 1, "excellent"),
        _grade("B2", "0.142857", 2, 1, 2, "good"),
        _grade("B3", "0.071429", 3, 3, 3, "qualified"),
        _grade("B4", "0.041667", 4, 4, 5, "unqualified"),
        _grade("B5", "0.025641", 5, 5, 6, "qualified"),
        _grade("B6", "-0.250000", 6, 6, 7, "unqualified"),
        _grade("B7", "0.052632", 7, 7, 4, "qualified"),
        _grade("B8", None, 8, 8, None, "qualified"),
    ],
}


class QuoteView(APIView):
    """What a Scheme S claim on a loan would get (RP-3 … RP-14), with the real flow's rules."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="riskpool_quote",
        request=s.QuoteRequestSerializer,
        responses=_responses({200: s.QuoteResponseSerializer}),
        examples=[
            OpenApiExample("Worked example (spec riskpool.md)", request_only=True, value=QUOTE_REQUEST),
            OpenApiExample(
                "Worked example (spec riskpool.md)",
                response_only=True,
                value=QUOTE_RESPONSE,
                description=gettext_lazy("Abridged: the answer has one reason per rule checked."),
            ),
        ],
    )
    def post(self, request):
        """The ratio and amount a claim would get and a reason per rule. An ineligible loan
        answers 200 with ``eligible: false``, ratio 0 and amount 0; input that cannot be
        computed (bad or unknown fields, no rule set, LPR or exchange rate) answers 400.

        The ratios come from the rule set in force on ``npl_on`` (RP-19); the LPR (RP-7) and
        exchange rate (RP-5) are those of ``disbursed_on``."""
        data = rules.QuoteInput.from_mapping(request.data)
        params = scheme_s_params(rules.ratio_rule_date(data.npl_on))
        result = rules.quote(
            data,
            params=params,
            lpr_percent=lpr_rates(data.disbursed_on),
            calendar=working_days,
            rate_to_yuan=rate_to_yuan(data.currency, data.disbursed_on),
        )
        return Response(result.as_dict())


class BankEvaluationPreviewView(APIView):
    """RP-20 annual bank evaluation on indicators you give, under today's rule set."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="riskpool_bank_evaluation_preview",
        request=s.BankEvaluationRequestSerializer,
        responses=_responses({200: s.BankEvaluationResponseSerializer}),
        examples=[
            OpenApiExample("Eight banks", request_only=True, value=EVALUATION_REQUEST),
            OpenApiExample(
                "Eight banks",
                response_only=True,
                value=EVALUATION_RESPONSE,
                description=gettext_lazy(
                    "B4 has a violation and B6 fell on both A and N: unqualified. B8 has no previous year: "
                    "no growth, no growth rank."
                ),
            ),
        ],
    )
    def post(self, request):
        """Growth, ranks and grade of every bank, in the order sent. ``prev_amount`` null or 0
        means no growth (null) and no growth rank."""
        envelope = s.BankEvaluationRequestSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        rows, problems = [], []
        for index, item in enumerate(envelope.validated_data["banks"]):
            try:
                rows.append(rules.BankYear.from_mapping(item))
            except RuleViolation as error:
                problems.extend(
                    Problem(p.rule, p.message, f"banks[{index}]" + (f".{p.field}" if p.field not in (None, "banks") else ""))
                    for p in error.problems
                )
        if problems:
            raise RuleViolation.many(problems)
        params = scheme_s_params(working_days.shanghai_today())
        return Response({"banks": [grade.as_dict() for grade in rules.evaluate_banks(rows, params)]})
