"""Playwright (sync API) against pytest-django's live_server, on Debian's chromium.

Never `playwright install`: the browser is /usr/bin/chromium. Screenshots go to
test-artifacts/screenshots/ (gitignored) at 1366×768.
"""
from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself (factories, counting rows) would otherwise be refused as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "pass-Word-123"  # tests.factories.UserFactory's password


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests run last (after pytest-django has put transactional tests after the
    others): they are slow, and each one's flush empties the tables the data migrations fill
    (roles, rule sets), which later tests in other folders rely on."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True)
def _migration_data(request):
    """Roles and the shipped rule sets and tables, as the data migrations add them (idempotent).

    A transactional test starts from whatever the previous one left: after another
    transactional test's flush these rows are gone, and serialized_rollback does not bring
    them back reliably once Playwright's greenlets are in play.
    """
    if "live_server" not in request.fixturenames:
        return
    from django.apps import apps

    core_data = import_module("core.migrations.0002_audit_append_only_roles_lpr")
    core_data.add_roles(apps, None)
    core_data.add_lpr(apps, None)
    import_module("core.migrations.0007_h_finance_bureau").add_role(apps, None)
    import_module("guarantees.migrations.0002_default_rule_set").add_rule_set(apps, None)
    import_module("counterguarantee.migrations.0002_default_tables").add_tables(apps, None)
    if not apps.get_model("core", "RuleSet").objects.filter(scheme__startswith="riskpool").exists():
        # The pool's shipped rule sets, as their three migrations leave them (not idempotent one by one).
        import_module("riskpool.migrations.0002_default_rule_sets").add_rule_sets(apps, None)
        import_module("riskpool.migrations.0013_g_product_suspension").scheme_m_starts_2024_05_15(apps, None)
        import_module("riskpool.migrations.0015_e_scheme_s_ends_2028_08_10").set_end(apps, None)
    # The shipped rule sets' names and notes as msgids (idempotent: each renames only the old name).
    for migration in ("guarantees.migrations.0010_f_shipped_rule_set_name",
                      "counterguarantee.migrations.0004_f_shipped_rule_set_name",
                      "riskpool.migrations.0020_f_shipped_rule_set_names"):
        import_module(migration).rename(apps, None)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _is_csp_violation(message) -> bool:
    """Chromium reports each thing the Content-Security-Policy refused as a console error
    ("Refused to execute inline script because it violates the following Content Security
    Policy directive …")."""
    return "Content Security Policy" in message.text or "Content-Security-Policy" in message.text


@pytest.fixture
def page(browser):
    """A fresh page; the test fails if any page it opened broke the Content-Security-Policy, since
    the browser then silently dropped a script or a style the page relies on."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(f"{page.url}: {message.text}") if _is_csp_violation(message) else None)
    yield page
    context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def screenshot(page):
    """``screenshot("name")`` saves the current page as test-artifacts/screenshots/name.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, full_page: bool = False) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def totp_code(device) -> str:
    """The code ``device``'s authenticator app shows now."""
    from django_otp.oath import TOTP

    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    return str(token).zfill(device.digits)


def enrolled_device(user):
    """``user``'s confirmed TOTP device, made if missing, ready to accept the current code again
    (django-otp refuses a code already used, and a test may sign the same person in twice
    within one 30-second step)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    device = device or TOTPDevice.objects.create(user=user, name="browser test", confirmed=True)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0,
                                                   throttling_failure_timestamp=None)
    device.refresh_from_db()
    return device


@pytest.fixture
def login(page, live_server):
    """Sign in through the real login page, and through the second step (a code from the
    person's authenticator, core.twofactor) when their role requires it or they turned it on."""

    def sign_in(user) -> None:
        from core.twofactor import two_factor_required

        device = enrolled_device(user) if two_factor_required(user) else None
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("form.stacked button[type=submit]")
        page.wait_for_load_state("domcontentloaded")
        assert "/accounts/login/" not in page.url, "sign-in failed"
        if "/accounts/two-factor/verify/" in page.url:
            from django_otp.plugins.otp_totp.models import TOTPDevice

            device = device or enrolled_device(TOTPDevice.objects.get(user=user, confirmed=True).user)
            page.fill("#id_code", totp_code(device))
            page.click("#two-factor-verify-form button[type=submit]")
            page.wait_for_load_state("domcontentloaded")
            assert "/accounts/two-factor/" not in page.url, "the second step of sign-in failed"

    return sign_in
