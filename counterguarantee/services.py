"""Writes of counter-guarantee plans: one function per business action, each in a transaction
with an audit row. The policy decisions are in counterguarantee.rules; this module reads the
tables in force, calls ``rules.check_plan`` and stores what it answers."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import i18n_text
from core.audit import audit, snapshot
from core.calendar import shanghai_today
from core.errors import Conflict, Problem, RuleViolation
from core.models import AuditEvent, RuleSet
from core.money import ratio
from core.rulesets import rule_params
from core.services import require_member
from counterguarantee import permissions as can
from counterguarantee import rules
from counterguarantee.models import (
    AbnormalEvent,
    AssetClass,
    BankPledgeRate,
    CheckRun,
    EnforcementAction,
    Inspection,
    Measure,
    Plan,
)
from counterguarantee.workflows import MEASURE, OPEN, PLAN
from guarantees.models import Guarantee

OPEN_MEASURE_STATES = OPEN


# --- the tables in force --------------------------------------------------------------------


def params_on(on: date) -> rules.Params:
    return rules.Params.from_mapping(rule_params(RuleSet.Scheme.COUNTERGUARANTEE, on))


def bank_rates_on(on: date) -> dict[str, Decimal]:
    """CG-6: each class's bank upper rate in force on ``on`` (the latest row starting by then)."""
    rows = (BankPledgeRate.objects.filter(effective_from__lte=on)
            .order_by("asset_class__code", "-effective_from")
            .values_list("asset_class__code", "rate"))
    rates: dict[str, Decimal] = {}
    for code, rate in rows:
        rates.setdefault(code, rate)
    return rates


def tables_on(on: date) -> rules.Tables:
    """What ``check_plan`` reads on ``on``: every asset class, the bank rates and the parameters."""
    classes = {c.code: rules.AssetClassInfo(c.code, c.name, c.registry) for c in AssetClass.objects.all()}
    return rules.Tables(asset_classes=classes, bank_rates=bank_rates_on(on), params=params_on(on))


# --- plan data ------------------------------------------------------------------------------


@dataclass
class PlanData:
    credit_grounds: list[str] = field(default_factory=list)
    lowered_grounds: list[str] = field(default_factory=list)
    adjustment_reason: str = ""
    resolving_existing_risk: bool = False
    resolving_reason: str = ""


@dataclass
class MeasureData:
    """One measure as the editor sends it (CG-4 … CG-12)."""

    kind: str
    start: date
    end: date
    asset_class: str = ""
    owners: list[str] = field(default_factory=list)
    organisation: bool = False
    resolution_on_file: bool = False
    value: Decimal | None = None
    valuation_source: str = ""
    appraiser: str = ""
    valued_on: date | None = None
    valuation_valid_until: date | None = None
    rate: Decimal | None = None
    contract_no: str = ""
    signatories: list[str] = field(default_factory=list)
    registry: str = ""
    registration_number: str = ""
    registered_online: bool = False
    innovative: bool = False
    innovative_reason: str = ""
    flexible_form: str = ""
    liability: str = rules.JOINT  # CG-13, a guarantee only

    @classmethod
    def from_measure(cls, m: Measure) -> MeasureData:
        return cls(**{f: getattr(m, f) for f in cls.__dataclass_fields__ if f != "asset_class"},
                     asset_class=m.asset_class.code if m.asset_class_id else "")

    def as_mapping(self) -> dict:
        """The shape ``rules.MeasureFacts.read`` takes (and the preview API)."""
        data = {
            "kind": self.kind, "start": self.start, "end": self.end, "owners": list(self.owners),
            "signatories": list(self.signatories), "organisation": self.organisation,
            "resolution_on_file": self.resolution_on_file, "contract_no": self.contract_no,
            "registry": self.registry, "registration_number": self.registration_number,
            "registered_online": self.registered_online, "innovative": self.innovative,
            "innovative_reason": self.innovative_reason, "flexible_form": self.flexible_form,
        }
        if self.kind == rules.GUARANTEE:
            data["liability"] = self.liability
        if self.kind != rules.GUARANTEE:
            data.update(asset_class=self.asset_class, value=self.value, rate=self.rate, valued_on=self.valued_on,
                        valuation_valid_until=self.valuation_valid_until, valuation_source=self.valuation_source)
        return data


def guarantee_facts(guarantee: Guarantee, data: PlanData) -> dict:
    return {
        "amount": guarantee.amount, "start": guarantee.start, "end": guarantee.end,
        "credit_grounds": list(data.credit_grounds), "lowered_grounds": list(data.lowered_grounds),
        "resolving_existing_risk": data.resolving_existing_risk, "resolving_reason": data.resolving_reason,
    }


def plan_data(plan: Plan) -> PlanData:
    return PlanData(credit_grounds=list(plan.credit_grounds), lowered_grounds=list(plan.lowered_grounds),
                    adjustment_reason=plan.adjustment_reason, resolving_existing_risk=plan.resolving_existing_risk,
                    resolving_reason=plan.resolving_reason)


def check_data(*, guarantee: Guarantee, data: PlanData, measures: list[MeasureData], on: date,
               tables: rules.Tables | None = None) -> tuple[rules.PlanInput, rules.CheckResult, rules.Tables]:
    """Run ``rules.check_plan`` on a plan as entered (saved or not) with the tables of ``on``."""
    tables = tables or tables_on(on)
    plan_input = rules.PlanInput.from_mapping(
        {"checked_on": on, "guarantee": guarantee_facts(guarantee, data),
         "measures": [m.as_mapping() for m in measures]},
        tables,
    )
    return plan_input, rules.check_plan(plan_input, tables), tables


def plan_check(*, plan: Plan, on: date) -> rules.CheckResult:
    """The plan as stored, checked on ``on``."""
    measures = [MeasureData.from_measure(m) for m in plan.measures.select_related("asset_class")]
    return check_data(guarantee=plan.guarantee, data=plan_data(plan), measures=measures, on=on)[1]


# --- building the plan ----------------------------------------------------------------------


def _require_firm(user, guarantee: Guarantee) -> None:
    require_member(user, guarantee.firm, *can.FIRM_ROLES)


def _validate_measures(measures: list[MeasureData], classes: dict[str, AssetClass]) -> None:
    problems = []
    for i, m in enumerate(measures):
        if m.kind in rules.COLLATERAL_KINDS:
            if m.asset_class not in classes:
                problems.append(Problem("CG-4", _("Choose an asset class."), f"measures[{i}].asset_class"))
            if m.value is not None and not m.valuation_source:
                problems.append(Problem("CG-5", _("Say where the value comes from."), f"measures[{i}].valuation_source"))
        if m.innovative and not m.innovative_reason:
            problems.append(Problem("CG-8", _("Give the reason for the exception."), f"measures[{i}].innovative_reason"))
    if problems:
        raise RuleViolation.many(problems)


@transaction.atomic
def plan_save(*, user, guarantee: Guarantee, data: PlanData, measures: list[MeasureData],
              on: date | None = None) -> Plan:
    """Create or replace the draft plan of ``guarantee`` with its measures (in order), then store
    the check of the day as the plan's latest check. An approved plan is not edited here."""
    _require_firm(user, guarantee)
    on = on or shanghai_today()
    if data.resolving_existing_risk and not data.resolving_reason:
        raise RuleViolation("CG-8", _("Give the reason for resolving existing risk."), "resolving_reason")
    classes = {c.code: c for c in AssetClass.objects.all()}
    _validate_measures(measures, classes)
    _plan_input, result, _t = check_data(guarantee=guarantee, data=data, measures=measures, on=on)
    plan = Plan.objects.select_for_update().filter(guarantee=guarantee).first()
    before = snapshot(plan) if plan else None
    if plan is not None:
        PLAN.check(user, plan, "edit")
    if plan is None:
        plan = Plan(guarantee=guarantee, firm_id=guarantee.firm_id, created_by=user if user.pk else None)
    plan.credit_grounds = list(data.credit_grounds)
    plan.lowered_grounds = list(data.lowered_grounds)
    plan.adjustment_reason = data.adjustment_reason
    plan.resolving_existing_risk = data.resolving_existing_risk
    plan.resolving_reason = data.resolving_reason if data.resolving_existing_risk else ""
    plan.last_check = result.as_dict()
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:  # a concurrent first save of the same guarantee's plan won
        raise Conflict("STATE", _("Someone else saved this plan just now; reload and try again.")) from None
    plan.measures.all().delete()
    Measure.objects.bulk_create([
        Measure(plan=plan, position=i, kind=m.kind,
                asset_class=classes.get(m.asset_class) if m.kind != rules.GUARANTEE else None,
                owners=list(m.owners), organisation=m.organisation, resolution_on_file=m.resolution_on_file,
                value=m.value if m.kind != rules.GUARANTEE else None,
                valuation_source=m.valuation_source if m.kind != rules.GUARANTEE else "",
                appraiser=m.appraiser, valued_on=m.valued_on if m.kind != rules.GUARANTEE else None,
                valuation_valid_until=m.valuation_valid_until if m.kind != rules.GUARANTEE else None,
                rate=m.rate if m.kind != rules.GUARANTEE else None, start=m.start, end=m.end,
                contract_no=m.contract_no, signatories=list(m.signatories), registry=m.registry,
                registration_number=m.registration_number, registered_online=m.registered_online,
                innovative=m.innovative, innovative_reason=m.innovative_reason if m.innovative else "",
                flexible_form=m.flexible_form, liability=m.liability if m.kind == rules.GUARANTEE else "")
        for i, m in enumerate(measures)
    ])
    after = snapshot(plan)
    after["measures"] = [m.as_mapping() for m in measures]
    audit(actor=user, action=AuditEvent.Action.UPDATE if before else AuditEvent.Action.CREATE, instance=plan,
          organisation=guarantee.firm, before=before, after=after,
          summary=i18n_text.gettext_lazy("Counter-guarantee plan %(contract)s: %(n)s measures")
          % {"contract": guarantee.contract_no, "n": len(measures)})
    return plan


def _status_at_approval(m: Measure, tables: rules.Tables) -> str:
    if m.registration_number and m.contract_no:
        return Measure.Status.REGISTERED
    if m.contract_no and m.signatories:
        return Measure.Status.CONTRACTED
    return Measure.Status.PLANNED


@transaction.atomic
def plan_approve(*, user, plan: Plan, on: date | None = None, note: str = "") -> CheckRun:
    """Approve the plan: run CG-1 … CG-11 with the tables of ``on`` and store the run with the plan
    as checked. A plan with a failing rule is approved only with a note saying why (the policy
    says 原则上); it then appears on the authority's list of plans that failed at approval."""
    plan = Plan.objects.select_for_update().select_related("guarantee__firm").get(pk=plan.pk)
    PLAN.check(user, plan, "approve")
    on = on or shanghai_today()
    measures = list(plan.measures.select_related("asset_class"))
    plan_input, result, tables = check_data(guarantee=plan.guarantee, data=plan_data(plan),
                                            measures=[MeasureData.from_measure(m) for m in measures], on=on)
    note = (note or "").strip()
    if not result.passed and not note:
        failed = result.failed_rules
        raise RuleViolation(failed[0], _("The check fails on %(rules)s. Correct the plan, or say why it is approved "
                                         "anyway.") % {"rules": ", ".join(failed)}, "approval_note")
    run = CheckRun.objects.create(plan=plan, checked_on=on, passed=result.passed, results=result.as_dict(),
                                  inputs=plan_input.as_mapping(), tables=_used_tables(tables, plan_input),
                                  created_by=user if user.pk else None)
    before = snapshot(plan)
    plan.status = PLAN.target(plan, "approve")
    plan.approved_on = on
    plan.approved_by = user if user.pk else None
    plan.approval_passed = result.passed
    plan.approval_note = note if not result.passed else ""
    plan.last_check = result.as_dict()
    plan.save()
    for m in measures:
        m.status = _status_at_approval(m, tables)
    Measure.objects.bulk_update(measures, ["status"])
    audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=plan, organisation=plan.guarantee.firm,
          before=before, summary=i18n_text.gettext_lazy("Approved; the check passed") if result.passed
          else i18n_text.gettext_lazy("Approved; the check failed: %(rules)s") % {"rules": ",".join(result.failed_rules)})
    return run


def _used_tables(tables: rules.Tables, plan_input: rules.PlanInput) -> dict:
    """Only the rows the check read: the plan's classes, their bank rates, the parameters."""
    codes = {m.asset_class for m in plan_input.measures if m.asset_class}
    return rules.Tables(
        asset_classes={c: i for c, i in tables.asset_classes.items() if c in codes},
        bank_rates={c: tables.bank_rate(c) for c in codes},
        params=tables.params,
    ).as_mapping()


# --- after the guarantee (CG-13) -------------------------------------------------------------


def _record(user, instance, plan: Plan, summary: i18n_text.Text) -> None:
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=instance, organisation=plan.guarantee.firm,
          summary=summary)


@transaction.atomic
def inspection_record(*, user, measure: Measure, on: date, finding: str, note: str = "") -> Inspection:
    """CG-13 (第十七条(一)): a periodic inspection of a measure while the guarantee is active."""
    plan = measure.plan
    MEASURE.check(user, measure, "inspection")
    if on > shanghai_today():
        raise RuleViolation("CG-13", _("The date is in the future."), "on")
    row = Inspection.objects.create(measure=measure, on=on, finding=finding, note=note,
                                    created_by=user if user.pk else None)
    _record(user, row, plan, i18n_text.gettext_lazy("Inspection: %(finding)s") % {"finding": i18n_text.label(finding)})
    return row


@transaction.atomic
def abnormal_event_record(*, user, measure: Measure, on: date, kind: str, note: str = "",
                          response: str = "") -> AbnormalEvent:
    """CG-13 (第十七条(二)(三)): an abnormal event and the risk measures the firm took."""
    plan = measure.plan
    MEASURE.check(user, measure, "event")
    if kind not in rules.ABNORMAL_EVENTS:
        raise RuleViolation("CG-13", _("Unknown event."), "kind")
    row = AbnormalEvent.objects.create(measure=measure, on=on, kind=kind, note=note, response=response,
                                       created_by=user if user.pk else None)
    _record(user, row, plan, i18n_text.gettext_lazy("Abnormal event: %(kind)s") % {"kind": i18n_text.label(kind)})
    return row


@transaction.atomic
def measure_record_contract(*, user, measure: Measure, contract_no: str, signatories: list[str], registry: str = "",
                            registration_number: str = "", registered_online: bool = False) -> Measure:
    """After approval: the contract signed (CG-10) and, for property that must be registered, the
    registration (CG-11); the measure moves planned → contracted → registered."""
    measure = Measure.objects.select_for_update().select_related("plan__guarantee__firm").get(pk=measure.pk)
    plan = measure.plan
    MEASURE.check(user, measure, "contract", to=Measure.Status.CONTRACTED)
    problems = rules.contract_problems(contract_no=contract_no, signatories=signatories, owners=measure.owners,
                                       registry=registry)
    if problems:
        raise RuleViolation.many(problems)
    before = snapshot(measure)
    measure.contract_no, measure.signatories = contract_no, list(signatories)
    if registration_number:
        measure.registry = registry or (measure.asset_class.registry if measure.asset_class_id else "")
        measure.registration_number, measure.registered_online = registration_number, registered_online
    measure.status = MEASURE.check(user, measure, "contract",
                                   to=Measure.Status.REGISTERED if registration_number else Measure.Status.CONTRACTED)
    measure.save()
    audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=measure, organisation=plan.guarantee.firm,
          before=before, summary=i18n_text.gettext_lazy("%(status)s: contract %(contract)s")
          % {"status": i18n_text.label(measure.status), "contract": contract_no})
    return measure


@transaction.atomic
def plan_release(*, user, plan: Plan, on: date, registration_cancelled: bool, documents_returned: bool) -> Plan:
    """CG-13 (第十七条(四)): on full repayment the measures are released, their registrations
    cancelled at the original registry and the documents returned to the owners."""
    plan = Plan.objects.select_for_update().select_related("guarantee__firm").get(pk=plan.pk)
    new = PLAN.check(user, plan, "release")
    measures = list(plan.measures.filter(status__in=OPEN_MEASURE_STATES))
    problems = []
    if any(m.registration_number for m in measures) and not registration_cancelled:
        problems.append(Problem("CG-13", _("Cancel the registrations at the registry first, then confirm it."),
                                "registration_cancelled"))
    if any(m.is_collateral for m in measures) and not documents_returned:
        problems.append(Problem("CG-13", _("Return the documents to the owners first, then confirm it."),
                                "documents_returned"))
    if problems:
        raise RuleViolation.many(problems)
    before = snapshot(plan)
    for m in measures:
        m.plan = plan
        m.status = MEASURE.check(user, m, "release")
        m.released_on = on
        m.registration_cancelled_on = on if m.registration_number else None
        m.documents_returned_on = on if m.is_collateral else None
    Measure.objects.bulk_update(measures, ["status", "released_on", "registration_cancelled_on",
                                           "documents_returned_on"])
    plan.status = new
    plan.released_on = on
    plan.save(update_fields=["status", "released_on", "updated_at"])
    audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=plan, organisation=plan.guarantee.firm,
          before=before, summary=i18n_text.gettext_lazy("Released %(n)s measures") % {"n": len(measures)})
    return plan


def _recompute(measure: Measure, on: date) -> None:
    """CG-13: the date to act and the last action that counted, from every action recorded."""
    found = rules.limitation(
        kind=measure.kind, liability=measure.liability, recourse_from=measure.recourse_from,
        actions=list(measure.actions.values_list("on", "kind")), params=params_on(on))
    measure.limitation_due_on, measure.last_interruption_on = found.due_on, found.last_interruption


def _start_enforcement(user, measure: Measure, recourse_from: date, why: i18n_text.Text) -> None:
    before = snapshot(measure)
    measure.status = MEASURE.target(measure, "enforce")
    measure.recourse_from = recourse_from
    _recompute(measure, recourse_from)
    measure.save()
    audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=measure, organisation=measure.plan.guarantee.firm,
          before=before, summary=i18n_text.gettext_lazy("Enforced (%(why)s); act by %(due)s") % {"why": why, "due": measure.limitation_due_on})


@transaction.atomic
def measures_on_compensation(*, user, guarantee: Guarantee, paid_on: date) -> list[Measure]:
    """CG-13 (第十七条(五)): the firm paid the bank (代偿), so its recourse claim arose that day: every
    open measure of the guarantee's approved plan is being enforced from then, with its date to
    act, without the firm first marking each one (called by the compensation payment)."""
    measures = list(Measure.objects.select_for_update().select_related("plan__guarantee__firm")
                    .filter(plan__guarantee=guarantee, plan__status=Plan.Status.APPROVED,
                            status__in=OPEN_MEASURE_STATES).order_by("plan_id", "position"))
    for measure in measures:
        _start_enforcement(user, measure, paid_on, i18n_text.gettext_lazy("compensation paid by the firm"))
    return measures


@transaction.atomic
def measure_enforce(*, user, measure: Measure, recourse_from: date) -> Measure:
    """CG-13 (第十七条(五)): the guarantee defaulted; the firm pursues this guarantor or enforces this
    collateral. ``recourse_from`` is the day the recourse claim arose (the firm paid the bank);
    the limitation date follows from it."""
    measure = Measure.objects.select_for_update().select_related("plan__guarantee__firm").get(pk=measure.pk)
    MEASURE.check(user, measure, "enforce")
    if recourse_from > shanghai_today():
        raise RuleViolation("CG-13", _("The date is in the future."), "recourse_from")
    _start_enforcement(user, measure, recourse_from, i18n_text.gettext_lazy("recorded by the firm"))
    return measure


@transaction.atomic
def enforcement_action_record(*, user, measure: Measure, on: date, kind: str, note: str = "") -> EnforcementAction:
    """CG-13: a demand, suit, arbitration, enforcement or acknowledgement; it interrupts the
    limitation period, so the date by which to act moves on."""
    measure = Measure.objects.select_for_update().select_related("plan__guarantee__firm").get(pk=measure.pk)
    plan = measure.plan
    MEASURE.check(user, measure, "action")
    if kind not in rules.ENFORCEMENT_ACTIONS:
        raise RuleViolation("CG-13", _("Unknown action."), "kind")
    if on < measure.recourse_from or on > shanghai_today():
        raise RuleViolation("CG-13", _("The date must be between the day the recourse claim arose and today."), "on")
    row = EnforcementAction.objects.create(measure=measure, on=on, kind=kind, note=note,
                                           created_by=user if user.pk else None)
    before = snapshot(measure)
    _recompute(measure, on)
    measure.save(update_fields=["last_interruption_on", "limitation_due_on"])
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=measure, organisation=plan.guarantee.firm,
          before=before, summary=i18n_text.gettext_lazy("%(kind)s on %(on)s; act by %(due)s")
          % {"kind": i18n_text.label(kind), "on": on, "due": measure.limitation_due_on})
    _record(user, row, plan, i18n_text.gettext_lazy("Enforcement action: %(kind)s") % {"kind": i18n_text.label(kind)})
    return row


@transaction.atomic
def enforcement_close(*, user, measure: Measure, on: date) -> Measure:
    """CG-13: the claim on this measure is settled (recovered, or given up): no more limitation date."""
    measure = Measure.objects.select_for_update().select_related("plan__guarantee__firm").get(pk=measure.pk)
    MEASURE.check(user, measure, "close")
    before = snapshot(measure)
    measure.enforcement_closed_on = on
    measure.save(update_fields=["enforcement_closed_on"])
    audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=measure,
          organisation=measure.plan.guarantee.firm, before=before, summary=i18n_text.gettext_lazy("Enforcement closed"))
    return measure


# --- the authority's tables (CG-4, CG-6, CG-11) ----------------------------------------------


@transaction.atomic
def asset_class_save(*, user, code: str, name: str, registry: str, is_active: bool = True, position: int = 100,
                     note: str = "") -> AssetClass:
    """Add a class or change one (CG-4: the list is a table the authority extends)."""
    can.require_authority_admin(user)
    if registry and registry not in rules.REGISTRIES:
        raise RuleViolation("CG-11", _("Unknown registry."), "registry")
    row = AssetClass.objects.select_for_update().filter(code=code).first()
    before = snapshot(row) if row else None
    if row is None:
        row = AssetClass(code=code)
    row.name, row.registry, row.is_active, row.position, row.note = name, registry, is_active, position, note
    row.full_clean()
    row.save()
    audit(actor=user, action=AuditEvent.Action.UPDATE if before else AuditEvent.Action.CREATE, instance=row,
          organisation=user.organisation, before=before, summary=i18n_text.gettext_lazy("Asset class %(code)s") % {"code": code})
    return row


@transaction.atomic
def bank_rate_set(*, user, asset_class: AssetClass, rate, effective_from: date, note: str = "") -> BankPledgeRate:
    """CG-6: the banks' upper rate for a class from a date on (a row starting that day is replaced)."""
    can.require_authority_admin(user)
    rate = ratio(rate, rule="CG-6", field="rate")
    if not Decimal("0") <= rate <= Decimal("1"):
        raise RuleViolation("CG-6", _("Enter a rate between 0 and 1 (0.7 for 70%)."), "rate")
    row = BankPledgeRate.objects.select_for_update().filter(asset_class=asset_class,
                                                             effective_from=effective_from).first()
    before = snapshot(row) if row else None
    if row is None:
        row = BankPledgeRate(asset_class=asset_class, effective_from=effective_from)
    row.rate, row.note = rate, note
    row.save()
    audit(actor=user, action=AuditEvent.Action.UPDATE if before else AuditEvent.Action.CREATE, instance=row,
          organisation=user.organisation, before=before,
          summary=i18n_text.gettext_lazy("Bank rate %(code)s %(rate)s from %(on)s")
          % {"code": asset_class.code, "rate": rate, "on": effective_from})
    return row

