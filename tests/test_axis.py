"""The causal axis: instants, steps, positions and ticks (no matplotlib needed)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from asyncprims._axis import Axis, format_seconds, nice_ticks
from asyncprims.timeline import Timeline
from asyncprims.tracing import TraceEvent


def events(*rows: tuple[Any, ...]) -> list[TraceEvent]:
    """(time, task, action[, target, cause]) rows on one lock 'db', seq in order."""
    out = []
    for seq, row in enumerate(rows):
        time, task, action, *rest = row
        target = rest[0] if rest else None
        cause = rest[1] if len(rest) > 1 else None
        out.append(TraceEvent(seq, time, task, "db", "Lock", action, "", target, cause, None))
    return out


def handoff() -> list[TraceEvent]:
    """t1 holds 0..0.1 while t2 waits; at 0.1 t1 hands the lock to t2, which
    releases at once."""
    return events(
        (0.0, "t1", "acquire"),
        (0.0, "t2", "wait"),
        (0.1, "t1", "release", "t1"),
        (0.1, "t1", "wake", "t2"),
        (0.1, "t2", "resume", "t1", 3),
        (0.1, "t2", "acquire"),
        (0.1, "t2", "release", "t2"),
    )


def test_instants_and_merged_steps() -> None:
    axis = Axis(handoff(), 0.0)
    assert [(i.time, i.steps) for i in axis.instants] == [(0.0, 2), (0.1, 3)]
    # release+wake share a step, resume+acquire share a step, the last release has its own
    assert axis.x(2) == axis.x(3) < axis.x(4) == axis.x(5) < axis.x(6)
    assert axis.x(0) < axis.x(1)
    # room: (2 steps - 1 + 1 padding) + (3 - 1 + 1) = 5 steps; share 5/13 of the axis
    width = axis.step_width
    assert width == pytest.approx((5 / 13) * 0.1 / ((8 / 13) * 5))
    assert axis.x(0) == pytest.approx(0.5 * width)
    assert axis.x(2) == pytest.approx(0.1 + 2.5 * width)
    assert axis.end == pytest.approx(axis.x(6) + width / 2)


def test_positions_keep_time_to_scale_between_instants() -> None:
    axis = Axis(handoff(), 0.0)
    first, second = axis.instants
    assert second.start - first.end == pytest.approx(0.1 + axis.step_width)
    assert axis.x_of_time(0.05) == pytest.approx(0.05 + 2 * axis.step_width)
    assert axis.x_of_time(0.1) == second.start
    assert axis.x_of_time(0.0) == first.start


def test_positions_never_decrease_and_steps_differ() -> None:
    evs = handoff()
    axis = Axis(evs, 0.0)
    xs = [axis.x(e.seq) for e in evs]
    assert xs == sorted(xs)
    assert all(0 <= x <= axis.end for x in xs)


def test_time_and_steps_modes() -> None:
    timed = Axis(handoff(), 0.0, "time")
    assert [timed.x(e.seq) for e in handoff()] == [0.0, 0.0, 0.1, 0.1, 0.1, 0.1, 0.1]
    assert timed.step_width == 0.0 and timed.end == 0.1
    steps = Axis(handoff(), 0.0, "steps")
    assert [steps.x(e.seq) for e in handoff()] == [0.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0]
    assert steps.x_of_time(0.05) == pytest.approx(1.5)


def test_one_instant_only_is_all_steps() -> None:
    axis = Axis(events((1.0, "a", "acquire"), (1.0, "b", "wait")), 1.0)
    assert axis.duration == 0.0 and axis.step_width == 1.0
    assert (axis.x(0), axis.x(1)) == (0.5, 1.5)


def test_real_time_bursts_within_the_resolution_are_one_instant() -> None:
    evs = events(
        (10.0, "t1", "acquire"),
        (10.00001, "t2", "wait"),
        (11.0, "t1", "release", "t1"),
        (11.00002, "t1", "wake", "t2"),
        (11.00004, "t2", "resume", "t1", 3),
    )
    axis = Axis(evs, 10.0)
    assert axis.resolution == pytest.approx(1.00004e-3)
    assert [i.steps for i in axis.instants] == [2, 2]
    exact = Axis(evs, 10.0, resolution=0.0)
    assert [i.steps for i in exact.instants] == [1, 1, 1, 1, 1]


def test_deadlock_events_share_one_step() -> None:
    evs = [
        *events((0.0, "a", "wait"), (0.0, "b", "wait")),
        TraceEvent(2, 0.0, "a", "db", "Lock", "deadlock", "acquire", "b", None, 1),
        TraceEvent(3, 0.0, "b", "db", "Lock", "deadlock", "acquire", "a", None, 1),
    ]
    axis = Axis(evs, 0.0)
    assert axis.x(2) == axis.x(3) > axis.x(1)


def test_ticks_label_instants_and_round_times_without_crowding() -> None:
    axis = Axis(handoff(), 0.0)
    ticks = axis.ticks(max_ticks=6, min_gap=0.1)
    seconds = [s for _, s in ticks]
    assert seconds[0] == 0.0 and seconds[-1] == 0.1
    positions = [x for x, _ in ticks]
    assert positions == sorted(positions)
    assert all(b - a >= 0.1 * axis.end for a, b in itertools.pairwise(positions))
    middle = (axis.instants[1].start + axis.instants[1].end) / 2
    assert (middle, 0.1) in ticks


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="axis must be one of"):
        Axis(handoff(), 0.0, "log")
    with pytest.raises(ValueError, match="resolution"):
        Axis(handoff(), 0.0, resolution=-1)
    with pytest.raises(ValueError, match="axis must be one of"):
        Timeline.from_events(handoff()).render_text(axis="clock")


def test_empty_axis() -> None:
    axis = Axis([], 0.0)
    assert axis.instants == [] and axis.end == 0.0 and axis.ticks() == []


def test_nice_ticks_and_labels() -> None:
    assert nice_ticks(0.1, 6) == [0.0, 0.02, 0.04, 0.06, 0.08, 0.1]
    assert nice_ticks(0.0) == [0.0]
    assert nice_ticks(7, 4) == [0.0, 2.5, 5.0]
    assert format_seconds(0.0) == "0"
    assert format_seconds(0.1, 0.02) == "0.1"
    assert format_seconds(0.025, 0.025) == "0.025"
    assert format_seconds(120.0, 20.0) == "120"


def test_text_ruler_keeps_round_times_when_instants_fill_the_width() -> None:
    """A busy trace: 40 hand-offs, each an instant spread over steps, so the
    instants take most of the width and are too many to label.  The ruler still
    reads clock time across the whole width (it used to label only 0)."""
    rows: list[tuple[Any, ...]] = [(0.0, "t0", "acquire")]
    holder = "t0"
    for n in range(1, 41):
        nxt = f"t{n % 2}" if holder != f"t{n % 2}" else f"t{(n + 1) % 2}"
        rows += [(n * 0.01 - 0.005, nxt, "wait")]
        rows += [
            (n * 0.01, holder, "release", holder),
            (n * 0.01, holder, "wake", nxt),
            (n * 0.01, nxt, "resume", holder),
            (n * 0.01, nxt, "acquire"),
        ]
        holder = nxt
    text = Timeline.from_events(events(*rows)).render_text(width=72, details=False)
    axis_line, ruler = text.splitlines()[:2]
    assert axis_line.startswith("time (s)")
    labels = axis_line.split()[2:]
    assert len(labels) >= 4, axis_line
    assert [float(label) for label in labels] == sorted(float(label) for label in labels)
    assert ruler.count("+") >= 4 and ":" in ruler
