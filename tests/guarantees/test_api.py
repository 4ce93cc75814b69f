"""The guarantees REST API: the allocation preview, agreements, guarantees (one and bulk), the
default → pay → recover → write-off flow, and constant query counts. Who may see what is in
test_api_scoping.py."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from core.calendar import shanghai_today
from core.models import AuditEvent
from core.services import api_token_issue
from guarantees import services
from guarantees.models import Agreement, Borrower, Compensation, FirmNetAssets, Guarantee
from tests.factories import (
    AgreementFactory,
    BorrowerDataFactory,
    GuaranteeDataFactory,
    GuaranteeFactory,
    OrganisationFactory,
    bank_user,
    firm_user,
    guarantee_api_payload,
)

pytestmark = pytest.mark.django_db

ALLOCATE = reverse("guarantees-api:allocate")
GUARANTEES = reverse("guarantees-api:guarantee-list")
BULK = reverse("guarantees-api:guarantee-bulk")
AGREEMENTS = reverse("guarantees-api:agreement-list")
COMPENSATIONS = reverse("guarantees-api:compensation-list")

ISSUE_REQUEST = {
    "base": "1000000.01",
    "shares": {"bank": "0.20", "guarantee_firm": "0.40", "reguarantee": "0.20", "national_fund": "0.20", "government": "0"},
}
ISSUE_RESPONSE = {
    "parts": {"bank": "200000.00", "guarantee_firm": "400000.01", "reguarantee": "200000.00",
              "national_fund": "200000.00", "government": "0.00"},
    "compliant": True,
    "violations": [],
}


def url(name: str, pk) -> str:
    return reverse(f"guarantees-api:{name}", args=[pk])


def token_for(user) -> str:
    _token, key = api_token_issue(actor=user, user=user, name="bank system")
    return key


def rules_of(response) -> list:
    return [e["rule"] for e in response.json()["errors"]]


@pytest.fixture
def firm_op():
    return firm_user()


@pytest.fixture
def agreement(firm_op):
    return AgreementFactory(firm=firm_op.organisation)


@pytest.fixture
def client(firm_op) -> APIClient:
    client = APIClient()
    client.force_login(firm_op)
    return client


# --- POST /api/guarantees/allocate/ (GU-1, GU-2, GU-3) ------------------------------------------


def test_gu3_allocate_the_issue_example_exactly(client):
    response = client.post(ALLOCATE, ISSUE_REQUEST, format="json")
    assert response.status_code == 200
    assert response.json() == ISSUE_RESPONSE


def test_gu3_allocate_with_an_api_token_and_json_numbers():
    user = bank_user()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    body = {"base": 1000000.01, "shares": {"bank": 0.2, "guarantee_firm": 0.4, "reguarantee": 0.2, "national_fund": 0.2}}
    response = client.post(ALLOCATE, body, format="json")
    assert response.status_code == 200
    assert response.json() == ISSUE_RESPONSE


def test_gu1_allocate_government_may_be_omitted(client):
    shares = {k: v for k, v in ISSUE_REQUEST["shares"].items() if k != "government"}
    response = client.post(ALLOCATE, {"base": "1000000.01", "shares": shares}, format="json")
    assert response.status_code == 200
    assert response.json()["parts"]["government"] == "0.00"
    assert response.json() == ISSUE_RESPONSE


def test_gu2_allocate_breach_answers_200_not_compliant(client):
    shares = {"bank": "0.10", "guarantee_firm": "0.50", "reguarantee": "0.20", "national_fund": "0.20"}
    response = client.post(ALLOCATE, {"base": "1000.00", "shares": shares}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["compliant"] is False
    assert [v["rule"] for v in body["violations"]] == ["GU-2"]
    assert set(body["violations"][0]) == {"rule", "message"} and "10%" in body["violations"][0]["message"]
    assert body["parts"] == {"bank": "100.00", "guarantee_firm": "500.00", "reguarantee": "200.00",
                             "national_fund": "200.00", "government": "0.00"}


@pytest.mark.parametrize(
    "shares",
    [
        pytest.param({"bank": "0.30", "guarantee_firm": "0.40", "reguarantee": "0.20", "national_fund": "0.20"}, id="not-adding-to-1"),
        pytest.param({"bank": "-0.10", "guarantee_firm": "0.70", "reguarantee": "0.20", "national_fund": "0.20"}, id="negative"),
        pytest.param({"bank": "abc", "guarantee_firm": "0.40", "reguarantee": "0.20", "national_fund": "0.20"}, id="not-a-number"),
        pytest.param({"bank": "0.20", "guarantee_firm": "0.40", "reguarantee": "0.20"}, id="missing-party"),
        pytest.param({"bank": "0.20", "guarantee_firm": "0.40", "reguarantee": "0.20", "national_fund": "0.20", "county": "0"}, id="unknown-party"),
        pytest.param(["0.2", "0.4", "0.2", "0.2"], id="not-a-mapping"),
    ],
)
def test_gu1_allocate_uncomputable_split_is_400_on_shares(client, shares):
    response = client.post(ALLOCATE, {"base": "1000000.01", "shares": shares}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and all(e["rule"] == "GU-1" and e["field"] == "shares" and e["message"] for e in errors)


@pytest.mark.parametrize("base", ["abc", "-1.00", None])
def test_gu3_allocate_bad_base_names_the_field(client, base):
    response = client.post(ALLOCATE, {"base": base, "shares": ISSUE_REQUEST["shares"]}, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["base"]


def test_allocate_needs_an_authenticated_user():
    response = APIClient().post(ALLOCATE, ISSUE_REQUEST, format="json")
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"]


# --- agreements (GU-1, GU-2) ------------------------------------------------------------------


def agreement_body(bank, **overrides) -> dict:
    body = {"bank": bank.pk, "code": "YD-API-1", "signed_on": "2024-01-01", "expires_on": "2026-12-31",
            "grace_days": 30, "shares": {"bank": "0.20", "guarantee_firm": "0.40", "reguarantee": "0.20",
                                         "national_fund": "0.20"}}
    body.update(overrides)
    return body


def test_agreement_create_takes_the_firm_from_the_user(client, firm_op):
    bank = OrganisationFactory(kind="bank")
    other_firm = OrganisationFactory(kind="guarantee_firm")
    response = client.post(AGREEMENTS, agreement_body(bank, firm=other_firm.pk), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["firm"] == firm_op.organisation_id and body["compliant"] is True
    assert body["shares"] == {"bank": "0.200000", "guarantee_firm": "0.400000", "reguarantee": "0.200000",
                              "national_fund": "0.200000", "government": "0.000000"}
    assert Agreement.objects.get().firm == firm_op.organisation


def test_gu2_agreement_breach_is_stored_non_compliant(client):
    bank = OrganisationFactory(kind="bank")
    shares = {"bank": "0.10", "guarantee_firm": "0.50", "reguarantee": "0.20", "national_fund": "0.20"}
    response = client.post(AGREEMENTS, agreement_body(bank, shares=shares), format="json")
    assert response.status_code == 201
    assert response.json()["compliant"] is False
    assert [p["rule"] for p in response.json()["problems"]] == ["GU-2"]
    assert Agreement.objects.get().compliant is False


def test_gu1_agreement_split_not_adding_up_is_refused(client):
    bank = OrganisationFactory(kind="bank")
    shares = {"bank": "0.30", "guarantee_firm": "0.40", "reguarantee": "0.20", "national_fund": "0.20"}
    response = client.post(AGREEMENTS, agreement_body(bank, shares=shares), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0] | {"message": ""} == {"rule": "GU-1", "field": "shares", "message": ""}
    assert not Agreement.objects.exists()


def test_agreement_missing_fields_are_named(client):
    response = client.post(AGREEMENTS, {"code": "X"}, format="json")
    assert response.status_code == 400
    assert {"bank", "signed_on", "expires_on", "grace_days", "shares"} <= {e["field"] for e in response.json()["errors"]}


def test_gu2_agreement_partial_update_checks_the_new_split(client, agreement):
    shares = {"bank": "0.10", "guarantee_firm": "0.50", "reguarantee": "0.20", "national_fund": "0.20"}
    response = client.patch(url("agreement-detail", agreement.pk), {"shares": shares, "grace_days": 60}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["compliant"] is False and response.json()["grace_days"] == 60
    agreement.refresh_from_db()
    assert agreement.share_bank == D("0.100000") and agreement.grace_days == 60
    assert client.put(url("agreement-detail", agreement.pk), {}, format="json").status_code == 405



def test_agreement_partial_update_keeps_the_terms_left_out(client, agreement):
    # The update reads the create serializer's terms; a term with a default on create must not
    # be reset to it when a PATCH leaves it out.
    Agreement.objects.filter(pk=agreement.pk).update(
        deposit_ratio=D("0.1"), batch_mode=Agreement.BatchMode.LOAN_FIRST, loss_base_includes_interest=True)
    response = client.patch(url("agreement-detail", agreement.pk), {"grace_days": 45}, format="json")
    assert response.status_code == 200, response.json()
    agreement.refresh_from_db()
    assert agreement.grace_days == 45 and agreement.deposit_ratio == D("0.1")
    assert agreement.batch_mode == Agreement.BatchMode.LOAN_FIRST and agreement.loss_base_includes_interest is True
    client.patch(url("agreement-detail", agreement.pk), {"bank": agreement.bank_id, "code": "NEW"},
                 format="json")
    agreement.refresh_from_db()
    assert agreement.code != "NEW"

def test_agreement_list_and_retrieve(client, agreement):
    AgreementFactory()  # another firm's
    response = client.get(AGREEMENTS)
    assert response.status_code == 200
    assert [a["id"] for a in response.json()["results"]] == [agreement.pk]
    assert client.get(url("agreement-detail", agreement.pk)).json()["code"] == agreement.code
    assert client.get(AGREEMENTS, {"compliant": "false"}).json()["count"] == 0


# --- guarantees -------------------------------------------------------------------------------


def test_guarantee_create_list_retrieve_by_session(client, agreement):
    response = client.post(GUARANTEES, guarantee_api_payload(agreement, contract_no="DB-1"), format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["contract_no"] == "DB-1" and created["status"] == "active"
    assert created["amount"] == "800000.00" and created["fee_rate"] == "0.008000"
    assert created["fee_compliant"] is True and created["problems"] == []
    assert created["borrower"]["size"] == "small" and created["small_micro_or_agri"] is True
    listed = client.get(GUARANTEES).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == created["id"]
    assert client.get(url("guarantee-detail", created["id"])).json() == created


def test_guarantee_create_list_retrieve_by_api_token(firm_op, agreement):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(firm_op)}")
    response = client.post(GUARANTEES, guarantee_api_payload(agreement, contract_no="DB-T"), format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert Guarantee.objects.get(pk=pk).created_by == firm_op
    assert [g["id"] for g in client.get(GUARANTEES).json()["results"]] == [pk]
    assert client.get(url("guarantee-detail", pk)).json()["contract_no"] == "DB-T"


def test_guarantee_create_answers_field_and_rule_problems_together(client, agreement):
    """Issue 13.3: a malformed fee rate (field), an amount above the principal, a guarantee ending
    before its start, a start outside the agreement's term, a contract number already used, a
    government platform borrowing for a forbidden purpose (GU-12) and a credit code whose check
    character is wrong, all in one 400, as the web form shows them; nothing is saved."""
    taken = client.post(GUARANTEES, guarantee_api_payload(agreement, contract_no="DB-DUP"), format="json")
    assert taken.status_code == 201, taken.json()
    code = guarantee_api_payload(agreement)["borrower"]["id_number"]
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    body = guarantee_api_payload(
        agreement, contract_no="DB-DUP", fee_rate="a lot", amount="2000000.00", start="2030-01-01", end="2029-12-31",
        purpose="government_bond", borrower={"id_number": wrong, "is_government_platform": True})
    response = client.post(GUARANTEES, body, format="json")
    assert response.status_code == 400
    found = {(e["rule"], e["field"]) for e in response.json()["errors"]}
    assert {(None, "fee_rate"), ("INPUT", "amount"), ("INPUT", "end"), ("INPUT", "start"), ("INPUT", "contract_no"),
            ("INPUT", "borrower.id_number")} <= found, found
    assert any(rule == "GU-12" for rule, _field in found), found
    assert Guarantee.objects.filter(contract_no="DB-DUP").count() == 1


def test_guarantee_create_leaves_out_the_checks_of_a_field_in_error(client, agreement):
    body = guarantee_api_payload(agreement, amount="not money", loan_principal="1000000.00", end="2023-01-01")
    response = client.post(GUARANTEES, body, format="json")
    errors = response.json()["errors"]
    assert response.status_code == 400
    assert [e["field"] for e in errors if e["field"] == "amount"] == ["amount"]  # its own error only
    assert {(e["rule"], e["field"]) for e in errors} >= {(None, "amount"), ("INPUT", "end")}


def test_bad_api_token_is_401_in_the_error_shape(agreement):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token abc.def")
    response = client.get(GUARANTEES)
    assert response.status_code == 401
    assert response.json()["errors"][0]["rule"] is None


def test_gu5_fee_breach_is_stored_and_flagged(client, agreement):
    payload = guarantee_api_payload(agreement, fee_rate="0.012", other_fees="500.00")
    response = client.post(GUARANTEES, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["fee_compliant"] is False
    assert {(p["rule"], p["field"]) for p in body["problems"]} == {("GU-5", "fee_rate"), ("GU-5", "other_fees")}
    guarantee = Guarantee.objects.get(pk=body["id"])
    assert guarantee.fee_compliant is False and guarantee.fee_rate == D("0.012000")
    assert client.get(GUARANTEES, {"fee_compliant": "false"}).json()["count"] == 1
    assert client.get(GUARANTEES, {"fee_compliant": "true"}).json()["count"] == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"purpose": "government_platform"}, "purpose"), ({"purpose": "government_bond"}, "purpose"),
     ({"borrower": {"is_government_platform": True}}, "borrower")],
)
def test_gu12_forbidden_business_is_refused_and_nothing_saved(client, agreement, overrides, field):
    response = client.post(GUARANTEES, guarantee_api_payload(agreement, **overrides), format="json")
    assert response.status_code == 400
    assert [(e["rule"], e["field"]) for e in response.json()["errors"]] == [("GU-12", field)]
    assert not Guarantee.objects.exists() and not Borrower.objects.exists()


def test_guarantee_validation_errors_name_the_field(client, agreement):
    payload = guarantee_api_payload(agreement, amount="12.345", fee_rate=0.1 + 0.2, start="not a date")
    payload["borrower"]["id_kind"] = "passport"
    response = client.post(GUARANTEES, payload, format="json")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"amount", "fee_rate", "start", "borrower.id_kind"}
    assert not Guarantee.objects.exists()


def test_guarantee_service_errors_name_the_nested_field(client, agreement):
    payload = guarantee_api_payload(agreement, borrower={"id_number": "91110000000000000X"})
    response = client.post(GUARANTEES, payload, format="json")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"borrower.id_number"}
    payload = guarantee_api_payload(agreement, amount="2000000.00")
    assert {e["field"] for e in client.post(GUARANTEES, payload, format="json").json()["errors"]} == {"amount"}


def test_json_float_is_read_by_its_shortest_form(client, agreement):
    response = client.post(GUARANTEES, guarantee_api_payload(agreement, fee_rate=0.008, amount=800000.1), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["fee_rate"] == "0.008000" and response.json()["amount"] == "800000.10"


def test_guarantee_list_filters(client, agreement, firm_op):
    GuaranteeFactory(agreement=agreement, contract_no="A-1", start="2024-03-01", fee_compliant=True)
    GuaranteeFactory(agreement=agreement, contract_no="A-2", start="2024-06-01", fee_compliant=False, status="released")
    GuaranteeFactory(agreement=agreement, contract_no="B-3", start="2024-09-01", small_micro_or_agri=False)

    def contracts(**params):
        return sorted(g["contract_no"] for g in client.get(GUARANTEES, params).json()["results"])

    assert contracts() == ["A-1", "A-2", "B-3"]
    assert contracts(status="released") == ["A-2"]
    assert contracts(start_after="2024-05-01", start_before="2024-06-30") == ["A-2"]
    assert contracts(fee_compliant="false") == ["A-2"]
    assert contracts(small_micro_or_agri="false") == ["B-3"]
    assert contracts(contract_no="a-") == ["A-1", "A-2"]
    assert contracts(bank=agreement.bank_id) == ["A-1", "A-2", "B-3"]
    assert contracts(firm=firm_op.organisation_id) == ["A-1", "A-2", "B-3"]
    bad = client.get(GUARANTEES, {"start_after": "yesterday"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "start"


def test_guarantee_list_is_paginated(client, agreement):
    GuaranteeFactory.create_batch(3, agreement=agreement)
    body = client.get(GUARANTEES, {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


def test_guarantee_list_query_count_does_not_grow_with_rows(client, agreement):
    GuaranteeFactory.create_batch(3, agreement=agreement)
    client.get(GUARANTEES)  # warm-up: session, caches
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(GUARANTEES).json()["results"]) == 3
    GuaranteeFactory.create_batch(27, agreement=agreement)
    with CaptureQueriesContext(connection) as thirty:
        assert len(client.get(GUARANTEES).json()["results"]) == 30
    assert len(thirty) == len(three), [q["sql"] for q in thirty.captured_queries]


def test_compensation_list_query_count_does_not_grow_with_rows(client, agreement, firm_op):
    def default_one():
        g = services.guarantee_create(user=firm_op, agreement=agreement, borrower=BorrowerDataFactory(),
                                      data=GuaranteeDataFactory())
        services.guarantee_default(user=firm_op, guarantee=g, default_on=g.start, principal=g.amount)

    for _ in range(2):
        default_one()
    client.get(COMPENSATIONS)
    with CaptureQueriesContext(connection) as two:
        client.get(COMPENSATIONS)
    for _ in range(5):
        default_one()
    with CaptureQueriesContext(connection) as seven:
        assert client.get(COMPENSATIONS).json()["count"] == 7
    assert len(seven) == len(two)


# --- bulk -------------------------------------------------------------------------------------


def test_bulk_creates_all(client, agreement):
    items = [guarantee_api_payload(agreement) for _ in range(3)]
    response = client.post(BULK, items, format="json")
    assert response.status_code == 201, response.json()
    assert len(response.json()) == 3 and Guarantee.objects.count() == 3


def test_bulk_with_bad_items_saves_nothing_and_lists_every_error_by_row(client, agreement):
    items = [
        guarantee_api_payload(agreement),
        guarantee_api_payload(agreement, amount="abc"),
        guarantee_api_payload(agreement, purpose="government_bond"),
        guarantee_api_payload(agreement),
        guarantee_api_payload(agreement, borrower={"id_number": "123"}),
        guarantee_api_payload(agreement, start="2023-01-01"),
    ]
    response = client.post(BULK, items, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {(e["row"], e["rule"], e["field"]) for e in errors} == {
        (2, None, "amount"),
        (3, "GU-12", "purpose"),
        (5, "INPUT", "borrower.id_number"),
        (6, "INPUT", "start"),
    }
    assert all(set(e) == {"rule", "field", "message", "row"} and e["message"] for e in errors)
    assert not Guarantee.objects.exists() and not Borrower.objects.exists()


def test_bulk_duplicate_contract_in_the_same_request_is_an_error(client, agreement):
    items = [guarantee_api_payload(agreement, contract_no="SAME"), guarantee_api_payload(agreement, contract_no="SAME")]
    response = client.post(BULK, items, format="json")
    assert response.status_code == 400
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(2, "contract_no")]
    assert not Guarantee.objects.exists()


@pytest.mark.parametrize("body", [[], {"agreement": 1}, "text"])
def test_bulk_needs_a_list(client, body):
    response = client.post(BULK, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"]


# --- default, pay, recover, write off (GU-3, GU-4, GU-13) -------------------------------------


@pytest.fixture
def guarantee(client, agreement):
    response = client.post(GUARANTEES, guarantee_api_payload(agreement), format="json")
    return Guarantee.objects.get(pk=response.json()["id"])


def test_release_then_release_again_is_a_conflict(client, guarantee):
    response = client.post(url("guarantee-release", guarantee.pk), {"released_on": "2025-02-28"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "released" and response.json()["closed_on"] == "2025-02-28"
    again = client.post(url("guarantee-release", guarantee.pk), {"released_on": "2025-02-28"}, format="json")
    assert again.status_code == 409 and again.json()["errors"][0]["rule"] == "STATE"


def test_gu3_gu4_default_creates_the_compensation(client, guarantee):
    body = {"default_on": "2024-09-10", "principal": "800000.01", "interest": "1000.00", "penalty_interest": "50.00"}
    response = client.post(url("guarantee-default", guarantee.pk), body, format="json")
    assert response.status_code == 201, response.json()
    comp = response.json()
    assert comp["base"] == "800000.01"  # interest is outside the base unless the agreement says so
    assert comp["parts"] == {"bank": "160000.00", "guarantee_firm": "320000.01", "reguarantee": "160000.00",
                             "national_fund": "160000.00", "government": "0.00"}
    assert sum(D(v) for v in comp["parts"].values()) == D(comp["base"])  # GU-3
    assert comp["due_on"] == "2024-10-10"  # GU-4: default + 30 days' grace
    assert comp["overdue"] is True and comp["status"] == "defaulted"
    assert comp["recoveries"] == [] and comp["actions"] == []
    assert client.get(url("compensation-detail", comp["id"])).json() == comp
    guarantee.refresh_from_db()
    assert guarantee.status == "defaulted"


def test_gu3_default_errors_name_the_field(client, guarantee):
    response = client.post(url("guarantee-default", guarantee.pk), {"default_on": "2024-09-10", "principal": "2000000.00"},
                           format="json")
    assert response.status_code == 400
    assert [(e["rule"], e["field"]) for e in response.json()["errors"]] == [("GU-3", "principal")]
    assert not Compensation.objects.exists()


@pytest.fixture
def compensation(client, guarantee):
    body = {"default_on": "2024-09-10", "principal": "800000.00"}
    return Compensation.objects.get(pk=client.post(url("guarantee-default", guarantee.pk), body, format="json").json()["id"])


def test_gu3_gu13_pay_recover_and_write_off(client, compensation):
    # pay (代偿): the firm pays all but the bank's own part
    response = client.post(url("compensation-pay", compensation.pk), {"paid_on": "2024-10-08"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["paid_amount"] == "640000.00" and response.json()["status"] == "compensated"
    assert client.post(url("compensation-pay", compensation.pk), {"paid_on": "2024-10-08"}, format="json").status_code == 409

    # GU-13: no write-off before any recovery effort
    refused = client.post(url("compensation-write-off", compensation.pk), {"on": "2024-12-31"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["rule"] == "GU-13"

    action = client.post(url("compensation-actions", compensation.pk),
                         {"on": "2024-10-20", "kind": "litigation", "note": "起诉"}, format="json")
    assert action.status_code == 201 and action.json()["kind"] == "litigation"

    recovery = client.post(url("compensation-recoveries", compensation.pk),
                           {"received_on": "2024-11-30", "gross": "100000.00", "cost_litigation": "10000.00",
                            "source": "collateral_sale"}, format="json")
    assert recovery.status_code == 201, recovery.json()
    assert recovery.json()["net"] == "90000.00" and recovery.json()["after_write_off"] is False
    assert recovery.json()["parts"] == {"bank": "18000.00", "guarantee_firm": "36000.00", "reguarantee": "18000.00",
                                        "national_fund": "18000.00", "government": "0.00"}

    written_off = client.post(url("compensation-write-off", compensation.pk), {"on": "2024-12-31"}, format="json")
    assert written_off.status_code == 200, written_off.json()
    assert written_off.json()["written_off_amount"] == "710000.00" and written_off.json()["status"] == "written_off"
    twice = client.post(url("compensation-write-off", compensation.pk), {"on": "2024-12-31"}, format="json")
    assert twice.status_code == 409 and twice.json()["errors"][0]["rule"] == "GU-13"

    # GU-13: a recovery after write-off is still recorded, flagged, and shared back
    late = client.post(url("compensation-recoveries", compensation.pk),
                       {"received_on": "2025-03-01", "gross": "10000.01", "source": "borrower"}, format="json")
    assert late.status_code == 201 and late.json()["after_write_off"] is True
    assert sum(D(v) for v in late.json()["parts"].values()) == D("10000.01")

    detail = client.get(url("compensation-detail", compensation.pk)).json()
    assert [r["net"] for r in detail["recoveries"]] == ["10000.01", "90000.00"]
    assert [a["kind"] for a in detail["actions"]] == ["litigation"]


def test_gu13_recovery_before_payment_is_refused(client, compensation):
    response = client.post(url("compensation-recoveries", compensation.pk),
                           {"received_on": "2024-11-30", "gross": "1.00", "source": "borrower"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["rule"] == "GU-13"


def test_gu4_overdue_filter_uses_todays_date(client, compensation, agreement, firm_op):
    today = shanghai_today()
    g = services.guarantee_create(user=firm_op, agreement=agreement, borrower=BorrowerDataFactory(), data=GuaranteeDataFactory())
    fresh = services.guarantee_default(user=firm_op, guarantee=g, default_on=today, principal=D("1.00"))
    assert fresh.due_on == today + timedelta(days=30)

    def ids(**params):
        return {c["id"] for c in client.get(COMPENSATIONS, params).json()["results"]}

    assert ids() == {compensation.pk, fresh.pk}
    assert ids(overdue="true") == {compensation.pk}
    assert ids(overdue="false") == {fresh.pk}
    client.post(url("compensation-pay", compensation.pk), {"paid_on": "2024-10-08"}, format="json")
    assert ids(overdue="true") == set()
    assert ids(paid="true") == {compensation.pk}


def test_gu8_net_assets_recorded_and_replaced(client, firm_op):
    firm = firm_op.organisation
    net_assets_url = url("firm-net-assets", firm.pk)
    response = client.post(net_assets_url, {"as_of": "2024-12-31", "net_assets": "300000000.00"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"id": response.json()["id"], "firm": firm.pk, "as_of": "2024-12-31",
                               "net_assets": "300000000.00"}
    client.post(net_assets_url, {"as_of": "2024-12-31", "net_assets": "310000000.00"}, format="json")
    assert FirmNetAssets.objects.get(firm=firm).net_assets == D("310000000.00")
    assert AuditEvent.objects.filter(object_type="guarantees.firmnetassets").count() == 2


def test_non_numeric_id_is_404_in_the_error_shape(client):
    response = client.get("/api/guarantees/guarantees/abc/")
    assert response.status_code == 404
    assert response.json() == {"errors": [{"rule": None, "field": None, "message": response.json()["errors"][0]["message"]}]}


def test_schema_documents_the_api(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/guarantees/allocate/" in paths and "/api/guarantees/compensations/{id}/write-off/" in paths
    assert "requestBody" in paths["/api/guarantees/guarantees/bulk/"]["post"]


@pytest.mark.parametrize("days", [3651, 99999999, -1])
def test_gu4_agreement_grace_days_out_of_bounds_are_400_on_the_field(client, agreement, days):
    """Issue 10 point 5: grace_days 99999999 was a 500 in compensation_due_on."""
    bank = OrganisationFactory(kind="bank")
    created = client.post(AGREEMENTS, agreement_body(bank, grace_days=days), format="json")
    updated = client.patch(url("agreement-detail", agreement.pk), {"grace_days": days}, format="json")
    for response in (created, updated):
        assert response.status_code == 400
        assert [e["field"] for e in response.json()["errors"]] == ["grace_days"]
    assert client.post(AGREEMENTS, agreement_body(bank, grace_days=3650), format="json").status_code == 201


def test_gu4_the_database_refuses_a_grace_period_past_the_bound(agreement):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.filter(pk=agreement.pk).update(grace_days=3651)


def test_options_on_firm_net_assets_describes_its_body(client, firm_op):
    """Issue 10 point 5: OPTIONS answered 500 (the viewset named no serializer)."""
    response = client.options(url("firm-net-assets", firm_op.organisation_id))
    assert response.status_code == 200
    assert {"as_of", "net_assets"} <= set(response.json()["actions"]["POST"])
