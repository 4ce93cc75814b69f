"""The batch-job framework (JB-12 … JB-16): a registry of jobs, the beat schedule built from it,
and the one service that runs a job for a period.

The Celery task (core.tasks), the ``run_job`` management command and the authority's job page
all call ``job_run`` / ``job_enqueue``, so there is a single code path (calendar-and-jobs.md).

An app registers its jobs in its own ``jobs`` module, found the way the admin finds ``admin``
modules::

    @register(JobSpec(id="JB-5", name=_("…"), schedule=NthWorkingDay(16, hour=2),
                      period_for=previous_quarter))
    def snapshot_quarter(run, period, progress) -> dict: ...
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial

from celery.schedules import crontab
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules, import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import i18n_text
from core.audit import audit
from core.errors import Conflict, RuleViolation
from core.models import AuditEvent, JobRun
from core.periods import period_bounds

logger = logging.getLogger(__name__)

# JB-14: on PostgreSQL the worker running a job holds an advisory lock on its run (``_RunLock``),
# so a dead worker is known at once. On SQLite (the quick start: one process, no such locks) a
# run still "running" this long after it started is taken to belong to a dead worker instead.
STALE_AFTER = timedelta(hours=2)
# The first key of the two-key advisory locks of job runs ("JB"); the second is the run's id.
LOCK_NAMESPACE = 0x4A42
LOST_MESSAGE = gettext_lazy(
    "The worker running this stopped (killed, or its database connection was lost) before it finished; "
    "nothing of this run was kept. It can be run again at once."
)

State = JobRun.State
FREE_STATES = (State.SUCCEEDED, State.FAILED)


# --- schedules and the registry -----------------------------------------------------------


@dataclass(frozen=True)
class NthWorkingDay:
    """Working day ``n`` of every quarter (JB-1 calendar), at ``hour:minute`` Asia/Shanghai.

    Holidays move the day, so no crontab can say it: beat ticks daily at that time, and the
    tick asks ``is_due(today)`` and does nothing on the other days.
    """

    n: int
    hour: int
    minute: int = 0

    def crontab(self) -> crontab:
        return crontab(hour=self.hour, minute=self.minute)

    def is_due(self, day: date) -> bool:
        from core.calendar import nth_working_day_of_quarter

        return day == nth_working_day_of_quarter(day.year, (day.month - 1) // 3 + 1, self.n)

    def __str__(self) -> str:
        return _("Every quarter, on working day %(n)d, at %(time)s") % {
            "n": self.n,
            "time": f"{self.hour:02d}:{self.minute:02d}",
        }


@dataclass(frozen=True)
class NthWorkingDayOfHalf(NthWorkingDay):
    """Working day ``n`` of every half-year (of January and July), at ``hour:minute`` Asia/Shanghai;
    ticks daily like NthWorkingDay."""

    def is_due(self, day: date) -> bool:
        from core.calendar import nth_working_day_of_month

        return day.month in (1, 7) and day == nth_working_day_of_month(day.year, day.month, self.n)

    def __str__(self) -> str:
        return _("Every half-year, on working day %(n)d of January and July, at %(time)s") % {
            "n": self.n,
            "time": f"{self.hour:02d}:{self.minute:02d}",
        }


@dataclass(frozen=True)
class JobSpec:
    """One batch job. ``run(run: JobRun, period: str, progress) -> dict`` (or its dotted path)
    writes the period's results, replacing its own earlier ones (JB-12); ``progress(done,
    total)`` reports how far it is. ``when`` describes a plain crontab schedule in words.

    Other apps may add parts to the same job (``register_part``): ``func`` runs ``run`` and then
    every part, in registration order, in the one transaction of the run, and merges their counts
    into the run's one JobRun."""

    id: str
    name: str
    schedule: crontab | NthWorkingDay  # NthWorkingDayOfHalf is an NthWorkingDay
    period_for: Callable[[date], str]
    run: Callable[..., dict] | str | None = None
    when: str = ""

    @property
    def func(self) -> Callable[..., dict]:
        main = import_string(self.run) if isinstance(self.run, str) else self.run
        parts = _PARTS.get(self.id)
        if not parts:
            return main

        def run_all(run, period, progress) -> dict:
            counts = dict(main(run, period, progress) or {}) if main is not None else {}
            for part in parts:
                func = import_string(part) if isinstance(part, str) else part
                counts.update(func(run, period, progress) or {})
            return counts

        return run_all

    @property
    def schedule_text(self) -> str:
        return str(self.when or self.schedule)

    def crontab(self) -> crontab:
        return self.schedule.crontab() if isinstance(self.schedule, NthWorkingDay) else self.schedule

    def is_due(self, day: date) -> bool:
        return self.schedule.is_due(day) if isinstance(self.schedule, NthWorkingDay) else True

    def default_period(self) -> str:
        return self.period_for(timezone.localdate())

    def check_period(self, period: str) -> tuple[date, date]:
        """The period's first and last day; a period of another kind than the job's is refused."""
        kind, start, end = period_bounds(period)
        example = self.default_period()
        if kind != period_bounds(example)[0]:
            raise RuleViolation(
                "JB-12",
                _("%(job)s runs for a period like %(example)s.") % {"job": self.id, "example": example},
                "period",
            )
        return start, end


_REGISTRY: dict[str, JobSpec] = {}
_PARTS: dict[str, list[Callable[..., dict] | str]] = {}
_discovered = False


def register(spec: JobSpec):
    """Register ``spec``; used as a decorator, the decorated function becomes its ``run``."""
    if spec.run is not None:
        _REGISTRY[spec.id] = spec

    def decorator(func):
        _REGISTRY[spec.id] = replace(spec, run=func)
        return func

    return decorator


def register_part(job_id: str, func: Callable[..., dict] | str | None = None):
    """Add another app's part to job ``job_id`` (registered by its owner with ``register``); used
    as a decorator when ``func`` is not given. The part has the signature of a job's ``run`` and
    runs after it, under the same JobRun and transaction; its counts are merged into the run's."""

    def decorator(part):
        parts = _PARTS.setdefault(job_id, [])
        if part not in parts:
            parts.append(part)
        return part

    return decorator(func) if func is not None else decorator


def _discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("jobs")  # imports <app>.jobs of every installed app
        _discovered = True


def all_jobs() -> list[JobSpec]:
    _discover()
    return sorted(_REGISTRY.values(), key=lambda spec: (len(spec.id), spec.id))  # JB-5 before JB-10


def get_job(job_id: str) -> JobSpec:
    _discover()
    try:
        return _REGISTRY[job_id]
    except KeyError:
        raise RuleViolation("JB-12", _("There is no job %(job)s.") % {"job": job_id}, "job") from None


def beat_schedule() -> dict:
    """JB-16: the one schedule, built from the registry (installed by config/celery.py). Every
    entry sends ``core.tasks.tick``, which decides whether the day is due and for which period."""
    return {
        spec.id: {"task": "core.tasks.tick", "schedule": spec.crontab(), "args": (spec.id,)}
        for spec in all_jobs()
    }


# --- running ------------------------------------------------------------------------------


class _Progress:
    """``progress(done, total)`` for one run (JB-13), visible to the polling page while the job's
    own transaction (JB-14) is still open.

    Why a second connection: the job writes its results in one transaction on the default
    connection, and nothing it writes there is visible to others before the commit. So the
    progress UPDATE goes through a separate autocommit connection to the same PostgreSQL
    database and is committed at once. It does not wait on the job's transaction: the job
    never updates its JobRun row while running (its rows only reference it, which takes a
    key-share lock that a non-key UPDATE does not conflict with), and a lock_timeout makes
    sure a mistake there can never hang the run.

    When that is impossible or unsafe, the progress is written on the default connection and
    is simply seen at commit: on SQLite (one writer at a time), and when job_run was called
    inside a caller's transaction (tests, nested use), where the claim UPDATE holds the row
    lock, so a second connection would wait on ourselves.
    """

    def __init__(self, run_id: int):
        self.run_id = run_id
        default = connections[DEFAULT_DB_ALIAS]
        self.own = None
        if default.vendor == "postgresql" and not default.in_atomic_block:
            self.own = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, done: int, total: int) -> None:
        if self.own is None:
            JobRun.objects.filter(pk=self.run_id).update(progress_done=done, progress_total=total)
            return
        table = self.own.ops.quote_name(JobRun._meta.db_table)
        try:
            with self.own.cursor() as cursor:
                cursor.execute("SET lock_timeout = '5s'")  # per session; cheap enough to repeat
                cursor.execute(
                    f"UPDATE {table} SET progress_done = %s, progress_total = %s WHERE id = %s",
                    [done, total, self.run_id],
                )
        except DatabaseError:  # a progress bar is never worth failing the run for
            logger.warning("could not record progress of job run %s", self.run_id, exc_info=True)

    def close(self) -> None:
        if self.own is not None:
            self.own.close()


def _lock_key(run_id: int) -> tuple[int, int]:
    return LOCK_NAMESPACE, run_id % 2**31


def _locks_enforced() -> bool:
    return connections[DEFAULT_DB_ALIAS].vendor == "postgresql"


class _RunLock:
    """The live worker's hold on its run (JB-14): a transaction-level advisory lock taken on a
    connection of its own, in a transaction kept open for as long as the run lasts.

    If the worker dies (killed, machine gone, connection cut), PostgreSQL ends its session and
    the lock goes with it, so whoever looks next sees the run is lost and may run it again at
    once, without waiting for any timeout. A transaction rather than a session lock, so that it
    also holds behind a pooler in transaction mode (the open transaction keeps its server
    connection). A worker that is alive but slow keeps its lock and is never taken over.

    It is taken before the run is marked running and dropped after the run is marked finished,
    so a "running" run whose lock is free has certainly lost its worker.
    """

    def __init__(self):
        self.conn = None

    def acquire(self, run_id: int) -> bool:
        if not _locks_enforced():
            return True
        self.conn = connections.create_connection(DEFAULT_DB_ALIAS)
        with self.conn.cursor() as cursor:
            cursor.execute("BEGIN")
            # A server-wide idle-in-transaction timeout would end the session of a live worker
            # whose job runs long between statements on this connection (it runs none).
            cursor.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", _lock_key(run_id))
            held = cursor.fetchone()[0]
        if not held:
            self.release()
        return held

    def release(self) -> None:
        if self.conn is None:
            return
        try:
            with self.conn.cursor() as cursor:
                cursor.execute("ROLLBACK")
        except DatabaseError:  # the connection is gone, and the lock with it
            pass
        finally:
            self.conn.close()
            self.conn = None


def lost_run_ids(runs) -> set[int]:
    """JB-14: the ids of the ``runs`` marked running whose worker is gone (one query)."""
    running = [run for run in runs if run.state == State.RUNNING]
    if not running:
        return set()
    if not _locks_enforced():
        cutoff = timezone.now() - STALE_AFTER
        return {run.pk for run in running if run.started_at and run.started_at < cutoff}
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid::bigint = %s AND objid::bigint = ANY(%s)",
            [LOCK_NAMESPACE, [_lock_key(run.pk)[1] for run in running]],
        )
        held = {row[0] for row in cursor.fetchall()}
    return {run.pk for run in running if _lock_key(run.pk)[1] not in held}


def show_lost_runs(runs):
    """Show each of ``runs`` whose worker died as what it is: failed, with the reason. Only in
    memory: the row stays "running" until the next run of its key takes it over and records
    that in the audit trail."""
    lost = lost_run_ids(runs)
    for run in runs:
        run.worker_lost = run.pk in lost
        if run.worker_lost:
            run.state = State.FAILED
            run.error = str(LOST_MESSAGE)
    return runs


def _actor(user, trigger: str):
    return user if user is not None else f"system ({trigger})"


def _claim(spec: JobSpec, period: str, trigger: str, user, attempt: int, stale_after: timedelta,
           lock: _RunLock) -> tuple[JobRun, JobRun | None]:
    """JB-12: take the (job, period) row from a non-running state to running with one conditional
    UPDATE; a row count of 0 means another worker has it. JB-14: the run's lock is taken first;
    if a live worker holds it, the key is busy. Holding it, a row still "running" belongs to a
    dead worker and is taken over at once (on SQLite: once it is older than ``stale_after``).
    Returns the claimed run and, when one was taken over, the lost run as it was."""
    now = timezone.now()
    run, _created = JobRun.objects.get_or_create(
        job=spec.id, period=period, defaults={"trigger": trigger, "started_by": user}
    )
    busy = Conflict(
        "JB-12",
        _("%(job)s for %(period)s is already running; wait until it has finished.") % {"job": spec.id, "period": period},
    )
    if not lock.acquire(run.pk):
        raise busy
    if _locks_enforced():
        claimable = Q(state__in=(State.QUEUED, *FREE_STATES)) | Q(state=State.RUNNING)
    else:
        claimable = Q(state__in=(State.QUEUED, *FREE_STATES)) | Q(state=State.RUNNING, started_at__lt=now - stale_after)
    lost = JobRun.objects.filter(pk=run.pk, state=State.RUNNING).first()
    claimed = JobRun.objects.filter(claimable, pk=run.pk).update(
        # queued_at orders the job page; a direct run (command, retry) is asked for now
        queued_at=Case(When(state=State.QUEUED, then=F("queued_at")), default=Value(now)),
        state=State.RUNNING, trigger=trigger, started_by=user, started_at=now, finished_at=None,
        attempts=attempt, progress_done=0, progress_total=0, counts={}, error="",
    )
    if not claimed:
        raise busy
    run.refresh_from_db()
    return run, lost


def _finish(run: JobRun, **fields) -> bool:
    """Record the end, unless the run was taken over meanwhile: ``started_at`` is our claim token."""
    fields["finished_at"] = timezone.now()
    return bool(
        JobRun.objects.filter(pk=run.pk, state=State.RUNNING, started_at=run.started_at).update(**fields)
    )


def job_run(
    *, job_id: str, period: str, trigger: str, user=None, attempt: int = 1, stale_after: timedelta = STALE_AFTER
) -> JobRun:
    """Run ``job_id`` for ``period`` now, and return its finished JobRun.

    JB-12: one row per (job, period), reused by every run; a second run of a running key is
    refused with Conflict. JB-13: state, times, trigger, user, counts, progress and error are
    recorded and the start and end audited. JB-14: the job's results and its "succeeded" are
    committed in one transaction, so a failure or a killed worker leaves the previous results
    untouched; a failure is recorded with its error and re-raised (the Celery task retries).
    The run's lock (``_RunLock``) shows whether its worker lives: a run left "running" by a
    killed worker is taken over at once, and the loss audited.
    ``attempt`` is the task's try number, kept in ``attempts``.
    """
    spec = get_job(job_id)
    spec.check_period(period)
    lock = _RunLock()
    try:
        run, lost = _claim(spec, period, trigger, user, attempt, stale_after, lock)
        actor = _actor(user, trigger)
        if lost is not None:
            audit(actor=actor, action=AuditEvent.Action.RUN, instance=run,
                  before={"state": lost.state, "started_at": lost.started_at, "progress_done": lost.progress_done,
                          "progress_total": lost.progress_total},
                  summary=i18n_text.gettext_lazy("%(job)s %(period)s lost: its worker stopped; taken over")
                  % {"job": spec.id, "period": period})
        audit(actor=actor, action=AuditEvent.Action.RUN, instance=run, summary=i18n_text.gettext_lazy("%(job)s %(period)s started")
                  % {"job": spec.id, "period": period})
        progress = _Progress(run.pk)
        try:
            with transaction.atomic():
                counts = spec.func(run, period, progress) or {}
                if not _finish(run, state=State.SUCCEEDED, counts=counts):
                    raise Conflict("JB-12", _("This run was taken over by another worker; its results are dropped."))
                run.refresh_from_db()
                audit(actor=actor, action=AuditEvent.Action.RUN, instance=run, summary=i18n_text.gettext_lazy("%(job)s %(period)s succeeded")
                  % {"job": spec.id, "period": period})
        except Exception as exc:
            logger.exception("job %s for %s failed", spec.id, period)
            if _finish(run, state=State.FAILED, error=f"{type(exc).__name__}: {exc}"):
                run.refresh_from_db()
                audit(actor=actor, action=AuditEvent.Action.RUN, instance=run, summary=i18n_text.gettext_lazy("%(job)s %(period)s failed")
                  % {"job": spec.id, "period": period})
            raise
        finally:
            progress.close()
    finally:
        lock.release()  # after the end is recorded: a free lock on a "running" run means a dead worker
    return run


def job_enqueue(
    *, job_id: str, period: str, user, trigger: str = JobRun.Trigger.PAGE, stale_after: timedelta = STALE_AFTER
) -> JobRun:
    """Mark (job, period) queued and send the Celery task once this transaction commits.

    Refused with Conflict while the key is queued or running (unless stale, as in job_run), so
    a double click does not queue two runs.
    """
    from core.tasks import run_job_task

    spec = get_job(job_id)
    spec.check_period(period)
    now = timezone.now()
    cutoff = now - stale_after
    with transaction.atomic():
        run, created = JobRun.objects.get_or_create(
            job=spec.id, period=period, defaults={"trigger": trigger, "started_by": user}
        )
        free = Q(state__in=FREE_STATES) | Q(state=State.QUEUED, queued_at__lt=cutoff)
        if not _locks_enforced():
            free |= Q(state=State.RUNNING, started_at__lt=cutoff)
        elif run.pk in lost_run_ids([run]):
            # JB-14: its worker died; the task this queues takes it over (and audits that).
            free |= Q(state=State.RUNNING, started_at=run.started_at)
        if not created and not JobRun.objects.filter(free, pk=run.pk).update(
            state=State.QUEUED, trigger=trigger, started_by=user, queued_at=now, started_at=None,
            finished_at=None, attempts=0, progress_done=0, progress_total=0, counts={}, error="",
        ):
            raise Conflict(
                "JB-12",
                _("%(job)s for %(period)s is already queued or running; wait until it has finished.")
                % {"job": spec.id, "period": period},
            )
        run.refresh_from_db()
        user_id = getattr(user, "pk", None)
        # robust: the row is committed as queued whatever happens here; a broker that cannot be
        # reached (or, with eager Celery in development, a failing job) is logged, not a 500.
        transaction.on_commit(partial(run_job_task.delay, spec.id, period, trigger, user_id), robust=True)
    return run


def job_tick(*, job_id: str, today: date | None = None) -> JobRun | None:
    """The beat's daily call: queue the job for the period it runs for today, if today is its
    day; otherwise (or when that period is already being run) do nothing."""
    spec = get_job(job_id)
    today = today or timezone.localdate()
    if not spec.is_due(today):
        return None
    try:
        return job_enqueue(job_id=spec.id, period=spec.period_for(today), user=None, trigger=JobRun.Trigger.BEAT)
    except Conflict:
        logger.info("job %s for today is already queued or running", spec.id)
        return None
