"""Deadlock detection is never wrong about a program that can still make progress:
subprocesses, executors and threads count as possible wakers, in real and in
virtual time; and once they are gone, a true deadlock is still reported."""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from _watchdog import run_guarded

import asyncprims

_CHILD = [sys.executable, "-c", "import sys, time; time.sleep(0.3); sys.stdout.write('out')"]
_STATUSES = ("virtual", "real")


def _run(main: Callable[[], Any], mode: str, **kwargs: Any) -> Any:
    return run_guarded(main, virtual_time=mode == "virtual", **kwargs)


# -- 2. subprocesses -------------------------------------------------------------------


@pytest.mark.parametrize("mode", _STATUSES)
def test_waiting_for_a_subprocess_is_not_a_deadlock(mode: str) -> None:
    async def main() -> int:
        child = await asyncio.create_subprocess_exec(*_CHILD)
        return await child.wait()

    assert _run(main, mode) == 0


@pytest.mark.parametrize("mode", _STATUSES)
def test_communicate_is_not_a_deadlock(mode: str) -> None:
    async def main() -> list[bytes]:
        results = []
        for _ in range(3):  # used to fail in about 60% of runs on 3.10/3.11
            child = await asyncio.create_subprocess_exec(
                *_CHILD[:2],
                "import sys; sys.stdout.write(sys.stdin.read())",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await child.communicate(b"echo")
            results.append(out)
        return results

    assert _run(main, mode) == [b"echo"] * 3


# -- 10. threads started by hand ---------------------------------------------------------


def _later(seconds: float, action: Callable[[], Any], *, daemon: bool = False) -> threading.Thread:
    def body() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=body, daemon=daemon)
    thread.start()
    return thread


@pytest.mark.parametrize("daemon", [False, True])
@pytest.mark.parametrize("mode", _STATUSES)
def test_call_soon_threadsafe_from_a_thread_is_not_a_deadlock(mode: str, daemon: bool) -> None:
    async def main() -> str:
        loop = asyncio.get_running_loop()
        event = asyncprims.Event()
        _later(0.3, lambda: loop.call_soon_threadsafe(event.set), daemon=daemon)
        await event.wait()
        return "set"

    assert _run(main, mode) == "set"


@pytest.mark.parametrize("mode", _STATUSES)
def test_run_coroutine_threadsafe_from_a_thread_is_not_a_deadlock(mode: str) -> None:
    async def main() -> int:
        loop = asyncio.get_running_loop()
        queue: asyncprims.Queue[int] = asyncprims.Queue()
        _later(0.3, lambda: asyncio.run_coroutine_threadsafe(queue.put(42), loop).result())
        return await queue.get()

    assert _run(main, mode) == 42


@pytest.mark.parametrize("mode", _STATUSES)
def test_wrapped_executor_future_is_not_a_deadlock(mode: str) -> None:
    executor = concurrent.futures.ThreadPoolExecutor(2)  # created before the run
    try:
        executor.submit(time.sleep, 0).result()  # its worker exists already

        async def main() -> str:
            job = executor.submit(lambda: (time.sleep(0.3), "done")[1])
            return await asyncio.wrap_future(job)

        assert _run(main, mode) == "done"
    finally:
        executor.shutdown()


@pytest.mark.parametrize("mode", _STATUSES)
def test_a_job_that_calls_back_by_itself_is_not_a_deadlock(mode: str) -> None:
    executor = concurrent.futures.ThreadPoolExecutor(1)
    try:

        async def main() -> str:
            loop = asyncio.get_running_loop()
            event = asyncprims.Event()
            executor.submit(lambda: (time.sleep(0.3), loop.call_soon_threadsafe(event.set)))
            await event.wait()
            return "set"

        assert _run(main, mode) == "set"
    finally:
        executor.shutdown()


@pytest.mark.parametrize("mode", _STATUSES)
def test_a_deadlock_is_reported_once_the_threads_are_done(mode: str) -> None:
    executor = concurrent.futures.ThreadPoolExecutor(1)
    try:

        async def main() -> None:
            await asyncio.to_thread(time.sleep, 0.05)
            await asyncio.wrap_future(executor.submit(time.sleep, 0.05))
            _later(0.2, lambda: None)  # ends without waking anybody
            await asyncprims.Event(name="never").wait()

        with pytest.raises(asyncprims.DeadlockError, match="Event 'never'"):
            _run(main, mode)
    finally:
        executor.shutdown()


@pytest.mark.parametrize("mode", _STATUSES)
def test_a_thread_blocked_on_the_loop_does_not_hide_a_deadlock(mode: str) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        never = asyncprims.Event(name="never")

        def blocked() -> None:
            try:
                asyncio.run_coroutine_threadsafe(never.wait(), loop).result()
            except concurrent.futures.CancelledError:  # the run cancelled it
                pass

        threading.Thread(target=blocked, daemon=True).start()
        await never.wait()

    with pytest.raises(asyncprims.DeadlockError, match="Event 'never'"):
        _run(main, mode)


# -- the grace period and the switch -------------------------------------------------------


def _old_daemon_thread(calls: int, gap: float, first_call_before_blocking: bool) -> Any:
    """A daemon thread started before the run (so unwatched, but for the grace
    period) that calls into the loop ``calls`` times, ``gap`` seconds apart,
    then sets the Event the main task waits for."""
    handed: list[Any] = []
    ready = threading.Event()
    called = threading.Event()

    def body() -> None:
        ready.wait()
        loop, event, counter = handed
        for _ in range(calls):
            loop.call_soon_threadsafe(counter.append, 1)
            called.set()
            time.sleep(gap)
        time.sleep(gap)
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:  # "Event loop is closed": the run reported a deadlock
            pass

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    time.sleep(0.05)  # it exists before the run starts

    async def main() -> int:
        event = asyncprims.Event()
        counter: list[int] = []
        handed.extend([asyncio.get_running_loop(), event, counter])
        ready.set()
        if first_call_before_blocking:
            called.wait(10)
        await event.wait()
        return len(counter)

    return main, thread


@pytest.mark.parametrize("mode", _STATUSES)
def test_an_unwatched_thread_that_keeps_calling_in_is_waited_for(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncprims._wakers

    # Calls come every 0.15 s; a wider grace period keeps a loaded machine from
    # starving the thread past it.
    monkeypatch.setattr(asyncprims._wakers, "GRACE_PERIOD", 5.0)
    main, thread = _old_daemon_thread(calls=4, gap=0.15, first_call_before_blocking=True)
    assert _run(main, mode) == 4
    thread.join(5)


@pytest.mark.parametrize("mode", _STATUSES)
def test_detect_deadlocks_false_waits_for_what_it_cannot_see(mode: str) -> None:
    main, thread = _old_daemon_thread(calls=0, gap=0.3, first_call_before_blocking=False)
    with pytest.raises(asyncprims.DeadlockError):  # invisible until its first call
        _run(main, mode)
    thread.join(5)

    main, thread = _old_daemon_thread(calls=0, gap=0.3, first_call_before_blocking=False)
    assert _run(main, mode, detect_deadlocks=False) == 0
    thread.join(5)


def test_waiting_long_on_threads_alone_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncprims._wakers

    monkeypatch.setattr(asyncprims._wakers, "STALL_WARNING", 0.3)

    async def main() -> None:
        threading.Thread(target=time.sleep, args=(1.5,), name="sleepy").start()
        await asyncprims.Event(name="never").wait()

    with (
        pytest.warns(RuntimeWarning, match="no task has run for .*'sleepy'"),
        pytest.raises(asyncprims.DeadlockError, match="Event 'never'"),
    ):
        _run(main, "real")
