from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from core.models import Organisation

K = Organisation.Kind
PARTY_KINDS = {K.GUARANTEE_FIRM, K.BANK, K.AUTHORITY, K.SUPERVISOR, K.REGUARANTEE_FIRM, K.NATIONAL_FUND}
OVERSIGHT_KINDS = {K.AUTHORITY, K.SUPERVISOR}

# (label, url name, who sees it): the main navigation, decided here rather than in templates.
NAVIGATION = [
    (_("Home"), "home", lambda u, kind: True),
    (_("Guarantees"), "guarantees:guarantee-list", lambda u, kind: kind in PARTY_KINDS),
    (_("Agreements"), "guarantees:agreement-list", lambda u, kind: kind in PARTY_KINDS),
    (_("Compensations"), "guarantees:compensation-list", lambda u, kind: kind in PARTY_KINDS),
    (_("Loan projects"), "riskpool:project-list", lambda u, kind: kind in {K.BANK, K.POOL_REVIEWER, K.POOL_TREASURER, K.AUTHORITY}),
    (_("Claims"), "riskpool:claim-list", lambda u, kind: kind == K.BANK),
    (_("Review queue"), "riskpool:review-queue", lambda u, kind: kind == K.POOL_REVIEWER),
    (_("Public notices"), "riskpool:notice-desk", lambda u, kind: kind == K.AUTHORITY),
    (_("Payments"), "riskpool:treasurer-desk", lambda u, kind: kind == K.POOL_TREASURER),
    (_("Write-off closures"), "riskpool:finance-desk", lambda u, kind: kind == K.FINANCE_BUREAU),
    (_("Pools"), "riskpool:pool-list", lambda u, kind: kind in {K.AUTHORITY, K.POOL_REVIEWER, K.POOL_TREASURER}),
    (_("Pool reports"), "riskpool:report-index", lambda u, kind: kind in {K.AUTHORITY, K.POOL_REVIEWER, K.POOL_TREASURER}),
    (_("Scheme M"), "riskpool:m-home", lambda u, kind: kind in {K.GUARANTEE_FIRM, K.AUTHORITY, K.POOL_REVIEWER, K.POOL_TREASURER}),
    (_("Pool administration"), "riskpool:admin-home", lambda u, kind: kind == K.AUTHORITY),
    (_("Counter-guarantees"), "counterguarantee:home", lambda u, kind: kind in {K.GUARANTEE_FIRM, K.AUTHORITY, K.SUPERVISOR}),
    (_("Annual evaluation"), "evaluation:home", lambda u, kind: kind in {K.GUARANTEE_FIRM, K.AUTHORITY, K.SUPERVISOR}),
    (_("Firm indicators"), "indicators:dashboard", lambda u, kind: kind in OVERSIGHT_KINDS),
    (_("Audit trail"), "audit-list", lambda u, kind: kind in OVERSIGHT_KINDS),
    (_("Rule sets and simulator"), "rulesets:list", lambda u, kind: kind == K.AUTHORITY),
    (_("Jobs"), "jobs:list", lambda u, kind: u.has_role("authority_admin")),
    (_("Calendar"), "calendar", lambda u, kind: kind == K.AUTHORITY and u.has_role("authority_admin")),
    (_("Settings"), "admin:index", lambda u, kind: u.is_staff),
    (_("API"), "api-docs", lambda u, kind: True),
]


def _nav_items(user):
    kind = user.organisation.kind if user.organisation_id else None
    items = []
    for label, name, visible in NAVIGATION:
        if not (user.is_superuser or visible(user, kind)):
            continue
        try:
            items.append({"label": label, "url": reverse(name)})
        except NoReverseMatch:  # a page of an app not installed in this deployment
            continue
    return items


def navigation(request):
    """What the base template needs on every page: the user's organisation, roles and menu."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"LANGUAGES": settings.LANGUAGES}
    return {
        "LANGUAGES": settings.LANGUAGES,
        "current_org": user.organisation,
        "role_codes": user.role_codes(),
        "nav_items": _nav_items(user),
    }
