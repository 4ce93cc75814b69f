"""RP-14 (seed 004 第十九条(二)): a claim needs the loan's documents. The borrower's credit report
and the loan file are required attachments; a claim without them is refused by the service with
every missing document named, so the web form and the API give the same answer. Attachments are
downloaded only through the claim's scope (RP-25): another organisation gets 404."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from core.errors import RuleViolation
from riskpool import rules
from riskpool.models import Claim, ClaimDocument
from tests.factories import PoolFactory, UserFactory, bank_user
from tests.riskpool.factories import PDF, pdf
from tests.riskpool.test_api import login, rules_of, set_today, token_client

pytestmark = pytest.mark.django_db
CLAIMS = reverse("riskpool-api:claim-list")


def npl_project(world, loan_no="JJ-2024-0001"):
    project = world.register(loan_no=loan_no)
    world.npl(project)
    return project


# --- the rule -------------------------------------------------------------------------------


def test_rp14_required_documents_are_the_credit_report_and_the_loan_file():
    assert rules.CLAIM_DOCUMENTS == ("credit_report", "loan_file")
    assert rules.missing_claim_documents([]) == ["credit_report", "loan_file"]
    assert rules.missing_claim_documents(["loan_file", "other"]) == ["credit_report"]
    assert rules.missing_claim_documents(["credit_report", "loan_file"]) == []
    assert rules.claim_document_problems(["credit_report", "loan_file", "receipt"]) == []


def test_rp14_each_missing_document_is_a_problem_naming_all_that_is_missing():
    problems = rules.claim_document_problems(["other"])
    assert [(p.rule, p.field) for p in problems] == [("RP-14", "credit_report"), ("RP-14", "loan_file")]
    for problem in problems:
        assert "credit report" in str(problem.message) and "loan file" in str(problem.message)


# --- the service ------------------------------------------------------------------------------


def test_rp14_claim_without_the_loan_file_is_refused_and_nothing_is_stored(world):
    project = npl_project(world)
    with pytest.raises(RuleViolation) as caught:
        world.submit(project, documents=[(ClaimDocument.Kind.CREDIT_REPORT, pdf())])
    assert [(p.rule, p.field) for p in caught.value.problems] == [("RP-14", "loan_file")]
    assert not Claim.objects.filter(project=project).exists() and not ClaimDocument.objects.exists()


def test_rp14_claim_without_any_document_lists_both(world):
    project = npl_project(world)
    with pytest.raises(RuleViolation) as caught:
        world.submit(project, documents=[])
    assert {p.field for p in caught.value.problems} == {"credit_report", "loan_file"}
    assert not Claim.objects.filter(project=project).exists()


def test_rp14_missing_documents_are_listed_beside_the_failing_window(world):
    project = npl_project(world)
    with pytest.raises(RuleViolation) as caught:  # 2025-06-10 is after the 3 months from 2025-03-03
        world.submit(project, submitted_on=date(2025, 6, 10), credit_report_on=date(2025, 6, 9), documents=[])
    assert [(p.rule, p.field) for p in caught.value.problems if p.field] == [
        ("RP-14", "credit_report"), ("RP-14", "loan_file")]
    assert any(p.rule == "RP-14" and p.field is None and "2025-06-03" in str(p.message)
               for p in caught.value.problems)


def test_rp14_claim_with_both_documents_stores_them(world):
    claim = world.submit(npl_project(world))
    assert sorted(claim.documents.values_list("kind", flat=True)) == ["credit_report", "loan_file"]
    assert claim.amount == D("1200000.00")


# --- the web form ---------------------------------------------------------------------------


def test_rp14_web_form_refuses_a_claim_without_documents_naming_each(client, world, server_day):
    project = npl_project(world)
    server_day(date(2025, 4, 1))  # the submission date is the server's
    client.force_login(world.bank_user)
    response = client.post(reverse("riskpool:claim-create", args=[project.pk]), {
        "outstanding_principal": "2400000", "credit_report_on": "2025-03-25", "submitted_on": "2025-04-01",
        "credit_report": pdf("征信报告.pdf")})
    assert response.status_code == 400
    assert "loan file" in response.content.decode() and not Claim.objects.filter(project=project).exists()
    errors = response.context["form"].errors
    assert "loan_file" in errors and "credit_report" not in errors
    assert [str(e) for e in errors.get("__all__", [])] == []  # nothing else is wrong with the claim


def test_rp14_web_form_accepts_both_documents(client, world, server_day):
    project = npl_project(world)
    server_day(date(2025, 4, 1))  # the submission date is the server's
    client.force_login(world.bank_user)
    response = client.post(reverse("riskpool:claim-create", args=[project.pk]), {
        "outstanding_principal": "2400000", "credit_report_on": "2025-03-25", "submitted_on": "2025-04-01",
        "credit_report": pdf("征信报告.pdf"), "loan_file": pdf("贷款资料.pdf")})
    claim = Claim.objects.get(project=project)
    assert response.status_code == 302
    assert sorted(claim.documents.values_list("kind", flat=True)) == ["credit_report", "loan_file"]


# --- the API ----------------------------------------------------------------------------------


def test_rp14_api_refuses_a_json_claim_without_attachments(world, monkeypatch):
    project = npl_project(world)
    set_today(monkeypatch, date(2025, 4, 1))
    response = login(world.bank_user).post(CLAIMS, {"project": project.pk, "outstanding_principal": "2400000.00",
                                                    "credit_report_on": "2025-03-25"}, format="json")
    assert response.status_code == 400 and rules_of(response) == {"RP-14"}
    assert {e["field"] for e in response.json()["errors"]} == {"credit_report", "loan_file"}
    assert not Claim.objects.filter(project=project).exists()


def test_rp14_api_accepts_multipart_attachments(world, monkeypatch):
    project = npl_project(world)
    set_today(monkeypatch, date(2025, 4, 1))
    response = token_client(world.bank_user).post(CLAIMS, {
        "project": project.pk, "outstanding_principal": "2400000.00", "credit_report_on": "2025-03-25",
        "credit_report": pdf("征信报告.pdf"), "loan_file": pdf("贷款资料.pdf")}, format="multipart")
    assert response.status_code == 201, response.json()
    assert [d["kind"] for d in response.json()["documents"]] == ["credit_report", "loan_file"]


def test_rp14_api_refuses_an_attachment_that_is_not_a_pdf_or_image(world, monkeypatch):
    project = npl_project(world)
    set_today(monkeypatch, date(2025, 4, 1))
    response = login(world.bank_user).post(CLAIMS, {
        "project": project.pk, "outstanding_principal": "2400000.00", "credit_report_on": "2025-03-25",
        "credit_report": pdf("征信报告.pdf"), "loan_file": pdf("loan.pdf", content=b"MZ\x90\x00 not a pdf")},
        format="multipart")
    assert response.status_code == 400 and "loan.pdf" in response.json()["errors"][0]["message"]
    assert not Claim.objects.filter(project=project).exists()


# --- downloads only through the claim's scope -------------------------------------------------


@pytest.fixture
def document(world):
    claim = world.submit(npl_project(world))
    return claim.documents.get(kind="loan_file")


def test_rp14_download_for_the_bank_and_the_pool_parties(client, world, document):
    url = reverse("riskpool:claim-document", args=[document.pk])
    for user in (world.bank_user, world.reviewer, world.treasurer, world.authority):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
        assert "attachment" in response["Content-Disposition"] and response["Content-Type"] == "application/pdf"


def test_rp14_download_of_another_organisations_document_is_404(client, world, document):
    url = reverse("riskpool:claim-document", args=[document.pk])
    other_pool = PoolFactory()
    for user in (bank_user(), UserFactory(organisation=other_pool.reviewer, roles=["pool_reviewer"]),
                 UserFactory(organisation=other_pool.authority, roles=["authority_admin"])):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the sign-in page


def test_rp14_api_download_is_scoped(world, document):
    url = reverse("riskpool-api:claim-document", args=[document.claim_id, document.pk])
    response = token_client(world.bank_user).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert token_client(bank_user()).get(url).status_code == 404
    other = world.submit(npl_project(world, loan_no="JJ-2024-0002"))
    # A document is found only under its own claim.
    wrong = reverse("riskpool-api:claim-document", args=[other.pk, document.pk])
    assert token_client(world.bank_user).get(wrong).status_code == 404


def test_the_claim_form_lists_field_rule_and_document_problems_in_one_pass(client, world, server_day):
    """Issue 13.3: a mistyped credit report date, an outstanding principal above the principal
    (RP-13) and a missing loan file (RP-14) are all shown on the first submission, each beside
    its field with its rule id."""
    project = npl_project(world)
    server_day(date(2025, 4, 1))
    client.force_login(world.bank_user)
    response = client.post(reverse("riskpool:claim-create", args=[project.pk]), {
        "outstanding_principal": "99999999", "credit_report_on": "2025-13-45", "credit_report": pdf("征信报告.pdf")})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"credit_report_on", "outstanding_principal", "loan_file"} <= set(errors)
    assert "RP-13" in str(errors["outstanding_principal"]) and "RP-14" in str(errors["loan_file"])
    assert not Claim.objects.filter(project=project).exists()


def test_the_claim_form_shows_the_quotes_failures_beside_a_field_error(client, world, server_day):
    """Issue 13.3: with the principal and the report date valid, the whole quote runs even though
    another field failed: a report date outside the window (RP-14) with an empty loan file."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    project = npl_project(world)
    server_day(date(2025, 6, 10))  # after the 3 months from the NPL date
    client.force_login(world.bank_user)
    response = client.post(reverse("riskpool:claim-create", args=[project.pk]), {
        "outstanding_principal": "2400000", "credit_report_on": "2025-06-09", "credit_report": pdf("征信报告.pdf"),
        "loan_file": SimpleUploadedFile("贷款资料.pdf", b"", content_type="application/pdf")})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "loan_file" in errors and any("RP-14" in e and "2025-06-03" in e for e in errors.get("__all__", []))


def test_the_claim_api_answers_field_and_rule_problems_together(world, monkeypatch):
    """Issue 13.3: a malformed credit report date (field), an outstanding principal above the
    principal (RP-13) and both missing attachments (RP-14) in one 400, as the web form shows them."""
    project = npl_project(world)
    set_today(monkeypatch, date(2025, 4, 1))
    response = login(world.bank_user).post(CLAIMS, {"project": project.pk, "outstanding_principal": "99999999.00",
                                                    "credit_report_on": "not a date"}, format="json")
    assert response.status_code == 400
    found = {(e["rule"], e["field"]) for e in response.json()["errors"]}
    assert {(None, "credit_report_on"), ("RP-13", "outstanding_principal"), ("RP-14", "credit_report"),
            ("RP-14", "loan_file")} <= found
    assert not Claim.objects.filter(project=project).exists()


def test_the_claim_api_says_nothing_about_another_banks_project(world, monkeypatch):
    other = npl_project(world, loan_no="JJ-2024-0009")
    set_today(monkeypatch, date(2025, 4, 1))
    stranger = bank_user()
    response = login(stranger).post(CLAIMS, {"project": other.pk, "outstanding_principal": "x",
                                             "credit_report_on": "2025-03-25"}, format="json")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"outstanding_principal"}
