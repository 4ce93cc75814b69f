"""Reading the rule set in force on a date (spec README: versioned rule sets)."""
from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Q
from django.utils.translation import gettext as _

from core.errors import RuleViolation
from core.models import RuleSet


def rule_params(scheme: str, on: date) -> dict:
    """The parameters of ``scheme``'s rule set in force on ``on``; a gap is a clear error."""
    found = (
        RuleSet.objects.filter(scheme=scheme, effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .order_by("-effective_from")
        .values_list("params", flat=True)
        .first()
    )
    if found is None:
        raise RuleViolation(
            "RULESET",
            _("No %(scheme)s rule set is in force on %(date)s: the rule sets cover %(ranges)s. The authority must "
              "add one for this date.")
            % {"scheme": scheme, "date": on.isoformat(), "ranges": covered_ranges_text(scheme)},
        )
    return found


class RuleSetTable:
    """All of ``scheme``'s rule sets read once (a bulk upload dates every row on its own day):
    ``params_on(on)`` is ``rule_params`` without a query per row; a gap raises the same error."""

    def __init__(self, scheme: str, build=dict):
        self.scheme = scheme
        self.build = build
        self.rows = list(RuleSet.objects.filter(scheme=scheme).order_by("-effective_from")
                         .values_list("pk", "effective_from", "effective_to", "params"))
        self.built: dict[int, object] = {}

    def params_on(self, on: date):
        for pk, start, end, params in self.rows:
            if start <= on and (end is None or end >= on):
                if pk not in self.built:
                    self.built[pk] = self.build(params)
                return self.built[pk]
        return self.build(rule_params(self.scheme, on))  # raises the RULESET error naming the gap


def covered_ranges(scheme: str) -> list[tuple[date, date | None]]:
    """The date ranges ``scheme``'s rule sets cover, adjacent or overlapping sets merged (an open
    end is None), earliest first."""
    merged: list[tuple[date, date | None]] = []
    for start, end in RuleSet.objects.filter(scheme=scheme).order_by("effective_from").values_list(
        "effective_from", "effective_to"
    ):
        if merged:
            last_start, last_end = merged[-1]
            if last_end is None:
                break
            if start <= last_end + timedelta(days=1):
                merged[-1] = (last_start, None if end is None else max(last_end, end))
                continue
        merged.append((start, end))
    return merged


def covered_ranges_text(scheme: str) -> str:
    """RULESET: the covered ranges in words, for the error (``2023-08-10 to 2028-08-10``)."""
    ranges = covered_ranges(scheme)
    if not ranges:
        return _("no date (there is no rule set)")
    return ", ".join(
        _("%(start)s to %(end)s") % {"start": start.isoformat(), "end": end.isoformat()} if end
        else _("%(start)s onwards") % {"start": start.isoformat()}
        for start, end in ranges
    )
