"""``manage.py bench_guarantees``: a province-size data set, and how fast the reads that matter
are on it (JB-15).

Usage (a dedicated database; it is created and migrated when missing)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gp_bench .venv/bin/python manage.py \\
        bench_guarantees [--guarantees 100000] [--firms 30] [--banks 20] [--repeat 15] \\
        [--keep] [--force] [--json PATH] [--seed N]

What it does:

1. Safety. PostgreSQL only (SQLite is refused: its planner and timings say nothing about
   production, and it has no EXPLAIN (ANALYZE, BUFFERS)). A database that already holds
   guarantees other than benchmark ones is refused unless ``--force``. All benchmark rows hang
   under one province region, code ``BENCH``, so they are found and removed by that alone:
   leftovers of an earlier run at the start, this run's rows at the end (unless ``--keep``).
   What cannot be removed: the JB-5 runs write append-only audit rows (``job run`` events of
   the user ``bench_authority``); that is why a dedicated database is the intended use, and
   why JB-5 is not measured with ``--force`` (the job snapshots every firm of the database).
2. Data, set-based: organisations with valid GB 32100 codes, agreements (a few GU-2 breaches),
   borrowers (85 % small-micro or 三农), guarantees over the last 3 years (amounts 0.1–12m,
   fee rates 0.5–1.8 %, a few GU-5 breaches, statuses as the business goes), compensations for
   about 2 % with GU-3 parts adding up, net assets per firm per quarter end; borrowers,
   guarantees and compensations through PostgreSQL COPY.
3. VACUUM (ANALYZE), then the real code paths, timed (median and p95 over ``--repeat`` runs
   after one warm-up whose queries are counted): the dashboard's indicator rows, the guarantee
   list's first page, the overdue compensations, one firm's partner banks, the JB-5 snapshot
   through core.jobs.job_run, and the dashboard and list pages through the test Client.
4. A table, EXPLAIN (ANALYZE, BUFFERS) of the slowest query of the two slowest reads, and the
   same figures as JSON with ``--json``.
"""
from __future__ import annotations

import json
import os
import random
import time
import warnings
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Q, Sum
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from core import bench
from core.calendar import shanghai_today
from core.jobs import job_run
from core.models import JobRun, Organisation, Region, Role, User
from core.pagination import CappedPaginator
from core.periods import Quarter
from core.validators import credit_code_problem
from core.views_helpers import PAGE_SIZE
from guarantees import rules, selectors
from guarantees.forms import GuaranteeFilterForm
from guarantees.models import (
    Agreement,
    Borrower,
    BorrowerQualification,
    Compensation,
    FirmIndicatorSnapshot,
    FirmNetAssets,
    FirmYearProfile,
    Guarantee,
    Recovery,
    RecoveryAction,
)
from guarantees.selectors_indicators import bank_partner_rows, indicator_rows_for_user
from guarantees.services import guarantee_params

BENCH_CODE = "BENCH"
BENCH_PATH = f"/{BENCH_CODE}/"
AUTHORITY_USERNAME = "bench_authority"
FIRM_USERNAME = "bench_firm"

SPAN_DAYS = 3 * 365  # business starts in the 3 years before today
TERMS = (182, 365, 365, 365, 365, 730, 1095)  # days
DEFAULT_RATE = 0.024  # of which ~2 % of all guarantees end with a compensation
STATUS_FILTER = Guarantee.Status.DEFAULTED  # the list filter measured: a rare status, the worst case
CENT = Decimal("0.01")
S = Guarantee.Status

# Borrower segments: (weight, kind, size_derived, is_agricultural, id kind, registration code).
# 85 % small-micro or 三农 (rules.is_small_micro_or_agri), 15 % medium and large enterprises.
SEGMENTS = [
    (30, Borrower.Kind.ENTERPRISE, Borrower.Size.SMALL, False, "code", "91"),
    (15, Borrower.Kind.ENTERPRISE, Borrower.Size.MICRO, False, "code", "91"),
    (8, Borrower.Kind.OWNER, "", False, "id", ""),
    (10, Borrower.Kind.INDIVIDUAL_BUSINESS, "", False, "code", "92"),
    (22, Borrower.Kind.FARMER, "", True, "code", "93"),
    (12, Borrower.Kind.ENTERPRISE, Borrower.Size.MEDIUM, False, "code", "91"),
    (3, Borrower.Kind.ENTERPRISE, Borrower.Size.LARGE, False, "code", "91"),
]
SEGMENT_SMALL_AGRI = [
    rules.is_small_micro_or_agri(kind=kind, size=size, is_agricultural=agri) for _w, kind, size, agri, _i, _r in SEGMENTS
]
# Risk-sharing splits (bank, firm, re-guarantee, national fund, government) and their weights;
# the last two break GU-2 and are stored flagged, as the service does.
SPLITS = [
    (("0.2", "0.4", "0.2", "0.2", "0"), 60),
    (("0.2", "0.5", "0.3", "0", "0"), 15),
    (("0.2", "0.4", "0.2", "0", "0.2"), 15),
    (("0.1", "0.5", "0.2", "0.2", "0"), 7),
    (("0.2", "0.5", "0.1", "0.2", "0"), 3),
]
TRADE_WORDS = "兴林 北极 龙江 鑫源 瑞丰 恒达 金穗 绿源 森宝 福兴 泰和 宏远 嘉禾 华盛 天润 富民 盛达 长青".split()
ENTERPRISE_SUFFIXES = [("industry", "制造有限公司"), ("retail", "商贸有限公司"), ("wholesale", "农资批发有限公司"),
                       ("catering", "餐饮管理有限公司"), ("software_it", "信息技术有限公司"), ("transport", "物流有限公司"),
                       ("construction", "建筑工程有限公司"), ("accommodation", "酒店有限公司")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏林辉建国志文斌宇浩凯"
CITY_NAMES = ["基准一市", "基准二市", "基准三市"]

SQLITE_REFUSAL = (
    "bench_guarantees needs PostgreSQL and refuses SQLite: production runs on PostgreSQL, and "
    "SQLite's planner, locking and timings say nothing about it (nor has it EXPLAIN (ANALYZE, "
    "BUFFERS)). Run it against a dedicated database, which is created when missing:\n"
    "    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gp_bench .venv/bin/python manage.py bench_guarantees"
)


@dataclass
class BenchData:
    authority: User
    firm_user: User
    firm: Organisation
    firms: int
    banks: int
    quarter: Quarter
    counts: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)  # table -> {"rows", "seconds", "rows_per_s"}
    seconds: float = 0.0


@dataclass
class Result:
    key: str
    what: str
    measurement: bench.Measurement
    kind: str  # read, page or job

    def as_dict(self) -> dict:
        m = self.measurement
        return {"key": self.key, "what": self.what, "kind": self.kind, "median_ms": round(m.median_ms, 2),
                "p95_ms": round(m.p95_ms, 2), "runs": len(m.samples_ms), "queries": m.query_count,
                "samples_ms": [round(s, 2) for s in m.samples_ms]}


class Command(BaseCommand):
    help = (
        "Generate a benchmark data set (guarantees under a BENCH province) in a PostgreSQL database, "
        "time the dashboard, list pages, partner banks and JB-5 on it, and remove it again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--guarantees", type=int, default=100_000, help="guarantees to generate (default 100000)")
        parser.add_argument("--firms", type=int, default=30, help="guarantee firms (default 30)")
        parser.add_argument("--banks", type=int, default=20, help="banks (default 20)")
        parser.add_argument("--repeat", type=int, default=15, help="timed runs per measurement (default 15)")
        parser.add_argument("--keep", action="store_true", help="keep the benchmark data at the end")
        parser.add_argument("--force", action="store_true",
                            help="run even though the database holds other guarantees (JB-5 is then not measured)")
        parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
        parser.add_argument("--seed", type=int, default=20240115, help="random seed of the data set")
        parser.add_argument("--explain-lines", type=int, default=30, help="plan lines shown per EXPLAIN (default 30)")

    # --- safety ---------------------------------------------------------------------------

    def handle(self, *args, **options):
        for name in ("guarantees", "firms", "banks", "repeat"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1.")
        self._prepare_database()
        shared = self._check_dedicated(options["force"])
        self._remove(leftovers=True)
        started = time.perf_counter()
        try:
            data = self.data = self._generate(options["guarantees"], options["firms"], options["banks"], options["seed"])
            self._vacuum_analyze()
            results = self.results = self._measure(data, options["repeat"], shared)
            plans = self._explain(results, options["explain_lines"])
            self._write_json(options["json"], data, results, plans, options, shared)
        finally:
            if options["keep"]:
                self.stdout.write(f"Kept the benchmark data (region {BENCH_CODE}); the next run removes it first.")
            else:
                self._remove()
        self.stdout.write(f"Done in {time.perf_counter() - started:.0f} s.")

    def _prepare_database(self) -> None:
        """PostgreSQL only; a missing database is created (on the server's ``postgres`` database)
        and migrated. An existing one must be migrated already: we never migrate a database we
        did not create."""
        connection = connections[DEFAULT_DB_ALIAS]
        if connection.vendor == "sqlite":
            raise CommandError(SQLITE_REFUSAL)
        if connection.vendor != "postgresql":
            raise CommandError(f"bench_guarantees needs PostgreSQL, not {connection.vendor}.")
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            if "does not exist" not in str(exc):
                raise
            self._create_database(connection.settings_dict)
            connection.ensure_connection()
            self.stdout.write(f"Created database {connection.settings_dict['NAME']}; migrating it …")
            call_command("migrate", interactive=False, verbosity=0)
            return
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError(
                f"Database {connection.settings_dict['NAME']} has unapplied migrations; run "
                "`manage.py migrate` on it first (with the same DATABASE_URL)."
            )

    @staticmethod
    def _create_database(settings_dict: dict) -> None:
        import psycopg2
        from psycopg2 import sql

        params = {"dbname": "postgres", "user": settings_dict.get("USER"), "password": settings_dict.get("PASSWORD"),
                  "host": settings_dict.get("HOST"), "port": settings_dict.get("PORT")}
        with closing(psycopg2.connect(**{k: v for k, v in params.items() if v})) as server:
            server.autocommit = True
            with server.cursor() as cursor:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings_dict["NAME"])))

    def _check_dedicated(self, force: bool) -> bool:
        """True when the database is shared with other data (only with --force)."""
        name = connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
        if not Guarantee.objects.exclude(firm__region__path__startswith=BENCH_PATH).exists():
            return False
        if not force:
            raise CommandError(
                f"Database {name} holds guarantees that are not benchmark data; the benchmark will not write "
                "beside real data. Use a dedicated database (DATABASE_URL=postgres://postgres@127.0.0.1:5432/gp_bench, "
                "created when missing), or --force to run anyway (its rows are removed at the end)."
            )
        self.stdout.write(self.style.WARNING(
            f"--force: {name} holds other guarantees. The benchmark rows live under region {BENCH_CODE} and are "
            "removed at the end; JB-5 is not measured (it would snapshot every firm of the database)."
        ))
        return True

    # --- removing the benchmark rows ----------------------------------------------------------

    def _remove(self, *, leftovers: bool = False) -> None:
        """Delete every row hanging under the BENCH region (big tables by one DELETE each)."""
        started = time.perf_counter()
        orgs = Organisation.objects.filter(region__path__startswith=BENCH_PATH)
        if not Region.objects.filter(path__startswith=BENCH_PATH).exists():
            return
        users = User.objects.filter(organisation__in=orgs)
        usernames = list(users.values_list("username", flat=True))
        guarantees = Guarantee.objects.filter(Q(firm__in=orgs) | Q(bank__in=orgs))
        compensations = Compensation.objects.filter(guarantee__in=guarantees)
        with transaction.atomic():
            runs = JobRun.objects.filter(started_by__in=users)
            FirmIndicatorSnapshot.objects.filter(Q(firm__in=orgs) | Q(job_run__in=runs)).delete()
            runs.delete()
            deleted = {}
            for model, fk, parents in (
                (Recovery, "compensation", compensations),
                (RecoveryAction, "compensation", compensations),
                (Compensation, "guarantee", guarantees),
                (Guarantee, "pk", guarantees),
                (BorrowerQualification, "borrower", Borrower.objects.filter(owner__in=orgs)),
                (Borrower, "owner", orgs),
                (Agreement, "pk", Agreement.objects.filter(Q(firm__in=orgs) | Q(bank__in=orgs))),
                (FirmNetAssets, "firm", orgs),
                (FirmYearProfile, "firm", orgs),
            ):
                deleted[model._meta.verbose_name_plural] = bench.raw_delete(model, fk, parents)
            if apps.is_installed("axes"):
                for name in ("AccessLog", "AccessAttempt", "AccessFailureLog"):
                    apps.get_model("axes", name).objects.filter(username__in=usernames).delete()
            users.delete()
            orgs.delete()
            for region in Region.objects.filter(path__startswith=BENCH_PATH).order_by("-path"):
                region.delete()  # children first: their path is longer
        what = "leftovers of an earlier run" if leftovers else "the benchmark data"
        self.stdout.write(
            f"Removed {what} ({deleted.get(Guarantee._meta.verbose_name_plural, 0):,} guarantees) "
            f"in {time.perf_counter() - started:.1f} s."
        )

    # --- generating -------------------------------------------------------------------------

    def _generate(self, count: int, n_firms: int, n_banks: int, seed: int) -> BenchData:
        rng = random.Random(seed)
        today = shanghai_today()
        self._tables = {}
        started = time.perf_counter()
        self.stdout.write(f"Generating {count:,} guarantees, {n_firms} firms, {n_banks} banks (seed {seed}) …")
        with transaction.atomic():
            province, cities = self._regions()
            authority, firms, banks = self._organisations(province, cities, n_firms, n_banks)
            authority_user = self._user(AUTHORITY_USERNAME, authority, Role.Code.AUTHORITY_ADMIN)
            firm_user = self._user(FIRM_USERNAME, firms[0], Role.Code.FIRM_OPERATOR)
            agreements = self._agreements(rng, firms, banks, today)
            data = BenchData(
                authority=authority_user, firm_user=firm_user, firm=firms[0], firms=n_firms, banks=n_banks,
                quarter=Quarter.of(Quarter.current().start - timedelta(days=1)), tables=self._tables,
            )
            self._business(rng, data, count, firms, agreements, today)
            self._net_assets(rng, data, firms, today)
        data.seconds = time.perf_counter() - started
        total_rows = sum(t["rows"] for t in data.tables.values())
        self.stdout.write(
            f"Generated {total_rows:,} rows in {data.seconds:.1f} s ({total_rows / data.seconds:,.0f} rows/s overall)."
        )
        return data

    def _regions(self) -> tuple[Region, list[Region]]:
        province = Region.objects.create(code=BENCH_CODE, name="基准测试省 (BENCH)", level=Region.Level.PROVINCE)
        cities = [
            Region.objects.create(code=f"{BENCH_CODE}{i + 1:02d}", name=name, level=Region.Level.CITY, parent=province)
            for i, name in enumerate(CITY_NAMES)
        ]
        return province, cities

    def _organisations(self, province, cities, n_firms, n_banks):
        K = Organisation.Kind

        def org(kind, name, region, registration, serial):
            code = bench.bench_credit_code(registration, serial, "BN")
            assert credit_code_problem(code) is None, code
            return Organisation(kind=kind, name=name, region=region, credit_code=code)

        rows = [org(K.AUTHORITY, "基准测试省地方金融管理局", province, "11", 1)]
        # The first firm is the provincial one (the largest); the others are spread over the cities.
        rows += [
            org(K.GUARANTEE_FIRM, f"基准{i + 1:02d}融资担保有限公司", province if i == 0 else cities[i % len(cities)],
                "91", 100 + i)
            for i in range(n_firms)
        ]
        rows += [
            org(K.BANK, f"基准银行{i + 1:02d}股份有限公司分行", province if i < 3 else cities[i % len(cities)], "91",
                100_000 + i)
            for i in range(n_banks)
        ]
        started = time.perf_counter()
        Organisation.objects.bulk_create(rows, batch_size=5000)
        self._note(Organisation, len(rows), started)
        return rows[0], rows[1 : n_firms + 1], rows[n_firms + 1 :]

    @staticmethod
    def _user(username: str, organisation: Organisation, role: str) -> User:
        user = User(username=username, organisation=organisation, first_name="基准")
        user.set_unusable_password()
        user.save()
        user.roles.set(Role.objects.filter(code=role))
        return user

    def _agreements(self, rng, firms, banks, today) -> dict[int, list[tuple]]:
        """3–8 partner banks per firm; GU-2 is decided by the rules, as the service does."""
        params = guarantee_params(today)
        signed, expires = today - timedelta(days=4 * 365), today + timedelta(days=2 * 365)
        splits, weights = zip(*SPLITS, strict=True)
        rows = []
        for f, firm in enumerate(firms):
            for j, bank in enumerate(rng.sample(banks, rng.randint(min(3, len(banks)), min(8, len(banks))))):
                shares = [Decimal(s) for s in rng.choices(splits, weights)[0]]
                split = rules.Split(*shares)
                problems = rules.check_minimum_shares(split, params)
                rows.append(Agreement(
                    firm=firm, bank=bank, code=f"BENCH-YD-{f + 1:03d}-{j + 1:02d}", signed_on=signed,
                    expires_on=expires, grace_days=rng.choice((30, 60, 90)), batch_mode=Agreement.BatchMode.NONE,
                    share_bank=split.bank, share_firm=split.guarantee_firm, share_reguarantee=split.reguarantee,
                    share_national_fund=split.national_fund, share_government=split.government,
                    loss_base_includes_interest=rng.random() < 0.3, compliant=not problems,
                    problems=[p.as_dict() for p in problems],
                ))
        started = time.perf_counter()
        Agreement.objects.bulk_create(rows, batch_size=5000)
        self._note(Agreement, len(rows), started)
        by_firm: dict[int, list[tuple]] = {}
        for a in rows:
            split = rules.Split(a.share_bank, a.share_firm, a.share_reguarantee, a.share_national_fund, a.share_government)
            shares_json = bench.copy_text({k: str(v) for k, v in split.as_dict().items()})
            by_firm.setdefault(a.firm_id, []).append(
                (a.pk, a.bank_id, split, a.grace_days, a.loss_base_includes_interest, shares_json)
            )
        return by_firm

    def _business(self, rng, data: BenchData, count: int, firms, agreements, today: date) -> None:
        """Borrowers, guarantees and compensations, through COPY, in start-date order across
        firms (as a live system fills the table)."""
        n_firms = len(firms)
        cum, total = [], 0.0
        for i in range(n_firms):  # a few big firms, a long tail of small ones
            total += 1 / (i + 1) ** 0.7
            cum.append(total)
        firm_of = rng.choices(range(n_firms), cum_weights=cum, k=count)
        per_firm = Counter(firm_of)
        n_borrowers = [max(1, round(per_firm[f] * 0.75)) for f in range(n_firms)]  # a quarter borrow again

        # Borrowers.
        borrower_ids = bench.fresh_ids(Borrower, sum(n_borrowers))
        segments_weights = [s[0] for s in SEGMENTS]
        segment_of: list[bytearray] = []
        ids_of: list[list[int]] = []
        lines, position, serial = [], 0, 0
        started = time.perf_counter()
        for f, firm in enumerate(firms):
            segs = bytearray(rng.choices(range(len(SEGMENTS)), segments_weights, k=n_borrowers[f]))
            segment_of.append(segs)
            ids_of.append(borrower_ids[position : position + n_borrowers[f]])
            position += n_borrowers[f]
            city = firm.region.name
            for k, seg in enumerate(segs):
                serial += 1
                lines.append(self._borrower_line(rng, ids_of[f][k], firm.pk, seg, serial, city))
        bench.copy_rows(Borrower, BORROWER_COLUMNS, lines)
        self._note(Borrower, len(lines), started, note="generation included")
        del lines

        # Guarantees (and, on the way, their compensations).
        guarantee_ids = bench.fresh_ids(Guarantee, count)
        offsets = sorted(int(SPAN_DAYS * rng.random() ** 0.8) for _ in range(count))  # business grows a little
        compensation_lines: list[str] = []
        stats = Counter()
        started = time.perf_counter()
        rows = self._guarantee_lines(
            rng, today, firms, agreements, firm_of, offsets, guarantee_ids, ids_of, segment_of,
            compensation_lines, stats,
        )
        bench.copy_rows(Guarantee, GUARANTEE_COLUMNS, rows)
        self._note(Guarantee, count, started, note="generation included")
        started = time.perf_counter()
        bench.copy_rows(Compensation, COMPENSATION_COLUMNS, compensation_lines)
        self._note(Compensation, len(compensation_lines), started)
        data.counts = {
            "guarantees": count,
            "borrowers": len(borrower_ids),
            "compensations": len(compensation_lines),
            "agreements": sum(len(a) for a in agreements.values()),
            "statuses": {s.value: stats[s.value] for s in S},
            "small_micro_or_agri_share": round(stats["small_agri"] / count, 3),
            "fee_breaches": stats["fee_breach"],
            "overdue_compensations_today": stats["overdue"],
        }
        mix = ", ".join(f"{k} {v / count:.1%}" for k, v in data.counts["statuses"].items())
        self.stdout.write(
            f"  mix: {mix}; small-micro/三农 {data.counts['small_micro_or_agri_share']:.0%}; "
            f"compensations {len(compensation_lines) / count:.1%}; GU-5 breaches {stats['fee_breach'] / count:.1%}"
        )

    @staticmethod
    def _borrower_line(rng, pk, owner_id, seg, serial, city) -> str:
        _w, kind, size, agri, id_kind, registration = SEGMENTS[seg]
        word = rng.choice(TRADE_WORDS)
        if id_kind == "id":
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            id_kind_value, number, industry = Borrower.IdKind.ID_CARD.value, bench.bench_id_number(serial), ""
        else:
            industry, suffix = rng.choice(ENTERPRISE_SUFFIXES)
            if kind == Borrower.Kind.FARMER:
                industry, suffix = "agriculture", rng.choice(("种植专业合作社", "家庭农场", "养殖专业合作社"))
            elif kind == Borrower.Kind.INDIVIDUAL_BUSINESS:
                suffix = rng.choice(("便利店", "汽修部", "农家乐", "建材商店"))
            name = f"{city}{word}{suffix}"
            id_kind_value, number = Borrower.IdKind.CREDIT_CODE.value, bench.bench_credit_code(registration, serial, "BB")
        employees = {"small": rng.randint(10, 90), "micro": rng.randint(1, 9), "medium": rng.randint(100, 900),
                     "large": rng.randint(1000, 5000)}.get(size)
        return "\t".join((
            str(pk), str(owner_id), bench.copy_text(name), id_kind_value, number, kind.value, industry,
            r"\N" if employees is None else str(employees), size and size.value, "t" if agri else "f",
        ))

    def _guarantee_lines(self, rng, today, firms, agreements, firm_of, offsets, ids, borrower_ids, segment_of,
                         compensation_lines, stats):
        """Yield the COPY lines of the guarantees; append their compensations' lines."""
        params = guarantee_params(today)
        today_ord, first_ord = today.toordinal(), (today - timedelta(days=SPAN_DAYS)).toordinal()
        iso: dict[int, str] = {}

        def day(ordinal):
            text = iso.get(ordinal)
            if text is None:
                text = iso[ordinal] = date.fromordinal(ordinal).isoformat()
            return text

        fee_verdicts: dict[tuple, tuple[bool, str]] = {}

        def fee_verdict(small_agri: bool, single: int, bp: int) -> tuple[bool, str]:
            """GU-5 through rules.check_fees, cached per (segment class, cap band, rate)."""
            key = (small_agri, single <= params.fee_cap_threshold, bp)
            if key not in fee_verdicts:
                problems = rules.check_fees(small_micro_or_agri=small_agri, single_borrower_amount=single,
                                            fee_rate=Decimal(bp).scaleb(-4), other_fees=0, params=params)
                fee_verdicts[key] = (not problems, bench.copy_text([p.as_dict() for p in problems]))
            return fee_verdicts[key]

        counters = [0] * len(firms)
        open_until: dict[int, tuple[int, int]] = {}  # borrower id -> (open until, amount) of its last guarantee
        for i, f in enumerate(firm_of):
            j = counters[f]
            counters[f] += 1
            n_b = len(borrower_ids[f])
            local = j if j < n_b else rng.randrange(n_b)
            borrower_id, small_agri = borrower_ids[f][local], SEGMENT_SMALL_AGRI[segment_of[f][local]]
            agreement_id, bank_id, split, grace, with_interest, shares_json = rng.choice(agreements[firms[f].pk])
            start = first_ord + offsets[i]
            end = start + rng.choice(TERMS) - 1
            u = rng.random()
            wan = rng.randint(10, 300) if u < 0.6 else rng.randint(300, 500) if u < 0.85 else rng.randint(500, 1200)
            amount = wan * 10_000
            principal = amount if rng.random() < 0.8 else amount * 5 // 4
            previous = open_until.get(borrower_id)
            single = amount + (previous[1] if previous and previous[0] > start else 0)  # 单户担保金额, approximately
            if small_agri:
                bp = rng.randrange(50, 101, 5) if rng.random() > 0.05 else rng.randrange(105, 181, 5)
            else:
                bp = rng.randrange(80, 181, 5)
            fee_ok, problems = fee_verdict(small_agri, single, bp)

            status, closed = S.ACTIVE, None
            if rng.random() < DEFAULT_RATE and start + 60 <= min(end, today_ord - 2):
                status, closed = self._compensation(rng, ids[i], amount, split, grace, with_interest, shares_json,
                                                    start, end, today_ord, day, compensation_lines, stats)
            elif end < today_ord:
                status, closed = S.RELEASED, end if rng.random() < 0.85 else rng.randint(start + 30, end)
            elif today_ord - start > 31 and rng.random() < 0.04:
                status, closed = S.RELEASED, rng.randint(start + 30, today_ord - 1)  # repaid early
            open_until[borrower_id] = (closed if closed is not None else end, amount)
            stats[status.value] += 1
            stats["small_agri"] += small_agri
            stats["fee_breach"] += not fee_ok
            yield "\t".join((
                str(ids[i]), str(firms[f].pk), str(bank_id), str(agreement_id), str(borrower_id),
                f"BENCH-{f + 1:03d}-{j + 1:07d}", str(principal), str(amount), day(start), day(end),
                day(start), day(end), f"0.{bp:04d}00", str(single), "t" if small_agri else "f",
                "t" if fee_ok else "f", problems, status.value, r"\N" if closed is None else day(closed),
                "t" if rng.random() < 0.6 else "f", "t" if rng.random() < 0.4 else "f",
                "t" if rng.random() < 0.3 else "f",
            ))

    @staticmethod
    def _compensation(rng, guarantee_id, amount, split, grace, with_interest, shares_json, start, end, today_ord,
                      day, lines, stats):
        """A default on the guarantee, its GU-3 parts (rules.allocate) and, mostly, the payment."""
        default_on = rng.randint(start + 60, min(end, today_ord - 2))
        due_on = default_on + grace
        principal = (Decimal(amount) * Decimal(rng.uniform(0.3, 1.0))).quantize(CENT)
        interest = (principal * Decimal("0.03")).quantize(CENT)
        base = principal + interest if with_interest else principal
        parts = rules.allocate(base, split)
        paid_amount = base - parts["bank"]
        pay_on = default_on + rng.randint(0, grace) if rng.random() < 0.85 else due_on + rng.randint(1, 90)
        paid_on = written_off_on = written_off_amount = None
        if pay_on < today_ord and rng.random() < 0.85:
            paid_on = pay_on
            r = rng.random()
            status = S.COMPENSATED if r < 0.45 else S.RECOVERING if r < 0.8 else S.RECOVERED if r < 0.9 else S.WRITTEN_OFF
            if status == S.WRITTEN_OFF:
                written_off_on = paid_on + rng.randint(180, 360)
                if written_off_on >= today_ord:
                    status, written_off_on = S.RECOVERING, None
                else:
                    written_off_amount = (paid_amount / 2).quantize(CENT)
        else:
            status = S.DEFAULTED
            stats["overdue"] += due_on < today_ord
        none = r"\N"
        lines.append("\t".join((
            str(guarantee_id), day(default_on), day(due_on), str(principal), str(interest), "0.00", str(base),
            shares_json, str(parts["bank"]), str(parts["guarantee_firm"]), str(parts["reguarantee"]),
            str(parts["national_fund"]), str(parts["government"]),
            none if paid_on is None else day(paid_on), none if paid_on is None else str(paid_amount),
            none if written_off_on is None else day(written_off_on),
            none if written_off_amount is None else str(written_off_amount),
        )))
        return status, paid_on

    def _net_assets(self, rng, data: BenchData, firms, today: date) -> None:
        """净资产 per firm per quarter end, sized so leverage (GU-8) lands between 3.5 and 8:
        the balances come from one GROUP BY, the reports through bulk_create."""
        ends, quarter = [], Quarter.of(today - timedelta(days=SPAN_DAYS))
        while quarter.end < today:
            ends.append(quarter.end)
            quarter = Quarter.of(quarter.end + timedelta(days=1))
        sums = {
            f"b{i}": Sum("amount", filter=Q(start__lte=end) & (Q(closed_on__isnull=True) | Q(closed_on__gt=end)))
            for i, end in enumerate(ends)
        }
        balances = {
            row["firm_id"]: row
            for row in Guarantee.objects.filter(firm__in=firms).order_by().values("firm_id").annotate(**sums)
        }
        rows = []
        for firm in firms:
            for i, end in enumerate(ends):
                balance = balances.get(firm.pk, {}).get(f"b{i}") or 0
                net = max(Decimal(30_000_000), Decimal(balance) / Decimal(rng.uniform(3.5, 8)))
                wan = (net / 10_000).quantize(Decimal(1))
                rows.append(FirmNetAssets(firm=firm, as_of=end, net_assets=wan * 10_000))
        started = time.perf_counter()
        FirmNetAssets.objects.bulk_create(rows, batch_size=5000)
        self._note(FirmNetAssets, len(rows), started)

    def _note(self, model, rows: int, started: float, note: str = "") -> None:
        seconds = max(time.perf_counter() - started, 1e-6)
        table = model._meta.db_table
        self._tables[table] = {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}
        extra = f", {note}" if note else ""
        self.stdout.write(f"  {table:<30} {rows:>10,} rows {seconds:7.1f} s {rows / seconds:>10,.0f} rows/s{extra}")

    def _vacuum_analyze(self) -> None:
        """Fresh statistics, and the visibility map set as on a long-lived table (index-only scans)."""
        started = time.perf_counter()
        connection = connections[DEFAULT_DB_ALIAS]
        tables = [m._meta.db_table for m in (Region, Organisation, User, Agreement, Borrower, Guarantee, Compensation,
                                              FirmNetAssets, FirmIndicatorSnapshot, JobRun)]
        with connection.cursor() as cursor:
            # Inside a caller's transaction (a test) VACUUM is not allowed; ANALYZE alone is.
            command = "ANALYZE " if connection.in_atomic_block else "VACUUM (ANALYZE) "
            cursor.execute(command + ", ".join(connection.ops.quote_name(t) for t in tables))
        self.stdout.write(f"VACUUM (ANALYZE) in {time.perf_counter() - started:.1f} s.")

    # --- measuring --------------------------------------------------------------------------

    def _measure(self, data: BenchData, repeat: int, shared: bool) -> list[Result]:
        today = shanghai_today()
        quarter = data.quarter
        authority, firm_user, firm = data.authority, data.firm_user, data.firm
        as_of = min(quarter.end, today)
        results: list[Result] = []

        def run(key, what, func, kind="read", **kwargs):
            result = Result(key, what, bench.measure(func, repeat=repeat if kind != "job" else kwargs["runs"],
                                                     warmup=kind != "job"), kind)
            m = result.measurement
            self.stdout.write(f"  {what:<64} {m.median_ms:9.1f} {m.p95_ms:9.1f} {m.query_count:>7}")
            results.append(result)

        def guarantee_page(user, status=None, sort=None):
            """What the list view does: its filter form, the scoped selector, page 1 and its count."""
            query = {key: value for key, value in (("status", status), ("sort", sort)) if value}

            def call():
                form = GuaranteeFilterForm(query or None, banks=selectors.banks_in_agreements(user=user))
                page = CappedPaginator(form.filter(selectors.guarantee_list(user=user)), PAGE_SIZE).get_page(1)
                return page.paginator.count, list(page.object_list)
            return call

        def overdue_page():
            queryset = selectors.overdue_compensations(user=authority, today=today).order_by("due_on", "-id")
            page = CappedPaginator(queryset, PAGE_SIZE).get_page(1)
            return page.paginator.count, list(page.object_list)

        firms = f"{data.firms} firms"
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        self.stdout.write(f"Measuring ({repeat} runs after a warm-up; quarter {quarter}, today {today}; "
                          f"load average {load} on {os.cpu_count()} CPUs):")
        self.stdout.write(f"  {'what':<64} {'median ms':>9} {'p95 ms':>9} {'queries':>7}")
        # DEBUG off, as in production: no query log kept, templates without debug information.
        # (WhiteNoise warns once that collectstatic has not run; the pages do not need it here.)
        open_quarter = Quarter.of(today)
        with override_settings(DEBUG=False), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
            # JB-5 first: the dashboard reads the closed quarter from its snapshots, and carries the
            # open quarter's balance from them.
            skip = self._jb5_skip_reason(shared, quarter)
            if skip:
                self.stdout.write(f"  (e) JB-5 not measured: {skip}")
            else:
                runs = min(3, repeat)
                run("e", f"(e) JB-5 snapshot {quarter} through job_run ({runs} run{'s' if runs > 1 else ''}, writes)",
                    lambda: self._jb5(quarter, authority), "job", runs=runs)
            run("a", f"(a) dashboard reads: indicator rows, {firms}, {quarter} (closed)",
                lambda: indicator_rows_for_user(user=authority, quarter=quarter))
            run("a2", f"(a) dashboard reads: indicator rows, {firms}, {open_quarter} (open)",
                lambda: indicator_rows_for_user(user=authority, quarter=open_quarter))
            run("b1", "(b) guarantee list, page 1, default order, authority", guarantee_page(authority))
            run("b2", f"(b) guarantee list, page 1, status={STATUS_FILTER.value}, authority",
                guarantee_page(authority, STATUS_FILTER))
            run("b3", "(b) guarantee list, page 1, default order, one firm", guarantee_page(firm_user))
            run("b4", f"(b) guarantee list, page 1, status={STATUS_FILTER.value}, one firm",
                guarantee_page(firm_user, STATUS_FILTER))
            run("b5", "(b) guarantee list, page 1, sorted by amount, authority",
                guarantee_page(authority, sort="-amount"))
            run("c", "(c) compensation list, overdue, page 1, authority", overdue_page)
            run("d", f"(d) bank_partner_rows, one firm, {quarter}",
                lambda: bank_partner_rows(firm=firm, period_start=quarter.start, period_end=quarter.end, today=as_of))
            client = bench.client_for(authority)
            try:
                dashboard_url = reverse("indicators:dashboard")
                list_url = reverse("guarantees:guarantee-list")
                compensations_url = reverse("guarantees:compensation-list")
                for key, q, state in (("f1", quarter, "closed"), ("f3", open_quarter, "open")):
                    run(key, f"(f) dashboard page (HTML), {q} ({state})",
                        lambda q=q: bench.get_ok(client, dashboard_url, {"year": q.year, "quarter": q.quarter}), "page")
                run("f2", "(f) guarantee list page (HTML), authority", lambda: bench.get_ok(client, list_url), "page")
                run("f4", "(f) overdue compensations page (HTML), authority",
                    lambda: bench.get_ok(client, compensations_url, {"state": "overdue"}), "page")
            finally:
                client.logout()
        return results

    @staticmethod
    def _jb5_skip_reason(shared: bool, quarter: Quarter) -> str | None:
        if shared:
            return "--force on a shared database (the job would snapshot every firm there)"
        if JobRun.objects.filter(job="JB-5", period=str(quarter)).exists():
            return f"this database already has a JB-5 run for {quarter}, which the benchmark must not replace"
        return None

    @staticmethod
    def _jb5(quarter: Quarter, user) -> None:
        run = job_run(job_id="JB-5", period=str(quarter), trigger=JobRun.Trigger.COMMAND, user=user)
        if run.state != JobRun.State.SUCCEEDED:
            raise CommandError(f"JB-5 {quarter} ended {run.state}: {run.error}")

    # --- reporting --------------------------------------------------------------------------

    def _explain(self, results: list[Result], lines: int) -> list[dict]:
        """EXPLAIN (ANALYZE, BUFFERS) of the slowest query of the two slowest reads."""
        plans, seen = [], set()
        for result in sorted((r for r in results if r.kind != "job"), key=lambda r: -r.measurement.median_ms):
            query = result.measurement.slowest_select()
            if query is None or query.sql in seen:
                continue
            seen.add(query.sql)
            plan = bench.explain_sql(query.sql)
            plans.append({"key": result.key, "what": result.what, "query_ms": round(query.ms, 2), "sql": query.sql,
                          "plan": plan})
            shown = query.sql if len(query.sql) <= 600 else query.sql[:600] + " …"
            self.stdout.write(f"\nEXPLAIN (ANALYZE, BUFFERS) of the slowest query of “{result.what}” "
                              f"({query.ms:.1f} ms in the warm-up):\n  {shown}")
            for line in plan[:lines]:
                self.stdout.write(f"    {line}")
            if len(plan) > lines:
                self.stdout.write(f"    … ({len(plan) - lines} more lines)")
            if len(plans) == 2:
                break
        return plans

    def _write_json(self, path, data: BenchData, results, plans, options, shared) -> None:
        if not path:
            return
        connection = connections[DEFAULT_DB_ALIAS]
        payload = {
            "database": connection.settings_dict["NAME"],
            "server_version": connection.pg_version,
            "at": timezone.now().isoformat(),
            "parameters": {k: options[k] for k in ("guarantees", "firms", "banks", "repeat", "seed")},
            "shared_database": shared,
            "load_average": os.getloadavg(),
            "cpus": os.cpu_count(),
            "quarter": str(data.quarter),
            "data": data.counts,
            "generation": {"seconds": round(data.seconds, 2), "tables": data.tables},
            "results": [r.as_dict() for r in results],
            "explain": plans,
        }
        with open(path, "w", encoding="utf-8") as out:
            json.dump(payload, out, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder)
        self.stdout.write(f"Wrote {path}.")


BORROWER_COLUMNS = ["id", "owner", "name", "id_kind", "id_number", "kind", "industry", "employees", "size_derived",
                    "is_agricultural"]
GUARANTEE_COLUMNS = [
    "id", "firm", "bank", "agreement", "borrower", "contract_no", "loan_principal", "amount", "loan_start",
    "loan_maturity", "start", "end", "fee_rate", "single_borrower_amount", "small_micro_or_agri", "fee_compliant",
    "problems", "status", "closed_on", "reguaranteed", "national_fund_scope", "recommended_by_bank",
]
COMPENSATION_COLUMNS = [
    "guarantee", "default_on", "due_on", "principal", "interest", "penalty_interest", "base", "shares", "part_bank",
    "part_firm", "part_reguarantee", "part_national_fund", "part_government", "paid_on", "paid_amount",
    "written_off_on", "written_off_amount",
]
