"""The year's scoring scheme as typed fields (issue 13 point 7, EV-2, EV-3): per indicator its
points, scoring function, the input it scores with its unit, the target or the two breakpoints,
and for a sum of parts one row per part; no JSON is shown. Shares and rates are typed as
percentages (80 for 80%) and stored as the fractions the rules read (0.8).

Every check the rules make (``evaluation.rules.parse_scheme``) is made here too, on whatever
fields did validate, so one submission lists every problem beside its field with its rule id
(issue 13 point 3); the service checks the stored rows again."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.errors import Problem
from core.money import to_decimal
from core.views_helpers import problem_message
from evaluation import rules
from evaluation.exports import FIGURE_LABELS

HUNDRED = Decimal("100")
MAX_PARTS = 4
FIXED = "value"  # the target choice "a fixed value", typed beside it

FUNCTION_CHOICES = [
    ("capped_ratio", _("weight × min(value ÷ target, 1)")),
    ("capped_ratio_sum", _("sum of parts: weightᵢ × min(valueᵢ ÷ targetᵢ, 1)")),
    ("linear_descending", _("full at or below a point, 0 at or above another, linear between")),
    ("linear_ascending", _("0 at or below a point, full at or above another, linear between")),
]
SOURCE_CHOICES = [("computed", _("Computed from the recorded guarantees")), ("declared", _("Declared by the firm"))]

# The inputs a function scores (rules.INPUTS), each with the unit it is typed in.
PERCENT_INPUTS = ("support_share", "avg_fee_rate")
INPUT_LABELS = {
    "leverage": (_("Leverage (guarantee balance ÷ net assets)"), "×"),
    "sme_clients": (FIGURE_LABELS["sme_clients"], _("clients")),
    "sme_amount": (FIGURE_LABELS["sme_amount"], _("yuan")),
    "support_share": (_("Small-micro and 三农 share of the amount written (s)"), "%"),
    "avg_fee_rate": (FIGURE_LABELS["avg_fee_rate"], "%"),
    "total_amount": (FIGURE_LABELS["total_amount"], _("yuan")),
    "guarantee_balance": (FIGURE_LABELS["guarantee_balance"], _("yuan")),
    "net_assets": (FIGURE_LABELS["net_assets"], _("yuan")),
}
# Lazy, so each reader sees the labels in their own language (an f-string would fix them at import).
INPUT_CHOICES = [("", "—")] + [(key, format_lazy("{} · {}", label, unit)) for key, (label, unit) in INPUT_LABELS.items()]
TARGET_CHOICES = [
    ("", "—"), ("leverage", _("The year's leverage target T (×)")),
    ("clients", _("The year's clients target (clients)")), ("amount", _("The year's amount target (yuan)")),
    (FIXED, _("A fixed value, typed beside it")),
]
assert set(INPUT_LABELS) == set(rules.INPUTS) and {k for k, label in TARGET_CHOICES[1:-1]} == set(rules.TARGET_KEYS)

IN_INPUT_UNIT = _("In the input's unit; shares and rates as percentages (type 80 for 80 per cent).")


def _number(**kwargs) -> forms.DecimalField:
    return forms.DecimalField(required=False, max_digits=20, decimal_places=6, **kwargs)


def _plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and never in exponent form (80, not 8E+1)."""
    return Decimal(format(value.normalize(), "f"))


def _typed(value: Decimal, input_key: str | None) -> str:
    """A typed number as the rules store it: a percentage of a share or rate as its fraction."""
    if input_key in PERCENT_INPUTS:
        value = value / HUNDRED
    return str(_plain(value))


def _shown(value: Any, input_key: str | None) -> Decimal | None:
    number = to_decimal(value) if value is not None else None
    if number is None:
        return None
    return _plain(number * HUNDRED if input_key in PERCENT_INPUTS else number)


def _ev3(message) -> str:
    return problem_message(Problem("EV-3", message))


class IndicatorForm(forms.Form):
    """One indicator of the year's scheme (EV-3): points, scoring function and its inputs."""

    code = forms.SlugField(label=_("Short name"), max_length=30,
                           help_text=_("Letters, digits and hyphens; each indicator its own."))
    label = forms.CharField(label=_("Name"), max_length=60)
    weight = forms.DecimalField(label=_("Points"), max_digits=6, decimal_places=2, min_value=Decimal("0.01"))
    function = forms.ChoiceField(label=_("Scoring function"), choices=FUNCTION_CHOICES, initial="capped_ratio")
    source = forms.ChoiceField(label=_("Figures from"), choices=SOURCE_CHOICES, initial="computed")
    # one input: weight × min(x ÷ target, 1), or linear between two breakpoints
    input = forms.ChoiceField(label=_("Input scored"), choices=INPUT_CHOICES, required=False)
    target = forms.ChoiceField(label=_("Target"), choices=TARGET_CHOICES, required=False,
                               help_text=_("For weight × min(value ÷ target, 1)."))
    # In the input's unit (IN_INPUT_UNIT, said once above these fields on the page).
    target_value = _number(label=_("Fixed target value"), min_value=Decimal("0"))
    full_at = _number(label=_("Full points at"))
    zero_at = _number(label=_("No points at"))

    SINGLE = ("input", "target", "target_value", "full_at", "zero_at")
    PART_KEYS = ("input", "target", "target_value", "weight")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, kind in (("input", "single"), ("target", "target"), ("target_value", "target"),
                           ("full_at", "breakpoints"), ("zero_at", "breakpoints")):
            self.fields[name].ev_for = kind  # which functions read it (static/js/ev-scheme.js)
        for i in range(MAX_PARTS):
            self.fields[f"part{i}_input"] = forms.ChoiceField(label=_("Input"), choices=INPUT_CHOICES, required=False)
            self.fields[f"part{i}_target"] = forms.ChoiceField(label=_("Target"), choices=TARGET_CHOICES,
                                                               required=False)
            self.fields[f"part{i}_target_value"] = _number(label=_("Fixed target value"), min_value=Decimal("0"))
            self.fields[f"part{i}_weight"] = forms.DecimalField(label=_("Points"), required=False, max_digits=6,
                                                                decimal_places=2, min_value=Decimal("0.01"))
            for key in self.PART_KEYS:  # the table's cells have no label of their own
                field = self.fields[f"part{i}_{key}"]
                field.widget.attrs["aria-label"] = _("Part %(n)d: %(what)s") % {"n": i + 1, "what": field.label}

    # --- stored row ↔ fields ------------------------------------------------------------------

    @staticmethod
    def initial_for(row: dict) -> dict:
        """The fields' initial values for one stored indicator row."""
        params = dict(row.get("params") or {})
        initial = {key: row.get(key) for key in ("code", "label", "weight", "function", "source")}
        if row.get("function") == "capped_ratio_sum":
            for i, part in enumerate((params.get("parts") or [])[:MAX_PARTS]):
                initial.update(IndicatorForm._target_initial(part, f"part{i}_"))
                initial[f"part{i}_weight"] = part.get("weight")
            return initial
        initial.update(IndicatorForm._target_initial(params, ""))
        for key in ("full_at", "zero_at"):
            initial[key] = _shown(params.get(key), params.get("input"))
        return initial

    @staticmethod
    def _target_initial(spec: dict, prefix: str) -> dict:
        out = {f"{prefix}input": spec.get("input")}
        if "target_value" in spec:
            out[f"{prefix}target"] = FIXED
            out[f"{prefix}target_value"] = _shown(spec["target_value"], spec.get("input"))
        elif spec.get("target"):
            out[f"{prefix}target"] = spec["target"]
        return out

    def parts_rows(self) -> list[list]:
        return [[self[f"part{i}_{key}"] for key in self.PART_KEYS] for i in range(MAX_PARTS)]

    def main_fields(self):
        return [self[name] for name in ("code", "label", "weight", "function", "source")]

    def single_fields(self):
        return [self[name] for name in self.SINGLE]

    # --- checks (EV-3), on whatever validated ---------------------------------------------------

    def _target_params(self, data: dict, prefix: str) -> dict | None:
        """{"input", "target" | "target_value"} from a row, each missing piece named beside it."""
        key, target, value = (data.get(f"{prefix}input"), data.get(f"{prefix}target"), data.get(f"{prefix}target_value"))
        ok = True
        if not key and not self.has_error(f"{prefix}input"):
            self.add_error(f"{prefix}input", _ev3(_("Choose the input this scores.")))
            ok = False
        if not target and not self.has_error(f"{prefix}target"):
            self.add_error(f"{prefix}target", _ev3(_("Choose the target.")))
            ok = False
        if target == FIXED and not self.has_error(f"{prefix}target_value") and not (value and value > 0):
            self.add_error(f"{prefix}target_value", _ev3(_("Enter the fixed target, above 0.")))
            ok = False
        if not ok or self.has_error(f"{prefix}target_value"):
            return None
        if target == FIXED:
            return {"input": key, "target_value": _typed(value, key)}
        return {"input": key, "target": target}

    def clean(self):
        data = super().clean()
        function, weight = data.get("function"), data.get("weight")
        params: dict | None = None
        if function == "capped_ratio":
            params = self._target_params(data, "")
        elif function == "capped_ratio_sum":
            params = self._parts(data, weight)
        elif function in ("linear_descending", "linear_ascending"):
            params = self._breakpoints(data, function)
        self.params = params
        return data

    def _parts(self, data: dict, weight: Decimal | None) -> dict | None:
        parts, ok, total = [], True, Decimal("0")
        for i in range(MAX_PARTS):
            prefix = f"part{i}_"
            if all(data.get(prefix + key) in (None, "") for key in self.PART_KEYS) and not any(
                    self.has_error(prefix + key) for key in self.PART_KEYS):
                continue
            spec = self._target_params(data, prefix)
            part_weight = data.get(prefix + "weight")
            if part_weight is None and not self.has_error(prefix + "weight"):
                self.add_error(prefix + "weight", _ev3(_("Enter the part's points.")))
            if spec is None or part_weight is None:
                ok = False
                continue
            total += part_weight
            parts.append({**spec, "weight": str(_plain(part_weight))})
        if ok and not parts:
            self.add_error(None, _ev3(_("A sum of parts needs at least one part.")))
            return None
        if ok and weight is not None and total != weight:
            self.add_error("weight", _ev3(_("The parts add up to %(total)s points, not the indicator's %(weight)s.")
                                          % {"total": _plain(total), "weight": _plain(weight)}))
        return {"parts": parts} if ok else None

    def _breakpoints(self, data: dict, function: str) -> dict | None:
        key, full_at, zero_at = data.get("input"), data.get("full_at"), data.get("zero_at")
        ok = True
        if not key and not self.has_error("input"):
            self.add_error("input", _ev3(_("Choose the input this scores.")))
            ok = False
        for name in ("full_at", "zero_at"):
            if data.get(name) is None and not self.has_error(name):
                self.add_error(name, _ev3(_("Enter the breakpoint.")))
                ok = False
        if full_at is not None and zero_at is not None:
            if function == "linear_descending" and not full_at < zero_at:
                self.add_error("zero_at", _ev3(_("Falling points: no points must start above full points.")))
                ok = False
            elif function == "linear_ascending" and not zero_at < full_at:
                self.add_error("full_at", _ev3(_("Rising points: full points must start above no points.")))
                ok = False
        if not ok:
            return None
        return {"input": key, "full_at": _typed(full_at, key), "zero_at": _typed(zero_at, key)}

    def row(self) -> dict:
        """The stored indicator row (rules.parse_scheme reads it)."""
        c = self.cleaned_data
        return {"code": c["code"], "label": c["label"], "weight": str(c["weight"]), "function": c["function"],
                "params": self.params or {}, "source": c["source"]}


class BaseIndicatorFormSet(forms.BaseFormSet):
    """The whole scheme: each indicator its own short name (EV-3) and the points adding up to 100
    (EV-2), checked with whatever indicators validated."""

    def kept(self) -> list[IndicatorForm]:
        """The indicators to save: every shown one not ticked for deletion, and a blank row
        the person filled in."""
        return [f for i, f in enumerate(self.forms)
                if (i < self.initial_form_count() or f.has_changed()) and not self._should_delete_form(f)]

    def clean(self):
        seen: dict[str, IndicatorForm] = {}
        total, complete = Decimal("0"), True
        kept = self.kept()
        for form in kept:
            data = getattr(form, "cleaned_data", {})
            code = data.get("code")
            if code and code in seen:
                form.add_error("code", _ev3(_("Each indicator needs its own short name.")))
            elif code:
                seen[code] = form
            if data.get("weight") is None:
                complete = False
            else:
                total += data["weight"]
        if not kept:
            raise forms.ValidationError(problem_message(Problem("EV-2", _("A scheme needs at least one indicator."))))
        if complete and total != HUNDRED:
            raise forms.ValidationError(problem_message(Problem(
                "EV-2", _("The points add up to %(total)s; they must add up to 100.") % {"total": _plain(total)})))

    def rows(self) -> list[dict]:
        return [f.row() for f in self.kept()]


IndicatorFormSet = forms.formset_factory(IndicatorForm, formset=BaseIndicatorFormSet, extra=1, can_delete=True)
