"""Two-factor sign-in (TOTP, core.twofactor; issue 10 point 8): compulsory for authority, reviewer
and treasurer roles (and superusers), optional for everyone else; sessions only, API tokens
keep working. These tests sign in with the password (client.login / the sign-in page), so the
second step is theirs to complete."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from core import demo
from core.models import AuditEvent
from tests.factories import UserFactory, api_token, bank_user

pytestmark = pytest.mark.django_db

PASSWORD = "pass-Word-123"
HOME = reverse("home")
ENROL = reverse("two-factor")
VERIFY = reverse("two-factor-verify")


def code(device, steps: int = 0) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + steps * device.step
    return f"{totp.token():06d}"


def sign_in(client, user) -> None:
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, "the password step failed"


def enrolled(user, key: str = demo.DEMO_TOTP_KEY) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", key=key, confirmed=True)


@pytest.mark.parametrize("role", ["authority_admin", "authority_reviewer", "pool_reviewer", "pool_treasurer"])
def test_two_factor_required_roles_are_held_until_enrolled(client, role):
    user = UserFactory(roles=[role])
    sign_in(client, user)
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"] == f"{ENROL}?next=%2F"
    assert client.get(reverse("audit-list")).status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Your role requires two-factor sign-in" in page.content.decode()


def test_two_factor_superuser_is_required_too(client):
    admin = UserFactory(is_superuser=True, is_staff=True)
    sign_in(client, admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(ENROL)


def test_two_factor_enrolment_shows_qr_and_key_then_a_code_turns_it_on(client):
    user = UserFactory(roles=["pool_treasurer"])
    sign_in(client, user)
    page = client.get(ENROL, {"next": reverse("audit-list")}).content.decode()
    assert '<svg' in page and 'class="segno"' in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    shown_key = re.search(r'id="two-factor-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert shown_key == device.config_url.split("secret=")[1].split("&")[0]
    assert client.get(ENROL).status_code == 200
    assert TOTPDevice.objects.filter(user=user).count() == 1  # the same pending device, not a new one each time

    wrong = client.post(ENROL, {"code": "000000" if code(device) != "000000" else "111111"})
    assert wrong.status_code == 400 and "wrong or has expired" in wrong.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    letters = client.post(ENROL, {"code": "12ab56"})
    assert letters.status_code == 400 and "Enter the 6 digits" in letters.content.decode()

    done = client.post(ENROL, {"code": code(device), "next": reverse("audit-list")})
    assert done.status_code == 302 and done["Location"] == reverse("audit-list")
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(HOME).status_code == 200
    event = AuditEvent.objects.get(object_type="otp_totp.totpdevice", object_id=str(device.pk))
    assert event.actor_id == user.pk and device.key not in str(event.after)


def test_two_factor_verification_after_password_then_pages_open(client):
    user = UserFactory(roles=["authority_admin"])
    device = enrolled(user)
    sign_in(client, user)
    held = client.get(reverse("jobs:list"))
    assert held.status_code == 302 and held["Location"] == f"{VERIFY}?next=%2Fjobs%2F"
    wrong = client.post(VERIFY, {"code": str((int(code(device)) + 1) % 1000000).zfill(6), "next": "/jobs/"})
    assert wrong.status_code == 400 and "wrong or has expired" in wrong.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    done = client.post(VERIFY, {"code": code(device), "next": "/jobs/"})
    assert done.status_code == 302 and done["Location"] == "/jobs/"
    assert client.get(reverse("jobs:list")).status_code == 200


def test_two_factor_a_used_code_is_refused_the_second_time(client):
    user = UserFactory(roles=["pool_reviewer"])
    device = enrolled(user)
    sign_in(client, user)
    used = code(device)
    assert client.post(VERIFY, {"code": used}).status_code == 302
    other = client.__class__()
    sign_in(other, user)
    replay = other.post(VERIFY, {"code": used})
    assert replay.status_code == 400
    assert other.get(HOME).status_code == 302


def test_two_factor_wrong_codes_are_throttled(client):
    user = UserFactory(roles=["pool_reviewer"])
    device = enrolled(user)
    sign_in(client, user)
    bad = str((int(code(device)) + 500000) % 1000000).zfill(6)
    assert client.post(VERIFY, {"code": bad}).status_code == 400
    # Right away, even the right code is refused: each failure doubles the wait.
    refused = client.post(VERIFY, {"code": code(device)})
    assert refused.status_code == 400 and "Too many wrong codes" in refused.content.decode()


def test_two_factor_unsafe_next_is_ignored(client):
    user = UserFactory(roles=["authority_admin"])
    device = enrolled(user)
    sign_in(client, user)
    done = client.post(VERIFY, {"code": code(device), "next": "https://evil.example/steal"})
    assert done.status_code == 302 and done["Location"] == reverse("home")


def test_two_factor_optional_for_other_roles_until_turned_on(client):
    user = bank_user()
    sign_in(client, user)
    assert client.get(HOME).status_code == 200  # password only
    page = client.get(ENROL).content.decode()
    assert "optional for your role" in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post(ENROL, {"code": code(device)}).status_code == 302
    client.logout()
    # Turned on: the next sign-in asks for the code too.
    sign_in(client, user)
    held = client.get(HOME)
    assert held.status_code == 302 and held["Location"].startswith(VERIFY)
    assert client.post(VERIFY, {"code": code(device, steps=1)}).status_code == 302
    assert client.get(HOME).status_code == 200


def test_two_factor_unverified_pages_still_open(client):
    user = UserFactory(roles=["authority_admin"])
    enrolled(user)
    sign_in(client, user)
    assert client.get(VERIFY).status_code == 200
    assert client.get(reverse("notice:notice-list")).status_code == 302  # everything else waits
    assert client.post(reverse("set_language"), {"language": "en", "next": VERIFY}).status_code == 302
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(HOME).status_code == 302 and "/accounts/login/" in client.get(HOME)["Location"]


def test_two_factor_api_tokens_keep_working_and_unverified_sessions_get_403_json(client):
    user = UserFactory(roles=["authority_admin"])
    enrolled(user)
    _token, key = api_token(user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/guarantees/guarantees/").status_code == 200
    sign_in(client, user)
    refused = client.get("/api/guarantees/guarantees/")
    assert refused.status_code == 403
    [error] = refused.json()["errors"]
    assert "Two-factor sign-in is required" in error["message"]


def test_two_factor_force_login_counts_as_verified_for_tests(client):
    """The test helper (tests/conftest.py): force_login is a finished sign-in, both factors."""
    user = UserFactory(roles=["pool_treasurer"])
    client.force_login(user)
    assert client.get(HOME).status_code == 200


def test_two_factor_demo_logins_of_required_roles_are_enrolled_with_the_published_key():
    users = [UserFactory(roles=["authority_admin"]), UserFactory(roles=["pool_treasurer"]), bank_user()]
    names = demo._enrol_demo_two_factor([u.username for u in users])
    assert names == sorted(u.username for u in users[:2])
    assert demo._enrol_demo_two_factor([u.username for u in users]) == names  # idempotent
    for user in users[:2]:
        [device] = TOTPDevice.objects.filter(user=user)
        assert device.confirmed and device.key == demo.DEMO_TOTP_KEY
    assert not TOTPDevice.objects.filter(user=users[2]).exists()
    import base64

    assert base64.b32encode(bytes.fromhex(demo.DEMO_TOTP_KEY)).decode() == demo.DEMO_TOTP_SECRET


def test_two_factor_demo_otp_code_command_prints_the_demo_code(client):
    from io import StringIO

    from django.core.management import call_command

    user = UserFactory(roles=["authority_admin"])
    demo._enrol_demo_two_factor([user.username])
    out = StringIO()
    call_command("demo_otp_code", stdout=out)
    printed = out.getvalue().strip()
    assert re.fullmatch(r"\d{6}", printed)
    sign_in(client, user)
    assert client.post(VERIFY, {"code": printed}).status_code == 302
    assert client.get(HOME).status_code == 200
