"""The loan risk compensation pool (spec: riskpool.md). Scheme S reimburses member banks for
non-performing SME loans; Scheme M reimburses guarantee firms for their payouts."""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, RatioField


class Pool(models.Model):
    """A compensation fund with its ledger. ``balance`` is the sum of the ledger, kept on the row
    so a payout can lock one row (select_for_update) and never spend the same yuan twice (RP-1)."""

    class Scheme(models.TextChoices):
        S = "S", _("Scheme S: banks reimbursed for non-performing loans")
        M = "M", _("Scheme M: guarantee firms reimbursed for payouts")

    name = models.CharField(_("name"), max_length=200)
    scheme = models.CharField(_("scheme"), max_length=1, choices=Scheme.choices)
    size = MoneyField(_("size"))  # RP-1, RP-M2
    authority = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("authority"))
    reviewer = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="+", null=True, blank=True, verbose_name=_("reviewer"))
    treasurer = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="+", null=True, blank=True, verbose_name=_("treasurer"))
    # 监管执行部门 (第十九条(七)): approves write-off closures after the authority (RP-16 8c).
    finance_bureau = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="+", null=True,
                                       blank=True, verbose_name=_("finance bureau"))
    balance = MoneyField(_("balance"), default=Decimal("0"), editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("pool")
        verbose_name_plural = _("pools")
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="pool_balance_not_negative")]

    def __str__(self) -> str:
        return self.name


class LedgerEntry(models.Model):
    """Every movement of pool money (RP-1). Positive in, negative out; never changed."""

    class Kind(models.TextChoices):
        BUDGET = "budget", _("Budget allocation")
        PAYOUT = "payout", _("Payout")
        RETURN_UPGRADE = "return_upgrade", _("Return after upgrade")
        RETURN_RECOVERY = "return_recovery", _("Return of a recovery")
        CLAWBACK = "clawback", _("Claw-back")
        CLAWBACK_INTEREST = "clawback_interest", _("Claw-back interest")
        INTEREST = "interest", _("Interest earned")

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = MoneyField(_("amount"))
    balance_after = MoneyField(_("balance after"))
    claim = models.ForeignKey("riskpool.Claim", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries")
    m_claim = models.ForeignKey("riskpool.MClaim", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries")
    booked_on = models.DateField(_("booked on"))
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_not_negative"),
        ]
        indexes = [models.Index(fields=["pool", "kind", "booked_on"])]

    def __str__(self) -> str:
        return f"{self.booked_on} {self.get_kind_display()} {self.amount}"


class Member(models.Model):
    """加盟银行 of a Scheme S pool, or a guarantee firm of a Scheme M pool."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="members")
    organisation = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="pool_memberships")
    joined_on = models.DateField(_("joined on"))
    revoked_on = models.DateField(_("membership revoked on"), null=True, blank=True)  # RP-22
    may_reapply_on = models.DateField(_("may apply again on"), null=True, blank=True)
    dishonest = models.BooleanField(_("on the serious-dishonesty list"), default=False)  # RP-24
    # RP-15, recomputed by JB-4 and after every classification change.
    npl_ratio = RatioField(_("NPL ratio"), null=True, blank=True)
    npl_principal = MoneyField(_("non-performing principal"), default=Decimal("0"))
    entered_principal = MoneyField(_("entered principal"), default=Decimal("0"))
    npl_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [models.UniqueConstraint(fields=["pool", "organisation"], name="member_unique")]

    def __str__(self) -> str:
        return f"{self.organisation} @ {self.pool}"


class LoanProject(models.Model):
    """贷款项目: one loan a member bank entered. Its library is a state, not a copy (spec)."""

    class LoanKind(models.TextChoices):
        ENTERPRISE = "enterprise", _("Enterprise loan")
        OWNER = "owner", _("Small-micro enterprise owner loan")
        INDIVIDUAL_BUSINESS = "individual_business", _("Individual business loan")

    class Library(models.TextChoices):
        LOAN = "loan", _("Loan library")  # 贷款项目库
        COMPENSATION = "compensation", _("Compensation library")  # 风险补偿项目库
        SETTLEMENT = "settlement", _("Settlement library")  # 清偿项目库
        CLOSED = "closed", _("Closed")

    class Classification(models.TextChoices):
        NORMAL = "normal", _("Normal")  # 正常
        SPECIAL_MENTION = "special_mention", _("Special mention")  # 关注
        SUBSTANDARD = "substandard", _("Substandard")  # 次级
        DOUBTFUL = "doubtful", _("Doubtful")  # 可疑
        LOSS = "loss", _("Loss")  # 损失

    class Purpose(models.TextChoices):
        OPERATIONS = "operations", _("Own production and operation")
        RELENDING = "relending", _("Re-lending")  # 转贷
        ENTRUSTED = "entrusted", _("Entrusted loan")  # 委托贷款
        M_AND_A = "m_and_a", _("Merger and acquisition")  # 并购贷款
        PROHIBITED = "prohibited", _("Prohibited or restricted project")
        PRIVATE_LENDING = "private_lending", _("Private lending")
        CAPITAL_MARKET = "capital_market", _("Capital-market investment")
        CONSUMPTION = "consumption", _("Personal consumption")

    class ClosedReason(models.TextChoices):
        REPAID = "repaid", _("Repaid at maturity")
        AUTO = "auto", _("Closed automatically 6 months after maturity")  # RP-18
        SETTLED = "settled", _("Disposal complete")
        WRITE_OFF = "write_off", _("Write-off closure")

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="projects")
    bank = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="loan_projects", verbose_name=_("bank"))
    borrower = models.ForeignKey("guarantees.Borrower", on_delete=models.PROTECT, related_name="loan_projects", verbose_name=_("borrower"))
    loan_no = models.CharField(_("loan note number"), max_length=60)  # 借据号
    loan_kind = models.CharField(_("loan kind"), max_length=20, choices=LoanKind.choices)
    principal = MoneyField(_("principal"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    principal_yuan = MoneyField(_("principal in yuan"))  # RP-5
    fx_kind = models.CharField(_("exchange rate used"), max_length=20, blank=True)
    disbursed_on = models.DateField(_("disbursed on"))
    maturity_on = models.DateField(_("maturity"))
    annual_rate = RatioField(_("annual interest rate"))
    guarantee_method = models.CharField(_("guarantee method"), max_length=20)
    other_balance = MoneyField(_("other working-capital balance at disbursement"))  # RP-4
    features = models.JSONField(_("loan features"), default=list, blank=True)  # RP-10
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.OPERATIONS)
    covered_by_other_scheme = models.BooleanField(_("insured, guaranteed or otherwise compensated"), default=False)  # RP-7
    # RP-M3: the Scheme M policy loan product (政策性贷款产品) the loan belongs to, for the product's NPL rate.
    product = models.ForeignKey("riskpool.Product", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="loan_projects", verbose_name=_("policy loan product"))
    entered_on = models.DateField(_("entered on"))
    library = models.CharField(_("library"), max_length=12, choices=Library.choices, default=Library.LOAN)
    classification = models.CharField(_("classification"), max_length=16, choices=Classification.choices, default=Classification.NORMAL)
    classified_on = models.DateField(_("classified on"))
    # RP-6: an NPL classification dated before entry means the project is never compensated.
    npl_before_entry = models.BooleanField(default=False, editable=False)
    # RP-15: 本金余额 at the NPL date, in yuan, from the claim (None until a claim gives it).
    outstanding_yuan = MoneyField(_("outstanding principal in yuan"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closed_reason = models.CharField(_("closed because"), max_length=10, choices=ClosedReason.choices, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    NPL_CLASSES = (Classification.SUBSTANDARD, Classification.DOUBTFUL, Classification.LOSS)

    class Meta:
        ordering = ["-disbursed_on", "-id"]
        verbose_name = _("loan project")
        verbose_name_plural = _("loan projects")
        constraints = [
            models.UniqueConstraint(fields=["bank", "loan_no"], name="project_unique_loan_no_per_bank"),
            models.CheckConstraint(condition=Q(principal__gt=0, principal_yuan__gt=0), name="project_principal_positive"),
            models.CheckConstraint(condition=Q(maturity_on__gte=models.F("disbursed_on")), name="project_dates_ordered"),
        ]
        indexes = [
            models.Index(fields=["pool", "bank", "disbursed_on"]),
            models.Index(fields=["bank", "library", "classification"]),
            models.Index(fields=["library", "maturity_on"]),
            # bench_riskpool at 1,000,000 loans: the project list's page 1 in its default order
            # walks this index instead of sorting every visible row (4–6 s → 0.2 s), and JB-5's
            # entries per bank (RP-6) reads one quarter of entry dates.
            models.Index(fields=["-disbursed_on", "-id"], name="project_list_order"),
            models.Index(fields=["-principal_yuan", "-id"], name="project_by_principal"),
            models.Index(fields=["maturity_on", "id"], name="project_by_maturity"),
            models.Index(fields=["loan_no"], name="project_loan_no_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["entered_on"], name="project_entered_on"),
            # RP-15 figures of a bank (members_refresh_npl, after every entry and by JB-4) from the
            # index alone: 280 ms → 50 ms for a bank with 110,000 loans.
            models.Index(fields=["pool", "bank"], include=["classification", "closed_reason", "principal_yuan"],
                         name="project_npl_figures"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_no} {self.borrower}"

    @property
    def is_npl(self) -> bool:
        return self.classification in self.NPL_CLASSES


class Classification(models.Model):
    """Each five-category classification change of a project, dated (RP-14, RP-15, RP-16 8a)."""

    project = models.ForeignKey(LoanProject, on_delete=models.CASCADE, related_name="classifications")
    on = models.DateField(_("date"))
    old = models.CharField(_("from"), max_length=16, choices=LoanProject.Classification.choices)
    new = models.CharField(_("to"), max_length=16, choices=LoanProject.Classification.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-on", "-id"]
        verbose_name = _("classification change")
        verbose_name_plural = _("classification changes")

    def __str__(self) -> str:
        return f"{self.on} {self.old} → {self.new}"


class FundingPlan(models.Model):
    """资助计划: the authority's batch of claims to be paid (RP-16 step 4)."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="funding_plans")
    number = models.CharField(_("plan number"), max_length=60)
    issued_on = models.DateField(_("issued on"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = _("funding plan")
        verbose_name_plural = _("funding plans")
        constraints = [models.UniqueConstraint(fields=["pool", "number"], name="plan_unique_number")]

    def __str__(self) -> str:
        return self.number


class Claim(models.Model):
    """风险补偿申请 of one loan project, through the workflow of RP-16."""

    project = models.ForeignKey(LoanProject, on_delete=models.PROTECT, related_name="claims")
    # The project's pool, kept on the claim so the pool's pages and jobs count its claims without
    # joining every loan project of the pool (1,000,000 in a city); set from the project on save.
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="claims", editable=False)
    state = models.CharField(_("state"), max_length=24, db_index=True)
    submitted_on = models.DateField(_("submitted on"))
    npl_on = models.DateField(_("classified non-performing on"))
    outstanding_principal = MoneyField(_("outstanding principal at the NPL date"))
    credit_report_on = models.DateField(_("credit report date"))
    ratio = RatioField(_("compensation ratio"))
    amount = MoneyField(_("compensation amount"))
    reasons = models.JSONField(_("rule results"), default=list, encoder=DjangoJSONEncoder)
    held_reason = models.CharField(_("held because"), max_length=255, blank=True)  # RP-15
    re_review_used = models.BooleanField(default=False)  # RP-16 step 2: once only
    decision_note = models.TextField(_("reviewer's reasons"), blank=True)
    # Deadlines of the step that is due next, computed by the services from riskpool.rules.
    next_due_on = models.DateField(_("next step due"), null=True, blank=True, db_index=True)
    next_due_provisional = models.BooleanField(default=False)
    # JB-1: while a deadline is provisional, the latest date it could turn out to be; the bank is
    # held to this one (equal to next_due_on once the year is confirmed).
    next_due_latest = models.DateField(_("next step due at the latest"), null=True, blank=True)
    notice_start = models.DateField(_("notice from"), null=True, blank=True)
    notice_end = models.DateField(_("notice until"), null=True, blank=True)
    # JB-1: the notice's latest possible end in a provisional year; objections are taken and the
    # notice stays open until then (equal to notice_end once the year is confirmed).
    notice_end_latest = models.DateField(_("notice until at the latest"), null=True, blank=True)
    funding_plan = models.ForeignKey(FundingPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="claims")
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    paid_amount = MoneyField(_("paid"), default=Decimal("0"))
    returned_amount = MoneyField(_("returned"), default=Decimal("0"))
    # RP-16 8a: the day the compensated loan was reclassified normal or special mention (上调之日);
    # the bank's upgrade application is due 15 working days later.
    reclassified_on = models.DateField(_("reclassified as performing on"), null=True, blank=True)
    # RP-16 8b: the day the bank's disposal of the loan was complete; the settlement application
    # is due 15 working days later.
    disposal_completed_on = models.DateField(_("disposal completed on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-submitted_on", "-id"]
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        constraints = [
            models.CheckConstraint(condition=Q(returned_amount__lte=models.F("paid_amount")), name="claim_returns_within_paid"),
            # One claim per project (RP-21: duplicate claims are a violation); a withdrawn claim, or
            # one whose loan was upgraded back to the loan library (8a), makes room for a new one.
            models.UniqueConstraint(
                fields=["project"], condition=~Q(state__in=["withdrawn", "upgraded"]), name="claim_one_per_project"
            ),
        ]
        indexes = [models.Index(fields=["pool", "state"], name="claim_pool_state")]

    def __str__(self) -> str:
        return f"{self.project} {self.state}"

    def save(self, *args, **kwargs):
        if self.pool_id is None and self.project_id is not None:
            self.pool_id = self.project.pool_id
        super().save(*args, **kwargs)


class ClaimStep(models.Model):
    """Each state change of a claim: who, when, from, to, why."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="steps")
    old = models.CharField(max_length=24, blank=True)
    new = models.CharField(max_length=24)
    on = models.DateField(_("date"))
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("claim step")
        verbose_name_plural = _("claim steps")

    def __str__(self) -> str:
        return f"{self.on} {self.old} → {self.new}"


class ClaimDocument(models.Model):
    class Kind(models.TextChoices):
        CREDIT_REPORT = "credit_report", _("Credit report")  # RP-4, RP-14
        LOAN_FILE = "loan_file", _("Loan file")  # 贷款项目相关资料, RP-14
        CLAIM_FORM = "claim_form", _("Claim form")
        ACCOUNT_CONFIRMATION = "account_confirmation", _("Account confirmation")  # RP-16 step 5
        RECEIPT = "receipt", _("Receipt")
        ID_COPY = "id_copy", _("ID copy")
        AUTHORISATION = "authorisation", _("Authorisation")
        OTHER = "other", _("Other")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="claims/%Y/%m/")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("claim document")
        verbose_name_plural = _("claim documents")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file.name}"


class Objection(models.Model):
    """异议 filed by anyone during a claim's public notice (RP-16 step 3)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        UPHELD = "upheld", _("Upheld")
        DISMISSED = "dismissed", _("Dismissed")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="objections")
    filed_at = models.DateTimeField(auto_now_add=True)
    name = models.CharField(_("name"), max_length=100)
    contact = models.CharField(_("contact"), max_length=100)
    text = models.TextField(_("objection"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decision_note = models.TextField(_("decision"), blank=True)

    class Meta:
        ordering = ["-filed_at"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return f"{self.claim} {self.status}"


class RecoveryReport(models.Model):
    """清收 on a compensated project and the return it owes the pool (RP-16 8b, RP-17)."""

    class Method(models.TextChoices):
        COLLECTION = "collection", _("Collection")
        PACKAGE_SALE = "package_sale", _("Package sale")
        TRANSFER = "transfer", _("Transfer")
        SECURITISATION = "securitisation", _("Securitisation")
        REALISED_ASSETS = "realised_assets", _("Realised assets")

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="recoveries")
    received_on = models.DateField(_("received on"))
    gross = MoneyField(_("gross recovery"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    return_amount = MoneyField(_("amount to return"))
    report_due_on = models.DateField(_("report due"))
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("recovery report")
        verbose_name_plural = _("recovery reports")
        constraints = [models.CheckConstraint(condition=Q(gross__gt=0, return_amount__gte=0), name="recovery_report_amounts")]

    def __str__(self) -> str:
        return f"{self.received_on} {self.gross}"


class NilRecoveryReport(models.Model):
    """零清收报告 (RP-16 8b, RP-17; 第十九条(六)): the bank states that nothing was recovered on a
    compensated claim in the closed quarter ``period`` ("2025Q1"). A quarter with no recovery owes
    no report; this one makes it explicit, and the quarterly close no longer lists the claim as
    unreported for that quarter."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="nil_recovery_reports",
                              verbose_name=_("claim"))
    period = models.CharField(_("quarter"), max_length=6)
    filed_on = models.DateField(_("filed on"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                 verbose_name=_("filed by"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period", "-id"]
        verbose_name = _("nil recovery report")
        verbose_name_plural = _("nil recovery reports")
        constraints = [models.UniqueConstraint(fields=["claim", "period"], name="nil_recovery_report_unique")]

    def __str__(self) -> str:
        return f"{self.period} {self.claim_id} nil"


class Product(models.Model):
    """A Scheme M product sub-fund (RP-M2); products sharing ``subfund`` share one size."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="products")
    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=100)
    subfund = models.CharField(_("sub-fund"), max_length=30)
    size = MoneyField(_("sub-fund size"))
    # RP-M3 (第十条(二)), JB-4: the product-wide trigger, cumulative reimbursements of the sub-fund
    # at 70% of its size; the 4% triggers suspend one party at a time (ProductPartySuspension).
    suspended = models.BooleanField(_("new business suspended"), default=False)
    suspended_since = models.DateField(_("suspended since"), null=True, blank=True)
    suspension_reasons = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [models.UniqueConstraint(fields=["pool", "code"], name="product_unique_code")]

    def __str__(self) -> str:
        return self.name


class ProductPartySuspension(models.Model):
    """RP-M3 (第十条(一)): one guarantee firm's or bank's new business in one product suspended,
    from ``since`` until ``lifted_on`` (open while empty): a firm whose compensation rate on the
    product's guarantees (担保代偿率), or a bank whose NPL rate on the product's loans (专项产品贷款
    不良率), exceeds 4%. Written by JB-4 and after every payout; a row is never deleted, so the
    business date of a guarantee or loan can be checked against the suspensions then in force."""

    class Role(models.TextChoices):
        FIRM = "firm", _("Guarantee firm")
        BANK = "bank", _("Bank")

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="party_suspensions",
                                verbose_name=_("product"))
    organisation = models.ForeignKey("core.Organisation", on_delete=models.PROTECT,
                                     related_name="product_suspensions", verbose_name=_("party"))
    role = models.CharField(_("role"), max_length=4, choices=Role.choices)
    rate = RatioField(_("rate"))
    since = models.DateField(_("suspended since"))
    lifted_on = models.DateField(_("lifted on"), null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["product", "organisation", "-since"]
        verbose_name = _("suspension of a party's new business")
        verbose_name_plural = _("suspensions of parties' new business")
        constraints = [
            models.UniqueConstraint(fields=["product", "organisation"], condition=Q(lifted_on__isnull=True),
                                    name="product_party_suspension_one_open"),
            models.CheckConstraint(condition=Q(lifted_on__isnull=True) | Q(lifted_on__gte=models.F("since")),
                                   name="product_party_suspension_dates_ordered"),
        ]
        indexes = [models.Index(fields=["organisation", "product", "since"])]

    def __str__(self) -> str:
        return f"{self.organisation} @ {self.product} {self.since}–{self.lifted_on or ''}"


class MClaim(models.Model):
    """A guarantee firm's claim on a Scheme M product for a compensation it paid (RP-M1 … RP-M5)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="claims")
    firm = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="m_claims")
    compensation = models.OneToOneField("guarantees.Compensation", on_delete=models.PROTECT, related_name="m_claim")
    state = models.CharField(_("state"), max_length=16, db_index=True)
    submitted_on = models.DateField(_("submitted on"))
    payout = MoneyField(_("actual compensation payout"))
    ratio = RatioField(_("ratio"))
    amount = MoneyField(_("reimbursement"))
    reasons = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    paid_on = models.DateField(null=True, blank=True)
    returned_amount = MoneyField(default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-submitted_on", "-id"]
        verbose_name = _("Scheme M claim")
        verbose_name_plural = _("Scheme M claims")

    def __str__(self) -> str:
        return f"{self.firm} {self.compensation_id} {self.state}"


class BankEvaluation(models.Model):
    """年度考核 (RP-20, RP-22) of one member bank for one year, written by JB-7 and replaced, never
    added to, when the year is evaluated again (JB-12)."""

    class Grade(models.TextChoices):
        EXCELLENT = "excellent", _("Excellent")  # 优秀
        GOOD = "good", _("Good")  # 良好
        QUALIFIED = "qualified", _("Qualified")  # 合格
        UNQUALIFIED = "unqualified", _("Unqualified")  # 不合格

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="bank_evaluations", verbose_name=_("pool"))
    year = models.PositiveSmallIntegerField(_("year"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("member"))
    amount = MoneyField(_("amount lent in the year"))  # A
    borrowers = models.PositiveIntegerField(_("borrowers in the year"))  # N
    prev_amount = MoneyField(_("amount lent in the previous year"), null=True, blank=True)
    prev_borrowers = models.PositiveIntegerField(_("borrowers in the previous year"), null=True, blank=True)
    growth = RatioField(_("growth of the amount lent"), null=True, blank=True)  # G
    rank_amount = models.PositiveIntegerField(_("rank on the amount lent"))
    rank_borrowers = models.PositiveIntegerField(_("rank on borrowers"))
    rank_growth = models.PositiveIntegerField(_("rank on growth"), null=True, blank=True)
    violation = models.BooleanField(_("violation recorded in the year"), default=False)  # RP-21
    grade = models.CharField(_("grade"), max_length=12, choices=Grade.choices)
    job_run = models.ForeignKey("core.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("job run"))

    class Meta:
        ordering = ["pool", "-year", "rank_amount", "member"]
        verbose_name = _("annual bank evaluation")
        verbose_name_plural = _("annual bank evaluations")
        constraints = [models.UniqueConstraint(fields=["pool", "year", "member"], name="bank_evaluation_unique")]

    def __str__(self) -> str:
        return f"{self.year} {self.member} {self.grade}"


class HalfYearReport(models.Model):
    """半年度统计报告 (RP-23) of one member bank for one half-year ("2025H1"), written by JB-6 and
    replaced when the half-year is reported again (JB-12)."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="half_year_reports", verbose_name=_("pool"))
    period = models.CharField(_("half-year"), max_length=6)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="half_year_reports",
                               verbose_name=_("member"))
    claims_submitted = models.PositiveIntegerField(_("claims submitted"), default=0)
    claims_approved = models.PositiveIntegerField(_("claims approved"), default=0)
    claims_paid = models.PositiveIntegerField(_("claims paid"), default=0)
    paid_amount = MoneyField(_("compensation paid"), default=Decimal("0"))
    returned_amount = MoneyField(_("money returned"), default=Decimal("0"))
    recoveries_gross = MoneyField(_("gross recoveries"), default=Decimal("0"))
    closures = models.PositiveIntegerField(_("projects closed"), default=0)
    job_run = models.ForeignKey("core.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("job run"))

    class Meta:
        ordering = ["pool", "-period", "member"]
        verbose_name = _("half-year report")
        verbose_name_plural = _("half-year reports")
        constraints = [models.UniqueConstraint(fields=["pool", "period", "member"], name="half_year_report_unique")]

    def __str__(self) -> str:
        return f"{self.period} {self.member}"


class Violation(models.Model):
    """违规 of a member bank recorded by the authority (RP-21): the affected claims' compensation
    is clawed back with interest for the same period; membership may be revoked. JB-7 grades a
    bank with a violation recorded in the year unqualified (RP-20)."""

    class Kind(models.TextChoices):
        DUPLICATE_CLAIM = "duplicate_claim", _("Duplicate claim for one loan")  # 重复申请
        WRONG_CLASSIFICATION = "wrong_classification", _("Wrong risk classification")  # 风险分类不实
        FALSE_DOCUMENTS = "false_documents", _("False documents")  # 提供虚假材料
        MISUSE = "misuse", _("Misuse of money")  # 挪用资金

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="violations", verbose_name=_("pool"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="violations", verbose_name=_("member"))
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    recorded_on = models.DateField(_("recorded on"))
    description = models.TextField(_("description"), blank=True)
    claims = models.ManyToManyField(Claim, blank=True, related_name="violations", verbose_name=_("affected claims"))
    clawback_principal = MoneyField(_("compensation clawed back"), default=Decimal("0"))
    clawback_interest = MoneyField(_("interest for the same period"), default=Decimal("0"))
    revoke_membership = models.BooleanField(_("membership revoked"), default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("recorded by"))
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_on", "-id"]
        verbose_name = _("violation")
        verbose_name_plural = _("violations")
        indexes = [models.Index(fields=["member", "recorded_on"])]

    def __str__(self) -> str:
        return f"{self.recorded_on} {self.member} {self.get_kind_display()}"


class SpecialListEntry(models.Model):
    """特殊名单 (RP-12, 第十六条(五)): an enterprise (by unified social credit code) or an industry
    on a list approved by the city government; a claim on its loan, classified non-performing
    while the entry is valid, uses the entry's ratio instead. Maintained by the authority."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="special_list", verbose_name=_("pool"))
    credit_code = models.CharField(_("borrower's unified social credit code"), max_length=18, blank=True)
    industry = models.CharField(_("industry"), max_length=40, blank=True)
    ratio = RatioField(_("compensation ratio"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["pool", "-valid_from", "id"]
        verbose_name = _("special list entry")
        verbose_name_plural = _("special list")
        constraints = [
            models.CheckConstraint(
                condition=(Q(credit_code="") & ~Q(industry="")) | (~Q(credit_code="") & Q(industry="")),
                name="special_list_code_or_industry",
            ),
            models.CheckConstraint(condition=Q(ratio__gte=0, ratio__lte=1), name="special_list_ratio_fraction"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="special_list_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credit_code or self.industry} {self.ratio}"


class MAnnualReport(models.Model):
    """年度风险补偿资金管理情况 (RP-M6, 第二十一条): the Scheme M fund manager's report on one year's
    fund use, written by JB-11 on 20 March for the previous year and replaced when the year is
    reported again (JB-12), until the manager records it as submitted to the finance bureau
    (市财政局) by the end of March; a submitted report is kept as it was sent."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="m_annual_reports", verbose_name=_("pool"))
    year = models.PositiveSmallIntegerField(_("year"))
    due_on = models.DateField(_("due to the finance bureau by"))
    balance_start = MoneyField(_("balance at the start of the year"), default=Decimal("0"))
    budget_in = MoneyField(_("budget and interest received"), default=Decimal("0"))
    reimbursed = MoneyField(_("reimbursed in the year"), default=Decimal("0"))
    returned = MoneyField(_("returned in the year"), default=Decimal("0"))
    balance_end = MoneyField(_("balance at the end of the year"), default=Decimal("0"))
    claims_submitted = models.PositiveIntegerField(_("claims submitted"), default=0)
    claims_paid = models.PositiveIntegerField(_("claims paid"), default=0)
    products_suspended = models.PositiveIntegerField(_("products suspended at the year's end"), default=0)
    job_run = models.ForeignKey("core.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("job run"))
    generated_at = models.DateTimeField(_("generated at"), auto_now=True)
    submitted_on = models.DateField(_("submitted to the finance bureau on"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("submitted by"))

    class Meta:
        ordering = ["pool", "-year"]
        verbose_name = _("Scheme M annual report")
        verbose_name_plural = _("Scheme M annual reports")
        constraints = [models.UniqueConstraint(fields=["pool", "year"], name="m_annual_report_unique")]

    def __str__(self) -> str:
        return f"{self.pool} {self.year}"


class MAnnualReportLine(models.Model):
    """One product's figures in a Scheme M annual report (RP-M6): claims, reimbursements and
    returns of the year, cumulative use of its sub-fund against the RP-M3 70% line, and whether
    new business was suspended at the year's end (RP-M3) and why."""

    report = models.ForeignKey(MAnnualReport, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    claims_submitted = models.PositiveIntegerField(_("claims submitted"), default=0)
    submitted_amount = MoneyField(_("reimbursement claimed"), default=Decimal("0"))
    claims_rejected = models.PositiveIntegerField(_("of these, rejected"), default=0)
    claims_paid = models.PositiveIntegerField(_("claims paid"), default=0)
    reimbursed = MoneyField(_("reimbursed in the year"), default=Decimal("0"))
    returned = MoneyField(_("returned in the year"), default=Decimal("0"))
    reimbursed_to_date = MoneyField(_("reimbursed to the year's end"), default=Decimal("0"))
    returned_to_date = MoneyField(_("returned to the year's end"), default=Decimal("0"))
    subfund_size = MoneyField(_("sub-fund size"), default=Decimal("0"))
    subfund_reimbursed = MoneyField(_("sub-fund reimbursed to the year's end"), default=Decimal("0"))
    suspended = models.BooleanField(_("new business suspended at the year's end"), default=False)
    suspension_reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["report", "product__code"]
        verbose_name = _("Scheme M annual report line")
        verbose_name_plural = _("Scheme M annual report lines")
        constraints = [models.UniqueConstraint(fields=["report", "product"], name="m_annual_report_line_unique")]

    def __str__(self) -> str:
        return f"{self.report} {self.product}"


# --- JB-5, riskpool part: the quarterly close (RP-6, RP-16 8b) --------------------------------


class QuarterBankReport(models.Model):
    """季度结算 of one member bank for one closed quarter ("2025Q1"), written by JB-5 on the 16th
    working day of the next quarter and replaced when the quarter is closed again (JB-12).

    RP-6: the loans disbursed in the quarter, whose entry window has just closed (none of them
    can be entered any more), and the loans entered during the quarter. RP-16 8b: the bank's
    compensated claims in recovery at the quarter's end, the recovery reports for money received
    in the quarter, and how many claims have no report for it (listed in MissingRecoveryReport)."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="quarter_bank_reports", verbose_name=_("pool"))
    period = models.CharField(_("quarter"), max_length=6)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="quarter_reports", verbose_name=_("member"))
    window_projects = models.PositiveIntegerField(_("loans disbursed in the quarter (entry window closed)"), default=0)
    window_principal = MoneyField(_("their principal in yuan"), default=Decimal("0"))
    entered_in_quarter = models.PositiveIntegerField(_("loans entered in the quarter"), default=0)
    recovery_claims = models.PositiveIntegerField(_("compensated claims in recovery"), default=0)
    reports_received = models.PositiveIntegerField(_("recovery reports for the quarter"), default=0)
    recoveries_gross = MoneyField(_("gross recoveries received in the quarter"), default=Decimal("0"))
    returns_due = MoneyField(_("returns owed on them"), default=Decimal("0"))
    reports_missing = models.PositiveIntegerField(_("claims without a recovery report"), default=0)
    job_run = models.ForeignKey("core.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("job run"))

    class Meta:
        ordering = ["pool", "-period", "member"]
        verbose_name = _("quarterly bank report")
        verbose_name_plural = _("quarterly bank reports")
        constraints = [models.UniqueConstraint(fields=["pool", "period", "member"], name="quarter_bank_report_unique")]

    def __str__(self) -> str:
        return f"{self.period} {self.member}"


class MissingRecoveryReport(models.Model):
    """RP-16 8b: a compensated claim in recovery (paid by the quarter's end, in the compensation
    library or recovering) with no recovery report for money received in the closed quarter
    ``period``; the report was due by ``due_on`` (the 15th working day of the next quarter).
    Written by JB-5, replaced when the quarter is closed again (JB-12)."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="missing_recovery_reports",
                             verbose_name=_("pool"))
    period = models.CharField(_("quarter"), max_length=6)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="missing_recovery_reports",
                               verbose_name=_("member"))
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="missing_recovery_reports",
                              verbose_name=_("claim"))
    due_on = models.DateField(_("report due"))
    job_run = models.ForeignKey("core.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("job run"))

    class Meta:
        ordering = ["pool", "-period", "member", "claim"]
        verbose_name = _("missing recovery report")
        verbose_name_plural = _("missing recovery reports")
        constraints = [models.UniqueConstraint(fields=["period", "claim"], name="missing_recovery_report_unique")]
        indexes = [models.Index(fields=["member", "period"])]

    def __str__(self) -> str:
        return f"{self.period} {self.claim_id}"


class PoolQuarterSnapshot(models.Model):
    """JB-5 per Scheme S pool per closed quarter: compensation paid and money returned in the
    quarter, the same since the pool began, and the balance at the quarter's end (all from the
    ledger, RP-1), with the date the quarter's entry window closed (RP-6). Replaced on a re-run."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="quarter_snapshots", verbose_name=_("pool"))
    period = models.CharField(_("quarter"), max_length=6)
    paid = MoneyField(_("paid in the quarter"), default=Decimal("0"))
    returned = MoneyField(_("returned in the quarter"), default=Decimal("0"))
    paid_total = MoneyField(_("paid up to the quarter's end"), default=Decimal("0"))
    returned_total = MoneyField(_("returned up to the quarter's end"), default=Decimal("0"))
    balance = MoneyField(_("balance at the quarter's end"), default=Decimal("0"))
    entry_window_closed_on = models.DateField(_("entry window closed on"))
    job_run = models.ForeignKey("core.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("job run"))

    class Meta:
        ordering = ["pool", "-period"]
        verbose_name = _("pool quarter snapshot")
        verbose_name_plural = _("pool quarter snapshots")
        constraints = [models.UniqueConstraint(fields=["pool", "period"], name="pool_quarter_snapshot_unique")]

    def __str__(self) -> str:
        return f"{self.period} {self.pool}"
