"""Server-side SVG geometry for the progress page (no JavaScript, no chart library).

Pure functions: they take plain series and return coordinates that a template
draws, so a chart is testable with numbers and readable without CSS.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 600
HEIGHT = 220
MARGIN_LEFT = 44  # room for "100%" at 13 px
MARGIN_RIGHT = 10
MARGIN_TOP = 10
MARGIN_BOTTOM = 28


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float
    show_label: bool


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    value: float


@dataclass(frozen=True)
class XLabel:
    """A label under the x axis; anchored so it never runs past the chart's edges."""

    x: float
    text: str
    anchor: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    points: list[Point]
    ticks: list[Tick]
    baseline: float
    left: float
    right: float
    x_labels: list[XLabel] = ()  # type: ignore[assignment]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _nice_max(value: float) -> float:
    """Round the axis maximum up to 1, 2 or 5 times a power of ten (5 ticks stay readable)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _ticks(y_max: float, count: int = 4) -> list[Tick]:
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    ticks = []
    for i in range(count + 1):
        value = y_max * i / count
        label = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
        ticks.append(Tick(y=HEIGHT - MARGIN_BOTTOM - plot_height * i / count, label=label))
    return ticks


def _nice_step(value: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value`` (>= 1)."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if value <= step * magnitude:
                return step * magnitude
        magnitude *= 10


def _count_ticks(max_value: float) -> tuple[int, list[Tick]]:
    """Whole-number ticks for counts (never 1.2 events): the axis top and its ticks."""
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    step = _nice_step(max(max_value, 1) / 4)
    top = step * max(1, -(-int(max_value) // step)) if max_value > 0 else 1
    count = top // step
    ticks = [
        Tick(y=HEIGHT - MARGIN_BOTTOM - plot_height * i / count, label=str(step * i))
        for i in range(count + 1)
    ]
    return top, ticks


# Half the width of a date label like "04 Dec" at 13 px, in SVG units.
LABEL_HALF_WIDTH = 24


def _x_label(x: float, text: str) -> XLabel:
    """Centred under x, or pinned to an edge so the first and last labels are not clipped."""
    if x + LABEL_HALF_WIDTH > WIDTH - 2:
        return XLabel(WIDTH - 2, text, "end")
    if x - LABEL_HALF_WIDTH < 2:
        return XLabel(2, text, "start")
    return XLabel(x, text, "middle")


def _label_every(n: int) -> int:
    # At most ~8 x-axis labels so they do not overlap on a phone-width SVG.
    return max(1, -(-n // 8))


def bar_chart(series: list[tuple[str, float]], *, y_max: float | None = None) -> Chart:
    """Bars for counts per period (labels are dates); the y axis has whole-number ticks."""
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top, ticks = _count_ticks(y_max or max((v for _, v in series), default=0))
    slot = plot_width / max(len(series), 1)
    every = _label_every(len(series))
    bars = []
    for i, (label, value) in enumerate(series):
        height = plot_height * min(value, top) / top
        bars.append(
            Bar(
                x=MARGIN_LEFT + i * slot + slot * 0.15,
                y=HEIGHT - MARGIN_BOTTOM - height,
                width=slot * 0.7,
                height=height,
                label=label,
                value=value,
                # Counted from the end: the latest day always has its date.
                show_label=(len(series) - 1 - i) % every == 0,
            )
        )
    labels = [_x_label(bar.x + bar.width / 2, bar.label) for bar in bars if bar.show_label]
    return Chart(
        WIDTH,
        HEIGHT,
        bars,
        [],
        ticks,
        HEIGHT - MARGIN_BOTTOM,
        MARGIN_LEFT,
        WIDTH - MARGIN_RIGHT,
        labels,
    )


def line_chart(series: list[tuple[str, float]], *, y_max: float = 100) -> Chart:
    """A line over time (labels are dates, shown under the axis); y from 0 to ``y_max``."""
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    step = plot_width / max(len(series) - 1, 1)
    points = [
        Point(
            x=MARGIN_LEFT + (i * step if len(series) > 1 else plot_width / 2),
            y=HEIGHT - MARGIN_BOTTOM - plot_height * min(value, y_max) / y_max,
            label=label,
            value=value,
        )
        for i, (label, value) in enumerate(series)
    ]
    every = _label_every(len(points))
    last = len(points) - 1
    labels = [_x_label(p.x, p.label) for i, p in enumerate(points) if (last - i) % every == 0]
    return Chart(
        WIDTH,
        HEIGHT,
        [],
        points,
        _ticks(y_max),
        HEIGHT - MARGIN_BOTTOM,
        MARGIN_LEFT,
        WIDTH - MARGIN_RIGHT,
        labels,
    )


@dataclass(frozen=True)
class HBar:
    y: float
    width: float
    target_x: float | None
    label: str
    value: int
    target: int | None


@dataclass(frozen=True)
class HBarChart:
    width: int
    height: int
    left: float
    row_height: float
    scale_max: int
    rows: list[HBar]


def level_chart(
    rows: list[tuple[str, int, int | None]], *, scale_max: int = 10, label_width: float = 150
) -> HBarChart:
    """Horizontal bars for (skill name, level, target level or None) on a 0-10 scale."""
    row_height = 28.0
    plot_width = WIDTH - label_width - MARGIN_RIGHT - 30
    bars = [
        HBar(
            y=MARGIN_TOP + i * row_height,
            width=plot_width * min(level, scale_max) / scale_max,
            target_x=(
                label_width + plot_width * min(target, scale_max) / scale_max if target else None
            ),
            label=label,
            value=level,
            target=target,
        )
        for i, (label, level, target) in enumerate(rows)
    ]
    height = int(MARGIN_TOP * 2 + row_height * max(len(rows), 1))
    return HBarChart(WIDTH, height, label_width, row_height, scale_max, bars)
