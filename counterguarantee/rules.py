"""Counter-guarantee policy checks (rules CG-1 … CG-14), as pure functions.

Source: seed 002, 湖北省政府性融资担保机构融资担保业务反担保设置指引(试行) (2022); see docs/spec
counterguarantee.md. Counter-guarantee (反担保) is what the guarantee firm asks of the borrower or a
third party to secure its right of recourse after it pays the bank.

``check_plan`` is the one function that judges a plan: the preview API, the plan editor's live
check and the approval service all call it, on a ``PlanInput`` and the ``Tables`` in force on the
check date (asset classes, bank pledge rates, parameters). It returns one ``RuleResult`` per rule
of ``CHECKED_RULES``, each with its outcome, a message in words and, where the rule is about a
particular measure and field, ``details`` that the editor shows next to that field.

Nothing here queries or saves. Money is ``Decimal`` yuan in cents, rates ``Decimal`` fractions
with six places (both ROUND_HALF_UP). Input that cannot be computed raises
``core.errors.RuleViolation`` naming the field (``measures[1].rate``); a policy finding is a
result, never an exception.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from core.errors import Problem, RuleViolation
from core.i18n_text import dump, join
from core.i18n_text import gettext_lazy as _
from core.money import money, percent, ratio, round_money, round_ratio, yuan
from core.periods import add_months

_ZERO = Decimal("0")
_ONE = Decimal("1")

# --- vocabularies --------------------------------------------------------------------------

GUARANTEE, MORTGAGE, PLEDGE = "guarantee", "mortgage", "pledge"
KINDS = (GUARANTEE, MORTGAGE, PLEDGE)  # CG-4, 第四条
COLLATERAL_KINDS = (MORTGAGE, PLEDGE)
KIND_LABELS = {
    GUARANTEE: _("guarantee (保证)"),
    MORTGAGE: _("mortgage (抵押)"),
    PLEDGE: _("pledge (质押)"),
}

# Outcomes of a rule, and of a detail.
PASS, WARNING, FAIL, INFO, NOT_APPLICABLE = "pass", "warning", "fail", "info", "not_applicable"
OUTCOMES = (PASS, WARNING, FAIL, INFO, NOT_APPLICABLE)
_SEVERITY = {NOT_APPLICABLE: 0, INFO: 1, PASS: 2, WARNING: 3, FAIL: 4}

# The rules check_plan answers, in this order (the API's ``results``).
CHECKED_RULES = ("CG-1", "CG-2", "CG-5", "CG-6", "CG-7", "CG-9", "CG-10", "CG-11")

# CG-1 (第五条): a credit guarantee is expected.
CREDIT_GROUNDS = {
    "CG-1.1": _("a personal start-up guarantee loan, or a partnership “bundled” start-up loan (创业担保贷款)"),
    "CG-1.2": _("a new agricultural operating entity with a single guaranteed amount of at most %(cap)s yuan "
                "(新型农业经营主体)"),
    "CG-1.3": _("a holder of a county-level or higher honour, or a small-micro firm founded by one (荣誉称号)"),
    "CG-1.4": _("a national science award winner or member of a listed talent or technology programme, or a "
                "small-micro firm founded by one or on such a list (科技奖项、人才计划)"),
    "CG-1.5": _("batch business with a locked compensation-rate cap, done as 见贷即保"),
    "CG-1.6": _("an online product developed with a bank or credit bureau (线上产品)"),
}
AGRI_AMOUNT_GROUND = "CG-1.2"

# CG-2 (第六条): the collateral threshold may be lowered.
LOWERED_GROUNDS = {
    "CG-2.1": _("good growth, strong job creation and a secure first source of repayment"),
    "CG-2.2": _("a leading or white-list firm of the provincial ten key agricultural chains"),
    "CG-2.3": _("green business (绿色融资担保)"),
    "CG-2.4": _("a supply-chain small-micro firm of a chain-leading firm (产业链、供应链)"),
    "CG-2.5": _("a technology-based small-micro firm (科技型小微企业)"),
    "CG-2.6": _("a 专精特新 firm, especially in key “bottleneck” technologies"),
    "CG-2.7": _("a start-up loan of a labour-intensive small-micro firm"),
}

# Where a class of property is registered (CG-11, 第十三条, 第十五条); "" means no registration.
NO_REGISTRY = ""
REGISTRIES = {
    "pboc": _("PBOC movable-property financing registry (动产融资统一登记公示系统)"),
    "real_estate": _("local real-estate registry (不动产登记机构)"),
    "vehicle": _("vehicle registry (车辆管理所)"),
    "ship": _("ship registry (海事管理机构)"),
    "ip": _("intellectual property office (知识产权局)"),
    "equity": _("market regulator, equity pledge registration (市场监督管理部门)"),
    "environment": _("emission or carbon right registry (排污权、碳排放权登记机构)"),
    "other": _("other registration authority"),
}

# CG-12 (第十四条): accepted flexible forms, recorded on the measure.
LIEN = "lien"
FLEXIBLE_FORMS = {
    "residual_value": _("residual-value mortgage (余值抵押)"),
    "second_ranking": _("second-ranking mortgage (顺位抵押)"),
    "advance_registration": _("advance registration (预告登记)"),
    LIEN: _("lien (留置)"),
}

VALUATION_SOURCES = {
    "approved_appraiser": _("an appraiser the firm approves"),
    "own": _("the firm's own valuation"),
}

# CG-13 (第十七条): what the firm does to keep its rights alive, and what it finds on inspection.
ENFORCEMENT_ACTIONS = {
    "demand_notice": _("written demand to the counter-guarantor (书面通知)"),
    "lawsuit": _("lawsuit (诉讼)"),
    "arbitration": _("arbitration (仲裁)"),
    "enforcement": _("enforcement of the collateral (行使抵押权、质押权)"),
    "acknowledgement": _("the counter-guarantor acknowledged the debt (同意履行)"),
}
# CG-13 (第十七条(五); 民法典 第六百八十六、六百八十七、六百八十八条): how a guarantor is liable.
JOINT, GENERAL = "joint", "general"
LIABILITIES = {
    JOINT: _("joint and several liability (连带责任保证)"),
    GENERAL: _("general guarantee (一般保证)"),
}
# CG-13 (第十七条(五); 民法典 第六百九十三条): what keeps a guarantor liable if done within the
# guarantee period: a general guarantee only a suit or arbitration (against the debtor); joint
# liability also a written demand to the guarantor, or its acknowledgement.
KEEPS_GUARANTEE = {
    GENERAL: frozenset({"lawsuit", "arbitration"}),
    JOINT: frozenset({"demand_notice", "lawsuit", "arbitration", "acknowledgement"}),
}
ABNORMAL_EVENTS = {
    "capacity_weakened": _("guarantor's willingness or capacity weakened (代偿能力减弱)"),
    "liability_released": _("guarantor may be released from liability (担保责任免除)"),
    "collateral_moved": _("collateral moved or disposed of (转移、处置抵质押财产)"),
    "collateral_hidden": _("collateral hidden, or enforcement obstructed (阻碍实现抵质押权)"),
    "value_fallen": _("collateral value fell"),
    "other": _("other abnormal event"),
}


# --- small helpers -------------------------------------------------------------------------


def discounted_value(value: Decimal, rate: Decimal) -> Decimal:
    """CG-7: value × rate, to the cent (ROUND_HALF_UP)."""
    return round_money(value * rate)


# --- parameters and tables -----------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """The counterguarantee rule-set parameters; the defaults are the shipped policy values."""

    agri_amount_cap: Decimal = Decimal("2000000.00")  # CG-1 (二): 200万元及以下, inclusive
    default_bank_rate: Decimal = Decimal("0.500000")  # CG-6: a class with no row in the table
    guarantee_period_months: int = 6  # CG-13 Interpretation: 民法典 第六百九十二条, no agreed period
    limitation_years: int = 3  # CG-13: 民法典 第一百八十八条
    coming_due_days: int = 90  # CG-13: how far ahead the firm's list looks

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Params:
        """From a stored rule set: unknown keys ignored, missing keys keep their defaults."""
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            if spec.name not in data:
                continue
            raw = data[spec.name]
            if spec.type in ("int", int):
                if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).strip().isdigit():
                    raise RuleViolation("RULESET", _("This parameter must be a whole number."), spec.name)
                values[spec.name] = int(raw)
            elif spec.name == "default_bank_rate":
                rate = ratio(raw, rule="CG-6", field=spec.name)
                if not _ZERO <= rate <= _ONE:
                    raise RuleViolation("CG-6", _("Enter a rate between 0 and 1."), spec.name)
                values[spec.name] = rate
            else:
                amount = money(raw, rule="CG-1", field=spec.name)
                if amount < 0:
                    raise RuleViolation("CG-1", _("This amount must not be negative."), spec.name)
                values[spec.name] = amount
        return cls(**values)

    def as_mapping(self) -> dict[str, Any]:
        return {
            "agri_amount_cap": str(self.agri_amount_cap),
            "default_bank_rate": str(self.default_bank_rate),
            "guarantee_period_months": self.guarantee_period_months,
            "limitation_years": self.limitation_years,
            "coming_due_days": self.coming_due_days,
        }


@dataclass(frozen=True)
class AssetClassInfo:
    """One row of the authority's asset-class table (CG-4, CG-11)."""

    code: str
    label: str = ""
    registry: str = NO_REGISTRY  # where registration is required; "" = none needed

    @property
    def needs_registration(self) -> bool:
        return bool(self.registry)


@dataclass(frozen=True)
class Tables:
    """What a check reads besides the plan: the asset classes, the bank pledge-rate upper bounds
    (CG-6) in force on the check date, and the parameters."""

    asset_classes: Mapping[str, AssetClassInfo]
    bank_rates: Mapping[str, Decimal] = field(default_factory=dict)
    params: Params = field(default_factory=Params)

    def bank_rate(self, asset_class: str) -> Decimal:
        """CG-6: the banks' upper bound for the class; the rule set's default for a class with none."""
        return self.bank_rates.get(asset_class, self.params.default_bank_rate)

    def as_mapping(self) -> dict:
        return {
            "asset_classes": {c: {"label": str(i.label), "registry": i.registry} for c, i in self.asset_classes.items()},
            "bank_rates": {c: str(r) for c, r in self.bank_rates.items()},
            "params": self.params.as_mapping(),
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Tables:
        return cls(
            asset_classes={c: AssetClassInfo(c, v.get("label", ""), v.get("registry", "")) for c, v in
                           data.get("asset_classes", {}).items()},
            bank_rates={c: Decimal(r) for c, r in data.get("bank_rates", {}).items()},
            params=Params.from_mapping(data.get("params", {})),
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


# --- the result ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Detail:
    """A finding about one field: of measure ``measure`` (its position), or of the plan (None)."""

    outcome: str
    message: str
    field: str
    measure: int | None = None

    def as_dict(self) -> dict:
        return {"measure": self.measure, "field": self.field, "outcome": self.outcome, "message": dump(self.message)}


@dataclass(frozen=True)
class RuleResult:
    rule: str
    outcome: str
    message: str
    field: str | None = None  # the plan-level field the rule is about, for the editor
    excess: Decimal | None = None  # CG-7 only: discounted sum − guaranteed amount
    details: tuple[Detail, ...] = ()

    def as_dict(self) -> dict:
        data = {"rule": self.rule, "outcome": self.outcome, "message": dump(self.message)}
        if self.excess is not None:
            data["excess"] = str(self.excess)
        if self.field:
            data["field"] = self.field
        data["details"] = [d.as_dict() for d in self.details]
        return data


@dataclass(frozen=True)
class CheckResult:
    checked_on: date
    results: tuple[RuleResult, ...]

    @property
    def passed(self) -> bool:
        """True when no rule failed (warnings and information do not block)."""
        return all(r.outcome != FAIL for r in self.results)

    @property
    def failed_rules(self) -> list[str]:
        return [r.rule for r in self.results if r.outcome == FAIL]

    def result(self, rule: str) -> RuleResult:
        return next(r for r in self.results if r.rule == rule)

    def as_dict(self) -> dict:
        return {"passed": self.passed, "checked_on": self.checked_on.isoformat(),
                "results": [r.as_dict() for r in self.results]}


def _worst(details: Iterable[Detail], default: str = NOT_APPLICABLE) -> str:
    outcome = default
    for d in details:
        if _SEVERITY[d.outcome] > _SEVERITY[outcome]:
            outcome = d.outcome
    return outcome


def _n(index: int) -> int:
    """Measures are numbered from 1 in words, from 0 in ``details`` and the API's positions."""
    return index + 1


def _ground_labels(codes: Iterable[str], table: Mapping[str, Any], params: Params):
    return join("; ", (join(" ", [code, table[code] % {"cap": yuan(params.agri_amount_cap)}
                                  if code == AGRI_AMOUNT_GROUND else table[code]]) for code in codes))


# --- the rules -----------------------------------------------------------------------------


def valid_credit_grounds(g: GuaranteeFacts, params: Params) -> tuple[list[str], list[str]]:
    """CG-1: the claimed grounds that hold, and those that do not. Ground (2) needs the single
    guaranteed amount to be at most the cap (200万元及以下: 2,000,000.00 itself holds)."""
    holding, failing = [], []
    for code in g.credit_grounds:
        if code == AGRI_AMOUNT_GROUND and g.amount > params.agri_amount_cap:
            failing.append(code)
        else:
            holding.append(code)
    return holding, failing


def check_credit_expected(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-1 (第五条): where a credit-guarantee ground holds, the firm should ask for no counter-
    guarantee or a guarantee-type one only; a mortgage or pledge gets a warning naming the ground."""
    g, params = plan.guarantee, tables.params
    holding, failing = valid_credit_grounds(g, params)
    notes = []
    if failing:
        notes.append(_("Ground CG-1.2 does not hold: the guaranteed amount of %(amount)s yuan is more than "
                       "%(cap)s yuan.") % {"amount": yuan(g.amount), "cap": yuan(params.agri_amount_cap)})
    if not holding:
        if failing:
            return RuleResult("CG-1", INFO, join(" ", notes), field="credit_grounds")
        return RuleResult("CG-1", NOT_APPLICABLE, _("No credit-guarantee ground (第五条) is recorded for this borrower."),
                          field="credit_grounds")
    grounds = _ground_labels(holding, CREDIT_GROUNDS, params)
    collateral = [i for i, m in enumerate(plan.measures) if m.is_collateral]
    if collateral:
        details = tuple(
            Detail(WARNING, _("A credit guarantee is expected (%(codes)s): this %(kind)s goes beyond a guarantee.")
                   % {"codes": ", ".join(holding), "kind": KIND_LABELS[plan.measures[i].kind]}, "kind", i)
            for i in collateral
        )
        message = _("A credit guarantee is expected (%(grounds)s): ask for no counter-guarantee or a guarantee only, "
                    "but the plan has %(n)d mortgage or pledge measure(s) (no. %(which)s).") % {
            "grounds": grounds, "n": len(collateral), "which": ", ".join(str(_n(i)) for i in collateral)}
        return RuleResult("CG-1", WARNING, join(" ", [message, *notes]), field="credit_grounds",
                          details=details)
    message = _("A credit guarantee is expected (%(grounds)s), and the plan asks for no mortgage or pledge.") % {
        "grounds": grounds}
    return RuleResult("CG-1", PASS, join(" ", [message, *notes]), field="credit_grounds")


def check_lowered_threshold(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-2 (第六条): grounds on which the firm may weaken its collateral requirements, shown as
    information."""
    codes = plan.guarantee.lowered_grounds
    if not codes:
        return RuleResult("CG-2", NOT_APPLICABLE, _("No ground for a lower threshold (第六条) is recorded."),
                          field="lowered_grounds")
    return RuleResult("CG-2", INFO, _("The collateral requirements may be lowered: %(grounds)s.") % {
        "grounds": _ground_labels(codes, LOWERED_GROUNDS, tables.params)}, field="lowered_grounds")


def check_valuation(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-5 (第九条(三)): a mortgage or pledge has a value with its date, and the value is used
    only while its validity has not ended. Valid until the check date itself still counts."""
    on = plan.checked_on
    details: list[Detail] = []
    for i, m in enumerate(plan.measures):
        if not m.is_collateral:
            continue
        if m.value is None:
            details.append(Detail(FAIL, _("Measure %(n)d has no appraised value.") % {"n": _n(i)}, "value", i))
            continue
        if m.valued_on is None:
            details.append(Detail(FAIL, _("Measure %(n)d: the valuation has no date.") % {"n": _n(i)}, "valued_on", i))
            continue
        if m.valued_on > on:
            details.append(Detail(FAIL, _("Measure %(n)d: the valuation is dated %(date)s, after the check date "
                                          "%(on)s.") % {"n": _n(i), "date": m.valued_on, "on": on}, "valued_on", i))
            continue
        if m.valuation_valid_until is None:
            details.append(Detail(FAIL, _("Measure %(n)d: the valuation has no validity end.") % {"n": _n(i)},
                                  "valuation_valid_until", i))
            continue
        if m.valuation_valid_until < on:
            details.append(Detail(FAIL, _("Measure %(n)d: the valuation of %(value)s yuan expired on %(date)s; "
                                          "it cannot be used on %(on)s.")
                                  % {"n": _n(i), "value": yuan(m.value), "date": m.valuation_valid_until, "on": on},
                                  "valuation_valid_until", i))
            continue
        source = VALUATION_SOURCES.get(m.valuation_source)
        text = _("Measure %(n)d: %(value)s yuan, valued on %(date)s, valid until %(until)s.") % {
            "n": _n(i), "value": yuan(m.value), "date": m.valued_on, "until": m.valuation_valid_until}
        if source:
            text = f"{text} " + str(_("Source: %(source)s.") % {"source": source})
        details.append(Detail(PASS, text, "valuation_valid_until", i))
    if not details:
        return RuleResult("CG-5", NOT_APPLICABLE, _("No mortgage or pledge: nothing to value."))
    outcome = _worst(details)
    if outcome == FAIL:
        message = join(" ", [d.message for d in details if d.outcome == FAIL])
    else:
        message = str(_("Every mortgage and pledge has a valuation in force on %(on)s.") % {"on": on})
    return RuleResult("CG-5", outcome, message, details=tuple(details))


def _measure_exempt(m: MeasureFacts) -> bool:
    """CG-8: an innovative collateral that banks do not accept, with its reason."""
    return m.innovative and bool(m.innovative_reason)


def _plan_exempt(g: GuaranteeFacts) -> bool:
    """CG-8: a plan made to resolve existing risk (化解存量风险), with its reason."""
    return g.resolving_existing_risk and bool(g.resolving_reason)


def _flag_without_reason(plan: PlanInput) -> list[Detail]:
    details = []
    if plan.guarantee.resolving_existing_risk and not plan.guarantee.resolving_reason:
        details.append(Detail(WARNING, _("CG-8: the plan is flagged as resolving existing risk but gives no reason, "
                                         "so the exception is not used."), "resolving_reason"))
    for i, m in enumerate(plan.measures):
        if m.is_collateral and m.innovative and not m.innovative_reason:
            details.append(Detail(WARNING, _("CG-8: measure %(n)d is flagged as an innovative collateral but gives "
                                             "no reason, so the exception is not used.") % {"n": _n(i)},
                                  "innovative_reason", i))
    return details


def check_bank_rate(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-6 (第十条(一)): each mortgage or pledge applies a rate not below the banks' upper bound
    for its asset class (equal is enough). CG-8 exceptions are shown where used."""
    g = plan.guarantee
    collateral = [(i, m) for i, m in enumerate(plan.measures) if m.is_collateral]
    if not collateral:
        return RuleResult("CG-6", NOT_APPLICABLE, _("No mortgage or pledge: no rate to compare."))
    if _plan_exempt(g):
        return RuleResult("CG-6", INFO, _("CG-8: the plan resolves existing risk (%(reason)s); the bank-rate floor "
                                          "does not apply.") % {"reason": g.resolving_reason}, field="resolving_existing_risk")
    details: list[Detail] = []
    for i, m in collateral:
        bound = tables.bank_rate(m.asset_class)
        label = tables.asset_classes[m.asset_class].label or m.asset_class
        if _measure_exempt(m):
            details.append(Detail(INFO, _("CG-8: measure %(n)d is an innovative collateral banks do not accept "
                                          "(%(reason)s); the bank-rate floor does not apply.")
                                  % {"n": _n(i), "reason": m.innovative_reason}, "rate", i))
        elif m.rate is None:
            details.append(Detail(FAIL, _("Measure %(n)d has no rate applied; the banks' upper bound for %(cls)s is "
                                          "%(bound)s.") % {"n": _n(i), "cls": label, "bound": percent(bound)}, "rate", i))
        elif m.rate < bound:
            details.append(Detail(FAIL, _("Measure %(n)d applies %(rate)s, below the banks' upper bound of %(bound)s "
                                          "for %(cls)s.") % {"n": _n(i), "rate": percent(m.rate), "bound": percent(bound),
                                                             "cls": label}, "rate", i))
        else:
            details.append(Detail(PASS, _("Measure %(n)d applies %(rate)s, not below the banks' upper bound of "
                                          "%(bound)s for %(cls)s.") % {"n": _n(i), "rate": percent(m.rate),
                                                                        "bound": percent(bound), "cls": label}, "rate", i))
    details += [d for d in _flag_without_reason(plan)]
    outcome = _worst([d for d in details if d.field == "rate"])
    if outcome == FAIL:
        message = join(" ", [d.message for d in details if d.outcome == FAIL])
    elif outcome == INFO:
        message = join(" ", [d.message for d in details if d.outcome == INFO])
    else:
        message = join(" ", [d.message for d in details if d.field == "rate"])
    return RuleResult("CG-6", outcome, message, details=tuple(details))


def check_over_collateral(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-7 (第十条(二)): Σ value × applied rate over the mortgages and pledges must not exceed the
    guaranteed amount (equal is allowed). ``excess`` is that sum minus the amount. Guarantee-type
    measures have no value here; CG-8 exceptions leave a measure (or the whole plan) out."""
    g = plan.guarantee
    collateral = [(i, m) for i, m in enumerate(plan.measures) if m.is_collateral]
    if not collateral:
        return RuleResult("CG-7", NOT_APPLICABLE, _("No mortgage or pledge: nothing to add up."))
    details: list[Detail] = []
    total = Decimal("0.00")
    incomplete = []
    for i, m in collateral:
        if _measure_exempt(m):
            details.append(Detail(INFO, _("CG-8: measure %(n)d (innovative collateral: %(reason)s) is left out of the "
                                          "sum.") % {"n": _n(i), "reason": m.innovative_reason}, "value", i))
            continue
        if m.value is None or m.rate is None:
            incomplete.append(i)
            details.append(Detail(WARNING, _("Measure %(n)d has no value or rate, so it is not in the sum.")
                                  % {"n": _n(i)}, "value", i))
            continue
        part = discounted_value(m.value, m.rate)
        total += part
        details.append(Detail(INFO, _("Measure %(n)d: %(value)s × %(rate)s = %(part)s yuan.")
                              % {"n": _n(i), "value": yuan(m.value), "rate": percent(m.rate), "part": yuan(part)},
                              "value", i))
    excess = total - g.amount
    words = {"sum": yuan(total), "amount": yuan(g.amount), "excess": yuan(abs(excess))}
    if _plan_exempt(g):
        return RuleResult("CG-7", INFO, _("CG-8: the plan resolves existing risk (%(reason)s); the discounted sum of "
                                          "%(sum)s yuan against the guaranteed amount of %(amount)s yuan is not limited.")
                          % {**words, "reason": g.resolving_reason}, field="resolving_existing_risk", excess=excess,
                          details=tuple(details))
    details += _flag_without_reason(plan)
    if excess > 0:
        return RuleResult("CG-7", FAIL, _("Over-collateralised: the discounted value of %(sum)s yuan exceeds the "
                                          "guaranteed amount of %(amount)s yuan by %(excess)s yuan.") % words,
                          excess=excess, details=tuple(details))
    if incomplete:
        return RuleResult("CG-7", WARNING, _("The discounted value of the measures with a value and rate is %(sum)s "
                                             "yuan, within the guaranteed amount of %(amount)s yuan; measure(s) %(which)s "
                                             "could not be counted.")
                          % {**words, "which": ", ".join(str(_n(i)) for i in incomplete)}, excess=excess,
                          details=tuple(details))
    return RuleResult("CG-7", PASS, _("The discounted value of %(sum)s yuan does not exceed the guaranteed amount of "
                                      "%(amount)s yuan.") % words, excess=excess, details=tuple(details))


def check_term(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-9 (第十一条): no measure ends after the guarantee (ending on the same day is fine)."""
    end = plan.guarantee.end
    if not plan.measures:
        return RuleResult("CG-9", NOT_APPLICABLE, _("No measures."))
    details = []
    for i, m in enumerate(plan.measures):
        if m.end > end:
            details.append(Detail(FAIL, _("Measure %(n)d ends on %(date)s, after the guarantee ends on %(end)s.")
                                  % {"n": _n(i), "date": m.end, "end": end}, "end", i))
        else:
            details.append(Detail(PASS, _("Measure %(n)d ends on %(date)s, not after the guarantee (%(end)s).")
                                  % {"n": _n(i), "date": m.end, "end": end}, "end", i))
    outcome = _worst(details)
    if outcome == FAIL:
        message = join(" ", [d.message for d in details if d.outcome == FAIL])
    else:
        message = str(_("No measure ends after the guarantee ends on %(end)s.") % {"end": end})
    return RuleResult("CG-9", outcome, message, details=tuple(details))


def check_contracts(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-10 (第十二条): a contract with the guarantor, mortgagor or pledgor, signed by every
    co-owner; separate contracts for several measures; an organisation's resolution on file."""
    if not plan.measures:
        return RuleResult("CG-10", NOT_APPLICABLE, _("No measures."))
    details: list[Detail] = []
    numbers: dict[str, list[int]] = {}
    for i, m in enumerate(plan.measures):
        party = _("guarantor") if m.kind == GUARANTEE else _("mortgagor or pledgor")
        ok = True
        if not m.owners:
            ok = False
            details.append(Detail(FAIL, _("Measure %(n)d names no %(party)s.") % {"n": _n(i), "party": party}, "owners", i))
        missing = [o for o in m.owners if o not in m.signatories]
        if missing:
            ok = False
            if len(m.owners) > 1:
                text = _("Measure %(n)d: property held in common needs every co-owner's signature; missing: %(who)s.")
            else:
                text = _("Measure %(n)d: the contract is not signed by the %(party)s: %(who)s.")
            details.append(Detail(FAIL, text % {"n": _n(i), "party": party, "who": "、".join(missing)}, "signatories", i))
        if m.organisation and not m.resolution_on_file:
            ok = False
            details.append(Detail(FAIL, _("Measure %(n)d: an organisation as counter-guarantor needs its board or "
                                          "shareholder resolution (or written consent) on file.") % {"n": _n(i)},
                                  "resolution_on_file", i))
        if m.contract_no:
            numbers.setdefault(m.contract_no, []).append(i)
        else:
            ok = False
            details.append(Detail(WARNING, _("Measure %(n)d: no contract number recorded yet.") % {"n": _n(i)},
                                  "contract_no", i))
        if ok:
            details.append(Detail(PASS, _("Measure %(n)d: contract %(no)s with the %(party)s, signed by %(who)s.")
                                  % {"n": _n(i), "no": m.contract_no, "party": party, "who": "、".join(m.signatories)},
                                  "signatories", i))
    for number, where in numbers.items():
        if len(where) > 1:
            for i in where:
                details.append(Detail(FAIL, _("Measures %(which)s share contract %(no)s; each measure needs its own "
                                              "contract.") % {"which": ", ".join(str(_n(j)) for j in where), "no": number},
                                      "contract_no", i))
    outcome = _worst(details)
    if outcome in (FAIL, WARNING):
        seen, parts = set(), []
        for d in details:
            if d.outcome == outcome and str(d.message) not in seen:
                seen.add(str(d.message))
                parts.append(d.message)
        message = join(" ", parts)
    else:
        message = _("Every measure has its own contract, signed by every owner.")
    return RuleResult("CG-10", outcome, message, details=tuple(details))


def check_registration(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-11 (第十三条, 第十五条): a mortgage or pledge of a class the asset-class table says must be
    registered shows its registration (certificate number); the table says which registry. A lien
    (CG-12) arises by possession and needs none."""
    details: list[Detail] = []
    for i, m in enumerate(plan.measures):
        if not m.is_collateral:
            continue
        info = tables.asset_classes[m.asset_class]
        label = info.label or m.asset_class
        if m.flexible_form == LIEN:
            details.append(Detail(PASS, _("Measure %(n)d is a lien (留置): no registration is needed.") % {"n": _n(i)},
                                  "registration_number", i))
            continue
        if not info.needs_registration:
            details.append(Detail(NOT_APPLICABLE, _("Measure %(n)d: %(cls)s needs no registration.")
                                  % {"n": _n(i), "cls": label}, "registration_number", i))
            continue
        registry = REGISTRIES.get(info.registry, info.registry)
        if not m.registration_number:
            details.append(Detail(FAIL, _("Measure %(n)d: %(cls)s must be registered with the %(registry)s; no "
                                          "certificate number is recorded.") % {"n": _n(i), "cls": label,
                                                                                "registry": registry},
                                  "registration_number", i))
            continue
        if m.registry and m.registry != info.registry:
            details.append(Detail(WARNING, _("Measure %(n)d is recorded at the %(given)s, but %(cls)s is registered "
                                             "with the %(registry)s.") % {"n": _n(i), "given": REGISTRIES[m.registry],
                                                                          "cls": label, "registry": registry},
                                  "registry", i))
            continue
        how = _("online") if m.registered_online else _("on paper")
        details.append(Detail(PASS, _("Measure %(n)d: registered with the %(registry)s (%(how)s), certificate "
                                      "%(number)s.") % {"n": _n(i), "registry": registry, "how": how,
                                                        "number": m.registration_number},
                              "registration_number", i))
    if not details:
        return RuleResult("CG-11", NOT_APPLICABLE, _("No mortgage or pledge: nothing to register."))
    outcome = _worst(details)
    if outcome in (FAIL, WARNING):
        message = join(" ", [d.message for d in details if d.outcome == outcome])
    elif outcome == NOT_APPLICABLE:
        message = str(_("No measure of this plan needs registration."))
    else:
        message = join(" ", [d.message for d in details if d.outcome == PASS])
    return RuleResult("CG-11", outcome, message, details=tuple(details))


RULES = {
    "CG-1": check_credit_expected,
    "CG-2": check_lowered_threshold,
    "CG-5": check_valuation,
    "CG-6": check_bank_rate,
    "CG-7": check_over_collateral,
    "CG-9": check_term,
    "CG-10": check_contracts,
    "CG-11": check_registration,
}


def check_plan(plan: PlanInput, tables: Tables) -> CheckResult:
    """CG-1 … CG-11 on one plan, one result per rule of CHECKED_RULES: the preview API, the
    editor's live check and the approval all call this function."""
    return CheckResult(plan.checked_on, tuple(RULES[rule](plan, tables) for rule in CHECKED_RULES))


# --- CG-13 after the guarantee -------------------------------------------------------------


@dataclass(frozen=True)
class Limitation:
    """CG-13 for one measure: the date by which the firm must act, the last action that counted
    (None: none yet), and whether the right is already lost (an action came too late)."""

    due_on: date
    last_interruption: date | None
    lapsed: bool = False


def limitation(*, kind: str, recourse_from: date, actions: Iterable[tuple[date, str]], params: Params,
               liability: str = JOINT) -> Limitation:
    """CG-13 (seed 002 第十七条(五)): the date by which the firm must act on a measure to keep its rights,
    from the actions recorded (``(date, kind)`` of ENFORCEMENT_ACTIONS).

    Interpretation (民法典): the recourse claim arises when the firm pays the bank (代偿).
    - A guarantor (保证) stays liable only if, within the guarantee period (``guarantee_period_months``
      from then, 第六百九十二条, no period agreed), the firm sues or arbitrates — for a general
      guarantee (一般保证) against the debtor, the only way — or, for joint liability (连带责任保证),
      also demands in writing or the guarantor acknowledges (第六百九十三条, ``KEEPS_GUARANTEE``).
      From that action the guarantee debt's limitation runs, ``limitation_years`` (第六百九十四条);
      nothing done after the guarantee period has ended revives it.
    - A mortgage or pledge must be enforced within the limitation of the recourse claim,
      ``limitation_years`` (第一百八十八条, 第四百一十九条).
    Within a running limitation any recorded action interrupts it: ``limitation_years`` again from
    that day (第一百九十五条)."""
    years = 12 * params.limitation_years
    dated = sorted((on, what) for on, what in actions if on >= recourse_from)
    if kind == GUARANTEE:
        keeps = KEEPS_GUARANTEE.get(liability, KEEPS_GUARANTEE[GENERAL])  # unagreed: general, 第六百八十六条
        due, last, running = add_months(recourse_from, params.guarantee_period_months), None, False
    else:
        keeps, running = frozenset(ENFORCEMENT_ACTIONS), True
        due, last = add_months(recourse_from, years), None
    for on, what in dated:
        if on > due:
            return Limitation(due, last, lapsed=True)
        if running or what in keeps:
            running, due, last = True, add_months(on, years), on
    return Limitation(due, last)


def limitation_due_on(*, kind: str, recourse_from: date, last_interruption: date | None, params: Params,
                      liability: str = JOINT) -> date:
    """CG-13: ``limitation`` when the only action known is the last one (a suit, which keeps
    every kind of measure alive)."""
    actions = [(last_interruption, "lawsuit")] if last_interruption is not None else []
    return limitation(kind=kind, recourse_from=recourse_from, actions=actions, params=params,
                      liability=liability).due_on


# --- CG-14 credit-business share -----------------------------------------------------------


@dataclass(frozen=True)
class ShareYear:
    """CG-14 for one firm and year: guarantees with a decided plan, those with a mortgage or pledge,
    the two shares, and how they moved since the year before."""

    year: int
    guarantees: int
    with_collateral: int
    credit_share: Decimal | None
    collateral_share: Decimal | None
    credit_change: Decimal | None = None
    collateral_change: Decimal | None = None
    on_aim: bool | None = None  # credit share rising and collateral share falling year on year


def credit_shares(rows: Iterable[tuple[int, int, int]]) -> list[ShareYear]:
    """CG-14 (第三条): from (year, guarantees, guarantees with a mortgage or pledge), the credit-
    business share (信用担保业务占比, no mortgage or pledge) and the collateral share, with the year-
    on-year change. The policy aim is the first rising and the second falling; a year with no
    year before it (or no business) has no change and no verdict."""
    out: list[ShareYear] = []
    previous: ShareYear | None = None
    for year, total, collateral in sorted(rows):
        if total < 0 or collateral < 0 or collateral > total:
            raise RuleViolation("CG-14", _("The counts do not add up."), "rows")
        if total:
            collateral_share = round_ratio(Decimal(collateral) / Decimal(total))
            credit_share = _ONE - collateral_share
        else:
            credit_share = collateral_share = None
        row = ShareYear(year, total, collateral, credit_share, collateral_share)
        if previous is not None and previous.year == year - 1 and None not in (previous.credit_share, credit_share):
            credit_change = credit_share - previous.credit_share
            collateral_change = collateral_share - previous.collateral_share
            row = dataclasses.replace(row, credit_change=credit_change, collateral_change=collateral_change,
                                      on_aim=credit_change > 0 and collateral_change < 0)
        out.append(row)
        previous = row
    return out
