"""The matplotlib chart, checked through its artists (never pixels), on the Agg backend."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection, PolyCollection  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402

from asyncprims.plotting import HOLDING_COLOR, WAITING_COLOR  # noqa: E402
from asyncprims.timeline import Timeline  # noqa: E402
from asyncprims.tracing import TraceEvent  # noqa: E402

pytestmark = [pytest.mark.plotting, pytest.mark.filterwarnings("error")]


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def story() -> Timeline:
    """Two tasks hand a lock over; a queue put/get; a callback releases; one open wait."""
    rows: list[tuple[Any, ...]] = []

    def add(
        time: float,
        task: str,
        prim: str,
        kind: str,
        action: str,
        detail: str = "",
        target: str | None = None,
        cause: int | None = None,
        value: float | None = None,
    ) -> int:
        rows.append((len(rows), time, task, prim, kind, action, detail, target, cause, value))
        return len(rows) - 1

    add(0.0, "coro1", "db", "Lock", "acquire")
    add(0.0, "coro2", "db", "Lock", "wait", "acquire")
    add(0.1, "coro1", "db", "Lock", "release", target="coro1")
    wake = add(0.1, "coro1", "db", "Lock", "wake", "release", target="coro2")
    add(0.1, "coro2", "db", "Lock", "resume", target="coro1", cause=wake)
    add(0.1, "coro2", "db", "Lock", "acquire")
    add(0.15, "coro1", "q", "Queue", "put", value=1)
    add(0.2, "callback", "db", "Lock", "release", target="coro2")
    add(0.25, "coro2", "q", "Queue", "get", value=0)
    add(0.3, "coro1", "ev", "Event", "wait", "wait")
    return Timeline.from_events([TraceEvent(*r) for r in rows], virtual_time=True)


def big(tasks: int, rounds: int) -> Timeline:
    """``tasks`` tasks queue on one lock ``rounds`` times: 2 * rounds spans per task."""
    rows: list[tuple[Any, ...]] = []
    t = 0.0
    names = [f"task-{i:03d}" for i in range(tasks)]
    for _ in range(rounds):
        for name in names:
            rows.append((len(rows), t, name, "db", "Lock", "wait", "acquire", None, None, None))
        for name in names:
            wake = len(rows)
            rows.append((wake, t, "callback", "db", "Lock", "wake", "release", name, None, None))
            rows.append((len(rows), t, name, "db", "Lock", "resume", "", "callback", wake, None))
            rows.append((len(rows), t, name, "db", "Lock", "acquire", "", None, None, None))
            t += 0.001
            rows.append((len(rows), t, name, "db", "Lock", "release", "", name, None, None))
    return Timeline.from_events([TraceEvent(*r) for r in rows], virtual_time=True)


def collection(ax: Any, label: str) -> Any:
    found = [c for c in ax.collections if c.get_label() == label]
    assert len(found) == 1, [c.get_label() for c in ax.collections]
    return found[0]


def wake_arrows(ax: Any) -> list[tuple[float, float, float, float]]:
    """(x0, y0, x1, y1) of every wake arrow, curved patches or Quiver."""
    found = []
    for patch in ax.patches:
        if str(patch.get_label()).startswith("wake"):
            (x0, y0), (x1, y1) = patch._posA_posB
            found.append((x0, y0, x1, y1))
    for c in ax.collections:
        if isinstance(c, Quiver):
            for x, y, u, v in zip(c.X, c.Y, c.U, c.V):
                found.append((x, y, x + u, y + v))
    return found


def test_artists_of_a_small_chart() -> None:
    timeline = story()
    x = timeline.axis().x
    ax = timeline.plot()
    labels = [c.get_label() for c in ax.collections]
    assert labels == [
        "one instant, in causal steps",
        "holding",
        "waiting to acquire",
        "waiting in wait()",
        "still open at the end",
        "put",
        "get",
        "release (not by holder)",
    ]
    waiting, holding = collection(ax, "waiting to acquire"), collection(ax, "holding")
    assert isinstance(waiting, PolyCollection) and isinstance(holding, PolyCollection)
    # one polygon per span, from its start event's position to its end event's
    assert len(waiting.get_paths()) == 1 and len(holding.get_paths()) == 2
    box = holding.get_paths()[1].vertices
    assert box[:, 0].min() == pytest.approx(x(5)) and box[:, 0].max() == pytest.approx(x(7))
    assert x(7) - x(5) > 0.1  # a hold of 0.1 s (and the steps inside it) is to scale
    assert (box[:, 1].min(), box[:, 1].max()) == pytest.approx((0.6, 1.4))  # coro2: lane 1
    assert matplotlib.colors.to_hex(waiting.get_facecolor()[0]) == WAITING_COLOR.lower()
    assert matplotlib.colors.to_hex(holding.get_facecolor()[0]) == HOLDING_COLOR.lower()
    assert waiting.get_hatch() == "////" and holding.get_hatch() is None
    assert collection(ax, "waiting in wait()").get_hatch() == "...."
    put = collection(ax, "put")
    assert isinstance(put, PathCollection)
    assert put.get_offsets().tolist() == [[pytest.approx(x(6)), 0.0]]
    release = collection(ax, "release (not by holder)")
    assert release.get_offsets().tolist() == [[pytest.approx(x(7)), 2.0]]
    assert collection(ax, "still open at the end").get_offsets().tolist() == [
        [pytest.approx(timeline.axis().end), 0.0]
    ]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [*labels, "wake → resume: hand-off (release)"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["coro1", "coro2", "callback"]
    assert ax.get_ylim() == (2.5, -0.5)  # first task on top
    assert ax.get_xlabel().startswith("time (s)")
    ticks = {t.get_text() for t in ax.get_xticklabels()}
    assert {"0", "0.1", "0.2", "0.3"} <= ticks


def test_time_axis_puts_events_at_their_time() -> None:
    ax = story().plot(axis="time")
    assert collection(ax, "put").get_offsets().tolist() == [[0.15, 0.0]]
    assert "one instant, in causal steps" not in [c.get_label() for c in ax.collections]
    assert ax.get_xlabel() == "time (s)"


def test_arrows_from_waker_to_woken() -> None:
    timeline = story()
    x = timeline.axis().x
    ax = timeline.plot()
    arrows = wake_arrows(ax)
    # release+wake by coro1 (seq 2, 3) on lane 0 -> resume (seq 4) on lane 1
    assert arrows == [(pytest.approx(x(3)), 0, pytest.approx(x(4)), 1)]
    assert x(4) > x(3)  # the hand-off has width: a step of its own
    without = story().plot(arrows=False)
    assert wake_arrows(without) == []
    assert not any(t.get_text().startswith("wake") for t in without.get_legend().get_texts())


def test_counts_panel() -> None:
    ax = story().plot(counts=True)
    fig = ax.figure
    assert len(fig.axes) == 2 and fig.axes[0] is ax
    counts_ax = fig.axes[1]
    assert counts_ax.get_shared_x_axes().joined(ax, counts_ax)
    lines = {line.get_label(): line for line in counts_ax.get_lines()}
    assert [name for name in lines if not name.startswith("_")] == [
        "tasks waiting: Lock 'db'",
        "tasks waiting: Event 'ev'",
    ]
    # queue sizes are shaded areas, so they never hide a waiter line of the same height
    areas = [c.get_label() for c in counts_ax.collections]
    assert areas == ["queue size: Queue 'q'"]
    assert [t.get_text() for t in counts_ax.get_legend().get_texts()] == [
        "tasks waiting: Lock 'db'",
        "tasks waiting: Event 'ev'",
        "queue size: Queue 'q'",
    ]
    assert list(lines["tasks waiting: Lock 'db'"].get_ydata()) == [0, 1, 0, 0]
    fig.canvas.draw()


def test_draws_on_a_given_axes_and_can_add_counts() -> None:
    fig, given = plt.subplots()
    assert story().plot(ax=given) is given
    assert len(fig.axes) == 1
    fig2, given2 = plt.subplots()
    assert story().plot(ax=given2, counts=True) is given2
    assert len(fig2.axes) == 2 and fig2.axes[1].get_ylabel() == "count"
    fig2.canvas.draw()


def test_figure_size_follows_lanes() -> None:
    small = story().plot().figure.get_size_inches()
    large = big(30, 1).plot().figure.get_size_inches()
    assert small[1] < large[1]


def test_max_lanes_truncates_with_a_note() -> None:
    ax = big(10, 1).plot(max_lanes=4)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "task-000",
        "task-001",
        "task-002",
        "task-003",
    ]
    assert [t.get_text() for t in ax.texts] == ["showing 4 of 11 tasks (max_lanes=4)"]
    assert len(collection(ax, "holding").get_paths()) == 4
    assert wake_arrows(ax) == []  # every waker is the hidden callback lane


def test_bad_lane_limit_is_an_error() -> None:
    with pytest.raises(ValueError, match="max_lanes must be at least 1, not 0"):
        story().plot(max_lanes=0)
    with pytest.raises(TypeError, match="max_lanes must be an int, not str"):
        story().plot(max_lanes="4")


def test_many_lanes_draw_with_sparse_labels() -> None:
    timeline = big(500, 10)
    assert len(timeline.tasks) == 501 and len(timeline.spans()) == 500 * 20
    ax = timeline.plot(counts=True)
    ax.figure.canvas.draw()
    assert len(collection(ax, "waiting to acquire").get_paths()) == 5000
    assert len(collection(ax, "holding").get_paths()) == 5000
    quivers = [c for c in ax.collections if isinstance(c, Quiver)]  # too many for patches
    assert len(quivers) == 1 and quivers[0].N == 5000
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert 20 <= len(ticks) <= 40 and ticks[0] == "task-000"
    assert collection(ax, "waiting to acquire").get_hatch() is None  # thin lanes: no hatching
    labels = [t.get_text() for t in ax.figure.axes[1].get_xticklabels()]
    assert 3 <= len(labels) <= 8 and labels[0] == "0"


def test_deterministic_colours_and_layout() -> None:
    first, second = story().plot(), story().plot()
    for a, b in zip(first.collections, second.collections, strict=True):
        assert a.get_label() == b.get_label()
        assert (a.get_facecolor() == b.get_facecolor()).all()


def test_empty_and_one_event_timelines_say_so() -> None:
    ax = Timeline.from_events([]).plot(counts=True)
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.texts] == ["no events recorded: nothing to draw"]
    assert ax.get_legend() is None and len(ax.collections) == 0 and len(ax.figure.axes) == 1
    one = Timeline.from_events([TraceEvent(0, 0.0, "main", "db", "Lock", "acquire")]).plot()
    assert [t.get_text() for t in one.texts] == [
        "only one event recorded (main: acquire Lock 'db'): nothing to draw over time"
    ]


def test_import_asyncprims_does_not_import_matplotlib() -> None:
    code = (
        "import sys, asyncprims, asyncprims.timeline; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'; "
        "t = asyncprims.Timeline.from_events([]); t.render_text(); t.summary(); "
        "t.to_chrome_trace(); assert 'matplotlib' not in sys.modules"
    )
    with warnings.catch_warnings():
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
