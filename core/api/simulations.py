"""Issue 15: ``POST /api/simulations/`` with a draft (or a rule set and the parameters to change)
and a scenario; ``GET /api/simulations/<id>/`` for its state, progress and result, so an analyst
can script the simulator. Thin: the same services and selectors as the pages."""
from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core import selectors_rulesets as sel
from core import services_rulesets as services
from core import simulation
from core.api.viewsets import parsed, url_id

START_REQUEST = {"base": 1, "params": {"npl_gate": "0.020000"}, "name": "NPL gate 2%",
                 "scenario": {"date_from": "2024-01-01", "date_to": "2025-12-31", "npl_factor": "1.50",
                              "recovery_factor": "0.50", "floor": "100000000.00"}}
RESULT_EXAMPLE = {
    "id": 7, "draft": 3, "state": "succeeded", "progress": {"done": 120, "total": 120, "percent": 100},
    "scenario": {"date_from": "2024-01-01"}, "error": "", "url": "/rulesets/simulations/7/",
    "result": {
        "change_count": 1, "changed_objects": 1, "replayed": {"claims": 118, "banks": 2},
        "changes": [{"kind": "bank", "id": 4, "ref": "招商银行深圳分行", "rule": "RP-15", "field": "npl_gate",
                     "before": "open", "after": "held"}],
        "totals": [{"code": "banks_gated", "before": "0", "after": "1", "delta": "1"}],
        "by_quarter": [{"quarter": "2025Q1", "before": "320,000.00", "after": "320,000.00", "delta": "0.00"}],
    },
}


class IsAuthority(BasePermission):
    message = _("Only the authority runs simulations.")

    def has_permission(self, request, view) -> bool:
        return sel.is_rule_user(request.user)


class ScenarioSerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, help_text=_("Replay claims classified non-performing from."))
    date_to = serializers.DateField(required=False, help_text=_("… until (inclusive)."))
    npl_factor = serializers.DecimalField(required=False, max_digits=6, decimal_places=2, min_value=0,
                                          help_text=_("Projection stress: NPL rates × k (default 1)."))
    recovery_factor = serializers.DecimalField(required=False, max_digits=6, decimal_places=2, min_value=0,
                                               help_text=_("Projection stress: recoveries × m (default 1)."))
    floor = serializers.DecimalField(required=False, max_digits=18, decimal_places=2, min_value=0,
                                     help_text=_("The balance the budget figure keeps the pool above (yuan)."))

    def validate(self, data):
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise serializers.ValidationError({"date_to": _("The end date is before the start date.")})
        return data


class StartSerializer(serializers.Serializer):
    draft = serializers.IntegerField(required=False, help_text=_("An existing draft's id."))
    base = serializers.IntegerField(required=False, help_text=_("Or a rule set's id, copied to a new draft …"))
    params = serializers.DictField(required=False, help_text=_("… with these parameters changed (stored form)."))
    name = serializers.CharField(required=False, max_length=100)
    scenario = ScenarioSerializer(required=False)

    def validate(self, data):
        if ("draft" in data) == ("base" in data):
            raise serializers.ValidationError({"draft": _("Give either a draft or a base rule set.")})
        return data


def _as_json(sim) -> dict:
    return {
        "id": sim.pk, "draft": sim.draft_id, "state": sim.state,
        "progress": {"done": sim.progress_done, "total": sim.progress_total, "percent": sim.progress_percent},
        "scenario": sim.scenario, "error": sim.error, "url": reverse("rulesets:simulation", args=[sim.pk]),
        "result": sim.result or None,
    }


class SimulationStartView(APIView):
    permission_classes = [IsAuthority]

    @extend_schema(operation_id="simulation_start", request=StartSerializer, responses={202: dict},
                   examples=[OpenApiExample("Tighten the NPL gate to 2%", request_only=True, value=START_REQUEST),
                             OpenApiExample("Queued", response_only=True, status_codes=["202"],
                                            value={**RESULT_EXAMPLE, "state": "queued", "result": None})])
    def post(self, request):
        """Queue a replay of a draft over the real history (a Celery job). Either name a draft, or a
        rule set (``base``) and the parameters to change: a draft is made of it first. Poll the GET
        for the result."""
        data = parsed(StartSerializer, request).validated_data
        scenario = {k: v.isoformat() if hasattr(v, "isoformat") else str(v)
                    for k, v in data.get("scenario", {}).items()}
        with transaction.atomic():
            if "draft" in data:
                draft = sel.draft_get(user=request.user, pk=data["draft"])
            else:
                base = sel.rule_set_get(user=request.user, pk=data["base"])
                draft = services.draft_create(user=request.user, rule_set=base, name=data.get("name", ""))
                if data.get("params"):
                    draft = services.draft_update(
                        user=request.user, draft=draft, name=draft.name, effective_from=draft.effective_from,
                        effective_to=draft.effective_to, note=draft.note,
                        params={**draft.params, **data["params"]})
            sim = simulation.simulation_start(user=request.user, draft=draft, scenario=scenario)
        sim.refresh_from_db()
        return Response(_as_json(sim), status=status.HTTP_202_ACCEPTED)


class SimulationDetailView(APIView):
    # Another organisation's person gets the selector's 404, as for a simulation that does not exist.

    @extend_schema(operation_id="simulation_result", responses={200: dict},
                   examples=[OpenApiExample("A finished replay", response_only=True, value=RESULT_EXAMPLE)])
    def get(self, request, pk):
        """A simulation's state, progress and, once it has succeeded, its result: every changed
        outcome (object, field, rule id, before → after) and the totals. Codes, not words, so a
        script can rely on them."""
        return Response(_as_json(sel.simulation_get(user=request.user, pk=url_id(pk))))
