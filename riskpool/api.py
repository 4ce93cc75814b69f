"""REST endpoints of the risk pool (issue 3), thin.

The two previews run the same rule functions as the real flow (``rules.quote``,
``rules.evaluate_banks``) on the rule set, LPR and exchange rates the flow would use, and return
the rules' ``as_dict()``.

The bank systems' endpoints (loan projects, classification changes, claims, documents,
recoveries, closure) parse with serializers and call the same services and selectors as the web
pages. Every row is looked up through a selector, so another organisation's row answers 404; the
bank is always the user's organisation; dates of the bank's own acts are today's (Asia/Shanghai),
so RP-6 and RP-14 cannot be dodged by a date in the body. The reviewer's, treasurer's and
authority's steps (review, notice, funding plan, payment, closure checks) stay on the web pages
for now. ``RuleViolation`` becomes 400, ``Conflict`` 409 and ``PermissionDenied`` 403 in the one
error shape (``core.api.errors``).
"""
from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.utils.translation import gettext, gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core import calendar as working_days
from core.api.compiled import PageQueries
from core.api.errors import errors_response, flatten_errors
from core.api.examples import worked_example
from core.api.fast import FastRows
from core.api.pagination import KeysetPagination
from core.api.renderers import FastJSONRenderer
from core.api.viewsets import SelectorViewSet, parsed, url_id
from core.bulk import BulkRejected, RowError
from core.errors import Problem, RuleViolation
from core.i18n_text import render_messages
from core.rates import to_yuan
from guarantees.serializers import ErrorSerializer
from riskpool import access, rules, selectors, services
from riskpool import serializers as s
from riskpool.filters import ClaimFilter, LoanProjectFilter
from riskpool.models import Claim, LoanProject, Pool

# to_yuan rounds to cents; converting this many units keeps the rate's every digit (rates have
# 6 places and are quoted per 1, 10, 100 … units), so the quote's cents equal to_yuan's.
_FX_SCALE = Decimal("100000000")

_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description=gettext_lazy("Input refused; each error names its rule and field.")),
    401: OpenApiResponse(ErrorSerializer, description=gettext_lazy("Not signed in and no valid API token.")),
    403: OpenApiResponse(ErrorSerializer, description=gettext_lazy("Not allowed.")),
}
_ROW_ERRORS = {
    **_ERRORS,
    404: OpenApiResponse(ErrorSerializer, description=gettext_lazy("No such row, or not one you may see.")),
    409: OpenApiResponse(ErrorSerializer, description=gettext_lazy("The row's state does not allow this step (now).")),
}


def _responses(ok: dict) -> dict:
    return {**ok, **_ERRORS}


def _row_responses(ok: dict, *codes: int) -> dict:
    return {**ok, **{code: _ROW_ERRORS[code] for code in (401, 403, *codes)}}


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
    "entry_deadline_provisional": False, "entry_deadline_latest": "2024-07-19",
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
        examples=worked_example(
            "Worked example (spec riskpool.md)", QUOTE_REQUEST, QUOTE_RESPONSE,
            description=gettext_lazy("Abridged: the answer has one reason per rule checked."),
        ),
    )
    def post(self, request):
        """The ratio and amount a claim would get and a reason per rule. An ineligible loan
        answers 200 with ``eligible: false``, ratio 0 and amount 0; input that cannot be
        computed (bad or unknown fields, no rule set, LPR or exchange rate) answers 400.

        The ratios come from the rule set in force on ``npl_on`` (RP-19); the LPR (RP-7) and
        exchange rate (RP-5) are those of ``disbursed_on``."""
        data = rules.QuoteInput.from_mapping(request.data)
        params = services.scheme_s_params(rules.ratio_rule_date(data.npl_on))
        result = rules.quote(
            data,
            params=params,
            lpr_percent=services.lpr_rates(data.disbursed_on),
            calendar=working_days,
            rate_to_yuan=rate_to_yuan(data.currency, data.disbursed_on),
        )
        return Response(render_messages(result.as_dict()))


class BankEvaluationPreviewView(APIView):
    """RP-20 annual bank evaluation on indicators you give, under today's rule set."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="riskpool_bank_evaluation_preview",
        request=s.BankEvaluationRequestSerializer,
        responses=_responses({200: s.BankEvaluationResponseSerializer}),
        examples=worked_example(
            "Eight banks", EVALUATION_REQUEST, EVALUATION_RESPONSE,
            description=gettext_lazy(
                "B4 has a violation and B6 fell on both A and N: unqualified. B8 has no previous year: "
                "no growth, no growth rank."
            ),
        ),
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
        params = services.scheme_s_params(working_days.shanghai_today())
        return Response({"banks": [grade.as_dict() for grade in rules.evaluate_banks(rows, params)]})


# --- bank systems: loan projects and claims -------------------------------------------------

class IsPoolParty(BasePermission):
    """A signed-in person of a bank, the pool's reviewer or treasurer, or an authority (or a
    superuser). Which rows they see is the selectors' business; what they may do, the services'."""

    message = gettext_lazy("Only banks and the risk pool's reviewer, treasurer and authority use these endpoints.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_superuser:
            return True
        org = user.organisation
        return org is not None and org.kind in access.S_PARTY_KINDS




def _member_pool(user, pool_id) -> Pool:
    """Only a bank operator (or a superuser) enters loans: anyone else is refused (403) before
    the pool is looked at; a pool the bank is not a member of answers 404."""
    if not user.has_role(*services.BANK_ROLES):
        raise exceptions.PermissionDenied(gettext("Only a member bank's operator can enter loans."))
    return selectors.pool_get_for_bank(user=user, pool_id=url_id(pool_id))


def _today():
    return working_days.shanghai_today()


_PROJECT_ROWS = FastRows(s.LoanProjectSerializer)
_PROJECT_PAGES = PageQueries(cursor_param=KeysetPagination.cursor_query_param)


@extend_schema_view(
    list=extend_schema(responses=_row_responses({200: s.LoanProjectSerializer(many=True)}, 400)),
    retrieve=extend_schema(responses=_row_responses({200: s.LoanProjectDetailSerializer}, 404)),
    create=extend_schema(request=s.LoanProjectCreateSerializer,
                         responses=_row_responses({201: s.LoanProjectDetailSerializer}, 400, 404, 409)),
)
class LoanProjectViewSet(SelectorViewSet):
    """贷款项目: the loans a member bank entered (RP-5, RP-6, RP-22), their library and five-category
    classification (RP-14, RP-15)."""

    queryset = LoanProject.objects.none()
    serializer_class = s.LoanProjectSerializer
    filterset_class = LoanProjectFilter
    permission_classes = [IsPoolParty]
    pagination_class = KeysetPagination  # a city's pool holds a million loans: no page numbers, no COUNT
    renderer_classes = [FastJSONRenderer]  # DRF's JSON, byte for byte, written by orjson (issue 12)

    def list(self, request):
        """The page read as the serializer's columns and built by core.api.fast (no model
        instances, none of DRF's per-row machinery): the same JSON as LoanProjectSerializer, a
        fraction of the time. The page's query is compiled once per caller and query string
        and reused for the next pages (core.api.compiled)."""
        pages = _PROJECT_PAGES.page(request, lambda: _PROJECT_ROWS.values(self.filter_queryset(self.get_queryset())))
        return self.get_paginated_response(_PROJECT_ROWS.rows(self.paginate_queryset(pages)))

    def filter_queryset(self, queryset):
        """No filter asked for (only the page's ``cursor`` / ``page_size``, the bank systems'
        usual call): LoanProjectFilter would narrow nothing, as every filter's empty value is a
        no-op, so its form is not built (issue 12). Any other parameter goes through it."""
        params = self.request.query_params
        paginator = self.pagination_class
        if (list(self.filter_backends) == [DjangoFilterBackend]
                and all(name in (paginator.cursor_query_param, paginator.page_size_query_param) for name in params)):
            return queryset
        return super().filter_queryset(queryset)

    list_selector = staticmethod(selectors.project_list)
    get_selector = staticmethod(lambda user, pk: selectors.project_get_for_user(user=user, project_id=pk))


    def retrieve(self, request, pk=None):
        return Response(s.LoanProjectDetailSerializer(self._get(pk)).data)

    def create(self, request):
        """贷款项目入库: enter one loan of your bank, today. RP-6 refuses an entry after the 15th
        working day of the quarter after disbursement, naming the deadline."""
        serializer = parsed(s.LoanProjectCreateSerializer, request, checks=lambda values: services.project_field_problems(
            user=request.user, values=values, entered_on=_today()))
        pool = _member_pool(request.user, serializer.validated_data["pool"])
        borrower, data = serializer.service_arguments()
        project = services.project_register(user=request.user, pool=pool, borrower=borrower, data=data)
        return Response(s.LoanProjectDetailSerializer(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.LoanProjectBulkSerializer,
                   responses=_row_responses({201: s.LoanProjectSerializer(many=True)}, 400, 404))
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Enter many loans, all or none. Every error of every item is listed, each with the
        item's position as ``row`` (from 1), its field and rule id."""
        envelope = parsed(s.LoanProjectBulkSerializer, request).validated_data
        pool = _member_pool(request.user, envelope["pool"])
        rows = []
        for row, item in enumerate(envelope["projects"], start=1):
            serializer = s.LoanProjectInputSerializer(data=item, context={"request": request})
            if not serializer.is_valid():
                errors = [RowError(row, field, None, message) for field, message in flatten_errors(serializer.errors)]
                rows.append({"row": row, "errors": errors})
                continue
            borrower, data = serializer.service_arguments()
            rows.append({"row": row, "borrower": borrower, "data": data})
        try:
            created = services.project_bulk_register(user=request.user, pool=pool, rows=rows)
        except BulkRejected as exc:
            return errors_response([
                {"rule": e.rule, "field": e.column, "message": str(e.message), "row": e.row} for e in exc.errors
            ])
        return Response(s.LoanProjectSerializer(created, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ClassifySerializer, responses=_row_responses({200: s.LoanProjectDetailSerializer}, 400, 404, 409))
    @action(detail=True, methods=["post"])
    def classify(self, request, pk=None):
        """五级分类: record a classification change. The NPL date starts RP-14's 3 months; an NPL
        class dated before entry means never compensated (RP-6); the bank's NPL ratio is
        recomputed (RP-15) and held claims released when it is back under the gate."""
        project = self._get(pk)
        data = parsed(s.ClassifySerializer, request).validated_data
        project = services.project_classify(user=request.user, project=project, **data)
        return Response(s.LoanProjectDetailSerializer(project).data)


@extend_schema_view(
    list=extend_schema(responses=_row_responses({200: s.ClaimSerializer(many=True)}, 400)),
    retrieve=extend_schema(responses=_row_responses({200: s.ClaimDetailSerializer}, 404)),
    create=extend_schema(request={"multipart/form-data": s.ClaimCreateSerializer},
                         responses=_row_responses({201: s.ClaimDetailSerializer}, 400, 404, 409)),
)
class ClaimViewSet(SelectorViewSet):
    """风险补偿申请 through the RP-16 workflow: the bank's steps. The reviewer's, treasurer's and
    authority's steps are on the web pages."""

    queryset = Claim.objects.none()
    serializer_class = s.ClaimSerializer
    filterset_class = ClaimFilter
    permission_classes = [IsPoolParty]

    list_selector = staticmethod(selectors.claim_list)
    get_selector = staticmethod(lambda user, pk: selectors.claim_get_for_user(user=user, claim_id=pk))


    def _detail(self, claim: Claim, code=status.HTTP_200_OK) -> Response:
        return Response(s.ClaimDetailSerializer(self._get(claim.pk), context={"request": self.request}).data,
                        status=code)

    def retrieve(self, request, pk=None):
        """The claim with each rule's result, its steps, documents, recoveries and the deadline
        of the step due next (``next_due_on``)."""
        return self._detail(self._get(pk))

    def create(self, request):
        """提交: claim on one of your non-performing loans, today (multipart/form-data). The
        borrower's credit report (``credit_report``) and the loan file (``loan_file``) are
        required attachments (RP-14, 第十九条(二)): without them the claim is refused (400) with
        one error per missing document. Refused too with every failing rule (RP-3 … RP-14,
        RP-24); held while the bank's NPL ratio is above 3% (RP-15)."""
        serializer = parsed(s.ClaimCreateSerializer, request, checks=lambda values: self._claim_problems(values))
        data = serializer.validated_data
        project = selectors.project_get_for_user(user=request.user, project_id=url_id(data["project"]))
        claim = services.claim_submit(user=request.user, project=project, submitted_on=_today(),
                                      outstanding_principal=data["outstanding_principal"],
                                      credit_report_on=data["credit_report_on"], documents=serializer.documents())
        return self._detail(claim, status.HTTP_201_CREATED)

    def _claim_problems(self, values: dict) -> list:
        """Issue 13.3: what the service would refuse in the fields that validated, answered with
        the field errors (a project the user may not see is left to the field errors)."""
        try:
            project = selectors.project_get_for_user(user=self.request.user, project_id=url_id(values.get("project")))
            return services.claim_problems(
                user=self.request.user, project=project, submitted_on=_today(),
                outstanding_principal=values.get("outstanding_principal"),
                credit_report_on=values.get("credit_report_on"),
                document_kinds=[kind for kind in ("credit_report", "loan_file") if values.get(kind)])
        except (Http404, PermissionDenied):
            return []

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **_row_responses({}, 404)})
    @action(detail=True, methods=["get"], url_path=r"documents/(?P<document_id>[0-9]+)", url_name="document")
    def document(self, request, pk=None, document_id=None):
        """Download one of the claim's attachments; another organisation's answers 404 (RP-25)."""
        claim = self._get(pk)
        document = selectors.claim_document_get_for_user(user=request.user, document_id=url_id(document_id))
        if document.claim_id != claim.pk:
            raise exceptions.NotFound()
        return FileResponse(document.file.open("rb"), as_attachment=True, content_type=document.content_type,
                            filename=document.file.name.rsplit("/", 1)[-1])

    @extend_schema(request={"multipart/form-data": s.ClaimDocumentUploadSerializer},
                   responses=_row_responses({201: s.ClaimDetailSerializer}, 400, 404, 409))
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def documents(self, request, pk=None):
        """拨款资料 (RP-16 step 5): one payment document per request (multipart: ``kind``,
        ``file``). Its type is judged by content, not name: PDF, JPEG or PNG, at most 10 MB.
        With all four the treasurer owes the payment."""
        claim = self._get(pk)
        data = parsed(s.ClaimDocumentUploadSerializer, request).validated_data
        claim = services.claim_documents_upload(user=request.user, claim=claim, files=[(data["kind"], data["file"])],
                                                on=_today())
        return self._detail(claim, status.HTTP_201_CREATED)

    @extend_schema(request=s.ClaimNoteSerializer, responses=_row_responses({200: s.ClaimDetailSerializer}, 400, 404, 409))
    @action(detail=True, methods=["post"], url_path="re-review", url_name="re-review")
    def re_review(self, request, pk=None):
        """复核 (RP-16 step 2): ask once for a rejected claim to be decided again."""
        claim = self._get(pk)
        note = parsed(s.ClaimNoteSerializer, request).validated_data["note"]
        return self._detail(services.claim_request_re_review(user=request.user, claim=claim, on=_today(), note=note))

    @extend_schema(request=s.ClaimNoteSerializer, responses=_row_responses({200: s.ClaimDetailSerializer}, 400, 404, 409))
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw the claim before it is approved."""
        claim = self._get(pk)
        note = parsed(s.ClaimNoteSerializer, request).validated_data["note"]
        return self._detail(services.claim_withdraw(user=request.user, claim=claim, on=_today(), note=note))

    @extend_schema(request=None, responses=_row_responses({200: s.ClaimDetailSerializer}, 404, 409))
    @action(detail=True, methods=["post"], url_path="to-compensation-library", url_name="to-compensation-library")
    def to_compensation_library(self, request, pk=None):
        """RP-16 step 7: move the paid project to the compensation library."""
        claim = self._get(pk)
        return self._detail(services.claim_to_compensation_library(user=request.user, claim=claim, on=_today()))

    @extend_schema(request=s.ClaimNoteSerializer, responses=_row_responses({200: s.ClaimDetailSerializer}, 400, 404, 409))
    @action(detail=True, methods=["post"])
    def upgrade(self, request, pk=None):
        """上调申请 (RP-16 8a): the loan was reclassified normal or special mention; apply, today,
        within 15 working days of the reclassification (a later application is marked late). On
        the pool reviewer's approval what is not yet returned goes back to the pool and the
        project to the loan library."""
        claim = self._get(pk)
        note = parsed(s.ClaimNoteSerializer, request).validated_data["note"]
        return self._detail(services.claim_upgrade_request(user=request.user, claim=claim, on=_today(), note=note))

    @extend_schema(request=s.SettlementRequestSerializer,
                   responses=_row_responses({200: s.ClaimDetailSerializer}, 400, 404, 409))
    @action(detail=True, methods=["post"], url_path="settlement-request", url_name="settlement-request")
    def settlement_request(self, request, pk=None):
        """清收申请 (RP-16 8b): disposal complete (``completed_on``, or the date recorded on the
        page); apply, today, within 15 working days of it (a later application is marked late).
        The pool reviewer checks it before the project moves to the settlement library."""
        claim = self._get(pk)
        data = parsed(s.SettlementRequestSerializer, request).validated_data
        return self._detail(services.claim_settlement_request(user=request.user, claim=claim, on=_today(),
                                                              completed_on=data["completed_on"], note=data["note"]))

    @extend_schema(request=s.RecoveryReportInputSerializer, responses=_row_responses({201: s.RecoveryReportSerializer}, 400, 404, 409))
    @action(detail=True, methods=["post"])
    def recoveries(self, request, pk=None):
        """清收 (RP-16 8b, RP-17): report a gross recovery; gross × ratio goes back to the pool,
        never more in total than was paid."""
        claim = self._get(pk)
        data = parsed(s.RecoveryReportInputSerializer, request).validated_data
        report = services.recovery_report(user=request.user, claim=claim, on=_today(), **data)
        return Response(s.RecoveryReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.NilRecoveryInputSerializer,
                   responses=_row_responses({201: s.NilRecoveryReportSerializer}, 400, 404, 409))
    @action(detail=True, methods=["post"], url_path="nil-recovery-report", url_name="nil-recovery-report")
    def nil_recovery_report(self, request, pk=None):
        """零清收报告 (RP-16 8b, 第十九条(六)): nothing was recovered on the claim in a closed quarter.
        A quarter without recoveries owes no report; this makes it explicit and clears the
        quarter from the quarterly close's missing reports. 409 when a recovery of that quarter
        is reported, or the quarter is already reported nil."""
        claim = self._get(pk)
        period = parsed(s.NilRecoveryInputSerializer, request).validated_data["period"]
        report = services.recovery_nil_report(user=request.user, claim=claim, period=period, on=_today())
        return Response(s.NilRecoveryReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ClaimNoteSerializer, responses=_row_responses({200: s.ClaimDetailSerializer}, 400, 404, 409))
    @action(detail=True, methods=["post"], url_path="closure-request", url_name="closure-request")
    def closure_request(self, request, pk=None):
        """核销结项 (RP-16 8c): after write-off or loss confirmation, apply to close."""
        claim = self._get(pk)
        note = parsed(s.ClaimNoteSerializer, request).validated_data["note"]
        return self._detail(services.claim_closure_request(user=request.user, claim=claim, on=_today(), note=note))
