"""A deactivated organisation or person is locked out at once (sign-in, sessions, API tokens), its
work stays intact and visible to the authority, and (re)activation is an audited admin action."""
import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from core import services
from core.errors import Conflict, RuleViolation
from core.models import AuditEvent, Organisation, Role
from guarantees.selectors import guarantee_list
from tests.factories import (
    GuaranteeFactory,
    OrganisationFactory,
    RegionFactory,
    UserFactory,
    api_token,
    authority_user,
    bank_user,
    firm_user,
)

pytestmark = pytest.mark.django_db

PASSWORD = "pass-Word-123"  # the factories' password
GUARANTEES_API = "/api/guarantees/guarantees/"


@pytest.fixture
def region():
    return RegionFactory()


@pytest.fixture
def admin_user(region):
    """An authority administrator (staff, as the demo's) over ``region``."""
    user = authority_user(region, is_staff=True)
    user.roles.add(Role.objects.get(code="authority_admin"))
    user.user_permissions.add(*Permission.objects.filter(codename__in=("view_organisation", "view_user")))
    return user


@pytest.fixture
def firm(region):
    return firm_user(organisation__region=region)


def _login(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- sign-in -----------------------------------------------------------------------------------


def test_sign_in_of_a_deactivated_organisation_is_refused_with_its_reason(client, admin_user, firm):
    services.organisation_deactivate(actor=admin_user, organisation=firm.organisation, reason="licence revoked")
    response = _login(client, firm.username)
    assert response.status_code == 200 and not _signed_in(client)
    errors = response.context["form"].non_field_errors()
    assert errors == ["Your organisation has been deactivated, so its accounts cannot sign in. Ask the authority "
                      "to reactivate it."]
    assert "Your organisation has been deactivated" in response.content.decode()


def test_sign_in_of_a_deactivated_user_is_refused_with_its_reason(client, admin_user, firm):
    services.user_deactivate(actor=admin_user, user=firm, reason="left the firm")
    response = _login(client, firm.username)
    assert not _signed_in(client)
    assert "This account has been deactivated" in response.context["form"].non_field_errors()[0]


def test_a_wrong_password_of_a_deactivated_account_says_only_wrong_password(client, admin_user, firm):
    services.organisation_deactivate(actor=admin_user, organisation=firm.organisation, reason="licence revoked")
    response = _login(client, firm.username, "not-the-password")
    errors = response.context["form"].non_field_errors()
    assert len(errors) == 1 and "deactivated" not in errors[0] and "correct" in errors[0]


def test_reactivation_lets_the_organisation_sign_in_again(client, admin_user, firm):
    services.organisation_deactivate(actor=admin_user, organisation=firm.organisation, reason="licence revoked")
    services.organisation_reactivate(actor=admin_user, organisation=firm.organisation, reason="licence restored")
    response = _login(client, firm.username)
    assert response.status_code == 302 and _signed_in(client)


# --- existing sessions and tokens --------------------------------------------------------------


def test_an_open_session_ends_on_its_next_request_after_the_organisation_is_deactivated(client, admin_user, firm):
    assert _login(client, firm.username).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    services.organisation_deactivate(actor=admin_user, organisation=firm.organisation, reason="licence revoked")
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not _signed_in(client)
    page = client.get(response["Location"])
    assert "Your organisation has been deactivated" in page.content.decode()


def test_an_open_session_ends_after_the_user_is_deactivated(client, admin_user, firm):
    client.force_login(firm)
    services.user_deactivate(actor=admin_user, user=firm, reason="left the firm")
    assert client.get(reverse("home")).status_code == 302
    assert not _signed_in(client)


def test_an_open_api_session_is_refused_after_deactivation(client, admin_user, firm):
    client.force_login(firm)
    assert client.get(GUARANTEES_API).status_code == 200
    services.organisation_deactivate(actor=admin_user, organisation=firm.organisation, reason="licence revoked")
    assert client.get(GUARANTEES_API).status_code in (401, 403)


def test_api_token_of_a_deactivated_organisation_is_refused(client, admin_user, region):
    token, key = api_token(bank_user(organisation__region=region))
    assert client.get(GUARANTEES_API, HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    services.organisation_deactivate(actor=admin_user, organisation=token.organisation, reason="left the scheme")
    response = client.get(GUARANTEES_API, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    assert "not active" in response.json()["errors"][0]["message"]
    services.organisation_reactivate(actor=admin_user, organisation=token.organisation)
    assert client.get(GUARANTEES_API, HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_other_organisations_keep_their_sessions(client, admin_user, firm, region):
    other = firm_user(organisation__region=region)
    client.force_login(other)
    services.organisation_deactivate(actor=admin_user, organisation=firm.organisation, reason="licence revoked")
    assert client.get(reverse("home")).status_code == 200 and _signed_in(client)


# --- the work stays ----------------------------------------------------------------------------


def test_pending_work_of_a_deactivated_firm_stays_intact_and_visible_to_the_authority(client, admin_user, firm):
    guarantee = GuaranteeFactory(agreement__firm=firm.organisation,
                                 agreement__bank__region=firm.organisation.region)
    before = guarantee_list(user=admin_user).get(pk=guarantee.pk)
    services.organisation_deactivate(actor=admin_user, organisation=firm.organisation, reason="licence revoked")
    after = guarantee_list(user=admin_user).get(pk=guarantee.pk)
    assert (after.status, after.amount, after.firm_id) == (before.status, before.amount, before.firm_id)
    client.force_login(admin_user)
    page = client.get(reverse("guarantees:guarantee-detail", args=[guarantee.pk]))
    assert page.status_code == 200 and guarantee.contract_no in page.content.decode()
    # The trail shows the authority who did it and why.
    event = AuditEvent.objects.filter(object_type="core.organisation", object_id=str(firm.organisation_id)).get()
    assert event.organisation_id == firm.organisation_id


# --- the services ------------------------------------------------------------------------------


def test_deactivation_and_reactivation_are_audited_with_reason_and_actor(admin_user, firm):
    org = firm.organisation
    services.organisation_deactivate(actor=admin_user, organisation=org, reason="licence revoked")
    services.organisation_reactivate(actor=admin_user, organisation=org, reason="licence restored")
    off, on = AuditEvent.objects.filter(object_type="core.organisation", object_id=str(org.pk)).order_by("id")
    assert off.action == on.action == AuditEvent.Action.TRANSITION
    assert (off.before, off.after) == ({"is_active": True}, {"is_active": False, "reason": "licence revoked"})
    assert (on.before, on.after) == ({"is_active": False}, {"is_active": True, "reason": "licence restored"})
    assert off.actor == admin_user and "licence revoked" in off.summary
    org.refresh_from_db()
    assert org.is_active


def test_user_deactivation_is_audited_under_the_users_organisation(admin_user, firm):
    services.user_deactivate(actor=admin_user, user=firm, reason="left the firm")
    firm.refresh_from_db()
    assert not firm.is_active
    event = AuditEvent.objects.get(object_type="core.user", object_id=str(firm.pk))
    assert event.organisation_id == firm.organisation_id and event.after == {"is_active": False,
                                                                             "reason": "left the firm"}


def test_deactivation_needs_a_reason(admin_user, firm):
    with pytest.raises(RuleViolation) as error:
        services.organisation_deactivate(actor=admin_user, organisation=firm.organisation, reason="  ")
    assert error.value.field == "reason"
    assert Organisation.objects.get(pk=firm.organisation_id).is_active
    assert not AuditEvent.objects.filter(object_type="core.organisation").exists()


def test_deactivating_twice_is_a_conflict(admin_user, firm):
    services.organisation_deactivate(actor=admin_user, organisation=firm.organisation, reason="licence revoked")
    with pytest.raises(Conflict):
        services.organisation_deactivate(actor=admin_user, organisation=firm.organisation, reason="again")


def test_only_an_authority_administrator_of_the_jurisdiction_may_deactivate(admin_user, firm, region):
    reviewer = authority_user(region)  # authority, but not its administrator
    with pytest.raises(PermissionDenied):
        services.organisation_deactivate(actor=reviewer, organisation=firm.organisation, reason="x")
    with pytest.raises(PermissionDenied):
        services.organisation_deactivate(actor=firm_user(organisation__region=region), organisation=firm.organisation,
                                         reason="x")
    elsewhere = firm_user()  # another region: outside this authority's jurisdiction
    with pytest.raises(PermissionDenied):
        services.organisation_deactivate(actor=admin_user, organisation=elsewhere.organisation, reason="x")
    with pytest.raises(PermissionDenied):
        services.user_deactivate(actor=admin_user, user=elsewhere, reason="x")
    assert Organisation.objects.filter(is_active=False).count() == 0


def test_an_administrator_cannot_lock_out_their_own_organisation_or_account(admin_user):
    with pytest.raises(RuleViolation):
        services.organisation_deactivate(actor=admin_user, organisation=admin_user.organisation, reason="x")
    with pytest.raises(RuleViolation):
        services.user_deactivate(actor=admin_user, user=admin_user, reason="x")


# --- the admin actions -------------------------------------------------------------------------


def test_admin_deactivate_action_asks_for_confirmation_and_a_reason_then_deactivates(client, admin_user, firm):
    client.force_login(admin_user)
    url = reverse("admin:core_organisation_changelist")
    org = firm.organisation
    confirm = client.post(url, {"action": "deactivate", "_selected_action": [org.pk]})
    assert confirm.status_code == 200
    assert "admin/core/activation_confirm.html" in [t.name for t in confirm.templates]
    assert str(org) in confirm.content.decode()
    assert Organisation.objects.get(pk=org.pk).is_active  # nothing happens before the confirmation
    missing = client.post(url, {"action": "deactivate", "_selected_action": [org.pk], "post": "yes", "reason": ""})
    assert missing.status_code == 200 and missing.context["form"].errors["reason"]
    assert Organisation.objects.get(pk=org.pk).is_active
    done = client.post(url, {"action": "deactivate", "_selected_action": [org.pk], "post": "yes",
                             "reason": "licence revoked"})
    assert done.status_code == 302
    assert not Organisation.objects.get(pk=org.pk).is_active
    event = AuditEvent.objects.get(object_type="core.organisation", object_id=str(org.pk))
    assert event.actor == admin_user and event.after["reason"] == "licence revoked"


def test_admin_reactivate_action_on_users(client, admin_user, firm):
    services.user_deactivate(actor=admin_user, user=firm, reason="left the firm")
    client.force_login(admin_user)
    url = reverse("admin:core_user_changelist")
    confirm = client.post(url, {"action": "reactivate", "_selected_action": [firm.pk]})
    assert confirm.status_code == 200 and firm.username in confirm.content.decode()
    assert client.post(url, {"action": "reactivate", "_selected_action": [firm.pk], "post": "yes",
                             "reason": ""}).status_code == 302
    firm.refresh_from_db()
    assert firm.is_active


def test_admin_action_outside_the_jurisdiction_changes_nothing(client, admin_user):
    elsewhere = OrganisationFactory()
    client.force_login(admin_user)
    client.post(reverse("admin:core_organisation_changelist"),
                {"action": "deactivate", "_selected_action": [elsewhere.pk], "post": "yes", "reason": "x"})
    assert Organisation.objects.get(pk=elsewhere.pk).is_active


def test_admin_actions_are_not_offered_to_other_staff(client, region, firm):
    staff = authority_user(region, is_staff=True)  # a reviewer who may view the list
    staff.user_permissions.add(*Permission.objects.filter(codename="view_organisation"))
    client.force_login(staff)
    url = reverse("admin:core_organisation_changelist")
    page = client.get(url)
    assert page.status_code == 200 and 'value="deactivate"' not in page.content.decode()
    client.post(url, {"action": "deactivate", "_selected_action": [firm.organisation_id], "post": "yes",
                      "reason": "x"})
    assert Organisation.objects.get(pk=firm.organisation_id).is_active


def test_active_flag_is_read_only_on_the_change_forms(client):
    superuser = UserFactory(is_superuser=True, is_staff=True, organisation=None)
    client.force_login(superuser)
    org = OrganisationFactory()
    page = client.get(reverse("admin:core_organisation_change", args=[org.pk]))
    assert "is_active" not in page.context["adminform"].form.fields
    page = client.get(reverse("admin:core_user_change", args=[superuser.pk]))
    assert "is_active" not in page.context["adminform"].form.fields
