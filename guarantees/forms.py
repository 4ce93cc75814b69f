"""Browser forms for guarantees: they parse and convert input; every policy check is the
services' (a RuleViolation comes back onto the form through core.views_helpers)."""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.errors import Problem
from core.models import Organisation
from core.templatetags.money import plain_percent
from core.validators import credit_code_problem, id_number_problem
from core.views_helpers import ConfirmRenamesForm, problem_message
from guarantees import rules
from guarantees.models import Agreement, Borrower, Guarantee, Recovery, RecoveryAction
from guarantees.services import BorrowerData, GuaranteeData
from guarantees.signals import offered_products

RATIO_STEP = Decimal("0.000001")


def percent_to_fraction(percent: Decimal) -> Decimal:
    """A percentage (``0.8`` meaning 0.8%) as the stored 6-place fraction (``0.008000``).

    A decimal-point shift, so it is exact: no binary floating point is involved, and a
    percentage with at most 4 decimal places always fits the 6 places of a ratio.
    """
    return percent.scaleb(-2).quantize(RATIO_STEP)


class PercentField(forms.DecimalField):
    """A percentage input converted to a fraction: the person types 20 for 20%."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 7)
        kwargs.setdefault("decimal_places", 4)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", Decimal("100"))
        super().__init__(**kwargs)

    def clean(self, value):
        percent = super().clean(value)
        return None if percent is None else percent_to_fraction(percent)


class MoneyInput(forms.DecimalField):
    """Yuan with at most 2 decimal places (the stored precision); never rounded silently."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(**kwargs)


def date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, widget=DateInput(), **kwargs)


def blank_choice(choices, label=_("—")) -> list:
    return [("", label), *choices]


INDUSTRY_CHOICES = [(code, name) for code, name in rules.INDUSTRIES]


# --- guarantees ---------------------------------------------------------------------------


class AgreementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Agreement) -> str:
        return f"{obj.code} · {obj.bank}"


class BorrowerChecks:
    """Issue 13.3: the identifier's check character, the entered size's evidence and the order of
    two dates are checked with the fields themselves, so one submission lists every problem at
    once; the service checks them again (the API and the bulk upload reach it directly).
    ``DATE_ORDER``: (earlier field, later field, rule, message, whether the same day is refused
    too), as the service words it."""

    DATE_ORDER: tuple = ()

    def clean(self):
        data = super().clean()
        kind, number = data.get("id_kind"), (data.get("id_number") or "").strip().upper()
        if kind and number and not self.has_error("id_number"):
            problem = (credit_code_problem(number) if kind == Borrower.IdKind.CREDIT_CODE
                       else id_number_problem(number))
            if problem:
                self.add_error("id_number", problem)
        if data.get("size_entered") and not (data.get("size_evidence") or "").strip():
            self.add_error("size_evidence", _("An entered enterprise size needs its evidence."))
        for earlier, later, rule, message, strict in self.DATE_ORDER:
            first, then = data.get(earlier), data.get(later)
            if first and then and (then <= first if strict else then < first):
                self.add_error(later, problem_message(Problem(rule, message, later)))
        return data


class BorrowerFields(BorrowerChecks, forms.Form):
    """The borrower (融资人) as entered with a guarantee or a pool's loan project. Its size is
    derived from industry, employees, revenue and assets (GU-11), or entered with evidence (RP-2
    needs it too). A form puts its own leading fields first with ``field_order``."""

    borrower_name = forms.CharField(label=_("Borrower name"), max_length=200)
    id_kind = forms.ChoiceField(label=_("Identifier kind"), choices=Borrower.IdKind.choices)
    id_number = forms.CharField(
        label=_("Identifier"), max_length=18,
        help_text=_("Unified social credit code or resident identity number, 18 characters."),
    )
    borrower_kind = forms.ChoiceField(label=_("Borrower kind"), choices=Borrower.Kind.choices)
    industry = forms.ChoiceField(label=_("Industry"), choices=blank_choice(INDUSTRY_CHOICES), required=False)
    employees = forms.IntegerField(label=_("Employees"), min_value=0, required=False)
    revenue = MoneyInput(label=_("Annual revenue (yuan)"), required=False)
    total_assets = MoneyInput(label=_("Total assets (yuan)"), required=False)
    size_entered = forms.ChoiceField(
        label=_("Enterprise size (entered)"), choices=blank_choice(Borrower.Size.choices), required=False,
        help_text=_("Leave empty to derive the size from industry, employees, revenue and assets (GU-11)."),
    )
    size_evidence = forms.CharField(label=_("Evidence for the entered size"), max_length=255, required=False)


class GuaranteeForm(BorrowerFields):
    """担保业务: the borrower (融资人) and the guarantee, recorded in one step."""

    field_order = ["agreement"]

    agreement = AgreementChoiceField(
        label=_("Bank-guarantee agreement"), queryset=Agreement.objects.none(),
        help_text=_("The agreement with the lending bank that this guarantee falls under."),
    )
    # borrower (融资人)
    is_agricultural = forms.BooleanField(label=_("三农 borrower (agriculture, rural areas, farmers)"), required=False)
    is_strategic_emerging = forms.BooleanField(label=_("Strategic emerging industry"), required=False)
    is_government_platform = forms.BooleanField(label=_("Government financing platform"), required=False)
    # the guarantee
    contract_no = forms.CharField(label=_("Guarantee contract number"), max_length=60)
    loan_principal = MoneyInput(label=_("Loan principal (yuan)"))
    amount = MoneyInput(label=_("Guaranteed amount (yuan)"))
    currency = forms.CharField(
        label=_("Currency"), max_length=3, initial="CNY",
        validators=[RegexValidator(r"^[A-Z]{3}$", _("Enter a three-letter currency code such as CNY."))],
    )
    loan_start = date_field(_("Loan start"))
    loan_maturity = date_field(_("Loan maturity"))
    start = date_field(_("Guarantee start"))
    end = date_field(_("Guarantee end"))
    fee_rate = PercentField(
        label=_("Annual guarantee fee rate (%)"),
        help_text=_("As a percentage: 0.8 means 0.8% a year."),
    )
    other_fees = MoneyInput(
        label=_("Other fees charged to the borrower (yuan)"), required=False, initial=Decimal("0"),
        help_text=_("Deposit, commitment, consulting, registration fees … (GU-5)."),
    )
    bank_fees = MoneyInput(
        label=_("Fees charged by the bank (yuan)"), required=False, initial=Decimal("0"),
        help_text=_("Any fee the lending bank charged besides interest: deposit, commitment, intermediary fees … (GU-5)."),
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Guarantee.Purpose.choices, initial=Guarantee.Purpose.OPERATIONS)
    product = forms.ModelChoiceField(
        label=_("Policy loan product"), queryset=Guarantee.product.field.related_model.objects.none(), required=False,
        empty_label=_("None"),
        help_text=_("The Scheme M policy loan product (科信贷, 出口贷 …) the loan belongs to, if any (RP-M3)."),
    )
    reguaranteed = forms.BooleanField(label=_("Re-guaranteed"), required=False)
    national_fund_scope = forms.BooleanField(label=_("In the national fund's scope"), required=False)
    recommended_by_bank = forms.BooleanField(label=_("Recommended by the bank"), required=False)

    BORROWER_FIELDS = (
        "borrower_name", "id_kind", "id_number", "borrower_kind", "industry", "employees", "revenue",
        "total_assets", "size_entered", "size_evidence", "is_agricultural", "is_strategic_emerging",
        "is_government_platform",
    )
    GUARANTEE_FIELDS = (
        "contract_no", "loan_principal", "amount", "currency", "loan_start", "loan_maturity", "start", "end",
        "fee_rate", "other_fees", "bank_fees", "purpose", "product", "reguaranteed", "national_fund_scope", "recommended_by_bank",
    )
    # Service field names this form spells differently (see core.views_helpers).
    FIELD_MAP = {"borrower": "is_government_platform"}
    DATE_ORDER = (("loan_start", "loan_maturity", "INPUT", _("The loan maturity is before the loan start."), False),
                  ("start", "end", "INPUT", _("The guarantee end is before its start."), False))

    def __init__(self, *args, agreements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreement"].queryset = agreements
        self.fields["product"].queryset = offered_products()
        self.fields["product"].label_from_instance = lambda p: f"{p.name} · {p.pool.name}"
        self.fields["currency"].widget.attrs.update(size=4, autocomplete="off")

    def clean_id_number(self) -> str:
        return self.cleaned_data["id_number"].strip().upper()

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def borrower_fields(self):
        return [self[name] for name in self.BORROWER_FIELDS]

    def guarantee_fields(self):
        return [self[name] for name in self.GUARANTEE_FIELDS]

    def borrower_data(self) -> BorrowerData:
        c = self.cleaned_data
        return BorrowerData(
            name=c["borrower_name"].strip(), id_kind=c["id_kind"], id_number=c["id_number"], kind=c["borrower_kind"],
            industry=c["industry"], employees=c["employees"], revenue=c["revenue"], total_assets=c["total_assets"],
            size_entered=c["size_entered"], size_evidence=c["size_evidence"].strip(),
            is_agricultural=c["is_agricultural"], is_strategic_emerging=c["is_strategic_emerging"],
            is_government_platform=c["is_government_platform"],
        )

    def guarantee_data(self) -> GuaranteeData:
        c = self.cleaned_data
        return GuaranteeData(
            contract_no=c["contract_no"].strip(), loan_principal=c["loan_principal"], amount=c["amount"],
            loan_start=c["loan_start"], loan_maturity=c["loan_maturity"], start=c["start"], end=c["end"],
            fee_rate=c["fee_rate"], other_fees=c["other_fees"] if c["other_fees"] is not None else Decimal("0"),
            bank_fees=c["bank_fees"] if c["bank_fees"] is not None else Decimal("0"),
            currency=c["currency"], purpose=c["purpose"], reguaranteed=c["reguaranteed"],
            national_fund_scope=c["national_fund_scope"], recommended_by_bank=c["recommended_by_bank"],
            product=c["product"],
        )


FEE_CHOICES = [("", _("All")), ("ok", _("Compliant")), ("breach", _("GU-5 breach"))]
SORT_CHOICES = ["start", "-start", "amount", "-amount"]


class GuaranteeFilterForm(forms.Form):
    """The GET form of the guarantee list and its xlsx export."""

    q = forms.CharField(label=_("Contract number or borrower"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), choices=blank_choice(Guarantee.Status.choices, _("All")), required=False)
    bank = forms.ModelChoiceField(label=_("Bank"), queryset=Organisation.objects.none(), required=False, empty_label=_("All"))
    fee = forms.ChoiceField(label=_("Fees (GU-5)"), choices=FEE_CHOICES, required=False)
    start_from = date_field(_("Start from"), required=False)
    start_to = date_field(_("Start to"), required=False)
    sort = forms.ChoiceField(choices=[(s, s) for s in SORT_CHOICES], required=False, widget=forms.HiddenInput)

    def __init__(self, *args, banks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = banks

    def filter(self, queryset):
        """Apply the valid filters; an invalid one (a mistyped date) is ignored, not fatal."""
        if not self.is_bound:
            return queryset.order_by("-start", "-id")
        self.is_valid()
        c = self.cleaned_data
        if c.get("q"):
            q = c["q"].strip()
            queryset = queryset.filter(models_q_search(q))
        if c.get("status"):
            queryset = queryset.filter(status=c["status"])
        if c.get("bank"):
            queryset = queryset.filter(bank=c["bank"])
        if c.get("fee") == "ok":
            queryset = queryset.filter(fee_compliant=True)
        elif c.get("fee") == "breach":
            queryset = queryset.filter(fee_compliant=False)
        if c.get("start_from"):
            queryset = queryset.filter(start__gte=c["start_from"])
        if c.get("start_to"):
            queryset = queryset.filter(start__lte=c["start_to"])
        return queryset.order_by(c.get("sort") or "-start", "-id")

    @property
    def active(self) -> bool:
        return self.is_bound and any(v for k, v in self.cleaned_data.items() if k != "sort")


def models_q_search(text: str) -> Q:
    return Q(contract_no__icontains=text) | Q(borrower__name__icontains=text)


# --- agreements (GU-1, GU-2) -------------------------------------------------------------

SHARE_PARTIES = ("bank", "guarantee_firm", "reguarantee", "national_fund", "government")


class AgreementForm(forms.Form):
    """银担合作协议 with its risk-sharing split entered as percentages (20 = 20%)."""

    bank = forms.ModelChoiceField(label=_("Bank"), queryset=Organisation.objects.none())
    code = forms.CharField(label=_("Agreement number"), max_length=60)
    signed_on = date_field(_("Signed on"))
    expires_on = date_field(_("Expires on"))
    grace_days = forms.IntegerField(
        label=_("Grace period for compensation (days)"), min_value=0, max_value=rules.MAX_GRACE_DAYS,
        help_text=_("The firm's compensation is due this many days after the default (GU-4)."),
    )
    deposit_ratio = PercentField(label=_("Deposit ratio (%)"), required=False, initial=Decimal("0"))
    batch_mode = forms.ChoiceField(label=_("Batch mode"), choices=Agreement.BatchMode.choices)
    loss_base_includes_interest = forms.BooleanField(label=_("Loss base includes interest (GU-3)"), required=False)
    shares_bank = PercentField(label=_("Bank share (%)"))
    shares_guarantee_firm = PercentField(label=_("Guarantee firm share (%)"))
    shares_reguarantee = PercentField(label=_("Provincial re-guarantee share (%)"))
    shares_national_fund = PercentField(label=_("National fund share (%)"))
    shares_government = PercentField(label=_("Government fund share (%)"), required=False, initial=Decimal("0"))
    # Carries the split-wide GU-1 errors ("shares must add up to 100%"), shown under the split.
    shares = forms.CharField(required=False, widget=forms.HiddenInput)

    TERMS = ("bank", "code", "signed_on", "expires_on", "grace_days", "deposit_ratio", "batch_mode",
             "loss_base_includes_interest")

    def __init__(self, *args, banks=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:  # the parties and the number identify the agreement; they are not changed
            del self.fields["bank"]
            del self.fields["code"]
        else:
            self.fields["bank"].queryset = banks

    def term_fields(self):
        return [self[name] for name in self.TERMS if name in self.fields]

    def share_fields(self):
        return [self[f"shares_{party}"] for party in SHARE_PARTIES]

    def shares_value(self) -> dict[str, Decimal]:
        c = self.cleaned_data
        return {party: c[f"shares_{party}"] if c[f"shares_{party}"] is not None else Decimal("0")
                for party in SHARE_PARTIES}

    def shares_total_percent(self) -> str:
        """The entered shares' sum in percent, shown beside a GU-1 error (the rule speaks in fractions)."""
        data = getattr(self, "cleaned_data", {})
        values = [data.get(f"shares_{party}") for party in SHARE_PARTIES]
        if any(v is None for v in values[:-1]):
            return ""
        return plain_percent(sum((v for v in values if v is not None), Decimal("0")))

    def terms_value(self) -> dict:
        c = self.cleaned_data
        values = {name: c[name] for name in ("signed_on", "expires_on", "grace_days", "batch_mode",
                                            "loss_base_includes_interest")}
        values["deposit_ratio"] = c["deposit_ratio"] if c["deposit_ratio"] is not None else Decimal("0")
        return values

    @staticmethod
    def initial_for(agreement: Agreement) -> dict:
        initial = {
            "signed_on": agreement.signed_on, "expires_on": agreement.expires_on, "grace_days": agreement.grace_days,
            "deposit_ratio": plain_percent(agreement.deposit_ratio), "batch_mode": agreement.batch_mode,
            "loss_base_includes_interest": agreement.loss_base_includes_interest,
        }
        for party, share in agreement.shares().items():
            initial[f"shares_{party}"] = plain_percent(share)
        return initial



# --- status actions ----------------------------------------------------------------------


class ReleaseForm(forms.Form):
    released_on = date_field(_("Released on"))


class DefaultForm(forms.Form):
    default_on = date_field(_("Default date"))
    principal = MoneyInput(label=_("Unpaid principal (yuan)"))
    interest = MoneyInput(label=_("Unpaid interest (yuan)"), required=False, initial=Decimal("0"))
    penalty_interest = MoneyInput(label=_("Penalty interest (yuan)"), required=False, initial=Decimal("0"))

    def clean_interest(self):
        return self.cleaned_data["interest"] or Decimal("0")

    def clean_penalty_interest(self):
        return self.cleaned_data["penalty_interest"] or Decimal("0")


class PayForm(forms.Form):
    paid_on = date_field(_("Paid to the bank on"))


class RecoveryActionForm(forms.Form):
    on = date_field(_("Date"))
    kind = forms.ChoiceField(label=_("Action"), choices=RecoveryAction.Kind.choices)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class RecoveryForm(forms.Form):
    received_on = date_field(_("Received on"))
    gross = MoneyInput(label=_("Gross amount (yuan)"))
    source = forms.ChoiceField(label=_("Source"), choices=Recovery.Source.choices)
    cost_litigation = MoneyInput(label=_("Litigation costs (yuan)"), required=False, initial=Decimal("0"))
    cost_arbitration = MoneyInput(label=_("Arbitration costs (yuan)"), required=False, initial=Decimal("0"))
    cost_enforcement = MoneyInput(label=_("Enforcement costs (yuan)"), required=False, initial=Decimal("0"))

    FIELD_MAP = {"costs": "cost_litigation"}

    def values(self) -> dict:
        c = dict(self.cleaned_data)
        for name in ("cost_litigation", "cost_arbitration", "cost_enforcement"):
            c[name] = c[name] or Decimal("0")
        return c


class WriteOffForm(forms.Form):
    """核销 is irreversible: the person must tick the confirmation."""

    on = date_field(_("Write-off date"))
    confirm = forms.BooleanField(
        label=_("I confirm that this write-off is final and cannot be undone."),
        error_messages={"required": _("Tick the confirmation to write the compensation off.")},
    )


class NetAssetsForm(forms.Form):
    as_of = date_field(_("As of"))
    net_assets = forms.DecimalField(label=_("Net assets (yuan)"), max_digits=18, decimal_places=2)


# --- lists and files ---------------------------------------------------------------------

COMPENSATION_STATES = [
    ("", _("All")),
    ("overdue", _("Overdue")),
    ("unpaid", _("Unpaid")),
    ("written_off", _("Written off")),
]


class CompensationFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("Show"), choices=COMPENSATION_STATES, required=False)


class AgreementFilterForm(forms.Form):
    compliance = forms.ChoiceField(
        label=_("GU-2"), required=False,
        choices=[("", _("All")), ("ok", _("Compliant")), ("breach", _("Non-compliant"))],
    )


class ImportForm(ConfirmRenamesForm):
    file = forms.FileField(
        label=_("File (.xlsx or .csv)"),
        help_text=_("One guarantee per row, with the template's header row. Nothing is saved if any row is wrong."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
