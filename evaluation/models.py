"""Annual evaluation of guarantee firms and due-diligence exemption (spec: evaluation.md, EV-1 … EV-14)."""
from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, RatioField
from evaluation import rules

POINTS = {"max_digits": 6, "decimal_places": 2}


class EvaluationYear(models.Model):
    """评价年度: the accounting year evaluated, its scoring scheme and its targets (EV-2, EV-3, EV-9)."""

    class Stage(models.TextChoices):
        OPEN = "open", _("Open for submissions")
        REVIEW_CLOSED = "review_closed", _("Province review closed")
        PUBLISHED = "published", _("Results published")

    year = models.PositiveIntegerField(_("year"), unique=True)
    scheme = models.JSONField(_("scoring scheme"), encoder=DjangoJSONEncoder,
                              default=rules.default_scheme_rows)  # EV-3 indicator rows
    target_leverage = models.DecimalField(_("leverage target T"), max_digits=8, decimal_places=2, null=True, blank=True)
    target_clients = models.PositiveIntegerField(_("small-micro and 三农 client target"), null=True, blank=True)
    target_amount = MoneyField(_("small-micro and 三农 amount target"), null=True, blank=True)
    targets_set_at = models.DateTimeField(_("targets set at"), null=True, blank=True)
    stage = models.CharField(_("stage"), max_length=15, choices=Stage.choices, default=Stage.OPEN)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("evaluation year")
        verbose_name_plural = _("evaluation years")

    def __str__(self) -> str:
        return str(self.year)

    @property
    def has_targets(self) -> bool:
        return None not in (self.target_leverage, self.target_clients, self.target_amount)

    def targets(self) -> rules.Targets | None:
        if not self.has_targets:
            return None
        return rules.Targets(self.target_leverage, self.target_clients, self.target_amount)

    def indicators(self) -> tuple[rules.Indicator, ...]:
        return rules.parse_scheme(self.scheme)



class YearExclusion(models.Model):
    """EV-1: a firm evaluated by another scheme this year (agricultural credit guarantee firm)."""

    class Reason(models.TextChoices):
        AGRI_CREDIT = rules.Exclusion.AGRI_CREDIT, _("Agricultural credit guarantee firm (财农〔2017〕40号)")
        PROVINCIAL_REGUARANTEE = rules.Exclusion.PROVINCIAL_REGUARANTEE, _("Provincial re-guarantee company")

    year = models.ForeignKey(EvaluationYear, on_delete=models.CASCADE, related_name="exclusions")
    firm = models.ForeignKey("core.Organisation", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=30, choices=Reason.choices)

    class Meta:
        verbose_name = _("excluded firm")
        verbose_name_plural = _("excluded firms")
        constraints = [models.UniqueConstraint(fields=["year", "firm"], name="ev_exclusion_unique")]

    def __str__(self) -> str:
        return f"{self.firm_id} {self.reason}"


class Submission(models.Model):
    """指标评价材料: one firm, one year; computed and declared figures, score, state (EV-3 … EV-5)."""

    class State(models.TextChoices):
        DRAFT = rules.State.DRAFT, _("With the firm")
        COUNTY = rules.State.COUNTY, _("County review")
        CITY = rules.State.CITY, _("City review")
        PROVINCE = rules.State.PROVINCE, _("Province review")
        ACCEPTED = rules.State.ACCEPTED, _("Accepted")

    year = models.ForeignKey(EvaluationYear, on_delete=models.PROTECT, related_name="submissions")
    firm = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="evaluation_submissions")
    county_org = models.ForeignKey("core.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("county supervisor"))
    city_org = models.ForeignKey("core.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("city supervisor"))
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT, db_index=True)
    computed = models.JSONField(_("computed figures"), default=dict, encoder=DjangoJSONEncoder)
    declared = models.JSONField(_("declared figures"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    flagged = models.JSONField(_("figures differing by more than 1%"), default=list, blank=True)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    scores = models.JSONField(_("scores"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    total = models.DecimalField(_("total score"), **POINTS, null=True, blank=True)
    leverage = RatioField(_("leverage"), null=True, blank=True)
    form_signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    form_signed_at = models.DateTimeField(_("scoring form signed at"), null=True, blank=True)
    county_opinion = models.TextField(_("county evaluation opinion"), blank=True)
    city_opinion = models.TextField(_("city review opinion"), blank=True)
    province_opinion = models.TextField(_("province review opinion"), blank=True)
    third_party_sample = models.BooleanField(_("sent to a third party"), default=False)
    third_party_note = models.TextField(_("third-party note"), blank=True)
    return_reason = models.TextField(_("reason of the last return"), blank=True)
    # EV-5: when each step was first taken; lateness is judged from these, not from the state.
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    county_forwarded_at = models.DateTimeField(_("forwarded by the county at"), null=True, blank=True)
    city_forwarded_at = models.DateTimeField(_("forwarded to the province at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted by the province at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year", "firm__name"]
        verbose_name = _("evaluation submission")
        verbose_name_plural = _("evaluation submissions")
        constraints = [models.UniqueConstraint(fields=["year", "firm"], name="ev_submission_unique")]

    def __str__(self) -> str:
        return f"{self.firm} {self.year}"

    def steps(self) -> list[str]:
        return rules.chain_steps(has_county=self.county_org_id is not None, has_city=self.city_org_id is not None)


# EV-5: the field recording when the holder at each state took its step (filed, forwarded, accepted).
STEP_TAKEN_FIELDS = {
    rules.State.DRAFT: "submitted_at", rules.State.COUNTY: "county_forwarded_at",
    rules.State.CITY: "city_forwarded_at", rules.State.PROVINCE: "accepted_at",
}


class SubmissionStep(models.Model):
    """Every move of a submission through the chain, with who, when and why (EV-5)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="history")
    old = models.CharField(max_length=20)
    new = models.CharField(max_length=20)
    action = models.CharField(_("action"), max_length=20)
    reason = models.TextField(_("reason"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("submission step")
        verbose_name_plural = _("submission steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.old} → {self.new}"

    def text(self) -> str:
        """The step and its states in the reader's language, as the workflow names them
        ("Submitted: With the firm → County review"): the stored codes never reach the page."""
        from evaluation.workflows import SUBMISSION

        return SUBMISSION.history_text(self.action, self.old, self.new)


class Material(models.Model):
    """EV-4 材料: one file of a submission, by kind; checked by content (PDF, xlsx, docx), size capped."""

    class Kind(models.TextChoices):
        SCORING_FORM = "scoring_form", _("Signed scoring form (评分表)")
        BUSINESS_REPORT = "business_report", _("Annual business report")
        STATISTICS = "statistics", _("Business statistics table")
        AUDIT_REPORT = "audit_report", _("Annual audit report")
        COMPLIANCE_REPORT = "compliance_report", _("County compliance report")
        SPOT_CHECK = "spot_check", _("City spot-check report")

    FIRM_KINDS = ("scoring_form", "business_report", "statistics", "audit_report")

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="materials")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="evaluation/%Y/")
    content_type = models.CharField(max_length=10)
    size = models.PositiveIntegerField()
    auditor = models.CharField(_("accounting firm"), max_length=200, blank=True)
    auditor_clean = models.BooleanField(_("no bad practice record in the last three years"), default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["submission", "kind"], name="ev_material_unique_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}"


class Result(models.Model):
    """EV-6 … EV-8: a firm's published score, rank and class for a year (written by JB-9)."""

    class Klass(models.TextChoices):
        EXCELLENT = rules.Klass.EXCELLENT, _("Excellent (优秀)")
        QUALIFIED = rules.Klass.QUALIFIED, _("Qualified (合格)")
        UNQUALIFIED = rules.Klass.UNQUALIFIED, _("Unqualified (不合格)")

    year = models.ForeignKey(EvaluationYear, on_delete=models.CASCADE, related_name="results")
    firm = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="evaluation_results")
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")
    scores = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    total = models.DecimalField(_("total score"), **POINTS)
    leverage = RatioField(_("leverage"), null=True, blank=True)
    rank = models.PositiveIntegerField(_("rank"))
    rank_from_bottom = models.PositiveIntegerField()
    klass = models.CharField(_("class"), max_length=12, choices=Klass.choices)
    job_run = models.ForeignKey("core.JobRun", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("result")
        verbose_name_plural = _("results")
        ordering = ["year", "rank", "firm__name"]
        constraints = [models.UniqueConstraint(fields=["year", "firm"], name="ev_result_unique")]

    def __str__(self) -> str:
        return f"{self.firm_id} {self.rank}"


class RegionResult(models.Model):
    """EV-8: a city's (or Pingtan's) mean score and rank for a year."""

    year = models.ForeignKey(EvaluationYear, on_delete=models.CASCADE, related_name="region_results")
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")
    mean = models.DecimalField(_("mean score"), **POINTS)
    firms = models.PositiveIntegerField()
    rank = models.PositiveIntegerField(_("rank"))

    class Meta:
        verbose_name = _("region result")
        verbose_name_plural = _("region results")
        ordering = ["year", "rank"]
        constraints = [models.UniqueConstraint(fields=["year", "region"], name="ev_region_result_unique")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.rank}"


class DistributionRecipient(models.Model):
    """EV-10: who receives the published results (finance department, city and county governments,
    the provincial re-guarantee company), with read access."""

    organisation = models.OneToOneField("core.Organisation", on_delete=models.CASCADE, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("distribution recipient")
        verbose_name_plural = _("distribution list")

    def __str__(self) -> str:
        return str(self.organisation)


class Interview(models.Model):
    """EV-10: 约谈 of an unqualified firm, to schedule and close."""

    year = models.ForeignKey(EvaluationYear, on_delete=models.CASCADE, related_name="interviews")
    firm = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="+")
    scheduled_on = models.DateField(_("scheduled on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("interview")
        verbose_name_plural = _("interviews")
        ordering = ["year", "firm__name"]
        constraints = [models.UniqueConstraint(fields=["year", "firm"], name="ev_interview_unique")]

    def __str__(self) -> str:
        return f"{self.firm_id} {self.year_id}"


class Reminder(models.Model):
    """An in-app reminder of JB-8 / JB-10 (e-mailed once); ``key`` makes a re-run a no-op (JB-12)."""

    key = models.CharField(max_length=120, unique=True)
    organisation = models.ForeignKey("core.Organisation", on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=10)
    message = models.CharField(max_length=255)
    due_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        from core.i18n_text import render

        return render(self.message)


class ExemptionCase(models.Model):
    """尽职免责认定 (EV-11 … EV-14) on a compensated guarantee."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DECIDED = "decided", _("Decided")
        APPEALED = "appealed", _("Appealed")
        CLOSED = "closed", _("Appeal decided")

    firm = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="exemption_cases")
    guarantee = models.ForeignKey("guarantees.Guarantee", on_delete=models.PROTECT, related_name="exemption_cases")
    staff = models.CharField(_("staff involved"), max_length=255)
    grounds_claimed = models.JSONField(_("grounds claimed"), default=list)
    statement = models.TextField(_("statement"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    appeal_reason = models.TextField(_("appeal reason"), blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("exemption case")
        verbose_name_plural = _("exemption cases")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.guarantee} ({self.get_state_display()})"


class CaseEvidence(models.Model):
    """Evidence for a claimed ground, from the work archive (第十五条: key steps traceable)."""

    case = models.ForeignKey(ExemptionCase, on_delete=models.CASCADE, related_name="evidence")
    ground = models.CharField(max_length=10)
    description = models.CharField(_("description"), max_length=255)
    archive_ref = models.CharField(_("work archive reference"), max_length=120, blank=True)
    file = models.FileField(upload_to="evaluation/cases/%Y/", blank=True)

    class Meta:
        verbose_name = _("case evidence")
        verbose_name_plural = _("case evidence")

    def __str__(self) -> str:
        return self.description


class CaseDecision(models.Model):
    """A reviewer's findings and the EV-14 outcome derived from them; first decision or appeal."""

    class Stage(models.TextChoices):
        FIRST = "first", _("First decision")
        APPEAL = "appeal", _("Appeal")

    case = models.ForeignKey(ExemptionCase, on_delete=models.CASCADE, related_name="decisions")
    stage = models.CharField(max_length=6, choices=Stage.choices)
    grounds_found = models.JSONField(default=list)
    staff_at_fault = models.BooleanField(default=False)
    outcome = models.CharField(max_length=12)
    reasons = models.JSONField(default=list)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("case decision")
        verbose_name_plural = _("case decisions")
        ordering = ["case", "stage"]
        constraints = [
            models.UniqueConstraint(fields=["case", "stage"], name="ev_decision_unique_stage"),
            models.CheckConstraint(condition=Q(outcome__in=["accountable", "exempt", "reduced", "not_exempt"]),
                                   name="ev_decision_outcome_known"),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.outcome}"

    OUTCOME_LABELS = {"accountable": _("Accountable (追责)"), "exempt": _("Exempt (免责)"),
                      "reduced": _("Reduced (减责)"), "not_exempt": _("Not exempt (不予免责)")}

    def outcome_label(self):
        return self.OUTCOME_LABELS.get(self.outcome, self.outcome)
