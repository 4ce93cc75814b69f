"""Set-based batch work of the risk pool's periodic jobs (JB-5 riskpool part, JB-6, JB-7).

JB-15: every figure is aggregated in the database (GROUP BY), a constant number of queries
whatever the number of member banks or projects; rows are written with bulk operations in
batches of ``CHUNK``. JB-12: each function replaces its own rows for the period (delete, then
insert) and is run by core.jobs.job_run inside the run's one transaction (JB-14).
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from django.db import connections
from django.db.models import BigIntegerField, CharField, Count, DateField, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, ExtractYear

from core import calendar as core_calendar
from core import i18n_text
from core.audit import snapshot
from core.models import AuditEvent
from core.periods import add_months
from riskpool import rules
from riskpool.models import (
    BankEvaluation,
    BankYear,
    BankYearBorrower,
    Claim,
    ClaimStep,
    HalfYearReport,
    LedgerEntry,
    LoanProject,
    Member,
    MissingRecoveryReport,
    NilRecoveryReport,
    Pool,
    PoolQuarterSnapshot,
    QuarterBankReport,
    RecoveryReport,
    Violation,
)
from riskpool.services import scheme_s_params

CHUNK = 1000  # JB-15: rows per bulk write
ZERO = Decimal("0")
LP = LoanProject
S = Pool.Scheme.S
# Claims that no longer stand for the project: they make room for a new claim (Claim's
# claim_one_per_project). Every other state, rejected included, is a live claim (RP-18).
DEAD_CLAIM_STATES = ("withdrawn", "upgraded")
# RP-23 "money returned": every inflow that gives back compensation paid out (RP-16 8a, RP-17, RP-21).
RETURN_KINDS = (
    LedgerEntry.Kind.RETURN_UPGRADE,
    LedgerEntry.Kind.RETURN_RECOVERY,
    LedgerEntry.Kind.CLAWBACK,
    LedgerEntry.Kind.CLAWBACK_INTEREST,
)


# --- JB-7: annual bank evaluation (RP-20) and revocation (RP-22) ----------------------------


def _evaluated_members(year: int) -> list[Member]:
    """Scheme S members that belonged to their pool during ``year``: joined by its end and not
    revoked before it began (a bank revoked by this year's own evaluation, in the next February,
    stays in)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    return list(
        Member.objects.filter(pool__scheme=S, joined_on__lte=end)
        .filter(Q(revoked_on__isnull=True) | Q(revoked_on__gte=start))
        .select_related("pool")
        .order_by("pool_id", "pk")
    )


def _bank_figures(year: int, members: list[Member]) -> dict[tuple[int, int], dict]:
    """RP-20 A and N of ``year`` and of the year before, per (pool, bank) of ``members``: their
    BankYear rows of the two years (kept by triggers as loans are written, whatever library the
    loans are in now), two rows per bank whatever the number of loans (issue 12: a
    COUNT(DISTINCT borrower) over the loans sorted them, 13–17× the time for 10× the data)."""
    figures: dict[tuple[int, int], dict] = {}
    rows = BankYear.objects.filter(
        pool_id__in={m.pool_id for m in members}, bank_id__in={m.organisation_id for m in members},
        year__in=(year - 1, year),
    ).values_list("pool_id", "bank_id", "year", "borrowers", "amount")
    for pool_id, bank_id, y, borrowers, amount in rows:
        row = figures.setdefault((pool_id, bank_id), {"amount": ZERO, "borrowers": 0, "prev_amount": ZERO,
                                                      "prev_borrowers": 0})
        prefix = "" if y == year else "prev_"
        row[prefix + "amount"], row[prefix + "borrowers"] = amount, borrowers
    return figures


def bank_year_drift(pool_ids=None) -> int:
    """How many rows of BankYear and of BankYearBorrower differ from a live recount over the
    loan projects, both ways (0 when the triggers kept them exact): the generator's consistency
    check and the tests of every write path."""
    loans = LoanProject.objects.annotate(year=ExtractYear("disbursed_on"))
    per_year, per_borrower = BankYear.objects.all(), BankYearBorrower.objects.all()
    if pool_ids is not None:
        loans = loans.filter(pool_id__in=pool_ids)
        per_year, per_borrower = per_year.filter(pool_id__in=pool_ids), per_borrower.filter(pool_id__in=pool_ids)
    pairs = [
        (loans.values_list("pool_id", "bank_id", "year").annotate(
            n=Count("borrower_id", distinct=True), amount=Sum("principal_yuan")).order_by(),
         per_year.values_list("pool_id", "bank_id", "year", "borrowers", "amount").order_by()),
        (loans.values_list("pool_id", "bank_id", "year", "borrower_id").annotate(
            n=Count("*"), amount=Sum("principal_yuan")).order_by(),
         per_borrower.values_list("pool_id", "bank_id", "year", "borrower_id", "projects", "amount").order_by()),
    ]
    return sum(live.difference(kept).count() + kept.difference(live).count() for live, kept in pairs)


def bank_year_rows(members: list[Member], year: int) -> list[rules.BankYear]:
    """The RP-20 input of ``rules.evaluate_banks`` for ``members`` (one query). A bank that was
    not yet a member in the previous year has no previous figures (None), so no growth; a bank
    with a Violation (RP-21) recorded in the year has ``violation`` True (one more query)."""
    figures = _bank_figures(year, members)
    violators = set(
        Violation.objects.filter(member_id__in=[m.pk for m in members], recorded_on__year=year)
        .values_list("member_id", flat=True).distinct()
    )
    prev_end = date(year - 1, 12, 31)
    rows = []
    for member in members:
        row = figures.get((member.pool_id, member.organisation_id), {})
        was_member = member.joined_on <= prev_end
        rows.append(
            rules.BankYear(
                id=str(member.pk),
                amount=row.get("amount", ZERO),
                borrowers=row.get("borrowers", 0),
                prev_amount=row.get("prev_amount", ZERO) if was_member else None,
                prev_borrowers=row.get("prev_borrowers", 0) if was_member else None,
                violation=member.pk in violators,
            )
        )
    return rows


def _earlier_grades(member_ids, year: int, years: int) -> dict[int, dict[int, str]]:
    """Grades of ``member_ids`` in the ``years - 1`` years before ``year`` (one query)."""
    grades: dict[int, dict[int, str]] = {}
    if years < 2 or not member_ids:
        return grades
    rows = BankEvaluation.objects.filter(
        member_id__in=member_ids, year__gte=year - years + 1, year__lt=year
    ).values_list("member_id", "year", "grade")
    for member_id, y, grade in rows:
        grades.setdefault(member_id, {})[y] = grade
    return grades


def banks_evaluate(*, year: int, on: date, run=None, actor: str, progress=None) -> dict:
    """JB-7 for ``year`` run on ``on``: every Scheme S pool's member banks graded by
    ``rules.evaluate_banks`` (the function of the preview API, with the rule set in force on
    ``on`` as there) and stored as BankEvaluation, replacing the year's earlier rows; then RP-22:
    a bank unqualified this year and the years before (``rules.revoked``) has its membership
    revoked on ``on`` and may apply again on ``rules.may_reapply_on(on)``, audited. A bank
    already revoked by an earlier run for this year keeps its dates."""
    params = scheme_s_params(on)
    members = _evaluated_members(year)
    rows = bank_year_rows(members, year)
    by_pool: dict[int, list[tuple[Member, rules.BankYear]]] = {}
    for member, row in zip(members, rows, strict=True):
        by_pool.setdefault(member.pool_id, []).append((member, row))
    if progress:
        progress(0, len(members))
    replaced, _by_model = BankEvaluation.objects.filter(year=year, pool__scheme=S).delete()
    evaluations, grade_of = [], {}
    for pairs in by_pool.values():
        grades = rules.evaluate_banks([row for _m, row in pairs], params)
        for (member, row), result in zip(pairs, grades, strict=True):
            grade_of[member.pk] = result.grade
            evaluations.append(
                BankEvaluation(
                    pool_id=member.pool_id, year=year, member=member, amount=row.amount, borrowers=row.borrowers,
                    prev_amount=row.prev_amount, prev_borrowers=row.prev_borrowers, growth=result.growth,
                    rank_amount=result.amount_rank, rank_borrowers=result.borrowers_rank,
                    rank_growth=result.growth_rank, violation=row.violation, grade=result.grade, job_run=run,
                )
            )
    BankEvaluation.objects.bulk_create(evaluations, batch_size=CHUNK)
    revoked = _revoke(members, grade_of, year=year, on=on, params=params, actor=actor)
    if progress:
        progress(len(members), len(members))
    counts = Counter(grade_of.values())
    return {
        "pools": len(by_pool),
        "banks_evaluated": len(evaluations),
        **{grade: counts.get(grade, 0) for grade in rules.GRADES},
        "revoked": revoked,
        "replaced": replaced,
    }


def _revoke(members: list[Member], grade_of: dict[int, str], *, year: int, on: date,
            params: rules.SchemeSParams, actor: str) -> int:
    """RP-22 for the year's unqualified banks: one query for their earlier grades, one bulk
    UPDATE and one bulk INSERT of audit events."""
    years = params.revocation_unqualified_years
    unqualified = [m for m in members if grade_of.get(m.pk) == "unqualified"]
    earlier = _earlier_grades([m.pk for m in unqualified], year, years)
    year_end = date(year, 12, 31)
    changed, events = [], []
    for member in unqualified:
        if member.revoked_on is not None and member.revoked_on > year_end:
            continue  # revoked already for this year's evaluation (JB-12: a re-run changes nothing)
        history = [earlier.get(member.pk, {}).get(y) for y in range(year - years + 1, year)] + ["unqualified"]
        if not rules.revoked(history, params):
            continue
        before = snapshot(member)
        member.revoked_on = on
        member.may_reapply_on = rules.may_reapply_on(on, params)
        changed.append(member)
        events.append(
            AuditEvent(
                actor=None, actor_label=actor[:150], organisation_id=member.pool.authority_id,
                action=AuditEvent.Action.UPDATE, object_type=Member._meta.label_lower, object_id=str(member.pk),
                summary=i18n_text.dumps_within(i18n_text.gettext_lazy("RP-22 revoked: unqualified %(first)s–%(last)s; may apply again on %(on)s")
                                               % {"first": year - years + 1, "last": year, "on": member.may_reapply_on}, 255),
                before=before, after=snapshot(member),
            )
        )
    Member.objects.bulk_update(changed, ["revoked_on", "may_reapply_on"], batch_size=CHUNK)
    AuditEvent.objects.bulk_create(events, batch_size=CHUNK)
    return len(changed)


# --- JB-6: half-year report (RP-23) -----------------------------------------------------------


def _by_bank(queryset, pool: str, bank: str, **aggregates) -> dict[tuple[int, int], dict]:
    rows = queryset.values(pool_key=F(pool), bank_key=F(bank)).annotate(**aggregates).order_by()
    return {(row["pool_key"], row["bank_key"]): row for row in rows}


def half_year_reports(*, period: str, start: date, end: date, run=None, progress=None) -> dict:
    """JB-6 for the half-year ``period`` (``start`` … ``end``): per Scheme S member bank, claims
    submitted (submitted_on in the half), approved (claims with a step to "approved" dated in the
    half, a re-approval counted once), paid (claims with a payout booked in the half) and the
    compensation paid, money returned (upgrade and recovery returns, claw-backs and their
    interest booked in the half), gross recoveries received in the half and projects closed in
    the half; as HalfYearReport, replacing the period's earlier rows. Seven queries and the
    batched inserts, whatever the number of banks."""
    in_scheme = Q(project__pool__scheme=S)
    submitted = _by_bank(Claim.objects.filter(in_scheme, submitted_on__range=(start, end)),
                         "project__pool_id", "project__bank_id", n=Count("pk"))
    approved = _by_bank(
        ClaimStep.objects.filter(claim__project__pool__scheme=S, new="approved", on__range=(start, end)),
        "claim__project__pool_id", "claim__project__bank_id", n=Count("claim_id", distinct=True),
    )
    payout = Q(kind=LedgerEntry.Kind.PAYOUT)
    ledger = _by_bank(
        LedgerEntry.objects.filter(pool__scheme=S, claim__isnull=False, booked_on__range=(start, end)),
        "pool_id", "claim__project__bank_id",
        paid=Count("claim_id", filter=payout, distinct=True),
        paid_amount=Sum("amount", filter=payout, default=ZERO),
        returned=Sum("amount", filter=Q(kind__in=RETURN_KINDS), default=ZERO),
    )
    recoveries = _by_bank(
        RecoveryReport.objects.filter(claim__project__pool__scheme=S, received_on__range=(start, end)),
        "claim__project__pool_id", "claim__project__bank_id", gross=Sum("gross", default=ZERO),
    )
    closures = _by_bank(
        LoanProject.objects.filter(pool__scheme=S, library=LP.Library.CLOSED, closed_on__range=(start, end)),
        "pool_id", "bank_id", n=Count("pk"),
    )
    members = list(Member.objects.filter(pool__scheme=S, joined_on__lte=end).order_by("pool_id", "pk"))
    if progress:
        progress(0, len(members))
    replaced, _by_model = HalfYearReport.objects.filter(period=period).delete()
    reports = []
    for member in members:
        key = (member.pool_id, member.organisation_id)
        money = ledger.get(key, {})
        reports.append(
            HalfYearReport(
                pool_id=member.pool_id, period=period, member=member,
                claims_submitted=submitted.get(key, {}).get("n", 0),
                claims_approved=approved.get(key, {}).get("n", 0),
                claims_paid=money.get("paid", 0),
                paid_amount=-money.get("paid_amount", ZERO),  # payouts are booked negative
                returned_amount=money.get("returned", ZERO),
                recoveries_gross=recoveries.get(key, {}).get("gross", ZERO),
                closures=closures.get(key, {}).get("n", 0),
                job_run=run,
            )
        )
    HalfYearReport.objects.bulk_create(reports, batch_size=CHUNK)
    if progress:
        progress(len(members), len(members))
    return {"reports": len(reports), "replaced_reports": replaced}


# --- JB-5, riskpool part: automatic closure (RP-18) and entries per bank ---------------------


def auto_close_cutoff(on: date, params: rules.SchemeSParams) -> date:
    """The latest maturity whose ``rules.auto_close_on`` is on or before ``on``, so the closure
    is one range condition on an indexed column; ``auto_close_on`` never decreases with the
    maturity, so every earlier maturity is due too."""
    day = add_months(on, -params.auto_closure_months)
    while rules.auto_close_on(day + timedelta(days=1), params) <= on:
        day += timedelta(days=1)
    while rules.auto_close_on(day, params) > on:
        day -= timedelta(days=1)
    return day


def loans_auto_close(*, on: date) -> int:
    """RP-18: Scheme S projects still in the loan library, not non-performing, with no live
    claim, whose automatic-closure date has come by ``on``: closed on ``on`` because of RP-18.
    Running it again the same day closes nothing more.

    The loans are selected first (the Scheme S pools' ids, then the index on library and
    maturity) and closed by one flat UPDATE of those ids: an UPDATE filtered through the pool
    join makes PostgreSQL join the whole project table to the pools (issue 12)."""
    cutoff = auto_close_cutoff(on, scheme_s_params(on))
    pools = list(Pool.objects.filter(scheme=S).values_list("pk", flat=True))
    live_claim = Claim.objects.filter(project_id=OuterRef("pk")).exclude(state__in=DEAD_CLAIM_STATES)
    ids = list(
        LoanProject.objects.filter(pool_id__in=pools, library=LP.Library.LOAN, maturity_on__lte=cutoff)
        .exclude(classification__in=LP.NPL_CLASSES)
        .exclude(Exists(live_claim))
        .order_by()
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    return LoanProject.objects.filter(pk__in=ids, library=LP.Library.LOAN).update(
        library=LP.Library.CLOSED, closed_on=on, closed_reason=LP.ClosedReason.AUTO)


def entries_per_bank(*, start: date, end: date) -> dict[str, int]:
    """RP-6 report: Scheme S projects entered from ``start`` to ``end`` per pool and bank
    ("<pool id>/<bank id>": count), one GROUP BY."""
    rows = (
        LoanProject.objects.filter(pool__scheme=S, entered_on__range=(start, end))
        .values("pool_id", "bank_id")
        .annotate(n=Count("pk"))
        .order_by("pool_id", "bank_id")
    )
    return {f"{row['pool_id']}/{row['bank_id']}": row["n"] for row in rows}


# --- JB-5, riskpool part: the quarterly close (RP-6, RP-16 8b, pool snapshot) ---------------

# RP-16 8b (**Interpretation**): a compensated claim is "in recovery" while its project is in the
# compensation library and no settlement or closure has started: paid, moved to the library
# (step 7), with or without recoveries reported so far.
RECOVERY_STATES = ("in_compensation_library", "recovering")


def _insert_select(model, columns: list[str], queryset) -> int:
    """One ``INSERT INTO <model> (columns) SELECT …`` from ``queryset``, whose ``values()`` are
    the annotations ``v_<column>``: the rows never travel through Python (JB-15)."""
    connection = connections[queryset.db]
    qn = connection.ops.quote_name
    sql, params = queryset.query.sql_with_params()
    names = ", ".join(qn(model._meta.get_field(c).column) for c in columns)
    picked = ", ".join(qn(f"v_{c}") for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {qn(model._meta.db_table)} ({names}) SELECT {picked} FROM ({sql}) AS src", params)
        return cursor.rowcount


def recovery_claims(*, end: date):
    """RP-16 8b: Scheme S claims in recovery at the quarter's end ``end``: paid by then, and now
    in the compensation library or recovering (RECOVERY_STATES)."""
    return Claim.objects.filter(project__pool__scheme=S, state__in=RECOVERY_STATES, paid_on__lte=end)


def quarter_close(*, period: str, start: date, end: date, entries: dict[str, int] | None = None, run=None) -> dict:
    """JB-5, riskpool part, for the closed quarter ``period`` (``start`` … ``end``), replacing the
    quarter's earlier rows (JB-12) in the run's transaction (JB-14):

    - RP-6: per member bank, the loans disbursed in the quarter (whose entry window closed on
      the 15th working day of the next quarter: from then on project_register refuses them) and
      the loans entered during the quarter (``entries``, from ``entries_per_bank``);
    - RP-16 8b: per member bank, its claims in recovery at the quarter's end, the recovery
      reports for money received in the quarter (gross, returns owed), and every claim in
      recovery with neither such a report nor a nil report, stored as MissingRecoveryReport with
      the date a report would have been due (``rules.recovery_report_due``), in one INSERT …
      SELECT. These rows are information for the pool, not obligations: a quarter with no money
      recovered owes no report (第十九条(六)), so they are not on the JB-3 overdue lists;
    - per Scheme S pool: compensation paid and money returned in the quarter and up to its end,
      and the ledger balance at its end (PoolQuarterSnapshot).

    A constant number of queries whatever the number of banks, projects or claims (JB-15)."""
    params = scheme_s_params(end)
    # JB-1: in a year whose holiday notice is not entered yet, both close at the latest date they
    # could turn out to be (a bank is never held to the earlier, provisional one).
    window_closed = rules.entry_deadline(end, calendar=core_calendar, params=params).latest
    report_due = rules.recovery_report_due(end, calendar=core_calendar, params=params).latest
    run_id = run.pk if run is not None else None
    replaced = 0
    for model in (MissingRecoveryReport, QuarterBankReport, PoolQuarterSnapshot):
        replaced += model.objects.filter(period=period, pool__scheme=S).delete()[0]

    # RP-16 8b: the claims in recovery with no report for money received in the quarter.
    reported = RecoveryReport.objects.filter(claim_id=OuterRef("pk"), received_on__range=(start, end))
    # 第十九条(六): a quarter the bank reported nil is not missing either.
    nil = NilRecoveryReport.objects.filter(claim_id=OuterRef("pk"), period=period)
    member = Member.objects.filter(pool_id=OuterRef("project__pool_id"), organisation_id=OuterRef("project__bank_id"))
    missing = (
        recovery_claims(end=end)
        .filter(Exists(member))
        .exclude(Exists(reported))
        .exclude(Exists(nil))
        .annotate(
            v_pool=F("project__pool_id"), v_member=Subquery(member.values("pk")[:1]), v_claim=F("pk"),
            v_period=Value(period, output_field=CharField()), v_due_on=Value(report_due, output_field=DateField()),
            v_job_run=Cast(Value(run_id), output_field=BigIntegerField()),
        )
        .values("v_pool", "v_member", "v_claim", "v_period", "v_due_on", "v_job_run")
        .order_by()
    )
    missing_rows = _insert_select(MissingRecoveryReport, ["pool", "member", "claim", "period", "due_on", "job_run"],
                                  missing)

    # Per member bank: one GROUP BY each.
    window = _by_bank(LoanProject.objects.filter(pool__scheme=S, disbursed_on__range=(start, end)),
                      "pool_id", "bank_id", n=Count("pk"), principal=Sum("principal_yuan", default=ZERO))
    in_recovery = _by_bank(recovery_claims(end=end), "project__pool_id", "project__bank_id", n=Count("pk"))
    reports = _by_bank(
        RecoveryReport.objects.filter(claim__project__pool__scheme=S, received_on__range=(start, end)),
        "claim__project__pool_id", "claim__project__bank_id",
        n=Count("pk"), gross=Sum("gross", default=ZERO), due=Sum("return_amount", default=ZERO),
    )
    missing_by_member = dict(
        MissingRecoveryReport.objects.filter(period=period, pool__scheme=S).values("member_id")
        .annotate(n=Count("pk")).values_list("member_id", "n").order_by()
    )
    entries = entries or {}
    members = list(Member.objects.filter(pool__scheme=S, joined_on__lte=end).order_by("pool_id", "pk"))
    bank_reports = []
    for m in members:
        key = (m.pool_id, m.organisation_id)
        bank_reports.append(QuarterBankReport(
            pool_id=m.pool_id, period=period, member=m,
            window_projects=window.get(key, {}).get("n", 0), window_principal=window.get(key, {}).get("principal", ZERO),
            entered_in_quarter=entries.get(f"{m.pool_id}/{m.organisation_id}", 0),
            recovery_claims=in_recovery.get(key, {}).get("n", 0),
            reports_received=reports.get(key, {}).get("n", 0), recoveries_gross=reports.get(key, {}).get("gross", ZERO),
            returns_due=reports.get(key, {}).get("due", ZERO), reports_missing=missing_by_member.get(m.pk, 0),
            job_run=run,
        ))
    QuarterBankReport.objects.bulk_create(bank_reports, batch_size=CHUNK)

    # Per pool: the ledger up to the quarter's end (RP-1: the balance is the sum of the entries).
    in_quarter = Q(booked_on__gte=start)
    payout, returns = Q(kind=LedgerEntry.Kind.PAYOUT), Q(kind__in=RETURN_KINDS)
    money = {
        row["pool_id"]: row
        for row in LedgerEntry.objects.filter(pool__scheme=S, booked_on__lte=end).values("pool_id").annotate(
            paid=Sum("amount", filter=payout & in_quarter, default=ZERO),
            returned=Sum("amount", filter=returns & in_quarter, default=ZERO),
            paid_total=Sum("amount", filter=payout, default=ZERO),
            returned_total=Sum("amount", filter=returns, default=ZERO),
            balance=Sum("amount", default=ZERO),
        ).order_by()
    }
    snapshots = []
    for pool_id in Pool.objects.filter(scheme=S).order_by("pk").values_list("pk", flat=True):
        row = money.get(pool_id, {})
        snapshots.append(PoolQuarterSnapshot(
            pool_id=pool_id, period=period, paid=-row.get("paid", ZERO), returned=row.get("returned", ZERO),
            paid_total=-row.get("paid_total", ZERO), returned_total=row.get("returned_total", ZERO),
            balance=row.get("balance", ZERO), entry_window_closed_on=window_closed, job_run=run,
        ))
    PoolQuarterSnapshot.objects.bulk_create(snapshots, batch_size=CHUNK)
    return {"quarter_bank_reports": len(bank_reports), "recovery_reports_missing": missing_rows,
            "pool_snapshots": len(snapshots), "replaced_quarter_rows": replaced}
