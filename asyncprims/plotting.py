"""Draw a timeline with matplotlib (imported here only, and only when drawing).

One lane per task (first task at the top), x = seconds from the timeline's
origin.  Every state and every marker kind is one collection, however many
spans there are, so a 500-task trace draws as fast as a 2-task one:

* a ``PolyCollection`` labelled ``waiting`` (orange, hatched, thinner bar) and
  one labelled ``holding`` (blue, solid, full-height bar), Okabe-Ito colours;
* a ``PathCollection`` (scatter) per instant kind present (``set``, ``put``, ...),
  each with its own marker, labelled with the action;
* a ``PathCollection`` labelled ``open at end`` marking spans cut by the end;
* one ``Quiver`` labelled ``wake -> resume``: an arrow from each wake
  (waker's lane, its time) to the resume it caused (woken lane, its time).

With ``counts=True`` a second Axes below shares x and shows waiter counts per
primitive (solid steps) and queue sizes (dashed steps); the main Axes is still
the one returned, and ``ax.figure.axes`` lists both.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .timeline import INSTANT_ACTIONS, instant_kind

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .timeline import Timeline

__all__ = ["HOLDING_COLOR", "WAITING_COLOR", "plot_timeline"]

#: Okabe-Ito, a palette readable with the common colour-vision deficiencies.
WAITING_COLOR = "#E69F00"
HOLDING_COLOR = "#0072B2"
_SERIES_COLORS = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#E69F00",
    "#000000",
    "#F0E442",
)
#: action -> (marker, colour)
INSTANT_STYLE = {
    "set": ("^", "#009E73"),
    "clear": ("v", "#009E73"),
    "notify": ("*", "#CC79A7"),
    "put": ("P", "#D55E00"),
    "get": ("X", "#56B4E9"),
    "task_done": ("d", "#000000"),
    "shutdown": ("s", "#000000"),
    "trip": ("D", "#CC79A7"),
    "pass": ("o", "#56B4E9"),
    "reset": ("h", "#000000"),
    "abort": ("x", "#D55E00"),
    "release": ("|", "#000000"),
}
_INSTANT_LABELS = {"release": "release (not by holder)"}
_UNFILLED = ("|", "x", "+", "_", "1", "2", "3", "4")
_HOLD_HEIGHT = 0.8
_WAIT_HEIGHT = 0.5
_CROWDED = 60  # above this many lanes: no hatching, thinner markers, sparse tick labels


def _figure_size(lanes: int, counts: bool) -> tuple[float, float]:
    height = min(max(1.2 + 0.35 * lanes, 2.4), 16.0)
    return (10.0, height + (2.2 if counts else 0.0))


def _bars(spans: list[Any], rows: dict[str, int], height: float) -> list[list[tuple[float, float]]]:
    half = height / 2
    verts = []
    for span in spans:
        y = rows[span.task]
        verts.append(
            [
                (span.start, y - half),
                (span.start, y + half),
                (span.end, y + half),
                (span.end, y - half),
            ]
        )
    return verts


def plot_timeline(
    timeline: Timeline,
    ax: Axes | None = None,
    *,
    counts: bool = False,
    arrows: bool = True,
    max_lanes: int | None = None,
) -> Axes:
    """Draw ``timeline`` on ``ax`` (or on a new figure sized to the lanes) and return the Axes.

    ``max_lanes`` keeps the first lanes in order of appearance and notes how
    many were left out (an Axes text); arrows and markers on hidden lanes are
    not drawn.  ``counts=True`` adds the counts panel below (see module doc).
    Deterministic: fixed colours, lanes in order of first appearance.
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    lanes, hidden = timeline.visible_lanes(max_lanes)
    rows = {task: i for i, task in enumerate(lanes)}
    crowded = len(lanes) > _CROWDED

    counts_ax = None
    if ax is None:
        if counts:
            _, (ax, counts_ax) = plt.subplots(
                2,
                1,
                sharex=True,
                figsize=_figure_size(len(lanes), True),
                gridspec_kw={"height_ratios": (max(3, min(len(lanes), 12)), 2)},
                layout="constrained",
            )
        else:
            _, ax = plt.subplots(figsize=_figure_size(len(lanes), False), layout="constrained")
    elif counts:
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        counts_ax = make_axes_locatable(ax).append_axes("bottom", size="35%", pad=0.35, sharex=ax)
    assert ax is not None

    spans = [s for s in timeline.spans() if s.task in rows]
    handles: list[Any] = []
    for state, color, height, zorder in (
        ("waiting", WAITING_COLOR, _WAIT_HEIGHT, 3),
        ("holding", HOLDING_COLOR, _HOLD_HEIGHT, 2),
    ):
        hatch = None if crowded or state == "holding" else "////"
        chosen = [s for s in spans if s.state == state]
        bars = PolyCollection(
            _bars(chosen, rows, height),
            facecolors=color,
            edgecolors="none" if crowded else "white",
            linewidths=0.0 if crowded else 0.5,
            hatch=hatch,
            alpha=0.75 if state == "waiting" else 1.0,
            zorder=zorder,
            label=state,
        )
        ax.add_collection(bars, autolim=False)
        handles.append(
            Patch(
                facecolor=color,
                edgecolor="white",
                hatch=hatch,
                alpha=0.75 if state == "waiting" else 1.0,
                label=state,
            )
        )

    marker_size = 12 if crowded else 40
    still_open = [s for s in spans if s.open]
    if still_open:
        ax.scatter(
            [s.end for s in still_open],
            [rows[s.task] for s in still_open],
            marker=">",
            s=marker_size,
            color="#000000",
            zorder=5,
            label="open at end",
        )
        handles.append(
            Line2D([], [], marker=">", linestyle="", color="#000000", label="open at end")
        )

    origin = timeline.origin
    events = timeline.events
    by_kind: dict[str, list[Any]] = {}
    for event in events:
        kind = instant_kind(event)
        if kind is not None and event.task in rows:
            by_kind.setdefault(kind, []).append(event)
    for action in INSTANT_ACTIONS:
        chosen_events = by_kind.get(action)
        if not chosen_events:
            continue
        marker, color = INSTANT_STYLE[action]
        label = _INSTANT_LABELS.get(action, action)
        filled = marker not in _UNFILLED
        edges: dict[str, Any] = (
            {"edgecolors": "black", "linewidths": 0.4} if filled else {"linewidths": 1.5}
        )
        ax.scatter(
            [e.time - origin for e in chosen_events],
            [rows[e.task] for e in chosen_events],
            marker=marker,
            s=marker_size * (1.0 if filled else 2.0),
            color=color,
            zorder=6,
            label=label,
            **edges,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker=marker,
                linestyle="",
                color=color,
                markeredgecolor="black" if filled else color,
                markeredgewidth=0.4 if filled else 1.5,
                label=label,
            )
        )

    if arrows:
        _draw_arrows(ax, timeline, rows, handles, crowded)

    end = timeline.end
    pad = end * 0.02 if end > 0 else 0.001
    ax.set_xlim(-pad, end + pad)
    ax.set_ylim(max(len(lanes), 1) - 0.5, -0.5)  # first task on top
    _lane_ticks(ax, lanes)
    ax.set_xlabel("time (s)")
    ax.grid(axis="x", linewidth=0.5, alpha=0.4)
    ax.set_axisbelow(True)
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        frameon=False,
    )
    if hidden:
        ax.text(
            0.0,
            1.01,
            f"showing {len(lanes)} of {len(lanes) + hidden} tasks (max_lanes={max_lanes})",
            transform=ax.transAxes,
            fontsize="small",
            va="bottom",
            ha="left",
        )
    if timeline.dropped:
        ax.text(
            1.0,
            1.01,
            f"{timeline.dropped} earlier events dropped",
            transform=ax.transAxes,
            fontsize="small",
            va="bottom",
            ha="right",
        )
    if counts_ax is not None:
        _draw_counts(counts_ax, timeline)
        ax.set_xlabel("")
        ax.tick_params(axis="x", labelbottom=False)
    return ax


def _lane_ticks(ax: Axes, lanes: list[str]) -> None:
    """One labelled tick per lane, or every k-th lane when they would crowd."""
    step = 1 if len(lanes) <= 40 else -(-len(lanes) // 40)
    positions = list(range(0, len(lanes), step))
    ax.set_yticks(
        positions,
        [lanes[i] for i in positions],
        fontsize="small" if len(lanes) <= 40 else "x-small",
    )
    ax.set_ylabel("task")


def _draw_arrows(
    ax: Axes, timeline: Timeline, rows: dict[str, int], handles: list[Any], crowded: bool
) -> None:
    """One Quiver: wake (waker lane, time) -> resume (woken lane, time)."""
    from matplotlib.lines import Line2D

    origin = timeline.origin
    wakes: dict[int, tuple[float, int]] = {}
    x: list[float] = []
    y: list[int] = []
    u: list[float] = []
    v: list[int] = []
    for event in timeline.events:
        if event.action == "wake" and event.task in rows:
            wakes[event.seq] = (event.time - origin, rows[event.task])
        elif event.action == "resume" and event.cause in wakes and event.task in rows:
            t0, row0 = wakes[event.cause]
            x.append(t0)
            y.append(row0)
            u.append(event.time - origin - t0)
            v.append(rows[event.task] - row0)
    if not x:
        return
    ax.quiver(
        x,
        y,
        u,
        v,
        angles="xy",
        scale_units="xy",
        scale=1,
        color="#222222",
        units="dots",
        width=0.6 if crowded else 1.5,
        headwidth=4 if crowded else 5,
        headlength=5 if crowded else 7,
        headaxislength=4.5 if crowded else 6,
        minlength=0,
        zorder=4,
        label="wake -> resume",
    )
    handles.append(
        Line2D([], [], color="#222222", marker=">", markersize=4, label="wake -> resume")
    )


def _draw_counts(ax: Axes, timeline: Timeline) -> None:
    """Waiter counts (solid) and queue sizes (dashed) as post-steps, one line each."""
    colors = itertools.cycle(_SERIES_COLORS)
    series: list[tuple[str, Sequence[tuple[float, float]], str]] = [
        (f"waiting: {timeline.describe(p)}", points, "-")
        for p, points in timeline.waiter_counts().items()
    ]
    series += [
        (f"size: {timeline.describe(p)}", points, "--")
        for p, points in timeline.queue_depths().items()
    ]
    for label, points, style in series:
        ax.step(
            [t for t, _ in points],
            [n for _, n in points],
            where="post",
            linestyle=style,
            color=next(colors),
            linewidth=1.4,
            label=label,
        )
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("count")
    ax.set_xlabel("time (s)")
    ax.set_ylim(bottom=0)
    ax.grid(axis="x", linewidth=0.5, alpha=0.4)
    if series:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
