"""The course's scenarios, written once and shared by notebooks, CLI and tests.

The first four reproduce the source article's Lock, Event, Condition and Queue
programs in today's asyncio (``async with`` instead of ``with await``, tasks
instead of bare coroutines handed to ``asyncio.wait``, ``asyncio.run`` instead
of a hand-made loop).  Each prints the article's transcript line for line; the
article started its coroutines in set-iteration order, these start them in a
fixed order, so only the order in which the names first appear differs.

Every scenario is a coroutine function taking the namespace whose primitives it
uses (``asyncprims`` by default, ``asyncio`` works too) and keyword parameters
that the notebooks' "try it" cells change.  Tasks and primitives are named, so
timelines are deterministic.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ._base import Primitive
from .problems import (
    barber_scenario,
    bounded_buffer_scenario,
    philosophers_scenario,
    readers_writers_scenario,
)

__all__ = ["DEMOS", "Demo", "run_demo"]

Scenario = Callable[..., Coroutine[Any, Any, None]]


def _default_prims() -> types.ModuleType:
    import asyncprims

    return asyncprims


def _make(prims: Any, kind: str, name: str, *args: Any) -> Any:
    """``prims.<kind>(*args)``, labelled ``name`` when the class takes a name."""
    cls = getattr(prims, kind)
    if isinstance(cls, type) and issubclass(cls, Primitive):
        return cls(*args, name=name)
    return cls(*args)


async def lock_scenario(prims: Any = None, *, release_after: float = 0.1) -> None:
    """main takes the lock, two tasks queue for it, a timer callback frees it."""
    prims = prims or _default_prims()
    lock = _make(prims, "Lock", "lock")

    def release_from_callback() -> None:
        print("callback releasing lock")
        lock.release()

    async def with_statement() -> None:  # the article's coro1
        print("coro1 waiting for the lock")
        async with lock:
            print("coro1 acquired lock")
        print("coro1 released lock")

    async def explicit_calls() -> None:  # the article's coro2
        print("coro2 waiting for the lock")
        await lock.acquire()
        try:
            print("coro2 acquired lock")
        finally:
            print("coro2 released lock")
            lock.release()

    print("acquiring the lock before starting coroutines")
    await lock.acquire()
    print(f"lock acquired: {lock.locked()}")
    asyncio.get_running_loop().call_later(release_after, release_from_callback)
    print("waiting for coroutines")
    await asyncio.gather(asyncio.create_task(with_statement(), name="coro1"),
                         asyncio.create_task(explicit_calls(), name="coro2"))


async def event_scenario(prims: Any = None, *, waiters: int = 2,
                         set_after: float = 0.1) -> None:
    """Several tasks wait for one event; a timer callback sets it and all go."""
    prims = prims or _default_prims()
    event = _make(prims, "Event", "event")

    def set_from_callback() -> None:
        print("setting event in callback")
        event.set()

    async def waiter(label: str) -> None:
        print(f"{label} waiting for event")
        await event.wait()
        print(f"{label} triggered")

    print(f"event start state: {event.is_set()}")
    asyncio.get_running_loop().call_later(set_after, set_from_callback)
    labels = [f"coro{i}" for i in range(1, waiters + 1)]
    await asyncio.gather(*(asyncio.create_task(waiter(label), name=label) for label in labels))
    print(f"event end state: {event.is_set()}")


async def condition_scenario(prims: Any = None, *, consumers: int = 5,
                             notify_counts: tuple[int, ...] = (1, 2),
                             pause: float = 0.1) -> None:
    """Consumers wait on a condition; a manipulator wakes 1, then 2, then the rest."""
    prims = prims or _default_prims()
    condition = _make(prims, "Condition", "condition")

    async def consumer(n: int) -> None:
        async with condition:
            print(f"consumer {n} is waiting")
            await condition.wait()
            print(f"consumer {n} triggered")
        print(f"ending consumer {n}")

    async def manipulator() -> None:
        print("starting manipulate_condition")
        await asyncio.sleep(pause)  # give every consumer time to start waiting
        for count in notify_counts:
            async with condition:
                print(f"notifying {count} consumers")
                condition.notify(n=count)
            await asyncio.sleep(pause)
        async with condition:
            print("notifying remaining consumers")
            condition.notify_all()
        print("ending manipulate_condition")

    manipulating = asyncio.create_task(manipulator(), name="manipulator")
    waiting = [asyncio.create_task(consumer(n), name=f"consumer {n}") for n in range(consumers)]
    await asyncio.gather(manipulating, *waiting)


async def queue_scenario(prims: Any = None, *, consumers: int = 2, jobs_per_consumer: int = 3,
                         maxsize: int | None = None, work: float = 0.01) -> None:
    """A producer feeds numbered jobs through a bounded queue, then one stop
    signal (None) per consumer, and waits for the queue to be fully processed."""
    prims = prims or _default_prims()
    queue = _make(prims, "Queue", "queue", consumers if maxsize is None else maxsize)

    async def consumer(n: int) -> None:
        print(f"consumer {n}: starting")
        while True:
            print(f"consumer {n}: waiting for item")
            job = await queue.get()
            print(f"consumer {n}: has item {job}")
            if job is not None:
                await asyncio.sleep(work * job)  # bigger jobs take longer
            queue.task_done()
            if job is None:
                break
        print(f"consumer {n}: ending")

    async def producer() -> None:
        print("producer: starting")
        for job in range(consumers * jobs_per_consumer):
            await queue.put(job)
            print(f"producer: added task {job} to the queue")
        print("producer: adding stop signals to the queue")
        for _ in range(consumers):
            await queue.put(None)
        print("producer: waiting for queue to empty")
        await queue.join()
        print("producer: ending")

    tasks = [asyncio.create_task(consumer(n), name=f"consumer {n}") for n in range(consumers)]
    tasks.append(asyncio.create_task(producer(), name="producer"))
    await asyncio.gather(*tasks)


async def semaphore_scenario(prims: Any = None, *, permits: int = 2, workers: int = 5,
                             work: float = 0.1) -> None:
    """More workers than permits: at most ``permits`` of them work at a time."""
    prims = prims or _default_prims()
    slots = _make(prims, "Semaphore", "slots", permits)

    async def worker(n: int) -> None:
        print(f"worker {n}: wants a slot")
        async with slots:
            print(f"worker {n}: working")
            await asyncio.sleep(work * (1 + n % 2))
        print(f"worker {n}: done")

    await asyncio.gather(*(asyncio.create_task(worker(n), name=f"worker {n}")
                           for n in range(workers)))


async def barrier_scenario(prims: Any = None, *, runners: int = 3, rounds: int = 2,
                           step: float = 0.05) -> None:
    """Runners arrive at the start line at different times; all leave together."""
    prims = prims or _default_prims()
    start_line = _make(prims, "Barrier", "start line", runners)

    async def runner(n: int) -> None:
        for lap in range(1, rounds + 1):
            await asyncio.sleep(step * (n + 1))
            print(f"runner {n}: at the line for lap {lap}")
            position = await start_line.wait()
            print(f"runner {n}: off on lap {lap} (arrived {position + 1} of {runners})")

    await asyncio.gather(*(asyncio.create_task(runner(n), name=f"runner {n}")
                           for n in range(runners)))


async def deadlock_scenario(prims: Any = None, *, think: float = 0.1) -> None:
    """Two philosophers each take one fork, think, then reach for the other's."""
    prims = prims or _default_prims()
    fork_a, fork_b = _make(prims, "Lock", "fork A"), _make(prims, "Lock", "fork B")

    async def philosopher(name: str, first: Any, second: Any) -> None:
        async with first:
            print(f"{name}: has the first fork, thinking")
            await asyncio.sleep(think)
            print(f"{name}: reaching for the second fork")
            async with second:
                print(f"{name}: eating")  # never printed: each holds what the other needs

    await asyncio.gather(
        asyncio.create_task(philosopher("Plato", fork_a, fork_b), name="Plato"),
        asyncio.create_task(philosopher("Kant", fork_b, fork_a), name="Kant"),
    )


@dataclass(frozen=True)
class Demo:
    """A named scenario: ``scenario(prims, **params)`` prints its transcript."""

    name: str
    title: str
    scenario: Scenario
    from_article: bool


DEMOS: dict[str, Demo] = {
    demo.name: demo
    for demo in (
        Demo("lock", "Lock: a callback frees a lock two tasks queue for", lock_scenario, True),
        Demo("event", "Event: every waiter wakes on one set()", event_scenario, True),
        Demo("condition", "Condition: notify 1, then 2, then all", condition_scenario, True),
        Demo("queue", "Queue: producer, consumers, stop signals, join", queue_scenario, True),
        Demo("semaphore", "Semaphore: five workers, two slots", semaphore_scenario, False),
        Demo("barrier", "Barrier: runners wait for each other at the line",
             barrier_scenario, False),
        Demo("deadlock", "Deadlock: two philosophers take two forks in opposite orders",
             deadlock_scenario, False),
        Demo("philosophers", "Dining philosophers: five forks, left then right, deadlock",
             philosophers_scenario, False),
        Demo("readers-writers", "Readers and writers: a lightswitch starves the writer",
             readers_writers_scenario, False),
        Demo("bounded-buffer", "Bounded buffer: two semaphores and a lock",
             bounded_buffer_scenario, False),
        Demo("barber", "Sleeping barber: two chairs, one customer leaves", barber_scenario,
             False),
    )
}


def run_demo(name: str, *, virtual_time: bool = True, max_events: int | None = None,
             **params: Any) -> Any:
    """Run scenario ``name`` under a trace (it prints its transcript) and return the Timeline.

    A scenario that deadlocks (``"deadlock"``) prints the DeadlockError's report
    instead of raising it; the timeline records the deadlock.
    """
    from .clock import DeadlockError, run
    from .tracing import trace

    try:
        demo = DEMOS[name]
    except KeyError:
        raise ValueError(f"unknown demo {name!r}; choose one of {', '.join(DEMOS)}") from None
    with trace(max_events=max_events) as timeline:
        try:
            run(demo.scenario(**params), virtual_time=virtual_time)
        except DeadlockError as error:
            print(error.report)
    return timeline
