"""Reading an uploaded table: an .xlsx or .csv file as a header and rows of cells.

The file is identified by its content (an xlsx is a zip starting with ``PK``; a csv is text in
UTF-8, with or without BOM, or GB18030), capped in rows, columns and cell length, and streamed
(calamine-plus for xlsx, the csv module for csv) so a large file is never held as cells all at once.
What the cells mean is each import's business (``guarantees.imports``, ``riskpool.imports``).
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import filetype
from django.conf import settings

from core import i18n_text, upload_limits
from core.bulk import ImportRefused


class CellError(ValueError):
    """One cell that cannot be read; becomes a RowError of its row and column."""


class Cell(NamedTuple):
    """A cell's value as read (a tuple: a file has millions of cells, a frozen dataclass costs
    several times more to build)."""

    value: Any
    percent_format: bool = False  # an xlsx cell shown as a percentage holds the fraction



def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(cell: Cell) -> str:
    value = cell.value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


@dataclass
class Table:
    kind: str  # "xlsx" or "csv"
    header: list[str]
    # (spreadsheet row number, cells): a list from ``read_table``, a one-pass iterator from
    # ``stream_table`` (a large file is never held as cells all at once).
    rows: Iterable[tuple[int, list[Cell]]]


def _describe(kind) -> str:
    return f"{kind.mime} (.{kind.extension})"


def read_table(content: bytes, *, max_rows: int | None = None, deadline: upload_limits.Deadline | None = None) -> Table:
    """Identify the file by content and read its first sheet; ImportRefused when it cannot be
    used, or when reading it takes longer than the parse time limit (``deadline``). The rows as
    a list: for small files and the tests; the importers stream (``stream_table``)."""
    table = stream_table(content, max_rows=max_rows, deadline=deadline)
    return replace(table, rows=list(table.rows))


def stream_table(content: bytes, *, max_rows: int | None = None,
                 deadline: upload_limits.Deadline | None = None) -> Table:
    """``read_table`` whose rows are read as they are asked for (the header is read at once, so
    a file that cannot be used is refused before any row is)."""
    max_rows = settings.BULK_UPLOAD_MAX_ROWS if max_rows is None else max_rows
    deadline = deadline or upload_limits.Deadline()
    if not content:
        raise ImportRefused(i18n_text.gettext_lazy("The file is empty."))
    if content.startswith(b"PK\x03\x04"):
        kind = filetype.guess(content)
        if kind is not None and kind.extension not in ("xlsx", "zip"):
            raise ImportRefused(i18n_text.gettext_lazy("This file is a %(kind)s, not an xlsx workbook or a csv file.") % {"kind": _describe(kind)})
        return _stream_xlsx(content, max_rows, deadline)
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRefused(i18n_text.gettext_lazy("This is an old Excel 97–2003 (.xls) or other Office file. Save it as .xlsx and upload it again."))
    kind = filetype.guess(content)
    if kind is not None or b"\x00" in content[:65536]:
        what = _describe(kind) if kind is not None else i18n_text.gettext_lazy("binary data")
        raise ImportRefused(i18n_text.gettext_lazy("This file is not an xlsx or csv file: its content is %(kind)s. "
                              "Upload the template filled in, as .xlsx or .csv.") % {"kind": what})
    return _stream_csv(content, max_rows, deadline)


def _too_many(max_rows: int) -> ImportRefused:
    return upload_limits.too_many_rows(max_rows)


def _not_xlsx(exc: Exception) -> ImportRefused:
    return ImportRefused(i18n_text.gettext_lazy("The file could not be read as an xlsx workbook (%(error)s).") % {"error": type(exc).__name__})


def _stream_xlsx(content: bytes, max_rows: int, deadline: upload_limits.Deadline) -> Table:
    """The first sheet streamed by calamine-plus (Rust: rows decoded from the zip as they are
    asked for, in constant memory; python-calamine loads the whole sheet, 420 MB at 200k rows).
    Rows and columns are the sheet's own (row 1, column A), so the header is row 1. Calamine
    does not give number formats, so the cells shown as a percentage are found by
    ``percent_cells`` from the file's own XML."""
    import python_calamine_plus  # here, not at the top: only an xlsx needs it

    try:
        workbook = python_calamine_plus.CalamineWorkbook.from_filelike(io.BytesIO(content))
        rows = iter(workbook.stream_sheet_by_index(0))
        percent = percent_cells(content)
        header_cells = next(rows, [])
    except Exception as exc:  # calamine raises its own types for a damaged or foreign zip
        raise _not_xlsx(exc) from exc
    header = [cell_text(Cell(v)) if not blank(v) else "" for v in header_cells]
    return Table("xlsx", header, _xlsx_rows(rows, 1, percent, max_rows, deadline))


def _value(v: Any) -> Any:
    """A cell's value typed as python-calamine types it: a number is a float (calamine-plus
    gives a whole number as an int), an empty cell None."""
    if v == "":
        return None
    return float(v) if type(v) is int else v


def _xlsx_rows(rows, first_row: int, percent: dict[int, set[int]], max_rows: int, deadline: upload_limits.Deadline):
    count = 0
    try:
        for number, values in enumerate(rows, start=first_row + 1):
            if number % 1000 == 0:
                deadline.check()
            if number > max_rows + 1:  # blank rows count: the check before parsing saw them too
                raise _too_many(max_rows)
            if all(blank(v) for v in values):
                continue
            shown = percent.get(number)
            if shown:
                cells = [Cell(_value(v), i in shown) for i, v in enumerate(values)]
            else:
                # _value, written out: this line runs for every cell of a 200,000-row file.
                cells = [Cell(None if v == "" else float(v) if type(v) is int else v) for v in values]
            count += 1
            if count > max_rows:
                raise _too_many(max_rows)
            yield number, cells
    except ImportRefused:
        raise
    except Exception as exc:  # a sheet damaged past its first row is found while streaming
        raise _not_xlsx(exc) from exc


_NUM_FMT = re.compile(rb'<(?:\w+:)?numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"')
_CELL_XFS = re.compile(rb"<(?:\w+:)?cellXfs\b.*?</(?:\w+:)?cellXfs>", re.S)
_XF = re.compile(rb"<(?:\w+:)?xf\b([^>]*)>")
_XF_NUMFMT = re.compile(rb'\snumFmtId="(\d+)"')
_BUILTIN_PERCENT = {9, 10}  # 0% and 0.00%


def percent_cells(content: bytes) -> dict[int, set[int]]:
    """The cells of the first sheet formatted as a percentage, as {row number: {column index}}:
    such a cell holds the fraction (Excel stores 0.8% as 0.008). Read from the styles and the
    sheet's XML; most files have no percentage style at all and their sheet is not scanned."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = {name.lower(): name for name in archive.namelist()}
        styles = archive.read(names["xl/styles.xml"]) if "xl/styles.xml" in names else b""
        formats = {int(i): code for i, code in _NUM_FMT.findall(styles)}
        percent_ids = _BUILTIN_PERCENT | {i for i, code in formats.items() if b"%" in code}
        block = _CELL_XFS.search(styles)
        xfs = [_XF_NUMFMT.search(attrs) for attrs in _XF.findall(block.group(0))] if block else []
        styled = {str(index).encode() for index, found in enumerate(xfs) if found and int(found.group(1)) in percent_ids}
        if not styled:
            return {}
        sheet = names.get(_first_sheet_path(archive, names))
        if sheet is None:
            return {}
        pattern = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr="([A-Z]+)(\d+)"[^>]*?\ss="(' + b"|".join(styled) + rb')"')
        pattern_s_first = re.compile(rb'<(?:\w+:)?c\b[^>]*?\ss="(' + b"|".join(styled) + rb')"[^>]*?\sr="([A-Z]+)(\d+)"')
        found: dict[int, set[int]] = {}
        carry = b""
        with archive.open(sheet) as stream:
            while block := stream.read(upload_limits.CHUNK):
                data = carry + block
                cut = data.rfind(b">") + 1
                data, carry = data[:cut], data[cut:]
                for letters, row, _style in pattern.findall(data):
                    found.setdefault(int(row), set()).add(upload_limits._column_number(letters) - 1)
                for _style, letters, row in pattern_s_first.findall(data):
                    found.setdefault(int(row), set()).add(upload_limits._column_number(letters) - 1)
        return found


def _first_sheet_path(archive: zipfile.ZipFile, names: dict[str, str]) -> str:
    """The part name (lower case) of the workbook's first sheet, through workbook.xml and its rels."""
    try:
        workbook = archive.read(names["xl/workbook.xml"])
        rels = archive.read(names["xl/_rels/workbook.xml.rels"])
    except KeyError:
        return "xl/worksheets/sheet1.xml"
    sheet = re.search(rb'<(?:\w+:)?sheet\b[^>]*?\br:id="([^"]+)"', workbook) or re.search(
        rb'<(?:\w+:)?sheet\b[^>]*?:id="([^"]+)"', workbook)
    if sheet is None:
        return "xl/worksheets/sheet1.xml"
    for attrs in re.findall(rb"<(?:\w+:)?Relationship\b([^>]*)>", rels):
        if re.search(rb'\sId="' + re.escape(sheet.group(1)) + b'"', attrs):
            target = re.search(rb'\sTarget="([^"]+)"', attrs)
            if target:
                path = target.group(1).decode("utf-8", "replace").lstrip("/")
                return (path if path.startswith("xl/") else "xl/" + path).lower()
    return "xl/worksheets/sheet1.xml"


def _encoding(content: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030, checked by decoding in chunks (a large file is
    never held twice, as bytes and as text)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            view = memoryview(content)
            for start in range(0, len(content), upload_limits.CHUNK):
                decoder.decode(view[start:start + upload_limits.CHUNK])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportRefused(i18n_text.gettext_lazy("The csv file is neither UTF-8 nor GB18030 text. Save it as “CSV UTF-8” and upload it again."))


def _stream_csv(content: bytes, max_rows: int, deadline: upload_limits.Deadline) -> Table:
    text = io.TextIOWrapper(io.BytesIO(content), encoding=_encoding(content), newline="")
    reader = csv.reader(text)
    checked = _checked_records(reader, max_rows, deadline)
    header: list[str] = []
    for _number, record in checked:
        header = [value.strip() for value in record]
        break
    return Table("csv", header, _csv_rows(checked, max_rows))


def _checked_records(reader, max_rows: int, deadline: upload_limits.Deadline):
    max_columns = settings.BULK_UPLOAD_MAX_COLUMNS
    max_cell = settings.BULK_UPLOAD_MAX_CELL_CHARS
    try:
        for number, record in enumerate(reader, start=1):
            if number % 1000 == 0:
                deadline.check()
            if number > max_rows + 1:
                raise _too_many(max_rows)
            if len(record) > max_columns:
                raise upload_limits.too_many_columns(max_columns)
            if any(len(value) > max_cell for value in record):
                raise upload_limits.cell_too_long(max_cell)
            yield number, record
    except csv.Error as exc:
        raise ImportRefused(i18n_text.gettext_lazy("The csv file could not be read: %(error)s.") % {"error": exc}) from exc


def _csv_rows(checked, max_rows: int):
    count = 0
    make = Cell._make
    blank_cell = Cell(None)
    for number, record in checked:
        if not "".join(record).strip():  # every cell blank (whitespace only)
            continue
        count += 1
        if count > max_rows:
            raise _too_many(max_rows)
        yield number, [make((v, False)) if v.strip() else blank_cell for v in record]
