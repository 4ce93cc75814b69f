"""The authority's job page (JB-13): list, run for a period, live progress; admins only."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import JobRun, Organisation
from guarantees.models import FirmIndicatorSnapshot
from tests.factories import GuaranteeFactory, UserFactory, firm_user

pytestmark = pytest.mark.django_db

BACKEND = "core.auth.ActiveAccountBackend"


@pytest.fixture
def admin_client(client):
    admin = UserFactory(organisation__kind=Organisation.Kind.AUTHORITY, roles=["authority_admin"])
    client.force_login(admin, backend=BACKEND)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.user = admin
    return client


@pytest.fixture
def firm_client(client):
    client.force_login(firm_user(), backend=BACKEND)
    return client


def test_jb13_admin_sees_every_job_with_its_schedule_and_runs(admin_client):
    JobRun.objects.create(job="JB-5", period="2024Q3", trigger=JobRun.Trigger.BEAT, state=JobRun.State.FAILED,
                          error="RuntimeError: disk full", counts={"firms": 7})
    response = admin_client.get(reverse("jobs:list"))
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("JB-5", "Quarterly close and indicator snapshot", "Every quarter, on working day 16",
                 "2024Q3", "RuntimeError: disk full", "Guarantee firms: 7", reverse("jobs:progress")):
        assert text in page


def test_jb13_admin_runs_jb5_for_2024q4(admin_client, django_capture_on_commit_callbacks):
    firm = GuaranteeFactory(start=date(2024, 11, 1)).firm
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("jobs:list"), {"job": "JB-5", "period": "2024Q4"})
    assert response.status_code == 302 and response.url == reverse("jobs:list")
    run = JobRun.objects.get(job="JB-5", period="2024Q4")
    assert (run.state, run.trigger, run.started_by) == (JobRun.State.SUCCEEDED, JobRun.Trigger.PAGE, admin_client.user)
    assert FirmIndicatorSnapshot.objects.filter(firm=firm, period="2024Q4").exists()
    assert "JB-5 for 2024Q4 is queued." in admin_client.get(reverse("jobs:list")).content.decode()


@pytest.mark.parametrize("period, message", [("2024Q5", "is not a period"), ("2024", "runs for a period like")])
def test_an_invalid_period_shows_an_error(admin_client, period, message):
    response = admin_client.post(reverse("jobs:list"), {"job": "JB-5", "period": period})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not JobRun.objects.exists()


def test_jb12_a_clash_shows_a_clear_message(admin_client, live_worker):
    live_worker(JobRun.objects.create(job="JB-5", period="2024Q4", trigger=JobRun.Trigger.BEAT,
                                      state=JobRun.State.RUNNING, started_at=timezone.now()))
    response = admin_client.post(reverse("jobs:list"), {"job": "JB-5", "period": "2024Q4"})
    assert response.status_code == 409
    assert "JB-5 for 2024Q4 is already queued or running" in response.content.decode()


def test_jb13_progress_endpoint_lists_active_runs_and_the_ones_asked_for(admin_client, live_worker):
    running = live_worker(JobRun.objects.create(job="JB-5", period="2024Q4", trigger=JobRun.Trigger.BEAT,
                                                state=JobRun.State.RUNNING, started_at=timezone.now(),
                                                progress_done=3, progress_total=10))
    done = JobRun.objects.create(job="JB-5", period="2024Q3", trigger=JobRun.Trigger.BEAT,
                                 state=JobRun.State.SUCCEEDED, finished_at=timezone.now(), counts={"firms": 2})
    JobRun.objects.create(job="JB-5", period="2024Q2", trigger=JobRun.Trigger.BEAT, state=JobRun.State.SUCCEEDED)

    response = admin_client.get(reverse("jobs:progress"), {"ids": f"{done.pk},x"})
    assert response.status_code == 200
    runs = {run["id"]: run for run in response.json()["runs"]}
    assert set(runs) == {running.pk, done.pk}
    assert (runs[running.pk]["state"], runs[running.pk]["done"], runs[running.pk]["total"],
            runs[running.pk]["percent"]) == ("running", 3, 10, 30)
    assert runs[done.pk]["counts"] == {"firms": 2} and runs[done.pk]["finished"]


@pytest.mark.parametrize("method, name", [("get", "jobs:list"), ("post", "jobs:list"), ("get", "jobs:progress")])
def test_a_firm_operator_is_refused(firm_client, method, name):
    response = getattr(firm_client, method)(reverse(name), {"job": "JB-5", "period": "2024Q4"})
    assert response.status_code == 403
    assert not JobRun.objects.exists()


def test_an_authority_user_without_the_admin_role_is_refused(client):
    client.force_login(UserFactory(organisation__kind=Organisation.Kind.AUTHORITY, roles=["authority_reviewer"]),
                       backend=BACKEND)
    assert client.get(reverse("jobs:list")).status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("jobs:list"))
    assert response.status_code == 302 and reverse("login") in response.url


def _row(page: str, run: JobRun) -> str:
    row = page[page.index(f'data-run="{run.pk}"'):]
    return row[:row.index("</tr>")]


@pytest.mark.postgres
def test_jb14_a_run_whose_worker_died_shows_as_failed_with_the_reason_and_runs_again_at_once(admin_client):
    lost = JobRun.objects.create(job="JB-5", period="2024Q4", trigger=JobRun.Trigger.BEAT, state=JobRun.State.RUNNING,
                                 started_at=timezone.now() - timedelta(minutes=1), progress_done=3, progress_total=3)
    row = _row(admin_client.get(reverse("jobs:list")).content.decode(), lost)
    assert "badge-bad" in row and ">Failed<" in row and "The worker running this stopped" in row
    assert "badge-warn" not in row and "data-active" not in row  # not "running", and not polled as such
    runs = admin_client.get(reverse("jobs:progress"), {"ids": str(lost.pk)}).json()["runs"]
    assert [(r["id"], r["state"], r["worker_lost"]) for r in runs] == [(lost.pk, "failed", True)]
    # Not two hours later: now.
    response = admin_client.post(reverse("jobs:list"), {"job": "JB-5", "period": "2024Q4"})
    assert response.status_code == 302
    assert JobRun.objects.get(pk=lost.pk).state == JobRun.State.QUEUED


def test_jb14_a_run_with_a_live_worker_shows_as_running(admin_client, live_worker):
    running = live_worker(JobRun.objects.create(job="JB-5", period="2024Q4", trigger=JobRun.Trigger.BEAT,
                                                state=JobRun.State.RUNNING, started_at=timezone.now(),
                                                progress_done=1, progress_total=3))
    row = _row(admin_client.get(reverse("jobs:list")).content.decode(), running)
    assert "badge-warn" in row and "data-active" in row and "stopped" not in row
    runs = admin_client.get(reverse("jobs:progress")).json()["runs"]
    assert [(r["state"], r["worker_lost"]) for r in runs] == [("running", False)]
