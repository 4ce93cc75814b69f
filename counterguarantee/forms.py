"""Browser forms of counterguarantee: they parse and convert input; every policy check is
``rules.check_plan`` (through the services), shown next to the field it is about."""
from __future__ import annotations

import re
from datetime import date

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.errors import Problem
from core.money import yuan
from core.views_helpers import add_problems, problem_message
from counterguarantee import rules
from counterguarantee.models import AbnormalEvent, AssetClass, Inspection
from counterguarantee.services import MeasureData, PlanData

_NAME_SPLIT = re.compile(r"[、,，;；\n]+")


def _date(label, **kwargs):
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs)


def _blank(choices, label="—"):
    return [("", label)] + [(k, v) for k, v in choices]


class NamesField(forms.CharField):
    """Names separated by 、 , ; or new lines, as a list."""

    def to_python(self, value):
        text = super().to_python(value)
        return [n.strip() for n in _NAME_SPLIT.split(text or "") if n.strip()]

    def prepare_value(self, value):
        return "、".join(value) if isinstance(value, (list, tuple)) else value


class PlanForm(forms.Form):
    """The plan: grounds about the borrower (CG-1, CG-2), the CG-3 adjustment, the CG-8 plan flag."""

    credit_grounds = forms.MultipleChoiceField(label=_("Credit-guarantee grounds that apply (CG-1)"), required=False,
                                               widget=forms.CheckboxSelectMultiple, choices=())
    lowered_grounds = forms.MultipleChoiceField(label=_("Lower-threshold grounds that apply (CG-2)"), required=False,
                                                widget=forms.CheckboxSelectMultiple,
                                                choices=[(c, format_lazy("{} {}", c, label))  # lazy: the reader's language
                                                         for c, label in rules.LOWERED_GROUNDS.items()])
    adjustment_reason = forms.CharField(label=_("Adjustment and its reason (CG-3)"), required=False,
                                        widget=forms.Textarea(attrs={"rows": 2}),
                                        help_text=_("Regional credit environment, operations, finances, the "
                                                    "controller's credit and reputation (第七条)."))
    resolving_existing_risk = forms.BooleanField(label=_("The plan resolves existing risk (CG-8, 化解存量风险)"),
                                                 required=False)
    resolving_reason = forms.CharField(label=_("Reason for resolving existing risk"), required=False,
                                       widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, params: rules.Params, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credit_grounds"].choices = [
            (c, f"{c} " + (str(label) % {"cap": yuan(params.agri_amount_cap)} if c == rules.AGRI_AMOUNT_GROUND
                           else str(label)))
            for c, label in rules.CREDIT_GROUNDS.items()
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("resolving_existing_risk") and not cleaned.get("resolving_reason"):
            self.add_error("resolving_reason", _("CG-8: the flag needs a reason."))
        return cleaned

    def plan_data(self) -> PlanData:
        return PlanData(**{k: self.cleaned_data[k] for k in PlanData.__dataclass_fields__})


class MeasureForm(forms.Form):
    """One measure (CG-4 … CG-12). Fields of a mortgage or pledge only are marked for the page's
    script, which hides them for a guarantee."""

    COLLATERAL_ONLY = ("asset_class", "value", "valuation_source", "appraiser", "valued_on", "valuation_valid_until",
                       "rate", "registry", "registration_number", "registered_online", "innovative",
                       "innovative_reason", "flexible_form")

    kind = forms.ChoiceField(label=_("Kind"), choices=[(k, v) for k, v in rules.KIND_LABELS.items()])
    asset_class = forms.ChoiceField(label=_("Asset class"), required=False, choices=())
    owners = NamesField(label=_("Owners or guarantors"), required=False,
                        help_text=_("Every co-owner, separated by 、"))
    organisation = forms.BooleanField(label=_("The counter-guarantor is an organisation"), required=False)
    resolution_on_file = forms.BooleanField(label=_("Board or shareholder resolution on file"), required=False)
    value = forms.DecimalField(label=_("Appraised value (yuan)"), required=False, max_digits=18, decimal_places=2,
                               min_value=0)
    valuation_source = forms.ChoiceField(label=_("Valuation source"), required=False,
                                         choices=_blank(rules.VALUATION_SOURCES.items()))
    appraiser = forms.CharField(label=_("Appraiser"), required=False, max_length=200)
    valued_on = _date(_("Valued on"), required=False)
    valuation_valid_until = _date(_("Valuation valid until"), required=False)
    rate = forms.DecimalField(label=_("Rate applied (0.7 = 70%)"), required=False, max_digits=7, decimal_places=6,
                              min_value=0, max_value=1)
    start = _date(_("Start"))
    end = _date(_("End"))
    contract_no = forms.CharField(label=_("Contract number"), required=False, max_length=60)
    signatories = NamesField(label=_("Signed by"), required=False)
    registry = forms.ChoiceField(label=_("Registered with"), required=False, choices=_blank(rules.REGISTRIES.items()))
    registration_number = forms.CharField(label=_("Registration certificate number"), required=False, max_length=100)
    registered_online = forms.BooleanField(label=_("Registered online"), required=False)
    innovative = forms.BooleanField(label=_("Innovative collateral banks do not accept (CG-8)"), required=False)
    innovative_reason = forms.CharField(label=_("Reason"), required=False, max_length=500)
    flexible_form = forms.ChoiceField(label=_("Flexible form (CG-12)"), required=False,
                                      choices=_blank(rules.FLEXIBLE_FORMS.items(), _("none")))
    liability = forms.ChoiceField(
        label=_("Guarantor's liability (CG-13)"), required=False, initial=rules.JOINT,
        choices=list(rules.LIABILITIES.items()),
        help_text=_("As the guarantee contract states it. A general guarantee keeps its rights only by a suit or "
                    "arbitration within the guarantee period; a written demand suffices only for joint liability."))

    def __init__(self, *args, classes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asset_class"].choices = [("", "—")] + [(c.code, c.name) for c in classes]
        for name in self.COLLATERAL_ONLY:
            self.fields[name].widget.attrs["data-collateral-only"] = "1"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") in rules.COLLATERAL_KINDS and not cleaned.get("asset_class"):
            self.add_error("asset_class", problem_message(Problem("CG-4", _("A mortgage or pledge needs an asset class."))))
        if cleaned.get("kind") in rules.COLLATERAL_KINDS and cleaned.get("value") is not None \
                and not cleaned.get("valuation_source"):
            self.add_error("valuation_source", problem_message(Problem("CG-5", _("Say where the value comes from."))))
        if cleaned.get("innovative") and not cleaned.get("innovative_reason"):
            self.add_error("innovative_reason", _("CG-8: the flag needs a reason."))
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The measure ends before it starts."))
        return cleaned

    def measure_data(self) -> MeasureData:
        data = {k: v for k, v in self.cleaned_data.items() if k in MeasureData.__dataclass_fields__}
        for key in ("valued_on", "valuation_valid_until", "value", "rate"):
            data[key] = data.get(key)
        for key in ("valuation_source", "appraiser", "asset_class", "registry", "registration_number", "contract_no",
                    "innovative_reason", "flexible_form"):
            data[key] = data.get(key) or ""
        data["liability"] = data.get("liability") or rules.JOINT
        return MeasureData(**data)


class BaseMeasureFormSet(forms.BaseFormSet):
    def __init__(self, *args, classes=(), **kwargs):
        self.classes = list(classes)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"classes": self.classes}

    @property
    def empty_form(self):
        form = self.form(auto_id=self.auto_id, prefix=self.add_prefix("__prefix__"), empty_permitted=True,
                         use_required_attribute=False, classes=self.classes, renderer=self.renderer)
        self.add_fields(form, None)
        return form

    def live_forms(self) -> list[MeasureForm]:
        return [f for f in self.forms if not (self.can_delete and self._should_delete_form(f))]

    def measures(self) -> list[MeasureData]:
        return [f.measure_data() for f in self.live_forms() if f.cleaned_data.get("start")]


MeasureFormSet = forms.formset_factory(MeasureForm, formset=BaseMeasureFormSet, extra=0, can_delete=True)


def measure_initial(m: MeasureData) -> dict:
    return {k: getattr(m, k) for k in MeasureData.__dataclass_fields__}


class ApproveForm(forms.Form):
    approval_note = forms.CharField(label=_("Why approve despite the failing rules"), required=False,
                                    widget=forms.Textarea(attrs={"rows": 3}),
                                    help_text=_("Only needed when a rule fails; the authority sees these plans."))


class InspectionForm(forms.Form):
    on = _date(_("Inspected on"), initial=date.today)
    finding = forms.ChoiceField(label=_("Finding"), choices=Inspection.Finding.choices)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AbnormalEventForm(forms.Form):
    on = _date(_("Noticed on"))
    kind = forms.ChoiceField(label=_("Event"), choices=AbnormalEvent._meta.get_field("kind").choices)
    note = forms.CharField(label=_("What happened"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    response = forms.CharField(label=_("Risk measures taken"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ContractForm(forms.Form):
    """CG-10, CG-11: the contract of a measure; ``owners`` are the measure's, every one must sign."""

    contract_no = forms.CharField(label=_("Contract number"), max_length=60)
    signatories = NamesField(label=_("Signed by"), help_text=_("Every co-owner, separated by 、"))
    registry = forms.ChoiceField(label=_("Registered with"), required=False, choices=_blank(rules.REGISTRIES.items()))
    registration_number = forms.CharField(label=_("Registration certificate number"), required=False, max_length=100)
    registered_online = forms.BooleanField(label=_("Registered online"), required=False)

    def __init__(self, *args, owners=(), **kwargs):
        self.owners = list(owners)
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        add_problems(self, rules.contract_problems(
            contract_no=data.get("contract_no") or "", signatories=data.get("signatories") or [],
            owners=self.owners if "signatories" in data else [], registry=data.get("registry") or ""))
        return data


class EnforceForm(forms.Form):
    recourse_from = _date(_("Recourse claim arose on (the firm paid the bank)"))


class EnforcementActionForm(forms.Form):
    on = _date(_("Date"))
    kind = forms.ChoiceField(label=_("Action"), choices=list(rules.ENFORCEMENT_ACTIONS.items()))
    note = forms.CharField(label=_("Note or receipt"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(forms.Form):
    on = _date(_("Closed on"))


class ReleaseForm(forms.Form):
    on = _date(_("Released on"))
    registration_cancelled = forms.BooleanField(label=_("Registrations cancelled at the original registry"),
                                                required=False)
    documents_returned = forms.BooleanField(label=_("Documents returned to the owners"), required=False)


class AssetClassForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
    registry = forms.ChoiceField(label=_("Registry required"), required=False,
                                 choices=_blank(rules.REGISTRIES.items(), _("No registration needed")))
    position = forms.IntegerField(label=_("Order"), min_value=0, initial=100)
    is_active = forms.BooleanField(label=_("Accepted"), required=False, initial=True)
    note = forms.CharField(label=_("Note"), required=False, max_length=255)


class BankRateForm(forms.Form):
    asset_class = forms.ModelChoiceField(label=_("Asset class"), queryset=AssetClass.objects.all(), to_field_name="code")
    rate = forms.DecimalField(label=_("Bank upper rate (0.7 = 70%)"), max_digits=7, decimal_places=6, min_value=0,
                              max_value=1)
    effective_from = _date(_("In force from"))
    note = forms.CharField(label=_("Note"), required=False, max_length=255)
