"""Line charts drawn on the server as inline SVG: no script and nothing fetched at run time.

A chart is meant to be read by a regulator, not only glanced at (issue 13, point 6): it has a
y axis with round-number ticks and gridlines, the unit written on that axis, every period on
the x axis, and every point labelled with its value. It sits next to the table that holds the
same figures exactly; the table stays the accessible version, the SVG carries a title.
"""
from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

register = template.Library()

WIDTH, HEIGHT = 480, 250
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 40
TICKS = 4  # about this many intervals on the y axis
TENTH = Decimal("0.1")
# Past this many points the per-point labels would overlap: only the first, last, lowest and
# highest keep theirs (the table beside the chart has every figure).
LABEL_ALL_UP_TO = 8
TICK_FONT, VALUE_FONT = 11, 10  # the font sizes of static/css/app.css (.chart-tick, .chart-value), in px
LABEL_PAD = 6  # the least space between two period labels
_NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


def _units():
    """kind → (how a stored value becomes the plotted one, places of a point label, unit)."""
    return {
        "wan": (lambda v: v.scaleb(-4), 2, _("10,000 yuan")),
        "yuan": (lambda v: v, 0, _("yuan")),
        "percent": (lambda v: v.scaleb(2), 2, "%"),
        "times": (lambda v: v, 2, _("times")),
        "plain": (lambda v: v, None, ""),
    }


def _get(point, *names):
    """The first of ``names`` that ``point`` (an object or a dict) has."""
    for name in names:
        if isinstance(point, dict):
            if name in point:
                return point[name]
        elif hasattr(point, name):
            return getattr(point, name)
    return None


def nice_axis(low: Decimal, high: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(bottom, top, step) of a y axis covering ``low``..``high`` with about ``TICKS`` intervals
    of 1, 2, 2.5 or 5 times a power of ten. The axis starts at zero unless every value is below
    it, so a bar of money is never read against a truncated scale."""
    low, high = min(low, Decimal(0)), max(high, Decimal(0))
    if low == high:
        high = low + 1
    raw = (high - low) / TICKS
    magnitude = Decimal(1).scaleb(raw.adjusted())
    step = next(s * magnitude for s in _NICE_STEPS if s * magnitude >= raw)
    bottom = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    top = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    return bottom, top, step


def _places(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _number(value: Decimal, places: int | None) -> str:
    if places is None:
        text = format(value.normalize(), ",f")
        return "0" if text == "-0" else text
    return format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), f",.{places}f")


def label_width(text: str, font_size: int = TICK_FONT) -> Decimal:
    """A generous estimate of ``text``'s drawn width: a Chinese character is a square em, any
    other character (digits, Latin, separators) at most 0.62 em in the sans-serif fonts used."""
    ems = sum(Decimal(1) if ord(ch) >= 0x2E80 else Decimal("0.62") for ch in str(text))
    return ems * font_size


def period_labels(periods: list[str], centers: list[Decimal]) -> list[tuple[int, Decimal]]:
    """Which periods are named under the x axis, and where: (index, x of the label's middle).
    Every k-th from the first, k the fewest periods the widest label needs, and the last period
    always; a label is moved in from the chart's edge rather than cut, and one that would then
    crowd the last is left out (the table beside the chart names every period)."""
    if not periods:
        return []
    widths = [label_width(p) for p in periods]
    gap = centers[1] - centers[0] if len(centers) > 1 else Decimal(WIDTH)
    every = max(1, int(((max(widths) + LABEL_PAD) / gap).to_integral_value(rounding=ROUND_CEILING)))
    last = len(periods) - 1
    chosen = [i for i in range(len(periods)) if i % every == 0 and i != last] + [last]
    placed = [(i, min(max(centers[i], (widths[i] / 2).quantize(TENTH, rounding=ROUND_CEILING)),
                      (WIDTH - widths[i] / 2).quantize(TENTH, rounding=ROUND_FLOOR))) for i in chosen]

    def crowded(a: tuple[int, Decimal], b: tuple[int, Decimal]) -> bool:
        return b[1] - a[1] < (widths[a[0]] + widths[b[0]]) / 2 + LABEL_PAD

    while len(placed) > 2 and crowded(placed[-2], placed[-1]):
        del placed[-2]
    if len(placed) == 2 and crowded(*placed):
        del placed[0]
    return placed


def _without_collisions(order: list[int], labels: dict[int, tuple[Decimal, Decimal, str]]) -> set[int]:
    """The point labels to draw, taken in ``order`` (the most telling first) and each kept only if
    its box clears every label kept before it."""
    kept: list[int] = []
    for i in order:
        cx, cy, text = labels[i]
        half = label_width(text, VALUE_FONT) / 2
        if all(abs(cx - labels[j][0]) >= half + label_width(labels[j][2], VALUE_FONT) / 2 + 2
               or abs(cy - labels[j][1]) >= VALUE_FONT + 2 for j in kept):
            kept.append(i)
    return set(kept)


@register.simple_tag
def line_chart(points, attribute: str, title: str, kind: str = "plain", target=None):
    """An SVG line of each point's ``attribute`` over ``points`` (objects or dicts, oldest first,
    each with a ``period`` or ``label``); a missing value breaks the line. ``kind`` is the unit:
    "wan" (plotted in 万元), "yuan", "percent", "times" (a multiple, such as leverage) or "plain".
    ``target`` (a stored value, like the points) draws the policy line as a labelled dashed rule."""
    convert, label_places, unit = _units().get(kind, _units()["plain"])
    values = [(str(_get(p, "period", "label")), _get(p, attribute)) for p in points]
    values = [(period, None if v is None else convert(Decimal(v))) for period, v in values]
    known = [v for _p, v in values if v is not None]
    if not known:
        return format_html('<p class="empty chart-empty">{}</p>', title)
    goal = None if target in (None, "") else convert(Decimal(str(target)))
    bottom, top, step = nice_axis(min(known + ([goal] if goal is not None else [])),
                                  max(known + ([goal] if goal is not None else [])))
    plot_w, plot_h = Decimal(WIDTH - LEFT - RIGHT), Decimal(HEIGHT - TOP - BOTTOM)
    gap = plot_w / len(values)  # each period gets a slot; its point sits in the middle

    def x(i: int) -> Decimal:
        return (LEFT + gap * i + gap / 2).quantize(TENTH)

    def y(value: Decimal) -> Decimal:
        return (TOP + plot_h * (top - value) / (top - bottom)).quantize(TENTH)

    tick_places = _places(step)
    ticks, tick = [], bottom
    while tick <= top:
        ticks.append(tick)
        tick += step
    grid = format_html_join(
        "", '<line class="chart-gridline{}" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<text class="chart-tick" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
        (("-zero" if t == 0 else "", LEFT, WIDTH - RIGHT, y(t), y(t), LEFT - 6, y(t), _number(t, tick_places))
         for t in ticks))
    x_labels = format_html_join(
        "", '<text class="chart-tick" data-axis="x" x="{}" y="{}" text-anchor="middle">{}</text>',
        ((at, HEIGHT - BOTTOM + 16, values[i][0])
         for i, at in period_labels([p for p, _v in values], [x(i) for i in range(len(values))])))

    segments, current = [], []
    for i, (_period, value) in enumerate(values):
        if value is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append((x(i), y(value)))
    if current:
        segments.append(current)
    lines = format_html_join("", '<polyline class="chart-line" points="{}"/>',
                             ((" ".join(f"{px},{py}" for px, py in seg),) for seg in segments))
    indexed = [(i, v) for i, (_p, v) in enumerate(values) if v is not None]
    wanted = [indexed[0][0], indexed[-1][0], min(indexed, key=lambda t: t[1])[0], max(indexed, key=lambda t: t[1])[0]]
    if len(indexed) <= LABEL_ALL_UP_TO:
        wanted += [i for i, _v in indexed]
    labelled = _without_collisions(
        list(dict.fromkeys(wanted)), {i: (x(i), y(v) - 7, _number(v, label_places)) for i, v in indexed})
    dots = format_html_join("", '<circle class="chart-dot" cx="{}" cy="{}" r="3"/>', ((x(i), y(v)) for i, v in indexed))
    point_labels = format_html_join(
        "", '<text class="chart-value" x="{}" y="{}" text-anchor="middle">{}</text>',
        ((x(i), y(v) - 7, _number(v, label_places)) for i, v in indexed if i in labelled))
    target_line = format_html(
        '<line class="chart-target" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="chart-target-label" x="{}" y="{}" text-anchor="end">{}</text>',
        LEFT, WIDTH - RIGHT, y(goal), y(goal), WIDTH - RIGHT, y(goal) - 4,
        _("target %(value)s") % {"value": _number(goal, label_places)}) if goal is not None else ""
    unit_text = format_html('<text class="chart-unit" x="{}" y="{}">{}</text>', 4, 14, _("Unit: %(unit)s") % {"unit": unit}) if unit else ""
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{label}">'
        "<title>{label}</title>{unit}{grid}{target}"
        '<line class="chart-axis-line" x1="{left}" x2="{left}" y1="{top}" y2="{base}"/>'
        "{x_labels}{lines}{dots}{point_labels}</svg>",
        w=WIDTH, h=HEIGHT, label=f"{title} ({unit})" if unit else title, unit=unit_text, grid=grid,
        target=target_line, left=LEFT, top=TOP, base=HEIGHT - BOTTOM, x_labels=x_labels, lines=lines, dots=dots,
        point_labels=point_labels,
    )
