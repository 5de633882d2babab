"""Charts as PNG pictures: the month's collection curve and a team's percents. Presentation: plain data
in, PNG bytes out.

Rendered with matplotlib's object-oriented API on the Agg canvas (no pyplot, no window, no global
figure state); matplotlib is imported on first use, so the CLI and the bot start without paying for
it. Rendering is CPU work: callers run it off the event loop (``asyncio.to_thread``). A lock keeps
two renders from interleaving inside matplotlib, whose font cache and text layout are shared.
Percents become floats here, for drawing only; every number a caption states comes from the rules.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from bot import texts

WIDTH_PX, HEIGHT_PX, DPI = 800, 450, 100  # a 16:9 picture Telegram shows without cropping
BAR_ROW_PX = 22  # the team chart grows with the team
MAX_BARS = 40  # the worst this many, for a large network
TIER_COLOURS = ("#e69f00", "#009e73", "#0072b2", "#cc79a7")
CURRENT_COLOUR, PREVIOUS_COLOUR, BELOW_COLOUR, ABOVE_COLOUR = "#1f4e79", "#a6a6a6", "#d9534f", "#5b9bd5"

_render_lock = threading.Lock()


@dataclass(frozen=True)
class Curve:
    """Percent collected by the end of each day of a month (``None``: no base that month)."""

    label: str  # "февраль 2019"
    days: tuple[date, ...]
    percents: tuple[Decimal | None, ...]


def _figure(height_px: int = HEIGHT_PX) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI)


def _png(figure: Any) -> bytes:
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)  # the figure's own size: no bbox cropping
    return buffer.getvalue()


def _percent_axis(values: Sequence[float]) -> float:
    return max(100.0, *values, 0.0) + 5.0


def collection_curve_png(
    title: str, current: Curve, previous: Curve | None, days_in_month: int, thresholds: Sequence[Decimal]
) -> bytes:
    """The month's curve by day of the month against each tier's line (75 %, 85 %) and against the
    previous month's curve on the same days; ``WIDTH_PX`` × ``HEIGHT_PX`` pixels."""
    with _render_lock:
        figure = _figure()
        axes = figure.add_subplot()
        drawn: list[float] = []
        lines = ((previous, PREVIOUS_COLOUR, "--", 1.5), (current, CURRENT_COLOUR, "-", 2.5))
        for curve, colour, style, width in lines:
            if curve is None:
                continue
            points = [(d.day, float(p)) for d, p in zip(curve.days, curve.percents, strict=True) if p is not None]
            if points:
                drawn += [y for _, y in points]
                axes.plot(*zip(*points, strict=True), style, color=colour, linewidth=width, label=curve.label,
                          marker="o" if len(points) == 1 else None)  # fmt: skip
        for n, threshold in enumerate(thresholds):
            colour = TIER_COLOURS[n % len(TIER_COLOURS)]
            axes.axhline(float(threshold), color=colour, linestyle=":", linewidth=1.5,
                         label=texts.threshold(threshold))  # fmt: skip
        axes.set_xlim(1, days_in_month)
        axes.set_ylim(0, _percent_axis(drawn))
        axes.set_xlabel("день месяца")
        axes.set_ylabel("собрано, %")
        axes.set_title(plain(title), fontsize=12)
        axes.grid(True, alpha=0.3)
        if axes.get_legend_handles_labels()[0]:  # nothing to explain without a base and without tiers
            axes.legend(loc="upper left", fontsize=9)
        figure.tight_layout()
        return _png(figure)


def team_bars_height(count: int) -> int:
    return max(HEIGHT_PX, 110 + BAR_ROW_PX * min(count, MAX_BARS))


def team_bars_png(title: str, managers: Sequence[tuple[str, Decimal | None]], thresholds: Sequence[Decimal]) -> bytes:
    """One horizontal bar per manager, worst at the top (in the order given, cut to ``MAX_BARS``),
    red below the first tier, with each tier's line; ``WIDTH_PX`` wide, ``team_bars_height`` high."""
    shown = list(managers)[:MAX_BARS]
    with _render_lock:
        figure = _figure(team_bars_height(len(shown)))
        axes = figure.add_subplot()
        first = float(thresholds[0]) if thresholds else 0.0
        values = [float(p) if p is not None else 0.0 for _, p in shown]
        colours = [BELOW_COLOUR if v < first else ABOVE_COLOUR for v in values]
        positions = list(range(len(shown)))
        axes.barh(positions, values, color=colours)
        axes.set_yticks(positions, [_short(name) for name, _ in shown], fontsize=9)
        axes.invert_yaxis()  # the worst first, at the top
        for position, (value, (_, percent)) in enumerate(zip(values, shown, strict=True)):
            axes.text(value + 0.5, position, texts.percent(percent), va="center", fontsize=8)
        for n, threshold in enumerate(thresholds):
            axes.axvline(float(threshold), color=TIER_COLOURS[n % len(TIER_COLOURS)], linestyle=":", linewidth=1.5,
                         label=texts.threshold(threshold))  # fmt: skip
        axes.set_xlim(0, _percent_axis(values) + 8)
        axes.set_xlabel("собрано, %")
        axes.set_title(plain(title), fontsize=12)
        axes.grid(True, axis="x", alpha=0.3)
        if thresholds:
            axes.legend(loc="lower right", fontsize=9)
        figure.tight_layout()
        return _png(figure)


def _short(name: str, limit: int = 24) -> str:
    return plain(name if len(name) <= limit else name[: limit - 1] + "…")


def plain(text: str) -> str:
    """Text from the data drawn as it is: a ``$`` would start matplotlib's math mode."""
    return text.replace("$", r"\$")


class PictureCache:
    """Rendered pictures (PNG and caption) by key (who, which month, which day, which import): a picture is drawn once
    per day and import and then sent again from memory. Least recently used first out."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[bytes, str]] = OrderedDict()

    def get(self, key: Hashable) -> tuple[bytes, str] | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: Hashable, picture: tuple[bytes, str]) -> None:
        self._items[key] = picture
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
