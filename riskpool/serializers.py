"""REST shapes of the risk-pool APIs (issue 3): the Scheme S quote and the RP-20 bank
evaluation preview, and the bank systems' loan projects, claims and their steps.

No policy and no second validation here. The quote's input is parsed by
``rules.QuoteInput.from_mapping``, which reports every bad field at once, so its request
serializer only documents the shape for the OpenAPI schema. The evaluation preview checks its
envelope (``year``, a list of ``banks``) here and leaves each bank's figures to
``rules.BankYear.from_mapping``. The answers are the rules' ``as_dict()``; the response
serializers document them.
"""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import StoredTextField
from core.api.workflow import ActionSerializer, actions_of
from guarantees import serializers as gs
from guarantees.services import BorrowerData
from riskpool import rules
from riskpool.models import (
    Claim,
    ClaimDocument,
    ClaimStep,
    Classification,
    LoanProject,
    NilRecoveryReport,
    Product,
    RecoveryReport,
)
from riskpool.services import ProjectData
from riskpool.workflows import CLAIM

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
    message = StoredTextField()


class QuoteResponseSerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    ratio = _ratio(help_text=_("Compensation ratio; 0.000000 when not eligible."))
    amount = _money(help_text=_("Compensation in yuan; 0.00 when not eligible."))
    claim_deadline = serializers.DateField(help_text=_("Last day to submit the claim (RP-14)."))
    entry_deadline = serializers.DateField(help_text=_("Last day to enter the loan (RP-6)."))
    entry_deadline_provisional = serializers.BooleanField(help_text=_(
        "True while the entry deadline falls in a year whose holiday notice is not entered yet (JB-1)."))
    entry_deadline_latest = serializers.DateField(help_text=_(
        "The latest the entry deadline can turn out to be; the entry is refused only after it (JB-1)."))
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


# --- loan projects, claims and their steps (bank systems, issue 3) ----------------------------
# Input is only parsed here; every rule (RP-3 … RP-22) is checked by riskpool.services. The bank
# is always the requesting user's organisation, never a field; the pool is looked up among the
# pools the user's bank is a member of (riskpool.api). Money and ratios are decimal strings.

LP = LoanProject


class LoanProjectInputSerializer(serializers.Serializer):
    """One loan as the bank's system sends it (services.ProjectData). The entry date is the day of
    the request (RP-6), so it is not a field."""

    borrower = gs.BorrowerInputSerializer()
    loan_no = serializers.CharField(max_length=60, help_text=_("Loan note number (借据号), unique per bank."))
    loan_kind = enum(LP.LoanKind.values, "RiskpoolLoanKindEnum", help_text=_("RP-3 loan kind."))
    principal = gs.MoneyField(help_text=_("Principal in the loan's currency."))
    currency = serializers.CharField(min_length=3, max_length=3, default="CNY",
                                     help_text=_("ISO code; converted at the disbursement date's rate (RP-5)."))
    disbursed_on = serializers.DateField(help_text=_("Date on the loan note (借据日期)."))
    maturity_on = serializers.DateField()
    annual_rate = gs.RatioField(help_text=_("Annual interest rate as a fraction (0.042 for 4.2%)."))
    other_balance = gs.MoneyField(
        help_text=_("RP-4: the borrower's other working-capital balance at disbursement, in yuan, excluding this loan.")
    )
    guarantee_method = serializers.CharField(max_length=20, default="credit")
    features = serializers.ListField(child=enum(rules.FEATURE_LABELS, "RiskpoolFeatureEnum"), default=list,
                                     help_text=_("RP-10 loan features."))
    purpose = enum(LP.Purpose.values, "RiskpoolPurposeEnum", default=LP.Purpose.OPERATIONS)
    covered_by_other_scheme = serializers.BooleanField(
        default=False, help_text=_("Insured, guaranteed, re-guaranteed or under another compensation policy (RP-7).")
    )
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.filter(pool__scheme="M"), required=False, allow_null=True, default=None,
        help_text=_("Id of the Scheme M policy loan product the loan belongs to, if any (RP-M3)."),
    )

    def service_arguments(self) -> tuple[BorrowerData, ProjectData]:
        data = dict(self.validated_data)
        data.pop("pool", None)
        borrower = BorrowerData(**data.pop("borrower"))
        data["currency"] = data["currency"].upper()
        return borrower, ProjectData(**data)


class LoanProjectCreateSerializer(LoanProjectInputSerializer):
    pool = serializers.IntegerField(help_text=_("Id of a Scheme S pool your bank is a member of."))


@extend_schema_field(LoanProjectInputSerializer)
class LoanProjectItemField(serializers.JSONField):
    """One loan as sent; parsed row by row so every row's errors carry its number."""


class LoanProjectBulkSerializer(serializers.Serializer):
    pool = serializers.IntegerField(help_text=_("Id of a Scheme S pool your bank is a member of."))
    projects = serializers.ListField(child=LoanProjectItemField(), min_length=1, max_length=1000,
                                     help_text=_("All saved or none; errors carry the item's position as row (from 1)."))


class ClassificationSerializer(serializers.ModelSerializer):
    old = enum(LP.Classification.values, "RiskpoolClassificationEnum", read_only=True)
    new = enum(LP.Classification.values, "RiskpoolClassificationEnum", read_only=True)

    class Meta:
        model = Classification
        fields = ["id", "on", "old", "new", "recorded_at"]
        read_only_fields = fields


class LoanProjectSerializer(serializers.ModelSerializer):
    pool_name = serializers.CharField(source="pool.name", read_only=True)
    bank_name = serializers.CharField(source="bank.name", read_only=True)
    borrower = gs.BorrowerSerializer(read_only=True)
    loan_kind = enum(LP.LoanKind.values, "RiskpoolLoanKindEnum", read_only=True)
    purpose = enum(LP.Purpose.values, "RiskpoolPurposeEnum", read_only=True)
    library = enum(LP.Library.values, "RiskpoolLibraryEnum", read_only=True)
    classification = enum(LP.Classification.values, "RiskpoolClassificationEnum", read_only=True)
    closed_reason = enum(["", *LP.ClosedReason.values], "RiskpoolClosedReasonEnum", allow_blank=True, read_only=True)
    features = serializers.ListField(child=enum(rules.FEATURE_LABELS, "RiskpoolFeatureEnum"), read_only=True)

    class Meta:
        model = LoanProject
        fields = [
            "id", "pool", "pool_name", "bank", "bank_name", "borrower", "loan_no", "loan_kind", "principal", "currency",
            "principal_yuan", "fx_kind", "disbursed_on", "maturity_on", "annual_rate", "guarantee_method",
            "other_balance", "features", "purpose", "covered_by_other_scheme", "product", "entered_on", "library",
            "classification", "classified_on", "npl_before_entry", "closed_on", "closed_reason", "created_at",
        ]
        read_only_fields = fields


class LoanProjectDetailSerializer(LoanProjectSerializer):
    classifications = ClassificationSerializer(many=True, read_only=True, help_text=_("Newest first."))

    class Meta(LoanProjectSerializer.Meta):
        fields = [*LoanProjectSerializer.Meta.fields, "classifications"]
        read_only_fields = fields


class ClassifySerializer(serializers.Serializer):
    new = enum(LP.Classification.values, "RiskpoolClassificationEnum", help_text=_("The five-category class (五级分类)."))
    on = serializers.DateField(help_text=_("Date of the classification; an NPL date starts RP-14's 3 months."))


class ClaimCreateSerializer(serializers.Serializer):
    """The claim is submitted today (RP-14 counts from the NPL date to today)."""

    project = serializers.IntegerField(help_text=_("Id of one of your non-performing loan projects."))
    outstanding_principal = gs.MoneyField(help_text=_("Outstanding principal at the NPL date (RP-13)."))
    credit_report_on = serializers.DateField(help_text=_("Date of the borrower's credit report (RP-4)."))
    # RP-14 (第十九条(二)): required, but checked by the service so the refusal lists every missing
    # attachment by name, as the web form's does.
    credit_report = serializers.FileField(required=False, help_text=_(
        "The borrower's credit report (RP-4, RP-14): PDF, JPEG or PNG, at most 10 MB. Required."))
    loan_file = serializers.FileField(required=False, help_text=_(
        "The loan file (RP-14): loan contract, loan note, classification evidence; PDF, JPEG or PNG, at most "
        "10 MB. Required."))

    def documents(self) -> list:
        """(kind, file) pairs for ``claim_submit``."""
        return [(kind, self.validated_data[kind]) for kind in ("credit_report", "loan_file")
                if self.validated_data.get(kind)]


class ClaimStepSerializer(serializers.ModelSerializer):
    old = serializers.CharField(read_only=True, help_text=_("The state before; blank for the first step."))
    new = enum(rules.CLAIM_STATES, "RiskpoolClaimStateEnum", read_only=True)
    note = StoredTextField(read_only=True)

    class Meta:
        model = ClaimStep
        fields = ["id", "old", "new", "on", "at", "note"]
        read_only_fields = fields


class ClaimDocumentSerializer(serializers.ModelSerializer):
    kind = enum(ClaimDocument.Kind.values, "RiskpoolDocumentKindEnum", read_only=True)
    name = serializers.SerializerMethodField()

    url = serializers.SerializerMethodField(help_text=_("Where to download it (the claim's scope applies)."))

    class Meta:
        model = ClaimDocument
        fields = ["id", "kind", "name", "content_type", "size", "uploaded_at", "url"]
        read_only_fields = fields

    def get_name(self, document: ClaimDocument) -> str:
        return document.file.name.rsplit("/", 1)[-1]

    def get_url(self, document: ClaimDocument) -> str:
        return reverse("riskpool-api:claim-document", args=[document.claim_id, document.pk])


class RecoveryReportSerializer(serializers.ModelSerializer):
    method = enum(RecoveryReport.Method.values, "RiskpoolRecoveryMethodEnum", read_only=True)

    class Meta:
        model = RecoveryReport
        fields = ["id", "claim", "received_on", "gross", "method", "return_amount", "report_due_on", "returned_on",
                  "created_at"]
        read_only_fields = fields


class NilRecoveryInputSerializer(serializers.Serializer):
    period = serializers.CharField(max_length=6, help_text=_(
        "A closed quarter (\"2025Q1\") in which nothing was recovered on the claim (RP-16 8b, 第十九条(六))."))


class NilRecoveryReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = NilRecoveryReport
        fields = ["id", "claim", "period", "filed_on", "created_at"]
        read_only_fields = fields


class ClaimSerializer(serializers.ModelSerializer):
    project_loan_no = serializers.CharField(source="project.loan_no", read_only=True)
    pool = serializers.IntegerField(source="project.pool_id", read_only=True)
    bank = serializers.IntegerField(source="project.bank_id", read_only=True)
    bank_name = serializers.CharField(source="project.bank.name", read_only=True)
    borrower_name = serializers.CharField(source="project.borrower.name", read_only=True)
    state = enum(rules.CLAIM_STATES, "RiskpoolClaimStateEnum", read_only=True)

    class Meta:
        model = Claim
        fields = [
            "id", "project", "project_loan_no", "pool", "bank", "bank_name", "borrower_name", "state", "submitted_on",
            "npl_on", "outstanding_principal", "credit_report_on", "ratio", "amount", "held_reason", "re_review_used",
            "next_due_on", "next_due_provisional", "notice_start", "notice_end", "paid_on", "paid_amount",
            "returned_amount", "reclassified_on", "disposal_completed_on", "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"next_due_on": {"help_text": _("Deadline of the step due next (RP-16); null when none.")}}

    held_reason = StoredTextField(read_only=True)


class ClaimDetailSerializer(ClaimSerializer):
    decision_note = StoredTextField(read_only=True)
    reasons = ReasonSerializer(many=True, read_only=True, help_text=_("Each rule's result at submission (RP-3 … RP-14)."))
    steps = ClaimStepSerializer(many=True, read_only=True)
    documents = ClaimDocumentSerializer(many=True, read_only=True)
    recoveries = RecoveryReportSerializer(many=True, read_only=True)
    actions = serializers.SerializerMethodField(help_text=_("The steps you may take on the claim now, as its RP-16 "
                                                            "workflow allows, each with its deadline."))

    class Meta(ClaimSerializer.Meta):
        fields = [*ClaimSerializer.Meta.fields, "decision_note", "reasons", "steps", "documents", "recoveries",
                  "actions"]
        read_only_fields = fields

    @extend_schema_field(ActionSerializer(many=True))
    def get_actions(self, claim) -> list[dict]:
        return actions_of(CLAIM, self, claim)


class ClaimDocumentUploadSerializer(serializers.Serializer):
    """multipart/form-data; the file's type is judged by its content (PDF, JPEG or PNG, ≤ 10 MB)."""

    kind = enum(ClaimDocument.Kind.values, "RiskpoolDocumentKindEnum")
    file = serializers.FileField()


class ClaimNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class SettlementRequestSerializer(ClaimNoteSerializer):
    completed_on = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text=_("The day the disposal was complete (RP-16 8b); the settlement application is due within 15 "
                    "working days of it."),
    )


class IdempotencySerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(
        required=False, allow_null=True, default=None, max_length=100,
        help_text=_("Send the same key again to repeat a request safely: the money moves once (RP-1)."),
    )


class RecoveryReportInputSerializer(IdempotencySerializer):
    received_on = serializers.DateField()
    gross = gs.MoneyField(help_text=_("Gross recovery in yuan; gross × ratio goes back to the pool (RP-17)."))
    method = enum(RecoveryReport.Method.values, "RiskpoolRecoveryMethodEnum")
