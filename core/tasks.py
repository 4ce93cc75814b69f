"""Celery tasks of the job framework: thin wrappers around core.jobs (JB-14, JB-16)."""
from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from core.errors import RuleViolation
from core.jobs import job_run, job_tick

MAX_RETRIES = 3
RETRY_COUNTDOWN = 60  # seconds, doubled on each retry


@shared_task(bind=True, max_retries=MAX_RETRIES)
def run_job_task(self, job_id: str, period: str, trigger: str, user_id: int | None = None) -> int | None:
    """JB-14: run one job for one period, retried a bounded number of times on failure.

    A RuleViolation (another run holds the key, a bad period, a missing rule set) is recorded
    by job_run and not retried: trying again would give the same answer.
    """
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        run = job_run(
            job_id=job_id, period=period, trigger=trigger, user=user, attempt=self.request.retries + 1
        )
    except RuleViolation:
        return None
    except Exception as exc:
        raise self.retry(exc=exc, countdown=RETRY_COUNTDOWN * 2**self.request.retries) from exc
    return run.pk


@shared_task
def tick(job_id: str) -> int | None:
    """The beat's entry for every job (core.jobs.beat_schedule); queues it on its day."""
    run = job_tick(job_id=job_id)
    return run.pk if run else None


@shared_task
def run_simulation_task(simulation_id: int) -> int:
    """Issue 15: replay one draft (core.simulation.simulation_run)."""
    from core.simulation import simulation_run

    return simulation_run(simulation_id=simulation_id).pk


@shared_task(acks_late=True)
def import_run_task(run_id: int) -> str:
    """Issue 12: enter a stored bulk upload (core.bulk_import); its state is the result."""
    from core.bulk_import import import_run_execute

    return import_run_execute(run_id).state
