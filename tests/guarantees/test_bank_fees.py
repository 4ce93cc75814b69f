"""GU-5 on the lending bank (seed 000 (十一), 马政办〔2024〕6号 第七条): a fee the bank charged on a
guaranteed loan besides interest is recorded (form, API, upload), and a non-zero one on a
small-micro or 三农 loan is a violation stored on the guarantee and shown, with its rule id, on
the authority's dashboard, its drill-down and its xlsx export."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from core.models import Organisation, Region
from guarantees import imports, rules
from guarantees.models import Guarantee
from tests.factories import (
    AgreementFactory,
    GuaranteeFactory,
    OrganisationFactory,
    RegionFactory,
    UserFactory,
    firm_user,
    guarantee_api_payload,
)
from tests.guarantees.test_imports import row, xlsx_bytes
from tests.guarantees.test_views import form_post

pytestmark = pytest.mark.django_db
K = Organisation.Kind


# --- the rule -------------------------------------------------------------------------------


def test_gu5_bank_fee_of_one_cent_on_a_small_micro_loan_is_a_violation():
    problems = rules.check_bank_fees(small_micro_or_agri=True, scheme_m_product=False, bank_fees="0.01")
    assert [(p.rule, p.field) for p in problems] == [("GU-5", "bank_fees")]
    assert "十一" in str(problems[0].message)


def test_gu5_bank_fee_of_zero_is_no_violation():
    assert rules.check_bank_fees(small_micro_or_agri=True, scheme_m_product=True, bank_fees="0.00") == []


def test_gu5_bank_fee_on_a_large_borrower_outside_the_policy_products_is_allowed():
    assert rules.check_bank_fees(small_micro_or_agri=False, scheme_m_product=False, bank_fees="5000") == []


def test_gu5_bank_fee_on_a_scheme_m_product_binds_whoever_the_borrower():
    problems = rules.check_bank_fees(small_micro_or_agri=False, scheme_m_product=True, bank_fees="0.01")
    assert [(p.rule, p.field) for p in problems] == [("GU-5", "bank_fees")]
    assert "第七条" in str(problems[0].message)


def test_gu5_negative_bank_fee_is_an_input_error_naming_the_field():
    from core.errors import RuleViolation

    with pytest.raises(RuleViolation) as caught:
        rules.check_bank_fees(small_micro_or_agri=True, scheme_m_product=False, bank_fees="-1")
    assert [(p.rule, p.field) for p in caught.value.problems] == [("GU-5", "bank_fees")]


# --- recording it: form, API, upload ----------------------------------------------------------


@pytest.fixture
def alice():
    return firm_user()


@pytest.fixture
def agreement(alice):
    return AgreementFactory(firm=alice.organisation, code="YD-2024-01")


def test_gu5_bank_fee_through_the_form_is_stored_and_flagged(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-create"), form_post(agreement, bank_fees="3000"))
    assert response.status_code == 302
    guarantee = Guarantee.objects.get(contract_no="DB-FORM-0001")
    assert guarantee.bank_fees == Decimal("3000.00") and guarantee.bank_fee_violation
    assert not guarantee.fee_compliant
    assert [(p["rule"], p["field"]) for p in guarantee.problems] == [("GU-5", "bank_fees")]
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "3,000.00" in page and "Fees charged by the bank" in page


def test_gu5_no_bank_fee_through_the_form_stays_compliant(client, alice, agreement):
    client.force_login(alice)
    client.post(reverse("guarantees:guarantee-create"), form_post(agreement, bank_fees=""))
    guarantee = Guarantee.objects.get(contract_no="DB-FORM-0001")
    assert guarantee.bank_fees == Decimal("0") and not guarantee.bank_fee_violation and guarantee.fee_compliant


def test_gu5_bank_fee_through_the_api(alice, agreement):
    api = APIClient()
    api.force_login(alice)
    url = reverse("guarantees-api:guarantee-list")
    response = api.post(url, guarantee_api_payload(agreement, bank_fees="0.01"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["bank_fees"] == "0.01" and body["bank_fee_violation"] is True and body["fee_compliant"] is False
    assert [(p["rule"], p["field"]) for p in body["problems"]] == [("GU-5", "bank_fees")]
    clean = api.post(url, guarantee_api_payload(agreement), format="json").json()
    assert clean["bank_fees"] == "0.00" and clean["bank_fee_violation"] is False


def test_gu5_negative_bank_fee_through_the_api_is_refused_naming_the_field(alice, agreement):
    api = APIClient()
    api.force_login(alice)
    response = api.post(reverse("guarantees-api:guarantee-list"),
                        guarantee_api_payload(agreement, bank_fees="-5"), format="json")
    assert response.status_code == 400
    assert "bank_fees" in {e["field"] for e in response.json()["errors"]}
    assert not Guarantee.objects.exists()


def test_gu5_bank_fee_column_of_the_upload(client, alice, agreement):
    assert "银行收费(元)" in imports.TEMPLATE_HEADERS
    client.force_login(alice)
    small = row(1, **{"企业规模(填报)": "小型", "企业规模依据": "2024 年报", "银行收费(元)": "1200"})
    plain = row(2, **{"银行收费(元)": ""})
    response = client.post(reverse("guarantees:guarantee-import"),
                           {"file": imports_upload(xlsx_bytes([small, plain]))})
    assert response.status_code == 302
    flagged = Guarantee.objects.get(contract_no="DB-IMP-0001")
    assert flagged.bank_fees == Decimal("1200.00") and flagged.bank_fee_violation
    assert Guarantee.objects.get(contract_no="DB-IMP-0002").bank_fees == Decimal("0")


def imports_upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("担保业务.xlsx", content)


# --- the dashboard --------------------------------------------------------------------------

PERIOD = {"year": "2025", "quarter": "2"}


@pytest.fixture
def world():
    province = RegionFactory(code="230000", name="黑龙江省", level=Region.Level.PROVINCE)
    city = RegionFactory(code="232700", name="大兴安岭地区", level=Region.Level.CITY, parent=province)
    elsewhere = RegionFactory(code="110000", name="北京市", level=Region.Level.PROVINCE)
    bank = OrganisationFactory(kind=K.BANK, region=city, name="龙江银行")
    fined = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=city, name="甲担保公司")
    clean = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=city, name="乙担保公司")
    outsider = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=elsewhere, name="京外担保公司")
    start = date(2025, 4, 10)
    common = {"start": start, "loan_start": start, "end": date(2026, 4, 9), "loan_maturity": date(2026, 4, 9)}
    charged = GuaranteeFactory(agreement=AgreementFactory(firm=fined, bank=bank), contract_no="BF-1",
                               bank_fees=Decimal("800.00"), bank_fee_violation=True, fee_compliant=False,
                               problems=[{"rule": "GU-5", "field": "bank_fees", "message": "银行收费 800 元"}],
                               **common)
    GuaranteeFactory(agreement=AgreementFactory(firm=clean, bank=bank), **common)
    GuaranteeFactory(agreement=AgreementFactory(firm=outsider, bank=bank), bank_fees=Decimal("1"),
                     bank_fee_violation=True, **common)
    authority = UserFactory(organisation__kind=K.AUTHORITY, organisation__region=province,
                            roles=["authority_reviewer"])
    return {"fined": fined, "clean": clean, "outsider": outsider, "authority": authority, "charged": charged}


def _rows(response) -> dict:
    return {row.ind.firm_id: row for row in response.context["rows"]}


def test_gu5_bank_fee_violations_are_counted_on_the_dashboard(client, world):
    client.force_login(world["authority"])
    response = client.get(reverse("indicators:dashboard"), PERIOD, HTTP_ACCEPT_LANGUAGE="en")
    rows = _rows(response)
    assert set(rows) == {world["fined"].pk, world["clean"].pk}  # the outsider is not in the jurisdiction
    assert rows[world["fined"].pk].ind.bank_fee_violations == 1
    assert rows[world["clean"].pk].ind.bank_fee_violations == 0
    page = response.content.decode()
    assert 'data-badge="bank_fees"' in page and "Bank fees charged" in page and "GU-5" in page
    only = client.get(reverse("indicators:dashboard"), {**PERIOD, "off": "bank_fees"})
    assert list(_rows(only)) == [world["fined"].pk]


def test_gu5_bank_fee_violations_in_the_xlsx_export_with_the_rule_id(client, world):
    client.force_login(world["authority"])
    response = client.get(reverse("indicators:dashboard-export"), PERIOD, HTTP_ACCEPT_LANGUAGE="en")
    sheet = load_workbook(BytesIO(response.content)).active
    header = [c.value for c in sheet[4]]
    column = header.index("Bank fees charged (GU-5)")
    values = {r[0].value: r[column].value for r in sheet.iter_rows(min_row=5)}
    assert values == {"甲担保公司": 1, "乙担保公司": 0}


def test_gu5_drill_down_lists_the_guarantees_with_bank_fees(client, world):
    client.force_login(world["authority"])
    response = client.get(reverse("indicators:firm-detail", args=[world["fined"].pk]), PERIOD)
    assert [g.pk for g in response.context["bank_fee_guarantees"]] == [world["charged"].pk]
    assert "BF-1" in response.content.decode()
    other = client.get(reverse("indicators:firm-detail", args=[world["outsider"].pk]), PERIOD)
    assert other.status_code == 404
