"""Issue 15: the evaluation replay for the policy simulator (registered with core.simulation):
every published year's firms ranked and classed again (EV-6, EV-7) with ``rules.rank_and_classify``,
the function JB-9 uses, under the rule set in force on 31 December of the year (the shipped
defaults where the authority has none, as JB-9 does) and under the draft. The scores themselves
come from the year's own scheme and targets, not from the rule set, so they are read as published.
Nothing is written."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.utils.translation import gettext_lazy as _

from core.models import RuleSet
from core.simulation import Replay, ReplayContext, RuleSetsByDate, register_replay
from evaluation import rules
from evaluation.models import Result


def replay_evaluation(ctx: ReplayContext) -> dict:
    draft = rules.EvaluationParams.from_mapping(ctx.draft_params)
    rule_sets = RuleSetsByDate(RuleSet.Scheme.EVALUATION, rules.EvaluationParams.from_mapping)
    by_year = defaultdict(list)
    for result in Result.objects.select_related("year", "firm").order_by("year__year", "pk"):
        by_year[result.year].append(result)
    changes, counts = [], {"excellent": [0, 0], "unqualified": [0, 0]}
    ctx.progress(0, len(by_year))
    for done, (year, results) in enumerate(sorted(by_year.items(), key=lambda item: item[0].year), start=1):
        targets = year.targets()
        if targets is None:
            continue
        rows = [(str(r.pk), r.total, r.leverage) for r in results]
        in_force = rule_sets.on(date(year.year, 12, 31)) or rules.EvaluationParams()
        before = rules.rank_and_classify(rows, targets.leverage, share=in_force.top_share,
                                         excellent_factor=in_force.excellent_factor)
        after = rules.rank_and_classify(rows, targets.leverage, share=draft.top_share,
                                        excellent_factor=draft.excellent_factor)
        for result, b, a in zip(results, before, after, strict=True):
            for klass in counts:
                counts[klass][0] += b.klass == klass
                counts[klass][1] += a.klass == klass
            if b.klass != a.klass:
                changes.append({"kind": "firm", "id": result.firm_id, "ref": f"{result.firm} {year.year}",
                                "rule": "EV-7", "field": "klass", "before": b.klass, "after": a.klass})
        ctx.progress(done, len(by_year))
    return {
        "changes": changes, "change_count": len(changes), "changed_objects": len(changes),
        "replayed": {"results": sum(len(r) for r in by_year.values()), "years": len(by_year)},
        "totals": [{"code": f"firms_{klass}", "before": str(b), "after": str(a), "delta": str(a - b)}
                   for klass, (b, a) in counts.items()],
        "by_quarter": [],
    }


register_replay(Replay(
    scheme=RuleSet.Scheme.EVALUATION,
    run=replay_evaluation,
    labels={
        "firm": _("Guarantee firm"), "klass": _("class"),
        **{value: label for value, label in Result.Klass.choices},
        "firms_excellent": _("Firms classed excellent"), "firms_unqualified": _("Firms classed unqualified"),
        "results": _("Published firm results"), "years": _("Years"),
    },
))
