"""The tracing probe: what each primitive records, under which label, caused by whom;
timeouts told from cancellations; bounded memory; context scoping; and the
guarantee that tracing never changes the schedule."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import scenarios
from scenarios import run_with_timeout as run

import asyncprims
from asyncprims import tracing
from asyncprims.tracing import Recorder, TraceEvent

Row = tuple[Any, ...]


def rows(events: list[TraceEvent], *fields: str) -> list[Row]:
    fields = fields or ("task", "primitive", "action", "detail", "target")
    return [tuple(getattr(e, f) for f in fields) for e in events]


def traced(main: Callable[[], Awaitable[Any]], **options: Any) -> list[TraceEvent]:
    """Run ``main()`` as task ``main`` under a trace; return the events."""

    async def named() -> Any:
        task = asyncio.current_task()
        assert task is not None
        task.set_name("main")
        return await main()

    with asyncprims.trace(**options) as timeline:
        run(named())
    return timeline.events


def spawn(name: str, coro: Awaitable[Any]) -> asyncio.Task[Any]:
    return asyncio.create_task(coro, name=name)  # type: ignore[arg-type]


def by_seq(events: list[TraceEvent]) -> dict[int, TraceEvent]:
    return {e.seq: e for e in events}


def check_invariants(events: list[TraceEvent]) -> None:
    """seq increases by one; each wait ends once (same task and primitive);
    a resume's cause is the wake that targeted it."""
    seqs = [e.seq for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True
    open_waits: dict[tuple[str, str], int] = {}
    index = by_seq(events)
    for e in events:
        key = (e.task, e.primitive)
        if e.action == "wait":
            assert key not in open_waits, e
            open_waits[key] = e.seq
        elif e.action in tracing.WAIT_ENDINGS:
            assert open_waits.pop(key, None) is not None, e
            if e.cause is not None:
                wake = index[e.cause]
                assert wake.action == "wake" and wake.target == e.task
                assert wake.primitive == e.primitive and e.cause < e.seq
            if e.action == "resume":
                assert e.cause is not None and e.target == index[e.cause].task


# -- what each primitive records -------------------------------------------------------


def test_lock_wait_wake_resume_acquire_release() -> None:
    async def main() -> None:
        lock = asyncprims.Lock()
        await lock.acquire()
        t1 = spawn("t1", lock.acquire())
        await asyncio.sleep(0)
        lock.release()
        await t1
        lock.release()

    events = traced(main)
    assert rows(events) == [
        ("main", "Lock-1", "acquire", "", None),
        ("t1", "Lock-1", "wait", "acquire", None),
        ("main", "Lock-1", "release", "", "main"),
        ("main", "Lock-1", "wake", "release", "t1"),
        ("t1", "Lock-1", "resume", "", "main"),
        ("t1", "Lock-1", "acquire", "", None),
        ("main", "Lock-1", "release", "", "t1"),  # released by another task
    ]
    assert {e.kind for e in events} == {"Lock"}
    assert events[4].cause == events[3].seq
    check_invariants(events)


def test_lock_cancel_waiting_and_cancel_after_wake() -> None:
    async def main() -> None:
        lock = asyncprims.Lock()
        await lock.acquire()
        tasks = [spawn(f"t{i}", lock.acquire()) for i in range(3)]
        await asyncio.sleep(0)
        tasks[2].cancel()
        await asyncio.sleep(0)
        lock.release()
        tasks[0].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        lock.release()

    events = traced(main)
    endings = [
        r
        for r in rows(events, "task", "action", "detail", "target")
        if r[1] in ("cancel", "wake", "resume")
    ]
    assert endings == [
        ("t2", "cancel", "", None),
        ("main", "wake", "release", "t0"),
        ("t0", "cancel", "after wake-up", None),
        ("t0", "wake", "pass-on", "t1"),
        ("t1", "resume", "", "t0"),
    ]
    cancel_after_wake = next(e for e in events if e.detail == "after wake-up")
    assert by_seq(events)[cancel_after_wake.cause].target == "t0"  # type: ignore[index]
    check_invariants(events)


def test_event_set_clear_and_wakes() -> None:
    async def main() -> None:
        event = asyncprims.Event(name="ready")
        waiters = [spawn(f"w{i}", event.wait()) for i in range(2)]
        await asyncio.sleep(0)
        event.set()
        await asyncio.gather(*waiters)
        event.clear()
        late = spawn("late", event.wait())
        await asyncio.sleep(0)
        asyncio.get_running_loop().call_soon(event.set)  # woken by a callback
        await late

    events = traced(main)
    assert rows(events) == [
        ("w0", "ready", "wait", "wait", None),
        ("w1", "ready", "wait", "wait", None),
        ("main", "ready", "set", "", None),
        ("main", "ready", "wake", "set", "w0"),
        ("main", "ready", "wake", "set", "w1"),
        ("w0", "ready", "resume", "", "main"),
        ("w1", "ready", "resume", "", "main"),
        ("main", "ready", "clear", "", None),
        ("late", "ready", "wait", "wait", None),
        ("callback", "ready", "set", "", None),
        ("callback", "ready", "wake", "set", "late"),
        ("late", "ready", "resume", "", "callback"),
    ]
    check_invariants(events)


def test_condition_records_its_lock_under_its_own_label() -> None:
    async def main() -> None:
        cond = asyncprims.Condition()

        async def waiter() -> None:
            async with cond:
                await cond.wait()

        tasks = [spawn(f"w{i}", waiter()) for i in range(2)]
        await asyncio.sleep(0)
        async with cond:
            cond.notify(1)
            tasks[0].cancel()  # notified, then cancelled: the notify passes to w1
        await asyncio.gather(*tasks, return_exceptions=True)

    events = traced(main)
    assert {e.primitive for e in events} == {"Condition-1"}
    assert {e.kind for e in events} == {"Condition"}
    assert ("main", "Condition-1", "notify", "n=1", None) in rows(events)
    notify = next(e for e in events if e.action == "notify")
    assert notify.value == 1
    wakes = rows([e for e in events if e.action == "wake"], "task", "detail", "target")
    assert wakes == [("main", "notify", "w0"), ("w0", "pass-on", "w1")]
    assert ("w0", "cancel", "after wake-up") in rows(events, "task", "action", "detail")
    assert ("w1", "resume", "w0") in rows(events, "task", "action", "target")
    acquirers = [e.task for e in events if e.action == "acquire"]
    assert acquirers == ["w0", "w1", "main", "w0", "w1"]
    check_invariants(events)


def test_condition_with_user_lock_records_both() -> None:
    async def main() -> None:
        lock = asyncprims.Lock(name="mutex")
        cond = asyncprims.Condition(lock, name="ready")
        async with cond:
            cond.notify()

    events = traced(main)
    assert rows(events) == [
        ("main", "mutex", "acquire", "", None),
        ("main", "ready", "notify", "n=1", None),
        ("main", "mutex", "release", "", "main"),
    ]


def test_semaphore_handoff_and_pass_on() -> None:
    async def main() -> None:
        sem = asyncprims.BoundedSemaphore(1)
        await sem.acquire()
        tasks = [spawn(f"t{i}", sem.acquire()) for i in range(2)]
        await asyncio.sleep(0)
        sem.release()
        tasks[0].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        sem.release()

    events = traced(main)
    assert rows(events) == [
        ("main", "BoundedSemaphore-1", "acquire", "", None),
        ("t0", "BoundedSemaphore-1", "wait", "acquire", None),
        ("t1", "BoundedSemaphore-1", "wait", "acquire", None),
        ("main", "BoundedSemaphore-1", "release", "", "main"),
        ("main", "BoundedSemaphore-1", "wake", "release", "t0"),
        ("t0", "BoundedSemaphore-1", "cancel", "after wake-up", None),
        ("t0", "BoundedSemaphore-1", "wake", "pass-on", "t1"),
        ("t1", "BoundedSemaphore-1", "resume", "", "t0"),
        ("t1", "BoundedSemaphore-1", "acquire", "", None),
        ("main", "BoundedSemaphore-1", "release", "", "t1"),
    ]
    check_invariants(events)


def test_queue_put_get_task_done_join_shutdown() -> None:
    async def main() -> None:
        q = asyncprims.Queue(1, name="jobs")
        getter = spawn("g", q.get())
        await asyncio.sleep(0)
        await q.put("a")  # wakes g
        await q.put("b")
        putter = spawn("p", q.put("c"))
        await asyncio.sleep(0)  # g takes "a"; p waits for room
        joiner = spawn("j", q.join())
        await asyncio.sleep(0)
        q.task_done()
        q.get_nowait()  # wakes p
        await putter
        q.task_done()
        q.get_nowait()
        q.task_done()  # releases j
        await asyncio.gather(getter, joiner)
        blocked = spawn("g2", q.get())
        await asyncio.sleep(0)
        q.shutdown(immediate=True)
        await asyncio.gather(blocked, return_exceptions=True)

    events = traced(main)
    assert {e.primitive for e in events} == {"jobs"}
    assert not [e for e in events if e.action in ("acquire", "release", "set", "clear")]
    table = rows(events, "task", "action", "detail", "target", "value")
    # The join waiter's wake-up is checked on its own below.
    table = [
        (*r[:2], "(join wake)", *r[3:]) if r[1] == "wake" and r[3] == "j" else r for r in table
    ]
    assert table == [
        ("g", "wait", "get", None, None),
        ("main", "put", "", None, 1),
        ("main", "wake", "put", "g", None),
        ("main", "wait", "put", None, None),
        ("g", "resume", "", "main", None),
        ("g", "get", "", None, 0),
        ("g", "wake", "get", "main", None),
        ("main", "resume", "", "g", None),
        ("main", "put", "", None, 1),
        ("p", "wait", "put", None, None),
        ("j", "wait", "join", None, None),
        ("main", "task_done", "", None, 1),
        ("main", "get", "", None, 0),
        ("main", "wake", "get", "p", None),
        ("p", "resume", "", "main", None),
        ("p", "put", "", None, 1),
        ("main", "task_done", "", None, 1),
        ("main", "get", "", None, 0),
        ("main", "task_done", "", None, 0),
        ("main", "wake", "(join wake)", "j", None),
        ("j", "resume", "", "main", None),
        ("g2", "wait", "get", None, None),
        ("main", "shutdown", "immediate", None, 0),
        ("main", "wake", "shutdown", "g2", None),
        ("g2", "resume", "", "main", None),
    ]
    check_invariants(events)


@pytest.mark.parametrize("how", ["task_done", "shutdown"])
def test_join_waiter_woken_by_the_queue_operation(how: str) -> None:
    """The tracing docstring lists ``task_done`` among the ``wake`` details; the
    queue's internal Event should not leak as ``set``."""

    async def main() -> None:
        q = asyncprims.Queue(name="jobs")
        q.put_nowait(1)
        joiner = spawn("j", q.join())
        await asyncio.sleep(0)
        if how == "task_done":
            q.get_nowait()
            q.task_done()
        else:
            q.shutdown(immediate=True)
        await joiner

    events = traced(main)
    wakes = rows([e for e in events if e.action == "wake"], "task", "primitive", "detail", "target")
    assert wakes == [("main", "jobs", how, "j")]


def test_barrier_shows_as_itself_without_internals() -> None:
    async def main() -> None:
        barrier = asyncprims.Barrier(2, name="gate")
        first = spawn("b0", barrier.wait())
        await asyncio.sleep(0)
        await spawn("b1", barrier.wait())
        await first
        waiting = spawn("b2", barrier.wait())
        await asyncio.sleep(0)
        await barrier.reset()
        await asyncio.gather(waiting, return_exceptions=True)
        await barrier.abort()

    events = traced(main)
    assert {e.primitive for e in events} == {"gate"}
    assert {e.kind for e in events} == {"Barrier"}
    assert not [e for e in events if e.action in ("acquire", "release", "notify")]
    table = rows(events, "task", "action", "detail", "target", "value")
    assert table[:6] == [
        ("b0", "wait", "barrier", None, None),
        ("b1", "trip", "", None, 2),
        ("b1", "wake", "trip", "b0", None),
        ("b1", "pass", "", None, 1),
        ("b0", "resume", "", "b1", None),
        ("b0", "pass", "", None, 0),
    ]
    assert [r[:2] for r in table[6:]] == [
        ("b2", "wait"),
        ("main", "reset"),
        ("main", "wake"),
        ("b2", "resume"),
        ("main", "abort"),
    ]
    check_invariants(events)


# -- labels ---------------------------------------------------------------------------


def test_default_labels_numbered_per_kind_and_per_trace() -> None:
    async def main() -> None:
        for prim in (
            asyncprims.Lock(),
            asyncprims.Lock(),
            asyncprims.Semaphore(),
            asyncprims.Lock(name="named"),
        ):
            await prim.acquire()

    first = traced(main)
    assert [e.primitive for e in first] == ["Lock-1", "Lock-2", "Semaphore-1", "named"]
    second = traced(main)
    assert [e.primitive for e in second] == ["Lock-1", "Lock-2", "Semaphore-1", "named"]


def test_label_of() -> None:
    lock = asyncprims.Lock()
    assert tracing.label_of(lock) == "Lock"
    assert tracing.label_of(asyncprims.Lock(name="db")) == "db"
    queue = asyncprims.Queue(name="jobs")
    assert tracing.label_of(queue._finished) == "jobs"
    with asyncprims.trace():
        assert tracing.label_of(lock) == "Lock-1"
        barrier = asyncprims.Barrier(2)
        assert tracing.label_of(barrier._cond._lock) == "Barrier-1"


# -- timeout or cancel ------------------------------------------------------------------


def _ending_of(block: Callable[[Any], Awaitable[Any]], how: str) -> list[Row]:
    """Block on a held lock (and friends) and end the wait by ``how``."""

    async def main() -> None:
        lock = asyncprims.Lock()
        await lock.acquire()

        async def waiter() -> None:
            if how == "wait_for":
                await asyncio.wait_for(block(lock), 0.01)
            elif how == "timeout":
                async with asyncio.timeout(0.01):  # type: ignore[attr-defined]
                    await block(lock)
            else:
                await block(lock)

        task = spawn("w", waiter())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        if how == "cancel":
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        lock.release()

    events = traced(main)
    check_invariants(events)
    return [
        (e.primitive.split("-")[0], e.action) for e in events if e.action in tracing.WAIT_ENDINGS
    ]


async def _lock_acquire(lock: Any) -> None:
    await lock.acquire()


async def _queue_get(lock: Any) -> None:
    await asyncprims.Queue().get()


async def _event_wait(lock: Any) -> None:
    await asyncprims.Event().wait()


async def _condition_wait(lock: Any) -> None:
    cond = asyncprims.Condition()
    async with cond:
        await cond.wait()


HOWS = ["cancel", "wait_for", "timeout"]
BLOCKS = {
    "Lock": _lock_acquire,
    "Queue": _queue_get,
    "Event": _event_wait,
    "Condition": _condition_wait,
}


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("kind", list(BLOCKS))
def test_timeout_told_from_cancel(kind: str, how: str) -> None:
    if how == "timeout" and sys.version_info < (3, 11):
        pytest.skip("asyncio.timeout is new in 3.11")
    expected = "cancel" if how == "cancel" else "timeout"
    assert _ending_of(BLOCKS[kind], how) == [(kind, expected)]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is new in 3.11")
def test_timeout_that_fires_after_the_wake_up_is_a_timeout() -> None:
    """The timeout expires in the same loop iteration as the release that woke the
    waiter, before the waiter runs: the waiter gets TimeoutError, so the trace must
    say ``timeout`` (it says ``cancel``: ``_TracedFuture.cancel`` only marks a
    future that is not done yet, and Task.cancel() calls it on the woken one)."""
    outcome: list[str] = []

    async def main() -> None:
        lock = asyncprims.Lock()
        await lock.acquire()
        scopes: list[Any] = []

        async def waiter() -> None:
            try:
                async with asyncio.timeout(None) as scope:  # type: ignore[attr-defined]
                    scopes.append(scope)
                    await lock.acquire()
            except TimeoutError:
                outcome.append("TimeoutError")

        task = spawn("w", waiter())
        await asyncio.sleep(0)
        scopes[0].reschedule(asyncio.get_running_loop().time() - 1)  # fires next iteration
        lock.release()  # wakes w first
        await task

    events = traced(main)
    assert outcome == ["TimeoutError"]
    endings = rows(
        [e for e in events if e.action in tracing.WAIT_ENDINGS], "task", "action", "detail"
    )
    assert endings == [("w", "timeout", "after wake-up")]


@pytest.mark.parametrize("how", ["wait_for", "timeout", "cancel"])
def test_timeout_that_reaches_a_waiting_task_through_an_await_is_a_timeout(how: str) -> None:
    """The wait runs in its own task, which another task awaits under a timeout
    (``wait_for(task, t)``, ``async with timeout(t): await task``): the timeout
    cancels the awaiting task, which cancels the awaited one.  That wait ended
    by a timeout (on 3.12+ and for asyncio.timeout on 3.11 the trace said
    ``cancel``: only the waiting task's own coroutines were searched)."""
    if how == "timeout" and sys.version_info < (3, 11):
        pytest.skip("asyncio.timeout is new in 3.11")

    async def main() -> None:
        inbox = asyncprims.Queue()
        get = spawn("get", inbox.get())
        if how == "wait_for":
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(get, 0.01)
        elif how == "timeout":
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.01):  # type: ignore[attr-defined]
                    await get
        else:
            await asyncio.sleep(0.01)
            get.cancel()
            await asyncio.gather(get, return_exceptions=True)

    endings = [(e.task, e.action) for e in traced(main) if e.action in tracing.WAIT_ENDINGS]
    assert endings == [("get", "cancel" if how == "cancel" else "timeout")]


def test_cancel_from_inside_an_unexpired_timeout_is_a_cancel() -> None:
    async def main() -> None:
        lock = asyncprims.Lock()
        await lock.acquire()
        task = spawn("w", lock.acquire())
        await asyncio.sleep(0)

        async def canceller() -> None:
            task.cancel()

        await asyncio.wait_for(canceller(), 10)
        await asyncio.gather(task, return_exceptions=True)

    assert [e.action for e in traced(main) if e.action in tracing.WAIT_ENDINGS] == ["cancel"]


# -- bounded memory ---------------------------------------------------------------------------


def test_max_events_keeps_the_newest_and_counts_dropped() -> None:
    async def main() -> None:
        lock = asyncprims.Lock()
        for _ in range(10):
            await lock.acquire()
            lock.release()

    with asyncprims.trace(max_events=5) as timeline:
        run(main())
    events = timeline.events
    assert len(events) == 5
    assert timeline.dropped == 15
    assert [e.seq for e in events] == [15, 16, 17, 18, 19]
    assert [e.action for e in events] == ["release", "acquire", "release", "acquire", "release"]
    with pytest.raises(ValueError):
        Recorder(max_events=0)


def test_recorder_used_directly() -> None:
    recorder = Recorder()

    async def main() -> None:
        # What trace() does: make it the context's recorder, and list it as active.
        token = tracing._active.set(recorder)
        tracing.tracing.append(recorder)
        try:
            await asyncprims.Lock(name="x").acquire()
        finally:
            tracing.tracing.remove(recorder)
            tracing._active.reset(token)
        await asyncprims.Lock(name="y").acquire()  # after the reset: not recorded

    run(main())
    assert [(e.primitive, e.action) for e in recorder.events()] == [("x", "acquire")]
    assert recorder.dropped == 0


# -- context scoping --------------------------------------------------------------------------


def test_task_created_outside_the_trace_records_nothing() -> None:
    async def main() -> list[TraceEvent]:
        lock = asyncprims.Lock()
        await lock.acquire()
        outside = spawn("outside", lock.acquire())  # copies the untraced context
        with asyncprims.trace() as timeline:
            inside = spawn("inside", lock.acquire())
            await asyncio.sleep(0)
            lock.release()
            await outside
            lock.release()
            await inside
        return timeline.events

    events = run(main())
    assert "outside" not in {e.task for e in events}
    assert [(e.task, e.action) for e in events if e.task == "inside"] == [
        ("inside", "wait"),
        ("inside", "resume"),
        ("inside", "acquire"),
    ]
    # The wake of an untraced waiter is not reported either.
    assert not [e for e in events if e.action == "wake" and e.target == "outside"]


def test_nested_traces() -> None:
    async def main() -> tuple[list[TraceEvent], list[TraceEvent]]:
        with asyncprims.trace() as outer:
            await asyncprims.Lock(name="a").acquire()
            with asyncprims.trace() as inner:
                await asyncprims.Lock(name="b").acquire()
            await asyncprims.Lock(name="c").acquire()
        await asyncprims.Lock(name="d").acquire()
        return outer.events, inner.events

    outer, inner = run(main())
    assert [e.primitive for e in outer] == ["a", "c"]
    assert [e.primitive for e in inner] == ["b"]


# -- tracing does not change scheduling ----------------------------------------------------


@pytest.mark.parametrize("name", sorted(scenarios.SCENARIOS))
def test_tracing_does_not_change_the_schedule(name: str) -> None:
    if not scenarios.can_run(name, asyncprims):
        pytest.skip("needs a newer Python")
    plain = scenarios.run_scenario(name, asyncprims)
    with asyncprims.trace() as timeline:
        with_trace = scenarios.run_scenario(name, asyncprims)
    assert scenarios.comparable(name, with_trace) == scenarios.comparable(name, plain)
    events = timeline.events
    assert events, "the scenario was not traced"
    check_invariants(events)
    # Every wait the trace saw ended, except those of tasks cancelled at loop teardown.
    assert timeline.dropped == 0


# -- who is running: the tracer's per-context cache ------------------------------------------
# The tracer caches "the task running here" in the context (see tracing._where).
# Children copy the parent's context and callbacks a copy of their scheduler's;
# each must still be reported as itself.


def test_children_and_callbacks_are_not_taken_for_the_parent() -> None:
    async def main() -> None:
        queue: asyncprims.Queue[int] = asyncprims.Queue(name="q")
        queue.put_nowait(0)  # main's context now caches main

        async def child() -> None:
            queue.put_nowait(1)
            await asyncio.sleep(0)
            queue.put_nowait(2)

        task = spawn("child", child())
        asyncio.get_running_loop().call_soon(queue.put_nowait, 3)
        queue.put_nowait(4)
        await task
        queue.put_nowait(5)

    events = traced(main)
    assert [(e.task, e.value) for e in events] == [
        ("main", 1),
        ("main", 2),
        ("child", 3),
        ("callback", 4),
        ("child", 5),
        ("main", 6),
    ]


def test_a_renamed_task_is_reported_under_its_new_name() -> None:
    async def main() -> None:
        event = asyncprims.Event(name="e")
        event.set()
        task = asyncio.current_task()
        assert task is not None
        task.set_name("renamed")
        event.clear()

    assert [(e.task, e.action) for e in traced(main)] == [("main", "set"), ("renamed", "clear")]


def test_run_inside_a_running_task_reports_its_own_tasks() -> None:
    # asyncprims.run() inside a task (as in a Jupyter cell) runs a second loop
    # while the caller's task is mid-step on the first one.
    async def work() -> None:
        event = asyncprims.Event(name="inner")
        event.set()
        event.clear()

    async def inner() -> None:
        await spawn("worker", work())

    async def main() -> None:
        event = asyncprims.Event(name="outer")
        event.set()  # caches main
        asyncprims.run(inner())
        event.clear()

    assert [(e.task, e.primitive, e.action) for e in traced(main)] == [
        ("main", "outer", "set"),
        ("worker", "inner", "set"),
        ("worker", "inner", "clear"),
        ("main", "outer", "clear"),
    ]


# -- queue items and deadlocks ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "order"),
    [("Queue", [1, 2, 3]), ("LifoQueue", [3, 2, 1]), ("PriorityQueue", [1, 2, 3])],
)
def test_each_get_names_the_put_that_brought_its_item(kind: str, order: list[int]) -> None:
    async def main() -> None:
        queue = getattr(asyncprims, kind)(name="q")
        for item in (2, 3, 1) if kind == "PriorityQueue" else (1, 2, 3):
            queue.put_nowait(item)
        for _ in range(3):
            queue.get_nowait()

    events = traced(main)
    puts = {e.seq: e for e in events if e.action == "put"}
    gets = [e for e in events if e.action == "get"]
    put_order = [2, 3, 1] if kind == "PriorityQueue" else [1, 2, 3]
    item_of_put = dict(zip(sorted(puts), put_order))
    assert [item_of_put[g.cause] for g in gets] == order  # type: ignore[index]


def test_items_are_told_apart_by_identity_and_forgotten_on_immediate_shutdown() -> None:
    async def main() -> None:
        queue = asyncprims.Queue(name="q")
        same = object()
        queue.put_nowait(same)
        queue.put_nowait(same)  # the same object twice: first in, first out
        queue.get_nowait()
        queue.shutdown(immediate=True)  # drops the second copy without a get
        again = asyncprims.Queue(name="r")
        again.put_nowait(same)
        again.get_nowait()

    events = traced(main)
    puts = [e.seq for e in events if e.action == "put"]
    gets = [e.cause for e in events if e.action == "get"]
    assert gets == [puts[0], puts[2]]


def test_a_deadlock_is_recorded_and_the_clean_up_is_not() -> None:
    async def stuck() -> None:
        lock = asyncprims.Lock(name="door")
        await lock.acquire()

        async def other() -> None:
            await lock.acquire()

        await asyncio.create_task(other(), name="other")

    with asyncprims.trace() as timeline:
        with pytest.raises(asyncprims.DeadlockError):
            asyncprims.run(stuck(), virtual_time=True)
        with pytest.warns(tracing.MixedClocksWarning):  # a second run's clock starts at 0
            asyncprims.run(asyncio.sleep(0), virtual_time=True)  # recording goes on afterwards
            asyncprims.run(asyncprims.Lock(name="later").acquire(), virtual_time=True)
    actions = rows(timeline.events, "task", "primitive", "action", "target", "value")
    assert actions == [
        ("main", "door", "acquire", None, None),
        ("other", "door", "wait", None, None),
        ("main", "", "deadlock", "other", 1),
        ("other", "door", "deadlock", "main", 1),
        ("main", "later", "acquire", None, None),
    ]
    assert [e.seq for e in timeline.events] == list(range(5))
    (deadlock,) = timeline.deadlocks()
    assert deadlock.cycle == ("main", "other", "main")
    assert deadlock.edges == (("main", "", "other"), ("other", "door", "main"))


# -- the end of the block, and other threads --------------------------------------------


def test_recording_stops_when_the_trace_block_ends() -> None:
    async def main() -> None:
        event = asyncprims.Event(name="e")

        async def worker() -> None:
            event.set()
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            event.clear()  # after the block: not recorded

        with asyncprims.trace() as timeline:
            task = spawn("worker", worker())
            await asyncio.sleep(0)
        await task
        assert [(e.task, e.action) for e in timeline.events] == [("worker", "set")]

    run(main())


def test_an_event_from_another_thread_is_not_the_stepping_tasks() -> None:
    # While the loop is mid-step in a task, another thread (no loop of its own)
    # puts into a queue: the event belongs to "main" (no task), not to the task.
    async def main() -> list[tuple[str, str]]:
        asyncio.current_task().set_name("stepping")  # type: ignore[union-attr]
        queue: asyncprims.Queue[int] = asyncprims.Queue(name="q")
        with asyncprims.trace() as timeline:
            queue.put_nowait(0)  # the running loop is now the one remembered
            context = contextvars.copy_context()  # the thread sees this trace
            thread = threading.Thread(target=context.run, args=(queue.put_nowait, 1))
            thread.start()
            thread.join()  # the loop stays mid-step in this task meanwhile
        return [(e.task, e.action) for e in timeline.events]

    assert run(main()) == [("stepping", "put"), ("main", "put")]
