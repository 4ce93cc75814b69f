"""RP-16 steps 8a, 8b and 8c after the payment (第十九条(五)(六)(七), 第二十条(六)): the bank's
upgrade and settlement applications within 15 working days and the reviewer's decision on them,
the write-off closure through the reviewer, treasurer, authority and finance bureau (监管执行部门),
each step on the JB-3 deadline lists of whoever owes it; refused to the wrong role and to
another organisation."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import translation

from core import deadlines
from core.errors import Conflict, RuleViolation
from core.i18n_text import render
from core.models import AuditEvent, Organisation
from riskpool import services
from riskpool.models import ClaimStep, LedgerEntry, LoanProject
from tests.factories import OrganisationFactory, PoolFactory, UserFactory, bank_user
from tests.riskpool.test_services import paid_claim, reload

pytestmark = pytest.mark.django_db


def _obligations(on: date, horizon: date, org) -> dict[str, deadlines.Obligation]:
    return {o.key: o for o in deadlines.obligations(today=on, horizon=horizon, organisation_ids={org.pk})}


def _upgrade_ready(world, on=date(2025, 8, 20)):
    claim = paid_claim(world)
    world.npl(claim.project, on=on, new="normal")
    return reload(claim)


# --- 8a: the upgrade application and the reviewer's approval ------------------------------------


def test_rp16_8a_reclassification_starts_15_working_days_for_the_bank_on_jb3(world):
    claim = _upgrade_ready(world)
    # 2025-08-20 (Wed) + 15 working days = 2025-09-10.
    assert claim.reclassified_on == date(2025, 8, 20) and claim.next_due_on == date(2025, 9, 10)
    items = _obligations(date(2025, 9, 5), date(2025, 9, 12), world.bank)
    item = items[f"riskpool.claim:{claim.pk}:upgrade_application"]
    assert item.due_on == date(2025, 9, 10) and item.rule == "RP-16"
    assert claim.project.loan_no in item.text()
    # Classified non-performing again: nothing is owed any more.
    world.npl(claim.project, on=date(2025, 8, 25), new="doubtful")
    claim = reload(claim)
    assert claim.reclassified_on is None and claim.next_due_on is None
    assert f"riskpool.claim:{claim.pk}:upgrade_application" not in _obligations(
        date(2025, 9, 5), date(2025, 9, 12), world.bank)


def test_rp16_8a_application_on_the_15th_working_day_is_on_time(world):
    claim = _upgrade_ready(world)
    claim = services.claim_upgrade_request(user=world.bank_user, claim=claim, on=date(2025, 9, 10))
    assert claim.state == "upgrade_requested"
    step = ClaimStep.objects.filter(claim=claim).last()
    assert step.new == "upgrade_requested" and "Late" not in render(step.note) and "逾期" not in render(step.note)
    assert reload(claim).next_due_on == date(2025, 10, 10)  # the reviewer: 30 days
    items = _obligations(date(2025, 10, 8), date(2025, 10, 14), world.pool.reviewer)
    assert items[f"riskpool.claim:{claim.pk}:upgrade_requested"].due_on == date(2025, 10, 10)


def test_rp16_8a_application_the_day_after_the_15th_working_day_is_marked_late(world):
    claim = _upgrade_ready(world)
    items = _obligations(date(2025, 9, 11), date(2025, 9, 11), world.bank)
    assert items[f"riskpool.claim:{claim.pk}:upgrade_application"].due_on < date(2025, 9, 11)  # overdue
    services.claim_upgrade_request(user=world.bank_user, claim=claim, on=date(2025, 9, 11), note="材料补齐")
    step = ClaimStep.objects.filter(claim=claim).last()
    assert step.new == "upgrade_requested" and "2025-09-10" in render(step.note) and "材料补齐" in render(step.note)


def test_rp16_8a_reviewer_approval_returns_the_compensation_and_the_loan_goes_back(world):
    claim = paid_claim(world)
    services.recovery_report(user=world.bank_user, claim=claim, received_on=date(2025, 7, 15), gross="800000.00",
                             method="collection", on=date(2025, 8, 1))
    with pytest.raises(RuleViolation) as still_npl:
        services.claim_upgrade_request(user=world.bank_user, claim=claim, on=date(2025, 9, 1))
    assert still_npl.value.problems[0].rule == "RP-16"
    world.npl(claim.project, on=date(2025, 8, 20), new="normal")
    services.claim_upgrade_request(user=world.bank_user, claim=claim, on=date(2025, 9, 1))
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.RETURN_UPGRADE).exists()  # not before approval
    assert reload(claim.project).library == LoanProject.Library.COMPENSATION
    claim = services.claim_upgrade_decide(user=world.reviewer, claim=claim, approve=True, on=date(2025, 9, 5),
                                          idempotency_key="up-1")
    claim = reload(claim)
    assert claim.state == "upgraded" and claim.returned_amount == D("1200000.00") and claim.next_due_on is None
    assert LedgerEntry.objects.get(kind=LedgerEntry.Kind.RETURN_UPGRADE).amount == D("800000.00")
    assert reload(claim.project).library == LoanProject.Library.LOAN
    assert reload(world.pool).balance == D("5000000.00")
    summaries = AuditEvent.objects.filter(action=AuditEvent.Action.TRANSITION, actor=world.reviewer).values_list(
        "summary", flat=True)
    with translation.override("en"):
        assert any(render(s).startswith("Claim: ") and "→" in render(s) and "upgrade_requested" in s
                   for s in summaries)


def test_rp16_8a_reviewer_rejection_needs_reasons_and_goes_back_without_a_new_deadline(world):
    claim = _upgrade_ready(world)
    services.claim_upgrade_request(user=world.bank_user, claim=claim, on=date(2025, 9, 1))
    with pytest.raises(RuleViolation):
        services.claim_upgrade_decide(user=world.reviewer, claim=claim, approve=False, on=date(2025, 9, 5))
    claim = services.claim_upgrade_decide(user=world.reviewer, claim=claim, approve=False, on=date(2025, 9, 5),
                                          note="五级分类调整依据不足")
    claim = reload(claim)
    assert claim.state == "in_compensation_library" and claim.reclassified_on is None and claim.next_due_on is None
    assert claim.decision_note == "五级分类调整依据不足"
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.RETURN_UPGRADE).exists()


def test_rp16_8a_wrong_role_and_other_organisation_are_refused(world):
    claim = _upgrade_ready(world)
    other_bank = bank_user()
    for user in (world.reviewer, world.treasurer, world.authority, other_bank):
        with pytest.raises(PermissionDenied):
            services.claim_upgrade_request(user=user, claim=claim, on=date(2025, 9, 1))
    services.claim_upgrade_request(user=world.bank_user, claim=claim, on=date(2025, 9, 1))
    other_reviewer = UserFactory(organisation=PoolFactory().reviewer, roles=["pool_reviewer"])
    for user in (world.bank_user, world.treasurer, world.authority, other_reviewer):
        with pytest.raises(PermissionDenied):
            services.claim_upgrade_decide(user=user, claim=claim, approve=True, on=date(2025, 9, 5))
    with pytest.raises(Conflict):  # twice
        services.claim_upgrade_request(user=world.bank_user, claim=claim, on=date(2025, 9, 2))


# --- 8b: the settlement application and the reviewer's check -------------------------------------


def test_rp16_8b_disposal_complete_starts_15_working_days_across_the_national_day(world):
    claim = paid_claim(world)
    services.recovery_report(user=world.bank_user, claim=claim, received_on=date(2025, 9, 15), gross="500000.00",
                             method="collection", on=date(2025, 9, 20))
    claim = services.claim_disposal_complete(user=world.bank_user, claim=claim, completed_on=date(2025, 9, 22),
                                             on=date(2025, 9, 23))
    # 2025-09-22 + 15 working days, 28 Sep a make-up working day and 1–8 Oct off: 2025-10-17.
    assert reload(claim).next_due_on == date(2025, 10, 17)
    items = _obligations(date(2025, 10, 13), date(2025, 10, 17), world.bank)
    assert items[f"riskpool.claim:{claim.pk}:settlement_application"].due_on == date(2025, 10, 17)


def test_rp16_8b_application_on_the_15th_working_day_then_the_reviewer_moves_it_to_settlement(world):
    claim = paid_claim(world)
    services.claim_disposal_complete(user=world.bank_user, claim=claim, completed_on=date(2025, 9, 22),
                                     on=date(2025, 9, 23))
    claim = services.claim_settlement_request(user=world.bank_user, claim=claim, on=date(2025, 10, 17))
    assert claim.state == "settlement_requested" and "Late" not in render(ClaimStep.objects.filter(claim=claim).last().note)
    assert reload(claim.project).library == LoanProject.Library.COMPENSATION  # not before the check
    assert reload(claim).next_due_on == date(2025, 11, 16)
    items = _obligations(date(2025, 11, 10), date(2025, 11, 16), world.pool.reviewer)
    assert f"riskpool.claim:{claim.pk}:settlement_requested" in items
    services.claim_settlement_decide(user=world.reviewer, claim=claim, approve=True, on=date(2025, 10, 20))
    assert reload(claim).state == "settled"
    assert reload(claim.project).library == LoanProject.Library.SETTLEMENT
    services.claim_close(user=world.authority, claim=claim, on=date(2025, 10, 25))
    project = reload(claim.project)
    assert reload(claim).state == "closed" and project.closed_reason == LoanProject.ClosedReason.SETTLED


def test_rp16_8b_application_a_day_late_is_marked_late(world):
    claim = paid_claim(world)
    services.claim_settlement_request(user=world.bank_user, claim=claim, on=date(2025, 10, 20),
                                      completed_on=date(2025, 9, 22))
    step = ClaimStep.objects.filter(claim=claim).last()
    assert step.new == "settlement_requested" and "2025-10-17" in render(step.note)


def test_rp16_8b_refusals_name_the_field_and_rule(world):
    claim = paid_claim(world)
    with pytest.raises(RuleViolation) as missing:
        services.claim_settlement_request(user=world.bank_user, claim=claim, on=date(2025, 10, 1))
    assert (missing.value.problems[0].rule, missing.value.problems[0].field) == ("RP-16", "completed_on")
    with pytest.raises(RuleViolation) as future:
        services.claim_disposal_complete(user=world.bank_user, claim=claim, completed_on=date(2025, 10, 2),
                                         on=date(2025, 10, 1))
    assert future.value.problems[0].field == "completed_on"
    with pytest.raises(RuleViolation):  # before the payment (2025-04-28)
        services.claim_disposal_complete(user=world.bank_user, claim=claim, completed_on=date(2025, 4, 1),
                                         on=date(2025, 10, 1))
    services.claim_settlement_request(user=world.bank_user, claim=claim, on=date(2025, 10, 1),
                                      completed_on=date(2025, 9, 30))
    for user in (world.bank_user, world.treasurer, world.authority):
        with pytest.raises(PermissionDenied):
            services.claim_settlement_decide(user=user, claim=claim, approve=True, on=date(2025, 10, 2))
    with pytest.raises(RuleViolation):
        services.claim_settlement_decide(user=world.reviewer, claim=claim, approve=False, on=date(2025, 10, 2))
    services.claim_settlement_decide(user=world.reviewer, claim=claim, approve=False, on=date(2025, 10, 2),
                                     note="处置回收凭证不全")
    claim = reload(claim)
    assert claim.state == "in_compensation_library" and claim.disposal_completed_on is None
    assert reload(claim.project).library == LoanProject.Library.COMPENSATION


# --- 8c: the write-off closure through the finance bureau ------------------------------------------


def _finance(world):
    bureau = OrganisationFactory(kind=Organisation.Kind.FINANCE_BUREAU)
    world.pool.finance_bureau = bureau
    world.pool.save(update_fields=["finance_bureau"])
    return UserFactory(organisation=bureau, roles=["finance_approver"])


def _to_authority(world, claim):
    services.claim_closure_request(user=world.bank_user, claim=claim, on=date(2025, 9, 1))
    services.claim_closure_review(user=world.reviewer, claim=claim, approve=True, on=date(2025, 9, 5))
    services.claim_closure_recheck(user=world.treasurer, claim=claim, approve=True, on=date(2025, 9, 10))
    return reload(claim)


def test_rp16_8c_write_off_closes_only_after_the_finance_bureau(world):
    finance = _finance(world)
    claim = paid_claim(world)
    assert reload(world.member).npl_principal == D("2400000.00")  # RP-15 counts the claim's outstanding principal
    claim = _to_authority(world, claim)
    assert claim.next_due_on == date(2025, 10, 10)  # the authority: 30 days from the re-check
    assert f"riskpool.claim:{claim.pk}:closure_rechecked" in _obligations(
        date(2025, 10, 8), date(2025, 10, 12), world.pool.authority)
    services.claim_close(user=world.authority, claim=claim, on=date(2025, 9, 12))
    claim = reload(claim)
    assert claim.state == "closure_approved" and claim.next_due_on == date(2025, 10, 12)
    assert reload(claim.project).library == LoanProject.Library.COMPENSATION  # not closed yet
    items = _obligations(date(2025, 10, 10), date(2025, 10, 14), world.pool.finance_bureau)
    assert items[f"riskpool.claim:{claim.pk}:closure_approved"].due_on == date(2025, 10, 12)
    services.claim_closure_finance_decide(user=finance, claim=claim, approve=True, on=date(2025, 9, 20))
    project = reload(claim.project)
    assert reload(claim).state == "closed" and project.closed_reason == LoanProject.ClosedReason.WRITE_OFF
    assert project.closed_on == date(2025, 9, 20)
    assert reload(world.member).npl_principal == D("0")


def test_rp16_8c_finance_bureau_refusal_goes_back_to_the_authority(world):
    finance = _finance(world)
    claim = _to_authority(world, paid_claim(world))
    services.claim_close(user=world.authority, claim=claim, on=date(2025, 9, 12))
    with pytest.raises(RuleViolation):
        services.claim_closure_finance_decide(user=finance, claim=claim, approve=False, on=date(2025, 9, 20))
    services.claim_closure_finance_decide(user=finance, claim=claim, approve=False, on=date(2025, 9, 20),
                                          note="核销材料缺少董事会决议")
    assert reload(claim).state == "closure_rechecked"


def test_rp16_8c_wrong_role_and_other_finance_bureau_are_refused(world):
    _finance(world)
    claim = _to_authority(world, paid_claim(world))
    services.claim_close(user=world.authority, claim=claim, on=date(2025, 9, 12))
    other = UserFactory(organisation=OrganisationFactory(kind=Organisation.Kind.FINANCE_BUREAU),
                        roles=["finance_approver"])
    no_role = UserFactory(organisation=world.pool.finance_bureau, roles=[])
    for user in (world.authority, world.reviewer, world.treasurer, world.bank_user, other, no_role):
        with pytest.raises(PermissionDenied):
            services.claim_closure_finance_decide(user=user, claim=claim, approve=True, on=date(2025, 9, 20))
    assert reload(claim).state == "closure_approved"


def test_rp16_8c_authority_cannot_approve_without_a_finance_bureau(world):
    claim = _to_authority(world, paid_claim(world))
    with pytest.raises(RuleViolation) as error:
        services.claim_close(user=world.authority, claim=claim, on=date(2025, 9, 12))
    assert error.value.problems[0].rule == "RP-16"
    assert reload(claim).state == "closure_rechecked"


def test_rp16_8c_treasurer_recheck_is_on_its_list(world):
    claim = paid_claim(world)
    services.claim_closure_request(user=world.bank_user, claim=claim, on=date(2025, 9, 1))
    services.claim_closure_review(user=world.reviewer, claim=claim, approve=True, on=date(2025, 9, 5))
    assert reload(claim).next_due_on == date(2025, 10, 5)
    assert f"riskpool.claim:{claim.pk}:closure_reviewed" in _obligations(
        date(2025, 10, 1), date(2025, 10, 9), world.pool.treasurer)


# --- the pages -------------------------------------------------------------------------------


def _post(client, claim, action, data):
    return client.post(reverse("riskpool:claim-action", args=[claim.pk, action]),
                       {f"{action}-{k}": v for k, v in data.items()} | {"confirmed": "1"})


def test_rp16_8a_pages_bank_applies_reviewer_approves_others_refused(client, world):
    claim = _upgrade_ready(world)
    bob = bank_user()
    client.force_login(bob)
    assert client.get(reverse("riskpool:claim-detail", args=[claim.pk])).status_code == 404
    assert _post(client, claim, "upgrade", {"note": ""}).status_code == 404
    client.force_login(world.bank_user)
    page = client.get(reverse("riskpool:claim-detail", args=[claim.pk])).content.decode()
    assert "upgrade-note" in page and "2025-09-10" in page
    assert _post(client, claim, "upgrade-decide", {"approve": "yes", "on": "2025-09-05"}).status_code == 403
    response = _post(client, claim, "upgrade", {"note": "已上调为正常"})
    assert response.status_code == 302 and reload(claim).state == "upgrade_requested"
    client.force_login(world.reviewer)
    queue = client.get(reverse("riskpool:review-queue")).content.decode()
    assert claim.project.loan_no in queue
    response = _post(client, claim, "upgrade-decide", {"approve": "yes", "on": "2025-09-05", "note": ""})
    assert response.status_code == 302 and reload(claim).state == "upgraded"
    assert LedgerEntry.objects.filter(claim=claim, kind=LedgerEntry.Kind.RETURN_UPGRADE).count() == 1


def test_rp16_8b_pages_bank_applies_reviewer_checks(client, world):
    claim = paid_claim(world)
    client.force_login(world.bank_user)
    response = _post(client, claim, "disposal-complete", {"completed_on": "2025-09-22"})
    assert response.status_code == 302 and reload(claim).disposal_completed_on == date(2025, 9, 22)
    response = _post(client, claim, "settlement-request", {"note": "处置完毕"})
    assert response.status_code == 302 and reload(claim).state == "settlement_requested"
    client.force_login(world.treasurer)
    assert _post(client, claim, "settlement-decide", {"approve": "yes", "on": "2025-10-20"}).status_code == 403
    client.force_login(world.reviewer)
    response = _post(client, claim, "settlement-decide", {"approve": "yes", "on": "2025-10-20", "note": ""})
    assert response.status_code == 302 and reload(claim).state == "settled"


def test_rp16_8c_finance_desk_lists_only_its_pools_and_decides(client, world):
    finance = _finance(world)
    claim = _to_authority(world, paid_claim(world))
    services.claim_close(user=world.authority, claim=claim, on=date(2025, 9, 12))
    other = UserFactory(organisation=OrganisationFactory(kind=Organisation.Kind.FINANCE_BUREAU),
                        roles=["finance_approver"])
    client.force_login(other)
    assert claim.project.loan_no not in client.get(reverse("riskpool:finance-desk")).content.decode()
    assert client.get(reverse("riskpool:claim-detail", args=[claim.pk])).status_code == 404
    assert _post(client, claim, "finance-decide", {"approve": "yes", "on": "2025-09-20"}).status_code == 404
    client.force_login(world.reviewer)
    assert client.get(reverse("riskpool:finance-desk")).status_code == 403
    assert _post(client, claim, "finance-decide", {"approve": "yes", "on": "2025-09-20"}).status_code == 403
    client.force_login(finance)
    assert claim.project.loan_no in client.get(reverse("riskpool:finance-desk")).content.decode()
    other_claim = world.claim("JJ-2024-0002")  # a claim of its pool outside the write-off path
    assert client.get(reverse("riskpool:claim-detail", args=[other_claim.pk])).status_code == 404
    response = _post(client, claim, "finance-decide", {"approve": "yes", "on": "2025-09-20", "note": ""})
    assert response.status_code == 302 and reload(claim).state == "closed"
    assert claim.project.loan_no in client.get(reverse("riskpool:finance-desk")).content.decode()


def test_rp16_8c_the_pool_admin_offers_only_finance_bureaus(admin_client, world):
    bureau = OrganisationFactory(kind=Organisation.Kind.FINANCE_BUREAU)
    page = admin_client.get(reverse("admin:riskpool_pool_change", args=[world.pool.pk])).content.decode()
    assert bureau.name in page and world.bank.name not in page
