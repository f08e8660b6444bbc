"""The classic problems of notebook 10 behave as the notebook says."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import re

import pytest

import asyncprims as ap
from asyncprims import problems
from asyncprims.timeline import Timeline


def traced(coro: object) -> tuple[list[str], Timeline, BaseException | None]:
    out = io.StringIO()
    error: BaseException | None = None
    with ap.trace() as timeline, contextlib.redirect_stdout(out):
        try:
            ap.run(coro, virtual_time=True)  # type: ignore[arg-type]
        except ap.DeadlockError as raised:
            error = raised
    return out.getvalue().splitlines(), timeline, error


def test_naive_philosophers_deadlock_in_a_cycle_of_five() -> None:
    lines, _, error = traced(problems.philosophers_scenario())
    assert isinstance(error, ap.DeadlockError)
    cycle = str(error).splitlines()[-1]
    assert cycle.count("->") == 5
    assert not any("eats" in line for line in lines)


@pytest.mark.parametrize("strategy", ["ordered", "footman"])
def test_the_fixes_feed_everyone(strategy: str) -> None:
    lines, _, error = traced(problems.philosophers_scenario(strategy=strategy, meals=2))
    assert error is None
    assert sum("eats" in line for line in lines) == 10
    assert sum("is done" in line for line in lines) == 5


def test_stagger_lets_non_neighbours_eat_together() -> None:
    lines, _, _ = traced(problems.philosophers_scenario(strategy="ordered", stagger=0.03))
    starts = [float(line[2:6]) for line in lines if "eats" in line]
    assert any(b - a < 0.1 for a, b in itertools.pairwise(starts))  # overlapping meals


def test_unknown_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="strategy must be one of"):
        asyncio.run(problems.philosophers_scenario(strategy="polite"))


def writer_wait(turnstile: bool) -> float:
    lines, _, error = traced(problems.readers_writers_scenario(turnstile=turnstile))
    assert error is None
    times = {line.split("  ", 1)[1]: float(line[2:6]) for line in lines if "writer" in line}
    return round(times["writer writes"] - times["writer wants the room"], 2)


def test_the_turnstile_ends_writer_starvation() -> None:
    assert writer_wait(turnstile=False) == 0.29
    assert writer_wait(turnstile=True) == 0.09


def test_the_bounded_buffer_never_overflows_and_keeps_order() -> None:
    lines, _, error = traced(problems.bounded_buffer_scenario(size=2, items=6))
    assert error is None
    buffers = [re.search(r"buffer (\[.*\])", line) for line in lines]
    assert max(len(eval(found.group(1))) for found in buffers if found) == 2
    taken = [int(line.split()[-1]) for line in lines if "consumer takes" in line]
    assert taken == list(range(6))


def test_the_barber_turns_away_the_customer_who_finds_no_chair() -> None:
    lines, timeline, error = traced(problems.barber_scenario())
    assert error is None
    assert [line for line in lines if "leaves" in line] == [
        "t=0.06  customer 3 finds no free chair and leaves"
    ]
    assert sum("gets a haircut" in line for line in lines) == 4
    cancelled = [
        span
        for span in timeline.spans()
        if span.task == "barber" and span.detail.endswith("cancelled")
    ]
    assert len(cancelled) == 1  # the shop closes while he sleeps
