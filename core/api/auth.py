"""Per-organisation API tokens for bank and firm systems: ``Authorization: Token <key>``."""
from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from core.models import ApiToken


class OrganisationTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str):
        prefix = key.split(".", 1)[0]
        token = (
            ApiToken.objects.select_related("user", "organisation")
            .filter(prefix=prefix, revoked_at__isnull=True)
            .first()
        )
        if token is None or token.key_hash != ApiToken.hash_key(key):
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
