"""Scheme S member banks: RP-15 NPL gate, RP-20 annual evaluation, RP-21 claw-back interest,
RP-22 revocation, RP-24 dishonesty list and RP-25 masking of credit codes. Pure: nothing here
queries or saves."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from core.errors import Problem, RuleViolation
from core.i18n_text import gettext_lazy as _
from core.money import amount as _amount
from core.money import percent as _pct
from core.money import round_money, round_ratio
from core.periods import add_months

from .params import _HUNDRED, _ZERO, S_DEFAULTS, SchemeSParams, _collect, _lpr_value

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
