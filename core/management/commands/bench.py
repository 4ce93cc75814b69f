"""``manage.py bench`` (``make bench``): every figure of issue 12 in one table, with its anchor.

Usage (a dedicated PostgreSQL database; the data sets are generated when missing)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gp_bench make bench

The figures come from the apps' ``bench_parts.py`` (the registry in core.bench_parts; core
imports no app): guarantees runs ``bench_guarantees`` (a million guarantees, generated through
COPY and removed again at the end) and its JB-5 snapshot against its anchor; riskpool runs
``bench_riskpool`` (a million loan projects, generated once by ``riskpool_generate`` and kept),
the project API's requests per second under gunicorn with two workers (core.bench_http), its
batch jobs against one hand-written SQL statement each (the job must stay within 1.5 times it)
and the simulator. The command adds which indexes of the big tables no benchmarked query used.
The sub-commands print their own details and EXPLAIN plans first; the table at the end is the
summary.
"""
from __future__ import annotations

import os
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from core import bench_parts
from core.bench_parts import SECTIONS, BenchRun, Row


class Command(BaseCommand):
    help = "Every issue-12 figure (pages, API, jobs, anchors, unused indexes) in one table."

    def add_arguments(self, parser):
        bench_parts.discover()
        parser.add_argument("--repeat", type=int, default=7, help="timed runs per page and read")
        parser.add_argument("--api-seconds", type=float, default=10, help="seconds of load per API figure")
        for name, kwargs in bench_parts.options():
            parser.add_argument(name, **kwargs)

    def handle(self, *args, **options):
        if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            raise CommandError("bench needs PostgreSQL (its planner and timings are production's).")
        bench_parts.discover()
        started = time.perf_counter()
        tables = bench_parts.big_tables()
        self._reset_index_counters(tables)
        run = BenchRun(options=options, stdout=self.stdout, stderr=self.stderr)
        rows: list[Row] = []
        try:
            for section in SECTIONS:
                for step in bench_parts.steps(section):
                    rows += step.func(run)
            unused = self._unused_indexes(tables)
            self._table(rows)
            for table, names in unused.items():
                self.stdout.write(f"Indexes of {table} that no benchmarked query used: {', '.join(names) or 'none'}")
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            self.stdout.write(f"Measured in {time.perf_counter() - started:.0f} s (load average {load} on "
                              f"{os.cpu_count()} CPUs).")
        finally:
            run.finish()  # after the table: removing a million guarantees takes minutes

    # --- indexes ----------------------------------------------------------------------------------

    def _reset_index_counters(self, tables: list[str]) -> None:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            for table in tables:
                cursor.execute("SELECT pg_stat_reset_single_table_counters(%s::regclass)", [table])

    def _unused_indexes(self, tables: list[str]) -> dict[str, list[str]]:
        """Indexes of the big tables with no scan since the start of this run (the unique ones
        are constraints and stay). PostgreSQL publishes the counters a moment later: wait."""
        time.sleep(1.5)
        unused = {}
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            for table in tables:
                cursor.execute(
                    "SELECT s.indexrelname FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid "
                    "WHERE s.relname = %s AND s.idx_scan = 0 AND NOT i.indisunique ORDER BY 1", [table])
                unused[table] = [row[0] for row in cursor.fetchall()]
        return unused

    # --- the table --------------------------------------------------------------------------------

    def _table(self, rows: list[Row]) -> None:
        def num(value, unit=""):
            if value is None:
                return ""
            return f"{value:,.1f} {unit}".strip()

        header = ("what", "figure", "target", "anchor", "anchor figure", "ratio")
        body = [(r.what, num(r.figure, r.unit), r.target, r.anchor,
                 num(r.anchor_figure, "ms" if r.anchor_figure is not None else ""),
                 f"{r.ratio:.2f}×" if r.ratio is not None else "")
                for r in rows]
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
