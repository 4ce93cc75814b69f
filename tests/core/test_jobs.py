"""The job framework (JB-12 … JB-16) and the JB-5 guarantees snapshot."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date, timedelta
from decimal import Decimal as D
from io import StringIO

import pytest
from celery.exceptions import Retry
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

import guarantees.jobs
from core import jobs
from core.errors import Conflict, RuleViolation
from core.jobs import JobSpec, NthWorkingDay, beat_schedule, job_enqueue, job_run, job_tick
from core.models import AuditEvent, JobRun, Organisation
from core.periods import previous_quarter
from core.tasks import run_job_task, tick
from guarantees.models import FirmIndicatorSnapshot
from tests.audit_text import english
from tests.factories import GuaranteeFactory, OrganisationFactory, UserFactory

COMMAND = JobRun.Trigger.COMMAND


@pytest.fixture(autouse=True)
def _english():
    """Messages are checked in their English source form, whatever translations exist."""
    with translation.override("en"):
        yield


def _firms_with_a_guarantee(n, amount="1000000.00"):
    return [GuaranteeFactory(start=date(2024, 11, 1), amount=D(amount)).firm for _ in range(n)]


def _register(monkeypatch, func, job_id="JB-T"):
    """A throw-away job for the framework tests, on quarterly periods like JB-5."""
    jobs.all_jobs()  # discover the real ones first, so the registry is complete
    spec = JobSpec(id=job_id, name="test job", schedule=NthWorkingDay(16, hour=2), period_for=previous_quarter, run=func)
    monkeypatch.setitem(jobs._REGISTRY, job_id, spec)
    return spec


# --- periods and the schedule -------------------------------------------------------------


@pytest.mark.parametrize(
    "period, bounds",
    [
        ("2025Q1", ("quarter", date(2025, 1, 1), date(2025, 3, 31))),
        ("2024Q4", ("quarter", date(2024, 10, 1), date(2024, 12, 31))),
        ("2025H2", ("half", date(2025, 7, 1), date(2025, 12, 31))),
        ("2024", ("year", date(2024, 1, 1), date(2024, 12, 31))),
        ("2024-02-29", ("day", date(2024, 2, 29), date(2024, 2, 29))),
    ],
)
def test_period_bounds(period, bounds):
    assert jobs.period_bounds(period) == bounds


@pytest.mark.parametrize("period", ["2025Q5", "2025Q0", "2025-02-30", "25Q1", "", "2025q1", "2025Q1 "])
def test_bad_periods_are_refused(period):
    with pytest.raises(RuleViolation):
        jobs.period_bounds(period)


def test_jb5_closes_the_previous_quarter():
    assert previous_quarter(date(2025, 4, 23)) == "2025Q1"
    assert previous_quarter(date(2025, 1, 22)) == "2024Q4"


# JB-5's riskpool part (register_part) adds its counts to the run's; nothing to do in these worlds.
def guarantees_part(counts: dict) -> dict:
    """The guarantees part's counts of a JB-5 run (the riskpool and counter-guarantee parts add
    their own, tested in their apps)."""
    return {key: counts[key] for key in ("firms", "snapshots", "replaced")}


def test_jb16_beat_schedule_is_built_from_the_registry():
    schedule = beat_schedule()
    assert set(schedule) == {spec.id for spec in jobs.all_jobs()}
    assert schedule["JB-5"] == {"task": "core.tasks.tick", "schedule": crontab(hour=2, minute=0), "args": ("JB-5",)}
    assert {"core.tasks.tick", "core.tasks.run_job_task"} <= set(run_job_task.app.tasks)


def test_jb5_schedule_in_words():
    assert jobs.get_job("JB-5").schedule_text == "Every quarter, on working day 16, at 02:00"


# --- JB-12 idempotent ---------------------------------------------------------------------


@pytest.mark.django_db
def test_jb12_same_period_twice_reuses_the_run_and_replaces_the_snapshots():
    firms = _firms_with_a_guarantee(3)
    first = job_run(job_id="JB-5", period="2024Q4", trigger=COMMAND)
    first_ids = set(FirmIndicatorSnapshot.objects.values_list("pk", flat=True))
    GuaranteeFactory(agreement__firm=firms[0], start=date(2024, 12, 1), amount=D("500000.00"))

    second = job_run(job_id="JB-5", period="2024Q4", trigger=COMMAND)

    assert second.pk == first.pk and JobRun.objects.filter(job="JB-5", period="2024Q4").count() == 1
    snapshots = FirmIndicatorSnapshot.objects.filter(period="2024Q4")
    assert snapshots.count() == 3 and not first_ids & set(snapshots.values_list("pk", flat=True))
    assert snapshots.get(firm=firms[0]).written_amount == D("1500000.00")
    assert guarantees_part(second.counts) == {"firms": 3, "snapshots": 3, "replaced": 3}


@pytest.mark.django_db
def test_jb12_a_running_key_is_refused(live_worker):
    live_worker(JobRun.objects.create(job="JB-5", period="2024Q4", trigger=COMMAND, state=JobRun.State.RUNNING,
                                      started_at=timezone.now() - timedelta(minutes=10)))
    with pytest.raises(Conflict):
        job_run(job_id="JB-5", period="2024Q4", trigger=COMMAND)
    with pytest.raises(Conflict):
        job_enqueue(job_id="JB-5", period="2024Q4", user=None)
    assert not FirmIndicatorSnapshot.objects.exists()


@pytest.mark.django_db
def test_jb12_a_queued_key_is_not_queued_twice(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        job_enqueue(job_id="JB-5", period="2024Q4", user=None)
        with pytest.raises(Conflict):
            job_enqueue(job_id="JB-5", period="2024Q4", user=None)
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_jb14_a_run_left_running_by_a_dead_worker_is_taken_over():
    _firms_with_a_guarantee(1)
    JobRun.objects.create(job="JB-5", period="2024Q4", trigger=COMMAND, state=JobRun.State.RUNNING,
                          started_at=timezone.now() - timedelta(hours=3))
    run = job_run(job_id="JB-5", period="2024Q4", trigger=COMMAND)
    assert run.state == JobRun.State.SUCCEEDED and FirmIndicatorSnapshot.objects.count() == 1


@pytest.mark.django_db
def test_jb12_a_period_of_the_wrong_kind_is_refused():
    with pytest.raises(RuleViolation, match="like"):
        job_run(job_id="JB-5", period="2024", trigger=COMMAND)
    with pytest.raises(RuleViolation):
        job_run(job_id="JB-99", period="2024Q4", trigger=COMMAND)
    assert not JobRun.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_jb12_jb13_concurrent_run_refused_while_progress_is_visible(monkeypatch):
    """A real race on PostgreSQL: the first run holds its transaction open in a thread with its
    own connection; meanwhile its progress is visible, its result is not, and a second run of the
    same key is refused."""
    firm = OrganisationFactory(kind=Organisation.Kind.GUARANTEE_FIRM)
    started, release = threading.Event(), threading.Event()

    def slow(run, period, progress):
        FirmIndicatorSnapshot.objects.create(
            firm=firm, period=period, as_of=date(2024, 12, 31), balance=0, written_amount=0,
            compensation_paid=0, released_amount=0, job_run=run,
        )
        progress(1, 2)
        started.set()
        assert release.wait(20)
        return {"rows": 1}

    _register(monkeypatch, slow)
    outcome = {}

    def worker():
        try:
            outcome["run"] = job_run(job_id="JB-T", period="2024Q4", trigger=COMMAND)
        except Exception as exc:  # pragma: no cover - reported below
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert started.wait(20)
        row = JobRun.objects.get(job="JB-T", period="2024Q4")
        assert (row.state, row.progress_done, row.progress_total) == (JobRun.State.RUNNING, 1, 2)
        assert not FirmIndicatorSnapshot.objects.exists()  # JB-14: not before the commit
        with pytest.raises(Conflict):
            job_run(job_id="JB-T", period="2024Q4", trigger=COMMAND)
    finally:
        release.set()
        thread.join(20)
    assert "error" not in outcome
    assert outcome["run"].state == JobRun.State.SUCCEEDED and outcome["run"].counts == {"rows": 1}
    assert FirmIndicatorSnapshot.objects.count() == 1 and JobRun.objects.count() == 1


# --- JB-13 visible ------------------------------------------------------------------------


@pytest.mark.django_db
def test_jb13_the_run_records_who_when_counts_and_progress():
    _firms_with_a_guarantee(2)
    admin = UserFactory(organisation__kind=Organisation.Kind.AUTHORITY, roles=["authority_admin"])
    run = job_run(job_id="JB-5", period="2024Q4", trigger=JobRun.Trigger.PAGE, user=admin)

    assert run.state == JobRun.State.SUCCEEDED
    assert (run.trigger, run.started_by) == (JobRun.Trigger.PAGE, admin)
    assert run.started_at <= run.finished_at
    assert guarantees_part(run.counts) == {"firms": 2, "snapshots": 2, "replaced": 0}
    assert (run.progress_done, run.progress_total, run.attempts, run.error) == (2, 2, 1, "")
    events = AuditEvent.objects.filter(object_type="core.jobrun", object_id=str(run.pk), action="run")
    assert sorted(map(english, events.values_list("summary", flat=True))) == ["JB-5 2024Q4 started", "JB-5 2024Q4 succeeded"]
    assert set(events.values_list("actor", flat=True)) == {admin.pk}


@pytest.mark.django_db
def test_jb5_snapshot_values_and_rule_set_of_the_quarter():
    firm = _firms_with_a_guarantee(1)[0]
    job_run(job_id="JB-5", period="2024Q4", trigger=COMMAND)
    snapshot = FirmIndicatorSnapshot.objects.get(firm=firm, period="2024Q4")
    assert (snapshot.as_of, snapshot.balance, snapshot.written_amount) == (
        date(2024, 12, 31), D("1000000.00"), D("1000000.00"))
    assert (snapshot.avg_fee_rate, snapshot.support_share, snapshot.compensation_rate) == (
        D("0.008000"), D("1.000000"), None)
    assert snapshot.job_run.period == "2024Q4"


# --- JB-14 failure ------------------------------------------------------------------------


@pytest.mark.django_db
def test_jb14_failure_midway_is_recorded_and_leaves_the_previous_snapshot(monkeypatch):
    _firms_with_a_guarantee(5)
    job_run(job_id="JB-5", period="2024Q4", trigger=COMMAND)
    before = set(FirmIndicatorSnapshot.objects.values_list("pk", "firm_id", "written_amount"))

    real, calls = guarantees.jobs.firm_indicator_rows, []

    def second_chunk_fails(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(guarantees.jobs, "CHUNK", 2)
    monkeypatch.setattr(guarantees.jobs, "firm_indicator_rows", second_chunk_fails)
    with pytest.raises(RuntimeError):
        job_run(job_id="JB-5", period="2024Q4", trigger=COMMAND)

    run = JobRun.objects.get(job="JB-5", period="2024Q4")
    assert run.state == JobRun.State.FAILED and run.error == "RuntimeError: database went away"
    assert run.finished_at is not None and run.counts == {}
    assert set(FirmIndicatorSnapshot.objects.values_list("pk", "firm_id", "written_amount")) == before
    assert [english(s) for s in AuditEvent.objects.filter(object_type="core.jobrun").values_list("summary", flat=True)
            ].count("JB-5 2024Q4 failed") == 1


@pytest.mark.django_db
def test_jb14_the_task_retries_a_bounded_number_of_times(monkeypatch):
    """Each try is applied as the worker would on the n-th retry (eager Celery raises Retry
    instead of sleeping): three retries with a growing countdown, then the error itself."""
    calls = []

    def broken(run, period, progress):
        calls.append(run.attempts)
        raise RuntimeError("still broken")

    _register(monkeypatch, broken)
    for retries in range(3):
        with pytest.raises(Retry) as retry:
            run_job_task.apply(args=("JB-T", "2024Q4", COMMAND), retries=retries)
        assert retry.value.when == 60 * 2**retries
    with pytest.raises(RuntimeError):
        run_job_task.apply(args=("JB-T", "2024Q4", COMMAND), retries=3)
    assert calls == [1, 2, 3, 4]
    run = JobRun.objects.get(job="JB-T")
    assert (run.state, run.attempts, run.error) == (JobRun.State.FAILED, 4, "RuntimeError: still broken")


@pytest.mark.django_db
def test_jb14_a_rule_violation_is_recorded_and_not_retried(monkeypatch):
    calls = []

    def no_rule_set(run, period, progress):
        calls.append(1)
        raise RuleViolation("RULESET", "No guarantees rule set is in force on 2024-12-31.")

    _register(monkeypatch, no_rule_set)
    assert run_job_task.delay("JB-T", "2024Q4", COMMAND).get() is None
    run = JobRun.objects.get(job="JB-T")
    assert calls == [1] and run.state == JobRun.State.FAILED and "No guarantees rule set" in run.error


# --- the beat tick ------------------------------------------------------------------------


@pytest.mark.django_db
def test_jb5_tick_does_nothing_on_another_day():
    assert job_tick(job_id="JB-5", today=date(2025, 4, 22)) is None  # the 15th working day of 2025Q2
    assert job_tick(job_id="JB-5", today=date(2025, 4, 24)) is None
    assert not JobRun.objects.exists()


@pytest.mark.django_db
def test_jb5_tick_runs_on_the_16th_working_day(django_capture_on_commit_callbacks):
    _firms_with_a_guarantee(1)
    # 2025Q2: 4-4 is the Qingming holiday, so the 16th working day is 4-23.
    with django_capture_on_commit_callbacks(execute=True):
        queued = job_tick(job_id="JB-5", today=date(2025, 4, 23))
    assert queued.period == "2025Q1"
    run = JobRun.objects.get(pk=queued.pk)
    assert (run.state, run.trigger) == (JobRun.State.SUCCEEDED, JobRun.Trigger.BEAT)
    assert FirmIndicatorSnapshot.objects.filter(period="2025Q1").count() == 1


@pytest.mark.django_db
def test_jb5_tick_task_uses_todays_date(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: date(2025, 4, 22))
    assert tick.delay("JB-5").get() is None
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: date(2025, 4, 23))
    with django_capture_on_commit_callbacks(execute=True):
        run_id = tick.delay("JB-5").get()
    assert JobRun.objects.get(pk=run_id).state == JobRun.State.SUCCEEDED


# --- the management commands --------------------------------------------------------------


@pytest.mark.django_db
def test_run_job_command_prints_the_counts():
    _firms_with_a_guarantee(2)
    out = StringIO()
    call_command("run_job", "JB-5", "--period", "2024Q4", stdout=out)
    printed = out.getvalue()
    assert "JB-5 2024Q4 succeeded" in printed and "firms=2" in printed and "snapshots=2" in printed
    assert JobRun.objects.get().trigger == COMMAND


@pytest.mark.django_db
def test_run_job_command_defaults_to_the_period_of_today():
    call_command("run_job", "JB-5", stdout=StringIO())
    assert JobRun.objects.get().period == previous_quarter(timezone.localdate())


@pytest.mark.django_db
def test_run_job_command_fails_with_an_error(monkeypatch):
    with pytest.raises(CommandError, match="like"):
        call_command("run_job", "JB-5", "--period", "2024-01-01", stdout=StringIO())

    def broken(run, period, progress):
        raise RuntimeError("boom")

    _register(monkeypatch, broken)
    with pytest.raises(CommandError, match="failed: RuntimeError: boom"):
        call_command("run_job", "JB-T", "--period", "2024Q4", stdout=StringIO())


def test_run_job_command_exit_code_is_not_zero_on_failure():
    result = subprocess.run(
        [sys.executable, "manage.py", "run_job", "JB-5", "--period", "2024Q9"],
        cwd=settings.BASE_DIR, capture_output=True, text=True, check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )
    assert result.returncode != 0 and "2024Q9" in result.stderr


@pytest.mark.django_db
def test_list_jobs_command():
    out = StringIO()
    call_command("list_jobs", stdout=out)
    assert "JB-5\tQuarterly close and indicator snapshot" in out.getvalue()


# --- JB-14 a dead worker ------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_jb14_a_run_whose_worker_died_is_taken_over_at_once():
    _firms_with_a_guarantee(1)
    lost = JobRun.objects.create(job="JB-5", period="2024Q4", trigger=COMMAND, state=JobRun.State.RUNNING,
                                 started_at=timezone.now() - timedelta(minutes=1), progress_done=3, progress_total=3)
    assert jobs.lost_run_ids([lost]) == {lost.pk}
    run = job_run(job_id="JB-5", period="2024Q4", trigger=COMMAND)
    assert run.pk == lost.pk and run.state == JobRun.State.SUCCEEDED and FirmIndicatorSnapshot.objects.count() == 1
    event, = [e for e in AuditEvent.objects.filter(object_type="core.jobrun")
              if english(e.summary) == "JB-5 2024Q4 lost: its worker stopped; taken over"]
    assert (event.before["state"], event.before["progress_done"]) == ("running", 3)


@pytest.mark.postgres
@pytest.mark.django_db
def test_jb14_a_run_whose_worker_died_can_be_queued_at_once(django_capture_on_commit_callbacks):
    JobRun.objects.create(job="JB-5", period="2024Q4", trigger=COMMAND, state=JobRun.State.RUNNING,
                          started_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks() as callbacks:
        run = job_enqueue(job_id="JB-5", period="2024Q4", user=None)
    assert run.state == JobRun.State.QUEUED and len(callbacks) == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_jb14_a_live_worker_is_not_taken_over_however_long_it_runs(live_worker):
    run = live_worker(JobRun.objects.create(job="JB-5", period="2024Q4", trigger=COMMAND, state=JobRun.State.RUNNING,
                                            started_at=timezone.now() - timedelta(hours=30)))
    assert jobs.lost_run_ids([run]) == set()
    with pytest.raises(Conflict, match="already running"):
        job_run(job_id="JB-5", period="2024Q4", trigger=COMMAND)
    with pytest.raises(Conflict):
        job_enqueue(job_id="JB-5", period="2024Q4", user=None)
    assert JobRun.objects.get(pk=run.pk).state == JobRun.State.RUNNING


@pytest.mark.postgres
@pytest.mark.django_db
def test_jb14_list_jobs_shows_a_lost_run_as_failed():
    JobRun.objects.create(job="JB-5", period="2024Q4", trigger=COMMAND, state=JobRun.State.RUNNING,
                          started_at=timezone.now(), queued_at=timezone.now())
    out = StringIO()
    call_command("list_jobs", stdout=out)
    text = out.getvalue()
    assert "last: 2024Q4 failed" in text and "The worker running this stopped" in text


STUCK_WORKER = """
import time
import django
django.setup()
from core import jobs
from core.jobs import JobSpec, NthWorkingDay, job_run
from core.periods import previous_quarter

def stuck(run, period, progress):
    progress(3, 3)
    print("ready", flush=True)
    time.sleep(600)  # until killed

jobs.all_jobs()
jobs._REGISTRY["JB-T"] = JobSpec(id="JB-T", name="stuck", schedule=NthWorkingDay(16, hour=2),
                                 period_for=previous_quarter, run=stuck)
job_run(job_id="JB-T", period="2024Q4", trigger="command")
"""


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait_until_the_lock_is_free(run_id: int) -> None:
    """PostgreSQL ends a killed client's session a moment after the kill; block (not poll) until
    the run's lock is released, on a connection of our own."""
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SET LOCAL lock_timeout = '30s'")
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", jobs._lock_key(run_id))
            cursor.execute("ROLLBACK")
    finally:
        other.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_jb14_a_killed_worker_process_does_not_block_its_period(monkeypatch, client):
    """A real worker process is killed (SIGKILL) halfway through a run that reported 3 of 3 done:
    the run shows as failed with the reason, and runs again at once."""
    worker = subprocess.Popen(
        [sys.executable, "-c", STUCK_WORKER], cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _database_url()},
    )
    try:
        line = worker.stdout.readline()
        assert line.strip() == "ready", worker.stderr.read() if not line else line
        run = JobRun.objects.get(job="JB-T", period="2024Q4")
        assert (run.state, run.progress_done, run.progress_total) == (JobRun.State.RUNNING, 3, 3)
        assert jobs.lost_run_ids([run]) == set()  # alive: its lock is held
        worker.kill()
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        worker.stdout.close()
        worker.stderr.close()
    _wait_until_the_lock_is_free(run.pk)

    run.refresh_from_db()
    assert run.state == JobRun.State.RUNNING  # the dead worker recorded nothing more
    assert jobs.lost_run_ids([run]) == {run.pk}
    admin = UserFactory(organisation__kind=Organisation.Kind.AUTHORITY, roles=["authority_admin"])
    client.force_login(admin)
    shown = {r["id"]: r for r in client.get(reverse("jobs:progress"), {"ids": str(run.pk)}).json()["runs"]}[run.pk]
    assert (shown["state"], shown["worker_lost"]) == ("failed", True)

    _register(monkeypatch, lambda run, period, progress: {"rows": 1})
    again = job_run(job_id="JB-T", period="2024Q4", trigger=COMMAND)
    assert again.pk == run.pk and again.state == JobRun.State.SUCCEEDED and again.counts == {"rows": 1}
