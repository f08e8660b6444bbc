"""Random schedules (arrival steps, hold times, cancellations at any step, including
right after a wake-up) on every primitive; the invariants asyncio's primitives
promise must hold: mutual exclusion, FIFO hand-off, no permit, item or
notification lost.  On 3.13 the same schedules also give the same event log
with asyncio's classes and ours."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scenarios import run_with_timeout as run

import asyncprims

SETTINGS = settings(deadline=None, max_examples=120)
ON_313 = sys.version_info[:2] == (3, 13)
MAX_STEPS = 400


async def hold(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def drive(tasks: list[asyncio.Task[Any]], actions: dict[int, list[Any]]) -> None:
    """Run ``actions[step]`` before each ``sleep(0)`` step until every task is done."""
    last = max(actions, default=0)
    for step in range(MAX_STEPS):
        for action in actions.get(step, ()):
            action()
        await asyncio.sleep(0)
        if step > last and all(t.done() for t in tasks):
            return
    raise AssertionError(f"not done after {MAX_STEPS} steps: a wake-up was lost")


# -- Lock, Semaphore, BoundedSemaphore --------------------------------------------------


@dataclass(frozen=True)
class Worker:
    arrival: int
    hold: int
    cancel_at: int | None  # step at which the driver cancels this task
    cancels: int | None  # around its release, this task cancels that one
    cancel_first: bool  # ... just before the release (else just after it)


def workers(n_max: int = 7) -> st.SearchStrategy[list[Worker]]:
    def build(n: int) -> st.SearchStrategy[list[Worker]]:
        one = st.builds(
            Worker,
            arrival=st.integers(0, 4),
            hold=st.integers(0, 3),
            cancel_at=st.none() | st.integers(0, 12),
            cancels=st.none() | st.integers(0, n - 1),
            cancel_first=st.booleans(),
        )
        return st.lists(one, min_size=n, max_size=n).map(
            lambda ws: [
                w
                if w.cancels != i
                else Worker(w.arrival, w.hold, w.cancel_at, None, w.cancel_first)
                for i, w in enumerate(ws)
            ]
        )

    return st.integers(1, n_max).flatmap(build)


async def lock_schedule(p: Any, kind: str, value: int, ws: list[Worker]) -> dict[str, Any]:
    prim = p.Lock() if kind == "Lock" else getattr(p, kind)(value)
    capacity = 1 if kind == "Lock" else value
    log: list[tuple[Any, ...]] = []
    holders: set[int] = set()
    peak = 0
    arrived: list[int] = []
    acquired: list[int] = []
    cancelled_waiting: set[int] = set()
    tasks: list[asyncio.Task[Any]] = []

    async def work(i: int, w: Worker) -> None:
        nonlocal peak
        await hold(w.arrival)
        arrived.append(i)
        log.append(("arrive", i, prim.locked()))
        try:
            await prim.acquire()
        except asyncio.CancelledError:
            cancelled_waiting.add(i)
            log.append(("cancelled", i, prim.locked()))
            raise
        holders.add(i)
        peak = max(peak, len(holders))
        acquired.append(i)
        log.append(("acquire", i, prim.locked()))
        try:
            await hold(w.hold)
        finally:
            holders.discard(i)
            if w.cancels is not None and w.cancel_first:
                tasks[w.cancels].cancel()  # a waiter cancelled before the wake-up
            prim.release()
            log.append(("release", i, prim.locked()))
            if w.cancels is not None and not w.cancel_first:
                tasks[w.cancels].cancel()  # perhaps the waiter this release woke

    tasks.extend(asyncio.create_task(work(i, w)) for i, w in enumerate(ws))
    actions: dict[int, list[Any]] = {}
    for i, w in enumerate(ws):
        if w.cancel_at is not None:
            actions.setdefault(w.cancel_at, []).append(tasks[i].cancel)
    await drive(tasks, actions)
    return {
        "log": log,
        "peak": peak,
        "capacity": capacity,
        "arrived": arrived,
        "acquired": acquired,
        "cancelled_waiting": cancelled_waiting,
        "end_locked": prim.locked(),
        "end_value": getattr(prim, "_value", None),
        "end_waiters": len(prim._waiters or ()),
    }


def check_lock_invariants(result: dict[str, Any], value: int) -> None:
    acquired = result["acquired"]
    # Mutual exclusion (or at most `value` holders).
    assert result["peak"] <= result["capacity"]
    # FIFO: tasks get in in the order they asked, skipping the cancelled.
    assert acquired == [i for i in result["arrived"] if i in set(acquired)]
    # Every task that asked and was not cancelled while waiting got in, once.
    assert len(acquired) == len(set(acquired))
    assert set(acquired) == set(result["arrived"]) - result["cancelled_waiting"]
    # Nothing lost or duplicated: back to the initial state.
    assert not result["end_locked"]
    assert result["end_waiters"] == 0
    if result["end_value"] is not None:
        assert result["end_value"] == value


@SETTINGS
@given(
    ws=workers(),
    kind=st.sampled_from(["Lock", "Semaphore", "BoundedSemaphore"]),
    value=st.integers(1, 3),
)
def test_lock_and_semaphore_invariants(ws: list[Worker], kind: str, value: int) -> None:
    result = run(lock_schedule(asyncprims, kind, value, ws))
    check_lock_invariants(result, value)


@pytest.mark.skipif(not ON_313, reason="asyncio has 3.13 semantics only on 3.13")
@SETTINGS
@given(
    ws=workers(),
    kind=st.sampled_from(["Lock", "Semaphore", "BoundedSemaphore"]),
    value=st.integers(1, 3),
)
def test_lock_and_semaphore_same_as_asyncio(ws: list[Worker], kind: str, value: int) -> None:
    ours = run(lock_schedule(asyncprims, kind, value, ws))
    theirs = run(lock_schedule(asyncio, kind, value, ws))
    assert ours == theirs


# -- Condition ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NotifyRound:
    count: int  # notify(count); 0 means notify_all()
    victims: tuple[int, ...]  # indices into the waiters notified this round, cancelled at once


rounds = st.lists(
    st.builds(
        NotifyRound,
        count=st.integers(0, 3),
        victims=st.lists(st.integers(0, 6), max_size=2, unique=True).map(tuple),
    ),
    max_size=5,
)


async def condition_schedule(p: Any, n: int, plan: list[NotifyRound]) -> dict[str, Any]:
    """All ``n`` waiters wait; each round notifies and cancels some of the waiters it
    just notified, then lets everything settle.  A model predicts exactly who returns."""
    cond = p.Condition()
    returned: list[int] = []
    inside = 0
    peak = 0

    async def waiter(i: int) -> None:
        nonlocal inside, peak
        async with cond:
            inside += 1
            peak = max(peak, inside)
            inside -= 1
            await cond.wait()
            inside += 1
            peak = max(peak, inside)
            returned.append(i)
            await hold(1)
            inside -= 1

    tasks = [asyncio.create_task(waiter(i)) for i in range(n)]
    await hold(2)
    pending = list(range(n))  # the model: not yet notified, FIFO
    expected: list[int] = []
    tokens = 0
    cancelled: set[int] = set()
    for r in plan:
        async with cond:
            k = len(pending) if r.count == 0 else r.count
            tokens += k
            if r.count == 0:
                cond.notify_all()
            else:
                cond.notify(k)
            notified, pending = pending[:k], pending[k:]
            victims = [notified[v] for v in r.victims if v < len(notified)]
            for v in victims:
                tasks[v].cancel()
                cancelled.add(v)
            # Each cancelled, notified waiter passes its notification on, in order.
            passed, pending = pending[: len(victims)], pending[len(victims) :]
            expected += [i for i in notified if i not in victims] + passed
        await hold(3 * n + 6)
    live = n - len(cancelled)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "returned": returned,
        "expected": expected,
        "tokens": tokens,
        "live": live,
        "peak": peak,
        "locked": cond.locked(),
        "cancelled": cancelled,
    }


@SETTINGS
@given(n=st.integers(1, 6), plan=rounds)
def test_condition_no_notification_lost(n: int, plan: list[NotifyRound]) -> None:
    result = run(condition_schedule(asyncprims, n, plan))
    returned = result["returned"]
    assert result["peak"] <= 1  # the condition's lock is held by one task at a time
    assert len(returned) == len(set(returned))
    assert not set(returned) & result["cancelled"]
    assert len(returned) == min(result["tokens"], result["live"])
    assert sorted(returned) == sorted(result["expected"])
    assert not result["locked"]


@pytest.mark.skipif(not ON_313, reason="asyncio has 3.13 semantics only on 3.13")
@SETTINGS
@given(n=st.integers(1, 6), plan=rounds)
def test_condition_same_as_asyncio(n: int, plan: list[NotifyRound]) -> None:
    ours = run(condition_schedule(asyncprims, n, plan))
    theirs = run(condition_schedule(asyncio, n, plan))
    assert ours == theirs


@SETTINGS
@given(
    n=st.integers(1, 6),
    notifies=st.lists(st.integers(1, 3), max_size=4),
    cancel_steps=st.lists(st.none() | st.integers(0, 20), min_size=6, max_size=6),
    notify_steps=st.lists(st.integers(2, 20), min_size=4, max_size=4),
)
def test_condition_random_cancellation_loses_nothing(
    n: int, notifies: list[int], cancel_steps: list[int | None], notify_steps: list[int]
) -> None:
    """Cancellations at any time (before, at or after a notify, or while re-acquiring):
    spurious wake-ups are allowed, lost notifications are not."""

    async def main() -> tuple[int, int, int]:
        cond = asyncprims.Condition()
        returned: list[int] = []
        cancelled: set[int] = set()

        async def waiter(i: int) -> None:
            async with cond:
                try:
                    await cond.wait()
                except asyncio.CancelledError:
                    cancelled.add(i)
                    assert cond.locked()
                    raise
                returned.append(i)

        tasks = [asyncio.create_task(waiter(i)) for i in range(n)]
        await hold(1)  # all wait before the first notify

        notifiers: list[asyncio.Task[Any]] = []

        async def notifier(k: int) -> None:
            async with cond:
                cond.notify(k)

        def notify(k: int) -> Any:
            return lambda: notifiers.append(asyncio.create_task(notifier(k)))

        actions: dict[int, list[Any]] = {}
        for k, step in zip(notifies, notify_steps):
            actions.setdefault(step, []).append(notify(k))
        for i, step in enumerate(cancel_steps[:n]):
            if step is not None:
                actions.setdefault(step, []).append(tasks[i].cancel)
        last = max(actions, default=0)
        for step in range(last + 4 * n + 10):
            for action in actions.get(step, ()):
                action()
            await asyncio.sleep(0)
        await asyncio.gather(*notifiers)
        live = n - len(cancelled)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(returned), sum(notifies), live

    got, tokens, live = run(main())
    assert got >= min(tokens, live)


# -- Event --------------------------------------------------------------------------------


@SETTINGS
@given(
    n=st.integers(1, 6),
    set_at=st.integers(0, 8),
    cancel_steps=st.lists(st.none() | st.integers(0, 10), min_size=6, max_size=6),
    arrivals=st.lists(st.integers(0, 10), min_size=6, max_size=6),
)
def test_event_wakes_every_live_waiter(
    n: int, set_at: int, cancel_steps: list[int | None], arrivals: list[int]
) -> None:
    async def main() -> None:
        event = asyncprims.Event()
        woke: list[int] = []

        async def waiter(i: int) -> None:
            await hold(arrivals[i])
            assert await event.wait() is True
            woke.append(i)

        tasks = [asyncio.create_task(waiter(i)) for i in range(n)]
        actions: dict[int, list[Any]] = {set_at: [event.set]}
        for i, step in enumerate(cancel_steps[:n]):
            if step is not None:
                actions.setdefault(step, []).append(tasks[i].cancel)
        await drive(tasks, actions)
        live = {i for i, t in enumerate(tasks) if not t.cancelled()}
        assert set(woke) == live
        assert len(woke) == len(set(woke))
        assert len(event._waiters) == 0

    run(main())


# -- Queues -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuePlan:
    maxsize: int
    kind: str
    producers: tuple[tuple[int, int | None], ...]  # (items, cancel step)
    consumers: tuple[tuple[int, int | None], ...]  # (pause steps, cancel step)
    cancel_after_put: tuple[int, ...]  # consumers a producer cancels right after its puts


queue_plans = st.builds(
    QueuePlan,
    maxsize=st.integers(0, 3),
    kind=st.sampled_from(["Queue", "LifoQueue", "PriorityQueue"]),
    producers=st.lists(
        st.tuples(st.integers(1, 5), st.none() | st.integers(0, 15)), min_size=1, max_size=3
    ).map(tuple),
    consumers=st.lists(
        st.tuples(st.integers(0, 2), st.none() | st.integers(0, 15)), min_size=1, max_size=3
    ).map(tuple),
    cancel_after_put=st.lists(st.integers(0, 2), max_size=2).map(tuple),
)


async def queue_schedule(p: Any, plan: QueuePlan) -> dict[str, Any]:
    q = getattr(p, plan.kind)(plan.maxsize)
    log: list[tuple[Any, ...]] = []
    put_done: list[Any] = []
    got: list[Any] = []
    consumers: list[asyncio.Task[Any]] = []

    async def produce(pi: int, count: int) -> None:
        for j in range(count):
            item = (j, pi)
            await q.put(item)
            put_done.append(item)
            log.append(("put", pi, item, q.qsize()))
            for ci in plan.cancel_after_put:
                if ci < len(consumers) and j == 0:
                    consumers[ci].cancel()  # perhaps just woken by this put
            await asyncio.sleep(0)

    async def consume(ci: int, pause: int) -> None:
        while True:
            try:
                item = await q.get()
            except asyncio.CancelledError:
                log.append(("cancelled", ci, q.qsize()))
                raise
            got.append(item)
            log.append(("got", ci, item, q.qsize()))
            q.task_done()
            await hold(pause)

    consumers.extend(
        asyncio.create_task(consume(ci, pause)) for ci, (pause, _) in enumerate(plan.consumers)
    )
    producers = [
        asyncio.create_task(produce(pi, count)) for pi, (count, _) in enumerate(plan.producers)
    ]
    actions: dict[int, list[Any]] = {}
    for task, (_, step) in zip([*producers, *consumers], [*plan.producers, *plan.consumers]):
        if step is not None:
            actions.setdefault(step, []).append(task.cancel)
    last = max(actions, default=0)
    for step in range(last + 60):
        for action in actions.get(step, ()):
            action()
        await asyncio.sleep(0)
    # Quiescent now: nobody may be blocked while the thing they wait for is there.
    live_getters = [g for g in q._getters if not g.done()]
    live_putters = [f for f in q._putters if not f.done()]
    stranded_item = bool(live_getters) and not q.empty()
    stranded_slot = bool(live_putters) and not q.full()
    remaining = []
    while not q.empty():
        remaining.append(q.get_nowait())
    for t in [*producers, *consumers]:
        t.cancel()
    await asyncio.gather(*producers, *consumers, return_exceptions=True)
    return {
        "log": log,
        "put": put_done,
        "got": got,
        "remaining": remaining,
        "stranded_item": stranded_item,
        "stranded_slot": stranded_slot,
    }


@SETTINGS
@given(plan=queue_plans)
def test_queue_no_item_lost_or_duplicated(plan: QueuePlan) -> None:
    result = run(queue_schedule(asyncprims, plan))
    assert sorted(result["got"] + result["remaining"]) == sorted(result["put"])
    assert len(set(result["got"])) == len(result["got"])
    assert not result["stranded_item"]
    assert not result["stranded_slot"]
    if plan.kind == "Queue":  # FIFO per producer
        for pi in range(len(plan.producers)):
            mine = [item for item in result["got"] + result["remaining"] if item[1] == pi]
            assert mine == sorted(mine)


@pytest.mark.skipif(not ON_313, reason="asyncio has 3.13 semantics only on 3.13")
@SETTINGS
@given(plan=queue_plans)
def test_queue_same_as_asyncio(plan: QueuePlan) -> None:
    assert run(queue_schedule(asyncprims, plan)) == run(queue_schedule(asyncio, plan))
