"""``manage.py bench`` (``make bench``): every figure of issue 12 in one table, with its anchor.

Usage (a dedicated PostgreSQL database; the data sets are generated when missing)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gp_bench make bench

It runs ``bench_guarantees`` (a million guarantees, generated through COPY and removed again) and
``bench_riskpool`` (a million loan projects, generated once by ``riskpool_generate`` and kept),
then measures what they do not: the project API's requests per second under gunicorn with two
workers (core.bench_http), each batch job's core statement against one hand-written SQL
statement doing the same work (the anchor; the job must stay within 1.5 times it), and which
indexes of the two big tables no benchmarked query used. The sub-commands print their own
details and EXPLAIN plans first; the table at the end is the summary.
"""
from __future__ import annotations

import os
import time
from datetime import date

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from core import bench
from core.bench_http import api_throughput
from core.calendar import shanghai_today
from core.models import ApiToken, User
from core.periods import add_months, period_bounds, previous_quarter
from guarantees.jobs import snapshot_quarter
from guarantees.management.commands.bench_guarantees import Command as GuaranteesBench
from riskpool.management.commands.bench_riskpool import Command as RiskpoolBench
from riskpool.management.commands.bench_riskpool import rolled_back
from riskpool.management.commands.bench_simulation import Command as SimulationBench
from riskpool.management.commands.riskpool_generate import USERS, generated_pool
from riskpool.services import scheme_s_params
from riskpool.services_reports import auto_close_cutoff, banks_evaluate, loans_auto_close

BIG_TABLES = ("riskpool_loanproject", "guarantees_guarantee")
JOB_RATIO = 1.5  # a batch job within 1.5 times its hand-written SQL statement

# The anchors: one statement each, written by hand, doing the job's work on the same rows.
JB7_SQL = """
    SELECT pool_id, bank_id,
           SUM(principal_yuan) FILTER (WHERE disbursed_on >= %(start)s),
           COUNT(DISTINCT borrower_id) FILTER (WHERE disbursed_on >= %(start)s),
           SUM(principal_yuan) FILTER (WHERE disbursed_on < %(start)s),
           COUNT(DISTINCT borrower_id) FILTER (WHERE disbursed_on < %(start)s)
    FROM riskpool_loanproject
    WHERE disbursed_on >= %(prev_start)s AND disbursed_on <= %(end)s
    GROUP BY pool_id, bank_id
"""
JB5_CLOSE_SQL = """
    UPDATE riskpool_loanproject p SET library = 'closed', closed_on = %(on)s, closed_reason = 'auto'
    FROM riskpool_pool pool
    WHERE pool.id = p.pool_id AND pool.scheme = 'S' AND p.library = 'loan' AND p.maturity_on <= %(cutoff)s
      AND p.classification NOT IN ('substandard', 'doubtful', 'loss')
      AND NOT EXISTS (SELECT 1 FROM riskpool_claim c WHERE c.project_id = p.id
                      AND c.state NOT IN ('withdrawn', 'upgraded'))
"""
JB5_SNAPSHOT_SQL = """
    WITH g AS (
        SELECT firm_id,
               SUM(amount) FILTER (WHERE start <= %(end)s AND (closed_on IS NULL OR closed_on > %(end)s)) AS balance,
               SUM(amount) FILTER (WHERE start >= %(start)s AND start <= %(end)s) AS written,
               SUM(amount * fee_rate) FILTER (WHERE start >= %(start)s AND start <= %(end)s) AS weighted,
               SUM(amount) FILTER (WHERE start >= %(start)s AND start <= %(end)s AND small_micro_or_agri) AS support,
               SUM(amount) FILTER (WHERE closed_on >= %(start)s AND closed_on <= %(end)s) AS released
        FROM guarantees_guarantee
        WHERE start <= %(end)s AND (closed_on IS NULL OR closed_on >= %(start)s)
        GROUP BY firm_id
    ), c AS (
        SELECT g.firm_id,
               SUM(c.paid_amount) FILTER (WHERE c.paid_on >= %(start)s AND c.paid_on <= %(end)s) AS paid,
               COUNT(*) FILTER (WHERE c.due_on < %(end)s AND (c.paid_on IS NULL OR c.paid_on > %(end)s)) AS overdue
        FROM guarantees_compensation c JOIN guarantees_guarantee g ON g.id = c.guarantee_id
        WHERE (c.paid_on >= %(start)s AND c.paid_on <= %(end)s)
           OR (c.due_on < %(end)s AND (c.paid_on IS NULL OR c.paid_on > %(end)s))
        GROUP BY g.firm_id
    )
    SELECT g.*, c.paid, c.overdue FROM g LEFT JOIN c ON c.firm_id = g.firm_id
"""


def _sql(sql: str, params: dict):
    def call():
        with transaction.atomic(), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(sql, params)
            if cursor.description:
                cursor.fetchall()
            transaction.set_rollback(True)
    return call


class Command(BaseCommand):
    help = "Every issue-12 figure (pages, API, jobs, anchors, unused indexes) in one table."

    def add_arguments(self, parser):
        parser.add_argument("--guarantees", type=int, default=1_000_000)
        parser.add_argument("--projects", type=int, default=1_000_000)
        parser.add_argument("--repeat", type=int, default=7, help="timed runs per page and read")
        parser.add_argument("--api-seconds", type=float, default=10, help="seconds of load per API figure")

    def handle(self, *args, **options):
        if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            raise CommandError("bench needs PostgreSQL (its planner and timings are production's).")
        started = time.perf_counter()
        rows: list[tuple] = []  # (what, figure, unit, target, anchor, anchor figure, ratio)
        self._reset_index_counters()

        g = GuaranteesBench(stdout=self.stdout, stderr=self.stderr)
        # Kept until the jobs below have been timed on it, then removed.
        call_command(g, guarantees=options["guarantees"], repeat=options["repeat"], keep=True)
        by_key = {r.key: r.measurement for r in g.results}
        copy = g.data.tables.get("guarantees_guarantee", {})
        for key, what, target in (("a", "dashboard reads, closed quarter (JB-5 snapshots)", 150),
                                  ("f1", "dashboard page, closed quarter", 150),
                                  ("a2", "dashboard reads, open quarter (live over the quarter)", 150),
                                  ("f3", "dashboard page, open quarter", 150),
                                  ("c", "overdue compensations, page 1 reads", 100),
                                  ("f4", "overdue compensations page", 100),
                                  ("f2", "guarantee list page, authority", 100)):
            if key in by_key:
                m = by_key[key]
                rows.append((f"{what} [{m.query_count} queries]", m.median_ms, "ms", f"≤ {target}", "", None, None))

        rp = RiskpoolBench(stdout=self.stdout, stderr=self.stderr)
        call_command(rp, generate=options["projects"], repeat=3, page_repeat=options["repeat"], explain=True)
        for r in rp.results:
            if r["key"] in ("p1", "p2", "p3", "p6", "p7", "p8"):
                rows.append((f"{r['what']} [{r['queries']} queries]", r["median_ms"], "ms", "≤ 100", "", None, None))

        try:
            rows += self._api(options["api_seconds"])
            rows += self._jobs()
            rows += self._simulation()
            self._report(rows, copy, started)
        finally:
            g._remove()  # after the table: removing a million guarantees takes minutes

    def _report(self, rows: list[tuple], copy: dict, started: float) -> None:
        if copy:
            rows.append(("COPY of guarantees, generating the rows included", copy["rows_per_s"], "rows/s",
                         "", "", None, None))
        rows.append(("loan-project and guarantee import", None, "", "≥ 10× django-import-export, ≤ 5× COPY",
                     "measured by the import's own benchmark (helper import)", None, None))
        unused = self._unused_indexes()
        self._table(rows)
        for table, names in unused.items():
            self.stdout.write(f"Indexes of {table} that no benchmarked query used: {', '.join(names) or 'none'}")
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        self.stdout.write(f"Measured in {time.perf_counter() - started:.0f} s (load average {load} on "
                          f"{os.cpu_count()} CPUs); removing the benchmark guarantees now.")

    # --- API ------------------------------------------------------------------------------------

    def _api(self, seconds: float) -> list[tuple]:
        out = []
        for who in ("bank", "authority"):
            user = User.objects.get(username=USERS[who])
            token = ApiToken(organisation=user.organisation, user=user, name="bench")
            key = token.assign_new_key()
            token.save()
            try:
                result = api_throughput("/api/riskpool/projects/", key, workers=2, seconds=seconds)
            finally:
                token.delete()
            out.append((f"API GET /api/riskpool/projects/, {who}, 2 gunicorn workers (p50 {result.p50_ms:.0f} ms, "
                        f"{result.errors} errors)", result.per_second, "req/s", "≥ 200", "", None, None))
        return out

    # --- the policy simulator (issue 15) ---------------------------------------------------------

    def _simulation(self) -> list[tuple]:
        """The Scheme S replay of the demo's two drafts over the million loan projects."""
        sim = SimulationBench(stdout=self.stdout, stderr=self.stderr)
        call_command(sim, repeat=1)
        return [(f"simulator replay, draft {name} ({changes} changes) [{queries} queries]", ms, "ms", "≤ 60000", "",
                 None, None) for name, ms, queries, changes in sim.results]

    # --- batch jobs against their hand-written statement ------------------------------------------

    def _jobs(self) -> list[tuple]:
        today = shanghai_today()
        year = today.year - 1
        quarter = previous_quarter(today)
        _k, q_start, q_end = period_bounds(quarter)
        pool = generated_pool()
        out = []

        def pair(what, job, anchor_name, anchor):
            job_ms = bench.measure(job, repeat=3, warmup=True).median_ms
            anchor_ms = bench.measure(anchor, repeat=3, warmup=True).median_ms
            ratio = job_ms / anchor_ms if anchor_ms else None
            out.append((what, job_ms, "ms", f"≤ {JOB_RATIO}× anchor", anchor_name, anchor_ms, ratio))

        if pool is not None:
            pair(f"JB-7 bank evaluation {year} (RP-20, RP-22)",
                 rolled_back(lambda: banks_evaluate(year=year, on=today, actor="bench")),
                 "SQL: RP-20 GROUP BY", _sql(JB7_SQL, {"start": date(year, 1, 1), "prev_start": date(year - 1, 1, 1),
                                                        "end": date(year, 12, 31)}))
            # Three months on, so that there are loans to close (the generated ones due by today
            # were closed by the JB-5 run above).
            later = add_months(today, 3)
            cutoff = auto_close_cutoff(later, scheme_s_params(later))
            pair(f"JB-5 RP-18 auto-closure on {later} (select ids, flat UPDATE)",
                 rolled_back(lambda: loans_auto_close(on=later)),
                 "SQL: UPDATE … FROM pool", _sql(JB5_CLOSE_SQL, {"on": later, "cutoff": cutoff}))
        pair(f"JB-5 indicator snapshot {quarter} (guarantees part)",
             rolled_back(lambda: snapshot_quarter(None, str(quarter), lambda *a: None)),
             "SQL: GU-4, GU-6…9 GROUP BY firm", _sql(JB5_SNAPSHOT_SQL, {"start": q_start, "end": q_end}))
        return out

    # --- indexes ----------------------------------------------------------------------------------

    def _reset_index_counters(self) -> None:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            for table in BIG_TABLES:
                cursor.execute("SELECT pg_stat_reset_single_table_counters(%s::regclass)", [table])

    def _unused_indexes(self) -> dict[str, list[str]]:
        """Indexes of the big tables with no scan since the start of this run (the unique ones
        are constraints and stay). PostgreSQL publishes the counters a moment later: wait."""
        time.sleep(1.5)
        unused = {}
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            for table in BIG_TABLES:
                cursor.execute(
                    "SELECT s.indexrelname FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid "
                    "WHERE s.relname = %s AND s.idx_scan = 0 AND NOT i.indisunique ORDER BY 1", [table])
                unused[table] = [row[0] for row in cursor.fetchall()]
        return unused

    # --- the table --------------------------------------------------------------------------------

    def _table(self, rows: list[tuple]) -> None:
        def num(value, unit=""):
            if value is None:
                return ""
            return f"{value:,.1f} {unit}".strip()

        header = ("what", "figure", "target", "anchor", "anchor figure", "ratio")
        body = [(what, num(fig, unit), target, anchor, num(anchor_fig, "ms" if anchor_fig is not None else ""),
                 f"{ratio:.2f}×" if ratio is not None else "")
                for what, fig, unit, target, anchor, anchor_fig, ratio in rows]
        widths = [max(len(str(r[i])) for r in [header, *body]) for i in range(len(header))]
        line = "+".join("-" * (w + 2) for w in widths)
        self.stdout.write("\nIssue 12 — all figures of this run\n" + line)
        for r in [header, None, *body]:
            if r is None:
                self.stdout.write(line)
                continue
            self.stdout.write(" | ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                         for i, (c, w) in enumerate(zip(r, widths, strict=True))))
        self.stdout.write(line)
