"""The everyday workloads again with anyio's primitives, on anyio's asyncio backend.

Same shapes and sizes as :mod:`benchmarks.workloads` (keyed by the same
workload function), so the anyio column is comparable: plain ``asyncio`` tasks
and ``asyncio.sleep(0)`` around ``anyio.Lock``, ``anyio.Event``,
``anyio.Condition``, ``anyio.Semaphore`` and memory object streams (anyio's
queue).  anyio detects the running asyncio loop by itself, so ``asyncio.run``
works.  Where anyio's semantics add work (its acquire is a cancellation
checkpoint even when uncontended), that is part of what is measured.

anyio is optional: :data:`ANYIO` is empty when it is not installed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from time import perf_counter
from typing import Any

from . import workloads as w

__all__ = ["ANYIO", "anyio_version"]

try:
    import anyio
except ImportError:  # pragma: no cover - optional dependency
    anyio = None  # type: ignore[assignment]


def anyio_version() -> str | None:
    if anyio is None:
        return None
    from importlib.metadata import version

    return version("anyio")


async def lock_uncontended(n: int) -> float:
    lock = anyio.Lock()
    start = perf_counter()
    for _ in range(n):
        async with lock:
            pass
    return perf_counter() - start


async def lock_handoff(n: int) -> float:
    lock = anyio.Lock()
    sleep = asyncio.sleep

    async def worker() -> None:
        for _ in range(n):
            await lock.acquire()
            await sleep(0)
            lock.release()

    start = perf_counter()
    await asyncio.gather(*(worker() for _ in range(w.HANDOFF_TASKS)))
    return perf_counter() - start


async def event_fan_out(n: int) -> float:
    event = anyio.Event()
    tasks = [asyncio.create_task(event.wait()) for _ in range(n)]
    await asyncio.sleep(0)
    start = perf_counter()
    event.set()
    await asyncio.gather(*tasks)
    return perf_counter() - start


async def condition_notify_all(n: int) -> float:
    cond = anyio.Condition()

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


async def semaphore_pool(n: int) -> float:
    sem = anyio.Semaphore(w.POOL_PERMITS)
    sleep = asyncio.sleep

    async def worker() -> None:
        async with sem:
            await sleep(0)

    start = perf_counter()
    await asyncio.gather(*(worker() for _ in range(n)))
    return perf_counter() - start


async def semaphore_release_burst(n: int) -> float:
    sem = anyio.Semaphore(0)
    tasks = [asyncio.create_task(sem.acquire()) for _ in range(n)]
    await asyncio.sleep(0)
    start = perf_counter()
    for _ in range(n):
        sem.release()
    await asyncio.gather(*tasks)
    return perf_counter() - start


async def _stream_transfer(n: int, workers: int) -> float:
    send, receive = anyio.create_memory_object_stream[int](w.QUEUE_MAXSIZE)
    share = n // workers

    async def producer(stream: Any) -> None:
        async with stream:
            for i in range(share):
                await stream.send(i)

    async def consumer(stream: Any) -> None:
        async with stream:
            for _ in range(share):
                await stream.receive()

    senders = [send.clone() for _ in range(workers)]
    receivers = [receive.clone() for _ in range(workers)]
    send.close()
    receive.close()
    start = perf_counter()
    await asyncio.gather(*(producer(s) for s in senders), *(consumer(r) for r in receivers))
    return perf_counter() - start


async def queue_one_to_one(n: int) -> float:
    return await _stream_transfer(n, 1)


async def queue_many_to_many(n: int) -> float:
    return await _stream_transfer(n, w.QUEUE_WORKERS)


#: Everyday workload function -> its anyio twin ``(size) -> seconds``.
ANYIO: dict[Callable[..., Any], Callable[[int], Coroutine[Any, Any, float]]] = (
    {}
    if anyio is None
    else {
        w.lock_uncontended: lock_uncontended,
        w.lock_handoff: lock_handoff,
        w.event_fan_out: event_fan_out,
        w.condition_notify_all: condition_notify_all,
        w.semaphore_pool: semaphore_pool,
        w.semaphore_release_burst: semaphore_release_burst,
        w.queue_one_to_one: queue_one_to_one,
        w.queue_many_to_many: queue_many_to_many,
    }
)
