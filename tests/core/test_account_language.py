"""Issue 13.1: the language kept on the account is applied at sign-in; the switch updates it."""
import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-Word-123"  # the factories' password


def _sign_in(client, user, **headers):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD}, **headers)


def test_signing_in_applies_the_accounts_language_over_the_browsers(client):
    user = UserFactory(language="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"  # the last person on this browser
    response = _sign_in(client, user, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    home = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert '<html lang="en">' in home.content.decode()


def test_a_chinese_account_reads_chinese_on_an_english_browser(client):
    user = UserFactory(language="zh-hans")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    _sign_in(client, user, HTTP_ACCEPT_LANGUAGE="en")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert '<html lang="zh-hans">' in client.get(reverse("home")).content.decode()


def test_an_account_without_a_choice_keeps_the_browsers_language(client):
    user = UserFactory(language="")
    _sign_in(client, user, HTTP_ACCEPT_LANGUAGE="en")
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies
    assert '<html lang="en">' in client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_a_failed_sign_in_sets_no_language(client):
    user = UserFactory(language="en")
    response = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    assert response.status_code == 200
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies


def test_the_switch_keeps_the_choice_on_the_account_for_the_next_sign_in(client):
    user = UserFactory(language="zh-hans")
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    user.refresh_from_db()
    assert user.language == "en"
    client.logout()
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    _sign_in(client, user, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
