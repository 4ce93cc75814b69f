"""Scheme M (RP-M1 … RP-M6): products and their sub-funds, party suspensions, the M claim and
the annual report with its lines."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, RatioField

from .pool import Pool


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

    class State(models.TextChoices):
        """In workflow order; the steps between them are riskpool.workflows.M_CLAIM. Not the
        field's choices: the column keeps its plain codes."""

        SUBMITTED = "submitted", _("Submitted, awaiting review")
        APPROVED = "approved", _("Approved, awaiting payment")
        REJECTED = "rejected", _("Rejected")
        PAID = "paid", _("Reimbursed")

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
