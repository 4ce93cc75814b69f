"""How `make test` finds PostgreSQL and Redis (used by config/settings/test.py).

With CI=true both are required and a missing one stops the run at once, saying which and how
to start it. Without CI the suite falls back to SQLite and eager Celery, and the tests that
need the real services are skipped with a reason (pytest -rs lists them).
"""
from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/guarantee_policy"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"

HOW_TO_START = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
}


class MissingService(RuntimeError):
    pass


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def resolve(name: str, env_var: str, default_url: str, default_port: int) -> str | None:
    url = os.environ.get(env_var) or default_url
    if reachable(url, default_port):
        return url
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise MissingService(
            f"CI=true needs {name}, but {url} is not reachable. Set {env_var}, or start it with:\n"
            f"    {HOW_TO_START[name]}"
        )
    return None


def database_url() -> str | None:
    return resolve("PostgreSQL", "DATABASE_URL", DEFAULT_DATABASE_URL, 5432)


def redis_url() -> str | None:
    return resolve("Redis", "REDIS_URL", DEFAULT_REDIS_URL, 6379)


def main() -> int:
    """`make test` calls this first: one clear line per service, and exit 1 in CI if one is missing."""
    import sys

    try:
        db, redis = database_url(), redis_url()
    except MissingService as exc:
        print(f"make test: {exc}", file=sys.stderr)
        return 1
    print(f"make test: database {db or 'SQLite fallback (PostgreSQL not reachable)'}; "
          f"Redis {redis or 'none (eager Celery, local-memory cache)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
