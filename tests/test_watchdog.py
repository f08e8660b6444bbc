"""asyncprims.watchdog() and report_on_signal(): the live report on a timer, on a signal."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import asyncprims

#: Generous bound for "eventually" (never a speed assertion: a pass takes ~0.1 s).
PATIENCE = 20.0


def _eventually(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


async def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def _deadlock() -> list[asyncio.Task[Any]]:
    first, second = asyncprims.Lock(name="first"), asyncprims.Lock(name="second")

    async def one(a: Any, b: Any) -> None:
        async with a:
            await asyncio.sleep(0)
            async with b:
                pass

    tasks = [
        asyncio.create_task(one(first, second), name="forward"),
        asyncio.create_task(one(second, first), name="backward"),
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    return tasks


async def _cancel(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def test_a_deadlock_is_reported_once_per_episode() -> None:
    out = io.StringIO()

    async def main() -> None:
        with asyncprims.watchdog(0.1, file=out) as dog:
            tasks = await _deadlock()
            await _until(lambda: dog.reports > 0)
            for _ in range(3):  # several more samples: still one report
                await asyncio.sleep(dog.interval * 2)
            assert dog.reports == 1
            await _cancel(tasks)
            # The episode is over; a new stall is a new episode.
            tasks = await _deadlock()
            await _until(lambda: dog.reports > 1)
            assert dog.reports == 2
            await _cancel(tasks)

    asyncio.run(main())
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0] == (
        "asyncprims watchdog: a wait for a lock or semaphore has made no progress for 0.1 s"
    )
    assert lines[1] == "asyncprims: 2 tasks blocked on a primitive"
    assert "  cycle: 'backward' -> 'forward' -> 'backward'" in lines
    assert text.count("asyncprims watchdog:") == 2


def test_waits_older_than_wait_timing_count_from_first_sight() -> None:
    async def main() -> int:
        tasks = await _deadlock()
        for task in tasks:  # as if both waits began before timing was switched on
            for prim in {id(p): p for p in _locks_of(task)}.values():
                for fut in prim._waiters._pending:
                    prim._waiters._pending[fut] = None
        assert all(record.waited is None for record in asyncprims.blocked())
        with asyncprims.watchdog(0.05, on_stall=lambda snapshot: None) as dog:
            await _until(lambda: dog.reports > 0)
        await _cancel(tasks)
        return dog.reports

    assert asyncio.run(main()) == 1


def _locks_of(task: asyncio.Task[Any]) -> list[Any]:
    from asyncprims._deadlock import _primitive_frames

    return [prim for prim, _ in _primitive_frames(task)]


def test_idle_waits_count_only_when_asked() -> None:
    snapshots: list[Any] = []

    async def main() -> int:
        queue, event = asyncprims.Queue(name="jobs"), asyncprims.Event(name="stop")
        tasks = [
            asyncio.create_task(queue.get(), name="worker"),
            asyncio.create_task(event.wait(), name="server"),
        ]
        with asyncprims.watchdog(0.05, on_stall=snapshots.append) as quiet:
            await asyncio.sleep(0.3)
        with asyncprims.watchdog(0.05, idle=True, on_stall=snapshots.append) as loud:
            await _until(lambda: loud.reports > 0)
        await _cancel(tasks)
        return quiet.reports

    assert asyncio.run(main()) == 0
    (snapshot,) = snapshots
    assert [str(record) for record in snapshot] == [
        "task 'server' waits for Event 'stop' to be set",
        "task 'worker' waits to get from Queue 'jobs' (empty)",
    ]


def test_repeat_reports_again_while_the_stall_lasts() -> None:
    async def main() -> int:
        with asyncprims.watchdog(0.05, repeat=True, on_stall=lambda s: None) as dog:
            tasks = await _deadlock()
            await _until(lambda: dog.reports >= 3)
            await _cancel(tasks)
        return dog.reports

    assert asyncio.run(main()) >= 3


def test_a_loop_in_another_thread_is_watched() -> None:
    stop = threading.Event()
    out = io.StringIO()

    async def stuck() -> None:
        tasks = await _deadlock()
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)
        await _cancel(tasks)

    with asyncprims.watchdog(0.05, file=out) as dog:
        thread = threading.Thread(target=asyncio.run, args=(stuck(),))
        thread.start()
        try:
            assert _eventually(lambda: dog.reports > 0)
        finally:
            stop.set()
            thread.join()
    assert "  cycle: 'backward' -> 'forward' -> 'backward'" in out.getvalue()
    assert "stopped" in repr(dog)


def test_bad_arguments() -> None:
    for after in (0, -1, "1", True):
        with pytest.raises(ValueError, match="after must be a positive number"):
            asyncprims.watchdog(after)  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="POSIX only")
def test_report_on_signal_prints_and_chains_and_restores() -> None:
    out = io.StringIO()
    chained: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: chained.append(signum))
    try:

        async def main() -> None:
            tasks = await _deadlock()
            with asyncprims.report_on_signal(file=out) as handler:
                os.kill(os.getpid(), signal.SIGUSR1)
                await _until(lambda: "cycle:" in out.getvalue())
            assert handler.reports == 1
            await _cancel(tasks)

        asyncio.run(main())
        assert chained == [signal.SIGUSR1]
        assert callable(signal.getsignal(signal.SIGUSR1))  # the test's handler is back
        assert signal.getsignal(signal.SIGUSR1) is not None
    finally:
        signal.signal(signal.SIGUSR1, previous)
    text = out.getvalue()
    assert text.startswith(
        "asyncprims: report on signal SIGUSR1\nasyncprims: 2 tasks blocked on a primitive\n"
    )
    assert "  cycle: 'backward' -> 'forward' -> 'backward'" in text


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="POSIX only")
def test_report_on_signal_needs_the_main_thread() -> None:
    errors: list[BaseException] = []

    def elsewhere() -> None:
        try:
            asyncprims.report_on_signal()
        except ValueError as error:
            errors.append(error)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert "main thread" in str(errors[0])
