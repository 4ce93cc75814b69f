"""The pool itself: a pool of either scheme, its ledger (RP-1, the only way money moves) and its
member banks with their RP-15 NPL gate and RP-22/24 standing."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
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
