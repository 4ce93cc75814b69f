"""The checks of a loan's entry (贷款项目入库, RP-3 … RP-7, RP-21, RP-22, RP-M3), shared by the
single entry (``services.project_register``: form and API) and the bulk upload
(``riskpool.imports``), so a rule is decided in one place whichever way a loan comes in.

What a check needs from the database (the rule set in force on a date, a quarter's RP-6
deadline, an exchange rate, a product's suspensions) comes through an ``EntryContext``, which
asks once per distinct key: for one loan that is the same queries as before, for a file of
100,000 loans a handful.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from core import calendar as core_calendar
from core.bulk_import import Memo, unsaved
from core.errors import Problem, RuleViolation
from core.models import Organisation, RuleSet
from core.money import money
from core.periods import quarter_end
from core.rates import exchange_rate, to_yuan
from core.rulesets import RuleSetTable
from core.services import require_member
from riskpool import rules
from riskpool.models import LoanProject, Member, Pool

LP = LoanProject
BANK_ROLES = ("bank_operator",)
# Read once: ``Choices.values`` builds a new list on every access, and a file asks per row.
LOAN_KINDS = frozenset(LP.LoanKind.values)
PURPOSES = frozenset(LP.Purpose.values)


class EntryContext:
    """The lookups of the entry checks, each asked once per distinct key."""

    def __init__(self):
        self._rule_sets: RuleSetTable | None = None
        self.deadline = Memo(self._deadline)
        self.exchange_rate = Memo(exchange_rate)
        self.suspensions = Memo(self._suspensions)

    def params(self, on: date) -> rules.SchemeSParams:
        """The Scheme S rule set in force on ``on`` (all versions read once)."""
        if self._rule_sets is None:
            self._rule_sets = RuleSetTable(RuleSet.Scheme.RISKPOOL_S, rules.SchemeSParams.from_mapping)
        return self._rule_sets.params_on(on)

    def _deadline(self, quarter: date, params: rules.SchemeSParams):
        return rules.entry_deadline(quarter, calendar=core_calendar, params=params)

    def entry_deadline(self, disbursed_on: date):
        """RP-6: the quarter's deadline under the rule set of the disbursement date (RP-19)."""
        params = self.params(rules.entry_rule_date(disbursed_on))
        return self.deadline(quarter_end(disbursed_on), params)

    def to_yuan(self, amount, currency: str, on: date):
        """RP-5, the rate of a currency and day asked once."""
        return to_yuan(amount, currency, on, rate=self.exchange_rate)

    @staticmethod
    def _suspensions(product, bank: Organisation, on: date) -> list[Problem]:
        from riskpool.services_m import suspension_problems

        return suspension_problems(product=product, parties=[bank], on=on)


def project_bank(user) -> Organisation:
    """The bank a user enters loans for: their own, as its operator."""
    bank = user.organisation
    if bank is None:
        raise PermissionDenied(_("Only a member bank's operator can enter loans."))
    require_member(user, bank, *BANK_ROLES)
    return bank


def member_for_entry(pool: Pool, bank: Organisation, *, on: date) -> Member:
    """The bank's membership of the pool; RP-22 refuses a bank whose membership is revoked."""
    member = Member.objects.filter(pool=pool, organisation=bank).first()
    if member is None:
        raise RuleViolation("MEMBER", _("%(bank)s is not a member bank of this pool.") % {"bank": bank})
    if member.revoked_on is not None and member.revoked_on <= on:
        raise RuleViolation("RP-22", _("The bank's membership was revoked on %(date)s; it cannot enter loans.")
                            % {"date": member.revoked_on.isoformat()})
    return member


def input_problems(data) -> list[Problem]:
    """RP-3, RP-4, RP-7 and the loan number: the loan's own fields."""
    problems = []
    if not data.loan_no.strip():
        problems.append(Problem("INPUT", _("Enter the loan note number."), "loan_no"))
    if data.loan_kind not in LOAN_KINDS:
        problems.append(Problem("RP-3", _("Unknown loan kind."), "loan_kind"))
    if data.purpose not in PURPOSES:
        problems.append(Problem("RP-7", _("Unknown purpose."), "purpose"))
    return problems + _dates_and_amounts_problems(lambda name: getattr(data, name))


def _dates_and_amounts_problems(value: Callable[[str], Any]) -> list[Problem]:
    """RP-7's order of the dates and RP-4's amounts, each checked when ``value(name)`` gives the
    values it reads (a field in error gives None)."""
    problems = []
    disbursed_on, maturity_on = value("disbursed_on"), value("maturity_on")
    if disbursed_on is not None and maturity_on is not None and maturity_on <= disbursed_on:
        problems.append(Problem("RP-7", _("The maturity date must be after the disbursement date."), "maturity_on"))
    for name in ("principal", "other_balance"):
        if value(name) is None:
            continue
        try:
            amount = money(value(name), rule="RP-4", field=name)
        except RuleViolation as exc:
            problems.extend(exc.problems)
            continue
        if amount < 0 or (name == "principal" and amount == 0):
            problems.append(Problem("RP-4", _("This amount must be more than 0."), name))
    return problems


def field_problems(values: Mapping[str, Any], *, bank: Organisation, entered_on: date) -> list[Problem]:
    """Issue 13.3: what the entry would refuse, found from the fields of a request that did
    validate (``borrower`` its fields as a mapping, the rest as in ``ProjectData``), so that one
    answer lists them beside the field errors: RP-7, RP-4, RP-6, RP-M3, RP-21 and the borrower's
    identifier and size. A check reading a field in error is left out; the entry checks all again."""
    from guarantees.services import BorrowerData, borrower_problems

    context = EntryContext()
    problems = _dates_and_amounts_problems(values.get)
    disbursed_on = values.get("disbursed_on")
    if disbursed_on is not None:
        if values.get("product") is not None:
            problems += context.suspensions(values["product"], bank, disbursed_on)
        try:
            window = window_problem(disbursed_on, entered_on, context)
        except RuleViolation as exc:  # no rule set in force on the disbursement date
            problems += exc.problems
        else:
            problems += [window] if window is not None else []
    if values.get("loan_no") and LoanProject.objects.filter(bank=bank, loan_no=values["loan_no"]).exists():
        problems.append(duplicate_loan_problem(values["loan_no"]))
    if values.get("borrower") is not None:
        problems += borrower_problems(BorrowerData(**values["borrower"]))
    return problems


def window_problem(disbursed_on: date, entered_on: date, context: EntryContext) -> Problem | None:
    """RP-6: entered from the disbursement date until the 15th working day of the next quarter."""
    deadline = context.entry_deadline(disbursed_on)
    if rules.entered_in_time(disbursed_on, entered_on, deadline):
        return None
    return Problem(
        "RP-6",
        _("A loan disbursed on %(disbursed)s may be entered from that day until %(deadline)s; %(entered)s is "
          "outside that window.")
        % {"disbursed": disbursed_on.isoformat(), "deadline": rules.deadline_words(deadline),
           "entered": entered_on.isoformat()},
        "entered_on",
    )


def project_problems(data, *, entered_on: date, bank: Organisation, context: EntryContext) -> list[Problem]:
    """Every problem of one loan's entry, all at once: its fields (``input_problems``), RP-M3 (the
    product suspended on the disbursement date, 马政办 第十条), RP-6 (the entry window) and RP-5 (a
    foreign principal needs that day's exchange rate). The duplicate loan number (RP-21) is the
    caller's: one loan asks the table, a file asks once for all its numbers."""
    problems = input_problems(data)
    if data.product is not None:
        problems += context.suspensions(data.product, bank, data.disbursed_on)
    try:
        window = window_problem(data.disbursed_on, entered_on, context)
    except RuleViolation as exc:  # no rule set in force on the disbursement date
        problems += exc.problems
    else:
        if window is not None:
            problems.append(window)
    if not problems:
        try:
            context.to_yuan(money(data.principal, rule="RP-5", field="principal"), data.currency.upper(),
                            data.disbursed_on)
        except RuleViolation as exc:
            problems += exc.problems
    return problems


def duplicate_loan_problem(loan_no: str) -> Problem:
    """RP-21: a bank enters a loan note once."""
    return Problem("RP-21", _("Loan note %(no)s is already entered.") % {"no": loan_no}, "loan_no")


def project_build(*, pool: Pool, bank: Organisation, borrower, data, entered_on: date, user,
                  context: EntryContext) -> LoanProject:
    """The checked loan as an unsaved row (RP-5: the principal in yuan at the disbursement date's rate)."""
    principal = money(data.principal, rule="RP-5", field="principal")
    principal_yuan, fx_kind = context.to_yuan(principal, data.currency.upper(), data.disbursed_on)
    return unsaved(
        LoanProject, pool=pool, bank=bank, borrower=borrower, loan_no=data.loan_no, loan_kind=data.loan_kind,
        principal=principal, currency=data.currency.upper(), principal_yuan=principal_yuan, fx_kind=fx_kind,
        disbursed_on=data.disbursed_on, maturity_on=data.maturity_on, annual_rate=data.annual_rate,
        guarantee_method=data.guarantee_method,
        other_balance=money(data.other_balance, rule="RP-4", field="other_balance"),
        features=list(data.features), purpose=data.purpose, covered_by_other_scheme=data.covered_by_other_scheme,
        entered_on=entered_on, classified_on=entered_on, created_by=user, product=data.product,
    )
