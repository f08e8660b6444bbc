"""``asyncprims.run()``: asyncio.run on a fresh loop, optionally in virtual time.

Virtual time, the looptime way
------------------------------
The loop's clock is an integer count of nanoseconds starting at 0, and
``time()`` returns ``ticks / 1e9`` (correctly rounded), so ``0.1 + 0.1 + 0.1``
seconds of sleeping reads back as ``0.3``, not ``0.30000000000000004``.
Nothing in the loop's scheduler is replaced (``_run_once`` stays asyncio's, or
nest-asyncio2's): only the selector's ``select(timeout)`` is wrapped
(:mod:`asyncprims._loop`).  When the loop is idle, the wrapper polls real I/O
with timeout 0 and, if nothing is ready and nothing real is in flight, jumps
the clock to the earliest timer's deadline instead of sleeping.

No deadline can get stuck.  The jump lands on the nanosecond nearest the
deadline, computed exactly from the float, and the loop's
``_clock_resolution`` (asyncio's "due within" margin) grows with the clock to
one unit in the last place of ``time()``, so the timer passes asyncio's float
test ``when < time() + resolution`` at any magnitude: a sleep after 50 days
or ``sleep(1e9)`` returns.  A timer at ``+inf`` never fires, so it is not a
way to be woken: a loop whose only timers are infinite is idle forever.

Invariants: the virtual clock never goes backwards; it moves only while no
callback is ready; real I/O that is ready is always served before time moves.

Virtual time and real work
--------------------------
The rule: **while anything real could still wake the loop, the virtual clock
follows real time; it jumps only when nothing real is in flight.**  "Anything
real" (:mod:`asyncprims._wakers`) is a registered socket or pipe, a
``run_in_executor``/``to_thread`` job, a busy executor thread, a subprocess
that has not exited, or a thread that may call into the loop.  Then an idle
loop waits in the selector, for real, until the next timer's deadline or an
event; the virtual clock advances by the real time that passed (at least to
the deadline, once the wait reached it).  Consequences:

* a timeout around real work fires no earlier than it would in real time
  (``wait_for(reader.read(), 5)``, a TLS handshake's 60 s);
* the virtual clock never runs ahead of real time while real work is
  pending, and it may read uneven values afterwards (real time is uneven);
* the loop does not spin: waiting on real work costs what it costs asyncio;
* a signal handler alone is not real work: the clock still jumps.

Deadlock
--------
The loop is deadlocked when it would wait forever: nothing is ready, no timer
will fire and nothing outside can wake it (the rule above, plus signal
handlers).  Then :func:`run` raises :class:`DeadlockError` (see
:mod:`asyncprims._deadlock`), in both virtual and real time.  Threads are
watched as :mod:`asyncprims._wakers` says: a daemon thread that existed
before the run is seen only for a grace period after each call it makes into
the loop; any other live thread counts until it ends or parks.  While only
threads can wake it, the loop re-checks every 50 ms (in real time), so a
deadlock is reported within about that long after the last thread ends, or
a second after an unwatched thread's last call; a loop left waiting on
threads alone for 30 s warns (RuntimeWarning) instead of hanging silently.
``run(..., detect_deadlocks=False)`` turns the test off: the loop then waits
forever, as asyncio's does.

Inside a running loop (a Jupyter cell)
--------------------------------------
:func:`run` swaps the thread's running loop out for the duration of the call
and restores it afterwards, so the fresh loop runs in the caller's thread,
with the caller's context variables, stdout and signal handling.  Nothing
process-wide is patched.  The caller's loop is blocked meanwhile, exactly as
it is by any synchronous code in a cell.  A run started inside another run's
task names its main task ``main-2`` (``main-3`` one level deeper), so a
trace over both tells them apart.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Coroutine
from contextvars import ContextVar
from types import FrameType
from typing import Any, TypeVar

from ._base import forget_running_loop
from ._deadlock import BlockedTask, DeadlockEdge, DeadlockError, describe_blocked_tasks
from ._loop import ClockedEventLoop, _Deadlocked
from .tracing import current_recorder

__all__ = ["BlockedTask", "DeadlockError", "run"]

_T = TypeVar("_T")
#: Cancellation rounds before giving up on tasks that refuse to finish.
_MAX_CANCEL_ROUNDS = 8


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


def _interrupt_cancelled(main: asyncio.Task[Any]) -> bool:
    """Did ``main`` end cancelled by the SIGINT alone?  asyncio.Runner's rule:
    from 3.11, only if no other cancellation of it is still outstanding."""
    uncancel = getattr(main, "uncancel", None)
    return uncancel is None or uncancel() == 0


def _run_on(
    loop: ClockedEventLoop, coro: Coroutine[Any, Any, _T], debug: bool | None, name: str = "main"
) -> _T:
    """Run ``coro`` as the main task of ``loop`` (not running), then close it."""
    if debug is not None:
        loop.set_debug(debug)
    main = loop.create_task(coro, name=name)
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
        except BaseException as error:
            if main.done() and not main.cancelled():
                main.exception()  # retrieved: no "exception was never retrieved"
            loop._retrieve_interrupts()
            # Only the cancellation the SIGINT caused becomes KeyboardInterrupt;
            # an error the main task raised while being cancelled propagates.
            if (
                interrupts.count
                and isinstance(error, asyncio.CancelledError)
                and _interrupt_cancelled(main)
            ):
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


#: How many asyncprims.run() calls enclose the code running in this context.
_run_depth: ContextVar[int] = ContextVar("asyncprims_run_depth", default=0)


def run(
    coro: Coroutine[Any, Any, _T],
    *,
    virtual_time: bool = False,
    debug: bool | None = None,
    detect_deadlocks: bool = True,
) -> _T:
    """Run ``coro`` on a fresh event loop and return its result, like ``asyncio.run``.

    The coroutine runs as the main task (named ``"main"``, or ``"main-2"``
    in a run nested inside another run's task); at the end the remaining
    tasks are cancelled and awaited, async generators and the default
    executor are shut down, and the loop is closed.  Its exception propagates.

    ``virtual_time=True``: the loop's clock starts at 0.0 and jumps to the next
    timer whenever the loop is idle, so sleeps and timeouts take no wall time
    but ``loop.time()`` advances exactly.  While real work (I/O, a
    subprocess, an executor job, a thread) could still wake the loop, the
    clock follows real time instead (see the module docstring).

    Works inside a running loop too (a Jupyter cell): the caller's running
    loop is set aside for the call and restored afterwards, in the same thread
    and context.  A SIGINT (kernel interrupt) cancels the run: all its tasks
    are cancelled and finish their cleanup, the loop is closed, the caller's
    loop restored, and KeyboardInterrupt is raised (unless the main task
    ends with another error meanwhile: that error propagates, as in asyncio).

    Raises :class:`DeadlockError` when no task can ever run again, after
    cancelling the stuck tasks; its report says who waits on what.
    ``detect_deadlocks=False`` waits forever instead, as asyncio does.

    Under an active :func:`~asyncprims.trace` that already saw another run
    or events from another loop, a run on a different clock (any virtual-time
    run, or a real-time run after a virtual one) warns with
    :class:`~asyncprims.tracing.MixedClocksWarning`: their times do not share
    one axis.
    """
    if not asyncio.iscoroutine(coro):
        raise ValueError(f"a coroutine was expected, got {coro!r}")
    recorder = current_recorder()
    if recorder is not None:
        recorder.note_run(virtual_time)
    loop = ClockedEventLoop(virtual_time, detect_deadlocks)
    depth = _run_depth.get() + 1
    events: Any = asyncio.events
    outer = events._get_running_loop()
    # From 3.14 the current task lives in the thread state, not per loop: set
    # the caller's task aside as well, or the fresh loop cannot enter its own.
    swap_task: Any = None
    if sys.version_info >= (3, 14) and outer is not None:
        swap_task = asyncio.tasks._swap_current_task
    outer_task = swap_task(outer, None) if swap_task is not None else None
    events._set_running_loop(None)
    # The caller's loop stays mid-step while this one runs: the remembered
    # running loop (3.10/3.11, see _base.running_task) is not this one.
    forget_running_loop()
    nesting = _run_depth.set(depth)
    try:
        return _run_on(loop, coro, debug, "main" if depth == 1 else f"main-{depth}")
    finally:
        _run_depth.reset(nesting)
        events._set_running_loop(outer)
        if swap_task is not None:
            swap_task(outer, outer_task)
