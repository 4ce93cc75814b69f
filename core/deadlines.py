"""One interface through which every app exposes its dated obligations (JB-3).

An app lists what someone owes by a date in its ``deadlines.py`` module: a function decorated
with ``@deadlines.provider`` that, given the day of the scan and the horizon (the last day
still "due soon"), yields an ``Obligation`` for each open item due on or before the horizon,
overdue ones included. The daily deadline job (JB-3) collects them all; the home page shows each
organisation's own.

Providers query set-based (one or a few queries, no per-row lookups) and return plain values:
the job and the pages never import an app's models to understand an obligation.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext


@dataclass(frozen=True)
class Obligation:
    """Something ``organisation_id`` must do by ``due_on`` under ``rule``.

    ``message`` is an untranslated msgid (mark it with ``gettext_noop``) with %-style ``params``,
    so it is shown in each reader's language. ``key`` identifies the item and its step for good
    ("riskpool.claim:12:review"): with ``due_on`` it keeps a re-run of the scan from notifying
    twice. ``provisional`` is true when the date was counted through a year whose holiday notice
    is not entered yet (JB-1); ``latest_on`` is then the latest it could turn out to be, and the
    item is overdue only after that day."""

    organisation_id: int
    rule: str
    key: str
    due_on: date
    message: str
    params: dict = field(default_factory=dict)
    url: str = ""
    provisional: bool = False
    latest_on: date | None = None

    @property
    def last_day(self) -> date:
        return self.latest_on or self.due_on

    def text(self) -> str:
        return gettext(self.message) % self.params if self.params else gettext(self.message)


Provider = Callable[[date, date], Iterable[Obligation]]
_PROVIDERS: list[Provider] = []


def provider(fn: Provider) -> Provider:
    """Register ``fn(today, horizon)`` as a source of obligations (used as a decorator)."""
    if fn not in _PROVIDERS:
        _PROVIDERS.append(fn)
    return fn


def providers() -> list[Provider]:
    autodiscover_modules("deadlines")
    return list(_PROVIDERS)


def obligations(*, today: date, horizon: date, organisation_ids: set[int] | None = None) -> list[Obligation]:
    """Every registered obligation due on or before ``horizon``, earliest first; only those of
    ``organisation_ids`` when given."""
    rows = [
        item
        for fn in providers()
        for item in fn(today, horizon)
        if item.due_on <= horizon and (organisation_ids is None or item.organisation_id in organisation_ids)
    ]
    return sorted(rows, key=lambda o: (o.due_on, o.rule, o.key))
