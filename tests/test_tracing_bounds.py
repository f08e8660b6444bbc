"""``trace(max_events=...)`` bounds all the memory a trace holds: primitives,
futures and loops are not kept alive by it, and labels stay unique and stable
while ids of dead primitives are reused."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
import weakref
from typing import Any

import asyncprims

MIB = 1024 * 1024


async def _short_lived_primitives(count: int) -> None:
    """``count`` primitives, each used once (a few with a real wait) and dropped."""
    for i in range(count):
        kind = i % 5
        if kind == 0:
            lock = asyncprims.Lock()
            async with lock:
                pass
        elif kind == 1:
            event = asyncprims.Event()
            event.set()
            await event.wait()
        elif kind == 2:
            queue: asyncprims.Queue[int] = asyncprims.Queue()
            queue.put_nowait(i)
            await queue.get()
        elif kind == 3:
            semaphore = asyncprims.Semaphore()
            async with semaphore:
                pass
        if i % 100 == 4:  # contended: a wait, a wake and a waiter future
            contended = asyncprims.Lock()
            await contended.acquire()
            waiter = asyncio.create_task(contended.acquire())
            await asyncio.sleep(0)
            contended.release()
            await waiter
            contended.release()


def test_a_bounded_trace_keeps_little_once_the_run_is_over() -> None:
    loops: list[weakref.ref[Any]] = []

    async def main() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        await _short_lived_primitives(100_000)
        never = asyncprims.Event()
        waiting = asyncio.create_task(never.wait())  # still waiting when the run ends
        await asyncio.sleep(0)
        assert not waiting.done()

    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        with asyncprims.trace(max_events=1000) as timeline:
            asyncprims.run(main(), virtual_time=True)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    assert len(timeline.events) == 1000
    assert timeline.dropped > 100_000
    print(f"held after the run: {held / MIB:.2f} MiB")
    assert held < 5 * MIB, f"{held / MIB:.1f} MiB held"  # main: 65 to 68 MiB
    assert loops[0]() is None  # the timeline does not keep the closed loop alive


def test_labels_stay_unique_when_ids_are_reused() -> None:
    ids: list[int] = []

    async def main() -> None:
        for _ in range(50):
            lock = asyncprims.Lock()
            ids.append(id(lock))
            await lock.acquire()
            waiter = asyncio.create_task(lock.acquire())
            await asyncio.sleep(0)
            lock.release()
            await waiter
            lock.release()
            del lock, waiter  # freed at once: no cycle holds a lock

    with asyncprims.trace() as timeline:
        asyncprims.run(main(), virtual_time=True)
    assert len(set(ids)) < len(ids)  # ids of dead locks were reused: the test can bite
    labels = list(dict.fromkeys(event.primitive for event in timeline.events))
    assert labels == [f"Lock-{n}" for n in range(1, 51)]


def test_a_label_is_stable_while_its_primitive_lives() -> None:
    async def main() -> None:
        keep = asyncprims.Lock()
        for _ in range(3):
            async with keep:
                await asyncio.sleep(0.1)
            async with asyncprims.Lock():
                pass

    with asyncprims.trace() as timeline:
        asyncprims.run(main(), virtual_time=True)
    labels = [event.primitive for event in timeline.events]
    once = ["Lock-1", "Lock-1"]  # acquire and release of the lock that lives on
    assert labels == [
        *once,
        "Lock-2",
        "Lock-2",
        *once,
        "Lock-3",
        "Lock-3",
        *once,
        "Lock-4",
        "Lock-4",
    ]


def test_an_unfinished_wait_does_not_keep_its_loop_alive() -> None:
    loops: list[weakref.ref[Any]] = []

    async def main() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        lock = asyncprims.Lock(name="held")
        await lock.acquire()
        stuck = asyncio.create_task(lock.acquire(), name="stuck")
        await asyncio.sleep(0)
        assert not stuck.done()

    with asyncprims.trace() as timeline:
        asyncprims.run(main(), virtual_time=True)
    gc.collect()
    assert [e.action for e in timeline.events] == ["acquire", "wait", "cancel"]
    assert loops[0]() is None
