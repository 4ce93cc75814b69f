"""The audit trail's changed fields in words (issue 13.2): each field by its model's verbose
name and each coded value (a state, a kind, a role) by its choice label, in the viewer's
language. What has no label (a number, a name, a structure kept as JSON) is shown as recorded."""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext, pgettext

from core.i18n_text import render
from core.workflow import state_labels


@cache
def _choice_labels() -> dict[str, Any]:
    """Every choice value of the project's own models, with its (lazy) label; the first model
    that names a value wins, which is the same word wherever a code recurs (``approved``)."""
    base = str(settings.BASE_DIR)
    labels: dict[str, Any] = {}
    for config in apps.get_app_configs():
        if not config.path.startswith(base) or ".venv" in config.path:
            continue
        for model in config.get_models():
            for field in model._meta.get_fields():
                for value, label in getattr(field, "flatchoices", None) or ():
                    if isinstance(value, str) and value:
                        labels.setdefault(value, label)
    from core.models import Role

    for value, label in Role.Code.choices:
        labels.setdefault(value, label)
    for value, label in state_labels().items():
        labels.setdefault(value, label)
    for extra in _REGISTERED:
        for value, label in extra.items():
            labels.setdefault(value, label)
    return labels


# Codes that are neither a model field's choices nor a workflow's states (figures, products):
# each app registers its own from its AppConfig.ready(), so core names no app.
_REGISTERED: list[Mapping[str, Any]] = []


def register_labels(labels: Mapping[str, Any]) -> None:
    """Name more codes by their labels in the audit trail; call it from an AppConfig.ready()."""
    _REGISTERED.append(labels)
_CODE = re.compile(r"(?<![\w./@-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/@-])")


def summary_text(summary: str) -> str:
    """An audit summary in the viewer's language: a stored message rendered, and the codes an
    older summary names (``submission county_review → city_review``) by their labels."""
    text = render(summary)
    labels = _choice_labels()

    def label(match: re.Match) -> str:
        found = labels.get(match.group(0))
        return str(found) if found is not None else match.group(0)

    return _CODE.sub(label, text)


_MACHINE_ACTOR = re.compile(r"^(system|public)(?: \((.+)\))?$")


def actor_text(actor_label: str) -> str:
    """The actor of an audit row in the viewer's language: a person's name as recorded, the system
    (``system (beat)``, ``system (JB-8 2025)``) and the public (an objection) in words."""
    found = _MACHINE_ACTOR.match(actor_label or "")
    if found is None:
        return actor_label
    who = pgettext("audit actor", "system") if found.group(1) == "system" else pgettext("audit actor", "the public")
    detail = found.group(2)
    if detail is None:
        return who
    return gettext("%(actor)s (%(detail)s)") % {"actor": who, "detail": label_of(detail)}


def label_of(code: str) -> str:
    """The label of a code in the active language, or the code when none is known."""
    found = _choice_labels().get(code)
    return str(found) if found is not None else code


def _model(object_type: str):
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _field_label(model, key: str) -> str:
    if model is not None:
        name = key[:-3] if key.endswith("_id") else key
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return key
        if getattr(field, "verbose_name", None):
            return str(field.verbose_name)
        if getattr(field, "related_model", None) is not None:  # a reverse relation: its rows
            return str(field.related_model._meta.verbose_name_plural)
    return key


def value_text(model, key: str, value: Any) -> str:
    """One recorded value in words."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, str):
        field_choices = None
        if model is not None:
            try:
                field_choices = dict(getattr(model._meta.get_field(key), "flatchoices", None) or ())
            except FieldDoesNotExist:
                field_choices = None
        if field_choices and value in field_choices:
            return str(field_choices[value])
        label = _choice_labels().get(value)
        return str(label) if label is not None else render(value)
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return "、".join(value_text(None, key, v) for v in value) or "—"
    return str(value)


def _structure(value: Any) -> bool:
    return isinstance(value, dict) or (isinstance(value, list) and not all(isinstance(v, (str, int)) for v in value))


def changes_in_words(object_type: str, changes) -> list[dict]:
    """``core.selectors.audit_changes`` rows with ``label``, ``before`` and ``after`` in words;
    ``raw`` marks a structure shown as recorded."""
    model = _model(object_type)
    return [
        {"key": c.key, "label": _field_label(model, c.key),
         "before": value_text(model, c.key, c.before), "after": value_text(model, c.key, c.after),
         "raw": _structure(c.before) or _structure(c.after)}
        for c in changes
    ]
