"""Bulk upload of guarantees from an .xlsx or .csv file.

The file is checked by its content, capped in size and rows and streamed as cells by
``core.upload_tables``; here its cells are parsed into row dicts. A cell that cannot be read becomes a
``RowError`` (row numbers as the spreadsheet shows them, the header being row 1; the column is
the header text of the file). ``GuaranteeImporter`` then checks and creates every row or none,
set-based, chunk by chunk (``core.bulk_import``), with the checks of the single entry
(``services.guarantee_problems``, ``borrower_check``).

Headers are accepted in Chinese (``担保合同编号``, as in the template) or as the English field
key (``contract_no``).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import get_language

from core import i18n_text, upload_limits
from core.bulk import BulkRejected, ImportRefused, RowError, unconfirmed_renames
from core.bulk_import import audit_rows, copy_insert, import_rows, problems_as_errors
from core.errors import RuleViolation
from core.exports import Workbook
from core.i18n_text import gettext_lazy as _
from core.models import AuditEvent
from core.money import round_money, round_ratio
from core.services import require_member
from core.upload_tables import Cell, CellError, Table, cell_text, read_table, stream_table
from guarantees import rules
from guarantees.models import Agreement, Borrower, Guarantee
from guarantees.permissions import FIRM_ROLES
from guarantees.services import (
    GUARANTEE_SUMMARY,
    OPEN_STATUSES,
    BorrowerData,
    GuaranteeContext,
    GuaranteeData,
    borrower_check,
    borrowers_upsert,
    duplicate_contract_problem,
    guarantee_build,
    guarantee_problems,
)
from guarantees.signals import offered_products

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- cell parsers ---------------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "t"}
_FALSE = {"否", "n", "no", "false", "0", "×", "f", ""}


def _decimal(cell: Cell) -> Decimal:
    value = cell.value
    if isinstance(value, bool):
        raise CellError(_("Enter a number."))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest repr: a cell showing 0.1 means 0.1
    text = str(value).strip().replace(",", "").replace("，", "").replace(" ", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError(_("“%(value)s” is not a number.") % {"value": text}) from None
    if not number.is_finite():
        raise CellError(_("“%(value)s” is not a number.") % {"value": text})
    return number


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def parse_money(cell: Cell) -> Decimal:
    """Yuan, at most 2 decimal places (a third place is an error, never rounded away)."""
    number = _decimal(cell)
    if number < 0:
        raise CellError(_("The amount must not be negative."))
    if _places(number) > 2:
        raise CellError(_("An amount in yuan has at most 2 decimal places."))
    if number >= Decimal("1e16"):
        raise CellError(_("The amount is too large."))
    return round_money(number)


def parse_percent(cell: Cell) -> Decimal:
    """A percentage (0.8 or 0.8% meaning 0.8%) as the 6-place fraction 0.008000, exactly.

    An xlsx cell formatted as a percentage already holds the fraction (Excel stores 0.8% as
    0.008), so it is taken as a fraction.
    """
    if cell.percent_format:
        return parse_fraction(Cell(cell.value))
    value = cell.value
    if isinstance(value, str):
        value = value.strip().rstrip("%％").strip()
    number = _decimal(Cell(value))
    if not 0 <= number <= 100:
        raise CellError(_("A percentage must be between 0 and 100."))
    if _places(number) > 4:
        raise CellError(_("A percentage has at most 4 decimal places."))
    return round_ratio(number.scaleb(-2))


def parse_fraction(cell: Cell) -> Decimal:
    """A fraction with at most 6 decimal places (0.008 for 0.8%)."""
    number = _decimal(cell)
    if not 0 <= number <= 1:
        raise CellError(_("A rate as a fraction must be between 0 and 1 (0.008 for 0.8%)."))
    if _places(number) > 6:
        raise CellError(_("A rate as a fraction has at most 6 decimal places."))
    return round_ratio(number)


def parse_int(cell: Cell) -> int:
    number = _decimal(cell)
    if number != number.to_integral_value() or number < 0:
        raise CellError(_("Enter a whole number, 0 or more."))
    return int(number)


def parse_date(cell: Cell) -> date:
    value = cell.value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(cell)
    if len(text) == 10 and text[4] == "-":  # the template's 2024-03-01, parsed in C
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CellError(_("“%(value)s” is not a date; write it as 2024-03-01.") % {"value": text})


def parse_bool(cell: Cell) -> bool:
    value = cell.value
    if isinstance(value, bool):
        return value
    text = cell_text(cell).lower() if value is not None else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(_("Write 是 or 否 (yes or no)."))


def parse_text(cell: Cell) -> str:
    return cell_text(cell)


def parse_identifier(cell: Cell) -> str:
    if isinstance(cell.value, float) and not cell.value.is_integer():
        raise CellError(_("Store the identifier as text, not as a number."))
    if isinstance(cell.value, float) and abs(cell.value) >= 1e15:
        # Excel keeps 15 significant digits: an 18-digit number has already lost its end.
        raise CellError(_("Store the identifier as text, not as a number: Excel has cut its last digits."))
    return cell_text(cell).upper()


def parse_currency(cell: Cell) -> str:
    text = cell_text(cell).upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise CellError(_("Enter a three-letter currency code such as CNY."))
    return text


def _normal(text: str) -> str:
    return re.sub(r"[\s_\-]", "", str(text)).lower()


def choice_parser(choices, aliases: dict[str, tuple[str, ...]]) -> Callable[[Cell], str]:
    """A cell naming one of ``choices`` by its code, its label or one of its Chinese aliases."""

    # Codes, English labels and aliases are the same in every language; the label in the user's
    # language is looked up (per language) only for a text that is none of those.
    fixed: dict[str, str] = {}
    for code, label in reversed(choices):  # the first choice naming a text wins
        for name in (code, _english(label), *aliases.get(code, ())):
            fixed[_normal(name)] = code
    localized: dict[str, dict[str, str]] = {}

    def parse(cell: Cell) -> str:
        text = _normal(cell_text(cell))
        code = fixed.get(text)
        if code is not None:
            return code
        language = get_language() or ""
        if language not in localized:
            localized[language] = {_normal(str(label)): code for code, label in reversed(choices)}
        code = localized[language].get(text)
        if code is not None:
            return code
        raise CellError(_("“%(value)s” is not one of: %(choices)s.") % {
            "value": cell_text(cell), "choices": "、".join(aliases.get(code, (code,))[0] for code, _label in choices),
        })

    return parse


def _english(label) -> str:
    """The English source text of a lazy choice label, whatever language is active."""
    args = getattr(label, "_args", None)
    return str(args[0]) if args else str(label)


ID_KIND_ALIASES = {
    "credit_code": ("统一社会信用代码", "信用代码", "社会信用代码"),
    "id_card": ("身份证", "居民身份证", "身份证号码", "居民身份证号码"),
}
KIND_ALIASES = {
    "enterprise": ("企业",),
    "owner": ("小微企业主",),
    "individual_business": ("个体工商户",),
    "farmer": ("农户", "种养大户", "家庭农场", "农民合作社", "小微农业企业", "新型农业经营主体"),
}
SIZE_ALIASES = {"large": ("大型", "大"), "medium": ("中型", "中"), "small": ("小型", "小"), "micro": ("微型", "微")}
PURPOSE_ALIASES = {
    "operations": ("经营", "生产经营", "经营周转"),
    "government_bond": ("政府债券", "政府债券发行"),
    "government_platform": ("政府融资平台", "政府融资平台融资"),
}
INDUSTRY_ALIASES = {code: (name,) for code, name in rules.INDUSTRIES}


# --- the columns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # the English field key, accepted as a header
    header: str  # the Chinese header of the template
    target: str  # where the value goes, and the field name service errors use
    parse: Callable[[Cell], Any]
    required: bool = False
    note: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("agreement_code", "合作协议编号", "agreement_code", parse_text, True, "银担合作协议编号"),
    Column("contract_no", "担保合同编号", "contract_no", parse_text, True),
    Column("borrower_name", "融资人名称", "borrower.name", parse_text, True),
    Column("id_kind", "证件类型", "borrower.id_kind",
           choice_parser(Borrower.IdKind.choices, ID_KIND_ALIASES), True, "统一社会信用代码 / 身份证"),
    Column("id_number", "证件号码", "borrower.id_number", parse_identifier, True, "18位，请以文本格式填写"),
    Column("borrower_kind", "融资人类型", "borrower.kind",
           choice_parser(Borrower.Kind.choices, KIND_ALIASES), True, "企业 / 小微企业主 / 个体工商户 / 农户"),
    Column("industry", "行业", "borrower.industry", choice_parser(rules.INDUSTRIES, INDUSTRY_ALIASES),
           note="、".join(name for _code, name in rules.INDUSTRIES)),
    Column("employees", "从业人员(人)", "borrower.employees", parse_int),
    Column("revenue", "营业收入(元)", "borrower.revenue", parse_money),
    Column("total_assets", "资产总额(元)", "borrower.total_assets", parse_money),
    Column("size_entered", "企业规模(填报)", "borrower.size_entered",
           choice_parser(Borrower.Size.choices, SIZE_ALIASES), note="大型 / 中型 / 小型 / 微型；留空则按行业标准推算"),
    Column("size_evidence", "企业规模依据", "borrower.size_evidence", parse_text, note="填报规模时必填"),
    Column("is_agricultural", "是否三农", "borrower.is_agricultural", parse_bool, note="是 / 否"),
    Column("is_strategic_emerging", "是否战略性新兴产业", "borrower.is_strategic_emerging", parse_bool, note="是 / 否"),
    Column("is_government_platform", "是否政府融资平台", "borrower.is_government_platform", parse_bool, note="是 / 否"),
    Column("loan_principal", "贷款本金(元)", "loan_principal", parse_money, True),
    Column("amount", "担保金额(元)", "amount", parse_money, True),
    Column("currency", "币种", "currency", parse_currency, note="留空为 CNY"),
    Column("loan_start", "贷款起始日", "loan_start", parse_date, True, "2024-03-01"),
    Column("loan_maturity", "贷款到期日", "loan_maturity", parse_date, True),
    Column("start", "担保起始日", "start", parse_date, True),
    Column("end", "担保到期日", "end", parse_date, True),
    Column("fee_rate_percent", "担保费率(%)", "fee_rate", parse_percent, True, note="年化，百分数：0.8 表示 0.8%"),
    Column("other_fees", "其他收费(元)", "other_fees", parse_money, note="保证金、承诺费、咨询费等；留空为 0"),
    Column("bank_fees", "银行收费(元)", "bank_fees", parse_money, note="银行除利息外收取的保证金、承诺费、中间业务费等；留空为 0"),
    Column("purpose", "用途", "purpose", choice_parser(Guarantee.Purpose.choices, PURPOSE_ALIASES),
           note="经营 / 政府债券 / 政府融资平台；留空为 经营"),
    Column("reguaranteed", "是否再担保", "reguaranteed", parse_bool, note="是 / 否"),
    Column("national_fund_scope", "是否纳入国家融资担保基金合作范围", "national_fund_scope", parse_bool, note="是 / 否"),
    Column("recommended_by_bank", "是否银行推荐", "recommended_by_bank", parse_bool, note="是 / 否"),
    Column("product", "政策性贷款产品", "product_ref", parse_text, note="科信贷、出口贷、税源贷、固定资产投资贷，或产品代码；不属于则留空"),
)
# Accepted instead of 担保费率(%): the rate as a fraction, as the API takes it (0.008).
FEE_FRACTION = Column("fee_rate", "担保费率(小数)", "fee_rate", parse_fraction, True,
                      note="可代替 担保费率(%)，二者填其一：0.008 表示 0.8%")
ALL_COLUMNS = (*COLUMNS, FEE_FRACTION)
TEMPLATE_HEADERS = [c.header for c in COLUMNS]


def _header_key(text: str) -> str:
    return _normal(str(text).replace("（", "(").replace("）", ")").replace("％", "%"))


def header_lookup(all_columns, aliases: Iterable[tuple[str, Column]] = ()) -> dict[str, Column]:
    """Each column by its English key and its Chinese header, then by that header without its
    unit (担保金额 for 担保金额(元)), then by the other names ``aliases`` give it."""
    lookup: dict[str, Column] = {}
    for column in all_columns:
        lookup[_header_key(column.key)] = column
        lookup[_header_key(column.header)] = column
    for column in all_columns:
        lookup.setdefault(_header_key(re.sub(r"\(.*\)$", "", column.header)), column)
    for alias, column in aliases:
        lookup.setdefault(_header_key(alias), column)
    return lookup


HEADER_LOOKUP = header_lookup(ALL_COLUMNS)


# --- parsing the rows -----------------------------------------------------------------------


@dataclass
class ParsedFile:
    rows: list[dict]
    headers: dict[str, str] = field(default_factory=dict)  # target field -> the file's header text
    order: dict[str, int] = field(default_factory=dict)  # header text -> column position

    def column_for(self, name: str | None) -> str | None:
        """The file's header for a service error's field (``borrower.id_number`` → 证件号码)."""
        if not name:
            return None
        if name in self.headers:
            return self.headers[name]
        if name == "borrower":  # GU-12 names the borrower as a whole: its platform flag
            return self.headers.get("borrower.is_government_platform", name)
        return name


def map_header(header: list[str], columns=None, lookup=None) -> tuple[dict[int, Column], dict[str, str]]:
    """Which file column gives which field (``columns`` and their header ``lookup``, this
    import's by default); a field given twice or a required one missing refuses the file."""
    columns = COLUMNS if columns is None else columns
    lookup = HEADER_LOOKUP if lookup is None else lookup
    positions: dict[int, Column] = {}
    seen: dict[str, str] = {}
    for index, text in enumerate(header):
        if not text:
            continue
        column = lookup.get(_header_key(text))
        if column is None:
            continue  # an extra column (a note, a sequence number) is ignored
        if column.target in seen:
            raise ImportRefused(i18n_text.gettext_lazy("The columns “%(a)s” and “%(b)s” give the same field; keep one.")
                                % {"a": seen[column.target], "b": text})
        seen[column.target] = text
        positions[index] = column
    missing = [c.header for c in columns if c.required and c.target not in seen]
    if missing:
        raise ImportRefused(i18n_text.gettext_lazy("The header row lacks the columns: %(columns)s. Download the template to see them all.")
                            % {"columns": "、".join(missing)})
    return positions, seen


# A column's parsed values are remembered per file (up to this many distinct cells a column):
# most columns repeat a few values (kinds, dates, rates, amounts) and parsing is the cost of a
# large file. Free text and identifiers are nearly all distinct and cheap: never remembered.
PARSED_CELLS_PER_COLUMN = 4096
_IMMUTABLE = (str, int, Decimal, date)  # bool is an int, datetime a date: the results kept


def read_cells(table: Table, positions: dict[int, Column]):
    """Each data row as (row number, {field: parsed value}, [RowError…]): a required cell left
    blank or a cell its parser refuses is an error naming the file's header."""
    columns = [(index, column, table.header[index], None if column.parse in (parse_text, parse_identifier) else {})
               for index, column in positions.items()]
    missing = Cell(None)
    for number, cells in table.rows:
        values: dict[str, Any] = {}
        errors: list[RowError] = []
        width = len(cells)
        for index, column, header, memo in columns:
            cell = cells[index] if index < width else missing
            value = cell.value
            if value is None or (isinstance(value, str) and not value.strip()):
                if column.required:
                    errors.append(RowError(number, header, "INPUT", _("This cell is required.")))
                continue
            if memo is not None:
                key = (type(value), cell)
                found = memo.get(key)
                if found is not None:
                    if found[0]:
                        values[column.target] = found[1]
                    else:
                        errors.append(RowError(number, header, "INPUT", found[1]))
                    continue
            try:
                parsed = column.parse(cell)
            except CellError as exc:
                message = exc.args[0]  # kept as its msgid and values: an upload run's errors are stored
                errors.append(RowError(number, header, "INPUT", message))
                if memo is not None and len(memo) < PARSED_CELLS_PER_COLUMN:
                    memo[key] = (False, message)
                continue
            values[column.target] = parsed
            if memo is not None and len(memo) < PARSED_CELLS_PER_COLUMN and isinstance(parsed, _IMMUTABLE):
                memo[key] = (True, parsed)
        yield number, values, errors


class ProductLookup:
    """A Scheme M policy loan product by its name (科信贷) or code (sci_tech), read once per file
    however many rows name one. A name two pools share is refused rather than guessed."""

    def __init__(self):
        self._by_key: dict[str, list] | None = None

    def find(self, text: str):
        if self._by_key is None:
            self._by_key = {}
            for product in offered_products():
                for key in {product.code.lower(), _normal(product.name)}:
                    self._by_key.setdefault(key, []).append(product)
        found = self._by_key.get(text.strip().lower()) or self._by_key.get(_normal(text), [])
        if not found:
            raise CellError(_("No policy loan product is called “%(text)s”.") % {"text": text})
        if len(found) > 1:
            raise CellError(_("Several pools have a product called “%(text)s”; enter it through the form or the "
                              "API, which take the product's id.") % {"text": text})
        return found[0]


def parse_rows(table: Table) -> ParsedFile:
    """The file's rows as the importer's ``{"row", "agreement_code", "borrower", "data"}`` dicts,
    each cell problem a RowError (``{"row", "errors"}``); ``rows`` is a one-pass iterator when
    the table streams. A file without a data row is refused when the iterator ends."""
    positions, seen = map_header(table.header)
    parsed = ParsedFile(rows=[], headers=seen, order={text: i for i, text in enumerate(table.header)})
    parsed.rows = _parsed_rows(table, positions)
    return parsed


def read_rows(table: Table, positions: dict[int, Column], *, empty: i18n_text.Text):
    """``read_cells`` with the policy loan product a row names looked up (RP-M3); a file without
    a data row is refused with the message ``empty`` when the rows end."""
    product_header = next((table.header[i] for i, c in positions.items() if c.target == "product_ref"), "")
    products = ProductLookup()
    count = 0
    for number, values, errors in read_cells(table, positions):
        count += 1
        if "product_ref" in values:
            try:
                values["product"] = products.find(values.pop("product_ref"))
            except CellError as exc:
                errors.append(RowError(number, product_header, "RP-M3", exc.args[0]))
        yield number, values, errors
    if not count:
        raise ImportRefused(empty)


def borrower_and_rest(values: dict[str, Any]) -> tuple[BorrowerData, dict[str, Any]]:
    """A row's ``borrower.*`` fields as the borrower, and its other fields."""
    borrower = {k[9:]: v for k, v in values.items() if k.startswith("borrower.")}  # len("borrower.") == 9
    return BorrowerData(**borrower), {k: v for k, v in values.items() if not k.startswith("borrower.")}


def _parsed_rows(table: Table, positions):
    for number, values, errors in read_rows(table, positions, empty=i18n_text.gettext_lazy("The file has a header row but no guarantees.")):
        if errors:
            yield {"row": number, "errors": errors}
            continue
        borrower, data = borrower_and_rest(values)
        yield {"row": number, "agreement_code": data.pop("agreement_code"), "borrower": borrower,
               "data": GuaranteeData(**data)}


def parse_table(table: Table) -> ParsedFile:
    """``parse_rows`` with the rows as a list (small files, the tests)."""
    parsed = parse_rows(table)
    parsed.rows = list(parsed.rows)
    return parsed


def checked_content(upload) -> tuple[bytes, upload_limits.Deadline, int]:
    """The uploaded file's bytes past every ``core.upload_limits`` check, the parse deadline
    that started with them, and the rows the file claims (blank ones and the header included)."""
    limits = upload_limits.Limits.from_settings()
    limit = limits.max_bytes
    if upload.size is not None and upload.size > limit:
        raise ImportRefused(i18n_text.gettext_lazy("The file is larger than %(max)s MB.") % {"max": megabytes(limit)})
    content = upload.read(limit + 1)
    deadline = upload_limits.Deadline(limits.parse_seconds)
    rows = upload_limits.check_upload(content, limits=limits, deadline=deadline)  # before any parsing
    return content, deadline, rows


def read_upload(upload, parse=None) -> ParsedFile:
    """The uploaded file (a Django UploadedFile) checked, read and parsed (by ``parse``, this
    import's ``parse_table`` by default)."""
    content, deadline, _rows = checked_content(upload)
    return (parse or parse_table)(read_table(content, deadline=deadline))


megabytes = upload_limits.megabytes


def import_content(*, user, firm, content: bytes, confirmed_renames: Collection[str] = (), progress=None,
                   deadline=None) -> int:
    """Create every guarantee of the file ``content`` (already past ``core.upload_limits``) for
    ``firm``, or none; how many were created.

    Raises ImportRefused for a file that cannot be used, and BulkRejected listing every bad row
    (each error's column is the file's header text, in the order of the file); a row that
    renames a borrower on record is one of them unless its change is in ``confirmed_renames``."""
    deadline = deadline or upload_limits.Deadline()
    parsed = parse_rows(stream_table(content, deadline=deadline))
    return import_parsed(parsed, lambda: GuaranteeImporter(user=user, firm=firm, confirmed_renames=confirmed_renames),
                         progress=progress, deadline=deadline)


def import_parsed(parsed: ParsedFile, make_importer: Callable[[], Any], *, progress, deadline,
                  column_for: Callable[[str | None], str | None] | None = None) -> int:
    """The parsed rows through the importer ``make_importer`` builds, all or none; a rejection's
    errors name the file's headers (``column_for``: ``parsed.column_for`` by default), in the
    order of the file."""
    column_for = column_for or parsed.column_for
    try:
        with transaction.atomic():
            return import_rows(parsed.rows, make_importer(), progress=progress, deadline=deadline)
    except BulkRejected as exc:
        errors = [replace(e, column=column_for(e.column)) for e in exc.errors]
        errors.sort(key=lambda e: (e.row, parsed.order.get(e.column or "", len(parsed.order))))
        raise BulkRejected(errors) from None


def import_guarantees(*, user, firm, upload, confirmed_renames: Collection[str] = ()) -> int:
    """``import_content`` of an uploaded file (a Django UploadedFile): how many were created."""
    content, deadline, _rows = checked_content(upload)
    return import_content(user=user, firm=firm, content=content, confirmed_renames=confirmed_renames,
                          deadline=deadline)


def run_stored(run, progress) -> int:
    """A background run (core.bulk_import): the stored file entered for the run's uploader."""
    from core.models import Organisation

    firm = Organisation.objects.get(pk=run.target_id)
    content, deadline = stored_content(run)
    return import_content(user=run.started_by, firm=firm, content=content, confirmed_renames=run.confirmed_renames,
                          progress=progress, deadline=deadline)


def stored_content(run) -> tuple[bytes, upload_limits.Deadline]:
    """A background run's stored file, and the parse deadline, which starts now."""
    with run.file.open("rb") as stored:
        content = stored.read()
    return content, upload_limits.Deadline(upload_limits.Limits.from_settings().parse_seconds)


class BorrowerChunks:
    """The borrower side of a chunk, as both importers check it: the borrowers on record locked
    for the import, each row's borrower checked as the single entry does (its derived size kept
    in ``row["derived"]``), and the renames of borrowers on record that are not confirmed."""

    confirmed: set[str]
    names: dict[str, str]  # identifier -> the name the file gives it so far
    borrowers: dict[str, Borrower]  # this chunk's borrowers on record, by identifier

    def lock_borrowers(self, owner, rows: list[dict]) -> None:
        codes = {row["borrower"].id_number.upper() for row in rows}
        self.borrowers = {b.id_number: b for b in Borrower.objects.select_for_update().filter(
            owner=owner, id_number__in=codes)}

    @staticmethod
    def borrower_problems(row: dict) -> list:
        try:
            row["derived"] = borrower_check(row["borrower"])
        except RuleViolation as exc:
            return list(exc.problems)
        return []

    def unconfirmed_renames(self, rows: list[dict]) -> list[RowError]:
        existing = {code: b.name for code, b in self.borrowers.items() if code not in self.names}
        return unconfirmed_renames(rows, {**existing, **self.names}, self.confirmed, memory=self.names)


class GuaranteeImporter(BorrowerChunks):
    """担保业务批量导入, set-based: the firm's agreements and the guarantees rule sets are read once
    per file; per chunk one query each for the contract numbers already recorded, the borrowers
    on record and their open guaranteed amounts (单户担保金额, GU-5); each row is checked by the
    functions the single entry uses (``guarantee_problems``: GU-12, amounts and dates, RP-M3;
    ``borrower_check``: identity, GU-11), all its problems at once, and written by COPY."""

    def __init__(self, *, user, firm, confirmed_renames: Collection[str] = (), keep: bool = False):
        require_member(user, firm, *FIRM_ROLES)
        self.user, self.firm = user, firm
        self.created: list[Guarantee] | None = [] if keep else None
        self.confirmed = set(confirmed_renames)
        self.agreements = {a.code: a for a in Agreement.objects.filter(firm=firm).select_related("firm", "bank")}
        self.context = GuaranteeContext()
        self.contracts: set[str] = set()
        self.names: dict[str, str] = {}
        self.borrowers: dict[str, Borrower] = {}

    def check(self, rows: list[dict]) -> list[RowError]:
        self.lock_borrowers(self.firm, rows)
        numbers = {row["data"].contract_no for row in rows}
        recorded = set(Guarantee.objects.filter(firm=self.firm, contract_no__in=numbers)
                       .values_list("contract_no", flat=True))
        errors: list[RowError] = []
        for row in rows:
            data, number = row["data"], row["row"]
            agreement = self.agreements.get(row["agreement_code"])
            if agreement is None:
                errors.append(RowError(number, "agreement_code", "INPUT", _(
                    "No agreement of yours has the number “%(code)s”.") % {"code": row["agreement_code"]}))
                problems = []
            else:
                row["agreement"] = agreement
                problems = guarantee_problems(data, agreement, platform=row["borrower"].is_government_platform,
                                              context=self.context)
            if data.contract_no in recorded or data.contract_no in self.contracts:
                problems.append(duplicate_contract_problem())
            self.contracts.add(data.contract_no)
            problems += self.borrower_problems(row)
            errors += problems_as_errors(number, problems)
        errors += self.unconfirmed_renames(rows)
        return errors

    def write(self, rows: list[dict]) -> int:
        owners = borrowers_upsert(user=self.user, owner=self.firm, rows=rows, existing=self.borrowers)
        open_amounts = dict(
            Guarantee.objects.filter(firm=self.firm, borrower__in=[b.pk for b in owners.values()], status__in=OPEN_STATUSES)
            .values("borrower").annotate(total=Sum("amount")).values_list("borrower", "total"))
        guarantees = []
        for row in rows:
            borrower = owners[row["borrower"].id_number.upper()]
            single = (open_amounts.get(borrower.pk) or Decimal("0")) + row["data"].amount
            open_amounts[borrower.pk] = single  # the file's later guarantees of the borrower count this one
            guarantees.append(guarantee_build(user=self.user, agreement=row["agreement"], borrower=borrower,
                                              data=row["data"], single=single, context=self.context))
        copy_insert(Guarantee, guarantees)
        audit_rows(actor=self.user, action=AuditEvent.Action.CREATE, instances=guarantees, organisation=self.firm,
                   summaries=(i18n_text.dumps_with(GUARANTEE_SUMMARY, {"contract": g.contract_no}) for g in guarantees))
        if self.created is not None:
            self.created += guarantees
        return len(guarantees)

    def finish(self) -> None:
        pass


# --- the template ---------------------------------------------------------------------------


def template_workbook() -> bytes:
    """The upload template: the Chinese header row, and a sheet explaining every column."""
    return upload_template(
        "担保业务", COLUMNS, ALL_COLUMNS, TEMPLATE_HEADERS,
        note="担保费率(%) 与 担保费率(小数) 二选一。任何一行有误时整个文件不导入，并列出每个错误的行号、列名和原因。",
        note_width=60,
    )


def upload_template(title: str, columns, all_columns, headers, *, note: str, note_width: int,
                    example: list | None = None) -> bytes:
    """One layout for every upload template: the header row (text-formatted identifier columns,
    so they keep every digit), an optional example row, and a sheet explaining each column."""
    workbook = Workbook()
    sheet = workbook.sheet(title)
    sheet.append(headers, bold=True, fill="EEF1F5")
    if example is not None:
        sheet.append(example)
    for index, column in enumerate(columns):
        sheet.widths({index: max(12, len(column.header) * 2 + 2)})
        if column.parse in (parse_text, parse_identifier):
            sheet.format_column(index, "@", first_row=2, last_row=1001)
    sheet.freeze("A2")
    notes = workbook.sheet("填写说明")
    notes.append(["列名", "English key", "必填", "说明"], bold=True)
    for column in all_columns:
        notes.append([column.header, column.key, "是" if column.required else "", column.note])
    notes.append([])
    notes.append([note])
    notes.widths({0: 34, 1: 24, 3: note_width})
    return workbook.to_bytes()
