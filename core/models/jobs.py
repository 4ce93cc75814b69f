"""JB-12 … JB-14: one record per (job, period) run."""
from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        BEAT = "beat", _("Schedule")
        COMMAND = "command", _("Management command")
        PAGE = "page", _("Job page")

    job = models.CharField(_("job"), max_length=10)
    period = models.CharField(_("period"), max_length=20)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    trigger = models.CharField(_("started by"), max_length=10, choices=Trigger.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queued_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    counts = models.JSONField(_("counts"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-queued_at"]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        constraints = [models.UniqueConstraint(fields=["job", "period"], name="jobrun_unique_job_period")]
        indexes = [models.Index(fields=["job", "-queued_at"]), models.Index(fields=["state"])]

    def __str__(self) -> str:
        return f"{self.job} {self.period} {self.state}"

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 100 if self.state == self.State.SUCCEEDED else 0
        return min(100, self.progress_done * 100 // self.progress_total)
