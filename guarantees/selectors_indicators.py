"""Set-based reads of the firm indicators GU-6 … GU-10, for the JB-5 quarterly snapshot and the
authority dashboard.

Every figure is summed in the database, GROUP BY firm (or bank), in a fixed number of queries
whatever the number of firms (JB-15); the ratios and targets are then the pure functions of
guarantees.rules applied per row, so the policy arithmetic lives in one place.

The callers scope: pass the firms the requesting user may see (core.scoping).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from core.calendar import shanghai_today
from core.models import Organisation
from core.periods import Quarter
from guarantees import rules
from guarantees.models import Agreement, Compensation, FirmIndicatorSnapshot, FirmNetAssets, Guarantee
from guarantees.rules import GuaranteeParams
from guarantees.selectors import firms_for_user
from guarantees.services import guarantee_params

ZERO = Decimal("0.00")
# amount (2 places) x fee rate (6 places): kept exact, the GU-6 function rounds the ratio.
WEIGHTED = DecimalField(max_digits=32, decimal_places=8)


@dataclass(frozen=True)
class FirmIndicators:
    """One guarantee firm's figures for a period (GU-6 … GU-9, GU-2, GU-4)."""

    firm_id: int
    firm_name: str
    balance: Decimal  # GU-8 融资担保责任余额 on period_end
    net_assets: Decimal | None  # latest report on or before period_end
    leverage: Decimal | None  # GU-8 放大倍数
    written_amount: Decimal  # guarantees starting in the period
    avg_fee_rate: Decimal | None  # GU-6
    support_share: Decimal | None  # GU-7 支小支农担保业务占比
    small_amount_share: Decimal | None  # GU-7 companion: 单户担保金额 <= threshold
    compensation_paid: Decimal  # GU-9 numerator
    released_amount: Decimal  # GU-9 denominator
    compensation_rate: Decimal | None  # GU-9 代偿率
    fee_on_target: bool
    support_on_target: bool
    small_share_on_target: bool
    noncompliant_agreements: int  # GU-2
    overdue_compensations: int  # GU-4
    bank_fee_violations: int = 0  # GU-5 on the lending banks: guarantees with a forbidden bank fee


@dataclass(frozen=True)
class BankPartnerRow:
    """GU-10: one partner bank of a firm, for the firm's periodic review of its banks."""

    bank_id: int
    bank_name: str
    recommended_count: int  # guarantees the bank recommended, written in the period
    recommended_amount: Decimal
    compensation_paid: Decimal  # on the recommended business, paid in the period
    released_amount: Decimal  # recommended business released in the period
    compensation_rate: Decimal | None  # GU-9 on the recommended business
    compensation_rate_all: Decimal | None  # GU-9 on all the firm's business with this bank
    overdue_compensations: int  # GU-4, all the firm's business with this bank


def _in(field: str, start: date, end: date) -> Q:
    return Q(**{f"{field}__gte": start, f"{field}__lte": end})


def _active_on(day: date) -> Q:
    """GU-8: a guarantee is in force on ``day`` from its start until the day its liability ends."""
    return Q(start__lte=day) & (Q(closed_on__isnull=True) | Q(closed_on__gt=day))


def _overdue_on(day: date, prefix: str = "") -> Q:
    """GU-4 (rules.is_compensation_overdue) in SQL: due before ``day`` and still unpaid on it. A
    compensation paid after ``day`` was unpaid then, so a past quarter end counts it."""
    return Q(**{f"{prefix}due_on__lt": day}) & (
        Q(**{f"{prefix}paid_on__isnull": True}) | Q(**{f"{prefix}paid_on__gt": day})
    )


def _relevant_guarantees(start: date, end: date) -> Q:
    """Guarantees that can count for the period: begun by its end and not ended before it began.
    Narrows the scan; the conditional sums below do the real selection."""
    return Q(start__lte=end) & (Q(closed_on__isnull=True) | Q(closed_on__gte=start))


def _of_guarantee(field: str) -> Subquery:
    """The compensation's guarantee's ``field``, looked up by primary key for each compensation.

    Why not the join (``guarantee__firm_id``): only a few thousand compensations count for a
    period, but with PostgreSQL's default costs the planner hash-joins them against a scan of
    the whole guarantee table (1,000,000 rows: ~100 ms, growing with the table). A correlated
    lookup is one index probe per compensation, whatever the size of the guarantee table.
    """
    return Subquery(Guarantee.objects.filter(pk=OuterRef("guarantee_id")).order_by().values(field))


def _sum(expression, condition: Q, output_field=None):
    return Sum(expression, filter=condition, output_field=output_field)


def _money(value) -> Decimal:
    return ZERO if value is None else value


def _heads(firm_ids, period_end: date):
    """(pk, name, latest net assets on or before ``period_end``, GU-2 non-compliant agreements,
    GU-5 bank-fee violations) per firm, by name. The two counts are of today's rows whatever the
    period, like the agreements themselves, until they are corrected."""
    latest_net_assets = (
        FirmNetAssets.objects.filter(firm=OuterRef("pk"), as_of__lte=period_end)
        .order_by("-as_of")
        .values("net_assets")[:1]
    )
    noncompliant = (
        Agreement.objects.filter(firm=OuterRef("pk"), compliant=False)
        .order_by()
        .values("firm")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # GU-5 (seed 000 (十一), 马政办 第七条): every stored bank-fee violation of the firm's business.
    bank_fee_violations = (
        Guarantee.objects.filter(firm=OuterRef("pk"), bank_fee_violation=True)
        .order_by()
        .values("firm")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(
        Organisation.objects.filter(pk__in=firm_ids)
        .annotate(
            latest_net_assets=Subquery(latest_net_assets),
            noncompliant=Coalesce(Subquery(noncompliant, output_field=IntegerField()), Value(0)),
            bank_fees=Coalesce(Subquery(bank_fee_violations, output_field=IntegerField()), Value(0)),
        )
        .order_by("name", "pk")
        .values_list("pk", "name", "latest_net_assets", "noncompliant", "bank_fees")
    )


def _written_sums(written: Q | None, params: GuaranteeParams) -> dict:
    """The GU-6/GU-7 sums of the business ``written`` (a condition on the guarantee; None: every
    row the query reads)."""
    def where(condition: Q | None) -> Q | None:
        return written if condition is None else condition if written is None else written & condition

    return {
        "written": _sum("amount", where(None)),
        "weighted": _sum(F("amount") * F("fee_rate"), where(None), WEIGHTED),
        "support": _sum("amount", where(Q(small_micro_or_agri=True))),
        "small": _sum("amount", where(Q(single_borrower_amount__lte=params.small_amount_threshold))),
    }


def _guarantee_sums_live(firm_ids, period_start: date, period_end: date, params: GuaranteeParams) -> dict:
    """Balance, written and released per firm, summed over every guarantee that can count."""
    return {
        row["firm_id"]: row
        for row in Guarantee.objects.filter(_relevant_guarantees(period_start, period_end), firm__in=firm_ids)
        .order_by()
        .values("firm_id")
        .annotate(
            balance=_sum("amount", _active_on(period_end)),
            released=_sum("amount", _in("closed_on", period_start, period_end)),
            **_written_sums(_in("start", period_start, period_end), params),
        )
    }


def _guarantee_sums_carried(firm_ids, balances: dict, period_start: date, period_end: date,
                            params: GuaranteeParams) -> dict:
    """The same figures for a quarter whose previous quarter has JB-5 snapshots (``balances``:
    firm -> balance at the previous quarter's end), reading only the quarter's own business: the
    guarantees that started in it and those whose liability ended in it (two index range scans,
    whatever the size of the table). GU-8's balance is carried forward:

        balance(end) = balance(previous end) + started in the quarter and still in force at its end
                       - started before the quarter and ended in it

    which is the live sum as long as no guarantee was entered back-dated into a closed quarter
    after its snapshot (re-running that quarter's JB-5 takes such a late entry in)."""
    started = {
        row["firm_id"]: row
        for row in Guarantee.objects.filter(_in("start", period_start, period_end), firm__in=firm_ids)
        .order_by()
        .values("firm_id")
        .annotate(still=_sum("amount", Q(closed_on__isnull=True) | Q(closed_on__gt=period_end)),
                  **_written_sums(None, params))
    }
    ended = {
        row["firm_id"]: row
        for row in Guarantee.objects.filter(_in("closed_on", period_start, period_end), firm__in=firm_ids)
        .order_by()
        .values("firm_id")
        .annotate(released=Sum("amount"), ended_old=_sum("amount", Q(start__lt=period_start)))
    }
    sums = {}
    for firm_id, previous in balances.items():
        s, e = started.get(firm_id, {}), ended.get(firm_id, {})
        sums[firm_id] = {
            **s,
            "balance": previous + _money(s.get("still")) - _money(e.get("ended_old")),
            "released": e.get("released"),
        }
    return sums


def _compensation_sums(firm_ids, period_start: date, period_end: date, as_of: date) -> dict:
    """Paid in the period and overdue on ``as_of`` per firm (``firm_ids``: a list). Grouped for
    every firm and narrowed here: a filter on the looked-up firm would make PostgreSQL look each
    compensation's guarantee up twice."""
    paid_in_period = _in("paid_on", period_start, period_end)
    wanted = set(firm_ids)
    return {
        row["of_firm"]: row
        for row in Compensation.objects.filter(paid_in_period | _overdue_on(as_of))
        .annotate(of_firm=_of_guarantee("firm_id"))
        .order_by()
        .values("of_firm")
        .annotate(
            paid=_sum("paid_amount", paid_in_period),
            overdue=Count("pk", filter=_overdue_on(as_of)),
        )
        if row["of_firm"] in wanted
    }


def _row(head, params: GuaranteeParams, g: dict, c: dict) -> FirmIndicators:
    """One firm's indicators from its sums: the ratios and targets through guarantees.rules."""
    firm_id, name, net_assets, noncompliant_count, bank_fee_count = head
    written_amount = _money(g.get("written"))
    balance = _money(g.get("balance"))
    paid = _money(c.get("paid"))
    released = _money(g.get("released"))
    fee_rate = rules.average_fee_rate(g.get("weighted") or 0, written_amount)
    support = rules.support_share(_money(g.get("support")), written_amount)
    small = rules.support_share(_money(g.get("small")), written_amount)
    return FirmIndicators(
        firm_id=firm_id,
        firm_name=name,
        balance=balance,
        net_assets=net_assets,
        leverage=None if net_assets is None else rules.leverage(balance, net_assets),
        written_amount=written_amount,
        avg_fee_rate=fee_rate,
        support_share=support,
        small_amount_share=small,
        compensation_paid=paid,
        released_amount=released,
        compensation_rate=rules.compensation_rate(paid, released),
        fee_on_target=rules.fee_rate_on_target(fee_rate, params),
        support_on_target=rules.support_share_on_target(support, params),
        small_share_on_target=rules.small_amount_share_on_target(small, params),
        noncompliant_agreements=noncompliant_count,
        overdue_compensations=c.get("overdue", 0),
        bank_fee_violations=bank_fee_count,
    )


def _snapshot_row(head, params: GuaranteeParams, snap: FirmIndicatorSnapshot) -> FirmIndicators:
    """A closed quarter's row as JB-5 recorded it; the targets are judged again by the rule set in
    force at the quarter's end (the same one JB-5 used), the GU-2/GU-5 counts are today's."""
    firm_id, name, _net_assets, noncompliant_count, bank_fee_count = head
    return FirmIndicators(
        firm_id=firm_id,
        firm_name=name,
        balance=snap.balance,
        net_assets=snap.net_assets,
        leverage=snap.leverage,
        written_amount=snap.written_amount,
        avg_fee_rate=snap.avg_fee_rate,
        support_share=snap.support_share,
        small_amount_share=snap.small_amount_share,
        compensation_paid=snap.compensation_paid,
        released_amount=snap.released_amount,
        compensation_rate=snap.compensation_rate,
        fee_on_target=rules.fee_rate_on_target(snap.avg_fee_rate, params),
        support_on_target=rules.support_share_on_target(snap.support_share, params),
        small_share_on_target=rules.small_amount_share_on_target(snap.small_amount_share, params),
        noncompliant_agreements=noncompliant_count,
        overdue_compensations=snap.overdue_compensations,
        bank_fee_violations=bank_fee_count,
    )


def firm_indicator_rows(
    *,
    firms: QuerySet[Organisation],
    period_start: date,
    period_end: date,
    params: GuaranteeParams,
    today: date | None = None,
) -> list[FirmIndicators]:
    """GU-6 … GU-9 per firm for [period_start, period_end], summed live, in three queries for any
    number of firms (JB-5 takes its snapshot with it). Overdue compensations are counted as of
    ``today`` (default: period_end)."""
    as_of = today or period_end
    heads = _heads(firms.values("pk"), period_end)
    g_sums = _guarantee_sums_live(firms.values("pk"), period_start, period_end, params)
    c_sums = _compensation_sums([h[0] for h in heads], period_start, period_end, as_of)
    return [_row(head, params, g_sums.get(head[0], {}), c_sums.get(head[0], {})) for head in heads]


def quarter_indicator_rows(
    *, firms: QuerySet[Organisation], quarter: Quarter, params: GuaranteeParams, today: date
) -> list[FirmIndicators]:
    """The dashboard's rows for ``quarter`` (issue 12: constant time at a million guarantees).

    - A closed quarter: the JB-5 snapshots (FirmIndicatorSnapshot), which are the quarter's
      official figures; a firm without one (JB-5 not run yet, or a snapshot written before
      overdue counts were kept) is summed live, as of the quarter's end.
    - The open quarter: live, but over the quarter's own business only, the balance carried
      from the previous quarter's snapshot (_guarantee_sums_carried); live over everything for
      a firm without that snapshot. Overdue compensations as of ``today``.
    """
    heads = _heads(firms.values("pk"), quarter.end)
    firm_ids = [h[0] for h in heads]
    if quarter.end < today:
        snapshots = {
            s.firm_id: s for s in FirmIndicatorSnapshot.objects.filter(
                period=str(quarter), firm_id__in=firm_ids, overdue_compensations__isnull=False)
        }
        rest = [pk for pk in firm_ids if pk not in snapshots]
        live = _live_rows(rest, heads, quarter, params, quarter.end)
        return [_snapshot_row(h, params, snapshots[h[0]]) if h[0] in snapshots else live[h[0]] for h in heads]
    previous = Quarter.of(quarter.start - timedelta(days=1))
    balances = dict(
        FirmIndicatorSnapshot.objects.filter(period=str(previous), firm_id__in=firm_ids).values_list("firm_id", "balance")
    )
    rest = [pk for pk in firm_ids if pk not in balances]
    live = _live_rows(rest, heads, quarter, params, today)
    g_sums = _guarantee_sums_carried(list(balances), balances, quarter.start, quarter.end, params)
    c_sums = _compensation_sums(list(balances), quarter.start, quarter.end, today)
    return [
        _row(h, params, g_sums[h[0]], c_sums.get(h[0], {})) if h[0] in balances else live[h[0]] for h in heads
    ]


def _live_rows(firm_ids: list[int], heads, quarter: Quarter, params: GuaranteeParams, as_of: date) -> dict:
    """Live rows of the firms ``firm_ids`` (no queries when there are none)."""
    if not firm_ids:
        return {}
    g_sums = _guarantee_sums_live(firm_ids, quarter.start, quarter.end, params)
    c_sums = _compensation_sums(firm_ids, quarter.start, quarter.end, as_of)
    return {h[0]: _row(h, params, g_sums.get(h[0], {}), c_sums.get(h[0], {})) for h in heads if h[0] in firm_ids}


def bank_partner_rows(
    *, firm: Organisation, period_start: date, period_end: date, today: date | None = None
) -> list[BankPartnerRow]:
    """GU-10 (seed 000 (十三)): per partner bank of ``firm`` (a bank it has an agreement or a
    guarantee with), in three queries.

    Interpretation: "that business" is the business the bank recommended, so count, amount and
    compensation rate are of the guarantees with ``recommended_by_bank``; the GU-9 rate over all
    the firm's business with the bank, and the overdue compensations owed to the bank (as of
    ``today``, default period_end), are shown beside it.
    """
    as_of = today or period_end
    partner = Q(pk__in=Agreement.objects.filter(firm=firm).values("bank_id")) | Q(
        pk__in=Guarantee.objects.filter(firm=firm).values("bank_id")
    )
    banks = list(Organisation.objects.filter(partner).order_by("name", "pk").values_list("pk", "name"))

    recommended = Q(recommended_by_bank=True)
    released = _in("closed_on", period_start, period_end)
    guarantee_sums = {
        row["bank_id"]: row
        for row in Guarantee.objects.filter(_relevant_guarantees(period_start, period_end), firm=firm)
        .order_by()
        .values("bank_id")
        .annotate(
            recommended_count=Count("pk", filter=recommended & _in("start", period_start, period_end)),
            recommended_amount=_sum("amount", recommended & _in("start", period_start, period_end)),
            released=_sum("amount", recommended & released),
            released_all=_sum("amount", released),
        )
    }
    paid_in_period = _in("paid_on", period_start, period_end)
    compensation_sums = {
        row["of_bank"]: row
        for row in Compensation.objects.filter(paid_in_period | _overdue_on(as_of))
        .annotate(
            of_firm=_of_guarantee("firm_id"),
            of_bank=_of_guarantee("bank_id"),
            of_recommended=_of_guarantee("recommended_by_bank"),
        )
        .filter(of_firm=firm.pk)
        .order_by()
        .values("of_bank")
        .annotate(
            paid=_sum("paid_amount", paid_in_period & Q(of_recommended=True)),
            paid_all=_sum("paid_amount", paid_in_period),
            overdue=Count("pk", filter=_overdue_on(as_of)),
        )
    }

    rows = []
    for bank_id, name in banks:
        g = guarantee_sums.get(bank_id, {})
        c = compensation_sums.get(bank_id, {})
        paid, released_amount = _money(c.get("paid")), _money(g.get("released"))
        rows.append(
            BankPartnerRow(
                bank_id=bank_id,
                bank_name=name,
                recommended_count=g.get("recommended_count", 0),
                recommended_amount=_money(g.get("recommended_amount")),
                compensation_paid=paid,
                released_amount=released_amount,
                compensation_rate=rules.compensation_rate(paid, released_amount),
                compensation_rate_all=rules.compensation_rate(_money(c.get("paid_all")), _money(g.get("released_all"))),
                overdue_compensations=c.get("overdue", 0),
            )
        )
    return rows


def indicator_rows_for_user(*, user, quarter: Quarter, firms=None, today: date | None = None):
    """GU-6 … GU-9 rows of the guarantee firms ``user`` may see, for ``quarter``, with the
    parameters in force at the quarter's end: a closed quarter from its JB-5 snapshots, the open
    one live over its own business (quarter_indicator_rows). Overdue compensations are counted
    as of the quarter's end, or today for the running quarter. ``firms`` narrows (a region filter)."""
    visible = firms_for_user(user=user)
    if firms is not None:
        visible = visible.filter(pk__in=firms.values("pk"))
    return quarter_indicator_rows(
        firms=visible, quarter=quarter, params=guarantee_params(quarter.end), today=today or shanghai_today(),
    )
