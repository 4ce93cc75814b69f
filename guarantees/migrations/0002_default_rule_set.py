"""The shipped guarantees rule set (spec guarantees.md defaults), editable by the authority."""
from datetime import date

from django.db import migrations

DEFAULTS = {
    "bank_min_share": "0.200000",
    "national_fund_min_share": "0.200000",
    "fee_cap_threshold": "5000000.00",
    "fee_cap_low": "0.010000",
    "fee_cap_high": "0.015000",
    "avg_fee_rate_target": "0.010000",
    "support_share_target": "0.800000",
    "small_amount_threshold": "5000000.00",
    "small_amount_share_target": "0.500000",
}


def add_rule_set(apps, schema_editor):
    RuleSet = apps.get_model("core", "RuleSet")
    RuleSet.objects.get_or_create(
        scheme="guarantees", effective_from=date(2019, 1, 1),
        defaults={"name": "国办发〔2019〕6号 defaults", "params": DEFAULTS,
                  "note": "Shipped defaults: seed 000 (七)(十一), seed 001 (九)."},
    )


class Migration(migrations.Migration):
    dependencies = [("guarantees", "0001_initial"), ("core", "0002_audit_append_only_roles_lpr")]

    operations = [migrations.RunPython(add_rule_set, migrations.RunPython.noop)]
