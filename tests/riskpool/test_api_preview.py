"""The two risk-pool preview APIs of issue 3: ``POST /api/riskpool/quote/`` (Scheme S, RP-3 …
RP-14 on the rule set, LPR and exchange rates of the real flow) and
``POST /api/riskpool/bank-evaluation/preview/`` (RP-20). Errors are in the one error shape."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import ExchangeRate
from riskpool.api import EVALUATION_REQUEST, EVALUATION_RESPONSE, QUOTE_REQUEST, QUOTE_RESPONSE
from tests.factories import api_token, bank_user

pytestmark = pytest.mark.django_db

QUOTE = reverse("riskpool-api:quote")
EVALUATION = reverse("riskpool-api:bank-evaluation-preview")

# The worked example of spec riskpool.md, exactly as issue 3 sends it.
ISSUE_QUOTE = {
    "loan_kind": "enterprise",
    "principal": "3000000.00", "currency": "CNY",
    "disbursed_on": "2024-05-10", "maturity_on": "2025-05-09", "annual_rate": "0.0420",
    "other_balance": "1500000.00",
    "qualifications": [{"code": "high_tech", "valid_from": "2023-01-01", "valid_to": "2025-12-31"}],
    "features": ["pure_credit"],
    "purpose": "operations",
    "covered_by_other_scheme": False,
    "entered_on": "2024-06-01", "npl_on": "2025-03-03", "outstanding_principal": "2400000.00",
    "submitted_on": "2025-04-01", "credit_report_on": "2025-03-25",
}
# The 1-year LPR in force on 2024-05-10 (core/data/lpr.csv) is 3.45%: the RP-7 ceiling is 5.45%.
RATE_AT_CEILING = "0.0545"
RATE_ABOVE_CEILING = "0.0546"


@pytest.fixture
def client() -> APIClient:
    client = APIClient()
    client.force_login(bank_user())
    return client


def quote(client, **changes):
    return client.post(QUOTE, {**ISSUE_QUOTE, **changes}, format="json")


def outcomes(body) -> dict[str, str]:
    return {r["rule"]: r["outcome"] for r in body["reasons"]}


def errors(response) -> set[tuple]:
    return {(e["rule"], e["field"]) for e in response.json()["errors"]}


# --- the worked example ---------------------------------------------------------------------


def test_quote_worked_example_exactly(client):
    response = client.post(QUOTE, ISSUE_QUOTE, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert {k: v for k, v in body.items() if k != "reasons"} == {
        "eligible": True,
        "ratio": "0.500000",
        "amount": "1200000.00",
        "claim_deadline": "2025-06-03",
        "entry_deadline": "2024-07-19",
        "entry_deadline_provisional": False,
        "entry_deadline_latest": "2024-07-19",
    }
    assert [r["rule"] for r in body["reasons"]] == [
        "RP-3", "RP-4", "RP-6", "RP-7", "RP-8", "RP-9", "RP-10", "RP-11", "RP-12", "RP-13", "RP-14",
    ]
    assert all(set(r) == {"rule", "outcome", "message"} and r["message"] for r in body["reasons"])
    assert not [r for r in body["reasons"] if r["outcome"] in ("fail", "not_checked")]
    by_rule = {r["rule"]: r["message"] for r in body["reasons"]}
    assert "4,500,000.00" in by_rule["RP-8"] and "40%" in by_rule["RP-8"]
    assert "60%" in by_rule["RP-11"] and "50%" in by_rule["RP-11"]
    assert "1,200,000.00" in by_rule["RP-13"]
    assert "2025-06-03" in by_rule["RP-14"]


def test_quote_schema_example_is_the_real_answer(client):
    assert QUOTE_REQUEST == ISSUE_QUOTE
    body = client.post(QUOTE, QUOTE_REQUEST, format="json").json()
    assert {k: v for k, v in body.items() if k != "reasons"} == {k: v for k, v in QUOTE_RESPONSE.items() if k != "reasons"}
    assert all(reason in body["reasons"] for reason in QUOTE_RESPONSE["reasons"])


def test_quote_json_numbers_and_defaults_give_the_same_answer(client):
    payload = {k: v for k, v in ISSUE_QUOTE.items() if k not in ("currency", "purpose", "covered_by_other_scheme")}
    payload.update(principal=3000000, other_balance=1500000.0, outstanding_principal=2400000, annual_rate=0.042)
    response = client.post(QUOTE, payload, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == client.post(QUOTE, ISSUE_QUOTE, format="json").json()


# --- ineligible: 200 with a fail reason per failing rule ------------------------------------


def test_quote_ineligible_rate_above_lpr_plus_200bp_and_covered(client):
    response = quote(client, annual_rate=RATE_ABOVE_CEILING, covered_by_other_scheme=True)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["eligible"] is False
    assert body["ratio"] == "0.000000"
    assert body["amount"] == "0.00"
    assert body["claim_deadline"] == "2025-06-03" and body["entry_deadline"] == "2024-07-19"
    failing = [r for r in body["reasons"] if r["outcome"] == "fail"]
    assert [r["rule"] for r in failing] == ["RP-7"]
    assert "5.46%" in failing[0]["message"] and "5.45%" in failing[0]["message"]
    assert "RP-7" in {r["rule"]: r["message"] for r in body["reasons"]}["RP-13"]


def test_quote_ineligible_reports_every_failing_rule(client):
    response = quote(
        client,
        annual_rate=RATE_ABOVE_CEILING,
        purpose="relending",
        entered_on="2024-08-01",  # after the RP-6 deadline of 2024-07-19
        submitted_on="2025-06-04",  # a day after the RP-14 deadline
        credit_report_on="2025-05-01",  # not within 10 working days before the claim (RP-4)
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["eligible"], body["ratio"], body["amount"]) == (False, "0.000000", "0.00")
    failing = {r["rule"] for r in body["reasons"] if r["outcome"] == "fail"}
    assert failing == {"RP-4", "RP-6", "RP-7", "RP-14"}
    assert "2024-07-19" in {r["rule"]: r["message"] for r in body["reasons"]}["RP-6"]


def test_quote_rp7_rate_exactly_at_lpr_plus_200bp_is_allowed(client):
    body = quote(client, annual_rate=RATE_AT_CEILING).json()
    assert body["eligible"] is True and outcomes(body)["RP-7"] == "pass"


def test_quote_rp3_enterprise_balance_above_30_million_fails(client):
    body = quote(client, other_balance="27000000.01", qualifications=[], features=[]).json()
    assert (body["eligible"], body["ratio"], body["amount"]) == (False, "0.000000", "0.00")
    assert outcomes(body)["RP-3"] == "fail"


# --- RP-8 tier boundaries -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("other_balance", "ratio", "amount"),
    [
        ("2000000.00", "0.400000", "960000.00"),  # B = 5,000,000.00 exactly
        ("2000000.01", "0.300000", "720000.00"),  # B = 5,000,000.01
        ("12000000.00", "0.300000", "720000.00"),  # B = 15,000,000.00 exactly
        ("12000000.01", "0.200000", "480000.00"),  # B = 15,000,000.01
        ("27000000.00", "0.200000", "480000.00"),  # B = 30,000,000.00 exactly
    ],
)
def test_quote_rp8_tier_boundaries(client, other_balance, ratio, amount):
    body = quote(client, other_balance=other_balance, qualifications=[], features=[]).json()
    assert (body["eligible"], body["ratio"], body["amount"]) == (True, ratio, amount)


def test_quote_rp9_qualification_not_valid_on_disbursement_gives_no_bonus(client):
    body = quote(
        client, qualifications=[{"code": "high_tech", "valid_from": "2024-05-11"}], features=[],
    ).json()
    assert body["ratio"] == "0.400000" and outcomes(body)["RP-9"] == "info"


# --- optional dates -------------------------------------------------------------------------


def test_quote_absent_optional_dates_are_not_checked(client):
    payload = {k: v for k, v in ISSUE_QUOTE.items() if k not in ("entered_on", "submitted_on", "credit_report_on")}
    response = client.post(QUOTE, payload, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert {rule for rule, outcome in outcomes(body).items() if outcome == "not_checked"} == {"RP-4", "RP-6", "RP-14"}
    assert (body["eligible"], body["ratio"], body["amount"]) == (True, "0.500000", "1200000.00")


def test_quote_null_optional_dates_are_not_checked(client):
    body = quote(client, entered_on=None, submitted_on=None, credit_report_on=None).json()
    assert {rule for rule, outcome in outcomes(body).items() if outcome == "not_checked"} == {"RP-4", "RP-6", "RP-14"}


# --- bad input: 400 in the error shape naming the field -------------------------------------


def test_quote_unknown_qualification_code_is_400(client):
    response = quote(client, qualifications=[{"code": "famous"}])
    assert response.status_code == 400
    assert errors(response) == {("RP-9", "qualifications")}
    assert "famous" in response.json()["errors"][0]["message"]


def test_quote_unknown_feature_and_purpose_are_400(client):
    response = quote(client, features=["cheap"], purpose="gambling")
    assert response.status_code == 400
    assert errors(response) == {("RP-10", "features"), ("RP-7", "purpose")}


def test_quote_non_number_principal_is_400(client):
    response = quote(client, principal="three million")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["principal"]
    assert set(response.json()["errors"][0]) == {"rule", "field", "message"}


def test_quote_missing_field_is_400(client):
    payload = {k: v for k, v in ISSUE_QUOTE.items() if k != "npl_on"}
    response = client.post(QUOTE, payload, format="json")
    assert response.status_code == 400
    assert errors(response) == {("INPUT", "npl_on")}


def test_quote_reports_every_bad_field_at_once(client):
    response = quote(client, principal="x", disbursed_on="2024-13-01", annual_rate="lots", features="pure_credit")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"principal", "disbursed_on", "annual_rate", "features"}


def test_quote_body_not_an_object_is_400(client):
    response = client.post(QUOTE, [ISSUE_QUOTE], format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["rule"] == "INPUT"


def test_quote_malformed_json_is_400_in_the_error_shape(client):
    response = client.post(QUOTE, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["errors"][0]) == {"rule", "field", "message"}


def test_quote_without_an_lpr_on_the_disbursement_date_is_400_rp7(client):
    # The LPR table starts on 2019-08-20.
    response = quote(client, disbursed_on="2019-05-10", maturity_on="2020-05-09", entered_on=None)
    assert response.status_code == 400
    assert errors(response) == {("RP-7", "lpr")}
    assert "2019-05-10" in response.json()["errors"][0]["message"]


def test_quote_rp19_no_rule_set_on_the_npl_date_is_400(client):
    # The shipped rule set starts on 2023-08-10; the previous one is the authority's to enter.
    response = quote(
        client, disbursed_on="2023-03-10", maturity_on="2024-03-09", npl_on="2023-08-09",
        entered_on=None, submitted_on=None, credit_report_on=None,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["rule"] == "RULESET"
    assert "2023-08-09" in response.json()["errors"][0]["message"]


# --- RP-5 foreign currency ------------------------------------------------------------------


def test_quote_usd_is_converted_at_the_disbursement_date_rate(client):
    ExchangeRate.objects.create(currency="USD", on=date(2024, 5, 10), kind=ExchangeRate.Kind.CENTRAL_PARITY,
                                rate=D("7.104300"))
    ExchangeRate.objects.create(currency="USD", on=date(2024, 5, 9), kind=ExchangeRate.Kind.CENTRAL_PARITY,
                                rate=D("9.000000"))
    response = quote(client, currency="usd", principal="400000.00", outstanding_principal="300000.00",
                     other_balance="1000000.00")
    assert response.status_code == 200, response.json()
    body = response.json()
    # 400,000 USD = 2,841,720.00 yuan; B = 3,841,720.00 → 40% + 10 + 10 → capped 50%;
    # 300,000 USD = 2,131,290.00 yuan outstanding → 1,065,645.00.
    assert (body["eligible"], body["ratio"], body["amount"]) == (True, "0.500000", "1065645.00")
    rp5 = {r["rule"]: r for r in body["reasons"]}["RP-5"]
    assert rp5["outcome"] == "info" and "2,841,720.00" in rp5["message"] and "USD" in rp5["message"]
    assert "3,841,720.00" in {r["rule"]: r["message"] for r in body["reasons"]}["RP-8"]


def test_quote_foreign_rate_falls_back_and_respects_the_unit(client):
    ExchangeRate.objects.create(currency="JPY", on=date(2024, 5, 10), kind=ExchangeRate.Kind.SPOT_BUYING,
                                unit=100, rate=D("4.612345"))
    response = quote(client, currency="JPY", principal="60000000", outstanding_principal="50000000",
                     other_balance="0", qualifications=[], features=[])
    assert response.status_code == 200, response.json()
    # 50,000,000 JPY = 2,306,172.50 yuan; B = 2,767,407.00 → 40% → 922,469.00.
    assert response.json()["amount"] == "922469.00"


def test_quote_usd_without_an_exchange_rate_is_400_rp5(client):
    response = quote(client, currency="USD", principal="400000.00", outstanding_principal="300000.00")
    assert response.status_code == 400
    assert errors(response) == {("RP-5", "currency")}
    assert "USD" in response.json()["errors"][0]["message"]


# --- who may call ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", [QUOTE, EVALUATION])
def test_unauthenticated_is_refused_in_the_error_shape(url):
    response = APIClient().post(url, ISSUE_QUOTE if url == QUOTE else EVALUATION_REQUEST, format="json")
    assert response.status_code in (401, 403)
    error = response.json()["errors"][0]
    assert set(error) == {"rule", "field", "message"} and error["rule"] is None


def test_a_bad_api_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token abc.def")
    response = client.post(QUOTE, ISSUE_QUOTE, format="json")
    assert response.status_code == 401
    assert response.json()["errors"][0]["rule"] is None


def test_an_api_token_caller_gets_both_previews():
    _token, key = api_token()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post(QUOTE, ISSUE_QUOTE, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["amount"] == "1200000.00"
    response = client.post(EVALUATION, EVALUATION_REQUEST, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == EVALUATION_RESPONSE


# --- POST /api/riskpool/bank-evaluation/preview/ (RP-20) ------------------------------------


def bank(id_, amount, borrowers, prev_amount=None, prev_borrowers=None, violation=False) -> dict:
    return {"id": id_, "amount": amount, "borrowers": borrowers, "prev_amount": prev_amount,
            "prev_borrowers": prev_borrowers, "violation": violation}


def evaluate(client, *banks):
    response = client.post(EVALUATION, {"year": 2025, "banks": list(banks)}, format="json")
    assert response.status_code == 200, response.json()
    return {row["id"]: row for row in response.json()["banks"]}


def test_evaluation_the_issue_row_and_the_schema_example(client):
    response = client.post(EVALUATION, EVALUATION_REQUEST, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == EVALUATION_RESPONSE
    assert response.json()["banks"][0] == {
        "id": "B1", "growth": "0.200000", "ranks": {"amount": 1, "borrowers": 2, "growth": 1}, "grade": "excellent",
    }


def test_evaluation_ties_share_the_best_rank(client):
    rows = evaluate(
        client,
        bank("A", "500.00", 10, "400.00", 9),
        bank("B", "400.00", 20, "320.00", 9),
        bank("C", "400.00", 20, "300.00", 9),
        bank("D", "100.00", 5, "80.00", 4),
    )
    assert [rows[k]["ranks"]["amount"] for k in "ABCD"] == [1, 2, 2, 4]
    assert [rows[k]["ranks"]["borrowers"] for k in "ABCD"] == [3, 1, 1, 4]
    # growth: A 0.25, B 0.25, C 0.333333, D 0.25 → C first, the three 0.25 share rank 2.
    assert [rows[k]["growth"] for k in "ABCD"] == ["0.250000", "0.250000", "0.333333", "0.250000"]
    assert [rows[k]["ranks"]["growth"] for k in "ABCD"] == [2, 2, 1, 2]


@pytest.mark.parametrize("prev_amount", [None, "0", "0.00", 0])
def test_evaluation_no_previous_amount_means_no_growth(client, prev_amount):
    rows = evaluate(
        client,
        bank("new", "500.00", 10, prev_amount, None),
        bank("old", "400.00", 20, "200.00", 10),
    )
    assert rows["new"]["growth"] is None and rows["new"]["ranks"]["growth"] is None
    assert rows["new"]["grade"] == "qualified"
    assert rows["old"]["growth"] == "1.000000" and rows["old"]["ranks"]["growth"] == 1


def test_evaluation_prev_amount_may_be_omitted(client):
    rows = evaluate(client, {"id": "B1", "amount": "1.00", "borrowers": 1})
    assert rows["B1"] == {"id": "B1", "growth": None, "ranks": {"amount": 1, "borrowers": 1, "growth": None},
                          "grade": "qualified"}


def test_evaluation_violation_and_both_fell_are_unqualified(client):
    rows = evaluate(
        client,
        bank("V", "900.00", 90, "100.00", 10, violation=True),
        bank("F", "90.00", 9, "100.00", 10),
        bank("U", "100.00", 10, "100.00", 10),
    )
    assert (rows["V"]["grade"], rows["F"]["grade"], rows["U"]["grade"]) == ("unqualified", "unqualified", "qualified")


def test_evaluation_empty_list_is_an_empty_answer(client):
    response = client.post(EVALUATION, {"year": 2025, "banks": []}, format="json")
    assert response.status_code == 200 and response.json() == {"banks": []}


def test_evaluation_bad_rows_are_400_naming_the_row_and_field(client):
    response = client.post(EVALUATION, {"year": 2025, "banks": [
        bank("B1", "1.00", 1),
        bank("B2", "lots", "many", violation="no"),
        {"amount": "1.00", "borrowers": 1},
    ]}, format="json")
    assert response.status_code == 400
    assert errors(response) == {
        ("RP-20", "banks[1].amount"), ("RP-20", "banks[1].borrowers"), ("RP-20", "banks[1].violation"),
        ("RP-20", "banks[2]"),
    }


def test_evaluation_duplicate_ids_are_400(client):
    response = client.post(EVALUATION, {"year": 2025, "banks": [bank("B1", "1.00", 1), bank("B1", "2.00", 2)]},
                           format="json")
    assert response.status_code == 400
    assert errors(response) == {("RP-20", "banks")}


def test_evaluation_envelope_is_checked(client):
    response = client.post(EVALUATION, {"banks": "B1"}, format="json")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"year", "banks"}
    assert all(set(e) == {"rule", "field", "message"} for e in response.json()["errors"])


# --- the OpenAPI schema ---------------------------------------------------------------------


def test_both_previews_are_in_the_schema_with_examples(client):
    response = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/riskpool/quote/", "/api/riskpool/bank-evaluation/preview/"):
        operation = paths[path]["post"]
        assert operation["requestBody"]["content"]["application/json"]["examples"]
        assert operation["responses"]["200"]["content"]["application/json"]["examples"]
        assert {"400", "401", "403"} <= set(operation["responses"])
