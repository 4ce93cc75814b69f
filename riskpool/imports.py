"""Bulk upload of loan projects (贷款项目批量入库) from an .xlsx or .csv file.

It follows the guarantees import (``guarantees.imports``) and reuses its file handling: the file
is identified by its content (an xlsx is a zip starting with ``PK``; a csv is UTF-8 text, with or
without BOM, or GB18030), capped in size (``BULK_UPLOAD_MAX_BYTES``) and rows
(``BULK_UPLOAD_MAX_ROWS``), streamed (calamine-plus for xlsx, the csv module for csv) and its cells
read by the same parsers. Each row becomes a ``{"row", "borrower", "data"}`` dict which
``ProjectImporter`` checks and enters set-based, chunk by chunk (``core.bulk_import``), all rows
or none, with the checks of the single entry (``riskpool.entry``: RP-3 … RP-7, RP-21, RP-22,
RP-M3, the borrower's identity). The REST bulk endpoint (``services.project_bulk_register``)
enters its JSON rows through the same importer.

Row numbers are the spreadsheet's (the header is row 1); an error's column is the header text of
the file. Headers are accepted in Chinese (``借据号``, as in the template) or as the English field
key (``loan_no``). The entry date is the day of the upload (RP-6 cannot be dodged by a column).
"""
from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, timedelta

from django.db import IntegrityError, transaction

from core import i18n_text, upload_limits
from core.bulk import BulkRejected, RowError
from core.bulk_import import audit_rows, copy_insert, problems_as_errors
from core.calendar import shanghai_today
from core.models import AuditEvent
from core.upload_tables import cell_text
from guarantees import imports as base
from guarantees import rules as guarantee_rules
from guarantees.imports import (
    INDUSTRY_ALIASES,
    SIZE_ALIASES,
    XLSX_CONTENT_TYPE,
    Cell,
    Column,
    ImportRefused,
    ParsedFile,
    Table,
    choice_parser,
    megabytes,
    parse_bool,
    parse_currency,
    parse_date,
    parse_fraction,
    parse_identifier,
    parse_int,
    parse_money,
    parse_percent,
    parse_text,
)
from guarantees.models import Borrower
from guarantees.services import borrowers_upsert
from riskpool import entry, rules, services
from riskpool.models import LoanProject, Pool
from riskpool.services import ProjectData
from riskpool.services.projects import LOAN_PROJECT_SUMMARY

__all__ = ["XLSX_CONTENT_TYPE", "ImportRefused", "import_content", "import_projects", "megabytes", "read_upload",
           "template_workbook"]

LP = LoanProject

ID_KIND_ALIASES = base.ID_KIND_ALIASES
BORROWER_KIND_ALIASES = base.KIND_ALIASES
LOAN_KIND_ALIASES = {
    "enterprise": ("企业贷款", "中小微企业贷款", "企业"),
    "owner": ("小微企业主贷款", "小微企业主"),
    "individual_business": ("个体工商户贷款", "个体工商户"),
}
PURPOSE_ALIASES = {
    "operations": ("生产经营", "经营", "经营周转", "流动资金"),
    "relending": ("转贷",),
    "entrusted": ("委托贷款",),
    "m_and_a": ("并购贷款", "并购"),
    "prohibited": ("禁止或限制类项目", "限制类项目"),
    "private_lending": ("民间借贷",),
    "capital_market": ("资本市场投资", "股票投资"),
    "consumption": ("个人消费", "消费"),
}
# 担保方式: free text in the model; the template offers these (demo data uses the same codes).
GUARANTEE_METHODS = [("credit", "credit"), ("guarantee", "guarantee"), ("co_borrower", "co_borrower"),
                     ("mortgage", "mortgage"), ("pledge", "pledge")]
GUARANTEE_METHOD_ALIASES = {
    "credit": ("信用", "纯信用"),
    "guarantee": ("保证", "担保"),
    "co_borrower": ("共同借款人", "共同借款"),
    "mortgage": ("抵押", "不动产抵押", "动产抵押"),
    "pledge": ("质押", "权利质押", "动产质押"),
}
FEATURE_ALIASES = {
    "first_loan": ("首笔贷款", "首贷"),
    "gov_procurement": ("政府采购订单融资", "政采贷"),
    "renewal_without_repayment": ("无还本续贷",),
    "green": ("绿色信贷", "绿色贷款"),
    "pure_credit": ("纯信用",),
    "ip_pledge": ("知识产权质押",),
    "receivables_pledge": ("应收账款质押",),
    "inventory_pledge": ("存货质押",),
}
_feature_choice = choice_parser([(code, code) for code in rules.FEATURE_LABELS], FEATURE_ALIASES)


def parse_features(cell: Cell) -> list[str]:
    """RP-10 features, several in one cell separated by 、 , ; / or spaces."""
    codes: list[str] = []
    for part in re.split(r"[、,，;；/\s]+", cell_text(cell)):
        if part:
            code = _feature_choice(Cell(part))
            if code not in codes:
                codes.append(code)
    return codes


COLUMNS: tuple[Column, ...] = (
    Column("borrower_name", "借款人名称", "borrower.name", parse_text, True),
    Column("id_kind", "证件类型", "borrower.id_kind", choice_parser(Borrower.IdKind.choices, ID_KIND_ALIASES), True,
           "统一社会信用代码 / 身份证"),
    Column("id_number", "证件号码", "borrower.id_number", parse_identifier, True, "18位，请以文本格式填写"),
    Column("borrower_kind", "借款人类型", "borrower.kind", choice_parser(Borrower.Kind.choices, BORROWER_KIND_ALIASES),
           True, "企业 / 小微企业主 / 个体工商户"),
    Column("industry", "行业", "borrower.industry", choice_parser(guarantee_rules.INDUSTRIES, INDUSTRY_ALIASES),
           note="、".join(name for _code, name in guarantee_rules.INDUSTRIES)),
    Column("employees", "从业人员(人)", "borrower.employees", parse_int),
    Column("revenue", "营业收入(元)", "borrower.revenue", parse_money),
    Column("total_assets", "资产总额(元)", "borrower.total_assets", parse_money),
    Column("size_entered", "企业规模(填报)", "borrower.size_entered", choice_parser(Borrower.Size.choices, SIZE_ALIASES),
           note="大型 / 中型 / 小型 / 微型；企业借款人须填行业与指标，或填规模及依据"),
    Column("size_evidence", "企业规模依据", "borrower.size_evidence", parse_text, note="填报规模时必填"),
    Column("loan_no", "借据号", "loan_no", parse_text, True, "本行内唯一"),
    Column("loan_kind", "贷款类型", "loan_kind", choice_parser(LP.LoanKind.choices, LOAN_KIND_ALIASES), True,
           "企业贷款 / 小微企业主贷款 / 个体工商户贷款 (RP-3)"),
    Column("principal", "贷款本金", "principal", parse_money, True, "按币种填写；外币按借据日中间价折算 (RP-5)"),
    Column("currency", "币种", "currency", parse_currency, note="留空为 CNY"),
    Column("disbursed_on", "借据日期", "disbursed_on", parse_date, True,
           "2025-03-01；须在下一季度第15个工作日前入库 (RP-6)"),
    Column("maturity_on", "到期日", "maturity_on", parse_date, True),
    Column("annual_rate_percent", "年利率(%)", "annual_rate", parse_percent, True, "百分数：4.2 表示 4.2% (RP-7)"),
    Column("other_balance", "其他流动资金贷款余额(元)", "other_balance", parse_money, True,
           "放款时借款人在各银行的其他流动资金贷款余额，不含本笔 (RP-4)"),
    Column("guarantee_method", "担保方式", "guarantee_method",
           choice_parser(GUARANTEE_METHODS, GUARANTEE_METHOD_ALIASES), note="信用 / 保证 / 共同借款人 / 抵押 / 质押；留空为 信用"),
    Column("features", "贷款特征", "features", parse_features,
           note="可多选，以“、”分隔：" + "、".join(a[0] for a in FEATURE_ALIASES.values()) + " (RP-10)"),
    Column("purpose", "贷款用途", "purpose", choice_parser(LP.Purpose.choices, PURPOSE_ALIASES),
           note="生产经营 / 转贷 / 委托贷款 / 并购贷款 / …；留空为 生产经营 (RP-7)"),
    Column("covered_by_other_scheme", "是否有保险、担保或其他补偿", "covered_by_other_scheme", parse_bool,
           note="是 / 否 (RP-7)"),
    Column("product", "政策性贷款产品", "product_ref", parse_text,
           note="科信贷、出口贷、税源贷、固定资产投资贷，或产品代码；不属于则留空 (RP-M3)"),
)
# Accepted instead of 年利率(%): the rate as a fraction, as the API takes it (0.042).
RATE_FRACTION = Column("annual_rate", "年利率(小数)", "annual_rate", parse_fraction, True,
                       note="可代替 年利率(%)，二者填其一：0.042 表示 4.2%")
ALL_COLUMNS = (*COLUMNS, RATE_FRACTION)
TEMPLATE_HEADERS = [c.header for c in COLUMNS]


# Common alternative names of the loan-note columns.
_ALIASES = (("放款日期", "disbursed_on"), ("借据编号", "loan_no"), ("贷款到期日", "maturity_on"), ("借款人", "borrower_name"))
HEADER_LOOKUP = base.header_lookup(ALL_COLUMNS, [(alias, next(c for c in COLUMNS if c.key == key))
                                                 for alias, key in _ALIASES])


def parse_rows(table: Table) -> ParsedFile:
    """The file's rows as the importer's ``{"row", "borrower", "data"}`` dicts, each unreadable
    cell a RowError (``{"row", "errors"}``); ``rows`` is a one-pass iterator when the table
    streams. A file without a data row is refused when the iterator ends."""
    positions, seen = base.map_header(table.header, COLUMNS, HEADER_LOOKUP)
    parsed = ParsedFile(rows=[], headers=seen, order={text: i for i, text in enumerate(table.header)})
    parsed.rows = _parsed_rows(table, positions)
    return parsed


def _parsed_rows(table: Table, positions):
    for number, values, errors in base.read_rows(table, positions, empty=i18n_text.gettext_lazy("The file has a header row but no loans.")):
        if errors:
            yield {"row": number, "errors": errors}
            continue
        borrower, data = base.borrower_and_rest(values)
        yield {"row": number, "borrower": borrower, "data": ProjectData(**data)}


def parse_table(table: Table) -> ParsedFile:
    """``parse_rows`` with the rows as a list (small files, the tests)."""
    parsed = parse_rows(table)
    parsed.rows = list(parsed.rows)
    return parsed


def read_upload(upload) -> ParsedFile:
    """The uploaded file checked (size, content), read and parsed; ImportRefused when the file as
    a whole cannot be used (too large, not xlsx/csv, no header, too many rows)."""
    return base.read_upload(upload, parse_table)


def _column_for(parsed: ParsedFile, name: str | None) -> str | None:
    """The file's header for an error's field (``borrower.id_number`` → 证件号码, ``entered_on``
    → the disbursement date's column, which decides the RP-6 window)."""
    if not name:
        return None
    if name in parsed.headers:
        return parsed.headers[name]
    if f"borrower.{name}" in parsed.headers:
        return parsed.headers[f"borrower.{name}"]
    if name == "entered_on":
        return parsed.headers.get("disbursed_on", name)
    return name


def import_content(*, user, pool: Pool, content: bytes, confirmed_renames: Collection[str] = (),
                   progress=None, deadline=None) -> int:
    """Enter every loan of the file ``content`` (already past ``core.upload_limits``) in ``pool``
    for the user's bank, or none; how many were entered.

    Raises ImportRefused for a file that cannot be used, RuleViolation when the bank cannot
    enter loans at all (RP-22, not a member), and BulkRejected listing every bad row (each
    error's column is the file's header text, in the order of the file); a row that renames a
    borrower on record is one of them unless its change is in ``confirmed_renames``."""
    deadline = deadline or upload_limits.Deadline()
    parsed = parse_rows(base.stream_table(content, deadline=deadline))
    return base.import_parsed(parsed, lambda: ProjectImporter(user=user, pool=pool, confirmed_renames=confirmed_renames),
                              progress=progress, deadline=deadline, column_for=lambda name: _column_for(parsed, name))


def import_projects(*, user, pool: Pool, upload, confirmed_renames: Collection[str] = ()) -> int:
    """``import_content`` of an uploaded file (a Django UploadedFile): how many loans were entered."""
    content, deadline, _rows = base.checked_content(upload)
    return import_content(user=user, pool=pool, content=content, confirmed_renames=confirmed_renames,
                          deadline=deadline)


def run_stored(run, progress) -> int:
    """A background run (core.bulk_import): the stored file entered for the run's uploader."""
    pool = Pool.objects.get(pk=run.target_id)
    content, deadline = base.stored_content(run)
    return import_content(user=run.started_by, pool=pool, content=content, confirmed_renames=run.confirmed_renames,
                          progress=progress, deadline=deadline)


class ProjectImporter(base.BorrowerChunks):
    """贷款项目批量入库, set-based: the bank, its membership (RP-22) and the Scheme S rule sets are
    read once per file; per chunk, one query for the loan numbers already entered and one for
    the borrowers on record; each row is checked by the functions the single entry uses
    (``services.project_problems``: RP-3, RP-4, RP-6, RP-7, RP-M3; ``borrower_check``: the
    identity and GU-11), all its problems at once, and written with bulk inserts."""

    def __init__(self, *, user, pool: Pool, confirmed_renames: Collection[str] = (), keep: bool = False):
        self.user, self.pool = user, pool
        self.created: list[LoanProject] | None = [] if keep else None  # the saved loans, when asked for
        self.bank = entry.project_bank(user)
        self.entered_on = shanghai_today()
        self.member = entry.member_for_entry(pool, self.bank, on=self.entered_on)
        self.confirmed = set(confirmed_renames)
        self.context = entry.EntryContext()
        self.loan_numbers: set[str] = set()  # every loan number of the file so far
        self.names: dict[str, str] = {}  # identifier -> the name the file gives it so far
        self.borrowers: dict[str, Borrower] = {}  # this chunk's borrowers on record, by identifier

    def check(self, rows: list[dict]) -> list[RowError]:
        self.lock_borrowers(self.bank, rows)
        numbers = {row["data"].loan_no for row in rows}
        entered = set(LoanProject.objects.filter(bank=self.bank, loan_no__in=numbers).values_list("loan_no", flat=True))
        errors: list[RowError] = []
        for row in rows:
            data, number = row["data"], row["row"]
            problems = entry.project_problems(data, entered_on=data.entered_on or self.entered_on, bank=self.bank,
                                              context=self.context)
            problems += self.borrower_problems(row)
            if data.loan_no in entered or data.loan_no in self.loan_numbers:
                problems.append(entry.duplicate_loan_problem(data.loan_no))
            self.loan_numbers.add(data.loan_no)
            errors += problems_as_errors(number, problems)
        errors += self.unconfirmed_renames(rows)
        return errors

    def write(self, rows: list[dict]) -> int:
        owners = borrowers_upsert(user=self.user, owner=self.bank, rows=rows, existing=self.borrowers)
        projects = [
            entry.project_build(pool=self.pool, bank=self.bank, borrower=owners[row["borrower"].id_number.upper()],
                                data=row["data"], entered_on=row["data"].entered_on or self.entered_on, user=self.user,
                                context=self.context)
            for row in rows
        ]
        try:
            with transaction.atomic():  # a savepoint per chunk, for a concurrent upload of the same loans
                copy_insert(LoanProject, projects)
        except IntegrityError:
            numbers = set(LoanProject.objects.filter(bank=self.bank, loan_no__in=[p.loan_no for p in projects])
                          .values_list("loan_no", flat=True))
            raise BulkRejected([
                RowError(row["row"], "loan_no", "RP-21", entry.duplicate_loan_problem(row["data"].loan_no).message)
                for row in rows if row["data"].loan_no in numbers]) from None
        audit_rows(actor=self.user, action=AuditEvent.Action.CREATE, instances=projects, organisation=self.bank,
                   summaries=(i18n_text.dumps_with(LOAN_PROJECT_SUMMARY, {"loan": p.loan_no}) for p in projects))
        if self.created is not None:
            self.created += projects
        return len(projects)

    def finish(self) -> None:
        services.members_refresh_npl([self.member])


# --- the template ---------------------------------------------------------------------------


def example_row(today: date) -> list:
    """One loan that can be entered today (disbursed on or before today, within the quarter), as
    the template's example; its credit code is valid (GB 32100) so the template uploads as is."""
    from core.validators import credit_code_check_character

    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    disbursed = max(today - timedelta(days=3), quarter_start)
    first17 = "91440300MA5DEM001"
    industries = dict(guarantee_rules.INDUSTRIES)
    return [
        "深圳市示例科技有限公司", "统一社会信用代码", first17 + credit_code_check_character(first17), "企业",
        industries.get("software_it", next(iter(industries.values()))), 45, "8000000.00", "12000000.00", "", "",
        f"JJ-{today:%Y%m%d}-0001", "企业贷款", "3000000.00", "CNY", disbursed.isoformat(),
        (disbursed + timedelta(days=364)).isoformat(), "4.2", "1500000.00", "信用", "纯信用、首笔贷款", "生产经营", "否",
    ]


def template_workbook(today: date | None = None) -> bytes:
    """The upload template: the Chinese header row, one example row, and a sheet explaining every
    column (the English keys are accepted as headers too)."""
    from core.calendar import shanghai_today

    today = today or shanghai_today()
    return base.upload_template(
        "贷款项目", COLUMNS, ALL_COLUMNS, TEMPLATE_HEADERS, example=example_row(today),
        note="第2行为示例，请替换为真实数据。年利率(%) 与 年利率(小数) 二选一。入库日期为上传当日 (RP-6)。"
             "任何一行有误时整个文件不导入，并列出每个错误的行号、列名、规则编号和原因。",
        note_width=70,
    )
