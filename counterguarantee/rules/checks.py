"""The counter-guarantee checks (CG-1 … CG-11) and ``check_plan``, which runs them over one
``PlanInput`` and answers one ``RuleResult`` per rule with its details. A policy finding is a
result, never an exception. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from core.errors import Problem
from core.i18n_text import dump, join
from core.i18n_text import gettext_lazy as _
from core.money import percent, yuan

from .inputs import GuaranteeFacts, MeasureFacts, PlanInput
from .params import (
    _SEVERITY,
    AGRI_AMOUNT_GROUND,
    CHECKED_RULES,
    CREDIT_GROUNDS,
    FAIL,
    GUARANTEE,
    INFO,
    KIND_LABELS,
    LIEN,
    LOWERED_GROUNDS,
    NOT_APPLICABLE,
    PASS,
    REGISTRIES,
    VALUATION_SOURCES,
    WARNING,
    Params,
    Tables,
    discounted_value,
)

# --- the result ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Detail:
    """A finding about one field: of measure ``measure`` (its position), or of the plan (None)."""

    outcome: str
    message: str
    field: str
    measure: int | None = None

    def as_dict(self) -> dict:
        return {"measure": self.measure, "field": self.field, "outcome": self.outcome, "message": dump(self.message)}


@dataclass(frozen=True)
class RuleResult:
    rule: str
    outcome: str
    message: str
    field: str | None = None  # the plan-level field the rule is about, for the editor
    excess: Decimal | None = None  # CG-7 only: discounted sum − guaranteed amount
    details: tuple[Detail, ...] = ()

    def as_dict(self) -> dict:
        data = {"rule": self.rule, "outcome": self.outcome, "message": dump(self.message)}
        if self.excess is not None:
            data["excess"] = str(self.excess)
        if self.field:
            data["field"] = self.field
        data["details"] = [d.as_dict() for d in self.details]
        return data


@dataclass(frozen=True)
class CheckResult:
    checked_on: date
    results: tuple[RuleResult, ...]

    @property
    def passed(self) -> bool:
        """True when no rule failed (warnings and information do not block)."""
        return all(r.outcome != FAIL for r in self.results)

    @property
    def failed_rules(self) -> list[str]:
        return [r.rule for r in self.results if r.outcome == FAIL]

    def result(self, rule: str) -> RuleResult:
        return next(r for r in self.results if r.rule == rule)

    def as_dict(self) -> dict:
        return {"passed": self.passed, "checked_on": self.checked_on.isoformat(),
                "results": [r.as_dict() for r in self.results]}


def _worst(details: Iterable[Detail], default: str = NOT_APPLICABLE) -> str:
    outcome = default
    for d in details:
        if _SEVERITY[d.outcome] > _SEVERITY[outcome]:
            outcome = d.outcome
    return outcome


def _n(index: int) -> int:
    """Measures are numbered from 1 in words, from 0 in ``details`` and the API's positions."""
    return index + 1


def _ground_labels(codes: Iterable[str], table: Mapping[str, Any], params: Params):
    return join("; ", (join(" ", [code, table[code] % {"cap": yuan(params.agri_amount_cap)}
                                  if code == AGRI_AMOUNT_GROUND else table[code]]) for code in codes))


# --- the rules -----------------------------------------------------------------------------


def valid_credit_grounds(g: GuaranteeFacts, params: Params) -> tuple[list[str], list[str]]:
    """CG-1: the claimed grounds that hold, and those that do not. Ground (2) needs the single
    guaranteed amount to be at most the cap (200万元及以下: 2,000,000.00 itself holds)."""
    holding, failing = [], []
    for code in g.credit_grounds:
        if code == AGRI_AMOUNT_GROUND and g.amount > params.agri_amount_cap:
            failing.append(code)
        else:
            holding.append(code)
    return holding, failing


def check_credit_expected(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-1 (第五条): where a credit-guarantee ground holds, the firm should ask for no counter-
    guarantee or a guarantee-type one only; a mortgage or pledge gets a warning naming the ground."""
    g, params = plan.guarantee, tables.params
    holding, failing = valid_credit_grounds(g, params)
    notes = []
    if failing:
        notes.append(_("Ground CG-1.2 does not hold: the guaranteed amount of %(amount)s yuan is more than "
                       "%(cap)s yuan.") % {"amount": yuan(g.amount), "cap": yuan(params.agri_amount_cap)})
    if not holding:
        if failing:
            return RuleResult("CG-1", INFO, join(" ", notes), field="credit_grounds")
        return RuleResult("CG-1", NOT_APPLICABLE, _("No credit-guarantee ground (第五条) is recorded for this borrower."),
                          field="credit_grounds")
    grounds = _ground_labels(holding, CREDIT_GROUNDS, params)
    collateral = [i for i, m in enumerate(plan.measures) if m.is_collateral]
    if collateral:
        details = tuple(
            Detail(WARNING, _("A credit guarantee is expected (%(codes)s): this %(kind)s goes beyond a guarantee.")
                   % {"codes": ", ".join(holding), "kind": KIND_LABELS[plan.measures[i].kind]}, "kind", i)
            for i in collateral
        )
        message = _("A credit guarantee is expected (%(grounds)s): ask for no counter-guarantee or a guarantee only, "
                    "but the plan has %(n)d mortgage or pledge measure(s) (no. %(which)s).") % {
            "grounds": grounds, "n": len(collateral), "which": ", ".join(str(_n(i)) for i in collateral)}
        return RuleResult("CG-1", WARNING, join(" ", [message, *notes]), field="credit_grounds",
                          details=details)
    message = _("A credit guarantee is expected (%(grounds)s), and the plan asks for no mortgage or pledge.") % {
        "grounds": grounds}
    return RuleResult("CG-1", PASS, join(" ", [message, *notes]), field="credit_grounds")


def check_lowered_threshold(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-2 (第六条): grounds on which the firm may weaken its collateral requirements, shown as
    information."""
    codes = plan.guarantee.lowered_grounds
    if not codes:
        return RuleResult("CG-2", NOT_APPLICABLE, _("No ground for a lower threshold (第六条) is recorded."),
                          field="lowered_grounds")
    return RuleResult("CG-2", INFO, _("The collateral requirements may be lowered: %(grounds)s.") % {
        "grounds": _ground_labels(codes, LOWERED_GROUNDS, tables.params)}, field="lowered_grounds")


def check_valuation(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-5 (第九条(三)): a mortgage or pledge has a value with its date, and the value is used
    only while its validity has not ended. Valid until the check date itself still counts."""
    on = plan.checked_on
    details: list[Detail] = []
    for i, m in enumerate(plan.measures):
        if not m.is_collateral:
            continue
        if m.value is None:
            details.append(Detail(FAIL, _("Measure %(n)d has no appraised value.") % {"n": _n(i)}, "value", i))
            continue
        if m.valued_on is None:
            details.append(Detail(FAIL, _("Measure %(n)d: the valuation has no date.") % {"n": _n(i)}, "valued_on", i))
            continue
        if m.valued_on > on:
            details.append(Detail(FAIL, _("Measure %(n)d: the valuation is dated %(date)s, after the check date "
                                          "%(on)s.") % {"n": _n(i), "date": m.valued_on, "on": on}, "valued_on", i))
            continue
        if m.valuation_valid_until is None:
            details.append(Detail(FAIL, _("Measure %(n)d: the valuation has no validity end.") % {"n": _n(i)},
                                  "valuation_valid_until", i))
            continue
        if m.valuation_valid_until < on:
            details.append(Detail(FAIL, _("Measure %(n)d: the valuation of %(value)s yuan expired on %(date)s; "
                                          "it cannot be used on %(on)s.")
                                  % {"n": _n(i), "value": yuan(m.value), "date": m.valuation_valid_until, "on": on},
                                  "valuation_valid_until", i))
            continue
        source = VALUATION_SOURCES.get(m.valuation_source)
        text = _("Measure %(n)d: %(value)s yuan, valued on %(date)s, valid until %(until)s.") % {
            "n": _n(i), "value": yuan(m.value), "date": m.valued_on, "until": m.valuation_valid_until}
        if source:
            text = f"{text} " + str(_("Source: %(source)s.") % {"source": source})
        details.append(Detail(PASS, text, "valuation_valid_until", i))
    if not details:
        return RuleResult("CG-5", NOT_APPLICABLE, _("No mortgage or pledge: nothing to value."))
    outcome = _worst(details)
    if outcome == FAIL:
        message = join(" ", [d.message for d in details if d.outcome == FAIL])
    else:
        message = str(_("Every mortgage and pledge has a valuation in force on %(on)s.") % {"on": on})
    return RuleResult("CG-5", outcome, message, details=tuple(details))


def _measure_exempt(m: MeasureFacts) -> bool:
    """CG-8: an innovative collateral that banks do not accept, with its reason."""
    return m.innovative and bool(m.innovative_reason)


def _plan_exempt(g: GuaranteeFacts) -> bool:
    """CG-8: a plan made to resolve existing risk (化解存量风险), with its reason."""
    return g.resolving_existing_risk and bool(g.resolving_reason)


def _flag_without_reason(plan: PlanInput) -> list[Detail]:
    details = []
    if plan.guarantee.resolving_existing_risk and not plan.guarantee.resolving_reason:
        details.append(Detail(WARNING, _("CG-8: the plan is flagged as resolving existing risk but gives no reason, "
                                         "so the exception is not used."), "resolving_reason"))
    for i, m in enumerate(plan.measures):
        if m.is_collateral and m.innovative and not m.innovative_reason:
            details.append(Detail(WARNING, _("CG-8: measure %(n)d is flagged as an innovative collateral but gives "
                                             "no reason, so the exception is not used.") % {"n": _n(i)},
                                  "innovative_reason", i))
    return details


def check_bank_rate(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-6 (第十条(一)): each mortgage or pledge applies a rate not below the banks' upper bound
    for its asset class (equal is enough). CG-8 exceptions are shown where used."""
    g = plan.guarantee
    collateral = [(i, m) for i, m in enumerate(plan.measures) if m.is_collateral]
    if not collateral:
        return RuleResult("CG-6", NOT_APPLICABLE, _("No mortgage or pledge: no rate to compare."))
    if _plan_exempt(g):
        return RuleResult("CG-6", INFO, _("CG-8: the plan resolves existing risk (%(reason)s); the bank-rate floor "
                                          "does not apply.") % {"reason": g.resolving_reason}, field="resolving_existing_risk")
    details: list[Detail] = []
    for i, m in collateral:
        bound = tables.bank_rate(m.asset_class)
        label = tables.asset_classes[m.asset_class].label or m.asset_class
        if _measure_exempt(m):
            details.append(Detail(INFO, _("CG-8: measure %(n)d is an innovative collateral banks do not accept "
                                          "(%(reason)s); the bank-rate floor does not apply.")
                                  % {"n": _n(i), "reason": m.innovative_reason}, "rate", i))
        elif m.rate is None:
            details.append(Detail(FAIL, _("Measure %(n)d has no rate applied; the banks' upper bound for %(cls)s is "
                                          "%(bound)s.") % {"n": _n(i), "cls": label, "bound": percent(bound)}, "rate", i))
        elif m.rate < bound:
            details.append(Detail(FAIL, _("Measure %(n)d applies %(rate)s, below the banks' upper bound of %(bound)s "
                                          "for %(cls)s.") % {"n": _n(i), "rate": percent(m.rate), "bound": percent(bound),
                                                             "cls": label}, "rate", i))
        else:
            details.append(Detail(PASS, _("Measure %(n)d applies %(rate)s, not below the banks' upper bound of "
                                          "%(bound)s for %(cls)s.") % {"n": _n(i), "rate": percent(m.rate),
                                                                        "bound": percent(bound), "cls": label}, "rate", i))
    details += [d for d in _flag_without_reason(plan)]
    outcome = _worst([d for d in details if d.field == "rate"])
    if outcome == FAIL:
        message = join(" ", [d.message for d in details if d.outcome == FAIL])
    elif outcome == INFO:
        message = join(" ", [d.message for d in details if d.outcome == INFO])
    else:
        message = join(" ", [d.message for d in details if d.field == "rate"])
    return RuleResult("CG-6", outcome, message, details=tuple(details))


def check_over_collateral(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-7 (第十条(二)): Σ value × applied rate over the mortgages and pledges must not exceed the
    guaranteed amount (equal is allowed). ``excess`` is that sum minus the amount. Guarantee-type
    measures have no value here; CG-8 exceptions leave a measure (or the whole plan) out."""
    g = plan.guarantee
    collateral = [(i, m) for i, m in enumerate(plan.measures) if m.is_collateral]
    if not collateral:
        return RuleResult("CG-7", NOT_APPLICABLE, _("No mortgage or pledge: nothing to add up."))
    details: list[Detail] = []
    total = Decimal("0.00")
    incomplete = []
    for i, m in collateral:
        if _measure_exempt(m):
            details.append(Detail(INFO, _("CG-8: measure %(n)d (innovative collateral: %(reason)s) is left out of the "
                                          "sum.") % {"n": _n(i), "reason": m.innovative_reason}, "value", i))
            continue
        if m.value is None or m.rate is None:
            incomplete.append(i)
            details.append(Detail(WARNING, _("Measure %(n)d has no value or rate, so it is not in the sum.")
                                  % {"n": _n(i)}, "value", i))
            continue
        part = discounted_value(m.value, m.rate)
        total += part
        details.append(Detail(INFO, _("Measure %(n)d: %(value)s × %(rate)s = %(part)s yuan.")
                              % {"n": _n(i), "value": yuan(m.value), "rate": percent(m.rate), "part": yuan(part)},
                              "value", i))
    excess = total - g.amount
    words = {"sum": yuan(total), "amount": yuan(g.amount), "excess": yuan(abs(excess))}
    if _plan_exempt(g):
        return RuleResult("CG-7", INFO, _("CG-8: the plan resolves existing risk (%(reason)s); the discounted sum of "
                                          "%(sum)s yuan against the guaranteed amount of %(amount)s yuan is not limited.")
                          % {**words, "reason": g.resolving_reason}, field="resolving_existing_risk", excess=excess,
                          details=tuple(details))
    details += _flag_without_reason(plan)
    if excess > 0:
        return RuleResult("CG-7", FAIL, _("Over-collateralised: the discounted value of %(sum)s yuan exceeds the "
                                          "guaranteed amount of %(amount)s yuan by %(excess)s yuan.") % words,
                          excess=excess, details=tuple(details))
    if incomplete:
        return RuleResult("CG-7", WARNING, _("The discounted value of the measures with a value and rate is %(sum)s "
                                             "yuan, within the guaranteed amount of %(amount)s yuan; measure(s) %(which)s "
                                             "could not be counted.")
                          % {**words, "which": ", ".join(str(_n(i)) for i in incomplete)}, excess=excess,
                          details=tuple(details))
    return RuleResult("CG-7", PASS, _("The discounted value of %(sum)s yuan does not exceed the guaranteed amount of "
                                      "%(amount)s yuan.") % words, excess=excess, details=tuple(details))


def check_term(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-9 (第十一条): no measure ends after the guarantee (ending on the same day is fine)."""
    end = plan.guarantee.end
    if not plan.measures:
        return RuleResult("CG-9", NOT_APPLICABLE, _("No measures."))
    details = []
    for i, m in enumerate(plan.measures):
        if m.end > end:
            details.append(Detail(FAIL, _("Measure %(n)d ends on %(date)s, after the guarantee ends on %(end)s.")
                                  % {"n": _n(i), "date": m.end, "end": end}, "end", i))
        else:
            details.append(Detail(PASS, _("Measure %(n)d ends on %(date)s, not after the guarantee (%(end)s).")
                                  % {"n": _n(i), "date": m.end, "end": end}, "end", i))
    outcome = _worst(details)
    if outcome == FAIL:
        message = join(" ", [d.message for d in details if d.outcome == FAIL])
    else:
        message = str(_("No measure ends after the guarantee ends on %(end)s.") % {"end": end})
    return RuleResult("CG-9", outcome, message, details=tuple(details))


def check_contracts(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-10 (第十二条): a contract with the guarantor, mortgagor or pledgor, signed by every
    co-owner; separate contracts for several measures; an organisation's resolution on file."""
    if not plan.measures:
        return RuleResult("CG-10", NOT_APPLICABLE, _("No measures."))
    details: list[Detail] = []
    numbers: dict[str, list[int]] = {}
    for i, m in enumerate(plan.measures):
        party = _("guarantor") if m.kind == GUARANTEE else _("mortgagor or pledgor")
        ok = True
        if not m.owners:
            ok = False
            details.append(Detail(FAIL, _("Measure %(n)d names no %(party)s.") % {"n": _n(i), "party": party}, "owners", i))
        missing = [o for o in m.owners if o not in m.signatories]
        if missing:
            ok = False
            if len(m.owners) > 1:
                text = _("Measure %(n)d: property held in common needs every co-owner's signature; missing: %(who)s.")
            else:
                text = _("Measure %(n)d: the contract is not signed by the %(party)s: %(who)s.")
            details.append(Detail(FAIL, text % {"n": _n(i), "party": party, "who": "、".join(missing)}, "signatories", i))
        if m.organisation and not m.resolution_on_file:
            ok = False
            details.append(Detail(FAIL, _("Measure %(n)d: an organisation as counter-guarantor needs its board or "
                                          "shareholder resolution (or written consent) on file.") % {"n": _n(i)},
                                  "resolution_on_file", i))
        if m.contract_no:
            numbers.setdefault(m.contract_no, []).append(i)
        else:
            ok = False
            details.append(Detail(WARNING, _("Measure %(n)d: no contract number recorded yet.") % {"n": _n(i)},
                                  "contract_no", i))
        if ok:
            details.append(Detail(PASS, _("Measure %(n)d: contract %(no)s with the %(party)s, signed by %(who)s.")
                                  % {"n": _n(i), "no": m.contract_no, "party": party, "who": "、".join(m.signatories)},
                                  "signatories", i))
    for number, where in numbers.items():
        if len(where) > 1:
            for i in where:
                details.append(Detail(FAIL, _("Measures %(which)s share contract %(no)s; each measure needs its own "
                                              "contract.") % {"which": ", ".join(str(_n(j)) for j in where), "no": number},
                                      "contract_no", i))
    outcome = _worst(details)
    if outcome in (FAIL, WARNING):
        seen, parts = set(), []
        for d in details:
            if d.outcome == outcome and str(d.message) not in seen:
                seen.add(str(d.message))
                parts.append(d.message)
        message = join(" ", parts)
    else:
        message = _("Every measure has its own contract, signed by every owner.")
    return RuleResult("CG-10", outcome, message, details=tuple(details))


def check_registration(plan: PlanInput, tables: Tables) -> RuleResult:
    """CG-11 (第十三条, 第十五条): a mortgage or pledge of a class the asset-class table says must be
    registered shows its registration (certificate number); the table says which registry. A lien
    (CG-12) arises by possession and needs none."""
    details: list[Detail] = []
    for i, m in enumerate(plan.measures):
        if not m.is_collateral:
            continue
        info = tables.asset_classes[m.asset_class]
        label = info.label or m.asset_class
        if m.flexible_form == LIEN:
            details.append(Detail(PASS, _("Measure %(n)d is a lien (留置): no registration is needed.") % {"n": _n(i)},
                                  "registration_number", i))
            continue
        if not info.needs_registration:
            details.append(Detail(NOT_APPLICABLE, _("Measure %(n)d: %(cls)s needs no registration.")
                                  % {"n": _n(i), "cls": label}, "registration_number", i))
            continue
        registry = REGISTRIES.get(info.registry, info.registry)
        if not m.registration_number:
            details.append(Detail(FAIL, _("Measure %(n)d: %(cls)s must be registered with the %(registry)s; no "
                                          "certificate number is recorded.") % {"n": _n(i), "cls": label,
                                                                                "registry": registry},
                                  "registration_number", i))
            continue
        if m.registry and m.registry != info.registry:
            details.append(Detail(WARNING, _("Measure %(n)d is recorded at the %(given)s, but %(cls)s is registered "
                                             "with the %(registry)s.") % {"n": _n(i), "given": REGISTRIES[m.registry],
                                                                          "cls": label, "registry": registry},
                                  "registry", i))
            continue
        how = _("online") if m.registered_online else _("on paper")
        details.append(Detail(PASS, _("Measure %(n)d: registered with the %(registry)s (%(how)s), certificate "
                                      "%(number)s.") % {"n": _n(i), "registry": registry, "how": how,
                                                        "number": m.registration_number},
                              "registration_number", i))
    if not details:
        return RuleResult("CG-11", NOT_APPLICABLE, _("No mortgage or pledge: nothing to register."))
    outcome = _worst(details)
    if outcome in (FAIL, WARNING):
        message = join(" ", [d.message for d in details if d.outcome == outcome])
    elif outcome == NOT_APPLICABLE:
        message = str(_("No measure of this plan needs registration."))
    else:
        message = join(" ", [d.message for d in details if d.outcome == PASS])
    return RuleResult("CG-11", outcome, message, details=tuple(details))


RULES = {
    "CG-1": check_credit_expected,
    "CG-2": check_lowered_threshold,
    "CG-5": check_valuation,
    "CG-6": check_bank_rate,
    "CG-7": check_over_collateral,
    "CG-9": check_term,
    "CG-10": check_contracts,
    "CG-11": check_registration,
}


def check_plan(plan: PlanInput, tables: Tables) -> CheckResult:
    """CG-1 … CG-11 on one plan, one result per rule of CHECKED_RULES: the preview API, the
    editor's live check and the approval all call this function."""
    return CheckResult(plan.checked_on, tuple(RULES[rule](plan, tables) for rule in CHECKED_RULES))


def contract_problems(*, contract_no: str, signatories: Iterable[str], owners: Iterable[str],
                      registry: str = "") -> list:
    """CG-10, CG-11 when a measure's contract is recorded: its number, every owner's signature, a
    known registry; every problem at once, each naming its field (the service refuses with them,
    the form shows them beside the fields' own errors, issue 13.3)."""
    problems = []
    if not contract_no:
        problems.append(Problem("CG-10", _("Enter the contract number."), "contract_no"))
    signed = set(signatories)
    missing = [o for o in owners if o not in signed]
    if missing:
        problems.append(Problem("CG-10", _("Every owner must sign; missing: %(who)s.") % {"who": "、".join(missing)},
                                "signatories"))
    if registry and registry not in REGISTRIES:
        problems.append(Problem("CG-11", _("Unknown registry."), "registry"))
    return problems
