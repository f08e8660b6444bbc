"""``asyncprims.run()``: asyncio.run on a fresh loop, optionally in virtual time.

Virtual time, the looptime way
------------------------------
The loop's clock is an integer count of nanoseconds starting at 0, and
``time()`` returns ``ticks / 1e9``, so ``0.1 + 0.1 + 0.1`` seconds of sleeping
reads back as ``0.3``, not ``0.30000000000000004``.  Nothing in the loop's
scheduler is replaced (``_run_once`` stays asyncio's, or nest-asyncio2's):
only the selector's ``select(timeout)`` is wrapped.  When the loop is idle and
asks to wait ``timeout`` seconds for its next timer, the wrapper polls real I/O
with timeout 0 and, if nothing is ready, advances the clock by ``timeout``
(rounded to the nanosecond; the loop's clock resolution is 1 ns, so the timer
is due) instead of sleeping.

Invariants: the virtual clock never goes backwards; it moves only while no
callback is ready; real I/O that is ready is always served before time jumps.
While a ``run_in_executor`` job is outstanding, the loop waits for it in real
time (at most ``timeout`` seconds, after which the clock advances by exactly
``timeout``): a thread's work takes no virtual time, and a timeout does not
fire early just because the thread is slower than the virtual clock.

Deadlock
--------
The loop is deadlocked when it would wait forever: nothing is ready, no timer
is scheduled, no file descriptor but its own self-pipe is registered, no
signal handler is installed and no executor job is outstanding.  Then nothing
can wake it, and :func:`run` raises :class:`DeadlockError` (see
:mod:`asyncprims._deadlock`) in both virtual and real time.  A thread started
by hand that will later call ``call_soon_threadsafe`` is invisible to this
test; start thread work with ``run_in_executor`` or ``asyncio.to_thread``.

Inside a running loop (a Jupyter cell)
--------------------------------------
:func:`run` swaps the thread's running loop out for the duration of the call
and restores it afterwards, so the fresh loop runs in the caller's thread,
with the caller's context variables, stdout and signal handling.  Nothing
process-wide is patched.  The caller's loop is blocked meanwhile, exactly as
it is by any synchronous code in a cell.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import weakref
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any, TypeVar

from ._deadlock import BlockedTask, DeadlockEdge, DeadlockError, describe_blocked_tasks
from .tracing import _here, current_recorder

__all__ = ["BlockedTask", "DeadlockError", "run"]

_T = TypeVar("_T")
_NANOSECONDS = 1_000_000_000
#: Cancellation rounds before giving up on tasks that refuse to finish.
_MAX_CANCEL_ROUNDS = 8


class _Deadlocked(BaseException):
    """Raised out of ``select`` when the loop could never be woken again.

    A BaseException so that no ``except Exception`` between the selector and
    :func:`run` can swallow it.
    """


class ClockedEventLoop(asyncio.SelectorEventLoop):
    """A selector event loop that detects deadlocks, optionally in virtual time.

    ``virtual_time`` is a plain attribute (the tracer reads it).  In virtual
    time ``time()`` starts at 0.0 and jumps to the next timer whenever the loop
    is idle; otherwise it is asyncio's monotonic clock.
    """

    def __init__(self, virtual_time: bool = False) -> None:
        super().__init__()
        self.virtual_time = virtual_time
        self._virtual_ns = 0
        self._executor_jobs = 0
        self._detect_deadlocks = True
        self._created_tasks: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
        self._creation_order: weakref.WeakKeyDictionary[asyncio.Task[Any], int] = (
            weakref.WeakKeyDictionary())
        if virtual_time:
            self._clock_resolution = 1 / _NANOSECONDS
        selector: Any = self._asyncio_internals._selector
        self._real_select: Callable[[float | None], list[Any]] = selector.select
        selector.select = self._select  # an instance attribute: this selector only

    def time(self) -> float:
        if self.virtual_time:
            return self._virtual_ns / _NANOSECONDS
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

    def _can_be_woken_from_outside(self) -> bool:
        """Could anything but a ready callback or a timer ever wake this loop?"""
        if self._executor_jobs or getattr(self, "_signal_handlers", None):
            return True
        internals = self._asyncio_internals
        self_pipe = internals._ssock.fileno() if internals._ssock is not None else -1
        return any(key.fd != self_pipe for key in internals._selector.get_map().values())

    def _select(self, timeout: float | None = None) -> list[Any]:
        """The selector's ``select``, with the virtual clock and the deadlock test."""
        real_select = self._real_select
        if timeout is not None and (timeout <= 0 or not self.virtual_time):
            return real_select(timeout)  # busy, or a real-time wait for a timer
        events = real_select(0)
        if events:
            return events
        if timeout is None:  # no timer at all
            if not self._detect_deadlocks or self._can_be_woken_from_outside():
                return real_select(None)
            raise _Deadlocked
        if self._executor_jobs:  # thread work in flight: give it real time
            events = real_select(timeout)
            if events:
                return events
        self._advance(timeout)
        return []

    def _advance(self, seconds: float) -> None:
        """Move the virtual clock ``seconds`` forward, to the nearest nanosecond."""
        target = round((self._virtual_ns / _NANOSECONDS + seconds) * _NANOSECONDS)
        self._virtual_ns = max(target, self._virtual_ns)


class _InterruptCanceller:
    """SIGINT cancels the main task once; a second SIGINT raises KeyboardInterrupt.

    Installed in the main thread over any Python-level SIGINT handler (Python's
    default one, which a Jupyter kernel has while a cell runs, or an outer
    ``asyncio.Runner``'s, whose cancel would hit a task that cannot run while
    this call blocks it), and replaced by it again on exit.  Not installed
    over ``SIG_IGN``/``SIG_DFL``, nor off the main thread: there a
    KeyboardInterrupt surfaces wherever it is raised, and :func:`run` cleans up
    the same way.
    """

    def __init__(self, loop: ClockedEventLoop, task: asyncio.Task[Any]) -> None:
        self.count = 0
        self._loop = loop
        self._task = task
        self._previous: Any = None
        if threading.current_thread() is threading.main_thread():
            current = signal.getsignal(signal.SIGINT)
            if callable(current):
                self._previous = current
                signal.signal(signal.SIGINT, self._on_interrupt)

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count == 1 and not self._task.done():
            self._task.cancel()
            self._loop.call_soon_threadsafe(lambda: None)  # wake a blocking select
            return
        raise KeyboardInterrupt()

    def remove(self) -> None:
        if self._previous is not None and signal.getsignal(signal.SIGINT) == self._on_interrupt:
            signal.signal(signal.SIGINT, self._previous)
        self._previous = None


def _cancel_and_drain(loop: ClockedEventLoop) -> None:
    """Cancel every pending task and run the loop until all have finished.

    Tasks whose cleanup blocks forever are cancelled again, up to
    ``_MAX_CANCEL_ROUNDS`` times; any left after that are abandoned without
    the "Task was destroyed but it is pending" warning.  Tasks that end with
    an exception other than cancellation go to the loop's exception handler,
    as in ``asyncio.run``.
    """
    cancelled: list[asyncio.Task[Any]] = []
    for _ in range(_MAX_CANCEL_ROUNDS):
        pending = loop.tasks_in_creation_order()
        if not pending:
            break
        for task in pending:
            task.cancel()
        cancelled += pending
        try:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        except _Deadlocked:
            continue
    for task in asyncio.all_tasks(loop):
        task._log_destroy_pending = False  # type: ignore[attr-defined]
    for task in dict.fromkeys(cancelled):
        if not task.done() or task.cancelled():
            continue
        error = task.exception()
        if error is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during asyncprims.run() shutdown",
                    "exception": error,
                    "task": task,
                }
            )


def _run_on(loop: ClockedEventLoop, coro: Coroutine[Any, Any, _T], debug: bool | None) -> _T:
    """Run ``coro`` as the main task of ``loop`` (not running), then close it."""
    if debug is not None:
        loop.set_debug(debug)
    main = loop.create_task(coro, name="main")
    interrupts = _InterruptCanceller(loop, main)
    try:
        try:
            result: _T = loop.run_until_complete(main)
            return result
        except _Deadlocked:
            recorder = current_recorder()
            edges: list[DeadlockEdge] | None = None if recorder is None else []
            error = describe_blocked_tasks(asyncio.all_tasks(loop), edges)
            if recorder is None:
                _cancel_and_drain(loop)
            else:  # the deadlock is the trace's last word on these tasks
                recorder.deadlock(loop.time(), edges or ())
                with recorder.paused():
                    _cancel_and_drain(loop)
            raise error from None
        except BaseException:
            if main.done() and not main.cancelled():
                main.exception()  # retrieved: no "exception was never retrieved"
            loop._retrieve_interrupts()
            if interrupts.count:
                raise KeyboardInterrupt() from None
            raise
    finally:
        interrupts.remove()
        try:
            _cancel_and_drain(loop)
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            except _Deadlocked:
                pass
            loop._detect_deadlocks = False  # the executor shutdown waits on a thread
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()


def run(
    coro: Coroutine[Any, Any, _T], *, virtual_time: bool = False, debug: bool | None = None
) -> _T:
    """Run ``coro`` on a fresh event loop and return its result, like ``asyncio.run``.

    The coroutine runs as the main task (named ``"main"``); at the end the
    remaining tasks are cancelled and awaited, async generators and the default
    executor are shut down, and the loop is closed.  Its exception propagates.

    ``virtual_time=True``: the loop's clock starts at 0.0 and jumps to the next
    timer whenever the loop is idle, so sleeps and timeouts take no wall time
    but ``loop.time()`` advances exactly.

    Works inside a running loop too (a Jupyter cell): the caller's running
    loop is set aside for the call and restored afterwards, in the same thread
    and context.  A SIGINT (kernel interrupt) cancels the run: all its tasks
    are cancelled and finish their cleanup, the loop is closed, the caller's
    loop restored, and KeyboardInterrupt is raised.

    Raises :class:`DeadlockError` when no task can ever run again, after
    cancelling the stuck tasks; its report says who waits on what.
    """
    if not asyncio.iscoroutine(coro):
        raise ValueError(f"a coroutine was expected, got {coro!r}")
    loop = ClockedEventLoop(virtual_time)
    events: Any = asyncio.events
    outer = events._get_running_loop()
    # From 3.14 the current task lives in the thread state, not per loop: set
    # the caller's task aside as well, or the fresh loop cannot enter its own.
    swap_task: Any = None
    if sys.version_info >= (3, 14) and outer is not None:
        swap_task = asyncio.tasks._swap_current_task
    outer_task = swap_task(outer, None) if swap_task is not None else None
    events._set_running_loop(None)
    # The caller's loop stays mid-step while this one runs: the tracer's cache
    # of "the task running here" must not be inherited by this loop's tasks.
    here = _here.set(None)
    try:
        return _run_on(loop, coro, debug)
    finally:
        _here.reset(here)
        events._set_running_loop(outer)
        if swap_task is not None:
            swap_task(outer, outer_task)
