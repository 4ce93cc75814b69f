"""A guarantee-firm operator records a guarantee through the browser, sees it listed, and a
bad input is shown next to its field while nothing is saved (issue 2, "Done when")."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from guarantees import services
from guarantees.models import Guarantee
from tests.factories import AgreementFactory, firm_user, make_credit_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_guarantee_form(page, agreement, *, contract_no: str, amount: str, principal: str = "1000000") -> None:
    page.select_option("select[name=agreement]", str(agreement.pk))
    page.fill("input[name=borrower_name]", "顺达小微制造有限公司")
    page.select_option("select[name=id_kind]", "credit_code")
    page.fill("input[name=id_number]", make_credit_code())
    page.select_option("select[name=borrower_kind]", "enterprise")
    page.select_option("select[name=industry]", "industry")
    page.fill("input[name=employees]", "50")
    page.fill("input[name=revenue]", "5000000")
    page.fill("input[name=total_assets]", "3000000")
    page.check("input[name=is_agricultural]")
    page.fill("input[name=contract_no]", contract_no)
    page.fill("input[name=loan_principal]", principal)
    page.fill("input[name=amount]", amount)
    page.fill("input[name=loan_start]", "2024-03-01")
    page.fill("input[name=loan_maturity]", "2025-02-28")
    page.fill("input[name=start]", "2024-03-01")
    page.fill("input[name=end]", "2025-02-28")
    page.fill("input[name=fee_rate]", "0.8")


def test_firm_operator_records_a_guarantee_and_a_bad_input_saves_nothing(live_server, page, login, screenshot):
    user = firm_user(first_name="李", last_name="娜")
    agreement = AgreementFactory(firm=user.organisation, code="YD-BROWSER-1")
    login(user)

    # The list is reached from the main navigation; the new-guarantee button opens the form.
    page.goto(f"{live_server.url}/guarantees/")
    assert page.locator("#empty-state").is_visible()
    page.click("#new-guarantee")
    page.wait_for_selector("#guarantee-form")
    fill_guarantee_form(page, agreement, contract_no="DB-BROWSER-0001", amount="800000")
    page.click("#save-guarantee")
    page.wait_for_url(f"{live_server.url}/guarantees/*/")
    assert "DB-BROWSER-0001" in page.locator("h1").inner_text()
    guarantee = Guarantee.objects.get(contract_no="DB-BROWSER-0001")
    assert guarantee.fee_rate == Decimal("0.008000") and guarantee.amount == Decimal("800000.00")

    page.goto(f"{live_server.url}/guarantees/")
    row = page.locator("#guarantee-table tbody tr", has_text="DB-BROWSER-0001")
    assert row.count() == 1
    assert "800,000.00" in row.inner_text() and "0.80%" in row.inner_text()
    screenshot("guarantee-list")

    # A guaranteed amount above the loan principal: refused, shown at the amount field.
    page.click("#new-guarantee")
    fill_guarantee_form(page, agreement, contract_no="DB-BROWSER-0002", amount="1500000")
    page.click("#save-guarantee")
    page.wait_for_selector("#form-errors")
    error = page.locator(".field:has(input[name=amount]) .errorlist")
    assert error.is_visible()
    # The browser asks for Chinese (zh-CN), so the rule message comes in Chinese.
    assert "担保金额不得超过贷款本金" in error.inner_text()
    # What was typed is still there.
    assert page.input_value("input[name=amount]") == "1500000"
    assert page.input_value("input[name=contract_no]") == "DB-BROWSER-0002"
    assert page.is_checked("input[name=is_agricultural]")
    assert Guarantee.objects.count() == 1
    page.locator(".field:has(input[name=amount])").scroll_into_view_if_needed()
    screenshot("guarantee-form-error")


def test_compensated_guarantee_detail(live_server, page, login, screenshot):
    user = firm_user()
    agreement = AgreementFactory(firm=user.organisation, code="YD-BROWSER-2")
    guarantee = services.guarantee_create(
        user=user, agreement=agreement,
        borrower=services.BorrowerData(name="宏发商贸有限公司", id_kind="credit_code", id_number=make_credit_code(),
                                       kind="enterprise", size_entered="micro", size_evidence="2023 年度审计报告",
                                       industry="retail", employees=30, revenue=Decimal("8000000")),
        data=services.GuaranteeData(
            contract_no="DB-BROWSER-0100", loan_principal=Decimal("2000000"), amount=Decimal("2000000"),
            loan_start=date(2024, 3, 1), loan_maturity=date(2025, 2, 28), start=date(2024, 3, 1),
            end=date(2025, 2, 28), fee_rate=Decimal("0.012000"), other_fees=Decimal("3000")),
    )
    compensation = services.guarantee_default(user=user, guarantee=guarantee, default_on=date(2024, 9, 1),
                                              principal=Decimal("1500000.01"), interest=Decimal("12000"))
    services.compensation_pay(user=user, compensation=compensation, paid_on=date(2024, 9, 25))
    services.recovery_action_record(user=user, compensation=compensation, on=date(2024, 10, 8), kind="litigation",
                                    note="向区人民法院起诉")
    services.recovery_record(user=user, compensation=compensation, received_on=date(2024, 12, 1),
                             gross=Decimal("100000"), source="borrower", cost_litigation=Decimal("5000"))
    login(user)

    page.goto(f"{live_server.url}/guarantees/{guarantee.pk}/")
    assert page.locator("#parts-table").is_visible()
    assert "1,500,000.01" in page.locator("#parts-table").inner_text()
    assert page.locator("#fee-problems").is_visible()
    assert page.locator("#write-off-form input[name=writeoff-confirm]").count() == 1
    screenshot("guarantee-detail-compensated", full_page=True)

    # Write-off needs the confirmation box: the browser's submit without it is refused.
    page.click("#write-off-form button[type=submit]")
    page.wait_for_selector("#write-off-form .errorlist")
    assert Guarantee.objects.get(pk=guarantee.pk).status == Guarantee.Status.RECOVERING
