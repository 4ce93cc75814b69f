"""Issue 13.4 in the xlsx: the published results write the total score, the leverage and a
region's mean score as numbers with two decimals (as the results page shows them), not as
whatever precision the Decimal happens to carry."""
from __future__ import annotations

import io
from decimal import Decimal as D
from types import SimpleNamespace

from openpyxl import load_workbook

from evaluation.exports import results_xlsx


def test_results_xlsx_scores_and_leverage_have_two_decimals():
    firm = SimpleNamespace(rank=1, firm=SimpleNamespace(name="甲担保"), region=SimpleNamespace(name="福州市"),
                           total=D("87.5"), leverage=D("3.456789"), get_klass_display=lambda: "合格")
    region = SimpleNamespace(rank=1, region=SimpleNamespace(name="福州市"), mean=D("87.5"), firms=1)
    book = load_workbook(io.BytesIO(results_xlsx(SimpleNamespace(year=2024), [firm], [region]).content))
    ranking, regions = book.worksheets
    assert ranking["D3"].value == 87.5 and ranking["D3"].number_format == "#,##0.00"
    assert ranking["E3"].number_format == "#,##0.00" and ranking["C3"].value == "福州市"
    assert regions["C2"].number_format == "#,##0.00"
