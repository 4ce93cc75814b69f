"""``manage.py bench_riskpool``: how fast the risk pool's batch jobs and main pages are on the
data set of ``riskpool_generate`` (JB-15: the annual and quarterly jobs within 10 s at 1,000,000
loans).

Usage::

    DATABASE_URL=… .venv/bin/python manage.py riskpool_generate --projects 1000000   # once
    DATABASE_URL=… .venv/bin/python manage.py bench_riskpool [--repeat 3] [--page-repeat 5] \\
        [--json PATH] [--explain] [--generate N]

Each job runs the real service for a fresh period inside a transaction that is rolled back, so
every run does the same work and the data set is left as it was:

- JB-7 annual bank evaluation of last year (services_reports.banks_evaluate, with RP-22);
- JB-5 riskpool part for the previous quarter (RP-18 closures, entries per bank, the quarter's
  close: RP-6 window report, RP-16 8b missing recovery reports, pool snapshot);
- JB-4 Scheme S part (services.npl_gates_refresh: every member's RP-15 figures, held claims);
- JB-6 half-year report of the previous half (services_reports.half_year_reports);

and the pages through the test Client, as their users: the bank's project list, the authority's
project list, the reviewer's queue and the pool page. The table shows the median and the slowest
of the runs (milliseconds) and the queries of the first run; ``--explain`` adds EXPLAIN (ANALYZE,
BUFFERS) of the slowest read of each job.
"""
from __future__ import annotations

import json
import os
import warnings

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import override_settings
from django.urls import reverse

from core import bench
from core.bench_parts import rolled_back
from core.calendar import shanghai_today
from core.models import User
from core.periods import period_bounds, previous_quarter
from riskpool import jobs, services, services_reports
from riskpool.management.commands.riskpool_generate import USERS, generated_pool

TARGET_MS = 10_000  # JB-15: the annual and the quarterly job


class Command(BaseCommand):
    help = "Time the risk pool's JB-4, JB-5, JB-6 and JB-7 work and its main pages on the riskpool_generate data set."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=3, help="runs per job (default 3)")
        parser.add_argument("--page-repeat", type=int, default=5, help="runs per page after a warm-up (default 5)")
        parser.add_argument("--generate", type=int, metavar="N",
                            help="first generate a data set of N projects when there is none")
        parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
        parser.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) the slowest read of each job")

    def handle(self, *args, **options):
        if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            raise CommandError("bench_riskpool needs PostgreSQL (its planner and timings are production's).")
        if options["repeat"] < 1 or options["page_repeat"] < 1:
            raise CommandError("--repeat and --page-repeat must be at least 1.")
        pool = generated_pool()
        if pool is None and options["generate"]:
            call_command("riskpool_generate", projects=options["generate"], stdout=self.stdout)
            pool = generated_pool()
        if pool is None:
            raise CommandError("No generated data set: run `manage.py riskpool_generate` first (or pass --generate N).")
        users = {key: User.objects.get(username=name) for key, name in USERS.items()}
        today = shanghai_today()
        year = today.year - 1
        quarter = previous_quarter(today)
        _k, q_start, q_end = period_bounds(quarter)
        half = jobs.previous_half(today)
        _k, h_start, h_end = period_bounds(half)
        projects = pool.projects.count()
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        self.stdout.write(f"bench_riskpool: {projects:,} loan projects, {pool.members.count()} banks; today {today}; "
                          f"load average {load} on {os.cpu_count()} CPUs.")
        self.stdout.write(f"  {'what':<66} {'median ms':>10} {'max ms':>10} {'queries':>8}")
        results = []

        def run(key, what, func, repeat, warmup):
            m = bench.measure(func, repeat=repeat, warmup=warmup)
            results.append({"key": key, "what": what, "median_ms": round(m.median_ms, 1),
                            "max_ms": round(max(m.samples_ms), 1), "runs": len(m.samples_ms),
                            "queries": m.query_count, "measurement": m})
            self.stdout.write(f"  {what:<66} {m.median_ms:10.1f} {max(m.samples_ms):10.1f} {m.query_count:>8}")

        def quarterly():
            closed = services_reports.loans_auto_close(on=today)
            entries = services_reports.entries_per_bank(start=q_start, end=q_end)
            return closed, services_reports.quarter_close(period=quarter, start=q_start, end=q_end, entries=entries)

        repeat = options["repeat"]
        run("jb7", f"JB-7 annual bank evaluation {year} (RP-20, RP-22)",
            rolled_back(lambda: services_reports.banks_evaluate(year=year, on=today, actor="bench_riskpool")),
            repeat, False)
        run("jb5", f"JB-5 riskpool part {quarter} (RP-18, RP-6, RP-16 8b, pool)", rolled_back(quarterly), repeat, False)
        run("jb4", f"JB-4 Scheme S NPL ratios and gates {today} (RP-15)",
            rolled_back(lambda: services.npl_gates_refresh(on=today, user="bench_riskpool")), repeat, False)
        run("jb6", f"JB-6 half-year report {half} (RP-23)",
            rolled_back(lambda: services_reports.half_year_reports(period=half, start=h_start, end=h_end)),
            repeat, False)

        pages = [
            ("p1", "page: project list, page 1, bank operator", "bank", reverse("riskpool:project-list")),
            ("p2", "page: project list, page 1, authority", "authority", reverse("riskpool:project-list")),
            ("p3", "page: project list, NPL filter, authority", "authority",
             reverse("riskpool:project-list") + "?classification=substandard"),
            ("p6", "page: project list, largest principal first, authority", "authority",
             reverse("riskpool:project-list") + "?sort=principal"),
            ("p7", "page: project list, earliest maturity first, bank operator", "bank",
             reverse("riskpool:project-list") + "?sort=maturity"),
            ("p8", "page: project list, loan note prefix search, authority", "authority",
             reverse("riskpool:project-list") + "?q=RPG-01-00012"),
            ("p4", "page: review queue, reviewer", "reviewer", reverse("riskpool:review-queue")),
            ("p5", "page: pool page, authority", "authority", reverse("riskpool:pool-detail", args=[pool.pk])),
        ]
        with override_settings(DEBUG=False), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
            for key, what, who, url in pages:
                client = bench.client_for(users[who])
                try:
                    run(key, what, lambda c=client, u=url: bench.get_ok(c, u), options["page_repeat"], True)
                finally:
                    client.logout()

        slow = [r for r in results if r["key"] in ("jb5", "jb7") and r["median_ms"] > TARGET_MS]
        verdict = "within" if not slow else "OVER"
        self.stdout.write(f"JB-15 target: annual and quarterly job under {TARGET_MS / 1000:g} s each: {verdict}.")
        plans = self.explain(results) if options["explain"] else []
        if options["json"]:
            payload = {
                "database": connections[DEFAULT_DB_ALIAS].settings_dict["NAME"], "today": today, "projects": projects,
                "load_average": os.getloadavg(), "cpus": os.cpu_count(),
                "results": [{k: v for k, v in r.items() if k != "measurement"} | {
                    "samples_ms": [round(s, 1) for s in r["measurement"].samples_ms]} for r in results],
                "explain": plans,
            }
            with open(options["json"], "w", encoding="utf-8") as out:
                json.dump(payload, out, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder)
            self.stdout.write(f"Wrote {options['json']}.")
        self.results = results

    def explain(self, results) -> list[dict]:
        plans = []
        for r in results:
            if not r["key"].startswith("jb"):
                continue
            query = r["measurement"].slowest_select()
            if query is None:
                continue
            plan = bench.explain_sql(query.sql)
            plans.append({"key": r["key"], "query_ms": float(query.ms), "sql": query.sql, "plan": plan})
            self.stdout.write(f"\nEXPLAIN (ANALYZE, BUFFERS), slowest read of “{r['what']}” ({query.ms:.1f} ms):")
            self.stdout.write("  " + (query.sql if len(query.sql) <= 700 else query.sql[:700] + " …"))
            for line in plan[:25]:
                self.stdout.write(f"    {line}")
        return plans

