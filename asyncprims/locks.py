"""Lock, Event and Condition (Semaphore and BoundedSemaphore live in ``semaphores``
and are re-exported here, where asyncio keeps them).

Each class reproduces the behaviour of CPython 3.13's ``asyncio.locks`` on
every Python from 3.10: the same fast paths (which never touch the event loop),
the same wake-up order and step counts (a woken task resumes exactly one loop
iteration after it is woken), the same errors and reprs, and 3.13's
cancellation fixes.  What differs is underneath: every class queues its
waiters in a :class:`~asyncprims._waiters.WaiterQueue`, so a cancelled waiter
leaves in O(1), and, while a trace is active, reports what it does.

The recorder is looked up once per call, and only while some ``trace()`` block
runs (``current_recorder() if tracing else None``): a global list tested for
emptiness is the whole cost of tracing when no trace is active.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from ._base import (
    ACQUIRE_CODES,
    CHEAP_RUNNING_LOOP,
    WAIT_FOR_USES_INNER_TASK,
    Primitive,
    _CancelledError,
    _checked_name,
    _ContextManagerMixin,
    _ref,
    _tasks_get,
    current_task,
    holder_task,
    running_task,
)
from ._waiters import ABSENT, WaiterQueue
from .semaphores import BoundedSemaphore, Semaphore, SemaphoreStatistics
from .statistics import ConditionStatistics, EventStatistics, LockStatistics
from .tracing import current_recorder, tracing

__all__ = [
    "BoundedSemaphore",
    "Condition",
    "ConditionStatistics",
    "Event",
    "EventStatistics",
    "Lock",
    "LockStatistics",
    "Semaphore",
    "SemaphoreStatistics",
]

_T = TypeVar("_T")


class Lock(_ContextManagerMixin, Primitive):
    """A mutual-exclusion lock with FIFO hand-off, as ``asyncio.Lock``.

    Invariants: at most one task holds the lock; a release wakes at most the
    oldest waiter, and a newcomer never overtakes a waiter that is queued and
    not cancelled.  A waiter cancelled after being woken passes the wake-up on.

    ``_waiters`` is None until the first blocking call, as in asyncio (the
    uncontended paths then test one attribute), and a WaiterQueue after.

    The owner (``statistics().owner``) is the task that acquired, or, for
    ``wait_for(lock.acquire(), t)`` on 3.10/3.11, the task awaiting ``wait_for``.
    ``_owner`` refers to it weakly (asyncio keeps no owner), so a task that
    finishes without releasing is not kept alive: the lock stays locked, with
    no owner to name once the task is gone.  ``_owner`` keeps the last owner's
    weak reference after a release (a task that takes the lock again reuses
    it); only ``_locked`` says whether the lock is held.

    ``async with`` runs ``acquire()`` and ``release()`` through the instance,
    as asyncio does, except that ``__aenter__`` runs acquire's uncontended path
    inline when ``acquire`` is neither overridden, nor patched on the class,
    nor set on the instance (see ``__aenter__``).
    """

    # Slots for what the hot paths touch.  The instance __dict__ (from Primitive)
    # is kept in _attributes so that __aenter__ sees an acquire set on the
    # instance (a patch) with one dict lookup.
    __slots__ = ("_attributes", "_locked", "_owner", "_waiters")

    def __init__(self, *, name: str | None = None) -> None:
        self._waiters: WaiterQueue | None = None
        self._locked = False
        self._owner: weakref.ref[asyncio.Task[Any]] | None = None
        self._name = _checked_name(name)
        self._attributes = self.__dict__

    def __repr__(self) -> str:
        extra = "locked" if self._locked else "unlocked"
        if self._waiters:
            extra = f"{extra}, waiters:{len(self._waiters)}"
        return self._repr_with(extra)

    def locked(self) -> bool:
        """True if the lock is held."""
        return self._locked

    def statistics(self) -> LockStatistics:
        owner = self._owner
        return LockStatistics(
            self._locked,
            owner() if owner is not None and self._locked else None,
            len(self._waiters or ()),
        )

    async def __aenter__(self) -> None:
        # acquire()'s uncontended path, inline: it saves creating and running the
        # acquire() coroutine (python benchmarks/hotpaths.py --only uncontended).
        # Only while acquire is Lock.acquire on the class and not set on the
        # instance, so an override, a mixin, a mock patch or an instance patch
        # always runs, as in asyncio.
        if (
            not self._locked
            and self._waiters is None
            and type(self).acquire is _ACQUIRE
            and "acquire" not in self._attributes
        ):
            self._locked = True
            if CHEAP_RUNNING_LOOP:
                try:
                    task = current_task()
                except RuntimeError:  # no running loop: a coroutine driven by hand
                    task = None
            else:
                task = running_task()
            if task is None:
                self._owner = None
            else:
                ref = self._owner
                if ref is None or ref() is not task:
                    self._owner = _ref(task)
            if tracing:
                rec = current_recorder()
                if rec is not None:
                    rec.acquired(self, task)
            return
        await self.acquire()

    async def acquire(self) -> Literal[True]:
        """Wait until the lock is free and no earlier waiter is queued, then take it."""
        waiters = self._waiters
        if not self._locked and (
            waiters is None
            or (not waiters._pending and not waiters._settled)
            or waiters.all_cancelled()
        ):
            self._locked = True
            if CHEAP_RUNNING_LOOP:
                try:
                    task = current_task()
                except RuntimeError:  # no running loop: a coroutine driven by hand
                    task = None
            else:
                task = holder_task(running_task())
            if task is None:
                self._owner = None
            else:
                ref = self._owner
                if ref is None or ref() is not task:
                    self._owner = _ref(task)
            if tracing:
                rec = current_recorder()
                if rec is not None:
                    rec.acquired(self, task)
            return True

        if waiters is None:
            waiters = self._waiters = WaiterQueue()
        rec = current_recorder() if tracing else None
        fut = self._enqueue_waiter(waiters, rec, "acquire")
        try:
            try:
                await fut
            finally:  # waiters.remove(fut), inline: saves a call per blocking acquire
                if waiters._settled.pop(fut, ABSENT) is ABSENT:
                    waiters._pending.pop(fut, None)
        except _CancelledError:
            if rec is not None:
                rec.interrupt(self, fut)
            if not self._locked:
                woken = self._wake_up_first()
                if woken is not None and rec is not None:
                    rec.wake(self, woken, "pass-on")
            raise

        self._locked = True
        # Woken by a future of the lock's loop, so that loop is the running one.
        current = task = _tasks_get(self._loop)
        if WAIT_FOR_USES_INNER_TASK:
            task = holder_task(task)
        self._owner = None if task is None else _ref(task)
        if rec is not None:
            if task is current:
                rec.resume(self, fut, acquired=True, task=task)
            else:  # wait_for's inner task waited; its caller holds the lock
                rec.resume(self, fut, task=current)
                rec.acquired(self, task)
        return True

    def release(self) -> None:
        """Free the lock and wake the oldest waiter; RuntimeError if not held."""
        if not self._locked:
            raise RuntimeError("Lock is not acquired.")
        self._locked = False
        waiters = self._waiters
        fut = (
            self._wake_up_first()
            if waiters is not None and waiters._pending and not waiters._settled
            else None
        )
        if tracing:
            rec = current_recorder()
            if rec is not None:
                rec.released(self, fut)

    def _wake_up_first(self) -> Any:
        """Wake the oldest waiter, unless it was woken already or cancelled (then
        nobody: exactly one task proceeds).

        CPython's hook, with its signature.  Returns the future it completed
        (None if none) where CPython returns None.  ``release()`` calls it
        whenever a waiter may need waking (CPython calls it on every release).
        """
        # WaiterQueue.wake_first(True), inline: saves a call per hand-off.
        waiters = self._waiters
        if waiters is None or waiters._settled or not waiters._pending:
            return None
        fut = waiters._pending.popitem(last=False)[0]
        waiters._settled[fut] = None
        if fut.done():  # cancelled, its task not run yet: it will pass the wake-up on
            return None
        fut.set_result(True)
        return fut


class Event(Primitive):
    """A flag tasks can wait for, as ``asyncio.Event``."""

    def __init__(self, *, name: str | None = None) -> None:
        self._waiters = WaiterQueue()
        self._value = False
        self._name = _checked_name(name)

    def __repr__(self) -> str:
        extra = "set" if self._value else "unset"
        if self._waiters:
            extra = f"{extra}, waiters:{len(self._waiters)}"
        return self._repr_with(extra)

    def is_set(self) -> bool:
        return self._value

    def statistics(self) -> EventStatistics:
        return EventStatistics(self._value, len(self._waiters))

    def set(self) -> None:
        """Set the flag and wake every waiter; later waits return at once."""
        self._set("set")

    def _set(self, how: str) -> None:
        """``set()``, with the wake-ups recorded as caused by ``how`` (an owner's operation)."""
        if self._value:
            return
        self._value = True
        rec = current_recorder() if tracing else None
        if rec is not None:
            rec.instant(self, "set")
        if self._waiters:
            woken = self._waiters.wake_all(True)
            if rec is not None:
                rec.wake_many(self, woken, how)

    def clear(self) -> None:
        """Reset the flag; tasks that wait from now on block until the next set()."""
        self._value = False
        rec = current_recorder() if tracing else None
        if rec is not None:
            rec.instant(self, "clear")

    async def wait(self) -> Literal[True]:
        """Return True once the flag is set (at once if it is set already)."""
        if self._value:
            return True
        rec = current_recorder() if tracing else None
        waiters = self._waiters
        fut = self._enqueue_waiter(waiters, rec, "wait")
        try:
            await fut
        except BaseException:
            if rec is not None:
                rec.interrupt(self, fut)
            raise
        finally:  # waiters.remove(fut), inline: saves a call per waiter
            if waiters._settled.pop(fut, ABSENT) is ABSENT:
                waiters._pending.pop(fut, None)
        if rec is not None:
            rec.resume(self, fut, task=_tasks_get(self._loop))
        return True


class Condition(_ContextManagerMixin, Primitive):
    """A condition variable over a lock, as ``asyncio.Condition``.

    A notify wakes waiters in FIFO order; a woken waiter returns from
    ``wait()`` only once it holds the lock again.  If ``wait()`` ends with an
    exception after the task was notified (it was cancelled while re-acquiring,
    for instance), the notification passes to the next waiter, so none is lost;
    the cost is a possible spurious wake-up, which condition variables allow.
    """

    def __init__(self, lock: Lock | None = None, *, name: str | None = None) -> None:
        if lock is None:
            lock = Lock()
            lock._trace_owner = self
        self._lock = lock
        self.locked = lock.locked
        self.acquire = lock.acquire
        self.release = lock.release
        self._waiters = WaiterQueue()
        self._name = _checked_name(name)

    def __repr__(self) -> str:
        extra = "locked" if self.locked() else "unlocked"
        if self._waiters:
            extra = f"{extra}, waiters:{len(self._waiters)}"
        return self._repr_with(extra)

    def statistics(self) -> ConditionStatistics:
        return ConditionStatistics(len(self._waiters), self._lock.statistics())

    async def wait(self) -> Literal[True]:
        """Release the lock, sleep until notified, re-acquire the lock, return True.

        RuntimeError if the lock is not held.  The lock is always re-acquired,
        even when the wait is cancelled; the cancellation is re-raised after.
        """
        if not self.locked():
            raise RuntimeError("cannot wait on un-acquired lock")
        rec = current_recorder() if tracing else None
        loop = self._get_loop()
        fut = loop.create_future()
        self.release()
        try:
            try:
                self._waiters.append(fut)
                if rec is not None:
                    rec.wait(self, fut, "wait", _tasks_get(loop))
                try:
                    await fut
                except BaseException:
                    if rec is not None:
                        rec.interrupt(self, fut)
                    raise
                finally:  # self._waiters.remove(fut), inline: saves a call per waiter
                    if self._waiters._settled.pop(fut, ABSENT) is ABSENT:
                        self._waiters._pending.pop(fut, None)
                if rec is not None:
                    rec.resume(self, fut, task=_tasks_get(self._loop))
                return True
            finally:
                # Take the lock back, absorbing cancellations until it is held,
                # then re-raise the last one received (inline: a helper coroutine
                # would cost every waiter a frame).
                error: BaseException | None = None
                while True:
                    try:
                        await self.acquire()
                        break
                    except _CancelledError as exc:
                        error = exc
                if error is not None:
                    try:
                        raise error
                    finally:
                        error = None
        except BaseException:
            self._notify(1, "pass-on")
            raise

    async def wait_for(self, predicate: Callable[[], _T]) -> _T:
        """``wait()`` until ``predicate()`` is true; return its last value."""
        result = predicate()
        while not result:
            await self.wait()
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        """Wake up to ``n`` waiters (oldest first); RuntimeError if the lock is not held.

        ``n`` is compared as asyncio compares it (``woken >= n`` before each
        queued waiter), so ``notify(None)`` with nobody waiting is a no-op, as
        in asyncio, and a TypeError once a waiter is queued.
        """
        if not self.locked():
            raise RuntimeError("cannot notify on un-acquired lock")
        self._notify(n)

    def notify_all(self) -> None:
        """Wake every waiter; RuntimeError if the lock is not held."""
        self.notify(len(self._waiters))

    def _notify(self, n: int, how: str = "notify") -> None:
        waiters = self._waiters
        # asyncio tests ``woken >= n`` before each queued waiter: n is never
        # compared when nobody waits, and the first comparison is ``0 >= n``.
        if not waiters or 0 >= n:  # noqa: SIM300 - asyncio's order, asyncio's TypeError
            woken: list[Any] = []
        elif n >= len(waiters):  # notify_all(), or n covering everyone: one pass
            woken = waiters.wake_all(False)
        else:
            woken = []
            while len(woken) < n:
                fut = waiters.wake_next(False)
                if fut is None:
                    break
                woken.append(fut)
        rec = current_recorder() if tracing else None
        if rec is not None:
            if how == "notify":
                rec.instant(self, "notify", f"n={n}", value=len(woken))
            rec.wake_many(self, woken, how)


_ACQUIRE = Lock.acquire
ACQUIRE_CODES.add(_ACQUIRE.__code__)
