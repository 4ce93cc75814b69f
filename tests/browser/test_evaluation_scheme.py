"""Issue 13 points 3, 5, 7 and 10 on the province's scoring-scheme editor (EV-2, EV-3): typed
fields with units and no JSON, every problem of a submission shown at once, no blocking axe
finding, and no sideways scroll on a 390 px phone."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.evaluation.factories import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
YEAR = 2025


def blocking(page) -> list[str]:
    return [f"{v['id']}: {v['help']}" for v in Axe().run(page).response["violations"]
            if v.get("impact") in ("serious", "critical")]


def test_the_scheme_editor_is_typed_accessible_and_fits_a_phone(page, live_server, login, screenshot):
    world = build_world(YEAR - 1)
    login(world.authority)
    url = f"{live_server.url}/evaluation/years/{YEAR}/setup/"
    page.goto(url)
    assert "JSON" not in page.content() and "{&quot;" not in page.content()
    assert blocking(page) == []
    # each indicator shows only what its function reads, the input labels in the reader's language
    assert page.locator("[data-ev-for=parts]").nth(0).is_hidden() and page.locator("[data-ev-for=parts]").nth(1).is_visible()
    assert page.locator("#id_i-0-target").is_visible() and page.locator("#id_i-0-full_at").is_hidden()
    assert "放大倍数（担保责任余额 ÷ 净资产）" in page.inner_text("#id_i-0-input")
    screenshot("evaluation-scheme-editor", full_page=True)
    for name, value in (("leverage", "4"), ("clients", "300"), ("amount", "500000000")):
        page.fill(f"#id_t-{name}", value)
    page.fill("#id_i-1-code", "leverage")
    page.fill("#id_i-0-weight", "45")
    page.fill("#id_i-2-full_at", "3")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("#year-setup-form button[type=submit]")
    text = page.inner_text("main")
    # the 100 points, the duplicate short name and the breakpoints' order, at once
    assert "EV-2" in text and text.count("EV-3:") >= 2
    assert blocking(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
