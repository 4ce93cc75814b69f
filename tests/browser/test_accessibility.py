"""Accessibility of the two pages anyone reaches without an account: the login page and the
public notice (公示) with its objection form. axe-core (the copy shipped by the
axe-playwright-python package, so nothing is fetched at run time) runs in Debian's chromium;
a violation of impact "serious" or "critical" fails the test and is printed in full."""
from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe

from core.calendar import shanghai_today
from tests.factories import ClaimFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BLOCKING = {"serious", "critical"}


def blocking_violations(page) -> list[dict]:
    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING]


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:5])
        for v in violations
    )


def test_login_page_has_no_serious_accessibility_violations(live_server, page, screenshot):
    page.goto(f"{live_server.url}/accounts/login/")
    problems = blocking_violations(page)
    screenshot("a11y-login")
    assert not problems, describe(problems)


def test_login_page_with_an_error_has_no_serious_accessibility_violations(live_server, page):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "nobody")
    page.fill("#id_password", "wrong")
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    problems = blocking_violations(page)
    assert not problems, describe(problems)


def test_public_notice_page_has_no_serious_accessibility_violations(live_server, page, screenshot):
    today = shanghai_today()
    ClaimFactory(state="on_notice", notice_start=today - timedelta(days=2), notice_end=today + timedelta(days=7))
    page.goto(f"{live_server.url}/notice/")
    assert page.locator("form").count() >= 1  # the objection form is part of what is checked
    problems = blocking_violations(page)
    screenshot("a11y-notice")
    assert not problems, describe(problems)
