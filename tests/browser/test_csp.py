"""Content-Security-Policy in the browser (issue 10 point 8): the scripts moved out of the
templates still work under script-src 'self' / style-src 'self', and the page fixture really
catches a violation (so every browser test proves its pages break nothing)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.models import JobRun
from tests.browser.conftest import CHROMIUM_ARGS, VIEWPORT, _is_csp_violation
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_csp_violations_are_reported_to_the_page_fixture(browser):
    """An inline script and a style attribute under the policy both reach the console listener."""
    assert CHROMIUM_ARGS  # the same browser the other tests use
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    seen = []
    page.on("console", lambda message: seen.append(message.text) if _is_csp_violation(message) else None)
    page.route("http://csp.invalid/", lambda route: route.fulfill(
        status=200, content_type="text/html",
        headers={"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'"},
        body='<!DOCTYPE html><p style="color:red">x</p><script>document.title = "ran"</script>',
    ))
    page.goto("http://csp.invalid/")
    page.wait_for_timeout(200)  # console events arrive asynchronously after the load
    assert page.title() != "ran"
    context.close()
    assert any("inline script" in text for text in seen), seen
    assert any("inline style" in text for text in seen), seen


def test_csp_moved_scripts_work_language_switch_jobs_progress_and_api_docs(live_server, page, login, live_worker):
    admin = UserFactory(roles=["authority_admin"])
    # A run whose worker is alive (it holds the run's lock, JB-14); otherwise it shows as failed.
    run = live_worker(JobRun.objects.create(job="JB-5", period="2024Q4", trigger=JobRun.Trigger.BEAT,
                                            state=JobRun.State.RUNNING, progress_done=1, progress_total=10))
    login(admin)

    # The language switch submits on change (static/js/app.js, no inline onchange).
    page.goto(f"{live_server.url}/jobs/")
    assert page.get_attribute("html", "lang") == "zh-hans"
    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    assert page.get_attribute("html", "lang") == "en"

    # The Jobs page polls and moves the bar (static/js/jobs-progress.js).
    page.goto(f"{live_server.url}/jobs/")
    bar = page.locator(f'tr[data-run="{run.pk}"] progress')
    assert bar.get_attribute("value") == "10"
    JobRun.objects.filter(pk=run.pk).update(state=JobRun.State.SUCCEEDED, progress_done=10)
    # (expect, not wait_for_function: that evaluates a string, which the policy refuses as eval)
    expect(bar).to_have_attribute("value", "100")
    expect(page.locator(f'tr[data-run="{run.pk}"] [data-field="done"]')).to_have_text("10 / 10")

    # Swagger UI from this site's static files, its set-up script from a URL.
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector("#swagger-ui .information-container")
    assert "/api/guarantees/" in page.inner_text("#swagger-ui")
