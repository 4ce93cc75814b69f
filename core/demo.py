"""The demo data set (issue 2, "Done when"): one province with 2 cities and 3 counties, the
organisations of every kind and one login per role, here; each app adds its business through
the registry below (guarantees: agreements and 200 guarantees with their defaults,
compensations, recoveries and write-offs; riskpool: the pools and their claims; …).

Rules for every part:

- Idempotent: every row is found by its natural key (region code, credit code, user name,
  agreement number, contract number, (firm, date)) and created only when missing, so a second
  run changes nothing and duplicates nothing.
- Stable: a fixed random seed and every date an offset of the fixed ``ANCHOR``, so two runs, on
  any day, on SQLite or PostgreSQL, describe the same business.
- Real: business goes through the apps' services, so the rules run as in production and the
  audit trail is written.

An app's ``demo.py`` registers ``@demo.part(order)`` functions ``(orgs, users) -> DemoPart`` (run
in one transaction, in order) and ``@demo.after(order)`` functions ``(notes) -> None`` (run after
it: the jobs that read the committed data), so core never imports an app.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import Permission
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import autodiscover_modules

from core.models import Organisation, Region, Role, User
from core.validators import credit_code_check_character, id_number_problem

DEMO_PASSWORD = "demo-pass-2024"
# The demo's authenticator key (two-factor sign-in, core.twofactor): every demo login whose role
# requires it is enrolled with this one published key (RFC 6238's test secret
# "12345678901234567890"), so `make run` users can sign in: add DEMO_TOTP_SECRET to an
# authenticator app, or run `manage.py demo_otp_code`. Never a real account's key.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"
DEMO_TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
ANCHOR = date(2026, 11, 16)  # "today" of the demo; every date below is relative to it

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

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏林辉建国志文斌宇浩凯晨欣雪梅琳海峰春燕波"

TRADE_WORDS = "兴林 北极 龙江 鑫源 瑞丰 恒达 金穗 绿源 森宝 福兴 泰和 宏远 嘉禾 华盛 天润 蓝莓 黑土 雪原 富民 盛达".split()

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

# --- applying it -------------------------------------------------------------------------------


@dataclass
class DemoPart:
    """What an app's part did: lines to print, and its logins (role, user, url, what to look at)."""

    notes: list[str] = field(default_factory=list)
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)


@dataclass
class DemoResult:
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

def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return "/"


# --- the apps' parts ----------------------------------------------------------------------------

Part = Callable[[dict[str, Organisation], dict[str, User]], DemoPart]
After = Callable[[list[str]], None]
_PARTS: list[tuple[int, Part]] = []
_AFTER: list[tuple[int, After]] = []


def _register(registry: list, order: int):
    def decorator(fn):
        if all(existing is not fn for _o, existing in registry):
            registry.append((order, fn))
        return fn

    return decorator


def part(order: int):
    """Register an app's part of the demo: ``(orgs, users) -> DemoPart``, given the organisations
    by their key in ORGANISATIONS and the users by user name. A lower order runs first."""
    return _register(_PARTS, order)


def after(order: int):
    """Register a step run once the parts are committed: ``(notes) -> None`` (it appends to notes)."""
    return _register(_AFTER, order)


def _in_order(registry: list) -> list:
    autodiscover_modules("demo")
    return [fn for _order, fn in sorted(registry, key=lambda item: item[0])]


@after(order=100)
def _deadline_scan(notes: list[str]) -> None:
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
    notes.append(f"JB-3 deadline scan for {today}: {run.counts.get('obligations', 0)} obligations.")


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
    with transaction.atomic():
        orgs = _organisations(_regions())
        users = _users(orgs)
        parts = [build(orgs, users) for build in _in_order(_PARTS)]
    for step in _in_order(_AFTER):
        step(result.notes)
    for done in parts:
        result.notes.extend(done.notes)
    for spec in LOGINS:
        result.logins.append((spec.role, spec.username, _url(spec.opens[0]), spec.opens[1]))
    for done in parts:
        result.logins.extend(done.logins)
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

