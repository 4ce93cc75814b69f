"""Per-organisation API tokens for bank and firm systems: ``Authorization: Token <key>``.

A token that passed every check is remembered by this process for ``API_TOKEN_CACHE_SECONDS``
(5 by default; 0 turns it off), keyed by the hash of the full key: a bank system's next calls
skip the look-up (issue 12: the project API at 200 requests a second). A revoked token, or a
deactivated person or organisation, is therefore refused within that many seconds on every
worker, instead of at once; a wrong key is never served from memory.
"""
from __future__ import annotations

import copy
import time

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from core.models import ApiToken

_recent: dict[str, tuple[float, object, ApiToken]] = {}  # key hash → (valid until, user, token)
_RECENT_MAX = 1000


class OrganisationTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str):
        key_hash = ApiToken.hash_key(key)
        seconds = getattr(settings, "API_TOKEN_CACHE_SECONDS", 0)
        now = time.monotonic()
        hit = _recent.get(key_hash) if seconds > 0 else None
        if hit is not None and hit[0] > now:
            # A copy: what a request sets on its user stays with that request.
            return copy.copy(hit[1]), hit[2]
        user, token = self._check(key, key_hash)
        if seconds > 0:
            if len(_recent) >= _RECENT_MAX:
                _recent.clear()
            _recent[key_hash] = (now + seconds, user, token)
            user = copy.copy(user)
        return user, token

    @staticmethod
    def _check(key: str, key_hash: str):
        prefix = key.split(".", 1)[0]
        token = (
            ApiToken.objects.select_related("user", "organisation")
            .filter(prefix=prefix, revoked_at__isnull=True)
            .first()
        )
        if token is None or token.key_hash != key_hash:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API token."))
        user = token.user
        if not user.is_active or not token.organisation.is_active or user.organisation_id != token.organisation_id:
            raise exceptions.AuthenticationFailed(_("The token's account or organisation is not active."))
        user.organisation = token.organisation  # the same row (checked above): no second query for it
        # Touch at most once a minute: a busy bank system should not write on every call.
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token
