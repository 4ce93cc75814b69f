"""The guarantees part of the demo data set (``manage.py seed_demo``, core.demo): the firms'
agreements with the banks, 200 guarantees with their defaults, compensations, recoveries and
write-offs, the firms' net assets and yearly flags, and JB-5's indicator snapshots.

Real: business goes through guarantees.services, so the rules run as in production (GU-2
flags, GU-5 fee breaches, GU-3 loss allocation, GU-4 due dates, GU-13 write-off checks) and the
audit trail is written. The plan is drawn in full before anything is written, then applied in
date order, so a guarantee's 单户担保金额 (GU-5) sees the borrower's business as it stood on
that day.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from core import demo
from core.demo import ANCHOR, FIRM_OPERATORS, GIVEN, ORGANISATIONS, SURNAMES, TRADE_WORDS, credit_code, id_number
from core.models import Organisation, User
from core.periods import add_months, quarter_ends, quarter_start
from guarantees import services
from guarantees.models import Agreement, Borrower, FirmNetAssets, FirmYearProfile, Guarantee, Recovery
from guarantees.services import BorrowerData, GuaranteeData, agreement_create, net_assets_record

SEED = 20240115
GUARANTEE_COUNT = 200
QUARTERS_BACK = 8  # business starts in the 8 quarters before the anchor's quarter, and in it


@dataclass(frozen=True)
class AgreementSpec:
    firm: str
    bank: str
    code: str
    grace_days: int
    shares: dict


def _split(bank, firm, re, fund, gov="0") -> dict:
    return {"bank": bank, "guarantee_firm": firm, "reguarantee": re, "national_fund": fund, "government": gov}


AGREEMENTS = [
    AgreementSpec("firm_dxal", "bank_abc", "DXAL-YD-2024-01", 30, _split("0.20", "0.40", "0.20", "0.20")),
    AgreementSpec("firm_dxal", "bank_psbc", "DXAL-YD-2024-02", 60, _split("0.20", "0.40", "0.20", "0.20")),
    # GU-2 breach: the bank takes 10% (below the 20% minimum); stored and flagged.
    AgreementSpec("firm_dxal", "bank_longjiang", "DXAL-YD-2024-03", 30, _split("0.10", "0.50", "0.20", "0.20")),
    # 联合分险 with the county government fund; the national fund does not take part.
    AgreementSpec("firm_huma", "bank_abc", "HM-YD-2024-01", 45, _split("0.20", "0.40", "0.20", "0", "0.20")),
    AgreementSpec("firm_huma", "bank_longjiang", "HM-YD-2024-02", 30, _split("0.20", "0.40", "0.20", "0.20")),
    AgreementSpec("firm_binxian", "bank_harbin", "BX-YD-2024-01", 30, _split("0.20", "0.40", "0.20", "0.20")),
    # GU-2 breach: the provincial re-guarantee share (10%) is below the national fund's (20%).
    AgreementSpec("firm_binxian", "bank_psbc", "BX-YD-2024-02", 90, _split("0.20", "0.50", "0.10", "0.20")),
]
AGREEMENT_SIGNED = ANCHOR - timedelta(days=800)
AGREEMENT_EXPIRES = ANCHOR + timedelta(days=1100)


@dataclass(frozen=True)
class FirmProfile:
    """How a demo firm's business looks: the mix of borrowers and its pricing habits."""

    count: int
    mix: dict  # borrower segment -> weight
    net_assets: Decimal  # at the first quarter end; grows a little each quarter
    fee_breach: float  # chance that small-micro business is priced above the GU-5 cap
    medium_rate: tuple[int, int]  # fee rate range for other business, in basis points
    medium_wan: tuple[int, int]  # amount range of other business, in 万元


FIRMS = {
    # On every line: cheap small-micro business, a few fee breaches.
    "firm_dxal": FirmProfile(90, {"small": 10, "owner": 4, "farmer": 4, "medium": 1}, Decimal("65000000"), 0.06,
                             (110, 150), (200, 500)),
    # Farm lending priced at the cap, and pricier other business: average fee rate ≥ 1% (GU-6).
    "firm_huma": FirmProfile(60, {"farmer": 7, "owner": 1, "medium": 1}, Decimal("28000000"), 0.20,
                             (150, 200), (100, 250)),
    # Larger enterprise loans: support share under 80% (GU-7).
    "firm_binxian": FirmProfile(50, {"small": 3, "owner": 1, "medium": 4}, Decimal("32000000"), 0.04,
                                (90, 120), (300, 1200)),
}


PLACES = {"232700": "大兴安岭", "232721": "呼玛", "230125": "宾县"}


ENTERPRISE_KINDS = [
    ("industry", "木制品加工有限公司"), ("industry", "食品有限公司"), ("retail", "商贸有限公司"),
    ("wholesale", "农资批发有限公司"), ("catering", "餐饮管理有限公司"), ("software_it", "信息技术有限公司"),
    ("transport", "物流有限公司"), ("accommodation", "旅游酒店有限公司"),
]
FARM_KINDS = ["种植专业合作社", "养殖专业合作社", "家庭农场", "蓝莓种植专业合作社", "食用菌专业合作社"]


# --- the plan ----------------------------------------------------------------------------------


@dataclass
class BorrowerPlan:
    data: object  # guarantees.services.BorrowerData
    segment: str


@dataclass
class GuaranteePlan:
    firm: str
    agreement: str
    contract_no: str
    borrower: BorrowerPlan
    data: object  # guarantees.services.GuaranteeData
    events: list = field(default_factory=list)  # (date, order, name, kwargs)


FIRST_START = quarter_start(quarter_ends(ANCHOR, QUARTERS_BACK)[0])
LAST_START = ANCHOR - timedelta(days=3)


def _wan(rng: random.Random, low: int, high: int) -> Decimal:
    """A random amount between ``low`` and ``high`` 万元, in whole 万元."""
    return Decimal(rng.randint(low, high)) * 10000


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _borrower(rng: random.Random, segment: str, firm_region: str, serial: int) -> BorrowerPlan:
    place = PLACES[firm_region]
    word = rng.choice(TRADE_WORDS)
    if segment in ("small", "medium"):
        industry, suffix = rng.choice(ENTERPRISE_KINDS)
        if segment == "small":
            employees, revenue, assets = rng.randint(5, 45), _wan(rng, 50, 450), _wan(rng, 100, 2000)
        else:
            employees, revenue, assets = rng.randint(320, 800), _wan(rng, 6000, 30000), _wan(rng, 8000, 40000)
        data = BorrowerData(
            name=f"{place}{word}{suffix}", id_kind=Borrower.IdKind.CREDIT_CODE,
            id_number=credit_code("91", firm_region, serial, "MB"), kind=Borrower.Kind.ENTERPRISE,
            industry=industry, employees=employees, revenue=revenue, total_assets=assets,
        )
        if segment == "medium" and industry in ("retail", "wholesale", "software_it", "catering"):
            # These industries' small/medium lines sit elsewhere: enter the size with evidence.
            data.size_entered, data.size_evidence = Borrower.Size.MEDIUM, "2025年度审计报告"
    elif segment == "owner":
        if rng.random() < 0.5:
            data = BorrowerData(
                name=_person(rng), id_kind=Borrower.IdKind.ID_CARD, kind=Borrower.Kind.OWNER,
                id_number=id_number(firm_region, date(1965, 1, 1) + timedelta(days=rng.randint(0, 12000)), serial),
            )
        else:
            data = BorrowerData(
                name=f"{place}{word}{rng.choice(['便利店', '汽修部', '农家乐', '建材商店'])}",
                id_kind=Borrower.IdKind.CREDIT_CODE, id_number=credit_code("92", firm_region, serial, "MB"),
                kind=Borrower.Kind.INDIVIDUAL_BUSINESS,
            )
    else:  # farmer: a farm household or a cooperative, 三农
        if rng.random() < 0.5:
            data = BorrowerData(
                name=_person(rng), id_kind=Borrower.IdKind.ID_CARD, kind=Borrower.Kind.FARMER, is_agricultural=True,
                id_number=id_number(firm_region, date(1962, 1, 1) + timedelta(days=rng.randint(0, 13000)), serial),
            )
        else:
            data = BorrowerData(
                name=f"{place}{word}{rng.choice(FARM_KINDS)}", id_kind=Borrower.IdKind.CREDIT_CODE,
                id_number=credit_code("93", firm_region, serial, "MB"), kind=Borrower.Kind.FARMER,
                is_agricultural=True,
            )
    return BorrowerPlan(data=data, segment=segment)


def _bp(rng: random.Random, low: int, high: int, step: int = 5) -> Decimal:
    """A fee rate between ``low`` and ``high`` basis points, on a ``step``-point grid."""
    return (Decimal(rng.randrange(low, high + 1, step)) / 10000).quantize(Decimal("0.000001"))


def _lifecycle(rng: random.Random, plan: GuaranteePlan, grace_days: int) -> None:
    """Release, or default → compensation → recovery / write-off, all on or before ANCHOR."""
    data = plan.data
    matured = data.loan_maturity <= ANCHOR
    risky = rng.random()
    defaults = (matured and risky < 0.2) or (not matured and risky < 0.1 and data.start + timedelta(days=100) < ANCHOR)
    if not defaults:
        if matured:
            early = rng.random() < 0.2
            released = data.loan_maturity - timedelta(days=rng.randint(10, 90)) if early else data.loan_maturity
            plan.events.append((max(released, data.start + timedelta(days=30)), 1, "release", {}))
        return
    last = min(data.loan_maturity + timedelta(days=20), ANCHOR - timedelta(days=4))
    default_on = data.start + timedelta(days=rng.randint(90, max(91, (last - data.start).days)))
    default_on = min(default_on, last)
    share = Decimal(rng.randint(40, 100)) / 100
    principal = (data.amount * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    interest = (principal * Decimal("0.012")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    plan.events.append((default_on, 2, "default", {"principal": principal, "interest": interest}))
    due = default_on + timedelta(days=grace_days)
    if due + timedelta(days=10) > ANCHOR or rng.random() < 0.3:
        return  # not paid (yet): overdue once the due date has passed (GU-4)
    paid_on = default_on + timedelta(days=rng.randint(5, grace_days + (20 if rng.random() < 0.2 else 0)))
    paid_on = min(paid_on, ANCHOR - timedelta(days=2))
    plan.events.append((paid_on, 3, "pay", {}))
    outcome = rng.random()
    if outcome < 0.2 or paid_on + timedelta(days=45) > ANCHOR:
        return  # compensated, recovery not started
    action_on = paid_on + timedelta(days=rng.randint(10, 40))
    kind = rng.choice(["collection_notice", "negotiation", "litigation"])
    plan.events.append((action_on, 4, "action", {"kind": kind}))
    recovery_on = action_on + timedelta(days=rng.randint(20, 200))
    if outcome < 0.55:  # recovering: part of it back
        if recovery_on <= ANCHOR:
            plan.events.append((recovery_on, 5, "recover", {"fraction": Decimal(rng.randint(20, 60)) / 100,
                                                             "cost": Decimal(rng.choice([0, 3000, 8000]))}))
    elif outcome < 0.75:  # recovered in full
        if recovery_on <= ANCHOR:
            plan.events.append((recovery_on, 5, "recover", {"fraction": Decimal("1"), "cost": Decimal("5000")}))
    else:  # written off after the efforts failed (GU-13)
        write_off_on = action_on + timedelta(days=rng.randint(60, 240))
        if write_off_on <= ANCHOR:
            plan.events.append((write_off_on, 6, "write_off", {}))


def build_plan() -> list[GuaranteePlan]:
    """Every guarantee of the demo, drawn from the fixed seed; nothing is read or written."""
    rng = random.Random(SEED)
    by_firm = {firm: [a for a in AGREEMENTS if a.firm == firm] for firm in FIRMS}
    regions = {o.key: o.region for o in ORGANISATIONS}
    plans: list[GuaranteePlan] = []
    serial = 1000
    span = (LAST_START - FIRST_START).days
    for firm, profile in FIRMS.items():
        prefix = firm.split("_")[1].upper()
        segments = list(profile.mix)
        weights = [profile.mix[s] for s in segments]
        pool: list[BorrowerPlan] = []
        for n in range(1, profile.count + 1):
            if pool and rng.random() < 0.25:  # a returning borrower: 单户担保金额 adds up (GU-5)
                borrower = rng.choice(pool)
            else:
                serial += 1
                borrower = _borrower(rng, rng.choices(segments, weights)[0], regions[firm], serial)
                pool.append(borrower)
            segment = borrower.segment
            agreement = rng.choice(by_firm[firm])
            start = FIRST_START + timedelta(days=rng.randint(0, span))
            if segment == "medium":
                amount = _wan(rng, *profile.medium_wan)
                rate = _bp(rng, *profile.medium_rate)
            else:
                amount = _wan(rng, 20, 200) if segment == "farmer" else _wan(rng, 30, 400)
                rate = _bp(rng, 100, 100) if firm == "firm_huma" and rng.random() < 0.6 else _bp(rng, 60, 100)
                if rng.random() < profile.fee_breach:
                    rate = _bp(rng, 110, 150)  # GU-5: above the 1% cap
            other_fees = Decimal("2000.00") if segment != "medium" and rng.random() < 0.03 else Decimal("0")
            months = rng.choice((12, 12, 12, 6, 24))
            principal = amount if rng.random() < 0.6 else (amount / Decimal("0.8")).quantize(Decimal("1"))
            maturity = add_months(start, months) - timedelta(days=1)
            shares = agreement.shares
            plan = GuaranteePlan(
                firm=firm, agreement=agreement.code, contract_no=f"{prefix}-DB-{start:%Y}-{n:04d}", borrower=borrower,
                data=GuaranteeData(
                    contract_no=f"{prefix}-DB-{start:%Y}-{n:04d}", loan_principal=Decimal(principal).quantize(Decimal("0.01")),
                    amount=amount.quantize(Decimal("0.01")), loan_start=start, loan_maturity=maturity, start=start,
                    end=maturity, fee_rate=rate, other_fees=other_fees,
                    reguaranteed=Decimal(shares["reguarantee"]) > 0,
                    national_fund_scope=Decimal(shares["national_fund"]) > 0,
                    recommended_by_bank=rng.random() < 0.5,
                ),
            )
            plan.events.append((start, 0, "create", {}))
            _lifecycle(rng, plan, agreement.grace_days)
            plans.append(plan)
    assert len(plans) == GUARANTEE_COUNT
    return plans


def _firm_figures(orgs: dict[str, Organisation], users: dict[str, User]) -> None:
    """Net assets for the last 8 quarter ends (GU-8) and the yearly flags of each firm."""
    ends = quarter_ends(ANCHOR, QUARTERS_BACK)
    for key, profile in FIRMS.items():
        firm, user = orgs[key], users[FIRM_OPERATORS[key]]
        known = dict(FirmNetAssets.objects.filter(firm=firm, as_of__in=ends).values_list("as_of", "net_assets"))
        for i, as_of in enumerate(ends):
            amount = (profile.net_assets * (1 + Decimal("0.012") * i)).quantize(Decimal("0.01"))
            if known.get(as_of) != amount:
                net_assets_record(user=user, firm=firm, as_of=as_of, net_assets=amount)
        for year in sorted({ANCHOR.year - 1, ANCHOR.year}):
            FirmYearProfile.objects.get_or_create(
                firm=firm, year=year,
                defaults={"in_reguarantee_system": True, "in_national_agri_system": key == "firm_huma",
                          "in_new_gov_bank_system": key != "firm_binxian",
                          "supervisory_rating": {"firm_dxal": "A", "firm_huma": "B", "firm_binxian": "B"}[key]},
            )


def _agreements(orgs, users) -> dict[str, object]:
    rows = {}
    for spec in AGREEMENTS:
        firm = orgs[spec.firm]
        agreement = Agreement.objects.filter(firm=firm, code=spec.code).first()
        if agreement is None:
            agreement = agreement_create(
                user=users[FIRM_OPERATORS[spec.firm]], firm=firm, bank=orgs[spec.bank], code=spec.code,
                signed_on=AGREEMENT_SIGNED, expires_on=AGREEMENT_EXPIRES, grace_days=spec.grace_days,
                shares=spec.shares, batch_mode=Agreement.BatchMode.LOAN_FIRST if spec.grace_days == 30 else Agreement.BatchMode.NONE,
            )
        rows[spec.code] = agreement
    return rows


def _apply(plans: list[GuaranteePlan], orgs, users, agreements) -> int:
    """Run every event of the guarantees that do not exist yet, in date order."""
    existing = set(Guarantee.objects.filter(firm__in=[orgs[f] for f in FIRMS]).values_list("firm_id", "contract_no"))
    todo = [p for p in plans if (orgs[p.firm].pk, p.contract_no) not in existing]
    events = sorted(
        ((when, order, i, name, kwargs) for i, p in enumerate(todo) for when, order, name, kwargs in p.events),
        key=lambda e: e[:3],
    )
    rows: dict[int, Guarantee] = {}
    compensations: dict[int, object] = {}
    handlers: dict[str, Callable] = {}

    def create(i, plan, user, when, **kw):
        rows[i] = services.guarantee_create(user=user, agreement=agreements[plan.agreement],
                                            borrower=plan.borrower.data, data=plan.data)

    def release(i, plan, user, when, **kw):
        services.guarantee_release(user=user, guarantee=rows[i], released_on=when)

    def default(i, plan, user, when, principal, interest):
        compensations[i] = services.guarantee_default(user=user, guarantee=rows[i], default_on=when,
                                                      principal=principal, interest=interest)

    def pay(i, plan, user, when, **kw):
        compensations[i] = services.compensation_pay(user=user, compensation=compensations[i], paid_on=when)

    def action(i, plan, user, when, kind):
        services.recovery_action_record(user=user, compensation=compensations[i], on=when, kind=kind,
                                        note="演示数据")

    def recover(i, plan, user, when, fraction, cost):
        base = compensations[i].base
        gross = (base * fraction).quantize(Decimal("0.01")) + (cost if fraction == 1 else 0)
        services.recovery_record(user=user, compensation=compensations[i], received_on=when, gross=gross,
                                 source=Recovery.Source.BORROWER if fraction < 1 else Recovery.Source.COLLATERAL_SALE,
                                 cost_litigation=cost)

    def write_off(i, plan, user, when, **kw):
        services.compensation_write_off(user=user, compensation=compensations[i], on=when)

    handlers.update(create=create, release=release, default=default, pay=pay, action=action, recover=recover,
                    write_off=write_off)
    for when, _order, i, name, kwargs in events:
        plan = todo[i]
        handlers[name](i, plan, users[FIRM_OPERATORS[plan.firm]], when, **kwargs)
    return len(todo)


@demo.part(order=10)
def build_guarantees_demo(orgs: dict[str, Organisation], users: dict[str, User]) -> demo.DemoPart:
    """Create or complete the guarantees part; ``orgs`` and ``users`` are core.demo's."""
    plans = build_plan()
    agreements = _agreements(orgs, users)
    _firm_figures(orgs, users)
    created = _apply(plans, orgs, users, agreements)
    return demo.DemoPart(notes=[f"Guarantees: {created} guarantees created this run."])


@demo.after(order=10)
def _snapshots(notes: list[str]) -> None:
    """JB-5's quarterly indicator snapshot for the last few quarters, when the job exists."""
    try:
        from core.jobs import get_job, job_run
        from core.models import JobRun

        get_job("JB-5")
    except Exception as exc:  # the job framework or JB-5 is not there (yet)
        notes.append(f"JB-5 snapshot skipped: {exc}")
        return
    for as_of in quarter_ends(ANCHOR, 3):
        period = f"{as_of.year}Q{(as_of.month - 1) // 3 + 1}"
        if JobRun.objects.filter(job="JB-5", period=period, state=JobRun.State.SUCCEEDED).exists():
            continue
        try:
            job_run(job_id="JB-5", period=period, trigger=JobRun.Trigger.COMMAND)
        except Exception as exc:  # the demo data is committed; report and go on
            notes.append(f"JB-5 snapshot for {period} failed: {exc}")
        else:
            notes.append(f"JB-5 snapshot for {period} written.")
