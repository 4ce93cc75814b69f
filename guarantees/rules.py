"""Guarantee policy arithmetic and decisions (rules GU-1 … GU-13), as pure functions.

Sources: seed 000 (大金联〔2024〕1号) and seed 001 (Beijing 2022 measures), both applying
国办发〔2019〕6号; enterprise size by 工信部联企业〔2011〕300号. See docs/spec guarantees.md.

Nothing here queries or saves. Money is ``Decimal`` yuan in cents (``CENT``), ratios and rates
are ``Decimal`` fractions with six places (``RATIO``); both ROUND_HALF_UP. Bad input raises
``core.errors.RuleViolation`` naming the rule and field; a policy breach that must be stored
and flagged rather than refused is returned as a list of ``core.errors.Problem``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from core.errors import Conflict, Problem, RuleViolation
from core.i18n_text import gettext_lazy as _
from core.money import CENT, money, percent, plain, ratio, round_money, round_ratio, share_of, to_decimal
from core.money import amount as _amount

PARTIES = ("bank", "guarantee_firm", "reguarantee", "national_fund", "government")

PARTY_LABELS = {
    "bank": _("bank"),
    "guarantee_firm": _("guarantee firm"),
    "reguarantee": _("provincial re-guarantee"),
    "national_fund": _("national fund"),
    "government": _("government fund"),
}

_ZERO = Decimal("0")
_ONE = Decimal("1")
_WAN = Decimal("10000")  # 万元 -> yuan


# --- parameters ----------------------------------------------------------------------------


def _param(default: str, rule: str, kind: str):
    return dataclasses.field(default=Decimal(default), metadata={"rule": rule, "kind": kind})


@dataclass(frozen=True)
class GuaranteeParams:
    """The guarantees rule-set parameters; the defaults are the shipped policy values."""

    bank_min_share: Decimal = _param("0.20", "GU-2", "ratio")
    national_fund_min_share: Decimal = _param("0.20", "GU-2", "ratio")
    # 单户担保金额 threshold; an amount equal to it gets the low cap (500万元及以下).
    fee_cap_threshold: Decimal = _param("5000000.00", "GU-5", "money")
    fee_cap_low: Decimal = _param("0.010000", "GU-5", "ratio")
    fee_cap_high: Decimal = _param("0.015000", "GU-5", "ratio")
    avg_fee_rate_target: Decimal = _param("0.010000", "GU-6", "ratio")
    support_share_target: Decimal = _param("0.800000", "GU-7", "ratio")
    small_amount_threshold: Decimal = _param("5000000.00", "GU-7", "money")
    small_amount_share_target: Decimal = _param("0.500000", "GU-7", "ratio")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> GuaranteeParams:
        """Build from a stored rule set: unknown keys ignored, missing keys keep defaults."""
        values = {}
        for spec in dataclasses.fields(cls):
            if spec.name in data:
                values[spec.name] = _parse_param(data[spec.name], spec)
        return cls(**values)

    def as_mapping(self) -> dict[str, str]:
        return {spec.name: str(getattr(self, spec.name)) for spec in dataclasses.fields(self)}


def _parse_param(value: Any, spec: dataclasses.Field) -> Decimal:
    rule, kind = spec.metadata["rule"], spec.metadata["kind"]
    parse = money if kind == "money" else ratio
    number = parse(value, rule=rule, field=spec.name)
    if number < 0 or (kind == "ratio" and number > 1):
        raise RuleViolation(rule, _("This parameter is out of range."), spec.name)
    return number


# --- GU-1 split ----------------------------------------------------------------------------


def _share_problem(party: str, value: Any) -> tuple[Decimal | None, Problem | None]:
    label = PARTY_LABELS[party]
    share = to_decimal(value)
    if share is None:
        message = _("The %(party)s share must be a number.") % {"party": label}
    elif not _ZERO <= share <= _ONE:
        message = _("The %(party)s share must be between 0 and 1.") % {"party": label}
    elif share != round_ratio(share):
        message = _("The %(party)s share may have at most 6 decimal places.") % {"party": label}
    else:
        return round_ratio(share), None
    return None, Problem("GU-1", message, "shares")


def _validated_shares(values: Mapping[str, Any]) -> dict[str, Decimal]:
    """GU-1: each share a number in [0, 1] with at most six places, all adding up to 1."""
    shares, problems = {}, []
    for party in PARTIES:
        shares[party], problem = _share_problem(party, values[party])
        if problem:
            problems.append(problem)
    if problems:
        raise RuleViolation.many(problems)
    total = sum(shares.values(), _ZERO)
    if total != _ONE:
        raise RuleViolation(
            "GU-1",
            _("Shares must add up to exactly 1 (they add up to %(total)s).") % {"total": plain(total)},
            "shares",
        )
    return shares


@dataclass(frozen=True)
class Split:
    """GU-1 risk-sharing split (分险比例): one share per party, each in [0, 1], adding up to 1.

    Built directly or through ``parse_split``; either way a Split that exists is valid, so
    ``allocate`` can rely on the parts adding up.
    """

    bank: Decimal
    guarantee_firm: Decimal
    reguarantee: Decimal
    national_fund: Decimal
    government: Decimal = _ZERO

    def __post_init__(self):
        shares = _validated_shares({party: getattr(self, party) for party in PARTIES})
        for party, share in shares.items():
            object.__setattr__(self, party, share)

    def as_dict(self) -> dict[str, Decimal]:
        return {party: getattr(self, party) for party in PARTIES}


def parse_split(shares: Mapping[str, Any]) -> Split:
    """GU-1: turn a party -> share mapping (``government`` optional) into a valid Split."""
    if not isinstance(shares, Mapping):
        raise RuleViolation("GU-1", _("Shares must be given as a mapping of party to share."), "shares")
    problems = [
        Problem(
            "GU-1",
            _("Unknown party %(party)s; the parties are %(parties)s.") % {"party": key, "parties": ", ".join(PARTIES)},
            "shares",
        )
        for key in shares
        if key not in PARTIES
    ]
    problems += [
        Problem(
            "GU-1",
            _("The %(party)s share is missing.") % {"party": PARTY_LABELS[p]},
            "shares",
        )
        for p in PARTIES[:-1]
        if p not in shares
    ]
    if problems:
        raise RuleViolation.many(problems)
    return Split(**shares)


# --- GU-2 minimum shares -------------------------------------------------------------------


def check_minimum_shares(split: Split, params: GuaranteeParams = GuaranteeParams()) -> list[Problem]:
    """GU-2 (国办发〔2019〕6号): bank >= 20%; national fund, where it takes part, >= 20%;
    provincial re-guarantee >= national fund. Breaches are returned, not raised: the
    agreement is stored and flagged non-compliant."""
    problems = []
    if split.bank < params.bank_min_share:
        problems.append(_below_minimum("bank", split.bank, params.bank_min_share))
    fund = split.national_fund
    if fund > 0 and fund < params.national_fund_min_share:
        problems.append(_below_minimum("national_fund", fund, params.national_fund_min_share))
    if split.reguarantee < fund:
        message = _(
            "The provincial re-guarantee share (%(reguarantee)s) must not be lower than "
            "the national fund share (%(fund)s)."
        ) % {"reguarantee": percent(split.reguarantee), "fund": percent(fund)}
        problems.append(Problem("GU-2", message, "shares.reguarantee"))
    return problems


def _below_minimum(party: str, share: Decimal, minimum: Decimal) -> Problem:
    message = _("The %(party)s share (%(share)s) is below the minimum of %(minimum)s.") % {
        "party": PARTY_LABELS[party],
        "share": percent(share),
        "minimum": percent(minimum),
    }
    return Problem("GU-2", message, f"shares.{party}")


# --- GU-3 loss allocation ------------------------------------------------------------------


def _split_cents(base: Decimal, split: Split) -> dict[str, Decimal]:
    """Largest remainder on the cents: floor every part, then hand the leftover cents to the
    largest remainders, ties in PARTIES order, so the parts add up exactly to ``base``."""
    cents = int(base.scaleb(2))
    exact = {party: cents * share for party, share in split.as_dict().items()}
    parts = {party: int(value.to_integral_value(rounding=ROUND_FLOOR)) for party, value in exact.items()}
    leftover = cents - sum(parts.values())
    by_remainder = sorted(PARTIES, key=lambda p: (-(exact[p] - parts[p]), PARTIES.index(p)))
    for party in by_remainder[:leftover]:
        parts[party] += 1
    return {party: round_money(Decimal(parts[party]) * CENT) for party in PARTIES}


def allocate(base: Any, split: Split) -> dict[str, Decimal]:
    """GU-3: each party bears base x share in cents; the parts equal the base exactly."""
    return _split_cents(_amount(base, "GU-3", "base"), split)


# --- GU-4 grace period ---------------------------------------------------------------------


# GU-4: the policy sets no longest grace period; banks grant 30 to 90 days. Ten years (as the
# agreement form has always allowed) bounds the input and keeps every due date a real date.
MAX_GRACE_DAYS = 3650


def compensation_due_on(default_on: date, grace_days: int) -> date:
    """GU-4: compensation (代偿) is due on the default date + the grace period (代偿宽限期),
    in calendar days, 0 to MAX_GRACE_DAYS."""
    if isinstance(grace_days, bool) or not isinstance(grace_days, int) or not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise RuleViolation(
            "GU-4",
            _("The grace period must be a whole number of days from 0 to %(max)s.") % {"max": MAX_GRACE_DAYS},
            "grace_days",
        )
    return default_on + timedelta(days=grace_days)


def is_compensation_overdue(due_on: date, paid_on: date | None, today: date) -> bool:
    """GU-4: overdue once unpaid after the due date (the due date itself is still in time)."""
    return paid_on is None and today > due_on


# --- GU-5 fee caps -------------------------------------------------------------------------


def fee_cap(single_borrower_amount: Any, params: GuaranteeParams = GuaranteeParams()) -> Decimal:
    """GU-5 (seed 000 (十一)): the fee-rate cap for small-micro and 三农 borrowers; 1% up to
    and including 5,000,000 yuan of 单户担保金额, 1.5% above."""
    amount = _amount(single_borrower_amount, "GU-5", "single_borrower_amount")
    return params.fee_cap_low if amount <= params.fee_cap_threshold else params.fee_cap_high


def check_fees(
    *,
    small_micro_or_agri: bool,
    single_borrower_amount: Any,
    fee_rate: Any,
    other_fees: Any,
    params: GuaranteeParams = GuaranteeParams(),
) -> list[Problem]:
    """GU-5: for small-micro and 三农 borrowers the fee rate may not exceed the cap and no
    other fee may be charged. Breaches are returned to be stored and flagged, not corrected.
    Other borrowers have no cap, so their 单户担保金额 is not looked at."""
    rate = ratio(fee_rate, rule="GU-5", field="fee_rate")
    if rate < 0:
        raise RuleViolation("GU-5", _("The fee rate must not be negative."), "fee_rate")
    others = _amount(other_fees, "GU-5", "other_fees")
    if not small_micro_or_agri:
        return []
    problems = []
    cap = fee_cap(single_borrower_amount, params)
    if rate > cap:
        message = _("The fee rate %(rate)s is above the cap of %(cap)s for this borrower.") % {
            "rate": percent(rate),
            "cap": percent(cap),
        }
        problems.append(Problem("GU-5", message, "fee_rate"))
    if others != 0:
        message = _(
            "No fee other than the guarantee fee may be charged to a small-micro or "
            "agricultural borrower (other fees: %(amount)s yuan)."
        ) % {"amount": others}
        problems.append(Problem("GU-5", message, "other_fees"))
    return problems


def check_bank_fees(*, small_micro_or_agri: bool, scheme_m_product: bool, bank_fees: Any) -> list[Problem]:
    """GU-5 on the lending bank: besides the loan's interest and the guarantee fee, no bank may
    charge a small-micro or 三农 borrower a deposit, commitment, consulting or any other fee
    (seed 000 (十一) "规范银行业金融机构和政府性融资担保机构的收费行为"), and a Scheme M policy loan
    product carries no deposit, intermediary or other fee whoever the borrower (马政办〔2024〕6号
    第七条 "不另外收取保证金、中间业务费等其他费用"). A non-zero bank fee on such a loan is a
    violation, returned to be stored and flagged like the firm's own fee breaches."""
    fees = _amount(bank_fees, "GU-5", "bank_fees")
    if fees == 0 or not (small_micro_or_agri or scheme_m_product):
        return []
    if scheme_m_product:
        message = _(
            "The bank charged %(amount)s yuan of fees on a policy loan product, which carries no deposit, "
            "intermediary or other fee (马政办〔2024〕6号 第七条)."
        ) % {"amount": fees}
    else:
        message = _(
            "The bank charged %(amount)s yuan of fees besides interest to a small-micro or agricultural "
            "borrower; no bank may (大金联〔2024〕1号 (十一))."
        ) % {"amount": fees}
    return [Problem("GU-5", message, "bank_fees")]


# --- GU-6 … GU-9 firm indicators -----------------------------------------------------------


def _non_negative(value: Any, rule: str, field: str) -> Decimal:
    """A non-negative number kept at full precision (a sum of amount x rate has 8 places)."""
    number = to_decimal(value)
    if number is None or number < 0:
        raise RuleViolation(rule, _("Enter a number that is 0 or more."), field)
    return number


def average_fee_rate(weighted_sum: Any, total_amount: Any) -> Decimal | None:
    """GU-6: guaranteed-amount-weighted mean fee rate, sum(amount x rate) / sum(amount);
    None when nothing was written in the period."""
    weighted = _non_negative(weighted_sum, "GU-6", "weighted_sum")
    return share_of(weighted, _amount(total_amount, "GU-6", "total_amount"))


def fee_rate_on_target(rate: Decimal | None, params: GuaranteeParams = GuaranteeParams()) -> bool:
    """GU-6: the average fee rate must be below (strictly) 1%; no business is on target."""
    return rate is None or rate < params.avg_fee_rate_target


def support_share(small_agri_amount: Any, total_amount: Any) -> Decimal | None:
    """GU-7 (支小支农担保业务占比): part of the period's guaranteed amount / all of it; None when
    nothing was written. Also serves the companion share of business of 单户 <= 5,000,000."""
    part = _amount(small_agri_amount, "GU-7", "small_agri_amount")
    whole = _amount(total_amount, "GU-7", "total_amount")
    if part > whole:
        raise RuleViolation("GU-7", _("The part cannot be larger than the total."), "small_agri_amount")
    return share_of(part, whole)


def support_share_on_target(share: Decimal | None, params: GuaranteeParams = GuaranteeParams()) -> bool:
    """GU-7: the support-small-and-agriculture share is not lower than 80%."""
    return share is None or share >= params.support_share_target


def small_amount_share_on_target(share: Decimal | None, params: GuaranteeParams = GuaranteeParams()) -> bool:
    """GU-7 companion: share of business with 单户担保金额 <= 5,000,000 is at least 50%."""
    return share is None or share >= params.small_amount_share_target


def leverage(balance: Any, net_assets: Any) -> Decimal | None:
    """GU-8 放大倍数: 融资担保责任余额 / net assets; None when net assets are 0 or negative,
    where the multiple means nothing."""
    liabilities = _amount(balance, "GU-8", "balance")
    assets = money(net_assets, rule="GU-8", field="net_assets")
    return None if assets <= 0 else share_of(liabilities, assets)


def compensation_rate(compensated: Any, released: Any) -> Decimal | None:
    """GU-9 代偿率: compensation paid / guaranteed amount released in the period; None when
    nothing was released. Not capped at 1: compensation includes interest."""
    paid = _amount(compensated, "GU-9", "compensated")
    return share_of(paid, _amount(released, "GU-9", "released"))


# --- GU-11 enterprise size -----------------------------------------------------------------

INDUSTRIES = (
    ("agriculture", "农、林、牧、渔业"),
    ("industry", "工业"),
    ("construction", "建筑业"),
    ("wholesale", "批发业"),
    ("retail", "零售业"),
    ("transport", "交通运输业"),
    ("warehousing", "仓储业"),
    ("postal", "邮政业"),
    ("accommodation", "住宿业"),
    ("catering", "餐饮业"),
    ("information_transmission", "信息传输业"),
    ("software_it", "软件和信息技术服务业"),
    ("real_estate_development", "房地产开发经营"),
    ("property_management", "物业管理"),
    ("leasing_business_services", "租赁和商务服务业"),
    ("other", "其他未列明行业"),
)
SIZES = ("large", "medium", "small", "micro")

# One row per industry of 工信部联企业〔2011〕300号 第四条: the measures it uses, then the
# lines for large, medium and small (people; 万元 for revenue and assets). A size applies when
# every measure is at or above its line (及以上); the standard's "X以下或Y以下" for the size
# below is the same test negated.
_SIZE_TABLE = {
    "agriculture": (("revenue",), (20000,), (500,), (50,)),
    "industry": (("employees", "revenue"), (1000, 40000), (300, 2000), (20, 300)),
    "construction": (("revenue", "total_assets"), (80000, 80000), (6000, 5000), (300, 300)),
    "wholesale": (("employees", "revenue"), (200, 40000), (20, 5000), (5, 1000)),
    "retail": (("employees", "revenue"), (300, 20000), (50, 500), (10, 100)),
    "transport": (("employees", "revenue"), (1000, 30000), (300, 3000), (20, 200)),
    "warehousing": (("employees", "revenue"), (200, 30000), (100, 1000), (20, 100)),
    "postal": (("employees", "revenue"), (1000, 30000), (300, 2000), (20, 100)),
    "accommodation": (("employees", "revenue"), (300, 10000), (100, 2000), (10, 100)),
    "catering": (("employees", "revenue"), (300, 10000), (100, 2000), (10, 100)),
    "information_transmission": (("employees", "revenue"), (2000, 100000), (100, 1000), (10, 100)),
    "software_it": (("employees", "revenue"), (300, 10000), (100, 1000), (10, 50)),
    "real_estate_development": (("revenue", "total_assets"), (200000, 10000), (1000, 5000), (100, 2000)),
    "property_management": (("employees", "revenue"), (1000, 5000), (300, 1000), (100, 500)),
    "leasing_business_services": (("employees", "total_assets"), (300, 120000), (100, 8000), (10, 100)),
    "other": (("employees",), (300,), (100,), (10,)),
}


def _employees(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RuleViolation(
            "GU-11",
            _("The number of employees must be a whole number, 0 or more."),
            "employees",
        )
    return value


def _line(measure: str, threshold: int) -> Decimal:
    return Decimal(threshold) if measure == "employees" else Decimal(threshold) * _WAN


def derive_enterprise_size(*, industry: str, employees: int | None, revenue: Any, total_assets: Any) -> str | None:
    """GU-11: size by 工信部联企业〔2011〕300号 from industry, employees (从业人员), annual
    revenue (营业收入) and total assets (资产总额), both in yuan. None when a figure that the
    industry's row needs is missing."""
    if industry not in _SIZE_TABLE:
        raise RuleViolation(
            "GU-11",
            _("Unknown industry %(industry)s.") % {"industry": industry},
            "industry",
        )
    figures = {
        "employees": _employees(employees),
        "revenue": None if revenue is None else _amount(revenue, "GU-11", "revenue"),
        "total_assets": None if total_assets is None else _amount(total_assets, "GU-11", "total_assets"),
    }
    measures, *lines = _SIZE_TABLE[industry]
    if any(figures[m] is None for m in measures):
        return None
    for size, thresholds in zip(SIZES[:-1], lines, strict=True):
        if all(figures[m] >= _line(m, t) for m, t in zip(measures, thresholds, strict=True)):
            return size
    return "micro"


# --- GU-12 forbidden business --------------------------------------------------------------

FORBIDDEN_PURPOSES = ("government_bond", "government_platform")


def check_forbidden_business(*, purpose: str, borrower_is_government_platform: bool) -> None:
    """GU-12 (seed 000 (五)): no guarantee of government bond issues, nor of financing of a
    government financing platform (政府融资平台); such a guarantee is refused."""
    problems = []
    if purpose in FORBIDDEN_PURPOSES:
        message = (
            _("A government guarantee firm may not guarantee a government bond issue.")
            if purpose == "government_bond"
            else _("A government guarantee firm may not guarantee financing of a government financing platform.")
        )
        problems.append(Problem("GU-12", message, "purpose"))
    if borrower_is_government_platform:
        problems.append(
            Problem(
                "GU-12",
                _("The borrower is a government financing platform; it may not be guaranteed."),
                "borrower",
            )
        )
    if problems:
        raise RuleViolation.many(problems)


# --- GU-13 write-off and recovery ----------------------------------------------------------


def check_write_off(*, recovery_efforts: int, already_written_off: bool) -> None:
    """GU-13: a compensated amount is written off (核销) only after recovery efforts are
    recorded, and only once (a second write-off is a Conflict, a RuleViolation of 409)."""
    if already_written_off:
        raise Conflict("GU-13", _("This compensation has already been written off."))
    if isinstance(recovery_efforts, bool) or not isinstance(recovery_efforts, int) or recovery_efforts < 0:
        raise RuleViolation("GU-13", _("Enter the number of recovery efforts."), "recovery_efforts")
    if recovery_efforts == 0:
        raise RuleViolation(
            "GU-13",
            _("Record at least one recovery effort before writing the compensation off."),
            "recovery_efforts",
        )


def recovery_net(gross: Any, costs: Any) -> Decimal:
    """GU-13: what a recovery leaves to share once its costs (litigation, arbitration,
    enforcement) are paid.

    Interpretation: the documents are silent when costs exceed the gross amount. The net is
    then 0 and the excess is not charged back to the other parties; change it here only.
    """
    net = _amount(gross, "GU-13", "gross") - _amount(costs, "GU-13", "costs")
    return max(net, round_money(_ZERO))


def share_recovery(net_amount: Any, split: Split) -> dict[str, Decimal]:
    """GU-13: a net recovery, even after write-off, goes back to the parties in proportion
    to their shares, by the same largest-remainder rounding as GU-3."""
    return _split_cents(_amount(net_amount, "GU-13", "net_amount"), split)


# --- who counts as small-micro or 三农 (GU-5, GU-7) -------------------------------------------


def is_small_micro_or_agri(*, kind: str, size: str, is_agricultural: bool) -> bool:
    """GU-5, GU-7: whether a borrower counts as small-micro (小微) or 三农.

    Interpretation: small-micro enterprise owners (小微企业主) and individual businesses
    (个体工商户) count as small-micro, as in the 普惠小微 statistics; farmers and new
    agricultural operators count as 三农; an enterprise counts by its GU-11 size (small or
    micro) or by its 三农 flag.
    """
    if is_agricultural or kind in ("owner", "individual_business", "farmer"):
        return True
    return kind == "enterprise" and size in ("small", "micro")
