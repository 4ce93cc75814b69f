"""Scheme S (深工信规〔2024〕5号) is valid until 2028-08-10 (seed 004 第三十四条: 有效期至2028年8月10日):
the shipped rule set gets that end date, so a date after it is a clear RULESET error rather than
the old rules applied silently. A rule set the authority has already closed or replaced is left
as it is."""
from datetime import date

from django.db import migrations

SCHEME_S_START = date(2023, 8, 10)
SCHEME_S_END = date(2028, 8, 10)


def set_end(apps, schema_editor):
    RuleSet = apps.get_model("core", "RuleSet")
    RuleSet.objects.filter(scheme="riskpool_s", effective_from=SCHEME_S_START, effective_to__isnull=True).update(
        effective_to=SCHEME_S_END)


def clear_end(apps, schema_editor):
    RuleSet = apps.get_model("core", "RuleSet")
    RuleSet.objects.filter(scheme="riskpool_s", effective_from=SCHEME_S_START, effective_to=SCHEME_S_END).update(
        effective_to=None)


class Migration(migrations.Migration):

    dependencies = [
        ("riskpool", "0014_e_provisional_latest"),
    ]

    operations = [migrations.RunPython(set_end, clear_end)]
