"""A list endpoint's page query, compiled once per caller and shape and then reused (issue 12:
the project API at 200 requests a second).

Building a page's queryset (the caller's scope, the filter, ``values()``, the cursor's ordering
and slice) and compiling it to SQL took about half of a request's CPU, and both come out the
same for every page one caller reads with the same parameters: only the cursor's position
differs. ``PageQueries.page(request, build)`` returns a stand-in for the queryset ``build()``
would return. DRF's CursorPagination orders it, filters it by the cursor's position and slices it as
it would the queryset. When the stand-in is read for the first time under a key, the real
queryset is built with a sentinel in the position's place and compiled. The SQL, its parameters
(and where the sentinel sits among them), the column names and the compiler (with its column
converters) are kept. Later pages under the same key run that SQL with the position put in the
sentinel's place, and their rows go through the same converters: the rows are the ORM's own.

Anything unusual takes the ordinary path (build the queryset and read it): a position that is
not an integer in its column's range, a sentinel that does not appear exactly once, a query
that can match nothing, or remembering turned off.

An entry is kept ``API_TOKEN_CACHE_SECONDS`` by this process (0: never kept). The caller's
scope is read when the entry is made (for a reviewer, treasurer or authority, the pools it
oversees), so a pool given to or taken from it reaches that caller's API pages within that time,
as a revoked token does (core/api/auth.py); tests/riskpool/test_api_compiled_pages.py shows both.
The key therefore names everything else the query depends on: the endpoint, the caller (person,
superuser flag, organisation) and the query string without the cursor.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP

# Stands for the cursor's position while a page query is compiled: in the range of every integer
# column, and never an id (ids are positive).
_SENTINEL = -2_000_000_017
_NO_POSITION = object()


@dataclass(frozen=True)
class _Compiled:
    until: float
    alias: str
    compiler: object
    sql: str  # "": not compiled, the ORM answers (a query that can match nothing, say)
    params: tuple
    names: list[str]
    position_at: int | None  # the sentinel's index among the parameters; None: no position
    position_field: object | None


class PageQueries:
    """Compiled page queries of one endpoint, kept per process (sync workers: one request at a
    time; threads only ever read an entry and run a copy of its compiler)."""

    # An entry holds its compiled query (about 45 KiB): at most this many per endpoint and process.
    max_entries = 200

    def __init__(self, cursor_param: str = "cursor") -> None:
        self.cursor_param = cursor_param
        self._entries: dict[tuple, _Compiled] = {}

    def page(self, request, build: Callable[[], QuerySet]) -> PageQuery:
        """A stand-in for ``build()`` (a ``values()`` queryset of ``request``'s caller), kept
        under the caller and the query string without the cursor."""
        user = request.user
        query = tuple(sorted((name, tuple(values)) for name, values in request.query_params.lists()
                             if name != self.cursor_param))
        key = (user.pk, bool(user.is_superuser), getattr(user, "organisation_id", None), query)
        return PageQuery(self, key, build)

    def clear(self) -> None:
        self._entries.clear()

    # --- reading -------------------------------------------------------------------------------

    def rows(self, page: PageQuery) -> list[dict]:
        seconds = getattr(settings, "API_TOKEN_CACHE_SECONDS", 0)
        if seconds <= 0:
            return list(page.queryset(page.position))
        key = (page.key, page.ops)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is None or entry.until <= now:
            entry = self._compile(page, now + seconds)
            self._make_room(now)
            self._entries[key] = entry
        params = _with_position(entry, page.position) if entry.sql else None
        if params is None:
            return list(page.queryset(page.position))
        return _run(entry, params)

    def _make_room(self, now: float) -> None:
        if len(self._entries) < self.max_entries:
            return
        # A copy of the items: the development server answers in threads, each may add an entry.
        for key, entry in list(self._entries.items()):
            if entry.until <= now:
                self._entries.pop(key, None)
        if len(self._entries) >= self.max_entries:  # many callers within the seconds: start again
            self._entries.clear()

    @staticmethod
    def _compile(page: PageQuery, until: float) -> _Compiled:
        """The entry for ``page``'s key; one without SQL sends its pages to the ORM."""
        has_position = page.position is not _NO_POSITION
        queryset = page.queryset(_SENTINEL if has_position else _NO_POSITION)
        compiler = queryset.query.get_compiler(queryset.db)
        orm_only = _Compiled(until, queryset.db, None, "", (), [], None, None)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # a caller who sees nothing: the ORM answers without a query
            return orm_only
        if not sql:
            return orm_only
        position_at = field = None
        if has_position:
            places = [i for i, p in enumerate(params) if type(p) is int and p == _SENTINEL]
            field = _position_field(queryset, page.position_lookup)
            if len(places) != 1 or field is None:
                return orm_only
            position_at = places[0]
        query = queryset.query
        names = list(query.selected) if query.selected else [
            *query.extra_select, *query.values_select, *query.annotation_select]
        return _Compiled(until, queryset.db, compiler, sql, tuple(params), names, position_at, field)


class PageQuery:
    """What DRF's CursorPagination does to a queryset, recorded: ``order_by``, one
    ``filter(<field>__lt|gt=position)``, a slice; reading it runs the page."""

    def __init__(self, store: PageQueries, key: tuple, build: Callable[[], QuerySet], ops: tuple = (),
                 position=_NO_POSITION, position_lookup: str | None = None) -> None:
        self.store, self.key, self.build, self.ops = store, key, build, ops
        self.position, self.position_lookup = position, position_lookup

    def _then(self, op: tuple, **changes) -> PageQuery:
        values = {"position": self.position, "position_lookup": self.position_lookup, **changes}
        return PageQuery(self.store, self.key, self.build, (*self.ops, op), **values)

    def order_by(self, *fields: str) -> PageQuery:
        return self._then(("order_by", fields))

    def filter(self, **lookups) -> PageQuery:
        if len(lookups) != 1 or self.position is not _NO_POSITION:
            raise TypeError("a page query is filtered once, by the cursor's position")
        ((lookup, position),) = lookups.items()
        return self._then(("filter", lookup), position=position, position_lookup=lookup)

    def __getitem__(self, item) -> PageQuery:
        if not isinstance(item, slice) or item.step is not None:
            raise TypeError("a page query is only sliced")
        return self._then(("slice", item.start, item.stop))

    def __iter__(self):
        return iter(self.store.rows(self))

    def queryset(self, position) -> QuerySet:
        """The real queryset: ``build()`` with the recorded steps, the position given."""
        queryset = self.build()
        for op in self.ops:
            if op[0] == "order_by":
                queryset = queryset.order_by(*op[1])
            elif op[0] == "filter":
                queryset = queryset.filter(**{op[1]: position})
            else:
                queryset = queryset[op[1]:op[2]]
        return queryset


def _position_field(queryset: QuerySet, lookup: str):
    """The model field the cursor's position is compared with, when it is an integer column."""
    name = lookup.split(LOOKUP_SEP)[0]
    meta = queryset.model._meta
    try:
        field = meta.pk if name == "pk" else meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if field.get_internal_type() in ("AutoField", "BigAutoField", "IntegerField", "BigIntegerField") else None


def _with_position(entry: _Compiled, position) -> tuple | None:
    """The entry's parameters with ``position`` in the sentinel's place, as the ORM would pass
    it; None when the position is not a plain integer of the column's range."""
    if entry.position_at is None:
        return entry.params
    try:
        value = entry.position_field.to_python(position)
    except (ValidationError, TypeError, ValueError):
        return None
    connection = connections[entry.alias]
    low, high = connection.ops.integer_field_range(entry.position_field.get_internal_type())
    if type(value) is not int or not (low <= value <= high):
        return None
    params = list(entry.params)
    params[entry.position_at] = value
    return tuple(params)


def _run(entry: _Compiled, params: tuple) -> list[dict]:
    """The kept compiler, on this thread's connection, run with the kept SQL: Django's own
    fetching and converters, none of its query building."""
    compiler = copy.copy(entry.compiler)
    compiler.connection = connections[entry.alias]
    sql = entry.sql
    compiler.as_sql = lambda *args, **kwargs: (sql, params)
    names = entry.names
    # As ValuesIterable: a row may carry more columns than names (those the ordering added).
    return [dict(zip(names, row, strict=False)) for row in compiler.results_iter()]
