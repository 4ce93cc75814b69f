"""Sign-in that refuses a person whose account or organisation has been deactivated.

The check sits in the authentication backend, so it holds for every way in: the sign-in form,
the admin's sign-in, and every later request of an existing session (``get_user`` runs on each
request). ``ActiveAccountMiddleware`` then ends such a session and says why; API tokens make the
same check in ``core.api.auth``.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DEACTIVATED_USER = _("This account has been deactivated. Ask your organisation's administrator or the authority "
                     "to reactivate it.")
DEACTIVATED_ORGANISATION = _("Your organisation has been deactivated, so its accounts cannot sign in. Ask the "
                             "authority to reactivate it.")


def inactive_reason(user) -> str | None:
    """Why ``user`` may not sign in ("user" / "organisation"), or None when they may."""
    if not user.is_active:
        return "user"
    if user.organisation_id is not None and not user.organisation.is_active:
        return "organisation"
    return None


def inactive_message(reason: str):
    return DEACTIVATED_ORGANISATION if reason == "organisation" else DEACTIVATED_USER


class ActiveAccountBackend(ModelBackend):
    """Django's ModelBackend that also refuses people of a deactivated organisation."""

    def user_can_authenticate(self, user) -> bool:
        return inactive_reason(user) is None

    def get_user(self, user_id):
        # One query with the organisation: every request of a session asks this.
        user = get_user_model()._default_manager.select_related("organisation").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


class LoginForm(AuthenticationForm):
    """The sign-in form; a deactivated person with the right password is told why, not "wrong password"."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError as error:
            if error.code == "invalid_login" and not getattr(self.request, "axes_locked_out", False):
                reason = self._deactivated()
                if reason:
                    raise ValidationError(inactive_message(reason), code=f"inactive_{reason}") from error
            raise

    def _deactivated(self) -> str | None:
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if not username or not password:
            return None
        user_model = get_user_model()
        user = (user_model._default_manager.select_related("organisation")
                .filter(**{user_model.USERNAME_FIELD: username}).first())
        # Only someone who knows the password learns that the account exists and is deactivated.
        if user is None or not user.check_password(password):
            return None
        return inactive_reason(user)


class ActiveAccountMiddleware:
    """Ends, on its next request, the session of a person deactivated since they signed in.

    The backend has already refused the session's user (``request.user`` is anonymous); this
    removes the session and tells the person why on the sign-in page they are sent to.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if SESSION_KEY in request.session and not request.user.is_authenticated:
            user_model = get_user_model()
            user = (user_model._default_manager.select_related("organisation")
                    .filter(pk=request.session[SESSION_KEY]).first())
            request.session.flush()  # not logout(): nobody signed out, the account was refused
            reason = inactive_reason(user) if user is not None else None
            if reason:
                messages.error(request, inactive_message(reason))
        return self.get_response(request)
