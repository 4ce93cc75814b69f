"""Stored reports of the pool: RP-20 bank evaluations, half-year reports, and the JB-5
quarterly close (bank reports, missing recovery reports, pool snapshots)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, RatioField

from .claims import Claim
from .pool import Member, Pool


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
