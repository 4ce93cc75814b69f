"""The authority's admin screens: they load, API tokens show their key once, and writes are audited."""
import re
from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from core.calendar import is_working_day
from core.models import ApiToken, AuditEvent, CalendarDay, Organisation, Role, RuleSet, User
from tests.factories import OrganisationFactory, RuleSetFactory, UserFactory, api_token, bank_user

pytestmark = pytest.mark.django_db

MODELS = ["region", "organisation", "user", "role", "apitoken", "auditevent", "ruleset", "calendarday",
          "calendaryear", "lprrate", "exchangerate"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def superuser_client(client):
    superuser = User.objects.create_superuser("root", "root@example.invalid", "pass-Word-123")
    client.force_login(superuser)
    client.user = superuser
    return client


@pytest.mark.parametrize("model", MODELS)
def test_admin_changelist_and_add_pages_load(superuser_client, model):
    assert superuser_client.get(reverse(f"admin:core_{model}_changelist")).status_code == 200
    add = superuser_client.get(reverse(f"admin:core_{model}_add"))
    assert add.status_code == (403 if model in ("role", "auditevent", "ruleset") else 200)


def test_admin_change_pages_load(superuser_client):
    token, _ = api_token()
    rule_set = RuleSetFactory(scheme=RuleSet.Scheme.EVALUATION)
    for obj in (token, token.user, token.organisation, token.organisation.region, rule_set):
        url = reverse(f"admin:core_{obj._meta.model_name}_change", args=[obj.pk])
        assert superuser_client.get(url).status_code == 200, url


def test_admin_is_refused_to_an_ordinary_user(client):
    client.force_login(bank_user())
    response = client.get(reverse("admin:core_ruleset_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_admin_api_token_key_is_shown_once_and_only_its_hash_stored(superuser_client):
    user = bank_user()
    response = superuser_client.post(
        reverse("admin:core_apitoken_add"),
        {"organisation": user.organisation_id, "user": user.pk, "name": "core banking"},
        follow=True,
    )
    assert response.status_code == 200
    shown = [m.message for m in response.context["messages"] if "not be shown again" in m.message]
    assert len(shown) == 1
    key = re.search(r": (\S+\.\S+) ", shown[0]).group(1)
    token = ApiToken.objects.get(name="core banking")
    assert (token.user, token.organisation) == (user, user.organisation)
    assert key.startswith(token.prefix + ".")
    assert token.key_hash == ApiToken.hash_key(key) and key not in token.key_hash
    # The key is nowhere in the database, including the audit trail, and is not shown again.
    event = AuditEvent.objects.get(object_type="core.apitoken", object_id=str(token.pk))
    assert "key_hash" not in event.after and key not in str(event.after)
    again = superuser_client.get(reverse("admin:core_apitoken_change", args=[token.pk]))
    assert key not in again.content.decode()
    assert not [m for m in get_messages(again.wsgi_request) if "not be shown again" in m.message]


def test_admin_api_token_user_must_belong_to_the_organisation(superuser_client):
    user = bank_user()
    other = OrganisationFactory(kind=Organisation.Kind.BANK)
    response = superuser_client.post(
        reverse("admin:core_apitoken_add"), {"organisation": other.pk, "user": user.pk, "name": "x"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["user"]
    assert not ApiToken.objects.exists()


def test_admin_api_token_revoke_action_is_audited(superuser_client):
    token, _ = api_token()
    superuser_client.post(
        reverse("admin:core_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = AuditEvent.objects.filter(object_type="core.apitoken", object_id=str(token.pk)).latest("id")
    assert event.before["revoked_at"] is None and event.after["revoked_at"] is not None


def _ruleset_post(rule_set, **changes):
    data = {"name": rule_set.name, "effective_from": rule_set.effective_from.isoformat(), "effective_to": "", "note": ""}
    data.update(changes)
    return data


def test_admin_ruleset_edit_writes_audit_row_with_before_and_after(superuser_client):
    rule_set = RuleSetFactory(scheme=RuleSet.Scheme.EVALUATION, effective_from=date(2031, 1, 1))
    response = superuser_client.post(
        reverse("admin:core_ruleset_change", args=[rule_set.pk]),
        _ruleset_post(rule_set, params='{"example_ratio": "0.300000"}', note="2031 revision"),
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(object_type="core.ruleset", object_id=str(rule_set.pk))
    assert event.action == AuditEvent.Action.UPDATE
    assert event.actor == superuser_client.user
    # the parameters are not edited here: a posted JSON is ignored
    assert event.before["params"] == event.after["params"] == {"example_ratio": "0.400000"}
    assert (event.before["note"], event.after["note"]) == ("", "2031 revision")


def test_admin_shows_rule_set_parameters_typed_and_read_only_with_links_to_the_typed_editor(superuser_client):
    """Issue 13 point 7: no raw JSON editing anywhere, the admin included."""
    rule_set = RuleSet.objects.get(scheme=RuleSet.Scheme.RISKPOOL_S)
    page = superuser_client.get(reverse("admin:core_ruleset_change", args=[rule_set.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="params"' not in html and 'name="scheme"' not in html and "<textarea" in html  # the note only
    assert html.count("<textarea") == 1
    assert reverse("rulesets:edit", args=[rule_set.pk]) in html
    assert reverse("rulesets:new-version", args=[rule_set.pk]) in html
    assert "NPL ratio gate" in html and "3.00%" in html  # the typed value, not "0.030000"
    assert '"npl_gate"' not in html and "{&quot;" not in html
    listing = superuser_client.get(reverse("admin:core_ruleset_changelist")).content.decode()
    assert reverse("rulesets:detail", args=[rule_set.pk]) in listing
    assert reverse("admin:core_ruleset_add") not in listing


def test_admin_ruleset_overlap_is_refused(superuser_client):
    RuleSetFactory(scheme=RuleSet.Scheme.EVALUATION, effective_from=date(2031, 1, 1))
    later = RuleSetFactory(scheme=RuleSet.Scheme.EVALUATION, effective_from=date(2033, 1, 1))
    RuleSet.objects.filter(scheme=RuleSet.Scheme.EVALUATION, effective_from=date(2031, 1, 1)).update(
        effective_to=date(2032, 12, 31))
    response = superuser_client.post(reverse("admin:core_ruleset_change", args=[later.pk]),
                                     _ruleset_post(later, effective_from="2032-01-01"))
    assert response.status_code == 200
    assert "overlap" in str(response.context["adminform"].form.non_field_errors())
    assert RuleSet.objects.get(pk=later.pk).effective_from == date(2033, 1, 1)


def test_admin_ruleset_delete_is_audited(superuser_client):
    rule_set = RuleSetFactory(scheme=RuleSet.Scheme.EVALUATION, effective_from=date(2031, 1, 1))
    pk = rule_set.pk
    response = superuser_client.post(reverse("admin:core_ruleset_delete", args=[pk]), {"post": "yes"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(object_type="core.ruleset", object_id=str(pk))
    assert event.action == AuditEvent.Action.DELETE
    assert event.before["name"] == rule_set.name and event.after is None


def test_admin_calendar_override_is_audited_and_takes_effect(superuser_client):
    assert is_working_day(date(2024, 7, 3))
    response = superuser_client.post(
        reverse("admin:core_calendarday_add"), {"date": "2024-07-03", "is_working_day": "", "name": "typhoon"}
    )
    assert response.status_code == 302
    day = CalendarDay.objects.get()
    assert AuditEvent.objects.get(object_type="core.calendarday", object_id=str(day.pk)).action == "create"
    assert not is_working_day(date(2024, 7, 3))


def test_admin_user_roles_change_is_audited_without_the_password(superuser_client):
    user = UserFactory()
    data = {
        "username": user.username, "email": user.email, "first_name": "", "last_name": "",
        "is_active": "on", "organisation": user.organisation_id,
        "roles": [Role.objects.get(code="bank_operator").pk],
        "last_login_0": "", "last_login_1": "", "date_joined_0": "2024-01-01", "date_joined_1": "00:00:00",
    }
    response = superuser_client.post(reverse("admin:core_user_change", args=[user.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.get(object_type="core.user", object_id=str(user.pk))
    assert event.before["roles"] == [] and event.after["roles"] == data["roles"]
    assert "password" not in event.before and "password" not in event.after
    assert event.organisation == user.organisation


def test_admin_audit_events_cannot_be_changed_or_deleted(superuser_client):
    event = AuditEvent.objects.create(actor_label="x", action="create", object_type="t", object_id="1")
    assert superuser_client.get(reverse("admin:core_auditevent_change", args=[event.pk])).status_code == 200  # view
    assert superuser_client.post(reverse("admin:core_auditevent_change", args=[event.pk]), {}).status_code == 403
    assert superuser_client.post(reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
