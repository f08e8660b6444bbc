"""The workloads, written once against a ``prims`` namespace.

``prims`` is either the :mod:`asyncio` module or the :mod:`asyncprims` package,
so ``prims.Lock()``, ``prims.Queue(64)``, ... build the primitive under test and
the very same code measures both.  Everything else (tasks, ``sleep(0)``,
``gather``) is always asyncio's.

Each workload is a coroutine function ``(prims, size) -> seconds``: it builds
its tasks, then times the part that exercises the primitive with
``time.perf_counter`` and returns that duration.  Setup that is identical for
both sides and not the point of the workload (spawning 20k waiters before a
``set()``) is left out of the timed part; where the tasks *are* the workload
(a pool of 1k tasks) their creation is included.  The harness runs each call in
a fresh event loop with the garbage collector off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from time import perf_counter
from typing import Any

__all__ = [
    "EVERYDAY",
    "HANDOFF_TASKS",
    "STORMS",
    "STORM_SIZES",
    "StormWorkload",
    "Workload",
    "sleep_round_trips",
]

Timed = Callable[[Any, int], Coroutine[Any, Any, float]]

#: Tasks contending for one Lock in the hand-off workload (and in its sleep(0) floor).
HANDOFF_TASKS = 50
#: Workers sharing the pool Semaphore.
POOL_PERMITS = 10
#: Bounded queue size for the queue workloads.
QUEUE_MAXSIZE = 64
#: Producers and consumers in the many-to-many queue workload.
QUEUE_WORKERS = 4
#: Waiter counts for the cancellation storms (full run, --quick run).
STORM_SIZES = (20_000, 40_000, 80_000)
STORM_SIZES_QUICK = (2_000, 4_000, 8_000)


@dataclass(frozen=True)
class Workload:
    """One everyday workload: ``run(prims, size)`` returns the timed seconds.

    ``size`` is the default amount of work, ``quick_size`` the ``--quick`` one;
    ``unit`` names what ``size`` counts (for the table).
    """

    name: str
    run: Timed
    size: int
    quick_size: int
    unit: str


# --------------------------------------------------------------------------- everyday


async def lock_uncontended(prims: Any, n: int) -> float:
    """``async with lock`` n times in one task: the fast path only."""
    lock = prims.Lock()
    start = perf_counter()
    for _ in range(n):
        async with lock:
            pass
    return perf_counter() - start


async def lock_handoff(prims: Any, n: int) -> float:
    """HANDOFF_TASKS tasks, n rounds each of acquire / sleep(0) / release on one Lock.

    Every release finds waiters, so each acquisition is a FIFO hand-off.
    """
    lock = prims.Lock()
    sleep = asyncio.sleep

    async def worker() -> None:
        for _ in range(n):
            await lock.acquire()
            await sleep(0)
            lock.release()

    start = perf_counter()
    await asyncio.gather(*(worker() for _ in range(HANDOFF_TASKS)))
    return perf_counter() - start


async def sleep_round_trips(n: int) -> float:
    """The floor: HANDOFF_TASKS tasks doing n bare ``await asyncio.sleep(0)`` each."""
    sleep = asyncio.sleep

    async def worker() -> None:
        for _ in range(n):
            await sleep(0)

    start = perf_counter()
    await asyncio.gather(*(worker() for _ in range(HANDOFF_TASKS)))
    return perf_counter() - start


async def event_fan_out(prims: Any, n: int) -> float:
    """n tasks block on one Event; time ``set()`` until every waiter has returned."""
    event = prims.Event()
    tasks = [asyncio.create_task(event.wait()) for _ in range(n)]
    await asyncio.sleep(0)  # every waiter is now blocked
    start = perf_counter()
    event.set()
    await asyncio.gather(*tasks)
    return perf_counter() - start


async def condition_notify_all(prims: Any, n: int) -> float:
    """n tasks wait on a Condition; time ``notify_all()`` until all re-acquired and left."""
    cond = prims.Condition()

    async def waiter() -> None:
        async with cond:
            await cond.wait()

    tasks = [asyncio.create_task(waiter()) for _ in range(n)]
    await asyncio.sleep(0)
    start = perf_counter()
    async with cond:
        cond.notify_all()
    await asyncio.gather(*tasks)
    return perf_counter() - start


async def semaphore_pool(prims: Any, n: int) -> float:
    """n tasks share a Semaphore(POOL_PERMITS), each doing acquire / sleep(0) / release."""
    sem = prims.Semaphore(POOL_PERMITS)
    sleep = asyncio.sleep

    async def worker() -> None:
        async with sem:
            await sleep(0)

    start = perf_counter()
    await asyncio.gather(*(worker() for _ in range(n)))
    return perf_counter() - start


async def semaphore_release_burst(prims: Any, n: int) -> float:
    """n tasks block on a Semaphore(0); time n ``release()`` calls in a row until all ran."""
    sem = prims.Semaphore(0)
    tasks = [asyncio.create_task(sem.acquire()) for _ in range(n)]
    await asyncio.sleep(0)
    start = perf_counter()
    for _ in range(n):
        sem.release()
    await asyncio.gather(*tasks)
    return perf_counter() - start


async def queue_one_to_one(prims: Any, n: int) -> float:
    """One producer puts n items through a Queue(QUEUE_MAXSIZE) to one consumer."""
    queue = prims.Queue(QUEUE_MAXSIZE)

    async def producer() -> None:
        put = queue.put
        for i in range(n):
            await put(i)

    async def consumer() -> None:
        get = queue.get
        for _ in range(n):
            await get()

    start = perf_counter()
    await asyncio.gather(producer(), consumer())
    return perf_counter() - start


async def queue_many_to_many(prims: Any, n: int) -> float:
    """QUEUE_WORKERS producers and as many consumers move n items in all."""
    queue = prims.Queue(QUEUE_MAXSIZE)
    share = n // QUEUE_WORKERS

    async def producer() -> None:
        put = queue.put
        for i in range(share):
            await put(i)

    async def consumer() -> None:
        get = queue.get
        for _ in range(share):
            await get()

    start = perf_counter()
    await asyncio.gather(
        *(producer() for _ in range(QUEUE_WORKERS)),
        *(consumer() for _ in range(QUEUE_WORKERS)),
    )
    return perf_counter() - start


EVERYDAY: list[Workload] = [
    Workload("lock uncontended", lock_uncontended, 200_000, 20_000, "acquisitions"),
    Workload(f"lock hand-off ({HANDOFF_TASKS} tasks)", lock_handoff, 1_000, 100, "rounds per task"),
    Workload("event fan-out", event_fan_out, 20_000, 2_000, "waiters"),
    Workload("condition notify_all", condition_notify_all, 10_000, 1_000, "waiters"),
    Workload(f"semaphore pool ({POOL_PERMITS} permits)", semaphore_pool, 1_000, 200, "tasks"),
    Workload(f"queue 1→1 (maxsize {QUEUE_MAXSIZE})", queue_one_to_one, 100_000, 10_000, "items"),
    Workload(
        f"queue {QUEUE_WORKERS}→{QUEUE_WORKERS} (maxsize {QUEUE_MAXSIZE})",
        queue_many_to_many,
        100_000,
        10_000,
        "items",
    ),
    Workload("semaphore release burst", semaphore_release_burst, 10_000, 1_000, "waiters"),
]


# --------------------------------------------------------------------------- storms


async def _cancel_newest_first(tasks: list[asyncio.Task[Any]]) -> float:
    """Cancel ``tasks`` in reverse creation order, then await them all; return seconds."""
    await asyncio.sleep(0)  # every task is now blocked
    start = perf_counter()
    for task in reversed(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = perf_counter() - start
    if not all(task.cancelled() for task in tasks):
        raise AssertionError("a storm waiter finished instead of being cancelled")
    return elapsed


async def storm_lock(prims: Any, n: int) -> float:
    """n waiters on a held Lock, cancelled newest-first."""
    lock = prims.Lock()
    await lock.acquire()
    return await _cancel_newest_first([asyncio.create_task(lock.acquire()) for _ in range(n)])


async def storm_semaphore(prims: Any, n: int) -> float:
    """n waiters on a Semaphore(0), cancelled newest-first."""
    sem = prims.Semaphore(0)
    return await _cancel_newest_first([asyncio.create_task(sem.acquire()) for _ in range(n)])


async def storm_queue_get(prims: Any, n: int) -> float:
    """n getters on an empty Queue, cancelled newest-first."""
    queue = prims.Queue()
    return await _cancel_newest_first([asyncio.create_task(queue.get()) for _ in range(n)])


@dataclass(frozen=True)
class StormWorkload:
    """A cancellation storm, run at every size of STORM_SIZES (or STORM_SIZES_QUICK)."""

    name: str
    run: Timed


STORMS: list[StormWorkload] = [
    StormWorkload("storm Lock", storm_lock),
    StormWorkload("storm Semaphore(0)", storm_semaphore),
    StormWorkload("storm Queue.get", storm_queue_get),
]
