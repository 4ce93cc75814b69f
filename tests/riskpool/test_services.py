"""Scheme S through the services: the spec's worked example end to end, and each refusal by its
rule id (RP-1, RP-5, RP-6, RP-7, RP-14, RP-15, RP-16, RP-22, RP-24)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from core.bulk import BulkRejected, RowError
from core.errors import Conflict, RuleViolation
from core.i18n_text import render
from core.models import AuditEvent, ExchangeRate
from riskpool import services
from riskpool.models import LedgerEntry, LoanProject, Objection
from tests.factories import (
    BorrowerDataFactory,
    LoanProjectFactory,
    OrganisationFactory,
    UserFactory,
    bank_user,
)
from tests.riskpool.factories import PDF, PNG, example_data, pdf

pytestmark = pytest.mark.django_db
def reload(obj):
    obj.refresh_from_db()
    return obj


# --- the worked example ------------------------------------------------------------------


def test_rp16_worked_example_end_to_end_through_the_services(world):
    project = world.register()
    assert project.principal_yuan == D("3000000.00") and project.fx_kind == "cny"
    world.npl(project)
    claim = world.submit(project)
    assert claim.state == "submitted"
    assert claim.npl_on == date(2025, 3, 3)
    assert claim.ratio == D("0.500000") and claim.amount == D("1200000.00")
    assert claim.next_due_on == date(2025, 5, 1)  # RP-16 step 1: 30 days to decide
    assert {r["rule"] for r in claim.reasons} >= {"RP-4", "RP-6", "RP-7", "RP-8", "RP-9", "RP-10", "RP-11", "RP-14"}

    world.budget()
    claim = world.to_documents(claim)
    claim = reload(claim)
    assert claim.state == "documents_uploaded" and claim.notice_end == date(2025, 4, 23)
    assert claim.next_due_on == date(2025, 5, 5)  # RP-16 step 6: 10 days to pay

    world.pay(claim)
    claim = reload(claim)
    assert claim.state == "paid" and claim.paid_amount == D("1200000.00") and claim.paid_on == date(2025, 4, 28)
    payout = LedgerEntry.objects.get(claim=claim, kind=LedgerEntry.Kind.PAYOUT)
    assert payout.amount == D("-1200000.00") and reload(world.pool).balance == D("3800000.00")

    services.claim_to_compensation_library(user=world.bank_user, claim=claim, on=date(2025, 5, 6))
    assert reload(project).library == LoanProject.Library.COMPENSATION

    report = services.recovery_report(user=world.bank_user, claim=claim, received_on=date(2025, 7, 15),
                                      gross="800000.00", method="collection", on=date(2025, 8, 1))
    claim = reload(claim)
    assert report.return_amount == D("400000.00") and report.report_due_on == date(2025, 10, 28)  # 15th working day of Q4 (holiday 10-01…10-08, 10-11 worked)
    assert claim.state == "recovering" and claim.returned_amount == D("400000.00")
    ret = LedgerEntry.objects.get(claim=claim, kind=LedgerEntry.Kind.RETURN_RECOVERY)
    assert ret.amount == D("400000.00") and reload(world.pool).balance == D("4200000.00")

    steps = list(claim.steps.values_list("old", "new"))
    assert steps == [
        ("", "submitted"), ("submitted", "approved"), ("approved", "on_notice"), ("on_notice", "notice_passed"),
        ("notice_passed", "in_funding_plan"), ("in_funding_plan", "documents_uploaded"),
        ("documents_uploaded", "paid"), ("paid", "in_compensation_library"), ("in_compensation_library", "recovering"),
    ]
    assert all(step.by_id for step in claim.steps.all())
    transitions = AuditEvent.objects.filter(object_type="riskpool.claim", object_id=str(claim.pk),
                                            action=AuditEvent.Action.TRANSITION)
    assert transitions.count() == len(steps) - 1
    assert AuditEvent.objects.filter(object_type="riskpool.loanproject", object_id=str(project.pk)).exists()
    assert AuditEvent.objects.filter(object_type="riskpool.recoveryreport", object_id=str(report.pk)).exists()


# --- entry (RP-5, RP-6, RP-22) -----------------------------------------------------------


def test_rp6_entry_after_the_15th_working_day_is_refused_with_the_deadline(world):
    with pytest.raises(RuleViolation) as exc:
        world.register(entered_on=date(2024, 7, 22))
    assert exc.value.rule == "RP-6" and "2024-07-19" in exc.value.message
    assert not LoanProject.objects.filter(loan_no="JJ-2024-0001").exists()


def test_rp6_entry_on_the_deadline_itself_is_accepted(world):
    assert world.register(entered_on=date(2024, 7, 19)).entered_on == date(2024, 7, 19)


def test_rp6_npl_before_entry_is_flagged_and_never_compensated(world):
    project = world.register()
    world.npl(project, on=date(2024, 5, 20))
    assert reload(project).npl_before_entry is True
    with pytest.raises(RuleViolation) as exc:
        world.submit(project, submitted_on=date(2024, 6, 10), credit_report_on=date(2024, 6, 5))
    assert "RP-6" in {p.rule for p in exc.value.problems}


def test_rp5_foreign_principal_is_converted_at_the_disbursement_dates_rate(world):
    ExchangeRate.objects.create(currency="USD", on=date(2024, 5, 10), kind=ExchangeRate.Kind.SPOT_BUYING,
                                rate=D("7.100000"))
    project = world.register(currency="USD", principal=D("100000.00"))
    assert project.principal_yuan == D("710000.00") and project.fx_kind == "spot_buying"


def test_rp5_missing_rate_is_a_clear_error(world):
    with pytest.raises(RuleViolation) as exc:
        world.register(currency="EUR")
    assert exc.value.rule == "RP-5"


def test_rp22_revoked_member_cannot_enter_loans(world):
    world.member.revoked_on = date(2024, 3, 1)
    world.member.save()
    with pytest.raises(RuleViolation) as exc:
        world.register()
    assert exc.value.rule == "RP-22"


def test_rp25_only_the_banks_operator_enters_its_loans(world):
    outsider = bank_user()
    with pytest.raises(RuleViolation) as exc:
        services.project_register(user=outsider, pool=world.pool, borrower=BorrowerDataFactory(), data=example_data())
    assert exc.value.rule == "MEMBER"
    with pytest.raises(PermissionDenied):
        services.project_register(user=world.reviewer, pool=world.pool, borrower=BorrowerDataFactory(),
                                  data=example_data())


def test_rp6_bulk_register_saves_nothing_when_any_row_is_bad_and_lists_every_error(world):
    rows = [
        {"row": 2, "borrower": BorrowerDataFactory(), "data": example_data(loan_no="B-1")},
        {"row": 3, "borrower": BorrowerDataFactory(), "data": example_data(loan_no="B-2", entered_on=date(2024, 8, 1))},
        {"row": 4, "errors": [RowError(4, "principal", "INPUT", "not a number")]},
    ]
    with pytest.raises(BulkRejected) as exc:
        services.project_bulk_register(user=world.bank_user, pool=world.pool, rows=rows)
    assert [(e.row, e.rule) for e in exc.value.errors] == [(3, "RP-6"), (4, "INPUT")]
    assert not LoanProject.objects.filter(loan_no__in=["B-1", "B-2"]).exists()
    created = services.project_bulk_register(user=world.bank_user, pool=world.pool, rows=rows[:1])
    assert [p.loan_no for p in created] == ["B-1"]


def test_rp15_bulk_register_refreshes_the_banks_figures_once_with_every_row(world):
    rows = [{"row": n, "borrower": BorrowerDataFactory(), "data": example_data(loan_no=f"B-{n}")} for n in range(2, 6)]
    services.project_bulk_register(user=world.bank_user, pool=world.pool, rows=rows)
    world.member.refresh_from_db()
    assert world.member.entered_principal == D("200000000.00") + 4 * D("3000000.00")
    assert world.member.npl_ratio == D("0")


# --- claim refusals (RP-7, RP-14, RP-24) ------------------------------------------------


def test_rp14_claim_after_three_months_is_refused(world):
    project = world.register()
    world.npl(project)
    with pytest.raises(RuleViolation) as exc:
        world.submit(project, submitted_on=date(2025, 6, 4), credit_report_on=date(2025, 6, 3))
    assert "RP-14" in {p.rule for p in exc.value.problems}
    assert not project.claims.exists()


def test_rp14_claim_on_the_deadline_day_is_accepted(world):
    project = world.register()
    world.npl(project)
    claim = world.submit(project, submitted_on=date(2025, 6, 3), credit_report_on=date(2025, 6, 3))
    assert claim.state == "submitted"


def test_rp14_a_loan_that_is_not_non_performing_cannot_be_claimed(world):
    with pytest.raises(RuleViolation) as exc:
        world.submit(world.register())
    assert exc.value.rule == "RP-14"


def test_rp7_excluded_loan_is_refused_with_every_failing_rule(world):
    project = world.register(covered_by_other_scheme=True, purpose="relending", annual_rate=D("0.0600"))
    world.npl(project)
    with pytest.raises(RuleViolation) as exc:
        world.submit(project, submitted_on=date(2025, 6, 10), credit_report_on=date(2025, 6, 9))
    rules_failed = {p.rule for p in exc.value.problems}
    assert {"RP-7", "RP-14"} <= rules_failed
    message = next(p.message for p in exc.value.problems if p.rule == "RP-7")
    assert "another compensation policy" in message and "5.45%" in message


def test_rp24_dishonest_bank_cannot_submit(world):
    project = world.register()
    world.npl(project)
    services.member_set_dishonest(user=world.authority, member=world.member, flag=True)
    with pytest.raises(RuleViolation) as exc:
        world.submit(project)
    assert exc.value.rule == "RP-24"
    assert AuditEvent.objects.filter(object_type="riskpool.member", summary__contains="RP-24").exists()


def test_rp24_only_the_authority_sets_the_dishonesty_flag(world):
    with pytest.raises(PermissionDenied):
        services.member_set_dishonest(user=world.bank_user, member=world.member, flag=True)


# --- RP-15 the NPL gate -----------------------------------------------------------------


def test_rp15_claim_held_while_the_bank_is_above_3_percent_then_released(world):
    project = world.register()
    other = LoanProjectFactory(pool=world.pool, bank=world.bank, principal=D("4000000.00"))
    world.npl(other, on=date(2025, 2, 1))
    world.npl(project)
    member = reload(world.member)
    assert member.npl_principal == D("7000000.00") and member.entered_principal == D("207000000.00")
    assert member.npl_ratio == D("0.033816")
    claim = world.submit(project)
    assert claim.state == "held_npl_gate" and claim.next_due_on is None
    # RP-15: the claim gives the loan's outstanding principal (2,400,000), which now counts instead
    # of its principal: 6,400,000 / 207,000,000, still above 3%.
    assert reload(world.member).npl_principal == D("6400000.00")
    held = render(claim.held_reason)
    assert "RP-15" in held and "3.0918%" in held and "above the limit of 3%" in held
    with pytest.raises(Conflict):
        services.claim_review(user=world.reviewer, claim=claim, approve=True, on=date(2025, 4, 2))

    world.npl(other, on=date(2025, 4, 20), new="special_mention")
    claim = reload(claim)
    assert claim.state == "submitted" and claim.held_reason == ""
    assert claim.next_due_on == date(2025, 5, 20)  # the 30 days run from the release
    assert reload(world.member).npl_ratio == D("0.011594")  # 2,400,000 outstanding / 207,000,000
    assert list(claim.steps.values_list("new", flat=True)) == ["submitted", "held_npl_gate", "submitted"]


def test_rp15_write_off_closed_projects_do_not_count(world):
    LoanProjectFactory(pool=world.pool, bank=world.bank, principal=D("9000000.00"), classification="loss",
                       library=LoanProject.Library.CLOSED, closed_reason=LoanProject.ClosedReason.WRITE_OFF)
    member = services.member_refresh_npl(world.member)
    assert member.npl_principal == D("0") and member.npl_ratio == D("0.000000")


# --- RP-16 review, re-review, objections, withdrawal ---------------------------------------


def test_rp16_the_bank_may_ask_for_re_review_only_once(world):
    claim = world.claim()
    services.claim_review(user=world.reviewer, claim=claim, approve=False, note="资料不全", on=date(2025, 4, 5))
    claim = services.claim_request_re_review(user=world.bank_user, claim=claim, on=date(2025, 4, 6))
    assert claim.state == "re_review" and claim.re_review_used and claim.next_due_on == date(2025, 5, 6)
    services.claim_review(user=world.reviewer, claim=claim, approve=False, note="仍不符合", on=date(2025, 4, 8))
    with pytest.raises(Conflict) as exc:
        services.claim_request_re_review(user=world.bank_user, claim=claim, on=date(2025, 4, 9))
    assert exc.value.rule == "RP-16" and "only once" in exc.value.message
    assert reload(claim).state == "rejected"


def test_rp16_a_rejection_needs_reasons_and_only_the_pools_reviewer_decides(world):
    claim = world.claim()
    with pytest.raises(RuleViolation):
        services.claim_review(user=world.reviewer, claim=claim, approve=False, note=" ")
    stranger = UserFactory(organisation=OrganisationFactory(kind="pool_reviewer"), roles=["pool_reviewer"])
    with pytest.raises(PermissionDenied):
        services.claim_review(user=stranger, claim=claim, approve=True)
    with pytest.raises(PermissionDenied):
        services.claim_review(user=world.bank_user, claim=claim, approve=True)


def test_rp16_upheld_objection_sends_the_claim_to_re_review_without_using_the_banks_request(world):
    claim = world.to_notice(world.claim())
    assert claim.notice_end == date(2025, 4, 23) and claim.next_due_on == date(2025, 4, 24)
    objection = services.objection_file(claim=claim, name="张三", contact="13800000000", text="该企业已停业",
                                        on=date(2025, 4, 16))
    with pytest.raises(Conflict):
        services.claim_notice_close(user=world.authority, claim=claim, on=date(2025, 4, 24))
    services.objection_decide(user=world.reviewer, objection=objection, upheld=True, note="成立",
                              on=date(2025, 4, 20))
    claim = reload(claim)
    assert reload(objection).status == Objection.Status.UPHELD
    assert claim.state == "re_review" and not claim.re_review_used and claim.next_due_on == date(2025, 5, 20)
    assert list(claim.steps.values_list("new", flat=True))[-2:] == ["objection_upheld", "re_review"]
    with pytest.raises(Conflict):
        services.objection_decide(user=world.reviewer, objection=objection, upheld=False)


def test_rp16_dismissed_objection_lets_the_notice_pass_and_objections_close_with_the_notice(world):
    claim = world.to_notice(world.claim())
    objection = services.objection_file(claim=claim, name="李四", contact="li@example.invalid", text="异议",
                                        on=date(2025, 4, 23))
    services.objection_decide(user=world.reviewer, objection=objection, upheld=False, on=date(2025, 4, 23))
    with pytest.raises(Conflict):
        services.claim_notice_close(user=world.authority, claim=claim, on=date(2025, 4, 23))
    with pytest.raises(Conflict):
        services.objection_file(claim=claim, name="王五", contact="x", text="too late", on=date(2025, 4, 24))
    assert services.claim_notice_close(user=world.authority, claim=claim, on=date(2025, 4, 24)).state == "notice_passed"


def test_rp16_withdraw_only_before_approval(world):
    claim = world.claim()
    services.claim_review(user=world.reviewer, claim=claim, approve=True, note="ok", on=date(2025, 4, 2))
    with pytest.raises(Conflict):
        services.claim_withdraw(user=world.bank_user, claim=claim, on=date(2025, 4, 3))
    project = LoanProjectFactory(pool=world.pool, bank=world.bank, disbursed_on=date(2024, 5, 10),
                                 entered_on=date(2024, 6, 1))
    world.npl(project)
    second = world.submit(project, outstanding=D("500000.00"))
    assert services.claim_withdraw(user=world.bank_user, claim=second, on=date(2025, 4, 3)).state == "withdrawn"


def test_rp21_a_second_claim_on_the_same_loan_is_refused(world):
    claim = world.claim()
    with pytest.raises(Conflict):
        world.submit(claim.project)


# --- documents --------------------------------------------------------------------------


def test_rp16_documents_checked_by_content_not_by_name(world):
    claim = world.to_notice(world.claim())
    services.claim_notice_close(user=world.authority, claim=claim, on=date(2025, 4, 24))
    services.funding_plan_issue(user=world.authority, pool=world.pool, number="P-1", claims=[claim],
                                on=date(2025, 4, 24))
    fake = SimpleUploadedFile("receipt.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(RuleViolation):
        services.claim_documents_upload(user=world.bank_user, claim=claim, files=[("receipt", fake)])
    big = SimpleUploadedFile("big.pdf", PDF + b"\0" * (10 * 1024 * 1024), content_type="application/pdf")
    with pytest.raises(RuleViolation):
        services.claim_documents_upload(user=world.bank_user, claim=claim, files=[("receipt", big)])
    services.claim_documents_upload(user=world.bank_user, claim=claim, on=date(2025, 4, 25),
                                    files=[("receipt", SimpleUploadedFile("r.png", PNG)), ("id_copy", pdf())])
    claim = reload(claim)
    assert claim.state == "in_funding_plan" and claim.next_due_on == date(2025, 4, 27)  # 3 days from the plan
    assert set(claim.documents.values_list("content_type", flat=True)) == {"image/png", "application/pdf"}
    services.claim_documents_upload(user=world.bank_user, claim=claim, on=date(2025, 4, 26),
                                    files=[("account_confirmation", pdf()), ("authorisation", pdf())])
    assert reload(claim).state == "documents_uploaded"


# --- RP-1 paying ------------------------------------------------------------------------


def test_rp1_short_balance_leaves_the_claim_waiting_with_its_documents(world):
    world.budget("1000000.00")
    claim = world.to_documents(world.claim())
    with pytest.raises(RuleViolation) as exc:
        world.pay(claim)
    assert exc.value.rule == "RP-1" and "waits for money" in exc.value.message
    claim = reload(claim)
    assert claim.state == "documents_uploaded" and claim.paid_amount == D("0")
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PAYOUT).exists()
    world.budget("300000.00")
    world.pay(claim)
    assert reload(claim).state == "paid" and reload(world.pool).balance == D("100000.00")


def test_rp1_when_money_is_short_claims_are_paid_in_order_of_approval(world):
    world.budget("2000000.00")  # room for one 1,200,000 claim, not two
    first = world.to_documents(world.claim(), number="ZZ-1")
    second = world.to_documents(world.claim("JJ-2024-0002"), number="ZZ-2")
    from riskpool.selectors import payment_queue, payment_queue_for_treasurer

    assert list(payment_queue(world.pool.pk).values_list("pk", flat=True)) == [first.pk, second.pk]
    desk = payment_queue_for_treasurer(user=world.treasurer)  # the treasurer's page shows who waits
    assert [(row["claim"].pk, row["payable"]) for row in desk] == [(first.pk, True), (second.pk, False)]
    with pytest.raises(RuleViolation) as exc:
        world.pay(second, key="second")
    assert exc.value.rule == "RP-1" and "approved earlier" in exc.value.message
    assert reload(second).state == "documents_uploaded"
    world.pay(first, key="first")
    assert reload(first).state == "paid"
    with pytest.raises(RuleViolation):  # now simply short: 800,000 left
        world.pay(second, key="second")
    world.budget("400000.00")
    world.pay(second, key="second")
    assert reload(second).state == "paid" and reload(world.pool).balance == D("0.00")


def test_rp1_with_money_for_all_a_later_claim_may_be_paid_first(world):
    world.budget("2400000.00")  # exactly both claims
    first = world.to_documents(world.claim(), number="ZZ-1")
    second = world.to_documents(world.claim("JJ-2024-0002"), number="ZZ-2")
    world.pay(second, key="second")
    world.pay(first, key="first")
    assert reload(world.pool).balance == D("0.00")


def test_rp1_paying_twice_with_the_same_key_pays_once(world):
    world.budget()
    claim = world.to_documents(world.claim())
    world.pay(claim, key="claim-pay-9")
    again = world.pay(claim, key="claim-pay-9")
    assert again.state == "paid"
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PAYOUT).count() == 1
    assert reload(world.pool).balance == D("3800000.00")
    with pytest.raises(Conflict):
        world.pay(claim, key="another-key")


def test_rp1_only_the_pools_treasurer_pays(world):
    world.budget()
    claim = world.to_documents(world.claim())
    with pytest.raises(PermissionDenied):
        services.claim_pay(user=world.reviewer, claim=claim, on=date(2025, 4, 28), idempotency_key="x")


# --- after payment: 8a upgrade, 8b recovery and settlement, 8c closure -----------------------


def paid_claim(world):
    world.budget()
    claim = world.to_documents(world.claim())
    world.pay(claim)
    return services.claim_to_compensation_library(user=world.bank_user, claim=claim, on=date(2025, 5, 6))


def test_rp17_recoveries_never_return_more_than_was_paid(world):
    claim = paid_claim(world)
    services.recovery_report(user=world.bank_user, claim=claim, received_on=date(2025, 7, 1), gross="2000000.00",
                             method="package_sale", on=date(2025, 7, 2))
    report = services.recovery_report(user=world.bank_user, claim=claim, received_on=date(2025, 8, 1),
                                      gross="1000000.00", method="collection", on=date(2025, 8, 2))
    claim = reload(claim)
    assert report.return_amount == D("200000.00") and claim.returned_amount == D("1200000.00")
    last = services.recovery_report(user=world.bank_user, claim=claim, received_on=date(2025, 9, 1), gross="10.00",
                                    method="collection", on=date(2025, 9, 2))
    assert last.return_amount == D("0.00") and last.returned_on is None
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.RETURN_RECOVERY).count() == 2


def test_rp16_steps_out_of_order_are_conflicts(world):
    claim = world.claim()
    with pytest.raises(Conflict):
        services.claim_notice_start(user=world.authority, claims=[claim], on=date(2025, 4, 2))
    with pytest.raises(Conflict):
        services.objection_file(claim=claim, name="a", contact="b", text="c")
    with pytest.raises(Conflict):
        services.funding_plan_issue(user=world.authority, pool=world.pool, number="P-9", claims=[claim],
                                    on=date(2025, 4, 2))
