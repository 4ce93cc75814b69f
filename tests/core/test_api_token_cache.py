"""A checked API token is remembered a few seconds per process (issue 12): the next calls skip
the look-up; a wrong key never comes from memory; a revoked token is refused once the time is up."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.api import auth
from core.models import ApiToken
from tests.factories import api_token, bank_user

pytestmark = pytest.mark.django_db

URL = "/api/guarantees/guarantees/"


@pytest.fixture
def cached(settings, monkeypatch):
    settings.API_TOKEN_CACHE_SECONDS = 5
    auth._recent.clear()
    clock = {"now": 1000.0}
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock["now"])
    yield clock
    auth._recent.clear()


def _client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _token_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        status = client.get(URL).status_code
    return status, sum(q["sql"].startswith("SELECT") and "core_apitoken" in q["sql"] for q in ctx.captured_queries)


def test_the_second_call_skips_the_lookup_until_the_time_is_up(cached):
    token, key = api_token(bank_user())
    client = _client(key)
    assert _token_queries(client) == (200, 1)
    assert _token_queries(client) == (200, 0)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert _token_queries(client)[0] == 200  # still remembered: within 5 seconds
    cached["now"] += 5.1
    assert client.get(URL).status_code == 401


def test_a_wrong_key_with_a_remembered_prefix_is_refused(cached):
    _token, key = api_token(bank_user())
    assert _client(key).get(URL).status_code == 200
    assert _client(key[:-2] + ("xy" if not key.endswith("xy") else "zz")).get(URL).status_code == 401


def test_each_request_gets_its_own_user_object(cached):
    _token, key = api_token(bank_user())
    authenticate = auth.OrganisationTokenAuthentication().authenticate_credentials
    first, _t1 = authenticate(key)
    first.marked = True
    second, _t2 = authenticate(key)
    assert second.pk == first.pk and not hasattr(second, "marked")


def test_off_by_default_in_tests(settings):
    assert settings.API_TOKEN_CACHE_SECONDS == 0
