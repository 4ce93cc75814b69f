"""REST endpoints for guaranteed loans: thin. They parse with serializers, call the same services
and selectors as the web pages, and render. Every lookup goes through a selector, so another
organisation's row answers 404; ``RuleViolation`` becomes 400 (``Conflict`` 409) and Django's
``PermissionDenied`` 403 in ``core.api.errors``.
"""
from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.errors import errors_response, flatten_errors
from core.api.examples import worked_example
from core.api.viewsets import SelectorViewSet, parsed, url_id
from core.bulk import BulkRejected, RowError
from core.calendar import shanghai_today
from core.models import Organisation
from guarantees import rules, selectors, services
from guarantees import serializers as s
from guarantees.filters import AgreementFilter, CompensationFilter, GuaranteeFilter
from guarantees.models import Agreement, Compensation, Guarantee

BULK_MAX_ITEMS = 1000

_ERRORS = {
    400: OpenApiResponse(s.ErrorSerializer, description=gettext_lazy("Input refused; each error names its rule and field.")),
    401: OpenApiResponse(s.ErrorSerializer, description=gettext_lazy("Not signed in and no valid API token.")),
    403: OpenApiResponse(s.ErrorSerializer, description=gettext_lazy("Your role does not allow this.")),
    404: OpenApiResponse(s.ErrorSerializer, description=gettext_lazy("No such row, or not one you may see.")),
    409: OpenApiResponse(s.ErrorSerializer, description=gettext_lazy("The row's state does not allow this step (now).")),
}


def _responses(ok: dict, *codes: int) -> dict:
    return {**ok, **{code: _ERRORS[code] for code in (401, *codes)}}




# --- allocation preview -----------------------------------------------------------------------


class AllocateView(APIView):
    """Preview a loss allocation with the rules of the real flow (GU-1, GU-2, GU-3)."""

    @extend_schema(
        operation_id="guarantees_allocate",
        request=s.AllocateSerializer,
        responses=_responses({200: s.AllocateResponseSerializer}, 400),
        examples=worked_example(
            "2:4:2:2",
            {"base": "1000000.01", "shares": {"bank": "0.20", "guarantee_firm": "0.40", "reguarantee": "0.20",
                                              "national_fund": "0.20", "government": "0"}},
            {"parts": {"bank": "200000.00", "guarantee_firm": "400000.01", "reguarantee": "200000.00",
                       "national_fund": "200000.00", "government": "0.00"},
             "compliant": True, "violations": []},
        ),
    )
    def post(self, request):
        """Split ``base`` among the parties. A split that breaks GU-2 is still computed (200,
        ``compliant: false``); one that cannot be computed (GU-1) answers 400."""
        data = parsed(s.AllocateSerializer, request).validated_data
        split = rules.parse_split(data["shares"])
        violations = rules.check_minimum_shares(split, services.guarantee_params(shanghai_today()))
        parts = rules.allocate(data["base"], split)
        return Response(s.AllocateResponseSerializer({
            "parts": parts,
            "compliant": not violations,
            "violations": [{"rule": v.rule, "message": str(v.message)} for v in violations],
        }).data)


# --- agreements -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses=_responses({200: s.AgreementSerializer(many=True)}, 400)),
    retrieve=extend_schema(responses=_responses({200: s.AgreementSerializer}, 404)),
    create=extend_schema(request=s.AgreementCreateSerializer, responses=_responses({201: s.AgreementSerializer}, 400, 403)),
    partial_update=extend_schema(
        request=s.AgreementUpdateSerializer, responses=_responses({200: s.AgreementSerializer}, 400, 403, 404)
    ),
)
class AgreementViewSet(SelectorViewSet):
    """银担合作协议 with their risk-sharing splits (GU-1, GU-2)."""

    queryset = Agreement.objects.none()
    serializer_class = s.AgreementSerializer
    filterset_class = AgreementFilter

    list_selector = staticmethod(selectors.agreement_list)
    get_selector = staticmethod(lambda user, pk: selectors.agreement_get_for_user(user=user, agreement_id=pk))

    def retrieve(self, request, pk=None):
        return Response(s.AgreementSerializer(self._get(pk)).data)

    def create(self, request):
        """Record an agreement of your own guarantee firm; a GU-2 breach is stored, flagged."""
        data = parsed(s.AgreementCreateSerializer, request).validated_data
        firm = request.user.organisation
        if firm is None:
            raise exceptions.PermissionDenied(_("Only a guarantee firm's operators can record its agreements."))
        agreement = services.agreement_create(user=request.user, firm=firm, **data)
        return Response(s.AgreementSerializer(agreement).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        return self.step(request, pk, service=services.agreement_update, target="agreement",
                         payload=s.AgreementUpdateSerializer, output=s.AgreementSerializer, partial=True)


# --- guarantees -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses=_responses({200: s.GuaranteeSerializer(many=True)}, 400)),
    retrieve=extend_schema(responses=_responses({200: s.GuaranteeSerializer}, 404)),
    create=extend_schema(request=s.GuaranteeCreateSerializer, responses=_responses({201: s.GuaranteeSerializer}, 400, 403)),
)
class GuaranteeViewSet(SelectorViewSet):
    """担保业务: guaranteed loans (GU-5 fee caps flagged, GU-12 forbidden business refused)."""

    queryset = Guarantee.objects.none()
    serializer_class = s.GuaranteeSerializer
    filterset_class = GuaranteeFilter

    list_selector = staticmethod(selectors.guarantee_list)
    get_selector = staticmethod(lambda user, pk: selectors.guarantee_get_for_user(user=user, guarantee_id=pk))


    def retrieve(self, request, pk=None):
        return Response(s.GuaranteeSerializer(self._get(pk)).data)

    def create(self, request):
        """Record a guarantee under one of your agreements, with its borrower."""
        agreement, borrower, data = parsed(s.GuaranteeCreateSerializer, request,
                                           checks=services.guarantee_field_problems).service_arguments()
        guarantee = services.guarantee_create(user=request.user, agreement=agreement, borrower=borrower, data=data)
        return Response(s.GuaranteeSerializer(guarantee).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.GuaranteeCreateSerializer(many=True),
        responses=_responses({201: s.GuaranteeSerializer(many=True)}, 400, 403),
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Record many guarantees, all or none. Errors carry the item's position as ``row`` (from 1)."""
        items = request.data
        if not isinstance(items, list) or not items:
            raise exceptions.ValidationError([_("Send a non-empty JSON list of guarantees.")])
        if len(items) > BULK_MAX_ITEMS:
            raise exceptions.ValidationError([_("Send at most %(max)d guarantees at once.") % {"max": BULK_MAX_ITEMS}])
        rows, agreements = [], []
        for row, item in enumerate(items, start=1):
            serializer = s.GuaranteeCreateSerializer(data=item, context={"request": request})
            if not serializer.is_valid():
                errors = [RowError(row, field, None, message) for field, message in flatten_errors(serializer.errors)]
                rows.append({"row": row, "errors": errors})
                continue
            agreement, borrower, data = serializer.service_arguments()
            agreements.append(agreement)
            rows.append({"row": row, "agreement_code": agreement.code, "agreement": agreement,
                         "borrower": borrower, "data": data})
        firm = self._bulk_firm(request.user, agreements)
        for row in rows:
            if "agreement" in row and row.pop("agreement").firm_id != firm.pk:
                row["errors"] = [RowError(
                    row["row"], "agreement", None, _("A bulk request records the guarantees of one firm only."),
                )]
        try:
            created = services.guarantee_bulk_create(user=request.user, firm=firm, rows=rows)
        except BulkRejected as exc:
            return errors_response([
                {"rule": e.rule, "field": e.column, "message": str(e.message), "row": e.row} for e in exc.errors
            ])
        return Response(s.GuaranteeSerializer(created, many=True).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _bulk_firm(user, agreements) -> Organisation:
        """Whose guarantees these are: the user's firm; for a superuser outside any firm, the
        firm of the first agreement named. The service checks that the user may record them."""
        org = user.organisation
        if org is not None and (not user.is_superuser or org.kind == Organisation.Kind.GUARANTEE_FIRM):
            return org
        if agreements:
            return agreements[0].firm
        if org is not None:
            return org
        raise exceptions.PermissionDenied(_("Only a guarantee firm's operators can record its guarantees."))

    @extend_schema(request=s.ReleaseSerializer, responses=_responses({200: s.GuaranteeSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """解保: the loan is repaid and the liability ends."""
        return self.step(request, pk, service=services.guarantee_release, target="guarantee",
                         payload=s.ReleaseSerializer, output=s.GuaranteeSerializer)

    @extend_schema(
        request=s.DefaultSerializer,
        responses=_responses({201: s.CompensationDetailSerializer}, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], url_path="default", url_name="default")
    def mark_default(self, request, pk=None):
        """逾期: the loss is allocated (GU-3) and the compensation falls due after the grace period (GU-4)."""
        return self.step(request, pk, service=services.guarantee_default, target="guarantee",
                         payload=s.DefaultSerializer, output=s.CompensationDetailSerializer, created=True)


# --- compensations ----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses=_responses({200: s.CompensationSerializer(many=True)}, 400)),
    retrieve=extend_schema(responses=_responses({200: s.CompensationDetailSerializer}, 404)),
)
class CompensationViewSet(SelectorViewSet):
    """代偿 with the loss allocation (GU-3), due date (GU-4), recoveries and write-off (GU-13)."""

    queryset = Compensation.objects.none()
    serializer_class = s.CompensationSerializer
    filterset_class = CompensationFilter

    list_selector = staticmethod(selectors.compensation_list)
    get_selector = staticmethod(lambda user, pk: selectors.compensation_get_for_user(user=user, compensation_id=pk))


    def list_context(self) -> dict:
        return {"today": shanghai_today()}

    def retrieve(self, request, pk=None):
        return Response(s.CompensationDetailSerializer(self._get(pk)).data)

    @extend_schema(request=s.PaySerializer, responses=_responses({200: s.CompensationDetailSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        """代偿: the firm pays the bank all but the bank's own part."""
        return self.step(request, pk, service=services.compensation_pay, target="compensation",
                         payload=s.PaySerializer, output=s.CompensationDetailSerializer)

    @extend_schema(
        request=s.RecoveryActionInputSerializer,
        responses=_responses({201: s.RecoveryActionSerializer}, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], url_path="actions", url_name="actions")
    def record_action(self, request, pk=None):
        """Record a recovery effort (needed before a write-off, GU-13)."""
        return self.step(request, pk, service=services.recovery_action_record, target="compensation",
                         payload=s.RecoveryActionInputSerializer, output=s.RecoveryActionSerializer, created=True)

    @extend_schema(
        request=s.RecoveryInputSerializer,
        responses=_responses({201: s.RecoverySerializer}, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], url_path="recoveries", url_name="recoveries")
    def record_recovery(self, request, pk=None):
        """追偿回收: the net is shared back by the split, also after a write-off (GU-13)."""
        return self.step(request, pk, service=services.recovery_record, target="compensation",
                         payload=s.RecoveryInputSerializer, output=s.RecoverySerializer, created=True)

    @extend_schema(request=s.WriteOffSerializer, responses=_responses({200: s.CompensationDetailSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="write-off", url_name="write-off")
    def write_off(self, request, pk=None):
        """核销: only once recovery efforts are recorded (GU-13)."""
        return self.step(request, pk, service=services.compensation_write_off, target="compensation",
                         payload=s.WriteOffSerializer, output=s.CompensationDetailSerializer)


# --- firm figures -----------------------------------------------------------------------------


class FirmViewSet(viewsets.GenericViewSet):
    """A guarantee firm's own figures."""

    queryset = Organisation.objects.none()
    serializer_class = s.NetAssetsInputSerializer  # what OPTIONS describes: the body net-assets takes

    @extend_schema(request=s.NetAssetsInputSerializer, responses=_responses({200: s.NetAssetsSerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"], url_path="net-assets", url_name="net-assets")
    def net_assets(self, request, pk=None):
        """净资产 at a period end, GU-8's denominator; a second report for the same date replaces it."""
        firm = selectors.firm_get_for_user(user=request.user, firm_id=url_id(pk))
        data = parsed(s.NetAssetsInputSerializer, request).validated_data
        row = services.net_assets_record(user=request.user, firm=firm, **data)
        return Response(s.NetAssetsSerializer(row).data)

