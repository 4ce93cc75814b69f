"""The set-based engine of the bulk uploads (issue 12), shared by the loan-project import
(riskpool.imports) and the guarantee import (guarantees.imports).

A file is streamed: its rows are read, parsed and checked ``BULK_IMPORT_CHUNK_ROWS`` at a time,
each chunk with a few set-based queries (the loan numbers, borrowers… of the whole chunk at
once) instead of a savepoint and ten queries per row; while no row has failed, each checked
chunk is written at once (bulk_create), inside the caller's one transaction. Every later row is
still checked, so every problem of the file is reported, and any error raises BulkRejected,
which rolls the whole file back: all or nothing, as before.

A file of more than ``BULK_IMPORT_INLINE_ROWS`` rows is not entered while the browser waits: it
is stored as an ``ImportRun`` and entered by a Celery task (``core.tasks.import_run_task``);
its page polls ``import_run_status`` and then shows the result (rows saved, or the errors,
downloadable as xlsx).
"""
from __future__ import annotations

import contextlib
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple, Protocol

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connection, models, transaction
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from core import i18n_text
from core.audit import snapshot
from core.bulk import BulkRejected, ImportRefused, RowError
from core.errors import RuleViolation
from core.models import AuditEvent, ImportRun

# What enters a stored file of each kind: ``run(run: ImportRun, progress) -> rows saved``.
RUNNERS = {
    ImportRun.Kind.PROJECTS: "riskpool.imports.run_stored",
    ImportRun.Kind.GUARANTEES: "guarantees.imports.run_stored",
}


class ChunkImporter(Protocol):
    """One file's checks and writes, chunk by chunk (see ``import_rows``)."""

    def check(self, rows: list[dict]) -> list[RowError]:
        """Every problem of these rows (each readable: ``{"row", "borrower", "data", …}``), with
        set-based lookups; it remembers what later chunks must see (loan numbers, names)."""

    def write(self, rows: list[dict]) -> int:
        """Save these checked rows (no row of the file has failed so far); how many were saved."""

    def finish(self) -> None:
        """After the last row, all of them saved (a figure refreshed once, …)."""


def chunks(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def import_rows(rows: Iterable[dict], importer: ChunkImporter, *, chunk_rows: int | None = None,
                progress: Callable[[int], None] | None = None, deadline=None) -> int:
    """Check and enter ``rows`` (parsed file rows, possibly ``{"row", "errors"}`` for a row the
    parser could not read), all or none, inside the caller's transaction; raises BulkRejected
    with every error of the file in row order. ``progress(rows done)`` after each chunk. The
    parse ``deadline`` (core.upload_limits) counts the reading only, not the checks and writes."""
    chunk_rows = chunk_rows or settings.BULK_IMPORT_CHUNK_ROWS
    pause = deadline.paused if deadline is not None else contextlib.nullcontext
    errors: list[RowError] = []
    saved = done = 0
    for chunk in chunks(rows, chunk_rows):
        readable = [row for row in chunk if not row.get("errors")]
        found = [error for row in chunk for error in row.get("errors", ())]
        with pause():
            found += importer.check(readable)
            if found:
                errors += found
            elif not errors:
                saved += importer.write(readable)
        done += len(chunk)
        if progress is not None:
            progress(done)
    if errors:
        raise BulkRejected(sorted(errors, key=lambda e: e.row))
    with pause():
        importer.finish()
    return saved


def problems_as_errors(row: int, exc_or_problems) -> list[RowError]:
    """A rule function's problems (a RuleViolation or its list of Problems) as one row's errors."""
    problems = exc_or_problems.problems if isinstance(exc_or_problems, RuleViolation) else exc_or_problems
    return [RowError(row, p.field, p.rule, p.message) for p in problems]


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, (date, datetime)):
        value = value.isoformat()
    else:
        value = str(value)
    return value.translate(_COPY_ESCAPES)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# ``_copy_text`` by the value's exact type, without its chain of checks: a file of 100,000
# rows formats millions of values. Any other type goes through ``_copy_text``.
_COPY_BY_TYPE: dict[type, Callable[[object], str]] = {
    type(None): lambda value: "\\N",
    bool: lambda value: "t" if value else "f",
    int: int.__repr__,
    Decimal: Decimal.__str__,
    str: lambda value: value.translate(_COPY_ESCAPES),
    date: date.isoformat,
    datetime: lambda value: value.isoformat().translate(_COPY_ESCAPES),
}


def copy_line(values: Iterable) -> str:
    """One row of values as a line of COPY's text format."""
    by_type = _COPY_BY_TYPE
    return "\t".join([by_type.get(type(v), _copy_text)(v) for v in values]) + "\n"


def reserve_ids(model, count: int) -> list[int]:
    """``count`` ids from the table's sequence (one query), for rows COPY is about to insert."""
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [meta.db_table, meta.pk.column, count])
        return [pk for (pk,) in cursor.fetchall()]


def copy_values(model, attnames: list[str], rows: Iterable[list]) -> None:
    """COPY ``rows`` (lists of values in ``attnames`` order, the pk included) into the table."""
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    json_positions = [i for i, name in enumerate(attnames) if isinstance(by_attname[name], models.JSONField)]
    lines = io.StringIO()
    write = lines.write
    for values in rows:
        for i in json_positions:  # a JSON field's value is always JSON text, a plain string included
            if values[i] is not None:
                values[i] = json.dumps(values[i], cls=DjangoJSONEncoder, ensure_ascii=False)
        write(copy_line(values))
    lines.seek(0)
    columns = ", ".join(connection.ops.quote_name(by_attname[name].column) for name in attnames)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN", lines)


def copy_insert(model, objs: list) -> list:
    """INSERT ``objs`` (unsaved instances) with PostgreSQL's COPY, the fastest way in: their ids
    are taken from the table's sequence first (one query), so the instances come back saved,
    with their pk, as from ``bulk_create``; ``auto_now_add`` fields are set here. Elsewhere than
    PostgreSQL it is ``bulk_create``."""
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objs, batch_size=settings.BULK_IMPORT_CHUNK_ROWS)
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    for f in fields:
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
            for obj in objs:
                setattr(obj, f.attname, now)
    for obj, pk in zip(objs, reserve_ids(model, len(objs)), strict=True):
        obj.pk = pk
    attnames = [meta.pk.attname] + [f.attname for f in fields]
    copy_values(model, attnames, ([getattr(obj, name) for name in attnames] for obj in objs))
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def audit_rows(*, actor, action: str, instances: Iterable, organisation, summaries: Iterable[str],
               befores: Iterable[dict | None] | None = None) -> int:
    """``core.audit.audit`` for many rows in one INSERT (per ``BULK_IMPORT_CHUNK_ROWS``): the
    same columns, the instance as it is now as ``after``. Each summary is stored text that fits
    the column, made by ``core.i18n_text.dumps_with`` (issue 13.1)."""
    actor_user = actor if getattr(actor, "pk", None) else None
    label = (actor.get_username() if actor_user else str(actor or "system"))[:150]
    befores_given = befores
    befores = befores if befores is not None else itertools.repeat(None)
    instances = list(instances)
    if not instances:
        return 0
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create([
            AuditEvent(actor=actor_user, actor_label=label, organisation=organisation, action=action,
                       object_type=instance._meta.label_lower, object_id=str(instance.pk), summary=summary,
                       before=before, after=snapshot(instance))
            for instance, summary, before in zip(instances, summaries, befores, strict=False)])
        return len(instances)
    now = timezone.now()
    if action == AuditEvent.Action.CREATE and befores_given is None:
        return _audit_created(instances, now=now, actor_id=actor_user.pk if actor_user else None, label=label,
                              organisation_id=organisation.pk if organisation is not None else None,
                              summaries=summaries)
    # The rows as values, not AuditEvent instances: a model instance per row costs more than its COPY.
    actor_id = actor_user.pk if actor_user else None
    organisation_id = organisation.pk if organisation is not None else None
    ids = reserve_ids(AuditEvent, len(instances))
    copy_values(AuditEvent, AUDIT_COLUMNS, (
        [pk, now, actor_id, label, organisation_id, action, instance._meta.label_lower, str(instance.pk),
         summary, before, snapshot(instance)]
        for pk, instance, summary, before in zip(ids, instances, summaries, befores, strict=False)))
    return len(instances)


def _audit_created(instances: list, *, now, actor_id, label: str, organisation_id, summaries: Iterable[str]) -> int:
    """The audit rows of rows just inserted, in one INSERT … SELECT: their ``after`` is built by
    the database from the rows as stored (``_snapshot_sql``: what ``core.audit.snapshot`` gives
    of them), not by a snapshot and a JSON text per row in Python."""
    model = type(instances[0])
    meta = model._meta
    ids = [instance.pk for instance in instances]
    texts = [summary[:255] for summary, _instance in zip(summaries, instances, strict=False)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in AUDIT_COLUMNS[1:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "
            f"SELECT %s, %s, %s, %s, %s, %s, u.id::text, u.summary, NULL, {_snapshot_sql(model, 't')} "
            f"FROM unnest(%s::bigint[], %s::text[]) WITH ORDINALITY AS u(id, summary, n) "
            f"JOIN {quote(meta.db_table)} t ON t.{quote(meta.pk.column)} = u.id ORDER BY u.n",
            [now, actor_id, label, organisation_id, AuditEvent.Action.CREATE, meta.label_lower, ids, texts])
    return len(instances)


def _snapshot_sql(model, alias: str) -> str:
    """``core.audit.snapshot`` of a row of ``model`` as SQL: its concrete fields by attname, a
    decimal as its text, a date and a time as ISO text (UTC, microseconds only when there are)."""
    quote = connection.ops.quote_name
    pairs = []
    for f in model._meta.concrete_fields:
        column = f"{alias}.{quote(f.column)}"
        if isinstance(f, models.DecimalField):
            value = f"{column}::text"
        elif isinstance(f, models.DateTimeField):
            utc = f"({column} AT TIME ZONE 'UTC')"
            value = (f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN date_part('microseconds', {column})"
                     f"::bigint %% 1000000 = 0 THEN '' ELSE to_char({utc}, '.US') END || '+00:00'")
        else:
            value = column
        pairs.append(f"'{f.attname}', {value}")
    return f"jsonb_build_object({', '.join(pairs)})"


AUDIT_COLUMNS = ["id", "at", "actor_id", "actor_label", "organisation_id", "action", "object_type", "object_id",
                 "summary", "before", "after"]


class Memo:
    """A per-file cache of a lookup by key (an exchange rate by currency and date, a deadline by
    quarter): one call per distinct key however many rows share it."""

    def __init__(self, func: Callable):
        self.func = func
        self.values: dict = {}

    def __call__(self, *key):
        if key not in self.values:
            try:
                self.values[key] = (self.func(*key), None)
            except RuleViolation as exc:
                self.values[key] = (None, exc)
        value, error = self.values[key]
        if error is not None:
            raise error
        return value


class _FieldSpec(NamedTuple):
    name: str
    attname: str
    relation: models.Field | None  # a foreign key, given as its object or its id
    constant: object  # the default, when it is a value
    factory: Callable[[], object] | None  # the default, when it is a callable (a new list…)


_SPECS: dict[type, list[_FieldSpec] | None] = {}


def _field_specs(model) -> list[_FieldSpec] | None:
    """What ``unsaved`` needs of ``model``'s fields, worked out once; None when the model has
    init signal receivers (``unsaved`` then calls the model's own ``__init__``)."""
    if model not in _SPECS:
        specs: list[_FieldSpec] | None = []
        if pre_init.has_listeners(model) or post_init.has_listeners(model):
            specs = None
        else:
            for f in model._meta.concrete_fields:
                if f.generated:
                    continue
                factory = f.default if f.has_default() and callable(f.default) else None
                specs.append(_FieldSpec(f.name, f.attname, f if f.is_relation else None,
                                        None if factory else f.get_default(), factory))
        _SPECS[model] = specs
    return _SPECS[model]


def unsaved(model, **values):
    """``model(**values)``, the same unsaved instance (defaults filled in, a foreign key given as
    an object cached on it), without ``Model.__init__``'s work per field and keyword: an upload
    builds one per row. Only field names and attnames are accepted."""
    specs = _field_specs(model)
    if specs is None:
        return model(**values)
    obj = model.__new__(model)
    state = obj._state = ModelState()
    data = obj.__dict__
    for spec in specs:
        if spec.relation is not None and spec.name in values:
            related = values.pop(spec.name)
            if related is None:
                data[spec.attname] = None
            else:
                data[spec.attname] = getattr(related, spec.relation.target_field.attname)
                if state.db is None:
                    state.db = related._state.db or DEFAULT_DB_ALIAS
            spec.relation.set_cached_value(obj, related)
        elif spec.attname in values:
            data[spec.attname] = values.pop(spec.attname)
        elif spec.factory is not None:
            data[spec.attname] = spec.factory()
        else:
            data[spec.attname] = spec.constant
    if values:
        raise TypeError(f"{model.__name__}() got unexpected keyword arguments: {', '.join(values)}")
    return obj


# --- background runs ----------------------------------------------------------------------


def runs_inline(rows: int) -> bool:
    """A file of at most ``BULK_IMPORT_INLINE_ROWS`` rows is entered while the browser waits."""
    return rows <= settings.BULK_IMPORT_INLINE_ROWS


def import_run_start(*, user, kind: str, target_id: int, content: bytes, file_name: str, rows: int,
                     confirmed_renames: Iterable[str] = ()) -> ImportRun:
    """Store the file and queue its import (after the commit, so the worker finds the row)."""
    from core.tasks import import_run_task

    run = ImportRun(kind=kind, organisation=user.organisation, started_by=user, target_id=target_id,
                    file_name=file_name[:200], confirmed_renames=sorted(confirmed_renames), progress_total=rows)
    run.file.save(f"{kind}.bin", ContentFile(content), save=False)
    run.save()
    transaction.on_commit(lambda: import_run_task.delay(run.pk))
    return run


def import_run_again(*, user, run: ImportRun, confirmed_renames: Iterable[str]) -> ImportRun:
    """The same stored file entered again, with the borrower renames its result listed confirmed."""
    with run.file.open("rb") as stored:
        content = stored.read()
    return import_run_start(user=user, kind=run.kind, target_id=run.target_id, content=content,
                            file_name=run.file_name, rows=run.progress_total, confirmed_renames=confirmed_renames)


def _progress_key(run_id: int) -> str:
    return f"import-run-progress:{run_id}"


def progress_of(run: ImportRun) -> int:
    """Rows done: written by the task to the cache, since the run's own row is written only when
    its transaction ends."""
    return cache.get(_progress_key(run.pk), run.progress_done)


def import_run_execute(run_id: int) -> ImportRun:
    """The task's body: enter the stored file and record how it went."""
    run = ImportRun.objects.get(pk=run_id)
    if run.finished:
        return run  # a redelivered task (acks late) does not enter the file twice
    ImportRun.objects.filter(pk=run.pk).update(state=ImportRun.State.RUNNING)
    key = _progress_key(run.pk)

    def progress(done: int) -> None:
        cache.set(key, done, 24 * 3600)

    runner = import_string(RUNNERS[run.kind])
    fields: dict = {"finished_at": None}
    try:
        fields.update(state=ImportRun.State.SAVED, saved=runner(run, progress))
    except ImportRefused as exc:
        fields.update(state=ImportRun.State.REFUSED, message=i18n_text.dumps(exc.stored))
    except BulkRejected as exc:
        fields.update(state=ImportRun.State.REJECTED, errors=[e.stored() for e in exc.errors])
    except RuleViolation as exc:
        fields.update(state=ImportRun.State.REFUSED,
                      message=i18n_text.dumps(i18n_text.join(" ", [p.message for p in exc.problems])))
    except Exception as exc:
        fields.update(state=ImportRun.State.FAILED, message=type(exc).__name__)
        raise
    finally:
        fields.update(finished_at=timezone.now(), progress_done=progress_of(run))
        ImportRun.objects.filter(pk=run.pk).update(**fields)
        cache.delete(key)
    run.refresh_from_db()
    if run.state != ImportRun.State.REJECTED:
        # Only a rejected file is entered again (its renames confirmed); the others are not kept.
        run.file.delete(save=True)
    return run


def import_run_get_for_user(*, user, run_id: int) -> ImportRun:
    """A run of the user's own organisation; another organisation's run is a 404, as a missing one."""
    run = ImportRun.objects.filter(pk=run_id, organisation_id=user.organisation_id).first()
    if run is None or user.organisation_id is None:
        raise Http404(_("No such upload."))
    return run


def error_workbook(run: ImportRun) -> bytes:
    """The rejected file's errors as an xlsx (row, column, rule, problem), streamed rows."""
    from core.exports import Workbook

    book = Workbook(write_only=True)
    sheet = book.sheet(_("Errors"))
    sheet.append([_("Row"), _("Column"), _("Rule"), _("Problem")])
    for error in run.errors:
        sheet.append([error["row"], error.get("column") or "", error["rule"], i18n_text.render(error["message"])])
    return book.to_bytes()
