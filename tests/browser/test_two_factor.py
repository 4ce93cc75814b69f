"""Two-factor sign-in in the browser (issue 10 point 8): a treasurer without a device is sent to
enrol after the password, scans (here: reads) the key, confirms a code and reaches the home
page; the page breaks no Content-Security-Policy rule (the page fixture checks)."""
from __future__ import annotations

import base64

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_factor_treasurer_enrols_after_the_password(live_server, page, screenshot):
    user = UserFactory(roles=["pool_treasurer"])
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_selector("#two-factor-form")
    assert "/accounts/two-factor/" in page.url
    assert page.locator(".two-factor-qr svg").count() == 1
    screenshot("two-factor-enrol")
    key = page.inner_text("#two-factor-key").replace(" ", "")
    code = TOTP(base64.b32decode(key)).token()
    page.fill("#id_code", f"{code:06d}")
    page.click("#two-factor-form button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    assert page.url.rstrip("/") == live_server.url
    assert TOTPDevice.objects.get(user=user).confirmed
