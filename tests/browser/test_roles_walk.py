"""Issue 13 points 4, 5, 6 and 10, seen the way people see them: each role signs in to the demo
data set and walks its pages, in Chinese on a desktop and in English on a 390 px phone.

On every page of the walk:
- axe-core (the copy shipped by axe-playwright-python, nothing fetched) finds nothing "serious"
  or "critical";
- every table has a caption and every header cell a scope;
- an amount in a number column has its thousands separators, a ratio two decimals;
- a date is never broken over two lines (at its hyphens, or anywhere).
On the phone, besides: the page itself never scrolls sideways (a wide table scrolls in its own
box), and the navigation folds behind a "Menu" button that opens it.

The authority's walk also opens the API documentation, which must not fetch anything from
another host.

One test per side of the system (a side's users share one demo build, the slow part); the main
page of each user is saved under test-artifacts/screenshots/role-<user>.png, from where the
README's pictures in docs/screenshots/ are taken.
"""
from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import SCREENSHOTS, enrolled_device, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "demo-pass-2024"
BLOCKING = {"serious", "critical"}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
# Detail pages reached from the lists (one of each kind per user), besides the navigation.
DETAIL = re.compile(r"^/(guarantees|riskpool/claims|riskpool/pools|riskpool/m/claims|evaluation/years|"
                    r"evaluation/submissions|counterguarantee/plans|guarantees/agreements|guarantees/compensations)/\d+/$")
SIDES = {
    "authority": ["authority_admin", "authority_reviewer"],
    "pool": ["pool_reviewer", "pool_treasurer", "finance_bureau"],
    "bank": ["bank_operator"],
    "firm": ["firm_operator", "firm_operator_binxian"],
    "supervisors": ["county_supervisor", "city_supervisor", "province_supervisor"],
}

# What each page must show, computed in the page (the list of problems, empty when all is well).
PAGE_CHECKS = r"""() => {
  const problems = [];
  for (const table of document.querySelectorAll("main table")) {
    if (!table.querySelector(":scope > caption")) problems.push("table without a caption: #" + table.id);
  }
  for (const th of document.querySelectorAll("main th:not([scope])")) problems.push("th without scope: " + th.textContent.trim());
  for (const cell of document.querySelectorAll("main td.num")) {
    const text = cell.textContent;
    if (/(^|[^\d,.])\d{4,}\.\d{2}(?!\d)/.test(text)) problems.push("amount without separators: " + text.trim());
    for (const match of text.matchAll(/(\d+(?:\.\d+)?)%/g)) {
      if (!/\.\d{2}$/.test(match[1])) problems.push("percentage not with two decimals: " + match[0]);
    }
  }
  for (const date of document.querySelectorAll("main .date")) {
    if (date.getClientRects().length > 1) problems.push("date broken over lines: " + date.textContent);
  }
  return problems;
}"""


def sign_in(page, base: str, username: str) -> None:
    from core.models import User
    from core.twofactor import two_factor_required

    user = User.objects.get(username=username)
    device = enrolled_device(user) if two_factor_required(user) else None
    page.context.clear_cookies()  # the previous user of the side signs out
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    if "/accounts/two-factor/verify/" in page.url:
        page.fill("#id_code", totp_code(device or enrolled_device(user)))
        page.click("#two-factor-verify-form button[type=submit]")
        page.wait_for_load_state("domcontentloaded")
    assert "/accounts/" not in page.url, f"{username} could not sign in"


def set_language(page, code: str) -> None:
    with page.expect_navigation():
        page.select_option("#lang-select", code)
    assert page.get_attribute("html", "lang") == code


def blocking_violations(page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:3])
            for v in violations if v.get("impact") in BLOCKING]


def pages_of(page, base: str) -> list[str]:
    """The user's navigation, then one detail page of each kind its lists link to."""
    nav = page.eval_on_selector_all("#mainnav a", "links => links.map(a => a.getAttribute('href'))")
    urls = [u for u in dict.fromkeys(["/", *nav]) if not u.startswith(("/admin", "/api"))]
    details: dict[str, str] = {}
    for url in urls:
        page.goto(base + url)
        for href in page.eval_on_selector_all("main a[href^='/']", "links => links.map(a => a.getAttribute('href'))"):
            href = href.split("#")[0].split("?")[0]
            if DETAIL.match(href):
                details.setdefault(href.rsplit("/", 2)[0], href)
    return urls + list(details.values())


def check_page(page, base: str, url: str, *, phone: bool) -> list[str]:
    response = page.goto(base + url)
    assert response.status == 200, f"{url}: HTTP {response.status}"
    problems = [f"{url}: {p}" for p in page.evaluate(PAGE_CHECKS)]
    if phone:
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            problems.append(f"{url}: the page scrolls sideways ({width} px wide at {PHONE['width']} px)")
    problems += [f"{url}: axe {v}" for v in blocking_violations(page)]
    return problems


def walk(page, base: str, username: str, seen: set[str]) -> list[str]:
    """The user's pages that no one before them on this side has walked (the same page for
    another role of the side is the same template; the walk is slow enough as it is)."""
    page.set_viewport_size(DESKTOP)
    sign_in(page, base, username)
    set_language(page, "zh-hans")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"role-{username}.png"))
    urls = pages_of(page, base)
    assert len(urls) >= 2, f"{username} reaches no page"
    urls = [url for url in urls if url == "/" or url not in seen]
    seen.update(urls)
    problems = []
    for url in urls:
        problems += check_page(page, base, url, phone=False)

    page.set_viewport_size(PHONE)
    page.goto(base + "/")
    set_language(page, "en")
    assert page.is_visible(".nav-toggle") and not page.is_visible("#mainnav"), "the phone menu is not folded"
    page.click(".nav-toggle")
    assert page.is_visible("#mainnav") and page.get_attribute(".nav-toggle", "aria-expanded") == "true"
    page.screenshot(path=str(SCREENSHOTS / f"role-{username}-phone.png"))
    for url in urls:
        problems += check_page(page, base, url, phone=True)
    return problems


def api_docs_problems(page, base: str) -> list[str]:
    """Issue 13 point 8: /api/docs/ draws every operation from this site's own files (Swagger UI
    from drf-spectacular-sidecar); a request to any other host would fail on the offline machines."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_viewport_size(DESKTOP)
    page.goto(f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30000)
    problems = [f"/api/docs/ fetched {url}" for url in requests if not url.startswith((base, "data:", "blob:"))]
    if page.locator(".swagger-ui .opblock").count() < 10:
        problems.append("/api/docs/ shows fewer than 10 operations")
    return problems


@pytest.mark.parametrize("side", list(SIDES))
def test_each_role_walks_its_pages_in_both_languages_and_on_a_phone(side, live_server, page):
    from core.demo import build_demo

    build_demo()
    problems, seen = [], set()
    for username in SIDES[side]:
        problems += [f"{username} {p}" for p in walk(page, live_server.url, username, seen)]
    if side == "authority":
        problems += api_docs_problems(page, live_server.url)
    assert not problems, "\n".join(problems)
