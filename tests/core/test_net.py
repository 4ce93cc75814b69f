"""The client's address behind trusted proxies (core.net.client_ip, issue 10 point 8): a forged
X-Forwarded-For never picks the address a per-address limit counts."""
from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.net import client_ip
from riskpool.models import Objection
from riskpool.views_public import OBJECTION_LIMIT

PROXY = "10.0.0.2"


def _ip(settings, proxies: int, xff: str | None, remote: str = PROXY) -> str:
    settings.TRUSTED_PROXY_COUNT = proxies
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return client_ip(RequestFactory().get("/", **extra))


def test_client_ip_no_trusted_proxy_ignores_the_header(settings):
    assert _ip(settings, 0, None, remote="198.51.100.7") == "198.51.100.7"
    assert _ip(settings, 0, "203.0.113.9", remote="198.51.100.7") == "198.51.100.7"


def test_client_ip_one_proxy_takes_the_entry_it_appended(settings):
    assert _ip(settings, 1, "198.51.100.7") == "198.51.100.7"
    # The client wrote "1.2.3.4" itself; our proxy appended the real address after it.
    assert _ip(settings, 1, "1.2.3.4, 198.51.100.7") == "198.51.100.7"
    assert _ip(settings, 1, "1.2.3.4,5.6.7.8 , 198.51.100.7") == "198.51.100.7"


def test_client_ip_two_proxies_take_the_outer_proxys_entry(settings):
    # client → load balancer (appends the client) → nginx (appends the load balancer) → app
    assert _ip(settings, 2, "198.51.100.7, 10.0.0.1") == "198.51.100.7"
    assert _ip(settings, 2, "1.2.3.4, 198.51.100.7, 10.0.0.1") == "198.51.100.7"


def test_client_ip_short_or_forged_chains_fall_back_to_the_peer(settings):
    # Fewer entries than proxies: the request did not come through all of them.
    assert _ip(settings, 2, "1.2.3.4") == PROXY
    assert _ip(settings, 1, None) == PROXY
    assert _ip(settings, 1, "") == PROXY
    assert _ip(settings, 1, "not-an-address") == PROXY
    assert _ip(settings, 1, "1.2.3.4, <script>") == PROXY


def test_client_ip_ports_and_ipv6(settings):
    assert _ip(settings, 1, "198.51.100.7:52311") == "198.51.100.7"
    assert _ip(settings, 1, "[2001:db8::1]:443") == "2001:db8::1"
    assert _ip(settings, 1, "2001:DB8:0::1") == "2001:db8::1"


# --- the public objection limit (RP-25 notice) keys on it -------------------------------------


@pytest.fixture
def world():
    from tests.riskpool.factories import World

    return World()


@pytest.fixture
def notice(world, settings):
    from core.calendar import shanghai_today

    # A private cache: the shared Redis of the development machine is flushed by other test runs.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "net"}}
    cache.clear()  # local memory outlives the test; each test starts counting from nothing
    claim = world.claim()
    world.to_notice(claim, on=shanghai_today())
    url = reverse("notice:objection", args=[claim.pk])
    post = {f"c{claim.pk}-name": "张三", f"c{claim.pk}-contact": "13800000000", f"c{claim.pk}-text": "该企业并非小微企业"}
    return claim, url, post


@pytest.mark.django_db
def test_objection_limit_behind_a_proxy_counts_each_client_not_the_proxy(client, notice, settings):
    claim, url, post = notice
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(OBJECTION_LIMIT + 2):  # seven people behind the same proxy: all accepted
        assert client.post(url, post, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}").status_code == 302
    assert Objection.objects.filter(claim=claim).count() == OBJECTION_LIMIT + 2


@pytest.mark.django_db
def test_objection_limit_spoofed_header_does_not_reset_the_count(client, notice, settings):
    claim, url, post = notice
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(OBJECTION_LIMIT):
        # Each post claims another origin; the proxy appends the same real address.
        forged = f"203.0.113.{n + 1}, 198.51.100.7"
        assert client.post(url, post, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forged).status_code == 302
    sixth = client.post(url, post, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.99, 198.51.100.7")
    assert sixth.status_code == 429
    assert Objection.objects.filter(claim=claim).count() == OBJECTION_LIMIT


@pytest.mark.django_db
def test_objection_limit_without_trusted_proxy_ignores_a_forged_header(client, notice, settings):
    claim, url, post = notice
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(OBJECTION_LIMIT):
        assert client.post(url, post, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code == 302
    assert client.post(url, post, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.200").status_code == 429


class _Open(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


@pytest.mark.django_db
def test_anonymous_api_limit_keys_on_the_client_behind_the_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.API_THROTTLE_RATES = {"token": "100/minute", "user": "100/minute", "anon": "1/minute"}
    factory, view = APIRequestFactory(), _Open.as_view()

    def call(xff):
        return view(factory.get("/open/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=xff)).status_code

    assert call("198.51.100.7") == 200
    assert call("203.0.113.1, 198.51.100.7") == 429  # a forged prefix does not make a new client
    assert call("198.51.100.8") == 200  # another client behind the same proxy


def test_axes_records_the_client_address_from_core_net(settings):
    from axes.helpers import get_client_ip_address

    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
    assert get_client_ip_address(request) == "198.51.100.7"
