"""Scheme M (马政办〔2024〕6号) per party and per product: RP-M3 suspends one guarantee firm's or
bank's new business in one product at its own 4% rate, and everyone's at the product's 70%
trigger, from the day it trips; payouts on earlier business are still reimbursed. RP-M1 covers
business from 2024-05-15 on (第八条(三), 第二十三、二十四条). Products are tagged on guarantees and
loan projects through the services, forms, API and uploads."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook
from rest_framework.test import APIClient

from core.audit_display import label_of
from core.calendar import shanghai_today
from core.errors import RuleViolation
from core.i18n_text import render
from core.models import AuditEvent, Organisation, RuleSet
from guarantees import services as gservices
from guarantees.models import Guarantee
from riskpool import rules, services, services_m
from riskpool.models import LoanProject, MClaim, ProductPartySuspension
from tests.audit_text import english
from tests.factories import (
    AgreementFactory,
    BorrowerDataFactory,
    CompensationFactory,
    GuaranteeDataFactory,
    GuaranteeFactory,
    LoanProjectFactory,
    MemberFactory,
    OrganisationFactory,
    bank_user,
    firm_user,
    guarantee_api_payload,
    paid_compensation,
    riskpool_project_payload,
)
from tests.riskpool.test_scheme_m import MWorld, reload

pytestmark = pytest.mark.django_db
ON = date(2025, 3, 1)
S = Guarantee.Status


@pytest.fixture
def world():
    return MWorld()


def _open(product, org):
    return ProductPartySuspension.objects.filter(product=product, organisation=org, lifted_on__isnull=True).first()


def _guarantee(world, product, *, start, firm=None, **data):
    """A guarantee of ``firm`` (default the world's firm) recorded through the service."""
    firm_op = world.firm_user if firm is None else firm_user(organisation=firm)
    agreement = AgreementFactory(firm=firm_op.organisation, signed_on=date(2024, 1, 1), expires_on=date(2027, 12, 31))
    return gservices.guarantee_create(
        user=firm_op, agreement=agreement, borrower=BorrowerDataFactory(),
        data=GuaranteeDataFactory(product=product, start=start, loan_start=start,
                                  end=start + timedelta(days=364), loan_maturity=start + timedelta(days=364), **data),
    )


def _firm_history(firm, product, *, released, compensated, paid, closed_on=date(2025, 1, 10)):
    """The firm's ended guarantees of ``product``: one released, one compensated with ``paid``."""
    agreement = AgreementFactory(firm=firm)
    GuaranteeFactory(agreement=agreement, product=product, amount=released, status=S.RELEASED, closed_on=closed_on,
                     start=date(2024, 6, 3), loan_start=date(2024, 6, 3))
    compensated_g = GuaranteeFactory(agreement=agreement, product=product, amount=compensated, status=S.COMPENSATED,
                                     closed_on=closed_on, start=date(2024, 6, 3), loan_start=date(2024, 6, 3))
    CompensationFactory(guarantee=compensated_g, paid_on=closed_on, paid_amount=paid)


# --- RP-M3: a firm's own compensation rate on the product --------------------------------------


def test_rpm3_firm_compensation_rate_on_the_product_exactly_4_percent_does_not_suspend(world):
    sci = world.products["sci_tech"]
    _firm_history(world.firm, sci, released=D("960000.00"), compensated=D("40000.00"), paid=D("40000.00"))
    services_m.product_refresh_suspension(sci, on=ON)
    assert _open(sci, world.firm) is None and not reload(sci).suspended


def test_rpm3_firm_compensation_rate_on_the_product_above_4_percent_suspends_that_firm_only(world):
    sci, export = world.products["sci_tech"], world.products["export"]
    _firm_history(world.firm, sci, released=D("960000.00"), compensated=D("40000.00"), paid=D("40001.00"))
    other_firm = firm_user().organisation
    _firm_history(other_firm, sci, released=D("1000000.00"), compensated=D("10000.00"), paid=D("10000.00"))
    services_m.products_refresh_suspension([sci, export], on=ON)
    row = _open(sci, world.firm)
    assert row is not None and row.role == "firm" and row.since == ON and row.rate == D("0.040001")
    assert "4.0001%" in " ".join(render(r["message"]) for r in row.reasons)
    assert _open(sci, other_firm) is None and _open(export, world.firm) is None
    assert not reload(sci).suspended  # the 4% trigger never stops the whole product
    assert any("suspended from 2025-03-01" in english(s) for s in AuditEvent.objects.values_list("summary", flat=True))
    # New business of the suspended firm in the product, from that day, is refused …
    with pytest.raises(RuleViolation) as caught:
        _guarantee(world, sci, start=ON)
    assert [(p.rule, p.field) for p in caught.value.problems] == [("RP-M3", "product")]
    assert world.firm.name in str(caught.value.problems[0].message)
    # … the day before is earlier business; another product and another firm are open.
    assert _guarantee(world, sci, start=ON - timedelta(days=1)).product == sci
    assert _guarantee(world, export, start=ON).product == export
    assert _guarantee(world, sci, start=ON, firm=other_firm).product == sci


def test_rpm3_firm_suspension_lifts_when_its_rate_falls_back(world):
    sci = world.products["sci_tech"]
    _firm_history(world.firm, sci, released=D("900000.00"), compensated=D("100000.00"), paid=D("100000.00"))
    services_m.product_refresh_suspension(sci, on=ON)
    assert _open(sci, world.firm) is not None
    GuaranteeFactory(agreement=AgreementFactory(firm=world.firm), product=sci, amount=D("2000000.00"),
                     status=S.RELEASED, closed_on=date(2025, 3, 20))
    lifted_on = date(2025, 4, 1)
    services_m.product_refresh_suspension(sci, on=lifted_on)  # 100,000 ÷ 3,000,000 = 3.33%
    row = ProductPartySuspension.objects.get(product=sci, organisation=world.firm)
    assert (row.since, row.lifted_on) == (ON, lifted_on)
    assert _guarantee(world, sci, start=lifted_on).product == sci
    with pytest.raises(RuleViolation):  # business dated while the suspension was in force stays refused
        _guarantee(world, sci, start=date(2025, 3, 31))


# --- RP-M3: a bank's NPL rate on the product's loans -------------------------------------------


def _bank_book(bank, product, *, normal, npl):
    """A loan project of the bank in the product (normal) and a guaranteed loan of it in default."""
    LoanProjectFactory(bank=bank, product=product, principal=normal, disbursed_on=date(2024, 7, 1))
    GuaranteeFactory(agreement=AgreementFactory(bank=bank), product=product, loan_principal=npl, amount=npl,
                     status=S.DEFAULTED, start=date(2024, 7, 1), loan_start=date(2024, 7, 1))


def test_rpm3_bank_npl_rate_on_the_product_exactly_4_percent_does_not_suspend_above_does(world):
    sci = world.products["sci_tech"]
    at_line = OrganisationFactory(kind=Organisation.Kind.BANK, name="甲银行")
    above = OrganisationFactory(kind=Organisation.Kind.BANK, name="乙银行")
    _bank_book(at_line, sci, normal=D("960000.00"), npl=D("40000.00"))
    _bank_book(above, sci, normal=D("959999.00"), npl=D("40001.00"))
    LoanProjectFactory(bank=at_line, principal=D("5000000.00"), classification="loss")  # untagged: not the product's
    services_m.product_refresh_suspension(sci, on=ON)
    assert _open(sci, at_line) is None
    row = _open(sci, above)
    assert row.role == "bank" and row.rate == D("0.040001")
    figures = services_m.product_risk_figures([sci], on=ON)[sci.pk]
    assert figures.npl_rate == D("0.040001")  # 80,001 ÷ 2,000,000 over both banks: a number, never "not available"


def test_rpm3_suspended_bank_cannot_enter_a_loan_of_the_product_but_can_others(world):
    sci = world.products["sci_tech"]
    banker = bank_user()
    pool = MemberFactory(organisation=banker.organisation).pool
    _bank_book(banker.organisation, sci, normal=D("900000.00"), npl=D("100000.00"))
    today = shanghai_today()
    services_m.product_refresh_suspension(sci, on=today)
    data = dict(loan_no="JJ-M3-1", loan_kind="enterprise", principal=D("100000.00"), disbursed_on=today,
                maturity_on=today + timedelta(days=365), annual_rate=D("0.040000"), other_balance=D("0"))
    with pytest.raises(RuleViolation) as caught:
        services.project_register(user=banker, pool=pool, borrower=BorrowerDataFactory(),
                                  data=services.ProjectData(**data, product=sci))
    assert [p.rule for p in caught.value.problems] == ["RP-M3"]
    project = services.project_register(user=banker, pool=pool, borrower=BorrowerDataFactory(),
                                        data=services.ProjectData(**{**data, "loan_no": "JJ-M3-2"},
                                                                  product=world.products["export"]))
    assert project.product == world.products["export"]
    with pytest.raises(RuleViolation):  # and the firm's guarantee on that bank's loan is the bank's business too
        gservices.guarantee_create(
            user=world.firm_user, agreement=AgreementFactory(firm=world.firm, bank=banker.organisation,
                                                             expires_on=date(2027, 12, 31)),
            borrower=BorrowerDataFactory(), data=GuaranteeDataFactory(product=sci, start=today, loan_start=today,
                                                                      end=today + timedelta(days=30),
                                                                      loan_maturity=today + timedelta(days=30)))


# --- RP-M3: the product's own 70% trigger and earlier business ---------------------------------


def test_rpm3_70_percent_suspends_the_product_from_the_payout_day_and_just_under_does_not(world):
    world.paid_claim("sci_tech", D("61249999.97"))  # 24,499,999.99: just under 70% of 35,000,000
    assert not reload(world.products["sci_tech"]).suspended
    world.paid_claim("export", D("17500000.00"))  # 7,000,000.00: exactly 70%, paid 2025-03-10
    export = reload(world.products["export"])
    assert export.suspended and export.suspended_since == date(2025, 3, 10)
    with pytest.raises(RuleViolation) as caught:
        _guarantee(world, export, start=date(2025, 3, 10))
    assert "suspended for everyone since 2025-03-10" in str(caught.value.problems[0].message)
    assert _guarantee(world, export, start=date(2025, 3, 9)).product == export  # earlier business


def test_rpm3_payout_on_earlier_business_is_still_reimbursed_while_suspended(world):
    world.paid_claim("export", D("17500000.00"))
    m_claim = world.submit("export")  # its guarantee began 2024-06-03
    assert m_claim.state == "submitted" and m_claim.product == world.products["export"]


def test_rpm3_payout_on_business_begun_on_the_suspension_day_is_refused_the_day_before_accepted(world):
    world.paid_claim("export", D("17500000.00"))
    on_the_day = paid_compensation(world.firm, guarantee__start=date(2025, 3, 10), paid_on=date(2025, 3, 20))
    with pytest.raises(RuleViolation) as caught:
        world.submit("export", compensation=on_the_day, exclusions={"fraud": True})
    assert [p.rule for p in caught.value.problems] == ["RP-M3", "RP-M4"]
    day_before = paid_compensation(world.firm, guarantee__start=date(2025, 3, 9), paid_on=date(2025, 3, 20))
    assert world.submit("export", compensation=day_before).state == "submitted"


# --- RP-M1: the rule set starts 2024-05-15; older products' older business keeps its terms ------


def test_rpm1_rule_set_starts_on_2024_05_15():
    shipped = RuleSet.objects.get(scheme=RuleSet.Scheme.RISKPOOL_M)
    assert shipped.effective_from == date(2024, 5, 15)
    assert services_m.scheme_m_params(date(2024, 5, 15)).suspension_usage == D("0.700000")
    with pytest.raises(RuleViolation) as caught:
        services_m.scheme_m_params(date(2024, 5, 14))
    assert caught.value.rule == "RULESET"


def test_rpm1_older_products_business_before_2024_05_15_is_refused_naming_the_date(world):
    before = paid_compensation(world.firm, guarantee__start=date(2024, 5, 14), guarantee__loan_start=date(2024, 5, 14))
    with pytest.raises(RuleViolation) as caught:
        world.submit("export", compensation=before)
    problem = caught.value.problems[0]
    assert problem.rule == "RP-M1" and "2024-05-15" in str(problem.message) and "第八条(三)" in str(problem.message)
    assert not MClaim.objects.exists()


def test_rpm1_business_from_2024_05_15_is_covered(world):
    first_day = paid_compensation(world.firm, guarantee__start=date(2024, 5, 15),
                                  guarantee__loan_start=date(2024, 5, 15))
    m_claim = world.submit("tax_source", compensation=first_day)
    assert m_claim.state == "submitted"
    assert any(r["rule"] == "RP-M1" and r["outcome"] == "pass" and "2024-05-15" in render(r["message"])
               for r in m_claim.reasons)


def test_rpm1_new_product_business_before_2024_05_15_is_refused():
    reason = rules.m_business_covered(date(2024, 5, 14), "sci_tech", "科信贷")
    assert reason.outcome == rules.FAIL and "第二十三条" in str(reason.message) and "2024-05-15" in str(reason.message)
    assert rules.m_business_covered(date(2024, 5, 15), "sci_tech", "科信贷").outcome == rules.PASS


def test_rpm1_preview_of_older_business_quotes_no_ratio(world):
    before = paid_compensation(world.firm, guarantee__start=date(2024, 3, 1), paid_on=date(2024, 4, 1))
    preview = services_m.m_claim_preview(user=world.firm_user, product=world.products["export"],
                                         compensation=before, exclusions={})
    assert preview.refused and preview.ratio is None
    assert [r.rule for r in preview.reasons if r.outcome == rules.FAIL] == ["RP-M1"]


# --- the product of the business --------------------------------------------------------------


def test_rpm2_claim_on_another_product_than_the_guarantees_is_refused(world):
    compensation = paid_compensation(world.firm, guarantee__product=world.products["export"])
    with pytest.raises(RuleViolation) as caught:
        world.submit("sci_tech", compensation=compensation)
    assert [(p.rule, p.field) for p in caught.value.problems] == [("RP-M2", "product")]


def test_rpm3_untagged_guarantee_is_tagged_by_its_claim_and_counts_for_the_firms_rate(world):
    compensation = paid_compensation(world.firm)
    world.submit("sci_tech", compensation=compensation)
    guarantee = reload(compensation.guarantee)
    assert guarantee.product == world.products["sci_tech"]
    with translation.override("en"):
        tagged = f"tagged with product {label_of('sci_tech')} by its Scheme M claim"
    assert any(tagged in english(s) for s in AuditEvent.objects.values_list("summary", flat=True))


def test_rpm3_product_through_the_guarantee_api_and_upload(world):
    api = APIClient()
    api.force_login(world.firm_user)
    agreement = AgreementFactory(firm=world.firm)
    url = reverse("guarantees-api:guarantee-list")
    body = api.post(url, guarantee_api_payload(agreement, product=world.products["sci_tech"].pk), format="json").json()
    assert body["product"] == world.products["sci_tech"].pk and body["product_name"] == "科信贷"
    other_firm = firm_user()
    theirs = AgreementFactory(firm=other_firm.organisation)
    _firm_history(other_firm.organisation, world.products["sci_tech"], released=D("1"), compensated=D("1"),
                  paid=D("1"))
    services_m.product_refresh_suspension(world.products["sci_tech"], on=ON)
    api.force_login(other_firm)
    dates = {"start": "2025-03-01", "loan_start": "2025-03-01", "end": "2026-02-28", "loan_maturity": "2026-02-28"}
    refused = api.post(url, guarantee_api_payload(theirs, product=world.products["sci_tech"].pk, **dates),
                       format="json")
    assert refused.status_code == 400 and [e["rule"] for e in refused.json()["errors"]] == ["RP-M3"]

    from guarantees.imports import TEMPLATE_HEADERS
    from tests.guarantees.test_imports import row, xlsx_bytes

    assert "政策性贷款产品" in TEMPLATE_HEADERS
    rows = [row(1, **{"合作协议编号": agreement.code, "政策性贷款产品": "出口贷"}),
            row(2, **{"合作协议编号": agreement.code, "政策性贷款产品": "tax_source"}),
            row(3, **{"合作协议编号": agreement.code})]
    client = api
    client.force_login(world.firm_user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("guarantees:guarantee-import"),
                           {"file": SimpleUploadedFile("g.xlsx", xlsx_bytes(rows))})
    assert response.status_code == 302
    tagged = dict(Guarantee.objects.filter(contract_no__startswith="DB-IMP-").values_list("contract_no", "product__code"))
    assert tagged == {"DB-IMP-0001": "export", "DB-IMP-0002": "tax_source", "DB-IMP-0003": None}


def test_rpm3_unknown_product_in_an_upload_is_a_row_error_naming_the_column(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.guarantees.test_imports import row, xlsx_bytes

    agreement = AgreementFactory(firm=world.firm)
    client = APIClient()
    client.force_login(world.firm_user)
    response = client.post(reverse("guarantees:guarantee-import"), {"file": SimpleUploadedFile(
        "g.xlsx", xlsx_bytes([row(1, **{"合作协议编号": agreement.code, "政策性贷款产品": "创业贷"})]))},
        HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 400 and "政策性贷款产品" in page and "创业贷" in page
    assert not Guarantee.objects.exists()


def test_rpm3_product_through_the_loan_project_api_and_upload(world):
    banker = bank_user()
    pool = MemberFactory(organisation=banker.organisation).pool
    api = APIClient()
    api.force_login(banker)
    today = shanghai_today()
    payload = riskpool_project_payload(pool=pool.pk, product=world.products["export"].pk,
                                       disbursed_on=today.isoformat(),
                                       maturity_on=(today + timedelta(days=365)).isoformat())
    response = api.post(reverse("riskpool-api:project-list"), payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["product"] == world.products["export"].pk
    from riskpool import imports as rimports

    assert "政策性贷款产品" in rimports.TEMPLATE_HEADERS
    book = Workbook()
    sheet = book.active
    sheet.append(["借款人名称", "证件类型", "证件号码", "借款人类型", "企业规模(填报)", "企业规模依据", "借据号",
                  "贷款类型", "贷款本金", "借据日期", "到期日", "年利率(%)", "其他流动资金贷款余额(元)",
                  "政策性贷款产品"])
    from tests.factories import make_credit_code

    sheet.append(["上传企业", "统一社会信用代码", make_credit_code(), "企业", "小型", "2024 年报", "JJ-UP-1", "企业贷款",
                  "500000", today.isoformat(), (today + timedelta(days=365)).isoformat(), "4.2", "0", "科信贷"])
    buffer = BytesIO()
    book.save(buffer)
    parsed = rimports.parse_table(rimports.base.read_table(buffer.getvalue()))
    assert parsed.rows[0]["data"].product == world.products["sci_tech"], parsed.rows[0]
    assert LoanProject.objects.get(loan_no=payload["loan_no"]).product == world.products["export"]


# --- the pages ----------------------------------------------------------------------------------


def test_rpm3_products_page_lists_each_party_with_its_rate_and_state(client, world):
    sci = world.products["sci_tech"]
    _firm_history(world.firm, sci, released=D("900000.00"), compensated=D("100000.00"), paid=D("100000.00"))
    bank = OrganisationFactory(kind=Organisation.Kind.BANK, name="丙银行")
    _bank_book(bank, sci, normal=D("990000.00"), npl=D("10000.00"))
    client.force_login(world.authority)
    response = client.get(reverse("riskpool:m-products"), HTTP_ACCEPT_LANGUAGE="en")
    row = next(r["row"] for r in response.context["rows"] if r["row"].product.code == "sci_tech")
    states = {p.name: (p.role, p.rate, p.suspension.suspended) for p in row.parties}
    assert states[world.firm.name] == ("firm", D("0.100000"), True)
    assert states["丙银行"] == ("bank", D("0.010000"), False)
    html = response.content.decode()
    assert f'data-party="{world.firm.name}"' in html and "丙银行" in html and "not available" not in html
    assert not row.suspension.suspended  # one firm above 4% never suspends the product for everyone


def test_rpm3_products_page_states_the_rates_of_the_rule_set_in_force(client, world):
    client.force_login(world.authority)
    page = client.get(reverse("riskpool:m-products"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "exceeds 4.00%" in page and "reach 70.00% of its size" in page and "70.00% line (yuan)" in page
    shipped = RuleSet.objects.get(scheme=RuleSet.Scheme.RISKPOOL_M)
    RuleSet.objects.filter(pk=shipped.pk).update(
        params={**shipped.params, "suspension_rate": "0.050000", "suspension_usage": "0.650000"})
    page = client.get(reverse("riskpool:m-products"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "exceeds 5.00%" in page and "reach 65.00% of its size" in page and "65.00% line (yuan)" in page
    assert "4.00%" not in page and "70.00%" not in page


def test_rpm3_product_field_on_the_guarantee_and_loan_forms(client, world):
    client.force_login(world.firm_user)
    AgreementFactory(firm=world.firm)
    page = client.get(reverse("guarantees:guarantee-create"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Policy loan product" in page and "科信贷" in page
    banker = bank_user()
    MemberFactory(organisation=banker.organisation)
    client.force_login(banker)
    page = client.get(reverse("riskpool:project-create"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Policy loan product" in page and "出口贷" in page
