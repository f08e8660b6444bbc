"""Queue, PriorityQueue and LifoQueue, with ``shutdown()`` on every Python.

Behaviour is CPython 3.13's ``asyncio.queues``: a put or get that can complete
at once never touches the loop; a blocked getter is woken by the put that makes
an item available (and a blocked putter by the get that frees a slot), one at a
time, oldest first; a waiter cancelled after such a wake-up passes it on, so no
item and no free slot is ever stranded.  ``shutdown()`` makes puts fail at once
and gets fail once the queue is empty (or at once with ``immediate=True``, which
also discards the items and counts them as done for ``join()``).

The exceptions are asyncio's own where the running Python has them
(``QueueEmpty``, ``QueueFull``, and ``QueueShutDown`` from 3.13), so
``except asyncio.QueueEmpty`` still catches ours.
"""

from __future__ import annotations

import asyncio
import collections
import heapq
from types import GenericAlias
from typing import Any, Generic, TypeVar

from ._base import Primitive, _checked_name, _tasks_get
from ._waiters import WaiterQueue
from .locks import Event
from .statistics import QueueStatistics
from .tracing import current_recorder, tracing

__all__ = [
    "LifoQueue",
    "PriorityQueue",
    "Queue",
    "QueueEmpty",
    "QueueFull",
    "QueueShutDown",
    "QueueStatistics",
]

QueueEmpty = asyncio.QueueEmpty
QueueFull = asyncio.QueueFull

if hasattr(asyncio, "QueueShutDown"):
    QueueShutDown = asyncio.QueueShutDown
else:

    class QueueShutDown(Exception):  # type: ignore[no-redef]
        """A put or get was attempted on a queue that has been shut down."""

    QueueShutDown.__module__ = "asyncprims"

_T = TypeVar("_T")


class Queue(Primitive, Generic[_T]):
    """A FIFO queue for tasks, as ``asyncio.Queue``; ``maxsize <= 0`` means unbounded."""

    def __init__(self, maxsize: float = 0, *, name: str | None = None) -> None:
        self._name = _checked_name(name)  # first: the trace may label this queue during __init__
        self._maxsize = maxsize
        self._getters = WaiterQueue()
        self._putters = WaiterQueue()
        self._unfinished_tasks = 0
        self._finished = Event()
        self._finished._trace_owner = self
        self._finished._trace_operation = "join"
        self._finished.set()
        self._init(maxsize)
        self._is_shutdown = False

    # Storage hooks, overridden by the subclasses.

    def _init(self, maxsize: float) -> None:
        self._queue: Any = collections.deque()

    def _get(self) -> _T:
        return self._queue.popleft()  # type: ignore[no-any-return]

    def _put(self, item: _T) -> None:
        self._queue.append(item)

    # Presentation.

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {id(self):#x} {self._format()}>"

    def __str__(self) -> str:
        return f"<{type(self).__name__} {self._format()}>"

    __class_getitem__ = classmethod(GenericAlias)  # type: ignore[var-annotated]

    def _format(self) -> str:
        parts = [f"maxsize={self._maxsize!r}"]
        if getattr(self, "_queue", None):
            parts.append(f"_queue={list(self._queue)!r}")
        if self._getters:
            parts.append(f"_getters[{len(self._getters)}]")
        if self._putters:
            parts.append(f"_putters[{len(self._putters)}]")
        if self._unfinished_tasks:
            parts.append(f"tasks={self._unfinished_tasks}")
        if self._is_shutdown:
            parts.append("shutdown")
        return " ".join(parts)

    # State.

    def qsize(self) -> int:
        """Number of items in the queue."""
        return len(self._queue)

    @property
    def maxsize(self) -> float:
        """Number of items allowed in the queue (0 or less: no limit)."""
        return self._maxsize

    def empty(self) -> bool:
        return not self._queue

    def full(self) -> bool:
        """True if the queue holds maxsize items; never true when unbounded."""
        if self._maxsize <= 0:
            return False
        return self.qsize() >= self._maxsize

    def statistics(self) -> QueueStatistics:
        return QueueStatistics(
            self.qsize(),
            self._maxsize,
            len(self._getters),
            len(self._putters),
            self._unfinished_tasks,
            self._is_shutdown,
        )

    # Wake-ups.

    def _wakeup_next(self, waiters: Any) -> Any:
        """Wake the oldest waiter of ``waiters`` that is not done, dropping done
        ones on the way.  CPython's hook, with its signature; returns the future
        it completed (None if none) where CPython returns None.  Called only when
        ``waiters`` is not empty (CPython calls it after every put and get)."""
        if type(waiters) is WaiterQueue and not waiters._settled:
            # The usual case, without WaiterQueue's Python-level __bool__ and
            # popleft(): a queue's woken waiters leave at once, so all are pending.
            pending = waiters._pending
            while pending:
                waiter = pending.popitem(last=False)[0]
                if not waiter.done():
                    waiter.set_result(None)
                    return waiter
            return None
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return waiter
        return None

    def _pass_on(self, waiters: Any) -> None:
        """A woken waiter that will not use its wake-up gives it to the next one."""
        woken = self._wakeup_next(waiters)
        if woken is not None:
            rec = current_recorder() if tracing else None
            if rec is not None:
                rec.wake(self, woken, "pass-on")

    # Operations.

    async def put(self, item: _T) -> None:
        """Put ``item``, waiting for a free slot if the queue is full.

        QueueShutDown if the queue is (or becomes, while waiting) shut down.
        """
        while self.full():
            if self._is_shutdown:
                raise QueueShutDown
            rec = current_recorder() if tracing else None
            putter = self._enqueue_waiter(self._putters, rec, "put")
            try:
                await putter
            except BaseException:
                putter.cancel()  # in case another exception interrupted us
                self._putters.discard(putter)
                if rec is not None:
                    rec.interrupt(self, putter)
                if not self.full() and not putter.cancelled():
                    # We were handed the free slot but will not use it.
                    self._pass_on(self._putters)
                raise
            if rec is not None:
                rec.resume(self, putter, task=_tasks_get(self._loop))
        self.put_nowait(item)

    def put_nowait(self, item: _T) -> None:
        """Put ``item`` at once; QueueFull if there is no room, QueueShutDown if shut down."""
        if self._is_shutdown:
            raise QueueShutDown
        if self.full():
            raise QueueFull
        self._put(item)
        self._unfinished_tasks += 1
        self._finished._value = False  # Event.clear(), whose record a join helper drops anyway
        rec = current_recorder() if tracing else None
        if rec is not None:
            rec.put_item(self, item, self.qsize())
        getters = self._getters
        if getters._pending or getters._settled:  # cheaper than __bool__
            woken = self._wakeup_next(getters)
            if rec is not None and woken is not None:
                rec.wake(self, woken, "put")

    async def get(self) -> _T:
        """Remove and return an item, waiting while the queue is empty.

        QueueShutDown once the queue is shut down and empty.
        """
        while self.empty():
            if self._is_shutdown:
                raise QueueShutDown
            rec = current_recorder() if tracing else None
            getter = self._enqueue_waiter(self._getters, rec, "get")
            try:
                await getter
            except BaseException:
                getter.cancel()  # in case another exception interrupted us
                self._getters.discard(getter)
                if rec is not None:
                    rec.interrupt(self, getter)
                if not self.empty() and not getter.cancelled():
                    # We were handed an item but will not take it.
                    self._pass_on(self._getters)
                raise
            if rec is not None:
                rec.resume(self, getter, task=_tasks_get(self._loop))
        return self.get_nowait()

    def get_nowait(self) -> _T:
        """Remove and return an item at once; QueueEmpty if there is none,
        QueueShutDown if the queue is shut down and empty."""
        if self.empty():
            if self._is_shutdown:
                raise QueueShutDown
            raise QueueEmpty
        item = self._get()
        rec = current_recorder() if tracing else None
        if rec is not None:
            rec.got_item(self, item, self.qsize())
        putters = self._putters
        if putters._pending or putters._settled:  # cheaper than __bool__
            woken = self._wakeup_next(putters)
            if rec is not None and woken is not None:
                rec.wake(self, woken, "get")
        return item

    def task_done(self) -> None:
        """Mark one fetched item as processed; ValueError if nothing is unfinished.

        When the count of unfinished items reaches zero, ``join()`` returns.
        """
        if self._unfinished_tasks <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished_tasks -= 1
        rec = current_recorder() if tracing else None
        if rec is not None:
            rec.instant(self, "task_done", value=self._unfinished_tasks)
        if self._unfinished_tasks == 0:
            self._finished._set("task_done")

    async def join(self) -> None:
        """Wait until every item put has been fetched and marked done."""
        if self._unfinished_tasks > 0:
            await self._finished.wait()

    def shutdown(self, immediate: bool = False) -> None:
        """Refuse further puts and wake every blocked put() and get().

        Gets still drain the remaining items, unless ``immediate``: then the
        items are discarded, each counted as done (which may release
        ``join()``), and gets fail at once.
        """
        self._is_shutdown = True
        if immediate:
            while not self.empty():
                self._get()
                if self._unfinished_tasks > 0:
                    self._unfinished_tasks -= 1
            if self._unfinished_tasks == 0:
                self._finished._set("shutdown")
        rec = current_recorder() if tracing else None
        if rec is not None:
            if immediate:
                rec.forget_items(self)
            rec.instant(self, "shutdown", "immediate" if immediate else "", value=self.qsize())
        for waiters in (self._getters, self._putters):
            while waiters:
                waiter = waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    if rec is not None:
                        rec.wake(self, waiter, "shutdown")


class PriorityQueue(Queue[_T]):
    """A Queue that returns the smallest item first (entries like ``(priority, data)``)."""

    def _init(self, maxsize: float) -> None:
        self._queue = []

    def _put(self, item: _T, heappush: Any = heapq.heappush) -> None:
        heappush(self._queue, item)

    def _get(self, heappop: Any = heapq.heappop) -> _T:
        return heappop(self._queue)  # type: ignore[no-any-return]


class LifoQueue(Queue[_T]):
    """A Queue that returns the most recently added item first."""

    def _init(self, maxsize: float) -> None:
        self._queue = []

    def _put(self, item: _T) -> None:
        self._queue.append(item)

    def _get(self) -> _T:
        return self._queue.pop()  # type: ignore[no-any-return]
