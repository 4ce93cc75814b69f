"""The two evaluation preview APIs (issue: "Preview APIs"), in the project's error shape."""
from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from evaluation import services
from tests.evaluation.factories import build_world
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PREVIEW = reverse("evaluation-api:preview")
DECIDE = reverse("evaluation-api:exemption-decide")
TARGETS = {"leverage": "3.00", "clients": 200, "amount": "400000000.00"}


def firm(i: int, **changes) -> dict:
    """F0 is the issue's F1; the others score less the higher their number."""
    base = {"id": f"F{i + 1}", "region": "福州市" if i % 2 == 0 else "厦门市",
            "guarantee_balance": str(1500000000 - i * 100000000) + ".00", "net_assets": "300000000.00",
            "sme_clients": 260 - i * 20, "sme_amount": "450000000.00", "total_amount": "500000000.00",
            "avg_fee_rate": "0.0085"}
    base.update(changes)
    return base


@pytest.fixture
def client() -> APIClient:
    client = APIClient()
    client.force_login(UserFactory())
    return client


def post(client, firms, year=2024, targets=TARGETS):
    return client.post(PREVIEW, {"year": year, "targets": targets, "firms": firms}, format="json")


def test_ev3_ev7_preview_issue_example_f1_is_excellent_first_of_ten(client):
    response = post(client, [firm(i) for i in range(10)])
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["firms"][0] == {"id": "F1", "leverage": "5.000000",
                                "scores": {"leverage": "50.00", "support": "30.00", "fee": "20.00"},
                                "total": "100.00", "rank": 1, "class": "excellent"}
    assert [f["rank"] for f in body["firms"]] == sorted(f["rank"] for f in body["firms"])
    assert body["regions"][0]["rank"] == 1 and set(body["regions"][0]) == {"region", "mean", "rank"}


def test_ev7_preview_bottom_firm_under_target_is_unqualified(client):
    firms = [firm(i) for i in range(9)] + [firm(9, guarantee_balance="600000000.00", sme_clients=10)]
    body = post(client, firms).json()
    assert body["firms"][-1]["leverage"] == "2.000000" and body["firms"][-1]["class"] == "unqualified"


def test_ev8_preview_region_means_rounded_to_2_places(client):
    body = post(client, [firm(0), firm(1, region="福州市", avg_fee_rate="0.0123")]).json()
    totals = [float(f["total"]) for f in body["firms"]]
    assert body["regions"] == [{"region": "福州市", "mean": f"{sum(totals) / 2:.2f}", "rank": 1}]


def test_ev3_preview_nonpositive_net_assets_names_the_firm_and_field(client):
    response = post(client, [firm(0), firm(1, net_assets="0")])
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "firms[1].net_assets" and "F2" in error["message"] and error["rule"] == "EV-3"


def test_ev3_preview_missing_figure_is_400(client):
    data = firm(0)
    del data["avg_fee_rate"]
    response = post(client, [data])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "firms[0].avg_fee_rate"


def test_ev3_preview_uses_the_years_configured_scheme(client):
    world = build_world(with_business=False)
    scheme = [
        {"code": "leverage", "label": "放大倍数", "weight": "60", "function": "capped_ratio",
         "params": {"input": "leverage", "target": "leverage"}},
        {"code": "fee", "label": "费率", "weight": "40", "function": "linear_descending",
         "params": {"input": "avg_fee_rate", "full_at": "0.01", "zero_at": "0.02"}},
    ]
    services.year_setup(user=world.authority, year=2030, scheme=scheme, targets=TARGETS)
    body = post(client, [firm(0)], year=2030).json()
    assert body["firms"][0]["scores"] == {"leverage": "60.00", "fee": "40.00"}


def test_preview_needs_a_signed_in_user():
    assert APIClient().post(PREVIEW, {}, format="json").status_code in (401, 403)


def test_ev14_decide_issue_example(client):
    response = client.post(DECIDE, {"grounds": ["EV-12.6"], "staff_at_fault": False}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "exempt" and body["reasons"][0]["rule"] == "EV-12"


@pytest.mark.parametrize(("grounds", "fault", "outcome"), [
    (["EV-13.1", "EV-12.6"], False, "accountable"),
    (["EV-12.1"], True, "not_exempt"),
    (["EV-12.1", "EV-11.1"], True, "reduced"),
    ([], False, "not_exempt"),
])
def test_ev14_decide_outcomes(client, grounds, fault, outcome):
    response = client.post(DECIDE, {"grounds": grounds, "staff_at_fault": fault}, format="json")
    assert response.json()["outcome"] == outcome


def test_ev14_decide_unknown_code_is_400(client):
    response = client.post(DECIDE, {"grounds": ["EV-12.9"], "staff_at_fault": False}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "grounds"
