"""Risk pool rule-set parameters: Scheme S and Scheme M parameter sets (defaults, parsing from a
stored rule set, dumping back), the sub-funds, the shared result type ``Reason`` and the small
parsing helpers every seam uses. Pure: nothing here queries or saves."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from core.errors import Problem, RuleViolation
from core.i18n_text import dump
from core.i18n_text import gettext_lazy as _
from core.money import amount as _amount
from core.money import ratio

if TYPE_CHECKING:  # core.calendar reads its override table from the database; only its type here
    from core.calendar import Deadline

_ZERO = Decimal("0")
_ONE = Decimal("1")
_HUNDRED = Decimal("100")
_NO_MONEY = Decimal("0.00")
_NO_RATIO = Decimal("0.000000")

# Reason outcomes.
PASS, FAIL, INFO, NOT_CHECKED = "pass", "fail", "info", "not_checked"
OUTCOMES = (PASS, FAIL, INFO, NOT_CHECKED)

# RP-3 loan kinds (贷款类别): 中型、小型、微型企业贷款 / 小微企业主贷款 / 个体工商户贷款.
LOAN_KINDS = ("enterprise", "owner", "individual_business")
# RP-7: the one purpose that is compensated (本企业生产经营).
OWN_OPERATIONS = "operations"
# RP-7: LPR terms, as core.models.LprRate.Term spells them.
LPR_ONE_YEAR, LPR_FIVE_YEARS = "1y", "5y"

QUALIFICATION_LABELS = {
    "single_champion": _("manufacturing single champion (制造业单项冠军)"),
    "high_tech": _("national high-tech enterprise (国家高新技术企业)"),
    "tech_sme": _("technology-based SME (科技型中小企业)"),
    "little_giant": _("specialised “little giant” (专精特新“小巨人”)"),
    "specialized_sme": _("specialised and innovative SME (专精特新中小企业)"),
    "innovative_sme": _("innovative SME (创新型中小企业)"),
    "agri_leader": _("key agricultural leading enterprise (重点农业龙头企业)"),
    "key_enterprise": _("sector key-enterprise list (重点企业名录)"),
}
FEATURE_LABELS = {
    "first_loan": _("first loan (首笔贷款)"),
    "gov_procurement": _("government procurement order financing (政府采购订单融资)"),
    "renewal_without_repayment": _("renewal without principal repayment (无还本续贷)"),
    "green": _("green credit (绿色信贷)"),
    "pure_credit": _("pure credit (纯信用)"),
    "ip_pledge": _("intellectual property pledge (知识产权质押)"),
    "receivables_pledge": _("receivables pledge (应收账款质押)"),
    "inventory_pledge": _("inventory pledge (存货质押)"),
}
PURPOSE_LABELS = {
    OWN_OPERATIONS: _("the borrower's own production and operation"),
    "relending": _("re-lending (转贷)"),
    "entrusted": _("entrusted loan (委托贷款)"),
    "m_and_a": _("merger and acquisition (并购贷款)"),
    "prohibited": _("a prohibited or restricted project"),
    "private_lending": _("private lending (民间借贷)"),
    "capital_market": _("capital-market investment"),
    "consumption": _("personal consumption"),
}


# --- small helpers -------------------------------------------------------------------------


def _fraction(value: Any, rule: str, field: str) -> Decimal:
    """A ratio in [0, 1], six places."""
    number = ratio(value, rule=rule, field=field)
    if not _ZERO <= number <= _ONE:
        raise RuleViolation(rule, _("Enter a ratio between 0 and 1."), field)
    return number


# --- the working-day calendar (JB-1) -------------------------------------------------------


@runtime_checkable
class WorkingDayCalendar(Protocol):
    """JB-1, what the rules need of the working-day calendar. ``core.calendar`` (the module)
    fits; the tests pass a pure fake built on the same ``chinese_calendar`` package.

    The rules count through ``working_day_deadline`` only, because its ``Deadline`` carries
    the provisional flag (a day in a year whose holidays are not known yet); the n-th working
    day of quarter Q+1 is the n-th working day after the last day of Q, the same date as
    ``nth_working_day_of_quarter`` gives.
    """

    def is_working_day(self, d: date) -> bool: ...

    def working_day_deadline(self, d: date, n: int) -> Deadline: ...

    def nth_working_day_of_quarter(self, year: int, quarter: int, n: int) -> date: ...


# --- parameters ----------------------------------------------------------------------------


def _param(default: Any, rule: str, kind: str):
    return dataclasses.field(default=default, metadata={"rule": rule, "kind": kind})


def _parse_int(value: Any, rule: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RuleViolation(rule, _("Enter a whole number, 0 or more."), name)
    try:
        number = int(value)
    except ValueError:
        raise RuleViolation(rule, _("Enter a whole number, 0 or more."), name) from None
    if number < 0:
        raise RuleViolation(rule, _("Enter a whole number, 0 or more."), name)
    return number


def _parse_codes(value: Any, rule: str, name: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise RuleViolation(rule, _("Enter a list of codes."), name)
    codes = tuple(value)
    if not all(isinstance(code, str) and code.strip() for code in codes):
        raise RuleViolation(rule, _("Enter a list of codes."), name)
    return tuple(code.strip() for code in codes)


def _parse_tiers(value: Any, rule: str, name: str) -> tuple[tuple[Decimal, Decimal], ...]:
    """RP-8 tiers: (ceiling in yuan, ratio) pairs, ceilings strictly rising."""
    message = _("Enter the tiers as (ceiling in yuan, ratio) pairs with rising ceilings.")
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise RuleViolation(rule, message, name)
    tiers = []
    for pair in value:
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise RuleViolation(rule, message, name)
        tiers.append((_amount(pair[0], rule, name), _fraction(pair[1], rule, name)))
    if not tiers or any(a[0] >= b[0] for a, b in pairwise(tiers)):
        raise RuleViolation(rule, message, name)
    return tuple(tiers)


@dataclass(frozen=True)
class SubFund:
    """RP-M2: a product sub-fund (产品资金), its size, and the products it pays for."""

    code: str
    size: Decimal
    products: tuple[str, ...]


def _parse_sub_funds(value: Any, rule: str, name: str) -> tuple[SubFund, ...]:
    message = _("Enter the sub-funds as a list of {code, size, products}.")
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise RuleViolation(rule, message, name)
    funds = []
    for item in value:
        if isinstance(item, SubFund):
            item = {"code": item.code, "size": item.size, "products": item.products}
        if not isinstance(item, Mapping) or not {"code", "size", "products"} <= set(item):
            raise RuleViolation(rule, message, name)
        code = _parse_codes([item["code"]], rule, name)[0]
        funds.append(SubFund(code, _amount(item["size"], rule, name), _parse_codes(item["products"], rule, name)))
    products = [p for fund in funds for p in fund.products]
    if not funds or len(products) != len(set(products)) or len({f.code for f in funds}) != len(funds):
        raise RuleViolation(rule, _("Every product must belong to exactly one sub-fund."), name)
    return tuple(funds)


_PARSERS = {
    "money": lambda v, r, n: _amount(v, r, n),
    "ratio": lambda v, r, n: _fraction(v, r, n),
    "int": _parse_int,
    "codes": _parse_codes,
    "tiers": _parse_tiers,
    "sub_funds": _parse_sub_funds,
}


def _dump(value: Any, kind: str) -> Any:
    if kind in ("money", "ratio"):
        return str(value)
    if kind == "tiers":
        return [[str(ceiling), str(share)] for ceiling, share in value]
    if kind == "codes":
        return list(value)
    if kind == "sub_funds":
        return [{"code": f.code, "size": str(f.size), "products": list(f.products)} for f in value]
    return value


class _Params:
    """``from_mapping`` / ``as_mapping`` shared by the two schemes' parameter sets."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]):
        """Build from a stored rule set: unknown keys ignored, missing keys keep defaults."""
        values = {}
        for spec in dataclasses.fields(cls):
            if spec.name in data:
                parse = _PARSERS[spec.metadata["kind"]]
                values[spec.name] = parse(data[spec.name], spec.metadata["rule"], spec.name)
        return cls(**values)

    def as_mapping(self) -> dict[str, Any]:
        """JSON-ready: money and ratios as strings, tuples as lists (round-trips through
        ``from_mapping``)."""
        return {spec.name: _dump(getattr(self, spec.name), spec.metadata["kind"]) for spec in dataclasses.fields(self)}


@dataclass(frozen=True)
class SchemeSParams(_Params):
    """Scheme S (深工信规〔2024〕5号) rule-set parameters; defaults are the shipped policy values."""

    pool_size: Decimal = _param(Decimal("5000000000.00"), "RP-1", "money")
    enterprise_balance_cap: Decimal = _param(Decimal("30000000.00"), "RP-3", "money")
    household_credit_cap: Decimal = _param(Decimal("10000000.00"), "RP-3", "money")
    credit_report_working_days: int = _param(10, "RP-4", "int")
    entry_working_day: int = _param(15, "RP-6", "int")
    lpr_spread: Decimal = _param(Decimal("0.020000"), "RP-7", "ratio")  # 200BP, added to the LPR fraction
    lpr_short_term_years: int = _param(5, "RP-7", "int")  # term <= this uses the 1-year LPR
    excluded_purposes: tuple[str, ...] = _param(
        ("relending", "entrusted", "m_and_a", "prohibited", "private_lending", "capital_market", "consumption"),
        "RP-7",
        "codes",
    )
    tiers: tuple[tuple[Decimal, Decimal], ...] = _param(
        (
            (Decimal("5000000.00"), Decimal("0.400000")),
            (Decimal("15000000.00"), Decimal("0.300000")),
            (Decimal("30000000.00"), Decimal("0.200000")),
        ),
        "RP-8",
        "tiers",
    )
    qualification_bonus: Decimal = _param(Decimal("0.100000"), "RP-9", "ratio")
    qualification_codes: tuple[str, ...] = _param(tuple(QUALIFICATION_LABELS), "RP-9", "codes")
    feature_bonus: Decimal = _param(Decimal("0.100000"), "RP-10", "ratio")
    feature_codes: tuple[str, ...] = _param(tuple(FEATURE_LABELS), "RP-10", "codes")
    ratio_cap: Decimal = _param(Decimal("0.500000"), "RP-11", "ratio")
    claim_window_months: int = _param(3, "RP-14", "int")
    npl_gate: Decimal = _param(Decimal("0.030000"), "RP-15", "ratio")
    review_days: int = _param(30, "RP-16", "int")
    notice_working_days: int = _param(7, "RP-16", "int")
    documents_days: int = _param(3, "RP-16", "int")
    payment_days: int = _param(10, "RP-16", "int")
    transfer_working_days: int = _param(15, "RP-16", "int")
    upgrade_working_days: int = _param(15, "RP-16", "int")
    recovery_report_working_days: int = _param(15, "RP-16", "int")
    settlement_working_days: int = _param(15, "RP-16", "int")
    closure_review_days: int = _param(30, "RP-16", "int")
    normal_closure_months: int = _param(3, "RP-18", "int")
    auto_closure_months: int = _param(6, "RP-18", "int")
    evaluation_volume_top: Decimal = _param(Decimal("0.600000"), "RP-20", "ratio")
    evaluation_growth_excellent_top: Decimal = _param(Decimal("0.150000"), "RP-20", "ratio")
    evaluation_growth_good_top: Decimal = _param(Decimal("0.300000"), "RP-20", "ratio")
    revocation_unqualified_years: int = _param(2, "RP-22", "int")
    reapply_after_years: int = _param(2, "RP-22", "int")


@dataclass(frozen=True)
class SchemeMParams(_Params):
    """Scheme M (马政办〔2024〕6号) rule-set parameters; defaults are the shipped policy values.

    RP-M2 products: 科信贷 ``sci_tech``, 出口贷 ``export``, 税源贷 ``tax_source`` and
    固定资产投资贷 ``fixed_asset_investment``; the last two share one sub-fund.
    """

    ratio_in_system: Decimal = _param(Decimal("0.400000"), "RP-M1", "ratio")
    ratio_outside_system: Decimal = _param(Decimal("0.200000"), "RP-M1", "ratio")
    sub_funds: tuple[SubFund, ...] = _param(
        (
            SubFund("sci_tech", Decimal("35000000.00"), ("sci_tech",)),
            SubFund("export", Decimal("10000000.00"), ("export",)),
            SubFund("tax_and_fixed_asset", Decimal("20000000.00"), ("tax_source", "fixed_asset_investment")),
        ),
        "RP-M2",
        "sub_funds",
    )
    suspension_rate: Decimal = _param(Decimal("0.040000"), "RP-M3", "ratio")
    suspension_usage: Decimal = _param(Decimal("0.700000"), "RP-M3", "ratio")
    return_days: int = _param(30, "RP-M5", "int")
    report_month: int = _param(3, "RP-M6", "int")


S_DEFAULTS = SchemeSParams()
M_DEFAULTS = SchemeMParams()


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """One rule's result for the quote and the reviewer's screen: the rule id, its outcome
    (``pass``, ``fail``, ``info`` or ``not_checked``) and a message in words."""

    rule: str
    outcome: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "outcome": self.outcome, "message": dump(self.message)}


def _number(value: Any) -> Decimal | None:
    """A finite Decimal from a Decimal, int or numeric string (never a float or a bool)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        return None
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def _lpr_value(value: Any) -> Decimal:
    number = _number(value)
    if number is None or number < 0:
        raise RuleViolation("RP-7", _("The loan prime rate must be a percentage, 0 or more."), "lpr")
    return number


def _collect(problems: list[Problem], parse, *args, **kwargs):
    try:
        return parse(*args, **kwargs)
    except RuleViolation as error:
        problems.extend(error.problems)
        return None
