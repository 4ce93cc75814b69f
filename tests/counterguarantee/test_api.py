"""POST /api/counterguarantee/check/: the preview runs the same check as the editor and the
approval, on the tables in force on ``checked_on``; bad input answers 400 naming the measure."""
from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from counterguarantee import services
from counterguarantee.models import BankPledgeRate
from tests.counterguarantee.factories import draft_plan, ensure_tables, guarantor_data, mortgage_data
from tests.counterguarantee.test_rules import guarantor, mortgage, payload
from tests.factories import UserFactory, authority_user, bank_user, firm_user

pytestmark = pytest.mark.django_db
URL = "/api/counterguarantee/check/"


@pytest.fixture(autouse=True)
def _tables():
    ensure_tables()


def post(client, user, data):
    client.force_login(user)
    return client.post(URL, data, content_type="application/json")


def test_url_name():
    assert reverse("counterguarantee-api:check") == URL


def test_worked_example(client):
    response = post(client, firm_user(), payload())
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["passed"] is False
    results = {r["rule"]: r for r in data["results"]}
    assert list(results) == ["CG-1", "CG-2", "CG-5", "CG-6", "CG-7", "CG-9", "CG-10", "CG-11"]
    assert results["CG-1"]["outcome"] == "warning"
    assert results["CG-6"]["outcome"] == "pass"
    assert results["CG-7"]["outcome"] == "fail" and results["CG-7"]["excess"] == "120000.00"
    assert results["CG-9"]["outcome"] == "fail"
    assert all(r["message"] for r in data["results"])
    assert {"measure": 0, "field": "end", "outcome": "fail"}.items() <= results["CG-9"]["details"][0].items()


def test_passing_plan(client):
    data = payload([guarantor(), mortgage(value="1000000.00", end="2025-12-31", contract_no="DY-1")], credit_grounds=[])
    body = post(client, firm_user(), data).json()
    assert body["passed"] is True
    assert {r["outcome"] for r in body["results"]} <= {"pass", "not_applicable", "info"}


def test_bad_input_is_400_in_the_project_shape_naming_the_measure(client):
    response = post(client, firm_user(), payload([mortgage(), mortgage(value="lots", kind="mortgage")]))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors == [{"rule": "CG-5", "field": "measures[1].value", "message": "Enter a valid amount in yuan."}]


def test_guarantee_measure_with_a_value_is_400(client):
    response = post(client, firm_user(), payload([guarantor(value="5.00")]))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "measures[0].value"


def test_uses_the_bank_rate_in_force_on_the_check_date(client):
    from counterguarantee.models import AssetClass

    BankPledgeRate.objects.create(asset_class=AssetClass.objects.get(code="real_estate"), rate="0.80",
                                  effective_from=date(2025, 6, 1))
    before = post(client, firm_user(), payload([mortgage(rate="0.70")])).json()
    after = post(client, firm_user(), payload([mortgage(rate="0.70", valued_on="2025-06-01",
                                                        valuation_valid_until="2025-12-01")],
                                              checked_on="2025-06-01")).json()
    assert before["results"][3]["outcome"] == "pass"
    assert after["results"][3]["outcome"] == "fail" and "80%" in after["results"][3]["message"]


def test_no_rule_set_on_the_date_is_400(client):
    response = post(client, firm_user(), payload(checked_on="2020-01-01"))
    assert response.status_code == 400 and response.json()["errors"][0]["rule"] == "RULESET"


def test_same_function_as_the_editor_and_the_approval(client):
    """The preview of a stored plan's facts gives the plan's stored check (its messages stored as
    codes, answered in the request's language)."""
    plan, user = draft_plan(measures=[guarantor_data(), mortgage_data(rate="0.650000")])
    stored = plan.last_check
    data = {"checked_on": "2025-01-01",
            "guarantee": services.guarantee_facts(plan.guarantee, services.plan_data(plan)),
            "measures": [m.as_mapping() for m in (guarantor_data(), mortgage_data(rate="0.650000"))]}
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    from core.i18n_text import render_messages

    body = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    assert post(client, user, body).json() == render_messages(stored)


def test_anonymous_is_refused(client):
    assert client.post(URL, payload(), content_type="application/json").status_code in (401, 403)


def test_bank_is_refused(client):
    assert post(client, bank_user(), payload()).status_code == 403


def test_authority_may_preview(client):
    from tests.factories import RegionFactory

    assert post(client, authority_user(RegionFactory()), payload()).status_code == 200


def test_other_firm_may_preview_but_sees_nothing_of_another_firm(client):
    """The preview reads no stored row: a user of any firm checks its own input only."""
    assert post(client, UserFactory(organisation__kind="guarantee_firm"), payload()).status_code == 200


# --- GET /api/counterguarantee/plans/ ----------------------------------------------------------


def test_plans_list_and_detail_are_scoped_to_the_firm(client):
    plan, user = draft_plan(measures=[mortgage_data(), guarantor_data()])
    client.force_login(user)
    listed = client.get("/api/counterguarantee/plans/").json()
    assert [p["id"] for p in listed["results"]] == [plan.pk]
    detail = client.get(f"/api/counterguarantee/plans/{plan.pk}/").json()
    assert detail["measures"][0]["kind"] == "mortgage" and detail["measures"][0]["asset_class"] == "real_estate"
    assert detail["measures"][1]["asset_class"] is None
    assert detail["last_check"]["passed"] is True

    client.force_login(UserFactory(organisation__kind="guarantee_firm", roles=["firm_operator"]))
    assert client.get("/api/counterguarantee/plans/").json()["results"] == []
    response = client.get(f"/api/counterguarantee/plans/{plan.pk}/")
    assert response.status_code == 404 and "errors" in response.json()


def test_plans_api_refuses_a_bank(client):
    plan, _ = draft_plan()
    client.force_login(bank_user())
    assert client.get("/api/counterguarantee/plans/").status_code == 403
    assert client.get(f"/api/counterguarantee/plans/{plan.pk}/").status_code == 403
