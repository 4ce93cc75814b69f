"""``manage.py bench_simulation``: how long the policy simulator's Scheme S replay takes on the
``riskpool_generate`` data set (issue 15: a replay over 1,000,000 loan projects within 60 s).

Usage::

    DATABASE_URL=… .venv/bin/python manage.py riskpool_generate --projects 1000000   # once
    DATABASE_URL=… .venv/bin/python manage.py bench_simulation [--repeat 3]   # after `make bench` made the data set

It replays the demo's two drafts (every tier ratio +10 points; the NPL gate at 2%) exactly as the
Celery job does (riskpool.simulation.replay_scheme_s: every claim decided under both parameter
sets in the database, riskpool.simulation_claims, the listed changes quoted with rules.quote,
every bank's gate, grades and revocations, the 12-quarter projection). ``--reference`` also times
the per-row replay (every claim quoted twice in Python) and checks that both results are equal.
The replay only reads, so nothing is rolled back; the drafts are not saved.
"""
from __future__ import annotations

import os
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from core import bench
from core.calendar import shanghai_today
from core.models import RuleSet, RuleSetDraft
from core.rulesets import rule_params
from core.simulation import MAX_LISTED_CHANGES, ReplayContext
from riskpool.management.commands.riskpool_generate import generated_pool
from riskpool.models import Claim
from riskpool.simulation import replay_scheme_s

TARGET_MS = 60_000


class Command(BaseCommand):
    help = "Time the policy simulator's Scheme S replay on the riskpool_generate data set."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=3, help="runs per draft (default 3)")
        parser.add_argument("--reference", action="store_true",
                            help="also time the per-row replay once per draft and compare the results")

    def handle(self, *args, **options):
        if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            raise CommandError("bench_simulation needs PostgreSQL (its planner and timings are production's).")
        pool = generated_pool()
        if pool is None:
            raise CommandError("No generated data set: run `manage.py riskpool_generate` first.")
        params = rule_params(RuleSet.Scheme.RISKPOOL_S, shanghai_today())
        drafts = {
            "tiers +10 points": {**params, "tiers": [[c, str(Decimal(r) + Decimal("0.1"))] for c, r in params["tiers"]]},
            "NPL gate 2%": {**params, "npl_gate": "0.020000"},
        }
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        self.projects = pool.projects.count()
        self.stdout.write(f"bench_simulation: {self.projects:,} loan projects, "
                          f"{Claim.objects.filter(pool=pool).count():,} claims, {pool.members.count()} banks; "
                          f"load average {load} on {os.cpu_count()} CPUs.")
        self.stdout.write(f"  {'draft':<30} {'median ms':>10} {'max ms':>10} {'queries':>8} {'changes':>8}"
                          f"{'  per-row ms  same result' if options['reference'] else ''}")
        slow = False
        self.results = []  # (draft, median ms, queries, changes, per-row ms), for manage.py bench's table
        for name, draft_params in drafts.items():
            draft = RuleSetDraft(scheme=RuleSet.Scheme.RISKPOOL_S, name=name, params=draft_params,
                                 effective_from=shanghai_today())
            context = ReplayContext(draft=draft, draft_params=draft_params, scenario={}, progress=lambda d, t: None)
            outcome = {}

            def replay(ctx=context, out=outcome):
                out["result"] = replay_scheme_s(ctx)

            m = bench.measure(replay, repeat=options["repeat"], warmup=False)
            slow |= m.median_ms > TARGET_MS
            reference = ""
            per_row_ms = None
            if options["reference"]:
                def per_row(ctx=context, out=outcome):
                    out["per_row"] = replay_scheme_s(ctx, set_based=False)

                per_row_ms = bench.measure(per_row, repeat=1, warmup=False).median_ms
                same = _comparable(outcome["result"]) == _comparable(outcome["per_row"])
                reference = f" {per_row_ms:11.1f}  {'yes' if same else 'NO'}"
                if not same:
                    raise CommandError(f"The set-based replay of {name!r} differs from the per-row replay.")
            self.results.append((name, m.median_ms, m.query_count, outcome["result"]["change_count"], per_row_ms))
            self.stdout.write(f"  {name:<30} {m.median_ms:10.1f} {max(m.samples_ms):10.1f} {m.query_count:>8} "
                              f"{outcome['result']['change_count']:>8}{reference}")
        self.stdout.write(f"Issue 15 target: a replay within {TARGET_MS / 1000:g} s: {'OVER' if slow else 'within'}.")


def _comparable(result: dict) -> dict:
    """A result as the simulation keeps it (the listed changes cut where core.simulation cuts them)."""
    return {**result, "changes": result["changes"][:MAX_LISTED_CHANGES]}
