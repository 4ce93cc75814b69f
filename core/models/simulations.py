"""Policy simulator (issue 15): drafts of rule sets, and the replays run with them.

A draft is a copy of a rule set's parameters that nothing but the simulator reads: the rules in
force always come from ``RuleSet`` (core.rulesets.rule_params), so a draft cannot affect real work.
"""
from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .rulesets import RuleSet


class RuleSetDraft(models.Model):
    scheme = models.CharField(_("scheme"), max_length=20, choices=RuleSet.Scheme.choices)
    name = models.CharField(_("name"), max_length=100)
    base = models.ForeignKey(
        RuleSet, verbose_name=_("copied from"), null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts"
    )
    params = models.JSONField(_("parameters"), encoder=DjangoJSONEncoder)
    effective_from = models.DateField(_("effective from"), help_text=_("The date it would take effect if adopted."))
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    adopted_as = models.OneToOneField(
        RuleSet, verbose_name=_("adopted as"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="adopted_from",
    )
    adopted_with = models.ForeignKey(
        "Simulation", verbose_name=_("simulation that justified it"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )

    class Meta:
        ordering = ["scheme", "-created_at"]
        verbose_name = _("rule-set draft")
        verbose_name_plural = _("rule-set drafts")

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("rulesets:draft", args=[self.pk])


class Simulation(models.Model):
    """One replay of a draft over the real history (a Celery job with progress)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    draft = models.ForeignKey(RuleSetDraft, verbose_name=_("draft"), on_delete=models.CASCADE,
                              related_name="simulations")
    scenario = models.JSONField(_("scenario"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    draft_params = models.JSONField(_("draft parameters replayed"), default=dict, encoder=DjangoJSONEncoder)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    result = models.JSONField(_("result"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("simulation")
        verbose_name_plural = _("simulations")

    def __str__(self) -> str:
        return f"{self.draft} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("rulesets:simulation", args=[self.pk])

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 100 if self.state == self.State.SUCCEEDED else 0
        return min(100, self.progress_done * 100 // self.progress_total)
