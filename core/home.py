"""Panels that apps add to the regulator's home page.

An app's ``home.py`` registers ``@home.panel(order)`` functions ``(user, today) -> dict | None``;
the dict names its ``template`` and carries that template's context, ``None`` means "nothing to
show this user". The home page renders the panels in order, so core never imports an app.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.utils.module_loading import autodiscover_modules

Panel = Callable[[object, date], dict | None]
_PANELS: list[tuple[int, Panel]] = []


def panel(order: int):
    def decorator(fn: Panel) -> Panel:
        if all(existing is not fn for _o, existing in _PANELS):
            _PANELS.append((order, fn))
        return fn

    return decorator


def panels_for(user, today: date) -> list[dict]:
    autodiscover_modules("home")
    shown = []
    for _order, fn in sorted(_PANELS, key=lambda item: item[0]):
        context = fn(user, today)
        if context:
            shown.append(context)
    return shown
