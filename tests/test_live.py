"""asyncprims.blocked() and format_blocked(): the live wait-for report."""

from __future__ import annotations

import asyncio
import collections
import os
import re
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import asyncprims
from asyncprims._live import BlockedSnapshot

ROOT = Path(__file__).resolve().parent.parent

HERE = "tests/test_live.py"


def _qualified(qualname: str) -> str:
    """A function's name as reports show it: qualified from 3.11 (co_qualname)."""
    return qualname if sys.version_info >= (3, 11) else qualname.rpartition(".")[2]


def _line_of(function: Callable[..., Any], text: str) -> int:
    """The line number of ``text`` in ``function``'s source."""
    import inspect

    lines, first = inspect.getsourcelines(function)
    return first + next(i for i, line in enumerate(lines) if text in line)


async def _settle(rounds: int = 5) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def _cancel(*tasks: asyncio.Task[Any]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _two_lock_deadlock() -> tuple[asyncio.Task[Any], asyncio.Task[Any]]:
    first, second = asyncprims.Lock(name="first"), asyncprims.Lock(name="second")

    async def forward() -> None:
        async with first:
            await asyncio.sleep(0)
            async with second:  # forward waits here
                pass

    async def backward() -> None:
        async with second:
            await asyncio.sleep(0)
            async with first:  # backward waits here
                pass

    tasks = (
        asyncio.create_task(forward(), name="forward"),
        asyncio.create_task(backward(), name="backward"),
    )
    await _settle()
    return tasks


def test_a_deadlock_is_reported_with_holders_cycle_time_and_place() -> None:
    asyncprims.time_waits()

    async def main() -> tuple[BlockedSnapshot, str]:
        tasks = await _two_lock_deadlock()
        await asyncio.sleep(0.05)
        snapshot = asyncprims.blocked()
        text = asyncprims.format_blocked()
        await _cancel(*tasks)
        return snapshot, text

    snapshot, text = asyncio.run(main())
    assert [record.task for record in snapshot] == ["backward", "forward"]
    backward, forward = snapshot.tasks
    assert forward.description == "waits to acquire Lock 'second' (held by 'backward')"
    assert backward.holders == ("forward",) and backward.operation == "acquire"
    assert snapshot.cycles == (("backward", "forward", "backward"),)
    assert forward.waited is not None and forward.waited >= 0.05
    line = _line_of(_two_lock_deadlock, "forward waits here")
    function = _qualified("_two_lock_deadlock.<locals>.forward")
    assert forward.location == f"{HERE}:{line} in {function}"
    lines = text.splitlines()
    assert lines[0] == "asyncprims: 2 tasks blocked on a primitive"
    assert re.fullmatch(
        r"  task 'forward' waits to acquire Lock 'second' \(held by 'backward'\), "
        rf"for \d+ ms, at {re.escape(HERE)}:{line} in {re.escape(function)}",
        lines[2],
    )
    assert lines[3] == "  cycle: 'backward' -> 'forward' -> 'backward'"
    assert str(snapshot).splitlines()[0] == lines[0]


async def _blocked_after(setup: Callable[[], Awaitable[list[asyncio.Task[Any]]]]) -> list[str]:
    tasks = await setup()
    await _settle()
    descriptions = [str(record) for record in asyncprims.blocked()]
    await _cancel(*tasks)
    return descriptions


def test_every_kind_of_wait_is_described() -> None:
    async def setup() -> list[asyncio.Task[Any]]:
        sem = asyncprims.Semaphore(1, name="pool")
        full = asyncprims.Queue(1, name="full")
        full.put_nowait(0)
        event, cond = asyncprims.Event(name="go"), asyncprims.Condition(name="cv")
        barrier = asyncprims.Barrier(3, name="meet")
        joined = asyncprims.Queue(name="work")
        joined.put_nowait(1)

        async def hold() -> None:
            async with sem:
                await asyncio.sleep(3600)

        async def notified() -> None:
            async with cond:
                await cond.wait()

        create = asyncio.create_task
        tasks = [create(hold(), name="holder")]
        await _settle()
        tasks += [
            create(sem.acquire(), name="t1-sem"),
            create(full.put(1), name="t2-put"),
            create(asyncprims.Queue(name="empty").get(), name="t3-get"),
            create(event.wait(), name="t4-event"),
            create(notified(), name="t5-cond"),
            create(barrier.wait(), name="t6-barrier"),
            create(joined.join(), name="t7-join"),
        ]
        return tasks

    assert asyncio.run(_blocked_after(setup)) == [
        "task 't1-sem' waits to acquire Semaphore 'pool' (held by 'holder')",
        "task 't2-put' waits to put into Queue 'full' (full: 1 of 1)",
        "task 't3-get' waits to get from Queue 'empty' (empty)",
        "task 't4-event' waits for Event 'go' to be set",
        "task 't5-cond' waits for a notify on Condition 'cv'",
        "task 't6-barrier' waits at Barrier 'meet' (1 of 3 arrived)",
        "task 't7-join' waits in join() of Queue 'work' (1 unfinished)",
    ]


def test_holders_that_are_not_blocked_are_described_too() -> None:
    async def main() -> BlockedSnapshot:
        lock = asyncprims.Lock(name="db")

        async def slow() -> None:
            async with lock:
                await asyncio.sleep(3600)  # the holder is here

        holder = asyncio.create_task(slow(), name="slow")
        await _settle()
        waiter = asyncio.create_task(lock.acquire(), name="waiter")
        await _settle()
        snapshot = asyncprims.blocked()
        await _cancel(holder, waiter)
        return snapshot

    snapshot = asyncio.run(main())
    assert [str(record) for record in snapshot] == [
        "task 'waiter' waits to acquire Lock 'db' (held by 'slow')"
    ]
    assert snapshot.tasks[0].location is None  # the task runs acquire() itself
    (other,) = snapshot.others
    assert str(other) == "task 'slow' awaits asyncio.sleep()"
    pattern = rf"{re.escape(HERE)}:\d+ in (\S+\.main\.<locals>\.)?slow"
    assert re.fullmatch(pattern, other.location or "")
    assert "the tasks they wait for:\n  task 'slow' awaits asyncio.sleep(), at " in str(snapshot)


def test_a_woken_waiter_is_not_blocked() -> None:
    async def main() -> tuple[int, int]:
        lock = asyncprims.Lock()
        await lock.acquire()
        waiter = asyncio.create_task(lock.acquire(), name="waiter")
        await _settle()
        before = len(asyncprims.blocked())
        lock.release()  # wakes the waiter; it runs at the next iteration
        after = len(asyncprims.blocked())
        await waiter
        return before, after

    assert asyncio.run(main()) == (1, 0)


def test_tasks_sharing_a_name_make_no_false_cycle() -> None:
    async def main() -> tuple[BlockedSnapshot, str]:
        lock, jobs = asyncprims.Lock(name="L"), asyncprims.Queue(name="jobs")

        async def worker() -> None:
            async with lock:
                await jobs.get()

        tasks = [asyncio.create_task(worker(), name="worker") for _ in range(3)]
        await _settle()
        snapshot = asyncprims.blocked()
        report = asyncprims.DeadlockError  # the run() report uses the same cycle finder
        from asyncprims._deadlock import describe_blocked_tasks

        error: Any = describe_blocked_tasks(tasks)
        assert isinstance(error, report)
        await _cancel(*tasks)
        return snapshot, error.report

    snapshot, report = asyncio.run(main())
    assert len(snapshot) == 3 and snapshot.cycles == ()
    assert "cycle" not in report


def test_a_cycle_through_an_awaited_task() -> None:
    async def main() -> BlockedSnapshot:
        lock = asyncprims.Lock(name="L")

        async def child() -> None:
            async with lock:
                pass

        async def parent() -> None:
            async with lock:
                await asyncio.create_task(child(), name="child")

        task = asyncio.create_task(parent(), name="parent")
        await _settle()
        snapshot = asyncprims.blocked()
        await _cancel(task)
        return snapshot

    snapshot = asyncio.run(main())
    assert [record.task for record in snapshot] == ["child"]
    assert [str(record) for record in snapshot.others] == ["task 'parent' awaits task 'child'"]
    assert snapshot.cycles == (("child", "parent", "child"),)


def test_blocked_sees_a_loop_in_another_thread_and_filters_by_loop() -> None:
    ready, done = threading.Event(), threading.Event()
    holder: dict[str, Any] = {}

    async def stuck() -> None:
        holder["loop"] = asyncio.get_running_loop()
        queue = asyncprims.Queue(name="far")
        task = asyncio.create_task(queue.get(), name="far-getter")
        await _settle()
        ready.set()
        while not done.is_set():
            await asyncio.sleep(0.01)
        await _cancel(task)

    thread = threading.Thread(target=asyncio.run, args=(stuck(),))
    thread.start()
    try:
        assert ready.wait(10)

        async def here() -> tuple[list[str], list[str]]:
            everywhere = [str(record) for record in asyncprims.blocked()]
            mine = [str(record) for record in asyncprims.blocked(asyncio.get_running_loop())]
            return everywhere, mine

        everywhere, mine = asyncio.run(here())
        from_thread = [str(record) for record in asyncprims.blocked(holder["loop"])]
    finally:
        done.set()
        thread.join()
    assert everywhere == ["task 'far-getter' waits to get from Queue 'far' (empty)"]
    assert mine == []
    assert from_thread == everywhere


def test_tasks_of_a_closed_loop_are_not_blocked() -> None:
    loop = asyncio.new_event_loop()
    lock = asyncprims.Lock()

    async def stuck() -> None:
        async with lock:
            await asyncprims.Event().wait()

    task = loop.create_task(stuck())
    task._log_destroy_pending = False  # type: ignore[attr-defined]  # left pending on purpose
    loop.run_until_complete(asyncio.sleep(0.01))
    assert [record.operation for record in asyncprims.blocked()] == ["wait"]
    loop.close()  # the task stays pending forever: litter, not a blocked task
    assert not asyncprims.blocked()


def test_nothing_blocked() -> None:
    assert not asyncprims.blocked()
    assert asyncprims.format_blocked() == (
        "asyncprims: no task is blocked on an asyncprims primitive "
        "(asyncio's own primitives are not seen: asyncprims.patch() swaps them)"
    )
    with asyncprims.patch():
        assert asyncprims.format_blocked() == (
            "asyncprims: no task is blocked on an asyncprims primitive"
        )


def test_wait_timing_is_off_until_a_live_tool_asks() -> None:
    script = (
        "import asyncio, asyncprims\n"
        "from asyncprims._waiters import waits_are_timed\n"
        "asyncprims.patch(); asyncio.run(asyncio.sleep(0)); print(waits_are_timed())\n"
        "async def main():\n"
        "    event = asyncio.Event()\n"
        "    task = asyncio.create_task(event.wait()); await asyncio.sleep(0)\n"
        "    print([r.waited for r in asyncprims.blocked()], waits_are_timed())\n"
        "    task2 = asyncio.create_task(event.wait()); await asyncio.sleep(0)\n"
        "    print([r.waited is None for r in asyncprims.blocked()])\n"
        "    event.set(); await asyncio.gather(task, task2)\n"
        "asyncio.run(main())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.stdout == "False\n[None] True\n[True, False]\n"


def test_wait_times_come_from_the_waiter_queue() -> None:
    asyncprims.time_waits()

    async def main() -> list[float | None]:
        event = asyncprims.Event()
        waiter = asyncio.create_task(event.wait())
        await _settle()
        first = asyncprims.blocked().tasks[0].waited
        await asyncio.sleep(0.05)
        second = asyncprims.blocked().tasks[0].waited
        queue = event._waiters
        event._waiters = collections.deque(queue)  # type: ignore[assignment]
        unknown = asyncprims.blocked().tasks[0].waited  # a plain deque keeps no times
        event._waiters = queue
        event.set()
        await waiter
        return [first, second, unknown]

    first, second, unknown = asyncio.run(main())
    assert first is not None and second is not None and second >= first + 0.05
    assert unknown is None


@pytest.mark.parametrize("virtual", [False, True])
def test_deadlock_error_report_is_unchanged(virtual: bool) -> None:
    async def main() -> None:
        await asyncio.gather(*await _two_lock_deadlock())

    with pytest.raises(asyncprims.DeadlockError) as caught:
        asyncprims.run(main(), virtual_time=virtual)
    assert caught.value.report == (
        "deadlock: 3 tasks are blocked and nothing can wake them\n"
        "  task 'backward' waits to acquire Lock 'first' (held by 'forward')\n"
        "  task 'forward' waits to acquire Lock 'second' (held by 'backward')\n"
        "  task 'main' awaits gather of tasks 'forward', 'backward'\n"
        "  cycle: 'backward' -> 'forward' -> 'backward'"
    )
    assert all(record.waited is None and record.location is None for record in caught.value.blocked)
