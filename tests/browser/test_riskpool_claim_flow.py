"""The whole RP-16 workflow in a browser (issue 3, "Done when"; issue 6, the bank operator): the
bank enters a loan through the form, reclassifies it non-performing and claims; the reviewer's
approval and public notice, the authority's funding plan, the bank's payment documents,
the treasurer's payout with its confirmation step, the move to the compensation library and a
recovery return. Each party signs in through the login page as their own user; the ledger, the
pool balance and the claim's step history are checked through the ORM at the end.

The numbers follow the spec's worked example (riskpool.md): 3,000,000 principal, other balance
1,500,000 → 40%, pure credit +10 → 50%; outstanding 2,400,000 → 1,200,000.00 paid; 800,000
recovered → 400,000.00 returned. The loan was disbursed two days ago and is entered, classified
and claimed today, so the pages' default dates (today) are valid."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from importlib import import_module

import pytest
from django.db.models import Sum

from core.calendar import shanghai_today
from riskpool import services
from riskpool.models import Claim, LedgerEntry, LoanProject
from tests.factories import LoanProjectFactory, PoolFactory, UserFactory, bank_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The smallest file the services accept as a PDF (they check the magic bytes, not the name).
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
OUTSTANDING = D("2400000.00")
RATIO = D("0.500000")
GROSS_RECOVERY = D("800000.00")
BUDGET = D("5000000.00")


@pytest.fixture(autouse=True)
def _riskpool_migration_data(live_server):
    """The LPR table and the Scheme S rule set, as the data migrations add them (idempotent):
    a previous transactional test's flush may have emptied them."""
    from django.apps import apps

    import_module("core.migrations.0002_audit_append_only_roles_lpr").add_lpr(apps, None)
    import_module("riskpool.migrations.0002_default_rule_sets").add_rule_sets(apps, None)


def submit(page, selector: str) -> None:
    """Click a submit button and wait for the page the POST leads to."""
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click(selector)


def logout(page) -> None:
    submit(page, "form[action='/accounts/logout/'] button[type=submit]")


def set_up_world(today):
    """Through the services: a pool with budget, its reviewer, treasurer and authority people, and
    a member bank with an operator."""
    pool = PoolFactory()
    authority = UserFactory(organisation=pool.authority, roles=["authority_admin"])
    reviewer = UserFactory(organisation=pool.reviewer, roles=["pool_reviewer"])
    treasurer = UserFactory(organisation=pool.treasurer, roles=["pool_treasurer"])
    operator = bank_user()
    bank = operator.organisation
    services.member_add(user=authority, pool=pool, bank=bank, joined_on=today - timedelta(days=400))
    # The bank's other loans (200,000,000, normal) keep its NPL ratio under the 3% gate (RP-15).
    LoanProjectFactory(pool=pool, bank=bank, principal=D("200000000.00"),
                       disbursed_on=today - timedelta(days=300), entered_on=today - timedelta(days=295),
                       maturity_on=today + timedelta(days=65))
    services.pool_budget_add(user=authority, pool=pool, amount=BUDGET, booked_on=today - timedelta(days=200))

    return pool, {"authority": authority, "reviewer": reviewer, "treasurer": treasurer, "bank": operator}


def enter_loan(page, url, screenshot) -> LoanProject:
    """The bank's loan entry form, filled as an operator would: disbursed two days ago (inside its
    RP-6 window when entered today), pure credit."""
    from tests.factories import make_credit_code

    disbursed = shanghai_today() - timedelta(days=2)
    page.goto(f"{url}/riskpool/projects/new/")
    page.fill("input[name=borrower_name]", "深圳顺达精密制造有限公司")
    page.select_option("select[name=id_kind]", "credit_code")
    page.fill("input[name=id_number]", make_credit_code())
    page.select_option("select[name=borrower_kind]", "enterprise")
    page.select_option("select[name=size_entered]", "small")
    page.fill("input[name=size_evidence]", "2025年审计报告")
    page.fill("input[name=loan_no]", "JJ-BROWSER-0001")
    page.select_option("select[name=loan_kind]", "enterprise")
    page.fill("input[name=principal]", "3000000.00")
    page.fill("input[name=disbursed_on]", disbursed.isoformat())
    page.fill("input[name=maturity_on]", (disbursed + timedelta(days=364)).isoformat())
    page.fill("input[name=annual_rate]", "4.2")
    page.fill("input[name=other_balance]", "1500000.00")
    page.check("input[name=features][value=pure_credit]")
    screenshot("bank-enters-loan")
    submit(page, "#save-project")
    project = LoanProject.objects.get(loan_no="JJ-BROWSER-0001")
    assert page.url == f"{url}/riskpool/projects/{project.pk}/"
    assert project.entered_on == shanghai_today() and project.principal_yuan == D("3000000.00")
    return project


def test_rp16_claim_to_payout_and_recovery_return_in_the_browser(live_server, page, login, screenshot):
    today = shanghai_today()
    pool, people = set_up_world(today)
    bank, reviewer, treasurer, authority = (people[k] for k in ("bank", "reviewer", "treasurer", "authority"))
    url = live_server.url

    # 1. The bank's operator enters the loan, reclassifies it non-performing and claims (all today).
    login(bank)
    project = enter_loan(page, url, screenshot)
    page.select_option("#classify-form select[name=new]", "substandard")
    submit(page, "#classify-form button[type=submit]")
    assert LoanProject.objects.get(pk=project.pk).classification == "substandard"
    page.click("#new-claim")
    page.wait_for_selector("#claim-form")
    page.fill("input[name=outstanding_principal]", str(OUTSTANDING))
    page.fill("input[name=credit_report_on]", (today - timedelta(days=2)).isoformat())  # within 10 working days
    # RP-14: the credit report and the loan file are required attachments.
    for name in ("credit_report", "loan_file"):
        page.set_input_files(f"#claim-form input[name={name}]",
                             files=[{"name": f"{name}.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    submit(page, "#submit-claim")
    claim = Claim.objects.get(project=project)
    assert page.url == f"{url}/riskpool/claims/{claim.pk}/"
    assert claim.state == "submitted" and claim.submitted_on == today
    assert claim.ratio == RATIO and claim.amount == (RATIO * OUTSTANDING).quantize(D("0.01")) == D("1200000.00")
    logout(page)

    # 2. The reviewer finds it in the queue and approves it.
    login(reviewer)
    page.goto(f"{url}/riskpool/review/")
    row = page.locator("#queue-table tbody tr", has_text="JJ-BROWSER-0001")
    assert row.count() == 1
    screenshot("riskpool-review-queue")
    row.locator("a").click()
    page.wait_for_selector("#review-form")
    page.check("input[name=review-approve][value=yes]")
    page.fill("textarea[name=review-note]", "符合补偿条件")
    submit(page, "#review-form button[type=submit]")
    claim.refresh_from_db()
    assert claim.state == "approved"

    logout(page)

    # 3. The authority puts it on the public notice from its notice desk, starting today (RP-16
    # step 3, 第二十条(二)).
    login(authority)
    page.goto(f"{url}/riskpool/notices/")
    page.check(f"#notice-start-form input[name=claims][value='{claim.pk}']")
    submit(page, "#notice-start-form button[type=submit]")
    claim.refresh_from_db()
    assert claim.state == "on_notice" and claim.notice_start == today and claim.notice_end > today
    assert page.locator(f"#notice-{claim.pk}").is_visible()
    # The notice runs at least 7 working days, so today its close is not offered.
    page.goto(f"{url}/riskpool/claims/{claim.pk}/")
    assert page.locator("#notice-close-form").count() == 0
    logout(page)
    # The 7-working-day notice cannot pass in real time: close it through the service on the day
    # after its end, as the authority would then. The steps after it carry today's date (the pages'
    # default), so only this one step is dated in the future.
    services.claim_notice_close(user=authority, claim=claim, on=claim.notice_end + timedelta(days=1))
    claim.refresh_from_db()
    assert claim.state == "notice_passed"

    # 4. The authority issues a funding plan with the claim.
    login(authority)
    page.goto(f"{url}/riskpool/pools/{pool.pk}/")
    page.fill("#funding-plan-form input[name=number]", "ZZ-BROWSER-01")
    page.check(f"#funding-plan-form input[name=claims][value='{claim.pk}']")
    submit(page, "#funding-plan-form button[type=submit]")
    claim.refresh_from_db()
    assert claim.state == "in_funding_plan" and claim.funding_plan.number == "ZZ-BROWSER-01"
    logout(page)

    # 5. The bank uploads the four payment documents.
    login(bank)
    page.goto(f"{url}/riskpool/claims/{claim.pk}/")
    for kind in services.PAYMENT_DOCUMENTS:
        page.set_input_files(f"#documents-form input[name=documents-{kind}]",
                             files=[{"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    submit(page, "#documents-form button[type=submit]")
    claim.refresh_from_db()
    assert claim.state == "documents_uploaded"
    assert set(claim.documents.values_list("kind", flat=True)) == {
        "credit_report", "loan_file", *(str(k) for k in services.PAYMENT_DOCUMENTS)}
    logout(page)

    # 6. The treasurer pays from the desk, through the confirmation page.
    login(treasurer)
    page.goto(f"{url}/riskpool/treasurer/")
    submit(page, "#to-pay tr:has-text('JJ-BROWSER-0001') form button[type=submit]")
    assert page.locator("#confirm-form").is_visible()
    assert not LedgerEntry.objects.filter(claim=claim).exists()  # nothing is paid before the confirmation
    submit(page, "#confirm-form button[type=submit]")
    assert page.url == f"{url}/riskpool/claims/{claim.pk}/"
    claim.refresh_from_db()
    assert claim.state == "paid" and claim.paid_amount == D("1200000.00") and claim.paid_on == today
    assert "1,200,000.00" in page.locator("dl.kv").first.inner_text()
    screenshot("riskpool-claim-paid")
    logout(page)

    # 7. The bank moves the project to the compensation library, then 8b reports a recovery.
    login(bank)
    page.goto(f"{url}/riskpool/claims/{claim.pk}/")
    submit(page, "#to-library-form button[type=submit]")
    claim.refresh_from_db()
    assert claim.state == "in_compensation_library"
    assert LoanProject.objects.get(pk=project.pk).library == LoanProject.Library.COMPENSATION
    page.fill("#recovery-form input[name=recovery-gross]", str(GROSS_RECOVERY))
    page.select_option("#recovery-form select[name=recovery-method]", "collection")
    submit(page, "#recovery-form button[type=submit]")
    assert page.locator("#recoveries").is_visible()
    logout(page)

    # The ledger: the payout (ratio × outstanding) and the recovery return (gross × ratio).
    claim.refresh_from_db()
    assert claim.state == "recovering" and claim.returned_amount == D("400000.00")
    payout = LedgerEntry.objects.get(claim=claim, kind=LedgerEntry.Kind.PAYOUT)
    assert payout.amount == -(RATIO * OUTSTANDING).quantize(D("0.01")) == D("-1200000.00")
    assert payout.created_by == treasurer and payout.booked_on == today
    back = LedgerEntry.objects.get(claim=claim, kind=LedgerEntry.Kind.RETURN_RECOVERY)
    assert back.amount == (GROSS_RECOVERY * RATIO).quantize(D("0.01")) == D("400000.00")
    assert back.created_by == bank
    pool.refresh_from_db()
    ledger_sum = LedgerEntry.objects.filter(pool=pool).aggregate(total=Sum("amount"))["total"]
    assert pool.balance == ledger_sum == BUDGET - D("1200000.00") + D("400000.00")

    # Every RP-16 step, in order, each by the party who took it.
    steps = [(s.old, s.new, s.by_id) for s in claim.steps.order_by("id")]
    assert steps == [
        ("", "submitted", bank.pk),
        ("submitted", "approved", reviewer.pk),
        ("approved", "on_notice", authority.pk),
        ("on_notice", "notice_passed", authority.pk),
        ("notice_passed", "in_funding_plan", authority.pk),
        ("in_funding_plan", "documents_uploaded", bank.pk),
        ("documents_uploaded", "paid", treasurer.pk),
        ("paid", "in_compensation_library", bank.pk),
        ("in_compensation_library", "recovering", bank.pk),
    ]

