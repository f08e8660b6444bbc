"""Faithful under patching and subclassing, as asyncio is (issue #12).

Every test runs the same code on asyncio and on asyncprims and expects the same
observable result: ``async with`` runs an overridden or patched ``acquire`` /
``release`` / ``locked`` (a mixin placed before the primitive, ``mock.patch``
on the class, a patch on one instance, a subclass), CPython's private hooks
keep CPython's signatures and are called where CPython calls them, and no
primitive keeps alive a task that asyncio would let go.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import weakref
from typing import Any
from unittest import mock

import pytest
from scenarios import run_with_timeout as run

import asyncprims

BOTH = [asyncio, asyncprims]
IDS = ["asyncio", "asyncprims"]
#: The classes ``async with`` works on, with the arguments to build one.
CONTEXT_MANAGERS = [("Lock", ()), ("Semaphore", (2,)), ("BoundedSemaphore", (2,))]


def calls_under(prims: Any, body: Any) -> list[str]:
    """Run ``body(prims, calls)`` (a coroutine function) and return what it appended."""
    calls: list[str] = []
    run(body(prims, calls))
    return calls


def same_on_both(body: Any) -> list[str]:
    """``calls_under`` on asyncio and on asyncprims; they must agree."""
    theirs, ours = (calls_under(prims, body) for prims in BOTH)
    assert ours == theirs
    return ours


# -- async with runs what the class (or the instance) says acquire/release/locked are ------


@pytest.mark.parametrize(("cls", "args"), CONTEXT_MANAGERS)
def test_a_mixin_before_the_primitive_runs_under_async_with(cls: str, args: tuple[int]) -> None:
    async def body(prims: Any, calls: list[str]) -> None:
        class Logged:
            async def acquire(self) -> bool:
                calls.append("acquire")
                return await super().acquire()  # type: ignore[misc,no-any-return]

            def release(self) -> None:
                calls.append("release")
                super().release()  # type: ignore[misc]

        logged = type("Logged" + cls, (Logged, getattr(prims, cls)), {})(*args)
        async with logged:
            calls.append("body")

    assert same_on_both(body) == ["acquire", "body", "release"]


@pytest.mark.parametrize(("cls", "args"), CONTEXT_MANAGERS)
def test_mock_patch_on_the_class_runs_under_async_with(cls: str, args: tuple[int]) -> None:
    async def body(prims: Any, calls: list[str]) -> None:
        klass = getattr(prims, cls)
        acquire, release = klass.acquire, klass.release

        async def spy_acquire(self: Any) -> bool:
            calls.append("acquire")
            return await acquire(self)  # type: ignore[no-any-return]

        def spy_release(self: Any) -> None:
            calls.append("release")
            release(self)

        with (
            mock.patch.object(klass, "acquire", spy_acquire),
            mock.patch.object(klass, "release", spy_release),
        ):
            async with klass(*args):
                calls.append("body")
        async with klass(*args):  # unpatched again
            calls.append("after")

    assert same_on_both(body) == ["acquire", "body", "release", "after"]


def test_the_issues_snippet() -> None:
    for prims, expected in ((asyncio, 1), (asyncprims, 1)):
        orig = prims.Lock.acquire
        spied: list[int] = []

        async def spy(self: Any, orig: Any = orig, spied: list[int] = spied) -> bool:
            spied.append(1)
            return await orig(self)  # type: ignore[no-any-return]

        async def main(prims: Any = prims) -> None:
            async with prims.Lock():
                pass

        with mock.patch.object(prims.Lock, "acquire", spy):
            run(main())
        assert len(spied) == expected, prims.__name__


@pytest.mark.parametrize(("cls", "args"), CONTEXT_MANAGERS)
def test_a_patch_on_one_instance_runs_under_async_with(cls: str, args: tuple[int]) -> None:
    async def body(prims: Any, calls: list[str]) -> None:
        patched, plain = getattr(prims, cls)(*args), getattr(prims, cls)(*args)
        acquire, release = patched.acquire, patched.release

        async def spy_acquire() -> bool:
            calls.append("acquire")
            return await acquire()  # type: ignore[no-any-return]

        def spy_release() -> None:
            calls.append("release")
            release()

        patched.acquire = spy_acquire
        with mock.patch.object(patched, "release", spy_release):
            async with patched:
                calls.append("body")
            async with plain:  # the other instance is untouched
                calls.append("plain")

    assert same_on_both(body) == ["acquire", "body", "release", "plain"]


@pytest.mark.parametrize("cls", ["Semaphore", "BoundedSemaphore"])
def test_a_semaphore_subclass_overriding_only_locked_is_obeyed(cls: str) -> None:
    async def body(prims: Any, calls: list[str]) -> None:
        class Gate(getattr(prims, cls)):  # type: ignore[misc]
            closed = True

            def locked(self) -> bool:
                calls.append(f"locked {self.closed}")
                return self.closed or bool(super().locked())

        gate = Gate(3)

        async def enter() -> None:
            async with gate:
                calls.append("inside")

        task = asyncio.create_task(enter())
        for _ in range(3):
            await asyncio.sleep(0)
        calls.append(f"blocked {not task.done()}")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        gate.closed = False
        await enter()

    assert same_on_both(body) == ["locked True", "blocked True", "locked False", "inside"]


def test_overrides_in_a_subclass_run_under_async_with() -> None:
    async def body(prims: Any, calls: list[str]) -> None:
        class CountingLock(prims.Lock):  # type: ignore[misc,name-defined]
            async def acquire(self) -> bool:
                calls.append("acquire")
                return await super().acquire()  # type: ignore[no-any-return]

            def release(self) -> None:
                calls.append("release")
                super().release()

        class CountingSemaphore(prims.Semaphore):  # type: ignore[misc,name-defined]
            async def acquire(self) -> bool:
                calls.append("sem acquire")
                return await super().acquire()  # type: ignore[no-any-return]

            def release(self) -> None:
                calls.append("sem release")
                super().release()

        async with CountingLock():
            pass
        async with CountingSemaphore(1):
            pass
        async with prims.Lock():  # the base class is untouched
            pass

    assert same_on_both(body) == ["acquire", "release", "sem acquire", "sem release"]


# -- CPython's private hooks: CPython's signatures, called for every wake-up -------------
# CPython calls Lock._wake_up_first, Semaphore._wake_up_next and Queue._wakeup_next
# after every release, put and get, with or without waiters; asyncprims calls them
# whenever there is a waiter to wake (a method call on every release would cost
# the uncontended paths about 8%).  An override sees every wake-up either way.


def test_a_queue_subclass_can_call_wakeup_next_with_one_argument() -> None:
    async def body(prims: Any, calls: list[str]) -> None:
        class FrontQueue(prims.Queue):  # type: ignore[misc,name-defined]
            def put_front_nowait(self, item: Any) -> None:
                if self.full():
                    raise asyncio.QueueFull
                self._queue.appendleft(item)
                self._unfinished_tasks += 1
                self._finished.clear()
                self._wakeup_next(self._getters)

        queue = FrontQueue()
        getter = asyncio.create_task(queue.get())
        await asyncio.sleep(0)
        queue.put_nowait("back")
        queue.put_front_nowait("front")  # the woken getter will take this one
        calls.append(await getter)
        calls.append(queue.get_nowait())
        getter = asyncio.create_task(queue.get())
        await asyncio.sleep(0)
        queue.put_front_nowait("woken")
        calls.append(await getter)

    assert same_on_both(body) == ["front", "back", "woken"]


def test_an_override_of_wakeup_next_is_called_for_every_wake_up() -> None:
    async def body(prims: Any, calls: list[str]) -> None:
        class Logged(prims.Queue):  # type: ignore[misc,name-defined]
            def _wakeup_next(self, waiters: Any) -> None:
                if waiters:
                    calls.append("getters" if waiters is self._getters else "putters")
                super()._wakeup_next(waiters)

        queue = Logged(1)
        getter = asyncio.create_task(queue.get())
        await asyncio.sleep(0)
        await queue.put(1)  # wakes the getter
        await getter
        await queue.put(2)
        first = asyncio.create_task(queue.put(3))
        second = asyncio.create_task(queue.put(4))
        await asyncio.sleep(0)
        queue.get_nowait()  # wakes the first putter
        first.cancel()  # ... cancelled before it runs: it passes the free slot on
        await asyncio.gather(first, second, return_exceptions=True)
        calls.append(f"queue {list(queue._queue)}")

    assert same_on_both(body) == ["getters", "putters", "putters", "queue [4]"]


def test_semaphore_wake_up_next_keeps_cpythons_signature() -> None:
    async def body(prims: Any, calls: list[str]) -> None:
        class Logged(prims.Semaphore):  # type: ignore[misc,name-defined]
            def _wake_up_next(self) -> Any:
                if self._waiters:  # CPython also calls it with nobody waiting; we do not
                    calls.append(f"wake, waiters {len(self._waiters)}")
                return super()._wake_up_next()

        sem = Logged(1)
        await sem.acquire()
        waiter = asyncio.create_task(sem.acquire())
        await asyncio.sleep(0)
        sem.release()  # hands the permit to the waiter
        await waiter
        sem.release()
        calls.append(f"value {sem._value}")
        sem._value = 0
        sem._wake_up_next()  # callable with no argument; nobody waits
        calls.append(f"value {sem._value}")

    assert same_on_both(body) == ["wake, waiters 1", "value 1", "value 0"]


def test_lock_wake_up_first_keeps_cpythons_signature() -> None:
    async def body(prims: Any, calls: list[str]) -> None:
        class Logged(prims.Lock):  # type: ignore[misc,name-defined]
            def _wake_up_first(self) -> None:
                if self._waiters:  # CPython also calls it with nobody waiting; we do not
                    calls.append(f"wake, waiters {len(self._waiters)}")
                super()._wake_up_first()

        lock = Logged()
        await lock.acquire()
        waiter = asyncio.create_task(lock.acquire())
        await asyncio.sleep(0)
        lock.release()
        await waiter
        lock.release()
        lock._wake_up_first()  # callable with no argument

    assert same_on_both(body) == ["wake, waiters 1"]


# -- no primitive keeps a finished task alive -------------------------------------------


async def _abandon(prims: Any, kind: str) -> tuple[Any, weakref.ref[Any]]:
    """A task acquires ``kind`` and finishes without releasing it; returns the
    primitive and a weak reference to the (finished) task."""
    prim = prims.Lock() if kind == "Lock" else prims.Semaphore(2)

    async def take() -> None:
        await prim.acquire()

    task = asyncio.create_task(take())
    await task
    return prim, weakref.ref(task)


@pytest.mark.parametrize("kind", ["Lock", "Semaphore"])
@pytest.mark.parametrize("prims", BOTH, ids=IDS)
def test_a_task_that_never_released_can_be_collected(prims: Any, kind: str) -> None:
    async def main() -> None:
        prim, ref = await _abandon(prims, kind)
        await asyncio.sleep(0)  # the handle that woke us holds the task until it returns
        gc.collect()
        assert ref() is None, gc.get_referrers(ref())
        assert prim.locked() is (kind == "Lock")

    run(main())


@pytest.mark.parametrize("kind", ["Lock", "Semaphore"])
def test_statistics_name_a_living_holder_and_drop_a_dead_one(kind: str) -> None:
    async def main() -> None:
        prim = asyncprims.Lock() if kind == "Lock" else asyncprims.Semaphore(2)
        release = asyncio.Event()

        async def hold() -> None:
            await prim.acquire()
            await release.wait()

        task = asyncio.create_task(hold())
        await asyncio.sleep(0)
        stats = prim.statistics()
        assert (stats.owner if kind == "Lock" else stats.holders) == (  # type: ignore[union-attr]
            task if kind == "Lock" else (task,)
        )
        release.set()
        await task
        await asyncio.sleep(0)  # the handle that woke us holds the task until it returns
        assert (stats.owner if kind == "Lock" else stats.holders) == (  # type: ignore[union-attr]
            task if kind == "Lock" else (task,)
        )  # a snapshot keeps what it saw
        ref = weakref.ref(task)
        del task, stats
        gc.collect()
        assert ref() is None
        stats = prim.statistics()
        if kind == "Lock":
            assert stats.locked and stats.owner is None  # type: ignore[union-attr]
        else:
            assert stats.holders == () and stats.value == 1  # type: ignore[union-attr]
        prim.release()  # the permit (or the lock) can still be given back
        assert not prim.locked()

    run(main())


def test_a_traced_task_that_never_released_can_be_collected() -> None:
    async def main() -> weakref.ref[Any]:
        lock = asyncprims.Lock(name="l")
        sem = asyncprims.Semaphore(1, name="s")

        async def child() -> None:
            await asyncio.sleep(0)

        async def take() -> asyncio.Task[None]:
            await lock.acquire()
            await sem.acquire()
            return asyncio.create_task(child())  # its context is a copy of this task's

        task = asyncio.create_task(take())
        grandchild = await task
        await asyncio.sleep(0)  # the handle that woke us holds the task until it returns
        ref = weakref.ref(task)
        del task
        gc.collect()
        assert ref() is None
        await grandchild
        return ref

    with asyncprims.trace() as timeline:
        run(main())
    assert [e.action for e in timeline.events] == ["acquire", "acquire"]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="wait_for runs no inner task")
def test_wait_for_owner_is_the_caller_and_is_not_pinned() -> None:
    async def main() -> None:
        lock = asyncprims.Lock()

        async def take() -> None:
            await asyncio.wait_for(lock.acquire(), 1)

        task = asyncio.create_task(take())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert lock.statistics().owner is task
        await task
        await asyncio.sleep(0)  # the handle that woke us holds the task until it returns
        ref = weakref.ref(task)
        del task
        gc.collect()
        assert ref() is None
        assert lock.locked() and lock.statistics().owner is None

    run(main())
