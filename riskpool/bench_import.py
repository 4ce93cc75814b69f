"""The loan-project bulk upload against its anchors (issue 12), for ``make bench``:

    from riskpool.bench_import import bench_import
    figures = bench_import(100_000, stdout=sys.stdout)

Self-contained: it makes its own bank, pool and operator (kept, named ``bench-import``), builds
a file of ``rows`` loans as a bank fills in the template (csv, and xlsx unless ``xlsx=False``),
and times, each inside a transaction that is rolled back, so the database is left as it was:

- ``ours``: ``riskpool.imports.import_content`` on the csv and on the xlsx (read, check every
  row, write the borrowers, the loans and their audit rows), in a forked child process whose
  peak resident memory (``ru_maxrss``) is the figure ``peak_mb``;
- ``copy``: COPY (psycopg2 ``copy_expert``) of the same rows: the borrowers, the loans and the
  audit rows, already formatted (the floor any importer of these rows sits on);
- ``django-import-export``: its ``ModelResource.import_data`` of the same borrowers and loans,
  on ``anchor_rows`` rows (it takes minutes per 10,000), scaled linearly to ``rows``.

Targets (issue 12): ours ≥ 10× faster than django-import-export, ≤ 5× COPY, peak ≤ 300 MB.
"""
from __future__ import annotations

import csv
import io
import json
import multiprocessing
import resource
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection, connections, transaction
from django.utils import timezone

TARGETS = {"vs_import_export": 10.0, "vs_copy": 5.0, "peak_mb": 300.0}
HEADERS = ["借款人名称", "证件类型", "证件号码", "借款人类型", "行业", "从业人员(人)", "营业收入(元)", "资产总额(元)",
           "借据号", "贷款类型", "贷款本金", "币种", "借据日期", "到期日", "年利率(%)", "其他流动资金贷款余额(元)",
           "担保方式", "贷款特征", "贷款用途", "是否有保险、担保或其他补偿"]


def bench_world():
    """The bench's bank, its operator and a Scheme S pool it is a member of (created once, kept)."""
    from core.models import Organisation, Region, Role, User
    from riskpool.models import Member, Pool

    region = Region.objects.order_by("pk").first() or Region.objects.create(code="BENCHIMP", name="基准", level="city")

    def organisation(name, kind, code):
        from core.validators import credit_code_check_character

        first17 = f"91440300BENCH{code:04d}"
        return Organisation.objects.get_or_create(name=name, kind=kind, defaults={
            "region": region, "credit_code": first17 + credit_code_check_character(first17)})[0]

    authority = organisation("bench-import 主管部门", Organisation.Kind.AUTHORITY, 1)
    bank = organisation("bench-import 银行", Organisation.Kind.BANK, 2)
    user, created = User.objects.get_or_create(username="bench-import", defaults={"organisation": bank})
    if created:
        user.set_unusable_password()
        user.save()
        user.roles.set(Role.objects.filter(code="bank_operator"))
    pool = Pool.objects.get_or_create(name="bench-import 资金池", defaults={
        "scheme": "S", "size": Decimal("5000000000.00"), "authority": authority})[0]
    Member.objects.get_or_create(pool=pool, organisation=bank, defaults={"joined_on": date(2020, 1, 1)})
    return user, bank, pool


def credit_code(n: int) -> str:
    from core.validators import CREDIT_CODE_ALPHABET, credit_code_check_character

    body = "91" + "440300" + "".join(CREDIT_CODE_ALPHABET[(n // 31**i) % 31] for i in range(9))
    return body + credit_code_check_character(body)


def loan_rows(rows: int, today: date) -> list[list]:
    """``rows`` loans as the template's cells: a new borrower every second row, disbursed within
    the current RP-6 window."""
    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    disbursed = max(today - timedelta(days=2), quarter_start)
    maturity = disbursed + timedelta(days=364)
    out = []
    for n in range(rows):
        b = n // 2
        out.append([
            f"基准导入企业{b}有限公司", "统一社会信用代码", credit_code(b), "企业", "软件和信息技术服务业", 45,
            "8000000.00", "12000000.00", f"BENCH-IMP-{n:07d}", "企业贷款", f"{1000000 + n % 1000 * 1000}.00", "CNY",
            disbursed.isoformat(), maturity.isoformat(), "4.2", "1500000.00", "信用", "纯信用、首笔贷款", "生产经营", "否",
        ])
    return out


def csv_content(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_content(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rolled_back(func):
    with transaction.atomic():
        result = func()
        transaction.set_rollback(True)
    return result


def _count_queries(func):
    """``func()`` and how many statements it sent (a wrapper that counts; nothing is kept)."""
    count = [0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        result = func()
    return result, count[0]


def _ours_in_child(content: bytes, pipe) -> None:
    from riskpool.imports import import_content  # imported by the parent already (time_ours)

    user, _bank, pool = bench_world()
    started = time.perf_counter()
    saved, queries = _count_queries(lambda: _rolled_back(lambda: import_content(user=user, pool=pool, content=content)))
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    connections.close_all()
    pipe.send({"seconds": seconds, "saved": saved, "queries": queries, "peak_mb": peak_kb / 1024})
    pipe.close()


def time_ours(content: bytes) -> dict:
    """Our importer in a forked child: its own peak memory, not the bench's (which holds the
    rows it generated). The parent's connections are closed first so the child opens its own."""
    import riskpool.imports  # noqa: F401  (loaded once, before the fork: not timed)

    connections.close_all()
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_ours_in_child, args=(content, send))
    child.start()
    send.close()
    result = receive.recv()
    child.join()
    return result


# --- COPY ---------------------------------------------------------------------------------


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, (date, datetime)):
        value = value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy(model, columns: list[str], lines) -> None:
    payload = io.StringIO("".join(lines))
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f'COPY {model._meta.db_table} ({", ".join(columns)}) FROM STDIN', payload)


def _columns(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def time_copy(rows: list[list], user, bank, pool) -> dict:
    """COPY of the rows the import writes: borrowers, loans and one audit row each, formatted
    beforehand; timed: the three COPYs and the two id look-ups between them."""
    from core.models import AuditEvent
    from guarantees.models import Borrower
    from riskpool.models import LoanProject

    now = timezone.now()
    borrowers = {}
    for row in rows:
        borrowers.setdefault(row[2], Borrower(owner=bank, name=row[0], id_kind="credit_code", id_number=row[2],
                                              kind="enterprise", industry="software_it", employees=45,
                                              revenue=Decimal(row[6]), total_assets=Decimal(row[7]), size_derived="small",
                                              created_at=now))
    b_fields = _columns(Borrower)
    b_lines = ["\t".join(_copy_value(getattr(b, f.attname)) for f in b_fields) + "\n" for b in borrowers.values()]
    p_fields = _columns(LoanProject)
    projects = []
    for row in rows:
        projects.append(LoanProject(
            pool=pool, bank=bank, loan_no=row[8], loan_kind="enterprise", principal=Decimal(row[10]), currency="CNY",
            principal_yuan=Decimal(row[10]), fx_kind="cny", disbursed_on=date.fromisoformat(row[12]),
            maturity_on=date.fromisoformat(row[13]), annual_rate=Decimal("0.042000"), guarantee_method="credit",
            other_balance=Decimal(row[15]), features=["pure_credit", "first_loan"], purpose="operations",
            covered_by_other_scheme=False, entered_on=now.date(), classified_on=now.date(), created_by=user,
            created_at=now))
    a_fields = [f.attname for f in _columns(AuditEvent)]
    audit_template = {"at": now, "actor_id": user.pk, "actor_label": user.username, "organisation_id": bank.pk,
                      "action": "create", "before": None}

    def audit_lines(kind, pairs):
        for pk, summary, after in pairs:
            values = {**audit_template, "object_type": kind, "object_id": str(pk), "summary": summary, "after": after}
            yield "\t".join(_copy_value(values[name]) for name in a_fields) + "\n"

    def run():
        _copy(Borrower, [f.column for f in b_fields], b_lines)
        ids = dict(Borrower.objects.filter(owner=bank, id_number__in=list(borrowers)).values_list("id_number", "pk"))
        lines = []
        for project, row in zip(projects, rows, strict=True):
            project.borrower_id = ids[row[2]]
            lines.append("\t".join(_copy_value(getattr(project, f.attname)) for f in p_fields) + "\n")
        _copy(LoanProject, [f.column for f in p_fields], lines)
        loan_ids = dict(LoanProject.objects.filter(bank=bank, loan_no__startswith="BENCH-IMP-").values_list("loan_no", "pk"))
        _copy(AuditEvent, [AuditEvent._meta.get_field(n).column for n in a_fields], audit_lines(
            "guarantees.borrower", ((ids[code], b.name, {"name": b.name}) for code, b in borrowers.items())))
        _copy(AuditEvent, [AuditEvent._meta.get_field(n).column for n in a_fields], audit_lines(
            "riskpool.loanproject", ((loan_ids[p.loan_no], f"loan project {p.loan_no}", {"loan_no": p.loan_no})
                                     for p in projects)))
        return len(loan_ids)

    started = time.perf_counter()
    saved = _rolled_back(run)
    return {"seconds": time.perf_counter() - started, "saved": saved}


# --- django-import-export -----------------------------------------------------------------


def time_import_export(rows: list[list], user, bank, pool) -> dict:
    """django-import-export's usual ModelResource import of the same borrowers and loans."""
    import tablib
    from import_export import fields, resources, widgets

    from guarantees.models import Borrower
    from riskpool.models import LoanProject

    class BorrowerResource(resources.ModelResource):
        class Meta:
            model = Borrower
            fields = ("name", "id_kind", "id_number", "kind", "industry", "employees", "revenue", "total_assets")
            import_id_fields = ("id_number",)

        def before_save_instance(self, instance, row, **kwargs):
            instance.owner = bank

    class ProjectResource(resources.ModelResource):
        borrower = fields.Field(attribute="borrower", column_name="borrower",
                                widget=widgets.ForeignKeyWidget(Borrower, field="id_number"))

        class Meta:
            model = LoanProject
            fields = ("borrower", "loan_no", "loan_kind", "principal", "currency", "disbursed_on", "maturity_on",
                      "annual_rate", "guarantee_method", "other_balance", "purpose")
            import_id_fields = ("loan_no",)

        def before_save_instance(self, instance, row, **kwargs):
            instance.pool, instance.bank, instance.created_by = pool, bank, user
            instance.principal_yuan, instance.fx_kind = instance.principal, "cny"
            instance.entered_on = instance.classified_on = timezone.localdate()

    borrowers = tablib.Dataset(headers=list(BorrowerResource.Meta.fields))
    seen = set()
    for row in rows:
        if row[2] not in seen:
            seen.add(row[2])
            borrowers.append([row[0], "credit_code", row[2], "enterprise", "software_it", row[5], row[6], row[7]])
    projects = tablib.Dataset(headers=list(ProjectResource.Meta.fields))
    for row in rows:
        projects.append([row[2], row[8], "enterprise", row[10], "CNY", row[12], row[13], "0.042", "credit", row[15],
                         "operations"])

    def run():
        for resource_class, data in ((BorrowerResource, borrowers), (ProjectResource, projects)):
            result = resource_class().import_data(data, dry_run=False, raise_errors=True, use_transactions=False)
            assert not result.has_errors()
        return len(rows)

    started = time.perf_counter()
    saved = _rolled_back(run)
    return {"seconds": time.perf_counter() - started, "saved": saved}


# --- the whole bench ----------------------------------------------------------------------


def bench_import(rows: int = 100_000, *, anchor_rows: int = 2_000, xlsx: bool = True, stdout=None) -> dict:
    """Time the upload of ``rows`` loans against COPY and django-import-export; the figures and
    whether each target is met. ``stdout`` gets a table."""
    from core.calendar import shanghai_today

    user, bank, pool = bench_world()
    data = loan_rows(rows, shanghai_today())
    figures: dict = {"rows": rows}
    figures["ours_csv"] = time_ours(csv_content(data))
    if xlsx:
        figures["ours_xlsx"] = time_ours(xlsx_content(data))
    figures["copy"] = time_copy(data, user, bank, pool)
    sample = data[:anchor_rows]
    measured = time_import_export(sample, user, bank, pool)
    figures["import_export"] = {**measured, "sample_rows": len(sample),
                                "seconds": measured["seconds"] * rows / max(len(sample), 1)}
    ours = max(figures["ours_csv"]["seconds"], figures.get("ours_xlsx", {}).get("seconds", 0))
    figures["ratios"] = {
        "vs_import_export": figures["import_export"]["seconds"] / ours,
        "vs_copy": ours / figures["copy"]["seconds"],
        "peak_mb": max(figures["ours_csv"]["peak_mb"], figures.get("ours_xlsx", {}).get("peak_mb", 0)),
    }
    figures["met"] = {
        "vs_import_export": figures["ratios"]["vs_import_export"] >= TARGETS["vs_import_export"],
        "vs_copy": figures["ratios"]["vs_copy"] <= TARGETS["vs_copy"],
        "peak_mb": figures["ratios"]["peak_mb"] <= TARGETS["peak_mb"],
    }
    if stdout is not None:
        stdout.write(report(figures, "loan-project import"))
    return figures


def report(figures: dict, what: str) -> str:
    rows = figures["rows"]
    lines = [f"{what}, {rows:,} rows"]
    for key, label in (("ours_csv", "ours, csv"), ("ours_xlsx", "ours, xlsx"), ("copy", "COPY (anchor)"),
                       ("import_export", "django-import-export (anchor)")):
        if key in figures:
            item = figures[key]
            extra = f"  peak {item['peak_mb']:.0f} MB, {item['queries']} queries" if "peak_mb" in item else ""
            if "sample_rows" in item:
                extra = f"  (measured on {item['sample_rows']:,} rows, scaled)"
            lines.append(f"  {label:<32} {item['seconds']:>9.1f} s{extra}")
    r, met = figures["ratios"], figures["met"]
    lines.append(f"  vs django-import-export  {r['vs_import_export']:.1f}× faster "
                 f"(target ≥ {TARGETS['vs_import_export']:g}×) {'ok' if met['vs_import_export'] else 'MISSED'}")
    lines.append(f"  vs COPY                  {r['vs_copy']:.1f}× slower (target ≤ {TARGETS['vs_copy']:g}×) "
                 f"{'ok' if met['vs_copy'] else 'MISSED'}")
    lines.append(f"  peak memory              {r['peak_mb']:.0f} MB (target ≤ {TARGETS['peak_mb']:g} MB) "
                 f"{'ok' if met['peak_mb'] else 'MISSED'}")
    return "\n".join(lines) + "\n"
