"""JB-1: the working-day calendar page (``/calendar/``). The years around today with their source
(the package, the authority's entered notice, or provisional), the statutory holidays of the
办法 and the days still uncertain, and the form on which the authority enters a year's State
Council holiday notice: its days off and make-up working days typed as dates, or an xlsx.
Authority administrators only."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import calendar as core_calendar
from core.calendar import shanghai_today
from core.errors import RuleViolation
from core.holidays import festivals, possible_days_off
from core.models import CalendarYear, Organisation, Role
from core.services import calendar_year_confirm
from core.views_helpers import add_rule_violation

MAX_XLSX_BYTES = 1_000_000
_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
_TOKEN = re.compile(rf"^({_DATE})(?:(?:~|～|\.\.|/|至)({_DATE}))?$")
_SPLIT = re.compile(r"[\s,，、;；]+")
OFF_WORDS = {"holiday", "off", "休", "放假", "假"}
ON_WORDS = {"working", "work", "班", "上班", "调休"}


def _require_authority_admin(user) -> None:
    if user.is_superuser:
        return
    if not user.has_role(Role.Code.AUTHORITY_ADMIN) or user.organisation is None or (
        user.organisation.kind != Organisation.Kind.AUTHORITY
    ):
        raise PermissionDenied


def parse_dates(text: str) -> list[date]:
    """Dates typed as ``2027-02-05``, or a range ``2027-02-05~2027-02-13`` (also ``..``, ``/``,
    ``至``), separated by spaces, commas or new lines. Raises ValueError naming the bad piece."""
    found: list[date] = []
    for token in filter(None, _SPLIT.split(text.strip())):
        match = _TOKEN.match(token)
        if not match:
            raise ValueError(token)
        try:
            first = date.fromisoformat(_pad(match.group(1)))
            last = date.fromisoformat(_pad(match.group(2))) if match.group(2) else first
        except ValueError as exc:
            raise ValueError(token) from exc
        if last < first or (last - first).days > 31:
            raise ValueError(token)
        found += [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return found


def _pad(text: str) -> str:
    year, month, day = text.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


def parse_xlsx(content: bytes) -> tuple[list[date], list[date]]:
    """The notice as a sheet: column A a date, column B ``休``/``放假``/``holiday`` for a day off
    or ``班``/``上班``/``working`` for a make-up working day; a header row is allowed. Raises
    ValueError with a message naming the row."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a damaged or foreign zip
        raise ValueError(_("The file could not be read as an xlsx workbook.")) from exc
    off: list[date] = []
    on: list[date] = []
    try:
        for number, row in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
            cells = list(row[:2]) + [None] * (2 - len(row[:2]))
            if all(c is None or str(c).strip() == "" for c in cells):
                continue
            day = _cell_date(cells[0])
            kind = str(cells[1] or "").strip().lower()
            if day is None and number == 1:
                continue  # the header
            if day is None or kind not in OFF_WORDS | ON_WORDS:
                raise ValueError(_("Row %(row)s: give a date in column A and 休 (day off) or 班 (working day) in "
                                   "column B.") % {"row": number})
            (off if kind in OFF_WORDS else on).append(day)
    finally:
        workbook.close()
    return off, on


def _cell_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_pad(str(value).strip()))
    except (ValueError, TypeError):
        return None


class NoticeForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    note = forms.CharField(label=gettext_lazy("Notice (number and title)"), max_length=200, required=False)
    holidays = forms.CharField(
        label=gettext_lazy("Days off"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Every day off of the notice, weekends inside a holiday included: dates such as "
                               "2027-02-05, or ranges such as 2027-02-05~2027-02-13."))
    working_days = forms.CharField(
        label=gettext_lazy("Make-up working days (调休)"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("The Saturdays and Sundays the notice makes working days."))
    file = forms.FileField(
        label=gettext_lazy("Or an xlsx file"), required=False,
        help_text=gettext_lazy("Column A the date, column B 休 (day off) or 班 (working day)."))

    def clean(self):
        data = super().clean()
        off, on = [], []
        for name, target in (("holidays", off), ("working_days", on)):
            try:
                target += parse_dates(data.get(name) or "")
            except ValueError as exc:
                self.add_error(name, _("“%(piece)s” is not a date (YYYY-MM-DD) or a range of dates (JB-1).")
                               % {"piece": exc})
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_XLSX_BYTES:
                self.add_error("file", _("The file is larger than 1 MB."))
            else:
                try:
                    file_off, file_on = parse_xlsx(upload.read())
                except ValueError as exc:
                    self.add_error("file", str(exc))
                else:
                    off += file_off
                    on += file_on
        if not self.errors and not off:
            self.add_error("holidays", _("Give the notice's days off, typed or in the file (JB-1)."))
        data["off"], data["on"] = off, on
        return data


def _year_rows(today: date) -> list[dict]:
    entered = {y.year: y for y in CalendarYear.objects.filter(holidays_entered=True)}
    rows = []
    for year in range(today.year - 1, today.year + 3):
        if core_calendar.package_knows(year):
            source = _("known (chinese-calendar package)")
        elif year in entered:
            source = _("confirmed: the authority entered the notice")
        else:
            source = _("provisional: statutory holidays only")
        rows.append({"year": year, "source": source, "provisional": not core_calendar.is_confirmed_year(year),
                     "note": entered[year].note if year in entered else ""})
    return rows


def _guide(year: int) -> dict:
    """What the 办法 fixes for ``year`` and which weekdays its notice may still make days off."""
    return {
        "year": year,
        "festivals": [{"name": f.name, "first": f.first, "last": f.last} for f in festivals(year)],
        "possible": sorted(possible_days_off(year)),
    }


@login_required
def calendar_page(request):
    _require_authority_admin(request.user)
    today = shanghai_today()
    status = 200
    if request.method == "POST":
        form = NoticeForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                calendar_year_confirm(user=request.user, year=data["year"], holidays=data["off"],
                                      working_days=data["on"], note=data["note"])
            except RuleViolation as exc:
                add_rule_violation(form, exc, field_map={"year": "year"})
                status = 400
            else:
                messages.success(request, _("The holiday notice of %(year)s is entered; deadlines in it are no longer "
                                            "provisional.") % {"year": data["year"]})
                return redirect("calendar")
        else:
            status = 400
        guide_year = form.data.get("year") or today.year + 1
    else:
        guide_year = request.GET.get("year") or today.year + 1
        form = NoticeForm(initial={"year": guide_year})
    try:
        guide = _guide(int(guide_year))
    except (TypeError, ValueError):
        guide = _guide(today.year + 1)
    return render(request, "core/calendar.html", {"years": _year_rows(today), "form": form, "guide": guide},
                  status=status)
