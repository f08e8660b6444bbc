"""asyncprims.patch() / unpatch(): the global swap of asyncio's classes."""

from __future__ import annotations

import asyncio
import asyncio.locks
import asyncio.queues
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import asyncprims
from asyncprims import patching

ROOT = Path(__file__).resolve().parent.parent
MODULES = (asyncio, asyncio.locks, asyncio.queues)
ORIGINAL = {
    (module.__name__, name): module.__dict__[name]
    for module in MODULES
    for name in patching.SWAPPED_NAMES
    if name in module.__dict__
}
EXCEPTIONS = ("QueueEmpty", "QueueFull", "QueueShutDown", "BrokenBarrierError")


def _current() -> dict[tuple[str, str], Any]:
    return {
        (m.__name__, n): m.__dict__[n]
        for m in MODULES
        for n in patching.SWAPPED_NAMES
        if n in m.__dict__
    }


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    assert not asyncprims.is_patched() and _current() == ORIGINAL
    try:
        yield
    finally:
        patching._plain, patching._scopes = False, 0
        patching._restore()
        assert _current() == ORIGINAL


def _assert_patched() -> None:
    assert asyncprims.is_patched()
    for (module_name, name), _ in ORIGINAL.items():
        assert getattr(sys.modules[module_name], name) is getattr(asyncprims, name), name


def test_patch_swaps_every_name_asyncio_has_and_unpatch_puts_them_back() -> None:
    exceptions = {name: getattr(asyncio, name, None) for name in EXCEPTIONS}
    asyncprims.patch()
    _assert_patched()
    assert asyncio.Lock is asyncprims.Lock and asyncio.locks.Condition is asyncprims.Condition
    assert asyncio.queues.PriorityQueue is asyncprims.PriorityQueue
    assert ("asyncio", "Barrier") in ORIGINAL or not hasattr(asyncio, "Barrier")  # never added
    assert {name: getattr(asyncio, name, None) for name in EXCEPTIONS} == exceptions
    asyncprims.unpatch()
    assert not asyncprims.is_patched()
    assert _current() == ORIGINAL


def test_barrier_is_swapped_only_where_asyncio_has_it() -> None:
    with asyncprims.patch():
        assert hasattr(asyncio, "Barrier") == (sys.version_info >= (3, 11))
        if sys.version_info >= (3, 11):
            assert asyncio.Barrier is asyncprims.Barrier


def test_plain_calls_are_idempotent() -> None:
    asyncprims.patch()
    asyncprims.patch()
    _assert_patched()
    asyncprims.unpatch()
    assert not asyncprims.is_patched()
    asyncprims.unpatch()  # nothing patched: nothing happens
    assert _current() == ORIGINAL


def test_with_blocks_nest() -> None:
    with asyncprims.patch():
        with asyncprims.patch():
            _assert_patched()
        _assert_patched()
    assert not asyncprims.is_patched()


def test_a_block_keeps_a_plain_patch_made_before_it() -> None:
    asyncprims.patch()
    with asyncprims.patch():
        pass
    _assert_patched()
    asyncprims.unpatch()
    assert not asyncprims.is_patched()


def test_unpatch_inside_a_block_waits_for_the_block() -> None:
    with asyncprims.patch():
        asyncprims.unpatch()
        _assert_patched()
    assert not asyncprims.is_patched()


def test_a_handle_enters_once() -> None:
    handle = asyncprims.patch()
    with handle, pytest.raises(RuntimeError, match="only once"):
        handle.__enter__()
    assert not asyncprims.is_patched()


def test_restore_leaves_a_later_rebinding_alone() -> None:
    asyncprims.patch()

    class Foreign:
        pass

    asyncio.locks.Lock = Foreign  # type: ignore[misc, assignment]
    asyncprims.unpatch()
    assert asyncio.locks.Lock is Foreign
    assert asyncio.Lock is ORIGINAL[("asyncio", "Lock")]
    asyncio.locks.Lock = ORIGINAL[("asyncio.locks", "Lock")]  # type: ignore[misc]


def test_blocks_in_many_threads() -> None:
    inside = [0]
    guard = threading.Lock()
    errors: list[str] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(200):
            with asyncprims.patch():
                with guard:
                    inside[0] += 1
                if not asyncprims.is_patched() or asyncio.Lock is not asyncprims.Lock:
                    errors.append("not patched inside a block")
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert not asyncprims.is_patched()


def test_what_was_bound_before_the_patch_keeps_asyncio_s_class() -> None:
    from asyncio import Lock as EarlyLock

    class EarlyQueue(asyncio.Queue):  # type: ignore[type-arg]
        pass

    early = asyncio.Lock()
    with asyncprims.patch():
        from asyncio import Lock as LateLock

        class LateQueue(asyncio.Queue):  # type: ignore[type-arg]
            pass

        assert EarlyLock is ORIGINAL[("asyncio", "Lock")] and LateLock is asyncprims.Lock
        assert not issubclass(EarlyQueue, asyncprims.Queue)
        assert issubclass(LateQueue, asyncprims.Queue)
        assert not isinstance(early, asyncio.Lock)  # documented: isinstance sees the new class
        assert isinstance(asyncio.Lock(), asyncprims.Lock)


def test_asyncio_internals_follow_the_swap() -> None:
    """as_completed() builds a Queue and staggered_race() Events through the modules."""
    from asyncio.staggered import staggered_race

    async def answer(value: int) -> int:
        await asyncio.sleep(0)
        return value

    async def main() -> list[int]:
        results = [await f for f in asyncio.as_completed([answer(1), answer(2)])]
        winner, _, _ = await staggered_race([lambda: answer(3)], 0.01)
        return [*sorted(results), winner]

    with asyncprims.patch(), asyncprims.trace() as timeline:
        assert asyncio.run(main()) == [1, 2, 3]
    kinds = {event.kind for event in timeline.events}
    assert "Queue" in kinds  # as_completed's queue recorded its puts
    assert "Event" in kinds  # staggered_race's events


def test_a_patched_program_runs_every_primitive() -> None:
    async def main() -> list[Any]:
        lock, event, cond = asyncio.Lock(), asyncio.Event(), asyncio.Condition()
        sem, bounded = asyncio.Semaphore(2), asyncio.BoundedSemaphore(1)
        queues = [asyncio.Queue(), asyncio.PriorityQueue(), asyncio.LifoQueue()]
        async with lock, sem, bounded:
            pass
        with pytest.raises(ValueError):
            bounded.release()

        async def waiter() -> None:
            async with cond:
                await cond.wait_for(event.is_set)

        task = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        event.set()
        async with cond:
            cond.notify_all()
        await task
        for queue in queues:
            queue.put_nowait(1)
            assert await queue.get() == 1
        with pytest.raises(asyncio.QueueEmpty):
            queues[0].get_nowait()
        if hasattr(asyncio, "Barrier"):
            barrier = asyncio.Barrier(1)
            assert await barrier.wait() == 0
        return [lock, event, cond, sem, bounded, *queues]

    with asyncprims.patch():
        made = asyncio.run(main())
    assert all(type(obj).__module__.startswith("asyncprims") for obj in made)


def test_a_module_imported_after_the_patch_sees_ours(tmp_path: Path) -> None:
    (tmp_path / "library.py").write_text(
        "from asyncio import Lock, Queue\nclass Jobs(Queue):\n    pass\n"
    )
    script = textwrap.dedent(
        """
        import asyncprims
        asyncprims.patch()
        import library
        print(library.Lock is asyncprims.Lock, issubclass(library.Jobs, asyncprims.Queue))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{ROOT}:{tmp_path}", "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert result.stdout == "True True\n"
