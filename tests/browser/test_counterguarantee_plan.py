"""The counter-guarantee plan editor in a browser (issue "Done when"): a firm operator builds the
plan of a guarantee, the live check (the preview API, the same rules.check_plan) re-runs on every
change and shows each rule's result next to its field, the plan is saved and approved, and the
check at approval stays visible. Another firm's operator gets 404 on the plan.

The numbers are the spec's worked example, moved to start today: 1,000,000 guaranteed, a family
farm (CG-1.2); a real-estate mortgage of 1,600,000 at 70% = 1,120,000 → CG-7 fails by 120,000;
the mortgage runs six months past the guarantee → CG-9 fails."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from core.calendar import shanghai_today
from counterguarantee.models import CheckRun, Plan
from tests.counterguarantee.factories import ensure_tables, example_guarantee, other_firm_user
from tests.factories import BorrowerFactory, firm_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _counterguarantee_tables(live_server):
    """The asset classes, bank rates and rule set of migration 0002 (a previous transactional
    test's flush may have emptied them)."""
    ensure_tables()


def submit(page, selector: str) -> None:
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click(selector)


def result(page, rule: str):
    return page.locator(f'#cg-results tr[data-rule="{rule}"]')


def wait_outcome(page, rule: str, outcome: str) -> None:
    page.wait_for_selector(f'#cg-results tr[data-rule="{rule}"][data-outcome="{outcome}"]')


def test_plan_editor_live_check_save_and_approve(live_server, page, login, screenshot):
    today = shanghai_today()
    start, end = today - timedelta(days=5), today + timedelta(days=360)
    user = firm_user()
    guarantee = example_guarantee(agreement__firm=user.organisation, start=start, loan_start=start, end=end,
                                  loan_maturity=end, contract_no="DB-CG-BROWSER-1",
                                  borrower=BorrowerFactory(owner=user.organisation, kind="farmer",
                                                           name="北极村蓝莓家庭农场"))
    login(user)

    page.goto(f"{live_server.url}/counterguarantee/")
    submit(page, f'tr[data-guarantee="{guarantee.pk}"] a')
    assert page.is_checked('input[name=credit_grounds][value="CG-1.2"]')  # suggested: a farm under 2,000,000
    wait_outcome(page, "CG-1", "pass")  # no measure yet: a credit guarantee

    # A mortgage, typed field by field: the check re-runs on every change.
    page.click("#cg-add")
    card = page.locator(".cg-measure").first
    card.locator("select[name=m-0-kind]").select_option("mortgage")
    card.locator("select[name=m-0-asset_class]").select_option("real_estate")
    card.locator("input[name=m-0-owners]").fill("张三、王芳")
    card.locator("input[name=m-0-signatories]").fill("张三")
    card.locator("input[name=m-0-value]").fill("1600000")
    card.locator("select[name=m-0-valuation_source]").select_option("approved_appraiser")
    card.locator("input[name=m-0-valued_on]").fill((today - timedelta(days=30)).isoformat())
    card.locator("input[name=m-0-valuation_valid_until]").fill((today + timedelta(days=200)).isoformat())
    card.locator("input[name=m-0-rate]").fill("0.70")
    card.locator("input[name=m-0-end]").fill((end + timedelta(days=180)).isoformat())
    card.locator("input[name=m-0-contract_no]").fill("DY-CG-1")
    card.locator("input[name=m-0-registration_number]").fill("黑(2026)不动产证明第0001号")

    wait_outcome(page, "CG-7", "fail")
    wait_outcome(page, "CG-9", "fail")
    wait_outcome(page, "CG-1", "warning")
    wait_outcome(page, "CG-6", "pass")
    assert "120,000.00" in page.locator('.cg-hint[data-field="__sum"]').inner_text()
    # Each finding sits next to the field it is about.
    assert "CG-9" in card.locator('.cg-hint[data-field="end"]').inner_text()
    assert "王芳" in card.locator('.cg-hint[data-field="signatories"]').inner_text()
    assert "CG-1" in card.locator('.cg-hint[data-field="kind"]').inner_text()
    assert page.locator("#cg-passed.cg-fail").is_visible()
    card.scroll_into_view_if_needed()
    screenshot("counterguarantee-editor-live-check", full_page=True)

    # Input the check cannot compute is named at its field.
    card.locator("input[name=m-0-rate]").fill("1.5")
    page.wait_for_selector('.cg-measure .cg-hint[data-field="rate"] .cg-fail')

    # Correct the plan: within the amount, within the term, every co-owner signed.
    card.locator("input[name=m-0-rate]").fill("0.70")
    card.locator("input[name=m-0-value]").fill("1428571")
    card.locator("input[name=m-0-end]").fill(end.isoformat())
    card.locator("input[name=m-0-signatories]").fill("张三、王芳")
    wait_outcome(page, "CG-7", "pass")
    wait_outcome(page, "CG-9", "pass")
    wait_outcome(page, "CG-10", "pass")
    assert page.locator("#cg-passed.cg-pass").is_visible()

    submit(page, "#cg-save")
    plan = Plan.objects.get(guarantee=guarantee)
    assert plan.measures.get().value == D("1428571.00")
    assert plan.last_check["passed"] is True
    # The server's own run of the same check after the reload agrees.
    wait_outcome(page, "CG-7", "pass")

    page.goto(f"{live_server.url}/counterguarantee/plans/{plan.pk}/")
    submit(page, "#cg-approve")
    page.wait_for_selector("#approval-results")
    assert page.locator('#approval-results tr[data-rule="CG-1"][data-outcome="warning"]').count() == 1
    run = CheckRun.objects.get(plan=plan)
    assert run.passed is True and run.checked_on == today
    screenshot("counterguarantee-plan-approved", full_page=True)

    # Another firm's operator: the plan does not exist for them.
    page.context.clear_cookies()
    login(other_firm_user())
    response = page.goto(f"{live_server.url}/counterguarantee/plans/{plan.pk}/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/counterguarantee/guarantees/{guarantee.pk}/plan/")
    assert response.status == 404
