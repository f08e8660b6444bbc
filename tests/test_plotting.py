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


def test_artists_of_a_small_chart() -> None:
    ax = story().plot()
    labels = [c.get_label() for c in ax.collections]
    assert labels == [
        "waiting",
        "holding",
        "open at end",
        "put",
        "get",
        "release (not by holder)",
        "wake -> resume",
    ]
    waiting, holding = collection(ax, "waiting"), collection(ax, "holding")
    assert isinstance(waiting, PolyCollection) and isinstance(holding, PolyCollection)
    # one polygon per span, x from start to end, centred on the lane
    assert len(waiting.get_paths()) == 2 and len(holding.get_paths()) == 2
    box = holding.get_paths()[1].vertices
    assert box[:, 0].min() == pytest.approx(0.1) and box[:, 0].max() == pytest.approx(0.2)
    assert (box[:, 1].min(), box[:, 1].max()) == pytest.approx((0.6, 1.4))  # coro2: lane 1
    assert matplotlib.colors.to_hex(waiting.get_facecolor()[0]) == WAITING_COLOR.lower()
    assert matplotlib.colors.to_hex(holding.get_facecolor()[0]) == HOLDING_COLOR.lower()
    assert waiting.get_hatch() == "////" and holding.get_hatch() is None
    put = collection(ax, "put")
    assert isinstance(put, PathCollection)
    assert put.get_offsets().tolist() == [[0.15, 0.0]]
    assert collection(ax, "release (not by holder)").get_offsets().tolist() == [[0.2, 2.0]]
    assert collection(ax, "open at end").get_offsets().tolist() == [[0.3, 0.0]]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == labels
    assert [t.get_text() for t in ax.get_yticklabels()] == ["coro1", "coro2", "callback"]
    assert ax.get_ylim() == (2.5, -0.5)  # first task on top
    assert ax.get_xlabel() == "time (s)"


def test_arrows_from_waker_to_woken() -> None:
    ax = story().plot()
    arrows = collection(ax, "wake -> resume")
    assert isinstance(arrows, Quiver)
    assert arrows.N == 1
    assert (arrows.X[0], arrows.Y[0], arrows.U[0], arrows.V[0]) == (0.1, 0, 0.0, 1)
    without = story().plot(arrows=False)
    assert "wake -> resume" not in [c.get_label() for c in without.collections]
    assert "wake -> resume" not in [t.get_text() for t in without.get_legend().get_texts()]


def test_counts_panel() -> None:
    ax = story().plot(counts=True)
    fig = ax.figure
    assert len(fig.axes) == 2 and fig.axes[0] is ax
    counts_ax = fig.axes[1]
    assert counts_ax.get_shared_x_axes().joined(ax, counts_ax)
    lines = {line.get_label(): line for line in counts_ax.get_lines()}
    assert list(lines) == ["waiting: Lock 'db'", "waiting: Event 'ev'", "size: Queue 'q'"]
    assert lines["size: Queue 'q'"].get_linestyle() == "--"
    assert lines["waiting: Lock 'db'"].get_linestyle() == "-"
    assert list(lines["size: Queue 'q'"].get_ydata()) == [1, 0]
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
    assert "wake -> resume" not in [c.get_label() for c in ax.collections]  # callback hidden


def test_many_lanes_draw_with_sparse_labels() -> None:
    timeline = big(500, 10)
    assert len(timeline.tasks) == 501 and len(timeline.spans()) == 500 * 20
    ax = timeline.plot(counts=True)
    ax.figure.canvas.draw()
    assert len(collection(ax, "waiting").get_paths()) == 5000
    assert len(collection(ax, "holding").get_paths()) == 5000
    assert collection(ax, "wake -> resume").N == 5000
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert 20 <= len(ticks) <= 40 and ticks[0] == "task-000"
    assert collection(ax, "waiting").get_hatch() is None  # thin lanes: no hatching


def test_deterministic_colours_and_layout() -> None:
    first, second = story().plot(), story().plot()
    for a, b in zip(first.collections, second.collections, strict=True):
        assert a.get_label() == b.get_label()
        assert (a.get_facecolor() == b.get_facecolor()).all()


def test_empty_timeline_plots() -> None:
    ax = Timeline.from_events([]).plot(counts=True)
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["waiting", "holding"]


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
