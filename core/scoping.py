"""Who may see which organisation's rows. Every selector starts here."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from core.models import Organisation, Region

# Organisation kinds whose people see their whole jurisdiction (the region subtree).
JURISDICTION_KINDS = {Organisation.Kind.AUTHORITY, Organisation.Kind.SUPERVISOR}


def sees_everything(user) -> bool:
    return bool(user.is_superuser)


def has_jurisdiction(user) -> bool:
    org = user.organisation
    return org is not None and org.kind in JURISDICTION_KINDS


def jurisdiction_region_path(user) -> str | None:
    """The region path prefix an authority or supervisor user oversees."""
    if not has_jurisdiction(user):
        return None
    return Region.objects.filter(pk=user.organisation.region_id).values_list("path", flat=True).first()


def visible_organisations(user) -> QuerySet[Organisation]:
    """Organisations whose rows ``user`` may read: all (superuser), the jurisdiction, or its own."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    if sees_everything(user):
        return Organisation.objects.all()
    if user.organisation_id is None:
        return Organisation.objects.none()
    path = jurisdiction_region_path(user)
    if path:
        return Organisation.objects.filter(region__path__startswith=path)
    return Organisation.objects.filter(pk=user.organisation_id)


def org_filter(user, *fields: str) -> Q:
    """A Q that keeps rows where any of ``fields`` (organisation foreign keys) is visible to ``user``.

    For jurisdiction users the organisations are one indexed prefix match on the region path,
    used as a subquery.
    """
    if sees_everything(user):
        return Q()
    if not user.is_authenticated or user.organisation_id is None:
        return Q(pk__in=[])
    path = jurisdiction_region_path(user)
    if path:
        # An IN (subquery) on the organisation keys, not joins through region: PostgreSQL then
        # counts a province's rows from the foreign-key indexes (measured 340 → 163 ms at 1M).
        within = Organisation.objects.filter(region__path__startswith=path).values("pk")
        return _any(Q(**{f"{field}_id__in": within}) for field in fields)
    return _any(Q(**{f"{field}_id": user.organisation_id}) for field in fields)


def _any(conditions) -> Q:
    q = Q(pk__in=[])
    for condition in conditions:
        q |= condition
    return q
