"""Admin of the evaluation tables the authority's administrators maintain (audited like the core
admin): the EV-1 exclusions of a year and the EV-10 distribution list. Years, schemes and targets
are set on the evaluation pages, through the services (EV-9)."""
from __future__ import annotations

from django.contrib import admin

from core.admin import AuditedModelAdmin
from evaluation.models import DistributionRecipient, YearExclusion


@admin.register(YearExclusion)
class YearExclusionAdmin(AuditedModelAdmin):
    """EV-1: firms evaluated by another scheme in a year (agricultural credit guarantee firms)."""

    list_display = ("year", "firm", "reason")
    list_filter = ("year", "reason")
    autocomplete_fields = ("firm",)

    def audit_organisation(self, obj):
        return obj.firm


@admin.register(DistributionRecipient)
class DistributionRecipientAdmin(AuditedModelAdmin):
    """EV-10: who receives the results, with read access."""

    list_display = ("organisation", "note", "added_at")
    autocomplete_fields = ("organisation",)

    def audit_organisation(self, obj):
        return obj.organisation
