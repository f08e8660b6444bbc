"""Draw a timeline with matplotlib (imported here only, and only when drawing).

One lane per task (first task at the top).  The x axis is the timeline's
causal axis (:mod:`asyncprims._axis`) by default: clock time to scale between
instants, and every instant at which several things happened spread over
steps in causal order, on a grey band, so a hand-off that takes no time still
shows as release → wake → resume → acquire.  Tick labels read clock time.
The text rendering (:meth:`Timeline.render_text`) uses the same positions.

What is drawn, each kind as one collection however many there are (so 500
tasks draw as fast as 2), and listed in the legend only when present:

* waiting bars, one ``PolyCollection`` per operation (to acquire, in wait(),
  to get, to put, in join(), at a barrier), orange shades with their own hatch;
* holding bars (blue; a hold taken while holding another is drawn thinner and
  lighter on top), labelled with the primitive when the task uses several;
* working bars (green, thin): a consumer between ``get`` and ``task_done``,
  labelled with the item number;
* markers for point events (set, notify, put, get, cancel, ...);
* wake arrows from the waker's action to the woken task's resume, one
  ``Quiver`` per cause (hand-off, set/notify, passed on after a cancellation,
  shutdown); dotted lines from each ``put`` to the ``get`` of the same item;
* a deadlock as a red line with a cross on each stuck lane and the wait-for
  cycle as red curved arrows (waiter → holder, labelled with the primitive).

``counts=True`` adds a panel below with waiter counts (lines) and queue sizes
(shaded areas) on the same x axis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._plot_parts import (
    INSTANT_STYLE,
    draw_arrows,
    draw_bands,
    draw_counts,
    draw_deadlocks,
    draw_item_flows,
    draw_markers,
    draw_spans,
    set_ticks,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .timeline import Timeline

__all__ = ["HOLDING_COLOR", "INSTANT_STYLE", "WAITING_COLOR", "plot_timeline"]

from ._plot_parts import HOLDING_COLOR, WAITING_COLOR

_CROWDED = 60  # above this many lanes: no hatching or labels, thinner markers


def _figure_size(lanes: int, counts: bool, steps: int) -> tuple[float, float]:
    height = min(max(1.2 + 0.35 * lanes, 2.4), 16.0)
    width = 10.0 + min(4.0, max(0, steps - 40) * 0.05)
    return (width, height + (2.2 if counts else 0.0))


def plot_timeline(
    timeline: Timeline,
    ax: Axes | None = None,
    *,
    counts: bool = False,
    arrows: bool = True,
    max_lanes: int | None = None,
    axis: str = "causal",
) -> Axes:
    """Draw ``timeline`` on ``ax`` (or on a new figure sized to it) and return the Axes.

    ``axis``: ``"causal"`` (default), ``"time"`` or ``"steps"`` (see
    :meth:`Timeline.axis`).  ``max_lanes`` keeps the first lanes in order of
    appearance and notes how many were left out; nothing on hidden lanes is
    drawn.  ``arrows=False`` leaves out wake arrows and item lines.
    ``counts=True`` adds the counts panel below (``ax.figure.axes`` lists
    both).  An empty or one-event timeline draws a note saying so instead of an
    empty axis.  Deterministic: fixed colours, lanes in order of appearance.
    """
    import matplotlib.pyplot as plt

    positions = timeline.axis(axis)
    lanes, hidden = timeline.visible_lanes(max_lanes)
    rows = {task: i for i, task in enumerate(lanes)}
    crowded = len(lanes) > _CROWDED
    events = timeline.events
    drawable = len(events) > 1

    counts_ax = None
    size = _figure_size(len(lanes), counts and drawable, positions.extra_steps)
    if ax is None:
        if counts and drawable:
            _, (ax, counts_ax) = plt.subplots(
                2,
                1,
                sharex=True,
                figsize=size,
                gridspec_kw={"height_ratios": (max(3, min(len(lanes), 12)), 2)},
                layout="constrained",
            )
        else:
            _, ax = plt.subplots(figsize=size if drawable else (6.0, 1.6), layout="constrained")
    elif counts and drawable:
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        counts_ax = make_axes_locatable(ax).append_axes("bottom", size="35%", pad=0.35, sharex=ax)
    assert ax is not None

    if not drawable:
        _say_nothing_to_draw(ax, timeline)
        return ax

    handles: list[Any] = []
    draw_bands(ax, positions, len(lanes), handles)
    right = positions.end
    right = max(right, draw_deadlocks(ax, timeline, positions, rows, handles, crowded))
    draw_spans(ax, timeline, positions, rows, handles, crowded)
    draw_markers(ax, timeline, positions, rows, handles, crowded)
    if arrows:
        draw_arrows(ax, timeline, positions, rows, handles, crowded)
        draw_item_flows(ax, timeline, positions, rows, handles)

    pad = right * 0.02 if right > 0 else 0.5
    ax.set_xlim(-pad, right + pad)
    ax.set_ylim(max(len(lanes), 1) - 0.5, -0.5)  # first task on top
    _lane_ticks(ax, lanes)
    set_ticks(ax, positions)
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
    notes = [f"{timeline.dropped} earlier events dropped"] if timeline.dropped else []
    if timeline.mixed_clocks:
        notes.append("runs on different clocks share this axis")
    if notes:
        ax.text(
            1.0,
            1.01,
            "; ".join(notes),
            transform=ax.transAxes,
            fontsize="small",
            va="bottom",
            ha="right",
        )
    if counts_ax is not None:
        draw_counts(counts_ax, timeline, positions)
        set_ticks(counts_ax, positions)
        ax.set_xlabel("")
        ax.tick_params(axis="x", which="both", labelbottom=False)
    return ax


def _say_nothing_to_draw(ax: Axes, timeline: Timeline) -> None:
    """Replace the chart with a sentence: there is nothing to draw over time."""
    events = timeline.events
    if not events:
        message = "no events recorded: nothing to draw"
    else:
        event = events[0]
        what = timeline.describe(event.primitive) if event.primitive else "nothing"
        message = (
            f"only one event recorded ({event.task}: {event.action} {what}): "
            "nothing to draw over time"
        )
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


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
