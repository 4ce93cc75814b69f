"""Counter-guarantee plans, their measures and checks (spec: counterguarantee.md, CG-1 … CG-14).

A guarantee has at most one plan (反担保方案); the plan has its measures (反担保措施), each a
guarantee, mortgage or pledge. The authority keeps two tables: the asset classes, with the
registry each needs (CG-4, CG-11), and the banks' upper pledge rates per class (CG-6).
"""
from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, RatioField
from counterguarantee import rules


def _choices(mapping) -> list[tuple[str, str]]:
    return list(mapping.items())


class AssetClass(models.Model):
    """CG-4: a class of property or right accepted as counter-guarantee, and (CG-11) the registry
    its mortgage or pledge needs. Kept by the authority; the codes are the API's."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    registry = models.CharField(_("registry required"), max_length=20, blank=True,
                                choices=[("", _("No registration needed"))] + _choices(rules.REGISTRIES))
    position = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("accepted"), default=True,
                                    help_text=_("A class no longer accepted stays on the plans that used it."))
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("asset class")
        verbose_name_plural = _("asset classes")

    def __str__(self) -> str:
        return self.name


class BankPledgeRate(models.Model):
    """CG-6: the upper bound of the rate banks apply to the class, from ``effective_from`` until
    the next row of the same class. Rows are added, not overwritten, so a past check can be read
    against the rate in force on its day."""

    asset_class = models.ForeignKey(AssetClass, on_delete=models.PROTECT, related_name="bank_rates",
                                    verbose_name=_("asset class"))
    rate = RatioField(_("bank upper rate"))
    effective_from = models.DateField(_("effective from"))
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["asset_class__position", "asset_class__code", "-effective_from"]
        verbose_name = _("bank pledge rate")
        verbose_name_plural = _("bank pledge rates")
        constraints = [
            models.UniqueConstraint(fields=["asset_class", "effective_from"], name="cg_bankrate_unique_start"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=1), name="cg_bankrate_in_range"),
        ]

    def __str__(self) -> str:
        return f"{self.asset_class} {self.rate} ({self.effective_from})"


class Plan(models.Model):
    """反担保方案 of one guarantee: the grounds recorded about the borrower (CG-1, CG-2), the CG-3
    adjustment, the CG-8 plan flag, and its approval with the check run at that moment."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        RELEASED = "released", _("Released")  # CG-13: every measure released on repayment

    guarantee = models.OneToOneField("guarantees.Guarantee", on_delete=models.PROTECT,
                                     related_name="counterguarantee_plan", verbose_name=_("guarantee"))
    firm = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("guarantee firm"))  # the guarantee's firm: scoping and CG-14
    credit_grounds = models.JSONField(_("credit-guarantee grounds (CG-1)"), default=list, blank=True)
    lowered_grounds = models.JSONField(_("lower-threshold grounds (CG-2)"), default=list, blank=True)
    adjustment_reason = models.TextField(_("adjustment (CG-3)"), blank=True)  # 第七条
    resolving_existing_risk = models.BooleanField(_("resolves existing risk (CG-8)"), default=False)  # 化解存量风险
    resolving_reason = models.TextField(_("reason for resolving existing risk"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approval_passed = models.BooleanField(_("passed the check at approval"), null=True, blank=True)
    approval_note = models.TextField(_("why approved despite failures"), blank=True)
    released_on = models.DateField(_("released on"), null=True, blank=True)
    last_check = models.JSONField(_("latest check"), null=True, blank=True, encoder=DjangoJSONEncoder)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("counter-guarantee plan")
        verbose_name_plural = _("counter-guarantee plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(approved_on__isnull=False, approval_passed__isnull=False),
                name="cg_plan_approved_has_result",
            ),
        ]
        indexes = [
            models.Index(fields=["firm", "status"]),
            models.Index(fields=["approval_passed", "approved_on"], condition=Q(approval_passed=False),
                         name="cg_plan_failed_at_approval"),
        ]

    def __str__(self) -> str:
        return f"{self.guarantee.contract_no}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class Measure(models.Model):
    """反担保措施: a guarantee, mortgage or pledge of one plan (CG-4 … CG-13)."""

    class Kind(models.TextChoices):
        GUARANTEE = rules.GUARANTEE, _("Guarantee (保证)")
        MORTGAGE = rules.MORTGAGE, _("Mortgage (抵押)")
        PLEDGE = rules.PLEDGE, _("Pledge (质押)")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        CONTRACTED = "contracted", _("Contracted")
        REGISTERED = "registered", _("Registered")
        RELEASED = "released", _("Released")
        ENFORCED = "enforced", _("Being enforced")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="measures")
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    asset_class = models.ForeignKey(AssetClass, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("asset class"))
    owners = models.JSONField(_("owners or guarantors"), default=list, blank=True)
    organisation = models.BooleanField(_("counter-guarantor is an organisation"), default=False)
    resolution_on_file = models.BooleanField(_("board or shareholder resolution on file"), default=False)
    value = MoneyField(_("appraised value"), null=True, blank=True)
    valuation_source = models.CharField(_("valuation source"), max_length=20, blank=True,
                                        choices=_choices(rules.VALUATION_SOURCES))
    appraiser = models.CharField(_("appraiser"), max_length=200, blank=True)
    valued_on = models.DateField(_("valued on"), null=True, blank=True)
    valuation_valid_until = models.DateField(_("valuation valid until"), null=True, blank=True)
    rate = RatioField(_("rate applied"), null=True, blank=True)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    contract_no = models.CharField(_("contract number"), max_length=60, blank=True)
    signatories = models.JSONField(_("signatories"), default=list, blank=True)
    registry = models.CharField(_("registered with"), max_length=20, blank=True, choices=_choices(rules.REGISTRIES))
    registration_number = models.CharField(_("registration certificate number"), max_length=100, blank=True)
    registered_online = models.BooleanField(_("registered online"), default=False)
    innovative = models.BooleanField(_("innovative collateral banks do not accept (CG-8)"), default=False)
    innovative_reason = models.TextField(_("reason for the innovative collateral"), blank=True)
    flexible_form = models.CharField(_("flexible form (CG-12)"), max_length=24, blank=True,
                                     choices=_choices(rules.FLEXIBLE_FORMS))
    liability = models.CharField(  # CG-13: a guarantee only; how the guarantor is liable
        _("liability"), max_length=8, blank=True, default=rules.JOINT, choices=_choices(rules.LIABILITIES))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLANNED)
    # CG-13: release on repayment
    released_on = models.DateField(_("released on"), null=True, blank=True)
    registration_cancelled_on = models.DateField(_("registration cancelled on"), null=True, blank=True)
    documents_returned_on = models.DateField(_("documents returned on"), null=True, blank=True)
    # CG-13: enforcement on default, and the limitation date kept alive
    recourse_from = models.DateField(_("recourse claim arose on"), null=True, blank=True)
    last_interruption_on = models.DateField(_("last interruption"), null=True, blank=True)
    limitation_due_on = models.DateField(_("act by (limitation date)"), null=True, blank=True)
    enforcement_closed_on = models.DateField(_("enforcement closed on"), null=True, blank=True)

    class Meta:
        ordering = ["plan", "position"]
        verbose_name = _("counter-guarantee measure")
        verbose_name_plural = _("counter-guarantee measures")
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="cg_measure_unique_position"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="cg_measure_dates_ordered"),
            models.CheckConstraint(condition=Q(value__isnull=True) | Q(value__gte=0), name="cg_measure_value_not_negative"),
            models.CheckConstraint(condition=Q(rate__isnull=True) | Q(rate__gte=0, rate__lte=1),
                                   name="cg_measure_rate_in_range"),
            # A guarantee is the guarantor's credit: no asset class, value or rate (CG-4, CG-7).
            models.CheckConstraint(
                condition=~Q(kind="guarantee") | Q(asset_class__isnull=True, value__isnull=True, rate__isnull=True),
                name="cg_guarantee_measure_has_no_asset",
            ),
        ]
        indexes = [
            # CG-13 / JB-3: the open limitation dates, earliest first.
            models.Index(fields=["limitation_due_on"], name="cg_measure_limitation_open",
                         condition=Q(status="enforced", enforcement_closed_on__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.plan} #{self.position + 1} {self.get_kind_display()}"

    @property
    def number(self) -> int:
        return self.position + 1

    @property
    def is_collateral(self) -> bool:
        return self.kind in rules.COLLATERAL_KINDS


class CheckRun(models.Model):
    """CG-1 … CG-11 on a plan at one moment, stored with the plan as it was checked and the tables
    used, so supervisors see how the plan looked when the guarantee was approved."""

    class Purpose(models.TextChoices):
        APPROVAL = "approval", _("At approval")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="checks")
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.APPROVAL)
    checked_on = models.DateField(_("checked on"))
    passed = models.BooleanField(_("passed"))
    results = models.JSONField(_("results"), encoder=DjangoJSONEncoder)
    inputs = models.JSONField(_("plan as checked"), encoder=DjangoJSONEncoder)
    tables = models.JSONField(_("tables used"), encoder=DjangoJSONEncoder)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("check run")
        verbose_name_plural = _("check runs")

    def __str__(self) -> str:
        return f"{self.plan} {self.checked_on} {'pass' if self.passed else 'fail'}"


class Inspection(models.Model):
    """CG-13 (第十七条(一)): a periodic post-guarantee inspection of a measure."""

    class Finding(models.TextChoices):
        NORMAL = "normal", _("Normal")
        CONCERN = "concern", _("Needs attention")

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="inspections")
    on = models.DateField(_("inspected on"))
    finding = models.CharField(_("finding"), max_length=10, choices=Finding.choices)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-on", "-id"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")

    def __str__(self) -> str:
        return f"{self.measure} {self.on}"


class AbnormalEvent(models.Model):
    """CG-13 (第十七条(二)(三)): a guarantor's capacity weakening, collateral moved or hidden …,
    and the risk measures the firm took."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="abnormal_events")
    on = models.DateField(_("noticed on"))
    kind = models.CharField(_("event"), max_length=20, choices=_choices(rules.ABNORMAL_EVENTS))
    note = models.TextField(_("what happened"), blank=True)
    response = models.TextField(_("risk measures taken"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-on", "-id"]
        verbose_name = _("abnormal event")
        verbose_name_plural = _("abnormal events")

    def __str__(self) -> str:
        return f"{self.measure} {self.on} {self.kind}"


class EnforcementAction(models.Model):
    """CG-13 (第十七条(五)): a demand, suit, arbitration, enforcement or acknowledgement that keeps
    the firm's rights alive; each interrupts the limitation period."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="actions")
    on = models.DateField(_("date"))
    kind = models.CharField(_("action"), max_length=20, choices=_choices(rules.ENFORCEMENT_ACTIONS))
    note = models.TextField(_("note / receipt"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-on", "-id"]
        verbose_name = _("enforcement action")
        verbose_name_plural = _("enforcement actions")

    def __str__(self) -> str:
        return f"{self.measure} {self.on} {self.kind}"
