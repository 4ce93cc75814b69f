"""Small timing helpers for the benchmark commands (``manage.py bench_guarantees``).

- ``measure(func, repeat=…)``: one warm-up call whose queries are captured (how many, and the
  slowest one, for an EXPLAIN), then ``repeat`` timed calls; median and p95 in milliseconds.
- ``explain(queryset)`` / ``explain_sql(sql)``: EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, so a
  reader sees whether an index is used and how many pages were read.

Nothing here knows about the apps; it only times callables and asks the database.
"""
from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``pct``% of the values at or
    below it (with 15 runs, p95 is the slowest run)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class CapturedQuery:
    sql: str
    ms: Decimal


@dataclass
class Measurement:
    """``samples_ms`` are the timed calls; ``queries`` are those of the (untimed) warm-up call."""

    samples_ms: list[float]
    queries: list[CapturedQuery] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return median(self.samples_ms)

    @property
    def p95_ms(self) -> float:
        return percentile(self.samples_ms, 95)

    @property
    def query_count(self) -> int:
        return len(self.queries)

    def slowest_select(self) -> CapturedQuery | None:
        """The slowest read of the warm-up call (the one worth an EXPLAIN)."""
        selects = [q for q in self.queries if q.sql.lstrip().upper().startswith(("SELECT", "WITH"))]
        return max(selects, key=lambda q: q.ms, default=None)


def capture(func: Callable[[], object], using: str = DEFAULT_DB_ALIAS) -> tuple[object, list[CapturedQuery]]:
    """Call ``func`` once and return its result and the queries it ran (SQL as sent, time)."""
    with CaptureQueriesContext(connections[using]) as ctx:
        result = func()
    return result, [CapturedQuery(q["sql"], Decimal(q["time"]) * 1000) for q in ctx.captured_queries]


def time_calls(func: Callable[[], object], repeat: int) -> list[float]:
    """Call ``func`` ``repeat`` times; the wall time of each call in milliseconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure(func: Callable[[], object], *, repeat: int = 15, warmup: bool = True,
            using: str = DEFAULT_DB_ALIAS) -> Measurement:
    """One captured warm-up call (caches, plans, query count), then ``repeat`` timed calls.

    Without ``warmup`` (a job that writes) every call is timed and the first one is captured.
    """
    if warmup:
        _result, queries = capture(func, using)
        return Measurement(time_calls(func, repeat), queries)
    started = time.perf_counter()
    _result, queries = capture(func, using)
    first = (time.perf_counter() - started) * 1000
    return Measurement([first, *time_calls(func, repeat - 1)], queries)


def _require_postgresql(using: str) -> None:
    vendor = connections[using].vendor
    if vendor != "postgresql":
        raise RuntimeError(f"EXPLAIN (ANALYZE, BUFFERS) needs PostgreSQL, not {vendor}")


def explain_sql(sql: str, params=None, *, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement; the plan's lines. It runs the statement:
    use it on reads only."""
    _require_postgresql(using)
    with connections[using].cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return [row[0] for row in cursor.fetchall()]


def explain(queryset: QuerySet, *, using: str | None = None) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of a queryset's SQL."""
    using = using or queryset.db
    _require_postgresql(using)
    sql, params = queryset.query.sql_with_params()
    return explain_sql(sql, params, using=using)


def verify_two_factor(client, user) -> None:
    """Mark a test Client's signed-in session as past the second factor (core.twofactor), as a
    finished sign-in of an authority or reviewer would be: a confirmed TOTP device named
    ``bench`` is created for the benchmark user when it has none."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from core.twofactor import ENROLLED_SESSION_KEY

    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    device = device or TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[ENROLLED_SESSION_KEY] = True
    session.save()
