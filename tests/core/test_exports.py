"""Issue 10, point 3: one export writer, and typed text never becomes a formula."""
from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from openpyxl import load_workbook

from core.exports import Workbook, csv_bytes, csv_literal, xlsx_response
from tests.spreadsheets import HOSTILE, assert_literal

ROOT = Path(settings.BASE_DIR)
SOURCE_DIRS = ("core", "guarantees", "riskpool", "evaluation", "counterguarantee", "config", "scripts")


def _modules():
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _writes_a_spreadsheet(tree: ast.AST) -> list[str]:
    """Imports of a spreadsheet writer, and csv writers, in one module's syntax tree."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("openpyxl", "xlsxwriter"):
            names = {alias.name for alias in node.names}
            if node.module == "openpyxl" and names <= {"load_workbook"}:
                continue  # reading an upload is not writing an export
            found.append(f"from {node.module} import {', '.join(sorted(names))}")
        elif isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in ("openpyxl", "xlsxwriter")]
        elif isinstance(node, ast.Attribute) and node.attr in ("writer", "DictWriter") and \
                isinstance(node.value, ast.Name) and node.value.id == "csv":
            found.append(f"csv.{node.attr}")
    return found


def test_no_module_but_core_exports_writes_a_workbook_or_csv():
    offenders = {}
    for path in _modules():
        if path == ROOT / "core" / "exports.py":
            continue
        found = _writes_a_spreadsheet(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


def test_the_scan_sees_a_module_that_writes_its_own_workbook():
    tree = ast.parse("from openpyxl import Workbook\nimport csv\nw = csv.writer(f)\n")
    assert _writes_a_spreadsheet(tree) == ["from openpyxl import Workbook", "csv.writer"]


@pytest.mark.parametrize("text", [HOSTILE, "+1+2", "-1+2", "@SUM(A1:A2)", "\t=1+2", "\r=1+2", "=1+2"])
@pytest.mark.parametrize("write_only", [False, True])
def test_xlsx_text_that_looks_like_a_formula_is_a_string_cell(text, write_only):
    book = Workbook(write_only=write_only)
    sheet = book.sheet("t")
    sheet.append([text, 5])
    cell = load_workbook(io.BytesIO(book.to_bytes())).active["A1"]
    assert cell.data_type == "s" and cell.value == text.replace("\r", "\n")  # XML keeps no bare CR


def test_xlsx_response_keeps_every_text_literal_and_numbers_numbers():
    from decimal import Decimal

    response = xlsx_response(filename="x.xlsx", title=HOSTILE, subtitle=HOSTILE, headers=[HOSTILE, "n"],
                             rows=[[HOSTILE, Decimal("1.50")]])
    assert_literal(response.content)
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["B5"].value == 1.5 and sheet["B5"].number_format == "#,##0.00"


def test_xlsx_drops_characters_that_xml_cannot_hold_instead_of_failing():
    book = Workbook()
    book.sheet("t").append(["a\x01b\x0bc"])
    assert load_workbook(io.BytesIO(book.to_bytes())).active["A1"].value == "abc"


def test_xlsx_sheet_titles_lose_characters_excel_forbids():
    book = Workbook()
    book.sheet("2025/Q1: [a]*?")
    assert load_workbook(io.BytesIO(book.to_bytes())).active.title == "2025 Q1   a"


@pytest.mark.parametrize("text, written", [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("plain", "plain"), ("a=b", "a=b"),
])
def test_csv_field_starting_like_a_formula_gets_an_apostrophe(text, written):
    assert csv_literal(text) == written


def test_csv_numbers_are_written_as_they_are_and_every_field_is_quoted():
    from decimal import Decimal

    content = csv_bytes(headers=["名称", "金额"], rows=[[HOSTILE, Decimal("-1.50")], [None, 3]])
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert text.splitlines()[1].startswith('"\'=HYPERLINK(')
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["名称", "金额"], ["'" + HOSTILE, "-1.50"], ["", "3"]]
