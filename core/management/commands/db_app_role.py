"""``manage.py db_app_role``: create (or bring up to date) the PostgreSQL role the web and the
workers run as, which owns nothing and may not change the audit trail.

Run it as the owner role (the one ``migrate`` runs as) after every migration: it grants the
application role SELECT, INSERT, UPDATE and DELETE on every table of the schema, except the audit
table (SELECT and INSERT only) and the migration record (SELECT only); never TRUNCATE, TRIGGER or
REFERENCES, and it owns no table, so it can neither change audit rows nor drop or disable the
audit triggers. ``scripts/serve.sh`` (``make serve``) runs it and starts gunicorn and Celery with
``--print-url``'s database URL.

Environment: ``APP_DB_ROLE`` (default ``gp_app``) and ``APP_DB_PASSWORD`` (kept as it is when
not given and the role exists).
"""
from __future__ import annotations

import os
import re
from urllib.parse import quote

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from core.models import AuditEvent

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DEFAULT_ROLE = "gp_app"
READ_ONLY_TABLES = ("django_migrations",)


class Command(BaseCommand):
    help = "Create or update the database role the application runs as (owns nothing, append-only audit)."

    def add_arguments(self, parser):
        parser.add_argument("--role", default=os.environ.get("APP_DB_ROLE") or DEFAULT_ROLE)
        parser.add_argument("--password", default=os.environ.get("APP_DB_PASSWORD") or None)
        parser.add_argument("--print-url", action="store_true",
                            help="Print the database URL of the application role on stdout.")

    def handle(self, *args, role: str, password: str | None, print_url: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("db_app_role needs PostgreSQL (DATABASE_URL=postgres://…).")
        if not ROLE_NAME.match(role):
            raise CommandError(f"Role name {role!r}: use lower-case letters, digits and _ only.")
        with transaction.atomic(), connection.cursor() as cursor:
            created = self._ensure_role(cursor, role, password)
            self._grant(cursor, role)
        self.stderr.write(f"db_app_role: role {role} {'created' if created else 'updated'}; "
                          f"audit table {AuditEvent._meta.db_table}: SELECT, INSERT only.")
        if print_url:
            self.stdout.write(self._url(role, password))

    def _ensure_role(self, cursor, role: str, password: str | None) -> bool:
        q = connection.ops.quote_name
        audit_table = AuditEvent._meta.db_table
        cursor.execute("SELECT current_user, (SELECT tableowner FROM pg_tables WHERE tablename = %s "
                       "AND schemaname = current_schema())", [audit_table])
        me, owner = cursor.fetchone()
        if owner is None:
            raise CommandError("The audit table does not exist yet: run `manage.py migrate` first.")
        if role in (me, owner):
            raise CommandError(f"The application role must not be the owner role ({role}); choose another name.")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row and row[0]:
            raise CommandError(f"Role {role} is a superuser; the application role must not be.")
        # LOGIN without the powers that would let it bypass the grants below.
        attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT"
        verb = "ALTER" if row else "CREATE"
        if password:
            cursor.execute(f"{verb} ROLE {q(role)} {attributes} PASSWORD %s", [password])
        else:
            cursor.execute(f"{verb} ROLE {q(role)} {attributes}")
        cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, owner])
        if cursor.fetchone()[0]:
            raise CommandError(f"Role {role} is a member of the owner role {owner}; revoke that membership first.")
        return not row

    def _grant(self, cursor, role: str) -> None:
        q = connection.ops.quote_name
        r = q(role)
        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = (q(name) for name in cursor.fetchone())
        cursor.execute(f"GRANT CONNECT ON DATABASE {database} TO {r}")
        cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {r}")
        # From scratch each time, so a re-run after a migration ends in exactly this state.
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {r}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {r}")
        cursor.execute(f"REVOKE UPDATE, DELETE ON {schema}.{q(AuditEvent._meta.db_table)} FROM {r}")
        for table in READ_ONLY_TABLES:
            cursor.execute(f"REVOKE INSERT, UPDATE, DELETE ON {schema}.{q(table)} FROM {r}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {r}")

    def _url(self, role: str, password: str | None) -> str:
        settings = connection.settings_dict
        host = settings.get("HOST") or ""
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 address
        port = f":{settings['PORT']}" if settings.get("PORT") else ""
        secret = f":{quote(password, safe='')}" if password else ""
        return f"postgres://{quote(role, safe='')}{secret}@{host}{port}/{quote(settings['NAME'], safe='')}"
