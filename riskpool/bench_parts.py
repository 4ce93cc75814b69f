"""riskpool's part of ``manage.py bench`` (the registry in core.bench_parts): the pages and reads
on a million loan projects (``bench_riskpool``; generated once by ``riskpool_generate`` and kept),
the project API's requests per second under gunicorn with two workers, the JB-7 evaluation and
the JB-5 RP-18 auto-closure against their hand-written statements, JB-7 at a tenth of the loans
and at all of them (its scaling with the data), and the simulator's replay."""
from __future__ import annotations

from datetime import date

from django.core.management import call_command
from django.db import connection, transaction

from core import bench_parts
from core.bench import measure
from core.bench_http import api_throughput
from core.bench_import import IMPORT_REPEAT_OPTION, IMPORT_ROWS_OPTION, bench_rows
from core.bench_parts import JOB_RATIO, BenchRun, Row, job_against_anchor, rolled_back, sql_statement
from core.calendar import shanghai_today
from core.models import ApiToken, User
from core.periods import add_months
from riskpool.bench_import import bench_import
from riskpool.management.commands.bench_riskpool import Command as RiskpoolBench
from riskpool.management.commands.bench_simulation import Command as SimulationBench
from riskpool.management.commands.riskpool_generate import USERS, generated_pool
from riskpool.models import LoanProject, Member, Pool
from riskpool.services import scheme_s_params
from riskpool.services_reports import auto_close_cutoff, banks_evaluate, loans_auto_close

bench_parts.option("--projects", type=int, default=1_000_000)
bench_parts.option(IMPORT_ROWS_OPTION[0], **IMPORT_ROWS_OPTION[1])
bench_parts.option(IMPORT_REPEAT_OPTION[0], **IMPORT_REPEAT_OPTION[1])
bench_parts.big_table("riskpool_loanproject")

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
# The same statement for one pool (the JB-7 scaling row: a tenth of the loans in a pool of their own).
JB7_POOL_SQL = JB7_SQL.replace("WHERE disbursed_on", "WHERE pool_id = %(pool)s AND disbursed_on")
PAGE_KEYS = ("p1", "p2", "p3", "p6", "p7", "p8")


@bench_parts.step("pages", order=20)
def pages(run: BenchRun) -> list[Row]:
    rp = RiskpoolBench(stdout=run.stdout, stderr=run.stderr)
    call_command(rp, generate=run.options["projects"], repeat=3, page_repeat=run.options["repeat"], explain=True)
    return [Row(f"{r['what']} [{r['queries']} queries]", r["median_ms"], "ms", "≤ 100")
            for r in rp.results if r["key"] in PAGE_KEYS]


@bench_parts.step("api", order=10)
def api(run: BenchRun) -> list[Row]:
    out = []
    for who in ("bank", "authority"):
        user = User.objects.get(username=USERS[who])
        token = ApiToken(organisation=user.organisation, user=user, name="bench")
        key = token.assign_new_key()
        token.save()
        try:
            result = api_throughput("/api/riskpool/projects/", key, workers=2, seconds=run.options["api_seconds"])
        finally:
            token.delete()
        out.append(Row(f"API GET /api/riskpool/projects/, {who}, 2 gunicorn workers (p50 {result.p50_ms:.0f} ms, "
                       f"{result.errors} errors, {result.client} client)", result.per_second, "req/s", "≥ 200"))
    return out


@bench_parts.step("jobs", order=10)
def jobs(run: BenchRun) -> list[Row]:
    pool = generated_pool()
    if pool is None:
        return []
    today = shanghai_today()
    year = today.year - 1
    # Three months on, so that there are loans to close (the generated ones due by today were
    # closed by bench_riskpool's JB-5 run).
    later = add_months(today, 3)
    cutoff = auto_close_cutoff(later, scheme_s_params(later))
    return [
        job_against_anchor(
            f"JB-7 bank evaluation {year} (RP-20, RP-22)",
            rolled_back(lambda: banks_evaluate(year=year, on=today, actor="bench")),
            "SQL: RP-20 GROUP BY", sql_statement(JB7_SQL, {"start": date(year, 1, 1), "prev_start": date(year - 1, 1, 1),
                                                            "end": date(year, 12, 31)})),
        job_against_anchor(
            f"JB-5 RP-18 auto-closure on {later} (select ids, flat UPDATE)",
            rolled_back(lambda: loans_auto_close(on=later)),
            "SQL: UPDATE … FROM pool", sql_statement(JB5_CLOSE_SQL, {"on": later, "cutoff": cutoff})),
    ]


@bench_parts.step("jobs", order=11)
def jb7_scaling(run: BenchRun) -> list[Row]:
    """JB-7 at a tenth of the data and at all of it, the same 40 banks, in one run (issue 12:
    13–17× for 10× the data before BankYear). The tenth: a Scheme S pool of its own with the
    generated pool's members and every tenth of its loans (one INSERT … SELECT, whose triggers
    fill BankYear as any write does), the generated pool set aside as Scheme M meanwhile so that
    JB-7 evaluates the one pool, then the other way round; all rolled back."""
    pool = generated_pool()
    if pool is None:
        return []
    today = shanghai_today()
    year = today.year - 1
    dates = {"start": date(year, 1, 1), "prev_start": date(year - 1, 1, 1), "end": date(year, 12, 31)}
    figures = {}
    with transaction.atomic():
        tenth = _tenth_pool(pool)
        for evaluated, aside in ((tenth, pool), (pool, tenth)):
            Pool.objects.filter(pk=evaluated.pk).update(scheme=Pool.Scheme.S)
            Pool.objects.filter(pk=aside.pk).update(scheme=Pool.Scheme.M)
            loans = LoanProject.objects.filter(pool=evaluated, disbursed_on__gte=dates["prev_start"],
                                               disbursed_on__lte=dates["end"]).count()
            job = measure(rolled_back(lambda: banks_evaluate(year=year, on=today, actor="bench")), repeat=3, warmup=True)
            anchor = measure(sql_statement(JB7_POOL_SQL, {**dates, "pool": evaluated.pk}), repeat=3, warmup=True)
            figures[evaluated.pk] = (loans, job.median_ms, anchor.median_ms)
        transaction.set_rollback(True)
    (small, small_ms, small_anchor), (big, big_ms, big_anchor) = figures[tenth.pk], figures[pool.pk]
    data = big / small
    return [
        Row(f"JB-7 {year} on a tenth of the data ({small:,} loans of {year - 1}–{year}, same banks)", small_ms, "ms",
            f"≤ {JOB_RATIO}× anchor", "SQL: COUNT(DISTINCT) of the pool", small_anchor, small_ms / small_anchor),
        Row(f"JB-7 {year}, {small:,} → {big:,} loans ({data:.1f}× the data): time ratio "
            f"(the SQL: {big_anchor / small_anchor:.1f}×)", big_ms / small_ms, "×", f"≤ {data:.1f}× (linear)",
            "SQL: COUNT(DISTINCT), all loans", big_anchor, big_ms / big_anchor),
    ]


def _tenth_pool(pool: Pool) -> Pool:
    """A copy of ``pool`` with its members and every tenth of its loans (numbers suffixed)."""
    tenth = Pool.objects.get(pk=pool.pk)
    tenth.pk, tenth.name = None, f"{pool.name} (bench: a tenth)"
    tenth.save()
    members = list(Member.objects.filter(pool=pool))
    for member in members:
        member.pk, member.pool = None, tenth
    Member.objects.bulk_create(members)
    fields = [f for f in LoanProject._meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    values = ", ".join({"pool_id": "%(tenth)s", "loan_no": qn("loan_no") + " || '~10'"}.get(f.column, qn(f.column))
                       for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {qn(LoanProject._meta.db_table)} ({columns}) SELECT {values} "
                       f"FROM {qn(LoanProject._meta.db_table)} WHERE pool_id = %(pool)s AND id %% 10 = 0",
                       {"tenth": tenth.pk, "pool": pool.pk})
        cursor.execute("ANALYZE riskpool_loanproject, riskpool_bankyear")
    return tenth


@bench_parts.step("simulation", order=10)
def simulation(run: BenchRun) -> list[Row]:
    """The Scheme S replay of the demo's two drafts over the generated loan projects (a million in
    ``make bench``), set-based, against the per-row replay of the same draft (whose result it must
    equal)."""
    sim = SimulationBench(stdout=run.stdout, stderr=run.stderr)
    call_command(sim, repeat=1, reference=True)
    return [Row(f"simulator replay, {sim.projects:,} loan projects, draft {name} ({changes} changes) "
                f"[{queries} queries]", ms, "ms", "≤ 60000", "per-row replay (rules.quote × 2 per claim)", per_row_ms,
                ms / per_row_ms if per_row_ms else None)
            for name, ms, queries, changes, per_row_ms in sim.results]


@bench_parts.step("data", order=20)
def bulk_import(run: BenchRun) -> list[Row]:
    """The loan-project upload of ``--import-rows`` rows against COPY and django-import-export."""
    return bench_rows(bench_import(run.options["import_rows"], stdout=run.stdout,
                                   repeat=run.options.get("import_repeat", 1)), "loan-project import")
