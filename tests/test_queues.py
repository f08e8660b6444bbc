"""Queue, PriorityQueue, LifoQueue: asyncio's API, errors and reprs, shutdown() on
every Python, statistics(), and O(1) removal of cancelled getters and putters."""

from __future__ import annotations

import asyncio
import re
import sys
import types
from typing import Any

import pytest
import scenarios
from scenarios import run_with_timeout as run

import asyncprims

QUEUES = ["Queue", "PriorityQueue", "LifoQueue"]


def test_exceptions_are_asyncios_where_it_has_them() -> None:
    assert asyncprims.QueueEmpty is asyncio.QueueEmpty
    assert asyncprims.QueueFull is asyncio.QueueFull
    if sys.version_info >= (3, 13):
        assert asyncprims.QueueShutDown is asyncio.QueueShutDown
    else:
        assert not hasattr(asyncio, "QueueShutDown")
        assert issubclass(asyncprims.QueueShutDown, Exception)
        assert asyncprims.QueueShutDown.__module__ == "asyncprims"


@pytest.mark.parametrize("cls", QUEUES)
def test_class_getitem_is_a_generic_alias(cls: str) -> None:
    queue_class = getattr(asyncprims, cls)
    alias = queue_class[int]
    assert isinstance(alias, types.GenericAlias)
    assert alias.__origin__ is queue_class
    assert alias.__args__ == (int,)


def test_float_maxsize_like_asyncio() -> None:
    def fill(p: Any) -> tuple[int, bool]:
        q = p.Queue(maxsize=2.5)
        count = 0
        try:
            while True:
                q.put_nowait(count)
                count += 1
        except p.QueueFull:
            return count, q.full()

    assert fill(asyncprims) == fill(asyncio) == (3, True)
    q = asyncprims.Queue(maxsize=2.5)
    assert q.maxsize == 2.5
    assert str(q) == "<Queue maxsize=2.5>"


def test_unbounded_is_never_full() -> None:
    for maxsize in (0, -1):
        q = asyncprims.Queue(maxsize)
        for i in range(100):
            q.put_nowait(i)
        assert not q.full()


def test_repr_and_str_shapes() -> None:
    async def main() -> None:
        q = asyncprims.Queue(name="jobs")
        assert str(q) == "<Queue maxsize=0>"
        assert re.fullmatch(r"<Queue at 0x[0-9a-f]+ maxsize=0>", repr(q))
        assert "jobs" not in repr(q) and q.name == "jobs"
        getter = asyncio.create_task(q.get())
        await asyncio.sleep(0)
        assert str(q) == "<Queue maxsize=0 _getters[1]>"
        q.put_nowait(1)
        q.put_nowait(2)
        assert str(q) == "<Queue maxsize=0 _queue=[1, 2] tasks=2>"
        await getter
        assert str(q) == "<Queue maxsize=0 _queue=[2] tasks=2>"
        q.task_done()
        assert str(q) == "<Queue maxsize=0 _queue=[2] tasks=1>"
        small = asyncprims.LifoQueue(1)
        small.put_nowait("a")
        putter = asyncio.create_task(small.put("b"))
        await asyncio.sleep(0)
        assert str(small) == "<LifoQueue maxsize=1 _queue=['a'] _putters[1] tasks=1>"
        small.shutdown()
        assert str(small) == "<LifoQueue maxsize=1 _queue=['a'] tasks=1 shutdown>"
        with pytest.raises(asyncprims.QueueShutDown):
            await putter

    run(main())


def test_format_matches_asyncio() -> None:
    async def states(p: Any) -> list[str]:
        q = p.PriorityQueue(3)
        out = [str(q)]
        getter = asyncio.create_task(q.get())
        await asyncio.sleep(0)
        out.append(str(q))
        for item in (3, 1, 2):
            q.put_nowait(item)
            out.append(str(q))
        putter = asyncio.create_task(q.put(0))
        await asyncio.sleep(0)
        out.append(str(q))
        await getter
        out.append(str(q))
        await putter
        out.append(str(q))
        return out

    assert run(states(asyncprims)) == run(states(asyncio))


def test_nowait_errors_and_task_done_message() -> None:
    q = asyncprims.Queue(1)
    with pytest.raises(asyncio.QueueEmpty):
        q.get_nowait()
    q.put_nowait(1)
    with pytest.raises(asyncio.QueueFull):
        q.put_nowait(2)
    assert q.get_nowait() == 1
    q.task_done()
    with pytest.raises(ValueError) as ours:
        q.task_done()
    with pytest.raises(ValueError) as theirs:
        asyncio.Queue().task_done()
    assert str(ours.value) == str(theirs.value) == "task_done() called too many times"


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        ("Queue", [5, 1, 4, 2, 3]),
        ("PriorityQueue", [1, 2, 3, 4, 5]),
        ("LifoQueue", [3, 2, 4, 1, 5]),
    ],
)
def test_orders(cls: str, expected: list[int]) -> None:
    q = getattr(asyncprims, cls)()
    for item in [5, 1, 4, 2, 3]:
        q.put_nowait(item)
    assert [q.get_nowait() for _ in range(5)] == expected


def test_bound_to_a_different_event_loop() -> None:
    q = asyncprims.Queue()

    async def block() -> None:
        q.put_nowait(1)
        assert await q.get() == 1  # fast path: binds nothing
        task = asyncio.create_task(q.get())
        await asyncio.sleep(0)
        if task.done():
            task.result()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    run(block())
    with pytest.raises(RuntimeError, match="is bound to a different event loop"):
        run(block())


def test_statistics_including_after_cancellation() -> None:
    async def main() -> None:
        q = asyncprims.Queue(1)
        assert q.statistics() == asyncprims.QueueStatistics(0, 1, 0, 0, 0, False)
        getters = [asyncio.create_task(q.get()) for _ in range(3)]
        await asyncio.sleep(0)
        assert q.statistics().getters_waiting == 3
        getters[1].cancel()
        await asyncio.sleep(0)
        assert q.statistics().getters_waiting == 2
        await q.put("a")
        await q.put("b")
        await asyncio.sleep(0)
        assert [getters[0].result(), getters[2].result()] == ["a", "b"]
        await q.put("c")
        putters = [asyncio.create_task(q.put(x)) for x in "de"]
        await asyncio.sleep(0)
        assert q.statistics() == asyncprims.QueueStatistics(1, 1, 0, 2, 3, False)
        putters[0].cancel()
        await asyncio.sleep(0)
        assert q.statistics().putters_waiting == 1
        q.shutdown(immediate=True)
        await asyncio.gather(*putters, return_exceptions=True)
        assert q.statistics() == asyncprims.QueueStatistics(0, 1, 0, 0, 2, True)

    run(main())


# -- shutdown ----------------------------------------------------------------------------


def test_shutdown_gets_drain_then_raise_puts_raise_at_once() -> None:
    async def main() -> None:
        q = asyncprims.Queue()
        for i in range(2):
            q.put_nowait(i)
        q.shutdown()
        with pytest.raises(asyncprims.QueueShutDown):
            q.put_nowait(9)
        with pytest.raises(asyncprims.QueueShutDown):
            await q.put(9)
        assert await q.get() == 0
        assert q.get_nowait() == 1
        with pytest.raises(asyncprims.QueueShutDown):
            q.get_nowait()
        with pytest.raises(asyncprims.QueueShutDown):
            await q.get()
        q.task_done()
        q.task_done()
        await asyncio.wait_for(q.join(), 1)

    run(main())


def test_shutdown_wakes_blocked_getters_and_putters() -> None:
    async def main() -> None:
        empty = asyncprims.Queue()
        getters = [asyncio.create_task(empty.get()) for _ in range(3)]
        full = asyncprims.Queue(1)
        full.put_nowait("x")
        putters = [asyncio.create_task(full.put(i)) for i in range(3)]
        await asyncio.sleep(0)
        empty.shutdown()
        full.shutdown()
        results = await asyncio.gather(*getters, *putters, return_exceptions=True)
        assert all(isinstance(r, asyncprims.QueueShutDown) for r in results)
        assert full.get_nowait() == "x"  # items put before shutdown stay

    run(main())


def test_shutdown_immediate_discards_and_releases_join() -> None:
    async def main() -> None:
        q = asyncprims.Queue()
        for i in range(4):
            q.put_nowait(i)
        assert q.get_nowait() == 0  # fetched, not yet done
        joiner = asyncio.create_task(q.join())
        await asyncio.sleep(0)
        q.shutdown(immediate=True)
        assert q.empty()
        assert q._unfinished_tasks == 1
        await asyncio.sleep(0)
        assert not joiner.done()
        with pytest.raises(asyncprims.QueueShutDown):
            q.get_nowait()
        q.task_done()
        await asyncio.wait_for(joiner, 1)
        with pytest.raises(ValueError):
            q.task_done()

    run(main())


def test_shutdown_immediate_with_nothing_fetched_releases_join_at_once() -> None:
    async def main() -> None:
        q = asyncprims.PriorityQueue()
        for i in range(3):
            q.put_nowait(i)
        joiner = asyncio.create_task(q.join())
        await asyncio.sleep(0)
        q.shutdown(immediate=True)
        await asyncio.sleep(0)
        assert joiner.done()
        assert q.statistics().unfinished_tasks == 0

    run(main())


# -- hand-offs under cancellation ---------------------------------------------------------


def test_getter_cancelled_after_put_passes_the_item_on() -> None:
    async def main() -> None:
        q = asyncprims.Queue()
        getters = [asyncio.create_task(q.get()) for _ in range(2)]
        await asyncio.sleep(0)
        q.put_nowait("item")
        getters[0].cancel()
        await asyncio.gather(*getters, return_exceptions=True)
        assert getters[0].cancelled()
        assert getters[1].result() == "item"

    run(main())


def test_putter_cancelled_after_get_passes_the_slot_on() -> None:
    async def main() -> None:
        q = asyncprims.Queue(1)
        q.put_nowait("a")
        putters = [asyncio.create_task(q.put(x)) for x in "bc"]
        await asyncio.sleep(0)
        assert q.get_nowait() == "a"
        putters[0].cancel()
        await asyncio.gather(*putters, return_exceptions=True)
        assert putters[0].cancelled()
        assert q.get_nowait() == "c"

    run(main())


def test_join_returns_at_once_when_nothing_is_unfinished() -> None:
    q = asyncprims.Queue()
    run(q.join())
    assert q._loop is None and q._finished._loop is None


@pytest.mark.parametrize("kind", ["Queue.get", "Queue.put"])
def test_cancelling_waiters_newest_first_is_linear(kind: str) -> None:
    small, large = (scenarios.cancellation_work(asyncprims, kind, n) for n in (100, 400))
    assert small <= 3 * 100
    assert large <= 3 * 400
    theirs_small, theirs_large = (scenarios.cancellation_work(asyncio, kind, n) for n in (100, 400))
    assert theirs_small >= 100 * 99 / 2
    assert theirs_large >= 12 * theirs_small
