"""The Scheme S claim (RP-16) and what hangs on it: funding plans, workflow steps, documents,
objections to the public notice, and recovery and nil-recovery reports (RP-17)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.fields import MoneyField, RatioField

from .pool import Pool
from .projects import LoanProject


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

    class State(models.TextChoices):
        """RP-16 states in workflow order (rules.CLAIM_STATES); the steps between them are
        riskpool.workflows.CLAIM. Not the field's choices: the column keeps its plain codes."""

        SUBMITTED = "submitted", pgettext_lazy("riskpool claim", "Submitted, awaiting review")
        HELD_NPL_GATE = "held_npl_gate", pgettext_lazy("riskpool claim", "Held: the bank's NPL ratio is above the limit")
        APPROVED = "approved", pgettext_lazy("riskpool claim", "Approved, waiting for the public notice")
        REJECTED = "rejected", pgettext_lazy("riskpool claim", "Rejected")
        RE_REVIEW = "re_review", pgettext_lazy("riskpool claim", "In re-review")
        ON_NOTICE = "on_notice", pgettext_lazy("riskpool claim", "On public notice")
        OBJECTION_UPHELD = "objection_upheld", pgettext_lazy("riskpool claim", "Objection upheld")
        NOTICE_PASSED = "notice_passed", pgettext_lazy("riskpool claim", "Notice passed, waiting for a funding plan")
        IN_FUNDING_PLAN = "in_funding_plan", pgettext_lazy("riskpool claim",
                                                           "In a funding plan: payment documents due")
        DOCUMENTS_UPLOADED = "documents_uploaded", pgettext_lazy("riskpool claim", "Documents uploaded: payment due")
        PAID = "paid", pgettext_lazy("riskpool claim", "Paid")
        IN_COMPENSATION_LIBRARY = "in_compensation_library", pgettext_lazy("riskpool claim",
                                                                           "In the compensation library")
        UPGRADE_REQUESTED = "upgrade_requested", pgettext_lazy("riskpool claim",
                                                               "Upgrade applied for, awaiting the reviewer")
        UPGRADED = "upgraded", pgettext_lazy("riskpool claim", "Upgraded, compensation returned")
        RECOVERING = "recovering", pgettext_lazy("riskpool claim", "Recovering")
        SETTLEMENT_REQUESTED = "settlement_requested", pgettext_lazy("riskpool claim",
                                                                     "Settlement applied for, awaiting the reviewer")
        SETTLED = "settled", pgettext_lazy("riskpool claim", "Settled")
        CLOSURE_REQUESTED = "closure_requested", pgettext_lazy("riskpool claim", "Closure requested")
        CLOSURE_REVIEWED = "closure_reviewed", pgettext_lazy("riskpool claim", "Closure checked by the reviewer")
        CLOSURE_RECHECKED = "closure_rechecked", pgettext_lazy("riskpool claim", "Closure re-checked by the treasurer")
        CLOSURE_APPROVED = "closure_approved", pgettext_lazy(
            "riskpool claim", "Closure approved by the authority, awaiting the finance bureau")
        CLOSED = "closed", pgettext_lazy("riskpool claim", "Closed")
        WITHDRAWN = "withdrawn", pgettext_lazy("riskpool claim", "Withdrawn")

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
