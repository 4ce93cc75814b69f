"""Issue 15, seen the way the authority's administrator uses it: the rule sets list → one of the
demo's drafts → a replay of the history with it → its result (totals, payouts per quarter, the
projection's chart with its table beside it) → two drafts compared, their parameters and their
simulations → the draft adopted through the confirmation page.

Once in Chinese on a desktop (the tiers draft; Cancel on the confirmation changes nothing), once
in English on a 390 px phone (the NPL-gate draft; a day on which a version already starts is
refused beside the field). On every page: the checks of the roles walk (captions, header scopes,
number styles, unbroken dates), axe-core with nothing "serious" or "critical", and on the phone
no page-level sideways scroll. On the result page the chart's period labels, as the browser lays
them out, never overlap.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_roles_walk import DESKTOP, PAGE_CHECKS, PHONE, blocking_violations, set_language, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIERS, GATE = "草案：各档补偿比例提高10个百分点", "草案：不良率门槛收紧至2%"

# The x-axis labels of the projection's chart as laid out: each pair of neighbours that overlaps,
# and any label outside the chart's box.
LABEL_OVERLAPS = r"""() => {
  const svg = document.querySelector("#projection svg.chart");
  const box = svg.getBoundingClientRect();
  const labels = [...svg.querySelectorAll("text[data-axis='x']")].map(t => [t.textContent, t.getBoundingClientRect()]);
  const problems = [];
  labels.forEach(([text, r], i) => {
    if (r.left < box.left - 0.5 || r.right > box.right + 0.5) problems.push(text + " outside the chart");
    if (i && labels[i - 1][1].right > r.left) problems.push(labels[i - 1][0] + " overlaps " + text);
  });
  return {count: labels.length, problems};
}"""


def checked(page, what: str, *, phone: bool) -> list[str]:
    problems = [f"{what}: {p}" for p in page.evaluate(PAGE_CHECKS)]
    if phone:
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            problems.append(f"{what}: the page scrolls sideways ({width} px wide at {PHONE['width']} px)")
    return problems + [f"{what}: axe {v}" for v in blocking_violations(page)]


def submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def run_simulation(page, base: str, name: str, *, phone: bool) -> tuple[int, list[str]]:
    """From the list to the draft, replay it, and read its result."""
    page.goto(f"{base}/rulesets/")
    problems = checked(page, "list", phone=phone)
    submit(page, f"table[data-drafts='riskpool_s'] a:text-is('{name}')")
    problems += checked(page, "draft", phone=phone)
    submit(page, "form[action$='/simulate/'] button[type=submit]")
    match = re.search(r"/rulesets/simulations/(\d+)/$", page.url)
    assert match, page.url
    page.wait_for_selector("#sim-state[data-state='succeeded']")
    problems += checked(page, "simulation", phone=phone)
    assert page.locator("#sim-totals tbody tr").count() >= 3
    assert page.locator("#sim-quarters tbody tr").count() >= 1, "no payouts per quarter"
    assert page.locator("#sim-projection tbody tr").count() == 12
    assert page.is_visible("#projection svg.chart")
    labels = page.evaluate(LABEL_OVERLAPS)
    assert labels["count"] >= 4 and not labels["problems"], labels
    chart, table = (page.locator(f"#projection {s}").bounding_box() for s in ("figure", ".table-scroll"))
    beside = chart["x"] + chart["width"] <= table["x"] and abs(chart["y"] - table["y"]) < 40
    below = table["y"] >= chart["y"] + chart["height"]
    assert (below if phone else beside), (chart, table)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"simulator-result{'-phone' if phone else ''}.png"), full_page=True)
    return int(match.group(1)), problems


def compare(page, base: str, sims: list[int], *, phone: bool) -> list[str]:
    """The two drafts' parameters side by side, then their simulations."""
    from core.models import RuleSetDraft

    drafts = [RuleSetDraft.objects.get(name=name).pk for name in (TIERS, GATE)]
    page.goto(f"{base}/rulesets/")
    page.select_option("#cmp-a", f"draft-{drafts[0]}")
    page.select_option("#cmp-b", f"draft-{drafts[1]}")
    submit(page, "form[action$='/compare/'] button[type=submit]")
    assert {page.get_attribute(r, "data-changed") for r in ("#diff tr.diff-changed >> nth=0", "#diff tr.diff-changed >> nth=1")} \
        == {"tiers", "npl_gate"}
    problems = checked(page, "compare versions", phone=phone)
    page.goto(f"{base}/rulesets/")
    for sim in sims:
        page.check(f"input[name=ids][value='{sim}']")
    submit(page, "form[action$='/simulations/compare/'] button[type=submit]")
    assert page.locator("#sim-compare thead th").count() == 2 + len(sims)
    return problems + checked(page, "compare simulations", phone=phone)


def confirmation(page, sim: int, *, day: str | None = None) -> None:
    """From the result, to the draft's adoption form with this simulation chosen, to the
    confirmation page."""
    submit(page, "#adopt-with-sim")
    assert page.input_value("#id_simulation") == str(sim)
    if day:
        page.fill("#id_effective_from", day)
    submit(page, "#adopt button[type=submit]")


def test_the_authority_simulates_compares_and_adopts_in_both_languages_and_on_a_phone(live_server, page):
    from core.calendar import shanghai_today
    from core.demo import build_demo
    from core.models import RuleSetDraft

    build_demo()
    base, today = live_server.url, shanghai_today()
    problems: list[str] = []

    # Chinese, desktop: the tiers draft.
    page.set_viewport_size(DESKTOP)
    sign_in(page, base, "authority_admin")
    set_language(page, "zh-hans")
    tiers_sim, found = run_simulation(page, base, TIERS, phone=False)
    problems += found
    confirmation(page, tiers_sim)
    assert page.is_visible("#confirm-form") and TIERS in page.inner_text("#confirm")
    assert today.isoformat() in page.inner_text("#confirm") and f"#{tiers_sim}" in page.inner_text("#confirm")
    problems += checked(page, "confirmation", phone=False)
    submit(page, "#confirm-form a.btn-secondary")  # Cancel
    assert "/rulesets/drafts/" in page.url and not RuleSetDraft.objects.get(name=TIERS).adopted_as_id
    page.goto(f"{base}/rulesets/simulations/{tiers_sim}/")
    confirmation(page, tiers_sim)
    submit(page, "#confirm-form button[type=submit]")
    adopted = RuleSetDraft.objects.get(name=TIERS)
    assert adopted.adopted_as_id and adopted.adopted_with_id == tiers_sim
    assert page.url.endswith(f"/rulesets/{adopted.adopted_as_id}/") and page.is_visible(f"a[href$='/simulations/{tiers_sim}/']")
    problems += checked(page, "adopted", phone=False)

    # English, phone: the NPL-gate draft.
    page.set_viewport_size(PHONE)
    set_language(page, "en")
    gate_sim, found = run_simulation(page, base, GATE, phone=True)
    problems += found
    problems += compare(page, base, [tiers_sim, gate_sim], phone=True)
    page.goto(f"{base}/rulesets/simulations/{gate_sim}/")
    confirmation(page, gate_sim, day=today.isoformat())  # the tiers version starts today
    assert not page.is_visible("#confirm-form") and "already takes effect on" in page.inner_text("#adopt")
    problems += checked(page, "adoption refused", phone=True)
    later = (today + timedelta(days=7)).isoformat()
    page.fill("#id_effective_from", later)
    submit(page, "#adopt button[type=submit]")
    assert page.is_visible("#confirm-form") and later in page.inner_text("#confirm")
    problems += checked(page, "confirmation", phone=True)
    submit(page, "#confirm-form button[type=submit]")
    adopted = RuleSetDraft.objects.get(name=GATE)
    assert adopted.adopted_as.effective_from.isoformat() == later and adopted.adopted_with_id == gate_sim
    problems += checked(page, "adopted", phone=True)
    assert not problems, "\n".join(problems)
