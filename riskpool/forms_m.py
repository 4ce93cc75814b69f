"""Browser forms of Scheme M (马政办〔2024〕6号). They parse and convert input; every policy check
is the services' (a RuleViolation comes back onto the form through
core.views_helpers.add_rule_violation)."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import Problem
from core.views_helpers import problem_message
from guarantees.forms import MoneyInput, date_field
from riskpool import rules
from riskpool.forms import PayForm, new_key  # noqa: F401  (PayForm: the treasurer's payment, RP-1 key)


class MClaimForm(forms.Form):
    """A guarantee firm's claim for one paid compensation (代偿) in one product (RP-M1, RP-M4)."""

    product = forms.ModelChoiceField(label=_("Product"), queryset=None, empty_label=None)
    compensation = forms.ModelChoiceField(label=_("Paid compensation"), queryset=None,
                                          help_text=_("Only compensations paid to the bank and not claimed yet."))

    def __init__(self, *args, products, compensations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products
        self.fields["product"].label_from_instance = lambda p: f"{p.pool.name} · {p.name}"
        self.fields["compensation"].queryset = compensations
        self.fields["compensation"].label_from_instance = lambda c: (
            f"{c.guarantee.borrower.name} · {c.guarantee.bank.name} · {c.paid_on:%Y-%m-%d} · {c.paid_amount}"
        )
        for key, text in rules.M_EXCLUSIONS.items():  # RP-M4 (第十二条)
            self.fields[f"x_{key}"] = forms.BooleanField(label=text, required=False)

    def exclusion_fields(self):
        return [self[f"x_{key}"] for key in rules.M_EXCLUSIONS]

    def main_fields(self):
        return [self[name] for name in ("product", "compensation")]

    def exclusions(self) -> dict[str, bool]:
        return {key: bool(self.cleaned_data.get(f"x_{key}")) for key in rules.M_EXCLUSIONS}


class MDecisionForm(forms.Form):
    """The reviewer's decision on a submitted claim; a rejection needs the reasons (the service
    says so)."""

    approve = forms.TypedChoiceField(
        label=_("Decision"), choices=[("yes", _("Approve")), ("no", _("Reject"))],
        coerce=lambda v: v == "yes", widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Reasons"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MReturnForm(forms.Form):
    """RP-M5: money recovered on a reimbursed compensation and the costs deducted from it."""

    received_on = date_field(_("Recovered money received on"))
    recovery = MoneyInput(label=_("Recovered (yuan)"))
    costs = MoneyInput(label=_("Litigation, arbitration and enforcement costs (yuan)"), initial=0)
    on = date_field(_("Returned on"), required=False, help_text=_("Leave empty for today."))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def clean(self):
        """Issue 13.3: RP-M5's checks on whatever validated, beside the fields' own errors: money
        was recovered (more than 0), and it is returned on or after the day it was received."""
        data = super().clean()
        recovery, received_on, on = data.get("recovery"), data.get("received_on"), data.get("on")
        if recovery is not None and recovery <= 0:
            self.add_error("recovery", problem_message(Problem("RP-M5", _("This amount must be more than 0."))))
        if received_on and on and on < received_on:
            self.add_error("on", problem_message(Problem(
                "RP-M5", _("The money is returned on or after the day it was received."))))
        return data


class MReportSubmitForm(forms.Form):
    """RP-M6: the date the report was sent to the finance bureau (市财政局)."""

    on = date_field(_("Submitted to the finance bureau on"))
