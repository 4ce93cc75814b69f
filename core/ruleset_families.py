"""The typed shape of each scheme's rule-set parameters (issue 13 point 7, issue 15 drafts).

Core keeps rule sets as JSON and must not import the domain apps, so each app describes its own
parameters in a ``ruleset_fields`` module (found like ``admin`` and ``jobs`` modules)::

    register_family(Family(scheme="riskpool_s", specs=(ParamSpec("npl_gate", "ratio", "RP-15", …), …),
                           validate=lambda params: SchemeSParams.from_mapping(params).as_mapping()))

The forms, the side-by-side diff and the simulator's drafts are built from that description, and
``validate`` is the app's own parser, so a typed form refuses exactly what the rules would refuse.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import RuleViolation

# Parameter kinds and what a person types for them:
MONEY = "money"  # yuan, two places
RATIO = "ratio"  # stored as a fraction (0.4), entered and shown as a percentage (40)
INT = "int"  # a whole number of days, months, years …
NUMBER = "number"  # a plain decimal factor (1.5)
TEXT = "text"  # a short text such as a month-day "04-15"
CODES = "codes"  # a set of codes, chosen from the family's labelled choices
TIERS = "tiers"  # RP-8 rows of (ceiling in yuan, ratio)
SUB_FUNDS = "sub_funds"  # RP-M2 rows of (code, size in yuan, products)
KINDS = (MONEY, RATIO, INT, NUMBER, TEXT, CODES, TIERS, SUB_FUNDS)

YUAN = gettext_lazy("yuan")
PERCENT = "%"


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its key in the stored JSON, kind, rule id, label and unit (shown beside it)."""

    name: str
    kind: str
    rule: str
    label: Any
    unit: Any = ""
    group: Any = ""
    choices: Mapping[str, Any] = field(default_factory=dict)  # CODES: code → label
    help: Any = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r} for {self.name}")

    @property
    def shown_unit(self):
        if self.kind == RATIO:
            return PERCENT
        if self.kind in (MONEY, TIERS, SUB_FUNDS) and not self.unit:
            return YUAN
        return self.unit


@dataclass(frozen=True)
class Family:
    """The parameters of one scheme, and the app's parser that accepts or refuses a whole set.

    ``validate(params) -> params`` raises core.errors.RuleViolation naming the rule and the
    parameter for a value the rules would not accept, and returns the normalised mapping.
    """

    scheme: str
    specs: tuple[ParamSpec, ...]
    validate: Callable[[dict], dict]

    def spec(self, name: str) -> ParamSpec | None:
        return next((s for s in self.specs if s.name == name), None)


_FAMILIES: dict[str, Family] = {}
_discovered = False


def register_family(family: Family) -> Family:
    _FAMILIES[family.scheme] = family
    return family


def _discover() -> None:
    global _discovered
    if not _discovered:
        _discovered = True
        autodiscover_modules("ruleset_fields")


def get_family(scheme: str) -> Family | None:
    """The typed description of ``scheme``'s parameters, or None while no app describes it."""
    _discover()
    return _FAMILIES.get(scheme)


def all_families() -> dict[str, Family]:
    _discover()
    return dict(_FAMILIES)


# --- showing a value -----------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _money_text(value: Any) -> str:
    number = _decimal(value)
    return "—" if number is None else f"{number.quantize(Decimal('0.01')):,}"


def _percent_text(value: Any) -> str:
    number = _decimal(value)
    return "—" if number is None else f"{(number * 100).quantize(Decimal('0.01'))}%"


def display_value(spec: ParamSpec, value: Any) -> str:
    """``value`` as a person reads it: amounts with separators in yuan, ratios as percentages
    with two places, codes by their labels, tier rows one per line."""
    if value is None:
        return "—"
    if spec.kind == MONEY:
        return f"{_money_text(value)} {YUAN}"
    if spec.kind == RATIO:
        return _percent_text(value)
    if spec.kind in (INT, NUMBER, TEXT):
        return f"{value} {spec.unit}".strip()
    if spec.kind == CODES:
        return "; ".join(str(spec.choices.get(code, code)) for code in value) or "—"
    if spec.kind == TIERS:
        return "\n".join(
            _("up to %(ceiling)s yuan: %(ratio)s") % {"ceiling": _money_text(c), "ratio": _percent_text(r)}
            for c, r in value
        )
    if spec.kind == SUB_FUNDS:
        return "\n".join(
            _("%(code)s: %(size)s yuan for %(products)s")
            % {"code": f["code"], "size": _money_text(f["size"]), "products": ", ".join(f["products"])}
            for f in value
        )
    return str(value)


def typed_rows(scheme: str, params: Mapping[str, Any]) -> list[dict]:
    """The parameters as a person reads them, one row per parameter of the family, in its order:
    label, rule id, group and the value with its unit (never the stored JSON)."""
    family = get_family(scheme)
    if family is None:
        return [{"label": k, "value": str(v), "rule": "", "group": ""} for k, v in params.items()]
    return [
        {"label": spec.label, "rule": spec.rule, "group": spec.group, "value": display_value(spec, params.get(spec.name))}
        for spec in family.specs
    ]


def _same(spec: ParamSpec, a: Any, b: Any) -> bool:
    if spec.kind in (MONEY, RATIO, NUMBER):
        return _decimal(a) == _decimal(b)
    if spec.kind == CODES:
        return set(a or ()) == set(b or ())
    if spec.kind == TIERS:
        return len(a or ()) == len(b or ()) and all(
            _decimal(x[0]) == _decimal(y[0]) and _decimal(x[1]) == _decimal(y[1]) for x, y in zip(a, b, strict=False)
        )
    return a == b


def normalised(family: Family | None, params: Mapping[str, Any]) -> dict:
    """``params`` as the rules read them (a missing key is the default), or as stored when the
    rules would refuse them."""
    if family is None:
        return dict(params)
    try:
        return family.validate(dict(params))
    except RuleViolation:
        return dict(params)


def params_diff(scheme: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict]:
    """The side-by-side rows of two parameter sets of ``scheme``: every typed parameter in the
    family's order, then any key the family does not describe, each marked changed or not. Both
    are compared as the rules read them, so a key left out equals its default."""
    family = get_family(scheme)
    before, after = normalised(family, before), normalised(family, after)
    specs = list(family.specs) if family else []
    known = {s.name for s in specs}
    for name in sorted((set(before) | set(after)) - known):
        specs.append(ParamSpec(name, TEXT, "", name))
    rows = []
    for spec in specs:
        a, b = before.get(spec.name), after.get(spec.name)
        rows.append({
            "spec": spec, "before": display_value(spec, a), "after": display_value(spec, b),
            "changed": not _same(spec, a, b),
        })
    return rows


def changed_names(scheme: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [row["spec"].name for row in params_diff(scheme, before, after) if row["changed"]]
