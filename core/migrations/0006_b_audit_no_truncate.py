"""The audit trail refuses TRUNCATE too (PostgreSQL), from any role including its owner.

Migration 0002's row triggers refuse UPDATE and DELETE; TRUNCATE fires no row trigger, so an
owner could still empty the table in one statement. A statement-level BEFORE TRUNCATE trigger
calling the same refusing function closes that. (A superuser can still drop a trigger, which is
why the application runs under a role that owns neither the table nor its triggers:
``manage.py db_app_role``.)
"""
from django.db import migrations

TRIGGER_SQL = """
CREATE TRIGGER core_auditevent_no_truncate
    BEFORE TRUNCATE ON core_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_append_only();
"""
DROP_SQL = "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;"


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("core", "0005_user_language")]

    operations = [migrations.RunPython(add_trigger, drop_trigger)]
