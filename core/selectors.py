"""Reads of the platform's own pages: the audit trail and the figures on the home page.

Every function takes the requesting user and scopes through core.scoping (or the app selectors
that start there), in a fixed number of queries whatever the amount of data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum

from core.calendar import SHANGHAI, shanghai_today
from core.models import AuditEvent, Organisation
from core.periods import Quarter
from core.scoping import has_jurisdiction, org_filter, sees_everything

# --- audit trail -------------------------------------------------------------------------------


def is_oversight_user(user) -> bool:
    """The authority and supervisors (and Django superusers): the people of the oversight pages,
    the firm-indicator dashboard and the audit trail."""
    return bool(user.is_authenticated and (sees_everything(user) or has_jurisdiction(user)))


def audit_events_for_user(
    *,
    user,
    object_type: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events whose organisation lies in ``user``'s jurisdiction, newest first.

    Anyone else gets no rows (the page answers 403 before it asks). Events without an
    organisation (platform settings) are shown to superusers only. The date range is of
    Asia/Shanghai dates, inclusive, turned into UTC bounds so the ``at`` index is used.
    """
    if not is_oversight_user(user):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.filter(org_filter(user, "organisation")).select_related("organisation")
    if object_type:
        events = events.filter(object_type=object_type)
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_label__icontains=actor)
    if date_from:
        events = events.filter(at__gte=datetime.combine(date_from, time.min, tzinfo=SHANGHAI))
    if date_to:
        events = events.filter(at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=SHANGHAI))
    return events.order_by("-at", "-id")


def audit_object_types() -> list[tuple[str, str]]:
    """(object_type, readable name) of the project's own models, for the filter.

    The list is the models, not a DISTINCT over the trail: that would scan a province's
    millions of events on every page view.
    """
    base = str(settings.BASE_DIR)
    types = [
        # Labelled by the model's and the app's verbose names: internal codes stay off the screen.
        (model._meta.label_lower, f"{model._meta.verbose_name} ({config.verbose_name})")
        for config in apps.get_app_configs()
        if config.path.startswith(base) and ".venv" not in config.path
        for model in config.get_models()
    ]
    return sorted(types, key=lambda row: str(row[1]))


@dataclass(frozen=True)
class Change:
    key: str
    before: object
    after: object


def audit_changes(event: AuditEvent) -> list[Change]:
    """Only the keys whose value differs between ``before`` and ``after`` (a create lists every
    key of ``after``, a delete every key of ``before``)."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    keys = sorted(set(before) | set(after))
    missing = object()
    changes = []
    for key in keys:
        old, new = before.get(key, missing), after.get(key, missing)
        if old == new:
            continue
        changes.append(Change(key, None if old is missing else old, None if new is missing else new))
    return changes


# --- home page ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class OversightSummary:
    """The authority's handful of numbers for a quarter: firms off each policy line."""

    quarter: Quarter
    firms: int
    fee_off: int  # GU-6: average fee rate not below 1%
    support_off: int  # GU-7: support share under 80%
    agreements_firms: int  # GU-2: firms with a non-compliant agreement
    agreements: int
    overdue_firms: int  # GU-4: firms with an overdue compensation
    overdue: int


def indicator_rows_for_user(*, user, quarter: Quarter, firms=None, today: date | None = None):
    """GU-6 … GU-9 rows of the guarantee firms ``user`` may see, for ``quarter``, with the
    parameters in force at the quarter's end: a closed quarter from its JB-5 snapshots, the open
    one live over its own business (guarantees.selectors_indicators.quarter_indicator_rows).
    Overdue compensations are counted as of the quarter's end, or today for the running quarter.
    ``firms`` narrows (a region filter)."""
    from guarantees.selectors import firms_for_user
    from guarantees.selectors_indicators import quarter_indicator_rows
    from guarantees.services import guarantee_params

    visible = firms_for_user(user=user)
    if firms is not None:
        visible = visible.filter(pk__in=firms.values("pk"))
    return quarter_indicator_rows(
        firms=visible, quarter=quarter, params=guarantee_params(quarter.end), today=today or shanghai_today(),
    )


def oversight_summary(*, user, quarter: Quarter | None = None, today: date | None = None) -> OversightSummary:
    quarter = quarter or Quarter.current()
    rows = indicator_rows_for_user(user=user, quarter=quarter, today=today)
    return OversightSummary(
        quarter=quarter,
        firms=len(rows),
        fee_off=sum(1 for r in rows if not r.fee_on_target),
        support_off=sum(1 for r in rows if not r.support_on_target),
        agreements_firms=sum(1 for r in rows if r.noncompliant_agreements),
        agreements=sum(r.noncompliant_agreements for r in rows),
        overdue_firms=sum(1 for r in rows if r.overdue_compensations),
        overdue=sum(r.overdue_compensations for r in rows),
    )


@dataclass
class PartySummary:
    """A firm's or a bank's own business: guarantees by status, overdue compensations."""

    by_status: list[tuple[str, str, int]] = field(default_factory=list)  # (code, label, count)
    total: int = 0
    active_amount: Decimal = Decimal("0.00")
    fee_flagged: int = 0  # GU-5 breaches stored on the firm's guarantees
    overdue_count: int = 0
    overdue: list = field(default_factory=list)  # the first few Compensation rows
    indicators: object = None  # FirmIndicators of the quarter (firms only)
    quarter: Quarter | None = None


OVERDUE_SHOWN = 10


def _party_summary(*, user, side: str, today: date) -> PartySummary:
    """``side`` is "firm" or "bank": the user's organisation in that role on the guarantee."""
    from guarantees.models import Guarantee
    from guarantees.selectors import guarantee_list, overdue_compensations

    org = user.organisation
    statuses = Guarantee.Status
    counts = guarantee_list(user=user).filter(**{side: org}).order_by().aggregate(
        total=Count("pk"),
        active_amount=Sum("amount", filter=Q(status=statuses.ACTIVE)),
        fee_flagged=Count("pk", filter=Q(fee_compliant=False)),
        **{f"s_{code}": Count("pk", filter=Q(status=code)) for code in statuses.values},
    )
    overdue = (
        overdue_compensations(user=user, today=today)
        .filter(**{f"guarantee__{side}": org})
        .annotate(amount_due=F("base") - F("part_bank"))  # GU-3: the firm pays all but the bank's share
    )
    return PartySummary(
        by_status=[(code, label, counts[f"s_{code}"]) for code, label in statuses.choices],
        total=counts["total"],
        active_amount=counts["active_amount"] or Decimal("0.00"),
        fee_flagged=counts["fee_flagged"],
        overdue_count=overdue.count(),
        overdue=list(overdue.order_by("due_on", "pk")[:OVERDUE_SHOWN]),
    )


def firm_summary(*, user, today: date | None = None) -> PartySummary:
    """A guarantee firm's own home page: its guarantees, this quarter's indicators, overdue
    compensations (GU-4)."""
    today = today or shanghai_today()
    summary = _party_summary(user=user, side="firm", today=today)
    summary.quarter = Quarter.of(today)
    rows = indicator_rows_for_user(
        user=user, quarter=summary.quarter, firms=Organisation.objects.filter(pk=user.organisation_id), today=today
    )
    summary.indicators = rows[0] if rows else None
    return summary


def bank_summary(*, user, today: date | None = None) -> PartySummary:
    """A bank's home page: the guarantees on its loans, compensations overdue to it (GU-4)."""
    return _party_summary(user=user, side="bank", today=today or shanghai_today())
