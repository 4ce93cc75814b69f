"""Append-only audit trail on PostgreSQL, the fixed roles, and the LPR seed (spec data/lpr.csv)."""
import csv
from decimal import Decimal
from pathlib import Path

from django.db import migrations

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'core_auditevent is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_append_only();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS core_auditevent_no_update_delete ON core_auditevent;
DROP FUNCTION IF EXISTS core_auditevent_append_only();
"""

ROLES = [
    "authority_admin", "authority_reviewer", "pool_reviewer", "pool_treasurer", "bank_operator",
    "firm_operator", "county_supervisor", "city_supervisor", "province_supervisor",
]


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


def add_roles(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for code in ROLES:
        Role.objects.get_or_create(code=code)


def add_lpr(apps, schema_editor):
    LprRate = apps.get_model("core", "LprRate")
    path = Path(__file__).resolve().parent.parent / "data" / "lpr.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            LprRate.objects.get_or_create(
                effective_on=row["effective_on"], term=row["term"],
                defaults={"rate_percent": Decimal(row["rate_percent"])},
            )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(add_trigger, drop_trigger),
        migrations.RunPython(add_roles, migrations.RunPython.noop),
        migrations.RunPython(add_lpr, migrations.RunPython.noop),
    ]
