"""JB-3: what the daily deadline scan told each organisation."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One obligation of an organisation (core.deadlines.Obligation) as the scan of ``scanned_on``
    found it: overdue, or due within 5 working days. The unique key (organisation, item key, due
    date, kind) is what keeps a re-run of the same day, or the next day's scan of the same item in
    the same state, from notifying twice."""

    class Kind(models.TextChoices):
        OVERDUE = "overdue", pgettext_lazy("deadline", "Overdue")
        DUE_SOON = "due_soon", _("Due within 5 working days")

    organisation = models.ForeignKey("core.Organisation", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    rule = models.CharField(_("rule"), max_length=12)
    key = models.CharField(max_length=120)
    due_on = models.DateField(_("due on"))
    provisional = models.BooleanField(default=False)
    # JB-1: a provisional deadline's latest possible date (the item is overdue only after it).
    due_latest = models.DateField(_("due at the latest"), null=True, blank=True)
    message = models.CharField(max_length=300)  # untranslated msgid, shown through gettext
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True)
    scanned_on = models.DateField(_("found by the scan of"))  # the latest scan that still found it open
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "key", "due_on", "kind"], name="notification_once"),
        ]
        indexes = [models.Index(fields=["organisation", "scanned_on"])]

    def __str__(self) -> str:
        return f"{self.rule} {self.key} {self.due_on}"

    def text(self) -> str:
        text = gettext(self.message)
        return text % self.params if self.params else text
