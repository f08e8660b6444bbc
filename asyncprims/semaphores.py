"""Semaphore and BoundedSemaphore, as CPython 3.13's ``asyncio`` has them.

See :mod:`asyncprims.locks` for what all primitives share.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, Literal

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
from .statistics import SemaphoreStatistics
from .tracing import current_recorder, tracing

__all__ = ["BoundedSemaphore", "Semaphore", "SemaphoreStatistics"]


class Semaphore(_ContextManagerMixin, Primitive):
    """A counting semaphore, as ``asyncio.Semaphore`` in 3.13.

    Invariants: ``_value`` counts free permits, never below zero; a release
    hands its permit straight to the oldest live waiter (``_value`` is
    decremented at the wake-up), and while a live waiter is queued ``locked()``
    is true, so newcomers cannot jump the queue.  A waiter cancelled after
    being handed a permit gives it back and the next waiter gets it.

    Holders are counted per task (``wait_for``'s caller for its inner task on
    3.10/3.11) in ``_holders``, keyed by weak references (asyncio keeps none),
    so a task that finishes without releasing is not kept alive: its permit
    stays taken, and ``statistics().holders`` stops naming it once it is gone.

    ``async with`` calls ``acquire()`` and ``release()`` through the instance,
    and ``acquire()`` asks ``locked()``, as asyncio does, so overrides, mixins
    and patches always run.
    """

    def __init__(self, value: int = 1, *, name: str | None = None) -> None:
        if value < 0:
            raise ValueError("Semaphore initial value must be >= 0")
        self._waiters = WaiterQueue()
        self._value = value
        self._holders: dict[weakref.ref[asyncio.Task[Any]] | None, int] = {}
        self._name = _checked_name(name)

    def __repr__(self) -> str:
        extra = "locked" if self.locked() else f"unlocked, value:{self._value}"
        if self._waiters:
            extra = f"{extra}, waiters:{len(self._waiters)}"
        return self._repr_with(extra)

    def locked(self) -> bool:
        """True if acquire() would block now (no permit, or live waiters ahead)."""
        if self._value == 0:
            return True
        waiters = self._waiters
        if not waiters._pending and not waiters._settled:
            return False
        return not waiters.all_cancelled()

    def statistics(self) -> SemaphoreStatistics:
        holders = tuple(
            task for ref in self._holders if ref is not None and (task := ref()) is not None
        )
        return SemaphoreStatistics(self._value, len(self._waiters), holders)

    async def acquire(self) -> Literal[True]:
        """Take a permit, waiting in FIFO order if none is free."""
        if not self.locked():
            self._value -= 1
            if CHEAP_RUNNING_LOOP:
                try:
                    task = current_task()
                except RuntimeError:  # no running loop: a coroutine driven by hand
                    task = None
            else:
                task = holder_task(running_task())
            holders = self._holders
            ref = None if task is None else _ref(task)
            holders[ref] = holders.get(ref, 0) + 1
            if tracing:
                rec = current_recorder()
                if rec is not None:
                    rec.acquired(self, task)
            return True

        rec = current_recorder() if tracing else None
        waiters = self._waiters
        fut = self._enqueue_waiter(waiters, rec, "acquire")
        try:
            try:
                await fut
            finally:  # waiters.remove(fut), inline: saves a call per blocking acquire
                if waiters._settled.pop(fut, ABSENT) is ABSENT:
                    waiters._pending.pop(fut, None)
        except _CancelledError:
            if fut.done() and not fut.cancelled():
                # A permit was handed to us but we will not use it: give it back.
                self._value += 1
            if rec is not None:
                rec.interrupt(self, fut)
            raise
        finally:
            # Permits freed meanwhile may be waiting for queued tasks.
            while self._value > 0:
                woken = self._wake_up_next()
                if not woken:
                    break
                if rec is not None:
                    rec.wake(self, woken, "pass-on")
        # Woken by its future: the bound loop is the running one.
        current = task = _tasks_get(self._loop)
        if WAIT_FOR_USES_INNER_TASK:
            task = holder_task(task)
        holders = self._holders
        ref = None if task is None else _ref(task)
        holders[ref] = holders.get(ref, 0) + 1
        if rec is not None:
            if task is current:
                rec.resume(self, fut, acquired=True, task=task)
            else:  # wait_for's inner task waited; its caller holds the permit
                rec.resume(self, fut, task=current)
                rec.acquired(self, task)
        return True

    def release(self) -> None:
        """Return a permit; the oldest live waiter gets it."""
        self._value += 1
        holders = self._holders
        if holders:
            # The releasing task's own permit, else the oldest holder's.  With a
            # single holder both rules agree, and the task lookup is skipped.
            if len(holders) == 1:
                ref = next(iter(holders))
            else:
                task = running_task()
                ref = None if task is None else _ref(task)
                if ref not in holders:
                    ref = next(iter(holders))
            left = holders[ref] - 1
            if left:
                holders[ref] = left
            else:
                del holders[ref]
        fut = self._wake_up_next() if self._waiters._pending else None
        if tracing:
            rec = current_recorder()
            if rec is not None:
                rec.released(self, fut)

    def _wake_up_next(self) -> Any:
        """Hand a permit to the oldest live waiter.

        CPython's hook, with its signature.  Returns the future it completed
        (None if none) where CPython returns True (False).  ``release()`` calls
        it when a waiter is queued (CPython calls it on every release).
        """
        # WaiterQueue.wake_next(True), inline: saves a call per wake-up.
        waiters = self._waiters
        pending = waiters._pending
        settled = waiters._settled
        while pending:
            fut = pending.popitem(last=False)[0]
            settled[fut] = None
            if not fut.done():
                self._value -= 1
                fut.set_result(True)
                return fut
        return None


class BoundedSemaphore(Semaphore):
    """A Semaphore whose release() raises ValueError above the initial value."""

    def __init__(self, value: int = 1, *, name: str | None = None) -> None:
        self._bound_value = value
        super().__init__(value, name=name)

    def release(self) -> None:
        if self._value >= self._bound_value:
            raise ValueError("BoundedSemaphore released too many times")
        super().release()


ACQUIRE_CODES.add(Semaphore.acquire.__code__)
