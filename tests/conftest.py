"""Shared fixtures. Tests that need PostgreSQL, Redis or chromium are marked, and skipped with a
reason outside CI when the service is missing (CI=true never gets this far without them)."""
from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.db import connection, transaction

CHROMIUM = "/usr/bin/chromium"


def _skip_reason(item) -> str | None:
    if item.get_closest_marker("postgres") and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return "needs PostgreSQL: start it or set DATABASE_URL"
    if item.get_closest_marker("redis") and not settings.REDIS_URL:
        return "needs Redis: start it or set REDIS_URL"
    if item.get_closest_marker("browser") and not shutil.which(CHROMIUM):
        return "needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
    return None


def _restore_migration_data(item) -> None:
    """A transactional test ends by flushing every table, which would also wipe the rows that
    data migrations insert (roles, the LPR table, the shipped rule sets) for the tests after it.
    serialized_rollback makes Django put them back."""
    marker = item.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction") and "serialized_rollback" not in marker.kwargs:
        item.add_marker(pytest.mark.django_db(*marker.args, **marker.kwargs, serialized_rollback=True), append=False)


def pytest_collection_modifyitems(config, items):
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    for item in items:
        _restore_migration_data(item)
        reason = _skip_reason(item)
        if reason and in_ci:
            raise pytest.UsageError(f"CI=true but {item.nodeid} {reason}")
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    return [
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or db.get('NAME')}",
        f"redis: {settings.REDIS_URL or 'none (eager Celery, local memory cache)'}",
    ]


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_audit_truncate_trigger():
    """A transactional test ends with Django's flush, one TRUNCATE of every table, which the audit
    table's trigger refuses (migration 0006) as it must in production. Only that flush, of the
    test database, runs with triggers off: session_replication_role, which takes a superuser (the
    tests' database user). The role the application runs as is tested with the triggers on
    (tests/core/test_audit_db_role.py)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with transaction.atomic(using=self.connection.alias):
            with self.connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
            original(self, sql_list)

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (axes counters, throttles, memoised look-ups)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded and generated files (claim documents, materials, import files) are written under
    the test's own folder, never the shared MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    """Tests assert the English source strings; the Chinese catalogue (the product's default)
    is proven complete and rendered by tests/core/test_translations.py."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def admin():
    """The authority's administrator, who keeps the rule sets and runs the simulator."""
    from core.models import Organisation
    from tests.factories import UserFactory

    return UserFactory(organisation__kind=Organisation.Kind.AUTHORITY, roles=["authority_admin"])


@pytest.fixture
def live_worker():
    """``live_worker(run)`` makes ``run`` look run by a live worker (JB-14): it holds the run's
    advisory lock from a connection of its own, as job_run's worker does, until the test ends.
    On SQLite there are no such locks and the time rule (core.jobs.STALE_AFTER) stands in."""
    from core.jobs import _RunLock

    locks = []

    def hold(run):
        if connection.vendor == "postgresql":
            lock = _RunLock()
            assert lock.acquire(run.pk)
            locks.append(lock)
        return run

    yield hold
    for lock in locks:
        lock.release()


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _force_login_completes_two_factor(monkeypatch):
    """``client.force_login(user)`` stands for a finished sign-in, second factor included
    (core.twofactor): the session is marked verified with a confirmed device, whatever roles the
    person has or is given later in the test. ``client.login(...)`` and the sign-in page stay
    password-only, which is what tests/core/test_two_factor.py uses to test the second step."""
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        verify_session(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


def verify_session(client, user) -> None:
    """Mark ``client``'s session as having passed the second factor (enrolling ``user``)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from core.twofactor import ENROLLED_SESSION_KEY

    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    device = device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[ENROLLED_SESSION_KEY] = True
    session.save()


@pytest.fixture
def server_day(monkeypatch):
    """Set the server's policy date (``core.calendar.shanghai_today``, JB-2) for a test: every
    module that imported ``shanghai_today`` sees it, since the function reads this clock."""
    import types

    from core import calendar as core_calendar

    def set_day(day):
        monkeypatch.setattr(core_calendar, "timezone", types.SimpleNamespace(localdate=lambda **kwargs: day))
        return day

    return set_day
