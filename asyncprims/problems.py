"""Classic synchronization problems as asyncio scenarios (notebook 10).

The problems follow Allen B. Downey's *The Little Book of Semaphores*: the
dining philosophers, readers and writers, the bounded buffer and the sleeping
barber, written here in our own words for asyncio's primitives.  Like the
scenarios in :mod:`asyncprims.demos`, each is a coroutine function taking the
namespace whose primitives it uses (``asyncprims`` by default, ``asyncio`` works
too) and keyword parameters; tasks and primitives are named and every pause is
a sleep, so in virtual time the transcript and the timeline are the same on
every run.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

PHILOSOPHERS = ("Aristotle", "Kant", "Spinoza", "Marx", "Russell")
STRATEGIES = ("naive", "ordered", "footman")


def _make(prims: Any, kind: str, name: str, *args: Any) -> Any:
    from .demos import _make as make

    return make(prims, kind, name, *args)


def _prims(prims: Any) -> Any:
    if prims is None:
        import asyncprims

        return asyncprims
    return prims


def _now() -> str:
    return f"t={asyncio.get_running_loop().time():.2f}"


async def philosophers_scenario(prims: Any = None, *, philosophers: int = 5, meals: int = 1,
                                strategy: str = "naive", think: float = 0.1,
                                eat: float = 0.1, stagger: float = 0.0) -> None:
    """Philosophers round a table, a fork between each two neighbours.

    ``naive``: everyone takes the left fork, then the right: all hold one fork
    and wait for the other (deadlock).  ``ordered``: everyone takes the
    lower-numbered fork first, so the last philosopher reaches right first and
    the cycle cannot close.  ``footman``: a semaphore lets at most
    ``philosophers - 1`` sit down at once.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    if not 2 <= philosophers <= len(PHILOSOPHERS):
        raise ValueError(f"philosophers must be 2 to {len(PHILOSOPHERS)}")
    prims = _prims(prims)
    forks = [_make(prims, "Lock", f"fork {n}") for n in range(philosophers)]
    footman = _make(prims, "Semaphore", "footman", philosophers - 1)

    async def dine(n: int) -> None:
        name = PHILOSOPHERS[n]
        left, right = n, (n + 1) % philosophers
        if strategy == "ordered":
            left, right = min(left, right), max(left, right)
        for meal in range(1, meals + 1):
            await asyncio.sleep(think + n * stagger)
            if strategy == "footman":
                await footman.acquire()
            try:
                async with forks[left]:
                    print(f"{_now()}  {name} has fork {left}, reaches for fork {right}")
                    await asyncio.sleep(0)  # a moment between the two forks
                    async with forks[right]:
                        print(f"{_now()}  {name} eats (meal {meal}, forks {left} and {right})")
                        await asyncio.sleep(eat)
            finally:
                if strategy == "footman":
                    footman.release()
        print(f"{_now()}  {name} is done")

    await asyncio.gather(*(asyncio.create_task(dine(n), name=PHILOSOPHERS[n])
                           for n in range(philosophers)))


async def readers_writers_scenario(prims: Any = None, *, readers: int = 5,
                                   turnstile: bool = False, arrive_every: float = 0.05,
                                   read: float = 0.12, write: float = 0.05,
                                   writer_arrives: float = 0.03) -> None:
    """Readers share a room, a writer needs it empty.

    A lightswitch lets the first reader in lock the room and the last reader out
    unlock it.  Reader ``n`` arrives at ``n * arrive_every`` s and reads ``read``
    s; when reads overlap, the room is never empty and the writer (arriving at
    ``writer_arrives`` s) starves until the last reader leaves.  With
    ``turnstile=True`` every reader first passes a lock that a waiting writer
    keeps: readers already inside finish, newcomers queue behind the writer.
    """
    prims = _prims(prims)
    room_empty = _make(prims, "Semaphore", "room empty", 1)
    switch = _make(prims, "Lock", "lightswitch")
    gate = _make(prims, "Lock", "turnstile")
    inside = 0

    async def reader(n: int) -> None:
        nonlocal inside
        await asyncio.sleep(arrive_every * n)
        if turnstile:
            async with gate:
                pass
        async with switch:
            inside += 1
            if inside == 1:
                await room_empty.acquire()  # the first reader in locks the room
        print(f"{_now()}  reader {n} reads")
        await asyncio.sleep(read)
        async with switch:
            inside -= 1
            if inside == 0:
                room_empty.release()  # the last reader out unlocks it

    async def writer() -> None:
        await asyncio.sleep(writer_arrives)
        print(f"{_now()}  writer wants the room")
        if turnstile:
            await gate.acquire()
        try:
            async with room_empty:
                print(f"{_now()}  writer writes")
                await asyncio.sleep(write)
        finally:
            if turnstile:
                gate.release()

    await asyncio.gather(asyncio.create_task(writer(), name="writer"),
                         *(asyncio.create_task(reader(n), name=f"reader {n}")
                           for n in range(readers)))


async def bounded_buffer_scenario(prims: Any = None, *, size: int = 2, items: int = 5,
                                  produce: float = 0.02, consume: float = 0.05) -> None:
    """A producer and a consumer share a buffer of ``size`` slots.

    ``empty`` counts free slots (the producer takes one before adding), ``full``
    counts items (the consumer takes one before removing), and a lock guards the
    buffer itself: the three-semaphore design behind every bounded queue.
    """
    prims = _prims(prims)
    buffer: deque[int] = deque()
    empty = _make(prims, "Semaphore", "empty slots", size)
    full = _make(prims, "Semaphore", "items", 0)
    mutex = _make(prims, "Lock", "buffer")

    async def producer() -> None:
        for item in range(items):
            await asyncio.sleep(produce)
            await empty.acquire()
            async with mutex:
                buffer.append(item)
                print(f"{_now()}  producer adds {item}, buffer {list(buffer)}")
            full.release()

    async def consumer() -> None:
        for _ in range(items):
            await full.acquire()
            async with mutex:
                item = buffer.popleft()
            empty.release()
            print(f"{_now()}  consumer takes {item}")
            await asyncio.sleep(consume)

    await asyncio.gather(asyncio.create_task(producer(), name="producer"),
                         asyncio.create_task(consumer(), name="consumer"))


async def barber_scenario(prims: Any = None, *, chairs: int = 2,
                          arrivals: tuple[float, ...] = (0.0, 0.02, 0.04, 0.06, 0.35),
                          haircut: float = 0.1) -> None:
    """A barber sleeps until a customer comes; the waiting room has ``chairs`` chairs.

    A customer who finds every chair taken leaves.  Two semaphores are used as
    signals: the customer releases ``customer`` to say it is there (the barber
    sleeps on it) and waits on ``barber`` until the barber calls it in.  Once
    every customer has been served or has left, the shop closes: the barber's
    last sleep is cancelled.
    """
    prims = _prims(prims)
    waiting_room = _make(prims, "Lock", "waiting room")
    customer_ready = _make(prims, "Semaphore", "customer", 0)
    barber_ready = _make(prims, "Semaphore", "barber", 0)
    waiting = 0

    async def barber() -> None:
        nonlocal waiting
        while True:
            await customer_ready.acquire()  # asleep until a customer signals
            async with waiting_room:
                waiting -= 1
            barber_ready.release()  # calls the next customer in
            await asyncio.sleep(haircut)

    async def customer(n: int) -> None:
        nonlocal waiting
        await asyncio.sleep(arrivals[n])
        async with waiting_room:
            if waiting == chairs:
                print(f"{_now()}  customer {n} finds no free chair and leaves")
                return
            waiting += 1
        customer_ready.release()
        await barber_ready.acquire()
        print(f"{_now()}  customer {n} gets a haircut")
        await asyncio.sleep(haircut)

    shop = asyncio.create_task(barber(), name="barber")
    await asyncio.gather(*(asyncio.create_task(customer(n), name=f"customer {n}")
                           for n in range(len(arrivals))))
    await asyncio.sleep(0)  # the barber finishes his last haircut and falls asleep
    shop.cancel()
    await asyncio.gather(shop, return_exceptions=True)
    print(f"{_now()}  the shop closes")
