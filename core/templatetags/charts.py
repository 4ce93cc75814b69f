"""Line charts drawn on the server as inline SVG: no script and nothing fetched at run time, and
each chart sits next to the table that holds the same figures (the table is the accessible
version; the SVG carries a title and is otherwise decorative)."""
from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html, format_html_join

from core.templatetags import money

register = template.Library()
WIDTH, HEIGHT, PAD_X, PAD_TOP, PAD_BOTTOM = 320, 120, 8, 12, 22


def _scale(values: list[Decimal]) -> tuple[Decimal, Decimal]:
    low, high = min(values), max(values)
    if low == high:
        return (low - 1, high + 1) if low else (Decimal("0"), Decimal("1"))
    return min(low, Decimal("0")) if low >= 0 else low, high


def _get(point, *names):
    """The first of ``names`` that ``point`` (an object or a dict) has."""
    for name in names:
        if isinstance(point, dict):
            if name in point:
                return point[name]
        elif hasattr(point, name):
            return getattr(point, name)
    return None


@register.simple_tag
def line_chart(points, attribute: str, title: str, kind: str = "plain"):
    """An SVG line of each point's ``attribute`` over ``points`` (objects or dicts, oldest first,
    each with a ``period`` or ``label``); a missing value breaks the line. The first and last labels are drawn, the last
    value written as ``kind`` says: "wan" (万元), "percent" or "plain"."""
    values = [(_get(p, "period", "label"), _get(p, attribute)) for p in points]
    known = [v for _p, v in values if v is not None]
    if not known:
        return format_html('<p class="empty chart-empty">{}</p>', title)
    low, high = _scale(known)
    span = high - low
    step = Decimal(WIDTH - 2 * PAD_X) / max(len(values) - 1, 1)
    tenth = Decimal("0.1")

    def xy(i: int, value: Decimal) -> tuple[Decimal, Decimal]:
        """Pixel coordinates, to a tenth (Decimal throughout: the values are money and ratios)."""
        y = PAD_TOP + (HEIGHT - PAD_TOP - PAD_BOTTOM) * (high - Decimal(value)) / span
        return (PAD_X + i * step).quantize(tenth), y.quantize(tenth)

    segments, current = [], []
    for i, (_period, value) in enumerate(values):
        if value is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(xy(i, value))
    if current:
        segments.append(current)
    lines = format_html_join("", '<polyline fill="none" stroke="currentColor" stroke-width="2" points="{}"/>',
                             ((" ".join(f"{x},{y}" for x, y in seg),) for seg in segments))
    dots = format_html_join("", '<circle cx="{}" cy="{}" r="2.5"/>', (xy(i, v) for i, (_p, v) in enumerate(values) if v is not None))
    last = known[-1]
    label = {"wan": money.wan, "percent": money.percent}.get(kind, str)(last)
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{t}">'
        "<title>{t}</title>{lines}{dots}"
        '<text x="{px}" y="{ty}" class="chart-axis">{first}</text>'
        '<text x="{rx}" y="{ty}" text-anchor="end" class="chart-axis">{lastp} · {label}</text></svg>',
        w=WIDTH, h=HEIGHT, t=title, lines=lines, dots=dots, px=PAD_X, rx=WIDTH - PAD_X, ty=HEIGHT - 6,
        first=values[0][0], lastp=values[-1][0], label=label,
    )


