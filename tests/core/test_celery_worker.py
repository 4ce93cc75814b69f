"""The same job path through a real Celery worker on Redis, not the eager shortcut."""
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery import app
from core.models import JobRun
from core.tasks import run_job_task
from tests.factories import OrganisationFactory


@pytest.fixture
def redis_worker():
    """A worker thread consuming from the test Redis broker, with eager mode switched off."""
    previous = (app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend)
    app.conf.update(task_always_eager=False, broker_url=settings.REDIS_URL, result_backend=settings.REDIS_URL)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.update(task_always_eager=previous[0], broker_url=previous[1], result_backend=previous[2])


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_jb5_runs_through_a_real_worker_on_redis(redis_worker):
    OrganisationFactory()  # a guarantee firm to snapshot
    result = run_job_task.delay("JB-5", "2024Q4", "command")
    run_id = result.get(timeout=60)
    run = JobRun.objects.get(pk=run_id)
    assert (run.job, run.period, run.state) == ("JB-5", "2024Q4", JobRun.State.SUCCEEDED)
    assert run.counts["snapshots"] == 1
