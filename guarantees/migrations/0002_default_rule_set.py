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
        # Named after the policy in words; a msgid, read in each viewer's language (issue 13.2,
        # 0010_f_shipped_rule_set_name renames a rule set seeded before).
        defaults={"name": "Government financing guarantees, 2019 State Council guidance (as shipped)",
                  "params": DEFAULTS,
                  "note": "The policy values as shipped with the system; the authority may change them."},
    )


class Migration(migrations.Migration):
    dependencies = [("guarantees", "0001_initial"), ("core", "0002_audit_append_only_roles_lpr")]

    operations = [migrations.RunPython(add_rule_set, migrations.RunPython.noop)]
