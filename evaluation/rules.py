"""Annual evaluation of guarantee firms and due-diligence exemption (rules EV-1 … EV-14), as pure
functions over dataclasses and ``Decimal``.

Source: seed 003 (Fujian, 闽金管〔2019〕10号), seed 000 (十五)(十六), seed 001 (十一); see the spec
``evaluation.md``. Nothing here queries or saves. Scores are ``Decimal`` points rounded once per
indicator to 2 places (ROUND_HALF_UP, EV-3); ratios use guarantees.rules (GU-7, GU-8) so the
indicator arithmetic lives in one place.

A scoring scheme is data (EV-3: every weight, target and breakpoint can change per year): a list
of ``Indicator`` rows, each naming one of the small fixed set of scoring functions in
``FUNCTIONS`` with its parameters. ``DEFAULT_SCHEME`` is the product's default.
"""
from __future__ import annotations

import calendar
import copy
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from core.errors import Problem, RuleViolation
from core.i18n_text import dump
from core.i18n_text import gettext_lazy as _
from core.money import money, ratio, share_of, to_decimal

POINT = Decimal("0.01")
_ZERO = Decimal("0")
_ONE = Decimal("1")
_TEN = Decimal("10")


def points(value: Decimal) -> Decimal:
    """EV-3: a score rounded once to 2 places, ROUND_HALF_UP."""
    return value.quantize(POINT, rounding=ROUND_HALF_UP)


def _number(value: Any, field_name: str, rule: str = "EV-3") -> Decimal:
    number = to_decimal(value)
    if number is None:
        raise RuleViolation(rule, _("Enter a number."), field_name)
    return number


# --- EV-1 who is evaluated ---------------------------------------------------------------------


class Exclusion:
    """EV-1: why a firm is left out of the ranking (evaluated by another scheme)."""

    AGRI_CREDIT = "agri_credit"  # 财农〔2017〕40号 agricultural credit guarantee firm
    PROVINCIAL_REGUARANTEE = "provincial_reguarantee"  # 省再担保公司


def is_evaluated(*, kind: str, exclusion: str | None = None) -> bool:
    """EV-1 (第二条, 第二十一条): government financing guarantee firms are evaluated; the provincial
    re-guarantee company (its own kind, or listed) and agricultural credit guarantee firms set up
    under 财农〔2017〕40号 (listed by the province for the year) are not."""
    return kind == "guarantee_firm" and not exclusion


# --- EV-2 / EV-3 scheme ------------------------------------------------------------------------

INPUTS = ("leverage", "sme_clients", "sme_amount", "support_share", "avg_fee_rate", "total_amount",
          "guarantee_balance", "net_assets")
TARGET_KEYS = ("leverage", "clients", "amount")


@dataclass(frozen=True)
class Indicator:
    """One indicator of a scoring scheme: ``code``, points ``weight``, scoring ``function`` with its
    ``params``, and its ``source`` (computed from the system's guarantees, or declared by the firm)."""

    code: str
    label: str
    weight: Decimal
    function: str
    params: Mapping[str, Any] = field(default_factory=dict)
    source: str = "computed"

    def as_dict(self) -> dict:
        return {"code": self.code, "label": self.label, "weight": str(self.weight), "function": self.function,
                "params": copy.deepcopy(dict(self.params)), "source": self.source}


def _target(spec: Mapping, targets: Mapping[str, Decimal]) -> Decimal | None:
    if "target_value" in spec:
        return Decimal(str(spec["target_value"]))
    return targets.get(spec["target"])


def _capped(value: Decimal | None, target: Decimal | None) -> Decimal:
    """min(value ÷ target, 1), unrounded; nothing to score (no value) is 0."""
    if value is None or target is None or target <= 0:
        return _ZERO
    return min(value / target, _ONE) if value > 0 else _ZERO


def score_capped_ratio(weight: Decimal, params: Mapping, values: Mapping, targets: Mapping) -> Decimal:
    """weight × min(x ÷ target, 1) (EV-3 leverage: 50 × min(L ÷ T, 1))."""
    return weight * _capped(values.get(params["input"]), _target(params, targets))


def score_capped_ratio_sum(weight: Decimal, params: Mapping, values: Mapping, targets: Mapping) -> Decimal:
    """Σ wᵢ × min(xᵢ ÷ targetᵢ, 1), parts added unrounded (EV-3 support: 10 + 10 + 10)."""
    return sum(
        (Decimal(str(part["weight"])) * _capped(values.get(part["input"]), _target(part, targets))
         for part in params["parts"]),
        _ZERO,
    )


def score_linear_descending(weight: Decimal, params: Mapping, values: Mapping, targets: Mapping) -> Decimal:
    """Full points at or below ``full_at``, 0 at or above ``zero_at``, linear in between (EV-3 fee:
    20 if f ≤ 1%, 0 if f ≥ 2%, 20 × (2% − f) ÷ 1%). No value (no business) scores 0."""
    x = values.get(params["input"])
    full_at, zero_at = Decimal(str(params["full_at"])), Decimal(str(params["zero_at"]))
    if x is None:
        return _ZERO
    if x <= full_at:
        return weight
    if x >= zero_at:
        return _ZERO
    return weight * (zero_at - x) / (zero_at - full_at)


def score_linear_ascending(weight: Decimal, params: Mapping, values: Mapping, targets: Mapping) -> Decimal:
    """0 at or below ``zero_at``, full at or above ``full_at``, linear in between (for schemes such
    as a risk-sharing-compliance share)."""
    x = values.get(params["input"])
    full_at, zero_at = Decimal(str(params["full_at"])), Decimal(str(params["zero_at"]))
    if x is None or x <= zero_at:
        return _ZERO
    if x >= full_at:
        return weight
    return weight * (x - zero_at) / (full_at - zero_at)


FUNCTIONS = {
    "capped_ratio": score_capped_ratio,
    "capped_ratio_sum": score_capped_ratio_sum,
    "linear_descending": score_linear_descending,
    "linear_ascending": score_linear_ascending,
}

# EV-2 (第六条 … 第八条): 100 points, leverage 50, support 30, fee 20; EV-3 the functions.
DEFAULT_SCHEME: tuple[Indicator, ...] = (
    Indicator("leverage", "放大倍数", Decimal("50"), "capped_ratio", {"input": "leverage", "target": "leverage"}),
    Indicator("support", "支小支农", Decimal("30"), "capped_ratio_sum", {"parts": [
        {"input": "sme_clients", "target": "clients", "weight": "10"},
        {"input": "sme_amount", "target": "amount", "weight": "10"},
        {"input": "support_share", "target_value": "0.8", "weight": "10"},
    ]}),
    Indicator("fee", "担保费率", Decimal("20"), "linear_descending",
              {"input": "avg_fee_rate", "full_at": "0.01", "zero_at": "0.02"}),
)


def parse_scheme(rows: Iterable[Mapping]) -> tuple[Indicator, ...]:
    """A scheme from stored JSON rows, checked: known functions and inputs, numeric parameters,
    a sum-of-parts indicator's parts add up to its weight, and the weights to 100 (EV-2)."""
    indicators, problems, codes = [], [], set()
    for index, row in enumerate(rows):
        where = f"indicators[{index}]"
        try:
            weight = Decimal(str(row.get("weight")))
            if not weight.is_finite() or weight <= 0:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            problems.append(Problem("EV-2", _("The weight must be a positive number."), f"{where}.weight"))
            continue
        function, params = row.get("function"), dict(row.get("params") or {})
        code = str(row.get("code") or "").strip()
        if not code or code in codes:
            problems.append(Problem("EV-3", _("Each indicator needs its own code."), f"{where}.code"))
        codes.add(code)
        if function not in FUNCTIONS:
            problems.append(Problem("EV-3", _("Unknown scoring function."), f"{where}.function"))
            continue
        problem = _params_problem(function, params, weight)
        if problem:
            problems.append(Problem("EV-3", problem, f"{where}.params"))
            continue
        indicators.append(Indicator(code, str(row.get("label") or code), weight, function, params,
                                    row.get("source") or "computed"))
    if not problems and not indicators:
        problems.append(Problem("EV-2", _("A scheme needs at least one indicator."), "indicators"))
    if not problems and sum((i.weight for i in indicators), _ZERO) != Decimal("100"):
        problems.append(Problem("EV-2", _("The weights must add up to 100 points."), "indicators"))
    if problems:
        raise RuleViolation.many(problems)
    return tuple(indicators)


def _params_problem(function: str, params: Mapping, weight: Decimal):
    def target_ok(spec: Mapping) -> bool:
        if spec.get("input") not in INPUTS:
            return False
        if "target_value" in spec:
            value = to_decimal(spec["target_value"])
            return value is not None and value > 0
        return spec.get("target") in TARGET_KEYS

    if function == "capped_ratio":
        return None if target_ok(params) else _("Name an input and a target (or a target value above 0).")
    if function == "capped_ratio_sum":
        parts = params.get("parts") or []
        if not parts or not all(isinstance(p, Mapping) and target_ok(p) and to_decimal(p.get("weight")) is not None
                                for p in parts):
            return _("Every part needs an input, a target and a weight.")
        if sum((Decimal(str(p["weight"])) for p in parts), _ZERO) != weight:
            return _("The parts' weights must add up to the indicator's weight.")
        return None
    full_at, zero_at = to_decimal(params.get("full_at")), to_decimal(params.get("zero_at"))
    if params.get("input") not in INPUTS or full_at is None or zero_at is None:
        return _("Name an input and the two breakpoints.")
    if (function == "linear_descending" and not full_at < zero_at) or (
        function == "linear_ascending" and not zero_at < full_at
    ):
        return _("The breakpoints are in the wrong order.")
    return None


# --- EV-3 figures and scoring ------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """EV-9: the year's targets T (leverage), n_target (clients), a_target (amount)."""

    leverage: Decimal
    clients: Decimal
    amount: Decimal

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Targets:
        problems, values = [], {}
        for key in TARGET_KEYS:
            number = to_decimal((data or {}).get(key))
            if number is None or number <= 0:
                problems.append(Problem("EV-9", _("Enter a target above 0."), f"targets.{key}"))
            else:
                values[key] = number
        if problems:
            raise RuleViolation.many(problems)
        return cls(**values)

    def as_mapping(self) -> dict[str, Decimal]:
        return {"leverage": self.leverage, "clients": self.clients, "amount": self.amount}


FIGURE_FIELDS = ("guarantee_balance", "net_assets", "sme_clients", "sme_amount", "total_amount", "avg_fee_rate")


def declared_problems(data: Mapping[str, Any]) -> tuple[dict[str, str], list[Problem]]:
    """EV-3: the firm's declared figures, any of them left empty: each given one a number of 0 or
    more (net assets above 0, clients a whole number), the small-micro and 三农 amount not above
    all guaranteed amount. Returns the figures as stored text and every problem at once, each
    naming its figure."""
    clean: dict[str, str] = {}
    problems: list[Problem] = []
    for name in FIGURE_FIELDS:
        value = data.get(name)
        if value in (None, ""):
            continue
        number = to_decimal(value)
        if number is None or number < 0:
            problems.append(Problem("EV-3", _("Enter a number that is 0 or more."), name))
        elif name == "net_assets" and number == 0:
            problems.append(Problem("EV-3", _("Net assets must be above 0: the leverage cannot be computed."), name))
        elif name == "sme_clients" and number != number.to_integral_value():
            problems.append(Problem("EV-3", _("Enter a whole number of clients."), name))
        else:
            clean[name] = str(number)
    if "sme_amount" in clean and "total_amount" in clean and Decimal(clean["sme_amount"]) > Decimal(clean["total_amount"]):
        problems.append(Problem("EV-3", _("The small-micro and 三农 amount cannot exceed all guaranteed amount."),
                                "sme_amount"))
    return clean, problems


@dataclass(frozen=True)
class FirmFigures:
    """EV-3's inputs for one firm and year: period-end balance and net assets (GU-8), the year's
    small-micro and 三农 clients n and amount a, all guaranteed amount written, and the
    amount-weighted fee rate of the small-micro and 三农 business f (GU-6)."""

    guarantee_balance: Decimal
    net_assets: Decimal
    sme_clients: int
    sme_amount: Decimal
    total_amount: Decimal
    avg_fee_rate: Decimal | None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, where: str = "") -> FirmFigures:
        """Parse and check (EV-3): every figure present, net assets above 0, amounts not negative,
        the small-micro amount not above the total. Problems name ``where`` + the field."""
        problems = []

        def problem(name, message):
            problems.append(Problem("EV-3", message, f"{where}{name}"))

        values: dict[str, Any] = {}
        for name in FIGURE_FIELDS:
            raw = data.get(name)
            number = to_decimal(raw)
            if raw is None or raw == "" or number is None:
                problem(name, _("This figure is missing or not a number."))
            elif name == "net_assets" and number <= 0:
                problem(name, _("Net assets must be above 0: the leverage cannot be computed."))
            elif number < 0:
                problem(name, _("This figure must not be negative."))
            elif name == "sme_clients" and number != number.to_integral_value():
                problem(name, _("Enter a whole number of clients."))
            else:
                values[name] = number
        if not problems and values["sme_amount"] > values["total_amount"]:
            problem("sme_amount", _("The small-micro and 三农 amount cannot exceed all guaranteed amount."))
        if problems:
            raise RuleViolation.many(problems)
        return cls(
            guarantee_balance=money(values["guarantee_balance"]),
            net_assets=money(values["net_assets"]),
            sme_clients=int(values["sme_clients"]),
            sme_amount=money(values["sme_amount"]),
            total_amount=money(values["total_amount"]),
            avg_fee_rate=ratio(values["avg_fee_rate"]),
        )

    @property
    def leverage(self) -> Decimal | None:
        """GU-8 放大倍数, six places, as guarantees.rules.leverage counts it (None without net
        assets); computed on the kernel so that the rules of the two apps stay apart."""
        return share_of(self.guarantee_balance, self.net_assets) if self.net_assets > 0 else None

    @property
    def support_share(self) -> Decimal | None:
        """GU-7 s = a ÷ all guaranteed amount written (guarantees.rules.support_share)."""
        return share_of(self.sme_amount, self.total_amount)

    def values(self) -> dict[str, Decimal | None]:
        return {
            "leverage": self.leverage, "sme_clients": Decimal(self.sme_clients), "sme_amount": self.sme_amount,
            "support_share": self.support_share, "avg_fee_rate": self.avg_fee_rate,
            "total_amount": self.total_amount, "guarantee_balance": self.guarantee_balance,
            "net_assets": self.net_assets,
        }

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "guarantee_balance": str(self.guarantee_balance), "net_assets": str(self.net_assets),
            "sme_clients": self.sme_clients, "sme_amount": str(self.sme_amount),
            "total_amount": str(self.total_amount),
            "avg_fee_rate": None if self.avg_fee_rate is None else str(self.avg_fee_rate),
        }


@dataclass(frozen=True)
class Score:
    scores: dict[str, Decimal]
    total: Decimal


def score(figures: FirmFigures, targets: Targets, scheme: Sequence[Indicator] = DEFAULT_SCHEME, *,
          declared: FirmFigures | None = None) -> Score:
    """EV-3: each indicator's score rounded once to 2 places (parts summed unrounded first), the
    total the sum of the rounded indicator scores. An indicator whose source is "declared" reads
    the firm's declared figures (when given); the others the figures computed by the system."""
    computed, target_map = figures.values(), targets.as_mapping()
    own = declared.values() if declared is not None else computed
    scores = {
        indicator.code: points(FUNCTIONS[indicator.function](
            indicator.weight, indicator.params, own if indicator.source == "declared" else computed, target_map))
        for indicator in scheme
    }
    return Score(scores=scores, total=sum(scores.values(), Decimal("0.00")))


DIFFERENCE_FLAG = Decimal("0.01")


def differs(computed: Any, declared: Any, *, tolerance: Decimal = DIFFERENCE_FLAG) -> bool:
    """EV-3: a declared figure differing from the computed one by more than 1% (of the computed
    one) is flagged for the reviewers. A declared figure where nothing was computed (or the
    reverse) is flagged unless both are 0; a missing declared figure is not flagged."""
    c, d = to_decimal(computed), to_decimal(declared)
    if d is None:
        return False
    if c is None:
        return d != 0
    if c == 0:
        return d != 0
    return abs(d - c) > abs(c) * tolerance


# --- EV-5 dates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainDates:
    """EV-5: the firm's filing deadline and each reviewer's; county and province are
    **Interpretation** (the text fixes only the firm's 90 days and the city's 30 April)."""

    firm: date
    county: date
    city: date
    province: date

    def as_dict(self) -> dict[str, date]:
        return {"firm": self.firm, "county": self.county, "city": self.city, "province": self.province}


def firm_deadline(year: int, days: int = 90) -> date:
    """EV-5 (第九条): within ``days`` after the year ends: 31 December + 90 days, which is 31 March,
    or 30 March when that February has 29 days."""
    return date(year, 12, 31) + timedelta(days=days)


def chain_dates(year: int, *, firm_days: int = 90, county_day: tuple[int, int] = (4, 15),
                city_day: tuple[int, int] = (4, 30), province_day: tuple[int, int] = (5, 31)) -> ChainDates:
    """EV-5: firm (31 Dec + 90 days), county (15 April, Interpretation), city to the province by
    30 April, province review and results by 31 May (Interpretation) of the next year."""
    nxt = year + 1
    return ChainDates(firm=firm_deadline(year, firm_days), county=date(nxt, *county_day),
                      city=date(nxt, *city_day), province=date(nxt, *province_day))


def targets_deadline(year: int) -> date:
    """EV-9 (第十三条): the province sets year ``year``'s targets by the end of May of that year."""
    return date(year, 5, calendar.monthrange(year, 5)[1])


# --- parameters (versioned rule set "evaluation") -----------------------------------------------


@dataclass(frozen=True)
class EvaluationParams:
    """The evaluation rule-set parameters (core.RuleSet scheme "evaluation", in force on the last
    day of the year evaluated); the defaults are the shipped policy values. The scoring scheme
    and the targets are per year (EvaluationYear), not here."""

    firm_days: int = 90  # EV-5: 31 December + 90 days
    county_due: str = "04-15"  # EV-5 Interpretation
    city_due: str = "04-30"  # EV-5: to the province by 30 April
    province_due: str = "05-31"  # EV-5 Interpretation
    top_share: Decimal = Decimal("0.1")  # EV-7: 前10% / 后10%
    excellent_factor: Decimal = Decimal("1.5")  # EV-7: 超过当年目标值50%
    difference_flag: Decimal = Decimal("0.01")  # EV-3: declared vs computed

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> EvaluationParams:
        """From a stored rule set: unknown keys ignored, missing keys keep defaults, bad ones refused."""
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            if spec.name not in data:
                continue
            raw = data[spec.name]
            if spec.name == "firm_days":
                number = to_decimal(raw)
                if number is None or number < 1 or number != number.to_integral_value():
                    raise RuleViolation("EV-5", _("Enter a whole number of days."), spec.name)
                values[spec.name] = int(number)
            elif spec.name.endswith("_due"):
                try:
                    month, day = (int(part) for part in str(raw).split("-"))
                    date(2024, month, day)
                except ValueError:
                    raise RuleViolation("EV-5", _("Enter a month and day as MM-DD."), spec.name) from None
                values[spec.name] = f"{month:02d}-{day:02d}"
            else:
                number = to_decimal(raw)
                if number is None or number <= 0:
                    raise RuleViolation("EV-7", _("This parameter must be above 0."), spec.name)
                values[spec.name] = number
        return cls(**values)

    def as_mapping(self) -> dict[str, Any]:
        return {spec.name: (str(v) if isinstance(v := getattr(self, spec.name), Decimal) else v)
                for spec in dataclasses.fields(self)}

    def dates(self, year: int) -> ChainDates:
        def md(text: str) -> tuple[int, int]:
            month, day = text.split("-")
            return int(month), int(day)

        return chain_dates(year, firm_days=self.firm_days, county_day=md(self.county_due),
                           city_day=md(self.city_due), province_day=md(self.province_due))


# --- EV-5 chain --------------------------------------------------------------------------------


class State:
    DRAFT = "draft"
    COUNTY = "county_review"
    CITY = "city_review"
    PROVINCE = "province_review"
    ACCEPTED = "accepted"


def chain_steps(*, has_county: bool, has_city: bool) -> list[str]:
    """EV-5: the review steps a firm's submission goes through, in order; a level the firm has
    no supervisor at is skipped (a city-level firm goes straight to the city)."""
    steps = [State.DRAFT]
    if has_county:
        steps.append(State.COUNTY)
    if has_city:
        steps.append(State.CITY)
    return [*steps, State.PROVINCE, State.ACCEPTED]


def next_step(state: str, steps: list[str]) -> str:
    """EV-5: where a submission goes when the party holding it forwards (or the firm submits)."""
    if state not in steps or state == State.ACCEPTED:
        raise RuleViolation("EV-5", _("This submission cannot be forwarded from here."))
    return steps[steps.index(state) + 1]


def previous_step(state: str, steps: list[str]) -> str:
    """EV-5: each step can return the submission one step back, with a reason."""
    if state not in steps or state in (State.DRAFT, State.ACCEPTED):
        raise RuleViolation("EV-5", _("This submission cannot be returned from here."))
    return steps[steps.index(state) - 1]


@dataclass(frozen=True)
class StepLateness:
    """EV-5: one step of a submission's chain (named by the state of whoever owes it: ``draft``
    is the firm's filing, ``county_review`` the county's opinion, …), its deadline, the day it was
    taken (None: not yet), and whether it is late."""

    state: str
    due: date
    taken_on: date | None
    late: bool
    days_late: int


def chain_lateness(*, steps: list[str], dates: ChainDates, taken: Mapping[str, date | None], state: str,
                   today: date) -> list[StepLateness]:
    """EV-5 (第九条): each step of the chain judged by the day it was actually taken, not by where
    the submission is now, so a late filing stays late after it moves on. A step taken on its
    deadline day is in time; one taken the day after is late. The step the submission is held at
    is also late once its deadline has passed (it is owed, and overdue, again after a return). A
    step not reached yet, or passed before its day was recorded, is not late."""
    due_of = {State.DRAFT: dates.firm, State.COUNTY: dates.county, State.CITY: dates.city,
              State.PROVINCE: dates.province}
    position = steps.index(state) if state in steps else len(steps)
    result = []
    for index, step in enumerate(steps):
        if step not in due_of:
            continue
        due, on = due_of[step], taken.get(step)
        late_taken = on is not None and on > due
        held_overdue = index == position and today > due
        late = late_taken or held_overdue
        end = on if late_taken else today
        result.append(StepLateness(state=step, due=due, taken_on=on, late=late,
                                   days_late=(end - due).days if late else 0))
    return result


# --- EV-6 … EV-8 ranking, class, regions -------------------------------------------------------


class Klass:
    EXCELLENT = "excellent"  # 优秀
    QUALIFIED = "qualified"  # 合格
    UNQUALIFIED = "unqualified"  # 不合格


@dataclass(frozen=True)
class Ranked:
    id: str
    total: Decimal
    leverage: Decimal | None
    rank: int
    rank_from_bottom: int
    klass: str


def competition_ranks(values: Sequence[Decimal], *, descending: bool = True) -> list[int]:
    """EV-6: standard competition ranking, equal values share the best rank (1, 2, 2, 4)."""
    ordered = sorted(values, reverse=descending)
    first: dict[Decimal, int] = {}
    for position, value in enumerate(ordered, start=1):
        first.setdefault(value, position)
    return [first[value] for value in values]


def in_tenth(rank: int, n: int, share: Decimal = Decimal("0.1")) -> bool:
    """EV-7 (**Interpretation** of 前10% / 后10%): rank r ≤ 10% × n, compared exactly (no rounding:
    with n = 15 only ranks ≤ 1.5, so rank 1, count; with n = 10 rank 1; with n = 9 none)."""
    return Decimal(rank) <= share * n


def classify(*, rank: int, rank_from_bottom: int, n: int, leverage: Decimal | None, target: Decimal,
             share: Decimal = Decimal("0.1"), excellent_factor: Decimal = Decimal("1.5")) -> str:
    """EV-7 (第六条): excellent = top 10% and L > 1.5 × T (放大倍数超过当年目标值50%, strict);
    unqualified = bottom 10% (ranked from the bottom, ties share) and L < T (未完成, strict);
    otherwise qualified. A firm without a leverage has not reached T."""
    if in_tenth(rank, n, share) and leverage is not None and leverage > excellent_factor * target:
        return Klass.EXCELLENT
    if in_tenth(rank_from_bottom, n, share) and (leverage is None or leverage < target):
        return Klass.UNQUALIFIED
    return Klass.QUALIFIED


def rank_and_classify(rows: Sequence[tuple[str, Decimal, Decimal | None]], target: Decimal, *,
                      share: Decimal = Decimal("0.1"), excellent_factor: Decimal = Decimal("1.5")) -> list[Ranked]:
    """EV-6 + EV-7 over ``rows`` of (id, total, leverage), answered in the order given."""
    totals = [total for _id, total, _lev in rows]
    ranks = competition_ranks(totals)
    bottoms = competition_ranks(totals, descending=False)
    n = len(rows)
    return [
        Ranked(id=row_id, total=total, leverage=lev, rank=rank, rank_from_bottom=bottom,
               klass=classify(rank=rank, rank_from_bottom=bottom, n=n, leverage=lev, target=target, share=share,
                              excellent_factor=excellent_factor))
        for (row_id, total, lev), rank, bottom in zip(rows, ranks, bottoms, strict=True)
    ]


@dataclass(frozen=True)
class RegionRank:
    region: str
    mean: Decimal
    firms: int
    rank: int


def rank_regions(rows: Iterable[tuple[str, Decimal]]) -> list[RegionRank]:
    """EV-8 (第九条(二)): cities (and the Pingtan zone) ranked by the mean total score of their
    evaluated firms, the mean rounded to 2 places (ROUND_HALF_UP) and ranked on that rounded
    mean, ties sharing the best rank; answered best first, then by name."""
    groups: dict[str, list[Decimal]] = {}
    for region, total in rows:
        groups.setdefault(region, []).append(total)
    means = {region: points(sum(totals, _ZERO) / len(totals)) for region, totals in groups.items()}
    names = list(means)
    ranks = dict(zip(names, competition_ranks([means[n] for n in names]), strict=True))
    return sorted(
        (RegionRank(region=n, mean=means[n], firms=len(groups[n]), rank=ranks[n]) for n in names),
        key=lambda r: (r.rank, r.region),
    )


# --- EV-10 use of results ----------------------------------------------------------------------

SUPERVISION_FREQUENCY = {Klass.EXCELLENT: "yearly", Klass.QUALIFIED: "half_yearly", Klass.UNQUALIFIED: "quarterly"}


def supervision_frequency(klass: str) -> str:
    """EV-10 (第十二条): the class drives supervision frequency (**Interpretation**: excellent once a
    year, qualified twice, unqualified every quarter); an unqualified firm also gets an interview."""
    return SUPERVISION_FREQUENCY[klass]


def needs_interview(klass: str) -> bool:
    """EV-10: an unqualified firm gets an interview (约谈) record to schedule and close."""
    return klass == Klass.UNQUALIFIED


# --- EV-11 … EV-14 exemption -------------------------------------------------------------------

GROUNDS = {
    # EV-11 减责 (第十七条)
    "EV-11.1": _("No fraud or rule-breaking, a loss from a work error, recovery actively pursued and the loss "
                 "basically recovered"),
    "EV-11.2": _("Another circumstance set by law or regulation (reduction)"),
    # EV-12 免责 (第十八条)
    "EV-12.1": _("Government-supported business for social stability or risk prevention, handled by the rules"),
    "EV-12.2": _("Business in an industry the state supports, handled by the rules"),
    "EV-12.3": _("An industry-wide risk caused by a change of national industrial policy"),
    "EV-12.4": _("Business handed over after a job change, with no fault by the successor"),
    "EV-12.5": _("Borrower of good credit whose actual controller suffered illness, accident, disaster, death "
                 "or incapacity, leaving a loss after recovery"),
    "EV-12.6": _("Collateral that lost value through the market"),
    "EV-12.7": _("Force majeure, with staff disclosing the risk and acting at once"),
    "EV-12.8": _("Another circumstance set by law or regulation (exemption)"),
    # EV-13 追责 (第二十条)
    "EV-13.1": _("Falsification, collusion or concealment to obtain a guarantee"),
    "EV-13.2": _("Breaking internal rules or procedure, exceeding authority"),
    "EV-13.3": _("Asking for or taking improper benefits"),
    "EV-13.4": _("No on-site check of collateral, or a grossly wrong valuation with a clearly excessive amount"),
    "EV-13.5": _("Other breaches of law or rules"),
}


class Outcome:
    ACCOUNTABLE = "accountable"  # 追责
    EXEMPT = "exempt"  # 免责
    REDUCED = "reduced"  # 减责
    NOT_EXEMPT = "not_exempt"  # 不予免责


@dataclass(frozen=True)
class Decision:
    outcome: str
    reasons: list[dict]

    def as_dict(self) -> dict:
        return {"outcome": self.outcome, "reasons": self.reasons}


def check_grounds(codes: Iterable[Any]) -> list[str]:
    """The ground codes (EV-11.1, EV-12.1 … EV-12.8, EV-13.1 … EV-13.5), checked; unknown is an error."""
    codes = list(codes)
    unknown = [str(c) for c in codes if c not in GROUNDS]
    if unknown:
        raise RuleViolation("EV-14", _("Unknown ground: %(codes)s.") % {"codes": ", ".join(unknown)}, "grounds")
    return sorted(set(codes), key=lambda c: list(GROUNDS).index(c))


def decide_exemption(grounds: Iterable[str], *, staff_at_fault: bool) -> Decision:
    """EV-14: accountable (追责) if any EV-13 ground is found (it rules out reduction and exemption);
    else exempt (免责) if an EV-12 ground is found and no staff fault; else reduced (减责) if an
    EV-11 ground is found; else not exempt (不予免责)."""
    found = check_grounds(grounds)
    by_rule = {rule: [c for c in found if c.startswith(rule + ".")] for rule in ("EV-11", "EV-12", "EV-13")}

    def listed(rule):
        return ", ".join(by_rule[rule])

    if by_rule["EV-13"]:
        return Decision(Outcome.ACCOUNTABLE, [{"rule": "EV-13", "message": dump(
            _("Accountability grounds found (%(codes)s): reduction and exemption are ruled out.")
            % {"codes": listed("EV-13")})}])
    reasons = []
    if by_rule["EV-12"]:
        if not staff_at_fault:
            return Decision(Outcome.EXEMPT, [{"rule": "EV-12", "message": dump(
                _("Exemption grounds found (%(codes)s) and no fault of the staff involved.")
                % {"codes": listed("EV-12")})}])
        reasons.append({"rule": "EV-12", "message": dump(
            _("Exemption grounds found (%(codes)s), but the staff involved were at fault.")
            % {"codes": listed("EV-12")})})
    if by_rule["EV-11"]:
        return Decision(Outcome.REDUCED, [*reasons, {"rule": "EV-11", "message": dump(
            _("Reduced-liability grounds found (%(codes)s).") % {"codes": listed("EV-11")})}])
    return Decision(Outcome.NOT_EXEMPT, [*reasons, {"rule": "EV-14", "message": dump(
        _("No ground for reduction or exemption was found."))}])


def check_appeal_reviewer(*, appeal_reviewer_id: int, first_reviewer_id: int | None) -> None:
    """EV-14 (seed 000 (十五)): an appeal is decided by a different reviewer than the first decision."""
    if first_reviewer_id is not None and appeal_reviewer_id == first_reviewer_id:
        raise RuleViolation("EV-14", _("An appeal must be decided by a different reviewer."), "reviewer")


# --- EV-4 materials ----------------------------------------------------------------------------

MAX_MATERIAL_BYTES = 20 * 1024 * 1024
# What a material is served as: the type its content was recognised as (never the name it came
# with). A PDF opens in the browser; an Office file is downloaded.
MATERIAL_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
MATERIAL_INLINE = frozenset({"pdf"})


def material_file_name(name: str, kind: str) -> str:
    """EV-4: the stored name of an upload: its own name (without folders) with the extension of
    what its content is, so no file is ever stored or offered as something else (a PDF named
    ``report.html`` is kept as ``report.pdf``)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem.strip()[:80] or 'material'}.{kind}"


def upload_kind(head: bytes, names: Sequence[str] | None) -> str | None:
    """EV-4: the upload's type by content: "pdf" (%PDF), "xlsx" or "docx" (an OOXML zip holding
    [Content_Types].xml and xl/workbook.xml or word/document.xml); None for anything else.
    ``names`` are the zip's member names (None when the content is not a zip)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if names is not None and "[Content_Types].xml" in names:
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "word/document.xml" in names:
            return "docx"
    return None


def default_scheme_rows() -> list[dict]:
    """The default scheme (EV-2, EV-3) as stored JSON rows; the per-year default of EvaluationYear."""
    return [indicator.as_dict() for indicator in DEFAULT_SCHEME]
