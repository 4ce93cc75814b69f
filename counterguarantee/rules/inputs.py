"""The input of a counter-guarantee check: ``PlanInput`` with its ``GuaranteeFacts`` and
``MeasureFacts``, parsed and validated from the plan editor, the API or the saved plan; bad input
raises ``RuleViolation`` naming the field (``measures[1].rate``). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from core.errors import Problem, RuleViolation
from core.i18n_text import gettext_lazy as _
from core.money import money, ratio

from .params import (
    _ONE,
    _ZERO,
    COLLATERAL_KINDS,
    CREDIT_GROUNDS,
    FLEXIBLE_FORMS,
    GUARANTEE,
    JOINT,
    KINDS,
    LIABILITIES,
    LOWERED_GROUNDS,
    REGISTRIES,
    VALUATION_SOURCES,
    Tables,
)

# --- the input -----------------------------------------------------------------------------


class _Reader:
    """Parses one JSON object, collecting every problem (with its dotted field path)."""

    def __init__(self, data: Any, prefix: str, rule: str = "INPUT"):
        self.prefix = prefix
        self.rule = rule
        self.problems: list[Problem] = []
        if not isinstance(data, Mapping):
            self.problems.append(Problem(rule, _("Send a JSON object."), prefix or None))
            data = {}
        self.data = data

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def problem(self, key: str, message, rule: str | None = None) -> None:
        self.problems.append(Problem(rule or self.rule, message, self.name(key)))

    def unknown(self, allowed: Iterable[str]) -> None:
        for key in sorted(set(self.data) - set(allowed)):
            self.problem(key, _("Unknown field."))

    def present(self, key: str) -> bool:
        return self.data.get(key) not in (None, "")

    def required(self, key: str) -> bool:
        if not self.present(key):
            self.problem(key, _("This field is required."))
            return False
        return True

    def money(self, key: str, rule: str) -> Decimal | None:
        if not self.present(key):
            return None
        try:
            amount = money(self.data[key], rule=rule, field=self.name(key))
        except RuleViolation as exc:
            self.problems.extend(exc.problems)
            return None
        if amount < 0:
            self.problem(key, _("This amount must not be negative."), rule)
            return None
        return amount

    def rate(self, key: str, rule: str) -> Decimal | None:
        if not self.present(key):
            return None
        try:
            number = ratio(self.data[key], rule=rule, field=self.name(key))
        except RuleViolation as exc:
            self.problems.extend(exc.problems)
            return None
        if not _ZERO <= number <= _ONE:
            self.problem(key, _("Enter a rate between 0 and 1 (0.7 for 70%)."), rule)
            return None
        return number

    def date(self, key: str) -> date | None:
        if not self.present(key):
            return None
        value = self.data[key]
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.problem(key, _("Enter a date as YYYY-MM-DD."))
        return None

    def boolean(self, key: str) -> bool:
        value = self.data.get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.problem(key, _("Enter true or false."))
            return False
        return value

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.problem(key, _("Enter text."))
            return ""
        return value.strip()

    def names(self, key: str) -> tuple[str, ...]:
        """A list of names (owners, signatories): trimmed, blanks dropped, order kept."""
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            self.problem(key, _("Enter a list of names."))
            return ()
        return tuple(v.strip() for v in value if v.strip())

    def codes(self, key: str, allowed: Mapping[str, Any], rule: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            self.problem(key, _("Enter a list of codes."), rule)
            return ()
        unknown = [v for v in value if v not in allowed]
        if unknown:
            self.problem(key, _("Unknown ground: %(codes)s.") % {"codes": ", ".join(unknown)}, rule)
        return tuple(dict.fromkeys(v for v in value if v in allowed))

    def choice(self, key: str, allowed: Mapping[str, Any] | Sequence[str], rule: str) -> str:
        value = self.data.get(key)
        if value in (None, ""):
            return ""
        if not isinstance(value, str) or value not in allowed:
            self.problem(key, _("Unknown value “%(value)s”.") % {"value": value}, rule)
            return ""
        return value


@dataclass(frozen=True)
class GuaranteeFacts:
    """The guarantee a plan belongs to, and what the plan records about the borrower:
    the grounds of CG-1 and CG-2 that apply, and the CG-8 plan flag with its reason."""

    amount: Decimal
    start: date
    end: date
    credit_grounds: tuple[str, ...] = ()
    lowered_grounds: tuple[str, ...] = ()
    resolving_existing_risk: bool = False
    resolving_reason: str = ""

    FIELDS = ("amount", "start", "end", "credit_grounds", "lowered_grounds", "resolving_existing_risk",
              "resolving_reason")

    @classmethod
    def read(cls, data: Any, prefix: str = "guarantee") -> tuple[GuaranteeFacts | None, list[Problem]]:
        r = _Reader(data, prefix)
        r.unknown(cls.FIELDS)
        for key in ("amount", "start", "end"):
            r.required(key)
        amount = r.money("amount", "INPUT")
        if amount is not None and amount <= 0:
            r.problem("amount", _("The guaranteed amount must be more than 0."))
        start, end = r.date("start"), r.date("end")
        if start and end and end < start:
            r.problem("end", _("The guarantee ends before it starts."))
        facts = dict(
            credit_grounds=r.codes("credit_grounds", CREDIT_GROUNDS, "CG-1"),
            lowered_grounds=r.codes("lowered_grounds", LOWERED_GROUNDS, "CG-2"),
            resolving_existing_risk=r.boolean("resolving_existing_risk"),
            resolving_reason=r.text("resolving_reason"),
        )
        if r.problems:
            return None, r.problems
        return cls(amount=amount, start=start, end=end, **facts), []


@dataclass(frozen=True)
class MeasureFacts:
    """One counter-guarantee measure as the check sees it (CG-4)."""

    kind: str
    start: date
    end: date
    asset_class: str = ""
    value: Decimal | None = None
    rate: Decimal | None = None
    valued_on: date | None = None
    valuation_valid_until: date | None = None
    valuation_source: str = ""
    owners: tuple[str, ...] = ()
    signatories: tuple[str, ...] = ()
    organisation: bool = False
    resolution_on_file: bool = False
    contract_no: str = ""
    registry: str = ""
    registration_number: str = ""
    registered_online: bool = False
    innovative: bool = False
    innovative_reason: str = ""
    flexible_form: str = ""
    liability: str = JOINT  # CG-13, a guarantee only

    FIELDS = ("kind", "asset_class", "value", "rate", "valued_on", "valuation_valid_until", "valuation_source",
              "start", "end", "owners", "signatories", "organisation", "resolution_on_file", "contract_no",
              "registry", "registration_number", "registered_online", "innovative", "innovative_reason",
              "flexible_form", "liability")

    @property
    def is_collateral(self) -> bool:
        return self.kind in COLLATERAL_KINDS

    @classmethod
    def read(cls, data: Any, index: int, tables: Tables) -> tuple[MeasureFacts | None, list[Problem]]:
        r = _Reader(data, f"measures[{index}]")
        r.unknown(cls.FIELDS)
        kind = r.data.get("kind")
        if kind not in KINDS:
            r.problem("kind", _("Enter one of: guarantee, mortgage, pledge."), "CG-4")
        for key in ("start", "end"):
            r.required(key)
        start, end = r.date("start"), r.date("end")
        if start and end and end < start:
            r.problem("end", _("The measure ends before it starts."), "CG-9")
        asset_class = r.data.get("asset_class") or ""
        value, rate = r.money("value", "CG-5"), r.rate("rate", "CG-6")
        valued_on, valid_until = r.date("valued_on"), r.date("valuation_valid_until")
        if valued_on and valid_until and valid_until < valued_on:
            r.problem("valuation_valid_until", _("The valuation's validity ends before its date."), "CG-5")
        if kind == GUARANTEE:
            # A guarantee is the guarantor's credit: it has no asset, value or rate (CG-7).
            for key in ("asset_class", "value", "rate", "valued_on", "valuation_valid_until", "valuation_source"):
                if r.present(key):
                    r.problem(key, _("A guarantee-type measure has no asset class, value or rate."), "CG-4")
        elif kind in COLLATERAL_KINDS:
            if not asset_class:
                r.problem("asset_class", _("A mortgage or pledge needs an asset class."), "CG-4")
            elif not isinstance(asset_class, str) or asset_class not in tables.asset_classes:
                r.problem("asset_class", _("Unknown asset class “%(code)s”: the authority's table does not list it.")
                          % {"code": asset_class}, "CG-4")
        facts = dict(
            valuation_source=r.choice("valuation_source", VALUATION_SOURCES, "CG-5"),
            owners=r.names("owners"),
            signatories=r.names("signatories"),
            organisation=r.boolean("organisation"),
            resolution_on_file=r.boolean("resolution_on_file"),
            contract_no=r.text("contract_no"),
            registry=r.choice("registry", REGISTRIES, "CG-11"),
            registration_number=r.text("registration_number"),
            registered_online=r.boolean("registered_online"),
            innovative=r.boolean("innovative"),
            innovative_reason=r.text("innovative_reason"),
            flexible_form=r.choice("flexible_form", FLEXIBLE_FORMS, "CG-12"),
            liability=(r.choice("liability", LIABILITIES, "CG-13") or JOINT) if kind == GUARANTEE else "",
        )
        if r.problems:
            return None, r.problems
        return cls(kind=kind, start=start, end=end, asset_class=asset_class if kind != GUARANTEE else "",
                   value=value, rate=rate, valued_on=valued_on, valuation_valid_until=valid_until, **facts), []


@dataclass(frozen=True)
class PlanInput:
    """A plan to check: the guarantee, its measures in order, and the check date."""

    checked_on: date
    guarantee: GuaranteeFacts
    measures: tuple[MeasureFacts, ...] = ()

    @classmethod
    def from_mapping(cls, data: Any, tables: Tables, *, default_date: date | None = None) -> PlanInput:
        """Parse the preview API's JSON; every bad field is reported at once, each measure by its
        position (``measures[0].rate``)."""
        r = _Reader(data, "")
        r.unknown(("checked_on", "guarantee", "measures"))
        checked_on = r.date("checked_on") if r.present("checked_on") else default_date
        if checked_on is None:
            r.problem("checked_on", _("This field is required."))
        problems = list(r.problems)
        guarantee, found = GuaranteeFacts.read(r.data.get("guarantee"))
        problems += found
        raw_measures = r.data.get("measures", [])
        if raw_measures is None:
            raw_measures = []
        if not isinstance(raw_measures, list):
            problems.append(Problem("INPUT", _("Send the measures as a list."), "measures"))
            raw_measures = []
        measures = []
        for index, item in enumerate(raw_measures):
            measure, found = MeasureFacts.read(item, index, tables)
            problems += found
            measures.append(measure)
        if problems:
            raise RuleViolation.many(problems)
        return cls(checked_on=checked_on, guarantee=guarantee, measures=tuple(measures))

    def as_mapping(self) -> dict:
        """JSON-ready, the shape ``from_mapping`` reads (stored with an approval's check run)."""

        def plain(value):
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, tuple):
                return list(value)
            return value

        def facts(obj, names):
            return {n: plain(getattr(obj, n)) for n in names if getattr(obj, n) not in (None, "", ())}

        return {
            "checked_on": self.checked_on.isoformat(),
            "guarantee": facts(self.guarantee, GuaranteeFacts.FIELDS),
            "measures": [facts(m, MeasureFacts.FIELDS) for m in self.measures],
        }
