"""The event loop behind :func:`asyncprims.run`: virtual time and the deadlock test.

The rules it follows are stated in :mod:`asyncprims.clock`; what counts as
"something outside that could still wake the loop" is in
:mod:`asyncprims._wakers`.  Nothing in asyncio's scheduler is replaced
(``_run_once`` stays asyncio's, or nest-asyncio2's): only the selector's
``select(timeout)`` is wrapped, plus the loop methods that start outside work
(``run_in_executor``, subprocesses, ``call_soon_threadsafe``), which count it.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from ._wakers import POLL_INTERVAL, OutsideWakers, Wakers

__all__ = ["ClockedEventLoop"]

_NANOSECONDS = 1_000_000_000
_TICK = 1 / _NANOSECONDS
#: The longest single wait in the selector (asyncio's own cap; epoll refuses far more).
_LONGEST_WAIT = 24 * 3600.0


class _Deadlocked(BaseException):
    """Raised out of ``select`` when the loop could never be woken again.

    A BaseException so that no ``except Exception`` between the selector and
    :func:`run` can swallow it.
    """


class ClockedEventLoop(asyncio.SelectorEventLoop):
    """A selector event loop that detects deadlocks, optionally in virtual time.

    ``virtual_time`` is a plain attribute (the tracer reads it).  In virtual
    time ``time()`` starts at 0.0 and jumps to the next timer whenever the loop
    is idle and no real work is in flight; otherwise it is asyncio's monotonic
    clock.  ``detect_deadlocks=False`` makes an idle loop with nothing to wait
    for block forever, as asyncio's does.
    """

    def __init__(self, virtual_time: bool = False, detect_deadlocks: bool = True) -> None:
        super().__init__()
        self.virtual_time = virtual_time
        self._virtual_ns = 0
        self._executor_jobs = 0
        self._detect_deadlocks = detect_deadlocks
        self._outside = OutsideWakers()
        self._subprocesses: weakref.WeakSet[Any] = weakref.WeakSet()
        self._created_tasks: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
        self._creation_order: weakref.WeakKeyDictionary[asyncio.Task[Any], int] = (
            weakref.WeakKeyDictionary()
        )
        if virtual_time:
            self._clock_resolution = _TICK
        selector: Any = self._asyncio_internals._selector
        self._real_select: Callable[[float | None], list[Any]] = selector.select
        selector.select = self._select  # an instance attribute: this selector only

    def time(self) -> float:
        if self.virtual_time:
            return self._virtual_ns / _NANOSECONDS  # int / int: correctly rounded
        return super().time()

    def create_task(self, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        """asyncio's ``create_task``, remembering the task (weakly) for cleanup."""
        task = super().create_task(coro, **kwargs)
        self._created_tasks.add(task)
        self._creation_order[task] = len(self._creation_order) + len(self._created_tasks)
        return task

    def tasks_in_creation_order(self) -> list[asyncio.Task[Any]]:
        """The loop's unfinished tasks, oldest first (a set's order would vary by address)."""
        order = self._creation_order
        return sorted(asyncio.all_tasks(self), key=lambda task: order.get(task, -1))

    def _retrieve_interrupts(self) -> None:
        """Mark KeyboardInterrupt/SystemExit stored in finished tasks as retrieved.

        Such an exception has already propagated out of :func:`run`; without
        this, garbage collection would print "exception was never retrieved".
        """
        for task in list(self._created_tasks):
            if task.done() and not task.cancelled():
                error = getattr(task, "_exception", None)
                if error is not None and not isinstance(error, Exception):
                    task.exception()

    # -- what can wake the loop besides its own callbacks and timers ------------------

    def run_in_executor(  # type: ignore[override]
        self, executor: Any, func: Any, *args: Any
    ) -> asyncio.Future[Any]:
        """asyncio's ``run_in_executor``, counting outstanding jobs.

        A job counts until its asyncio future is done: once that future is
        cancelled, the thread's eventual result can wake no task any more.
        """
        future = super().run_in_executor(executor, func, *args)
        self._executor_jobs += 1
        future.add_done_callback(self._executor_job_done)
        return future

    def _executor_job_done(self, _future: asyncio.Future[Any]) -> None:
        self._executor_jobs -= 1

    def call_soon_threadsafe(  # type: ignore[override]
        self, callback: Any, *args: Any, context: Any = None
    ) -> Any:
        """asyncio's ``call_soon_threadsafe``, noting calls from other threads
        (the grace period of :mod:`asyncprims._wakers`)."""
        if threading.get_ident() != self._asyncio_internals._thread_id:
            self._outside.note_call_from_thread()
        return super().call_soon_threadsafe(callback, *args, context=context)

    async def _make_subprocess_transport(self, *args: Any, **kwargs: Any) -> Any:
        """asyncio's, remembering the transport: a child that has not exited can
        wake the loop, whichever child watcher reports its exit."""
        transport = await super()._make_subprocess_transport(*args, **kwargs)  # type: ignore[misc]
        self._subprocesses.add(transport)
        return transport

    def _wakers(self) -> Wakers:
        """What could wake this idle loop, cheapest evidence first."""
        if self._executor_jobs:
            return Wakers.REAL
        internals = self._asyncio_internals
        self_pipe = internals._ssock.fileno() if internals._ssock is not None else -1
        if any(key.fd != self_pipe for key in internals._selector.get_map().values()):
            return Wakers.REAL
        if any(transport.get_returncode() is None for transport in self._subprocesses):
            return Wakers.REAL
        if self._outside.waking_threads():
            return Wakers.THREADS
        if getattr(self, "_signal_handlers", None):
            return Wakers.SIGNALS
        return Wakers.NONE

    @property
    def _asyncio_internals(self) -> Any:
        """``self``, typed Any: the selector loop's private attributes are untyped."""
        return self

    def close(self) -> None:
        selector: Any = self._asyncio_internals._selector
        super().close()
        if selector is not None:
            selector.__dict__.pop("select", None)  # break the loop <-> selector cycle

    # -- the idle hook -------------------------------------------------------------

    def _next_deadline(self, timeout: float | None) -> float | None:
        """When the earliest timer is due, or None if no timer will ever fire
        (none is scheduled, or the earliest is at +inf)."""
        if timeout is None:
            return None
        scheduled = getattr(self, "_scheduled", None)  # asyncio's heap of TimerHandles
        when: float = scheduled[0]._when if scheduled else self.time() + timeout
        return when if when < math.inf else None

    def _select(self, timeout: float | None = None) -> list[Any]:
        """The selector's ``select``, with the virtual clock and the deadlock test.

        ``timeout`` is what ``_run_once`` computed: 0 when callbacks are ready,
        None when no timer is scheduled, else the time to the earliest timer
        (at most a day).  The earliest timer is read from asyncio's heap
        itself, so a jump lands on its exact deadline.
        """
        real_select = self._real_select
        if timeout is not None and timeout <= 0:
            return real_select(timeout)  # busy, or a timer is due
        deadline = self._next_deadline(timeout)
        if deadline is not None and not self.virtual_time:
            return real_select(timeout)  # a real-time wait for a timer
        events = real_select(0)
        if events:
            return events
        wakers = self._wakers()
        if deadline is None:  # no timer will ever fire
            if wakers is Wakers.NONE and self._detect_deadlocks:
                if self._asyncio_internals._ready:  # a thread's callback, just in
                    return []
                raise _Deadlocked
            if wakers is not Wakers.THREADS:
                return self._wait_real(None, None)
            events = self._wait_real(POLL_INTERVAL, None)
            if self._detect_deadlocks:
                self._outside.note_quiet_poll(not events)  # says so if it lasts
            return events
        if wakers <= Wakers.SIGNALS:  # nothing real in flight: jump
            self._jump_to(deadline)
            return []
        longest = POLL_INTERVAL if wakers is Wakers.THREADS else _LONGEST_WAIT
        return self._wait_real(min(deadline - self.time(), longest), deadline)

    def _wait_real(self, wait: float | None, deadline: float | None) -> list[Any]:
        """Wait up to ``wait`` real seconds (None: until something happens).

        In virtual time the clock then advances by the real time that passed,
        and at least to ``deadline`` once the wait reached it, so that timer
        is due: while real work is in flight, virtual time follows real time.
        """
        if not self.virtual_time:
            return self._real_select(wait)
        started = time.monotonic()
        events = self._real_select(wait)
        elapsed = time.monotonic() - started
        ticks = self._virtual_ns + round(elapsed * _NANOSECONDS)
        if deadline is not None and elapsed >= deadline - self.time():
            self._set_ticks(max(ticks, self._ticks_of(deadline)), deadline)
        else:
            self._set_ticks(ticks, None)
        return events

    def _jump_to(self, deadline: float) -> None:
        """Move the virtual clock to the timer deadline ``deadline`` (a finite float)."""
        self._set_ticks(max(self._ticks_of(deadline), self._virtual_ns), deadline)

    @staticmethod
    def _ticks_of(deadline: float) -> int:
        """The nanosecond nearest to ``deadline``, computed exactly (so that
        0.1 s steps add up to 0.3, not 0.30000000000000004)."""
        numerator, denominator = deadline.as_integer_ratio()
        ticks, rest = divmod(numerator * _NANOSECONDS, denominator)
        return ticks + 1 if 2 * rest >= denominator else ticks

    def _set_ticks(self, ticks: int, due: float | None) -> None:
        """Set the virtual clock to ``ticks`` nanoseconds; make a timer at ``due`` due.

        ``_run_once`` runs a timer when ``when < time() + _clock_resolution``,
        in floats.  Past 2**23 s a float cannot hold every nanosecond, so the
        resolution grows with the clock (one unit in the last place, at
        least 1 ns), and is doubled until the timer at ``due`` passes that test:
        no deadline can be stuck one float short of the clock.
        """
        self._virtual_ns = ticks
        now = ticks / _NANOSECONDS
        resolution = max(_TICK, math.ulp(now))
        if due is not None:
            while not now + resolution > due:
                resolution *= 2
        self._clock_resolution = resolution
