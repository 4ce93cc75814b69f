"""A bulk upload run in the background (issue 12): a file too large to check and enter while the
browser waits is stored, checked and entered by a Celery task; the uploader's page polls its
progress and then shows its result page."""
from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportRun(models.Model):
    class Kind(models.TextChoices):
        PROJECTS = "projects", _("Loan projects")
        GUARANTEES = "guarantees", _("Guarantees")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Checking and entering")
        SAVED = "saved", _("Saved")
        REJECTED = "rejected", _("Nothing saved: rows with errors")
        REFUSED = "refused", _("Nothing saved: the file cannot be used")
        FAILED = "failed", _("Failed")

    FINISHED = (State.SAVED, State.REJECTED, State.REFUSED, State.FAILED)

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    organisation = models.ForeignKey("core.Organisation", on_delete=models.CASCADE, related_name="+",
                                     verbose_name=_("organisation"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    target_id = models.PositiveIntegerField(help_text="The pool (loan projects) or the firm (guarantees) entered into.")
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=200)
    file_name = models.CharField(_("file"), max_length=200)
    confirmed_renames = models.JSONField(default=list, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    saved = models.PositiveIntegerField(_("rows saved"), default=0)
    errors = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    message = models.TextField(blank=True)
    queued_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-queued_at"]
        verbose_name = _("bulk upload")
        verbose_name_plural = _("bulk uploads")
        indexes = [models.Index(fields=["organisation", "-queued_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} {self.state}"

    @property
    def finished(self) -> bool:
        return self.state in self.FINISHED

    @property
    def progress_percent(self) -> int:
        if self.finished:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)
