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


def x_axis(svg: str) -> list[tuple[D, str]]:
    return [(D(x), text) for x, text in re.findall(r'<text class="chart-tick" data-axis="x" x="([\d.]+)"[^>]*>([^<]*)</text>', svg)]


@pytest.mark.parametrize("count", [2, 5, 8, 9, 11, 12, 13, 16, 24, 40])
@pytest.mark.parametrize("style", ["2027Q3", "2027年第3季度"])
def test_period_labels_never_overlap_and_the_last_period_is_named(count, style):
    """The projection's 12 quarters drew "2029Q3" on top of "2029Q4": each label's estimated box
    (core.templatetags.charts.label_width, the CSS font size) must clear its neighbours' and the
    chart's edges, and the last period is always named."""
    from core.templatetags.charts import LABEL_PAD, WIDTH, label_width

    periods = [style.replace("3", str(i % 4 + 1)).replace("2027", str(2027 + i // 4)) for i in range(count)]
    svg = str(line_chart([{"label": p, "v": D(1000 - i)} for i, p in enumerate(periods)], "v", "t", "wan"))
    labels = x_axis(svg)
    assert labels[-1][1] == periods[-1] and labels[0][1] == periods[0]
    for (x1, t1), (x2, t2) in zip(labels, labels[1:], strict=False):
        assert x2 - x1 >= (label_width(t1) + label_width(t2)) / 2 + D(LABEL_PAD) / 2, (t1, t2)
    assert labels[0][0] - label_width(labels[0][1]) / 2 >= 0
    assert labels[-1][0] + label_width(labels[-1][1]) / 2 <= WIDTH


def test_twelve_quarters_name_every_other_quarter_and_the_last():
    svg = str(line_chart([{"label": f"{2027 + i // 4}Q{i % 4 + 1}", "v": D(i)} for i in range(12)], "v", "t"))
    assert [t for _x, t in x_axis(svg)] == ["2027Q1", "2027Q3", "2028Q1", "2028Q3", "2029Q1", "2029Q4"]


def test_point_labels_that_would_collide_are_left_to_the_table():
    """Eight points close together at the same height: the first and last keep their labels, a
    label that would sit on another's box is not drawn."""
    from core.templatetags.charts import VALUE_FONT, label_width

    svg = str(line_chart([{"label": f"P{i}", "v": D("123456789.12") + i} for i in range(8)], "v", "t", "yuan"))
    drawn = [(D(x), D(y), t) for x, y, t in re.findall(r'<text class="chart-value" x="([\d.]+)" y="([\d.-]+)"[^>]*>([^<]*)</text>', svg)]
    assert drawn[0][2] == "123,456,789" and drawn[-1][2] == "123,456,796"
    for a, b in ((a, b) for n, a in enumerate(drawn) for b in drawn[n + 1:]):
        apart_x = abs(a[0] - b[0]) >= (label_width(a[2], VALUE_FONT) + label_width(b[2], VALUE_FONT)) / 2
        assert apart_x or abs(a[1] - b[1]) >= VALUE_FONT, (a, b)
