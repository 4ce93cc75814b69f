"""Loan projects a member bank enters (RP-5, RP-6) and their five-class classification history
(RP-15)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, RatioField

from .pool import Pool


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

    # No index of their own (issue 12): the pool is the first column of project_pool_bank_disbursed,
    # the bank the first of the unique (bank, loan_no); a million-row table pays every index on
    # each write (JB-5's closures, the bulk import).
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="projects", db_index=False)
    bank = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="loan_projects",
                             verbose_name=_("bank"), db_index=False)
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
            # A pool's or a bank's loans by date, JB-7's RP-20 figures (amount and borrowers) and
            # the RP-15 figures of a bank (members_refresh_npl, after every entry and by JB-4), all
            # from this index alone (index-only scans): one index where there were two.
            models.Index(fields=["pool", "bank", "disbursed_on"],
                         include=["principal_yuan", "borrower", "classification", "closed_reason"],
                         name="project_pool_bank_disbursed"),
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
            # The list's NPL filter and its capped count for a pool's parties (issue 12): the
            # non-performing loans are a few per cent of the table, so the index is small.
            models.Index(fields=["pool", "classification", "-disbursed_on"], name="project_npl_by_pool",
                         condition=Q(classification__in=("substandard", "doubtful", "loss"))),
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


class BankYear(models.Model):
    """RP-20's figures of a member bank's year, kept as loans are written (issue 12): its
    borrowers (distinct, N) and the principal in yuan (A) of the bank's loans in the pool
    disbursed in the year, whatever library they are in now. JB-7 reads these few rows, one per
    pool, bank and year, instead of a COUNT(DISTINCT borrower) over the loans, which sorted
    every bank's loans: 13–17× the time for 10× the data.

    Written only by database triggers on the loan project table (migration 0021), in the
    writing statement's own transaction, together with BankYearBorrower (which tells whether a
    loan's borrower is new to the bank-year): every INSERT (the entry form, the API, the
    set-based COPY import, the generator), every DELETE, and every UPDATE of the pool, the bank,
    the borrower, the disbursement year or the principal in yuan. So no write path, present or
    future, can leave them out; the application only reads them. A bank-year with no loan left
    has no row. No foreign-key constraints of their own: the loans they are derived from hold
    them, and a bulk import would check each one again at commit. (On SQLite a migration that
    remakes the loan project table drops its triggers: recreate them there;
    tests/riskpool/test_bank_year_borrowers.py fails otherwise.)"""

    pool = models.ForeignKey(Pool, on_delete=models.DO_NOTHING, related_name="+", db_index=False,
                             db_constraint=False)
    bank = models.ForeignKey("core.Organisation", on_delete=models.DO_NOTHING, related_name="+", db_index=False,
                             db_constraint=False)
    year = models.PositiveSmallIntegerField()
    borrowers = models.PositiveIntegerField()
    amount = MoneyField()

    class Meta:
        verbose_name = _("bank year")
        verbose_name_plural = _("bank years")
        constraints = [models.UniqueConstraint(fields=["pool", "bank", "year"], name="bank_year_unique")]

    def __str__(self) -> str:
        return f"{self.pool_id}/{self.bank_id}/{self.year}: {self.borrowers} borrowers, {self.amount}"


class BankYearBorrower(models.Model):
    """A borrower's loans in a bank-year (see BankYear, kept with it by the same triggers): how
    many of the bank's loans in the pool went to the borrower that year, and their principal in
    yuan. A row whose count falls to zero is deleted, so a bank-year's rows are its distinct
    borrowers."""

    pool = models.ForeignKey(Pool, on_delete=models.DO_NOTHING, related_name="+", db_index=False,
                             db_constraint=False)
    bank = models.ForeignKey("core.Organisation", on_delete=models.DO_NOTHING, related_name="+", db_index=False,
                             db_constraint=False)
    year = models.PositiveSmallIntegerField()
    borrower = models.ForeignKey("guarantees.Borrower", on_delete=models.DO_NOTHING, related_name="+",
                                 db_index=False, db_constraint=False)
    projects = models.PositiveIntegerField()
    amount = MoneyField()

    class Meta:
        verbose_name = _("bank-year borrower")
        verbose_name_plural = _("bank-year borrowers")
        constraints = [
            models.UniqueConstraint(fields=["pool", "bank", "year", "borrower"], name="bank_year_borrower_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.pool_id}/{self.bank_id}/{self.year}/{self.borrower_id}: {self.projects}"
