"""Who may see and do what through the guarantees API, on every endpoint.

Firm A (in city C1) owns the rows under test; firm B and bank BB (in city C2) are the other
organisations (healthchecks' alice / bob / charlie). Another organisation's row answers 404 and
never shows in a list; the authority of C1 sees A's rows, the authority of C2 does not; a
superuser may call everything; nobody unauthenticated gets anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEvent, Organisation, Region
from core.services import api_token_issue
from guarantees import services
from guarantees.models import Agreement, Compensation, FirmNetAssets, Guarantee
from tests.factories import (
    AgreementFactory,
    BorrowerDataFactory,
    GuaranteeDataFactory,
    OrganisationFactory,
    RegionFactory,
    UserFactory,
    authority_user,
    guarantee_api_payload,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    url_name: str
    method: str
    target: str | None = None  # the world's row whose id goes in the URL; None for a list
    body: dict = field(default_factory=dict)
    ok: int = 200
    listed: str | None = None  # for a list: the world's row that must (not) be in it

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.url_name}"

    @property
    def writes(self) -> bool:
        return self.method != "get"


# Every endpoint that reads or acts on an existing row.
ROW_ENDPOINTS = [
    Endpoint("agreement-list", "get", listed="agreement"),
    Endpoint("agreement-detail", "get", "agreement"),
    Endpoint("agreement-detail", "patch", "agreement", {"grace_days": 45}),
    Endpoint("guarantee-list", "get", listed="guarantee"),
    Endpoint("guarantee-detail", "get", "guarantee"),
    Endpoint("guarantee-release", "post", "guarantee", {"released_on": "2025-02-28"}),
    Endpoint("guarantee-default", "post", "guarantee", {"default_on": "2024-09-01", "principal": "500000.00"}, 201),
    Endpoint("compensation-list", "get", listed="unpaid"),
    Endpoint("compensation-detail", "get", "unpaid"),
    Endpoint("compensation-pay", "post", "unpaid", {"paid_on": "2024-10-08"}),
    Endpoint("compensation-actions", "post", "paid", {"on": "2024-10-20", "kind": "collection_notice"}, 201),
    Endpoint("compensation-recoveries", "post", "paid", {"received_on": "2024-11-01", "gross": "1000.00", "source": "borrower"}, 201),
    Endpoint("compensation-write-off", "post", "pursued", {"on": "2024-12-31"}),
    Endpoint("firm-net-assets", "post", "firm", {"as_of": "2024-12-31", "net_assets": "100000000.00"}),
]
READS = [e for e in ROW_ENDPOINTS if not e.writes]
WRITES = [e for e in ROW_ENDPOINTS if e.writes]

# Endpoints that create rows or compute without one.
CREATE_ENDPOINTS = [
    Endpoint("agreement-list", "post", ok=201),
    Endpoint("guarantee-list", "post", ok=201),
    Endpoint("guarantee-bulk", "post", ok=201),
    Endpoint("allocate", "post"),
]


def ids(endpoints):
    return [e.id for e in endpoints]


class World:
    """Firm A's rows in every state an endpoint needs, and the other organisations' own rows."""

    def __init__(self):
        province = RegionFactory(code="23", level=Region.Level.PROVINCE)
        self.c1 = RegionFactory(code="2301", level=Region.Level.CITY, parent=province)
        self.c2 = RegionFactory(code="2302", level=Region.Level.CITY, parent=province)
        county = RegionFactory(code="230102", level=Region.Level.COUNTY, parent=self.c1)

        firm_a = OrganisationFactory(kind=Organisation.Kind.GUARANTEE_FIRM, region=county)
        bank_a = OrganisationFactory(kind=Organisation.Kind.BANK, region=self.c1)
        firm_b = OrganisationFactory(kind=Organisation.Kind.GUARANTEE_FIRM, region=self.c2)
        bank_b = OrganisationFactory(kind=Organisation.Kind.BANK, region=self.c2)
        self.users = {
            "owner": UserFactory(organisation=firm_a, roles=["firm_operator"]),
            "own_bank": UserFactory(organisation=bank_a, roles=["bank_operator"]),
            "other_firm": UserFactory(organisation=firm_b, roles=["firm_operator"]),
            "other_bank": UserFactory(organisation=bank_b, roles=["bank_operator"]),
            "authority_in": authority_user(self.c1),
            "authority_out": authority_user(self.c2),
            "superuser": UserFactory(organisation=None, is_superuser=True, is_staff=True),
        }
        owner = self.users["owner"]
        self.rows = {"firm": firm_a, "agreement": AgreementFactory(firm=firm_a, bank=bank_a)}
        self.rows["guarantee"] = self._guarantee(owner, self.rows["agreement"])
        self.rows["unpaid"] = self._default(owner, self.rows["agreement"])
        self.rows["paid"] = self._default(owner, self.rows["agreement"], paid=True)
        self.rows["pursued"] = self._default(owner, self.rows["agreement"], paid=True)
        services.recovery_action_record(user=owner, compensation=self.rows["pursued"], on=date(2024, 10, 15),
                                        kind="negotiation")

        # Firm B's own business with bank B, so its lists are not empty by accident.
        self.other_agreement = AgreementFactory(firm=firm_b, bank=bank_b)
        self.other_rows = {
            "agreement": self.other_agreement,
            "guarantee": self._guarantee(self.users["other_firm"], self.other_agreement),
            "unpaid": self._default(self.users["other_firm"], self.other_agreement),
        }

    @staticmethod
    def _guarantee(user, agreement) -> Guarantee:
        return services.guarantee_create(user=user, agreement=agreement, borrower=BorrowerDataFactory(),
                                         data=GuaranteeDataFactory())

    def _default(self, user, agreement, *, paid=False) -> Compensation:
        g = self._guarantee(user, agreement)
        compensation = services.guarantee_default(user=user, guarantee=g, default_on=date(2024, 9, 10),
                                                  principal=D("800000.00"))
        if paid:
            compensation = services.compensation_pay(user=user, compensation=compensation, paid_on=date(2024, 10, 8))
        return compensation

    def url(self, endpoint: Endpoint, rows=None) -> str:
        if endpoint.target is None:
            return reverse(f"guarantees-api:{endpoint.url_name}")
        return reverse(f"guarantees-api:{endpoint.url_name}", args=[(rows or self.rows)[endpoint.target].pk])

    def client(self, who: str | None) -> APIClient:
        client = APIClient()
        if who:
            client.force_login(self.users[who])
        return client

    def call(self, who: str | None, endpoint: Endpoint, **kwargs):
        return getattr(self.client(who), endpoint.method)(self.url(endpoint, **kwargs), endpoint.body, format="json")

    def create_body(self, endpoint: Endpoint) -> dict | list:
        agreement = self.rows["agreement"]
        return {
            "agreement-list": {"bank": agreement.bank_id, "code": "YD-NEW", "signed_on": "2024-01-01",
                               "expires_on": "2026-12-31", "grace_days": 30,
                               "shares": {"bank": "0.2", "guarantee_firm": "0.4", "reguarantee": "0.2",
                                          "national_fund": "0.2"}},
            "guarantee-list": guarantee_api_payload(agreement),
            "guarantee-bulk": [guarantee_api_payload(agreement), guarantee_api_payload(agreement)],
            "allocate": {"base": "100.00", "shares": {"bank": "0.2", "guarantee_firm": "0.4", "reguarantee": "0.2",
                                                      "national_fund": "0.2"}},
        }[endpoint.url_name]


@pytest.fixture
def world() -> World:
    return World()


def listed_ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def assert_not_found(response):
    assert response.status_code == 404, (response.status_code, response.json())
    errors = response.json()["errors"]
    assert len(errors) == 1 and errors[0]["rule"] is None and errors[0]["field"] is None and errors[0]["message"]


def snapshot_state(world: World) -> tuple:
    """Everything a refused write could have changed."""
    return (
        list(Guarantee.objects.order_by("pk").values_list("pk", "status", "closed_on")),
        list(Compensation.objects.order_by("pk").values_list("pk", "paid_on", "written_off_on")),
        list(Agreement.objects.order_by("pk").values_list("pk", "grace_days")),
        FirmNetAssets.objects.count(),
        AuditEvent.objects.count(),
    )


# --- another organisation: 404 on the row, absent from the list --------------------------------


@pytest.mark.parametrize("who", ["other_firm", "other_bank"])
@pytest.mark.parametrize("endpoint", ROW_ENDPOINTS, ids=ids(ROW_ENDPOINTS))
def test_another_organisation_gets_404_and_lists_leave_the_row_out(world, who, endpoint):
    before = snapshot_state(world)
    response = world.call(who, endpoint)
    if endpoint.listed:
        seen = listed_ids(response)
        assert world.rows[endpoint.listed].pk not in seen
        assert world.other_rows[endpoint.listed].pk in seen  # its own business is there
    else:
        assert_not_found(response)
    assert snapshot_state(world) == before


@pytest.mark.parametrize("endpoint", ROW_ENDPOINTS, ids=ids(ROW_ENDPOINTS))
def test_another_organisation_gets_404_with_an_api_token_too(world, endpoint):
    user = world.users["other_firm"]
    _token, key = api_token_issue(actor=user, user=user, name="firm system")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = getattr(client, endpoint.method)(world.url(endpoint), endpoint.body, format="json")
    if endpoint.listed:
        assert world.rows[endpoint.listed].pk not in listed_ids(response)
    else:
        assert_not_found(response)


# --- the owner's partners and the authority ----------------------------------------------------


@pytest.mark.parametrize("endpoint", READS, ids=ids(READS))
def test_authority_sees_rows_of_firms_in_its_region_subtree(world, endpoint):
    inside = world.call("authority_in", endpoint)
    outside = world.call("authority_out", endpoint)
    if endpoint.listed:
        assert world.rows[endpoint.listed].pk in listed_ids(inside)
        assert world.rows[endpoint.listed].pk not in listed_ids(outside)
        assert world.other_rows[endpoint.listed].pk in listed_ids(outside)  # C2's own firm
    else:
        assert inside.status_code == 200 and inside.json()["id"] == world.rows[endpoint.target].pk
        assert_not_found(outside)


@pytest.mark.parametrize("endpoint", WRITES, ids=ids(WRITES))
def test_authority_may_read_but_not_act_for_the_firm(world, endpoint):
    before = snapshot_state(world)
    response = world.call("authority_in", endpoint)
    assert response.status_code == 403, response.json()
    assert response.json()["errors"][0]["message"]
    assert_not_found(world.call("authority_out", endpoint))
    assert snapshot_state(world) == before


@pytest.mark.parametrize("endpoint", READS, ids=ids(READS))
def test_the_guarantees_own_bank_sees_them(world, endpoint):
    response = world.call("own_bank", endpoint)
    if endpoint.listed:
        assert world.rows[endpoint.listed].pk in listed_ids(response)
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("endpoint", WRITES, ids=ids(WRITES))
def test_the_guarantees_own_bank_cannot_act_for_the_firm(world, endpoint):
    before = snapshot_state(world)
    response = world.call("own_bank", endpoint)
    # The firm itself is not the bank's to see (404); its rows are, but not to change (403).
    assert response.status_code == (404 if endpoint.target == "firm" else 403), response.json()
    assert snapshot_state(world) == before


def test_a_bank_operator_cannot_create_a_guarantee(world):
    count = Guarantee.objects.count()
    client = world.client("own_bank")  # the bank sees the agreement, but the firm records guarantees
    response = client.post(reverse("guarantees-api:guarantee-list"), guarantee_api_payload(world.rows["agreement"]),
                           format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"]
    bulk = client.post(reverse("guarantees-api:guarantee-bulk"), [guarantee_api_payload(world.rows["agreement"])],
                       format="json")
    assert bulk.status_code == 403
    assert Guarantee.objects.count() == count


def test_a_bank_operator_cannot_create_an_agreement(world):
    response = world.client("own_bank").post(reverse("guarantees-api:agreement-list"),
                                             world.create_body(CREATE_ENDPOINTS[0]), format="json")
    assert response.status_code == 403
    assert not Agreement.objects.filter(code="YD-NEW").exists()


def test_a_guarantee_under_another_firms_agreement_is_refused_naming_the_field(world):
    count = Guarantee.objects.count()
    client = world.client("other_firm")
    response = client.post(reverse("guarantees-api:guarantee-list"), guarantee_api_payload(world.rows["agreement"]),
                           format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["agreement"]
    bulk = client.post(reverse("guarantees-api:guarantee-bulk"),
                       [guarantee_api_payload(world.other_agreement), guarantee_api_payload(world.rows["agreement"])],
                       format="json")
    assert bulk.status_code == 400
    assert [(e["row"], e["field"]) for e in bulk.json()["errors"]] == [(2, "agreement")]
    assert Guarantee.objects.count() == count


def test_the_firm_in_the_body_is_ignored(world):
    body = world.create_body(CREATE_ENDPOINTS[0]) | {"firm": world.other_agreement.firm_id}
    response = world.client("owner").post(reverse("guarantees-api:agreement-list"), body, format="json")
    assert response.status_code == 201
    assert Agreement.objects.get(code="YD-NEW").firm == world.rows["firm"]


def test_list_filters_cannot_widen_the_scope(world):
    client = world.client("other_firm")
    response = client.get(reverse("guarantees-api:guarantee-list"), {"firm": world.rows["firm"].pk})
    assert listed_ids(response) == set()


# --- the owner and the superuser may call everything ------------------------------------------


@pytest.mark.parametrize("who", ["owner", "superuser"])
@pytest.mark.parametrize("endpoint", ROW_ENDPOINTS, ids=ids(ROW_ENDPOINTS))
def test_owner_and_superuser_can_call_every_row_endpoint(world, who, endpoint):
    response = world.call(who, endpoint)
    assert response.status_code == endpoint.ok, response.json()
    if endpoint.listed:
        seen = listed_ids(response)
        assert world.rows[endpoint.listed].pk in seen
        assert (world.other_rows[endpoint.listed].pk in seen) == (who == "superuser")


@pytest.mark.parametrize("endpoint", CREATE_ENDPOINTS, ids=ids(CREATE_ENDPOINTS))
def test_owner_can_call_every_create_endpoint(world, endpoint):
    response = world.client("owner").post(world.url(endpoint), world.create_body(endpoint), format="json")
    assert response.status_code == endpoint.ok, response.json()


@pytest.mark.parametrize("endpoint", CREATE_ENDPOINTS[1:], ids=ids(CREATE_ENDPOINTS[1:]))
def test_superuser_can_call_every_create_endpoint(world, endpoint):
    """Guarantees belong to the agreement's firm, so a superuser records them for any firm."""
    response = world.client("superuser").post(world.url(endpoint), world.create_body(endpoint), format="json")
    assert response.status_code == endpoint.ok, response.json()


def test_superuser_records_an_agreement_for_the_firm_it_belongs_to(world):
    """An agreement's firm is the user's organisation, never the body's; a superuser without one has none."""
    endpoint = CREATE_ENDPOINTS[0]
    assert world.client("superuser").post(world.url(endpoint), world.create_body(endpoint), format="json").status_code == 403
    client = APIClient()
    client.force_login(UserFactory(organisation=world.rows["firm"], is_superuser=True))
    assert client.post(world.url(endpoint), world.create_body(endpoint), format="json").status_code == 201


# --- nobody signed in -------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ROW_ENDPOINTS + CREATE_ENDPOINTS, ids=ids(ROW_ENDPOINTS + CREATE_ENDPOINTS))
def test_unauthenticated_is_refused_in_the_error_shape(world, endpoint):
    before = snapshot_state(world)
    body = endpoint.body or (world.create_body(endpoint) if endpoint in CREATE_ENDPOINTS else {})
    response = getattr(world.client(None), endpoint.method)(world.url(endpoint), body, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    errors = response.json()["errors"]
    assert len(errors) == 1 and set(errors[0]) == {"rule", "field", "message"} and errors[0]["message"]
    assert snapshot_state(world) == before
