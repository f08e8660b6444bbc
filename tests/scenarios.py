"""Scenarios written once, run with asyncio's classes or with asyncprims'.

Each scenario is ``async def scenario(p, log)``: ``p`` is a namespace holding the
primitives (the ``asyncio`` module or the ``asyncprims`` module) and ``log``
records, in execution order, what each task did and what it observed.  The
main task usually drives the scenario in ``sleep(0)`` steps and snapshots the
primitives' state (their repr without addresses) after every step, so the log
pins down not only the order of events but also the loop iteration at which
each one happened.

:func:`run_scenario` returns the log as a list of lists of JSON scalars, ready
to be compared with another run or with a golden file.
"""

from __future__ import annotations

import asyncio
import gc
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

Entry = list[Any]
T = TypeVar("T")
Scenario = Callable[[Any, "Log"], Awaitable[None]]

_ADDRESS = re.compile(r"<[\w.]+\.(\w+) object at 0x[0-9a-f]+")
_QUEUE_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def state(obj: object) -> str:
    """The primitive's repr with module path and address removed.

    ``<asyncio.locks.Lock object at 0x7f.. [locked, waiters:1]>`` becomes
    ``<Lock [locked, waiters:1]>``; a queue's ``<Queue at 0x.. maxsize=1>``
    becomes ``<Queue maxsize=1>``.
    """
    text = repr(obj)
    text = _ADDRESS.sub(r"<\1", text)
    return _QUEUE_ADDRESS.sub("", text)


class Log:
    """An append-only record of ``[who, what, *observations]`` entries."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def __call__(self, *entry: Any) -> None:
        self.entries.append([_plain(x) for x in entry])


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return state(value)


async def steps(log: Log, count: int, *watch: object) -> None:
    """Yield to the loop ``count`` times, logging the watched states after each."""
    for _ in range(count):
        await asyncio.sleep(0)
        log("step", *(state(obj) for obj in watch))


def spawn(name: str, coro: Awaitable[Any]) -> asyncio.Task[Any]:
    return asyncio.create_task(coro, name=name)  # type: ignore[arg-type]


async def hold(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


@dataclass(frozen=True)
class Spec:
    """A scenario and what the running Python's asyncio needs to run it."""

    func: Scenario
    asyncio_needs: tuple[str, ...] = ()  # attributes of the asyncio module
    min_python: tuple[int, int] = (3, 10)  # for anything else the scenario uses
    #: Uses ``asyncio.wait_for``, which before 3.12 runs the awaitable in an inner
    #: task: the interleaving between tasks differs there, each task's story does not.
    uses_wait_for: bool = False


SCENARIOS: dict[str, Spec] = {}


def scenario(
    *asyncio_needs: str, min_python: tuple[int, int] = (3, 10), uses_wait_for: bool = False
) -> Callable[[Scenario], Scenario]:
    def register(func: Scenario) -> Scenario:
        SCENARIOS[func.__name__] = Spec(func, asyncio_needs, min_python, uses_wait_for)
        return func

    return register


def can_run(name: str, prims: ModuleType) -> bool:
    spec = SCENARIOS[name]
    if sys.version_info[:2] < spec.min_python:
        return False
    if prims is asyncio:
        return all(hasattr(asyncio, attr) for attr in spec.asyncio_needs)
    return True


def per_task(entries: list[Entry]) -> dict[str, list[Entry]]:
    """The log split by actor, each actor's entries in order."""
    stories: dict[str, list[Entry]] = {}
    for entry in entries:
        stories.setdefault(entry[0], []).append(entry)
    return stories


def comparable(name: str, entries: list[Entry]) -> Any:
    """What must match across Pythons: the whole order, or per task where
    ``wait_for`` adds an inner task (Python < 3.12)."""
    if SCENARIOS[name].uses_wait_for and sys.version_info < (3, 12):
        return per_task(entries)
    return entries


def run_with_timeout(coro: Awaitable[T], timeout: float = 10) -> T:
    """``asyncio.run(coro)``, failing instead of hanging if a wake-up is lost."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def run_scenario(name: str, prims: ModuleType) -> list[Entry]:
    """Run one scenario; return its log.  The garbage collector is off meanwhile:
    late in a long test session a full collection can pause the loop for longer
    than the real-time timeout scenarios allow between their steps."""
    log = Log()
    gc.collect()
    gc.disable()
    try:
        run_with_timeout(SCENARIOS[name].func(prims, log))
    finally:
        gc.enable()
    return log.entries


# ----------------------------------------------------------------------- helpers


async def _locker(p: Any, log: Log, name: str, lock: Any, hold_steps: int) -> None:
    log(name, "try", lock.locked())
    try:
        async with lock:
            log(name, "got", state(lock))
            await hold(hold_steps)
            log(name, "release")
    except asyncio.CancelledError:
        log(name, "cancelled", state(lock))
        raise


# ------------------------------------------------------------------------- Lock


@scenario()
async def lock_fifo(p: Any, log: Log) -> None:
    lock = p.Lock()
    for i, h in enumerate((2, 0, 1, 3)):
        spawn(f"t{i}", _locker(p, log, f"t{i}", lock, h))
    await steps(log, 14, lock)


@scenario()
async def lock_cancel_waiting(p: Any, log: Log) -> None:
    lock = p.Lock()
    await lock.acquire()
    tasks = [spawn(f"t{i}", _locker(p, log, f"t{i}", lock, 1)) for i in range(4)]
    await steps(log, 2, lock)
    tasks[1].cancel()
    tasks[3].cancel()
    await steps(log, 2, lock)
    lock.release()
    log("main", "released", state(lock))
    await steps(log, 8, lock)


@scenario()
async def lock_cancel_after_wake(p: Any, log: Log) -> None:
    lock = p.Lock()
    await lock.acquire()
    tasks = [spawn(f"t{i}", _locker(p, log, f"t{i}", lock, 1)) for i in range(3)]
    await steps(log, 2, lock)
    lock.release()
    tasks[0].cancel()  # woken, not resumed yet: the wake-up must pass to t1
    log("main", "released+cancelled t0", state(lock))
    await steps(log, 8, lock)


@scenario()
async def lock_cancel_head_then_release(p: Any, log: Log) -> None:
    lock = p.Lock()
    await lock.acquire()
    tasks = [spawn(f"t{i}", _locker(p, log, f"t{i}", lock, 1)) for i in range(3)]
    await steps(log, 2, lock)
    tasks[0].cancel()  # cancelled first, not yet run: the release must not wake two
    lock.release()
    log("main", "cancelled t0+released", state(lock))
    await steps(log, 8, lock)


@scenario()
async def lock_newcomer_waits_behind_woken(p: Any, log: Log) -> None:
    lock = p.Lock()
    await lock.acquire()
    spawn("t0", _locker(p, log, "t0", lock, 1))
    await steps(log, 1, lock)
    lock.release()
    log("main", "released", state(lock), lock.locked())
    spawn("late", _locker(p, log, "late", lock, 0))
    await lock.acquire()  # t0 was woken first: main must queue, not jump ahead
    log("main", "got", state(lock))
    lock.release()
    await steps(log, 6, lock)


# -------------------------------------------------------------------- Semaphore


async def _sem_user(p: Any, log: Log, name: str, sem: Any, hold_steps: int) -> None:
    log(name, "try", sem.locked())
    try:
        async with sem:
            log(name, "got", state(sem))
            await hold(hold_steps)
            log(name, "release")
    except asyncio.CancelledError:
        log(name, "cancelled", state(sem))
        raise


@scenario()
async def semaphore_fifo(p: Any, log: Log) -> None:
    sem = p.Semaphore(2)
    for i, h in enumerate((3, 1, 0, 2, 1, 0)):
        spawn(f"t{i}", _sem_user(p, log, f"t{i}", sem, h))
    await steps(log, 14, sem)


@scenario()
async def bounded_semaphore(p: Any, log: Log) -> None:
    sem = p.BoundedSemaphore(2)
    tasks = [spawn(f"t{i}", _sem_user(p, log, f"t{i}", sem, h)) for i, h in enumerate((2, 0, 1, 1))]
    await steps(log, 2, sem)
    tasks[3].cancel()
    await steps(log, 8, sem)
    try:
        sem.release()
    except ValueError as exc:
        log("main", "ValueError", str(exc), state(sem))


@scenario()
async def semaphore_cancel_after_handoff(p: Any, log: Log) -> None:
    sem = p.Semaphore(1)
    await sem.acquire()
    tasks = [spawn(f"t{i}", _sem_user(p, log, f"t{i}", sem, 1)) for i in range(3)]
    await steps(log, 2, sem)
    sem.release()
    tasks[0].cancel()  # handed the permit, cancelled before using it
    log("main", "released+cancelled t0", state(sem), sem.locked())
    await steps(log, 8, sem)
    log("main", "end", state(sem), sem._value)


@scenario()
async def semaphore_cancel_head_then_release(p: Any, log: Log) -> None:
    sem = p.Semaphore(1)
    await sem.acquire()
    tasks = [spawn(f"t{i}", _sem_user(p, log, f"t{i}", sem, 1)) for i in range(3)]
    await steps(log, 2, sem)
    tasks[0].cancel()
    sem.release()
    log("main", "cancelled t0+released", state(sem), sem.locked())
    await steps(log, 8, sem)
    log("main", "end", state(sem))


@scenario()
async def semaphore_no_queue_jumping(p: Any, log: Log) -> None:
    sem = p.Semaphore(1)
    await sem.acquire()
    spawn("t0", _sem_user(p, log, "t0", sem, 2))
    await steps(log, 1, sem)
    sem.release()
    log("main", "released", state(sem), sem.locked())
    spawn("late", _sem_user(p, log, "late", sem, 0))
    await sem.acquire()  # the permit was handed to t0: main must queue
    log("main", "got", state(sem))
    sem.release()
    await steps(log, 6, sem)
    log("main", "end", state(sem))


@scenario()
async def semaphore_two_releases_one_cancelled(p: Any, log: Log) -> None:
    sem = p.Semaphore(0)
    tasks = [spawn(f"t{i}", _sem_user(p, log, f"t{i}", sem, 1)) for i in range(4)]
    await steps(log, 1, sem)
    sem.release()
    sem.release()
    tasks[1].cancel()
    log("main", "2 releases, t1 cancelled", state(sem))
    await steps(log, 8, sem)
    log("main", "end", state(sem))


# -------------------------------------------------------------------- Condition


async def _cond_waiter(p: Any, log: Log, name: str, cond: Any) -> None:
    async with cond:
        log(name, "wait", state(cond))
        try:
            result = await cond.wait()
        except asyncio.CancelledError:
            log(name, "cancelled", cond.locked(), state(cond))
            raise
        log(name, "woke", result, state(cond))
        await hold(1)


@scenario()
async def condition_notify(p: Any, log: Log) -> None:
    cond = p.Condition()
    for i in range(4):
        spawn(f"w{i}", _cond_waiter(p, log, f"w{i}", cond))
    await steps(log, 2, cond)
    async with cond:
        cond.notify()
        log("main", "notify(1)", state(cond))
        await hold(2)
    await steps(log, 4, cond)
    async with cond:
        cond.notify(2)
        log("main", "notify(2)", state(cond))
    await steps(log, 8, cond)
    async with cond:
        cond.notify(5)
    await steps(log, 4, cond)


@scenario()
async def condition_notify_all(p: Any, log: Log) -> None:
    cond = p.Condition()
    for i in range(3):
        spawn(f"w{i}", _cond_waiter(p, log, f"w{i}", cond))
    await steps(log, 2, cond)
    async with cond:
        cond.notify_all()
        log("main", "notify_all", state(cond))
    await steps(log, 10, cond)


@scenario()
async def condition_wait_for(p: Any, log: Log) -> None:
    cond = p.Condition()
    box = [0]

    async def waiter(name: str, threshold: int) -> None:
        async with cond:
            value = await cond.wait_for(lambda: box[0] >= threshold and box[0])
            log(name, "predicate true", value, state(cond))

    for i, threshold in enumerate((2, 1, 3)):
        spawn(f"w{i}", waiter(f"w{i}", threshold))
    await steps(log, 2, cond)
    for _ in range(3):
        async with cond:
            box[0] += 1
            cond.notify_all()
            log("main", "bump", box[0], state(cond))
        await steps(log, 4, cond)


@scenario()
async def condition_cancel_after_notify(p: Any, log: Log) -> None:
    cond = p.Condition()
    tasks = [spawn(f"w{i}", _cond_waiter(p, log, f"w{i}", cond)) for i in range(3)]
    await steps(log, 2, cond)
    async with cond:
        cond.notify(1)
        tasks[0].cancel()  # notified, not resumed: the notification must pass on
        log("main", "notify(1)+cancel w0", state(cond))
    await steps(log, 10, cond)
    log("main", "end", state(cond), [t.cancelled() for t in tasks], [t.done() for t in tasks])
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@scenario()
async def condition_cancel_while_reacquiring(p: Any, log: Log) -> None:
    lock = p.Lock()
    cond = p.Condition(lock)
    tasks = [spawn(f"w{i}", _cond_waiter(p, log, f"w{i}", cond)) for i in range(2)]
    await steps(log, 2, cond, lock)
    await lock.acquire()
    cond.notify_all()
    await steps(log, 2, cond, lock)
    tasks[0].cancel()  # w0 is woken and now waits for the lock
    log("main", "cancel w0 while it re-acquires", state(cond))
    await steps(log, 2, cond, lock)
    lock.release()
    await steps(log, 8, cond, lock)
    log("main", "end", [t.cancelled() for t in tasks], state(lock))


# ------------------------------------------------------------------------ Event


@scenario()
async def event_set_clear(p: Any, log: Log) -> None:
    event = p.Event()

    async def waiter(name: str) -> None:
        log(name, "wait", event.is_set())
        try:
            log(name, "woke", await event.wait(), event.is_set())
        except asyncio.CancelledError:
            log(name, "cancelled")

    tasks = [spawn(f"w{i}", waiter(f"w{i}")) for i in range(3)]
    await steps(log, 2, event)
    tasks[1].cancel()
    event.set()
    event.clear()
    log("main", "set+clear", state(event))
    spawn("late", waiter("late"))
    await steps(log, 4, event)
    event.set()
    await steps(log, 3, event)


# ------------------------------------------------------------------------ Queue


async def _consumer(p: Any, log: Log, name: str, q: Any, count: int, pause: int) -> None:
    for _ in range(count):
        try:
            item = await q.get()
        except asyncio.CancelledError:
            log(name, "cancelled", state(q))
            raise
        except Exception as exc:
            log(name, type(exc).__name__, state(q))
            return
        log(name, "got", item, q.qsize(), state(q))
        q.task_done()
        await hold(pause)


async def _producer(p: Any, log: Log, name: str, q: Any, items: list[Any], pause: int) -> None:
    for item in items:
        try:
            await q.put(item)
        except asyncio.CancelledError:
            log(name, "cancelled", state(q))
            raise
        except Exception as exc:
            log(name, type(exc).__name__, state(q))
            return
        log(name, "put", item, q.qsize(), q.full(), state(q))
        await hold(pause)


@scenario()
async def queue_unbounded(p: Any, log: Log) -> None:
    q = p.Queue()
    spawn("c0", _consumer(p, log, "c0", q, 3, 1))
    spawn("c1", _consumer(p, log, "c1", q, 3, 0))
    await steps(log, 2, q)
    spawn("p0", _producer(p, log, "p0", q, list(range(6)), 1))
    await steps(log, 14, q)


@scenario()
async def queue_bounded(p: Any, log: Log) -> None:
    q = p.Queue(2)
    spawn("p0", _producer(p, log, "p0", q, ["a0", "a1", "a2", "a3"], 0))
    spawn("p1", _producer(p, log, "p1", q, ["b0", "b1", "b2"], 0))
    await steps(log, 3, q)
    spawn("c0", _consumer(p, log, "c0", q, 7, 1))
    await steps(log, 20, q)


@scenario()
async def queue_blocking_both_ways(p: Any, log: Log) -> None:
    q = p.Queue(1)
    for i in range(3):
        spawn(f"g{i}", _consumer(p, log, f"g{i}", q, 2, 0))
    await steps(log, 1, q)
    for i in range(3):
        spawn(f"p{i}", _producer(p, log, f"p{i}", q, [f"p{i}.{j}" for j in range(2)], 0))
    await steps(log, 16, q)


@scenario()
async def priority_queue(p: Any, log: Log) -> None:
    q = p.PriorityQueue(3)
    spawn("g0", _consumer(p, log, "g0", q, 1, 0))
    await steps(log, 1, q)
    spawn("p0", _producer(p, log, "p0", q, [5, 1, 4, 2, 3, 0], 0))
    await steps(log, 3, q)
    spawn("c0", _consumer(p, log, "c0", q, 5, 1))
    await steps(log, 14, q)


@scenario()
async def lifo_queue(p: Any, log: Log) -> None:
    q = p.LifoQueue(2)
    spawn("p0", _producer(p, log, "p0", q, list(range(5)), 0))
    await steps(log, 2, q)
    spawn("c0", _consumer(p, log, "c0", q, 5, 1))
    await steps(log, 12, q)


@scenario()
async def queue_getter_cancel_after_put(p: Any, log: Log) -> None:
    q = p.Queue()
    tasks = [spawn(f"g{i}", _consumer(p, log, f"g{i}", q, 1, 0)) for i in range(3)]
    await steps(log, 2, q)
    q.put_nowait("x")
    tasks[0].cancel()  # woken by the put, cancelled before taking the item
    log("main", "put+cancel g0", state(q))
    await steps(log, 4, q)
    q.put_nowait("y")
    await steps(log, 4, q)
    log("main", "end", state(q), [t.cancelled() for t in tasks])


@scenario()
async def queue_putter_cancel_after_get(p: Any, log: Log) -> None:
    q = p.Queue(1)
    q.put_nowait("first")
    tasks = [spawn(f"p{i}", _producer(p, log, f"p{i}", q, [f"p{i}"], 0)) for i in range(3)]
    await steps(log, 2, q)
    log("main", "get", q.get_nowait())
    tasks[0].cancel()  # handed the free slot, cancelled before using it
    await steps(log, 4, q)
    log("main", "get", q.get_nowait())
    await steps(log, 4, q)
    log("main", "end", state(q), [t.cancelled() for t in tasks])


@scenario()
async def queue_join(p: Any, log: Log) -> None:
    q = p.Queue()

    async def joiner(name: str) -> None:
        log(name, "join", state(q))
        await q.join()
        log(name, "joined", state(q))

    spawn("j0", joiner("j0"))
    await steps(log, 1, q)
    for i in range(3):
        q.put_nowait(i)
    spawn("j1", joiner("j1"))
    spawn("c0", _consumer(p, log, "c0", q, 3, 1))
    await steps(log, 10, q)
    try:
        q.task_done()
    except ValueError as exc:
        log("main", "ValueError", str(exc))


@scenario("QueueShutDown")
async def queue_shutdown(p: Any, log: Log) -> None:
    q = p.Queue(2)
    q.put_nowait(1)
    q.put_nowait(2)
    spawn("p0", _producer(p, log, "p0", q, [3], 0))
    spawn("p1", _producer(p, log, "p1", q, [4], 0))
    await steps(log, 2, q)
    q.shutdown()
    log("main", "shutdown", state(q))
    spawn("c0", _consumer(p, log, "c0", q, 4, 0))
    await steps(log, 6, q)
    empty = p.Queue()
    spawn("g0", _consumer(p, log, "g0", empty, 1, 0))
    spawn("g1", _consumer(p, log, "g1", empty, 1, 0))
    await steps(log, 2, empty)
    empty.shutdown()
    await steps(log, 3, empty)


@scenario("QueueShutDown")
async def queue_shutdown_immediate(p: Any, log: Log) -> None:
    q = p.Queue(3)
    for i in range(3):
        q.put_nowait(i)
    log("main", "got", q.get_nowait())
    q.put_nowait(3)

    async def joiner() -> None:
        await q.join()
        log("j0", "joined", state(q))

    spawn("j0", joiner())
    spawn("p0", _producer(p, log, "p0", q, [9], 0))
    await steps(log, 2, q)
    q.shutdown(immediate=True)
    log("main", "shutdown(immediate)", state(q))
    spawn("g0", _consumer(p, log, "g0", q, 1, 0))
    await steps(log, 4, q)
    q.task_done()
    log("main", "task_done", state(q))
    await steps(log, 2, q)
    try:
        q.task_done()
    except ValueError:
        log("main", "ValueError")


# ---------------------------------------------------------------------- Barrier


async def _barrier_user(p: Any, log: Log, name: str, barrier: Any, rounds: int) -> None:
    for _ in range(rounds):
        try:
            index = await barrier.wait()
        except p.BrokenBarrierError:
            log(name, "broken", state(barrier))
            return
        except asyncio.CancelledError:
            log(name, "cancelled", state(barrier))
            raise
        log(name, "passed", index, state(barrier))
        await hold(1)


@scenario("Barrier")
async def barrier_rounds(p: Any, log: Log) -> None:
    barrier = p.Barrier(3)
    for i in range(4):
        spawn(f"t{i}", _barrier_user(p, log, f"t{i}", barrier, 2 if i < 2 else 1))
    await steps(log, 3, barrier)
    spawn("t4", _barrier_user(p, log, "t4", barrier, 1))
    await steps(log, 14, barrier)


@scenario("Barrier")
async def barrier_abort_and_reset(p: Any, log: Log) -> None:
    barrier = p.Barrier(3)
    for i in range(2):
        spawn(f"t{i}", _barrier_user(p, log, f"t{i}", barrier, 1))
    await steps(log, 2, barrier)
    await barrier.reset()
    log("main", "reset", state(barrier))
    await steps(log, 6, barrier)
    for i in range(2, 4):
        spawn(f"t{i}", _barrier_user(p, log, f"t{i}", barrier, 1))
    await steps(log, 2, barrier)
    await barrier.abort()
    log("main", "abort", state(barrier), barrier.broken)
    await steps(log, 6, barrier)
    await _barrier_user(p, log, "main", barrier, 1)


@scenario("Barrier")
async def barrier_cancel_waiter(p: Any, log: Log) -> None:
    barrier = p.Barrier(2)
    t0 = spawn("t0", _barrier_user(p, log, "t0", barrier, 1))
    await steps(log, 2, barrier)
    t0.cancel()
    await steps(log, 3, barrier)
    spawn("t1", _barrier_user(p, log, "t1", barrier, 1))
    spawn("t2", _barrier_user(p, log, "t2", barrier, 1))
    await steps(log, 8, barrier)


# --------------------------------------------------------------------- timeouts
# Real time with wide margins: the holder keeps the primitive for HOLD seconds,
# the timed-out waiter gives up after SHORT; no step snapshots are taken while
# time passes (the number of idle loop iterations is not deterministic).  SHORT
# must also outlast the few loop steps a scenario takes to queue its patient
# waiters behind the timed ones: at 0.01 s a stall of the (shared, 2-core) CI
# machine once let the timeouts fire first.

SHORT = 0.05
HOLD = 0.25


async def _timed(
    log: Log, name: str, how: str, awaitable_factory: Callable[[], Awaitable[Any]]
) -> None:
    try:
        if how == "wait_for":
            await asyncio.wait_for(awaitable_factory(), SHORT)
        else:
            async with asyncio.timeout(SHORT):  # type: ignore[attr-defined]
                await awaitable_factory()
    except (asyncio.TimeoutError, TimeoutError):
        log(name, "timed out")
    else:
        log(name, "completed")


async def _timeout_scenario(p: Any, log: Log, how: str) -> None:
    lock = p.Lock()
    sem = p.Semaphore(1)
    cond = p.Condition()
    event = p.Event()
    q = p.Queue(1)
    q.put_nowait("full")
    empty = p.Queue()
    await lock.acquire()
    await sem.acquire()

    async def cond_wait() -> None:
        async with cond:
            try:
                await cond.wait()
            finally:
                log("cw", "lock held after wait", cond.locked())

    tasks = [
        spawn("lw", _timed(log, "lw", how, lock.acquire)),
        spawn("sw", _timed(log, "sw", how, sem.acquire)),
        spawn("cw", _timed(log, "cw", how, cond_wait)),
        spawn("ew", _timed(log, "ew", how, event.wait)),
        spawn("pw", _timed(log, "pw", how, lambda: q.put("x"))),
        spawn("gw", _timed(log, "gw", how, empty.get)),
    ]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    # Patient waiters queue behind the ones that will time out.
    patient = [
        spawn("lp", _locker(p, log, "lp", lock, 0)),
        spawn("sp", _sem_user(p, log, "sp", sem, 0)),
    ]
    await asyncio.gather(*tasks)
    log(
        "main",
        "after timeouts",
        state(lock),
        state(sem),
        state(cond),
        state(event),
        state(q),
        state(empty),
    )
    lock.release()
    sem.release()
    await asyncio.gather(*patient)
    log("main", "end", state(lock), state(sem), state(q), state(empty))


@scenario(uses_wait_for=True)
async def timeouts_wait_for(p: Any, log: Log) -> None:
    await _timeout_scenario(p, log, "wait_for")


@scenario(min_python=(3, 11))
async def timeouts_timeout_context(p: Any, log: Log) -> None:
    await _timeout_scenario(p, log, "timeout")


@scenario(uses_wait_for=True)
async def timeout_waiter_leaves_queue(p: Any, log: Log) -> None:
    """A waiter that timed out is gone from the queue: the next one gets the lock."""
    lock = p.Lock()
    await lock.acquire()
    waiter = spawn("lw", _timed(log, "lw", "wait_for", lock.acquire))
    spawn("lp", _locker(p, log, "lp", lock, 0))
    await asyncio.sleep(HOLD)
    log("main", "after timeout", state(lock))
    lock.release()
    await steps(log, 4, lock)
    await waiter


# ------------------------------------------------------ cost of cancelling waiters


class CountingFuture(asyncio.Future):  # type: ignore[type-arg]
    """A future that counts the work done on it: equality comparisons (what
    ``deque.remove`` pays per element it passes) and ``done()``/``cancelled()``
    probes (what a wake-up scan pays per waiter it looks at)."""

    work = 0

    def __eq__(self, other: object) -> bool:
        CountingFuture.work += 1
        return self is other

    __hash__ = asyncio.Future.__hash__

    def done(self) -> bool:
        CountingFuture.work += 1
        return super().done()

    def cancelled(self) -> bool:
        CountingFuture.work += 1
        return super().cancelled()


class _CountingLoop(asyncio.SelectorEventLoop):
    def create_future(self) -> asyncio.Future[Any]:
        return CountingFuture(loop=self)


def _blocker(p: Any, kind: str) -> tuple[Any, Callable[[], Awaitable[Any]]]:
    """A primitive on which every call of the returned factory blocks."""
    if kind == "Lock":
        lock = p.Lock()
        return lock, lock.acquire
    if kind == "Semaphore":
        sem = p.Semaphore(0)
        return sem, sem.acquire
    if kind == "Event":
        event = p.Event()
        return event, event.wait
    if kind == "Condition":
        cond = p.Condition()

        async def wait() -> None:
            async with cond:
                await cond.wait()

        return cond, wait
    if kind == "Queue.get":
        q = p.Queue()
        return q, q.get
    if kind == "Queue.put":
        q = p.Queue(1)
        q.put_nowait(0)
        return q, lambda: q.put(1)
    if kind == "Barrier":
        barrier = p.Barrier(1_000_000)
        return barrier, barrier.wait
    raise ValueError(kind)


def cancellation_work(p: Any, kind: str, n: int) -> int:
    """Work spent when ``n`` waiters on one primitive are cancelled newest-first.

    Counts comparisons and done/cancelled probes on the waiters' futures, from
    the cancellations until every waiter has finished; no clock involved.
    """

    async def main() -> int:
        prim, block = _blocker(p, kind)
        if kind == "Lock":
            await prim.acquire()
        tasks = [asyncio.create_task(block()) for _ in range(n)]  # type: ignore[arg-type]
        for _ in range(3):
            await asyncio.sleep(0)
        CountingFuture.work = 0
        for task in reversed(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert all(task.cancelled() for task in tasks)
        return CountingFuture.work

    loop = _CountingLoop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()
