"""Admin of the authority-maintained riskpool tables (audited like the core admin)."""
from __future__ import annotations

from django.contrib import admin

from core.admin import AuditedModelAdmin
from riskpool.models import SpecialListEntry


@admin.register(SpecialListEntry)
class SpecialListEntryAdmin(AuditedModelAdmin):
    """RP-12: the special list approved by the city government."""

    list_display = ("pool", "credit_code", "industry", "ratio", "valid_from", "valid_to")
    list_filter = ("pool",)
    search_fields = ("credit_code", "industry", "note")

    def audit_organisation(self, obj):
        return obj.pool.authority
