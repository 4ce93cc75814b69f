"""Typed forms for rule-set parameters (issue 13 point 7): one field per parameter with its unit,
rows for tier tables, checkboxes for code sets; never raw JSON.

The form turns what was typed into the stored JSON shape and hands the whole set to the family's
own parser (``Family.validate``), whose RuleViolation lands beside the parameter it names.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import ruleset_families as rf
from core.errors import RuleViolation
from core.views_helpers import problem_message

EXTRA_ROWS = 2  # blank rows offered below a table's rows, to add tiers or sub-funds
HUNDRED = Decimal("100")
SIX_PLACES = Decimal("0.000001")


def _date_input() -> forms.DateInput:
    """A browser date picker: it takes only ISO dates, whatever the language's own date format."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _fraction_text(percent: Decimal) -> str:
    return str((percent / HUNDRED).quantize(SIX_PLACES))


def _percent_initial(value: Any) -> Decimal | None:
    try:
        return (Decimal(str(value)) * HUNDRED).normalize()
    except Exception:  # noqa: BLE001 — a stored value the rules would refuse is shown empty, to be retyped
        return None


def _row_field_names(spec: rf.ParamSpec, index: int) -> list[str]:
    if spec.kind == rf.TIERS:
        return [f"{spec.name}-{index}-ceiling", f"{spec.name}-{index}-ratio"]
    return [f"{spec.name}-{index}-code", f"{spec.name}-{index}-size", f"{spec.name}-{index}-products"]


class ParamsForm(forms.Form):
    """The parameters of one family. ``params`` is the stored mapping it starts from; keys the
    family does not describe are carried through unchanged."""

    def __init__(self, *args, family: rf.Family, params: dict | None = None, **kwargs):
        self.family = family
        self.base_params = dict(params or {})
        super().__init__(*args, **kwargs)
        self.rows: dict[str, int] = {}
        shown = rf.normalised(family, self.base_params)  # a missing key shows the rules' default
        for spec in family.specs:
            self._add(spec, shown.get(spec.name))

    # --- building ------------------------------------------------------------------------

    def _add(self, spec: rf.ParamSpec, value: Any) -> None:
        label = f"{spec.label} ({spec.rule})" if spec.rule else spec.label
        common = {"label": label, "required": True, "help_text": spec.help}
        if spec.kind == rf.MONEY:
            self.fields[spec.name] = forms.DecimalField(min_value=0, max_digits=18, decimal_places=2, **common)
            self.initial[spec.name] = value
        elif spec.kind == rf.RATIO:
            self.fields[spec.name] = forms.DecimalField(min_value=0, max_value=100, decimal_places=4, **common)
            self.initial[spec.name] = _percent_initial(value)
        elif spec.kind == rf.INT:
            self.fields[spec.name] = forms.IntegerField(min_value=0, **common)
            self.initial[spec.name] = value
        elif spec.kind == rf.NUMBER:
            self.fields[spec.name] = forms.DecimalField(min_value=0, max_digits=12, decimal_places=6, **common)
            self.initial[spec.name] = value
        elif spec.kind == rf.TEXT:
            self.fields[spec.name] = forms.CharField(max_length=50, **common)
            self.initial[spec.name] = value
        elif spec.kind == rf.CODES:
            choices = [(code, label) for code, label in spec.choices.items()]
            choices += [(code, code) for code in (value or ()) if code not in spec.choices]
            common["required"] = False
            self.fields[spec.name] = forms.MultipleChoiceField(
                choices=choices, widget=forms.CheckboxSelectMultiple, **common
            )
            self.initial[spec.name] = list(value or ())
        else:
            self._add_rows(spec, list(value or ()))
        if spec.name in self.fields:
            self.fields[spec.name].unit = spec.shown_unit

    def _add_rows(self, spec: rf.ParamSpec, rows: list) -> None:
        # A bound form keeps the number of rows it was shown with (the hidden count).
        count = len(rows) + EXTRA_ROWS
        if self.is_bound:
            try:
                count = min(max(int(self.data.get(f"{spec.name}-rows", count)), 1), 50)
            except (TypeError, ValueError):
                pass
        self.rows[spec.name] = count
        self.fields[f"{spec.name}-rows"] = forms.IntegerField(widget=forms.HiddenInput, required=False)
        self.initial[f"{spec.name}-rows"] = count
        for i in range(count):
            names = _row_field_names(spec, i)
            row = rows[i] if i < len(rows) else None
            if spec.kind == rf.TIERS:
                self.fields[names[0]] = forms.DecimalField(
                    label=_("Ceiling (yuan)"), required=False, min_value=0, max_digits=18, decimal_places=2)
                self.fields[names[1]] = forms.DecimalField(
                    label=_("Ratio (%)"), required=False, min_value=0, max_value=100, decimal_places=4)
                if row:
                    self.initial[names[0]] = row[0]
                    self.initial[names[1]] = _percent_initial(row[1])
            else:
                self.fields[names[0]] = forms.CharField(label=_("Sub-fund code"), required=False, max_length=50)
                self.fields[names[1]] = forms.DecimalField(
                    label=_("Size (yuan)"), required=False, min_value=0, max_digits=18, decimal_places=2)
                self.fields[names[2]] = forms.CharField(
                    label=_("Products (comma-separated codes)"), required=False, max_length=200)
                if row:
                    self.initial[names[0]] = row.get("code")
                    self.initial[names[1]] = row.get("size")
                    self.initial[names[2]] = ", ".join(row.get("products") or ())

    # --- what the template walks -----------------------------------------------------------

    def groups(self) -> list[dict]:
        """The parameters in the family's order, grouped under their headings, each with its
        bound field (or its table rows) and unit."""
        groups: list[dict] = []
        for spec in self.family.specs:
            if not groups or groups[-1]["title"] != spec.group:
                groups.append({"title": spec.group, "params": []})
            item = {"spec": spec, "unit": spec.shown_unit}
            if spec.kind in (rf.TIERS, rf.SUB_FUNDS):
                item["count"] = self[f"{spec.name}-rows"]
                item["rows"] = [[self[n] for n in _row_field_names(spec, i)] for i in range(self.rows[spec.name])]
                item["errors"] = self.errors.get(spec.name)
            else:
                item["field"] = self[spec.name]
            groups[-1]["params"].append(item)
        return groups

    # --- cleaning ----------------------------------------------------------------------------

    def _rows_value(self, spec: rf.ParamSpec, data: dict) -> list:
        out = []
        for i in range(self.rows[spec.name]):
            values = [data.get(n) for n in _row_field_names(spec, i)]
            if all(v in (None, "") for v in values):
                continue
            if any(v in (None, "") for v in values):
                self.add_error(None, _("%(label)s: row %(row)d is incomplete.") % {"label": spec.label, "row": i + 1})
                continue
            if spec.kind == rf.TIERS:
                out.append([str(values[0]), _fraction_text(values[1])])
            else:
                products = [p.strip() for p in values[2].split(",") if p.strip()]
                out.append({"code": values[0].strip(), "size": str(values[1]), "products": products})
        return out

    def clean(self):
        data = super().clean()
        params = dict(self.base_params)
        for spec in self.family.specs:
            if spec.kind in (rf.TIERS, rf.SUB_FUNDS):
                params[spec.name] = self._rows_value(spec, data)
                continue
            if spec.name not in data:
                continue  # the field's own error is shown
            value = data[spec.name]
            if spec.kind == rf.MONEY:
                params[spec.name] = str(value)
            elif spec.kind == rf.RATIO:
                params[spec.name] = _fraction_text(value)
            elif spec.kind == rf.NUMBER:
                params[spec.name] = str(value.normalize())
            elif spec.kind == rf.CODES:
                # Kept in the family's order, so saving without a change stores the same list.
                order = list(spec.choices) + [c for c in value if c not in spec.choices]
                params[spec.name] = [code for code in order if code in value]
            else:
                params[spec.name] = value
        # Issue 13.3: the family's rules run even when a field failed (that parameter keeps its
        # stored value meanwhile), so one submission lists the fields' and the rules' problems.
        had_errors = bool(self.errors)
        try:
            validated = self.family.validate(params)
        except RuleViolation as exc:
            for problem in exc.problems:
                spec = self.family.spec(problem.field or "")
                target = problem.field if spec and problem.field in self.fields else None
                if target is not None and self.has_error(target):
                    continue  # its own error already says what is wrong with the value typed
                message = problem_message(problem)
                if spec and target is None:
                    message = f"{spec.label}: {message}"
                self.add_error(target, message)
        else:
            if not had_errors:
                self.params = validated
        return data


class VersionForm(forms.Form):
    """The name, dates and note of a rule set or a draft, shown above its parameters."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    effective_from = forms.DateField(label=gettext_lazy("Effective from"),
                                     widget=_date_input())
    effective_to = forms.DateField(label=gettext_lazy("Effective to"), required=False,
                                   help_text=gettext_lazy("Empty: open-ended."),
                                   widget=_date_input())
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        start, end = data.get("effective_from"), data.get("effective_to")
        if start and end and end < start:
            self.add_error("effective_to", _("The end date is before the start date."))
        return data


class ScenarioForm(forms.Form):
    """What part of the history a simulation replays (issue 15)."""

    date_from = forms.DateField(label=gettext_lazy("History from"), required=False,
                                widget=_date_input())
    date_to = forms.DateField(label=gettext_lazy("History to"), required=False,
                              widget=_date_input())
    npl_factor = forms.DecimalField(label=gettext_lazy("Stress: NPL rates × k"), required=False, min_value=0,
                                    max_value=100, decimal_places=2, initial=1)
    recovery_factor = forms.DecimalField(label=gettext_lazy("Stress: recoveries × m"), required=False, min_value=0,
                                         max_value=100, decimal_places=2, initial=1)
    floor = forms.DecimalField(label=gettext_lazy("Balance floor (yuan)"), required=False, min_value=0,
                               max_digits=18, decimal_places=2, initial=0)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def scenario(self) -> dict:
        return {k: v.isoformat() if hasattr(v, "isoformat") else str(v)
                for k, v in self.cleaned_data.items() if v is not None and v != ""}


class AdoptForm(forms.Form):
    """Adopting a draft (issue 15): the day the new version takes effect, and the simulation that
    justified it. The date is checked here with a message that says what to do; the service then
    checks it again, with everything else, on the confirmation page (a dry run) and on adoption."""

    effective_from = forms.DateField(
        label=gettext_lazy("Takes effect on"), widget=_date_input(),
        error_messages={"required": gettext_lazy("Enter the day the new version takes effect."),
                        "invalid": gettext_lazy("Enter the day the new version takes effect as a date, such as 2027-01-01.")})
    simulation = forms.TypedChoiceField(label=gettext_lazy("Simulation that justifies it"), required=False,
                                        coerce=int, empty_value=None)

    def __init__(self, *args, draft, today, in_force_on, **kwargs):
        """``in_force_on(day)`` is the scheme's rule set in force on ``day`` (or None)."""
        super().__init__(*args, **kwargs)
        self.draft, self.today, self.in_force_on = draft, today, in_force_on
        self.simulations = {s.pk: s for s in draft.simulations.filter(state="succeeded")}
        self.fields["simulation"].choices = [("", "—")] + [
            (pk, f"#{pk} · {s.created_at:%Y-%m-%d %H:%M}") for pk, s in self.simulations.items()]
        if not self.is_bound:
            self.initial.setdefault("effective_from", max(draft.effective_from, today))

    def clean_effective_from(self):
        day = self.cleaned_data["effective_from"]
        if day < self.today:
            raise forms.ValidationError(
                _("%(day)s is in the past: a rule set cannot change decisions already taken under the one in force. "
                  "Choose today (%(today)s) or a later day.") % {"day": day.isoformat(), "today": self.today.isoformat()})
        if self.draft.effective_to is not None and day > self.draft.effective_to:
            raise forms.ValidationError(
                _("%(day)s is after the draft's end date %(end)s: choose an earlier day or change the draft's dates.")
                % {"day": day.isoformat(), "end": self.draft.effective_to.isoformat()})
        current = self.in_force_on(day)
        if current is not None and current.effective_from >= day:
            raise forms.ValidationError(
                _("“%(name)s” already takes effect on %(day)s: choose a later day, or edit that version instead.")
                % {"name": current.name, "day": current.effective_from.isoformat()})
        return day

    def chosen_simulation(self):
        return self.simulations.get(self.cleaned_data.get("simulation"))
