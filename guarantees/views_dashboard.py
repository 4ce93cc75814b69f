"""The authority's dashboard of guarantee-firm indicators (GU-2, GU-4, GU-6 … GU-10).

Thin pages: parse the filters, ask the scoped selectors (guarantees.selectors_indicators, given
the firms the user may see), sort and render. The same
rows feed the page and the xlsx export, so the export is exactly the table on screen.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.calendar import shanghai_today
from core.exports import COUNT_FORMAT, MONEY_FORMAT, MULTIPLE_FORMAT, RATIO_FORMAT, Workbook
from core.models import Organisation, Region
from core.periods import Quarter
from core.permissions import is_oversight_user
from core.scoping import jurisdiction_region_path, sees_everything
from guarantees import selectors
from guarantees.selectors_indicators import FirmIndicators, bank_partner_rows, indicator_rows_for_user
from guarantees.services import guarantee_params

WAN = Decimal("10000")
FIRST_YEAR = 2019  # the first rule set (国办发〔2019〕6号)


def require_oversight(user) -> None:
    """The dashboard is for the authority and supervisors (same people as the audit trail)."""
    if not is_oversight_user(user):
        raise PermissionDenied(_("The firm indicators are for the authority and supervisors."))


# --- filters -----------------------------------------------------------------------------------

OFF_CHOICES = [
    ("", gettext_lazy("All firms")),
    ("any", gettext_lazy("Only firms off a policy line")),
    ("fee", gettext_lazy("Average fee rate not below 1% (GU-6)")),
    ("support", gettext_lazy("Support share under 80% (GU-7)")),
    ("agreements", gettext_lazy("With non-compliant agreements (GU-2)")),
    ("overdue", gettext_lazy("With overdue compensations (GU-4)")),
    ("bank_fees", gettext_lazy("With bank fees charged (GU-5)")),
]

OFF_TESTS = {
    "fee": lambda r: not r.fee_on_target,
    "support": lambda r: not r.support_on_target,
    "agreements": lambda r: r.noncompliant_agreements > 0,
    "overdue": lambda r: r.overdue_compensations > 0,
    "bank_fees": lambda r: r.bank_fee_violations > 0,
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    attr: str  # attribute of FirmIndicators, or of the row for "name"/"region"
    kind: str  # text, wan, ratio, multiple, count
    rule: str = ""


COLUMNS = [
    Column("name", gettext_lazy("Guarantee firm"), "firm_name", "text"),
    Column("region", gettext_lazy("Region"), "region_name", "text"),
    Column("balance", gettext_lazy("Balance (10k yuan)"), "balance", "wan", "GU-8"),
    Column("leverage", gettext_lazy("Leverage"), "leverage", "multiple", "GU-8"),
    Column("written", gettext_lazy("Written (10k yuan)"), "written_amount", "wan", "GU-6"),
    Column("fee", gettext_lazy("Average fee rate"), "avg_fee_rate", "ratio", "GU-6"),
    Column("support", gettext_lazy("Support share"), "support_share", "ratio", "GU-7"),
    Column("small", gettext_lazy("Share ≤5m"), "small_amount_share", "ratio", "GU-7"),
    Column("comp", gettext_lazy("Compensation rate"), "compensation_rate", "ratio", "GU-9"),
    Column("agreements", gettext_lazy("Non-compliant agreements"), "noncompliant_agreements", "count", "GU-2"),
    Column("overdue", gettext_lazy("Overdue compensations"), "overdue_compensations", "count", "GU-4"),
    Column("bank_fees", gettext_lazy("Bank fees charged"), "bank_fee_violations", "count", "GU-5"),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
SORT_CHOICES = [(c.key, c.label) for c in COLUMNS] + [(f"-{c.key}", c.label) for c in COLUMNS]


def _region_choices(user) -> list[tuple[str, str]]:
    """The cities and counties in the user's jurisdiction, counties indented under their city."""
    regions = Region.objects.filter(level__in=(Region.Level.CITY, Region.Level.COUNTY))
    if not sees_everything(user):
        path = jurisdiction_region_path(user)
        regions = regions.filter(path__startswith=path) if path else regions.none()
    return [
        (r.code, f"— {r.name}" if r.level == Region.Level.COUNTY else r.name)
        for r in regions.order_by("path")
    ]


class DashboardFilterForm(forms.Form):
    year = forms.TypedChoiceField(label=gettext_lazy("Year"), coerce=int)
    quarter = forms.TypedChoiceField(
        label=gettext_lazy("Quarter"), coerce=int, choices=[(q, f"Q{q}") for q in (1, 2, 3, 4)]
    )
    region = forms.ChoiceField(label=gettext_lazy("Region"), required=False)
    off = forms.ChoiceField(label=gettext_lazy("Show"), required=False, choices=OFF_CHOICES)
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, widget=forms.HiddenInput)

    def __init__(self, data, *, user, current: Quarter):
        self.current = current
        merged = {"year": current.year, "quarter": current.quarter}
        merged.update({k: v for k, v in data.items() if v != ""})
        super().__init__(merged)
        self.fields["year"].choices = [(y, str(y)) for y in range(current.year + 1, FIRST_YEAR - 1, -1)]
        self.fields["region"].choices = [("", _("All of my jurisdiction"))] + _region_choices(user)

    def values(self) -> dict:
        """The valid filters; a bad value falls back to its default rather than failing the page."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "quarter": Quarter(data.get("year") or self.current.year, data.get("quarter") or self.current.quarter),
            "region": data.get("region") or "",
            "off": data.get("off") or "",
            "sort": data.get("sort") or "name",
        }


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardRow:
    ind: FirmIndicators
    region_name: str
    off_lines: tuple[str, ...]

    @property
    def firm_name(self) -> str:
        return self.ind.firm_name

    @property
    def balance_wan(self) -> Decimal:
        return self.ind.balance / WAN

    @property
    def written_wan(self) -> Decimal:
        return self.ind.written_amount / WAN

    def value(self, column: Column):
        if column.attr == "region_name":
            return self.region_name
        return getattr(self.ind, column.attr)

    def cell(self, column: Column):
        """The value as the table shows it: money in 万元 (exact), ratios as fractions."""
        value = self.value(column)
        if column.kind == "wan" and value is not None:
            return value / WAN
        return value


def _sorted(rows: list[DashboardRow], sort: str) -> list[DashboardRow]:
    """Sort by one column, ties by firm name; empty figures (no business) always last."""
    descending = sort.startswith("-")
    column = COLUMN_BY_KEY[sort.lstrip("-")]
    rows = sorted(rows, key=lambda r: (r.firm_name, r.ind.firm_id))
    present = [r for r in rows if r.value(column) is not None]
    missing = [r for r in rows if r.value(column) is None]
    present.sort(key=lambda r: r.value(column), reverse=descending)
    return present + missing


def dashboard_table(user, filters: dict) -> list[DashboardRow]:
    """The filtered, sorted rows for ``filters`` (see DashboardFilterForm.values)."""
    firms = None
    if filters["region"]:
        region = Region.objects.get(code=filters["region"])  # a valid choice: inside the jurisdiction
        firms = Organisation.objects.filter(region__path__startswith=region.path)
    indicators = indicator_rows_for_user(user=user, quarter=filters["quarter"], firms=firms)
    names = dict(
        Organisation.objects.filter(pk__in=[i.firm_id for i in indicators]).values_list("pk", "region__name")
    )
    rows = []
    for ind in indicators:
        off = tuple(line for line, test in OFF_TESTS.items() if test(ind))
        rows.append(DashboardRow(ind=ind, region_name=names.get(ind.firm_id, ""), off_lines=off))
    wanted = filters["off"]
    if wanted == "any":
        rows = [r for r in rows if r.off_lines]
    elif wanted:
        rows = [r for r in rows if wanted in r.off_lines]
    return _sorted(rows, filters["sort"])


def _headers(filters: dict, query) -> list[dict]:
    """Column headers with the link that sorts by them (ascending first, then descending)."""
    current = filters["sort"]
    headers = []
    for column in COLUMNS:
        if current == column.key:
            next_sort, state = f"-{column.key}", "ascending"
        elif current == f"-{column.key}":
            next_sort, state = column.key, "descending"
        else:
            next_sort, state = column.key, ""
        params = query.copy()
        params["sort"] = next_sort
        headers.append({"column": column, "url": f"?{params.urlencode()}", "state": state,
                        "num": column.kind != "text"})
    return headers


def _filters_from(request) -> tuple[DashboardFilterForm, dict]:
    form = DashboardFilterForm(request.GET, user=request.user, current=Quarter.current())
    return form, form.values()


@login_required
def dashboard(request):
    require_oversight(request.user)
    form, filters = _filters_from(request)
    rows = dashboard_table(request.user, filters)
    query = request.GET.copy()
    query.pop("sort", None)
    export_query = request.GET.copy()
    quarter = filters["quarter"]
    return render(request, "guarantees/indicator_dashboard.html", {
        "form": form,
        "filters": filters,
        "quarter": quarter,
        "rows": rows,
        "params": guarantee_params(quarter.end),  # the GU-6 / GU-7 targets the rows were judged by
        "headers": _headers(filters, request.GET.copy()),
        "export_query": export_query.urlencode(),
        "period_query": f"year={quarter.year}&quarter={quarter.quarter}",
        "any_firms": bool(rows) or selectors.firms_for_user(user=request.user).exists(),
    })


def _export_value(row: DashboardRow, column: Column):
    value = row.cell(column)
    return "" if value is None else value


NUMBER_FORMATS = {"wan": MONEY_FORMAT, "ratio": RATIO_FORMAT, "multiple": MULTIPLE_FORMAT, "count": COUNT_FORMAT}


@login_required
def dashboard_export(request):
    """The filtered table as xlsx: a title row with the period and filters, a header row, the rows."""
    require_oversight(request.user)
    form, filters = _filters_from(request)
    rows = dashboard_table(request.user, filters)
    quarter = filters["quarter"]

    book = Workbook()
    sheet = book.sheet(str(quarter))
    sheet.append([_("Guarantee firm indicators, %(period)s (%(start)s to %(end)s)") % {
        "period": quarter, "start": quarter.start.isoformat(), "end": quarter.end.isoformat()}], bold=True, size=13)
    region_label = dict(form.fields["region"].choices).get(filters["region"], "") if filters["region"] else _("All")
    sheet.append([_("Region: %(region)s; shown: %(off)s") % {
        "region": str(region_label).lstrip("— "), "off": dict(OFF_CHOICES)[filters["off"]]}])
    sheet.append([])
    sheet.append([f"{c.label} ({c.rule})" if c.rule else str(c.label) for c in COLUMNS], bold=True)
    formats = [NUMBER_FORMATS.get(c.kind) for c in COLUMNS]
    for row in rows:
        sheet.append([_export_value(row, c) for c in COLUMNS], formats=formats)
    sheet.freeze("A5")
    sheet.widths((34, 14, 16, 10, 16, 12, 12, 12, 12, 12, 12, 12))
    return book.response(f"firm-indicators-{quarter}.xlsx")


# --- one firm ----------------------------------------------------------------------------------


@login_required
def firm_detail(request, firm_id: int):
    """One firm's figures for the period, its partner banks (GU-10), its non-compliant
    agreements (GU-2) and overdue compensations (GU-4). A firm outside the jurisdiction is 404."""
    user = request.user
    require_oversight(user)
    firm = get_object_or_404(selectors.firms_for_user(user=user).select_related("region"), pk=firm_id)
    form, filters = _filters_from(request)
    quarter = filters["quarter"]
    today = shanghai_today()
    as_of = min(quarter.end, today)
    rows = indicator_rows_for_user(user=user, quarter=quarter, firms=Organisation.objects.filter(pk=firm.pk),
                                   today=today)
    banks = bank_partner_rows(firm=firm, period_start=quarter.start, period_end=quarter.end, today=as_of)
    agreements = list(
        selectors.agreement_list(user=user).filter(firm=firm, compliant=False).order_by("bank__name", "code")
    )
    overdue = list(
        selectors.overdue_compensations(user=user, today=today)
        .filter(guarantee__firm=firm)
        .annotate(amount_due=F("base") - F("part_bank"))
        .order_by("due_on", "pk")
    )
    bank_fee_guarantees = list(
        selectors.guarantee_list(user=user).filter(firm=firm, bank_fee_violation=True)
        .select_related("borrower", "bank").order_by("-start", "-pk")
    )
    return render(request, "guarantees/indicator_firm.html", {
        "bank_fee_guarantees": bank_fee_guarantees,
        "firm": firm,
        "form": form,
        "quarter": quarter,
        "params": guarantee_params(quarter.end),  # the GU-6 / GU-7 targets the figures were judged by
        "ind": rows[0] if rows else None,
        "banks": banks,
        "agreements": agreements,
        "overdue": overdue,
        "today": today,
        "back_query": f"year={quarter.year}&quarter={quarter.quarter}",
    })
