"""One way to hand a table to the user as an xlsx file: a bold title (and optional subtitle),
a bold header row, the rows with money and ratio cells formatted, the header frozen."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

from django.http import HttpResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
RATIO_FORMAT = "0.00%"
PLAIN = (str, int, float, Decimal, date, datetime, type(None))


def xlsx_response(*, filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence],
                  subtitle: str = "", ratio_columns: Iterable[int] = (), widths: Sequence[int] = ()) -> HttpResponse:
    """``rows`` are lists of plain values; Decimal cells get the money format, or the percent
    format in ``ratio_columns`` (0-based). The file is named ``filename`` (ASCII, with .xlsx)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    ratios = set(ratio_columns)
    book = Workbook()
    sheet = book.active
    sheet.append([str(title)])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([str(subtitle)] if subtitle else [])
    sheet.append([])
    sheet.append([str(h) for h in headers])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([v if isinstance(v, PLAIN) else str(v) for v in row])  # lazy strings, choices
        for index, cell in enumerate(sheet[sheet.max_row]):
            if isinstance(cell.value, (Decimal, float)):
                cell.number_format = RATIO_FORMAT if index in ratios else MONEY_FORMAT
    sheet.freeze_panes = "A5"
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
