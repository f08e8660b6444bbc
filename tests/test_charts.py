"""The charts of the course's scenarios, read through their artists (never pixels).

What a learner must be able to see: every hand-off as its own arrow, every hold
with a width, a deadlock and its cycle, a queue's markers apart, and a legend
that names only what is drawn.  Also: every flow of the Chrome export binds to
a slice on its own track.
"""

from __future__ import annotations

import contextlib
import io
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import Collection, PathCollection, PolyCollection  # noqa: E402
from test_plotting import wake_arrows  # noqa: E402
from test_timeline import assert_flows_bind_to_slices, assert_nested_per_tid  # noqa: E402

from asyncprims.demos import DEMOS, run_demo  # noqa: E402
from asyncprims.timeline import Timeline  # noqa: E402

pytestmark = [pytest.mark.plotting, pytest.mark.filterwarnings("error")]


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def demo(name: str, **params: Any) -> Timeline:
    with contextlib.redirect_stdout(io.StringIO()):
        return run_demo(name, **params)  # type: ignore[no-any-return]


def points(ax: Any, xy: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Data coordinates -> display points (1/72 inch)."""
    ax.figure.canvas.draw()
    scale = 72 / ax.figure.dpi
    return [(x * scale, y * scale) for x, y in ax.transData.transform(xy)]


def bars(ax: Any, label: str) -> list[tuple[float, float, float]]:
    """(x0, x1, lane) of each bar of a PolyCollection."""
    found = [c for c in ax.collections if c.get_label() == label]
    assert len(found) == 1, label
    out = []
    for path in found[0].get_paths():
        xs, ys = path.vertices[:, 0], path.vertices[:, 1]
        out.append((float(xs.min()), float(xs.max()), float(round(ys.mean()))))
    return out


def test_lock_demo_shows_two_distinct_handoffs_and_every_hold() -> None:
    timeline = demo("lock")
    ax = timeline.plot(counts=True)
    arrows = wake_arrows(ax)
    assert len(arrows) == 2  # callback -> coro1, coro1 -> coro2
    (first, second) = sorted(arrows)
    assert first[0] != second[0] and first[2] != second[2]
    assert first[2] < second[0]  # coro1 resumes before its release wakes coro2
    holds = bars(ax, "holding")
    assert len(holds) == 3  # main, coro1, coro2
    for x0, x1, lane in holds:
        (p0, _), (p1, _) = points(ax, [(x0, lane), (x1, lane)])
        assert p1 - p0 >= 8, (x0, x1, lane)  # at least 8 points wide


def test_lock_demo_text_shows_both_holds_apart() -> None:
    lines = demo("lock").render_text().splitlines()
    coro1 = next(line for line in lines if line.startswith("coro1"))
    coro2 = next(line for line in lines if line.startswith("coro2"))
    assert "#" in coro1 and "#" in coro2
    assert coro1.rindex("#") < coro2.index("#")  # coro1 holds, then coro2


def test_deadlock_demo_draws_the_deadlock_and_its_cycle() -> None:
    timeline = demo("deadlock")
    (deadlock,) = timeline.deadlocks()
    assert deadlock.cycle == ("Kant", "Plato", "Kant")
    x = timeline.axis().x(deadlock.seq)
    ax = timeline.plot()
    stuck = next(c for c in ax.collections if c.get_label() == "deadlock: stuck here")
    lanes = [t.get_text() for t in ax.get_yticklabels()]
    assert {lanes[int(y)] for _, y in stuck.get_offsets()} == {"Plato", "Kant", "main"}
    waits = bars(ax, "waiting to acquire")
    assert len(waits) == 2
    assert all(x1 == pytest.approx(x) for _, x1, _ in waits)  # open until the deadlock
    cycle = [p for p in ax.patches if p.get_label() == "wait-for cycle (waiter → holder)"]
    assert len(cycle) == 2
    assert {(lanes[int(p._posA_posB[0][1])], lanes[int(p._posA_posB[1][1])]) for p in cycle} == {
        ("Plato", "Kant"),
        ("Kant", "Plato"),
    }
    text = timeline.render_text()
    assert "D deadlocked here" in text and "  cycle: Kant -> Plato -> Kant" in text
    assert [span.detail for span in timeline.spans() if span.state == "waiting"] == [
        "acquire, deadlocked",
        "acquire, deadlocked",
    ]


@pytest.mark.parametrize("consumers", [2, 8])
def test_queue_markers_on_a_lane_do_not_pile_up(consumers: int) -> None:
    timeline = demo("queue", consumers=consumers)
    ax = timeline.plot()
    by_lane: dict[float, list[tuple[float, float]]] = {}
    for c in ax.collections:
        if isinstance(c, PathCollection) and c.get_label() != "deadlock: stuck here":
            for x, y in c.get_offsets():
                by_lane.setdefault(float(y), []).append((float(x), float(y)))
    assert by_lane
    for lane, xy in by_lane.items():
        shown = points(ax, sorted(xy))
        for (a, (xa, _)), (b, (xb, _)) in itertools.pairwise(zip(shown, sorted(xy))):
            if xa != xb:  # same step: the same moment, drawn on purpose in one place
                assert b[0] - a[0] >= 3, (lane, xa, xb)


def test_queue_demo_draws_work_and_follows_every_item() -> None:
    timeline = demo("queue")
    flows = timeline.item_flows()
    assert sorted(number for _, _, number in flows) == list(range(1, 9))  # 6 jobs, 2 stops
    assert {get.task for _, get, _ in flows} == {"consumer 0", "consumer 1"}
    ax = timeline.plot()
    work = bars(ax, "working on an item (get → task_done)")
    assert len(work) == 8
    lines = next(c for c in ax.collections if c.get_label() == "item: put → get")
    assert len(lines.get_segments()) == 8
    waits = {span.operation for span in timeline.spans() if span.state == "waiting"}
    assert waits == {"get", "put", "join"}
    drawn = {c.get_label() for c in ax.collections}
    assert {"waiting to put", "waiting in join()", "waiting to get"} <= drawn


def legend_and_drawn(ax: Any) -> tuple[list[str], set[str]]:
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    drawn: set[str] = set()
    for artist in [*ax.collections, *ax.patches]:
        label = str(artist.get_label())
        if label.startswith("_"):
            continue
        if isinstance(artist, PolyCollection) and not artist.get_paths():
            continue
        if (
            isinstance(artist, Collection)
            and not isinstance(artist, PolyCollection)
            and len(artist.get_offsets()) == 0
            and not getattr(artist, "get_segments", None)
        ):
            continue
        drawn.add(label)
    return legend, drawn


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_every_legend_lists_exactly_what_is_drawn(name: str) -> None:
    timeline = demo(name)
    ax = timeline.plot(counts=True)
    legend, drawn = legend_and_drawn(ax)
    assert len(legend) == len(set(legend))
    assert set(legend) == drawn
    held = any(span.state == "holding" for span in timeline.spans())
    assert ("holding" in legend) == held


def test_legend_checker_can_fail() -> None:
    ax = demo("event").plot()
    ax.scatter([0], [0], label="drawn but not in the legend")
    legend, drawn = legend_and_drawn(ax)
    assert set(legend) != drawn


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_every_chrome_flow_binds_to_a_slice_on_its_track(name: str) -> None:
    events = demo(name).to_chrome_trace()["traceEvents"]
    # the demos that deadlock before any wake-up have no flow to draw
    assert any(e["ph"] == "s" for e in events) == (name not in ("deadlock", "philosophers"))
    assert_flows_bind_to_slices(events)
    assert_nested_per_tid(events)
    stamps = [e["ts"] for e in events if e["ph"] in ("X", "i") and e.get("cat") != "deadlock"]
    assert stamps == sorted(stamps)
