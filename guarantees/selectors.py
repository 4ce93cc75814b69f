"""Reads for guaranteed loans, always scoped to what the requesting user may see.

A guarantee is visible to its guarantee firm, its bank, the authority and supervisors whose
jurisdiction contains the firm, the re-guarantee firm for re-guaranteed business in its region,
and the national fund for business in its scope. Anything else answers 404.
"""
from __future__ import annotations

from datetime import date

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404

from core.models import AuditEvent, Organisation
from core.scoping import org_filter, sees_everything, visible_organisations
from guarantees.models import Agreement, Borrower, Compensation, FirmNetAssets, Guarantee


def _party_q(user, prefix: str = "") -> Q:
    """Rows of business where the user's organisation takes part or has jurisdiction."""
    if sees_everything(user):
        return Q()
    if not user.is_authenticated:
        return Q(pk__in=[])
    q = org_filter(user, f"{prefix}firm", f"{prefix}bank")
    org = user.organisation
    if org is not None and org.kind == Organisation.Kind.REGUARANTEE_FIRM:
        q |= Q(**{f"{prefix}reguaranteed": True, f"{prefix}firm__region__path__startswith": org.region.path})
    if org is not None and org.kind == Organisation.Kind.NATIONAL_FUND:
        q |= Q(**{f"{prefix}national_fund_scope": True})
    return q


def guarantee_list(*, user) -> QuerySet[Guarantee]:
    return (
        Guarantee.objects.filter(_party_q(user))
        .select_related("firm", "bank", "borrower", "agreement", "product")
    )


def guarantee_get_for_user(*, user, guarantee_id: int) -> Guarantee:
    return get_object_or_404(guarantee_list(user=user), pk=guarantee_id)


def agreement_list(*, user) -> QuerySet[Agreement]:
    return Agreement.objects.filter(org_filter(user, "firm", "bank")).select_related("firm", "bank")


def agreement_get_for_user(*, user, agreement_id: int) -> Agreement:
    return get_object_or_404(agreement_list(user=user), pk=agreement_id)


def borrower_list(*, user) -> QuerySet[Borrower]:
    return Borrower.objects.filter(org_filter(user, "owner")).select_related("owner")


def borrower_get_for_user(*, user, borrower_id: int) -> Borrower:
    return get_object_or_404(borrower_list(user=user), pk=borrower_id)


def compensation_list(*, user) -> QuerySet[Compensation]:
    return Compensation.objects.filter(_party_q(user, "guarantee__")).select_related(
        "guarantee", "guarantee__firm", "guarantee__bank", "guarantee__borrower"
    )


def compensation_get_for_user(*, user, compensation_id: int) -> Compensation:
    return get_object_or_404(compensation_list(user=user), pk=compensation_id)


def overdue_compensations(*, user, today: date) -> QuerySet[Compensation]:
    """GU-4: unpaid compensations past their due date.

    Scoped in two small steps (issue 12): the guarantees of the overdue compensations (a partial
    index holds only the unpaid ones), then those of them the user may see, by primary key. The
    scope written as a join makes PostgreSQL hash the whole guarantee table (1,000,000 rows:
    600 ms) to keep a few thousand compensations."""
    overdue = Compensation.objects.filter(paid_on__isnull=True, due_on__lt=today)
    if sees_everything(user):
        return compensation_list(user=user).filter(paid_on__isnull=True, due_on__lt=today)
    guarantee_ids = set(overdue.order_by().values_list("guarantee_id", flat=True))
    # Probed in the covering index guarantee_id_parties (firm and bank beside the id), in no order.
    visible = set(Guarantee.objects.filter(_party_q(user), pk__in=_id_set(guarantee_ids)).order_by()
                  .values_list("pk", flat=True))
    hidden = guarantee_ids - visible
    # The shorter list (a compensation has one guarantee, never none): an authority that sees
    # every overdue compensation gets the plain partial-index range, counted and paged from it.
    if len(hidden) < len(visible):
        scoped = overdue.exclude(guarantee_id__in=sorted(hidden)) if hidden else overdue
    else:
        scoped = overdue.filter(guarantee_id__in=sorted(visible))
    return scoped.select_related("guarantee", "guarantee__firm", "guarantee__bank", "guarantee__borrower")


def _id_set(ids):
    """``ids`` for an ``__in`` look-up. On PostgreSQL one array parameter unnested (a list of
    thousands of literals costs more to plan than to run, and hides the covering index)."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (sorted(ids),))
    return sorted(ids)


def banks_in_agreements(*, user) -> QuerySet[Organisation]:
    """Banks named by the agreements the user can see (filter choices)."""
    return Organisation.objects.filter(
        kind=Organisation.Kind.BANK, pk__in=agreement_list(user=user).values("bank")
    ).order_by("name")


def partner_bank_choices() -> QuerySet[Organisation]:
    """Banks a firm can sign an agreement with. Interpretation: any active bank in the system."""
    return Organisation.objects.filter(kind=Organisation.Kind.BANK, is_active=True).order_by("name")


def latest_net_assets(*, user) -> FirmNetAssets | None:
    """The newest net-assets report of the user's own firm (GU-8)."""
    return FirmNetAssets.objects.filter(firm_id=user.organisation_id).first()


def audit_history(*objects) -> QuerySet[AuditEvent]:
    """The audit rows of rows already fetched through a scoped selector, newest first."""
    q = Q(pk__in=[])
    for obj in objects:
        if obj is not None:
            q |= Q(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return AuditEvent.objects.filter(q).select_related("actor").order_by("-at", "-id")


def firms_for_user(*, user) -> QuerySet[Organisation]:
    """Guarantee firms whose figures the user may see."""
    return visible_organisations(user).filter(kind=Organisation.Kind.GUARANTEE_FIRM)


def firm_get_for_user(*, user, firm_id: int) -> Organisation:
    return get_object_or_404(firms_for_user(user=user), pk=firm_id)


def banks_for_firm(*, firm: Organisation) -> QuerySet[Organisation]:
    """Banks the firm has agreements with (choices for its forms)."""
    return Organisation.objects.filter(kind=Organisation.Kind.BANK, bank_agreements__firm=firm).distinct()


