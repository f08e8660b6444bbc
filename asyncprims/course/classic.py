"""Checks for the exercises of notebook 10 (classic synchronization problems).

Each ``check_*`` takes the reader's coroutine function(s), runs them in a fixed
scenario (virtual time, traced) and prints a verdict.
"""

from __future__ import annotations

import asyncio
from collections import deque

from ..locks import Lock
from ..semaphores import Semaphore
from ._check import Verdict, attempt
from .signals import AsyncFunction

PHILOSOPHERS = 5
MEALS = 2


def check_philosophers(dine: AsyncFunction) -> None:
    """``dine(n, forks, eat)``: philosopher ``n`` eats ``MEALS`` times with forks ``n``
    and ``n + 1`` (mod 5), calling ``await eat(n)`` while holding both; no deadlock."""
    forks = [Lock(name=f"fork {n}") for n in range(PHILOSOPHERS)]
    meals: dict[int, list[tuple[float, float]]] = {n: [] for n in range(PHILOSOPHERS)}

    async def eat(n: int) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.sleep(0.1)
        meals[n].append((start, loop.time()))

    async def table() -> None:
        await asyncio.gather(
            *(
                asyncio.create_task(dine(n, forks, eat), name=f"philosopher {n}")
                for n in range(PHILOSOPHERS)
            )
        )

    run = attempt(table)
    verdict = Verdict(f"every philosopher ate {MEALS} times, no neighbours at once, no deadlock")
    verdict.expect_ended(
        run,
        "deadlock: every philosopher holds one fork and waits for the "
        "other, a cycle. Break the cycle: take the forks in one global "
        "order, or let at most four sit down at once",
    )
    for n, eaten in meals.items():
        verdict.expect(len(eaten) == MEALS, f"philosopher {n} ate {len(eaten)} times, not {MEALS}")
        neighbour = (n + 1) % PHILOSOPHERS
        for start, end in eaten:
            clash = [(s, e) for s, e in meals[neighbour] if s < end and start < e]
            verdict.expect(
                not clash,
                f"philosophers {n} and {neighbour} ate at the same "
                f"time ({start:.2f} s) with one fork between them: hold both forks "
                "(the locks) while eating",
            )
    verdict.report()


def check_producer(producer: AsyncFunction) -> None:
    """``producer(buffer, empty, full, mutex, items)`` appends each item to the shared
    ``buffer`` (a deque guarded by ``mutex``), taking a free slot from ``empty`` first
    and announcing the item on ``full``; a slow consumer takes them out."""
    size = 2
    buffer: deque[int] = deque()
    empty = Semaphore(size, name="empty slots")
    full = Semaphore(0, name="items")
    mutex = Lock(name="buffer")
    taken: list[int] = []
    largest = 0

    async def consumer() -> None:
        nonlocal largest
        for _ in range(5):
            await full.acquire()
            async with mutex:
                largest = max(largest, len(buffer))
                taken.append(buffer.popleft())
            empty.release()
            await asyncio.sleep(0.05)

    async def shop() -> None:
        await asyncio.gather(
            asyncio.create_task(producer(buffer, empty, full, mutex, range(5)), name="producer"),
            asyncio.create_task(consumer(), name="consumer"),
        )

    run = attempt(shop)
    verdict = Verdict("all 5 items went through the 2-slot buffer, in order, no deadlock")
    verdict.expect_ended(
        run,
        "deadlock: the producer waits for a free slot while it holds the "
        "buffer's lock, and the consumer needs that lock to free a slot. "
        "Take the slot (empty) first, then the lock",
    )
    verdict.expect(taken == [0, 1, 2, 3, 4], f"the consumer got {taken}, not [0, 1, 2, 3, 4]")
    verdict.expect(largest <= size, f"the buffer held {largest} items; it has {size} slots")
    verdict.report()


def check_rendezvous(first: AsyncFunction, second: AsyncFunction) -> None:
    """``first(a_arrived, b_arrived, log)`` logs ``"a1"`` then ``"a2"``;
    ``second(a_arrived, b_arrived, log)`` logs ``"b1"`` then ``"b2"`` and starts 0.1 s
    later.  Neither may log its second line before both first lines are logged."""
    log: list[str] = []

    async def meet() -> None:
        a_arrived = Semaphore(0, name="a arrived")
        b_arrived = Semaphore(0, name="b arrived")

        async def late_second() -> None:
            await asyncio.sleep(0.1)
            await second(a_arrived, b_arrived, log)

        await asyncio.gather(
            asyncio.create_task(first(a_arrived, b_arrived, log), name="a"),
            asyncio.create_task(late_second(), name="b"),
        )

    run = attempt(meet)
    verdict = Verdict("a1 and b1 both came before a2 and b2: a rendezvous")
    verdict.expect_ended(
        run,
        "deadlock: each task waits for the other's signal before giving "
        "its own. Signal your arrival first, then wait for the other",
    )
    if verdict.expect(
        sorted(log) == ["a1", "a2", "b1", "b2"],
        f"the log is {log}; expected each of a1, a2, b1, b2 once",
    ):
        for late in ("a2", "b2"):
            for early in ("a1", "b1"):
                verdict.expect(
                    log.index(early) < log.index(late),
                    f"{late} came before {early}: wait for the other task's signal",
                )
    verdict.report()
