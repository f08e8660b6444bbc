"""Time ``timeline.plot()`` on a 500-task trace, drawn with matplotlib's Agg backend.

The timeline comes from a real traced run in virtual time: PLOT_TASKS tasks,
each doing PLOT_CYCLES acquire/hold/release cycles on a few small Semaphores,
so most acquisitions wait first (about 2 × PLOT_CYCLES spans per lane, and one
wake -> resume arrow per hand-off).  The trace is recorded and its spans are
computed once, outside the timing; each measurement is ``timeline.plot()``
plus ``fig.canvas.draw()`` (what actually renders), then the figure is closed.

Anything missing (matplotlib, or a timeline API that is not there yet) makes
:func:`prepare` raise :class:`Unavailable` with the reason, and the harness
prints "unavailable" instead of a number.
"""

from __future__ import annotations

import asyncio
import gc
from time import perf_counter
from typing import Any

__all__ = ["PLOT_CYCLES", "PLOT_TASKS", "Unavailable", "measure_plot", "measure_text", "prepare"]

PLOT_TASKS = 500
PLOT_CYCLES = 10
PLOT_SEMAPHORES = 4
PLOT_PERMITS = 5


class Unavailable(Exception):
    """The plot workload cannot run here; ``str()`` says why."""


async def _contend(prims: Any, tasks: int, cycles: int) -> None:
    sems = [prims.Semaphore(PLOT_PERMITS, name=f"pool-{i}") for i in range(PLOT_SEMAPHORES)]

    async def worker(index: int) -> None:
        for cycle in range(cycles):
            async with sems[(index + cycle) % PLOT_SEMAPHORES]:
                await asyncio.sleep(0.001 * (1 + (index * 7 + cycle) % 5))

    async with asyncio.TaskGroup() if hasattr(asyncio, "TaskGroup") else _Gather() as group:
        for index in range(tasks):
            group.create_task(worker(index), name=f"task-{index:03d}")


class _Gather:
    """A minimal TaskGroup stand-in for Python 3.10."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[Any]] = []

    async def __aenter__(self) -> _Gather:
        return self

    def create_task(self, coro: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*self._tasks)


def prepare(quick: bool = False) -> tuple[Any, dict[str, Any]]:
    """Record the trace; return ``(timeline, facts)`` (facts: tasks, spans, events, seconds)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # fail here, not inside the timing

        import asyncprims
    except ImportError as exc:
        raise Unavailable(f"import failed: {exc}") from exc
    if not all(hasattr(asyncprims, attr) for attr in ("trace", "run")):
        raise Unavailable("asyncprims.trace / asyncprims.run not available yet")
    tasks = PLOT_TASKS // 5 if quick else PLOT_TASKS
    start = perf_counter()
    try:
        with asyncprims.trace() as timeline:
            asyncprims.run(_contend(asyncprims, tasks, PLOT_CYCLES), virtual_time=True)
        recorded = perf_counter() - start
        spans = timeline.spans  # computed (and cached) outside the timed plot
        spans = spans() if callable(spans) else spans
        if not hasattr(timeline, "plot"):
            raise Unavailable("Timeline.plot() not available yet")
    except Unavailable:
        raise
    except Exception as exc:
        raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
    facts = {
        "tasks": len(_value(timeline.tasks)),
        "spans": len(spans),
        "events": len(_value(timeline.events)),
        "record_seconds": recorded,
        "spans_seconds": perf_counter() - start - recorded,
    }
    return timeline, facts


def _value(attr: Any) -> Any:
    """A Timeline view, whether it is a property or a method."""
    return attr() if callable(attr) else attr


def measure_plot(timeline: Any) -> float:
    """One timed ``timeline.plot()`` + ``canvas.draw()``, gc off; the figure is closed after."""
    import matplotlib.pyplot as plt

    gc.collect()
    gc.disable()
    try:
        start = perf_counter()
        ax = timeline.plot()
        ax.figure.canvas.draw()
        elapsed = perf_counter() - start
    finally:
        gc.enable()
    plt.close(ax.figure)
    return elapsed


def measure_text(timeline: Any) -> float:
    """One timed text rendering from the raw events, gc off: a fresh Timeline over
    the same events, so pairing spans and placing the causal axis are timed too."""
    from asyncprims.timeline import Timeline

    events = _value(timeline.events)
    gc.collect()
    gc.disable()
    try:
        start = perf_counter()
        Timeline.from_events(events, virtual_time=True).render_text()
        elapsed = perf_counter() - start
    finally:
        gc.enable()
    return elapsed
