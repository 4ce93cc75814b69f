"""Measures on banks and borrowers: RP-21 violations (with the claws back they cause) and the
RP-12 special list of ratios."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, RatioField

from .claims import Claim
from .pool import Member, Pool


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
