"""The audit trail is append-only against its owner too: TRUNCATE is refused by a trigger, and the
role the application runs as (``manage.py db_app_role``, used by ``make serve``) can add audit rows
but not change, delete or truncate them, nor touch the triggers."""
from __future__ import annotations

from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from core.audit import audit
from core.models import AuditEvent, CalendarDay, Organisation
from tests.factories import OrganisationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def role():
    """The application role, made by the production command inside the test's transaction, so it
    vanishes with the rollback (and helpers sharing the cluster each get their own name)."""
    name = f"{connection.settings_dict['NAME']}_app"[:63]
    call_command("db_app_role", role=name, password="app-role-pass-1", stderr=StringIO())
    return name


@contextmanager
def acting_as(role: str):
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {connection.ops.quote_name(role)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def _refused(sql: str, params=()) -> str:
    """Run ``sql`` in a savepoint; return the database's refusal (the test fails if it is accepted)."""
    with pytest.raises(DatabaseError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(error.value)


@pytest.fixture
def event():
    return audit(actor="tests", action=AuditEvent.Action.CREATE, instance=OrganisationFactory(), summary="kept")


def test_truncate_of_the_audit_table_is_refused_even_for_its_owner(event):
    message = _refused(f"TRUNCATE {TABLE}")
    assert "append-only" in message
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_update_and_delete_stay_refused_for_the_owner(event):
    assert "append-only" in _refused(f"UPDATE {TABLE} SET summary = 'changed' WHERE id = %s", [event.pk])
    assert "append-only" in _refused(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])


def test_app_role_cannot_update_delete_or_truncate_the_audit_trail(role, event):
    with acting_as(role):
        assert "permission denied" in _refused(f"UPDATE {TABLE} SET summary = 'changed' WHERE id = %s", [event.pk])
        assert "permission denied" in _refused(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])
        assert "permission denied" in _refused(f"TRUNCATE {TABLE}")
        # Nor can it take the triggers away: it does not own the table.
        assert "must be owner" in _refused(f"ALTER TABLE {TABLE} DISABLE TRIGGER core_auditevent_no_update_delete")
        assert "must be owner" in _refused(f"DROP TRIGGER core_auditevent_no_truncate ON {TABLE}")
        assert "must be owner" in _refused("DROP FUNCTION core_auditevent_append_only()")
    event.refresh_from_db()
    assert event.summary == "kept"


def test_app_role_runs_the_application_writes_and_appends_audit_rows(role):
    org = OrganisationFactory()
    with acting_as(role):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == role
        added = audit(actor="app", action=AuditEvent.Action.UPDATE, instance=org, summary="by the app role")
        Organisation.objects.filter(pk=org.pk).update(name="renamed")
        day = CalendarDay.objects.create(date="2031-01-02", is_working_day=False, name="x")
        day.delete()
        assert AuditEvent.objects.filter(pk=added.pk, summary="by the app role").exists()
        assert "permission denied" in _refused("INSERT INTO django_migrations (app, name, applied) "
                                               "VALUES ('x', 'y', now())")
        assert "permission denied" in _refused(f"TRUNCATE {Organisation._meta.db_table} CASCADE")


def test_app_role_owns_nothing_and_has_no_powers(role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolcanlogin "
                       "FROM pg_roles WHERE rolname = %s", [role])
        assert cursor.fetchone() == (False, False, False, False, True)
        cursor.execute("SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)",
                       [role])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT tableowner FROM pg_tables WHERE tablename = %s", [TABLE])
        assert cursor.fetchone()[0] != role


def test_db_app_role_is_repeatable_and_prints_the_url(role):
    out = StringIO()
    call_command("db_app_role", role=role, password="p@ss/word", print_url=True, stdout=out, stderr=StringIO())
    url = out.getvalue().strip()
    assert url.startswith(f"postgres://{role}:p%40ss%2Fword@")
    assert url.endswith("/" + connection.settings_dict["NAME"])


def test_db_app_role_refuses_the_owner_and_bad_names():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="owner"):
        call_command("db_app_role", role=owner, stderr=StringIO())
    with pytest.raises(CommandError, match="letters"):
        call_command("db_app_role", role='x"; DROP TABLE core_auditevent; --', stderr=StringIO())
