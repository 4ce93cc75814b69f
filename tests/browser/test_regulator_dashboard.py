"""Issue 6, the regulator: the home page's pool figures show a bank above the 3% NPL gate
(RP-15); the figure drills down to the pool page, where that bank is marked, and the table is
exported as xlsx; the indicator trends page draws its charts. Screenshots at 1366×768."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from importlib import import_module
from io import BytesIO

import pytest
from openpyxl import load_workbook

from core.calendar import shanghai_today
from riskpool.models import Member
from tests.factories import LoanProjectFactory, MemberFactory, OrganisationFactory, PoolFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _riskpool_rule_sets(live_server):
    from django.apps import apps

    import_module("riskpool.migrations.0002_default_rule_sets").add_rule_sets(apps, None)


def test_regulator_drills_down_from_home_to_a_bank_over_the_gate_and_exports_it(live_server, page, login, screenshot):
    today = shanghai_today()
    pool = PoolFactory(name="中小微企业贷款风险补偿资金池")
    authority = UserFactory(organisation=pool.authority, roles=["authority_admin"])
    over = MemberFactory(pool=pool, organisation=OrganisationFactory(kind="bank", name="超限银行"),
                         npl_ratio=D("0.045000"), npl_principal=D("450000.00"), entered_principal=D("10000000.00"))
    MemberFactory(pool=pool, organisation=OrganisationFactory(kind="bank", name="达标银行"),
                  npl_ratio=D("0.030000"), npl_principal=D("300000.00"), entered_principal=D("10000000.00"))
    LoanProjectFactory(pool=pool, bank=over.organisation, entered_on=today - timedelta(days=30))

    login(authority)
    page.goto(f"{live_server.url}/")
    figure = page.locator("#pool-figures [data-figure=over-gate]")
    assert figure.locator(".value").inner_text().strip() == "1"
    screenshot("regulator-home")
    figure.click()
    page.wait_for_selector("#bank-npl")
    assert page.url.endswith(f"/riskpool/pools/{pool.pk}/#bank-npl")
    marked = page.locator("#bank-npl tr.over-gate")
    assert marked.count() == 1 and "超限银行" in marked.inner_text()
    screenshot("regulator-pool-banks")

    with page.expect_download() as info:
        page.click("#bank-npl-export")
    sheet = load_workbook(BytesIO(open(info.value.path(), "rb").read())).active
    rows = {r[0]: r for r in sheet.iter_rows(min_row=5, values_only=True)}
    assert set(rows) == {"超限银行", "达标银行"}
    assert rows["超限银行"][1] == pytest.approx(0.045) and rows["超限银行"][5] == "申请暂缓处理"
    assert Member.objects.get(pk=over.pk).npl_ratio == D("0.045000")

    marked.locator("a").click()  # on to the bank's loans, largest first
    page.wait_for_selector("#project-table, .empty, table")
    assert f"bank={over.organisation_id}" in page.url

    page.goto(f"{live_server.url}/indicators/trends/")
    page.wait_for_selector("h1")
    screenshot("regulator-trends")
