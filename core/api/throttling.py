"""API rate limits (issue 10 point 8): one budget per API token, one per signed-in person using
the API from the browser, one per client address for anonymous calls. Rates come from the
environment (API_THROTTLE_TOKEN / _USER / _ANON, see config/settings/base.py) and are read at
each request, so a changed setting needs no new class. Counters live in the cache (Redis in
production, shared by every web machine).

A refused call answers 429 in the API's one error shape, saying which budget ran out, its size,
and when to retry (also in ``Retry-After``).

The rule is DRF's sliding log (at most N calls in any window of the period). DRF keeps the log as
one pickled list read and written whole on every call: at a busy token's 1,200 a minute that is
two round trips of ~10 kB per call (issue 12). On Redis the log is a sorted set kept by one
server-side script instead (one round trip, a few bytes); other caches keep DRF's list."""
from __future__ import annotations

import secrets

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from rest_framework.throttling import SimpleRateThrottle

from core.models import ApiToken
from core.net import client_ip

# KEYS[1] the log; ARGV: now, period (s), limit, a unique member. Drops the calls older than the
# period, refuses when the limit is reached (answering the count and the oldest call's time),
# else records the call. As DRF: a refused call is not recorded.
_SLIDING_LOG = """
local now, period, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, count, oldest[2]}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(period))
return {1, count + 1, ''}
"""
# The script, registered on one client per connection pool (which Django keeps for the process).
# Keyed by the pool, not by a client: Django's get_client() builds a new client on every call,
# and a script kept per client held every one of them (one more per call, never freed).
_scripts: dict[int, tuple[object, object]] = {}  # id(pool) → (pool, script)


def _script(backend: RedisCache):
    pool = backend._cache._get_connection_pool(True)
    entry = _scripts.get(id(pool))
    if entry is None or entry[0] is not pool:
        entry = _scripts[id(pool)] = (pool, backend._cache._client(connection_pool=pool).register_script(_SLIDING_LOG))
    return entry[1]


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view):
        backend = caches[DEFAULT_CACHE_ALIAS] if self.cache is default_cache else self.cache
        if isinstance(backend, RedisCache) and self.rate is not None:
            allowed = self._allow_on_redis(backend, request, view)
        else:
            allowed = super().allow_request(request, view)
        if not allowed:
            # For the 429's message (core.api.errors): which budget, and how big it is.
            request.throttled_by = self
        return allowed

    def _allow_on_redis(self, backend: RedisCache, request, view) -> bool:
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        key = backend.make_and_validate_key(self.key)
        script = _script(backend)
        self.now = self.timer()
        member = f"{self.now!r}:{secrets.token_hex(4)}"
        allowed, count, oldest = script(keys=[key], args=[repr(self.now), self.duration, self.num_requests, member])
        self.logged = (int(count), float(oldest) if oldest else self.now)
        return bool(allowed)

    def wait(self):
        """DRF's wait() on the Redis log: the rest of the oldest call's period, shared among the
        calls still available."""
        logged = getattr(self, "logged", None)
        if logged is None:
            return super().wait()
        count, oldest = logged
        available = self.num_requests - count + 1
        if available <= 0:
            return None
        return (self.duration - (self.now - oldest)) / float(available)

    def describe(self) -> str:
        raise NotImplementedError


class TokenRateThrottle(_SettingsRateThrottle):
    """Per API token: a bank's loan system and its reporting job each have their own budget."""

    scope = "token"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None

    def describe(self) -> str:
        return _("Too many requests with this API token: at most %(limit)s.")


class UserRateThrottle(_SettingsRateThrottle):
    """Per person, for API calls made from a signed-in browser session (token calls count
    against their token instead)."""

    scope = "user"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated and not isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
        return None

    def describe(self) -> str:
        return _("Too many requests from your account: at most %(limit)s.")


class AnonRateThrottle(_SettingsRateThrottle):
    """Per client address (as the trusted proxies report it, core.net) for calls without a
    session or token."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}

    def describe(self) -> str:
        return _("Too many requests from your address: at most %(limit)s.")


def limit_text(throttle: SimpleRateThrottle) -> str:
    """ "600 requests per minute", in the user's language."""
    per = {1: pgettext("rate period", "second"), 60: pgettext("rate period", "minute"),
           3600: pgettext("rate period", "hour"), 86400: pgettext("rate period", "day")}[throttle.duration]
    count = throttle.num_requests
    return ngettext("%(count)s request per %(period)s", "%(count)s requests per %(period)s", count) % {
        "count": count, "period": per}


def throttled_message(request, wait: float | None) -> str:
    throttle = getattr(request, "throttled_by", None)
    head = throttle.describe() % {"limit": limit_text(throttle)} if throttle else _("Too many requests.")
    if wait is None:
        return head
    seconds = max(1, round(wait))
    return head + " " + ngettext("Try again in %(seconds)d second.", "Try again in %(seconds)d seconds.", seconds) % {
        "seconds": seconds}
