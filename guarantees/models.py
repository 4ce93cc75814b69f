"""Guaranteed loans and their risk sharing (spec: guarantees.md, GU-1 … GU-13)."""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, RatioField
from guarantees.rules import MAX_GRACE_DAYS


class FirmYearProfile(models.Model):
    """A guarantee firm's yearly flags and supervisory rating."""

    firm = models.ForeignKey("core.Organisation", on_delete=models.CASCADE, related_name="year_profiles")
    year = models.PositiveIntegerField(_("year"))
    in_reguarantee_system = models.BooleanField(_("member of the provincial re-guarantee system"), default=False)  # 纳入省再担保体系
    in_national_agri_system = models.BooleanField(_("member of the national agricultural credit guarantee system"), default=False)  # 全国农担体系
    in_new_gov_bank_system = models.BooleanField(_("member of the provincial government-bank-guarantee system"), default=False)  # 省级新型政银担体系
    supervisory_rating = models.CharField(_("supervisory rating"), max_length=20, blank=True)  # 分类监管评级

    class Meta:
        verbose_name = _("firm year profile")
        verbose_name_plural = _("firm year profiles")
        constraints = [models.UniqueConstraint(fields=["firm", "year"], name="firmyear_unique")]

    def __str__(self) -> str:
        return f"{self.firm} {self.year}"


class FirmNetAssets(models.Model):
    """净资产 of a guarantee firm at a period end (GU-8's denominator)."""

    firm = models.ForeignKey("core.Organisation", on_delete=models.CASCADE, related_name="net_assets_reports")
    as_of = models.DateField(_("as of"))
    net_assets = MoneyField(_("net assets"))

    class Meta:
        ordering = ["firm", "-as_of"]
        verbose_name = _("net assets report")
        verbose_name_plural = _("net assets reports")
        constraints = [models.UniqueConstraint(fields=["firm", "as_of"], name="netassets_unique")]

    def __str__(self) -> str:
        return f"{self.firm} {self.as_of} {self.net_assets}"


class Borrower(models.Model):
    """融资人: an enterprise, a small-micro enterprise owner, an individual business or a farmer."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("Enterprise")
        OWNER = "owner", _("Small-micro enterprise owner")  # 小微企业主
        INDIVIDUAL_BUSINESS = "individual_business", _("Individual business")  # 个体工商户
        FARMER = "farmer", _("Farmer or new agricultural operator")  # 种养大户, 家庭农场, 农民合作社, 小微农业企业

    class IdKind(models.TextChoices):
        CREDIT_CODE = "credit_code", _("Unified social credit code")
        ID_CARD = "id_card", _("Resident identity number")

    class Size(models.TextChoices):
        LARGE = "large", _("Large")
        MEDIUM = "medium", _("Medium")
        SMALL = "small", _("Small")
        MICRO = "micro", _("Micro")

    owner = models.ForeignKey(
        "core.Organisation", on_delete=models.PROTECT, related_name="borrowers",
        help_text=_("The organisation that recorded this borrower."),
    )
    name = models.CharField(_("name"), max_length=200)
    id_kind = models.CharField(_("identifier kind"), max_length=12, choices=IdKind.choices)
    id_number = models.CharField(_("identifier"), max_length=18)
    kind = models.CharField(_("borrower kind"), max_length=20, choices=Kind.choices)
    industry = models.CharField(_("industry"), max_length=40, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    revenue = MoneyField(_("annual revenue"), null=True, blank=True)
    total_assets = MoneyField(_("total assets"), null=True, blank=True)
    size_entered = models.CharField(_("size (entered)"), max_length=10, choices=Size.choices, blank=True)
    size_evidence = models.CharField(_("evidence for the entered size"), max_length=255, blank=True)
    size_derived = models.CharField(_("size (derived, GU-11)"), max_length=10, choices=Size.choices, blank=True)
    is_agricultural = models.BooleanField(_("三农 borrower"), default=False)
    is_strategic_emerging = models.BooleanField(_("strategic emerging industry"), default=False)
    is_government_platform = models.BooleanField(_("government financing platform"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("borrower")
        verbose_name_plural = _("borrowers")
        constraints = [models.UniqueConstraint(fields=["owner", "id_number"], name="borrower_unique_per_owner")]

    def __str__(self) -> str:
        return self.name

    @property
    def size(self) -> str:
        """The size used by the rules: the entered one (with evidence) wins over the derived one."""
        return self.size_entered or self.size_derived


class BorrowerQualification(models.Model):
    """A dated qualification of a borrower (high-tech, specialised-new …), used by RP-9."""

    borrower = models.ForeignKey(Borrower, on_delete=models.CASCADE, related_name="qualifications")
    code = models.CharField(_("qualification"), max_length=40)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")

    def __str__(self) -> str:
        return f"{self.code} {self.valid_from}–{self.valid_to or ''}"


SHARE_SUM = (
    F("share_bank") + F("share_firm") + F("share_reguarantee") + F("share_national_fund") + F("share_government")
)


class Agreement(models.Model):
    """银担合作协议 between one guarantee firm and one bank, with its risk-sharing split (GU-1, GU-2)."""

    class BatchMode(models.TextChoices):
        NONE = "none", _("Case by case")
        LOAN_FIRST = "loan_first", _("见贷即担 (guarantee follows the loan)")
        GUARANTEE_FIRST = "guarantee_first", _("见担即贷 (loan follows the guarantee)")
        LOAN_INSURED = "loan_insured", _("见贷即保")

    firm = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="firm_agreements", verbose_name=_("guarantee firm"))
    bank = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="bank_agreements", verbose_name=_("bank"))
    code = models.CharField(_("agreement number"), max_length=60)
    signed_on = models.DateField(_("signed on"))
    expires_on = models.DateField(_("expires on"))
    grace_days = models.PositiveIntegerField(  # 代偿宽限期, GU-4
        _("grace period for compensation (days)"), validators=[MaxValueValidator(MAX_GRACE_DAYS)])
    deposit_ratio = RatioField(_("deposit ratio"), default=Decimal("0"))  # 保证金比例
    batch_mode = models.CharField(_("batch mode"), max_length=20, choices=BatchMode.choices, default=BatchMode.NONE)
    share_bank = RatioField(_("bank share"))
    share_firm = RatioField(_("guarantee firm share"))
    share_reguarantee = RatioField(_("re-guarantee share"))
    share_national_fund = RatioField(_("national fund share"))
    share_government = RatioField(_("government fund share"), default=Decimal("0"))
    loss_base_includes_interest = models.BooleanField(_("loss base includes interest"), default=False)  # GU-3
    compliant = models.BooleanField(_("compliant with GU-2"), default=True, db_index=True)
    problems = models.JSONField(_("problems"), default=list, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-signed_on", "code"]
        verbose_name = _("bank-guarantee agreement")
        verbose_name_plural = _("bank-guarantee agreements")
        constraints = [
            models.UniqueConstraint(fields=["firm", "code"], name="agreement_unique_code_per_firm"),
            models.CheckConstraint(condition=Q(expires_on__gte=models.F("signed_on")), name="agreement_dates_ordered"),
            models.CheckConstraint(condition=Q(grace_days__lte=MAX_GRACE_DAYS), name="agreement_grace_days_bounded"),
            # GU-1 at the database too. Shares have 6 decimals, so on PostgreSQL the band means
            # exactly 1; the band tolerates SQLite's binary arithmetic in the quick start.
            models.CheckConstraint(
                condition=Q(
                    share_bank__gte=0, share_bank__lte=1, share_firm__gte=0, share_firm__lte=1,
                    share_reguarantee__gte=0, share_reguarantee__lte=1, share_national_fund__gte=0,
                    share_national_fund__lte=1, share_government__gte=0, share_government__lte=1,
                ),
                name="agreement_shares_in_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    GreaterThanOrEqual(SHARE_SUM, Value(Decimal("0.9999995"))),
                    LessThanOrEqual(SHARE_SUM, Value(Decimal("1.0000005"))),
                ),
                name="agreement_shares_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.firm} / {self.bank})"

    def shares(self) -> dict[str, Decimal]:
        return {
            "bank": self.share_bank,
            "guarantee_firm": self.share_firm,
            "reguarantee": self.share_reguarantee,
            "national_fund": self.share_national_fund,
            "government": self.share_government,
        }


class Guarantee(models.Model):
    """担保业务: one guaranteed loan."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")  # 在保
        RELEASED = "released", _("Released")  # 解保
        DEFAULTED = "defaulted", _("Defaulted")  # 逾期
        COMPENSATED = "compensated", _("Compensated")  # 代偿
        RECOVERING = "recovering", _("Recovering")  # 追偿
        RECOVERED = "recovered", _("Closed by full recovery")
        WRITTEN_OFF = "written_off", _("Written off")  # 核销

    class Purpose(models.TextChoices):
        OPERATIONS = "operations", _("Business operations")
        GOVERNMENT_BOND = "government_bond", _("Government bond issue")
        GOVERNMENT_PLATFORM = "government_platform", _("Government financing platform")

    firm = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="firm_guarantees", verbose_name=_("guarantee firm"))
    bank = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="bank_guarantees", verbose_name=_("bank"))
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="guarantees", verbose_name=_("agreement"))
    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="guarantees", verbose_name=_("borrower"))
    contract_no = models.CharField(_("guarantee contract number"), max_length=60)
    loan_principal = MoneyField(_("loan principal"))
    amount = MoneyField(_("guaranteed amount"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    loan_start = models.DateField(_("loan start"))
    loan_maturity = models.DateField(_("loan maturity"))
    start = models.DateField(_("guarantee start"))
    end = models.DateField(_("guarantee end"))
    fee_rate = RatioField(_("annual guarantee fee rate"))
    other_fees = MoneyField(_("other fees charged"), default=Decimal("0"))
    # GU-5 on the bank (seed 000 (十一), 马政办 第七条): fees the lending bank charged besides interest.
    bank_fees = MoneyField(_("fees charged by the bank"), default=Decimal("0"))
    bank_fee_violation = models.BooleanField(_("bank fee violation (GU-5)"), default=False, editable=False)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.OPERATIONS)
    reguaranteed = models.BooleanField(_("re-guaranteed"), default=False)
    national_fund_scope = models.BooleanField(_("in the national fund's scope"), default=False)
    recommended_by_bank = models.BooleanField(_("recommended by the bank"), default=False)  # GU-10
    # RP-M3: the Scheme M policy loan product (政策性贷款产品) of the loan, for the product's rates.
    product = models.ForeignKey("riskpool.Product", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="guarantees", verbose_name=_("policy loan product"))
    small_micro_or_agri = models.BooleanField(_("small-micro or 三农"), default=False, editable=False)  # GU-5, GU-7
    single_borrower_amount = MoneyField(_("single-borrower guaranteed amount"), editable=False, default=Decimal("0"))  # 单户担保金额
    fee_compliant = models.BooleanField(_("fee compliant (GU-5)"), default=True, db_index=True)
    problems = models.JSONField(_("problems"), default=list, blank=True, encoder=DjangoJSONEncoder)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    # The day the liability ended (release, or compensation paid): GU-8's balance on any date.
    closed_on = models.DateField(_("liability ended on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start", "-id"]
        verbose_name = _("guarantee")
        verbose_name_plural = _("guarantees")
        constraints = [
            models.UniqueConstraint(fields=["firm", "contract_no"], name="guarantee_unique_contract_per_firm"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="guarantee_amount_positive"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="guarantee_dates_ordered"),
            models.CheckConstraint(condition=Q(loan_maturity__gte=models.F("loan_start")), name="guarantee_loan_dates_ordered"),
            models.CheckConstraint(condition=Q(fee_rate__gte=0, other_fees__gte=0), name="guarantee_fees_not_negative"),
            models.CheckConstraint(condition=Q(bank_fees__gte=0), name="guarantee_bank_fees_not_negative"),
        ]
        indexes = [
            # A firm's list by start date, and the dashboard's open quarter (issue 12): the business
            # written and the liabilities ended in the quarter, read from these two indexes alone
            # (index-only scans: the columns summed are included) instead of a heap page per row.
            models.Index(fields=["firm", "start"], include=["amount", "fee_rate", "small_micro_or_agri",
                                                            "single_borrower_amount", "closed_on"],
                         name="guarantee_firm_start"),
            models.Index(fields=["firm", "status"]),
            models.Index(fields=["bank", "start"]),
            models.Index(fields=["firm", "closed_on"], include=["amount", "start"], name="guarantee_firm_closed_on"),
            # A compensation's guarantee looked up for its firm and bank only (GU-4's overdue list
            # and the dashboard's compensation sums): an index-only probe, not a random read of
            # the million-row table per compensation (issue 12).
            models.Index(fields=["id"], include=["firm", "bank"], name="guarantee_id_parties"),
            models.Index(fields=["borrower", "status"]),
            # The guarantee list's two orders (start, the default, and amount; either direction)
            # and its start-date filter: without them the first page for someone who sees a
            # whole province sorts every row they can see (1,000,000 rows: about 2 s).
            models.Index(fields=["start", "id"], name="guarantee_start_id"),
            models.Index(fields=["amount", "id"], name="guarantee_amount_id"),
            # GU-10: a firm's partner banks (measured 120 → 12 ms for a firm with 150k guarantees).
            models.Index(fields=["firm", "bank"], name="guarantee_firm_bank"),
            # GU-5 on the banks: the dashboard counts each firm's stored bank-fee violations; a
            # partial index holds only those few rows (without it: every guarantee of every firm).
            models.Index(fields=["firm"], condition=Q(bank_fee_violation=True), name="guarantee_bank_fee_violation"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_no} {self.borrower}"


class Compensation(models.Model):
    """代偿 of one defaulted guarantee, with the loss allocated to every party (GU-3, GU-4)."""

    guarantee = models.OneToOneField(Guarantee, on_delete=models.PROTECT, related_name="compensation")
    default_on = models.DateField(_("default date"))
    due_on = models.DateField(_("compensation due on"), db_index=True)  # GU-4
    principal = MoneyField(_("unpaid principal"))
    interest = MoneyField(_("unpaid interest"), default=Decimal("0"))
    penalty_interest = MoneyField(_("penalty interest"), default=Decimal("0"))  # kept apart, never in the base
    base = MoneyField(_("loss base"))
    shares = models.JSONField(_("shares applied"), encoder=DjangoJSONEncoder)
    part_bank = MoneyField(_("bank's part"))
    part_firm = MoneyField(_("firm's part"))
    part_reguarantee = MoneyField(_("re-guarantee part"))
    part_national_fund = MoneyField(_("national fund part"))
    part_government = MoneyField(_("government part"))
    paid_on = models.DateField(_("paid on"), null=True, blank=True, db_index=True)
    paid_amount = MoneyField(_("paid to the bank"), null=True, blank=True)
    written_off_on = models.DateField(_("written off on"), null=True, blank=True)
    written_off_amount = MoneyField(_("written-off amount"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-default_on"]
        verbose_name = _("compensation")
        verbose_name_plural = _("compensations")
        constraints = [
            models.CheckConstraint(
                condition=Q(base=models.F("part_bank") + models.F("part_firm") + models.F("part_reguarantee")
                            + models.F("part_national_fund") + models.F("part_government")),
                name="compensation_parts_add_up",
            ),
        ]
        indexes = [models.Index(fields=["due_on"], condition=Q(paid_on__isnull=True), name="compensation_unpaid_due")]

    def __str__(self) -> str:
        return f"{self.guarantee} {self.default_on}"

    def parts(self) -> dict[str, Decimal]:
        return {
            "bank": self.part_bank,
            "guarantee_firm": self.part_firm,
            "reguarantee": self.part_reguarantee,
            "national_fund": self.part_national_fund,
            "government": self.part_government,
        }


class RecoveryAction(models.Model):
    """A recorded recovery effort; GU-13 requires one before a write-off."""

    class Kind(models.TextChoices):
        COLLECTION_NOTICE = "collection_notice", _("Collection notice")
        NEGOTIATION = "negotiation", _("Negotiation")
        LITIGATION = "litigation", _("Litigation")
        ARBITRATION = "arbitration", _("Arbitration")
        ENFORCEMENT = "enforcement", _("Enforcement")
        COLLATERAL_SALE = "collateral_sale", _("Collateral sale")
        OTHER = "other", _("Other")

    compensation = models.ForeignKey(Compensation, on_delete=models.PROTECT, related_name="actions")
    on = models.DateField(_("date"))
    kind = models.CharField(_("action"), max_length=20, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-on", "-id"]
        verbose_name = _("recovery action")
        verbose_name_plural = _("recovery actions")

    def __str__(self) -> str:
        return f"{self.on} {self.get_kind_display()}"


class Recovery(models.Model):
    """追偿回收: money recovered after a compensation, shared back by the split (GU-13)."""

    class Source(models.TextChoices):
        BORROWER = "borrower", _("Borrower")
        COUNTER_GUARANTOR = "counter_guarantor", _("Counter-guarantor")
        COLLATERAL_SALE = "collateral_sale", _("Collateral sale")
        OTHER = "other", _("Other")

    compensation = models.ForeignKey(Compensation, on_delete=models.PROTECT, related_name="recoveries")
    received_on = models.DateField(_("received on"))
    gross = MoneyField(_("gross amount"))
    cost_litigation = MoneyField(_("litigation costs"), default=Decimal("0"))
    cost_arbitration = MoneyField(_("arbitration costs"), default=Decimal("0"))
    cost_enforcement = MoneyField(_("enforcement costs"), default=Decimal("0"))
    net = MoneyField(_("net amount"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    after_write_off = models.BooleanField(_("after write-off"), default=False)
    part_bank = MoneyField(_("bank's part"))
    part_firm = MoneyField(_("firm's part"))
    part_reguarantee = MoneyField(_("re-guarantee part"))
    part_national_fund = MoneyField(_("national fund part"))
    part_government = MoneyField(_("government part"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("recovery")
        verbose_name_plural = _("recoveries")
        constraints = [
            models.CheckConstraint(condition=Q(gross__gte=0, net__gte=0), name="recovery_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.received_on} {self.net}"


class FirmIndicatorSnapshot(models.Model):
    """JB-5: a guarantee firm's indicators at a quarter end (GU-6 … GU-9)."""

    firm = models.ForeignKey("core.Organisation", on_delete=models.CASCADE, related_name="indicator_snapshots")
    period = models.CharField(_("period"), max_length=7)  # "2025Q1"
    as_of = models.DateField(_("as of"))
    balance = MoneyField(_("guarantee balance"))  # 融资担保责任余额
    net_assets = MoneyField(_("net assets"), null=True, blank=True)
    leverage = RatioField(_("leverage"), null=True, blank=True)  # GU-8
    written_amount = MoneyField(_("written in the period"))
    avg_fee_rate = RatioField(_("average fee rate"), null=True, blank=True)  # GU-6
    support_share = RatioField(_("support share"), null=True, blank=True)  # GU-7
    small_amount_share = RatioField(_("share of ≤5m business"), null=True, blank=True)  # GU-7
    compensation_paid = MoneyField(_("compensation paid"))
    released_amount = MoneyField(_("released"))
    compensation_rate = RatioField(_("compensation rate"), null=True, blank=True)  # GU-9
    # GU-4 as of the quarter's end; empty in snapshots taken before it was kept (the dashboard
    # then sums that quarter live).
    overdue_compensations = models.PositiveIntegerField(_("overdue compensations"), null=True, blank=True)
    # CG-14 (written by counterguarantee's JB-5 part): guarantees started in the quarter whose
    # counter-guarantee plan is decided, and those of them with a mortgage or pledge.
    planned_guarantees = models.PositiveIntegerField(_("guarantees with a decided plan"), default=0)
    collateral_guarantees = models.PositiveIntegerField(_("of them with a mortgage or pledge"), default=0)
    credit_share = RatioField(_("credit-business share"), null=True, blank=True)  # CG-14
    job_run = models.ForeignKey("core.JobRun", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-period", "firm"]
        verbose_name = _("indicator snapshot")
        verbose_name_plural = _("indicator snapshots")
        constraints = [models.UniqueConstraint(fields=["firm", "period"], name="snapshot_unique_firm_period")]
        indexes = [models.Index(fields=["period"])]

    def __str__(self) -> str:
        return f"{self.firm} {self.period}"
