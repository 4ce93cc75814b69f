"""The server-drawn SVG line charts (core.templatetags.charts): objects or dicts, gaps for
missing values, a plain line of text when there is nothing to draw."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D

from core.templatetags.charts import line_chart


@dataclass
class Point:
    period: str
    value: D | None


def test_a_line_per_run_of_known_values_and_the_last_value_written():
    svg = str(line_chart([Point("2025Q1", D("1")), Point("2025Q2", None), Point("2025Q3", D("2")),
                          Point("2025Q4", D("3"))], "value", "标题"))
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and svg.count("<circle") == 3
    assert "<title>标题</title>" in svg and "2025Q1" in svg and "2025Q4 · 3" in svg


def test_dict_rows_with_a_label_and_percent_format():
    svg = str(line_chart([{"label": "2025Q1", "share": D("0.5")}, {"label": "2025Q2", "share": D("0.25")}],
                         "share", "t", "percent"))
    assert "2025Q2 · 25%" in svg


def test_nothing_known_is_a_line_of_text():
    assert str(line_chart([Point("2025Q1", None)], "value", "空")) == '<p class="empty chart-empty">空</p>'
