"""RP-6, RP-14 and the claim steps: the dates that decide a right are the server's (the web forms
take none), and a late entry on a bank's behalf is the authority's separate, audited action."""
from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from core.models import AuditEvent
from riskpool.forms import ClaimForm, DateNoteForm, DecisionForm, NoticeStartForm, ProjectForm
from riskpool.forms_m import MClaimForm
from riskpool.models import LoanProject
from tests.factories import OrganisationFactory, PoolFactory, UserFactory
from tests.riskpool.factories import World
from tests.riskpool.test_views import project_post

pytestmark = pytest.mark.django_db


def test_rp6_web_forms_take_no_entry_or_submission_date():
    assert "entered_on" not in ProjectForm(pools=LoanProject.objects.none()).fields
    assert "submitted_on" not in ClaimForm().fields
    assert "submitted_on" not in MClaimForm.base_fields
    assert "on" not in DateNoteForm().fields and "on" not in DecisionForm().fields
    assert "on" not in NoticeStartForm.base_fields


def test_rp6_a_typed_entry_date_is_ignored_the_server_day_is_used(client, server_day):
    world = World()
    server_day(date(2024, 6, 3))
    client.force_login(world.bank_user)
    response = client.post(reverse("riskpool:project-create"), project_post(world, entered_on="2024-05-11"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert LoanProject.objects.get(loan_no="JJ-FORM-0001").entered_on == date(2024, 6, 3)


def test_rp6_web_entry_after_the_window_is_refused_whatever_date_is_typed(client, server_day):
    world = World()
    server_day(date(2024, 7, 22))  # the 2024Q2 window closed on 2024-07-19
    client.force_login(world.bank_user)
    response = client.post(reverse("riskpool:project-create"), project_post(world, entered_on="2024-06-01"))
    assert response.status_code == 400
    assert "2024-07-19" in response.content.decode()
    assert not LoanProject.objects.filter(loan_no="JJ-FORM-0001").exists()


# --- the authority's late entry ---------------------------------------------------------------


def late_post(world, **overrides) -> dict:
    values = project_post(world, bank=world.bank.pk, entered_on="2024-06-01", reason="系统故障，银行按时提交未成功")
    values.pop("pool")
    values.update(overrides)
    return values


def test_rp6_late_entry_by_the_authority_keeps_the_date_and_the_reason(client, server_day):
    world = World()
    server_day(date(2024, 12, 3))
    client.force_login(world.authority)
    response = client.post(reverse("riskpool:project-late-entry", args=[world.pool.pk]), late_post(world))
    assert response.status_code == 302, response.content.decode()[:2000]
    project = LoanProject.objects.get(loan_no="JJ-FORM-0001")
    assert (project.bank, project.entered_on) == (world.bank, date(2024, 6, 1))
    event = AuditEvent.objects.get(object_type="riskpool.loanproject", object_id=str(project.pk),
                                   summary__contains="RP-6 late entry")
    assert "系统故障" in event.summary and event.actor == world.authority


def test_rp6_late_entry_needs_a_reason_and_a_past_date(client, server_day):
    world = World()
    server_day(date(2024, 6, 3))
    client.force_login(world.authority)
    url = reverse("riskpool:project-late-entry", args=[world.pool.pk])
    response = client.post(url, late_post(world, reason=""))
    assert response.status_code == 400
    response = client.post(url, late_post(world, entered_on="2024-06-04"))
    assert response.status_code == 400 and "future" in response.content.decode()
    assert not LoanProject.objects.filter(loan_no="JJ-FORM-0001").exists()


def test_rp6_late_entry_still_respects_the_entry_window(client, server_day):
    world = World()
    server_day(date(2024, 12, 3))
    client.force_login(world.authority)
    response = client.post(reverse("riskpool:project-late-entry", args=[world.pool.pk]),
                           late_post(world, entered_on="2024-07-22"))
    assert response.status_code == 400 and "2024-07-19" in response.content.decode()


def test_rp6_late_entry_is_the_authority_admins_of_the_pool_only(client):
    world = World()
    url = reverse("riskpool:project-late-entry", args=[world.pool.pk])
    client.force_login(world.bank_user)
    assert client.get(url).status_code == 403
    client.force_login(world.reviewer)
    assert client.get(url).status_code == 403
    other = UserFactory(organisation=OrganisationFactory(kind="authority"), roles=["authority_admin"])
    client.force_login(other)
    assert client.get(url).status_code == 404  # another authority's pool
    client.force_login(world.authority)
    assert client.get(url).status_code == 200
    own_pool = PoolFactory(authority=other.organisation)
    client.force_login(world.authority)
    assert client.get(reverse("riskpool:project-late-entry", args=[own_pool.pk])).status_code == 404


def test_rp16_claim_step_date_is_the_server_day(client, server_day):
    world = World()
    project = world.register()
    world.npl(project)
    claim = world.submit(project)
    server_day(date(2025, 4, 9))
    client.force_login(world.bank_user)
    response = client.post(reverse("riskpool:claim-action", args=[claim.pk, "withdraw"]),
                           {"withdraw-on": "2025-04-02", "withdraw-note": "", "confirmed": "1"})
    assert response.status_code == 302
    assert claim.steps.order_by("-id").first().on == date(2025, 4, 9)
