"""The Scheme S claim's workflow definition (riskpool.workflows.CLAIM, RP-16): its states and
labels, its transitions against the rules' map, who may take each step in each state, its
guards, and the owners the deadline lists read from it."""
from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from core.errors import Conflict
from core.workflow import Workflow
from riskpool import rules, selectors, services, services_m
from riskpool.models import Claim
from riskpool.workflows import CLAIM, M_CLAIM, STATE_OWNERS
from tests.factories import PoolFactory, SchemeMPoolFactory, UserFactory, bank_user, firm_user
from tests.riskpool.test_services import reload


def names(user, claim) -> set[str]:
    return {action.name for action in CLAIM.actions_for(user, claim)}


# --- the definition, without a database ---------------------------------------------------------


def test_rp16_workflow_states_are_the_rules_states_in_workflow_order():
    assert isinstance(CLAIM, Workflow) and CLAIM.states is Claim.State
    assert list(CLAIM.states.values) == list(rules.CLAIM_STATES)


def test_rp16_every_state_has_a_label_of_its_own():
    labels = [str(CLAIM.label(state)) for state in rules.CLAIM_STATES]
    assert all(label and label != state for label, state in zip(labels, rules.CLAIM_STATES, strict=True))
    assert len(set(labels)) == len(labels)
    assert CLAIM.label("no-such-state") == "no-such-state"  # an unknown code is shown as it is


def test_rp16_workflow_transitions_are_exactly_the_rules_map():
    assert CLAIM.allowed() == rules.ALLOWED_TRANSITIONS
    assert CLAIM.terminal_states() == rules.TERMINAL_STATES == {"upgraded", "closed", "withdrawn"}


def test_rp16_every_step_the_claim_page_offers_is_in_the_definition():
    from riskpool.views import ACTIONS

    assert set(ACTIONS) <= {step.name for step in CLAIM.steps}
    for name in ACTIONS:
        step = CLAIM.step(name)
        assert step.url == "riskpool:claim-action" and step.rule in ("RP-16", "RP-17")


def test_rp16_deadline_lists_read_the_owner_of_each_state_from_the_definition():
    assert selectors.STATE_OWNERS is STATE_OWNERS
    assert STATE_OWNERS == {
        "submitted": "reviewer", "re_review": "reviewer", "on_notice": "authority",
        "closure_requested": "reviewer", "upgrade_requested": "reviewer", "settlement_requested": "reviewer",
        "closure_reviewed": "treasurer", "closure_rechecked": "authority", "closure_approved": "finance_bureau",
        "in_funding_plan": "bank", "paid": "bank", "in_compensation_library": "bank", "recovering": "bank",
        "documents_uploaded": "treasurer",
    }
    # The states whose step has no deadline owe nothing to the lists (the RP-15 hold, the 8b accounting).
    assert not {"held_npl_gate", "approved", "rejected", "notice_passed", "settled"} & set(STATE_OWNERS)


# --- who may take which step (actions_for) ------------------------------------------------------


@pytest.mark.django_db
def test_rp16_actions_for_a_submitted_claim_by_party(world):
    claim = world.claim()
    assert claim.state == "submitted"
    assert names(world.bank_user, claim) == {"withdraw"}
    assert names(world.reviewer, claim) == {"review"}
    assert names(world.treasurer, claim) == set() and names(world.authority, claim) == set()
    other_bank = bank_user()
    other_reviewer = UserFactory(organisation=PoolFactory().reviewer, roles=["pool_reviewer"])
    assert names(other_bank, claim) == set() and names(other_reviewer, claim) == set()
    [review] = CLAIM.actions_for(world.reviewer, claim)
    assert review.due == date(2025, 5, 1) and review.target == "approved"  # RP-16 step 1: 30 days
    assert review.url == f"/riskpool/claims/{claim.pk}/review/"


@pytest.mark.django_db
def test_rp16_actions_for_payment_steps_by_party(world):
    world.budget()
    claim = world.to_documents(world.claim())
    assert claim.state == "documents_uploaded"
    assert names(world.treasurer, claim) == {"pay", "documents-return"}
    assert names(world.bank_user, claim) == set() and names(world.reviewer, claim) == set()
    paid = world.pay(claim)
    assert names(world.treasurer, paid) == set()  # a repeated pay is no step offered
    assert names(world.bank_user, paid) == {"to-library"}


@pytest.mark.django_db
def test_rp16_re_review_is_offered_once(world):
    claim = world.claim()
    services.claim_review(user=world.reviewer, claim=claim, approve=False, note="不符合", on=date(2025, 4, 10))
    claim = reload(claim)
    assert names(world.bank_user, claim) == {"re-review", "withdraw"}
    services.claim_request_re_review(user=world.bank_user, claim=claim, on=date(2025, 4, 11), note="补充材料")
    services.claim_review(user=world.reviewer, claim=reload(claim), approve=False, note="仍不符合", on=date(2025, 4, 12))
    assert names(world.bank_user, reload(claim)) == {"withdraw"}


@pytest.mark.django_db
def test_rp16_notice_close_is_offered_to_the_authority_only_after_the_last_day(world, server_day):
    claim = world.to_notice(world.claim())
    server_day(date(2025, 4, 23))  # the notice's last day
    assert "notice-close" not in names(world.authority, claim)
    server_day(date(2025, 4, 24))
    assert names(world.authority, claim) == {"notice-close"}
    assert names(world.reviewer, claim) == {"objection-uphold"} and names(world.bank_user, claim) == set()


@pytest.mark.django_db
def test_rp15_the_gate_steps_are_no_ones_on_the_page(world):
    claim = world.claim()
    for user in (world.bank_user, world.reviewer, world.treasurer, world.authority):
        assert not CLAIM.may(user, claim, "npl-gate-hold")


@pytest.mark.django_db
def test_rp16_the_claim_api_lists_the_callers_steps_from_the_definition(world):
    from tests.riskpool.test_api import token_client

    claim = world.claim()
    url = reverse("riskpool-api:claim-detail", args=[claim.pk])
    actions = token_client(world.reviewer).get(url).json()["actions"]
    assert [(a["name"], a["target"], a["due"]) for a in actions] == [("review", "approved", "2025-05-01")]
    assert [a["name"] for a in token_client(world.bank_user).get(url).json()["actions"]] == ["withdraw"]


# --- the Scheme M claim (RP-M4, RP-M5) ----------------------------------------------------------


def test_rpm4_m_claim_states_labels_and_transitions():
    assert list(M_CLAIM.states.values) == ["submitted", "approved", "rejected", "paid"]
    assert all(str(M_CLAIM.label(state)) != state for state in M_CLAIM.states.values)
    assert M_CLAIM.allowed() == {"submitted": {"approved", "rejected"}, "approved": {"paid"}, "rejected": set(),
                                 "paid": set()}
    assert services_m.M_TRANSITIONS == M_CLAIM.allowed()  # the service's map is the definition's


@pytest.mark.django_db
def test_rpm4_rpm5_m_claim_actions_for_each_party():
    from tests.riskpool.test_scheme_m import MWorld

    world = MWorld()
    m_claim = world.submit()
    other_reviewer = UserFactory(organisation=SchemeMPoolFactory().reviewer, roles=["pool_reviewer"])
    assert {a.name for a in M_CLAIM.actions_for(world.reviewer, m_claim)} == {"review"}
    assert not M_CLAIM.actions_for(other_reviewer, m_claim) and not M_CLAIM.actions_for(world.firm_user, m_claim)
    world.approve(m_claim)
    m_claim = reload(m_claim)
    assert {a.name for a in M_CLAIM.actions_for(world.treasurer, m_claim)} == {"pay"}
    assert not M_CLAIM.actions_for(world.reviewer, m_claim)
    world.pay(m_claim)
    m_claim = reload(m_claim)
    assert {a.name for a in M_CLAIM.actions_for(world.firm_user, m_claim)} == {"return"}
    assert not M_CLAIM.actions_for(world.treasurer, m_claim) and not M_CLAIM.actions_for(firm_user(), m_claim)


# --- the services take each step through the definition ---------------------------------------


@pytest.fixture
def steps_checked(monkeypatch):
    """The (workflow, step) pairs the services ask the definitions about."""
    asked = []
    check = Workflow.check

    def spy(self, user, obj, name, **kwargs):
        asked.append((self.name, name))
        return check(self, user, obj, name, **kwargs)

    monkeypatch.setattr(Workflow, "check", spy)
    return asked


@pytest.mark.django_db
def test_rp16_services_check_each_step_through_the_definition(world, steps_checked):
    claim = world.claim()
    services.claim_review(user=world.reviewer, claim=claim, approve=False, note="不符合", on=date(2025, 4, 10))
    services.claim_request_re_review(user=world.bank_user, claim=reload(claim), on=date(2025, 4, 11))
    services.claim_withdraw(user=world.bank_user, claim=reload(claim), on=date(2025, 4, 12))
    assert steps_checked == [("riskpool.claim", "review"), ("riskpool.claim", "re-review"),
                             ("riskpool.claim", "withdraw")]


@pytest.mark.django_db
def test_rp16_a_party_of_another_pool_is_refused_by_the_service_as_by_the_page(world):
    claim = world.claim()
    other_reviewer = UserFactory(organisation=PoolFactory().reviewer, roles=["pool_reviewer"])
    with pytest.raises(PermissionDenied):
        services.claim_review(user=other_reviewer, claim=claim, approve=True, on=date(2025, 4, 10))
    with pytest.raises(PermissionDenied):  # the claim's own bank may withdraw, but not decide
        services.claim_review(user=world.bank_user, claim=claim, approve=True, on=date(2025, 4, 10))
    with pytest.raises(Conflict) as exc:  # the right person, the wrong state: the state's label is named
        services.claim_upgrade_decide(user=world.reviewer, claim=claim, approve=True, on=date(2025, 4, 10))
    assert exc.value.rule == "RP-16" and str(CLAIM.label("submitted")) in str(exc.value.message)
    assert reload(claim).state == "submitted"


@pytest.mark.django_db
def test_rpm4_rpm5_scheme_m_services_check_each_step_through_the_definition(steps_checked):
    from tests.riskpool.test_scheme_m import MWorld

    world = MWorld()
    m_claim = world.submit()
    with pytest.raises(Conflict) as exc:  # RP-M5: the definition's own refusal before payment
        services_m.m_return_record(user=world.firm_user, m_claim=m_claim, received_on=date(2025, 3, 1),
                                   recovery="1000", costs="0")
    assert exc.value.rule == "RP-M5" and "reimbursed" in str(exc.value.message)
    world.approve(m_claim)
    world.pay(reload(m_claim))
    assert steps_checked == [("riskpool.m_claim", "return"), ("riskpool.m_claim", "review"),
                             ("riskpool.m_claim", "pay")]
