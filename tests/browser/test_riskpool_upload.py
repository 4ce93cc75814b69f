"""Issue 3 / issue 6: a bank uploads its loans as xlsx in the browser, with the upload's progress
shown, and sees them entered; a file with a bad row saves nothing and lists the error."""
from __future__ import annotations

from importlib import import_module

import pytest

from core.calendar import shanghai_today
from riskpool.imports import XLSX_CONTENT_TYPE, template_workbook
from riskpool.models import LoanProject
from tests.browser.test_riskpool_claim_flow import set_up_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _riskpool_migration_data(live_server):
    from django.apps import apps

    import_module("core.migrations.0002_audit_append_only_roles_lpr").add_lpr(apps, None)
    import_module("riskpool.migrations.0002_default_rule_sets").add_rule_sets(apps, None)


def test_bank_uploads_the_template_and_its_loan_is_entered(live_server, page, login, screenshot):
    _pool, people = set_up_world(shanghai_today())
    before = LoanProject.objects.count()
    login(people["bank"])
    page.goto(f"{live_server.url}/riskpool/projects/upload/")
    assert page.locator("#import-form progress").count() == 1
    page.set_input_files("#import-form input[type=file]", files=[
        {"name": "loans.xlsx", "mimeType": XLSX_CONTENT_TYPE, "buffer": template_workbook()}])
    page.click("#upload-projects")  # sent by XMLHttpRequest, its progress on the page
    page.wait_for_selector(".msg-success")
    assert LoanProject.objects.count() == before + 1
    assert LoanProject.objects.filter(loan_no__startswith="JJ-").exists()
    screenshot("bank-upload-done")


def test_a_file_with_a_bad_row_saves_nothing_and_lists_it(live_server, page, login):
    _pool, people = set_up_world(shanghai_today())
    before = LoanProject.objects.count()
    bad = "借款人名称,证件类型,证件号码\n某公司,统一社会信用代码,123\n".encode()
    login(people["bank"])
    page.goto(f"{live_server.url}/riskpool/projects/upload/")
    page.set_input_files("#import-form input[type=file]", files=[
        {"name": "loans.csv", "mimeType": "text/csv", "buffer": bad}])
    page.click("#upload-projects")
    page.wait_for_selector("#import-errors, .errorlist")
    assert LoanProject.objects.count() == before
