"""The demo data set (issue 2, "Done when"): one province with 2 cities and 3 counties, the
organisations of every kind, one login per role, agreements and 200 guarantees with their
defaults, compensations, recoveries and write-offs.

Rules:

- Idempotent: every row is found by its natural key (region code, credit code, user name,
  agreement number, contract number, (firm, date)) and created only when missing, so a second
  run changes nothing and duplicates nothing.
- Stable: a fixed random seed and every date an offset of the fixed ``ANCHOR``, so two runs, on
  any day, on SQLite or PostgreSQL, describe the same business.
- Real: business goes through guarantees.services, so the rules run as in production (GU-2
  flags, GU-5 fee breaches, GU-3 loss allocation, GU-4 due dates, GU-13 write-off checks) and
  the audit trail is written. The plan is drawn in full before anything is written, then
  applied in date order, so a guarantee's 单户担保金额 (GU-5) sees the borrower's business
  as it stood on that day.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import Permission
from django.db import transaction
from django.urls import NoReverseMatch, reverse

from core.models import Organisation, Region, Role, User
from core.periods import add_months, quarter_ends, quarter_start
from core.validators import credit_code_check_character, id_number_problem

DEMO_PASSWORD = "demo-pass-2024"
# The demo's authenticator key (two-factor sign-in, core.twofactor): every demo login whose role
# requires it is enrolled with this one published key (RFC 6238's test secret
# "12345678901234567890"), so `make run` users can sign in: add DEMO_TOTP_SECRET to an
# authenticator app, or run `manage.py demo_otp_code`. Never a real account's key.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"
DEMO_TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
ANCHOR = date(2026, 11, 16)  # "today" of the demo; every date below is relative to it
SEED = 20240115
GUARANTEE_COUNT = 200
QUARTERS_BACK = 8  # business starts in the 8 quarters before the anchor's quarter, and in it

K = Organisation.Kind
L = Region.Level

# --- reference data ----------------------------------------------------------------------------

# 行政区划代码 (GB/T 2260). The national fund sits in Beijing; all demo business is in 黑龙江省.
REGIONS = [
    ("230000", "黑龙江省", L.PROVINCE, None),
    ("230100", "哈尔滨市", L.CITY, "230000"),
    ("230125", "宾县", L.COUNTY, "230100"),
    ("232700", "大兴安岭地区", L.CITY, "230000"),
    ("232721", "呼玛县", L.COUNTY, "232700"),
    ("232722", "塔河县", L.COUNTY, "232700"),
    ("110000", "北京市", L.PROVINCE, None),
]


@dataclass(frozen=True)
class OrgSpec:
    key: str
    kind: str
    name: str
    region: str
    registration: str  # positions 1–2 of the credit code: 11 机关, 12 事业单位, 91 企业
    serial: int
    supervisor: str | None = None


ORGANISATIONS = [
    OrgSpec("authority", K.AUTHORITY, "黑龙江省地方金融管理局", "230000", "11", 1),
    OrgSpec("city_authority", K.AUTHORITY, "大兴安岭地区金融服务中心", "232700", "12", 2),
    OrgSpec("supervisor_province", K.SUPERVISOR, "黑龙江省财政厅", "230000", "11", 3),
    OrgSpec("supervisor_city", K.SUPERVISOR, "大兴安岭地区财政局", "232700", "11", 4, "supervisor_province"),
    OrgSpec("supervisor_county", K.SUPERVISOR, "呼玛县财政局", "232721", "11", 5, "supervisor_city"),
    OrgSpec("pool_reviewer", K.POOL_REVIEWER, "黑龙江省中小企业融资风险补偿资金评审中心", "230000", "12", 6),
    OrgSpec("pool_treasurer", K.POOL_TREASURER, "黑龙江省金融服务中心", "230000", "12", 7),
    OrgSpec("finance_bureau", K.FINANCE_BUREAU, "黑龙江省财政厅金融处", "230000", "11", 8),
    OrgSpec("bank_abc", K.BANK, "中国农业银行股份有限公司大兴安岭分行", "232700", "91", 11),
    OrgSpec("bank_psbc", K.BANK, "中国邮政储蓄银行股份有限公司大兴安岭地区分行", "232700", "91", 12),
    OrgSpec("bank_longjiang", K.BANK, "龙江银行股份有限公司大兴安岭分行", "232700", "91", 13),
    OrgSpec("bank_harbin", K.BANK, "哈尔滨银行股份有限公司宾县支行", "230125", "91", 14),
    OrgSpec("firm_dxal", K.GUARANTEE_FIRM, "大兴安岭地区融资担保有限责任公司", "232700", "91", 21, "supervisor_city"),
    OrgSpec("firm_huma", K.GUARANTEE_FIRM, "呼玛县融资担保有限公司", "232721", "91", 22, "supervisor_county"),
    OrgSpec("firm_binxian", K.GUARANTEE_FIRM, "宾县融资担保有限公司", "230125", "91", 23, "supervisor_province"),
    OrgSpec("reguarantee", K.REGUARANTEE_FIRM, "黑龙江省融资再担保有限公司", "230000", "91", 31),
    OrgSpec("national_fund", K.NATIONAL_FUND, "国家融资担保基金有限责任公司", "110000", "91", 32),
]


@dataclass(frozen=True)
class LoginSpec:
    role: str
    username: str
    org: str | None
    name: str
    opens: tuple[str, str]  # (url name, what to look at)
    staff: bool = False


LOGINS = [
    LoginSpec("authority_admin", "authority_admin", "authority", "李静", ("home", "home page, dashboard, audit trail, admin")),
    LoginSpec("authority_reviewer", "authority_reviewer", "authority", "王磊", ("indicators:dashboard", "firm indicators")),
    LoginSpec("pool_reviewer", "pool_reviewer", "pool_reviewer", "赵敏",
              ("riskpool:review-queue", "risk pool claims to review, objections to public notices")),
    LoginSpec("pool_treasurer", "pool_treasurer", "pool_treasurer", "孙悦",
              ("riskpool:treasurer-desk", "risk pool claims to pay, closures to re-check")),
    LoginSpec("finance_approver", "finance_bureau", "finance_bureau", "何平",
              ("riskpool:finance-desk", "write-off closures awaiting the finance bureau (RP-16 8c)")),
    LoginSpec("bank_operator", "bank_operator", "bank_psbc", "周强",
              ("riskpool:project-list", "the bank's pool loan projects and claims; its guarantees")),
    LoginSpec("firm_operator", "firm_operator", "firm_dxal", "吴芳", ("home", "the firm's guarantees and indicators")),
    LoginSpec("firm_operator", "firm_operator_huma", "firm_huma", "郑伟", ("home", "呼玛县 firm")),
    LoginSpec("firm_operator", "firm_operator_binxian", "firm_binxian", "冯丽", ("home", "宾县 firm")),
    LoginSpec("county_supervisor", "county_supervisor", "supervisor_county", "陈刚", ("indicators:dashboard", "呼玛县 firms")),
    LoginSpec("city_supervisor", "city_supervisor", "supervisor_city", "杨帆", ("indicators:dashboard", "大兴安岭 firms")),
    LoginSpec("province_supervisor", "province_supervisor", "supervisor_province", "黄涛", ("indicators:dashboard", "all firms")),
]
FIRM_OPERATORS = {"firm_dxal": "firm_operator", "firm_huma": "firm_operator_huma", "firm_binxian": "firm_operator_binxian"}

# What the authority administrator may configure in the admin (JB-1 calendar, rule sets, rates).
ADMIN_PERMISSIONS = [
    f"{action}_{model}"
    for model in ("calendarday", "calendaryear", "ruleset", "lprrate", "exchangerate")
    for action in ("add", "change", "view")
] + ["delete_calendarday", "view_organisation", "view_user", "view_auditevent", "view_region"]


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

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏林辉建国志文斌宇浩凯晨欣雪梅琳海峰春燕波"
PLACES = {"232700": "大兴安岭", "232721": "呼玛", "230125": "宾县"}
TRADE_WORDS = "兴林 北极 龙江 鑫源 瑞丰 恒达 金穗 绿源 森宝 福兴 泰和 宏远 嘉禾 华盛 天润 蓝莓 黑土 雪原 富民 盛达".split()
ENTERPRISE_KINDS = [
    ("industry", "木制品加工有限公司"), ("industry", "食品有限公司"), ("retail", "商贸有限公司"),
    ("wholesale", "农资批发有限公司"), ("catering", "餐饮管理有限公司"), ("software_it", "信息技术有限公司"),
    ("transport", "物流有限公司"), ("accommodation", "旅游酒店有限公司"),
]
FARM_KINDS = ["种植专业合作社", "养殖专业合作社", "家庭农场", "蓝莓种植专业合作社", "食用菌专业合作社"]


# --- identifiers -------------------------------------------------------------------------------

_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code(body8: str) -> str:
    """The 9-character organisation code (GB 11714): 8 characters and their check character."""
    total = sum(int(ch, 36) * w for ch, w in zip(body8, _GB11714_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body8 + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(registration: str, region: str, serial: int, series: str = "MA") -> str:
    """A valid unified social credit code (GB 32100-2015): registration type, division code,
    organisation code (GB 11714) and the check character of core.validators."""
    first17 = registration + region + _org_code(f"{series}{serial:06d}")
    return first17 + credit_code_check_character(first17)


def id_number(region: str, born: date, serial: int) -> str:
    """A resident identity number (GB 11643-1999) with a valid check character."""
    from core.validators import ID_CHECK, ID_WEIGHTS

    first17 = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
    number = first17 + ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]
    assert id_number_problem(number) is None
    return number


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
    from guarantees.models import Borrower
    from guarantees.services import BorrowerData

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
    from guarantees.services import GuaranteeData

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


# --- applying it -------------------------------------------------------------------------------


@dataclass
class DemoResult:
    created_guarantees: int = 0
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)  # role, user, url, what
    notes: list[str] = field(default_factory=list)
    two_factor: list[str] = field(default_factory=list)  # demo logins enrolled with DEMO_TOTP_KEY


def _regions() -> dict[str, Region]:
    rows: dict[str, Region] = {}
    for code, name, level, parent in REGIONS:
        region = Region.objects.filter(code=code).first()
        wanted = {"name": name, "level": level, "parent": rows.get(parent)}
        if region is None:
            region = Region.objects.create(code=code, **wanted)
        elif any(getattr(region, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(region, k, v)
            region.save()
        rows[code] = region
    return rows


def _organisations(regions: dict[str, Region]) -> dict[str, Organisation]:
    orgs: dict[str, Organisation] = {}
    for spec in ORGANISATIONS:  # supervisors come before the organisations they supervise
        code = credit_code(spec.registration, spec.region, spec.serial)
        org, _ = Organisation.objects.update_or_create(
            credit_code=code,
            defaults={"name": spec.name, "kind": spec.kind, "region": regions[spec.region],
                      "supervisor": orgs.get(spec.supervisor), "is_active": True},
        )
        org.full_clean()  # the credit code's check character (GB 32100) and the rest
        orgs[spec.key] = org
    return orgs


def _user(username: str, *, organisation, name: str = "", staff: bool = False, superuser: bool = False) -> User:
    user, created = User.objects.update_or_create(
        username=username,
        # A Chinese name is written whole, family name first: get_full_name() shows it as is.
        defaults={"organisation": organisation, "first_name": name, "last_name": "",
                  "email": f"{username}@demo.invalid", "is_staff": staff or superuser,
                  "is_superuser": superuser, "is_active": True},
    )
    if created or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _users(orgs: dict[str, Organisation]) -> dict[str, User]:
    roles = {role.code: role for role in Role.objects.all()}
    users = {}
    for spec in LOGINS:
        user = _user(spec.username, organisation=orgs[spec.org], name=spec.name,
                     staff=spec.role == "authority_admin")
        user.roles.set([roles[spec.role]])
        users[spec.username] = user
    perms = Permission.objects.filter(content_type__app_label="core", codename__in=ADMIN_PERMISSIONS)
    users["authority_admin"].user_permissions.set(perms)
    users["admin"] = _user("admin", organisation=None, superuser=True)
    return users


def _firm_figures(orgs: dict[str, Organisation], users: dict[str, User]) -> None:
    """Net assets for the last 8 quarter ends (GU-8) and the yearly flags of each firm."""
    from guarantees.models import FirmNetAssets, FirmYearProfile
    from guarantees.services import net_assets_record

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
    from guarantees.models import Agreement
    from guarantees.services import agreement_create

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
    from guarantees import services
    from guarantees.models import Guarantee, Recovery

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


def _snapshots(result: DemoResult) -> None:
    """JB-5's quarterly indicator snapshot for the last few quarters, when the job exists."""
    try:
        from core.jobs import get_job, job_run
        from core.models import JobRun

        get_job("JB-5")
    except Exception as exc:  # the job framework or JB-5 is not there (yet)
        result.notes.append(f"JB-5 snapshot skipped: {exc}")
        return
    for as_of in quarter_ends(ANCHOR, 3):
        period = f"{as_of.year}Q{(as_of.month - 1) // 3 + 1}"
        if JobRun.objects.filter(job="JB-5", period=period, state=JobRun.State.SUCCEEDED).exists():
            continue
        try:
            job_run(job_id="JB-5", period=period, trigger=JobRun.Trigger.COMMAND)
        except Exception as exc:  # the demo data is committed; report and go on
            result.notes.append(f"JB-5 snapshot for {period} failed: {exc}")
        else:
            result.notes.append(f"JB-5 snapshot for {period} written.")


def _pool_reports(result: DemoResult) -> None:
    """JB-6 for the last complete half-year and JB-7 for the last year, so the pool's report
    pages have something to show (each once: a later run of the demo leaves them as they are)."""
    from core.jobs import job_run
    from core.models import JobRun

    half = f"{ANCHOR.year}H1" if ANCHOR.month > 6 else f"{ANCHOR.year - 1}H2"
    for job, period in (("JB-6", half), ("JB-7", str(ANCHOR.year - 1))):
        if JobRun.objects.filter(job=job, period=period, state=JobRun.State.SUCCEEDED).exists():
            continue
        job_run(job_id=job, period=period, trigger=JobRun.Trigger.COMMAND)
        result.notes.append(f"{job} for {period} written.")


def _deadline_scan(result: DemoResult) -> None:
    """JB-3 for today, so every home page shows its deadlines. The demo's addresses are
    .invalid: the e-mails go to the dummy backend instead of filling the console."""
    from django.test.utils import override_settings

    from core.calendar import shanghai_today
    from core.jobs import job_run
    from core.models import JobRun

    today = shanghai_today().isoformat()
    if JobRun.objects.filter(job="JB-3", period=today, state=JobRun.State.SUCCEEDED).exists():
        return
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        run = job_run(job_id="JB-3", period=today, trigger=JobRun.Trigger.COMMAND)
    result.notes.append(f"JB-3 deadline scan for {today}: {run.counts.get('obligations', 0)} obligations.")


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return "/"


# Each app's demo builder: build(orgs, users) -> an object with ``notes`` and ``logins`` lists.
APP_DEMOS = [("counterguarantee.demo", "build_counterguarantee_demo"), ("evaluation.demo", "build_evaluation_demo")]


def _app_demos() -> list[Callable]:
    from importlib import import_module

    builders = []
    for module, name in APP_DEMOS:
        try:
            builders.append(getattr(import_module(module), name))
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a real import error inside the module
                raise
    return builders


def build_demo() -> DemoResult:
    """Create or complete the demo data set; returns what was done and the logins to print.

    The reminders the demo's jobs raise are kept in-app only: e-mailing them (printed to the
    console by the development backend) would fill ``make run``'s output with raw addresses."""
    from django.test.utils import override_settings

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        return _build_demo()


def logins_by_user(logins: list[tuple[str, str, str, str]]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The demo logins one per user name, in first-seen order: (role, user name, [(url, what), …]),
    so a person with pages in several apps is printed once with all of them."""
    grouped: dict[str, tuple[str, str, list[tuple[str, str]]]] = {}
    for role, username, url, what in logins:
        grouped.setdefault(username, (role, username, []))[2].append((url, what))
    return list(grouped.values())


def _build_demo() -> DemoResult:
    result = DemoResult()
    plans = build_plan()
    with transaction.atomic():
        regions = _regions()
        orgs = _organisations(regions)
        users = _users(orgs)
        agreements = _agreements(orgs, users)
        _firm_figures(orgs, users)
        result.created_guarantees = _apply(plans, orgs, users, agreements)
        from riskpool.demo import build_riskpool_demo

        pool = build_riskpool_demo(orgs, users)  # the risk compensation pools, after the guarantees
        others = [build(orgs, users) for build in _app_demos()]  # counter-guarantees, evaluation
    _snapshots(result)
    _pool_reports(result)
    _deadline_scan(result)
    for part in (pool, *others):
        result.notes.extend(part.notes)
    for spec in LOGINS:
        result.logins.append((spec.role, spec.username, _url(spec.opens[0]), spec.opens[1]))
    for part in (pool, *others):
        result.logins.extend(part.logins)
    result.logins.append(("superuser", "admin", _url("admin:index"), "Django admin, every page"))
    result.two_factor = _enrol_demo_two_factor([username for _role, username, _url_, _what in result.logins])
    return result


def _enrol_demo_two_factor(usernames: list[str]) -> list[str]:
    """Enrol the demo logins whose role requires two-factor sign-in with the published demo key
    (idempotent); returns their user names."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from core.twofactor import two_factor_required

    enrolled = []
    for user in User.objects.filter(username__in=usernames).prefetch_related("roles").order_by("username"):
        if two_factor_required(user):
            TOTPDevice.objects.update_or_create(user=user, name="demo authenticator",
                                                defaults={"key": DEMO_TOTP_KEY, "confirmed": True})
            enrolled.append(user.username)
    return enrolled
