"""The policy simulator's generic part (issue 15): the registry of replays, starting a simulation
as a Celery job, running it with progress, and reading its result for the pages and the API.

Core knows no domain: each app registers the replay of its own scheme in its ``simulation``
module (found like ``admin`` modules), computed with that app's own rule functions::

    register_replay(Replay(scheme="riskpool_s", run=replay_scheme_s, labels={...}))

A replay is read-only: it recomputes outcomes under the draft and under the rule set in force,
and returns what changed; it writes nothing but the Simulation row.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from core import i18n_text
from core.audit import audit
from core.errors import Conflict, RuleViolation
from core.models import AuditEvent, RuleSetDraft, Simulation

logger = logging.getLogger(__name__)

# The most changed objects a result keeps one by one; the totals always count all of them.
MAX_LISTED_CHANGES = 2000


@dataclass
class ReplayContext:
    """What a replay gets: the draft's parameters, the draft, the scenario and a progress callback.

    The parameters in force are the replay's own business: it asks its rule sets for each object's
    date, exactly as the real services do, and uses ``draft_params`` in their place.
    """

    draft: RuleSetDraft
    draft_params: dict
    scenario: Mapping[str, Any]
    progress: Callable[[int, int], None]


@dataclass(frozen=True)
class Replay:
    """One scheme's replay. ``run(context)`` returns the result mapping (see ``result_view``);
    ``labels`` name its object kinds, fields and totals in the reader's language."""

    scheme: str
    run: Callable[[ReplayContext], dict]
    labels: Mapping[str, Any] = field(default_factory=dict)


_REPLAYS: dict[str, Replay] = {}
_discovered = False


def register_replay(replay: Replay) -> Replay:
    _REPLAYS[replay.scheme] = replay
    return replay


def get_replay(scheme: str) -> Replay | None:
    global _discovered
    if not _discovered:
        _discovered = True
        autodiscover_modules("simulation")
    return _REPLAYS.get(scheme)


def has_replay(scheme: str) -> bool:
    return get_replay(scheme) is not None


class RuleSetsByDate:
    """A scheme's rule sets, read once; ``on(day)`` is the parsed one in force that day (as
    core.rulesets.rule_params decides), or None in a gap. ``parse`` is the app's own parser."""

    def __init__(self, scheme: str, parse: Callable[[dict], Any]):
        from core.models import RuleSet

        self.rows = list(RuleSet.objects.filter(scheme=scheme).order_by("-effective_from")
                         .values("pk", "effective_from", "effective_to", "params"))
        self.parsed: dict[int, Any] = {}
        self.parse = parse

    def on(self, day):
        for row in self.rows:
            if row["effective_from"] <= day and (row["effective_to"] is None or day <= row["effective_to"]):
                if row["pk"] not in self.parsed:
                    self.parsed[row["pk"]] = self.parse(row["params"])
                return self.parsed[row["pk"]]
        return None

    def all(self) -> list:
        return [self.on(row["effective_from"]) for row in self.rows]


# --- starting and running ----------------------------------------------------------------------


def simulation_start(*, user, draft: RuleSetDraft, scenario: Mapping[str, Any] | None = None) -> Simulation:
    """Queue a replay of ``draft`` (the parameters as they are now), run by a Celery worker once
    this transaction commits. Refused while another simulation of the same draft is running."""
    from core.selectors_rulesets import is_rule_user
    from core.tasks import run_simulation_task

    if not is_rule_user(user):
        raise RuleViolation("SIM", _("Only the authority runs simulations."))
    if not has_replay(draft.scheme):
        raise RuleViolation("SIM", _("This scheme has no replay yet."), "draft")
    with transaction.atomic():
        RuleSetDraft.objects.select_for_update().get(pk=draft.pk)
        if draft.simulations.filter(state__in=[Simulation.State.QUEUED, Simulation.State.RUNNING]).exists():
            raise Conflict("SIM", _("A simulation of this draft is already queued or running; wait until it ends."))
        sim = Simulation.objects.create(draft=draft, scenario=dict(scenario or {}), draft_params=dict(draft.params),
                                        created_by=user)
        audit(actor=user, action=AuditEvent.Action.CREATE, instance=sim,
              summary=i18n_text.gettext_lazy("Simulation queued: %(draft)s") % {"draft": draft})
        transaction.on_commit(lambda: run_simulation_task.delay(sim.pk), robust=True)
    return sim


def simulation_run(*, simulation_id: int) -> Simulation:
    """Run one queued simulation (the Celery task's body). Progress is saved as it goes, in
    autocommit, so the page polling it sees it; the replay itself only reads."""
    claimed = Simulation.objects.filter(pk=simulation_id, state=Simulation.State.QUEUED).update(
        state=Simulation.State.RUNNING)
    sim = Simulation.objects.select_related("draft").get(pk=simulation_id)
    if not claimed:
        return sim  # another worker has it, or it has finished

    def progress(done: int, total: int) -> None:
        Simulation.objects.filter(pk=simulation_id).update(progress_done=done, progress_total=total)

    replay = get_replay(sim.draft.scheme)
    try:
        result = replay.run(ReplayContext(draft=sim.draft, draft_params=sim.draft_params, scenario=sim.scenario,
                                          progress=progress))
    except Exception as exc:
        logger.exception("simulation %s failed", simulation_id)
        message = exc.message if isinstance(exc, RuleViolation) else _("The replay failed: %(error)s") % {
            "error": type(exc).__name__}
        Simulation.objects.filter(pk=simulation_id).update(
            state=Simulation.State.FAILED, error=str(message), finished_at=timezone.now())
    else:
        changes = result.get("changes", [])
        result["change_count"] = result.get("change_count", len(changes))
        result["changes"] = changes[:MAX_LISTED_CHANGES]
        Simulation.objects.filter(pk=simulation_id).update(
            state=Simulation.State.SUCCEEDED, result=result, finished_at=timezone.now())
    sim.refresh_from_db()
    return sim


# --- reading a result --------------------------------------------------------------------------


def _namer(sim: Simulation):
    replay = get_replay(sim.draft.scheme)
    labels = replay.labels if replay else {}

    def name(code):
        return str(labels.get(code, code))

    return name


def result_view(sim: Simulation) -> dict:
    """The stored result with its codes named in the reader's language: each change's object kind
    and field, each total's label. The result stores codes, not text, so it reads the same in
    either language."""
    name = _namer(sim)
    result = sim.result or {}
    return {
        **summary_view(sim),
        "changes": [{**c, "kind_label": name(c.get("kind")), "field_label": name(c.get("field")),
                     "before": name(c.get("before")), "after": name(c.get("after"))}
                    for c in result.get("changes", [])],
        "change_count": result.get("change_count", 0),
        "by_quarter": result.get("by_quarter", []),
        "replayed": [{"label": name(code), "count": count} for code, count in result.get("replayed", {}).items()],
    }


def summary_view(sim: Simulation) -> dict:
    """What the side-by-side page shows of a result: its named totals and its projection (not the
    list of changes)."""
    name = _namer(sim)
    result = sim.result or {}
    return {
        "totals": [{**t, "label": name(t.get("code"))} for t in result.get("totals", [])],
        "projection": _projection_view(result.get("projection")),
        "changed_objects": result.get("changed_objects", 0),
    }


def _projection_view(data: dict | None) -> dict | None:
    """The projection's quarters with Decimal balances for the chart and the table."""
    if not data:
        return None
    quarters = [{**q, "label": q["quarter"], **{k: Decimal(q[k]) for k in q if k != "quarter"}}
                for q in data.get("quarters", [])]
    return {**data, "quarters": quarters}
