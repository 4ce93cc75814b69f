"""The client's address as the trusted proxies report it (issue 10 point 8).

Behind load balancers REMOTE_ADDR is the nearest proxy, the same for every visitor, so a
per-address limit on it would lump everyone together. X-Forwarded-For carries the chain, but
its left part is whatever the client wrote. Each proxy appends the address it received the
request from, so with ``TRUSTED_PROXY_COUNT`` = N proxies of our own in front of the web
servers, the client is the N-th entry from the right: the one our outermost proxy appended.
Entries left of it are the client's own claims and are never used.

0 (the default) trusts no proxy: REMOTE_ADDR, and X-Forwarded-For is ignored entirely, which is
right when the web server faces the internet directly.

Every per-address limit uses this: the public notice's objection limit, the API's anonymous
rate limit and the sign-in lockout's records (django-axes).
"""
from __future__ import annotations

import ipaddress

from django.conf import settings


def _address(value: str) -> str | None:
    """``value`` as a normalised IP address, or None when it is not one."""
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # "198.51.100.7:52311"
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR with no trusted proxy, else the X-Forwarded-For entry
    our outermost trusted proxy added. A chain shorter than the configured proxies (a request
    that bypassed some of them) or an entry that is no address falls back to REMOTE_ADDR, so a
    forged header never yields an address of the client's choosing."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    chain = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < count:
        return remote
    return _address(chain[-count]) or remote
