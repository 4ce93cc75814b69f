"""API rate limits (issue 10 point 8): one budget per API token, one per signed-in person using
the API from the browser, one per client address for anonymous calls. Rates come from the
environment (API_THROTTLE_TOKEN / _USER / _ANON, see config/settings/base.py) and are read at
each request, so a changed setting needs no new class. Counters live in the cache (Redis in
production, shared by every web machine).

A refused call answers 429 in the API's one error shape, saying which budget ran out, its size,
and when to retry (also in ``Retry-After``)."""
from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from rest_framework.throttling import SimpleRateThrottle

from core.models import ApiToken
from core.net import client_ip


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view):
        allowed = super().allow_request(request, view)
        if not allowed:
            # For the 429's message (core.api.errors): which budget, and how big it is.
            request.throttled_by = self
        return allowed

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
