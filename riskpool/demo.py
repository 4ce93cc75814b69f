"""The risk compensation pool part of the demo data set (``manage.py seed_demo``, core.demo).

- A live Scheme S pool (中小微企业贷款风险补偿资金池, 5,000,000,000) of the demo authority, with the
  pool reviewer, treasurer and finance bureau (监管执行部门) organisations, the 4 demo banks as members and a 200,000,000
  budget; 60 loan projects entered by the banks inside their RP-6 windows, and claims through
  the RP-16 workflow so that every state of the main line has at least one claim.
- A Scheme M pool with its four products (RP-M2, product_setup).

Everything goes through riskpool.services (rules, ledger, audit trail). Idempotent: the pools
are found by name, projects by (bank, loan_no), claims by project (one claim per project), so a
second run creates nothing. Stable: a fixed seed, every date an offset of core.demo.ANCHOR.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from core import demo, i18n_text
from core.audit import audit
from core.models import AuditEvent, Role
from riskpool import simulation_demo  # noqa: F401  (registers the simulator's demo part)


def _note(text) -> str:
    """A reviewer's or bank's note of the demo, kept as its msgid so it reads in each viewer's
    language (issue 13.1); a real person's note is kept as typed."""
    return i18n_text.dumps(text)

S_POOL_NAME = "中小微企业贷款风险补偿资金池"
S_POOL_SIZE = Decimal("5000000000.00")
M_POOL_NAME = "政府性融资担保代偿补偿资金池"
M_POOL_SIZE = Decimal("65000000.00")  # RP-M2: 35,000,000 + 10,000,000 + 20,000,000
BUDGET = Decimal("200000000.00")
SEED = 20261116
PROJECTS_PER_BANK = 15
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"

# bank key (core.demo.ORGANISATIONS) -> (operator login, name, loan-number prefix, credit-code serial base)
BANKS = {
    "bank_abc": ("bank_operator_abc", "钱进", "NH", 5100),
    "bank_psbc": ("bank_operator", None, "YC", 5200),  # core.demo's bank login
    "bank_longjiang": ("bank_operator_longjiang", "韩雪", "LJ", 5300),
    "bank_harbin": ("bank_operator_harbin", "曹阳", "HB", 5400),
}


@dataclass(frozen=True)
class ClaimSpec:
    """One claim of the demo: its bank, the state it is left in, and its submission day."""

    bank: str
    state: str
    submitted: int  # days before the anchor
    principal: Decimal
    loan_kind: str = "enterprise"


# One claim per state of RP-16's main line, and the three endings after the payment through
# their approvals (8a upgraded, 8b settled and closed, 8c write-off closed by the finance bureau,
# and one write-off waiting for it). Harbin's held claim comes last for that bank: its 8,000,000
# non-performing loan pushes the bank's NPL ratio above 3% (RP-15).
CLAIMS = [
    ClaimSpec("bank_harbin", "closed_write_off", 260, Decimal("900000.00")),
    ClaimSpec("bank_psbc", "closure_approved", 250, Decimal("950000.00")),
    ClaimSpec("bank_abc", "upgraded", 240, Decimal("1050000.00")),
    ClaimSpec("bank_longjiang", "closed_settled", 230, Decimal("1000000.00")),
    ClaimSpec("bank_harbin", "closure_requested", 200, Decimal("1200000.00")),
    ClaimSpec("bank_abc", "recovering", 170, Decimal("1400000.00")),
    ClaimSpec("bank_psbc", "in_compensation_library", 120, Decimal("1300000.00"), "owner"),
    ClaimSpec("bank_psbc", "paid", 80, Decimal("1000000.00"), "individual_business"),
    ClaimSpec("bank_longjiang", "documents_uploaded", 38, Decimal("1350000.00")),
    ClaimSpec("bank_psbc", "re_review", 34, Decimal("1100000.00")),
    ClaimSpec("bank_longjiang", "in_funding_plan", 35, Decimal("1250000.00")),
    ClaimSpec("bank_longjiang", "notice_passed", 32, Decimal("1150000.00"), "owner"),
    ClaimSpec("bank_harbin", "rejected", 25, Decimal("1000000.00")),
    ClaimSpec("bank_abc", "on_notice", 20, Decimal("1300000.00")),
    ClaimSpec("bank_abc", "approved", 15, Decimal("1200000.00"), "individual_business"),
    ClaimSpec("bank_abc", "submitted", 7, Decimal("1100000.00")),
    ClaimSpec("bank_harbin", "held_npl_gate", 4, Decimal("8000000.00")),
]
# The order of RP-16's main line: a claim is taken through every step up to its target.
LINE = ["submitted", "approved", "on_notice", "notice_passed", "in_funding_plan", "documents_uploaded", "paid",
        "in_compensation_library", "recovering", "closure_requested"]
# The endings after the compensation library (RP-16 8a, 8b, 8c), each through its approvals.
ENDINGS = ("upgraded", "closed_settled", "closure_approved", "closed_write_off")
WRITE_OFFS = ("closure_requested", "closure_approved", "closed_write_off")


@dataclass
class RiskpoolResult:
    created_projects: int = 0
    created_claims: int = 0
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Project:
    bank: str
    borrower: object  # guarantees.services.BorrowerData
    data: object  # riskpool.services.ProjectData
    claim: ClaimSpec | None = None
    npl_on: date | None = None
    special_mention_on: date | None = None


def _borrower(rng: random.Random, bank_region: str, serial: int, loan_kind: str):
    from core.demo import GIVEN, SURNAMES, TRADE_WORDS, credit_code, id_number
    from guarantees.models import Borrower
    from guarantees.services import BorrowerData

    word = rng.choice(TRADE_WORDS)
    if loan_kind == "enterprise":
        industry, suffix = rng.choice([("industry", "木业有限公司"), ("industry", "食品有限公司"),
                                       ("transport", "物流有限公司"), ("accommodation", "旅游酒店有限公司")])
        return BorrowerData(
            name=f"黑龙江{word}{suffix}", id_kind=Borrower.IdKind.CREDIT_CODE,
            id_number=credit_code("91", bank_region, serial, "MC"), kind=Borrower.Kind.ENTERPRISE,
            industry=industry, employees=rng.randint(60, 280), revenue=Decimal(rng.randint(3000, 15000)) * 10000,
            total_assets=Decimal(rng.randint(5000, 30000)) * 10000,
        )
    if loan_kind == "owner":
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        born = date(1968, 1, 1) + timedelta(days=rng.randint(0, 9000))
        return BorrowerData(name=name, id_kind=Borrower.IdKind.ID_CARD, kind=Borrower.Kind.OWNER,
                            id_number=id_number(bank_region, born, serial))
    return BorrowerData(
        name=f"{word}{rng.choice(['建材商店', '汽修部', '超市', '农机经销部'])}", id_kind=Borrower.IdKind.CREDIT_CODE,
        id_number=credit_code("92", bank_region, serial, "MC"), kind=Borrower.Kind.INDIVIDUAL_BUSINESS,
    )


def _project_data(loan_no: str, loan_kind: str, principal: Decimal, disbursed: date, months: int,
                  rng: random.Random, features=()):
    from core.periods import add_months
    from riskpool.services import ProjectData

    cap = Decimal("30000000") if loan_kind == "enterprise" else Decimal("10000000")  # RP-3
    room = int((cap - principal) / 10000)
    other = Decimal(rng.randint(0, max(0, min(room, 300)))) * 10000  # RP-4: B = other balance + principal
    return ProjectData(
        loan_no=loan_no, loan_kind=loan_kind, principal=principal, disbursed_on=disbursed,
        maturity_on=add_months(disbursed, months) - timedelta(days=1),
        annual_rate=Decimal(rng.randrange(340, 480, 5)) / 10000,  # RP-7: 1-year LPR 3.0% + 200bp = 5.0%
        other_balance=other, guarantee_method=rng.choice(["credit", "mortgage", "pledge"]),
        features=list(features), entered_on=disbursed + timedelta(days=rng.randint(1, 12)),  # RP-6 window
    )


def build_plan() -> list[_Project]:
    """Every project of the demo pool, drawn before anything is written (stable across runs)."""
    from core.demo import ANCHOR, ORGANISATIONS

    rng = random.Random(SEED)
    regions = {spec.key: spec.region for spec in ORGANISATIONS}
    plans: list[_Project] = []
    for bank, (_login, _name, prefix, serial) in BANKS.items():
        claims = [c for c in CLAIMS if c.bank == bank]
        n = 0
        for spec in claims:
            n += 1
            npl_on = ANCHOR - timedelta(days=spec.submitted + rng.randint(12, 30))  # RP-14: within 3 months
            disbursed = npl_on - timedelta(days=rng.randint(150, 260))
            data = _project_data(f"{prefix}-JJ-{disbursed:%Y}-{n:04d}", spec.loan_kind, spec.principal, disbursed,
                                 24, rng, features=["pure_credit"] if rng.random() < 0.5 else [])
            plans.append(_Project(bank, _borrower(rng, regions[bank], serial + n, spec.loan_kind), data, spec, npl_on))
        while n < PROJECTS_PER_BANK:
            n += 1
            loan_kind = "enterprise" if n % 6 else rng.choice(["owner", "individual_business"])
            principal = (Decimal(rng.randint(1800, 2600)) if loan_kind == "enterprise"
                         else Decimal(rng.randint(500, 900))) * 10000
            disbursed = ANCHOR - timedelta(days=rng.randint(30, 420))
            data = _project_data(f"{prefix}-JJ-{disbursed:%Y}-{n:04d}", loan_kind, principal, disbursed,
                                 rng.choice((24, 36)), rng)
            plan = _Project(bank, _borrower(rng, regions[bank], serial + n, loan_kind), data)
            if n % 7 == 0:  # 关注: watched, still performing
                plan.special_mention_on = min(ANCHOR - timedelta(days=5), disbursed + timedelta(days=120))
            plans.append(plan)
    return plans


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _pools(orgs, users):
    from riskpool.models import Pool

    authority = users["authority_admin"]

    def pool(name, scheme, size):
        row = Pool.objects.filter(name=name, scheme=scheme).first()
        if row is None:
            row = Pool.objects.create(name=name, scheme=scheme, size=size, authority=orgs["authority"],
                                      reviewer=orgs["pool_reviewer"], treasurer=orgs["pool_treasurer"],
                                      finance_bureau=orgs["finance_bureau"])
            audit(actor=authority, action=AuditEvent.Action.CREATE, instance=row, organisation=orgs["authority"],
                  summary=i18n_text.gettext_lazy("Pool %(name)s (%(scheme)s, %(size)s)") % {"name": name, "scheme": scheme, "size": size})
        elif row.finance_bureau_id is None:  # a demo database made before the finance bureau existed
            row.finance_bureau = orgs["finance_bureau"]
            row.save(update_fields=["finance_bureau"])
        return row

    return pool(S_POOL_NAME, Pool.Scheme.S, S_POOL_SIZE), pool(M_POOL_NAME, Pool.Scheme.M, M_POOL_SIZE)


def _bank_users(orgs) -> dict:
    from core.demo import _user

    role = Role.objects.get(code="bank_operator")
    users = {}
    for bank, (login, name, _prefix, _serial) in BANKS.items():
        if name is None:
            continue
        user = _user(login, organisation=orgs[bank], name=name)
        user.roles.set([role])
        users[login] = user
    return users


def _run_claim(project, spec: ClaimSpec, *, bank_user, reviewer, treasurer, authority, pool,
               finance=None) -> object:
    """Take one claim from submission to its target state, every step through the services."""
    from core.demo import ANCHOR
    from riskpool import services
    from riskpool.models import ClaimDocument, RecoveryReport

    submitted = ANCHOR - timedelta(days=spec.submitted)
    outstanding = (project.principal * Decimal("0.8")).quantize(Decimal("0.01"))
    claim = services.claim_submit(user=bank_user, project=project, submitted_on=submitted,
                                  outstanding_principal=outstanding, credit_report_on=submitted - timedelta(days=2),
                                  documents=[(ClaimDocument.Kind.CREDIT_REPORT, _pdf("征信报告.pdf")),
                                             (ClaimDocument.Kind.LOAN_FILE, _pdf("贷款资料.pdf"))])
    target = spec.state
    if target in ("submitted", "held_npl_gate"):
        return claim
    if target in ("rejected", "re_review"):
        claim = services.claim_review(user=reviewer, claim=claim, approve=False, on=submitted + timedelta(days=10),
                                      note=_note(i18n_text.gettext_lazy("The collateral's valuation report has expired and the borrower's business is not explained enough.")))
        if target == "re_review":
            claim = services.claim_request_re_review(user=bank_user, claim=claim, on=submitted + timedelta(days=15),
                                                     note=_note(i18n_text.gettext_lazy("The latest valuation report is added; please review again.")))
        return claim
    step = LINE.index("in_compensation_library" if target in ENDINGS else target)
    claim = services.claim_review(user=reviewer, claim=claim, approve=True, note=_note(i18n_text.gettext_lazy("Meets the conditions for compensation.")),
                                  on=submitted + timedelta(days=10))
    if step < LINE.index("on_notice"):
        return claim
    claim = services.claim_notice_start(user=authority, claims=[claim], on=submitted + timedelta(days=14))[0]
    if target == "on_notice":
        services.objection_file(claim=claim, name="匿名", contact="0457-0000000",
                                text="该企业贷款期间仍在正常经营，疑似存在逃废债情形，请核实。",
                                on=ANCHOR - timedelta(days=2))
        return claim
    after = claim.notice_end + timedelta(days=1)
    claim = services.claim_notice_close(user=authority, claim=claim, on=after)
    if step < LINE.index("in_funding_plan"):
        return claim
    services.funding_plan_issue(user=authority, pool=pool, number=f"ZZ-{after:%Y%m%d}-{project.loan_no}",
                                claims=[claim], on=after + timedelta(days=1))
    if step < LINE.index("documents_uploaded"):
        return claim
    files = [(kind, _pdf(f"{kind}.pdf")) for kind in services.PAYMENT_DOCUMENTS]
    claim = services.claim_documents_upload(user=bank_user, claim=claim, files=files, on=after + timedelta(days=3))
    if step < LINE.index("paid"):
        return claim
    paid_on = after + timedelta(days=6)
    claim = services.claim_pay(user=treasurer, claim=claim, on=paid_on, idempotency_key=f"demo-pay-{project.loan_no}")
    if step < LINE.index("in_compensation_library"):
        return claim
    claim = services.claim_to_compensation_library(user=bank_user, claim=claim, on=paid_on + timedelta(days=7))
    if target == "recovering":
        services.recovery_report(user=bank_user, claim=claim, received_on=paid_on + timedelta(days=40),
                                 gross=(project.principal * Decimal("0.25")).quantize(Decimal("0.01")),
                                 method=RecoveryReport.Method.COLLECTION, on=paid_on + timedelta(days=50),
                                 idempotency_key=f"demo-return-{project.loan_no}")
    elif target in WRITE_OFFS:
        claim = services.claim_closure_request(user=bank_user, claim=claim, on=paid_on + timedelta(days=60),
                                               note=_note(i18n_text.gettext_lazy("The bad debt is written off; we apply to close the project.")))
        if target != "closure_requested":
            _write_off(claim, paid_on + timedelta(days=60), target, reviewer=reviewer, treasurer=treasurer,
                       authority=authority, finance=finance)
    elif target == "upgraded":
        # 8a: the borrower is back to normal; the bank applies, the reviewer approves, the money returns.
        reclassified = paid_on + timedelta(days=50)
        services.project_classify(user=bank_user, project=claim.project, new="normal", on=reclassified)
        claim = services.claim_upgrade_request(user=bank_user, claim=claim, on=reclassified + timedelta(days=9),
                                               note=_note(i18n_text.gettext_lazy("The borrower repays normally again; the loan is reclassified as normal.")))
        claim = services.claim_upgrade_decide(user=reviewer, claim=claim, approve=True,
                                              on=reclassified + timedelta(days=16), note=_note(i18n_text.gettext_lazy("Upgrade agreed; back to the loan library.")),
                                              idempotency_key=f"demo-upgrade-{project.loan_no}")
    elif target == "closed_settled":
        # 8b: recovered in part, disposal complete, the reviewer's check, the authority's 核账结项.
        services.recovery_report(user=bank_user, claim=claim, received_on=paid_on + timedelta(days=30),
                                 gross=(project.principal * Decimal("0.4")).quantize(Decimal("0.01")),
                                 method=RecoveryReport.Method.PACKAGE_SALE, on=paid_on + timedelta(days=35),
                                 idempotency_key=f"demo-return-{project.loan_no}")
        done = paid_on + timedelta(days=45)
        services.claim_disposal_complete(user=bank_user, claim=claim, completed_on=done, on=done)
        claim = services.claim_settlement_request(user=bank_user, claim=claim, on=done + timedelta(days=10),
                                                  note=_note(i18n_text.gettext_lazy("The non-performing loan was sold in a package; disposal is complete, we apply for the settlement library.")))
        claim = services.claim_settlement_decide(user=reviewer, claim=claim, approve=True,
                                                 on=done + timedelta(days=18), note=_note(i18n_text.gettext_lazy("The recovery records are complete.")))
        claim = services.claim_close(user=authority, claim=claim, on=done + timedelta(days=25), note=_note(i18n_text.gettext_lazy("Accounts checked; project closed.")))
    return claim


def _write_off(claim, applied_on: date, target: str, *, reviewer, treasurer, authority, finance) -> None:
    """RP-16 8c after the bank's application: the reviewer's check, the treasurer's re-check, the
    authority's approval and, for a closed one, the finance bureau's (监管执行部门)."""
    from riskpool import services

    services.claim_closure_review(user=reviewer, claim=claim, approve=True, on=applied_on + timedelta(days=12),
                                  note=_note(i18n_text.gettext_lazy("The write-off documents are complete.")))
    services.claim_closure_recheck(user=treasurer, claim=claim, approve=True, on=applied_on + timedelta(days=18),
                                   note=_note(i18n_text.gettext_lazy("Re-checked; no error.")))
    services.claim_close(user=authority, claim=claim, on=applied_on + timedelta(days=24), note=_note(i18n_text.gettext_lazy("Write-off closure agreed.")))
    if target == "closed_write_off":
        services.claim_closure_finance_decide(user=finance, claim=claim, approve=True,
                                              on=applied_on + timedelta(days=30), note=_note(i18n_text.gettext_lazy("Agreed.")))


@demo.part(order=20)
def build_riskpool_demo(orgs: dict, users: dict) -> RiskpoolResult:
    """Create or complete the pool part of the demo; ``orgs`` and ``users`` are core.demo's."""
    from core.demo import ANCHOR
    from riskpool import services, services_m
    from riskpool.models import Claim, LoanProject, Member, Product

    result = RiskpoolResult()
    plans = build_plan()
    with transaction.atomic():
        users = {**users, **_bank_users(orgs)}
        authority, reviewer, treasurer = users["authority_admin"], users["pool_reviewer"], users["pool_treasurer"]
        pool, m_pool = _pools(orgs, users)
        for bank in BANKS:
            if not Member.objects.filter(pool=pool, organisation=orgs[bank]).exists():
                services.member_add(user=authority, pool=pool, bank=orgs[bank],
                                    joined_on=ANCHOR - timedelta(days=540))
        services.pool_budget_add(user=authority, pool=pool, amount=BUDGET, booked_on=ANCHOR - timedelta(days=320),
                                 idempotency_key=f"demo-budget-{pool.pk}", note="年度风险补偿资金预算")
        if Product.objects.filter(pool=m_pool).count() < 4:
            services_m.product_setup(user=authority, pool=m_pool, on=ANCHOR)
        result.notes.extend(build_scheme_m_claims(m_pool, users))

        existing = {(b, n): p for b, n, p in LoanProject.objects.filter(pool=pool).values_list("bank_id", "loan_no", "pk")}
        projects = {}
        for plan in plans:
            bank, login = orgs[plan.bank], BANKS[plan.bank][0]
            pk = existing.get((bank.pk, plan.data.loan_no))
            if pk is None:
                project = services.project_register(user=users[login], pool=pool, borrower=plan.borrower,
                                                    data=plan.data)
                result.created_projects += 1
                if plan.special_mention_on:
                    services.project_classify(user=users[login], project=project, new="special_mention",
                                              on=plan.special_mention_on)
            else:
                project = LoanProject.objects.get(pk=pk)
            projects[plan.data.loan_no] = (plan, project)

        with_claim = set(Claim.objects.filter(project__pool=pool).values_list("project_id", flat=True))
        todo = sorted((ANCHOR - timedelta(days=plan.claim.submitted), plan.bank, loan_no)
                      for loan_no, (plan, project) in projects.items()
                      if plan.claim is not None and project.pk not in with_claim)
        for _submitted, _bank, loan_no in todo:
            plan, project = projects[loan_no]
            bank_user = users[BANKS[plan.bank][0]]
            if not project.is_npl:
                new = "loss" if plan.claim.state in WRITE_OFFS else "substandard"
                project = services.project_classify(user=bank_user, project=project, new=new, on=plan.npl_on)
            _run_claim(project, plan.claim, bank_user=bank_user, reviewer=reviewer, treasurer=treasurer,
                       authority=authority, pool=pool, finance=users["finance_bureau"])
            result.created_claims += 1

    from core.demo import _url

    pool.refresh_from_db(fields=["balance"])
    for bank, (login, _name, _prefix, _serial) in BANKS.items():
        if login != "bank_operator":
            result.logins.append(("bank_operator", login, _url("riskpool:project-list"),
                                  f"{orgs[bank].name}: loan projects and claims of the pool"))
    result.notes.append(f"Risk pool: {result.created_projects} loan projects and {result.created_claims} claims "
                        f"created this run (Scheme S pool balance {pool.balance} yuan).")
    return result


# --- Scheme M claims (马政办〔2024〕6号) ---------------------------------------------------------

M_BUDGET = Decimal("65000000.00")
# The Scheme M claims of the demo, one per state (and a reimbursed one with a recovery return),
# made from the demo firms' paid compensations, oldest first: (state, firm operator login).
M_CLAIMS = [
    ("paid_returned", "firm_operator"),
    ("paid", "firm_operator_huma"),
    ("approved", "firm_operator"),
    ("rejected", "firm_operator_binxian"),
    ("submitted", "firm_operator"),
    ("submitted", "firm_operator_huma"),
]


def build_scheme_m_claims(m_pool, users) -> list[str]:
    """The Scheme M pool's budget and claims in several states (RP-M1 … RP-M5), every step through
    riskpool.services_m; then JB-11's report of the previous year (RP-M6). Idempotent: nothing
    is added once the pool has a claim (the budget by its idempotency key)."""
    from core.demo import ANCHOR
    from core.errors import RuleViolation
    from guarantees.models import Compensation
    from riskpool import services, services_m
    from riskpool.models import MClaim, Product

    authority, reviewer, treasurer = users["authority_admin"], users["pool_reviewer"], users["pool_treasurer"]
    services.pool_budget_add(user=authority, pool=m_pool, amount=M_BUDGET, booked_on=ANCHOR - timedelta(days=300),
                             idempotency_key=f"demo-m-budget-{m_pool.pk}", note="金融发展风险补偿资金首期")
    if MClaim.objects.filter(product__pool=m_pool).exists():
        return []
    products = list(Product.objects.filter(pool=m_pool).order_by("code"))
    made = 0
    for n, (state, login) in enumerate(M_CLAIMS):
        user = users.get(login)
        if user is None:
            continue
        compensation = (Compensation.objects.filter(guarantee__firm=user.organisation, paid_on__isnull=False,
                                                    paid_amount__gt=0, m_claim__isnull=True)
                        .order_by("paid_on", "pk").first())
        if compensation is None:
            continue
        product = products[n % len(products)]
        submitted = max(compensation.paid_on + timedelta(days=10), ANCHOR - timedelta(days=200 - 25 * n))
        try:
            m_claim = services_m.m_claim_submit(user=user, product=product, compensation=compensation,
                                                submitted_on=submitted, exclusions={})
            if state == "rejected":
                services_m.m_claim_reject(user=reviewer, m_claim=m_claim, note=_note(i18n_text.gettext_lazy("No timely recovery after the compensation; the collection records are incomplete.")))
            elif state != "submitted":
                services_m.m_claim_approve(user=reviewer, m_claim=m_claim)
            if state.startswith("paid"):
                paid_on = min(submitted + timedelta(days=20), ANCHOR - timedelta(days=1))
                services_m.m_claim_pay(user=treasurer, m_claim=m_claim, on=paid_on,
                                       idempotency_key=f"demo-m-pay-{m_claim.pk}")
                if state == "paid_returned":
                    received = min(paid_on + timedelta(days=30), ANCHOR - timedelta(days=1))
                    services_m.m_return_record(user=user, m_claim=m_claim, received_on=received,
                                               recovery=(compensation.paid_amount * Decimal("0.3")).quantize(Decimal("0.01")),
                                               costs=Decimal("8000.00"), on=min(received + timedelta(days=12), ANCHOR),
                                               idempotency_key=f"demo-m-return-{m_claim.pk}")
            made += 1
        except RuleViolation:  # e.g. a product suspended by RP-M3: the demo simply has one claim fewer
            continue
    services_m.m_annual_report(year=ANCHOR.year - 1, pool=m_pool)
    return [f"Scheme M: {made} claims of guarantee firms created, and the fund-use report of {ANCHOR.year - 1}."]


@demo.after(order=20)
def _pool_reports(notes: list[str]) -> None:
    """JB-6 for the last complete half-year and JB-7 for the last year, so the pool's report
    pages have something to show (each once: a later run of the demo leaves them as they are)."""
    from core.demo import ANCHOR
    from core.jobs import job_run
    from core.models import JobRun

    half = f"{ANCHOR.year}H1" if ANCHOR.month > 6 else f"{ANCHOR.year - 1}H2"
    for job, period in (("JB-6", half), ("JB-7", str(ANCHOR.year - 1))):
        if JobRun.objects.filter(job=job, period=period, state=JobRun.State.SUCCEEDED).exists():
            continue
        job_run(job_id=job, period=period, trigger=JobRun.Trigger.COMMAND)
        notes.append(f"{job} for {period} written.")
