"""asyncprims.run(): virtual time, asyncio.run semantics, nesting, interrupts, deadlocks."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import signal
import socket
import sys
import threading
import time
import warnings
from typing import Any

import pytest

import asyncprims
from asyncprims.clock import ClockedEventLoop


def now() -> float:
    return asyncio.get_running_loop().time()


# -- virtual time ---------------------------------------------------------------------


def test_sleeps_take_no_wall_time_and_times_are_exact() -> None:
    async def main() -> list[float]:
        times = []
        for _ in range(3):
            await asyncio.sleep(0.1)
            times.append(now())
        return times

    started = time.perf_counter()
    times = asyncprims.run(main(), virtual_time=True)
    elapsed = time.perf_counter() - started
    assert [f"{t:.3f}" for t in times] == ["0.100", "0.200", "0.300"]
    assert times == [0.1, 0.2, 0.3]  # integer ticks: no 0.30000000000000004
    assert elapsed < 0.05


def test_virtual_clock_starts_at_zero_and_long_sleeps_are_instant() -> None:
    async def main() -> tuple[float, float, bool]:
        start = now()
        await asyncio.sleep(3600)
        return start, now(), asyncio.get_running_loop().virtual_time

    started = time.perf_counter()
    assert asyncprims.run(main(), virtual_time=True) == (0.0, 3600.0, True)
    assert time.perf_counter() - started < 0.05


def test_real_time_loop_uses_the_real_clock() -> None:
    async def main() -> tuple[float, bool]:
        start = now()
        await asyncio.sleep(0.02)
        return now() - start, asyncio.get_running_loop().virtual_time

    elapsed, virtual = asyncprims.run(main())
    assert elapsed >= 0.02
    assert virtual is False


def test_concurrent_sleepers_wake_in_deadline_order() -> None:
    async def main() -> list[tuple[str, str]]:
        woke: list[tuple[str, str]] = []

        async def sleeper(name: str, delay: float) -> None:
            await asyncio.sleep(delay)
            woke.append((name, f"{now():.3f}"))

        await asyncio.gather(sleeper("c", 0.3), sleeper("a", 0.1), sleeper("b", 0.2))
        return woke

    assert asyncprims.run(main(), virtual_time=True) == [
        ("a", "0.100"),
        ("b", "0.200"),
        ("c", "0.300"),
    ]


def test_call_later_and_nested_timers() -> None:
    async def main() -> list[tuple[str, float]]:
        loop = asyncio.get_running_loop()
        fired: list[tuple[str, float]] = []
        done = loop.create_future()

        def outer() -> None:
            fired.append(("outer", loop.time()))
            loop.call_later(0.25, inner)

        def inner() -> None:
            fired.append(("inner", loop.time()))
            done.set_result(None)

        loop.call_later(0.5, outer)
        loop.call_later(0.1, lambda: fired.append(("early", loop.time())))
        loop.call_at(2.0, lambda: fired.append(("at", loop.time())))
        await done
        await asyncio.sleep(5)
        return fired

    assert asyncprims.run(main(), virtual_time=True) == [
        ("early", 0.1),
        ("outer", 0.5),
        ("inner", 0.75),
        ("at", 2.0),
    ]


def test_many_small_steps_do_not_drift() -> None:
    async def main() -> float:
        for _ in range(1000):
            await asyncio.sleep(0.001)
        return now()

    assert asyncprims.run(main(), virtual_time=True) == 1.0


def test_wait_for_times_out_in_virtual_time() -> None:
    async def main() -> float:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.sleep(10), timeout=1.5)
        return now()

    started = time.perf_counter()
    assert asyncprims.run(main(), virtual_time=True) == 1.5
    assert time.perf_counter() - started < 0.05


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is new in 3.11")
def test_asyncio_timeout_in_virtual_time() -> None:
    async def main() -> tuple[float, bool]:
        lock = asyncprims.Lock()
        await lock.acquire()
        expired = False
        try:
            async with asyncio.timeout(2.0):  # type: ignore[attr-defined]
                await lock.acquire()
        except TimeoutError:
            expired = True
        return now(), expired

    assert asyncprims.run(main(), virtual_time=True) == (2.0, True)


# -- real work is still served -------------------------------------------------------


def test_socket_io_is_served_and_is_not_a_deadlock() -> None:
    async def main() -> tuple[bytes, float]:
        loop = asyncio.get_running_loop()
        left, right = socket.socketpair()
        left.setblocking(False)
        right.setblocking(False)
        try:

            async def writer() -> None:
                await asyncio.sleep(0.5)
                await loop.sock_sendall(right, b"ping")

            task = asyncio.create_task(writer())
            data = await loop.sock_recv(left, 16)
            await task
            return data, now()
        finally:
            left.close()
            right.close()

    started = time.monotonic()
    data, at = asyncprims.run(main(), virtual_time=True)
    assert data == b"ping"
    # The reader was pending, so the writer's 0.5 s sleep took real time and
    # the virtual clock followed it: at least 0.5 s, never ahead of real time.
    assert 0.5 <= at <= time.monotonic() - started


@pytest.mark.parametrize("virtual", [True, False])
def test_executor_job_completes_and_is_not_a_deadlock(virtual: bool) -> None:
    async def main() -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: (time.sleep(0.05), "done")[1])

    assert asyncprims.run(main(), virtual_time=virtual) == "done"


def test_thread_work_does_not_let_a_timeout_fire_early() -> None:
    async def main() -> tuple[str, float]:
        result = await asyncio.wait_for(asyncio.to_thread(time.sleep, 0.05), timeout=10)
        return str(result), now()

    result, elapsed = asyncprims.run(main(), virtual_time=True)
    assert result == "None"
    assert elapsed < 10  # the thread's real time is not charged to the virtual clock


# -- asyncio.run semantics -------------------------------------------------------------


@pytest.mark.parametrize("virtual", [True, False])
def test_result_and_exception_propagate(virtual: bool) -> None:
    async def ok() -> int:
        await asyncio.sleep(0.01)
        return 42

    async def fails() -> None:
        await asyncio.sleep(0.01)
        raise ValueError("boom")

    assert asyncprims.run(ok(), virtual_time=virtual) == 42
    with pytest.raises(ValueError, match="boom"):
        asyncprims.run(fails(), virtual_time=virtual)


def test_rejects_a_non_coroutine() -> None:
    with pytest.raises(ValueError, match="a coroutine was expected"):
        asyncprims.run(asyncio.sleep)  # type: ignore[arg-type]


def test_debug_flag_reaches_the_loop() -> None:
    async def main() -> bool:
        return asyncio.get_running_loop().get_debug()

    assert asyncprims.run(main(), debug=True) is True
    assert asyncprims.run(main(), debug=False) is False


def test_cleanup_cancels_tasks_closes_generators_and_loop() -> None:
    seen: dict[str, Any] = {}

    async def background() -> None:
        try:
            await asyncio.sleep(100)
        finally:
            seen["background"] = "cancelled"

    async def ticker() -> Any:
        try:
            while True:
                yield 1
                await asyncio.sleep(1)
        finally:
            seen["generator"] = "closed"

    async def main() -> str:
        seen["loop"] = asyncio.get_running_loop()
        seen["task"] = asyncio.create_task(background())
        generator = ticker()
        seen["generator_object"] = generator
        await generator.__anext__()
        seen["main_name"] = asyncio.current_task().get_name()  # type: ignore[union-attr]
        return "result"

    assert asyncprims.run(main(), virtual_time=True) == "result"
    assert seen["background"] == "cancelled"
    assert seen["generator"] == "closed"
    assert seen["task"].cancelled()
    assert seen["loop"].is_closed()
    assert seen["main_name"] == "main"
    assert isinstance(seen["loop"], asyncio.SelectorEventLoop)
    assert isinstance(seen["loop"], ClockedEventLoop)


def test_context_variables_are_visible_inside() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    token = var.set("outer value")
    try:

        async def main() -> str:
            return await asyncio.create_task(asyncio.sleep(0.1, var.get()))

        assert asyncprims.run(main(), virtual_time=True) == "outer value"
    finally:
        var.reset(token)


def test_trace_records_events_made_inside_run() -> None:
    async def main() -> None:
        lock = asyncprims.Lock(name="L")

        async def user() -> None:
            async with lock:
                await asyncio.sleep(0.1)

        await asyncio.gather(*(asyncio.create_task(user(), name=f"u{i}") for i in range(2)))

    with asyncprims.trace() as timeline:
        asyncprims.run(main(), virtual_time=True)
    events = timeline.events
    actions = [(e.task, e.action) for e in events]
    assert ("u0", "acquire") in actions
    assert ("u1", "wait") in actions
    assert max(e.time for e in events) == pytest.approx(0.2)
    assert {e.primitive for e in events} == {"L"}


# -- inside a running loop -------------------------------------------------------------


@pytest.mark.parametrize("virtual", [True, False])
def test_run_inside_a_running_loop_restores_it(virtual: bool) -> None:
    async def inner() -> tuple[Any, Any]:
        await asyncio.sleep(0.01)
        return asyncio.get_running_loop(), asyncio.current_task()

    async def outer() -> None:
        outer_loop = asyncio.get_running_loop()
        outer_task = asyncio.current_task()
        plain = inner()
        with pytest.raises(RuntimeError):
            asyncio.run(plain)  # what asyncprims.run works around
        plain.close()
        inner_loop, inner_task = asyncprims.run(inner(), virtual_time=virtual)
        assert inner_loop is not outer_loop
        assert inner_task is not outer_task
        assert inner_loop.is_closed()
        assert asyncio.get_running_loop() is outer_loop
        assert asyncio.events._get_running_loop() is outer_loop
        assert asyncio.current_task() is outer_task
        await asyncio.sleep(0.01)  # the outer loop still works
        assert asyncio.current_task() is outer_task

    asyncio.run(outer())


def test_outer_loop_is_restored_after_an_error_and_a_deadlock() -> None:
    async def fails() -> None:
        raise KeyError("x")

    async def stuck() -> None:
        await asyncprims.Event().wait()

    async def outer() -> None:
        outer_loop = asyncio.get_running_loop()
        with pytest.raises(KeyError):
            asyncprims.run(fails(), virtual_time=True)
        assert asyncio.get_running_loop() is outer_loop
        with pytest.raises(asyncprims.DeadlockError):
            asyncprims.run(stuck(), virtual_time=True)
        assert asyncio.get_running_loop() is outer_loop
        await asyncio.sleep(0)

    asyncio.run(outer())


def test_nested_runs() -> None:
    async def innermost() -> float:
        await asyncio.sleep(7)
        return now()

    async def middle() -> tuple[float, float]:
        await asyncio.sleep(1)
        inner = asyncprims.run(innermost(), virtual_time=True)
        return inner, now()

    assert asyncprims.run(middle(), virtual_time=True) == (7.0, 1.0)


def test_no_running_loop_is_left_behind() -> None:
    async def main() -> None:
        await asyncio.sleep(0.1)

    asyncprims.run(main(), virtual_time=True)
    assert asyncio.events._get_running_loop() is None


# -- deadlocks ------------------------------------------------------------------------


def _two_forks() -> Any:
    fork_a = asyncprims.Lock(name="fork-a")
    fork_b = asyncprims.Lock(name="fork-b")
    finished: list[str] = []

    async def philosopher(first: asyncprims.Lock, second: asyncprims.Lock) -> None:
        try:
            async with first:
                await asyncio.sleep(0.1)
                async with second:
                    pass
        finally:
            finished.append(asyncio.current_task().get_name())  # type: ignore[union-attr]

    async def main() -> None:
        await asyncio.gather(
            asyncio.create_task(philosopher(fork_a, fork_b), name="left"),
            asyncio.create_task(philosopher(fork_b, fork_a), name="right"),
        )

    return main, finished


@pytest.mark.parametrize("virtual", [True, False])
def test_two_lock_deadlock_is_reported(virtual: bool) -> None:
    main, finished = _two_forks()
    started = time.perf_counter()
    with pytest.raises(asyncprims.DeadlockError) as caught:
        asyncprims.run(main(), virtual_time=virtual)
    assert time.perf_counter() - started < 1.0
    error = caught.value
    assert isinstance(error, RuntimeError)
    assert str(error) == error.report
    assert error.report.splitlines() == [
        "deadlock: 3 tasks are blocked and nothing can wake them",
        "  task 'left' waits to acquire Lock 'fork-b' (held by 'right')",
        "  task 'main' awaits gather of tasks 'left', 'right'",
        "  task 'right' waits to acquire Lock 'fork-a' (held by 'left')",
        "  cycle: 'left' -> 'right' -> 'left'",
    ]
    assert [(b.task, b.operation, b.primitive, b.holders) for b in error.blocked] == [
        ("left", "acquire", "Lock 'fork-b'", ("right",)),
        ("main", "await", None, ()),
        ("right", "acquire", "Lock 'fork-a'", ("left",)),
    ]
    assert sorted(finished) == ["left", "right"]  # the stuck tasks were cancelled


def test_deadlock_report_is_repeatable() -> None:
    reports = []
    for _ in range(3):
        main, _ = _two_forks()
        with pytest.raises(asyncprims.DeadlockError) as caught:
            asyncprims.run(main(), virtual_time=True)
        reports.append(caught.value.report)
    assert reports[0] == reports[1] == reports[2]
    assert "0x" not in reports[0]


def test_queue_get_nobody_feeds_is_reported() -> None:
    async def main() -> None:
        queue: asyncprims.Queue[int] = asyncprims.Queue(name="jobs")
        await queue.put(1)

        async def consumer() -> None:
            while True:
                await queue.get()
                queue.task_done()

        worker = asyncio.create_task(consumer(), name="consumer")
        await asyncio.sleep(1)
        await worker

    with pytest.raises(asyncprims.DeadlockError) as caught:
        asyncprims.run(main(), virtual_time=True)
    assert caught.value.report.splitlines() == [
        "deadlock: 2 tasks are blocked and nothing can wake them",
        "  task 'consumer' waits to get from Queue 'jobs' (empty)",
        "  task 'main' awaits task 'consumer'",
    ]
    assert caught.value.blocked[0].operation == "get"
    assert caught.value.blocked[0].kind == "Queue"


def test_report_names_the_outermost_primitive_operation() -> None:
    async def main() -> None:
        queue: asyncprims.Queue[int] = asyncprims.Queue()
        queue.put_nowait(1)
        barrier = asyncprims.Barrier(3, name="gate")
        condition = asyncprims.Condition(name="cond")
        semaphore = asyncprims.Semaphore(1, name="slots")
        event = asyncprims.Event(name="go")

        async def notified() -> None:
            async with condition:
                await condition.wait()

        async def holds_a_permit() -> None:
            async with semaphore:
                await event.wait()

        tasks = [
            asyncio.create_task(queue.join(), name="joiner"),
            asyncio.create_task(barrier.wait(), name="at-gate"),
            asyncio.create_task(notified(), name="waiter"),
            asyncio.create_task(holds_a_permit(), name="holder"),
        ]
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(semaphore.acquire(), name="wants-permit"))
        await asyncio.wait(tasks)

    with pytest.raises(asyncprims.DeadlockError) as caught:
        asyncprims.run(main(), virtual_time=True)
    assert caught.value.report.splitlines()[1:] == [
        "  task 'at-gate' waits at Barrier 'gate' (1 of 3 arrived)",
        "  task 'holder' waits for Event 'go' to be set",
        "  task 'joiner' waits in join() of Queue #1 (1 unfinished)",
        "  task 'main' awaits asyncio.wait()",
        "  task 'waiter' waits for a notify on Condition 'cond'",
        "  task 'wants-permit' waits to acquire Semaphore 'slots' (held by 'holder')",
    ]


def test_a_pending_timer_is_not_a_deadlock() -> None:
    async def main() -> float:
        event = asyncprims.Event()
        asyncio.get_running_loop().call_later(30, event.set)
        await event.wait()
        return now()

    assert asyncprims.run(main(), virtual_time=True) == 30.0


def test_cleanup_that_blocks_again_is_cancelled_again() -> None:
    async def main() -> None:
        stubborn = asyncprims.Event()

        async def worker() -> None:
            try:
                await asyncprims.Event().wait()
            finally:
                await stubborn.wait()  # blocks forever during cleanup too

        await asyncio.create_task(worker(), name="worker")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(asyncprims.DeadlockError, match="task 'worker' waits for Event"):
            asyncprims.run(main(), virtual_time=True)
        gc.collect()


# -- interrupts -------------------------------------------------------------------------


def _interruptible(cleanups: list[str], arm: Any) -> Any:
    async def worker() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            cleanups.append("worker")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        cleanups.append(f"loop:{id(loop)}")
        background = asyncio.create_task(worker(), name="worker")
        arm(loop)
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(1)  # cleanup may still await
            cleanups.append("main")
            del background

    return main


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signals reach the main thread only",
)
@pytest.mark.parametrize("virtual", [True, False])
def test_sigint_cancels_the_run_cleanly(virtual: bool) -> None:
    cleanups: list[str] = []
    main = _interruptible(
        cleanups, lambda loop: loop.call_later(0.05, signal.raise_signal, signal.SIGINT)
    )
    loops: list[Any] = []

    async def outer() -> None:
        loops.append(asyncio.get_running_loop())
        runner_handler = signal.getsignal(signal.SIGINT)  # asyncio.Runner's, from 3.11
        started = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            asyncprims.run(main(), virtual_time=virtual)
        assert time.perf_counter() - started < 5
        assert asyncio.get_running_loop() is loops[0]
        assert signal.getsignal(signal.SIGINT) is runner_handler

    asyncio.run(outer())
    assert sorted(cleanups[1:]) == ["main", "worker"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    cleanups.clear()  # and at top level, over Python's default handler
    with pytest.raises(KeyboardInterrupt):
        asyncprims.run(main(), virtual_time=virtual)
    assert sorted(cleanups[1:]) == ["main", "worker"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signals reach the main thread only",
)
def test_sigint_wakes_a_blocking_real_time_select() -> None:
    cleanups: list[str] = []
    main_id = threading.get_ident()

    def arm(loop: Any) -> None:
        timer = threading.Timer(0.1, signal.pthread_kill, (main_id, signal.SIGINT))
        timer.start()

    async def main() -> None:
        left, right = socket.socketpair()  # a registered reader: select blocks for real
        left.setblocking(False)
        try:
            arm(None)
            await asyncio.get_running_loop().sock_recv(left, 1)
        finally:
            cleanups.append("main")
            left.close()
            right.close()

    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        asyncprims.run(main())
    assert time.perf_counter() - started < 5
    assert cleanups == ["main"]


def test_keyboard_interrupt_raised_inside_a_task_still_cleans_up() -> None:
    cleanups: list[str] = []

    exploding: list[Any] = []

    def arm(loop: Any) -> None:
        async def explode() -> None:
            await asyncio.sleep(0.5)
            raise KeyboardInterrupt

        exploding.append(loop.create_task(explode()))

    main = _interruptible(cleanups, arm)
    with pytest.raises(KeyboardInterrupt):
        asyncprims.run(main(), virtual_time=True)
    assert sorted(cleanups[1:]) == ["main", "worker"]
    assert asyncio.events._get_running_loop() is None
    logged: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record.getMessage())

    catcher = Catch()
    logging.getLogger("asyncio").addHandler(catcher)
    try:
        gc.collect()
    finally:
        logging.getLogger("asyncio").removeHandler(catcher)
    assert not [m for m in logged if "never retrieved" in m]
    assert isinstance(exploding.pop().exception(), KeyboardInterrupt)
