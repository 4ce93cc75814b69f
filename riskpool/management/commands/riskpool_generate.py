"""``manage.py riskpool_generate``: a synthetic city-size Scheme S data set (JB-15).

Usage (PostgreSQL; a dedicated database is best)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rp_bench .venv/bin/python manage.py migrate
    DATABASE_URL=… .venv/bin/python manage.py riskpool_generate [--projects 1000000] [--banks 40] \\
        [--years 3] [--seed N] [--replace]

What it writes, all under one province region ``RPGEN`` and one Scheme S pool (so it is found, and
removed by ``--replace``, by that alone):

- the authority, the reviewer, the treasurer and ``--banks`` member banks, with one user each
  (``rpgen_authority``, ``rpgen_reviewer``, ``rpgen_treasurer``, ``rpgen_bank``: bank 1);
- borrowers (guarantees.Borrower, owned by the bank that lends to them; a quarter borrow again),
  and ``--projects`` loan projects over the last ``--years`` years, each entered within its RP-6
  window, with maturities, RP-18 closures of repaid loans, and five-category classifications
  (non-performing at a rate that differs per bank, so some banks are above the RP-15 gate),
  each NPL change a Classification row;
- claims on three quarters of the non-performing loans, in every RP-16 state, each state reached
  by allowed steps (ClaimStep rows), with the RP-8 tier ratio (+10 points for pure credit, cap 50%)
  and RP-13 amount; funding plans for the claims past the notice;
- for the paid claims a consistent ledger: budget allocations in, a payout per paid claim, the
  RP-17 recovery returns (RecoveryReport rows, due on the 15th working day of the next quarter)
  and the RP-16 8a upgrade returns; every entry's ``balance_after`` is the running sum and the
  pool's balance is the sum of the ledger (RP-1), never below zero;
- each member's RP-15 figures through the real ``services.members_refresh_npl``;
- RP-20's figures per bank-year (BankYear, BankYearBorrower) by their triggers, from the
  projects' COPY as from any write (checked against a recount by ``consistency_problems``).

Borrowers, projects, classifications, claims, steps, recoveries and the ledger go through
PostgreSQL COPY (the helpers of bench_guarantees); then VACUUM (ANALYZE).
"""
from __future__ import annotations

import io
import random
import time
from collections import Counter
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q

from core import calendar as core_calendar
from core import periods
from core.bench import bench_credit_code, bench_id_number, copy_rows, copy_text, fresh_ids, raw_delete
from core.calendar import shanghai_today
from core.models import Organisation, Region, Role, User
from guarantees.models import Borrower
from riskpool import rules, services
from riskpool.models import (
    BankEvaluation,
    BankYear,
    BankYearBorrower,
    Claim,
    ClaimStep,
    Classification,
    FundingPlan,
    HalfYearReport,
    LedgerEntry,
    LoanProject,
    Member,
    MissingRecoveryReport,
    Pool,
    PoolQuarterSnapshot,
    QuarterBankReport,
    RecoveryReport,
)
from riskpool.services_reports import bank_year_drift

REGION_CODE = "RPGEN"
POOL_NAME = "深圳市中小微企业贷款风险补偿资金池 (RPGEN)"
USERS = {"authority": "rpgen_authority", "reviewer": "rpgen_reviewer", "treasurer": "rpgen_treasurer",
         "bank": "rpgen_bank"}
CENT = Decimal("0.01")
POOL_SIZE = Decimal("5000000000.00")
BUDGET = Decimal("2000000000.00")  # one allocation; another comes when the balance runs low
LP = LoanProject
TERMS = (182, 365, 365, 365, 730, 730, 1095)
# Borrower segments: (weight, borrower kind, loan kind, size, id kind)
SEGMENTS = [
    (45, "enterprise", "enterprise", "small", "code"),
    (20, "enterprise", "enterprise", "micro", "code"),
    (10, "enterprise", "enterprise", "medium", "code"),
    (12, "owner", "owner", "", "id"),
    (13, "individual_business", "individual_business", "", "code"),
]
INDUSTRIES = ["industry", "wholesale", "retail", "software_it", "transport", "construction"]
WORDS = "鹏城 前海 南山 福田 龙岗 宝安 光明 坪山 盐田 罗湖 华强 科技园 蛇口 西丽 观澜 沙井".split()
SUFFIX = {"enterprise": "科技有限公司", "individual_business": "商行"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏林辉建国志文斌宇浩凯"
# Claim states (weights) and the main RP-16 path with the days after submission of each step.
CLAIM_STATES = [
    ("submitted", 8), ("held_npl_gate", 3), ("rejected", 4), ("approved", 2), ("on_notice", 2),
    ("notice_passed", 1), ("in_funding_plan", 2), ("documents_uploaded", 2), ("paid", 2),
    ("in_compensation_library", 14), ("recovering", 30), ("upgraded", 4), ("settled", 6), ("closed", 20),
]
MAIN_PATH = [("submitted", 0), ("approved", 20), ("on_notice", 24), ("notice_passed", 36), ("in_funding_plan", 40),
             ("documents_uploaded", 42), ("paid", 50), ("in_compensation_library", 60)]
# RP-16 8a / 8b: the bank's application, decided by the reviewer a few days later.
AFTER_LIBRARY = {"recovering": ["recovering"], "upgraded": ["upgrade_requested", "upgraded"],
                 "settled": ["recovering", "settlement_requested", "settled"],
                 "closed": ["recovering", "settlement_requested", "settled", "closed"]}
PAID_STATES = {"paid", "in_compensation_library", "recovering", "upgraded", "settled", "closed"}
METHODS = ["collection", "package_sale", "transfer", "securitisation", "realised_assets"]

_copy = copy_rows
_ids = fresh_ids


def tier_ratio(principal: int, other: int, pure_credit: bool) -> Decimal:
    """RP-8 tier on B = other balance + principal (RP-4), RP-10 +10 points for pure credit, RP-11 cap."""
    total = principal + other
    base = Decimal("0.4") if total <= 5_000_000 else Decimal("0.3") if total <= 15_000_000 else Decimal("0.2")
    return min(base + (Decimal("0.1") if pure_credit else 0), Decimal("0.5")).quantize(Decimal("0.000001"))


def generated_pool() -> Pool | None:
    return Pool.objects.filter(name=POOL_NAME, scheme=Pool.Scheme.S).first()


class Command(BaseCommand):
    help = "Generate a synthetic Scheme S data set: loan projects, claims, recoveries and a consistent ledger."

    def add_arguments(self, parser):
        parser.add_argument("--projects", type=int, default=1_000_000, help="loan projects (default 1000000)")
        parser.add_argument("--banks", type=int, default=40, help="member banks (default 40)")
        parser.add_argument("--years", type=int, default=3, help="years of business before today (default 3)")
        parser.add_argument("--seed", type=int, default=20240801, help="random seed")
        parser.add_argument("--replace", action="store_true", help="remove an earlier generated data set first")

    def handle(self, *args, **options):
        connection = connections[DEFAULT_DB_ALIAS]
        if connection.vendor != "postgresql":
            raise CommandError("riskpool_generate writes through PostgreSQL COPY; set DATABASE_URL to a PostgreSQL database.")
        if options["projects"] < 1 or options["banks"] < 1 or options["years"] < 1:
            raise CommandError("--projects, --banks and --years must be at least 1.")
        if generated_pool() is not None:
            if not options["replace"]:
                raise CommandError("A generated data set is already there; add --replace to generate it anew.")
            self.remove()
        started = time.perf_counter()
        self.tables: dict[str, dict] = {}
        with transaction.atomic():
            counts = self.generate(options["projects"], options["banks"], options["years"], options["seed"])
        generated = time.perf_counter() - started
        self.vacuum()
        total = time.perf_counter() - started
        self.stdout.write(f"Generated {sum(t['rows'] for t in self.tables.values()):,} rows in {generated:.1f} s "
                          f"({total:.1f} s with VACUUM ANALYZE).")
        self.stdout.write("  " + ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in counts.items()))
        self.counts = {**counts, "seconds": round(total, 1)}

    # --- removal ------------------------------------------------------------------------------

    def remove(self) -> None:
        """Remove the generated data set: one DELETE per table, children first."""
        started = time.perf_counter()
        pool = generated_pool()
        orgs = Organisation.objects.filter(region__path__startswith=f"/{REGION_CODE}/")
        projects = LoanProject.objects.filter(pool=pool)
        claims = Claim.objects.filter(project__pool=pool)
        raw = raw_delete
        with transaction.atomic():
            for model, fk, parents in (
                (MissingRecoveryReport, "pool", Pool.objects.filter(pk=pool.pk)),
                (QuarterBankReport, "pool", Pool.objects.filter(pk=pool.pk)),
                (PoolQuarterSnapshot, "pool", Pool.objects.filter(pk=pool.pk)),
                (HalfYearReport, "pool", Pool.objects.filter(pk=pool.pk)),
                (BankEvaluation, "pool", Pool.objects.filter(pk=pool.pk)),
                (LedgerEntry, "pool", Pool.objects.filter(pk=pool.pk)),
                (RecoveryReport, "claim", claims),
                (ClaimStep, "claim", claims),
                (Claim, "project", projects),
                (FundingPlan, "pool", Pool.objects.filter(pk=pool.pk)),
                (Classification, "project", projects),
                (LoanProject, "pool", Pool.objects.filter(pk=pool.pk)),
                (Borrower, "owner", orgs),
                (Member, "pool", Pool.objects.filter(pk=pool.pk)),
            ):
                raw(model, fk, parents)
            pool.delete()
            User.objects.filter(username__in=USERS.values()).delete()
            orgs.delete()
            for region in Region.objects.filter(path__startswith=f"/{REGION_CODE}/").order_by("-path"):
                region.delete()
        self.stdout.write(f"Removed the earlier generated data set in {time.perf_counter() - started:.1f} s.")

    # --- generation -----------------------------------------------------------------------------

    def note(self, model, rows: int, started: float) -> None:
        seconds = max(time.perf_counter() - started, 1e-6)
        self.tables[model._meta.db_table] = {"rows": rows, "seconds": round(seconds, 2)}
        self.stdout.write(f"  {model._meta.db_table:<32} {rows:>10,} rows {seconds:7.1f} s {rows / seconds:>10,.0f} rows/s")

    def generate(self, n_projects: int, n_banks: int, years: int, seed: int) -> dict:
        rng = random.Random(seed)
        today = shanghai_today()
        first = today - timedelta(days=365 * years)
        self.stdout.write(f"Generating {n_projects:,} loan projects, {n_banks} banks, {first} … {today} (seed {seed}) …")

        # Organisations, people, the pool and its members.
        province = Region.objects.create(code=REGION_CODE, name="风险补偿基准市 (RPGEN)", level=Region.Level.PROVINCE)
        K = Organisation.Kind

        def org(kind, name, serial):
            return Organisation(kind=kind, name=name, region=province, credit_code=bench_credit_code("91", serial, "RP"))

        authority = org(K.AUTHORITY, "基准市地方金融管理局", 1)
        reviewer = org(K.POOL_REVIEWER, "基准市高新投集团", 2)
        treasurer = org(K.POOL_TREASURER, "基准市金融中心", 3)
        banks = [org(K.BANK, f"基准银行{i + 1:02d}深圳分行", 100 + i) for i in range(n_banks)]
        Organisation.objects.bulk_create([authority, reviewer, treasurer, *banks])
        for key, organisation, role in (("authority", authority, Role.Code.AUTHORITY_ADMIN),
                                        ("reviewer", reviewer, Role.Code.POOL_REVIEWER),
                                        ("treasurer", treasurer, Role.Code.POOL_TREASURER),
                                        ("bank", banks[0], Role.Code.BANK_OPERATOR)):
            user = User(username=USERS[key], organisation=organisation, first_name="基准")
            user.set_unusable_password()
            user.save()
            user.roles.set(Role.objects.filter(code=role))
        pool = Pool.objects.create(name=POOL_NAME, scheme=Pool.Scheme.S, size=POOL_SIZE, authority=authority,
                                   reviewer=reviewer, treasurer=treasurer)
        joined = first - timedelta(days=400)
        members = Member.objects.bulk_create([Member(pool=pool, organisation=b, joined_on=joined) for b in banks])

        # Projects per bank: a few big banks, a long tail; NPL rates from 1% to 4% by bank.
        weights = [1 / (i + 1) ** 0.6 for i in range(n_banks)]
        bank_of = rng.choices(range(n_banks), weights=weights, k=n_projects)
        npl_rate = [0.01 + 0.03 * ((i * 7) % 5) / 4 for i in range(n_banks)]
        per_bank = Counter(bank_of)

        # Borrowers: three quarters of a bank's loans have a borrower of their own.
        n_borrowers = [max(1, round(per_bank[b] * 0.75)) for b in range(n_banks)]
        borrower_ids = _ids(Borrower, sum(n_borrowers))
        seg_weights = [s[0] for s in SEGMENTS]
        ids_of, segs_of, lines, pos, serial = [], [], [], 0, 0
        started = time.perf_counter()
        for b, bank in enumerate(banks):
            segs = bytearray(rng.choices(range(len(SEGMENTS)), seg_weights, k=n_borrowers[b]))
            segs_of.append(segs)
            ids_of.append(borrower_ids[pos: pos + n_borrowers[b]])
            pos += n_borrowers[b]
            for k, seg in enumerate(segs):
                serial += 1
                _w, kind, _lk, size, id_kind = SEGMENTS[seg]
                if id_kind == "id":
                    name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
                    id_kind_value, number, industry, employees = "id_card", bench_id_number(serial), "", r"\N"
                else:
                    name = f"深圳市{rng.choice(WORDS)}{serial}{SUFFIX[kind]}"
                    registration = "92" if kind == "individual_business" else "91"
                    id_kind_value, number = "credit_code", bench_credit_code(registration, serial, "RB")
                    industry = rng.choice(INDUSTRIES) if kind == "enterprise" else ""
                    employees = {"small": rng.randint(10, 90), "micro": rng.randint(1, 9),
                                 "medium": rng.randint(100, 290)}.get(size, r"\N")
                lines.append("\t".join((str(ids_of[b][k]), str(bank.pk), copy_text(name), id_kind_value, number, kind,
                                        industry, str(employees), size, "f")))
        _copy(Borrower, ["id", "owner", "name", "id_kind", "id_number", "kind", "industry", "employees",
                         "size_derived", "is_agricultural"], lines)
        self.note(Borrower, len(lines), started)
        del lines

        # Loan projects in disbursement order (as a live system fills the table).
        project_ids = _ids(LoanProject, n_projects)
        span = (today - first).days
        offsets = sorted(int(span * rng.random() ** 0.85) for _ in range(n_projects))  # business grows a little
        today_ord, first_ord = today.toordinal(), first.toordinal()
        iso: dict[int, str] = {}

        def day(ordinal: int) -> str:
            text = iso.get(ordinal)
            if text is None:
                text = iso[ordinal] = date.fromordinal(ordinal).isoformat()
            return text

        counters = [0] * n_banks
        last_close_ord = date(today.year, (today.month - 1) // 3 * 3 + 1, 1).toordinal()  # the last JB-5, roughly
        npl_projects: list[tuple] = []  # (project id, bank index, disbursed, maturity, principal, other, pure, npl_on)
        classification_lines: list[str] = []
        stats = Counter()
        started = time.perf_counter()

        def project_lines():
            for i in range(n_projects):
                b = bank_of[i]
                j = counters[b]
                counters[b] += 1
                nb = len(ids_of[b])
                local = j if j < nb else rng.randrange(nb)
                borrower_id = ids_of[b][local]
                _w, _kind, loan_kind, _size, _id = SEGMENTS[segs_of[b][local]]
                disbursed = min(first_ord + offsets[i], today_ord - 1)
                entered = min(disbursed + rng.randint(0, 10), today_ord)
                maturity = disbursed + rng.choice(TERMS)
                u = rng.random()
                wan = rng.randint(10, 300) if u < 0.6 else rng.randint(300, 1000) if u < 0.9 else rng.randint(1000, 2000)
                principal = wan * 10_000
                other = rng.randint(0, 800) * 10_000
                f = rng.random()
                features = '["pure_credit"]' if f < 0.3 else '["first_loan"]' if f < 0.4 else "[]"
                rate = f"{0.03 + rng.randint(0, 50) * 0.0005:.6f}"
                pid = project_ids[i]
                library, classification, classified, closed_on, closed_reason = "loan", "normal", entered, r"\N", ""
                age = today_ord - disbursed
                if age > 120 and rng.random() < npl_rate[b]:
                    npl_on = rng.randint(disbursed + 90, max(disbursed + 90, min(maturity + 60, today_ord - 1)))
                    npl_on = max(npl_on, entered)
                    classification = rng.choice(("substandard", "substandard", "doubtful", "loss"))
                    classified = npl_on
                    classification_lines.append(f"{pid}\t{day(npl_on)}\tnormal\t{classification}")
                    npl_projects.append((pid, b, disbursed, maturity, principal, other, features != "[]" and
                                         "pure" in features, npl_on, classification))
                elif maturity + 30 < today_ord and rng.random() < 0.85:
                    library, closed_reason = "closed", "repaid"
                    closed_on = day(min(maturity + rng.randint(0, 60), today_ord))
                elif maturity + 184 < last_close_ord:
                    # RP-18: not closed by the bank; an earlier quarter's JB-5 closed it 6 months on.
                    library, closed_reason, closed_on = "closed", "auto", day(maturity + 184)
                elif rng.random() < 0.02:
                    classification, classified = "special_mention", min(entered + rng.randint(30, 200), today_ord)
                    classification_lines.append(f"{pid}\t{day(classified)}\tnormal\tspecial_mention")
                stats[closed_reason or library] += 1
                yield "\t".join((
                    str(pid), str(pool.pk), str(banks[b].pk), str(borrower_id), f"RPG-{b + 1:02d}-{j + 1:07d}",
                    loan_kind, f"{principal}.00", f"{principal}.00", day(disbursed), day(maturity), rate,
                    rng.choice(("credit", "credit", "guarantee", "mortgage")), f"{other}.00", features, day(entered),
                    library, classification, day(classified), closed_on, closed_reason,
                ))

        _copy(LoanProject, ["id", "pool", "bank", "borrower", "loan_no", "loan_kind", "principal", "principal_yuan",
                            "disbursed_on", "maturity_on", "annual_rate", "guarantee_method", "other_balance",
                            "features", "entered_on", "library", "classification", "classified_on", "closed_on",
                            "closed_reason"], project_lines())
        self.note(LoanProject, n_projects, started)

        counts = self.claims(rng, pool, npl_rate, npl_projects, classification_lines, today, first, day)
        started = time.perf_counter()
        _copy(Classification, ["project", "on", "old", "new"], classification_lines)
        self.note(Classification, len(classification_lines), started)

        services.members_refresh_npl(members)
        gate = services.scheme_s_params(today).npl_gate
        above = sum(1 for m in Member.objects.filter(pool=pool) if m.npl_ratio is not None and m.npl_ratio > gate)
        return {"projects": n_projects, "borrowers": len(borrower_ids), "banks": n_banks,
                "npl_projects": len(npl_projects), "closed_repaid": stats["repaid"], "closed_auto": stats["auto"], **counts,
                "banks_above_npl_gate": above}

    def claims(self, rng, pool, npl_rate, npl_projects, classification_lines, today, first, day) -> dict:
        """Claims on three quarters of the NPL projects, their steps, recoveries and the ledger;
        the project rows of the paid claims are moved to their library afterwards (one UPDATE
        per library from a temporary table)."""
        today_ord = today.toordinal()
        states, weights = zip(*CLAIM_STATES, strict=True)
        params = services.scheme_s_params(today)
        due_cache: dict[tuple[str, int], str] = {}

        def next_due(state: str, since: int) -> str:
            key = (state, since)
            if key not in due_cache:
                due = rules.next_step_due(state, date.fromordinal(since), calendar=core_calendar, params=params)
                due_cache[key] = due.due.isoformat() if due else r"\N"
            return due_cache[key]

        report_due_cache: dict[int, str] = {}

        def report_due(received: int) -> str:
            quarter_end = periods.quarter_end(date.fromordinal(received)).toordinal()
            if quarter_end not in report_due_cache:
                report_due_cache[quarter_end] = rules.recovery_report_due(
                    date.fromordinal(received), calendar=core_calendar, params=params).date.isoformat()
            return report_due_cache[quarter_end]

        claimed = [p for p in npl_projects if rng.random() < 0.75 and p[7] + 15 < today_ord]
        claim_ids = _ids(Claim, len(claimed))
        plans: dict[int, int] = {}  # month ordinal -> FundingPlan id

        def plan_for(on: int) -> int:
            d = date.fromordinal(on)
            key = d.year * 12 + d.month
            if key not in plans:
                plans[key] = FundingPlan.objects.create(pool=pool, number=f"RPGEN-{d:%Y-%m}", issued_on=d).pk
            return plans[key]

        claim_lines, step_lines, recovery_lines = [], [], []
        money: list[tuple] = []  # (booked ordinal, order, kind, signed amount, claim id)
        library_moves: dict[str, list[tuple]] = {"compensation": [], "settlement": [], "closed": [], "loan": []}
        stats = Counter()
        held_banks = {b for b, rate in enumerate(npl_rate) if rate >= max(npl_rate) - 1e-9}  # above the RP-15 gate
        for cid, (pid, b, _disb, _mat, principal, other, pure, npl_on, cls) in zip(claim_ids, claimed, strict=True):
            submitted = min(npl_on + rng.randint(5, 80), today_ord - 1)
            state = rng.choices(states, weights)[0]
            if state == "held_npl_gate" and b not in held_banks:
                state = "submitted"  # only a bank above the gate has held claims
            path: list[tuple[str, int]] = [("submitted", submitted)]
            if state in ("held_npl_gate", "rejected"):
                path.append((state, min(submitted + rng.randint(1, 25), today_ord)))
            elif state != "submitted":
                for step, offset in MAIN_PATH[1:]:
                    path.append((step, submitted + offset))
                    if step == state:
                        break
                if state in AFTER_LIBRARY:
                    on = path[-1][1]
                    for step in AFTER_LIBRARY[state]:
                        on += rng.randint(2, 4) if path[-1][0].endswith("_requested") else rng.randint(40, 200)
                        path.append((step, on))
            while len(path) > 1 and path[-1][1] > today_ord:  # a step cannot be in the future
                path.pop()
            state = path[-1][0]
            stats[state] += 1
            outstanding = (Decimal(principal) * Decimal(rng.randint(50, 100)) / 100).quantize(CENT)
            ratio = tier_ratio(principal, other, pure)
            amount = (outstanding * ratio).quantize(CENT, ROUND_HALF_UP)
            on_of = dict(path)
            notice_start = on_of.get("on_notice")
            notice_end = core_calendar.add_working_days(date.fromordinal(notice_start), 7).toordinal() \
                if notice_start else None
            paid_on = on_of.get("paid")
            plan = plan_for(on_of["in_funding_plan"]) if "in_funding_plan" in on_of else None
            returned = Decimal("0")
            if paid_on:
                money.append((paid_on, 1, LedgerEntry.Kind.PAYOUT, -amount, cid))
                if state in ("recovering", "settled", "closed"):
                    start = on_of.get("recovering", paid_on + 60)
                    end = on_of.get("settled", today_ord)
                    for _ in range(rng.randint(1, 3)):
                        received = rng.randint(start, max(start, min(end, today_ord)))
                        gross = (outstanding * Decimal(rng.randint(5, 35)) / 100).quantize(CENT)
                        back = rules.recovery_return(gross, ratio, amount, returned)
                        booked = min(received + rng.randint(5, 40), today_ord)
                        recovery_lines.append("\t".join((str(cid), day(received), str(gross), rng.choice(METHODS),
                                                         str(back), report_due(received),
                                                         day(booked) if back > 0 else r"\N")))
                        if back > 0:
                            money.append((booked, 2, LedgerEntry.Kind.RETURN_RECOVERY, back, cid))
                            returned += back
                elif state == "upgraded":
                    back = amount - returned
                    money.append((on_of["upgraded"], 2, LedgerEntry.Kind.RETURN_UPGRADE, back, cid))
                    returned += back
                    classification_lines.append(f"{pid}\t{day(on_of['upgraded'] - 5)}\t{cls}\tspecial_mention")
            library = {"in_compensation_library": "compensation", "recovering": "compensation",
                       "upgrade_requested": "compensation", "settlement_requested": "compensation",
                       "settled": "settlement", "closed": "closed", "upgraded": "loan"}.get(state)
            if library:
                library_moves[library].append((pid, on_of[state]))
            due_since = {"submitted": submitted, "in_funding_plan": on_of.get("in_funding_plan"),
                         "documents_uploaded": on_of.get("documents_uploaded"), "paid": paid_on,
                         "upgrade_requested": on_of.get("upgrade_requested"),
                         "settlement_requested": on_of.get("settlement_requested")}.get(state)
            claim_lines.append("\t".join((
                str(cid), str(pid), str(pool.pk), state, day(submitted), day(npl_on), str(outstanding), day(submitted - 3),
                str(ratio), str(amount), next_due(state, due_since) if due_since else r"\N",
                day(notice_start) if notice_start else r"\N", day(notice_end) if notice_end else r"\N",
                str(plan) if plan else r"\N", day(paid_on) if paid_on else r"\N", str(amount if paid_on else 0),
                str(returned), "RP-15: the bank's NPL ratio was above the limit" if state == "held_npl_gate" else "",
            )))
            old = ""
            for step, on in path:
                step_lines.append(f"{cid}\t{old}\t{step}\t{day(on)}")
                old = step
        started = time.perf_counter()
        _copy(Claim, ["id", "project", "pool", "state", "submitted_on", "npl_on", "outstanding_principal", "credit_report_on",
                      "ratio", "amount", "next_due_on", "notice_start", "notice_end", "funding_plan", "paid_on",
                      "paid_amount", "returned_amount", "held_reason"], claim_lines)
        self.note(Claim, len(claim_lines), started)
        started = time.perf_counter()
        _copy(ClaimStep, ["claim", "old", "new", "on"], step_lines)
        self.note(ClaimStep, len(step_lines), started)
        started = time.perf_counter()
        _copy(RecoveryReport, ["claim", "received_on", "gross", "method", "return_amount", "report_due_on",
                               "returned_on"], recovery_lines)
        self.note(RecoveryReport, len(recovery_lines), started)
        ledger = self.ledger(pool, money, first, day)
        self.move_libraries(library_moves, day)
        return {"claims": len(claim_lines), "claim_steps": len(step_lines), "recovery_reports": len(recovery_lines),
                "ledger_entries": ledger, "claims_paid": sum(stats[s] for s in PAID_STATES),
                "claim_states": dict(sorted(stats.items()))}

    def ledger(self, pool, money, first, day) -> int:
        """Budget in, payouts out, returns in, in booking order, with the running balance; a new
        budget allocation whenever a payout would take the balance under 10% of one (RP-1)."""
        money.sort(key=lambda m: (m[0], m[1]))
        balance = Decimal("0")
        lines = []

        def entry(kind, amount, on, claim_id=None, note=""):
            nonlocal balance
            balance += amount
            lines.append("\t".join((str(pool.pk), kind, str(amount), str(balance), str(claim_id) if claim_id else r"\N",
                                    day(on), note)))

        entry(LedgerEntry.Kind.BUDGET, BUDGET, first.toordinal() - 30, note="RPGEN budget")
        for on, _order, kind, amount, claim_id in money:
            if balance + amount < BUDGET / 10:
                entry(LedgerEntry.Kind.BUDGET, BUDGET, on, note="RPGEN budget")
            entry(kind, amount, on, claim_id, note=f"claim {claim_id}")
        started = time.perf_counter()
        _copy(LedgerEntry, ["pool", "kind", "amount", "balance_after", "claim", "booked_on", "note"], lines)
        Pool.objects.filter(pk=pool.pk).update(balance=balance)
        self.note(LedgerEntry, len(lines), started)
        return len(lines)

    def move_libraries(self, moves: dict[str, list[tuple]], day) -> None:
        """The projects of compensated claims move to their library (and closed ones are closed),
        through a temporary table: one COPY and one UPDATE … FROM per library."""
        connection = connections[DEFAULT_DB_ALIAS]
        table = connection.ops.quote_name(LoanProject._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS rpgen_moves (project_id bigint, on_date date) ON COMMIT DROP")
            for library, rows in moves.items():
                if not rows:
                    continue
                cursor.execute("TRUNCATE rpgen_moves")
                cursor.cursor.copy_expert("COPY rpgen_moves FROM STDIN",
                                io.StringIO("".join(f"{pid}\t{day(on)}\n" for pid, on in rows)))
                if library == "closed":
                    extra = ", closed_on = m.on_date, closed_reason = 'settled'"
                elif library == "loan":  # upgraded: back to the loan library, special mention
                    extra = ", classification = 'special_mention', classified_on = m.on_date - 5"
                else:
                    extra = ""
                cursor.execute(f"UPDATE {table} p SET library = %s{extra} FROM rpgen_moves m WHERE p.id = m.project_id",
                               [library])

    def vacuum(self) -> None:
        started = time.perf_counter()
        connection = connections[DEFAULT_DB_ALIAS]
        tables = [m._meta.db_table for m in (Borrower, LoanProject, BankYear, BankYearBorrower, Classification, Claim,
                                              ClaimStep, RecoveryReport, LedgerEntry, Member, Pool, Organisation)]
        # Inside a caller's transaction (a test) VACUUM is not allowed; ANALYZE alone is.
        command = "ANALYZE " if connection.in_atomic_block else "VACUUM (ANALYZE) "
        with connection.cursor() as cursor:
            cursor.execute(command + ", ".join(connection.ops.quote_name(t) for t in tables))
        self.stdout.write(f"{command.strip()} in {time.perf_counter() - started:.1f} s.")


def consistency_problems(pool: Pool) -> list[str]:
    """What a generated data set must satisfy (the test and the benchmark check it): the pool's
    balance is the sum of its ledger and the last running balance; payouts equal the paid claims;
    returns equal the claims' returned amounts; every borrower belongs to the project's bank;
    RP-20's figures per bank-year (BankYear, BankYearBorrower: filled by triggers from the COPY) equal
    a live recount."""
    from django.db.models import F, Sum

    problems = []
    ledger = LedgerEntry.objects.filter(pool=pool)
    total = ledger.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    pool.refresh_from_db()
    if pool.balance != total:
        problems.append(f"pool balance {pool.balance} != ledger sum {total}")
    last = ledger.order_by("-booked_on", "-id").values_list("balance_after", flat=True).first()
    if last is not None and last != total:
        problems.append(f"last balance_after {last} != ledger sum {total}")
    if ledger.filter(balance_after__lt=0).exists():
        problems.append("a negative running balance")
    claims = Claim.objects.filter(project__pool=pool)
    paid = claims.aggregate(s=Sum("paid_amount"))["s"] or Decimal("0")
    payouts = -(ledger.filter(kind=LedgerEntry.Kind.PAYOUT).aggregate(s=Sum("amount"))["s"] or Decimal("0"))
    if paid != payouts:
        problems.append(f"claims paid {paid} != payouts {payouts}")
    returned = claims.aggregate(s=Sum("returned_amount"))["s"] or Decimal("0")
    returns = ledger.filter(kind__in=(LedgerEntry.Kind.RETURN_RECOVERY, LedgerEntry.Kind.RETURN_UPGRADE)).aggregate(
        s=Sum("amount"))["s"] or Decimal("0")
    if returned != returns:
        problems.append(f"claims returned {returned} != returns {returns}")
    if claims.filter(returned_amount__gt=F("paid_amount")).exists():
        problems.append("a claim returned more than it was paid")
    if LoanProject.objects.filter(pool=pool).exclude(borrower__owner_id=F("bank_id")).exists():
        problems.append("a project whose borrower belongs to another organisation")
    if LoanProject.objects.filter(pool=pool).filter(Q(entered_on__lt=F("disbursed_on"))).exists():
        problems.append("a project entered before its disbursement")
    live = claims.exclude(state__in=["withdrawn", "upgraded"]).values("project_id")
    if live.count() != live.distinct().count():
        problems.append("two live claims on one project")
    if drift := bank_year_drift([pool.pk]):
        problems.append(f"{drift} rows of RP-20's bank-year figures differ from a recount of the projects")
    return problems
