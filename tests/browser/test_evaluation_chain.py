"""The whole evaluation chain in a browser (issue "Done when"): the firm files its materials and
signs the generated scoring form, the county adds its compliance report and forwards, the city
returns it with a reason, the county forwards again, the city adds its spot-check report and
forwards to the province, the province accepts, closes its review and publishes the results
(JB-9 on demand). Each party signs in through the login page as their own user."""
from __future__ import annotations

import pytest

from core.jobs import job_run
from core.models import JobRun
from evaluation import services
from evaluation.models import EvaluationYear, Result, Submission
from tests.evaluation.factories import PDF, TARGETS, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
YEAR = 2024


def submit(page, selector: str) -> None:
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click(selector)


def logout(page) -> None:
    submit(page, "form[action='/accounts/logout/'] button[type=submit]")


def upload(page, kind: str, *, auditor: bool = False) -> None:
    page.set_input_files(f"#upload-form input[name=file_{kind}]",
                         files=[{"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    if auditor:
        page.fill("#upload-form input[name=auditor]", "福建华兴会计师事务所")
        page.check("#upload-form input[name=auditor_clean]")
    submit(page, "#upload-form button[type=submit]")


def open_submission(page, live_server, sub) -> None:
    page.goto(f"{live_server.url}/evaluation/")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click(f"#waiting a[href='/evaluation/submissions/{sub.pk}/']")


def test_evaluation_chain_firm_county_city_province_results(page, live_server, login, screenshot):
    w = build_world(YEAR)
    services.year_setup(user=w.authority, year=YEAR, targets=TARGETS)
    job_run(job_id="JB-8", period=str(YEAR), trigger=JobRun.Trigger.COMMAND)
    sub = Submission.objects.get(year__year=YEAR, firm=w.firm)

    # The firm: computed figures shown, four materials, sign-off, submit.
    login(w.firm_user)
    open_submission(page, live_server, sub)
    assert "3,000,000.00" in page.inner_text("#figures")
    for kind in ("scoring_form", "business_report", "statistics"):
        upload(page, kind)
    upload(page, "audit_report", auditor=True)
    submit(page, "#sign")
    assert page.inner_text("#total") == "100.00"
    screenshot("evaluation-firm-submission", full_page=True)
    submit(page, "#submit")
    logout(page)

    # The county: compliance report, opinion, forward.
    login(w.county_user)
    open_submission(page, live_server, sub)
    upload(page, "compliance_report")
    page.fill("#forward-form textarea[name=opinion]", "经核查，年度经营合规。")
    submit(page, "#forward")
    logout(page)

    # The city returns it to the county with a reason.
    login(w.city_user)
    open_submission(page, live_server, sub)
    page.fill("#return-form textarea[name=reason]", "合规报告缺少盖章页。")
    submit(page, "#return")
    logout(page)

    login(w.county_user)
    open_submission(page, live_server, sub)
    assert "合规报告缺少盖章页" in page.inner_text("#return-reason")
    page.fill("#forward-form textarea[name=opinion]", "已补充盖章页。")
    submit(page, "#forward")
    logout(page)

    # The city: spot-check report and forward to the province.
    login(w.city_user)
    open_submission(page, live_server, sub)
    upload(page, "spot_check")
    page.fill("#forward-form textarea[name=opinion]", "抽查无异常。")
    submit(page, "#forward")
    logout(page)

    # The province accepts, closes its review and publishes.
    login(w.authority)
    page.goto(f"{live_server.url}/evaluation/submissions/{sub.pk}/")
    submit(page, "#forward")
    page.goto(f"{live_server.url}/evaluation/years/{YEAR}/")
    submit(page, "#close-review")
    submit(page, "#publish")
    assert "/results/" in page.url
    assert w.firm.name in page.inner_text("#ranking")
    screenshot("evaluation-results", full_page=True)

    sub.refresh_from_db()
    assert sub.state == "accepted" and sub.county_opinion == "已补充盖章页。"
    assert [h.action for h in sub.history.all()] == ["submit", "forward", "return", "forward", "forward", "accept"]
    assert EvaluationYear.objects.get(year=YEAR).stage == "published"
    assert Result.objects.get(firm=w.firm).rank == 1

    # The firm sees its materials accepted and its result.
    logout(page)
    login(w.firm_user)
    page.goto(f"{live_server.url}/evaluation/submissions/{sub.pk}/")
    current = page.locator(".ev-chain li.ev-current")
    assert current.count() == 1 and current.inner_text() == "已接受"
    assert page.locator("#materials, table").first.is_visible()
    screenshot("evaluation-firm-accepted")
