"""The counter-guarantee part of the demo data set (``manage.py seed_demo``, core.demo).

On the demo guarantees of 2025 and 2026 of each firm, plans that pass, warn and fail:

- credit guarantees (a guarantor only, or nothing) where a CG-1 ground holds;
- mortgages and pledges sized within the guaranteed amount (CG-7) at the banks' rate (CG-6);
- a farm borrower's mortgage under ground CG-1.2: approved with a CG-1 warning;
- over-collateralised plans running past the guarantee (CG-7, CG-9): approved with a note, so they
  appear on the authority's list, and one left as a failing draft;
- after-care: inspections and an abnormal event on active plans, release on repayment, and
  enforcement with limitation dates (CG-13) on defaulted guarantees, one coming due.

大兴安岭's mix moves from collateral in 2025 to credit in 2026 (CG-14 on the policy aim); 宾县's the
other way. Everything goes through counterguarantee.services; idempotent (a guarantee that has a
plan is left alone), stable (a fixed seed, dates from each guarantee's own).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

from django.contrib.auth.models import Permission
from django.urls import reverse

from core import demo, i18n_text

SEED = 20221330
YEARS = (2025, 2026)
# firm key -> year -> the scenarios of its guarantees of that year, in contract order
PATTERNS = {
    "firm_dxal": {2025: ["collateral", "collateral", "pledge", "warn", "fail", "credit", "collateral", "credit"],
                  2026: ["credit", "credit", "guarantor", "warn", "credit", "collateral", "draft_fail", "credit"]},
    "firm_huma": {2025: ["warn", "credit", "guarantor", "collateral"],
                  2026: ["warn", "guarantor", "credit", "fail"]},
    "firm_binxian": {2025: ["credit", "guarantor", "credit", "collateral"],
                     2026: ["collateral", "pledge", "fail", "guarantor"]},
}
OPERATORS = {"firm_dxal": "firm_operator", "firm_huma": "firm_operator_huma", "firm_binxian": "firm_operator_binxian"}


def _note(text) -> str:
    """A demo note kept as its msgid, so it reads in each viewer's language (issue 13.1)."""
    return i18n_text.dumps(text)


@dataclass
class CounterguaranteeResult:
    created_plans: int = 0
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _person(rng: random.Random) -> str:
    from core.demo import GIVEN, SURNAMES

    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def _plan_for(scenario: str, g, rng: random.Random, tables):
    """(PlanData, [MeasureData]) of one scenario for guarantee ``g``."""
    from counterguarantee.services import MeasureData, PlanData

    farmer = g.borrower.kind == "farmer"
    small_farm = farmer and g.amount <= tables.params.agri_amount_cap
    grounds = ["CG-1.2"] if small_farm else []
    serial = g.contract_no.replace("-DB-", "-")
    guarantor = MeasureData(kind="guarantee", start=g.start, end=g.end, owners=[_person(rng)], contract_no=f"BZ-{serial}")
    guarantor.signatories = list(guarantor.owners)
    owner = g.borrower.name

    def collateral(kind, asset_class, over=False, late=False, registry_number=True):
        rate = tables.bank_rate(asset_class)
        value = (g.amount / rate).quantize(Decimal("1"), rounding=ROUND_FLOOR)
        if over:
            value = (value * Decimal("1.6")).quantize(Decimal("1"))
        info = tables.asset_classes[asset_class]
        return MeasureData(
            kind=kind, asset_class=asset_class, start=g.start, end=g.end + timedelta(days=180) if late else g.end,
            owners=[owner], signatories=[owner], value=value, rate=rate, valuation_source="approved_appraiser",
            appraiser="黑龙江正信资产评估有限公司", valued_on=g.start - timedelta(days=20),
            valuation_valid_until=g.end, contract_no=f"{'DY' if kind == 'mortgage' else 'ZY'}-{serial}",
            registry=info.registry, registration_number=f"黑({g.start:%Y})登记第{serial}号" if registry_number else "",
            registered_online=rng.random() < 0.6,
        )

    if scenario == "credit":
        return PlanData(credit_grounds=grounds or ["CG-1.6"]), []
    if scenario == "guarantor":
        return PlanData(credit_grounds=grounds, lowered_grounds=["CG-2.1"]), [guarantor]
    if scenario == "collateral":
        return PlanData(lowered_grounds=["CG-2.3"] if rng.random() < 0.5 else [],
                        adjustment_reason="实际控制人征信良好，按评估值七成设定抵押。"), \
            [guarantor, collateral("mortgage", "real_estate")]
    if scenario == "pledge":
        return PlanData(lowered_grounds=["CG-2.4"]), [collateral("pledge", "receivables")]
    if scenario == "warn":
        return PlanData(credit_grounds=["CG-1.2"] if small_farm else ["CG-1.3"]), \
            [collateral("mortgage", "agri_machinery")]
    # fail / draft_fail: over-collateralised and longer than the guarantee
    return PlanData(), [guarantor, collateral("mortgage", "real_estate", over=True, late=True)]


def _after_care(plan, g, user, rng, today, result) -> None:
    from counterguarantee import services
    from guarantees.models import Guarantee

    measures = list(plan.measures.all())
    if g.status == Guarantee.Status.RELEASED:
        services.plan_release(user=user, plan=plan, on=g.closed_on or g.end, registration_cancelled=True,
                              documents_returned=True)
        return
    if g.status == Guarantee.Status.ACTIVE:
        for m in measures:
            if m.is_collateral:
                on = min(g.start + timedelta(days=90), today - timedelta(days=3))
                if on > g.start:
                    services.inspection_record(user=user, measure=m, on=on, finding="normal",
                                               note=_note(i18n_text.gettext_lazy("On-site inspection: the collateral is in normal condition.")))
        return
    paid = getattr(getattr(g, "compensation", None), "paid_on", None)
    if paid is None:
        return
    for m in measures:
        if m.status != m.Status.ENFORCED:  # a plan approved after the payment is marked by hand
            services.measure_enforce(user=user, measure=m, recourse_from=paid)
        if m.kind == "guarantee" and rng.random() < 0.5 and paid + timedelta(days=20) <= today:
            services.enforcement_action_record(user=user, measure=m, on=paid + timedelta(days=20),
                                               kind="demand_notice", note=_note(i18n_text.gettext_lazy("The guarantor was notified in writing to honour the guarantee; the receipt is on file.")))
    result.notes.append(f"CG-13: plan of {g.contract_no} enforced from {paid}.")


@demo.part(order=30)
def build_counterguarantee_demo(orgs, users) -> CounterguaranteeResult:
    from core.calendar import shanghai_today
    from core.demo import ANCHOR
    from counterguarantee import services
    from counterguarantee.models import AbnormalEvent, AssetClass, BankPledgeRate, Plan
    from guarantees.models import Guarantee

    result = CounterguaranteeResult()
    today = min(ANCHOR, shanghai_today())
    rng = random.Random(SEED)
    taken = set(Plan.objects.values_list("guarantee_id", flat=True))
    abnormal_done = AbnormalEvent.objects.exists()
    for firm_key, years in PATTERNS.items():
        firm, user = orgs[firm_key], users[OPERATORS[firm_key]]
        for year, scenarios in years.items():
            guarantees = list(Guarantee.objects.filter(firm=firm, start__year=year, start__lte=today)
                              .select_related("borrower").order_by("contract_no")[:len(scenarios)])
            for g, scenario in zip(guarantees, scenarios, strict=False):
                if g.pk in taken:
                    continue
                tables = services.tables_on(g.start)
                data, measures = _plan_for(scenario, g, rng, tables)
                plan = services.plan_save(user=user, guarantee=g, data=data, measures=measures, on=g.start)
                result.created_plans += 1
                if scenario == "draft_fail":
                    continue
                note = "" if plan.last_check["passed"] else _note(i18n_text.gettext_lazy("Resolves existing risk; the review committee agreed to the over-collateralisation."))
                services.plan_approve(user=user, plan=plan, on=g.start, note=note)
                plan.refresh_from_db()
                _after_care(plan, g, user, rng, today, result)
                if not abnormal_done and g.status == Guarantee.Status.ACTIVE and plan.measures.filter(
                        kind="mortgage").exists():
                    services.abnormal_event_record(
                        user=user, measure=plan.measures.filter(kind="mortgage").first(),
                        on=today - timedelta(days=2), kind="value_fallen", note=_note(i18n_text.gettext_lazy("House prices nearby fell; the collateral's valuation dropped by about 15%.")),
                        response=_note(i18n_text.gettext_lazy("An additional guarantor was required; the actual controller was interviewed.")))
                    abnormal_done = True
    # The authority administrator keeps the two tables (CG-4, CG-6, CG-11) in Settings as well.
    perms = Permission.objects.filter(content_type__app_label="counterguarantee",
                                      codename__in=[f"{a}_{m}" for a in ("add", "change", "view")
                                                    for m in ("assetclass", "bankpledgerate")])
    users["authority_admin"].user_permissions.add(*perms)
    if result.created_plans:
        result.notes.append(f"Counter-guarantee plans created: {result.created_plans} "
                            f"({AssetClass.objects.count()} asset classes, {BankPledgeRate.objects.count()} bank rates).")
    result.logins += [
        ("firm_operator", "firm_operator", reverse("counterguarantee:home"),
         "counter-guarantee plans, the live check, limitation dates (CG-13)"),
        ("authority_admin", "authority_admin", reverse("counterguarantee:tables"),
         "asset classes and bank pledge rates; plans that failed at approval; CG-14"),
    ]
    return result
