"""The pieces :func:`asyncprims.plotting.plot_timeline` draws, one function each.

Every function takes the Axes, the timeline, its :class:`~asyncprims._axis.Axis`
(event positions) and the visible lanes, draws one kind of artist as one
collection, and appends a legend handle only when it drew something.
matplotlib is imported inside the functions (this module is imported by
``plotting`` only).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from ._axis import format_seconds
from .timeline import INSTANT_ACTIONS, WAIT_OPERATIONS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ._axis import Axis
    from .timeline import Span, Timeline

#: Okabe-Ito, a palette readable with the common colour-vision deficiencies.
WAITING_COLOR = "#E69F00"
HOLDING_COLOR = "#0072B2"
INNER_HOLDING_COLOR = "#56B4E9"
WORKING_COLOR = "#009E73"
DEADLOCK_COLOR = "#D55E00"
#: Waiting bars by operation: (face colour, hatch).
WAITING_STYLE = {
    "acquire": (WAITING_COLOR, "////"),
    "wait": ("#F0C04A", "...."),
    "get": ("#E69F00", "\\\\\\\\"),
    "put": ("#C98A00", "xx"),
    "join": ("#F5D27A", "--"),
    "barrier": ("#E69F00", "||"),
}
_SERIES_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000")
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
    "cancel": ("x", "#D55E00"),
    "timeout": ("p", "#D55E00"),
    "release": ("|", "#000000"),
    "take": ("v", "#0072B2"),
    "give": ("^", "#0072B2"),
}
_INSTANT_LABELS = {
    "release": "release (not by holder)",
    "cancel": "wait cancelled",
    "timeout": "wait timed out",
    "pass": "passed the barrier",
    "take": "took a permit (semaphore as a signal)",
    "give": "gave a permit (semaphore as a signal)",
}
#: Wake arrows by what woke the task: (group, colour); unknown causes are hand-offs.
_BROADCAST = ("set / notify / barrier", "#CC79A7")
_WAKE_GROUPS = {
    "set": _BROADCAST,
    "notify": _BROADCAST,
    "trip": _BROADCAST,
    "drained": _BROADCAST,
    "pass-on": ("passed on after a cancellation", DEADLOCK_COLOR),
    "shutdown": ("shutdown / reset / abort", "#666666"),
    "reset": ("shutdown / reset / abort", "#666666"),
    "abort": ("shutdown / reset / abort", "#666666"),
}
_HANDOFF = ("hand-off", "#222222")
_UNFILLED = ("|", "x", "+", "_", "1", "2", "3", "4")
_HOLD_HEIGHT = 0.8
_WAIT_HEIGHT = 0.5
_WORK_HEIGHT = 0.3
_CHAR_PIXELS = 5.5  # about one x-small character at 100 dpi
_AXES_SHARE = 0.7  # the lanes' share of the figure's width (the legend takes the rest)
_MAX_CURVED_ARROWS = 400  # above this, one Quiver per cause: patches draw too slowly
_MAX_MINOR_TICKS = 150  # each tick is an artist: thousands draw slowly
_STUCK = "deadlock: stuck here"
_CYCLE = "wait-for cycle (waiter → holder)"


def _span_x(span: Span, positions: Axis) -> tuple[float, float]:
    start = positions.x(span.start_seq)
    end = positions.end if span.end_seq is None else positions.x(span.end_seq)
    return start, max(start, end)


def _rect(x0: float, x1: float, y: float, height: float) -> list[tuple[float, float]]:
    half = height / 2
    return [(x0, y - half), (x0, y + half), (x1, y + half), (x1, y - half)]


def _polygons(verts: list[list[tuple[float, float]]], **style: Any) -> Any:
    """A PolyCollection of same-shaped polygons, built from one array (several
    times faster than from lists once there are thousands)."""
    import numpy as np
    from matplotlib.collections import PolyCollection

    array: Any = np.asarray(verts, dtype=float)
    return PolyCollection(array, **style)


def _add_polygons(
    ax: Axes,
    handles: list[Any],
    verts: list[list[tuple[float, float]]],
    legend: dict[str, Any],
    **style: Any,
) -> None:
    """Draw ``verts`` as one collection styled by ``style`` (its ``label``
    included) and add its legend entry: a Patch styled by ``legend``."""
    from matplotlib.patches import Patch

    ax.add_collection(_polygons(verts, **style), autolim=False)
    handles.append(Patch(label=style["label"], **legend))


def draw_bands(ax: Axes, positions: Axis, lanes: int, handles: list[Any]) -> None:
    """A grey band behind every instant drawn as several steps."""

    if positions.mode == "time":
        return
    half = positions.step_width / 2
    bands = [
        [
            (i.start - half, -0.5),
            (i.start - half, lanes - 0.5),
            (i.end + half, lanes - 0.5),
            (i.end + half, -0.5),
        ]
        for i in positions.expanded_instants()
    ]
    if not bands:
        return
    # Neighbouring instants may touch: alternate two shades and edge each band.
    shades = ["#E4E4E4" if n % 2 == 0 else "#EEEEEE" for n in range(len(bands))]
    _add_polygons(
        ax,
        handles,
        bands,
        {"facecolor": "#E4E4E4", "edgecolor": "#BBBBBB"},
        facecolors=shades,
        edgecolors="#BBBBBB",
        linewidths=0.6,
        zorder=0,
        label="one instant, in causal steps",
    )


def draw_spans(
    ax: Axes,
    timeline: Timeline,
    positions: Axis,
    rows: dict[str, int],
    handles: list[Any],
    crowded: bool,
) -> None:
    """Waiting bars by operation, holding bars (nested ones thinner), working bars."""

    spans = [s for s in timeline.spans() if s.task in rows]
    several = set() if crowded else _lanes_with_several_primitives(spans)
    labels: list[tuple[float, float, float, str, str]] = []  # x0, x1, y, text, colour
    # Holding, by nesting depth on the lane.
    holds = sorted((s for s in spans if s.state == "holding"), key=lambda s: s.start_seq)
    open_ends: dict[str, list[float]] = {}
    outer: list[list[tuple[float, float]]] = []
    inner: list[list[tuple[float, float]]] = []
    for span in holds:
        x0, x1 = _span_x(span, positions)
        ends = [end for end in open_ends.get(span.task, []) if end > x0]
        depth = len(ends)
        open_ends[span.task] = [*ends, x1]
        height = _HOLD_HEIGHT if depth == 0 else _HOLD_HEIGHT * 0.55
        (outer if depth == 0 else inner).append(_rect(x0, x1, rows[span.task], height))
        if span.task in several:
            labels.append((x0, x1, rows[span.task], timeline.describe(span.primitive), "white"))
    for verts, color, label in (
        (outer, HOLDING_COLOR, "holding"),
        (inner, INNER_HOLDING_COLOR, "holding another too"),
    ):
        if verts:
            _add_polygons(
                ax,
                handles,
                verts,
                {"facecolor": color, "edgecolor": "white"},
                facecolors=color,
                edgecolors="white",
                linewidths=0 if crowded else 0.5,
                zorder=2,
                label=label,
            )
    # Waiting, one collection per operation.
    by_operation: dict[str, list[Span]] = {}
    for span in spans:
        if span.state == "waiting":
            by_operation.setdefault(span.operation, []).append(span)
    for operation in [*WAIT_OPERATIONS, *sorted(set(by_operation) - set(WAIT_OPERATIONS))]:
        chosen = by_operation.get(operation)
        if not chosen:
            continue
        color, style_hatch = WAITING_STYLE.get(operation, (WAITING_COLOR, "////"))
        hatch = None if crowded else style_hatch
        label = "waiting " + WAIT_OPERATIONS.get(operation, f"in {operation}")
        verts = []
        for span in chosen:
            x0, x1 = _span_x(span, positions)
            verts.append(_rect(x0, x1, rows[span.task], _WAIT_HEIGHT))
            if span.task in several:
                labels.append((x0, x1, rows[span.task], timeline.describe(span.primitive), "black"))
        _add_polygons(
            ax,
            handles,
            verts,
            {"facecolor": color, "edgecolor": "white", "hatch": hatch, "alpha": 0.8},
            facecolors=color,
            edgecolors="none" if crowded else "white",
            linewidths=0 if crowded else 0.5,
            hatch=hatch,
            alpha=0.8,
            zorder=3,
            label=label,
        )
    # Working on queue items.
    work = [s for s in spans if s.state == "working"]
    if work:
        verts = []
        for span in work:
            x0, x1 = _span_x(span, positions)
            verts.append(_rect(x0, x1, rows[span.task], _WORK_HEIGHT))
            if span.item is not None and not crowded:
                labels.append((x0, x1, rows[span.task] + 0.3, f"#{span.item}", WORKING_COLOR))
        _add_polygons(
            ax,
            handles,
            verts,
            {"facecolor": WORKING_COLOR, "alpha": 0.85},
            facecolors=WORKING_COLOR,
            edgecolors="none",
            alpha=0.85,
            zorder=3,
            label="working on an item (get → task_done)",
        )
    if not crowded:
        _label_bars(ax, labels, positions.end)
    _mark_open_spans(
        ax, [s for s in spans if s.open and s.end_seq is None], positions, rows, handles, crowded
    )


def _lanes_with_several_primitives(spans: list[Span]) -> set[str]:
    used: dict[str, set[str]] = {}
    for span in spans:
        if span.state != "working":
            used.setdefault(span.task, set()).add(span.primitive)
    return {task for task, primitives in used.items() if len(primitives) > 1}


def _label_bars(ax: Axes, labels: list[tuple[float, float, float, str, str]], end: float) -> None:
    """Text inside (or, for item numbers, just below) bars wide enough to hold it,
    never over another label of the same lane (the first placed, leftmost, wins)."""
    if end <= 0:
        return
    figure: Any = ax.figure
    figure_width = float(figure.get_size_inches()[0]) * float(figure.dpi)
    per_char = _CHAR_PIXELS * end / (figure_width * _AXES_SHARE)  # data units per character
    placed: dict[float, list[tuple[float, float]]] = {}
    for x0, x1, y, text, color in sorted(labels, key=lambda label: (label[2], label[0])):
        width = (len(text) + 1) * per_char
        start = x0 + (x1 - x0) * 0.03
        if x1 - x0 < width or any(
            start < right and left < start + width for left, right in placed.get(y, [])
        ):
            continue
        placed.setdefault(y, []).append((start, start + width))
        ax.text(
            start,
            y,
            text,
            fontsize="x-small",
            color=color,
            va="center",
            ha="left",
            zorder=7,
            clip_on=True,
        )


def _mark_open_spans(
    ax: Axes,
    spans: list[Span],
    positions: Axis,
    rows: dict[str, int],
    handles: list[Any],
    crowded: bool,
) -> None:
    from matplotlib.lines import Line2D

    if not spans:
        return
    ax.scatter(
        [positions.end] * len(spans),
        [rows[s.task] for s in spans],
        marker=">",
        s=12 if crowded else 40,
        color="#000000",
        zorder=5,
        label="still open at the end",
    )
    handles.append(
        Line2D([], [], marker=">", linestyle="", color="#000000", label="still open at the end")
    )


def draw_markers(
    ax: Axes,
    timeline: Timeline,
    positions: Axis,
    rows: dict[str, int],
    handles: list[Any],
    crowded: bool,
) -> None:
    """One scatter per kind of point event present."""
    from matplotlib.lines import Line2D

    by_kind: dict[str, list[Any]] = {}
    for event in timeline.events:
        kind = timeline.marker_of(event)
        if kind is not None and event.task in rows:
            by_kind.setdefault(kind, []).append(event)
    size = 12 if crowded else 40
    for action in INSTANT_ACTIONS:
        chosen = by_kind.get(action)
        if not chosen:
            continue
        marker, color = INSTANT_STYLE[action]
        label = _INSTANT_LABELS.get(action, action)
        filled = marker not in _UNFILLED
        edges: dict[str, Any] = (
            {"edgecolors": "black", "linewidths": 0.4} if filled else {"linewidths": 1.5}
        )
        ax.scatter(
            [positions.x(e.seq) for e in chosen],
            [rows[e.task] for e in chosen],
            marker=marker,
            s=size * (1.0 if filled else 2.0),
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


def draw_arrows(
    ax: Axes,
    timeline: Timeline,
    positions: Axis,
    rows: dict[str, int],
    handles: list[Any],
    crowded: bool,
) -> None:
    """One Quiver per cause: from each wake (waker's lane) to the resume it caused."""
    from matplotlib.lines import Line2D

    groups: dict[tuple[str, str], tuple[list[float], ...]] = {}
    causes: dict[tuple[str, str], dict[str, None]] = {}
    for wake, resume in timeline.wakes():
        if wake.task not in rows or resume.task not in rows:
            continue
        group = _WAKE_GROUPS.get(wake.detail, _HANDOFF)
        x, y, u, v = groups.setdefault(group, ([], [], [], []))
        x0, y0 = positions.x(wake.seq), rows[wake.task]
        x.append(x0)
        y.append(y0)
        u.append(positions.x(resume.seq) - x0)
        v.append(rows[resume.task] - y0)
        causes.setdefault(group, {})[wake.detail] = None
    total = sum(len(x) for x, *_ in groups.values())
    curved = not crowded and total <= _MAX_CURVED_ARROWS
    for (name, color), (x, y, u, v) in groups.items():
        label = f"wake → resume: {name}"
        if name == "hand-off":
            label += f" ({'/'.join(causes[(name, color)])})"
        if curved:
            _curved_arrows(ax, x, y, u, v, color, label)
        else:
            ax.quiver(
                x,
                y,
                u,
                v,
                angles="xy",
                scale_units="xy",
                scale=1,
                color=color,
                units="dots",
                width=0.6 if crowded else 1.3,
                headwidth=4 if crowded else 5,
                headlength=5 if crowded else 7,
                headaxislength=4.5 if crowded else 6,
                minlength=0,
                zorder=4,
                label=label,
            )
        handles.append(Line2D([], [], color=color, marker=">", markersize=4, label=label))


def _curved_arrows(
    ax: Axes, x: list[float], y: list[float], u: list[float], v: list[float], color: str, label: str
) -> None:
    """Slightly bent arrows: wakes in a regular staircase have the same slope, and
    straight arrows would then lie on one line; arcs cross instead."""
    from matplotlib.patches import FancyArrowPatch

    for x0, y0, dx, dy in zip(x, y, u, v):
        ax.add_patch(
            FancyArrowPatch(
                (x0, y0),
                (x0 + dx, y0 + dy),
                connectionstyle="arc3,rad=0.12",
                arrowstyle="-|>",
                mutation_scale=9,
                color=color,
                linewidth=1.0,
                shrinkA=0,
                shrinkB=1,
                zorder=4,
                label=label,
            )
        )


def draw_item_flows(
    ax: Axes, timeline: Timeline, positions: Axis, rows: dict[str, int], handles: list[Any]
) -> None:
    """A dotted line from each put to the get of the same item."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    segments = [
        [(positions.x(put.seq), rows[put.task]), (positions.x(get.seq), rows[get.task])]
        for put, get, _ in timeline.item_flows()
        if put.task in rows and get.task in rows and put.task != get.task
    ]
    if not segments:
        return
    label = "item: put → get"
    ax.add_collection(
        LineCollection(
            segments, colors="#56B4E9", linestyles=":", linewidths=1.0, zorder=3.5, label=label
        ),
        autolim=False,
    )
    handles.append(Line2D([], [], color="#56B4E9", linestyle=":", label=label))


def draw_deadlocks(
    ax: Axes,
    timeline: Timeline,
    positions: Axis,
    rows: dict[str, int],
    handles: list[Any],
    crowded: bool,
) -> float:
    """The deadlock line, a cross per stuck lane and the cycle's arrows; returns the
    rightmost x used (room is left right of the line for the arrows)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    right = positions.end
    deadlocks = timeline.deadlocks()
    if not deadlocks:
        return right
    has_cycle = any(deadlock.cycle for deadlock in deadlocks)
    room = max(positions.end, 1e-9) * (0.3 if has_cycle and not crowded else 0.05)
    drew_cycle = False
    for deadlock in deadlocks:
        x = positions.x(deadlock.seq)
        ax.axvline(x, color=DEADLOCK_COLOR, linestyle="--", linewidth=1.2, zorder=1)
        stuck = [t for t in deadlock.tasks if t in rows]
        ax.scatter(
            [x] * len(stuck),
            [rows[t] for t in stuck],
            marker="X",
            s=70,
            color=DEADLOCK_COLOR,
            edgecolors="black",
            linewidths=0.5,
            zorder=8,
            label=_STUCK,
        )
        cycle_edges = set(zip(deadlock.cycle, deadlock.cycle[1:]))
        for task, primitive, holder in deadlock.edges:
            if (task, holder) not in cycle_edges or task not in rows or holder not in rows:
                continue
            drew_cycle = True
            start, end = (x + room * 0.12, rows[task]), (x + room * 0.12, rows[holder])
            arrow = FancyArrowPatch(
                start,
                end,
                connectionstyle="arc3,rad=-0.4",
                arrowstyle="-|>",
                mutation_scale=12,
                color=DEADLOCK_COLOR,
                linewidth=1.5,
                zorder=8,
                shrinkA=4,
                shrinkB=4,
                label=_CYCLE,
            )
            ax.add_patch(arrow)
            if primitive and not crowded:
                label = f"{task} waits for\n{timeline.describe(primitive)}"
                ax.annotate(
                    label,
                    xy=start,
                    xytext=(14, 0),
                    textcoords="offset points",
                    fontsize="x-small",
                    color=DEADLOCK_COLOR,
                    va="center",
                    zorder=8,
                )
        right = max(right, x + room)
    handles.append(
        Line2D(
            [],
            [],
            color=DEADLOCK_COLOR,
            linestyle="--",
            marker="X",
            markeredgecolor="black",
            label=_STUCK,
        )
    )
    if drew_cycle:
        handles.append(Line2D([], [], color=DEADLOCK_COLOR, marker=">", markersize=5, label=_CYCLE))
    return right


def set_ticks(ax: Axes, positions: Axis) -> None:
    """Tick labels in seconds at their causal positions; a minor tick per step."""
    ticks = positions.ticks(max_ticks=8, min_gap=0.07)
    seconds = [s for _, s in ticks]
    step = min((b - a for a, b in itertools.pairwise(seconds) if b > a), default=None)
    ax.set_xticks([x for x, _ in ticks], [format_seconds(s, step) for s in seconds])
    if positions.mode != "time":
        minor = (
            [
                instant.start + k * positions.step_width
                for instant in positions.expanded_instants()
                for k in range(instant.steps)
            ]
            if positions.mode == "causal"
            else []
        )
        if len(minor) <= _MAX_MINOR_TICKS:
            ax.set_xticks(minor, minor=True)
    ax.set_xlabel(
        {
            "causal": "time (s); shaded: one instant, its events spread out in causal order",
            "time": "time (s)",
            "steps": "causal steps (time not to scale); labels read time (s)",
        }[positions.mode]
    )


def draw_counts(ax: Axes, timeline: Timeline, positions: Axis) -> None:
    """Tasks waiting per primitive (step lines) and queue sizes (shaded areas)."""
    from matplotlib.ticker import MaxNLocator

    colors = itertools.cycle(_SERIES_COLORS)
    waiting, sizes = _count_series(timeline, positions)
    for primitive, points in waiting.items():
        ax.step(
            [x for x, _ in points],
            [n for _, n in points],
            where="post",
            color=next(colors),
            linewidth=1.6,
            label=f"tasks waiting: {timeline.describe(primitive)}",
        )
    for primitive, points in sizes.items():
        color = next(colors)
        xs, ys = [x for x, _ in points], [n for _, n in points]
        ax.fill_between(
            xs,
            ys,
            step="post",
            color=color,
            alpha=0.25,
            linewidth=0,
            label=f"queue size: {timeline.describe(primitive)}",
        )
        ax.step(xs, ys, where="post", color=color, linewidth=0.8, linestyle="--")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("count")
    ax.set_ylim(bottom=0)
    ax.grid(axis="x", linewidth=0.5, alpha=0.4)
    if waiting or sizes:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)


def _count_series(
    timeline: Timeline, positions: Axis
) -> tuple[dict[str, list[tuple[float, float]]], dict[str, list[tuple[float, float]]]]:
    """Step series on the axis: waiters per primitive, and queue sizes."""
    ordered = sorted(timeline.events, key=lambda e: (e.time, e.seq))
    pending: dict[tuple[str, str], int] = {}
    counts: dict[str, int] = {}
    waiting: dict[str, list[tuple[float, float]]] = {}
    sizes: dict[str, list[tuple[float, float]]] = {}
    for event in ordered:
        x = positions.x(event.seq)
        key = (event.task, event.primitive)
        delta = 0
        if event.action == "wait":
            pending[key] = pending.get(key, 0) + 1
            delta = 1
        elif event.action in ("resume", "cancel", "timeout") and pending.get(key):
            pending[key] -= 1
            delta = -1
        elif event.action in ("put", "get", "shutdown") and event.value is not None:
            sizes.setdefault(event.primitive, [(0.0, 0.0)]).append((x, event.value))
        if delta:
            counts[event.primitive] = counts.get(event.primitive, 0) + delta
            waiting.setdefault(event.primitive, [(0.0, 0)]).append((x, counts[event.primitive]))
    for table in (waiting, sizes):
        for series in table.values():
            series.append((positions.end, series[-1][1]))
    return waiting, sizes
