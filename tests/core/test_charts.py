"""The server-drawn SVG line charts (core.templatetags.charts), issue 13 point 6: a y axis with
round ticks and gridlines, the unit written on it, every period under the x axis, every point
labelled; objects or dicts; gaps for missing values; a plain line of text when there is nothing."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal as D

import pytest
from django.utils import translation

from core.templatetags.charts import line_chart, nice_axis


@dataclass
class Point:
    period: str
    value: D | None


def texts(svg: str, css_class: str) -> list[str]:
    return re.findall(rf'<text class="{css_class}"[^>]*>([^<]*)</text>', svg)


def test_a_line_per_run_of_known_values_and_every_point_labelled():
    svg = str(line_chart([Point("2025Q1", D("1")), Point("2025Q2", None), Point("2025Q3", D("2")),
                          Point("2025Q4", D("3"))], "value", "标题"))
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and svg.count("<circle") == 3
    assert "<title>标题</title>" in svg
    assert texts(svg, "chart-tick")[-4:] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert texts(svg, "chart-value") == ["1", "2", "3"]


def test_axis_ticks_gridlines_and_unit_for_money_in_wan():
    with translation.override("zh-hans"):
        svg = str(line_chart([{"label": "2025Q1", "v": D("1200000")}, {"label": "2025Q2", "v": D("3456789.12")}],
                             "v", "在保余额", "wan"))
    ticks = texts(svg, "chart-tick")
    assert ticks[:5] == ["0", "100", "200", "300", "400"]  # 万元, from zero, round steps
    assert svg.count('class="chart-gridline') == 5
    assert texts(svg, "chart-value") == ["120.00", "345.68"]  # half-up to the cent of a 万元
    assert "万元" in texts(svg, "chart-unit")[0] and 'aria-label="在保余额 (万元)"' in svg


def test_percent_points_with_two_decimals_and_the_percent_unit():
    svg = str(line_chart([{"label": "2025Q1", "share": D("0.5")}, {"label": "2025Q2", "share": D("0.123456")}],
                         "share", "t", "percent"))
    assert texts(svg, "chart-value") == ["50.00", "12.35"]
    assert texts(svg, "chart-unit") == ["Unit: %"]


def test_many_points_label_only_first_last_lowest_and_highest():
    values = [D(v) for v in (5, 1, 4, 4, 4, 9, 4, 4, 4, 3)]
    svg = str(line_chart([Point(f"P{i}", v) for i, v in enumerate(values)], "value", "t", "times"))
    assert texts(svg, "chart-value") == ["5.00", "1.00", "9.00", "3.00"]


@pytest.mark.parametrize(("low", "high", "expected"), [
    (D("0"), D("7"), (D("0"), D("8"), D("2"))),
    (D("0.1"), D("0.9"), (D("0"), D("1.0"), D("0.25"))),
    (D("-3"), D("5"), (D("-4"), D("6"), D("2"))),
    (D("4"), D("4"), (D("0"), D("4"), D("1"))),
    (D("0"), D("0"), (D("0"), D("1"), D("0.25"))),
])
def test_nice_axis_starts_at_zero_and_steps_by_1_2_2_5_or_5(low, high, expected):
    assert nice_axis(low, high) == expected


def test_nothing_known_is_a_line_of_text():
    assert str(line_chart([Point("2025Q1", None)], "value", "空")) == '<p class="empty chart-empty">空</p>'


def test_a_target_is_a_labelled_dashed_line_inside_the_axis():
    svg = str(line_chart([{"label": "2025Q1", "v": D("0.0098")}, {"label": "2025Q2", "v": D("0.0094")}],
                         "v", "t", "percent", target="0.012"))
    assert svg.count('class="chart-target"') == 1 and texts(svg, "chart-target-label") == ["target 1.20"]
    assert texts(svg, "chart-tick")[:4] == ["0.0", "0.5", "1.0", "1.5"]
