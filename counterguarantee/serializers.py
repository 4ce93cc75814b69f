"""REST shapes of the counter-guarantee preview (documentation only: the input is parsed by
``rules.PlanInput.from_mapping``, which reports every bad field at once, each measure by its
position; the answer is ``rules.CheckResult.as_dict()``)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import StoredTextField
from core.api.workflow import ActionSerializer, actions_of
from counterguarantee import rules
from counterguarantee.workflows import PLAN


def _money(**kwargs):
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def _rate(**kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=6, **kwargs)


class GuaranteeFactsSerializer(serializers.Serializer):
    amount = _money(help_text=_("Guaranteed amount, yuan."))
    start = serializers.DateField()
    end = serializers.DateField()
    credit_grounds = serializers.ListField(child=serializers.ChoiceField(choices=list(rules.CREDIT_GROUNDS)),
                                           required=False, help_text=_("CG-1 grounds that apply to the borrower."))
    lowered_grounds = serializers.ListField(child=serializers.ChoiceField(choices=list(rules.LOWERED_GROUNDS)),
                                            required=False, help_text=_("CG-2 grounds that apply."))
    resolving_existing_risk = serializers.BooleanField(required=False, help_text=_("CG-8 plan flag."))
    resolving_reason = serializers.CharField(required=False, help_text=_("CG-8: the flag needs a reason."))


class MeasureFactsSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(rules.KINDS))
    asset_class = serializers.CharField(required=False, help_text=_("Not for a guarantee-kind measure."))
    value = _money(required=False, help_text=_("Appraised value; not for a guarantee-kind measure."))
    rate = _rate(required=False, help_text=_("Mortgage or pledge rate applied, a fraction."))
    valued_on = serializers.DateField(required=False)
    valuation_valid_until = serializers.DateField(required=False)
    valuation_source = serializers.ChoiceField(choices=list(rules.VALUATION_SOURCES), required=False)
    start = serializers.DateField()
    end = serializers.DateField()
    owners = serializers.ListField(child=serializers.CharField(), required=False)
    signatories = serializers.ListField(child=serializers.CharField(), required=False)
    organisation = serializers.BooleanField(required=False)
    resolution_on_file = serializers.BooleanField(required=False)
    contract_no = serializers.CharField(required=False)
    registry = serializers.ChoiceField(choices=list(rules.REGISTRIES), required=False)
    registration_number = serializers.CharField(required=False)
    registered_online = serializers.BooleanField(required=False)
    innovative = serializers.BooleanField(required=False, help_text=_("CG-8 measure flag."))
    innovative_reason = serializers.CharField(required=False)
    flexible_form = serializers.ChoiceField(choices=list(rules.FLEXIBLE_FORMS), required=False)
    liability = serializers.ChoiceField(choices=list(rules.LIABILITIES), required=False,
                                        help_text=_("CG-13, a guarantee only: joint (default) or general."))


class CheckRequestSerializer(serializers.Serializer):
    checked_on = serializers.DateField(required=False, help_text=_("Default: today (Asia/Shanghai)."))
    guarantee = GuaranteeFactsSerializer()
    measures = MeasureFactsSerializer(many=True)


class DetailSerializer(serializers.Serializer):
    measure = serializers.IntegerField(allow_null=True, help_text=_("Position of the measure, from 0."))
    field = serializers.CharField()
    outcome = serializers.ChoiceField(choices=list(rules.OUTCOMES))
    message = StoredTextField()


class RuleResultSerializer(serializers.Serializer):
    rule = serializers.ChoiceField(choices=list(rules.CHECKED_RULES))
    outcome = serializers.ChoiceField(choices=list(rules.OUTCOMES))
    message = StoredTextField()
    excess = _money(required=False, help_text=_("CG-7 only: discounted sum minus the guaranteed amount."))
    field = serializers.CharField(required=False)
    details = DetailSerializer(many=True)


class CheckResponseSerializer(serializers.Serializer):
    passed = serializers.BooleanField()
    checked_on = serializers.DateField()
    results = RuleResultSerializer(many=True)


# --- GET /api/counterguarantee/plans/ ----------------------------------------------------------


class MeasureSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text=_("From 0, as in the check's details."))
    kind = serializers.CharField()
    asset_class = serializers.CharField(source="asset_class.code", allow_null=True, default=None)
    owners = serializers.ListField(child=serializers.CharField())
    value = _money(allow_null=True)
    rate = _rate(allow_null=True)
    start = serializers.DateField()
    end = serializers.DateField()
    contract_no = serializers.CharField()
    registration_number = serializers.CharField()
    flexible_form = serializers.CharField()
    status = serializers.CharField()
    limitation_due_on = serializers.DateField(allow_null=True, help_text=_("CG-13: the date by which to act."))


class PlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    guarantee = serializers.IntegerField(source="guarantee_id")
    contract_no = serializers.CharField(source="guarantee.contract_no")
    firm = serializers.IntegerField(source="firm_id")
    status = serializers.CharField()
    credit_grounds = serializers.ListField(child=serializers.CharField())
    lowered_grounds = serializers.ListField(child=serializers.CharField())
    approved_on = serializers.DateField(allow_null=True)
    approval_passed = serializers.BooleanField(allow_null=True, help_text=_("The check at approval passed."))


class PlanDetailSerializer(PlanSerializer):
    adjustment_reason = serializers.CharField()
    resolving_existing_risk = serializers.BooleanField()
    resolving_reason = serializers.CharField()
    last_check = CheckResponseSerializer(allow_null=True, help_text=_("At approval, or the latest for a draft."))
    actions = serializers.SerializerMethodField(help_text=_("The steps you may take on the plan now (edit, approve, "
                                                            "release), as its workflow allows."))

    @extend_schema_field(ActionSerializer(many=True))
    def get_actions(self, plan) -> list[dict]:
        return actions_of(PLAN, self, plan)
    measures = MeasureSerializer(many=True, source="measures.all")
