"""REST shapes for guaranteed loans: they parse input for the services and render rows.

No policy here: the services (and the rules they call) decide. Money is yuan with 2 places and
ratios are fractions with 6 places, both as decimal strings; input is read through
``rules.money`` / ``rules.ratio``, so a JSON float counts by its shortest form (0.2, never
0.2000000000000000111). A risk-sharing split is passed on untouched, so every problem with it
is reported by ``rules.parse_split`` as GU-1 on the field ``shares``.
"""
from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import StoredTextField
from core.calendar import shanghai_today
from core.models import Organisation
from core.money import money, ratio
from guarantees import rules, selectors, services
from guarantees.models import (
    Agreement,
    Borrower,
    Compensation,
    FirmNetAssets,
    Guarantee,
    Recovery,
    RecoveryAction,
)

# --- field types ------------------------------------------------------------------------------


class MoneyField(serializers.DecimalField):
    """Yuan with 2 decimal places, as the models' MoneyField (max_digits 18)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return money(super().to_internal_value(data), field=self.field_name)


class RatioField(serializers.DecimalField):
    """A fraction with 6 decimal places (0.200000 is 20%), as the models' RatioField."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 6)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return ratio(super().to_internal_value(data), field=self.field_name)


_CHOICE_FIELDS: dict[str, type[serializers.ChoiceField]] = {}


def choice(choices, component: str, **kwargs) -> serializers.ChoiceField:
    """A ChoiceField documented as the named enum ``component`` of the OpenAPI schema.

    Naming every enum here keeps the schema's names stable (and free of collisions) when other
    apps add fields also called ``kind``, ``status`` or ``source``.
    """
    field_class = _CHOICE_FIELDS.get(component)
    if field_class is None:
        values = list(choices.values)
        if kwargs.get("allow_blank"):
            values.insert(0, "")
        schema = {"type": "string", "enum": values}
        field_class = extend_schema_field(schema, component_name=component)(
            type(f"{component}Field", (serializers.ChoiceField,), {"__doc__": f"One of {component}."})
        )
        _CHOICE_FIELDS[component] = field_class
    return field_class(choices=choices.choices, **kwargs)


class SharesSerializer(serializers.Serializer):
    """A risk-sharing split (GU-1): each party's share as a fraction; together exactly 1."""

    bank = RatioField(help_text=_("Bank share, at least 0.20 (GU-2)."))
    guarantee_firm = RatioField(help_text=_("Guarantee firm share."))
    reguarantee = RatioField(help_text=_("Provincial re-guarantee share, not below the national fund's (GU-2)."))
    national_fund = RatioField(help_text=_("National fund share, at least 0.20 where it takes part (GU-2)."))
    government = RatioField(required=False, default=Decimal("0"), help_text=_("County/city government fund share; may be omitted (0)."))


@extend_schema_field(SharesSerializer)
class SplitInputField(serializers.JSONField):
    """The split as sent; ``rules.parse_split`` checks it (GU-1) in the service or view."""


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^\d{1,16}(\.\d{1,2})?$", "example": "1000000.01"})
class AmountInputField(serializers.JSONField):
    """An amount in yuan as sent; the rule that uses it parses it and names itself in errors."""


class PartsSerializer(serializers.Serializer):
    """An amount split among the parties (GU-3, GU-13): the parts add up exactly to the whole."""

    bank = MoneyField()
    guarantee_firm = MoneyField()
    reguarantee = MoneyField()
    national_fund = MoneyField()
    government = MoneyField()


class ProblemSerializer(serializers.Serializer):
    """A stored policy breach (GU-2 on an agreement, GU-5 on a guarantee)."""

    rule = serializers.CharField()
    field = serializers.CharField(allow_null=True)
    message = StoredTextField()


class ErrorItemSerializer(serializers.Serializer):
    rule = serializers.CharField(allow_null=True, help_text=_("The rule id (GU-1 …), or null for a plain input error."))
    field = serializers.CharField(allow_null=True, help_text=_("The input field, as a dotted path."))
    message = serializers.CharField()
    row = serializers.IntegerField(required=False, help_text=_("Bulk requests only: the item's position, from 1."))


class ErrorSerializer(serializers.Serializer):
    """Every API error: ``{"errors": [{"rule", "field", "message"}]}``."""

    errors = ErrorItemSerializer(many=True)


# --- allocation preview -----------------------------------------------------------------------


class AllocateSerializer(serializers.Serializer):
    base = AmountInputField(help_text=_("The loss base in yuan, as a decimal string."))
    shares = SplitInputField()


class ViolationSerializer(serializers.Serializer):
    rule = serializers.CharField()
    message = serializers.CharField()


class AllocateResponseSerializer(serializers.Serializer):
    parts = PartsSerializer()
    compliant = serializers.BooleanField(help_text=_("Whether the split meets the minimum shares of GU-2."))
    violations = ViolationSerializer(many=True)


# --- agreements -------------------------------------------------------------------------------


class AgreementSerializer(serializers.ModelSerializer):
    firm_name = serializers.CharField(source="firm.name", read_only=True)
    bank_name = serializers.CharField(source="bank.name", read_only=True)
    batch_mode = choice(Agreement.BatchMode, "AgreementBatchModeEnum", read_only=True)
    shares = SharesSerializer(read_only=True)
    problems = ProblemSerializer(many=True, read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id", "firm", "firm_name", "bank", "bank_name", "code", "signed_on", "expires_on", "grace_days",
            "deposit_ratio", "batch_mode", "shares", "loss_base_includes_interest", "compliant", "problems",
            "created_at",
        ]
        read_only_fields = fields


class AgreementCreateSerializer(serializers.Serializer):
    """The firm is the requesting user's organisation, never a field of the request."""

    bank = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())
    code = serializers.CharField(max_length=60)
    signed_on = serializers.DateField()
    expires_on = serializers.DateField()
    grace_days = serializers.IntegerField(min_value=0, max_value=rules.MAX_GRACE_DAYS,
                                          help_text=_("Grace period for compensation, in calendar days (GU-4)."))
    deposit_ratio = RatioField(min_value=Decimal("0"), max_value=Decimal("1"), default=Decimal("0"))
    batch_mode = choice(Agreement.BatchMode, "AgreementBatchModeEnum", default=Agreement.BatchMode.NONE)
    shares = SplitInputField()
    loss_base_includes_interest = serializers.BooleanField(default=False)


class AgreementUpdateSerializer(AgreementCreateSerializer):
    """The terms that may change; the partner bank and the number may not. Always read with
    ``partial=True``: a term left out keeps its value, no default replaces it."""

    bank = None
    code = None


# --- borrowers and guarantees -----------------------------------------------------------------


class BorrowerSerializer(serializers.ModelSerializer):
    id_kind = choice(Borrower.IdKind, "BorrowerIdKindEnum", read_only=True)
    kind = choice(Borrower.Kind, "BorrowerKindEnum", read_only=True)
    size = choice(Borrower.Size, "BorrowerSizeEnum", allow_blank=True, read_only=True,
                  help_text=_("Entered size, else derived (GU-11); blank when neither is known."))
    size_entered = choice(Borrower.Size, "BorrowerSizeEnum", allow_blank=True, read_only=True)
    size_derived = choice(Borrower.Size, "BorrowerSizeEnum", allow_blank=True, read_only=True)

    class Meta:
        model = Borrower
        fields = [
            "id", "name", "id_kind", "id_number", "kind", "industry", "employees", "revenue", "total_assets",
            "size", "size_entered", "size_evidence", "size_derived", "is_agricultural", "is_strategic_emerging",
            "is_government_platform",
        ]
        read_only_fields = fields


class BorrowerInputSerializer(serializers.Serializer):
    """A borrower as sent with a guarantee; found again by identifier, or created (services.BorrowerData)."""

    name = serializers.CharField(max_length=200)
    id_kind = choice(Borrower.IdKind, "BorrowerIdKindEnum")
    id_number = serializers.CharField(max_length=18)
    kind = choice(Borrower.Kind, "BorrowerKindEnum")
    industry = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="",
        help_text=_("Industry code used to derive the enterprise size (GU-11), e.g. industry, retail, software_it."),
    )
    employees = serializers.IntegerField(required=False, allow_null=True, default=None)
    revenue = MoneyField(required=False, allow_null=True, default=None)
    total_assets = MoneyField(required=False, allow_null=True, default=None)
    size_entered = choice(Borrower.Size, "BorrowerSizeEnum", required=False, allow_blank=True, default="")
    size_evidence = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    is_agricultural = serializers.BooleanField(default=False)
    is_strategic_emerging = serializers.BooleanField(default=False)
    is_government_platform = serializers.BooleanField(default=False)


@extend_schema_field(OpenApiTypes.INT)
class VisibleAgreementField(serializers.PrimaryKeyRelatedField):
    """An agreement id, looked up among the agreements the requesting user may see."""

    def get_queryset(self):
        return selectors.agreement_list(user=self.context["request"].user)


class GuaranteeCreateSerializer(serializers.Serializer):
    agreement = VisibleAgreementField(help_text=_("Id of one of your bank-guarantee agreements."))
    borrower = BorrowerInputSerializer()
    contract_no = serializers.CharField(max_length=60)
    loan_principal = MoneyField()
    amount = MoneyField(help_text=_("Guaranteed amount in yuan."))
    currency = serializers.CharField(max_length=3, default="CNY")
    loan_start = serializers.DateField()
    loan_maturity = serializers.DateField()
    start = serializers.DateField()
    end = serializers.DateField()
    fee_rate = RatioField(help_text=_("Annualised guarantee fee rate as a fraction (0.008 for 0.8%)."))
    other_fees = MoneyField(default=Decimal("0"), help_text=_("Any other fee charged to the borrower, in yuan (GU-5)."))
    bank_fees = MoneyField(default=Decimal("0"), help_text=_(
        "Any fee the lending bank charged besides interest, in yuan (GU-5)."))
    purpose = choice(Guarantee.Purpose, "GuaranteePurposeEnum", default=Guarantee.Purpose.OPERATIONS)
    reguaranteed = serializers.BooleanField(default=False)
    national_fund_scope = serializers.BooleanField(default=False)
    recommended_by_bank = serializers.BooleanField(default=False)
    product = serializers.PrimaryKeyRelatedField(
        queryset=Guarantee.product.field.related_model.objects.filter(pool__scheme="M"), required=False,
        allow_null=True, default=None,
        help_text=_("Id of the Scheme M policy loan product the loan belongs to, if any (RP-M3)."),
    )

    def service_arguments(self) -> tuple[Agreement, services.BorrowerData, services.GuaranteeData]:
        data = dict(self.validated_data)
        agreement = data.pop("agreement")
        borrower = services.BorrowerData(**data.pop("borrower"))
        return agreement, borrower, services.GuaranteeData(**data)


class GuaranteeSerializer(serializers.ModelSerializer):
    firm_name = serializers.CharField(source="firm.name", read_only=True)
    bank_name = serializers.CharField(source="bank.name", read_only=True)
    agreement_code = serializers.CharField(source="agreement.code", read_only=True)
    status = choice(Guarantee.Status, "GuaranteeStatusEnum", read_only=True)
    purpose = choice(Guarantee.Purpose, "GuaranteePurposeEnum", read_only=True)
    borrower = BorrowerSerializer(read_only=True)
    problems = ProblemSerializer(many=True, read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True, default=None)

    class Meta:
        model = Guarantee
        fields = [
            "id", "contract_no", "status", "firm", "firm_name", "bank", "bank_name", "agreement", "agreement_code",
            "borrower", "loan_principal", "amount", "currency", "loan_start", "loan_maturity", "start", "end",
            "fee_rate", "other_fees", "bank_fees", "purpose", "reguaranteed", "national_fund_scope",
            "recommended_by_bank", "product", "product_name", "small_micro_or_agri", "single_borrower_amount",
            "fee_compliant", "bank_fee_violation", "problems", "closed_on",
            "created_at", "updated_at",
        ]
        read_only_fields = fields


class ReleaseSerializer(serializers.Serializer):
    released_on = serializers.DateField()


class DefaultSerializer(serializers.Serializer):
    default_on = serializers.DateField()
    principal = MoneyField(help_text=_("Unpaid principal, the loss base (GU-3)."))
    interest = MoneyField(default=Decimal("0"), help_text=_("Unpaid interest; in the base where the agreement says so."))
    penalty_interest = MoneyField(default=Decimal("0"), help_text=_("Penalty interest, kept apart, never in the base."))


# --- compensations, recovery, write-off -------------------------------------------------------


class RecoveryActionSerializer(serializers.ModelSerializer):
    kind = choice(RecoveryAction.Kind, "RecoveryActionKindEnum", read_only=True)

    class Meta:
        model = RecoveryAction
        fields = ["id", "on", "kind", "note"]
        read_only_fields = fields


class RecoverySerializer(serializers.ModelSerializer):
    source = choice(Recovery.Source, "RecoverySourceEnum", read_only=True)
    parts = serializers.SerializerMethodField()

    class Meta:
        model = Recovery
        fields = [
            "id", "received_on", "source", "gross", "cost_litigation", "cost_arbitration", "cost_enforcement", "net",
            "after_write_off", "parts", "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(PartsSerializer)
    def get_parts(self, recovery: Recovery) -> dict:
        """GU-13: the net shared back by the split."""
        return PartsSerializer({
            "bank": recovery.part_bank, "guarantee_firm": recovery.part_firm, "reguarantee": recovery.part_reguarantee,
            "national_fund": recovery.part_national_fund, "government": recovery.part_government,
        }).data


class CompensationSerializer(serializers.ModelSerializer):
    contract_no = serializers.CharField(source="guarantee.contract_no", read_only=True)
    status = choice(Guarantee.Status, "GuaranteeStatusEnum", source="guarantee.status", read_only=True)
    firm = serializers.IntegerField(source="guarantee.firm_id", read_only=True)
    firm_name = serializers.CharField(source="guarantee.firm.name", read_only=True)
    bank = serializers.IntegerField(source="guarantee.bank_id", read_only=True)
    bank_name = serializers.CharField(source="guarantee.bank.name", read_only=True)
    borrower_name = serializers.CharField(source="guarantee.borrower.name", read_only=True)
    shares = SharesSerializer(read_only=True)
    parts = PartsSerializer(read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Compensation
        fields = [
            "id", "guarantee", "contract_no", "status", "firm", "firm_name", "bank", "bank_name", "borrower_name",
            "default_on", "due_on", "overdue", "principal", "interest", "penalty_interest", "base", "shares", "parts",
            "paid_on", "paid_amount", "written_off_on", "written_off_amount", "created_at",
        ]
        read_only_fields = fields

    def get_overdue(self, compensation: Compensation) -> bool:
        """GU-4: unpaid after the due date, judged on today's Asia/Shanghai date."""
        if "today" not in self.context:
            self.context["today"] = shanghai_today()
        return rules.is_compensation_overdue(compensation.due_on, compensation.paid_on, self.context["today"])


class CompensationDetailSerializer(CompensationSerializer):
    recoveries = RecoverySerializer(many=True, read_only=True)
    actions = RecoveryActionSerializer(many=True, read_only=True)

    class Meta(CompensationSerializer.Meta):
        fields = [*CompensationSerializer.Meta.fields, "actions", "recoveries"]
        read_only_fields = fields


class PaySerializer(serializers.Serializer):
    paid_on = serializers.DateField()


class RecoveryActionInputSerializer(serializers.Serializer):
    on = serializers.DateField()
    kind = choice(RecoveryAction.Kind, "RecoveryActionKindEnum")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RecoveryInputSerializer(serializers.Serializer):
    received_on = serializers.DateField()
    gross = MoneyField()
    source = choice(Recovery.Source, "RecoverySourceEnum")
    cost_litigation = MoneyField(default=Decimal("0"))
    cost_arbitration = MoneyField(default=Decimal("0"))
    cost_enforcement = MoneyField(default=Decimal("0"))


class WriteOffSerializer(serializers.Serializer):
    on = serializers.DateField()


# --- firm figures -----------------------------------------------------------------------------


class NetAssetsInputSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    net_assets = MoneyField()


class NetAssetsSerializer(serializers.ModelSerializer):
    class Meta:
        model = FirmNetAssets
        fields = ["id", "firm", "as_of", "net_assets"]
        read_only_fields = fields
