"""REST endpoints of counterguarantee, thin: the preview runs ``rules.check_plan`` — the same
function as the plan editor's live check and the approval — on the tables in force on
``checked_on``. Input that cannot be computed answers 400 in the one error shape, each measure
named by its position (``measures[0].rate``)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.viewsets import SelectorViewSet
from core.calendar import shanghai_today
from core.i18n_text import render_messages
from core.models import Organisation
from counterguarantee import rules, selectors, services
from counterguarantee import serializers as s
from counterguarantee.models import Plan
from guarantees.serializers import ErrorSerializer

CHECK_REQUEST = {
    "checked_on": "2025-01-01",
    "guarantee": {"amount": "1000000.00", "start": "2025-01-01", "end": "2025-12-31",
                  "credit_grounds": ["CG-1.2"], "lowered_grounds": [], "resolving_existing_risk": False},
    "measures": [{"kind": "mortgage", "asset_class": "real_estate", "value": "1600000.00", "rate": "0.70",
                  "valued_on": "2024-12-01", "valuation_valid_until": "2025-11-30",
                  "start": "2025-01-01", "end": "2026-06-30",
                  "owners": ["张三"], "signatories": ["张三"], "organisation": False, "resolution_on_file": False,
                  "registration_number": "鄂(2024)武汉市不动产证明第0001号", "innovative": False}],
}

# What the worked example answers (in English); tests/core/test_api_examples.py posts the request
# and compares, so the documentation cannot drift from the rules.
CHECK_RESPONSE = {'passed': False,
 'checked_on': '2025-01-01',
 'results': [{'rule': 'CG-1',
              'outcome': 'warning',
              'message': 'A credit guarantee is expected (CG-1.2 a new agricultural operating entity with a '
                         'single guaranteed amount of at most 2,000,000.00 yuan (新型农业经营主体)): ask for no '
                         'counter-guarantee or a guarantee only, but the plan has 1 mortgage or pledge '
                         'measure(s) (no. 1).',
              'field': 'credit_grounds',
              'details': [{'measure': 0,
                           'field': 'kind',
                           'outcome': 'warning',
                           'message': 'A credit guarantee is expected (CG-1.2): this mortgage (抵押) goes '
                                      'beyond a guarantee.'}]},
             {'rule': 'CG-2',
              'outcome': 'not_applicable',
              'message': 'No ground for a lower threshold (第六条) is recorded.',
              'field': 'lowered_grounds',
              'details': []},
             {'rule': 'CG-5',
              'outcome': 'pass',
              'message': 'Every mortgage and pledge has a valuation in force on 2025-01-01.',
              'details': [{'measure': 0,
                           'field': 'valuation_valid_until',
                           'outcome': 'pass',
                           'message': 'Measure 1: 1,600,000.00 yuan, valued on 2024-12-01, valid until '
                                      '2025-11-30.'}]},
             {'rule': 'CG-6',
              'outcome': 'pass',
              'message': "Measure 1 applies 70%, not below the banks' upper bound of 70% for 不动产.",
              'details': [{'measure': 0,
                           'field': 'rate',
                           'outcome': 'pass',
                           'message': "Measure 1 applies 70%, not below the banks' upper bound of 70% for "
                                      '不动产.'}]},
             {'rule': 'CG-7',
              'outcome': 'fail',
              'message': 'Over-collateralised: the discounted value of 1,120,000.00 yuan exceeds the '
                         'guaranteed amount of 1,000,000.00 yuan by 120,000.00 yuan.',
              'excess': '120000.00',
              'details': [{'measure': 0,
                           'field': 'value',
                           'outcome': 'info',
                           'message': 'Measure 1: 1,600,000.00 × 70% = 1,120,000.00 yuan.'}]},
             {'rule': 'CG-9',
              'outcome': 'fail',
              'message': 'Measure 1 ends on 2026-06-30, after the guarantee ends on 2025-12-31.',
              'details': [{'measure': 0,
                           'field': 'end',
                           'outcome': 'fail',
                           'message': 'Measure 1 ends on 2026-06-30, after the guarantee ends on '
                                      '2025-12-31.'}]},
             {'rule': 'CG-10',
              'outcome': 'warning',
              'message': 'Measure 1: no contract number recorded yet.',
              'details': [{'measure': 0,
                           'field': 'contract_no',
                           'outcome': 'warning',
                           'message': 'Measure 1: no contract number recorded yet.'}]},
             {'rule': 'CG-11',
              'outcome': 'pass',
              'message': 'Measure 1: registered with the local real-estate registry (不动产登记机构) (on paper), '
                         'certificate 鄂(2024)武汉市不动产证明第0001号.',
              'details': [{'measure': 0,
                           'field': 'registration_number',
                           'outcome': 'pass',
                           'message': 'Measure 1: registered with the local real-estate registry (不动产登记机构) '
                                      '(on paper), certificate 鄂(2024)武汉市不动产证明第0001号.'}]}]}

# Who may use the preview: guarantee firms and the authorities and supervisors over them.
USERS = (Organisation.Kind.GUARANTEE_FIRM, Organisation.Kind.AUTHORITY, Organisation.Kind.SUPERVISOR)


class UsesCounterGuarantees(BasePermission):
    message = gettext_lazy("Counter-guarantee checks are for guarantee firms and their authorities.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.is_superuser or (user.organisation is not None and user.organisation.kind in USERS)


class CheckView(APIView):
    """Check a counter-guarantee plan (CG-1, CG-2, CG-5, CG-6, CG-7, CG-9, CG-10, CG-11)."""

    permission_classes = [UsesCounterGuarantees]

    @extend_schema(
        operation_id="counterguarantee_check",
        request=s.CheckRequestSerializer,
        responses={
            200: s.CheckResponseSerializer,
            400: OpenApiResponse(ErrorSerializer, description=gettext_lazy("Input that cannot be computed.")),
            403: OpenApiResponse(ErrorSerializer, description=gettext_lazy("Not a guarantee firm or authority.")),
        },
        examples=[OpenApiExample("Worked example (spec counterguarantee.md)", request_only=True, value=CHECK_REQUEST),
                  OpenApiExample("Worked example (spec counterguarantee.md)", response_only=True, value=CHECK_RESPONSE)],
    )
    def post(self, request):
        """One result per rule, each pass, warning, fail, info or not_applicable with its reason in
        words; ``passed`` is true when none fails. CG-7 carries ``excess`` (discounted sum minus the
        guaranteed amount). ``details`` say which measure (by position) and field each finding is
        about. The tables (asset classes, bank rates, rule set) are those in force on
        ``checked_on`` (default today)."""
        data = request.data
        on = shanghai_today()
        if isinstance(data, dict) and data.get("checked_on"):
            on = rules._Reader(data, "").date("checked_on") or on
        tables = services.tables_on(on)
        plan = rules.PlanInput.from_mapping(data, tables, default_date=on)
        return Response(render_messages(rules.check_plan(plan, tables).as_dict()))


class PlanViewSet(SelectorViewSet):
    """Counter-guarantee plans of your firm (or of your jurisdiction, for an authority), read-only:
    status, the check at approval, the measures and their CG-13 limitation dates. Another
    firm's plan answers 404."""

    queryset = Plan.objects.none()
    serializer_class = s.PlanSerializer
    permission_classes = [UsesCounterGuarantees]

    list_selector = staticmethod(lambda user: selectors.plan_list(user=user).order_by("-id"))
    get_selector = staticmethod(lambda user, pk: selectors.plan_get_for_user(user=user, plan_id=pk))

    @extend_schema(responses={200: s.PlanDetailSerializer, 404: OpenApiResponse(ErrorSerializer)})
    def retrieve(self, request, pk=None):
        return Response(s.PlanDetailSerializer(self._get(pk), context={"request": request}).data)
