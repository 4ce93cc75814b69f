"""Admin of the authority-kept counter-guarantee tables (audited like the core admin): the asset
classes with their registry (CG-4, CG-11) and the banks' upper pledge rates (CG-6). The same
tables are edited on the counterguarantee "tables" page through the services."""
from __future__ import annotations

from django.contrib import admin

from core.admin import AuditedModelAdmin
from counterguarantee.models import AssetClass, BankPledgeRate


@admin.register(AssetClass)
class AssetClassAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "registry", "is_active", "position")
    list_filter = ("registry", "is_active")
    search_fields = ("code", "name")

    def has_delete_permission(self, request, obj=None):
        return False  # plans keep their classes; retire a class with "accepted" instead


@admin.register(BankPledgeRate)
class BankPledgeRateAdmin(AuditedModelAdmin):
    list_display = ("asset_class", "rate", "effective_from", "note")
    list_filter = ("asset_class",)
    date_hierarchy = "effective_from"
