"""The loan-project bulk upload against its anchors (issue 12), for ``make bench``:

    from riskpool.bench_import import bench_import
    figures = bench_import(100_000, stdout=sys.stdout)

Self-contained: it makes its own bank, pool and operator (kept, named ``bench-import``), builds
a file of ``rows`` loans as a bank fills in the template (csv, and xlsx unless ``xlsx=False``),
and times, each inside a transaction that is rolled back, so the database is left as it was:

- ``ours``: ``riskpool.imports.import_content`` on the csv and on the xlsx (read, check every
  row, write the borrowers, the loans and their audit rows), in a fresh Python process whose
  peak resident memory (``ru_maxrss``: Django, the file and the import) is ``peak_mb``;
- ``copy``: COPY (psycopg2 ``copy_expert``) of the same rows: the borrowers, the loans and the
  audit rows, already formatted (the floor any importer of these rows sits on);
- ``django-import-export``: its ``ModelResource.import_data`` of the same borrowers and loans,
  on ``anchor_rows`` rows (it takes minutes per 10,000), scaled linearly to ``rows``.

Targets (issue 12): ours ≥ 10× faster than django-import-export, ≤ 5× COPY, peak ≤ 300 MB.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from core import bench_import as bench
from core import i18n_text
from guarantees.bench_import import BorrowerCells
from riskpool.services.projects import LOAN_PROJECT_SUMMARY

HEADERS = ["借款人名称", "证件类型", "证件号码", "借款人类型", "行业", "从业人员(人)", "营业收入(元)", "资产总额(元)",
           "借据号", "贷款类型", "贷款本金", "币种", "借据日期", "到期日", "年利率(%)", "其他流动资金贷款余额(元)",
           "担保方式", "贷款特征", "贷款用途", "是否有保险、担保或其他补偿"]


BORROWER = BorrowerCells(name=0, code=2, employees=5, revenue=6, assets=7, industry="software_it")


def bench_world():
    """The bench's bank, its operator and a Scheme S pool it is a member of (created once, kept)."""
    from core.models import Organisation
    from riskpool.models import Member, Pool

    authority = bench.bench_organisation("bench-import 主管部门", Organisation.Kind.AUTHORITY, 1)
    bank = bench.bench_organisation("bench-import 银行", Organisation.Kind.BANK, 2)
    user = bench.bench_user("bench-import", bank, "bank_operator")
    pool = Pool.objects.get_or_create(name="bench-import 资金池", defaults={
        "scheme": "S", "size": Decimal("5000000000.00"), "authority": authority})[0]
    Member.objects.get_or_create(pool=pool, organisation=bank, defaults={"joined_on": date(2020, 1, 1)})
    return user, bank, pool


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
            f"基准导入企业{b}有限公司", "统一社会信用代码", bench.credit_code(b), "企业", "软件和信息技术服务业", 45,
            "8000000.00", "12000000.00", f"BENCH-IMP-{n:07d}", "企业贷款", f"{1000000 + n % 1000 * 1000}.00", "CNY",
            disbursed.isoformat(), maturity.isoformat(), "4.2", "1500000.00", "信用", "纯信用、首笔贷款", "生产经营", "否",
        ])
    return out


def import_for_bench(content: bytes) -> int:
    """The bench's upload of ``content`` as its bank (what ``time_ours`` runs in a fresh process)."""
    from riskpool.imports import import_content

    user, _bank, pool = bench_world()
    return import_content(user=user, pool=pool, content=content)


def time_ours(content: bytes) -> dict:
    return bench.time_in_child("riskpool.bench_import.import_for_bench", content)


def time_copy(rows: list[list], user, bank, pool) -> dict:
    """COPY of the rows the import writes: borrowers, loans and one audit row each, formatted
    beforehand; timed: the three COPYs and the two id look-ups between them."""
    from core.models import AuditEvent
    from riskpool.models import LoanProject

    now = timezone.now()
    write_borrowers = BORROWER.copy(rows, owner=bank, user=user, now=now)
    p_fields = bench.columns_of(LoanProject)
    projects = []
    for row in rows:
        projects.append(LoanProject(
            pool=pool, bank=bank, loan_no=row[8], loan_kind="enterprise", principal=Decimal(row[10]), currency="CNY",
            principal_yuan=Decimal(row[10]), fx_kind="cny", disbursed_on=date.fromisoformat(row[12]),
            maturity_on=date.fromisoformat(row[13]), annual_rate=Decimal("0.042000"), guarantee_method="credit",
            other_balance=Decimal(row[15]), features=["pure_credit", "first_loan"], purpose="operations",
            covered_by_other_scheme=False, entered_on=now.date(), classified_on=now.date(), created_by=user,
            created_at=now))
    def run():
        ids = write_borrowers()
        for project, row in zip(projects, rows, strict=True):
            project.borrower_id = ids[row[2]]
        bench.copy(LoanProject, [f.column for f in p_fields], bench.copy_lines(projects, p_fields))
        loan_ids = dict(LoanProject.objects.filter(bank=bank, loan_no__startswith="BENCH-IMP-").values_list("loan_no", "pk"))
        audit = {"actor": user, "organisation": bank, "at": now}
        bench.copy(AuditEvent, bench.audit_columns(), bench.audit_copy_lines(
            kind="riskpool.loanproject",
            items=((loan_ids[p.loan_no], i18n_text.dumps_with(LOAN_PROJECT_SUMMARY, {"loan": p.loan_no}), {"loan_no": p.loan_no}) for p in projects),
            **audit))
        return len(loan_ids)

    return bench.timed(run)


# --- django-import-export -----------------------------------------------------------------


def time_import_export(rows: list[list], user, bank, pool) -> dict:
    """django-import-export's usual ModelResource import of the same borrowers and loans."""
    import tablib
    from import_export import resources

    from riskpool.models import LoanProject

    BorrowerResource, borrowers = BORROWER.import_export(rows, bank)

    class ProjectResource(resources.ModelResource):
        borrower = BorrowerCells.borrower_field(bank)

        class Meta:
            model = LoanProject
            fields = ("borrower", "loan_no", "loan_kind", "principal", "currency", "disbursed_on", "maturity_on",
                      "annual_rate", "guarantee_method", "other_balance", "purpose")
            import_id_fields = ("loan_no",)

        def get_queryset(self):
            return LoanProject.objects.filter(bank=bank)  # (bank, loan_no) is the unique index

        def before_save_instance(self, instance, row, **kwargs):
            instance.pool, instance.bank, instance.created_by = pool, bank, user
            instance.principal_yuan, instance.fx_kind = instance.principal, "cny"
            instance.entered_on = instance.classified_on = timezone.localdate()

    projects = tablib.Dataset(headers=list(ProjectResource.Meta.fields))
    for row in rows:
        projects.append([row[2], row[8], "enterprise", row[10], "CNY", row[12], row[13], "0.042", "credit", row[15],
                         "operations"])

    return bench.time_resources([(BorrowerResource, borrowers), (ProjectResource, projects)], len(rows))


# --- the whole bench ----------------------------------------------------------------------


def bench_import(rows: int = 100_000, *, anchor_rows: int = 2_000, xlsx: bool = True, stdout=None,
                 repeat: int = 1) -> dict:
    """Time the upload of ``rows`` loans against COPY and django-import-export; the figures, the
    ratios and whether each target is met. ``stdout`` gets a table."""
    from core.calendar import shanghai_today

    user, bank, pool = bench_world()
    return bench.run_bench(
        rows, loan_rows(rows, shanghai_today()), HEADERS, what="loan-project import", ours=time_ours,
        copy=lambda data: time_copy(data, user, bank, pool),
        import_export=lambda data: time_import_export(data, user, bank, pool),
        anchor_rows=anchor_rows, xlsx=xlsx, stdout=stdout, repeat=repeat)
