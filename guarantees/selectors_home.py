"""The figures of the guarantees panels on the home page (guarantees.home): the oversight's firms
off each policy line, and a firm's or a bank's own business. Scoped like every selector, in a
fixed number of queries whatever the amount of data."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Q, Sum

from core.calendar import shanghai_today
from core.models import Organisation
from core.periods import Quarter
from guarantees.models import Guarantee
from guarantees.selectors import guarantee_list, overdue_compensations
from guarantees.selectors_indicators import indicator_rows_for_user


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
