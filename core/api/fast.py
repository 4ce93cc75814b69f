"""A list serializer's output without model instances or DRF's per-field machinery (issue 12:
the project API at 200 requests a second).

A 50-row page spent most of its time building model instances (a row and its three related
rows through ``select_related``) and in ``Serializer.to_representation``, which walks the field
generator, resolves each source through ``get_attribute`` and checks for SkipField, for every
row and field. ``FastRows`` resolves the serializer once per class: it keeps, for each read
field, the column it reads (``values()`` across the relations) and a converter. The page is
then read as plain dicts (``FastRows.values(queryset)``: the same filter, order and joins, no
instances) and each row built with one dict look-up and one converter call per field.

The converters are DRF's own ``to_representation`` of the same field objects, except for the
exact DRF classes whose output is plain to reproduce (CharField, ChoiceField, (Big)IntegerField,
BooleanField, DecimalField, DateField, DateTimeField in ISO format, ListField of them), where
the same formatting is done with the field's settings read once; any other value goes through
the field's own method. tests/core/test_api_fast.py compares both outputs value by value, and
tests/riskpool/test_api_fast_rows.py the whole page. A model property (e.g. a borrower's
``size``) is evaluated on an object holding that row's concrete columns. Supported: plain and
related attributes, nested serializers of a forward relation, ListFields of plain fields.
"""
from __future__ import annotations

import datetime
import decimal
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework import fields as f
from rest_framework.settings import api_settings


class FastRows:
    def __init__(self, serializer_class, context: dict | None = None):
        serializer = serializer_class(context=context or {})
        self.columns: list[str] = []
        self.plan = self._plan(serializer, serializer.Meta.model, ())
        self._row = _compile(self.plan)

    # --- reading -------------------------------------------------------------------------------

    def values(self, queryset: models.QuerySet) -> models.QuerySet:
        """The queryset's rows as dicts of exactly the columns the serializer reads."""
        return queryset.values(*self.columns)

    def rows(self, values) -> list[dict]:
        # The current time zone, looked up once for the page rather than for every row's
        # datetimes (through asgiref's Local it was a tenth of the request).
        token = _page_zone.set(_current_zone())
        try:
            return list(map(self._row, values))
        finally:
            _page_zone.reset(token)

    # --- the plan ------------------------------------------------------------------------------

    def _column(self, path: tuple[str, ...]) -> str:
        name = "__".join(path)
        if name not in self.columns:
            self.columns.append(name)
        return name

    def _plan(self, serializer: serializers.Serializer, model, prefix: tuple[str, ...]) -> list:
        plan = []
        for name, field in serializer.fields.items():
            if field.write_only:
                continue
            if isinstance(field, serializers.ListSerializer):
                raise TypeError(f"FastRows does not serialize the nested list {name!r}")
            attrs = tuple(field.source_attrs)
            if isinstance(field, serializers.Serializer):
                relation = _relation(model, attrs, name)
                plan.append((name, _NESTED, self._column((*prefix, *attrs)),
                             self._plan(field, relation.related_model, (*prefix, *attrs))))
            elif isinstance(field, serializers.PrimaryKeyRelatedField) and field.pk_field is None:
                # As DRF's pk-only optimisation: the foreign key's column, never the related row.
                *path, last = attrs
                target = _walk(model, path, name)
                plan.append((name, _COLUMN, self._column((*prefix, *path, target._meta.get_field(last).attname)),
                             _same))
            else:
                *path, last = attrs
                target = _walk(model, path, name)
                represent = converter(field)
                try:
                    column = target._meta.get_field(last)
                except FieldDoesNotExist:  # a property of the model
                    column = None
                if column is not None and column.concrete:
                    plan.append((name, _COLUMN, self._column((*prefix, *path, column.attname)), represent))
                    continue
                prop = getattr(target, last, None)
                if path or not isinstance(prop, property):
                    raise TypeError(f"FastRows cannot read {name!r} ({'.'.join(attrs)}) as a column")
                namespace = [(c.attname, self._column((*prefix, c.attname))) for c in model._meta.concrete_fields]
                plan.append((name, _PROPERTY, (prop.fget, namespace), represent))
        return plan


_COLUMN, _NESTED, _PROPERTY = 0, 1, 2


def _compile(plan) -> callable:
    """``_row`` for this plan as one function of straight-line code (a dict display with one
    look-up and one call per field): the same row, without walking the plan for every row, which
    took most of a 50-row page's time. The names and keys are put in as literals through
    ``repr``; converters and properties are passed in by name."""
    scope: dict[str, object] = {"_Columns": _Columns}

    def bind(value, prefix: str) -> str:
        name = f"{prefix}{len(scope)}"
        scope[name] = value
        return name

    def display(plan) -> str:
        items = []
        for name, kind, key, represent in plan:
            if kind == _NESTED:
                value = f"None if v[{key!r}] is None else {display(represent)}"
            else:
                if kind == _COLUMN:
                    read = f"v[{key!r}]"
                else:
                    fget, columns = key
                    read = f"{bind(fget, '_fget')}(_Columns(v, {bind(dict(columns), '_columns')}))"
                kept = _unchanged(represent)
                if represent is _same:
                    value = read
                elif kept is not None:  # the common case without a call: a value already of its type
                    value = (f"x if type(x := {read}) is {bind(kept, '_t')} else "
                             f"(None if x is None else {bind(represent, '_c')}(x))")
                else:
                    value = f"None if (x := {read}) is None else {bind(represent, '_c')}(x)"
            items.append(f"{name!r}: ({value})")
        return "{" + ", ".join(items) + "}"

    source = f"def _row(v):\n    return {display(plan)}\n"
    exec(compile(source, "<FastRows>", "exec"), scope)  # noqa: S102 (built from the plan, no input)
    return scope["_row"]


class _Columns:
    """The model's concrete columns of one row, as attributes, for a model property to read."""

    __slots__ = ("_values", "_names")

    def __init__(self, values: dict, names: dict[str, str]) -> None:
        self._values, self._names = values, names

    def __getattr__(self, attname: str):
        try:
            return self._values[self._names[attname]]
        except KeyError:
            raise AttributeError(attname) from None


def _walk(model, path, name):
    for attr in path:
        model = _relation(model, (attr,), name).related_model
    return model


def _relation(model, attrs, name):
    if len(attrs) != 1:
        raise TypeError(f"FastRows nests only a direct relation ({name!r})")
    field = model._meta.get_field(attrs[0])
    if not (field.is_relation and (field.many_to_one or field.one_to_one) and field.concrete):
        raise TypeError(f"FastRows follows only foreign keys ({name!r})")
    return field


def _same(value):
    return value


def _unchanged(represent) -> type | None:
    """The type whose values ``represent`` returns as they are (checked with ``type() is``)."""
    if represent is str or represent is int:
        return represent
    return getattr(represent, "unchanged", None)


# --- converters: each equal to the field's to_representation for a non-None value -------------

def _own(field, cls) -> bool:
    """The field is ``cls`` or a subclass that changes none of its output."""
    kind = type(field)
    return isinstance(field, cls) and kind.to_representation is cls.to_representation


def converter(field: f.Field):
    if isinstance(field, f.ListField) and _own(field, f.ListField):
        child = converter(field.child)
        return lambda value: [None if item is None else child(item) for item in value]
    if _own(field, f.ChoiceField):
        choices = field.choice_strings_to_values
        fallback = field.to_representation

        def choice(value):
            if type(value) is str and value:
                return choices.get(value, value)
            return fallback(value)
        if all(type(v) is str and k == v for k, v in choices.items()):
            choice.unchanged = str  # a text is its own choice: DRF gives it back (and "" too)
        return choice
    if _own(field, f.CharField):
        return str
    if _own(field, f.BigIntegerField):
        return str if getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING) else int
    if _own(field, f.IntegerField):
        return int
    if _own(field, f.BooleanField):
        fallback = field.to_representation

        def boolean(value):
            return value if value is True or value is False else fallback(value)
        boolean.unchanged = bool
        return boolean
    if _own(field, f.DecimalField):
        return _decimal(field)
    if _own(field, f.DateTimeField) and type(field).enforce_timezone is f.DateTimeField.enforce_timezone:
        return _datetime(field)
    if _own(field, f.DateField):
        return _date(field)
    return field.to_representation


def _decimal(field: f.DecimalField):
    fallback = field.to_representation
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    if not coerce or field.localize or field.normalize_output or field.decimal_places is None:
        return fallback
    exponent = decimal.Decimal(".1") ** field.decimal_places
    rounding = field.rounding

    def represent(value):
        if type(value) is not decimal.Decimal:
            return fallback(value)
        context = decimal.getcontext().copy()  # as DRF: the thread's context, its precision the field's
        if field.max_digits is not None:
            context.prec = field.max_digits
        return f"{value.quantize(exponent, rounding=rounding, context=context):f}"
    return represent


def _date(field: f.DateField):
    fallback = field.to_representation
    fmt = getattr(field, "format", api_settings.DATE_FORMAT)
    if fmt is None or fmt.lower() != ISO_8601:
        return fallback
    return lambda value: value.isoformat() if type(value) is datetime.date else fallback(value)


# DateTimeField.default_timezone() for the rows FastRows.rows is building; _UNSET outside it.
_UNSET = object()
_page_zone: ContextVar = ContextVar("fast_rows_page_zone", default=_UNSET)


def _current_zone():
    """As DRF's DateTimeField.default_timezone()."""
    return timezone.get_current_timezone() if settings.USE_TZ else None


def _datetime(field: f.DateTimeField):
    fallback = field.to_representation
    fmt = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if fmt is None or fmt.lower() != ISO_8601:
        return fallback
    own_zone = hasattr(field, "timezone")  # DRF sets it only when the field was given one
    shared_zone = type(field).default_timezone is f.DateTimeField.default_timezone

    def represent(value):
        if type(value) is not datetime.datetime or value.utcoffset() is None:
            return fallback(value)
        if own_zone:
            zone = field.timezone
        else:
            zone = _page_zone.get() if shared_zone else _UNSET
            if zone is _UNSET:
                zone = field.default_timezone()
        if zone is None:
            return fallback(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return represent
