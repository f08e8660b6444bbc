"""asyncprims.detect_cycles(): a wait that closes a wait-for cycle is reported at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import asyncprims
from asyncprims import _base


@pytest.fixture(autouse=True)
def _off_after() -> Iterator[None]:
    assert _base._wait_hook is None
    yield
    assert _base._wait_hook is None, "a test left cycle detection on"


#: A regression that lets a cycle through deadlocks the test: fail after this long instead.
PATIENCE = 30.0


def _run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, PATIENCE))


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def _crossing(first: Any, second: Any) -> tuple[Any, Any]:
    async def forward() -> str:
        async with first:
            await asyncio.sleep(0)
            async with second:
                return "forward done"

    async def backward() -> str:
        async with second:
            await asyncio.sleep(0)
            async with first:
                return "backward done"

    return forward, backward


def test_raise_breaks_the_cycle_and_leaves_the_locks_clean() -> None:
    asyncprims.time_waits()  # the report says how long the other task has waited

    async def main() -> tuple[list[Any], Any, Any]:
        first, second = asyncprims.Lock(name="first"), asyncprims.Lock(name="second")
        forward, backward = _crossing(first, second)
        with asyncprims.detect_cycles("raise") as detection:
            results = await asyncio.gather(
                asyncio.create_task(forward(), name="forward"),
                asyncio.create_task(backward(), name="backward"),
                return_exceptions=True,
            )
        return results, detection, (first, second)

    results, detection, locks = _run(main())
    assert results[0] == "forward done"
    error = results[1]
    assert isinstance(error, asyncprims.DeadlockError)
    lines = error.report.splitlines()
    assert lines[0] == (
        "deadlock: task 'backward' is about to wait for Lock 'first', which closes a "
        "wait-for cycle: no task in it can ever proceed"
    )
    assert lines[1].startswith(
        "  task 'backward' waits to acquire Lock 'first' (held by 'forward'), at "
        "tests/test_cycles.py:"
    )
    assert lines[2].startswith(
        "  task 'forward' waits to acquire Lock 'second' (held by 'backward'), for "
    )
    assert lines[-1] == "  cycle: 'backward' -> 'forward' -> 'backward'"
    assert [record.task for record in error.blocked] == ["backward", "forward"]
    assert detection.reported == 1
    assert all(not lock.locked() and not lock._waiters for lock in locks)


def test_log_reports_and_lets_the_task_wait(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> list[str]:
        first, second = asyncprims.Lock(), asyncprims.Lock()
        forward, backward = _crossing(first, second)
        with asyncprims.detect_cycles():  # "log" is the default
            tasks = [
                asyncio.create_task(forward(), name="forward"),
                asyncio.create_task(backward(), name="backward"),
            ]
            await _settle()
        stuck = [str(record) for record in asyncprims.blocked()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return stuck

    with caplog.at_level(logging.ERROR, logger="asyncprims"):
        stuck = _run(main())
    assert len(stuck) == 2
    (record,) = caplog.records
    assert record.name == "asyncprims" and record.levelno == logging.ERROR
    assert "cycle: 'backward' -> 'forward' -> 'backward'" in record.getMessage()


def test_a_callable_gets_the_error_and_what_it_raises_comes_out() -> None:
    seen: list[asyncprims.DeadlockError] = []

    def action(error: asyncprims.DeadlockError) -> None:
        seen.append(error)
        raise LookupError("stop here")

    async def main() -> None:
        lock = asyncprims.Lock(name="again")
        with asyncprims.detect_cycles(action):
            async with lock:
                other = asyncio.create_task(lock.acquire(), name="other")
                await _settle()
                assert not seen  # another task waiting for us closes no cycle
                with pytest.raises(LookupError, match="stop here"):
                    await lock.acquire()  # we would wait for ourselves
            await other
            lock.release()

    _run(_named(main(), "me"))
    (error,) = seen
    assert error.report.splitlines()[1].startswith(
        "  task 'me' waits to acquire Lock 'again' (held by 'me'), at tests/test_cycles.py:"
    )
    assert error.report.endswith("\n  cycle: 'me' -> 'me'")


def test_a_task_re_acquiring_its_own_lock_raises() -> None:
    async def main() -> None:
        lock = asyncprims.Lock()
        with asyncprims.detect_cycles("raise"):
            async with lock:
                with pytest.raises(asyncprims.DeadlockError, match="cycle: 'me' -> 'me'"):
                    await lock.acquire()
        assert not lock.locked()

    _run(_named(main(), "me"))


async def _named(coro: Any, name: str) -> Any:
    return await asyncio.create_task(coro, name=name)


def test_a_semaphore_cycle_needs_every_holder_stuck() -> None:
    async def main(free_holder: bool) -> list[str]:
        sem, lock = asyncprims.Semaphore(2 if free_holder else 1, name="pool"), asyncprims.Lock()
        outcome: list[str] = []

        async def first() -> None:
            async with sem:
                await asyncio.sleep(0)
                async with lock:
                    outcome.append("first done")

        async def second() -> None:
            async with lock:
                await asyncio.sleep(0)
                try:
                    async with sem:
                        outcome.append("second done")
                except asyncprims.DeadlockError:
                    outcome.append("second: deadlock")

        async def idler() -> None:  # holds a permit for a while, then gives it back
            async with sem:
                await asyncio.sleep(0.01)

        with asyncprims.detect_cycles("raise"):
            tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
            if free_holder:
                tasks.append(asyncio.create_task(idler()))
            await asyncio.gather(*tasks)
        return outcome

    assert _run(main(False)) == ["second: deadlock", "first done"]
    # With a second holder that is not stuck, the wait can end: no report.
    assert sorted(_run(main(True))) == ["first done", "second done"]


def test_a_cycle_through_an_awaited_task_is_seen_by_the_waiting_child() -> None:
    async def main() -> str:
        lock = asyncprims.Lock()

        async def child() -> None:
            async with lock:
                pass

        with asyncprims.detect_cycles("raise"):
            async with lock:
                task = asyncio.create_task(child(), name="child")
                with pytest.raises(asyncprims.DeadlockError) as caught:
                    await task
        return caught.value.report

    report = _run(_named(main(), "parent"))
    assert report.splitlines()[-1] == "  cycle: 'child' -> 'parent' -> 'child'"
    assert "task 'parent' awaits task 'child'" in report


def test_plain_contention_is_never_reported() -> None:
    async def main() -> int:
        lock, sem, cond = asyncprims.Lock(), asyncprims.Semaphore(3), asyncprims.Condition()
        done = 0

        async def worker() -> None:
            nonlocal done
            for _ in range(20):
                async with lock, sem:
                    await asyncio.sleep(0)
                async with cond:
                    cond.notify_all()
                    done += 1

        with asyncprims.detect_cycles("raise") as detection:
            await asyncio.gather(*(worker() for _ in range(10)))
        assert detection.reported == 0
        return done

    assert _run(main()) == 200


def test_detections_stack_and_stop() -> None:
    outer = asyncprims.detect_cycles("log")
    inner = asyncprims.detect_cycles("raise")
    assert _base._wait_hook is not None
    inner.stop()
    inner.stop()  # idempotent
    assert _base._wait_hook is not None and "on" in repr(outer)
    outer.stop()
    assert _base._wait_hook is None and "off" in repr(outer)
    with pytest.raises(ValueError, match="action must be"):
        asyncprims.detect_cycles("print")  # type: ignore[arg-type]
