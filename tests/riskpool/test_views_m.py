"""Browser pages of Scheme M (riskpool/views_m.py): each page for its role and refused to
everyone else (another firm's or another pool's user gets 404 on our rows, another role 403),
the claim form's quote before saving (RP-M1, RP-M3, RP-M4), the reviewer's decision with
reasons, the treasurer's confirmed and idempotent payment, the recovery return with its due date
(RP-M5, the 30th day itself in time), the products page, the RP-M6 reports with their xlsx export
and submission, and the query counts of the list pages."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.calendar import shanghai_today
from riskpool import services_m
from riskpool.models import LedgerEntry, MAnnualReport, MClaim
from tests.factories import SchemeMPoolFactory, UserFactory, bank_user, firm_user, paid_compensation
from tests.riskpool.test_scheme_m import MWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return MWorld()


@pytest.fixture
def people(world):
    """alice: our firm; bob: another firm; carol: a bank; the pool's reviewer, treasurer and
    authority; and another Scheme M pool's reviewer, treasurer and authority."""
    other = SchemeMPoolFactory()
    return {
        "alice": world.firm_user, "bob": firm_user(), "carol": bank_user(),
        "reviewer": world.reviewer, "treasurer": world.treasurer, "authority": world.authority,
        "other_reviewer": UserFactory(organisation=other.reviewer, roles=["pool_reviewer"]),
        "other_treasurer": UserFactory(organisation=other.treasurer, roles=["pool_treasurer"]),
        "other_authority": UserFactory(organisation=other.authority, roles=["authority_admin"]),
    }


def reload(obj):
    obj.refresh_from_db()
    return obj


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def post(client, user, url, data):
    client.force_login(user)
    return client.post(url, data)


# --- who sees what --------------------------------------------------------------------------------


@pytest.mark.parametrize(("person", "target"), [
    ("alice", "m-claim-list"), ("reviewer", "m-review"), ("treasurer", "m-pay"), ("authority", "m-products"),
])
def test_m_home_sends_each_role_to_its_page(client, people, person, target):
    response = get(client, people[person], reverse("riskpool:m-home"))
    assert response.status_code == 302 and response.url == reverse(f"riskpool:{target}")


def test_m_home_refuses_a_bank(client, people):
    assert get(client, people["carol"], reverse("riskpool:m-home")).status_code == 403


@pytest.mark.parametrize(("name", "allowed", "refused"), [
    ("m-claim-list", ["alice", "bob", "reviewer", "treasurer", "authority"], ["carol"]),
    ("m-claim-create", ["alice", "bob"], ["carol", "reviewer", "treasurer", "authority"]),
    ("m-products", ["reviewer", "treasurer", "authority"], ["alice", "carol"]),
    ("m-review", ["reviewer", "other_reviewer"], ["alice", "treasurer", "authority", "carol"]),
    ("m-pay", ["treasurer", "other_treasurer"], ["alice", "reviewer", "authority", "carol"]),
    ("m-reports", ["reviewer", "treasurer", "authority"], ["alice", "bob", "carol"]),
])
def test_each_list_page_for_its_roles_and_403_for_the_others(client, people, name, allowed, refused):
    for person in allowed:
        assert get(client, people[person], reverse(f"riskpool:{name}")).status_code == 200, person
    for person in refused:
        assert get(client, people[person], reverse(f"riskpool:{name}")).status_code == 403, person
    client.logout()
    assert client.get(reverse(f"riskpool:{name}")).status_code == 302  # to the login page


def test_claim_detail_for_the_firm_and_the_pool_404_for_another_firm_and_another_pool(client, world, people):
    m_claim = world.submit()
    url = reverse("riskpool:m-claim-detail", args=[m_claim.pk])
    for person in ("alice", "reviewer", "treasurer", "authority"):
        assert get(client, people[person], url).status_code == 200, person
    for person in ("bob", "other_reviewer", "other_treasurer", "other_authority", "carol"):
        assert get(client, people[person], url).status_code == 404, person


def test_claim_list_shows_only_the_firms_own_claims_with_their_state(client, world, people):
    world.submit()
    world.approve(world.submit(payout=D("2000000.00")))
    response = get(client, people["alice"], reverse("riskpool:m-claim-list"))
    assert response.content.decode().count("/riskpool/m/claims/") >= 2
    assert "Submitted, awaiting review" in response.content.decode()
    assert "Approved, awaiting payment" in response.content.decode()
    assert "No Scheme M claim yet." in get(client, people["bob"], reverse("riskpool:m-claim-list")).content.decode()
    assert "No Scheme M claim yet." in get(client, people["other_reviewer"],
                                           reverse("riskpool:m-claim-list")).content.decode()


def test_claim_list_is_paginated(client, world, people):
    for _ in range(51):
        MClaim.objects.create(product=world.products["sci_tech"], firm=world.firm, state="submitted",
                              compensation=paid_compensation(world.firm), submitted_on=date(2025, 3, 1),
                              payout=D("100.00"), ratio=D("0.4"), amount=D("40.00"))
    page1 = get(client, people["alice"], reverse("riskpool:m-claim-list"))
    assert "Page 1 of 2" in page1.content.decode()
    assert len(page1.context["rows"]) == 50
    assert len(client.get(reverse("riskpool:m-claim-list") + "?page=2").context["rows"]) == 1


# --- the claim form: quote before saving -----------------------------------------------------------


def claim_data(world, compensation, product="sci_tech", **extra):
    return {"product": world.products[product].pk, "compensation": compensation.pk, "submitted_on": "2025-03-01",
            **extra}


def test_claim_form_shows_ratio_amount_and_rules_before_saving_then_submits(client, world, people):
    compensation = paid_compensation(world.firm, paid_amount=D("1234567.89"))
    url = reverse("riskpool:m-claim-create")
    response = post(client, people["alice"], url, claim_data(world, compensation))
    html = response.content.decode()
    assert response.status_code == 200 and not MClaim.objects.exists()
    assert "Ratio 40.00% (RP-M1): reimbursement 493,827.16 yuan." in html
    assert "in the provincial new government-bank-guarantee system in 2025" in html
    assert "when new business in 科信贷 was not suspended" in html and "No exclusion applies." in html
    response = client.post(url, {**claim_data(world, compensation), "confirmed": "1"})
    m_claim = MClaim.objects.get()
    assert response.status_code == 302 and response.url == reverse("riskpool:m-claim-detail", args=[m_claim.pk])
    assert (m_claim.ratio, m_claim.amount, m_claim.state) == (D("0.400000"), D("493827.16"), "submitted")


def test_claim_form_20_percent_outside_the_system(client, world, people):
    compensation = paid_compensation(world.firm, paid_amount=D("1000000.00"), paid_on=date(2024, 6, 30))
    html = post(client, people["alice"], reverse("riskpool:m-claim-create"),
                claim_data(world, compensation)).content.decode()
    assert "Ratio 20.00% (RP-M1): reimbursement 200,000.00 yuan." in html and "no profile for 2024" in html


def test_claim_form_lists_the_exclusions_in_words_and_refuses(client, world, people):
    compensation = paid_compensation(world.firm)
    url = reverse("riskpool:m-claim-create")
    data = claim_data(world, compensation, x_fraud="on", x_late_collection="on")
    html = post(client, people["alice"], url, data).content.decode()
    assert "There was fraud, misappropriation or collusion" in html
    assert "did not collect in time after the default" in html
    assert 'id="confirm-form"' not in html  # nothing to confirm
    response = client.post(url, {**data, "confirmed": "1"})  # forced: the service refuses it
    assert response.status_code == 400 and not MClaim.objects.exists()
    assert "There was fraud" in response.content.decode()


def test_rpm3_claim_form_refuses_business_begun_while_the_product_is_suspended(client, world, people):
    world.paid_claim("export", D("17500000.00"))  # paid 2025-03-10: 70% of 10,000,000, suspended from then
    late = paid_compensation(world.firm, guarantee__start=date(2025, 3, 10), guarantee__loan_start=date(2025, 3, 10),
                             paid_on=date(2025, 3, 20))
    html = post(client, people["alice"], reverse("riskpool:m-claim-create"),
                claim_data(world, late, product="export", submitted_on="2025-03-25")).content.decode()
    assert "New business in 出口贷 is suspended for everyone since 2025-03-10" in html and "have reached 70%" in html
    assert 'id="confirm-form"' not in html


def test_rpm3_claim_form_accepts_a_payout_on_earlier_business_while_suspended(client, world, people):
    world.paid_claim("export", D("17500000.00"))
    earlier = paid_compensation(world.firm)  # guarantee begun 2024-06-03, before the suspension
    html = post(client, people["alice"], reverse("riskpool:m-claim-create"),
                claim_data(world, earlier, product="export")).content.decode()
    assert "a payout on earlier business is reimbursed even while new business is suspended now" in html
    assert 'id="confirm-form"' in html


def test_claim_form_refuses_another_firms_compensation_and_missing_fields(client, world, people):
    theirs = paid_compensation(people["bob"].organisation)
    response = post(client, people["alice"], reverse("riskpool:m-claim-create"), claim_data(world, theirs))
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    response = client.post(reverse("riskpool:m-claim-create"), {"product": world.products["sci_tech"].pk})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert not MClaim.objects.exists()


def test_claim_form_offers_only_paid_unclaimed_compensations(client, world, people):
    claimed = world.submit().compensation
    free = paid_compensation(world.firm)
    paid_compensation(world.firm, paid_amount=None, paid_on=None)
    response = get(client, people["alice"], reverse("riskpool:m-claim-create"))
    assert list(response.context["form"].fields["compensation"].queryset) == [free]
    assert claimed not in response.context["form"].fields["compensation"].queryset


# --- review, pay ------------------------------------------------------------------------------------


def action_url(m_claim, action):
    return reverse("riskpool:m-claim-action", args=[m_claim.pk, action])


def test_review_rejection_needs_reasons_then_is_recorded(client, world, people):
    m_claim = world.submit()
    response = post(client, people["reviewer"], action_url(m_claim, "review"), {"review-approve": "no"})
    assert response.status_code == 400 and "A rejection needs the reasons." in response.content.decode()
    assert reload(m_claim).state == "submitted"
    client.post(action_url(m_claim, "review"), {"review-approve": "no", "review-note": "代偿凭证不全"})
    assert reload(m_claim).state == "rejected" and m_claim.reasons[-1]["message"] == "代偿凭证不全"


def test_review_queue_and_approval(client, world, people):
    m_claim = world.submit()
    assert m_claim in get(client, people["reviewer"], reverse("riskpool:m-review")).context["page"].object_list
    assert not get(client, people["other_reviewer"], reverse("riskpool:m-review")).context["rows"]
    response = post(client, people["reviewer"], action_url(m_claim, "review"), {"review-approve": "yes"})
    assert response.status_code == 302 and reload(m_claim).state == "approved"


@pytest.mark.parametrize(("person", "action", "status"), [
    ("treasurer", "review", 403), ("alice", "review", 403), ("other_reviewer", "review", 404),
    ("bob", "review", 404), ("reviewer", "pay", 403), ("alice", "pay", 403), ("other_treasurer", "pay", 404),
    ("reviewer", "return", 403), ("bob", "return", 404),
])
def test_claim_steps_refused_to_other_roles_and_other_organisations(client, world, people, person, action, status):
    m_claim = world.submit()
    response = post(client, people[person], action_url(m_claim, action),
                    {"review-approve": "yes", "pay-on": "2025-03-10", "pay-idempotency_key": "k", "confirmed": "1"})
    assert response.status_code == status
    assert reload(m_claim).state == "submitted"


def test_pay_asks_for_confirmation_then_pays_once(client, world, people):
    m_claim = world.approve(world.submit())
    queue = get(client, people["treasurer"], reverse("riskpool:m-pay"))
    assert m_claim in queue.context["page"].object_list
    data = {"pay-on": "2025-03-10", "pay-idempotency_key": "page-key-1"}
    response = client.post(action_url(m_claim, "pay"), data)
    assert response.status_code == 200 and "Please confirm" in response.content.decode()
    assert "400,000.00" in response.content.decode() or "400000.00" in response.content.decode()
    assert reload(m_claim).state == "approved" and not LedgerEntry.objects.filter(m_claim=m_claim).exists()
    assert client.post(action_url(m_claim, "pay"), {**data, "confirmed": "1"}).status_code == 302
    client.post(action_url(m_claim, "pay"), {**data, "confirmed": "1"})  # a double submit
    assert reload(m_claim).state == "paid"
    assert list(LedgerEntry.objects.filter(m_claim=m_claim).values_list("amount", flat=True)) == [D("-400000.00")]


def test_pay_beyond_the_sub_fund_shows_the_rule(client, world, people):
    first = world.approve(world.submit("export", D("20000000.00")))  # 8,000,000
    second = world.approve(world.submit("export", D("7500000.00")))  # 3,000,000: 11,000,000 > 10,000,000
    world.pay(first)
    response = post(client, people["treasurer"], action_url(second, "pay"),
                    {"pay-on": "2025-03-11", "pay-idempotency_key": "k-2", "confirmed": "1"})
    assert response.status_code == 400 and "The export sub-fund" in response.content.decode()
    assert reload(second).state == "approved"


# --- RP-M5 recovery returns -----------------------------------------------------------------------


def return_data(received_on, booked_on, recovery="500000.00", costs="50000.00", key="ret-1", **extra):
    return {"return-received_on": received_on.isoformat(), "return-on": booked_on.isoformat(),
            "return-recovery": recovery, "return-costs": costs, "return-idempotency_key": key, **extra}


def test_rpm5_return_shows_amount_and_due_date_then_records(client, world, people):
    m_claim = world.paid_claim(payout=D("1000000.00"))  # reimbursed 400,000
    detail = get(client, people["alice"], reverse("riskpool:m-claim-detail", args=[m_claim.pk]))
    assert 'id="return-form"' in detail.content.decode()
    data = return_data(date(2025, 6, 1), date(2025, 6, 20))
    html = client.post(action_url(m_claim, "return"), data).content.decode()
    assert "= 180000.00 yuan to return" in html and "by 2025-07-01" in html and "on time" in html
    assert reload(m_claim).returned_amount == D("0")
    response = client.post(action_url(m_claim, "return"), {**data, "confirmed": "1"})
    assert response.status_code == 302 and reload(m_claim).returned_amount == D("180000.00")
    client.post(action_url(m_claim, "return"), {**data, "confirmed": "1"})  # a double submit
    assert reload(m_claim).returned_amount == D("180000.00")
    assert LedgerEntry.objects.filter(m_claim=m_claim, kind=LedgerEntry.Kind.RETURN_RECOVERY).count() == 1


def test_rpm5_returned_on_exactly_the_30th_day_is_in_time_the_31st_is_late(client, world, people):
    m_claim = world.paid_claim()
    client.force_login(people["alice"])
    html = client.post(action_url(m_claim, "return"), return_data(date(2025, 6, 1), date(2025, 7, 1))).content.decode()
    assert "by 2025-07-01" in html and "Returned on 2025-07-01: on time." in html
    html = client.post(action_url(m_claim, "return"), return_data(date(2025, 6, 1), date(2025, 7, 2))).content.decode()
    assert "by 2025-07-01" in html and "Returned on 2025-07-02: 1 days late." in html


def test_rpm5_return_form_validation(client, world, people):
    m_claim = world.paid_claim()
    client.force_login(people["alice"])
    response = client.post(action_url(m_claim, "return"), return_data(date(2025, 6, 1), date(2025, 6, 2),
                                                                       recovery="0", confirmed="1"))
    assert response.status_code == 400 and "This amount must be more than 0." in response.content.decode()
    response = client.post(action_url(m_claim, "return"), return_data(date(2025, 6, 1), date(2025, 6, 2),
                                                                       recovery="abc"))
    assert response.status_code == 400 and "Enter a number." in response.content.decode()


def test_rpm5_return_only_on_a_paid_claim(client, world, people):
    m_claim = world.approve(world.submit())
    response = post(client, people["alice"], action_url(m_claim, "return"),
                    {**return_data(date(2025, 6, 1), date(2025, 6, 2)), "confirmed": "1"})
    assert response.status_code == 409 and "Only a reimbursed claim returns recoveries." in response.content.decode()


# --- products -----------------------------------------------------------------------------------


def test_products_page_shows_size_reimbursed_70_line_rates_and_suspension(client, world, people):
    world.paid_claim("export", D("17500000.00"))  # 7,000,000: 70%
    response = get(client, people["authority"], reverse("riskpool:m-products"))
    html = response.content.decode()
    rows = {r["row"].product.code: r["row"] for r in response.context["rows"]}
    assert set(rows) == {"sci_tech", "export", "tax_source", "fixed_asset_investment"}
    export = rows["export"]
    assert (export.product.size, export.subfund_reimbursed, export.line_70, export.suspension.suspended) == (
        D("10000000.00"), D("7000000.00"), D("7000000.00"), True)
    assert not rows["sci_tech"].suspension.suspended
    assert "have reached 70%" in html and "no loans yet" in html and "suspended" in html
    assert "not available" not in html
    assert not get(client, people["other_authority"], reverse("riskpool:m-products")).context["rows"]


def test_a_sub_fund_is_named_by_its_products_not_its_code(client, world, people):
    """Issue 13.2: the shared sub-fund reads as the products that share it."""
    from riskpool.models import Product

    products = {p.code: p for p in Product.objects.filter(pool=world.pool)}
    Product.objects.filter(pk__in=[products["tax_source"].pk, products["fixed_asset_investment"].pk]).update(
        subfund="tax_and_fixed_asset")
    response = get(client, people["authority"], reverse("riskpool:m-products"))
    shown = {item["row"].product.code: item["subfund"] for item in response.context["rows"]}
    both = f"{products['tax_source'].name}、{products['fixed_asset_investment'].name}"
    assert shown["tax_source"] == shown["fixed_asset_investment"] == both
    assert "tax_and_fixed_asset" not in response.content.decode()


# --- RP-M6 reports ------------------------------------------------------------------------------

YEAR = shanghai_today().year - 2  # a year whose March deadline has passed


@pytest.fixture
def report(world):
    world.paid_claim("sci_tech")
    services_m.m_annual_report(year=YEAR)
    return MAnnualReport.objects.get(pool=world.pool, year=YEAR)


def test_reports_list_detail_for_the_pool_and_404_for_another_pool(client, world, people, report):
    listed = get(client, people["reviewer"], reverse("riskpool:m-reports"))
    assert [r["report"] for r in listed.context["rows"]] == [report]
    theirs = [r["report"] for r in get(client, people["other_reviewer"], reverse("riskpool:m-reports")).context["rows"]]
    assert report not in theirs and len(theirs) == 1  # only their own pool's report
    url = reverse("riskpool:m-report-detail", args=[report.pk])
    for person in ("reviewer", "treasurer", "authority"):
        assert get(client, people[person], url).status_code == 200, person
    for person in ("other_reviewer", "other_authority"):
        assert get(client, people[person], url).status_code == 404, person
    for person in ("alice", "carol"):
        assert get(client, people[person], url).status_code == 403, person
    assert "overdue" in get(client, people["reviewer"], url).content.decode()


def test_report_export_is_an_xlsx_with_a_row_per_product(client, world, people, report):
    from openpyxl import load_workbook

    response = get(client, people["authority"], reverse("riskpool:m-report-export", args=[report.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert str(YEAR) in values[0][0]
    products = [row[0] for row in values if row and row[0] in {"科信贷", "出口贷", "税源贷", "固定资产投资贷"}]
    assert sorted(products) == sorted(["科信贷", "出口贷", "税源贷", "固定资产投资贷"])
    assert get(client, people["other_authority"],
               reverse("riskpool:m-report-export", args=[report.pk])).status_code == 404


def test_report_submission_by_the_fund_manager_in_time_and_late(client, world, people, report):
    url = reverse("riskpool:m-report-submit", args=[report.pk])
    assert post(client, people["authority"], url, {"on": f"{YEAR + 1}-03-31"}).status_code == 403
    assert post(client, people["other_reviewer"], url, {"on": f"{YEAR + 1}-03-31"}).status_code == 404
    response = post(client, people["reviewer"], url, {"on": f"{YEAR}-12-31"})
    assert response.status_code == 400 and f"The report on {YEAR} can be submitted from 1 January" in (
        response.content.decode())
    assert post(client, people["reviewer"], url, {"on": ""}).status_code == 400
    assert client.post(url, {"on": f"{YEAR + 1}-03-31"}).status_code == 302
    assert reload(report).submitted_on == date(YEAR + 1, 3, 31)
    html = client.get(reverse("riskpool:m-report-detail", args=[report.pk])).content.decode()
    assert 'id="submit-form"' not in html and "late" not in html.split('id="submitted"')[1].split("</dd>")[0]
    response = client.post(url, {"on": f"{YEAR + 1}-04-01"})
    assert response.status_code == 409


def test_report_submitted_after_march_is_marked_late(client, world, people, report):
    post(client, people["reviewer"], reverse("riskpool:m-report-submit", args=[report.pk]), {"on": f"{YEAR + 1}-04-01"})
    html = client.get(reverse("riskpool:m-report-detail", args=[report.pk])).content.decode()
    assert "late" in html.split('id="submitted"')[1].split("</dd>")[0]


# --- query counts -------------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("person", "name"), [
    ("alice", "m-claim-list"), ("reviewer", "m-claim-list"), ("reviewer", "m-review"), ("treasurer", "m-pay"),
    ("authority", "m-products"), ("reviewer", "m-reports"),
])
def test_list_pages_take_a_constant_number_of_queries(client, world, people, person, name):
    def more(n):
        for _ in range(n):
            world.submit(payout=D("10000.00"))
            world.approve(world.submit(payout=D("10000.00")))
        world.paid_claim(payout=D("10000.00"))
        services_m.m_annual_report(year=2025)
        services_m.m_annual_report(year=2030 + n)

    client.force_login(people[person])
    more(1)
    few = _count(client, reverse(f"riskpool:{name}"))
    more(5)
    many = _count(client, reverse(f"riskpool:{name}"))
    assert many == few, (few, many)


def test_report_export_writes_a_product_name_typed_as_a_formula_as_text(client, world, people, report):
    """Issue 10 point 3."""
    from riskpool.models import Product
    from tests.spreadsheets import HOSTILE, assert_literal

    Product.objects.filter(pk=report.lines.first().product_id).update(name=HOSTILE)
    assert_literal(get(client, people["authority"], reverse("riskpool:m-report-export", args=[report.pk])).content)


def test_rpm5_the_return_form_lists_every_problem_in_one_pass(client, world, people):
    """Issue 13.3: costs that are not a number (field), nothing recovered and a return dated
    before the money was received (RP-M5) are all shown at once."""
    m_claim = world.paid_claim()
    client.force_login(people["alice"])
    response = client.post(action_url(m_claim, "return"), return_data(date(2025, 6, 1), date(2025, 5, 20),
                                                                       recovery="0", costs="abc"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a number." in html and "RP-M5: This amount must be more than 0." in html
    assert "RP-M5: The money is returned on or after the day it was received." in html
    assert reload(m_claim).returned_amount == D("0")
