"""Issue 15, adoption through a confirmation page: the first POST checks the effective date and
shows what will happen (the new version, its dates, the version it ends, the simulation that
stays attached), Cancel changes nothing, the confirmed POST adopts through the audited path.
Another organisation gets a 404, an authority member who is not an administrator a 403."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from core.calendar import shanghai_today
from core.models import AuditEvent, Organisation, RuleSet, RuleSetDraft, Simulation
from core.rulesets import rule_params
from core.services_rulesets import draft_create
from tests.factories import UserFactory, bank_user

pytestmark = pytest.mark.django_db

BACKEND = "core.auth.ActiveAccountBackend"


@pytest.fixture
def draft(admin):
    """A draft of Scheme S tightening the NPL gate to 2%, the shipped set open-ended so the test
    does not depend on the year it runs in."""
    in_force = RuleSet.objects.get(scheme=RuleSet.Scheme.RISKPOOL_S)
    RuleSet.objects.filter(pk=in_force.pk).update(effective_to=None)
    draft = draft_create(user=admin, rule_set=RuleSet.objects.get(pk=in_force.pk), name="gate 2%")
    draft.params = {**draft.params, "npl_gate": "0.020000"}
    draft.save()
    return draft


@pytest.fixture
def sim(draft, admin):
    return Simulation.objects.create(draft=draft, state=Simulation.State.SUCCEEDED, created_by=admin,
                                     draft_params=draft.params, result={"changed_objects": 3})


def day(n: int):
    return shanghai_today() + timedelta(days=n)


def adopt(client, draft, **data):
    return client.post(reverse("rulesets:draft-adopt", args=[draft.pk]), data, HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_draft_page_offers_the_date_and_the_simulation(client, admin, draft, sim, language):
    client.force_login(admin, backend=BACKEND)
    page = client.get(reverse("rulesets:draft", args=[draft.pk]) + f"?simulation={sim.pk}",
                      HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode()
    assert page.status_code == 200 and 'name="effective_from"' in html
    assert f'value="{shanghai_today().isoformat()}"' in html  # a draft dated in the past starts today
    assert f'<option value="{sim.pk}" selected>' in html
    assert ("生效日期" if language == "zh-hans" else "Takes effect on") in html


def test_the_first_post_shows_what_will_happen_and_changes_nothing(client, admin, draft, sim):
    client.force_login(admin, backend=BACKEND)
    events = AuditEvent.objects.count()
    page = adopt(client, draft, effective_from=day(30).isoformat(), simulation=sim.pk)
    html = page.content.decode()
    assert page.status_code == 200 and 'id="confirm-form"' in html
    assert "gate 2%" in html and day(30).isoformat() in html  # the new version and its date
    assert day(29).isoformat() in html  # the version in force ends the day before
    assert f"#{sim.pk}" in html and "3 objects whose outcome changes" in html
    assert f'name="effective_from" value="{day(30).isoformat()}"' in html and 'name="confirmed" value="1"' in html
    assert reverse("rulesets:draft", args=[draft.pk]) in html  # Cancel goes back to the draft
    # nothing happened: no version, the draft open and unchanged, no audit row
    assert RuleSet.objects.filter(scheme=RuleSet.Scheme.RISKPOOL_S).count() == 1
    fresh = RuleSetDraft.objects.get(pk=draft.pk)
    assert fresh.adopted_as_id is None and fresh.effective_from == draft.effective_from
    assert AuditEvent.objects.count() == events
    assert client.get(reverse("rulesets:draft", args=[draft.pk])).status_code == 200  # Cancel


def test_the_confirmed_post_adopts_with_the_date_and_the_simulation(client, admin, draft, sim):
    client.force_login(admin, backend=BACKEND)
    response = adopt(client, draft, effective_from=day(30).isoformat(), simulation=sim.pk, confirmed="1")
    fresh = RuleSetDraft.objects.get(pk=draft.pk)
    assert response.status_code == 302 and response["Location"] == fresh.adopted_as.get_absolute_url()
    assert (fresh.adopted_as.effective_from, fresh.adopted_with) == (day(30), sim)
    assert rule_params("riskpool_s", day(29))["npl_gate"] == "0.030000"
    assert rule_params("riskpool_s", day(30))["npl_gate"] == "0.020000"
    assert AuditEvent.objects.filter(object_type="core.ruleset", object_id=str(fresh.adopted_as_id),
                                     action="create").exists()
    again = adopt(client, draft, effective_from=day(40).isoformat(), confirmed="1")
    assert again.status_code == 302 and RuleSet.objects.filter(scheme=RuleSet.Scheme.RISKPOOL_S).count() == 2


@pytest.mark.parametrize(("when", "message"), [
    ("", "Enter the day the new version takes effect."),
    ("31/02/2027", "as a date, such as 2027-01-01"),
    ("past", "is in the past"),
    ("start", "already takes effect on"),
])
def test_a_bad_date_is_refused_beside_the_field_in_either_post(client, admin, draft, when, message):
    client.force_login(admin, backend=BACKEND)
    value = {"past": day(-1).isoformat(), "start": None}.get(when, when)
    if when == "start":  # a version already starts that day
        RuleSet.objects.filter(scheme=RuleSet.Scheme.RISKPOOL_S).update(effective_from=day(5))
        value = day(5).isoformat()
    for confirmed in ({}, {"confirmed": "1"}):
        page = adopt(client, draft, effective_from=value, **confirmed)
        assert page.status_code == 400 and message in page.content.decode()
        assert 'id="confirm-form"' not in page.content.decode()
    assert not RuleSetDraft.objects.get(pk=draft.pk).adopted_as_id


def test_a_clash_with_a_later_version_is_found_before_the_confirmation(client, admin, draft):
    """The confirmation page is a dry run of the adoption: what the service would refuse is
    refused on the first POST, not after the confirmation."""
    client.force_login(admin, backend=BACKEND)
    RuleSet.objects.filter(scheme=RuleSet.Scheme.RISKPOOL_S).update(effective_to=day(20))
    RuleSet.objects.create(scheme=RuleSet.Scheme.RISKPOOL_S, name="later", effective_from=day(60),
                           params=draft.params)
    page = adopt(client, draft, effective_from=day(30).isoformat())  # open-ended: it would run into "later"
    assert page.status_code == 400 and "overlap" in page.content.decode()
    assert RuleSet.objects.filter(scheme=RuleSet.Scheme.RISKPOOL_S).count() == 2


def test_a_simulation_of_another_draft_cannot_be_attached(client, admin, draft, sim):
    other = draft_create(user=admin, rule_set=draft.base)
    client.force_login(admin, backend=BACKEND)
    page = adopt(client, other, effective_from=day(30).isoformat(), simulation=sim.pk, confirmed="1")
    assert page.status_code == 400 and not RuleSetDraft.objects.get(pk=other.pk).adopted_as_id


def test_another_organisation_gets_404_and_a_reviewer_403(client, draft):
    client.force_login(bank_user(), backend=BACKEND)
    assert adopt(client, draft, effective_from=day(30).isoformat(), confirmed="1").status_code == 404
    reviewer = UserFactory(organisation__kind=Organisation.Kind.AUTHORITY, roles=["authority_reviewer"])
    client.force_login(reviewer, backend=BACKEND)
    assert adopt(client, draft, effective_from=day(30).isoformat()).status_code == 403
    assert adopt(client, draft, effective_from=day(30).isoformat(), confirmed="1").status_code == 403
    page = client.get(reverse("rulesets:draft", args=[draft.pk]))
    assert page.status_code == 200 and 'name="effective_from"' not in page.content.decode()
    assert not RuleSetDraft.objects.get(pk=draft.pk).adopted_as_id
