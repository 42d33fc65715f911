"""The weekly report's and the dashboard's charts: matplotlib figures rendered to PNG bytes.

PNG rather than SVG because email clients (Gmail, Outlook) do not show inline SVG; the
bytes travel inside the email by Content-ID, or as data: URIs in the standalone page.
Figures are built with the object API (`Figure` + the Agg canvas), never `pyplot`: pyplot
keeps global state, which is neither thread-safe (the scheduler renders from a worker
thread) nor needed without a screen. The PNG carries no "Software" stamp, so the bytes
depend only on the data and the installed matplotlib.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from reports.period_counts import SentimentCounts, ShareItem

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The same colours as email.css, so a chart and the text next to it agree.
NEGATIVE, NEUTRAL, POSITIVE, UNRATED = "#dc2626", "#9ca3af", "#16a34a", "#e5e7eb"
BRAND, COMPETITOR, INK, GRID = "#2563eb", "#9ca3af", "#374151", "#e5e7eb"
WIDTH_IN, DPI = 6.4, 150
#: At most this many x labels: a 30-day or 24-hour series labels every few bars, not each.
MAX_TICKS = 12
#: Up to this many bars a volume chart draws bars; beyond (a week or a month of hours),
#: stacked stepped areas (matplotlib's bars cost ~1 ms each to build and draw).
MAX_BARS = 62


class Counted(Protocol):
    """A bar of a volume chart: a weekly report's day, a dashboard's hour or day."""

    @property
    def counts(self) -> SentimentCounts: ...


def _figure(height: float) -> Figure:
    # matplotlib is imported when a chart is drawn, not when reports (or the web app) load:
    # it costs about half a second and tens of megabytes that most processes never use.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _style(axes: object) -> None:
    axes.spines[["top", "right"]].set_visible(False)  # type: ignore[attr-defined]
    axes.tick_params(colors=INK, labelsize=8)  # type: ignore[attr-defined]
    axes.grid(axis="y", color=GRID, linewidth=0.6)  # type: ignore[attr-defined]
    axes.set_axisbelow(True)  # type: ignore[attr-defined]


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def volume_chart(
    days: Sequence[Counted], labels: Sequence[str], legend: Sequence[str]
) -> bytes:
    """Mentions per bar (a day, or an hour) as stacked bars: negative, neutral, positive, no
    sentiment (stacked stepped areas with more than MAX_BARS bars).

    `labels` are the x tick labels (one per bar; with more than MAX_TICKS bars every few is
    shown) and `legend` the four series' names, both already in the reader's language.
    """
    figure = _figure(2.6)
    axes = figure.add_subplot()
    positions = range(len(days))
    bottom = [0] * len(days)
    series = [
        ([d.counts.negative for d in days], NEGATIVE),
        ([d.counts.neutral for d in days], NEUTRAL),
        ([d.counts.positive for d in days], POSITIVE),
        ([d.counts.unrated for d in days], UNRATED),
    ]
    if len(days) > MAX_BARS:
        # One stepped area per series instead of thousands of rectangles: the same picture
        # at this width, drawn in a fraction of the time.
        axes.stackplot(
            positions,
            *[values for values, _ in series],
            colors=[colour for _, colour in series],
            labels=list(legend),
            step="mid",
            linewidth=0,
        )
        bottom = [sum(column) for column in zip(*(v for v, _ in series), strict=True)]
        axes.set_xlim(-0.5, len(days) - 0.5)
    else:
        for (values, colour), name in zip(series, legend, strict=True):
            axes.bar(positions, values, bottom=bottom, color=colour, width=0.7, label=name)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = -(-len(days) // MAX_TICKS) or 1  # ceiling division: 7 days → 1, 30 days → 3
    axes.set_xticks(list(positions)[::step], list(labels)[::step])
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_ylim(0, max(max(bottom, default=0), 1) * 1.1)
    _style(axes)
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1), fontsize=7, frameon=False, ncols=4)
    return _png(figure)


def sentiment_chart(days: Sequence[Counted], labels: Sequence[str]) -> bytes:
    """Net sentiment per day (−100 … +100) as a line; days without rated mentions are gaps."""
    figure = _figure(2.2)
    axes = figure.add_subplot()
    values = [d.counts.net_sentiment for d in days]
    xs = [i for i, v in enumerate(values) if v is not None]
    ys = [v for v in values if v is not None]
    axes.axhline(0, color=INK, linewidth=0.8)
    axes.plot(xs, ys, color=BRAND, marker="o", markersize=4, linewidth=1.8)
    for x, y in zip(xs, ys, strict=True):
        axes.annotate(
            f"{y:+.0f}" if round(y) else "0",
            (x, y),
            textcoords="offset points",
            xytext=(0, 6 if y >= 0 else -12),
            ha="center",
            fontsize=7,
            color=NEGATIVE if y < 0 else POSITIVE,
        )
    axes.set_xticks(range(len(days)), list(labels))
    axes.set_xlim(-0.5, len(days) - 0.5)
    axes.set_ylim(-135, 125)  # room for the value labels above and below the points
    axes.set_yticks([-100, -50, 0, 50, 100])
    _style(axes)
    return _png(figure)


def share_chart(items: Sequence[ShareItem]) -> bytes:
    """Share of voice as horizontal bars, the brand in blue and competitors in grey."""
    figure = _figure(0.5 + 0.35 * max(len(items), 1))
    axes = figure.add_subplot()
    names = [item.name for item in items][::-1]
    shares = [item.share for item in items][::-1]
    colours = [BRAND if item.is_brand else COMPETITOR for item in items][::-1]
    bars = axes.barh(names, shares, color=colours, height=0.6)
    axes.bar_label(bars, labels=[f"{s:.0f}%" for s in shares], fontsize=7, padding=3, color=INK)
    axes.set_xlim(0, 110)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(colors=INK, labelsize=8)
    axes.set_xticks([])
    return _png(figure)
