"""Lock, Event, Condition, Semaphore, BoundedSemaphore: asyncio's API, errors and
reprs, plus what asyncio lacks (``name=``, ``statistics()``, O(1) cancellation)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any, Literal

import pytest
import scenarios
from scenarios import run_with_timeout as run

import asyncprims

RGX_REPR = re.compile(r"^<(?P<class>.*?) object at (?P<address>.*?)\[(?P<extras>.*?)\]>\Z")
LOCK_CLASSES = ["Lock", "Event", "Condition", "Semaphore", "BoundedSemaphore"]


def raised(func: Callable[[], Any]) -> BaseException:
    """The exception ``func()`` raises (running it on a fresh loop if it returns a coroutine)."""
    try:
        result = func()
        if asyncio.iscoroutine(result):
            run(result)
    except BaseException as exc:  # noqa: BLE001 - any exception is what we compare
        return exc
    raise AssertionError("nothing raised")


def assert_same_error(make: Callable[[Any], Callable[[], Any]]) -> BaseException:
    """``make(prims)`` fails the same way (type and message) with asyncio and with us."""
    theirs = raised(make(asyncio))
    ours = raised(make(asyncprims))
    assert type(ours) is type(theirs)
    assert str(ours) == str(theirs)
    return ours


def extras(obj: object) -> str:
    match = RGX_REPR.match(repr(obj))
    assert match, repr(obj)
    return match.group("extras")


# -- construction -----------------------------------------------------------------------


@pytest.mark.parametrize("cls", [*LOCK_CLASSES, "Barrier", "Queue", "PriorityQueue", "LifoQueue"])
def test_loop_keyword_is_rejected_like_asyncio(cls: str) -> None:
    args = (1,) if cls == "Barrier" else ()
    error = (
        assert_same_error(lambda p: lambda: getattr(p, cls)(*args, loop=None))
        if hasattr(asyncio, cls)
        else raised(lambda: getattr(asyncprims, cls)(*args, loop=None))
    )
    assert isinstance(error, TypeError)
    if sys.version_info >= (3, 11):
        assert "__init__() got an unexpected keyword argument 'loop'" in str(error)
    else:
        assert "As of 3.10, the *loop* parameter was removed" in str(error)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: lambda: p.Semaphore(-1),
        lambda p: lambda: p.BoundedSemaphore(-1),
    ],
    ids=["Semaphore(-1)", "BoundedSemaphore(-1)"],
)
def test_negative_semaphore_value(make: Callable[[Any], Callable[[], Any]]) -> None:
    error = assert_same_error(make)
    assert isinstance(error, ValueError)


@pytest.mark.parametrize("cls", LOCK_CLASSES)
def test_name_is_keyword_only_and_not_in_repr(cls: str) -> None:
    prim = getattr(asyncprims, cls)(name="door")
    assert prim.name == "door"
    assert "door" not in repr(prim)
    assert getattr(asyncprims, cls)().name is None
    if cls != "Condition":  # Condition's first positional is the lock
        with pytest.raises(TypeError):
            getattr(asyncprims, cls)(1, "door")


# -- errors -------------------------------------------------------------------------------


def test_release_unlocked_lock() -> None:
    error = assert_same_error(lambda p: p.Lock().release)
    assert isinstance(error, RuntimeError)
    assert str(error) == "Lock is not acquired."


def test_bounded_semaphore_over_release() -> None:
    def make(p: Any) -> Callable[[], Any]:
        async def go() -> None:
            sem = p.BoundedSemaphore(2)
            await sem.acquire()
            sem.release()
            sem.release()

        return go

    error = assert_same_error(make)
    assert isinstance(error, ValueError)
    assert str(error) == "BoundedSemaphore released too many times"


def test_plain_semaphore_may_be_over_released() -> None:
    sem = asyncprims.Semaphore(1)
    sem.release()
    assert sem._value == 2
    assert extras(sem) == "unlocked, value:2"


@pytest.mark.parametrize("method", ["wait", "notify", "notify_all"])
def test_condition_without_lock(method: str) -> None:
    def make(p: Any) -> Callable[[], Any]:
        async def go() -> None:
            cond = p.Condition()
            result = getattr(cond, method)()
            if asyncio.iscoroutine(result):
                await result

        return go

    error = assert_same_error(make)
    assert isinstance(error, RuntimeError)


@pytest.mark.parametrize("cls", ["Lock", "Semaphore", "BoundedSemaphore", "Event", "Condition"])
def test_await_primitive_fails_like_asyncio(cls: str) -> None:
    def make(p: Any) -> Callable[[], Any]:
        async def go() -> None:
            await getattr(p, cls)()

        return go

    error = assert_same_error(make)
    assert isinstance(error, TypeError)
    assert not hasattr(getattr(asyncprims, cls), "__await__")


@pytest.mark.parametrize("cls", ["Lock", "Semaphore", "BoundedSemaphore", "Condition"])
def test_plain_with_fails_like_asyncio(cls: str) -> None:
    def make(p: Any) -> Callable[[], Any]:
        def go() -> None:
            with getattr(p, cls)():
                pass

        return go

    assert_same_error(make)


def _blocking_use(prim: Any) -> Callable[[], Any]:
    """A coroutine factory that makes a blocking call on ``prim`` (and undoes it)."""

    async def go() -> None:
        if isinstance(prim, asyncprims.Event):
            task = asyncio.create_task(prim.wait())
        elif isinstance(prim, asyncprims.Condition):

            async def waiter() -> None:
                async with prim:
                    await prim.wait()

            task = asyncio.create_task(waiter())
        else:
            await prim.acquire()  # the fast path: binds nothing
            task = asyncio.create_task(prim.acquire())
        await asyncio.sleep(0)
        if task.done():
            task.result()  # the blocking call failed: raise its error here
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if not isinstance(prim, (asyncprims.Event, asyncprims.Condition)):
            prim.release()

    return go


@pytest.mark.parametrize("cls", LOCK_CLASSES)
def test_bound_to_a_different_event_loop(cls: str) -> None:
    prim = getattr(asyncprims, cls)()
    run(_blocking_use(prim)())  # binds to the first loop
    with pytest.raises(RuntimeError) as info:
        run(_blocking_use(prim)())
    message = str(info.value)
    assert message.endswith("]> is bound to a different event loop")
    assert message.startswith(object.__repr__(prim)[:-1] + " [")  # the repr, as asyncio's


@pytest.mark.parametrize("cls", ["Lock", "Semaphore", "BoundedSemaphore"])
def test_fast_paths_do_not_bind_the_loop(cls: str) -> None:
    prim = getattr(asyncprims, cls)()

    async def uncontended() -> None:
        async with prim:
            pass
        await prim.acquire()
        prim.release()

    run(uncontended())
    assert prim._loop is None
    run(_blocking_use(prim)())  # a second loop is fine: nothing was bound


def test_event_fast_path_and_condition_init_do_not_bind() -> None:
    event = asyncprims.Event()
    event.set()
    run(event.wait())
    assert event._loop is None
    cond = asyncprims.Condition()
    assert cond._loop is None


# -- reprs -----------------------------------------------------------------------------------


def test_lock_repr() -> None:
    async def main() -> None:
        lock = asyncprims.Lock()
        assert extras(lock) == "unlocked"
        assert repr(lock).startswith("<asyncprims.locks.Lock object at 0x")
        await lock.acquire()
        assert extras(lock) == "locked"
        task = asyncio.create_task(lock.acquire())
        await asyncio.sleep(0)
        assert extras(lock) == "locked, waiters:1"
        task.cancel()
        await asyncio.sleep(0)
        assert extras(lock) == "locked"

    run(main())


def test_semaphore_event_condition_reprs() -> None:
    async def main() -> None:
        sem = asyncprims.Semaphore(2)
        assert extras(sem) == "unlocked, value:2"
        await sem.acquire()
        await sem.acquire()
        assert extras(sem) == "locked"
        sem._waiters.append(object())  # CPython's test_repr does this with mocks
        assert extras(sem) == "locked, waiters:1"
        event = asyncprims.Event()
        assert extras(event) == "unset"
        task = asyncio.create_task(event.wait())
        await asyncio.sleep(0)
        assert extras(event) == "unset, waiters:1"
        event.set()
        assert extras(event) == "set, waiters:1"  # woken, not yet resumed
        await task
        assert extras(event) == "set"
        cond = asyncprims.Condition()
        assert extras(cond) == "unlocked"
        async with cond:
            assert extras(cond) == "locked"

    run(main())


# -- Lock ----------------------------------------------------------------------------------


def test_lock_statistics_owner_and_waiters() -> None:
    async def main() -> None:
        lock = asyncprims.Lock()
        assert lock.statistics() == asyncprims.LockStatistics(False, None, 0)
        await lock.acquire()
        me = asyncio.current_task()
        tasks = [asyncio.create_task(lock.acquire(), name=f"t{i}") for i in range(3)]
        await asyncio.sleep(0)
        assert lock.statistics() == asyncprims.LockStatistics(True, me, 3)
        tasks[1].cancel()
        await asyncio.sleep(0)
        assert lock.statistics().tasks_waiting == 2
        lock.release()
        assert lock.statistics().owner is None
        await asyncio.sleep(0)
        assert lock.statistics() == asyncprims.LockStatistics(True, tasks[0], 1)
        lock.release()
        await asyncio.sleep(0)
        assert lock.statistics().owner is tasks[2]
        lock.release()
        assert lock.statistics() == asyncprims.LockStatistics(False, None, 0)

    run(main())


def test_lock_acquired_outside_a_task_has_no_owner() -> None:
    lock = asyncprims.Lock()
    coro = lock.acquire()
    with pytest.raises(StopIteration):
        coro.send(None)
    assert lock.statistics() == asyncprims.LockStatistics(True, None, 0)


def test_lock_newcomer_may_take_a_free_lock_when_all_waiters_are_cancelled() -> None:
    async def main() -> None:
        lock = asyncprims.Lock()
        await lock.acquire()
        task = asyncio.create_task(lock.acquire())
        await asyncio.sleep(0)
        task.cancel()
        lock.release()
        assert lock._waiters  # the cancelled one is still queued
        assert await lock.acquire() is True
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()

    run(main())


def test_lock_cancel_after_wake_passes_to_the_next() -> None:
    async def main() -> list[str]:
        lock = asyncprims.Lock()
        got: list[str] = []

        async def user(name: str) -> None:
            async with lock:
                got.append(name)

        await lock.acquire()
        tasks = [asyncio.create_task(user(f"t{i}")) for i in range(3)]
        await asyncio.sleep(0)
        lock.release()
        tasks[0].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert not lock.locked()
        return got

    assert run(main()) == ["t1", "t2"]


# -- Event --------------------------------------------------------------------------------


def test_event_wait_set_clear_statistics() -> None:
    async def main() -> None:
        event = asyncprims.Event(name="go")
        assert event.statistics() == asyncprims.EventStatistics(False, 0)
        tasks = [asyncio.create_task(event.wait()) for _ in range(3)]
        await asyncio.sleep(0)
        assert event.statistics() == asyncprims.EventStatistics(False, 3)
        tasks[0].cancel()
        await asyncio.sleep(0)
        assert event.statistics().tasks_waiting == 2
        event.set()
        event.set()  # idempotent
        assert event.is_set()
        assert await asyncio.gather(*tasks[1:]) == [True, True]
        assert event.statistics() == asyncprims.EventStatistics(True, 0)
        event.clear()
        assert not event.is_set()
        assert await event.wait() is not None if event.is_set() else True

    run(main())


# -- Condition ----------------------------------------------------------------------------


def test_condition_with_user_lock() -> None:
    async def main() -> None:
        lock = asyncprims.Lock()
        cond = asyncprims.Condition(lock)
        assert cond._lock is lock
        seen: list[bool] = []

        async def waiter() -> None:
            async with cond:
                seen.append(lock.locked())
                assert await cond.wait() is True
                seen.append(lock.locked())

        task = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        assert not lock.locked()  # wait() released the user's lock
        async with lock:
            assert cond.locked()
            cond.notify()
        await task
        assert seen == [True, True]
        assert cond.statistics() == asyncprims.ConditionStatistics(
            0, asyncprims.LockStatistics(False, None, 0)
        )

    run(main())


def test_condition_statistics_counts_waiters() -> None:
    async def main() -> None:
        cond = asyncprims.Condition()

        async def waiter() -> None:
            async with cond:
                await cond.wait()

        tasks = [asyncio.create_task(waiter()) for _ in range(3)]
        await asyncio.sleep(0)
        assert cond.statistics().tasks_waiting == 3
        tasks[2].cancel()
        await asyncio.sleep(0)
        assert cond.statistics().tasks_waiting == 2
        async with cond:
            cond.notify_all()
            assert cond.statistics().lock.owner is asyncio.current_task()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert cond.statistics().tasks_waiting == 0

    run(main())


def test_condition_cancelled_after_notify_passes_it_on() -> None:
    async def main() -> list[str]:
        cond = asyncprims.Condition()
        woken: list[str] = []

        async def waiter(name: str) -> None:
            async with cond:
                await cond.wait()
                woken.append(name)

        tasks = [asyncio.create_task(waiter(f"w{i}")) for i in range(3)]
        await asyncio.sleep(0)
        async with cond:
            cond.notify(1)
            tasks[0].cancel()
        for _ in range(5):
            await asyncio.sleep(0)
        assert tasks[0].cancelled()
        tasks[2].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return woken

    assert run(main()) == ["w1"]


def test_condition_wait_reacquires_and_reraises_the_same_cancellation() -> None:
    async def main() -> None:
        cond = asyncprims.Condition()
        caught: list[BaseException] = []

        async def waiter() -> None:
            async with cond:
                try:
                    await cond.wait()
                except asyncio.CancelledError as exc:
                    caught.append(exc)
                    assert cond.locked()
                    raise

        task = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        await cond.acquire()
        cond.notify()
        await asyncio.sleep(0)  # woken; now waiting for the lock we hold
        task.cancel("first")
        await asyncio.sleep(0)
        task.cancel("second")
        await asyncio.sleep(0)
        cond.release()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
        assert len(caught) == 1
        assert caught[0].args == ("second",)

    run(main())


# -- Semaphore --------------------------------------------------------------------------


def test_semaphore_statistics_holders_and_value() -> None:
    async def main() -> None:
        sem = asyncprims.Semaphore(2, name="pool")
        assert sem.statistics() == asyncprims.SemaphoreStatistics(2, 0, ())
        gate = asyncio.Event()

        async def user() -> None:
            async with sem:
                await gate.wait()

        tasks = [asyncio.create_task(user(), name=f"t{i}") for i in range(4)]
        await asyncio.sleep(0)
        stats = sem.statistics()
        assert stats.value == 0
        assert stats.tasks_waiting == 2
        assert stats.holders == (tasks[0], tasks[1])
        tasks[3].cancel()
        tasks[0].cancel()  # a holder cancelled: its permit goes to t2
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        stats = sem.statistics()
        assert stats.holders == (tasks[1], tasks[2])
        assert stats.tasks_waiting == 0
        gate.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert sem.statistics() == asyncprims.SemaphoreStatistics(2, 0, ())

    run(main())


def test_semaphore_released_by_another_task() -> None:
    async def main() -> None:
        sem = asyncprims.Semaphore(1)
        holder = asyncio.create_task(sem.acquire(), name="holder")
        await holder
        assert sem.statistics().holders == (holder,)
        sem.release()  # released by main, not by the holder
        assert sem.statistics() == asyncprims.SemaphoreStatistics(1, 0, ())

    run(main())


def test_semaphore_locked_while_live_waiters_queue() -> None:
    async def main() -> None:
        sem = asyncprims.Semaphore(1)
        await sem.acquire()
        task = asyncio.create_task(sem.acquire())
        await asyncio.sleep(0)
        sem.release()
        # The permit went to the waiter: a newcomer must not take it.
        assert sem.locked()
        assert sem._value == 0
        await task
        sem.release()
        assert not sem.locked()
        # A free permit, but a woken waiter has not run yet: a newcomer must queue.
        await sem.acquire()
        task = asyncio.create_task(sem.acquire())
        await asyncio.sleep(0)
        sem.release()
        sem.release()
        assert sem._value == 1
        assert sem.locked()  # as in asyncio 3.13: the woken waiter counts
        await task
        assert sem._value == 1 and not sem.locked()
        # Cancelled waiters do not make it locked.
        await sem.acquire()
        task = asyncio.create_task(sem.acquire())
        await asyncio.sleep(0)
        task.cancel()
        sem.release()
        assert sem._waiters and not sem.locked()
        await asyncio.gather(task, return_exceptions=True)

    run(main())


def test_semaphore_cancelled_after_handoff_returns_the_permit() -> None:
    async def main() -> None:
        sem = asyncprims.BoundedSemaphore(1)
        await sem.acquire()
        tasks = [asyncio.create_task(sem.acquire()) for _ in range(2)]
        await asyncio.sleep(0)
        sem.release()
        tasks[0].cancel()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert tasks[0].cancelled()
        assert tasks[1].done() and tasks[1].result() is True
        sem.release()
        assert sem._value == 1
        with pytest.raises(ValueError):
            sem.release()

    run(main())


# -- import cost ------------------------------------------------------------------------


def test_import_does_not_pull_in_matplotlib() -> None:
    code = (
        "import sys, asyncprims; "
        "print(sorted(m for m in sys.modules if m.startswith(('matplotlib', 'numpy'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_import_leaves_run_and_the_timeline_for_first_use() -> None:
    """run(), the deadlock report and the timeline load on first use; every
    public name and submodule is still an attribute of the package."""
    code = (
        "import sys, asyncprims\n"
        "lazy = ('asyncprims.clock', 'asyncprims.timeline', 'asyncprims._deadlock',"
        " 'asyncprims._spans', 'asyncprims._axis')\n"
        "print(sorted(m for m in lazy if m in sys.modules))\n"
        "missing = [n for n in asyncprims.__all__ if not hasattr(asyncprims, n)]\n"
        "print(missing, set(asyncprims.__all__) <= set(dir(asyncprims)))\n"
        "print(asyncprims.timeline.Timeline is asyncprims.Timeline,"
        " asyncprims.clock.run is asyncprims.run)\n"
        "from asyncprims import DeadlockError, Span\n"
        "print(DeadlockError.__module__, Span.__module__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "[]",
        "[] True",
        "True True",
        "asyncprims._deadlock asyncprims._spans",
    ]
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        asyncprims.nope  # noqa: B018


# -- cancellation cost -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Lock", "Semaphore", "Event", "Condition"])
def test_cancelling_waiters_newest_first_is_linear(kind: str) -> None:
    small, large = (scenarios.cancellation_work(asyncprims, kind, n) for n in (100, 400))
    assert small <= 3 * 100
    assert large <= 3 * 400
    # The same count grows quadratically with asyncio's deques: the test can tell.
    theirs_small, theirs_large = (scenarios.cancellation_work(asyncio, kind, n) for n in (100, 400))
    assert theirs_small >= 100 * 99 / 2
    assert theirs_large >= 12 * theirs_small


def test_semaphore_release_with_several_holders_ends_the_releasers_hold() -> None:
    async def main() -> None:
        sem = asyncprims.Semaphore(3)
        gate = asyncio.Event()

        async def hold(release_early: bool) -> None:
            await sem.acquire()
            if not release_early:
                await gate.wait()
            sem.release()

        tasks = [asyncio.create_task(hold(i == 1), name=f"t{i}") for i in range(3)]
        await asyncio.sleep(0)
        # t1 released its own permit, although t0 is the oldest holder.
        assert sem.statistics().holders == (tasks[0], tasks[2])
        sem.release()  # main holds nothing: the oldest hold (t0's) ends
        assert sem.statistics().holders == (tasks[2],)
        gate.set()
        await asyncio.gather(*tasks)

    run(main())


# -- subclasses: the inlined fast paths never bypass an override -----------------------------


def test_subclass_overrides_run_under_async_with() -> None:
    calls: list[str] = []

    class CountingLock(asyncprims.Lock):
        async def acquire(self) -> Literal[True]:
            calls.append("acquire")
            return await super().acquire()

        def release(self) -> None:
            calls.append("release")
            super().release()

    class CountingSemaphore(asyncprims.Semaphore):
        async def acquire(self) -> Literal[True]:
            calls.append("sem acquire")
            return await super().acquire()

    async def main() -> None:
        async with CountingLock():
            pass
        async with CountingSemaphore(1):
            pass
        async with asyncprims.Lock():  # the base classes keep their inlined paths
            pass

    run(main())
    assert calls == ["acquire", "release", "sem acquire"]


def test_blocking_outside_a_running_loop_is_a_clear_error() -> None:
    lock = asyncprims.Lock()
    lock._locked = True  # held: acquire() must block, and there is no loop to block in
    coro = lock.acquire()
    with pytest.raises(RuntimeError, match="no running event loop"):
        coro.send(None)
    assert not lock._waiters
