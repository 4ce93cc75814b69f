"""Who may see and do what through the risk-pool API for bank systems, on every endpoint.

Bank A owns the rows under test; bank B is a member of the same pool with its own rows (so a
scope by pool alone would leak). Another bank's row answers 404 and never shows in a list; the
pool's reviewer sees bank A's rows but acts on none of them and enters no loans (403); a
guarantee firm and an unauthenticated caller are refused everything; a superuser may call
everything (creating rows as a member of bank A, since the bank is always the caller's own).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEvent
from riskpool.models import Claim, ClaimDocument, Classification, LedgerEntry, LoanProject, RecoveryReport
from tests.factories import UserFactory, api_token, bank_user, firm_user, riskpool_project_payload
from tests.riskpool.test_api import (
    PNG,
    World,
    set_today,
)

pytestmark = pytest.mark.django_db
TODAY = date(2025, 5, 28)


@dataclass(frozen=True)
class Endpoint:
    url_name: str
    method: str
    target: str | None = None  # the world's row whose id goes in the URL; None for a list or create
    body: dict = field(default_factory=dict)
    ok: int = 200
    listed: str | None = None  # for a list: the world's row that must (not) be in it
    multipart: bool = False

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.url_name}"

    @property
    def writes(self) -> bool:
        return self.method != "get"


# Every endpoint that reads or acts on an existing row.
ROW_ENDPOINTS = [
    Endpoint("project-list", "get", listed="project"),
    Endpoint("project-detail", "get", "project"),
    Endpoint("project-classify", "post", "project", {"new": "special_mention", "on": "2025-05-20"}),
    Endpoint("claim-list", "get", listed="submitted"),
    Endpoint("claim-detail", "get", "submitted"),
    Endpoint("claim-documents", "post", "in_funding_plan", {"kind": "receipt"}, 201, multipart=True),
    Endpoint("claim-re-review", "post", "rejected", {"note": "补充材料"}),
    Endpoint("claim-withdraw", "post", "submitted", {"note": "撤回"}),
    Endpoint("claim-to-compensation-library", "post", "paid"),
    Endpoint("claim-upgrade", "post", "upgradable", {"idempotency_key": "up-1"}),
    Endpoint("claim-recoveries", "post", "in_compensation_library",
             {"received_on": "2025-05-20", "gross": "100000.00", "method": "collection"}, 201),
    Endpoint("claim-closure-request", "post", "in_compensation_library", {"note": "已核销"}),
]
READS = [e for e in ROW_ENDPOINTS if not e.writes]
WRITES = [e for e in ROW_ENDPOINTS if e.writes]

# Endpoints that create rows.
CREATE_ENDPOINTS = [
    Endpoint("project-list", "post", ok=201),
    Endpoint("project-bulk", "post", ok=201),
    Endpoint("claim-list", "post", ok=201, multipart=True),  # RP-14: with its two attachments
]
ALL_ENDPOINTS = ROW_ENDPOINTS + CREATE_ENDPOINTS


def ids(endpoints):
    return [e.id for e in endpoints]


class ScopingWorld(World):
    """Bank A's rows, built when an endpoint first needs them, and bank B's own rows."""

    def __init__(self):
        super().__init__()
        self.other_user = bank_user()
        self.join(self.other_user.organisation)
        self.users = {
            "owner": self.bank_user,
            "other_bank": self.other_user,
            "reviewer": self.reviewer,
            "treasurer": self.treasurer,
            "firm": firm_user(),
            "superuser": UserFactory(organisation=None, is_superuser=True, is_staff=True),
            "bank_superuser": UserFactory(organisation=self.bank, is_superuser=True, is_staff=True),
        }
        self._rows: dict = {}
        self.other_rows = {"project": self.register(self.other_user), "submitted": self.claim(user=self.other_user)}

    def row(self, name: str):
        if name not in self._rows:
            self._rows[name] = self.register() if name == "project" else self.claim(name)
        return self._rows[name]

    def url(self, endpoint: Endpoint, rows=None) -> str:
        if endpoint.target is None:
            return reverse(f"riskpool-api:{endpoint.url_name}")
        row = rows[endpoint.target] if rows else self.row(endpoint.target)
        return reverse(f"riskpool-api:{endpoint.url_name}", args=[row.pk])

    def body(self, endpoint: Endpoint) -> dict:
        if endpoint.multipart and endpoint in CREATE_ENDPOINTS:
            return {**self.create_body(endpoint), "credit_report": SimpleUploadedFile("report.pdf", PNG),
                    "loan_file": SimpleUploadedFile("loan.pdf", PNG)}
        if endpoint.multipart:
            return {**endpoint.body, "file": SimpleUploadedFile("scan.pdf", PNG, content_type="application/pdf")}
        if endpoint in CREATE_ENDPOINTS:
            return self.create_body(endpoint)
        return endpoint.body

    def create_body(self, endpoint: Endpoint) -> dict:
        loan = {"disbursed_on": "2025-05-20", "maturity_on": "2026-05-19"}
        if endpoint.url_name == "project-list":
            return {"pool": self.pool.pk, **riskpool_project_payload(**loan)}
        if endpoint.url_name == "project-bulk":
            return {"pool": self.pool.pk,
                    "projects": [riskpool_project_payload(**loan), riskpool_project_payload(**loan)]}
        if "npl_project" not in self._rows:
            self._rows["npl_project"] = self.npl_project()
        return {"project": self._rows["npl_project"].pk, "outstanding_principal": "2400000.00",
                "credit_report_on": "2025-05-26"}

    def prepare(self, endpoint: Endpoint) -> None:
        """Build the rows an endpoint needs before anything is measured."""
        self.url(endpoint)
        self.body(endpoint)
        if endpoint.listed:
            self.row(endpoint.listed)

    def client(self, who: str | None) -> APIClient:
        client = APIClient()
        if who:
            client.force_login(self.users[who])
        return client

    def call(self, who: str | None, endpoint: Endpoint, client: APIClient | None = None, **kwargs):
        client = client or self.client(who)
        fmt = "multipart" if endpoint.multipart else "json"
        return getattr(client, endpoint.method)(self.url(endpoint, **kwargs), self.body(endpoint), format=fmt)


@pytest.fixture
def world(monkeypatch) -> ScopingWorld:
    set_today(monkeypatch, TODAY)
    return ScopingWorld()


def listed_ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def assert_not_found(response):
    assert response.status_code == 404, (response.status_code, response.json())
    errors = response.json()["errors"]
    assert len(errors) == 1 and errors[0]["rule"] is None and errors[0]["field"] is None and errors[0]["message"]


def assert_refused(response, code: int):
    assert response.status_code == code, (response.status_code, response.json())
    errors = response.json()["errors"]
    assert len(errors) == 1 and set(errors[0]) == {"rule", "field", "message"} and errors[0]["message"]


def snapshot_state() -> tuple:
    """Everything a refused call could have changed."""
    return (
        list(LoanProject.objects.order_by("pk").values_list("pk", "library", "classification")),
        list(Claim.objects.order_by("pk").values_list("pk", "state", "returned_amount")),
        Classification.objects.count(), ClaimDocument.objects.count(), RecoveryReport.objects.count(),
        LedgerEntry.objects.count(), AuditEvent.objects.count(),
    )


# --- another bank: 404 on the row, absent from the list ---------------------------------------


@pytest.mark.parametrize("endpoint", ROW_ENDPOINTS, ids=ids(ROW_ENDPOINTS))
def test_another_bank_gets_404_and_lists_leave_the_row_out(world, endpoint):
    world.prepare(endpoint)
    before = snapshot_state()
    response = world.call("other_bank", endpoint)
    if endpoint.listed:
        seen = listed_ids(response)
        assert world.row(endpoint.listed).pk not in seen
        assert world.other_rows[endpoint.listed].pk in seen  # its own business is there
    else:
        assert_not_found(response)
    assert snapshot_state() == before


@pytest.mark.parametrize("endpoint", ROW_ENDPOINTS, ids=ids(ROW_ENDPOINTS))
def test_another_bank_gets_404_with_an_api_token_too(world, endpoint):
    world.prepare(endpoint)
    _token, key = api_token(world.other_user, name="bank B loan system")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = world.call(None, endpoint, client=client)
    if endpoint.listed:
        assert world.row(endpoint.listed).pk not in listed_ids(response)
    else:
        assert_not_found(response)


def test_another_bank_cannot_claim_on_our_loan(world):
    endpoint = CREATE_ENDPOINTS[2]
    body = world.create_body(endpoint)
    before = snapshot_state()
    assert_not_found(world.client("other_bank").post(world.url(endpoint), body, format="json"))
    assert snapshot_state() == before


def test_list_filters_cannot_widen_the_scope(world):
    world.row("submitted")
    client = world.client("other_bank")
    project = world.row("project")
    assert project.pk not in listed_ids(client.get(reverse("riskpool-api:project-list"),
                                                   {"pool": world.pool.pk, "loan_no": project.loan_no}))
    assert listed_ids(client.get(reverse("riskpool-api:claim-list"), {"project": world.row("submitted").project_id})) == set()


# --- the pool's reviewer and treasurer: read-only -------------------------------------------


@pytest.mark.parametrize("who", ["reviewer", "treasurer"])
@pytest.mark.parametrize("endpoint", READS, ids=ids(READS))
def test_the_pools_reviewer_and_treasurer_see_the_rows(world, who, endpoint):
    world.prepare(endpoint)
    response = world.call(who, endpoint)
    if endpoint.listed:
        seen = listed_ids(response)
        assert world.row(endpoint.listed).pk in seen and world.other_rows[endpoint.listed].pk in seen
    else:
        assert response.status_code == 200 and response.json()["id"] == world.row(endpoint.target).pk


@pytest.mark.parametrize("endpoint", WRITES + CREATE_ENDPOINTS, ids=ids(WRITES + CREATE_ENDPOINTS))
def test_the_pools_reviewer_cannot_act_for_the_bank(world, endpoint):
    world.prepare(endpoint)
    before = snapshot_state()
    assert_refused(world.call("reviewer", endpoint), 403)
    assert snapshot_state() == before


# --- a guarantee firm and nobody signed in ------------------------------------------------------


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS, ids=ids(ALL_ENDPOINTS))
def test_a_guarantee_firm_is_refused(world, endpoint):
    world.prepare(endpoint)
    before = snapshot_state()
    assert_refused(world.call("firm", endpoint), 403)
    assert snapshot_state() == before


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS, ids=ids(ALL_ENDPOINTS))
def test_unauthenticated_is_refused_in_the_error_shape(world, endpoint):
    world.prepare(endpoint)
    before = snapshot_state()
    response = world.call(None, endpoint)
    assert_refused(response, 401)
    assert response["WWW-Authenticate"].startswith("Token")
    assert snapshot_state() == before


# --- the owner and the superuser may call everything ------------------------------------------


@pytest.mark.parametrize("who", ["owner", "superuser"])
@pytest.mark.parametrize("endpoint", ROW_ENDPOINTS, ids=ids(ROW_ENDPOINTS))
def test_owner_and_superuser_can_call_every_row_endpoint(world, who, endpoint):
    world.prepare(endpoint)
    response = world.call(who, endpoint)
    assert response.status_code == endpoint.ok, response.json()
    if endpoint.listed:
        seen = listed_ids(response)
        assert world.row(endpoint.listed).pk in seen
        assert (world.other_rows[endpoint.listed].pk in seen) == (who == "superuser")


@pytest.mark.parametrize("who", ["owner", "bank_superuser"])
@pytest.mark.parametrize("endpoint", CREATE_ENDPOINTS, ids=ids(CREATE_ENDPOINTS))
def test_owner_and_a_superuser_of_the_bank_can_call_every_create_endpoint(world, who, endpoint):
    world.prepare(endpoint)
    response = world.call(who, endpoint)
    assert response.status_code == endpoint.ok, response.json()
    created = response.json() if isinstance(response.json(), list) else [response.json()]
    banks = {row.get("bank") for row in created}
    assert banks == {world.bank.pk}


@pytest.mark.parametrize("endpoint", CREATE_ENDPOINTS[:2], ids=ids(CREATE_ENDPOINTS[:2]))
def test_a_superuser_outside_any_bank_enters_no_loans(world, endpoint):
    """The bank is always the caller's organisation, never the body's; a superuser has none."""
    before = snapshot_state()
    assert_refused(world.call("superuser", endpoint), 403)
    assert snapshot_state() == before

