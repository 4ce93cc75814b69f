"""Small timing helpers for the benchmark commands (``manage.py bench_guarantees``).

- ``measure(func, repeat=…)``: one warm-up call whose queries are captured (how many, and the
  slowest one, for an EXPLAIN), then ``repeat`` timed calls; median and p95 in milliseconds.
- ``explain(queryset)`` / ``explain_sql(sql)``: EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, so a
  reader sees whether an index is used and how many pages were read.

- Data generation shared by ``bench_guarantees`` and ``riskpool_generate``: valid credit codes
  and identity numbers in a range no real one uses, fresh ids from a table's sequence, rows
  through PostgreSQL COPY, one-statement deletes; and a signed-in test Client for the pages.

Nothing here knows about the apps' rules; it only times callables, writes rows and asks the database.
"""
from __future__ import annotations

import io
import json
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.validators import ID_CHECK, ID_WEIGHTS, credit_code_check_character

DIVISION = "990000"  # positions 3–8 of the benchmark credit codes: no real 行政区划 starts with 99


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


# --- data generation ------------------------------------------------------------------------


def bench_credit_code(registration: str, serial: int, series: str) -> str:
    """A valid unified social credit code (GB 32100-2015) in the benchmark's own number range."""
    first17 = f"{registration}{DIVISION}{series}{serial:07d}"
    return first17 + credit_code_check_character(first17)


def bench_id_number(serial: int) -> str:
    """A resident identity number (GB 11643-1999) with a valid check character, unique per serial."""
    born = date(1960, 1, 1) + timedelta(days=serial // 1000)
    first17 = f"990101{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def copy_text(value) -> str:
    """One value in PostgreSQL COPY text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (list, dict)):
        value = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def raw_delete(model, fk: str, parents: QuerySet) -> int:
    """DELETE FROM model WHERE fk IN (parents): one statement, no rows loaded into Python."""
    connection = connections[DEFAULT_DB_ALIAS]
    qn = connection.ops.quote_name
    sql, params = parents.values("pk").query.sql_with_params()
    column = model._meta.pk.column if fk == "pk" else model._meta.get_field(fk).column
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn(column)} IN ({sql})", params)
        return cursor.rowcount


def fresh_ids(model, count: int) -> list[int]:
    """``count`` fresh primary keys from the table's own sequence (so COPY rows can be referenced)."""
    connection = connections[DEFAULT_DB_ALIAS]
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]

def copy_rows(model, columns: list[str], lines, chunk: int = 50_000) -> None:
    """COPY tab-separated ``lines`` (values of ``columns``, field names) into the model's
    table. The model's other columns get their default, NULL, or now (auto_now); a new
    required field without a default stops the benchmark with its name."""
    connection = connections[DEFAULT_DB_ALIAS]
    qn = connection.ops.quote_name
    fields = {f.name: f for f in model._meta.concrete_fields}
    now = timezone.now()
    rest, constants = [], []
    for f in model._meta.concrete_fields:
        if f.name in columns or (f.primary_key and "id" not in columns):
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        else:
            value = f.get_default()  # the declared default, "" for a text field, else None
            if value is None and not f.null:
                raise RuntimeError(
                    f"the benchmark generator does not fill {model.__name__}.{f.name}; add it to the generator."
                )
        rest.append(f.column)
        constants.append(copy_text(value))
    suffix = "".join("\t" + c for c in constants)
    names = [fields[c].column for c in columns] + rest
    sql = f"COPY {qn(model._meta.db_table)} ({', '.join(qn(n) for n in names)}) FROM STDIN"

    def send(cursor, buffer):
        data = "".join(line + suffix + "\n" for line in buffer)
        if hasattr(cursor, "copy_expert"):  # psycopg2
            cursor.copy_expert(sql, io.StringIO(data))
        else:  # psycopg 3
            with cursor.copy(sql) as copy:
                copy.write(data)

    with connection.cursor() as wrapper:
        raw = wrapper.cursor
        buffer = []
        for line in lines:
            buffer.append(line)
            if len(buffer) >= chunk:
                send(raw, buffer)
                buffer = []
        if buffer:
            send(raw, buffer)


# --- pages --------------------------------------------------------------------------------------


def client_for(user) -> Client:
    from django.conf import settings

    host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "localhost")
    client = Client(HTTP_HOST=host, secure=bool(getattr(settings, "SECURE_SSL_REDIRECT", False)))
    client.force_login(user, backend="core.auth.ActiveAccountBackend")
    verify_two_factor(client, user)
    return client

def get_ok(client: Client, url: str, params=None) -> int:
    response = client.get(url, params or {})
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return len(response.content)
