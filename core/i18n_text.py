"""Text kept in the database in no language: a message's msgid and its parameters, rendered
in the reader's language when it is shown (issue 13.1).

A rule result or a step note written while an English-speaking reviewer was signed in must
read in Chinese for the next, Chinese-speaking, reader; so what is stored is not the sentence
but what makes it: ``{"code": msgid, "params": {...}}`` (``"ctx"`` for a msgctxt), or
``{"join": [...], "sep": " "}`` for sentences put together. ``render`` turns either, or a
plain string written before this existed, into text in the active language.

Rules use ``gettext_lazy`` from here as ``_``: it behaves like Django's lazy string everywhere
(forms, templates, ``str()``), and ``_("… %(x)s …") % values`` keeps the msgid and the
values instead of translating there and then, as Django's lazy string does.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.functional import Promise, lazy

Stored = str | dict | list


def render(value: Any) -> str:
    """The stored text ``value`` in the active language."""
    if isinstance(value, Text):
        return str(value)
    if isinstance(value, str):
        parsed = _from_json(value)
        if parsed is None:
            # A sentence stored before the codes: a parameterless msgid still translates.
            return translation.gettext(value) if value else value
        value = parsed
    if isinstance(value, dict):
        if "join" in value:
            return str(value.get("sep", " ")).join(_param(v) for v in value["join"])
        if "code" in value:
            code = value["code"]
            message = translation.pgettext(value["ctx"], code) if value.get("ctx") else translation.gettext(code)
            params = value.get("params")
            if params is None:
                return message
            rendered = {k: _param(v) for k, v in params.items()} if isinstance(params, dict) else params
            try:
                return message % rendered
            except (KeyError, TypeError, ValueError):
                # A translation that lost a placeholder must not hide the message.
                return code % rendered
        if "date" in value:
            return value["date"]
        if "label" in value:
            # A code (a state, a kind) by its label in the active language.
            from core.audit_display import label_of

            return label_of(value["label"])
    if isinstance(value, list):
        return "; ".join(render(v) for v in value)
    if isinstance(value, Promise):
        return str(value)
    return "" if value is None else str(value)


def render_messages(data: Any, keys: tuple[str, ...] = ("message",)) -> Any:
    """``data`` (JSON from ``as_dict``) with every value under ``keys`` rendered, for an API answer."""
    if isinstance(data, dict):
        return {k: render(v) if k in keys else render_messages(v, keys) for k, v in data.items()}
    if isinstance(data, list):
        return [render_messages(v, keys) for v in data]
    return data


def _param(value: Any) -> Any:
    # A value is data (a name, an amount, a count for %d), not a msgid: it is used as given.
    if isinstance(value, str):
        # A typed note may itself be stored text (a demo's or a form's): that one renders.
        return render(value) if _from_json(value) is not None else value
    return value if isinstance(value, (int, float)) else render(value)


def _from_json(value: str) -> dict | None:
    if not value.startswith("{") or not value.endswith("}"):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and ("code" in parsed or "join" in parsed) else None


def dump(value: Any) -> Stored:
    """``value`` (a ``Text``, Django lazy string, or plain value) as JSON-ready stored text."""
    if isinstance(value, Text):
        return value.stored
    if isinstance(value, Promise):
        found = _lazy_msgid(value)
        return found if found is not None else str(value)
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [dump(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def dumps(value: Any) -> str:
    """``dump`` for a text column (a note, an audit summary): the JSON when it is a message,
    the string itself when it is typed text."""
    stored = dump(value)
    return stored if isinstance(stored, str) else json.dumps(stored, ensure_ascii=False)


def dumps_within(value: Any, limit: int) -> str:
    """``dumps`` for a column of ``limit`` characters: the stored form when it fits, otherwise
    the text in the current language, cut (a cut JSON could not be read back)."""
    column = dumps(value)
    return column if len(column) <= limit else render(value)[:limit]


def dumps_with(message: Text, params: dict[str, str | int], limit: int = 255) -> str:
    """``dumps_within(message % params, limit)`` for ``params`` of plain strings and numbers,
    without a lazy string per call: the audit rows of a bulk import, one per row of a file."""
    column = json.dumps({**message.stored, "params": params}, ensure_ascii=False)
    return column if len(column) <= limit else render(message % params)[:limit]


def _lazy_msgid(value: Promise) -> dict | None:
    """The msgid of one of Django's own lazy strings (model labels, choices), if it is one."""
    try:
        func, args = value.__reduce__()[1][:2]
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    if func is translation.gettext and len(args) == 1:
        return {"code": args[0]}
    if func is translation.pgettext and len(args) == 2:
        return {"code": args[1], "ctx": args[0]}
    return None


def _render_stored(stored: Stored) -> str:
    return render(stored)


_LazyRender = lazy(_render_stored, str)


class Text(type(_LazyRender(""))):
    """A lazy string that remembers its msgid and parameters (see the module docstring)."""

    def __init__(self, stored: Stored):
        super().__init__((stored,), {})

    @property
    def stored(self) -> Stored:
        return self._args[0]

    def __mod__(self, params: Any) -> Text:
        if isinstance(self.stored, dict) and "code" in self.stored and isinstance(params, dict):
            return Text({**self.stored, "params": {k: dump(v) for k, v in params.items()}})
        return Text(str(self) % params)

    def __reduce__(self):
        return (Text, (self.stored,))


def gettext_lazy(message: str) -> Text:
    return Text({"code": message})


def pgettext_lazy(context: str, message: str) -> Text:
    return Text({"code": message, "ctx": context})


def label(code: str) -> Text:
    """A code (``province_review``) kept as such and shown by its label (core.audit_display)."""
    return Text({"label": code})


def join(sep: str, parts: Iterable[Any]) -> Text:
    """Sentences put together, each kept as its own stored text."""
    return Text({"join": [dump(p) for p in parts], "sep": sep})


# --- reading back sentences stored before the codes (the data migration) ------------------

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _pattern(template: str) -> re.Pattern | None:
    if "%" not in template:
        return None
    parts, names, pos = [], [], 0
    for m in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[pos:m.start()].replace("%%", "%")))
        name = m.group(1)
        parts.append(f"(?P<{name}>.+?)" if name not in names else f"(?P={name})")
        names.append(name)
        pos = m.end()
    literal = re.sub(r"\W", "", _PLACEHOLDER.sub("", template))
    if not names or len(literal) < 6:
        return None  # too little fixed text to tell a sentence of ours from anything typed
    parts.append(re.escape(template[pos:].replace("%%", "%")))
    return re.compile("^" + "".join(parts) + "$", re.S)


class LegacyReader:
    """Finds the msgid and parameters of a sentence stored in English or Chinese, from the
    catalogue; a sentence it cannot place stays as it is."""

    def __init__(self, language: str = "zh-hans"):
        catalog = translation.trans_real.translation(language)._catalog
        self.exact: dict[str, dict] = {}
        self.patterns: list[tuple[re.Pattern, str, str | None]] = []
        for key, msgstr in catalog.items():
            if not isinstance(key, str) or not isinstance(msgstr, str) or not key:
                continue  # plural forms are not stored as messages
            ctx, _sep, msgid = key.rpartition("\x04")
            code = {"code": msgid, **({"ctx": ctx} if ctx else {})}
            for form in (msgid, msgstr):
                self.exact.setdefault(form, code)
                pattern = _pattern(form)
                if pattern is not None:
                    self.patterns.append((pattern, msgid, ctx or None))
        # Longer templates first: the most specific sentence wins.
        self.patterns.sort(key=lambda p: -len(p[0].pattern))

    def read(self, value: Any) -> Any:
        if not isinstance(value, str) or not value or _from_json(value) is not None:
            return value
        if value in self.exact:
            return self.exact[value]
        for pattern, msgid, ctx in self.patterns:
            m = pattern.match(value)
            if m:
                params = {k: self.exact.get(v, v) for k, v in m.groupdict().items()}
                return {"code": msgid, "params": params, **({"ctx": ctx} if ctx else {})}
        return value

    def read_str(self, value: str) -> str:
        stored = self.read(value)
        return stored if isinstance(stored, str) else json.dumps(stored, ensure_ascii=False)
