"""Forms of the evaluation pages: parse input only; the services check the rules."""
from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.errors import Problem
from core.views_helpers import add_problems, problem_message
from evaluation import rules
from evaluation.models import Material


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("Year evaluated"), min_value=2000, max_value=2200)


class TargetsForm(forms.Form):
    """EV-9: T, n_target, a_target."""

    leverage = forms.DecimalField(label=_("Leverage target T"), max_digits=8, decimal_places=2, min_value=0)
    clients = forms.IntegerField(label=_("Small-micro and 三农 clients target"), min_value=1)
    amount = forms.DecimalField(label=_("Small-micro and 三农 amount target (yuan)"), max_digits=18, decimal_places=2,
                                min_value=0)


class DeclareForm(forms.Form):
    """EV-3: the firm's own figures beside the computed ones."""

    guarantee_balance = forms.DecimalField(label=_("Guarantee balance at year end"), required=False, decimal_places=2)
    net_assets = forms.DecimalField(label=_("Net assets at year end"), required=False, decimal_places=2)
    sme_clients = forms.IntegerField(label=_("Small-micro and 三农 clients"), required=False, min_value=0)
    sme_amount = forms.DecimalField(label=_("Small-micro and 三农 amount"), required=False, decimal_places=2)
    total_amount = forms.DecimalField(label=_("All guaranteed amount written"), required=False, decimal_places=2)
    avg_fee_rate = forms.DecimalField(label=_("Average fee rate (fraction)"), required=False, decimal_places=6)

    def clean(self):
        """Issue 13.3: EV-3's checks on whatever figures validated, beside the fields' own errors."""
        data = super().clean()
        add_problems(self, rules.declared_problems({k: v for k, v in data.items() if v is not None})[1])
        return data


class MaterialForm(forms.Form):
    kind = forms.ChoiceField(label=_("Material"))
    file = forms.FileField(label=_("File (PDF, xlsx or docx, at most 20 MB)"))
    auditor = forms.CharField(label=_("Accounting firm (audit report)"), required=False, max_length=200)
    auditor_clean = forms.BooleanField(label=_("The accounting firm has no bad practice record in the last three years"),
                                       required=False)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, Material.Kind(k).label) for k in kinds]


class MaterialsForm(forms.Form):
    """EV-4: every material due at this step at once, a file field per kind (issue 13.9); each
    file's problems are shown beside its own field."""

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = list(kinds)
        for kind in self.kinds:
            self.fields[f"file_{kind}"] = forms.FileField(
                label=Material.Kind(kind).label, required=False,
                help_text=_("PDF, xlsx or docx, at most 20 MB."))
        if Material.Kind.AUDIT_REPORT in self.kinds:
            self.fields["auditor"] = forms.CharField(label=_("Accounting firm (audit report)"), required=False,
                                                     max_length=200)
            self.fields["auditor_clean"] = forms.BooleanField(
                label=_("The accounting firm has no bad practice record in the last three years"), required=False)

    def uploads(self) -> list[tuple[str, object]]:
        return [(kind, self.cleaned_data[f"file_{kind}"]) for kind in self.kinds
                if self.cleaned_data.get(f"file_{kind}")]

    def clean(self):
        data = super().clean()
        if not self.errors and not self.uploads():
            raise forms.ValidationError(_("Choose at least one file."))
        return data


class OpinionForm(forms.Form):
    opinion = forms.CharField(label=_("Opinion"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Reason for returning it"), widget=forms.Textarea(attrs={"rows": 2}))


class SampleForm(forms.Form):
    note = forms.CharField(label=_("Third party and scope"), required=False, max_length=500)


# Lazy, so each reader sees the grounds in their own language (an f-string fixes them at import).
GROUND_CHOICES = [(code, format_lazy("{} {}", code, label)) for code, label in rules.GROUNDS.items()]


class CaseForm(forms.Form):
    guarantee = forms.ModelChoiceField(label=_("Compensated guarantee"), queryset=None)
    staff = forms.CharField(label=_("Staff involved"), max_length=255)
    grounds = forms.MultipleChoiceField(label=_("Grounds claimed"), choices=GROUND_CHOICES,
                                        widget=forms.CheckboxSelectMultiple)
    statement = forms.CharField(label=_("Statement"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    evidence_ground = forms.ChoiceField(label=_("Evidence for ground"), choices=[("", "—"), *GROUND_CHOICES],
                                        required=False)
    evidence_description = forms.CharField(label=_("Evidence"), required=False, max_length=255)
    evidence_archive_ref = forms.CharField(label=_("Work archive reference"), required=False, max_length=120)
    evidence_file = forms.FileField(label=_("Evidence file (PDF, xlsx or docx)"), required=False)

    def __init__(self, *args, guarantees=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guarantee"].queryset = guarantees

    def clean(self):
        """Issue 13.3: evidence given without its description would be dropped: say so beside the
        description, with the other fields' errors (EV-14, 第十五条: evidence from the work archive)."""
        data = super().clean()
        given = any(data.get(name) for name in ("evidence_ground", "evidence_archive_ref", "evidence_file"))
        if given and not (data.get("evidence_description") or "").strip() and not self.has_error("evidence_description"):
            self.add_error("evidence_description", problem_message(Problem(
                "EV-14", _("Describe the evidence: what it is and what it shows."))))
        return data


class FindingsForm(forms.Form):
    grounds = forms.MultipleChoiceField(label=_("Grounds found"), choices=GROUND_CHOICES, required=False,
                                        widget=forms.CheckboxSelectMultiple)
    staff_at_fault = forms.BooleanField(label=_("The staff involved were at fault"), required=False)


class AppealForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the appeal"), widget=forms.Textarea(attrs={"rows": 2}))


class InterviewForm(forms.Form):
    scheduled_on = forms.DateField(label=_("Scheduled on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    closed_on = forms.DateField(label=_("Closed on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def clean(self):
        """Issue 13.3: EV-10's order of the two dates, beside the fields' own errors."""
        data = super().clean()
        scheduled, closed = data.get("scheduled_on"), data.get("closed_on")
        if scheduled and closed and closed < scheduled:
            self.add_error("closed_on", problem_message(Problem(
                "EV-10", _("The interview cannot be closed before the day it is held."))))
        return data

    def problems(self) -> list[Problem]:
        """Every error of the form, each under its field's label, for the page's messages."""
        return [Problem("", f"{self.fields[name].label}: {error}" if name in self.fields else error, name)
                for name, errors in self.errors.items() for error in errors]


class DistributionForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
