"""Admin of the authority-maintained riskpool tables (audited like the core admin)."""
from __future__ import annotations

from django.contrib import admin

from core.admin import AuditedModelAdmin
from core.models import Organisation
from riskpool.models import Pool, SpecialListEntry


@admin.register(SpecialListEntry)
class SpecialListEntryAdmin(AuditedModelAdmin):
    """RP-12: the special list approved by the city government."""

    list_display = ("pool", "credit_code", "industry", "ratio", "valid_from", "valid_to")
    list_filter = ("pool",)
    search_fields = ("credit_code", "industry", "note")

    def audit_organisation(self, obj):
        return obj.pool.authority


@admin.register(Pool)
class PoolAdmin(AuditedModelAdmin):
    """The pools and the organisations that run them; the finance bureau (监管执行部门) is the
    last approver of a write-off closure (RP-16 8c). Money moves only through the ledger."""

    list_display = ("name", "scheme", "size", "authority", "reviewer", "treasurer", "finance_bureau", "balance")
    list_filter = ("scheme",)
    search_fields = ("name",)
    readonly_fields = ("balance",)

    def has_delete_permission(self, request, obj=None):
        return False  # ledger entries and claims point at the pool

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kinds = {"authority": Organisation.Kind.AUTHORITY, "reviewer": Organisation.Kind.POOL_REVIEWER,
                 "treasurer": Organisation.Kind.POOL_TREASURER, "finance_bureau": Organisation.Kind.FINANCE_BUREAU}
        if db_field.name in kinds:
            kwargs["queryset"] = Organisation.objects.filter(kind=kinds[db_field.name])
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def audit_organisation(self, obj):
        return obj.authority
