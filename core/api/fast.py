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
``size``) is evaluated on a namespace of that row's concrete columns. Supported: plain and
related attributes, nested serializers of a forward relation, ListFields of plain fields.
"""
from __future__ import annotations

import datetime
import decimal
from types import SimpleNamespace

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from rest_framework import ISO_8601, serializers
from rest_framework import fields as f
from rest_framework.settings import api_settings


class FastRows:
    def __init__(self, serializer_class, context: dict | None = None):
        serializer = serializer_class(context=context or {})
        self.columns: list[str] = []
        self.plan = self._plan(serializer, serializer.Meta.model, ())

    # --- reading -------------------------------------------------------------------------------

    def values(self, queryset: models.QuerySet) -> models.QuerySet:
        """The queryset's rows as dicts of exactly the columns the serializer reads."""
        return queryset.values(*self.columns)

    def rows(self, values) -> list[dict]:
        plan = self.plan
        return [_row(plan, v) for v in values]

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


def _row(plan, values) -> dict:
    row = {}
    namespace = None
    for name, kind, key, represent in plan:
        if kind == _COLUMN:
            value = values[key]
        elif kind == _NESTED:
            row[name] = None if values[key] is None else _row(represent, values)
            continue
        else:
            fget, columns = key
            if namespace is None:
                namespace = SimpleNamespace(**{attname: values[c] for attname, c in columns})
            value = fget(namespace)
        row[name] = None if value is None else represent(value)
    return row


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
        return choice
    if _own(field, f.CharField):
        return str
    if _own(field, f.BigIntegerField):
        return str if getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING) else int
    if _own(field, f.IntegerField):
        return int
    if _own(field, f.BooleanField):
        fallback = field.to_representation
        return lambda value: value if value is True or value is False else fallback(value)
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


def _datetime(field: f.DateTimeField):
    fallback = field.to_representation
    fmt = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if fmt is None or fmt.lower() != ISO_8601:
        return fallback

    def represent(value):
        if type(value) is not datetime.datetime or value.utcoffset() is None:
            return fallback(value)
        zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
        if zone is None:
            return fallback(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return represent
