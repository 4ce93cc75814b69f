"""The two-factor pages (core.twofactor): enrolment at /accounts/two-factor/ and the code asked
after the password at /accounts/two-factor/verify/."""
from __future__ import annotations

from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_otp import login as otp_login

from core import services
from core.twofactor import ENROLLED_SESSION_KEY, confirmed_device, two_factor_required


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"), max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Enter the 6 digits your authenticator app shows."))
        return code


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


def _code_accepted(form, device, verify) -> bool:
    """``verify(code)`` unless wrong codes came too fast (django-otp doubles the wait after each
    failure); on refusal the form says why."""
    if not form.is_valid():
        return False
    allowed, why = device.verify_is_allowed()
    if not allowed:
        locked_until = (why or {}).get("locked_until") or timezone.now()
        seconds = max(1, int((locked_until - timezone.now()).total_seconds()) + 1)
        form.add_error("code", _("Too many wrong codes.") + " " + ngettext(
            "Try again in %(seconds)d second.", "Try again in %(seconds)d seconds.", seconds) % {"seconds": seconds})
        return False
    if verify(form.cleaned_data["code"]):
        return True
    form.add_error("code", _("That code is wrong or has expired. Enter the code your app shows now."))
    return False


def _verified(request, device) -> None:
    otp_login(request, device)
    request.session[ENROLLED_SESSION_KEY] = True
    request.session.cycle_key()  # a new session id for the session that now has both factors


@login_required
def two_factor(request):
    """Turn two-factor sign-in on: scan the QR code (or type the key), then confirm with a code."""
    user = request.user
    device = confirmed_device(user)
    if device is not None:
        return render(request, "registration/two_factor.html", {
            "enrolled": True, "required": two_factor_required(user), "next": _next(request)})
    pending = services.two_factor_pending_device(user=user)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if _code_accepted(form, pending, lambda token: services.two_factor_confirm(user=user, device=pending, token=token)):
            _verified(request, pending)
            messages.success(request, _("Two-factor sign-in is on. From now on, sign-in asks for a code after the password."))
            return redirect(_next(request))
        status = 400
    key = pending.config_url.split("secret=", 1)[1].split("&", 1)[0]
    qr = segno.make(pending.config_url, error="m").svg_inline(scale=4, title=_("QR code for your authenticator app"))
    return render(request, "registration/two_factor.html", {
        "enrolled": False, "required": two_factor_required(user), "form": form, "next": _next(request),
        "qr": mark_safe(qr),  # segno's SVG of our own otpauth URL: nothing user-typed in it
        "key": " ".join(key[i:i + 4] for i in range(0, len(key), 4)),
    }, status=status)


@login_required
def two_factor_verify(request):
    """The second step of sign-in: a code from the person's authenticator app."""
    user = request.user
    device = confirmed_device(user)
    if device is None:
        return redirect(f"{reverse('two-factor')}?{urlencode({'next': _next(request)})}")
    if user.is_verified():
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if _code_accepted(form, device, device.verify_token):
            _verified(request, device)
            return redirect(_next(request))
        status = 400
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)}, status=status)
