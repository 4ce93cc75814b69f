"""Scheme S eligibility checks (RP-2 … RP-14): borrower, loan size and total balance, credit
report, foreign currency, entry deadline, exclusions, compensation ratio and amount, the claim
window and the claim documents. Pure: nothing here queries or saves."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core.errors import Problem, RuleViolation
from core.i18n_text import gettext_lazy as _
from core.i18n_text import join
from core.money import amount as _amount
from core.money import percent as _pct
from core.money import round_money, yuan
from core.periods import add_months, quarter_end

from .params import (
    _HUNDRED,
    _NO_RATIO,
    FAIL,
    LOAN_KINDS,
    LPR_FIVE_YEARS,
    LPR_ONE_YEAR,
    NOT_CHECKED,
    OWN_OPERATIONS,
    PASS,
    PURPOSE_LABELS,
    S_DEFAULTS,
    Reason,
    SchemeSParams,
    WorkingDayCalendar,
    _fraction,
    _lpr_value,
    _number,
)

if TYPE_CHECKING:  # core.calendar reads its override table from the database; only its type here
    from core.calendar import Deadline

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
            return Reason("RP-2", NOT_CHECKED, _(
                "The enterprise's size is not known: give its industry, employees, revenue and total assets "
                "(GU-11), or enter the size with its evidence."))
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
            "RP-2", FAIL, _("Not an eligible borrower: %(problems)s.") % {"problems": join("; ", problems)}
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
            "RP-6", FAIL, _("Not compensated: the loan was %(problems)s.") % {"problems": join("; ", problems)}
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
        return Reason("RP-7", FAIL, _("Excluded: %(problems)s.") % {"problems": join("; ", problems)})
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
    listing = join(", ", [CLAIM_DOCUMENT_LABELS[kind] for kind in missing])
    return [
        Problem(
            "RP-14",
            _("Attach %(document)s: a claim needs the credit report and the loan file; missing: %(missing)s.")
            % {"document": CLAIM_DOCUMENT_LABELS[kind], "missing": listing},
            kind,
        )
        for kind in missing
    ]
