"""RP-25 and the RP-16 lists: a bank sees only its own projects and claims; the pool's reviewer,
treasurer and authority see the pool's; anyone else sees nothing and gets 404 on a get."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from core.models import Organisation
from riskpool import selectors, services
from tests.factories import OrganisationFactory, RegionFactory, UserFactory, authority_user, bank_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(world):
    return world.claim()


def outsiders(world):
    """A member bank of the same pool, a reviewer and a treasurer of another pool, an authority
    of another region, and nobody at all."""
    other_bank = bank_user()
    services.member_add(user=world.authority, pool=world.pool, bank=other_bank.organisation,
                        joined_on=date(2024, 1, 1))
    return [
        other_bank,
        UserFactory(organisation=OrganisationFactory(kind=Organisation.Kind.POOL_REVIEWER), roles=["pool_reviewer"]),
        UserFactory(organisation=OrganisationFactory(kind=Organisation.Kind.POOL_TREASURER), roles=["pool_treasurer"]),
        authority_user(RegionFactory(code="650000")),
        AnonymousUser(),
    ]


def insiders(world):
    return [world.bank_user, world.reviewer, world.treasurer, world.authority]


def test_rp25_another_banks_user_gets_404_from_every_get(world, claim):
    for user in outsiders(world):
        with pytest.raises(Http404):
            selectors.project_get_for_user(user=user, project_id=claim.project_id)
        with pytest.raises(Http404):
            selectors.claim_get_for_user(user=user, claim_id=claim.pk)
        with pytest.raises(Http404):
            selectors.pool_summary(user=user, pool=world.pool)
        assert not selectors.project_list(user=user).exists()
        assert not selectors.claim_list(user=user).exists()


def test_rp25_the_bank_reviewer_treasurer_and_authority_see_the_pools_rows(world, claim):
    for user in insiders(world):
        assert selectors.project_get_for_user(user=user, project_id=claim.project_id) == claim.project
        assert selectors.claim_get_for_user(user=user, claim_id=claim.pk) == claim
    # the bank sees its own two projects (the example and its other loans), nothing of another bank
    other = bank_user()
    services.member_add(user=world.authority, pool=world.pool, bank=other.organisation, joined_on=date(2024, 1, 1))
    from tests.factories import LoanProjectFactory

    theirs = LoanProjectFactory(pool=world.pool, bank=other.organisation)
    assert theirs not in selectors.project_list(user=world.bank_user)
    assert theirs in selectors.project_list(user=world.reviewer)
    assert set(selectors.project_list(user=other)) == {theirs}


def test_rp25_public_notice_shows_only_bank_borrower_masked_code_amount_and_ratio(world, claim):
    assert selectors.public_notice_rows() == []
    world.to_notice(claim)
    rows = selectors.public_notice_rows()
    code = claim.project.borrower.id_number
    assert len(rows) == 1
    row = rows[0]
    # RP-16 step 3: plus the notice period (and whether objections are open), nothing of the loan.
    assert set(row) == {"id", "bank", "borrower", "credit_code", "amount", "ratio", "notice_start", "notice_end",
                        "notice_end_latest",
                        "open", "over"}
    assert row["bank"] == world.bank.name and row["borrower"] == claim.project.borrower.name
    assert row["credit_code"] == code[:4] + "*" * 10 + code[-4:] and code not in str(row)
    assert row["amount"] == D("1200000.00") and row["ratio"] == D("0.500000")


def test_rp16_reviewer_queue_is_ordered_by_deadline_and_scoped_to_its_pools(world, claim):
    from tests.factories import LoanProjectFactory

    early = LoanProjectFactory(pool=world.pool, bank=world.bank, disbursed_on=date(2024, 5, 10),
                               entered_on=date(2024, 6, 1))
    world.npl(early, on=date(2025, 3, 1))
    first = world.submit(early, submitted_on=date(2025, 3, 20), credit_report_on=date(2025, 3, 18),
                         outstanding=D("500000.00"))
    queue = list(selectors.claim_queue_for_reviewer(user=world.reviewer))
    assert queue == [first, claim]
    assert not selectors.claim_queue_for_reviewer(user=outsiders(world)[1]).exists()
    assert not selectors.claim_queue_for_reviewer(user=world.bank_user).exists()


def test_rp16_overdue_list_goes_to_whoever_owes_the_next_step(world, claim):
    today = date(2025, 5, 2)  # the review was due 2025-05-01
    assert list(selectors.overdue_claims(user=world.reviewer, today=today)) == [claim]
    assert list(selectors.overdue_claims(user=world.authority, today=today)) == [claim]
    assert not selectors.overdue_claims(user=world.bank_user, today=today).exists()
    assert not selectors.overdue_claims(user=world.treasurer, today=today).exists()
    assert not selectors.overdue_claims(user=world.reviewer, today=date(2025, 5, 1)).exists()
    for user in outsiders(world):
        assert not selectors.overdue_claims(user=user, today=today).exists()


def test_rp15_pool_summary_in_a_constant_number_of_queries(world, claim, django_assert_max_num_queries):
    world.budget()
    claim = world.to_documents(claim)
    world.pay(claim)
    services.claim_to_compensation_library(user=world.bank_user, claim=claim, on=date(2025, 5, 6))
    services.recovery_report(user=world.bank_user, claim=claim, received_on=date(2025, 7, 15), gross="800000.00",
                             method="collection", on=date(2025, 8, 1))
    for _ in range(3):
        other = bank_user()
        services.member_add(user=world.authority, pool=world.pool, bank=other.organisation,
                            joined_on=date(2024, 1, 1))
    with django_assert_max_num_queries(6):
        summary = selectors.pool_summary(user=world.authority, pool=world.pool)
    assert summary["balance"] == D("4200000.00")
    assert summary["paid"] == D("1200000.00") and summary["returned"] == D("400000.00")
    assert summary["claims_by_state"] == {"recovering": 1}
    mine = next(b for b in summary["banks"] if b["bank"] == world.bank.name)
    assert mine["npl_ratio"] == D("0.011823") and mine["limit"] == D("0.030000") and mine["gate_open"]
    assert len(summary["banks"]) == 4
    for user in (world.reviewer, world.treasurer):
        assert selectors.pool_summary(user=user, pool=world.pool)["balance"] == D("4200000.00")
