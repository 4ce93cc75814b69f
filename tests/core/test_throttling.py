"""API rate limits (issue 10 point 8): per API token, per signed-in person, per client address;
rates from the environment; a refused call is a 429 in the API's error shape naming the limit."""
from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from config.settings.base import env_rate
from tests.factories import api_token, bank_user

pytestmark = pytest.mark.django_db

URL = "/api/guarantees/guarantees/"


@pytest.fixture
def rates(settings):
    def set_rates(token="100000/minute", user="100000/minute", anon="100000/minute"):
        settings.API_THROTTLE_RATES = {"token": token, "user": user, "anon": anon}

    return set_rates


def _token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_throttle_per_token_answers_429_in_the_error_shape(rates):
    rates(token="3/minute")
    user = bank_user()
    _token, key = api_token(user, name="loan system")
    _other, other_key = api_token(user, name="reporting job")
    client = _token_client(key)
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(URL)
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("application/json")
    assert int(refused["Retry-After"]) > 0
    [error] = refused.json()["errors"]
    assert error["rule"] is None and error["field"] is None
    assert error["message"].startswith("Too many requests with this API token: at most 3 requests per minute.")
    assert "Try again in" in error["message"]
    # The other token of the same organisation and person has its own budget …
    assert _token_client(other_key).get(URL).status_code == 200
    # … and the person's browser session is not charged for the token's calls.
    session = APIClient()
    session.force_login(user)
    assert session.get(URL).status_code == 200


def test_throttle_per_user_counts_session_calls_of_each_person(rates):
    rates(user="2/minute")
    alice, bob = bank_user(), bank_user()
    client = APIClient()
    client.force_login(alice)
    assert [client.get(URL).status_code for _ in range(2)] == [200, 200]
    refused = client.get(URL)
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["message"].startswith("Too many requests from your account: at most 2 requests per minute.")
    other = APIClient()
    other.force_login(bob)
    assert other.get(URL).status_code == 200
    # A token of the throttled person still works: tokens have their own budget.
    _token, key = api_token(alice)
    assert _token_client(key).get(URL).status_code == 200


def test_throttle_message_in_chinese(rates):
    rates(user="1/hour")
    client = APIClient()
    client.force_login(bank_user())
    client.get(URL)
    refused = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 429
    message = refused.json()["errors"][0]["message"]
    assert "请求过多" in message and "1" in message and "小时" in message


class _Open(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


def test_throttle_anonymous_calls_by_client_address(rates):
    rates(anon="2/minute")
    factory, view = APIRequestFactory(), _Open.as_view()
    one = [view(factory.get("/open/", REMOTE_ADDR="203.0.113.5")).status_code for _ in range(3)]
    assert one == [200, 200, 429]
    assert view(factory.get("/open/", REMOTE_ADDR="203.0.113.6")).status_code == 200
    refused = view(factory.get("/open/", REMOTE_ADDR="203.0.113.5"))
    refused.render()
    assert "Too many requests from your address: at most 2 requests per minute." in refused.data["errors"][0]["message"]


def test_throttle_rates_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("API_THROTTLE_TOKEN", "50/second")
    assert env_rate("API_THROTTLE_TOKEN", "1200/minute") == "50/second"
    monkeypatch.delenv("API_THROTTLE_TOKEN")
    assert env_rate("API_THROTTLE_TOKEN", "1200/minute") == "1200/minute"
    for bad in ("600", "600/fortnight", "0/minute", "many/minute"):
        monkeypatch.setenv("API_THROTTLE_USER", bad)
        with pytest.raises(ImproperlyConfigured, match="API_THROTTLE_USER"):
            env_rate("API_THROTTLE_USER", "600/minute")


def test_throttle_classes_are_on_for_every_api_view(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "core.api.throttling.TokenRateThrottle",
        "core.api.throttling.UserRateThrottle",
        "core.api.throttling.AnonRateThrottle",
    ]


@pytest.mark.redis
def test_on_redis_the_log_is_one_sorted_set_per_token(rates):
    """Issue 12: with Redis the sliding log is a sorted set kept by one script (one round trip),
    not DRF's pickled list; the rule is the same (tested above on whichever cache runs)."""
    from django.core.cache import caches

    backend = caches["default"]
    rates(token="2/minute")
    user = bank_user()
    token, key = api_token(user)
    client = _token_client(key)
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 429]
    raw = backend.make_and_validate_key(f"throttle_token_{token.pk}")
    redis = backend._cache.get_client(raw)
    assert redis.type(raw) == b"zset" and redis.zcard(raw) == 2  # the refused call is not logged
    assert 0 < redis.ttl(raw) <= 60


@pytest.mark.redis
def test_on_redis_the_script_is_registered_once_per_connection_pool(rates, monkeypatch):
    """Django's get_client() builds a new client per call: the script is kept per connection
    pool, so many calls keep one entry (a script per client kept every client alive)."""
    from core.api import throttling

    # Earlier tests' cache settings made pools of their own; count this test's only.
    monkeypatch.setattr(throttling, "_scripts", {})
    rates()
    _token, key = api_token(bank_user())
    client = _token_client(key)
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    size = len(throttling._scripts)
    assert [client.get(URL).status_code for _ in range(5)] == [200] * 5
    assert len(throttling._scripts) == size <= 2  # the write pool (and at most the read pool)
