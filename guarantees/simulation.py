"""Issue 15: the guarantees replay for the policy simulator (registered with core.simulation):
every agreement's GU-2 risk-share compliance and every guarantee's GU-5 fee-cap compliance, under
the rule set in force on its date and under the draft, with ``rules.check_minimum_shares`` and
``rules.check_fees``, the functions the services use. Nothing is written.

Set-based where the rule allows: a guarantee's fee compliance can only differ between two
parameter sets when it is a small-micro or agricultural one whose rate lies between the lowest
and the highest cap of the two sets, so the database picks those rows (one indexed range query)
and the rule function decides each of them; the totals count the rest in the database.
"""
from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import RuleSet
from core.simulation import Replay, ReplayContext, RuleSetsByDate, register_replay
from guarantees import rules
from guarantees.models import Agreement, Guarantee

CHUNK = 5000


def _fee_ok(g, params) -> bool:
    problems = rules.check_fees(small_micro_or_agri=g.small_micro_or_agri, single_borrower_amount=g.single_borrower_amount,
                                fee_rate=g.fee_rate, other_fees=g.other_fees, params=params)
    return not problems


def _replay_agreements(draft, rule_sets, out) -> None:
    agreements = list(Agreement.objects.order_by("pk"))
    out["replayed"]["agreements"] = len(agreements)
    for a in agreements:
        split = rules.Split(bank=a.share_bank, guarantee_firm=a.share_firm, reguarantee=a.share_reguarantee,
                            national_fund=a.share_national_fund, government=a.share_government)
        in_force = rule_sets.on(a.signed_on)
        before = not rules.check_minimum_shares(split, in_force) if in_force else a.compliant
        after = not rules.check_minimum_shares(split, draft)
        out["totals"]["agreements_out"][0] += not before
        out["totals"]["agreements_out"][1] += not after
        if before != after:
            out["changes"].append({"kind": "agreement", "id": a.pk, "ref": a.code, "rule": "GU-2",
                                   "field": "compliant", "before": "yes" if before else "no",
                                   "after": "yes" if after else "no"})


def _replay_fees(ctx, draft, rule_sets, out) -> None:
    caps = [c for p in [*rule_sets.all(), draft] if p for c in (p.fee_cap_low, p.fee_cap_high)]
    low, high = min(caps), max(caps)
    guarantees = Guarantee.objects.all()
    out["replayed"]["guarantees"] = guarantees.count()
    # Outside the band both sets decide alike: over every cap, or charging another fee, fails both.
    stored_out = guarantees.filter(Q(small_micro_or_agri=True) & (~Q(other_fees=0) | Q(fee_rate__gt=high))).count()
    out["totals"]["guarantees_over_cap"][0] += stored_out
    out["totals"]["guarantees_over_cap"][1] += stored_out
    band = guarantees.filter(small_micro_or_agri=True, other_fees=0, fee_rate__gt=low, fee_rate__lte=high)
    total = band.count()
    done = 0
    for g in band.only("pk", "contract_no", "start", "small_micro_or_agri", "single_borrower_amount", "fee_rate",
                       "other_fees").order_by("pk").iterator(chunk_size=CHUNK):
        in_force = rule_sets.on(g.start)
        before = _fee_ok(g, in_force) if in_force else True
        after = _fee_ok(g, draft)
        out["totals"]["guarantees_over_cap"][0] += not before
        out["totals"]["guarantees_over_cap"][1] += not after
        if before != after:
            out["changes"].append({"kind": "guarantee", "id": g.pk, "ref": g.contract_no, "rule": "GU-5",
                                   "field": "fee_compliant", "before": "yes" if before else "no",
                                   "after": "yes" if after else "no"})
        done += 1
        if done % CHUNK == 0:
            ctx.progress(done, total)
    ctx.progress(total, total)


def replay_guarantees(ctx: ReplayContext) -> dict:
    draft = rules.GuaranteeParams.from_mapping(ctx.draft_params)
    rule_sets = RuleSetsByDate(RuleSet.Scheme.GUARANTEES, rules.GuaranteeParams.from_mapping)
    out = {"changes": [], "replayed": {}, "totals": {"agreements_out": [0, 0], "guarantees_over_cap": [0, 0]}}
    _replay_agreements(draft, rule_sets, out)
    _replay_fees(ctx, draft, rule_sets, out)
    return {
        "changes": out["changes"], "change_count": len(out["changes"]), "changed_objects": len(out["changes"]),
        "replayed": out["replayed"],
        "totals": [{"code": code, "before": str(b), "after": str(a), "delta": str(a - b)}
                   for code, (b, a) in out["totals"].items()],
        "by_quarter": [],
    }


register_replay(Replay(
    scheme=RuleSet.Scheme.GUARANTEES,
    run=replay_guarantees,
    labels={
        "agreement": _("Agreement"), "guarantee": _("Guarantee"), "compliant": _("risk shares compliant"),
        "fee_compliant": _("fee within the cap"), "yes": _("yes"), "no": _("no"),
        "agreements_out": _("Agreements out of compliance (GU-2)"),
        "guarantees_over_cap": _("Guarantees over the fee cap (GU-5)"),
        "agreements": _("Agreements"), "guarantees": _("Guarantees"),
    },
))

