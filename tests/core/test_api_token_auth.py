"""API tokens (core.api.auth.OrganisationTokenAuthentication), through /api/schema/."""
import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from core.api.auth import OrganisationTokenAuthentication
from core.models import ApiToken
from tests.factories import api_token, bank_user

pytestmark = pytest.mark.django_db

URL = "/api/schema/?format=json"  # the JSON renderer, so the error body parses as JSON


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _get(client, key):
    return client.get(URL, HTTP_AUTHORIZATION=f"Token {key}")


def _assert_401_in_error_shape(response):
    assert response.status_code == 401
    body = response.json()
    assert list(body) == ["errors"] and len(body["errors"]) == 1
    problem = body["errors"][0]
    assert (problem["rule"], problem["field"]) == (None, None) and problem["message"]
    assert response["WWW-Authenticate"] == "Token"


def test_api_valid_token_authenticates_as_its_user(client, rf):
    token, key = api_token()
    assert _get(client, key).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None  # set only after the key matched
    # The authenticator itself answers with the token's user and the token.
    request = rf.get(URL, HTTP_AUTHORIZATION=f"Token {key}")
    assert OrganisationTokenAuthentication().authenticate(request) == (token.user, token)


def test_api_revoked_token_is_401(client):
    token, key = api_token()
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    _assert_401_in_error_shape(_get(client, key))


def test_api_wrong_key_with_a_real_prefix_is_401(client):
    token, key = api_token()
    _assert_401_in_error_shape(_get(client, f"{token.prefix}.not-the-secret"))


def test_api_unknown_token_is_401(client):
    _assert_401_in_error_shape(_get(client, "000000000000.nothing"))


def test_api_token_of_a_user_moved_to_another_organisation_is_401(client):
    token, key = api_token()
    other = bank_user()
    token.user.organisation = other.organisation
    token.user.save()
    _assert_401_in_error_shape(_get(client, key))


def test_api_token_of_an_inactive_user_is_401(client):
    token, key = api_token()
    token.user.is_active = False
    token.user.save()
    _assert_401_in_error_shape(_get(client, key))


def test_create_api_token_command_prints_the_key_once(capsys):
    user = bank_user()
    call_command("create_api_token", user.username, "core banking")
    out, err = capsys.readouterr()
    key = out.strip()
    token = ApiToken.objects.get(name="core banking")
    assert (token.user, token.organisation) == (user, user.organisation)
    assert token.key_hash == ApiToken.hash_key(key)
    assert key not in err
    request_user, _ = OrganisationTokenAuthentication().authenticate_credentials(key)
    assert request_user == user
