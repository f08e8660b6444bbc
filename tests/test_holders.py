"""Who holds a lock or a permit taken through ``asyncio.wait_for``.

On 3.10 and 3.11 ``wait_for(lock.acquire(), t)`` runs the acquire in an inner
task that finishes at once; the lock belongs to the task awaiting ``wait_for``,
as it does from 3.12, where no inner task exists.  ``statistics()``, the
deadlock report and the trace must all name that task.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import asyncprims


@pytest.mark.parametrize("contended", [False, True])
def test_wait_for_lock_acquire_names_the_caller(contended: bool) -> None:
    async def main() -> tuple[Any, Any, Any]:
        lock = asyncprims.Lock()
        if contended:  # the acquire waits, then takes the lock on its slow path
            await lock.acquire()
            asyncio.get_running_loop().call_later(0.1, lock.release)
        await asyncio.wait_for(lock.acquire(), 5)
        owner = lock.statistics().owner
        lock.release()
        return owner, asyncio.current_task(), lock.statistics().owner

    owner, me, after = asyncprims.run(main(), virtual_time=True)
    assert owner is me
    assert after is None


@pytest.mark.parametrize("contended", [False, True])
def test_wait_for_semaphore_acquire_names_the_caller(contended: bool) -> None:
    async def main() -> tuple[Any, Any, Any]:
        semaphore = asyncprims.Semaphore(1)
        if contended:
            await semaphore.acquire()
            asyncio.get_running_loop().call_later(0.1, semaphore.release)
        await asyncio.wait_for(semaphore.acquire(), 5)
        holders = semaphore.statistics().holders
        semaphore.release()
        return holders, asyncio.current_task(), semaphore.statistics().holders

    holders, me, after = asyncprims.run(main(), virtual_time=True)
    assert holders == (me,)
    assert after == ()


def test_a_task_made_around_acquire_by_hand_still_holds_it() -> None:
    async def main() -> bool:
        lock = asyncprims.Lock()
        helper = asyncio.create_task(lock.acquire(), name="helper")
        await helper
        return lock.statistics().owner is helper

    assert asyncprims.run(main(), virtual_time=True)


def test_deadlock_report_through_wait_for_names_the_callers_and_the_cycle() -> None:
    fork_a = asyncprims.Lock(name="fork-a")
    fork_b = asyncprims.Lock(name="fork-b")

    async def philosopher(first: asyncprims.Lock, second: asyncprims.Lock) -> None:
        await asyncio.wait_for(first.acquire(), 1)
        await asyncio.sleep(0.1)
        async with second:
            pass

    async def main() -> None:
        await asyncio.gather(
            asyncio.create_task(philosopher(fork_a, fork_b), name="left"),
            asyncio.create_task(philosopher(fork_b, fork_a), name="right"),
        )

    with pytest.raises(asyncprims.DeadlockError) as caught:
        asyncprims.run(main(), virtual_time=True)
    assert caught.value.report.splitlines() == [
        "deadlock: 3 tasks are blocked and nothing can wake them",
        "  task 'left' waits to acquire Lock 'fork-b' (held by 'right')",
        "  task 'main' awaits gather of tasks 'left', 'right'",
        "  task 'right' waits to acquire Lock 'fork-a' (held by 'left')",
        "  cycle: 'left' -> 'right' -> 'left'",
    ]


def test_the_trace_puts_the_hold_on_the_callers_lane() -> None:
    async def main() -> None:
        lock = asyncprims.Lock(name="L")

        async def holder() -> None:
            async with lock:
                await asyncio.sleep(0.1)

        async def caller() -> None:
            await asyncio.wait_for(lock.acquire(), 5)
            await asyncio.sleep(0.1)
            lock.release()

        await asyncio.gather(
            asyncio.create_task(holder(), name="holder"),
            asyncio.create_task(caller(), name="caller"),
        )

    with asyncprims.trace() as timeline:
        asyncprims.run(main(), virtual_time=True)
    holds = [
        (span.task, span.start, span.end) for span in timeline.spans() if span.state == "holding"
    ]
    assert holds == [("holder", 0.0, 0.1), ("caller", 0.1, 0.2)]
