"""The counts a job run records (JobRun.counts), in words for the job page (issue 13.2).

A job returns its counts under short keys (``entries_by_bank``); the page shows each under a
translated label, whole numbers as numbers and a per-bank breakdown by the pool's and bank's
names, never the key or a Python dict. A key without a label is a test failure
(tests/core/test_job_counts.py runs every job), not a code on screen.
"""
from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

COUNT_LABELS = {
    # JB-3 deadline scan
    "obligations": _("Obligations checked"),
    "overdue": _("Overdue obligations"),
    "due_soon": _("Due within 5 working days"),
    "emails": _("E-mails sent"),
    # JB-4 NPL gates and Scheme M suspensions
    "members": _("Member banks"),
    "gates_shut": _("NPL gates shut"),
    "claims_released": _("Held claims released"),
    "products": _("Products"),
    "products_suspended": _("Products suspended"),
    # JB-5 quarterly close
    "firms": _("Guarantee firms"),
    "snapshots": _("Indicator snapshots written"),
    "replaced": _("Snapshots replaced"),
    "credit_share_firms": _("Firms' credit-guarantee shares"),
    "loans_auto_closed": _("Loans closed at maturity"),
    "projects_entered": _("Projects entered in the quarter"),
    "entries_by_bank": _("Projects entered, by pool and bank"),
    "recovery_reports_missing": _("Recovery reports missing"),
    # JB-6 half-year statistics
    "reports": _("Half-year reports"),
    "replaced_reports": _("Half-year reports replaced"),
    # JB-7 bank evaluation
    "pools": _("Pools"),
    "banks_evaluated": _("Banks evaluated"),
    "excellent": _("Graded excellent"),
    "good": _("Graded good"),
    "qualified": _("Graded qualified"),
    "unqualified": _("Graded unqualified"),
    "revoked": _("Cooperation revoked"),
    # JB-8 … JB-10 annual evaluation
    "year": _("Year"),
    "submissions_created": _("Submissions opened"),
    "figures_refreshed": _("Figures refreshed"),
    "excluded": _("Firms excluded"),
    "reminders_sent": _("Reminders sent"),
    "regions": _("Regions"),
    "ranked": _("Firms ranked"),
    "interviews_created": _("Interviews arranged"),
    "skipped": _("Not run because"),
    # JB-11 Scheme M fund-use report
    "m_reports": _("Fund-use reports"),
    "m_report_lines": _("Product lines"),
    "m_reports_replaced": _("Reports replaced"),
    "m_reports_kept_submitted": _("Submitted reports kept"),
}

# Values that are words, not numbers.
VALUE_LABELS = {
    "review not closed": _("the review is not closed yet"),
}

# Counts that are a year or an id: shown without thousands separators.
PLAIN = {"year"}


def _label(key: str) -> str:
    label = COUNT_LABELS.get(key)
    # An unlabelled key still reads as words, not as a code (the test keeps this from happening).
    return str(label) if label is not None else key.replace("_", " ")


def _number(value: Any, plain: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        return str(VALUE_LABELS.get(value, value)) if isinstance(value, str) else str(value)
    return str(value) if plain else number_format(value, force_grouping=True)


def _pool_bank_names(keys: list[str]) -> dict[str, str]:
    """``"<pool id>/<bank id>"`` keys of ``entries_by_bank`` as "pool · bank", in two queries."""
    pairs = {}
    for key in keys:
        pool_id, _sep, bank_id = key.partition("/")
        if pool_id.isdigit() and bank_id.isdigit():
            pairs[key] = (int(pool_id), int(bank_id))
    if not pairs:
        return {}
    Pool = apps.get_model("riskpool", "Pool")
    Organisation = apps.get_model("core", "Organisation")
    pools = dict(Pool.objects.filter(pk__in={p for p, _b in pairs.values()}).values_list("pk", "name"))
    banks = dict(Organisation.objects.filter(pk__in={b for _p, b in pairs.values()}).values_list("pk", "name"))
    return {key: f"{pools.get(p, p)} · {banks.get(b, b)}" for key, (p, b) in pairs.items()}


def count_rows(counts: dict | None) -> list[dict[str, str]]:
    """Each count as ``{"label", "value"}`` in the active language; a breakdown as one row per part."""
    rows = []
    for key, value in (counts or {}).items():
        if isinstance(value, dict):
            names = _pool_bank_names(list(value)) if key == "entries_by_bank" else {}
            parts = [f"{names.get(k, k)}: {_number(v)}" for k, v in value.items()]
            rows.append({"label": _label(key), "value": "; ".join(parts) or gettext("none")})
        else:
            rows.append({"label": _label(key), "value": _number(value, plain=key in PLAIN)})
    return rows


def counts_text(counts: dict | None) -> str:
    """The counts on one line, for the table cell and the page's live update."""
    return "; ".join(f"{row['label']}: {row['value']}" for row in count_rows(counts))
