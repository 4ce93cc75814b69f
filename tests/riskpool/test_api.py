"""The bank systems' risk-pool API (issue 3): loan projects, classification changes, claims and
the bank's RP-16 steps through ``/api/riskpool/``, on the same services as the web pages.

The dates of the bank's own acts are "today" (Asia/Shanghai) on the server, so the tests set
today with the ``today`` fixture. Who may call what is proven in test_api_scoping.py.
"""
from __future__ import annotations

import types
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from core import calendar as core_calendar
from guarantees.models import BorrowerQualification
from riskpool import services
from riskpool.models import Claim, ClaimDocument, LedgerEntry, LoanProject
from tests.factories import (
    BorrowerDataFactory,
    ClaimFactory,
    LoanProjectFactory,
    PoolFactory,
    UserFactory,
    api_token,
    bank_user,
    riskpool_project_payload,
)

pytestmark = pytest.mark.django_db

PROJECTS = reverse("riskpool-api:project-list")
BULK = reverse("riskpool-api:project-bulk")
CLAIMS = reverse("riskpool-api:claim-list")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
PAYMENT_KINDS = [ClaimDocument.Kind.ACCOUNT_CONFIRMATION, ClaimDocument.Kind.RECEIPT,
                 ClaimDocument.Kind.ID_COPY, ClaimDocument.Kind.AUTHORISATION]
# The states a claim can be brought to by World.claim, in workflow order.
CLAIM_STEPS = ("submitted", "rejected", "in_funding_plan", "paid", "in_compensation_library", "upgradable")


def set_today(monkeypatch, day: date) -> None:
    """Set the server's Asia/Shanghai date for the API, the filters and the services."""
    # The clock under core.calendar.shanghai_today: every module that imported the function sees it.
    monkeypatch.setattr(core_calendar, "timezone", types.SimpleNamespace(localdate=lambda **kwargs: day))


@pytest.fixture
def today(monkeypatch):
    """``today(date(…))`` sets the server's date for the rest of the test."""
    return lambda day: set_today(monkeypatch, day)


def pdf(name="doc.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def claim_documents():
    """RP-14: the two attachments every claim needs, as (kind, file) pairs."""
    return [(ClaimDocument.Kind.CREDIT_REPORT, pdf("征信报告.pdf")), (ClaimDocument.Kind.LOAN_FILE, pdf("贷款资料.pdf"))]


def reload(obj):
    obj.refresh_from_db()
    return obj


class World:
    """A Scheme S pool with its authority, reviewer and treasurer people, 50,000,000 yuan of
    budget, and a member bank whose other loans (2,000,000,000 normal) keep its NPL ratio under
    3% however many example loans go bad."""

    def __init__(self):
        self.pool = PoolFactory()
        self.authority = UserFactory(organisation=self.pool.authority, roles=["authority_admin"])
        self.reviewer = UserFactory(organisation=self.pool.reviewer, roles=["pool_reviewer"])
        self.treasurer = UserFactory(organisation=self.pool.treasurer, roles=["pool_treasurer"])
        self.bank_user = bank_user()
        self.bank = self.bank_user.organisation
        self.member = self.join(self.bank)
        services.pool_budget_add(user=self.authority, pool=self.pool, amount="50000000.00", booked_on=date(2025, 1, 2))

    def join(self, bank):
        member = services.member_add(user=self.authority, pool=self.pool, bank=bank, joined_on=date(2024, 1, 1))
        LoanProjectFactory(pool=self.pool, bank=bank, principal=D("2000000000.00"))
        return member

    def register(self, user=None, **overrides) -> LoanProject:
        """The spec's worked example entered on 2024-06-01, its borrower high-tech (RP-9)."""
        values = dict(
            loan_no=f"JJ-W-{LoanProject.objects.count():05d}", loan_kind="enterprise", principal=D("3000000.00"),
            disbursed_on=date(2024, 5, 10), maturity_on=date(2025, 5, 9), annual_rate=D("0.0420"),
            other_balance=D("1500000.00"), features=["pure_credit"], entered_on=date(2024, 6, 1),
        )
        values.update(overrides)
        project = services.project_register(user=user or self.bank_user, pool=self.pool,
                                            borrower=BorrowerDataFactory(), data=services.ProjectData(**values))
        BorrowerQualification.objects.create(borrower=project.borrower, code="high_tech",
                                             valid_from=date(2023, 1, 1), valid_to=date(2025, 12, 31))
        return project

    def npl_project(self, user=None, **overrides) -> LoanProject:
        project = self.register(user, **overrides)
        return services.project_classify(user=user or self.bank_user, project=project, new="substandard",
                                         on=date(2025, 3, 3))

    def claim(self, state: str = "submitted", user=None) -> Claim:
        """A claim on a new example loan, brought through the services to ``state``."""
        user = user or self.bank_user
        claim = services.claim_submit(user=user, project=self.npl_project(user), submitted_on=date(2025, 4, 1),
                                      outstanding_principal=D("2400000.00"), credit_report_on=date(2025, 3, 25),
                                      documents=claim_documents())
        if state == "submitted":
            return claim
        if state == "rejected":
            return services.claim_review(user=self.reviewer, claim=claim, approve=False, note="材料不全",
                                         on=date(2025, 4, 10))
        services.claim_review(user=self.reviewer, claim=claim, approve=True, note="符合条件", on=date(2025, 4, 10))
        claim = services.claim_notice_start(user=self.authority, claims=[claim], on=date(2025, 4, 14))[0]
        services.claim_notice_close(user=self.authority, claim=claim, on=date(2025, 4, 24))
        services.funding_plan_issue(user=self.authority, pool=self.pool, number=f"ZZ-{claim.pk}", claims=[claim],
                                    on=date(2025, 4, 24))
        if state == "in_funding_plan":
            return reload(claim)
        services.claim_documents_upload(user=user, claim=claim, on=date(2025, 4, 25),
                                        files=[(kind, pdf(f"{kind}.pdf")) for kind in PAYMENT_KINDS])
        services.claim_pay(user=self.treasurer, claim=claim, on=date(2025, 4, 28), idempotency_key=f"pay-{claim.pk}")
        if state == "paid":
            return reload(claim)
        services.claim_to_compensation_library(user=user, claim=claim, on=date(2025, 5, 6))
        if state == "upgradable":
            services.project_classify(user=user, project=claim.project, new="normal", on=date(2025, 5, 10))
        assert state in ("in_compensation_library", "upgradable"), state
        return reload(claim)


@pytest.fixture
def world() -> World:
    return World()


def token_client(user) -> APIClient:
    _token, key = api_token(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def login(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def rules_of(response) -> set[str]:
    return {e["rule"] for e in response.json()["errors"]}


# --- the worked example, from entry to a claim, with an API token -----------------------------


def test_rp16_worked_example_from_entry_to_claim_with_an_api_token(world, today):
    client = token_client(world.bank_user)
    other_bank = bank_user().organisation

    today(date(2024, 6, 1))
    body = {"pool": world.pool.pk, "bank": other_bank.pk, "entered_on": "2024-01-01",
            **riskpool_project_payload(loan_no="JJ-2024-0001")}
    response = client.post(PROJECTS, body, format="json")
    assert response.status_code == 201, response.json()
    project = response.json()
    # The bank is the token's organisation and the entry date is today, whatever the body says.
    assert project["bank"] == world.bank.pk and project["entered_on"] == "2024-06-01"
    assert project["principal"] == "3000000.00" and project["principal_yuan"] == "3000000.00"
    assert project["annual_rate"] == "0.042000" and project["library"] == "loan"
    assert project["classification"] == "normal" and project["classifications"] == []
    BorrowerQualification.objects.create(borrower_id=project["borrower"]["id"], code="high_tech",
                                         valid_from=date(2023, 1, 1), valid_to=date(2025, 12, 31))

    classify = reverse("riskpool-api:project-classify", args=[project["id"]])
    response = client.post(classify, {"new": "substandard", "on": "2025-03-03"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["classification"] == "substandard"
    assert [(c["old"], c["new"], c["on"]) for c in response.json()["classifications"]] == [
        ("normal", "substandard", "2025-03-03")
    ]

    today(date(2025, 4, 1))
    response = client.post(CLAIMS, {"project": project["id"], "outstanding_principal": "2400000.00",
                                    "credit_report_on": "2025-03-25", "credit_report": pdf("征信报告.pdf"),
                                    "loan_file": pdf("贷款资料.pdf")}, format="multipart")
    assert response.status_code == 201, response.json()
    claim = response.json()
    assert claim["state"] == "submitted" and claim["submitted_on"] == "2025-04-01" and claim["npl_on"] == "2025-03-03"
    assert claim["ratio"] == "0.500000" and claim["amount"] == "1200000.00"
    assert claim["next_due_on"] == "2025-05-01"  # RP-16 step 1: 30 days to decide
    assert [(step["old"], step["new"]) for step in claim["steps"]] == [("", "submitted")]
    assert {"RP-8", "RP-11", "RP-13", "RP-14"} <= {r["rule"] for r in claim["reasons"]}
    assert [d["kind"] for d in claim["documents"]] == ["credit_report", "loan_file"] and claim["recoveries"] == []

    detail = client.get(reverse("riskpool-api:claim-detail", args=[claim["id"]]))
    assert detail.status_code == 200 and detail.json() == claim
    assert ids(client.get(CLAIMS)) == [claim["id"]]


def test_project_list_filters(world, today):
    early = world.register(disbursed_on=date(2024, 4, 2), entered_on=date(2024, 4, 10), loan_no="JJ-EARLY-1")
    late = world.npl_project(loan_no="JJ-LATE-1")
    client = login(world.bank_user)
    assert ids(client.get(PROJECTS, {"classification": "substandard"})) == [late.pk]
    assert ids(client.get(PROJECTS, {"library": "loan", "loan_no": "early"})) == [early.pk]
    assert ids(client.get(PROJECTS, {"disbursed_on_after": "2024-04-02", "disbursed_on_before": "2024-04-30"})) == [
        early.pk
    ]
    assert ids(client.get(PROJECTS, {"library": "compensation"})) == []
    bad = client.get(PROJECTS, {"library": "nowhere"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "library"


def test_project_list_builds_the_filter_only_when_a_filter_is_asked_for(world, today, monkeypatch):
    """Issue 12: only ``cursor`` / ``page_size`` → LoanProjectFilter is not built (it would narrow
    nothing); any other parameter, even an unknown one, goes through it as before."""
    from riskpool.filters import LoanProjectFilter

    early = world.register(disbursed_on=date(2024, 4, 2), entered_on=date(2024, 4, 10), loan_no="JJ-EARLY-1")
    late = world.npl_project(loan_no="JJ-LATE-1")
    client = login(world.bank_user)
    everything = client.get(PROJECTS).json()
    built, init = [], LoanProjectFilter.__init__

    def counted(self, *args, **kwargs):
        built.append(1)
        init(self, *args, **kwargs)

    monkeypatch.setattr(LoanProjectFilter, "__init__", counted)
    assert client.get(PROJECTS).json() == everything and built == []
    assert ids(client.get(PROJECTS, {"page_size": 1})) == [max(early.pk, late.pk)] and built == []
    assert client.get(PROJECTS, {"unknown": "x"}).json() == everything and len(built) == 1
    assert ids(client.get(PROJECTS, {"loan_no": "late"})) == [late.pk] and len(built) == 2
    assert {early.pk, late.pk} <= {r["id"] for r in everything["results"]}


def test_claim_list_filters_by_state_and_overdue(world, today):
    submitted = world.claim()
    rejected = world.claim("rejected")
    client = login(world.bank_user)
    assert ids(client.get(CLAIMS, {"state": "submitted"})) == [submitted.pk]
    assert set(ids(client.get(CLAIMS, {"state": ["submitted", "rejected"]}))) == {submitted.pk, rejected.pk}
    today(submitted.next_due_on)
    assert ids(client.get(CLAIMS, {"overdue": "true"})) == []  # the due date itself is still in time
    today(date(2025, 5, 2))
    assert ids(client.get(CLAIMS, {"overdue": "true"})) == [submitted.pk]
    assert ids(client.get(CLAIMS, {"overdue": "false"})) == [rejected.pk]


# --- entry refusals (RP-6) and bulk entry -----------------------------------------------------


def test_rp6_late_entry_is_400_naming_the_rule_and_the_deadline(world, today):
    today(date(2024, 7, 22))
    response = login(world.bank_user).post(PROJECTS, {"pool": world.pool.pk, **riskpool_project_payload()},
                                           format="json")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["rule"] == "RP-6" and "2024-07-19" in error["message"]
    assert not LoanProject.objects.filter(disbursed_on=date(2024, 5, 10)).exists()


def test_rp6_entry_on_the_deadline_itself_is_accepted(world, today):
    today(date(2024, 7, 19))
    response = login(world.bank_user).post(PROJECTS, {"pool": world.pool.pk, **riskpool_project_payload()},
                                           format="json")
    assert response.status_code == 201 and response.json()["entered_on"] == "2024-07-19"


def test_rp6_bulk_with_bad_rows_saves_nothing_and_lists_every_error_with_its_row(world, today):
    today(date(2024, 6, 1))
    good = riskpool_project_payload(loan_no="B-1")
    unparsable = riskpool_project_payload(loan_no="B-2", principal="abc")
    del unparsable["loan_kind"]
    late = riskpool_project_payload(loan_no="B-3", disbursed_on="2024-01-10", maturity_on="2025-01-09")
    excluded = riskpool_project_payload(loan_no="B-4", maturity_on="2024-05-01", purpose="nowhere")
    count = LoanProject.objects.count()
    client = login(world.bank_user)
    response = client.post(BULK, {"pool": world.pool.pk, "projects": [good, unparsable, late, excluded]},
                           format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert sorted((e["row"], e["field"]) for e in errors if e["row"] == 2) == [(2, "loan_kind"), (2, "principal")]
    assert [(e["row"], e["rule"]) for e in errors if e["row"] == 3] == [(3, "RP-6")]
    assert "2024-04-" in next(e["message"] for e in errors if e["row"] == 3)  # the deadline, named
    assert [(e["row"], e["field"]) for e in errors if e["row"] == 4] == [(4, "purpose")]
    assert {e["row"] for e in errors} == {2, 3, 4}
    assert all(e["message"] for e in errors)
    assert LoanProject.objects.count() == count

    response = client.post(BULK, {"pool": world.pool.pk, "projects": [good, riskpool_project_payload(loan_no="B-5")]},
                           format="json")
    assert response.status_code == 201, response.json()
    assert [p["loan_no"] for p in response.json()] == ["B-1", "B-5"]
    assert LoanProject.objects.count() == count + 2


def test_bulk_needs_a_non_empty_list_and_a_pool_the_bank_is_a_member_of(world, today):
    today(date(2024, 6, 1))
    client = login(world.bank_user)
    assert client.post(BULK, {"pool": world.pool.pk, "projects": []}, format="json").status_code == 400
    other_pool = PoolFactory()
    response = client.post(BULK, {"pool": other_pool.pk, "projects": [riskpool_project_payload()]}, format="json")
    assert response.status_code == 404
    response = client.post(PROJECTS, {"pool": other_pool.pk, **riskpool_project_payload()}, format="json")
    assert response.status_code == 404


def test_rp21_the_same_loan_note_twice_is_a_conflict(world, today):
    today(date(2024, 6, 1))
    client = login(world.bank_user)
    body = {"pool": world.pool.pk, **riskpool_project_payload(loan_no="JJ-TWICE")}
    assert client.post(PROJECTS, body, format="json").status_code == 201
    response = client.post(PROJECTS, body, format="json")
    assert response.status_code == 409 and rules_of(response) == {"RP-21"}


def test_the_project_api_answers_field_and_rule_problems_together(world, today):
    """Issue 13.3: a malformed rate (field) with a maturity before disbursement (RP-7), a zero
    principal (RP-4), an entry after the RP-6 deadline, a loan note already entered (RP-21) and a
    borrower's credit code with a wrong check character, in one 400; nothing is saved."""
    today(date(2024, 6, 1))
    client = login(world.bank_user)
    assert client.post(PROJECTS, {"pool": world.pool.pk, **riskpool_project_payload(loan_no="JJ-ONCE")},
                       format="json").status_code == 201
    today(date(2024, 7, 22))
    body = riskpool_project_payload(loan_no="JJ-ONCE", annual_rate="high", maturity_on="2024-05-01", principal="0.00")
    code = body["borrower"]["id_number"]
    body["borrower"]["id_number"] = code[:-1] + ("0" if code[-1] != "0" else "1")
    count = LoanProject.objects.count()
    response = client.post(PROJECTS, {"pool": world.pool.pk, **body}, format="json")
    assert response.status_code == 400
    found = {(e["rule"], e["field"]) for e in response.json()["errors"]}
    assert {(None, "annual_rate"), ("RP-7", "maturity_on"), ("RP-4", "principal"), ("RP-6", "entered_on"),
            ("RP-21", "loan_no"), ("INPUT", "borrower.id_number")} <= found, found
    assert LoanProject.objects.count() == count


# --- claim refusals ------------------------------------------------------------------------------


def test_rp7_rp14_claim_refused_with_every_failing_reason(world, today):
    project = world.npl_project(covered_by_other_scheme=True, purpose="relending", annual_rate=D("0.0600"))
    today(date(2025, 6, 10))
    response = login(world.bank_user).post(CLAIMS, {"project": project.pk, "outstanding_principal": "2400000.00",
                                                    "credit_report_on": "2025-06-09"}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"RP-7", "RP-14"} <= {e["rule"] for e in errors}
    rp7 = next(e["message"] for e in errors if e["rule"] == "RP-7")  # covered elsewhere, purpose, rate: each named
    assert "another compensation policy" in rp7 and "转贷" in rp7 and "5.45%" in rp7
    assert all(e["message"] for e in errors)
    assert not project.claims.exists()


def test_rp14_a_normal_loan_cannot_be_claimed(world, today):
    project = world.register()
    today(date(2025, 4, 1))
    response = login(world.bank_user).post(CLAIMS, {"project": project.pk, "outstanding_principal": "100.00",
                                                    "credit_report_on": "2025-03-25"}, format="json")
    assert response.status_code == 400 and rules_of(response) == {"RP-14"}


# --- documents: checked by content ----------------------------------------------------------------


def test_rp16_document_upload_is_judged_by_content_not_by_name(world, today):
    claim = world.claim("in_funding_plan")
    today(date(2025, 4, 25))
    url = reverse("riskpool-api:claim-documents", args=[claim.pk])
    client = token_client(world.bank_user)

    png_named_pdf = SimpleUploadedFile("scan.pdf", PNG, content_type="application/pdf")
    response = client.post(url, {"kind": "receipt", "file": png_named_pdf}, format="multipart")
    assert response.status_code == 201, response.json()
    [document] = [d for d in response.json()["documents"] if d["kind"] not in ("credit_report", "loan_file")]
    assert document["kind"] == "receipt" and document["content_type"] == "image/png"
    assert response.json()["state"] == "in_funding_plan"

    text = SimpleUploadedFile("notes.pdf", b"just some notes, not a PDF\n", content_type="application/pdf")
    response = client.post(url, {"kind": "id_copy", "file": text}, format="multipart")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "file" and "notes.pdf" in error["message"]

    response = client.post(url, {"kind": "selfie", "file": pdf()}, format="multipart")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "kind"
    assert client.post(url, {"kind": "receipt"}, format="multipart").status_code == 400
    assert list(reload(claim).documents.filter(kind__in=PAYMENT_KINDS).values_list("content_type", flat=True)) == [
        "image/png"]


def test_rp16_step5_the_fourth_payment_document_hands_the_claim_to_the_treasurer(world, today):
    claim = world.claim("in_funding_plan")
    today(date(2025, 4, 25))
    url = reverse("riskpool-api:claim-documents", args=[claim.pk])
    client = login(world.bank_user)
    for kind in PAYMENT_KINDS:
        response = client.post(url, {"kind": kind, "file": pdf(f"{kind}.pdf")}, format="multipart")
        assert response.status_code == 201, response.json()
    assert response.json()["state"] == "documents_uploaded"
    assert response.json()["next_due_on"] == "2025-05-05"  # RP-16 step 6: 10 days to pay
    response = client.post(url, {"kind": "other", "file": pdf()}, format="multipart")
    assert response.status_code == 409


# --- the bank's later steps ------------------------------------------------------------------------


def test_rp16_withdraw_then_no_second_withdrawal(world, today):
    claim = world.claim()
    today(date(2025, 4, 5))
    client = login(world.bank_user)
    url = reverse("riskpool-api:claim-withdraw", args=[claim.pk])
    response = client.post(url, {"note": "银行撤回"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "withdrawn"
    assert response.json()["steps"][-1]["note"] == "银行撤回"
    assert client.post(url, {}, format="json").status_code == 409


def test_rp16_re_review_once_only(world, today):
    claim = world.claim("rejected")
    today(date(2025, 4, 15))
    client = login(world.bank_user)
    url = reverse("riskpool-api:claim-re-review", args=[claim.pk])
    response = client.post(url, {"note": "补充材料"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "re_review" and response.json()["re_review_used"] is True
    services.claim_review(user=world.reviewer, claim=claim, approve=False, note="仍不符合", on=date(2025, 4, 20))
    response = client.post(url, {}, format="json")
    assert response.status_code in (400, 409) and rules_of(response) == {"RP-16"}


def test_rp16_rp17_compensation_library_recovery_and_closure_request(world, today):
    claim = world.claim("paid")
    client = token_client(world.bank_user)
    today(date(2025, 5, 6))
    response = client.post(reverse("riskpool-api:claim-to-compensation-library", args=[claim.pk]))
    assert response.status_code == 200 and response.json()["state"] == "in_compensation_library"
    assert reload(claim.project).library == LoanProject.Library.COMPENSATION

    today(date(2025, 8, 1))
    url = reverse("riskpool-api:claim-recoveries", args=[claim.pk])
    body = {"received_on": "2025-07-15", "gross": "800000.00", "method": "collection", "idempotency_key": "rec-1"}
    response = client.post(url, body, format="json")
    assert response.status_code == 201, response.json()
    report = response.json()
    assert report["return_amount"] == "400000.00" and report["gross"] == "800000.00"
    assert report["report_due_on"] == "2025-10-28" and report["returned_on"] == "2025-08-01"
    assert LedgerEntry.objects.get(claim=claim, kind=LedgerEntry.Kind.RETURN_RECOVERY).amount == D("400000.00")
    bad = client.post(url, {**body, "gross": "-1.00", "idempotency_key": "rec-2"}, format="json")
    assert bad.status_code == 400 and rules_of(bad) == {"RP-17"}

    response = client.post(reverse("riskpool-api:claim-closure-request", args=[claim.pk]), {"note": "已核销"},
                           format="json")
    assert response.status_code == 200 and response.json()["state"] == "closure_requested"
    detail = client.get(reverse("riskpool-api:claim-detail", args=[claim.pk])).json()
    assert detail["returned_amount"] == "400000.00" and len(detail["recoveries"]) == 1
    assert [s["new"] for s in detail["steps"]][-3:] == ["in_compensation_library", "recovering", "closure_requested"]


def test_rp16_8a_upgrade_returns_the_compensation_and_the_loan_goes_back(world, today):
    claim = world.claim("in_compensation_library")
    client = login(world.bank_user)
    today(date(2025, 5, 12))
    url = reverse("riskpool-api:claim-upgrade", args=[claim.pk])
    response = client.post(url, {}, format="json")
    assert response.status_code == 400 and rules_of(response) == {"RP-16"}  # still non-performing
    classify = reverse("riskpool-api:project-classify", args=[claim.project_id])
    assert client.post(classify, {"new": "normal", "on": "2025-05-10"}, format="json").status_code == 200
    response = client.post(url, {"note": "已上调为正常"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "upgrade_requested" and body["reclassified_on"] == "2025-05-10"
    assert reload(claim.project).library == LoanProject.Library.COMPENSATION  # the reviewer approves first
    services.claim_upgrade_decide(user=world.reviewer, claim=claim, approve=True, on=date(2025, 5, 14))
    detail = client.get(reverse("riskpool-api:claim-detail", args=[claim.pk])).json()
    assert detail["state"] == "upgraded" and detail["returned_amount"] == "1200000.00"
    assert reload(claim.project).library == LoanProject.Library.LOAN


def test_rp16_8b_settlement_application_through_the_api(world, today):
    claim = world.claim("in_compensation_library")
    client = token_client(world.bank_user)
    today(date(2025, 9, 23))
    url = reverse("riskpool-api:claim-settlement-request", args=[claim.pk])
    response = client.post(url, {"note": "处置完毕"}, format="json")
    assert response.status_code == 400 and rules_of(response) == {"RP-16"}  # no disposal date
    response = client.post(url, {"completed_on": "2025-09-22", "note": "处置完毕"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "settlement_requested" and body["disposal_completed_on"] == "2025-09-22"
    other = token_client(bank_user())
    assert other.post(url, {"completed_on": "2025-09-22"}, format="json").status_code == 404


# --- constant query counts -------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_project_and_claim_lists_take_the_same_number_of_queries_for_3_or_30_rows():
    pool = PoolFactory()
    user = bank_user()
    client = login(user)
    client.get(PROJECTS)  # the session and the user's roles are loaded once

    def add(n):
        for _ in range(n):
            ClaimFactory(project__pool=pool, project__bank=user.organisation)

    add(3)
    few = (_queries(client, PROJECTS), _queries(client, CLAIMS))
    add(27)
    many = (_queries(client, PROJECTS), _queries(client, CLAIMS))
    assert len(ids(client.get(PROJECTS))) == 30 and len(ids(client.get(CLAIMS))) == 30
    assert few == many
