"""Versioned rule sets: every policy number, with the dates it is in force."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class RuleSet(models.Model):
    """The parameters of one scheme for a date range [effective_from, effective_to] (inclusive).

    A calculation asks for the scheme's rule set in force on the date its rule names; the
    ranges of one scheme may not overlap, so there is exactly one answer.
    """

    class Scheme(models.TextChoices):
        GUARANTEES = "guarantees", _("Guaranteed loans (GU)")
        RISKPOOL_S = "riskpool_s", _("Risk pool, Scheme S (RP)")
        RISKPOOL_M = "riskpool_m", _("Risk pool, Scheme M (RP-M)")
        EVALUATION = "evaluation", _("Annual evaluation (EV)")
        COUNTERGUARANTEE = "counterguarantee", _("Counter-guarantee (CG)")

    scheme = models.CharField(_("scheme"), max_length=20, choices=Scheme.choices)
    name = models.CharField(_("name"), max_length=100)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True, help_text=_("Empty: open-ended."))
    params = models.JSONField(_("parameters"), encoder=DjangoJSONEncoder)
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scheme", "-effective_from"]
        verbose_name = _("rule set")
        verbose_name_plural = _("rule sets")
        constraints = [
            models.UniqueConstraint(fields=["scheme", "effective_from"], name="ruleset_unique_start"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                name="ruleset_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        end = self.effective_to.isoformat() if self.effective_to else "…"
        return f"{self.get_scheme_display()} {self.display_name} ({self.effective_from:%Y-%m-%d} – {end})"

    def get_absolute_url(self) -> str:
        return reverse("rulesets:detail", args=[self.pk])

    @property
    def display_name(self) -> str:
        """The name in the reader's language: a shipped rule set's name is a msgid (the apps'
        data migrations name them so), an authority's own name reads as typed (core.i18n_text.render)."""
        from core.i18n_text import render

        return render(self.name)

    def overlapping(self):
        others = RuleSet.objects.filter(scheme=self.scheme).exclude(pk=self.pk)
        if self.effective_to:
            others = others.filter(effective_from__lte=self.effective_to)
        return others.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=self.effective_from))

    def clean(self):
        if self.effective_from is None or not self.scheme:
            return  # the form reports the missing field itself
        if self.effective_to and self.effective_to < self.effective_from:
            raise ValidationError({"effective_to": _("The end date is before the start date.")})
        clash = self.overlapping().first()
        if clash:
            raise ValidationError(
                _("The dates overlap rule set “%(other)s” of the same scheme.") % {"other": clash}
            )
