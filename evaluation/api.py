"""REST endpoints of the evaluation app: the two previews run the same rule functions as the real
flow (rules.score, rules.rank_and_classify, rules.rank_regions, rules.decide_exemption)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import StoredTextField
from core.errors import Problem, RuleViolation
from core.i18n_text import render_messages
from evaluation import rules
from evaluation.models import EvaluationYear
from evaluation.selectors import params_for
from guarantees.serializers import ErrorSerializer

# EV-14's outcomes; SPECTACULAR_SETTINGS names their enum (riskpool has another "outcome").
EXEMPTION_OUTCOMES = [rules.Outcome.ACCOUNTABLE, rules.Outcome.EXEMPT, rules.Outcome.REDUCED, rules.Outcome.NOT_EXEMPT]

PREVIEW_REQUEST = {
    "year": 2024,
    "targets": {"leverage": "3.00", "clients": 200, "amount": "400000000.00"},
    "firms": [{"id": "F1", "region": "福州市", "guarantee_balance": "1500000000.00", "net_assets": "300000000.00",
               "sme_clients": 260, "sme_amount": "450000000.00", "total_amount": "500000000.00",
               "avg_fee_rate": "0.0085"}],
}

# What the examples answer; tests/core/test_api_examples.py posts each request and compares.
PREVIEW_RESPONSE = {
    "firms": [{"id": "F1", "leverage": "5.000000", "scores": {"leverage": "50.00", "support": "30.00", "fee": "20.00"},
               "total": "100.00", "rank": 1, "class": "qualified"}],
    "regions": [{"region": "福州市", "mean": "100.00", "rank": 1}],
}
DECIDE_REQUEST = {"grounds": ["EV-12.6"], "staff_at_fault": False}
DECIDE_RESPONSE = {
    "outcome": "exempt",
    "reasons": [{"rule": "EV-12", "message": "Exemption grounds found (EV-12.6) and no fault of the staff involved."}],
}


class PreviewRequestSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=1990, max_value=2200)
    targets = serializers.DictField()
    firms = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=5000)


class DecideRequestSerializer(serializers.Serializer):
    grounds = serializers.ListField(child=serializers.CharField(), allow_empty=True)
    staff_at_fault = serializers.BooleanField()


class ScoredFirmSerializer(serializers.Serializer):
    """One firm of the preview's answer; decimals are strings, as everywhere in the API."""

    id = serializers.CharField()
    leverage = serializers.CharField(help_text=gettext_lazy("Leverage: guarantee balance ÷ net assets (EV-3), a decimal"))
    scores = serializers.DictField(child=serializers.CharField(),
                                   help_text=gettext_lazy("Score of each indicator of the scheme (EV-3), decimals"))
    total = serializers.CharField(help_text=gettext_lazy("Total score (EV-3), a decimal"))
    rank = serializers.IntegerField(help_text=gettext_lazy("Rank, 1 the best (EV-6)"))
    # "class" is a Python keyword: declared as klass and renamed.
    klass = serializers.ChoiceField(choices=[rules.Klass.EXCELLENT, rules.Klass.QUALIFIED, rules.Klass.UNQUALIFIED],
                                    help_text=gettext_lazy("Class (EV-7, EV-8)"))

    def get_fields(self):
        fields = super().get_fields()
        fields["class"] = fields.pop("klass")
        return fields


class RegionMeanSerializer(serializers.Serializer):
    region = serializers.CharField()
    mean = serializers.CharField(help_text=gettext_lazy("Mean total score of the region's firms, a decimal"))
    rank = serializers.IntegerField()


class PreviewResponseSerializer(serializers.Serializer):
    firms = ScoredFirmSerializer(many=True)
    regions = RegionMeanSerializer(many=True)


class ExemptionReasonSerializer(serializers.Serializer):
    rule = serializers.CharField()
    message = StoredTextField()


class DecideResponseSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=EXEMPTION_OUTCOMES)
    reasons = ExemptionReasonSerializer(many=True)


_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description=gettext_lazy("Input refused; each error names its rule and field.")),
    401: OpenApiResponse(ErrorSerializer, description=gettext_lazy("Not signed in and no valid API token.")),
    403: OpenApiResponse(ErrorSerializer, description=gettext_lazy("Not allowed.")),
}


def _scheme_for(year: int) -> tuple[rules.Indicator, ...]:
    """The year's configured scheme, else the default of EV-3."""
    row = EvaluationYear.objects.filter(year=year).values_list("scheme", flat=True).first()
    return rules.parse_scheme(row) if row else rules.DEFAULT_SCHEME


def preview(data: dict) -> dict:
    """EV-3, EV-6, EV-7, EV-8 on given figures (the preview's whole computation)."""
    targets = rules.Targets.from_mapping(data["targets"])
    scheme = _scheme_for(data["year"])
    problems, parsed = [], []
    for index, firm in enumerate(data["firms"]):
        firm_id = str(firm.get("id") or "").strip()
        where = f"firms[{index}]"
        if not firm_id:
            problems.append(Problem("EV-3", "Each firm needs an id.", f"{where}.id"))
            continue
        try:
            figures = rules.FirmFigures.from_mapping(firm, where=f"{where}.")
        except RuleViolation as error:
            problems.extend(Problem(p.rule, f"{firm_id}: {p.message}", p.field) for p in error.problems)
            continue
        parsed.append((firm_id, str(firm.get("region") or ""), figures))
    if problems:
        raise RuleViolation.many(problems)
    scored = [(fid, region, figures, rules.score(figures, targets, scheme)) for fid, region, figures in parsed]
    params = params_for(data["year"])
    ranked = rules.rank_and_classify([(fid, s.total, f.leverage) for fid, _r, f, s in scored], targets.leverage,
                                     share=params.top_share, excellent_factor=params.excellent_factor)
    firms = [
        {"id": fid, "leverage": str(f.leverage), "scores": {k: str(v) for k, v in s.scores.items()},
         "total": str(s.total), "rank": r.rank, "class": r.klass}
        for (fid, _region, f, s), r in zip(scored, ranked, strict=True)
    ]
    regions = [{"region": rr.region, "mean": str(rr.mean), "rank": rr.rank}
               for rr in rules.rank_regions((region, s.total) for _fid, region, _f, s in scored if region)]
    return {"firms": firms, "regions": regions}


class PreviewView(APIView):
    """Score, rank and classify given figures (EV-3, EV-6 … EV-8)."""

    @extend_schema(operation_id="evaluation_preview", request=PreviewRequestSerializer,
                   responses={200: PreviewResponseSerializer, **_ERRORS},
                   examples=[OpenApiExample("One firm", request_only=True, value=PREVIEW_REQUEST),
                             OpenApiExample("One firm", response_only=True, value=PREVIEW_RESPONSE)])
    def post(self, request):
        """The year's configured scheme, or the default of EV-3. A firm with net assets of 0 or
        less, or a missing figure, answers 400 naming the firm and the field."""
        envelope = PreviewRequestSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        return Response(preview(envelope.validated_data))


class DecideView(APIView):
    """EV-14 on given findings: the outcome and the rule behind it."""

    @extend_schema(operation_id="evaluation_exemption_decide", request=DecideRequestSerializer,
                   responses={200: DecideResponseSerializer, **_ERRORS},
                   examples=[OpenApiExample("Collateral lost value", request_only=True, value=DECIDE_REQUEST),
                             OpenApiExample("Collateral lost value", response_only=True, value=DECIDE_RESPONSE)])
    def post(self, request):
        """Ground codes: EV-11.1, EV-11.2, EV-12.1 … EV-12.8, EV-13.1 … EV-13.5; unknown: 400."""
        envelope = DecideRequestSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        data = envelope.validated_data
        return Response(render_messages(
            rules.decide_exemption(data["grounds"], staff_at_fault=data["staff_at_fault"]).as_dict()))
