"""Browser forms of the risk compensation pool (Scheme S). They parse and convert input; every
policy check is the services' (a RuleViolation comes back onto the form through
core.views_helpers.add_rule_violation)."""
from __future__ import annotations

import dataclasses
import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import Organisation
from guarantees.forms import BorrowerFields, MoneyInput, PercentField, blank_choice, date_field
from guarantees.services import BorrowerData
from riskpool.models import ClaimDocument, LoanProject, Pool, RecoveryReport
from riskpool.services import PAYMENT_DOCUMENTS, ProjectData

LP = LoanProject


class ProjectFilterForm(forms.Form):
    SORTS = {  # each order has an index (riskpool/models/projects.py LoanProject.Meta)
        "": ("-disbursed_on", "-id"), "principal": ("-principal_yuan", "-id"), "maturity": ("maturity_on", "id"),
    }
    q = forms.CharField(label=_("Loan note number"), required=False, max_length=60)
    library = forms.ChoiceField(label=_("Library"), choices=blank_choice(LP.Library.choices, _("All")), required=False)
    classification = forms.ChoiceField(
        label=_("Classification"), choices=blank_choice(LP.Classification.choices, _("All")), required=False
    )
    bank = forms.ModelChoiceField(label=_("Bank"), queryset=Organisation.objects.none(), required=False,
                                  empty_label=_("All"))
    sort = forms.ChoiceField(label=_("Order"), required=False, choices=[
        ("", _("Newest disbursement first")), ("principal", _("Largest principal first")),
        ("maturity", _("Earliest maturity first"))])

    def __init__(self, *args, banks=None, **kwargs):
        super().__init__(*args, **kwargs)
        if banks is None:  # a bank's own list: no bank to choose
            del self.fields["bank"]
        else:
            self.fields["bank"].queryset = banks

    def filter(self, queryset):
        """The filtered and ordered list; a search on the loan note number is by its start."""
        sort = ""
        if self.is_bound and self.is_valid():
            if self.cleaned_data["q"]:
                queryset = queryset.filter(loan_no__startswith=self.cleaned_data["q"].strip())
            if self.cleaned_data["library"]:
                queryset = queryset.filter(library=self.cleaned_data["library"])
            if self.cleaned_data["classification"]:
                queryset = queryset.filter(classification=self.cleaned_data["classification"])
            if self.cleaned_data.get("bank"):
                queryset = queryset.filter(bank=self.cleaned_data["bank"])
            sort = self.cleaned_data["sort"]
        return queryset.order_by(*self.SORTS[sort])

    @property
    def active(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in ("q", "library", "classification", "bank"))


class ProjectForm(BorrowerFields):
    """贷款项目入库: the borrower and the loan, entered in one step (RP-3 … RP-7)."""

    field_order = ["pool"]

    pool = forms.ModelChoiceField(label=_("Pool"), queryset=None, empty_label=None)
    loan_no = forms.CharField(label=_("Loan note number"), max_length=60)
    loan_kind = forms.ChoiceField(label=_("Loan kind"), choices=LP.LoanKind.choices)
    principal = MoneyInput(label=_("Principal"))
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="CNY")
    disbursed_on = date_field(_("Disbursed on"))
    maturity_on = date_field(_("Maturity"))
    annual_rate = PercentField(label=_("Annual interest rate (%)"))
    other_balance = MoneyInput(label=_("Other working-capital balance at disbursement (yuan)"),
                               help_text=_("RP-4: the borrower's other loans, excluding this one."))
    purpose = forms.ChoiceField(label=_("Purpose"), choices=LP.Purpose.choices, initial=LP.Purpose.OPERATIONS)
    features = forms.MultipleChoiceField(
        label=_("Loan features (RP-10)"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[("first_loan", _("First loan")), ("gov_procurement", _("Government procurement")),
                 ("renewal_without_repayment", _("Renewal without repayment")), ("green", _("Green loan")),
                 ("pure_credit", _("Pure credit")), ("ip_pledge", _("IP pledge")),
                 ("receivables_pledge", _("Receivables pledge")), ("inventory_pledge", _("Inventory pledge"))],
    )
    covered_by_other_scheme = forms.BooleanField(
        label=_("Insured, guaranteed or otherwise compensated (RP-7)"), required=False)
    product = forms.ModelChoiceField(
        label=_("Policy loan product"), queryset=None, required=False, empty_label=_("None"),
        help_text=_("The Scheme M policy loan product (科信贷, 出口贷 …) the loan belongs to, if any (RP-M3)."),
    )

    BORROWER_FIELDS = ("borrower_name", "id_kind", "id_number", "borrower_kind", "industry", "employees", "revenue",
                       "total_assets", "size_entered", "size_evidence")
    DATE_ORDER = (("disbursed_on", "maturity_on", "RP-7", _("The maturity date must be after the disbursement date."),
                   True),)
    FIELD_MAP = {"name": "borrower_name", "kind": "borrower_kind", "borrower.name": "borrower_name",
                 "borrower.kind": "borrower_kind", "currency": "currency"}

    def __init__(self, *args, pools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = pools
        from riskpool.selectors_m import open_products

        self.fields["product"].queryset = open_products()
        self.fields["product"].label_from_instance = lambda p: f"{p.name} · {p.pool.name}"

    def borrower_fields(self):
        return [self[name] for name in self.BORROWER_FIELDS]

    def project_fields(self):
        return [self[name] for name in self.fields if name not in self.BORROWER_FIELDS and name != "pool"]

    def borrower_data(self) -> BorrowerData:
        d = self.cleaned_data
        return BorrowerData(name=d["borrower_name"].strip(), id_kind=d["id_kind"], id_number=d["id_number"].strip(),
                            kind=d["borrower_kind"], industry=d["industry"], employees=d["employees"],
                            revenue=d["revenue"], total_assets=d["total_assets"], size_entered=d["size_entered"],
                            size_evidence=d["size_evidence"])

    def project_data(self) -> ProjectData:
        d = self.cleaned_data
        return ProjectData(
            loan_no=d["loan_no"].strip(), loan_kind=d["loan_kind"], principal=d["principal"],
            disbursed_on=d["disbursed_on"], maturity_on=d["maturity_on"], annual_rate=d["annual_rate"],
            other_balance=d["other_balance"], currency=d["currency"].strip().upper() or "CNY",
            features=list(d["features"]), purpose=d["purpose"], covered_by_other_scheme=d["covered_by_other_scheme"],
            # RP-6: the entry date is the server's today (project_register), never typed: it decides
            # whether the loan is compensable at all.
            entered_on=None, product=d["product"],
        )


class LateEntryForm(ProjectForm):
    """RP-6, the authority correcting a record: a loan entered on a member bank's behalf with the
    date it counts as entered and the reason (project_register_late)."""

    bank = forms.ModelChoiceField(label=_("Member bank"), queryset=None)
    entered_on = date_field(_("Counts as entered on"),
                            help_text=_("The day the bank entered the loan, or tried to (RP-6 window)."))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Kept in the audit trail."))

    def __init__(self, *args, pool, banks, **kwargs):
        super().__init__(*args, pools=Pool.objects.filter(pk=pool.pk), **kwargs)
        del self.fields["pool"]
        self.fields["bank"].queryset = banks

    def project_fields(self):
        return [self[name] for name in self.fields
                if name not in self.BORROWER_FIELDS and name not in ("bank", "entered_on", "reason")]

    def project_data(self) -> ProjectData:
        return dataclasses.replace(super().project_data(), entered_on=self.cleaned_data["entered_on"])


class ClassifyForm(forms.Form):
    new = forms.ChoiceField(label=_("New classification"), choices=LP.Classification.choices)
    on = date_field(_("Date"))


class ClaimForm(forms.Form):
    """提交: a claim on a non-performing project (RP-13, RP-14)."""

    outstanding_principal = MoneyInput(label=_("Outstanding principal at the NPL date (yuan)"))
    credit_report_on = date_field(_("Credit report date"))
    # RP-14 (第十九条(二)): both are required; the service refuses a claim without them and names each
    # missing one, so the form and the API give the same answer.
    credit_report = forms.FileField(label=_("Credit report (PDF, JPEG or PNG)"), required=False)
    loan_file = forms.FileField(label=_("Loan file (PDF, JPEG or PNG)"), required=False,
                                help_text=_("The loan contract, the loan note and the classification evidence, "
                                            "in one file."))

    def documents(self) -> list:
        """(kind, file) pairs of the attachments given, for ``claim_submit``."""
        return [(kind, self.cleaned_data[kind]) for kind in ("credit_report", "loan_file") if self.cleaned_data.get(kind)]


class DocumentsForm(forms.Form):
    """RP-16 step 5: the payment documents; any of the four may be sent, the rest later."""

    account_confirmation = forms.FileField(label=ClaimDocument.Kind.ACCOUNT_CONFIRMATION.label, required=False)
    receipt = forms.FileField(label=ClaimDocument.Kind.RECEIPT.label, required=False)
    id_copy = forms.FileField(label=ClaimDocument.Kind.ID_COPY.label, required=False)
    authorisation = forms.FileField(label=ClaimDocument.Kind.AUTHORISATION.label, required=False)

    def files_list(self) -> list:
        return [(str(kind), self.cleaned_data[str(kind)]) for kind in PAYMENT_DOCUMENTS if self.cleaned_data.get(str(kind))]

    def clean(self):
        data = super().clean()
        if not self.errors and not self.files_list():
            raise forms.ValidationError(_("Choose at least one file."))
        return data


class DateNoteForm(forms.Form):
    """A step with an optional note (withdraw, move to the compensation library, …). Its date is the
    server's today (claim_action), not typed: each step's date starts or ends a window."""

    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    """An application dated by the server (its deadline decides whether it is late): a note only."""

    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DisposalForm(forms.Form):
    """RP-16 8b: the day the bank's disposal of the loan was complete."""

    completed_on = date_field(_("Disposal completed on"))


class SettlementForm(NoteForm):
    """RP-16 8b: the settlement application; the disposal date when it was not recorded before."""

    completed_on = date_field(_("Disposal completed on"), required=False)


class DecisionForm(DateNoteForm):
    """A yes/no decision with reasons (review, closure checks, objections, final approval)."""

    approve = forms.TypedChoiceField(
        label=_("Decision"), choices=[("yes", _("Approve")), ("no", _("Reject"))],
        coerce=lambda v: v == "yes", widget=forms.RadioSelect,
    )


class RecoveryForm(forms.Form):
    received_on = date_field(_("Received on"))
    gross = MoneyInput(label=_("Gross recovery (yuan)"))
    method = forms.ChoiceField(label=_("Method"), choices=RecoveryReport.Method.choices)


class NilRecoveryForm(forms.Form):
    """零清收报告 (RP-16 8b, 第十九条(六)): nothing was recovered in a closed quarter."""

    period = forms.CharField(label=_("Quarter with nothing recovered"), max_length=6,
                             help_text=_("A closed quarter such as 2025Q1."))


def new_key() -> str:
    return uuid.uuid4().hex


class PayForm(forms.Form):
    """拨付: the idempotency key is made when the page renders, so a double submit pays once."""

    on = date_field(_("Paid on"))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)


class BudgetForm(forms.Form):
    amount = MoneyInput(label=_("Amount (yuan)"))
    booked_on = date_field(_("Booked on"))
    note = forms.CharField(label=_("Note"), max_length=255, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)


class FundingPlanForm(forms.Form):
    number = forms.CharField(label=_("Plan number"), max_length=60)
    on = date_field(_("Issued on"))
    claims = forms.ModelMultipleChoiceField(label=_("Claims past their notice"), queryset=None,
                                            widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, claims, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["claims"].queryset = claims
        self.fields["claims"].label_from_instance = lambda c: f"{c.project.loan_no} · {c.project.borrower.name} · {c.amount}"


class NoticeStartForm(forms.Form):
    """The notice starts today (the server's date): its start fixes the public's time to object."""

    claims = forms.ModelMultipleChoiceField(label=_("Approved claims"), queryset=None,
                                            widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, claims, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["claims"].queryset = claims
        self.fields["claims"].label_from_instance = lambda c: f"{c.project.loan_no} · {c.project.borrower.name} · {c.amount}"


class ObjectionForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100)
    contact = forms.CharField(label=_("Contact (phone or e-mail)"), max_length=100)
    text = forms.CharField(label=_("Objection"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
