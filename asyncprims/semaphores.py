"""Semaphore and BoundedSemaphore, as CPython 3.13's ``asyncio`` has them.

See :mod:`asyncprims.locks` for what all primitives share.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from ._base import (
    WAIT_FOR_USES_INNER_TASK,
    Primitive,
    _CancelledError,
    _checked_name,
    _ContextManagerMixin,
    _get_running_loop,
    _tasks_get,
    _wait_for_caller,
)
from ._waiters import WaiterQueue
from .statistics import SemaphoreStatistics
from .tracing import current_recorder

__all__ = ["BoundedSemaphore", "Semaphore", "SemaphoreStatistics"]


class Semaphore(_ContextManagerMixin, Primitive):
    """A counting semaphore, as ``asyncio.Semaphore`` in 3.13.

    Invariants: ``_value`` counts free permits, never below zero; a release
    hands its permit straight to the oldest live waiter (``_value`` is
    decremented at the wake-up), and while a live waiter is queued ``locked()``
    is true, so newcomers cannot jump the queue.  A waiter cancelled after
    being handed a permit gives it back and the next waiter gets it.  Holders
    are counted per task, ``wait_for``'s caller for its inner task (3.10/3.11).
    """

    def __init__(self, value: int = 1, *, name: str | None = None) -> None:
        if value < 0:
            raise ValueError("Semaphore initial value must be >= 0")
        self._waiters = WaiterQueue()
        self._value = value
        self._holders: dict[asyncio.Task[Any] | None, int] = {}
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
        holders = tuple(task for task in self._holders if task is not None)
        return SemaphoreStatistics(self._value, len(self._waiters), holders)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # As Lock: the inlined fast path in __aenter__ must not bypass an override.
        if "acquire" in cls.__dict__ and "__aenter__" not in cls.__dict__:
            cls.__aenter__ = _ContextManagerMixin.__aenter__  # type: ignore[method-assign]

    async def __aenter__(self) -> None:
        waiters = self._waiters
        if self._value > 0 and not waiters._pending and not waiters._settled:
            self._value -= 1
            self._take_permit(_tasks_get(_get_running_loop()), current_recorder())
            return
        await self.acquire()

    async def acquire(self) -> Literal[True]:
        """Take a permit, waiting in FIFO order if none is free."""
        rec = current_recorder()
        if not self.locked():
            self._value -= 1
            task = _tasks_get(_get_running_loop())
            if WAIT_FOR_USES_INNER_TASK and task is not None:
                try:  # 3.10/3.11: is this wait_for's inner task?  (cheapest test first)
                    if task.get_coro().cr_code is _SEMAPHORE_ACQUIRE:
                        task = _wait_for_caller(task)
                except AttributeError:  # a generator-based coroutine
                    pass
            self._take_permit(task, rec)
            return True

        waiters = self._waiters
        fut = self._enqueue_waiter(waiters, rec, "acquire")
        try:
            try:
                await fut
            finally:
                waiters.remove(fut)
        except _CancelledError:
            if fut.done() and not fut.cancelled():
                # A permit was handed to us but we will not use it: give it back.
                self._value += 1
            if rec is not None:
                rec.interrupt(self, fut)
            raise
        finally:
            # Permits freed meanwhile may be waiting for queued tasks.
            while self._value > 0 and waiters._pending:
                if self._wake_up_next(rec, "pass-on") is None:
                    break
        # Woken by its future: the bound loop is the running one.
        task = current = _tasks_get(self._loop)
        if (WAIT_FOR_USES_INNER_TASK and task is not None
                and getattr(task.get_coro(), "cr_code", None) is _SEMAPHORE_ACQUIRE):
            task = _wait_for_caller(task)
        self._take_permit(task, None)
        if rec is not None:
            if task is current:
                rec.resume(self, fut, acquired=True)
            else:  # wait_for's inner task waited; its caller holds the permit
                rec.resume(self, fut)
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
                task = next(iter(holders))
            else:
                task = _tasks_get(_get_running_loop())
                if task not in holders:
                    task = next(iter(holders))
            left = holders[task] - 1
            if left:
                holders[task] = left
            else:
                del holders[task]
        fut = self._wake_up_next(None, "release") if self._waiters._pending else None
        rec = current_recorder()
        if rec is not None:
            rec.released(self, fut)

    def _take_permit(self, task: Any, rec: Any) -> None:
        """Count one permit for ``task`` (None outside a task) and, when ``rec``
        is given, record the acquisition."""
        holders = self._holders
        holders[task] = holders.get(task, 0) + 1
        if rec is not None:
            rec.acquired(self, task)

    def _wake_up_next(self, rec: Any, how: str) -> Any:
        """Hand a permit to the oldest live waiter; return its future, or None."""
        fut = self._waiters.wake_next(True)
        if fut is not None:
            self._value -= 1
            if rec is not None:
                rec.wake(self, fut, how)
        return fut


class BoundedSemaphore(Semaphore):
    """A Semaphore whose release() raises ValueError above the initial value."""

    def __init__(self, value: int = 1, *, name: str | None = None) -> None:
        self._bound_value = value
        super().__init__(value, name=name)

    def release(self) -> None:
        if self._value >= self._bound_value:
            raise ValueError("BoundedSemaphore released too many times")
        super().release()


_SEMAPHORE_ACQUIRE = Semaphore.acquire.__code__
