"""guarantees' part of ``manage.py bench`` (the registry in core.bench_parts): the dashboard and
list pages on a million generated guarantees (``bench_guarantees``, kept until the end of the run
and then removed), the JB-5 indicator snapshot against its hand-written statement, the COPY
rate of the generation, and the bulk upload of guarantees against its anchors."""
from __future__ import annotations

from django.core.management import call_command

from core import bench_parts
from core.bench_import import IMPORT_REPEAT_OPTION, IMPORT_ROWS_OPTION, bench_rows
from core.bench_parts import BenchRun, Row, job_against_anchor, rolled_back, sql_statement
from core.calendar import shanghai_today
from core.periods import period_bounds, previous_quarter
from guarantees.bench_import import bench_import
from guarantees.jobs import snapshot_quarter
from guarantees.management.commands.bench_guarantees import Command as GuaranteesBench

bench_parts.option("--guarantees", type=int, default=1_000_000)
bench_parts.option(IMPORT_ROWS_OPTION[0], **IMPORT_ROWS_OPTION[1])
bench_parts.option(IMPORT_REPEAT_OPTION[0], **IMPORT_REPEAT_OPTION[1])
bench_parts.big_table("guarantees_guarantee")

# The anchor of the JB-5 snapshot: one statement, written by hand, doing the job's work on the same rows.
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

PAGES = (("a", "dashboard reads, closed quarter (JB-5 snapshots)", 150),
         ("f1", "dashboard page, closed quarter", 150),
         ("a2", "dashboard reads, open quarter (live over the quarter)", 150),
         ("f3", "dashboard page, open quarter", 150),
         ("c", "overdue compensations, page 1 reads", 100),
         ("f4", "overdue compensations page", 100),
         ("f2", "guarantee list page, authority", 100))


@bench_parts.step("pages", order=10)
def pages(run: BenchRun) -> list[Row]:
    g = GuaranteesBench(stdout=run.stdout, stderr=run.stderr)
    # Kept until the jobs have been timed on it, then removed after the table.
    call_command(g, guarantees=run.options["guarantees"], repeat=run.options["repeat"], keep=True)

    def remove():
        run.stdout.write("Removing the benchmark guarantees now.")
        g._remove()

    run.on_finish(remove)
    run.state["guarantees"] = g
    by_key = {r.key: r.measurement for r in g.results}
    return [Row(f"{what} [{by_key[key].query_count} queries]", by_key[key].median_ms, "ms", f"≤ {target}")
            for key, what, target in PAGES if key in by_key]


@bench_parts.step("jobs", order=20)
def snapshot_job(run: BenchRun) -> list[Row]:
    quarter = previous_quarter(shanghai_today())
    _k, start, end = period_bounds(quarter)
    return [job_against_anchor(
        f"JB-5 indicator snapshot {quarter} (guarantees part)",
        rolled_back(lambda: snapshot_quarter(None, str(quarter), lambda *a: None)),
        "SQL: GU-4, GU-6…9 GROUP BY firm", sql_statement(JB5_SNAPSHOT_SQL, {"start": start, "end": end}))]


@bench_parts.step("data", order=10)
def generation(run: BenchRun) -> list[Row]:
    g = run.state.get("guarantees")
    copy = g.data.tables.get("guarantees_guarantee", {}) if g is not None else {}
    rows = [Row("COPY of guarantees, generating the rows included", copy["rows_per_s"], "rows/s")] if copy else []
    return rows


@bench_parts.step("data", order=20)
def bulk_import(run: BenchRun) -> list[Row]:
    """The guarantee upload of ``--import-rows`` rows against COPY and django-import-export."""
    return bench_rows(bench_import(run.options["import_rows"], stdout=run.stdout,
                                   repeat=run.options.get("import_repeat", 1)), "guarantee import")
