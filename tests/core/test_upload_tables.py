"""Issue 12: an xlsx upload is streamed (calamine-plus), its cells typed as python-calamine typed them."""
from __future__ import annotations

import io
import types
from datetime import date, datetime, time

import pytest
from openpyxl import Workbook

from core.bulk import ImportRefused
from core.upload_tables import Cell, read_table, stream_table


def xlsx(fill) -> bytes:
    book = Workbook()
    fill(book.active)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def every_kind(sheet) -> None:
    sheet.append(["名称", "整数", "小数", "比例", "日期", "日期时间", "是否", "空", "时间", "大数", "空格", "负零"])
    sheet.append(["中文 text", 3, 3.5, 0.008, date(2024, 1, 31), datetime(2024, 1, 31, 10, 30), True, None,
                  time(10, 5), 123456789012345678, "  ", -0.0])
    sheet["D2"].number_format = "0.00%"
    sheet["E2"].number_format = "yyyy-mm-dd"
    sheet["K3"] = 45000  # a serial number shown as a date is a date
    sheet["K3"].number_format = "yyyy/m/d"


def test_every_cell_type_is_read_as_python_calamine_read_it():
    """The values python-calamine 0.9.1 gave for this workbook (checked side by side when the reader
    changed), but for -0.0, now 0.0."""
    table = read_table(xlsx(every_kind))
    assert table.kind == "xlsx"
    assert table.header == ["名称", "整数", "小数", "比例", "日期", "日期时间", "是否", "空", "时间", "大数", "空格", "负零"]
    (number, cells), (number_3, cells_3) = table.rows
    assert number == 2
    values = [cell.value for cell in cells]
    assert values == ["中文 text", 3.0, 3.5, 0.008, date(2024, 1, 31), datetime(2024, 1, 31, 10, 30), True, None,
                      time(10, 5), 1.234567890123457e17, None, 0.0]
    # numbers are floats (whole ones too), as python-calamine gives them; True stays a bool
    assert [type(value) for value in values] == [str, float, float, float, date, datetime, bool, type(None), time,
                                                 float, type(None), float]
    assert [cell.percent_format for cell in cells] == [False, False, False, True] + [False] * 8
    assert number_3 == 3
    assert cells_3[10] == Cell(date(2023, 3, 15))
    assert all(cell.value is None for cell in cells_3[:10])


def test_rows_keep_the_sheets_numbers_and_blank_rows_are_skipped():
    def fill(sheet):
        sheet["A1"], sheet["B1"] = "a", "b"
        sheet["B3"] = "x"
        sheet["A5"] = 7

    table = read_table(xlsx(fill))
    assert table.header == ["a", "b"]
    assert [(number, [cell.value for cell in cells]) for number, cells in table.rows] == [
        (3, [None, "x"]), (5, [7.0, None])]


def test_an_xlsx_is_streamed_one_row_at_a_time():
    table = stream_table(xlsx(every_kind))
    assert isinstance(table.rows, types.GeneratorType)
    assert next(table.rows)[0] == 2


def test_rows_over_the_limit_are_refused_while_streaming():
    def fill(sheet):
        sheet.append(["a"])
        for n in range(5):
            sheet.append([n])

    table = stream_table(xlsx(fill), max_rows=3)
    with pytest.raises(ImportRefused):
        list(table.rows)


def test_a_damaged_workbook_is_refused_as_not_an_xlsx():
    content = xlsx(every_kind)
    with pytest.raises(ImportRefused) as caught:
        read_table(content[: len(content) // 2])
    assert "xlsx" in str(caught.value.message)
