"""The Scheme S quote (RP-3 … RP-14): ``QuoteInput`` parses and checks what a bank enters,
``quote`` runs every eligibility check over it and answers a ``Quote`` with the ratio, the
amount and the reasons in words. Pure: nothing here queries or saves."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from core.errors import Problem, RuleViolation
from core.i18n_text import gettext_lazy as _
from core.i18n_text import join
from core.money import amount as _amount
from core.money import money, points, ratio, yuan
from core.money import percent as _pct

from .eligibility import (
    Qualification,
    base_ratio,
    capped_ratio,
    check_claim_window,
    check_credit_report,
    check_entry,
    check_exclusions,
    check_loan_size,
    claim_deadline,
    compensation_amount,
    entry_deadline,
    feature_bonus,
    lpr_term,
    qualification_bonus,
    total_balance,
    valid_qualifications,
    yuan_of,
)
from .params import (
    _NO_MONEY,
    _NO_RATIO,
    _ONE,
    _ZERO,
    FAIL,
    FEATURE_LABELS,
    INFO,
    LOAN_KINDS,
    OWN_OPERATIONS,
    PASS,
    QUALIFICATION_LABELS,
    Reason,
    SchemeSParams,
    WorkingDayCalendar,
    _collect,
    _fraction,
)

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
                "names": join(", ", [QUALIFICATION_LABELS.get(c, c) for c in valid]),
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
                "names": join(", ", [FEATURE_LABELS.get(f, f) for f in features]),
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
