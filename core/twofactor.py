"""Two-factor sign-in (TOTP, django-otp; issue 10 point 8).

Who: every person holding a role that moves money or decides on others' requests (authority
administrators and reviewers, pool reviewers and treasurers, ``TWO_FACTOR_REQUIRED_ROLES``)
and Django superusers must use it; anyone else may turn it on at ``/accounts/two-factor/``, and
once on it is asked at every sign-in.

How: the password signs the person in as usual; ``TwoFactorMiddleware`` then lets a session
whose person needs the second factor reach nothing but the two-factor pages (and signing out)
until a code from their authenticator app has verified it (django-otp's ``OTPMiddleware`` keeps
the verified device in the session). A person who must use it but has no device yet is sent
to enrol; one who has a device is asked for a code. The API answers such a session 403 in its
error shape. API tokens are not sessions and are not affected.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice


def two_factor_required(user) -> bool:
    """The person's roles (or being a superuser) make the second factor compulsory."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or bool(user.role_codes() & set(settings.TWO_FACTOR_REQUIRED_ROLES))


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


ENROLLED_SESSION_KEY = "two_factor_enrolled"


def needs_verification(request) -> bool:
    """Signed in with the password only, and the second factor is compulsory or turned on (the
    latter noted in the session at sign-in, so a request costs no query for it)."""
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return False
    return two_factor_required(user) or bool(request.session.get(ENROLLED_SESSION_KEY))


@receiver(user_logged_in)
def _note_enrolment(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[ENROLLED_SESSION_KEY] = TOTPDevice.objects.filter(user=user, confirmed=True).exists()


class TwoFactorMiddleware:
    """Holds an unverified session of a person who needs the second factor at the two-factor
    pages. After django_otp.middleware.OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and not self._open(request.path_info) and needs_verification(request):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"errors": [{"rule": None, "field": None, "message": _(
                    "Two-factor sign-in is required for this account: complete it in the browser first.")}]},
                    status=403)
            has_device = confirmed_device(user) is not None
            target = reverse("two-factor-verify" if has_device else "two-factor")
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    _open_paths: dict[tuple, tuple[str, ...]] = {}  # (prefix, URLconf, static URL) → the paths, reversed once

    @classmethod
    def _open(cls, path: str) -> bool:
        """Pages an unverified session may still reach."""
        shape = (get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF, settings.STATIC_URL)
        open_paths = cls._open_paths.get(shape)
        if open_paths is None:
            open_paths = cls._open_paths[shape] = (
                reverse("two-factor"), reverse("two-factor-verify"), reverse("logout"), reverse("login"),
                reverse("set_language"), "/i18n/",
                settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL)
        return path.startswith(open_paths)
