"""Risk compensation pool policy arithmetic and decisions, as pure functions.

Scheme S (深圳, 深工信规〔2024〕5号, rules RP-1 … RP-25): a city fund reimburses member banks
(加盟银行) part of the principal of non-performing SME loans. Scheme M (马鞍山, 马政办〔2024〕6号,
rules RP-M1 … RP-M6): product sub-funds reimburse government guarantee firms part of their
payouts (代偿). Both are in seed 004; see docs/spec riskpool.md.

Nothing here queries or saves. Money is ``Decimal`` yuan in cents (``CENT``), ratios and rates
are ``Decimal`` fractions with six places (``RATIO``); both ROUND_HALF_UP. Where a rule counts
working days it takes a ``calendar`` (``core.calendar`` in the services, a pure fake in the
tests); where it needs the loan prime rate it takes the rate, in percent, as an argument. Bad
input raises ``core.errors.RuleViolation`` naming the rule and field; a policy decision is
returned as a value or as a ``Reason`` the quote and the reviewer's screen show in words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, Problem, RuleViolation
from core.money import amount as _amount
from core.money import money, points, ratio, round_money, round_ratio, yuan
from core.money import percent as _pct
from core.periods import add_months, quarter_end

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
        return {"rule": self.rule, "outcome": self.outcome, "message": str(self.message)}


# --- RP-1 pool money -----------------------------------------------------------------------


def payout_fits(balance: Any, amount: Any) -> bool:
    """RP-1: a payout is allowed only when it leaves the pool balance 0 or more."""
    return _amount(amount, "RP-1", "amount") <= money(balance, rule="RP-1", field="balance")


def payout_fits_queue(balance: Any, ahead: Any, amount: Any) -> bool:
    """RP-1 "claims wait in order of approval when money is short": a claim is paid only when
    the balance covers it after every claim approved before it and still waiting for payment
    (``ahead``, their total) has been set aside. With money enough for all, order does not matter."""
    return payout_fits(money(balance, rule="RP-1", field="balance") - money(ahead, rule="RP-1", field="ahead"), amount)


def payable_in_order(balance: Any, amounts: list[Any]) -> list[bool]:
    """RP-1 over a queue already in approval order: which claims the balance pays now. A claim
    that does not fit stops the ones behind it (they may not jump the queue), so the answer is
    a run of True then only False."""
    left = money(balance, rule="RP-1", field="balance")
    flags, blocked = [], False
    for amount in amounts:
        fits = not blocked and payout_fits(left, amount)
        if fits:
            left -= _amount(amount, "RP-1", "amount")
        blocked = blocked or not fits
        flags.append(fits)
    return flags


# --- RP-2 eligible borrower ----------------------------------------------------------------


def check_borrower(
    *,
    loan_kind: str,
    enterprise_size: str | None,
    operates_in_city: bool,
    restricted_industry: bool,
    finance_or_real_estate: bool,
) -> Reason:
    """RP-2 (第三条): an enterprise borrower is medium, small or micro by 工信部联企业〔2011〕300号
    (``guarantees.rules.derive_enterprise_size``), actually operates in the city, is not in a
    restricted or prohibited industry of the city's catalogue, and not in finance, quasi-finance
    or real estate. Owners and individual businesses need only operate in the city."""
    _check_loan_kind(loan_kind)
    problems = []
    if loan_kind == "enterprise":
        if enterprise_size is None:
            return Reason("RP-2", NOT_CHECKED, _("The enterprise's size is not known."))
        if enterprise_size not in ("medium", "small", "micro"):
            problems.append(_("it is not a medium, small or micro enterprise"))
        if restricted_industry:
            problems.append(_("its industry is restricted or prohibited in the city's catalogue"))
        if finance_or_real_estate:
            problems.append(_("it is in finance, quasi-finance or real estate"))
    if not operates_in_city:
        problems.append(_("it does not actually operate in the city"))
    if problems:
        return Reason(
            "RP-2", FAIL, _("Not an eligible borrower: %(problems)s.") % {"problems": "; ".join(map(str, problems))}
        )
    return Reason("RP-2", PASS, _("The borrower is eligible."))


# --- RP-3 / RP-4 loan size and total balance -----------------------------------------------


def _check_loan_kind(loan_kind: str) -> None:
    if loan_kind not in LOAN_KINDS:
        raise RuleViolation(
            "RP-3",
            _("Unknown loan kind %(kind)s; the kinds are %(kinds)s.")
            % {"kind": loan_kind, "kinds": ", ".join(LOAN_KINDS)},
            "loan_kind",
        )


def total_balance(other_balance: Any, principal: Any) -> Decimal:
    """RP-4 (第四条): B = the borrower's working-capital (for a person: personal business) loan
    balance at all banks when this loan was disbursed, per the credit report, plus this loan's
    principal in yuan."""
    return _amount(other_balance, "RP-4", "other_balance") + _amount(principal, "RP-4", "principal")


def size_limit(loan_kind: str, params: SchemeSParams = S_DEFAULTS) -> Decimal:
    """RP-3 (第四条): the largest B a loan of this kind may have: 30,000,000 yuan for an
    enterprise, 10,000,000 yuan of total credit per household (单户授信总额, 含) for an owner or
    individual-business loan."""
    _check_loan_kind(loan_kind)
    return params.enterprise_balance_cap if loan_kind == "enterprise" else params.household_credit_cap


def within_size_limit(loan_kind: str, balance: Decimal, params: SchemeSParams = S_DEFAULTS) -> bool:
    """RP-3: B at or below the limit of its kind (不超过 is inclusive).

    Interpretation: for owner and individual-business loans the household's total credit is
    taken to be the same B as RP-4 (personal business loan balance plus this loan); the quote
    carries no separate credit-line figure.
    """
    return balance <= size_limit(loan_kind, params)


def check_loan_size(loan_kind: str, balance: Decimal, params: SchemeSParams = S_DEFAULTS) -> Reason:
    """RP-3: the quote's reason for the loan-size test."""
    values = {"balance": yuan(balance), "limit": yuan(size_limit(loan_kind, params))}
    if loan_kind == "enterprise":
        if within_size_limit(loan_kind, balance, params):
            return Reason(
                "RP-3",
                PASS,
                _("The total balance of %(balance)s yuan is within the enterprise limit of %(limit)s yuan.") % values,
            )
        return Reason(
            "RP-3",
            FAIL,
            _("The total balance of %(balance)s yuan exceeds the enterprise limit of %(limit)s yuan.") % values,
        )
    if within_size_limit(loan_kind, balance, params):
        return Reason(
            "RP-3",
            PASS,
            _(
                "The household's total credit of %(balance)s yuan is within the inclusive-finance limit of %(limit)s yuan."
            )
            % values,
        )
    return Reason(
        "RP-3",
        FAIL,
        _("The household's total credit of %(balance)s yuan exceeds the inclusive-finance limit of %(limit)s yuan.")
        % values,
    )


def credit_report_current(
    report_on: date, submitted_on: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS
) -> bool:
    """RP-4 (第四条, 第十九条(二)): the credit report is dated within the 10 working days before the
    claim: not after the submission, and the submission no later than the 10th working day
    after the report's date (a report exactly 10 working days before is accepted).

    JB-1: when the 10 working days run through a year whose holiday notice is not entered yet,
    the bank is held to the latest date they could end on."""
    if report_on > submitted_on:
        return False
    return submitted_on <= calendar.working_day_deadline(report_on, params.credit_report_working_days).latest


def check_credit_report(
    balance: Decimal,
    report_on: date | None,
    submitted_on: date | None,
    *,
    calendar: WorkingDayCalendar,
    params: SchemeSParams = S_DEFAULTS,
) -> Reason:
    """RP-4: the quote's reason: B, and whether the credit report behind it is current."""
    values = {"balance": yuan(balance), "days": params.credit_report_working_days}
    if report_on is None or submitted_on is None:
        return Reason(
            "RP-4",
            NOT_CHECKED,
            _(
                "Total balance B = %(balance)s yuan; the credit report's date was not checked "
                "(it must be within the %(days)s working days before the claim)."
            )
            % values,
        )
    values.update(report=report_on.isoformat(), submitted=submitted_on.isoformat())
    if credit_report_current(report_on, submitted_on, calendar=calendar, params=params):
        return Reason(
            "RP-4",
            PASS,
            _(
                "Total balance B = %(balance)s yuan, from a credit report of %(report)s, within the "
                "%(days)s working days before the claim of %(submitted)s."
            )
            % values,
        )
    return Reason(
        "RP-4",
        FAIL,
        _(
            "The credit report of %(report)s is not within the %(days)s working days before the claim "
            "of %(submitted)s; attach a current one."
        )
        % values,
    )


# --- RP-5 foreign currency -----------------------------------------------------------------


def yuan_of(amount: Any, currency: str, rate_to_yuan: Any | None, *, field: str = "principal") -> Decimal:
    """RP-5 (第四条): an amount of the loan's currency in yuan, at ``rate_to_yuan`` yuan per one
    unit, the rate of the disbursement date that ``core.rates`` found (central parity, else
    spot buying, else cash buying). Yuan needs no rate; a foreign amount without one is an
    error."""
    value = _amount(amount, "RP-5", field)
    if currency.upper() == "CNY":
        return value
    if rate_to_yuan is None:
        raise RuleViolation(
            "RP-5",
            _("No %(currency)s exchange rate was given for the disbursement date.") % {"currency": currency},
            "currency",
        )
    rate = _number(rate_to_yuan)
    if rate is None or rate <= 0:
        raise RuleViolation("RP-5", _("The exchange rate must be a positive number."), "currency")
    return round_money(value * rate)


# --- RP-6 entry deadline -------------------------------------------------------------------


def entry_deadline(disbursed_on: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS) -> Deadline:
    """RP-6 (第十九条(一)): a loan disbursed in quarter Q may be entered until the end of the 15th
    working day of quarter Q+1 (the disbursement date is the loan note's 借据日期)."""
    return calendar.working_day_deadline(quarter_end(disbursed_on), params.entry_working_day)


def entered_in_time(disbursed_on: date, entered_on: date, deadline: date | Deadline) -> bool:
    """RP-6: entered from the disbursement date to the deadline, both included. A provisional
    deadline (JB-1) is enforced only at the latest date it could turn out to be."""
    last = deadline if isinstance(deadline, date) else deadline.latest
    return disbursed_on <= entered_on <= last


def npl_before_entry(entered_on: date, npl_on: date) -> bool:
    """RP-6 (第十三条): a loan classified non-performing before (strictly) it was entered is never
    compensated; classified on the entry day itself is after entry."""
    return npl_on < entered_on


def check_entry(disbursed_on: date, entered_on: date | None, npl_on: date, deadline: Deadline) -> Reason:
    """RP-6: the quote's reason for the entry window and the NPL-after-entry test. A provisional
    deadline (JB-1) is named with its earliest and latest possible date; only entries after the
    latest fail."""
    values = {"deadline": deadline_words(deadline)}
    if entered_on is None:
        return Reason(
            "RP-6", NOT_CHECKED, _("The entry date was not given; the loan must be entered by %(deadline)s.") % values
        )
    values.update(entered=entered_on.isoformat(), disbursed=disbursed_on.isoformat(), npl=npl_on.isoformat())
    problems = []
    if entered_on < disbursed_on:
        problems.append(_("entered on %(entered)s, before its disbursement on %(disbursed)s") % values)
    elif entered_on > deadline.latest:
        problems.append(_("entered on %(entered)s, after the entry deadline of %(deadline)s") % values)
    if npl_before_entry(entered_on, npl_on):
        problems.append(_("classified non-performing on %(npl)s, before it was entered on %(entered)s") % values)
    if problems:
        return Reason(
            "RP-6", FAIL, _("Not compensated: the loan was %(problems)s.") % {"problems": "; ".join(map(str, problems))}
        )
    return Reason(
        "RP-6",
        PASS,
        _("Entered on %(entered)s, by the deadline of %(deadline)s, and classified non-performing after entry.")
        % values,
    )


def deadline_words(deadline: Deadline) -> str:
    """JB-1: a deadline as the pages and messages name it: the date, or, while provisional,
    its earliest and latest possible date."""
    if deadline.latest != deadline.date:
        return _("%(earliest)s (provisional, at the latest %(latest)s)") % {
            "earliest": deadline.date.isoformat(), "latest": deadline.latest.isoformat()}
    if deadline.provisional:
        return _("%(date)s (provisional)") % {"date": deadline.date.isoformat()}
    return deadline.date.isoformat()


# --- RP-7 excluded loans -------------------------------------------------------------------


def lpr_term(disbursed_on: date, maturity_on: date, params: SchemeSParams = S_DEFAULTS) -> str:
    """RP-7: which LPR applies: a term of at most 5 years (maturity no later than the same day 5
    years on, clamped) uses the 1-year LPR (``"1y"``), a longer one the 5-year LPR (``"5y"``)."""
    if maturity_on <= disbursed_on:
        raise RuleViolation("RP-7", _("The maturity date must be after the disbursement date."), "maturity_on")
    limit = add_months(disbursed_on, 12 * params.lpr_short_term_years)
    return LPR_ONE_YEAR if maturity_on <= limit else LPR_FIVE_YEARS


def rate_limit(lpr_percent: Any, params: SchemeSParams = S_DEFAULTS) -> Decimal:
    """RP-7 (第十五条(三)): the highest annual rate compensated, as a fraction: the LPR of the
    loan's term in force on the disbursement date plus 200 basis points (含, equal is allowed)."""
    lpr = _lpr_value(lpr_percent)
    return lpr / _HUNDRED + params.lpr_spread


def rate_allowed(annual_rate: Decimal, lpr_percent: Any, params: SchemeSParams = S_DEFAULTS) -> bool:
    """RP-7: the loan's annual rate does not exceed LPR + 200bp."""
    return annual_rate <= rate_limit(lpr_percent, params)


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


def check_exclusions(
    *,
    purpose: str,
    covered_by_other_scheme: bool,
    annual_rate: Decimal,
    lpr_percent: Any,
    term: str,
    params: SchemeSParams = S_DEFAULTS,
) -> Reason:
    """RP-7 (第十四条, 第十五条): not covered by an insurer, a financing guarantee firm, government
    re-guarantee or another compensation policy; used for the borrower's own production and
    operation; annual rate not above the same-term LPR + 200bp."""
    limit = rate_limit(lpr_percent, params)
    values = {
        "rate": _pct(annual_rate),
        "limit": _pct(limit),
        "lpr": _pct(_lpr_value(lpr_percent) / _HUNDRED),
        "spread": _pct(params.lpr_spread),
        "term": _("1-year") if term == LPR_ONE_YEAR else _("5-year"),
    }
    problems = []
    if covered_by_other_scheme:
        problems.append(_("it is insured, guaranteed, re-guaranteed or covered by another compensation policy"))
    if purpose != OWN_OPERATIONS:
        problems.append(
            _("its purpose is %(purpose)s, not the borrower's own production and operation")
            % {"purpose": PURPOSE_LABELS.get(purpose, purpose)}
        )
    if not rate_allowed(annual_rate, lpr_percent, params):
        problems.append(_("its rate of %(rate)s exceeds the %(term)s LPR of %(lpr)s + %(spread)s = %(limit)s") % values)
    if problems:
        return Reason("RP-7", FAIL, _("Excluded: %(problems)s.") % {"problems": "; ".join(map(str, problems))})
    return Reason(
        "RP-7",
        PASS,
        _(
            "Not covered elsewhere, for the borrower's own operations, and the rate of %(rate)s is within "
            "the %(term)s LPR of %(lpr)s + %(spread)s = %(limit)s."
        )
        % values,
    )


# --- RP-8 … RP-13 ratio and amount ---------------------------------------------------------


def base_ratio(balance: Decimal, params: SchemeSParams = S_DEFAULTS) -> Decimal | None:
    """RP-8 (第十六条(一)): the tier ratio of B: ≤ 5,000,000 → 40%; ≤ 15,000,000 → 30%;
    ≤ 30,000,000 → 20% (each ceiling 含); None above the last ceiling."""
    for ceiling, share in params.tiers:
        if balance <= ceiling:
            return share
    return None


@dataclass(frozen=True)
class Qualification:
    """RP-9: a qualification (资质) the borrower holds, valid from/to (both included; None is
    open-ended)."""

    code: str
    valid_from: date | None = None
    valid_to: date | None = None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


def valid_qualifications(qualifications: Iterable[Qualification], disbursed_on: date) -> list[str]:
    """RP-9: the codes of the qualifications valid on the disbursement date, in given order."""
    codes = [q.code for q in qualifications if q.valid_on(disbursed_on)]
    return list(dict.fromkeys(codes))


def qualification_bonus(
    qualifications: Iterable[Qualification], disbursed_on: date, params: SchemeSParams = S_DEFAULTS
) -> Decimal:
    """RP-9 (第十六条(二)): +10 points when at least one qualification is valid (有效期内) on the
    disbursement date; several still give +10."""
    return params.qualification_bonus if valid_qualifications(qualifications, disbursed_on) else _NO_RATIO


def feature_bonus(features: Iterable[str], params: SchemeSParams = S_DEFAULTS) -> Decimal:
    """RP-10 (第十六条(三)): a further +10 points when the loan has any bonus feature (first loan,
    procurement order, renewal without repayment, green, pure credit, IP / receivables /
    inventory pledge); several still give +10."""
    return params.feature_bonus if any(f in params.feature_codes for f in features) else _NO_RATIO


def capped_ratio(value: Decimal, params: SchemeSParams = S_DEFAULTS) -> Decimal:
    """RP-11 (第十六条(四)): the ratio is at most 50%."""
    return min(value, params.ratio_cap)


def compensation_ratio(
    balance: Decimal,
    *,
    disbursed_on: date,
    qualifications: Iterable[Qualification] = (),
    features: Iterable[str] = (),
    special_ratio: Decimal | None = None,
    params: SchemeSParams = S_DEFAULTS,
) -> Decimal | None:
    """RP-8 … RP-12: base tier + qualification bonus + feature bonus, capped; a loan on the city
    government's special list (RP-12, 第十六条(五)) takes that list's ratio instead, cap or not.
    None when B is above every tier and there is no special ratio."""
    if special_ratio is not None:
        return _fraction(special_ratio, "RP-12", "special_ratio")
    base = base_ratio(balance, params)
    if base is None:
        return None
    total = base + qualification_bonus(qualifications, disbursed_on, params) + feature_bonus(features, params)
    return capped_ratio(total, params)


def compensation_amount(share: Decimal, outstanding_principal: Any) -> Decimal:
    """RP-13: compensation = ratio × the outstanding principal (本金余额) at the NPL date, in cents
    (ROUND_HALF_UP)."""
    return round_money(share * _amount(outstanding_principal, "RP-13", "outstanding_principal"))


# --- RP-14 claim window --------------------------------------------------------------------


def claim_deadline(npl_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-14 (第十九条(二)): a claim is due within 3 months of the NPL classification date: the same
    day-of-month 3 months later, clamped to the month's end (2024-11-30 → 2025-02-28)."""
    return add_months(npl_on, params.claim_window_months)


def claimed_in_time(npl_on: date, submitted_on: date, params: SchemeSParams = S_DEFAULTS) -> bool:
    """RP-14: submitted on or after the NPL date and no later than the claim deadline."""
    return npl_on <= submitted_on <= claim_deadline(npl_on, params)


def check_claim_window(npl_on: date, submitted_on: date | None, params: SchemeSParams = S_DEFAULTS) -> Reason:
    """RP-14: the quote's reason for the claim window."""
    values = {"npl": npl_on.isoformat(), "deadline": claim_deadline(npl_on, params).isoformat()}
    if submitted_on is None:
        return Reason(
            "RP-14",
            NOT_CHECKED,
            _("The submission date was not given; the claim must be submitted by %(deadline)s.") % values,
        )
    values["submitted"] = submitted_on.isoformat()
    if submitted_on < npl_on:
        return Reason(
            "RP-14",
            FAIL,
            _("A claim submitted on %(submitted)s comes before the non-performing classification of %(npl)s.") % values,
        )
    if claimed_in_time(npl_on, submitted_on, params):
        return Reason(
            "RP-14",
            PASS,
            _(
                "Submitted on %(submitted)s, within 3 months of the non-performing classification of %(npl)s "
                "(deadline %(deadline)s)."
            )
            % values,
        )
    return Reason(
        "RP-14",
        FAIL,
        _(
            "Submitted on %(submitted)s, after the deadline of %(deadline)s (3 months from the non-performing "
            "classification of %(npl)s)."
        )
        % values,
    )


CLAIM_DOCUMENTS = ("credit_report", "loan_file")
"""RP-14 (第十九条(二)): the attachments a claim cannot be submitted without: the borrower's credit
report (征信报告, dated within the 10 working days before the submission, RP-4) and the loan file
(贷款项目相关资料: loan contract, loan note, classification evidence)."""

CLAIM_DOCUMENT_LABELS = {
    "credit_report": _("the borrower's credit report"),
    "loan_file": _("the loan file (loan contract, loan note, classification evidence)"),
}


def missing_claim_documents(kinds: Iterable[str]) -> list[str]:
    """RP-14: the required attachments (``CLAIM_DOCUMENTS``, in that order) not among ``kinds``."""
    present = set(kinds)
    return [kind for kind in CLAIM_DOCUMENTS if kind not in present]


def claim_document_problems(kinds: Iterable[str]) -> list[Problem]:
    """RP-14: one problem per missing attachment, each naming the document (its field is the
    document kind, so a form shows it next to the file input); every message lists all that
    is missing, so a client that shows only the first still learns the whole list."""
    missing = missing_claim_documents(kinds)
    if not missing:
        return []
    listing = ", ".join(str(CLAIM_DOCUMENT_LABELS[kind]) for kind in missing)
    return [
        Problem(
            "RP-14",
            _("Attach %(document)s: a claim needs the credit report and the loan file; missing: %(missing)s.")
            % {"document": CLAIM_DOCUMENT_LABELS[kind], "missing": listing},
            kind,
        )
        for kind in missing
    ]


# --- the quote (RP-3 … RP-14) --------------------------------------------------------------


def _date(value: Any, rule: str, field: str, problems: list[Problem], *, optional: bool = False) -> date | None:
    if value is None and optional:
        return None
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    problems.append(Problem(rule, _("Enter a valid date (YYYY-MM-DD)."), field))
    return None


def _collect(problems: list[Problem], parse, *args, **kwargs):
    try:
        return parse(*args, **kwargs)
    except RuleViolation as error:
        problems.extend(error.problems)
        return None


@dataclass(frozen=True)
class QuoteInput:
    """The quote API's input (issue 3), parsed. Amounts are in the loan's ``currency`` except
    ``other_balance``, which is the credit report's yuan balance (RP-4); ``annual_rate`` is a
    fraction (0.0420 is 4.2%)."""

    loan_kind: str
    principal: Decimal
    disbursed_on: date
    maturity_on: date
    annual_rate: Decimal
    other_balance: Decimal
    npl_on: date
    outstanding_principal: Decimal
    currency: str = "CNY"
    qualifications: tuple[Qualification, ...] = ()
    features: tuple[str, ...] = ()
    purpose: str = OWN_OPERATIONS
    covered_by_other_scheme: bool = False
    entered_on: date | None = None
    submitted_on: date | None = None
    credit_report_on: date | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> QuoteInput:
        """Parse the API's JSON (strings, or already-parsed dates and Decimals); every bad field
        is reported at once as one RuleViolation."""
        if not isinstance(data, Mapping):
            raise RuleViolation("INPUT", _("Send the loan as a JSON object."))
        problems: list[Problem] = []
        required = (
            "loan_kind",
            "principal",
            "disbursed_on",
            "maturity_on",
            "annual_rate",
            "other_balance",
            "npl_on",
            "outstanding_principal",
        )
        for name in required:
            if data.get(name) is None:
                problems.append(Problem("INPUT", _("This field is required."), name))
        if problems:
            raise RuleViolation.many(problems)
        loan_kind = data["loan_kind"]
        if not isinstance(loan_kind, str):
            problems.append(Problem("RP-3", _("Enter a loan kind."), "loan_kind"))
        currency = data.get("currency") or "CNY"
        if not isinstance(currency, str) or len(currency.strip()) != 3 or not currency.strip().isalpha():
            problems.append(Problem("RP-5", _("Enter a three-letter currency code."), "currency"))
            currency = "CNY"
        purpose = data.get("purpose") or OWN_OPERATIONS
        if not isinstance(purpose, str):
            problems.append(Problem("RP-7", _("Enter a purpose code."), "purpose"))
        covered = data.get("covered_by_other_scheme", False)
        if covered is None:
            covered = False
        if not isinstance(covered, bool):
            problems.append(Problem("RP-7", _("Enter true or false."), "covered_by_other_scheme"))
        values = {
            "loan_kind": loan_kind,
            "principal": _collect(problems, _positive, data["principal"], "RP-4", "principal"),
            "currency": currency.strip().upper(),
            "disbursed_on": _date(data["disbursed_on"], "RP-6", "disbursed_on", problems),
            "maturity_on": _date(data["maturity_on"], "RP-7", "maturity_on", problems),
            "annual_rate": _collect(problems, _rate, data["annual_rate"]),
            "other_balance": _collect(problems, _amount, data["other_balance"], "RP-4", "other_balance"),
            "qualifications": _qualifications(data.get("qualifications"), problems),
            "features": _codes(data.get("features"), "RP-10", "features", problems),
            "purpose": purpose,
            "covered_by_other_scheme": covered,
            "entered_on": _date(data.get("entered_on"), "RP-6", "entered_on", problems, optional=True),
            "npl_on": _date(data["npl_on"], "RP-14", "npl_on", problems),
            "outstanding_principal": _collect(
                problems, _amount, data["outstanding_principal"], "RP-13", "outstanding_principal"
            ),
            "submitted_on": _date(data.get("submitted_on"), "RP-14", "submitted_on", problems, optional=True),
            "credit_report_on": _date(
                data.get("credit_report_on"), "RP-4", "credit_report_on", problems, optional=True
            ),
        }
        if problems:
            raise RuleViolation.many(problems)
        return cls(**values)


def _positive(value: Any, rule: str, field: str) -> Decimal:
    amount = money(value, rule=rule, field=field)
    if amount <= 0:
        raise RuleViolation(rule, _("This amount must be more than 0."), field)
    return amount


def _rate(value: Any) -> Decimal:
    number = ratio(value, rule="RP-7", field="annual_rate")
    if not _ZERO <= number < _ONE:
        raise RuleViolation("RP-7", _("Enter the annual rate as a fraction (0.042 for 4.2%)."), "annual_rate")
    return number


def _codes(value: Any, rule: str, field: str, problems: list[Problem]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable) or not all(isinstance(v, str) for v in value):
        problems.append(Problem(rule, _("Enter a list of codes."), field))
        return ()
    return tuple(value)


def _qualifications(value: Any, problems: list[Problem]) -> tuple[Qualification, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        problems.append(Problem("RP-9", _("Enter a list of qualifications."), "qualifications"))
        return ()
    found = []
    for item in value:
        if isinstance(item, Qualification):
            found.append(item)
            continue
        if not isinstance(item, Mapping) or not isinstance(item.get("code"), str):
            problems.append(Problem("RP-9", _("Each qualification needs a code."), "qualifications"))
            continue
        start = _date(item.get("valid_from"), "RP-9", "qualifications", problems, optional=True)
        end = _date(item.get("valid_to"), "RP-9", "qualifications", problems, optional=True)
        if start and end and end < start:
            problems.append(Problem("RP-9", _("A qualification ends before it starts."), "qualifications"))
        found.append(Qualification(item["code"], start, end))
    return tuple(found)


def _check_quote_input(data: QuoteInput, params: SchemeSParams) -> None:
    """Codes the rule set does not know, and dates that contradict each other, cannot be
    computed: a 400, not an ineligible answer."""
    problems = []
    if data.loan_kind not in LOAN_KINDS:
        problems.append(
            Problem(
                "RP-3",
                _("Unknown loan kind %(kind)s; the kinds are %(kinds)s.")
                % {"kind": data.loan_kind, "kinds": ", ".join(LOAN_KINDS)},
                "loan_kind",
            )
        )
    purposes = (OWN_OPERATIONS, *params.excluded_purposes)
    if data.purpose not in purposes:
        problems.append(
            Problem(
                "RP-7",
                _("Unknown purpose %(code)s; the purposes are %(codes)s.")
                % {"code": data.purpose, "codes": ", ".join(purposes)},
                "purpose",
            )
        )
    for q in data.qualifications:
        if q.code not in params.qualification_codes:
            problems.append(
                Problem(
                    "RP-9",
                    _("Unknown qualification %(code)s; the qualifications are %(codes)s.")
                    % {"code": q.code, "codes": ", ".join(params.qualification_codes)},
                    "qualifications",
                )
            )
        elif q.valid_from and q.valid_to and q.valid_to < q.valid_from:
            problems.append(Problem("RP-9", _("A qualification ends before it starts."), "qualifications"))
    for code in data.features:
        if code not in params.feature_codes:
            problems.append(
                Problem(
                    "RP-10",
                    _("Unknown loan feature %(code)s; the features are %(codes)s.")
                    % {"code": code, "codes": ", ".join(params.feature_codes)},
                    "features",
                )
            )
    if data.maturity_on <= data.disbursed_on:
        problems.append(Problem("RP-7", _("The maturity date must be after the disbursement date."), "maturity_on"))
    if data.npl_on < data.disbursed_on:
        problems.append(Problem("RP-14", _("A loan cannot be non-performing before it is disbursed."), "npl_on"))
    if data.outstanding_principal > data.principal:
        problems.append(
            Problem("RP-13", _("The outstanding principal cannot be more than the principal."), "outstanding_principal")
        )
    if problems:
        raise RuleViolation.many(problems)


@dataclass(frozen=True)
class Quote:
    """What a Scheme S claim would get: ``ratio`` and ``amount`` are 0 when not eligible; one
    reason per rule checked, in rule order."""

    eligible: bool
    ratio: Decimal
    amount: Decimal
    claim_deadline: date
    entry_deadline: date
    reasons: tuple[Reason, ...]
    entry_deadline_provisional: bool = False
    total_balance: Decimal = _NO_MONEY
    entry_deadline_latest: date | None = None

    def as_dict(self) -> dict[str, Any]:
        """The quote API's answer (issue 3)."""
        return {
            "eligible": self.eligible,
            "ratio": str(self.ratio),
            "amount": str(self.amount),
            "claim_deadline": self.claim_deadline.isoformat(),
            "entry_deadline": self.entry_deadline.isoformat(),
            "entry_deadline_provisional": self.entry_deadline_provisional,
            "entry_deadline_latest": (self.entry_deadline_latest or self.entry_deadline).isoformat(),
            "reasons": [reason.as_dict() for reason in self.reasons],
        }


def _lpr_for(lpr_percent: Any, term: str) -> Any:
    if isinstance(lpr_percent, Mapping):
        if term not in lpr_percent:
            raise RuleViolation("RP-7", _("No %(term)s loan prime rate was given.") % {"term": term}, "lpr")
        return lpr_percent[term]
    return lpr_percent


def _ratio_reasons(
    data: QuoteInput, balance: Decimal, special: Decimal | None, params: SchemeSParams
) -> tuple[list[Reason], Decimal | None]:
    """RP-8 … RP-12 in words, and the ratio they give."""
    base = base_ratio(balance, params)
    if base is None and special is not None:
        rp8 = Reason(
            "RP-8",
            INFO,
            _("The total balance of %(balance)s yuan is above the highest tier; the special list's ratio applies.")
            % {"balance": yuan(balance)},
        )
    elif base is None:
        rp8 = Reason(
            "RP-8",
            FAIL,
            _("The total balance of %(balance)s yuan is above the highest tier (%(top)s yuan): no ratio.")
            % {"balance": yuan(balance), "top": yuan(params.tiers[-1][0])},
        )
    else:
        ceiling = next(c for c, share in params.tiers if balance <= c)
        rp8 = Reason(
            "RP-8",
            PASS,
            _("The total balance of %(balance)s yuan is in the tier up to %(ceiling)s yuan: base ratio %(ratio)s.")
            % {"balance": yuan(balance), "ceiling": yuan(ceiling), "ratio": _pct(base)},
        )
    valid = valid_qualifications(data.qualifications, data.disbursed_on)
    if valid:
        rp9 = Reason(
            "RP-9",
            PASS,
            _("Qualification valid on %(date)s (%(names)s): +%(bonus)s percentage points.")
            % {
                "date": data.disbursed_on.isoformat(),
                "names": ", ".join(str(QUALIFICATION_LABELS.get(c, c)) for c in valid),
                "bonus": points(params.qualification_bonus),
            },
        )
    else:
        rp9 = Reason(
            "RP-9",
            INFO,
            _("No qualification valid on the disbursement date %(date)s: no bonus.")
            % {"date": data.disbursed_on.isoformat()},
        )
    features = [f for f in dict.fromkeys(data.features) if f in params.feature_codes]
    if features:
        rp10 = Reason(
            "RP-10",
            PASS,
            _("Loan feature (%(names)s): +%(bonus)s percentage points.")
            % {
                "names": ", ".join(str(FEATURE_LABELS.get(f, f)) for f in features),
                "bonus": points(params.feature_bonus),
            },
        )
    else:
        rp10 = Reason("RP-10", INFO, _("No bonus loan feature: no bonus."))
    if base is None:
        uncapped = None
        rp11 = Reason("RP-11", INFO, _("No ratio to cap."))
    else:
        uncapped = (
            base
            + qualification_bonus(data.qualifications, data.disbursed_on, params)
            + feature_bonus(data.features, params)
        )
        values = {"ratio": _pct(uncapped), "cap": _pct(params.ratio_cap)}
        if uncapped > params.ratio_cap:
            rp11 = Reason("RP-11", INFO, _("The ratio of %(ratio)s is capped at %(cap)s.") % values)
        else:
            rp11 = Reason("RP-11", PASS, _("The ratio of %(ratio)s is within the cap of %(cap)s.") % values)
    capped = None if uncapped is None else capped_ratio(uncapped, params)
    if special is not None:
        rp12 = Reason(
            "RP-12",
            INFO,
            _("On the city government's special list: its ratio of %(ratio)s is used instead.")
            % {"ratio": _pct(special)},
        )
        return [rp8, rp9, rp10, rp11, rp12], special
    rp12 = Reason("RP-12", INFO, _("Not on the city government's special list."))
    return [rp8, rp9, rp10, rp11, rp12], capped


def quote(
    data: QuoteInput,
    *,
    params: SchemeSParams,
    lpr_percent: Any,
    calendar: WorkingDayCalendar,
    special_ratio: Any | None = None,
    rate_to_yuan: Any | None = None,
) -> Quote:
    """RP-3 … RP-14: what a Scheme S claim on this loan would get, with one reason per rule.

    ``params`` is the rule set in force on the NPL date for the ratios (RP-19; entry and
    exclusions use the same set unless the service passes another). ``lpr_percent`` is the LPR
    in percent in force on the disbursement date, either of the loan's term (``lpr_term``) or a
    mapping ``{"1y": …, "5y": …}`` from which the term's rate is taken. ``special_ratio`` is the
    RP-12 list's ratio when the loan is on it; ``rate_to_yuan`` the RP-5 rate (yuan per unit) of
    the disbursement date for a foreign-currency loan.

    Any ``fail`` makes the loan ineligible: ratio 0.000000 and amount 0.00. A rule that needs
    an absent optional date is ``not_checked`` and does not make the loan ineligible.

    Interpretation: a foreign-currency loan's principal and outstanding principal are both
    converted at the disbursement date's rate (RP-5 fixes the loan's yuan value when it is
    made); ``other_balance`` is already in yuan, as the credit report gives it.
    """
    _check_quote_input(data, params)
    special = None if special_ratio is None else _fraction(special_ratio, "RP-12", "special_ratio")
    principal = yuan_of(data.principal, data.currency, rate_to_yuan)
    outstanding = yuan_of(data.outstanding_principal, data.currency, rate_to_yuan, field="outstanding_principal")
    balance = total_balance(data.other_balance, principal)
    term = lpr_term(data.disbursed_on, data.maturity_on, params)
    entry_due = entry_deadline(data.disbursed_on, calendar=calendar, params=params)

    reasons = [
        check_loan_size(data.loan_kind, balance, params),
        check_credit_report(balance, data.credit_report_on, data.submitted_on, calendar=calendar, params=params),
    ]
    if data.currency != "CNY":
        reasons.append(
            Reason(
                "RP-5",
                INFO,
                _("%(amount)s %(currency)s is %(yuan)s yuan at the disbursement date's rate.")
                % {"amount": yuan(data.principal), "currency": data.currency, "yuan": yuan(principal)},
            )
        )
    reasons.append(check_entry(data.disbursed_on, data.entered_on, data.npl_on, entry_due))
    reasons.append(
        check_exclusions(
            purpose=data.purpose,
            covered_by_other_scheme=data.covered_by_other_scheme,
            annual_rate=data.annual_rate,
            lpr_percent=_lpr_for(lpr_percent, term),
            term=term,
            params=params,
        )
    )
    ratio_reasons, share = _ratio_reasons(data, balance, special, params)
    reasons.extend(ratio_reasons)
    window = check_claim_window(data.npl_on, data.submitted_on, params)
    failing = [r.rule for r in (*reasons, window) if r.outcome == FAIL]
    eligible = not failing and share is not None
    if eligible:
        amount = compensation_amount(share, outstanding)
        reasons.append(
            Reason(
                "RP-13",
                PASS,
                _("Compensation = %(ratio)s × outstanding principal %(principal)s yuan = %(amount)s yuan.")
                % {"ratio": _pct(share), "principal": yuan(outstanding), "amount": yuan(amount)},
            )
        )
    else:
        amount = _NO_MONEY
        reasons.append(
            Reason(
                "RP-13",
                INFO,
                _("No compensation: the claim fails %(rules)s.")
                % {"rules": ", ".join(dict.fromkeys(failing)) or "RP-8"},
            )
        )
    reasons.append(window)
    return Quote(
        eligible=eligible,
        ratio=share if eligible else _NO_RATIO,
        amount=amount,
        claim_deadline=claim_deadline(data.npl_on, params),
        entry_deadline=entry_due.date,
        reasons=tuple(reasons),
        entry_deadline_provisional=entry_due.provisional,
        total_balance=balance,
        entry_deadline_latest=entry_due.latest,
    )


# --- RP-15 bank NPL gate -------------------------------------------------------------------


NPL_CLASSES = ("substandard", "doubtful", "loss")
WRITE_OFF = "write_off"


@dataclass(frozen=True)
class NplProject:
    """RP-15: the figures of one entered loan project that the NPL ratio reads."""

    principal_yuan: Decimal  # principal at entry, in yuan (RP-5)
    outstanding_yuan: Decimal | None  # 本金余额 at the NPL date when known (the claim's), in yuan
    classification: str
    closed_reason: str
    disbursed_on: date


def counts_as_npl(classification: str, closed_reason: str) -> bool:
    """RP-15 numerator: now substandard, doubtful or loss, compensated or not, unless closed by
    write-off (核销结项)."""
    return classification in NPL_CLASSES and closed_reason != WRITE_OFF


def npl_amount(outstanding_yuan: Any, principal_yuan: Any) -> Decimal:
    """RP-15 numerator, one project: its outstanding principal (本金余额) at the NPL date; while
    none is recorded (no claim yet), its principal, so the ratio is never understated."""
    return _amount(principal_yuan if outstanding_yuan is None else outstanding_yuan, "RP-15", "outstanding_principal")


def entered_under(disbursed_on: date, rule_set_from: date | None, rule_set_to: date | None) -> bool:
    """RP-15 denominator: the project was entered under the rule set in force (its entry follows
    the rule set of its disbursement date, RP-19); no rule set range known counts everything."""
    if rule_set_from is not None and disbursed_on < rule_set_from:
        return False
    return rule_set_to is None or disbursed_on <= rule_set_to


def npl_figures(
    projects: Iterable[NplProject], *, rule_set_from: date | None, rule_set_to: date | None
) -> tuple[Decimal, Decimal, Decimal | None]:
    """RP-15 (第十七条), the Interpretation of the spec as written: (numerator, denominator, ratio).
    Numerator: outstanding principal of the bank's entered projects now non-performing
    (``counts_as_npl``, ``npl_amount``). Denominator: principal of all projects it entered under
    the current rule set (``entered_under``). The services compute the same two sums in the
    database (``members_refresh_npl``); this is their definition."""
    npl = entered = _ZERO
    for project in projects:
        if counts_as_npl(project.classification, project.closed_reason):
            npl += npl_amount(project.outstanding_yuan, project.principal_yuan)
        if entered_under(project.disbursed_on, rule_set_from, rule_set_to):
            entered += _amount(project.principal_yuan, "RP-15", "principal")
    return npl, entered, npl_ratio(npl, entered)


def npl_over_limit(npl: Decimal | None, params: SchemeSParams = S_DEFAULTS) -> bool:
    """RP-15: the bank's claims are held (the status shown beside the ratio)."""
    return not npl_gate_open(npl, params)


def npl_ratio(npl_principal: Any, entered_principal: Any) -> Decimal | None:
    """RP-15 (第十七条): outstanding principal of the bank's entered projects now non-performing
    (compensated or not, not closed by write-off) ÷ principal of all projects it entered under
    the current rule set, six places; None when it has entered nothing. This definition is the
    spec's Interpretation of 第十七条; the services sum the two amounts in the database."""
    npl = _amount(npl_principal, "RP-15", "npl_principal")
    entered = _amount(entered_principal, "RP-15", "entered_principal")
    return None if entered == 0 else round_ratio(npl / entered)


def npl_gate_open(npl: Decimal | None, params: SchemeSParams = S_DEFAULTS) -> bool:
    """RP-15: claims are processed while the ratio is at most 3% (exactly 3% is open) and held
    while it is above (超过, strict). A bank that entered nothing is open.

    Interpretation: the gate compares the six-place ratio that the dashboards show (half-up),
    so the status never contradicts the figure next to it.
    """
    return npl is None or npl <= params.npl_gate


# --- RP-16 claim workflow ------------------------------------------------------------------

CLAIM_STATES = (
    "submitted",  # 提交, awaiting the reviewer's decision (审核)
    "held_npl_gate",  # accepted but not processed: the bank's NPL ratio is above 3% (RP-15)
    "approved",  # 审核通过, waiting for the next public notice
    "rejected",  # 不予补偿, with reasons
    "re_review",  # 复核: asked for once by the bank after a rejection, or after an upheld objection
    "on_notice",  # 公示
    "objection_upheld",  # 异议成立: goes back to re-review
    "notice_passed",  # notice over without an upheld objection, waiting for a funding plan
    "in_funding_plan",  # 资助计划下达: the bank owes the payment documents
    "documents_uploaded",  # 拨款资料: the treasurer owes the payment
    "paid",  # 拨付 (ledger payout): the bank owes the move to the compensation library
    "in_compensation_library",  # 风险补偿项目库
    "upgrade_requested",  # 上调申请 (8a): the reviewer owes the decision
    "upgraded",  # 上调 approved: back to the loan library, compensation returned
    "recovering",  # 清收 reports under way
    "settlement_requested",  # 清收申请 (8b): disposal complete, the reviewer owes the check
    "settled",  # checked: 清偿项目库, the authority owes the final accounting (核账结项)
    "closure_requested",  # 核销结项 applied for: the reviewer owes the check
    "closure_reviewed",  # checked by the reviewer: the treasurer owes the re-check
    "closure_rechecked",  # re-checked: the authority (主管部门) approves
    "closure_approved",  # approved by the authority: the finance bureau (监管执行部门) approves
    "closed",  # 结项
    "withdrawn",  # withdrawn by the bank before approval
)

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"approved", "rejected", "held_npl_gate", "withdrawn"}),
    "held_npl_gate": frozenset({"submitted", "withdrawn"}),
    "rejected": frozenset({"re_review", "withdrawn"}),
    "re_review": frozenset({"approved", "rejected", "withdrawn"}),
    "approved": frozenset({"on_notice"}),
    "on_notice": frozenset({"objection_upheld", "notice_passed"}),
    "objection_upheld": frozenset({"re_review"}),
    "notice_passed": frozenset({"in_funding_plan"}),
    "in_funding_plan": frozenset({"documents_uploaded"}),
    "documents_uploaded": frozenset({"paid", "in_funding_plan"}),
    "paid": frozenset({"in_compensation_library"}),
    "in_compensation_library": frozenset({"upgrade_requested", "recovering", "settlement_requested",
                                          "closure_requested"}),
    "recovering": frozenset({"upgrade_requested", "settlement_requested", "closure_requested"}),
    "upgrade_requested": frozenset({"upgraded", "in_compensation_library", "recovering"}),
    "settlement_requested": frozenset({"settled", "in_compensation_library", "recovering"}),
    "settled": frozenset({"closed"}),
    "closure_requested": frozenset({"closure_reviewed", "in_compensation_library"}),
    "closure_reviewed": frozenset({"closure_rechecked", "closure_requested"}),
    "closure_rechecked": frozenset({"closure_approved", "closure_requested"}),
    "closure_approved": frozenset({"closed", "closure_rechecked"}),
    "upgraded": frozenset(),
    "closed": frozenset(),
    "withdrawn": frozenset(),
}
"""RP-16 (第十九条, 第二十条): the claim states and the steps allowed between them.

The main line is submitted → approved → on_notice → notice_passed → in_funding_plan →
documents_uploaded → paid → in_compensation_library, then one of: upgrade_requested → upgraded
(8a, on the reviewer's approval); recovering, settlement_requested → settled (the reviewer's check
moves the project to the settlement library) → closed (8b, 核账结项); closure_requested →
closure_reviewed → closure_rechecked → closure_approved (the authority) → closed (the finance
bureau, 8c). A rejected upgrade or settlement application goes back to where it came from
(recovering when the claim has recovery reports, else in_compensation_library). A rejected claim may go to re_review once at the bank's request (``transition_allowed``
counts the bank's requests; a re-review caused by an upheld objection does not count); an
upheld objection sends the claim to re_review through objection_upheld; a dismissed objection
changes nothing and the notice runs out to notice_passed. The treasurer may send incomplete
payment documents back (documents_uploaded → in_funding_plan); each closure check may send the
application back one level (the authority's refusal goes back to the reviewer's check, as before). A claim stays ``rejected`` when the bank does not ask again.

Interpretation: the RP-15 gate holds a claim before its first review decision (submitted →
held_npl_gate, and back to submitted when the bank's ratio is again at most 3%; the 30-day
review runs from that return). A claim already approved, or in re-review, is not stopped by
the gate, and a bank may withdraw a claim only before it is approved.
"""

TERMINAL_STATES = frozenset(state for state, nexts in ALLOWED_TRANSITIONS.items() if not nexts)


def transition_allowed(old: str, new: str, *, bank_re_reviews: int = 0) -> bool:
    """RP-16: whether a claim may go from ``old`` to ``new``; ``bank_re_reviews`` is how many
    re-reviews the bank has already asked for (第二十条(一): once; the second is refused). A
    claim's ``re_review_used`` flag may be passed as it is (True counts as 1)."""
    if new not in ALLOWED_TRANSITIONS.get(old, frozenset()):
        return False
    return not (old == "rejected" and new == "re_review" and bank_re_reviews >= 1)


def check_transition(old: str, new: str, *, bank_re_reviews: int = 0) -> None:
    """RP-16: raise ``Conflict`` (409) naming both states when the step is not allowed."""
    if old not in ALLOWED_TRANSITIONS or new not in ALLOWED_TRANSITIONS:
        raise RuleViolation("RP-16", _("Unknown claim state."), "state")
    if not transition_allowed(old, new, bank_re_reviews=bank_re_reviews):
        if old == "rejected" and new == "re_review":
            raise Conflict("RP-16", _("The bank may ask for a re-review only once."))
        raise Conflict("RP-16", _("A claim that is %(old)s cannot become %(new)s.") % {"old": old, "new": new})


def review_due(submitted_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 step 1 (第二十条(一)): the reviewer decides within 30 days of the submission (or of a
    held claim's release)."""
    return submitted_on + timedelta(days=params.review_days)


def re_review_due(requested_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 step 2 (第二十条(一)(二)): the re-review decision.

    Interpretation: the policy gives the re-review no period of its own; it gets the same 30
    days as the first review, from the bank's request or the upheld objection.
    """
    return requested_on + timedelta(days=params.review_days)


def notice_end(notice_start: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS) -> Deadline:
    """RP-16 step 3 (第二十条(二), 公示期不少于7个工作日): the last day of the public notice, and of
    the time to object.

    Interpretation: the day the notice is published does not count (民法典 第二百零一条: a
    period in days starts the next day), so the notice ends at the end of the 7th working day
    after its start; objections are accepted up to and including that day, and the claim may
    proceed (notice_passed, funding plan) from the next day, ``notice_may_proceed_on``.
    """
    return calendar.working_day_deadline(notice_start, params.notice_working_days)


def notice_may_proceed_on(
    notice_start: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS
) -> date:
    """RP-16 step 3: the first day a claim whose notice began on ``notice_start`` may pass the
    notice: the day after ``notice_end``; while that end is provisional (JB-1), the day after
    the latest date it could turn out to be."""
    return notice_end(notice_start, calendar=calendar, params=params).latest + timedelta(days=1)


def documents_due(plan_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 step 5 (第十九条(三)): the bank uploads the payment documents within 3 days of the
    funding plan (资助计划下达). Sending documents back does not move this date."""
    return plan_on + timedelta(days=params.documents_days)


def payment_due(documents_complete_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 step 6 (第二十条(三)): the treasurer pays within 10 days of complete documents."""
    return documents_complete_on + timedelta(days=params.payment_days)


def transfer_due(
    money_arrived_on: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS
) -> Deadline:
    """RP-16 step 7 (第十九条(四)): the bank moves the project to the compensation library within
    15 working days of the money arriving."""
    return calendar.working_day_deadline(money_arrived_on, params.transfer_working_days)


def upgrade_application_due(
    upgraded_on: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS
) -> Deadline:
    """RP-16 step 8a (第十九条(五)): the bank applies within 15 working days of the loan's
    reclassification as normal or special-mention."""
    return calendar.working_day_deadline(upgraded_on, params.upgrade_working_days)


def recovery_report_due(
    received_on: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS
) -> Deadline:
    """RP-16 step 8b (第十九条(六)): recovered money is reported and returned within the first 15
    working days of the quarter after the quarter it was received in."""
    return calendar.working_day_deadline(quarter_end(received_on), params.recovery_report_working_days)


def settlement_application_due(
    disposal_completed_on: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS
) -> Deadline:
    """RP-16 step 8b (第十九条(六)): once disposal is complete the bank applies for settlement
    (清收申请, into the settlement library) within 15 working days."""
    return calendar.working_day_deadline(disposal_completed_on, params.settlement_working_days)


def closure_review_due(applied_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 step 8c (第二十条(六)): the reviewer checks a write-off closure within 30 days."""
    return applied_on + timedelta(days=params.closure_review_days)


def application_review_due(applied_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 steps 8a and 8b (第十九条(五)(六)): the reviewer (高新投集团) decides an upgrade
    application, or checks a settlement application, before the project changes library.

    Interpretation: the policy names the reviewer's approval but gives it no period; it gets the
    30 days the reviewer has for a claim (第二十条(一)), from the bank's application.
    """
    return applied_on + timedelta(days=params.review_days)


def closure_approval_due(previous_step_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-16 step 8c (第十九条(七)): after the reviewer's check, the treasurer's re-check (金融中心复核),
    the authority's approval (主管部门) and the finance bureau's approval (监管执行部门), in turn.

    Interpretation: the policy gives these three steps no period of their own; each gets the 30
    days of the reviewer's closure check (第二十条(六)), from the step before it.
    """
    return previous_step_on + timedelta(days=params.closure_review_days)


def application_due(
    *,
    reclassified_on: date | None,
    disposal_completed_on: date | None,
    calendar: WorkingDayCalendar,
    params: SchemeSParams = S_DEFAULTS,
) -> StepDue | None:
    """RP-16 8a / 8b: what a compensated claim in the compensation library (or recovering) owes
    next, if anything: the upgrade application within 15 working days of the loan's
    reclassification as normal or special mention (``reclassified_on``, 第十九条(五)), or the
    settlement application within 15 working days of completed disposal (``disposal_completed_on``,
    第十九条(六)); the earlier when both are pending. The bank owes it."""
    options = []
    if reclassified_on is not None:
        options.append(_due("upgrade_application", "bank",
                            upgrade_application_due(reclassified_on, calendar=calendar, params=params)))
    if disposal_completed_on is not None:
        options.append(_due("settlement_application", "bank",
                            settlement_application_due(disposal_completed_on, calendar=calendar, params=params)))
    return min(options, key=lambda item: item.due) if options else None


def applied_late(due: date | None, applied_on: date) -> bool:
    """RP-16 8a / 8b / RP-18: an application made after the last day of its period.

    Interpretation: a late application is still accepted (refusing it would keep the loan, and
    the money owed to the pool, out of the workflow); it is recorded as late on the claim's steps
    and in the audit trail, and the item stays on the bank's overdue list until it is made.
    """
    return due is not None and applied_on > due


@dataclass(frozen=True)
class StepDue:
    """RP-16: a step of a claim, who owes it (``bank``, ``reviewer``, ``treasurer``,
    ``authority``, ``finance_bureau``; ``public`` for the end of the notice, until which anyone
    may object) and by when."""

    step: str
    owner: str
    due: date
    provisional: bool = False
    latest: date | None = None  # JB-1: the latest it could turn out to be; ``due`` when confirmed

    def __post_init__(self):
        if self.latest is None:
            object.__setattr__(self, "latest", self.due)


def _due(step: str, owner: str, deadline: date | Deadline) -> StepDue:
    if isinstance(deadline, date):
        return StepDue(step, owner, deadline)
    return StepDue(step, owner, deadline.date, deadline.provisional, deadline.latest)


def claim_deadlines(
    *,
    calendar: WorkingDayCalendar,
    params: SchemeSParams = S_DEFAULTS,
    submitted_on: date | None = None,
    re_review_requested_on: date | None = None,
    notice_start: date | None = None,
    plan_on: date | None = None,
    documents_complete_on: date | None = None,
    money_arrived_on: date | None = None,
    upgraded_on: date | None = None,
    recovery_received_on: date | None = None,
    disposal_completed_on: date | None = None,
    closure_applied_on: date | None = None,
    upgrade_applied_on: date | None = None,
    settlement_applied_on: date | None = None,
    closure_reviewed_on: date | None = None,
    closure_rechecked_on: date | None = None,
    closure_approved_on: date | None = None,
) -> dict[str, StepDue]:
    """RP-16: every deadline of a claim whose starting date is known, by step, for the claim's
    page (steps: review, re_review, notice_end, documents, payment, transfer,
    upgrade_application, recovery_report, settlement_application, closure_review, upgrade_review,
    settlement_review, closure_recheck, closure_approval, finance_approval)."""
    starts = {
        "review": (submitted_on, "reviewer", lambda d: review_due(d, params)),
        "re_review": (re_review_requested_on, "reviewer", lambda d: re_review_due(d, params)),
        "notice_end": (notice_start, "public", lambda d: notice_end(d, calendar=calendar, params=params)),
        "documents": (plan_on, "bank", lambda d: documents_due(d, params)),
        "payment": (documents_complete_on, "treasurer", lambda d: payment_due(d, params)),
        "transfer": (money_arrived_on, "bank", lambda d: transfer_due(d, calendar=calendar, params=params)),
        "upgrade_application": (
            upgraded_on,
            "bank",
            lambda d: upgrade_application_due(d, calendar=calendar, params=params),
        ),
        "recovery_report": (
            recovery_received_on,
            "bank",
            lambda d: recovery_report_due(d, calendar=calendar, params=params),
        ),
        "settlement_application": (
            disposal_completed_on,
            "bank",
            lambda d: settlement_application_due(d, calendar=calendar, params=params),
        ),
        "closure_review": (closure_applied_on, "reviewer", lambda d: closure_review_due(d, params)),
        "upgrade_review": (upgrade_applied_on, "reviewer", lambda d: application_review_due(d, params)),
        "settlement_review": (settlement_applied_on, "reviewer", lambda d: application_review_due(d, params)),
        "closure_recheck": (closure_reviewed_on, "treasurer", lambda d: closure_approval_due(d, params)),
        "closure_approval": (closure_rechecked_on, "authority", lambda d: closure_approval_due(d, params)),
        "finance_approval": (closure_approved_on, "finance_bureau", lambda d: closure_approval_due(d, params)),
    }
    return {step: _due(step, owner, compute(start)) for step, (start, owner, compute) in starts.items() if start}


# The step owed while a claim is in a state whose clock starts when it enters the state.
_STATE_STEPS = {
    "submitted": "review",
    "re_review": "re_review",
    "in_funding_plan": "documents",
    "documents_uploaded": "payment",
    "paid": "transfer",
    "closure_requested": "closure_review",
    "upgrade_requested": "upgrade_review",
    "settlement_requested": "settlement_review",
    "closure_reviewed": "closure_recheck",
    "closure_rechecked": "closure_approval",
    "closure_approved": "finance_approval",
}
_STEP_STARTS = {
    "review": "submitted_on",
    "re_review": "re_review_requested_on",
    "documents": "plan_on",
    "payment": "documents_complete_on",
    "transfer": "money_arrived_on",
    "closure_review": "closure_applied_on",
    "upgrade_review": "upgrade_applied_on",
    "settlement_review": "settlement_applied_on",
    "closure_recheck": "closure_reviewed_on",
    "closure_approval": "closure_rechecked_on",
    "finance_approval": "closure_approved_on",
}


def next_step_due(
    state: str, since: date, *, calendar: WorkingDayCalendar, params: SchemeSParams = S_DEFAULTS
) -> StepDue | None:
    """RP-16: the step owed in ``state`` and its deadline, counted from ``since``, the date its
    clock started (submission or release from the gate; re-review request; funding plan;
    complete documents; money arrived; closure application), for the overdue lists (JB-3).
    None for a state with no deadline of its own; the per-event deadlines (notice end, upgrade
    application, quarterly recovery report, settlement application) come from
    ``claim_deadlines`` or their own functions."""
    step = _STATE_STEPS.get(state)
    if step is None:
        return None
    return claim_deadlines(calendar=calendar, params=params, **{_STEP_STARTS[step]: since})[step]


# --- RP-17 returns -------------------------------------------------------------------------


def _remaining(paid: Any, returned_so_far: Any, rule: str) -> Decimal:
    paid_amount = _amount(paid, rule, "paid")
    returned = _amount(returned_so_far, rule, "returned_so_far")
    if returned > paid_amount:
        raise RuleViolation(rule, _("More has been returned than was paid."), "returned_so_far")
    return paid_amount - returned


def recovery_return(gross: Any, share: Any, paid: Any, returned_so_far: Any) -> Decimal:
    """RP-17 (第十九条(六)): a recovery returns gross recovery (before litigation or arbitration
    costs) × the claim's ratio, in cents, never more in total than the compensation paid:
    min(gross × ratio, paid − returned so far)."""
    gross_amount = _amount(gross, "RP-17", "gross")
    claim_ratio = _fraction(share, "RP-17", "ratio")
    return min(round_money(gross_amount * claim_ratio), _remaining(paid, returned_so_far, "RP-17"))


def upgrade_return(paid: Any, returned_so_far: Any) -> Decimal:
    """RP-16 step 8a (第十九条(五)): on an approved upgrade the bank returns the compensation not
    yet returned."""
    return _remaining(paid, returned_so_far, "RP-16")


# --- RP-18 normal-loan closure -------------------------------------------------------------


def normal_closure_due(maturity: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-18 (第十九条(八)): a loan repaid at maturity is closed by the bank within 3 months."""
    return add_months(maturity, params.normal_closure_months)


def auto_close_on(maturity: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-18 (第十九条(八)): a loan still open with no claim 6 months after maturity is closed by
    the system.

    Interpretation: the bank has the whole of maturity + 6 months (clamped to the month's end)
    to close it or claim; the system may close it from the next day on (the quarterly job, JB-5,
    closes every loan whose date has come).
    """
    return add_months(maturity, params.auto_closure_months) + timedelta(days=1)


# --- RP-19 transition ----------------------------------------------------------------------


def ratio_rule_date(npl_on: date) -> date:
    """RP-19 (第二十一条): the ratios (RP-8 … RP-14) come from the rule set in force on the date
    the loan was classified non-performing (2023-03-01 … 2023-08-09: 深工信规〔2020〕4号; from
    2023-08-10: the current rules). The services pass this date to ``core.rulesets.rule_params``."""
    return npl_on


def entry_rule_date(disbursed_on: date) -> date:
    """RP-19 (第二十一条): entry (RP-3 … RP-7) follows the rule set in force on the disbursement
    date."""
    return disbursed_on


# --- RP-20 annual bank evaluation ----------------------------------------------------------

GRADES = ("excellent", "good", "qualified", "unqualified")
GRADE_LABELS = {
    "excellent": _("excellent (优秀)"),
    "good": _("good (良好)"),
    "qualified": _("qualified (合格)"),
    "unqualified": _("unqualified (不合格)"),
}


@dataclass(frozen=True)
class BankYear:
    """RP-20 indicators of one member bank for the year: A (amount disbursed), N (distinct
    borrowers), last year's A and N (None: not a member or no data), and whether a violation
    was recorded in the year."""

    id: str
    amount: Decimal
    borrowers: int
    prev_amount: Decimal | None = None
    prev_borrowers: int | None = None
    violation: bool = False

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> BankYear:
        """Parse one row of the bank-evaluation preview (issue 3)."""
        problems: list[Problem] = []
        if (
            not isinstance(data, Mapping)
            or not isinstance(data.get("id"), str | int)
            or isinstance(data.get("id"), bool)
        ):
            raise RuleViolation("RP-20", _("Each bank needs an id."), "banks")
        prev = data.get("prev_amount")
        violation = data.get("violation", False)
        if not isinstance(violation, bool):
            problems.append(Problem("RP-20", _("Enter true or false."), "violation"))
        row = {
            "id": str(data["id"]),
            "amount": _collect(problems, _amount, data.get("amount"), "RP-20", "amount"),
            "borrowers": _collect(problems, _count, data.get("borrowers"), "borrowers"),
            "prev_amount": None if prev is None else _collect(problems, _amount, prev, "RP-20", "prev_amount"),
            "prev_borrowers": None
            if data.get("prev_borrowers") is None
            else _collect(problems, _count, data["prev_borrowers"], "prev_borrowers"),
            "violation": violation,
        }
        if problems:
            raise RuleViolation.many(problems)
        return cls(**row)


def _count(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RuleViolation("RP-20", _("Enter a whole number, 0 or more."), field)
    return value


@dataclass(frozen=True)
class BankGrade:
    """RP-20 result for one bank: growth G (None without a previous-year amount), its ranks on
    A, N and G (1 is highest; None when not ranked on G), the grade and why."""

    id: str
    growth: Decimal | None
    amount_rank: int
    borrowers_rank: int
    growth_rank: int | None
    grade: str
    message: str = ""

    @property
    def ranks(self) -> dict[str, int | None]:
        return {"amount": self.amount_rank, "borrowers": self.borrowers_rank, "growth": self.growth_rank}

    def as_dict(self) -> dict[str, Any]:
        """One row of the bank-evaluation preview's answer (issue 3)."""
        return {
            "id": self.id,
            "growth": None if self.growth is None else str(self.growth),
            "ranks": self.ranks,
            "grade": self.grade,
        }


def growth(amount: Decimal, prev_amount: Decimal | None) -> Decimal | None:
    """RP-20 (第二十二条(三)): G = (A − last year's A) ÷ last year's A, six places; None when last
    year's A is missing or 0 (from the pool's second year on)."""
    if prev_amount is None or prev_amount <= 0:
        return None
    return round_ratio((amount - prev_amount) / prev_amount)


def competition_ranks(values: Mapping[str, Decimal | int]) -> dict[str, int]:
    """RP-20: ranks high to low, ties sharing the best rank (1, 2, 2, 4)."""
    ordered = sorted(values.values(), reverse=True)
    first = {}
    for position, value in enumerate(ordered, start=1):
        first.setdefault(value, position)
    return {key: first[value] for key, value in values.items()}


def in_top(rank: int | None, share: Decimal, ranked: int) -> bool:
    """RP-20: a rank r is in the top p% when r ≤ p × n, n the number of banks ranked on that
    indicator (含本数)."""
    return rank is not None and Decimal(rank) <= share * ranked


def _fell(row: BankYear) -> bool:
    """RP-20: both A and N below last year's (strictly); a bank without last year's figures did
    not fall."""
    if row.prev_amount is None or row.prev_borrowers is None:
        return False
    return row.amount < row.prev_amount and row.borrowers < row.prev_borrowers


def evaluate_banks(rows: Sequence[BankYear], params: SchemeSParams = S_DEFAULTS) -> list[BankGrade]:
    """RP-20 (第二十二条 … 第二十五条): grade every member bank for the year, in the given order.

    Checked in this order: unqualified (a violation; or A and N both fell, unless every
    evaluated bank's A and N both fell); excellent ((A or N in the top 60%) and G in the top
    15%); good (the same, G in the top 30% but not the top 15%); qualified (all others). A bank
    without G is not ranked on G and is at best qualified.

    Interpretation (the spec's): "top p%" is rank ≤ p × n with n the banks ranked on the
    indicator, so with few banks nobody may reach the top 15%. G is ranked as its six-place
    value, the figure shown, so banks showing the same growth share a rank.
    """
    ids = [row.id for row in rows]
    if len(ids) != len(set(ids)):
        raise RuleViolation("RP-20", _("Each bank may appear only once."), "banks")
    if not rows:
        return []
    growths = {row.id: growth(row.amount, row.prev_amount) for row in rows}
    ranked_growth = {key: g for key, g in growths.items() if g is not None}
    amount_ranks = competition_ranks({row.id: row.amount for row in rows})
    borrower_ranks = competition_ranks({row.id: row.borrowers for row in rows})
    growth_ranks = competition_ranks(ranked_growth)
    n, n_growth = len(rows), len(ranked_growth)
    all_fell = all(_fell(row) for row in rows)
    grades = []
    for row in rows:
        g_rank = growth_ranks.get(row.id)
        volume = in_top(amount_ranks[row.id], params.evaluation_volume_top, n) or in_top(
            borrower_ranks[row.id], params.evaluation_volume_top, n
        )
        if row.violation:
            grade, message = "unqualified", _("A violation of the pool's rules was recorded in the year.")
        elif _fell(row) and not all_fell:
            grade, message = "unqualified", _("Both the amount lent and the number of borrowers fell from last year.")
        elif volume and in_top(g_rank, params.evaluation_growth_excellent_top, n_growth):
            grade, message = (
                "excellent",
                _("Amount or borrowers in the top %(volume)s and growth in the top %(growth)s.")
                % {
                    "volume": _pct(params.evaluation_volume_top),
                    "growth": _pct(params.evaluation_growth_excellent_top),
                },
            )
        elif volume and in_top(g_rank, params.evaluation_growth_good_top, n_growth):
            grade, message = (
                "good",
                _("Amount or borrowers in the top %(volume)s and growth in the top %(growth)s.")
                % {"volume": _pct(params.evaluation_volume_top), "growth": _pct(params.evaluation_growth_good_top)},
            )
        else:
            grade, message = "qualified", _("Neither unqualified nor among the best on growth.")
        grades.append(
            BankGrade(
                row.id, growths[row.id], amount_ranks[row.id], borrower_ranks[row.id], g_rank, grade, str(message)
            )
        )
    return grades


# --- RP-21 claw-back -----------------------------------------------------------------------


def clawback_interest(amount: Any, segments: Iterable[tuple[date, Any]], paid_on: date, returned_on: date) -> Decimal:
    """RP-21 (第二十八条): interest on clawed-back compensation for the same period (同期利息).

    ``segments`` are (effective date, 1-year LPR in percent) pairs, in any order; each day's
    rate is the one with the latest effective date on or before it.

    Interpretation: simple interest, actual/365, on the 1-year LPR in force on each day, from
    the payout date (included) to the return date (excluded), summed over the days and rounded
    once to cents (ROUND_HALF_UP).
    """
    principal = _amount(amount, "RP-21", "amount")
    if returned_on < paid_on:
        raise RuleViolation("RP-21", _("The money cannot be returned before it was paid."), "returned_on")
    rates = sorted((start, _lpr_value(rate)) for start, rate in segments)
    if not rates or rates[0][0] > paid_on:
        raise RuleViolation(
            "RP-21",
            _("No 1-year loan prime rate is in force on %(date)s.") % {"date": paid_on.isoformat()},
            "lpr",
        )
    day_percent = _ZERO  # sum over the days of the rate in percent
    for index, (start, rate) in enumerate(rates):
        end = rates[index + 1][0] if index + 1 < len(rates) else returned_on
        days = (min(end, returned_on) - max(start, paid_on)).days
        if days > 0:
            day_percent += rate * days
    return round_money(principal * day_percent / (_HUNDRED * 365))


# --- RP-22 revocation ----------------------------------------------------------------------


def revoked(grades_last_two_years: Sequence[str | None], params: SchemeSParams = S_DEFAULTS) -> bool:
    """RP-22 (第二十四条): membership is revoked when the bank was unqualified two years running.
    ``grades_last_two_years`` are its grades oldest first (None: not evaluated that year)."""
    years = params.revocation_unqualified_years
    recent = list(grades_last_two_years)[-years:] if years else []
    return len(recent) == years and years > 0 and all(grade == "unqualified" for grade in recent)


def may_reapply_on(revoked_on: date, params: SchemeSParams = S_DEFAULTS) -> date:
    """RP-22 (第二十四条): a revoked bank may apply again two years later (the same day, clamped
    for 29 February)."""
    return add_months(revoked_on, 12 * params.reapply_after_years)


# --- RP-24 dishonesty list -----------------------------------------------------------------


def may_submit(on_dishonesty_list: bool) -> bool:
    """RP-24 (第三十条): a bank on the serious-dishonesty list (严重失信主体名单) cannot submit claims."""
    return not on_dishonesty_list


def check_may_submit(on_dishonesty_list: bool) -> None:
    """RP-24: raise for the service when the bank may not submit."""
    if not may_submit(on_dishonesty_list):
        raise RuleViolation(
            "RP-24", _("The bank is on the serious-dishonesty list and cannot submit compensation claims.")
        )


# --- RP-25 confidentiality -----------------------------------------------------------------


def mask_credit_code(code: str | None) -> str:
    """RP-25 (第十条): the credit code (统一社会信用代码, or an ID number) as the public notice shows it.

    Interpretation: keep the first 4 and last 4 characters and replace the rest with "*", one
    per character (91440300MA5F12345X → 9144**********345X). A code shorter than 16 characters
    keeps a quarter of its length (rounded down) at each end, so one of 3 or fewer is all "*";
    blank gives "".
    """
    text = (code or "").strip()
    keep = min(4, len(text) // 4)
    if keep == 0:
        return "*" * len(text)
    return text[:keep] + "*" * (len(text) - 2 * keep) + text[-keep:]


# --- Scheme M ------------------------------------------------------------------------------


def m_ratio(in_new_gov_bank_system: bool, params: SchemeMParams = M_DEFAULTS) -> Decimal:
    """RP-M1 (第八条): 40% of the firm's actual payout (实际代偿金额) when the firm is in the
    provincial new government-bank-guarantee system (省级新型政银担体系), otherwise 20%."""
    return params.ratio_in_system if in_new_gov_bank_system else params.ratio_outside_system


def m_reimbursement(payout: Any, in_new_gov_bank_system: bool, params: SchemeMParams = M_DEFAULTS) -> Decimal:
    """RP-M1: the reimbursement of one payout, in cents."""
    return round_money(_amount(payout, "RP-M1", "payout") * m_ratio(in_new_gov_bank_system, params))


def m_sub_fund(product: str, params: SchemeMParams = M_DEFAULTS) -> SubFund:
    """RP-M2 (第三条): the sub-fund a product's reimbursements come out of (税源贷 and
    固定资产投资贷 share one)."""
    for fund in params.sub_funds:
        if product in fund.products:
            return fund
    products = [p for fund in params.sub_funds for p in fund.products]
    raise RuleViolation(
        "RP-M2",
        _("Unknown product %(product)s; the products are %(products)s.")
        % {"product": product, "products": ", ".join(products)},
        "product",
    )


@dataclass(frozen=True)
class Suspension:
    """RP-M3: whether new business in the product is suspended, and why (one fail reason per
    test that tripped; pass reasons otherwise)."""

    suspended: bool
    reasons: tuple[Reason, ...]


def product_suspended(
    npl_rate: Decimal | None,
    firm_compensation_rate: Decimal | None,
    cumulative_reimbursed: Any,
    product_size: Any,
    params: SchemeMParams = M_DEFAULTS,
) -> Suspension:
    """RP-M3 (第十条): new business in a product is suspended when the product's NPL rate or the
    firm's compensation rate exceeds (超过, strict) 4%, or when the product's cumulative
    reimbursements reach (达到, inclusive) 70% of its size. A rate of None (nothing lent or
    guaranteed yet) trips nothing.

    Interpretation: for the two products that share a sub-fund (税源贷, 固定资产投资贷) the 70%
    test is on the sub-fund: pass their combined reimbursements and the shared size.
    """
    reimbursed = _amount(cumulative_reimbursed, "RP-M3", "cumulative_reimbursed")
    size = _amount(product_size, "RP-M3", "product_size")
    limit = params.suspension_rate
    reasons = []
    for rate, label in (
        (npl_rate, _("The product's NPL rate")),
        (firm_compensation_rate, _("The firm's compensation rate")),
    ):
        if rate is None:
            continue
        values = {"what": label, "rate": _pct(rate), "limit": _pct(limit)}
        if rate > limit:
            reasons.append(Reason("RP-M3", FAIL, _("%(what)s of %(rate)s exceeds %(limit)s.") % values))
        else:
            reasons.append(Reason("RP-M3", PASS, _("%(what)s of %(rate)s is within %(limit)s.") % values))
    threshold = size * params.suspension_usage
    values = {"reimbursed": yuan(reimbursed), "share": _pct(params.suspension_usage), "size": yuan(size)}
    if reimbursed >= threshold:
        reasons.append(
            Reason(
                "RP-M3",
                FAIL,
                _("Reimbursements of %(reimbursed)s yuan have reached %(share)s of the product's %(size)s yuan.")
                % values,
            )
        )
    else:
        reasons.append(
            Reason(
                "RP-M3",
                PASS,
                _("Reimbursements of %(reimbursed)s yuan are below %(share)s of the product's %(size)s yuan.") % values,
            )
        )
    return Suspension(any(r.outcome == FAIL for r in reasons), tuple(reasons))


# RP-M1 (马政办〔2024〕6号 第二十三条, 第二十四条): the measure, and so Scheme M reimbursement, covers
# business from 2024-05-15 on; the older products' earlier business keeps its old terms (第八条(三)).
M_SCHEME_START = date(2024, 5, 15)
M_OLDER_PRODUCTS = ("export", "tax_source", "fixed_asset_investment")  # 出口贷, 税源贷, 固定资产投资贷


def m_business_covered(business_on: date, product_code: str, product_name: str,
                       scheme_start: date = M_SCHEME_START) -> Reason:
    """RP-M1 (第八条(三), 第二十三条, 第二十四条): whether business (a guarantee or loan) started on
    ``business_on`` is reimbursed under Scheme M. From ``scheme_start`` (2024-05-15, the day
    the measure took effect; inclusive) it is; before that, the existing business of 出口贷,
    税源贷 and 固定资产投资贷 follows those products' own earlier measures, and 科信贷 did not
    exist yet."""
    values = {"on": business_on.isoformat(), "start": scheme_start.isoformat(), "product": product_name}
    if business_on >= scheme_start:
        return Reason("RP-M1", PASS, _(
            "The business started on %(on)s, on or after %(start)s when 马政办〔2024〕6号 took effect.") % values)
    if product_code in M_OLDER_PRODUCTS:
        return Reason("RP-M1", FAIL, _(
            "The business started on %(on)s, before %(start)s when 马政办〔2024〕6号 took effect: existing "
            "business of %(product)s follows that product's earlier measures (第八条(三)), not this fund.") % values)
    return Reason("RP-M1", FAIL, _(
        "The business started on %(on)s, before %(start)s when 马政办〔2024〕6号 took effect and created "
        "%(product)s; only business from that day on is reimbursed (第二十三条, 第二十四条).") % values)


def party_suspended(rate: Decimal | None, role: str, params: SchemeMParams = M_DEFAULTS) -> Suspension:
    """RP-M3 (第十条(一)) for one party in one product: a bank's NPL rate on the product's loans
    (专项产品贷款不良率, ``role`` "bank") or a guarantee firm's compensation rate on the
    product's guarantees (担保代偿率, ``role`` "firm") above (超过, strict) 4% suspends that
    party's new business in the product. No rate (nothing lent, released or compensated in the
    product yet) trips nothing, and says so."""
    limit = params.suspension_rate
    label = _("The bank's NPL rate on the product's loans") if role == "bank" else _(
        "The firm's compensation rate on the product's guarantees")
    if rate is None:
        return Suspension(False, (Reason("RP-M3", INFO, _(
            "The bank has no loan of the product yet, so it has no NPL rate on it.") if role == "bank" else _(
            "None of the firm's guarantees of the product has ended yet (released or compensated), so it has no "
            "compensation rate on it.")),))
    values = {"what": label, "rate": _pct(rate), "limit": _pct(limit)}
    if rate > limit:
        return Suspension(True, (Reason("RP-M3", FAIL, _("%(what)s of %(rate)s exceeds %(limit)s.") % values),))
    return Suspension(False, (Reason("RP-M3", PASS, _("%(what)s of %(rate)s is within %(limit)s.") % values),))


M_EXCLUSIONS = {
    "overdue_elsewhere": _(
        "At approval the borrower, its legal representative, controlling shareholder or actual controller had "
        "an unpaid overdue loan at another lender (第十二条(一))."
    ),
    "judgment_debtor": _(
        "At approval the borrower, its legal representative, controlling shareholder or actual controller was "
        "listed by a court as a judgment debtor with unpaid debt (第十二条(一))."
    ),
    "bank_skipped_checks": _("The bank did not carry out its pre-loan checks (第十二条(二))."),
    "firm_skipped_review": _("The guarantee firm did not carry out its guarantee review (第十二条(二))."),
    "fraud": _("There was fraud, misappropriation or collusion to obtain the compensation (第十二条(二))."),
    "late_collection": _("The guarantee firm did not collect in time after the default (第十二条(三))."),
    "other_breach": _(
        "The loan or guarantee was not made as the fund's rules and the cooperation agreement require (第十二条(四))."
    ),
}


def m_exclusions(flags: Mapping[str, bool]) -> list[Reason]:
    """RP-M4 (第十二条): one fail reason per exclusion that applies (keys of ``M_EXCLUSIONS``);
    an empty list means the payout may be reimbursed."""
    unknown = [key for key in flags if key not in M_EXCLUSIONS]
    if unknown:
        raise RuleViolation(
            "RP-M4",
            _("Unknown exclusion %(keys)s; the exclusions are %(known)s.")
            % {"keys": ", ".join(unknown), "known": ", ".join(M_EXCLUSIONS)},
            "flags",
        )
    if not all(isinstance(value, bool) for value in flags.values()):
        raise RuleViolation("RP-M4", _("Each exclusion is true or false."), "flags")
    return [Reason("RP-M4", FAIL, str(M_EXCLUSIONS[key])) for key in M_EXCLUSIONS if flags.get(key)]


def m_return(recovery: Any, costs: Any, share: Any, reimbursed: Any, returned_so_far: Any) -> Decimal:
    """RP-M5 (第十三条, 第十四条): a recovery, also after write-off, returns (recovery − litigation,
    arbitration and enforcement costs) × the reimbursement ratio, in cents, never more in total
    than was reimbursed; costs above the recovery give 0."""
    net = max(_amount(recovery, "RP-M5", "recovery") - _amount(costs, "RP-M5", "costs"), _NO_MONEY)
    due = round_money(net * _fraction(share, "RP-M5", "ratio"))
    return min(due, _remaining(reimbursed, returned_so_far, "RP-M5"))


def m_return_due(received_on: date, params: SchemeMParams = M_DEFAULTS) -> date:
    """RP-M5 (第十三条): the firm returns within 30 days of receiving the recovered money."""
    return received_on + timedelta(days=params.return_days)


def m_report_due(year: int, params: SchemeMParams = M_DEFAULTS) -> date:
    """RP-M6 (第二十一条): the report on ``year``'s fund use is due by the end of March of the
    following year (m_report_due(2024) is 2025-03-31)."""
    return add_months(date(year + 1, params.report_month, 1), 1) - timedelta(days=1)
