"""The public notice (公示, RP-25): no login. The claims on notice with the borrower's credit
code masked, and the objection form, limited per client address per hour."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import RuleViolation
from core.net import client_ip
from core.views_helpers import add_rule_violation
from riskpool import selectors, services
from riskpool.forms import (
    ObjectionForm,
)
from riskpool.views import _status

# --- the public notice (公示, RP-25): no login -----------------------------------------------

OBJECTION_LIMIT = 5  # per client address per hour
OBJECTION_WINDOW = 3600


def _render_notice(request, forms=None, status=200, error=None):
    rows = selectors.public_notice_rows()
    forms = forms or {}
    for row in rows:
        row["form"] = forms.get(row["id"]) or ObjectionForm(prefix=f"c{row['id']}")
    return render(request, "riskpool/notice.html", {"rows": rows, "limit_error": error}, status=status)


def notice_list(request):
    return _render_notice(request)


def _over_limit(request) -> bool:
    """Counts every objection post of the client's address in a one-hour window (Django's cache);
    the address is the one the trusted proxies report (core.net.client_ip), not the proxy's."""
    key = f"riskpool:objection:{client_ip(request)}"
    cache.add(key, 0, OBJECTION_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, OBJECTION_WINDOW)
        count = 1
    return count > OBJECTION_LIMIT


@require_POST
def objection_file(request, pk: int):
    if _over_limit(request):
        return _render_notice(request, status=429, error=_(
            "You have sent %(n)d objections in the last hour, the most we accept from one address. "
            "Please try again later.") % {"n": OBJECTION_LIMIT})
    claim = selectors.claim_on_notice(claim_id=pk)
    form = ObjectionForm(request.POST, prefix=f"c{pk}")
    exc = None
    if form.is_valid():
        try:
            services.objection_file(claim=claim, **form.cleaned_data)
        except RuleViolation as error:
            exc = error
            add_rule_violation(form, error)
        else:
            messages.success(request, _("Your objection is received; the pool reviewer will decide it."))
            return redirect("notice:notice-list")
    return _render_notice(request, forms={pk: form}, status=_status(exc))
