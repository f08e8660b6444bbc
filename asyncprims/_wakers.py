"""What, besides its own callbacks and timers, could still wake an event loop.

:class:`~asyncprims.clock.ClockedEventLoop` asks this module two questions
whenever it is idle: *may it report a deadlock?* (only if nothing can wake it)
and *may its virtual clock jump?* (only if no real work is in flight).  The
answer is a :class:`Wakers` level, from the cheapest evidence to the dearest:

``REAL``
    real work in flight that will wake the loop by itself: a registered file
    descriptor other than the loop's self-pipe (a socket, a pipe, a pidfd
    child watcher), an outstanding ``run_in_executor`` job, or a subprocess
    started by this loop that has not exited.
``THREADS``
    a thread that may still call into the loop (see below).  The loop cannot
    be told when such a thread is done, so it re-asks every ``POLL_INTERVAL``
    seconds.
``SIGNALS``
    only a handler installed with ``loop.add_signal_handler``: no deadlock,
    but no real work either, so the virtual clock still jumps.
``NONE``
    nothing: with no timer left, the loop is deadlocked.

Which threads count (the grace rule)
------------------------------------
A thread is watched when it is alive, is not the loop's own thread, and is

* a ``ThreadPoolExecutor`` worker that is running a job or has jobs queued
  (an idle worker, waiting for work, cannot wake anybody);
* a ``ProcessPoolExecutor`` management thread with work items pending;
* any other non-daemon thread, or a daemon thread started after the loop was
  created, unless it is *parked*: waiting without a timeout on a
  ``concurrent.futures.Future`` (``result()``/``exception()``), which only
  the loop or another watched thread can complete, or waiting for the loop's
  thread to end (``join()``, interpreter shutdown).

Daemon threads that existed before the loop (a Jupyter kernel's own threads,
for instance) are not watched: they are everywhere and almost never call
into a fresh loop.  One that does is covered by a grace period: for
``GRACE_PERIOD`` seconds of real time after its last ``call_soon_threadsafe``
into the loop, the loop counts it as a possible waker.  Threads started with
``_thread.start_new_thread`` are treated the same way.

A loop that only threads can wake, and that none does for ``STALL_WARNING``
seconds, says so once with a RuntimeWarning naming the threads: waiting for a
thread that will never call in is a deadlock the detector cannot prove.

Reading other threads' frames (``sys._current_frames()``) is what debuggers
do; it happens only when the loop is idle and some thread is alive.
"""

from __future__ import annotations

import enum
import sys
import threading
import time
import warnings
import weakref
from types import FrameType
from typing import Any

__all__ = ["GRACE_PERIOD", "POLL_INTERVAL", "STALL_WARNING", "OutsideWakers", "Wakers"]

#: Seconds after an unwatched thread's last call into the loop during which it
#: still counts as a possible waker.
GRACE_PERIOD = 1.0
#: Seconds between two looks at the threads while only threads can wake the loop.
POLL_INTERVAL = 0.05
#: Seconds of waiting on threads alone, with nothing happening, before a warning.
STALL_WARNING = 30.0


class Wakers(enum.IntEnum):
    """What could wake an idle loop; see the module docstring."""

    NONE = 0
    SIGNALS = 1
    THREADS = 2
    REAL = 3


def _code_of(module_name: str, *path: str) -> Any:
    """The code object of ``module.path`` if that module is imported, else None."""
    target: Any = sys.modules.get(module_name)
    for name in path:
        target = getattr(target, name, None)
    return getattr(target, "__code__", None)


def _is_parked(frame: FrameType | None, loop_thread: threading.Thread) -> bool:
    """Is a thread whose innermost Python frame is ``frame`` waiting, with no
    timeout, for something only the loop (or another watched thread) can give?"""
    if frame is None:
        return False
    code = frame.f_code
    if code is _code_of("threading", "_shutdown"):
        return True  # the interpreter is exiting and waits for non-daemon threads
    if code in (
        _code_of("threading", "Thread", "join"),
        _code_of("threading", "Thread", "_wait_for_tstate_lock"),
    ):
        arguments = frame.f_locals
        return arguments.get("self") is loop_thread and arguments.get("timeout") in (None, -1)
    if code is _code_of("threading", "Condition", "wait"):
        caller = frame.f_back
        if caller is not None and caller.f_code in (
            _code_of("concurrent.futures._base", "Future", "result"),
            _code_of("concurrent.futures._base", "Future", "exception"),
        ):
            return caller.f_locals.get("timeout") is None
    return False


def _pool_is_idle(frame: FrameType | None, pool_worker: Any, work_queue: Any) -> bool:
    """Is the ``ThreadPoolExecutor`` of a worker thread (innermost frame ``frame``)
    idle: no job queued, none running?

    A worker waiting for work sits in ``_worker``; but one that has just taken
    a job off the queue sits there too for a few instructions, so the pool's
    own count of idle workers decides (``submit`` claims an idle worker before
    it returns, so a job just submitted is never missed).
    """
    if frame is None or frame.f_code is not pool_worker or not work_queue.empty():
        return False
    reference = frame.f_locals.get("executor_reference")
    executor = reference() if callable(reference) else None
    if executor is None:
        return True  # the pool is gone: its workers only wait to exit
    idle = getattr(getattr(executor, "_idle_semaphore", None), "_value", None)
    threads = getattr(executor, "_threads", None)
    if idle is None or threads is None:  # pragma: no cover - another Python's pool
        return True
    return bool(idle >= len(threads))


class OutsideWakers:
    """Per-loop bookkeeping for the thread rules: which threads existed before
    the loop, and when unwatched threads last called into it."""

    def __init__(self) -> None:
        self._threads_before: weakref.WeakSet[threading.Thread] = weakref.WeakSet(
            threading.enumerate()
        )
        self._last_calls: weakref.WeakKeyDictionary[threading.Thread, float] = (
            weakref.WeakKeyDictionary()
        )
        self._quiet_since: float | None = None
        self._warned = False

    def note_quiet_poll(self, quiet: bool) -> None:
        """The idle loop, with no timer and only threads to wake it, polled once;
        ``quiet``: nothing happened.  Warn once if it stays quiet too long."""
        now = time.monotonic()
        if not quiet or self._quiet_since is None:
            self._quiet_since = now if quiet else None
            return
        if self._warned or now - self._quiet_since < STALL_WARNING:
            return
        self._warned = True
        names = ", ".join(repr(thread.name) for thread in self.waking_threads()) or "none left"
        warnings.warn(
            f"asyncprims.run(): no task has run for {now - self._quiet_since:.3g} s; the loop "
            f"waits for threads that could still call into it ({names}). If they never "
            "will, the program is deadlocked: end those threads (or pass "
            "detect_deadlocks=False to run(), if waiting is what you want).",
            RuntimeWarning,
            stacklevel=2,
        )

    def note_call_from_thread(self) -> None:
        """The running (foreign) thread has just called ``call_soon_threadsafe``."""
        self._last_calls[threading.current_thread()] = time.monotonic()

    def waking_threads(self) -> list[threading.Thread]:
        """The threads that may still wake the loop running in this thread."""
        if threading.active_count() == 1:
            return []  # the loop's thread alone: the usual case, and the cheapest
        loop_thread = threading.current_thread()
        threads = [thread for thread in threading.enumerate() if thread is not loop_thread]
        if not threads:
            return []
        pool_module: Any = sys.modules.get("concurrent.futures.thread")
        pool_queues: Any = getattr(pool_module, "_threads_queues", {})
        pool_worker = _code_of("concurrent.futures.thread", "_worker")
        process_module: Any = sys.modules.get("concurrent.futures.process")
        manager_type = getattr(process_module, "_ExecutorManagerThread", ())
        frames: dict[int, FrameType] | None = None
        now = time.monotonic()
        found = []
        for thread in threads:
            if not thread.is_alive():
                continue
            work_queue = pool_queues.get(thread)
            if manager_type and isinstance(thread, manager_type):
                if getattr(thread, "pending_work_items", None):
                    found.append(thread)
                continue
            if work_queue is None and (
                isinstance(thread, threading._DummyThread)
                or (thread.daemon and thread in self._threads_before)
            ):
                last = self._last_calls.get(thread)  # unwatched: the grace period only
                if last is not None and now - last < GRACE_PERIOD:
                    found.append(thread)
                continue
            if frames is None:
                frames = sys._current_frames()
            frame = frames.get(thread.ident) if thread.ident is not None else None
            if work_queue is not None:
                if not _pool_is_idle(frame, pool_worker, work_queue):
                    found.append(thread)
            elif not _is_parked(frame, loop_thread):
                found.append(thread)
        return found
