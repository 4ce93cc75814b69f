"""Issue 15 "Done when": the demo's two Scheme S drafts, each replayed once over the demo
portfolio so the simulator's pages have something to show: one raising every tier ratio by 10
points, one tightening the NPL gate to 2%. Idempotent: a later run of the demo leaves them."""
from __future__ import annotations

from decimal import Decimal

from core import demo

TEN_POINTS = Decimal("0.100000")
DRAFTS = [
    ("草案：各档补偿比例提高10个百分点", "tiers"),
    ("草案：不良率门槛收紧至2%", "npl_gate"),
]


def _changed(params: dict, what: str) -> dict:
    if what == "tiers":
        return {**params, "tiers": [[ceiling, str(Decimal(ratio) + TEN_POINTS)] for ceiling, ratio in params["tiers"]]}
    return {**params, "npl_gate": "0.020000"}


@demo.part(order=90)  # after the pools and their claims (riskpool.demo)
def build_simulation_demo(orgs: dict, users: dict) -> demo.DemoPart:
    from core.calendar import shanghai_today
    from core.demo import _url
    from core.models import RuleSet, RuleSetDraft
    from core.rulesets import rule_params
    from core.services_rulesets import draft_create, draft_update
    from core.simulation import simulation_run, simulation_start

    result = demo.DemoPart()
    admin = users["authority_admin"]
    in_force = RuleSet.objects.filter(scheme=RuleSet.Scheme.RISKPOOL_S).order_by("-effective_from").first()
    if in_force is None:
        return result
    rule_params(RuleSet.Scheme.RISKPOOL_S, shanghai_today())  # a gap today is the demo's error, said at once
    for name, what in DRAFTS:
        if RuleSetDraft.objects.filter(name=name).exists():
            continue
        draft = draft_create(user=admin, rule_set=in_force, name=name)
        draft = draft_update(user=admin, draft=draft, name=name, effective_from=draft.effective_from,
                             effective_to=draft.effective_to, note=draft.note, params=_changed(draft.params, what))
        sim = simulation_start(user=admin, draft=draft)
        # Run here rather than by the worker, so the demo's pages show the result at once; the
        # queued task then finds it taken and does nothing.
        sim = simulation_run(simulation_id=sim.pk)
        result.notes.append(f"Simulator: draft “{name}” replayed, {sim.result.get('change_count', 0)} outcome "
                            f"changes ({sim.state}).")
    result.logins.append(("authority_admin", admin.username, _url("rulesets:list"),
                          "Rule sets, drafts and the policy simulator"))
    return result
