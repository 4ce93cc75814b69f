"""The one place that writes spreadsheets (xlsx and csv) for people to download.

Every export and every upload template goes through ``Workbook`` (xlsx) or ``csv_response``, so
text a person typed (a borrower's name, a contract number, an objection) can never become a
formula in the reader's Excel (issue 10, point 3; OWASP "CSV injection"):

- xlsx: every text cell is stored with the string data type. openpyxl would otherwise store
  text beginning with ``=`` as a formula; a string cell is shown as typed, never evaluated.
- csv: a field beginning with ``= + - @``, tab or carriage return gets a leading apostrophe, and
  every field is quoted, as the OWASP guidance says; csv has no cell types to rely on.

A test (tests/core/test_exports.py) scans the source so no other module saves a workbook or
writes csv itself.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
# The one number style (issue 13.4), as on the pages: amounts with separators and cents (a
# column in 万元 says so in its header and uses the same format), ratios as percentages with two
# decimals, multiples such as leverage and scores with two decimals, counts whole.
MONEY_FORMAT = "#,##0.00"
RATIO_FORMAT = "0.00%"
MULTIPLE_FORMAT = "#,##0.00"
COUNT_FORMAT = "#,##0"
PLAIN = (str, int, float, Decimal, date, datetime, type(None))
# What spreadsheet programs read as the start of a formula or a DDE call in a csv field.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def plain(value):
    """A cell value as the spreadsheet stores it: lazy strings and choices become text."""
    if isinstance(value, bool):
        return value
    return value if isinstance(value, PLAIN) else str(value)


def csv_literal(value) -> str:
    """One csv field, made inert: text that a spreadsheet would run as a formula gets a leading
    apostrophe (OWASP CSV injection guidance)."""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
    return str(value)


def csv_bytes(*, headers: Sequence, rows: Iterable[Sequence]) -> bytes:
    """UTF-8 with a BOM (so Excel opens Chinese text right), every field quoted and inert."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow([csv_literal(h) for h in headers])
    for row in rows:
        writer.writerow([csv_literal(v) for v in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def csv_response(*, filename: str, headers: Sequence, rows: Iterable[Sequence]) -> HttpResponse:
    return _download(csv_bytes(headers=headers, rows=rows), CSV, filename)


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class Sheet:
    """One worksheet; rows go in only through ``append``, which keeps text literal."""

    def __init__(self, book: Workbook, worksheet):
        self._book = book
        self._ws = worksheet
        self.rows = 0

    def append(self, values: Sequence = (), *, bold: bool = False, size: float | None = None,
               fill: str | None = None, formats: Mapping[int, str] | Sequence[str | None] | None = None,
               money: bool = False, ratio_columns: Iterable[int] = ()) -> int:
        """Add a row and return its number (1-based). ``formats`` gives a number format per
        0-based column; ``money`` formats every Decimal/float cell as money, or as a percentage
        in ``ratio_columns``."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font, PatternFill

        if formats is not None and not isinstance(formats, Mapping):
            formats = dict(enumerate(formats))
        ratios = set(ratio_columns)
        font = Font(bold=bold, size=size) if bold or size else None
        pattern = PatternFill("solid", fgColor=fill) if fill else None
        cells = []
        for index, value in enumerate(values):
            value = plain(value)
            if isinstance(value, str):
                value = _ILLEGAL.sub("", value)
            cell = WriteOnlyCell(self._ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text begins with
            if font is not None:
                cell.font = font
            if pattern is not None:
                cell.fill = pattern
            if formats and formats.get(index):
                cell.number_format = formats[index]
            elif money and isinstance(value, (Decimal, float)):
                cell.number_format = RATIO_FORMAT if index in ratios else MONEY_FORMAT
            cells.append(cell)
        self._ws.append(cells)
        self.rows += 1
        return self.rows

    def freeze(self, ref: str) -> None:
        self._ws.freeze_panes = ref

    def widths(self, widths: Sequence[float] | Mapping[int, float]) -> None:
        """Column widths by 0-based column index."""
        from openpyxl.utils import get_column_letter

        items = widths.items() if isinstance(widths, Mapping) else enumerate(widths)
        for index, width in items:
            self._ws.column_dimensions[get_column_letter(index + 1)].width = width

    def format_column(self, index: int, number_format: str, *, first_row: int, last_row: int) -> None:
        """Pre-format empty cells of a column (a template's text columns keep every digit)."""
        for row in range(first_row, last_row + 1):
            self._ws.cell(row=row, column=index + 1).number_format = number_format


class Workbook:
    """An xlsx being written. ``write_only`` streams rows (a long list): no styling of columns
    after the rows, no freezing after the first row is appended."""

    def __init__(self, *, write_only: bool = False):
        from openpyxl import Workbook as OpenpyxlWorkbook

        self._book = OpenpyxlWorkbook(write_only=write_only)
        self._first = None if write_only else self._book.active
        self.write_only = write_only

    def sheet(self, title=None) -> Sheet:
        """A new worksheet (the first one reuses the book's own); a title that Excel forbids
        loses its forbidden characters and is cut to 31."""
        if title is not None:
            title = _SHEET_TITLE_FORBIDDEN.sub(" ", _ILLEGAL.sub("", str(title)))[:31].strip() or None
        if self._first is not None:
            worksheet, self._first = self._first, None
            if title:
                worksheet.title = title
        else:
            worksheet = self._book.create_sheet(title)
        return Sheet(self, worksheet)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self._book.save(buffer)
        return buffer.getvalue()

    def response(self, filename: str) -> HttpResponse:
        return _download(self.to_bytes(), XLSX, filename)


def _illegal():
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE


_ILLEGAL = _illegal()
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")


def xlsx_response(*, filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence],
                  subtitle: str = "", ratio_columns: Iterable[int] = (), widths: Sequence[int] = ()) -> HttpResponse:
    """A table as xlsx: a bold title (and optional subtitle), a bold header row, the rows with
    money and ratio cells formatted, the header frozen. ``rows`` are lists of plain values;
    Decimal cells get the money format, or the percent format in ``ratio_columns`` (0-based).
    The file is named ``filename`` (ASCII, with .xlsx)."""
    book = Workbook()
    sheet = book.sheet()
    sheet.append([str(title)], bold=True, size=13)
    sheet.append([str(subtitle)] if subtitle else [])
    sheet.append([])
    sheet.append([str(h) for h in headers], bold=True)
    ratio_columns = tuple(ratio_columns)
    for row in rows:
        sheet.append(row, money=True, ratio_columns=ratio_columns)
    sheet.freeze("A5")
    sheet.widths(widths)
    return book.response(filename)
