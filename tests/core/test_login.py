"""Sign-in and the lockout after repeated failures (django-axes: 5 failures per user name, 30 min)."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db



PASSWORD = "pass-Word-123"  # the factories' password


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_login_page_renders_without_a_user(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="username"' in content and 'name="password"' in content
    assert 'name="csrfmiddlewaretoken"' in content


def test_pages_send_an_anonymous_visitor_to_the_login_page(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_right_password_signs_in_and_goes_home(client):
    user = UserFactory()
    response = _login(client, user.username, PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert _signed_in(client)


def test_wrong_password_shows_the_form_again(client):
    user = UserFactory()
    response = _login(client, user.username, "wrong")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not _signed_in(client)


def test_lockout_after_five_failures_refuses_even_the_right_password(client):
    assert settings.AXES_FAILURE_LIMIT == 5
    user = UserFactory()
    for _ in range(4):
        assert _login(client, user.username, "wrong").status_code == 200
    # The 5th failure reaches the limit: axes answers with the locked-out page at once.
    fifth = _login(client, user.username, "wrong")
    assert fifth.status_code == 429
    sixth = _login(client, user.username, PASSWORD)
    assert sixth.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in sixth.templates]
    assert not _signed_in(client)


def test_lockout_is_per_user_name(client):
    locked, other = UserFactory(), UserFactory()
    for _ in range(5):
        _login(client, locked.username, "wrong")
    assert _login(client, locked.username, PASSWORD).status_code == 429
    response = _login(client, other.username, PASSWORD)
    assert response.status_code == 302 and _signed_in(client)


def test_a_successful_login_before_the_limit_resets_the_count(client):
    user = UserFactory()
    for _ in range(4):
        _login(client, user.username, "wrong")
    assert _login(client, user.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    # Four more failures: eight in all, but only four since the success, so not locked.
    for _ in range(4):
        assert _login(client, user.username, "wrong").status_code == 200
    response = _login(client, user.username, PASSWORD)
    assert response.status_code == 302 and _signed_in(client)
