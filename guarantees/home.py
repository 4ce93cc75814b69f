"""The guarantees panels of the home page (core.home): the oversight's firms off each policy line
(GU-2, GU-4, GU-6, GU-7), and a firm's or a bank's own guarantees, indicators and overdue
compensations. They come first: for a firm or a bank they are the page."""
from __future__ import annotations

from datetime import date

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from core import home
from core.models import Organisation
from core.permissions import is_oversight_user
from guarantees import selectors_home
from guarantees.permissions import is_firm_user
from guarantees.services import guarantee_params

K = Organisation.Kind


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:  # the indicators pages are not installed
        return None


def _links(*names_labels) -> list[dict]:
    return [{"label": label, "url": url} for name, label in names_labels if (url := _url(name))]


@home.panel(order=10)
def oversight_panel(user, today: date) -> dict | None:
    if not is_oversight_user(user):
        return None
    summary = selectors_home.oversight_summary(user=user, today=today)
    return {
        "template": "guarantees/_home_oversight.html",
        "summary": summary,
        "params": guarantee_params(summary.quarter.end),  # the GU-6 / GU-7 targets the firms were judged by
        "dashboard_url": _url("indicators:dashboard"),
        "links": _links(
            ("indicators:dashboard", _("Firm indicators")),
            ("guarantees:agreement-list", _("Agreements")),
            ("guarantees:compensation-list", _("Compensations")),
        ),
    }


@home.panel(order=10)
def party_panel(user, today: date) -> dict | None:
    """A firm's or a bank's own business (the oversight has its own panel)."""
    if is_oversight_user(user) or not user.organisation_id:
        return None
    if is_firm_user(user):
        summary, side = selectors_home.firm_summary(user=user, today=today), "firm"
        links = _links(
            ("guarantees:guarantee-create", _("Record a guarantee")),
            ("guarantees:guarantee-import", _("Import guarantees from a file")),
            ("guarantees:guarantee-list", _("All guarantees")),
            ("guarantees:compensation-list", _("Compensations")),
        )
    elif user.organisation.kind == K.BANK:
        summary, side = selectors_home.bank_summary(user=user, today=today), "bank"
        links = _links(
            ("guarantees:guarantee-list", _("Guarantees on our loans")),
            ("guarantees:compensation-list", _("Compensations")),
        )
    else:
        return None
    return {"template": "guarantees/_home_party.html", "summary": summary, "side": side, "links": links,
            "guarantee_list_url": _url("guarantees:guarantee-list"),
            "params": guarantee_params(summary.quarter.end) if summary.quarter else None}
