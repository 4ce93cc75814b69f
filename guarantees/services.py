"""Writes for guaranteed loans: one function per business action, each in a transaction with an
audit row. The policy arithmetic and decisions are in rules.py; this module applies them."""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from core import i18n_text
from core.audit import audit, snapshot
from core.errors import Problem, RuleViolation
from core.models import AuditEvent, Organisation
from core.money import money, ratio
from core.rulesets import rule_params
from core.services import require_member, transition
from core.validators import credit_code_problem, id_number_problem
from guarantees import rules
from guarantees.models import (
    Agreement,
    Borrower,
    Compensation,
    FirmNetAssets,
    Guarantee,
    Recovery,
    RecoveryAction,
)
from guarantees.permissions import FIRM_ROLES
from guarantees.signals import compensation_paid, problems_of_product_business

S = Guarantee.Status
TRANSITIONS = {
    S.ACTIVE: {S.RELEASED, S.DEFAULTED},
    S.DEFAULTED: {S.COMPENSATED},
    S.COMPENSATED: {S.RECOVERING, S.RECOVERED, S.WRITTEN_OFF},
    S.RECOVERING: {S.RECOVERED, S.WRITTEN_OFF},
}
# Liabilities still on the firm's books: they count toward 单户担保金额 (GU-5).
OPEN_STATUSES = (S.ACTIVE, S.DEFAULTED)
# The audit summary of a borrower added or changed (by hand or by an upload).
BORROWER_SUMMARY = i18n_text.gettext_lazy("Borrower %(name)s")
BORROWER_RENAMED = i18n_text.gettext_lazy("Borrower renamed %(old)s → %(new)s")
GUARANTEE_SUMMARY = i18n_text.gettext_lazy("Guarantee %(contract)s")


def guarantee_params(on: date) -> rules.GuaranteeParams:
    """The guarantees rule set in force on ``on``."""
    return rules.GuaranteeParams.from_mapping(rule_params("guarantees", on))


# --- agreements (GU-1, GU-2) ------------------------------------------------------------------

SHARE_FIELDS = {
    "bank": "share_bank",
    "guarantee_firm": "share_firm",
    "reguarantee": "share_reguarantee",
    "national_fund": "share_national_fund",
    "government": "share_government",
}


def split_of(agreement: Agreement) -> rules.Split:
    return rules.Split(**agreement.shares())


def _apply_split(agreement: Agreement, shares) -> None:
    """GU-1 refuses a split that does not add up; GU-2 breaches are stored and flagged."""
    split = rules.parse_split(shares)
    for party, attr in SHARE_FIELDS.items():
        setattr(agreement, attr, getattr(split, party))
    problems = rules.check_minimum_shares(split, guarantee_params(agreement.signed_on))
    agreement.compliant = not problems
    agreement.problems = [p.stored() for p in problems]


def _check_agreement_parties(firm: Organisation, bank: Organisation, signed_on: date, expires_on: date) -> None:
    problems = []
    if firm.kind != Organisation.Kind.GUARANTEE_FIRM:
        problems.append(Problem("INPUT", _("The firm must be a guarantee firm."), "firm"))
    if bank.kind != Organisation.Kind.BANK:
        problems.append(Problem("INPUT", _("The partner must be a bank."), "bank"))
    if expires_on < signed_on:
        problems.append(Problem("INPUT", _("The expiry date is before the signing date."), "expires_on"))
    if problems:
        raise RuleViolation.many(problems)


@transaction.atomic
def agreement_create(
    *, user, firm: Organisation, bank: Organisation, code: str, signed_on: date, expires_on: date,
    grace_days: int, shares, deposit_ratio=Decimal("0"), batch_mode: str = Agreement.BatchMode.NONE,
    loss_base_includes_interest: bool = False,
) -> Agreement:
    require_member(user, firm, *FIRM_ROLES)
    _check_agreement_parties(firm, bank, signed_on, expires_on)
    rules.compensation_due_on(signed_on, grace_days)  # GU-4 validates the grace period
    if Agreement.objects.filter(firm=firm, code=code).exists():
        raise RuleViolation("INPUT", _("An agreement with this number already exists."), "code")
    agreement = Agreement(
        firm=firm, bank=bank, code=code, signed_on=signed_on, expires_on=expires_on, grace_days=grace_days,
        deposit_ratio=ratio(deposit_ratio, field="deposit_ratio"), batch_mode=batch_mode,
        loss_base_includes_interest=loss_base_includes_interest,
    )
    _apply_split(agreement, shares)
    agreement.save()
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=agreement, organisation=firm,
          summary=i18n_text.gettext_lazy("Agreement %(code)s") % {"code": code})
    return agreement


@transaction.atomic
def agreement_update(*, user, agreement: Agreement, **changes: Any) -> Agreement:
    """Change an agreement's terms; a new split is checked again (GU-1, GU-2)."""
    require_member(user, agreement.firm, *FIRM_ROLES)
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    before = snapshot(agreement)
    shares = changes.pop("shares", None)
    for name, value in changes.items():
        setattr(agreement, name, value)
    if Agreement.objects.filter(firm=agreement.firm, code=agreement.code).exclude(pk=agreement.pk).exists():
        raise RuleViolation("INPUT", _("An agreement with this number already exists."), "code")
    _check_agreement_parties(agreement.firm, agreement.bank, agreement.signed_on, agreement.expires_on)
    rules.compensation_due_on(agreement.signed_on, agreement.grace_days)
    _apply_split(agreement, shares if shares is not None else agreement.shares())
    agreement.save()
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=agreement, organisation=agreement.firm,
          before=before, summary=i18n_text.gettext_lazy("Agreement %(code)s") % {"code": agreement.code})
    return agreement


# --- borrowers (GU-11) ------------------------------------------------------------------------


@dataclass
class BorrowerData:
    name: str
    id_kind: str
    id_number: str
    kind: str
    industry: str = ""
    employees: int | None = None
    revenue: Decimal | None = None
    total_assets: Decimal | None = None
    size_entered: str = ""
    size_evidence: str = ""
    is_agricultural: bool = False
    is_strategic_emerging: bool = False
    is_government_platform: bool = False
    extra: dict = field(default_factory=dict)


def _check_borrower(data: BorrowerData) -> str | None:
    """Validates identity and size inputs; returns the GU-11 derived size."""
    problems = []
    id_problem = (
        credit_code_problem(data.id_number) if data.id_kind == Borrower.IdKind.CREDIT_CODE
        else id_number_problem(data.id_number)
    )
    if id_problem:
        problems.append(Problem("INPUT", id_problem, "borrower.id_number"))
    if data.size_entered and not data.size_evidence.strip():
        problems.append(Problem("GU-11", _("An entered enterprise size needs its evidence."), "borrower.size_evidence"))
    derived = None
    if data.industry:
        try:
            derived = rules.derive_enterprise_size(
                industry=data.industry, employees=data.employees, revenue=data.revenue, total_assets=data.total_assets
            )
        except RuleViolation as exc:
            problems.extend(Problem(p.rule, p.message, f"borrower.{p.field}") for p in exc.problems)
    if data.kind == Borrower.Kind.ENTERPRISE and not (data.size_entered or derived):
        problems.append(Problem(
            "GU-11",
            _("Give the enterprise's industry with its employees, revenue and assets, or enter its size with evidence."),
            "borrower.size_entered",
        ))
    if problems:
        raise RuleViolation.many(problems)
    return derived


def borrower_names(*, owner: Organisation, rows: list[dict]) -> dict[str, str]:
    """The names on record of the owner's borrowers that upload ``rows`` identify (one query)."""
    codes = {row["borrower"].id_number.upper() for row in rows if row.get("borrower") is not None}
    return dict(Borrower.objects.filter(owner=owner, id_number__in=codes).values_list("id_number", "name"))


# The one borrower check of every entry path (form, API, bulk upload).
borrower_check = _check_borrower


def _borrower_values(data: BorrowerData, derived: str | None) -> dict:
    return {
        "name": data.name, "id_kind": data.id_kind, "kind": data.kind, "industry": data.industry,
        "employees": data.employees, "revenue": data.revenue, "total_assets": data.total_assets,
        "size_entered": data.size_entered, "size_evidence": data.size_evidence, "size_derived": derived or "",
        "is_agricultural": data.is_agricultural, "is_strategic_emerging": data.is_strategic_emerging,
        "is_government_platform": data.is_government_platform,
    }


def borrowers_upsert(*, user, owner: Organisation, rows: list[dict], existing: dict[str, Borrower]) -> dict[str, Borrower]:
    """``borrower_upsert`` for a chunk of checked upload rows (each with its ``borrower`` and the
    ``derived`` size ``borrower_check`` gave), given the owner's borrowers on record among them
    (``existing``, locked, by identifier): one INSERT for the new ones, one UPDATE for the changed
    ones and their audit rows; as row by row, the last row naming a borrower gives its figures.
    Returns every borrower of the rows by identifier."""
    from core.bulk_import import audit_rows, copy_insert, unsaved

    latest: dict[str, dict] = {}
    for row in rows:
        latest[row["borrower"].id_number.upper()] = _borrower_values(row["borrower"], row.get("derived"))
    new, changed, befores = [], [], []
    for code, values in latest.items():
        borrower = existing.get(code)
        if borrower is None:
            new.append(unsaved(Borrower, owner=owner, id_number=code, **values))
            continue
        before = snapshot(borrower)
        for name, value in values.items():
            setattr(borrower, name, value)
        if snapshot(borrower) != before:
            changed.append(borrower)
            befores.append(before)
    copy_insert(Borrower, new)
    audit_rows(actor=user, action=AuditEvent.Action.CREATE, instances=new, organisation=owner,
               summaries=(i18n_text.dumps_with(BORROWER_SUMMARY, {"name": b.name}) for b in new))
    if changed:
        Borrower.objects.bulk_update(changed, fields=list(_borrower_values(rows[0]["borrower"], None)))
        audit_rows(actor=user, action=AuditEvent.Action.UPDATE, instances=changed, organisation=owner, befores=befores,
                   summaries=(i18n_text.dumps_with(BORROWER_RENAMED, {"old": before.get("name"), "new": b.name})
                              if before.get("name") != b.name else i18n_text.dumps_with(BORROWER_SUMMARY, {"name": b.name})
                              for b, before in zip(changed, befores, strict=True)))
    return {**existing, **{b.id_number: b for b in new}}


def borrower_upsert(*, user, owner: Organisation, data: BorrowerData) -> Borrower:
    """Find the owner's borrower by identifier, or create it; its figures are refreshed."""
    values = _borrower_values(data, _check_borrower(data))
    id_number = data.id_number.upper()
    borrower = Borrower.objects.select_for_update().filter(owner=owner, id_number=id_number).first()
    if borrower is None:
        borrower = Borrower.objects.create(owner=owner, id_number=id_number, **values)
        audit(actor=user, action=AuditEvent.Action.CREATE, instance=borrower, organisation=owner,
              summary=BORROWER_SUMMARY % {"name": data.name})
        return borrower
    before = snapshot(borrower)
    for name, value in values.items():
        setattr(borrower, name, value)
    borrower.save()
    if snapshot(borrower) != before:
        renamed = before.get("name") != borrower.name
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=borrower, organisation=owner, before=before,
              summary=BORROWER_RENAMED % {"old": before.get("name"), "new": borrower.name}
              if renamed else BORROWER_SUMMARY % {"name": data.name})
    return borrower


# --- guarantees (GU-5, GU-12) -----------------------------------------------------------------


@dataclass
class GuaranteeData:
    contract_no: str
    loan_principal: Decimal
    amount: Decimal
    loan_start: date
    loan_maturity: date
    start: date
    end: date
    fee_rate: Decimal
    other_fees: Decimal = Decimal("0")
    bank_fees: Decimal = Decimal("0")
    currency: str = "CNY"
    purpose: str = Guarantee.Purpose.OPERATIONS
    reguaranteed: bool = False
    national_fund_scope: bool = False
    recommended_by_bank: bool = False
    product: Any = None  # riskpool.Product: the Scheme M policy loan product of the loan (RP-M3)


class GuaranteeContext:
    """The lookups of the guarantee checks, each asked once per distinct key: the guarantees rule
    sets (all versions read once) and a product's suspensions on a day. One guarantee asks as
    before; a bulk upload of 100,000 asks a handful of times."""

    def __init__(self):
        from core.bulk_import import Memo
        from core.models import RuleSet
        from core.rulesets import RuleSetTable

        self._table = None
        self._make_table = lambda: RuleSetTable(RuleSet.Scheme.GUARANTEES, rules.GuaranteeParams.from_mapping)
        self.product_problems = Memo(self._product_problems)

    def params(self, on: date) -> rules.GuaranteeParams:
        if self._table is None:
            self._table = self._make_table()
        return self._table.params_on(on)

    @staticmethod
    def _product_problems(product, firm, bank, on: date) -> list[Problem]:
        return problems_of_product_business(product=product, parties=[firm, bank], on=on)


def guarantee_problems(data: GuaranteeData, agreement: Agreement, *, platform: bool,
                       context: GuaranteeContext) -> list[Problem]:
    """Every problem of one guarantee but its borrower's and the duplicate contract number (the
    caller's: one guarantee asks the table, a file asks once for all its numbers): GU-12, the
    amounts and dates against the agreement, RP-M3."""
    problems = _problems_of(rules.check_forbidden_business, purpose=data.purpose, borrower_is_government_platform=platform)
    problems += _guarantee_input_problems(vars(data), agreement)
    if data.product is not None:
        problems += context.product_problems(data.product, agreement.firm, agreement.bank, data.start)
    return problems


def guarantee_build(*, user, agreement: Agreement, borrower: Borrower, data: GuaranteeData, single: Decimal,
                    context: GuaranteeContext) -> Guarantee:
    """The checked guarantee as an unsaved row, its GU-5 fee breaches (firm and bank) stored and
    flagged; ``single`` is 单户担保金额 with this guarantee."""
    small_agri = rules.is_small_micro_or_agri(kind=borrower.kind, size=borrower.size, is_agricultural=borrower.is_agricultural)
    problems = rules.check_fees(
        small_micro_or_agri=small_agri, single_borrower_amount=single, fee_rate=data.fee_rate,
        other_fees=data.other_fees, params=context.params(data.start),
    )
    bank_problems = rules.check_bank_fees(small_micro_or_agri=small_agri, scheme_m_product=data.product is not None,
                                          bank_fees=data.bank_fees)
    problems += bank_problems
    from core.bulk_import import unsaved

    return unsaved(
        Guarantee, firm=agreement.firm, bank=agreement.bank, agreement=agreement, borrower=borrower,
        small_micro_or_agri=small_agri, single_borrower_amount=single, bank_fee_violation=bool(bank_problems),
        fee_compliant=not problems, problems=[p.stored() for p in problems], created_by=user,
        **{name: getattr(data, name) for name in GuaranteeData.__dataclass_fields__},
    )


def _guarantee_input_problems(values: Mapping[str, Any], agreement: Agreement | None) -> list[Problem]:
    """The amounts and dates, and the start against the agreement's term: each check made when
    the values it reads are there (a ``GuaranteeData``'s always are; a form's or request's that
    failed their own validation are not, issue 13.3)."""
    def given(*names: str) -> bool:
        return all(values.get(name) is not None for name in names)

    problems = []
    if given("amount") and values["amount"] <= 0:
        problems.append(Problem("INPUT", _("The guaranteed amount must be more than 0."), "amount"))
    if given("amount", "loan_principal") and values["amount"] > values["loan_principal"]:
        problems.append(Problem("INPUT", _("The guaranteed amount cannot exceed the loan principal."), "amount"))
    if given("loan_start", "loan_maturity") and values["loan_maturity"] < values["loan_start"]:
        problems.append(Problem("INPUT", _("The loan maturity is before the loan start."), "loan_maturity"))
    if given("start", "end") and values["end"] < values["start"]:
        problems.append(Problem("INPUT", _("The guarantee end is before its start."), "end"))
    if agreement is not None and given("start") and not agreement.signed_on <= values["start"] <= agreement.expires_on:
        problems.append(Problem(
            "INPUT",
            _("The guarantee starts outside the agreement's term (%(from)s to %(to)s).")
            % {"from": agreement.signed_on, "to": agreement.expires_on},
            "start",
        ))
    return problems


def borrower_problems(data: BorrowerData) -> list[Problem]:
    """The borrower's identifier and size problems (GU-11), listed rather than raised."""
    return _problems_of(_check_borrower, data)


def guarantee_field_problems(values: Mapping[str, Any]) -> list[Problem]:
    """Issue 13.3: what ``guarantee_create`` would refuse, found from the fields of a request
    that did validate (``agreement`` an Agreement, ``borrower`` the borrower's fields as a
    mapping, the rest as in ``GuaranteeData``), so that its answer lists them beside the field
    errors. A check that reads a field in error is left out; the service checks everything again."""
    agreement = values.get("agreement")
    borrower = values.get("borrower")
    problems = []
    if borrower is not None and values.get("purpose") is not None:
        problems += _problems_of(rules.check_forbidden_business, purpose=values["purpose"],
                                 borrower_is_government_platform=bool(borrower.get("is_government_platform")))
    problems += _guarantee_input_problems(values, agreement)
    if agreement is not None and values.get("product") is not None and values.get("start") is not None:
        problems += problems_of_product_business(product=values["product"], parties=[agreement.firm, agreement.bank],
                                                 on=values["start"])
    if agreement is not None and values.get("contract_no") and Guarantee.objects.filter(
            firm=agreement.firm, contract_no=values["contract_no"]).exists():
        problems.append(duplicate_contract_problem())
    if borrower is not None:
        problems += borrower_problems(BorrowerData(**borrower))
    return problems


def duplicate_contract_problem() -> Problem:
    return Problem("INPUT", _("A guarantee with this contract number already exists."), "contract_no")


def _problems_of(check, *args, **kwargs) -> list[Problem]:
    """Run a check that raises, and hand back its problems so a form can show them all at once."""
    try:
        check(*args, **kwargs)
    except RuleViolation as exc:
        return exc.problems
    return []


def _single_borrower_amount(borrower: Borrower, firm: Organisation, amount: Decimal) -> Decimal:
    """单户担保金额 (GU-5): the borrower's open guaranteed amount with this firm, this one included."""
    existing = (
        Guarantee.objects.filter(borrower=borrower, firm=firm, status__in=OPEN_STATUSES)
        .aggregate(total=Sum("amount"))["total"]
    )
    return (existing or Decimal("0")) + amount


@transaction.atomic
def guarantee_create(
    *, user, agreement: Agreement, borrower: BorrowerData | Borrower, data: GuaranteeData
) -> Guarantee:
    """Record a guarantee. GU-12 refuses forbidden business; GU-5 breaches are stored and flagged."""
    firm = agreement.firm
    require_member(user, firm, *FIRM_ROLES)
    context = GuaranteeContext()
    borrower_row = borrower if isinstance(borrower, Borrower) else None
    platform = borrower_row.is_government_platform if borrower_row else borrower.is_government_platform
    problems = guarantee_problems(data, agreement, platform=platform, context=context)
    if Guarantee.objects.filter(firm=agreement.firm, contract_no=data.contract_no).exists():
        problems.append(duplicate_contract_problem())
    if borrower_row is None:
        problems += _problems_of(_check_borrower, borrower)
    if problems:
        raise RuleViolation.many(problems)
    if borrower_row is None:
        borrower_row = borrower_upsert(user=user, owner=firm, data=borrower)
    # Lock the borrower so two guarantees recorded at once both see each other in 单户担保金额.
    Borrower.objects.select_for_update().filter(pk=borrower_row.pk).first()
    single = _single_borrower_amount(borrower_row, firm, data.amount)
    guarantee = guarantee_build(user=user, agreement=agreement, borrower=borrower_row, data=data, single=single,
                                context=context)
    guarantee.save()
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=guarantee, organisation=firm,
          summary=GUARANTEE_SUMMARY % {"contract": data.contract_no})
    return guarantee


@transaction.atomic
def guarantee_bulk_create(*, user, firm: Organisation, rows: list[dict],
                          confirmed_renames: Collection[str] = ()) -> list[Guarantee]:
    """Create every row or none. Each row: ``{"row": n, "agreement_code", "borrower": BorrowerData,
    "data": GuaranteeData}`` or ``{"row": n, "errors": [RowError…]}`` from the parser. A row
    renaming a borrower of the firm is an error unless its change is in ``confirmed_renames``.
    Set-based, as the file upload (``guarantees.imports.GuaranteeImporter``)."""
    from core.bulk_import import import_rows
    from guarantees.imports import GuaranteeImporter

    importer = GuaranteeImporter(user=user, firm=firm, confirmed_renames=confirmed_renames, keep=True)
    import_rows(rows, importer)
    return importer.created


# --- release, default, compensation (GU-3, GU-4) ----------------------------------------------


@transaction.atomic
def guarantee_release(*, user, guarantee: Guarantee, released_on: date) -> Guarantee:
    """解保: the loan is repaid, the liability ends."""
    require_member(user, guarantee.firm, *FIRM_ROLES)
    if released_on < guarantee.start:
        raise RuleViolation("INPUT", _("The release date is before the guarantee start."), "released_on")
    before = snapshot(guarantee)
    transition(Guarantee, pk=guarantee.pk, field="status", allowed=TRANSITIONS, old=guarantee.status,
               new=S.RELEASED, closed_on=released_on)
    guarantee.refresh_from_db()
    audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=guarantee, organisation=guarantee.firm,
          before=before, summary=i18n_text.gettext_lazy("%(contract)s released") % {"contract": guarantee.contract_no})
    return guarantee


@transaction.atomic
def guarantee_default(
    *, user, guarantee: Guarantee, default_on: date, principal, interest=Decimal("0"),
    penalty_interest=Decimal("0"),
) -> Compensation:
    """逾期: allocate the loss (GU-3) and set the compensation's due date (GU-4)."""
    require_member(user, guarantee.firm, *FIRM_ROLES)
    principal = money(principal, rule="GU-3", field="principal")
    interest = money(interest, rule="GU-3", field="interest")
    penalty_interest = money(penalty_interest, rule="GU-3", field="penalty_interest")
    problems = []
    if default_on < guarantee.start:
        problems.append(Problem("INPUT", _("The default date is before the guarantee start."), "default_on"))
    if not 0 < principal <= guarantee.loan_principal:
        problems.append(Problem("GU-3", _("The unpaid principal must be more than 0 and at most the loan principal."), "principal"))
    if interest < 0 or penalty_interest < 0:
        problems.append(Problem("GU-3", _("Interest amounts must not be negative."), "interest"))
    if problems:
        raise RuleViolation.many(problems)
    agreement = guarantee.agreement
    base = principal + (interest if agreement.loss_base_includes_interest else Decimal("0"))
    split = split_of(agreement)
    parts = rules.allocate(base, split)
    before = snapshot(guarantee)
    transition(Guarantee, pk=guarantee.pk, field="status", allowed=TRANSITIONS, old=guarantee.status, new=S.DEFAULTED)
    compensation = Compensation.objects.create(
        guarantee=guarantee, default_on=default_on, due_on=rules.compensation_due_on(default_on, agreement.grace_days),
        principal=principal, interest=interest, penalty_interest=penalty_interest, base=base,
        shares={k: str(v) for k, v in split.as_dict().items()},
        part_bank=parts["bank"], part_firm=parts["guarantee_firm"], part_reguarantee=parts["reguarantee"],
        part_national_fund=parts["national_fund"], part_government=parts["government"],
    )
    guarantee.refresh_from_db()
    audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=guarantee, organisation=guarantee.firm,
          before=before, summary=i18n_text.gettext_lazy("%(contract)s defaulted") % {"contract": guarantee.contract_no})
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=compensation, organisation=guarantee.firm)
    return compensation


@transaction.atomic
def compensation_pay(*, user, compensation: Compensation, paid_on: date) -> Compensation:
    """代偿: the firm pays the bank everything but the bank's own share (GU-3)."""
    guarantee = compensation.guarantee
    require_member(user, guarantee.firm, *FIRM_ROLES)
    if paid_on < compensation.default_on:
        raise RuleViolation("INPUT", _("The payment date is before the default date."), "paid_on")
    before = snapshot(compensation)
    transition(Guarantee, pk=guarantee.pk, field="status", allowed=TRANSITIONS, old=guarantee.status,
               new=S.COMPENSATED, closed_on=paid_on)
    guarantee.refresh_from_db(fields=["status", "closed_on"])  # the caller sees the new state
    compensation.paid_on = paid_on
    compensation.paid_amount = compensation.base - compensation.part_bank
    compensation.save(update_fields=["paid_on", "paid_amount"])
    audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=compensation, organisation=guarantee.firm,
          before=before, summary=i18n_text.gettext_lazy("%(contract)s compensated") % {"contract": guarantee.contract_no})
    # CG-13: the recourse claim arose today, so every counter-guarantee measure gets its date to
    # act now (counterguarantee listens: it builds on guarantees, not the reverse).
    compensation_paid.send(sender=Compensation, user=user, guarantee=guarantee, paid_on=paid_on)
    return compensation


# --- recovery and write-off (GU-13) -----------------------------------------------------------


def _locked_compensation(compensation: Compensation) -> Compensation:
    return Compensation.objects.select_for_update().select_related("guarantee__firm").get(pk=compensation.pk)


def _require_paid(compensation: Compensation) -> None:
    if compensation.paid_on is None:
        raise RuleViolation("GU-13", _("Record the compensation payment first."), "paid_on")


@transaction.atomic
def recovery_action_record(*, user, compensation: Compensation, on: date, kind: str, note: str = "") -> RecoveryAction:
    compensation = _locked_compensation(compensation)
    guarantee = compensation.guarantee
    require_member(user, guarantee.firm, *FIRM_ROLES)
    _require_paid(compensation)
    action = RecoveryAction.objects.create(compensation=compensation, on=on, kind=kind, note=note, created_by=user)
    if guarantee.status == S.COMPENSATED:
        transition(Guarantee, pk=guarantee.pk, field="status", allowed=TRANSITIONS, old=S.COMPENSATED, new=S.RECOVERING)
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=action, organisation=guarantee.firm)
    return action


@transaction.atomic
def recovery_record(
    *, user, compensation: Compensation, received_on: date, gross, source: str,
    cost_litigation=Decimal("0"), cost_arbitration=Decimal("0"), cost_enforcement=Decimal("0"),
) -> Recovery:
    """追偿回收: the net is shared back to every party by the split (GU-13), also after write-off."""
    compensation = _locked_compensation(compensation)
    guarantee = compensation.guarantee
    require_member(user, guarantee.firm, *FIRM_ROLES)
    _require_paid(compensation)
    if received_on < compensation.paid_on:
        raise RuleViolation("INPUT", _("The recovery date is before the compensation was paid."), "received_on")
    costs = sum((money(c, rule="GU-13", field="costs") for c in (cost_litigation, cost_arbitration, cost_enforcement)),
                Decimal("0"))
    net = rules.recovery_net(gross, costs)
    parts = rules.share_recovery(net, rules.Split(**{k: Decimal(v) for k, v in compensation.shares.items()}))
    recovery = Recovery.objects.create(
        compensation=compensation, received_on=received_on, gross=money(gross, rule="GU-13", field="gross"),
        cost_litigation=cost_litigation, cost_arbitration=cost_arbitration, cost_enforcement=cost_enforcement,
        net=net, source=source, after_write_off=compensation.written_off_on is not None,
        part_bank=parts["bank"], part_firm=parts["guarantee_firm"], part_reguarantee=parts["reguarantee"],
        part_national_fund=parts["national_fund"], part_government=parts["government"], created_by=user,
    )
    recovered = compensation.recoveries.aggregate(total=Sum("net"))["total"] or Decimal("0")
    if guarantee.status in (S.COMPENSATED, S.RECOVERING):
        new = S.RECOVERED if recovered >= compensation.base else S.RECOVERING
        if new != guarantee.status:
            transition(Guarantee, pk=guarantee.pk, field="status", allowed=TRANSITIONS, old=guarantee.status, new=new)
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=recovery, organisation=guarantee.firm)
    return recovery


@transaction.atomic
def compensation_write_off(*, user, compensation: Compensation, on: date) -> Compensation:
    """核销: only after recovery efforts are recorded (GU-13), and only once."""
    compensation = _locked_compensation(compensation)
    guarantee = compensation.guarantee
    require_member(user, guarantee.firm, *FIRM_ROLES)
    _require_paid(compensation)
    efforts = compensation.actions.count() + compensation.recoveries.count()
    rules.check_write_off(recovery_efforts=efforts, already_written_off=compensation.written_off_on is not None)
    before = snapshot(compensation)
    recovered = compensation.recoveries.aggregate(total=Sum("net"))["total"] or Decimal("0")
    transition(Guarantee, pk=guarantee.pk, field="status", allowed=TRANSITIONS, old=guarantee.status, new=S.WRITTEN_OFF)
    guarantee.refresh_from_db(fields=["status"])
    compensation.written_off_on = on
    compensation.written_off_amount = max(compensation.base - recovered, Decimal("0.00"))
    compensation.save(update_fields=["written_off_on", "written_off_amount"])
    audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=compensation, organisation=guarantee.firm,
          before=before, summary=i18n_text.gettext_lazy("%(contract)s written off") % {"contract": guarantee.contract_no})
    return compensation


# --- firm figures (GU-8) ----------------------------------------------------------------------


@transaction.atomic
def net_assets_record(*, user, firm: Organisation, as_of: date, net_assets) -> FirmNetAssets:
    require_member(user, firm, *FIRM_ROLES)
    amount = money(net_assets, rule="GU-8", field="net_assets")
    row, created = FirmNetAssets.objects.select_for_update().get_or_create(
        firm=firm, as_of=as_of, defaults={"net_assets": amount}
    )
    before = None if created else snapshot(row)
    row.net_assets = amount
    row.save()
    audit(actor=user, action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
          instance=row, organisation=firm, before=before)
    return row
