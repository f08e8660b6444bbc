"""The live report on a timer and on a signal, as ``faulthandler`` does for threads.

``asyncprims.watchdog(after=5)`` starts a daemon thread that looks at the
blocked tasks a few times per ``after`` seconds and prints
``asyncprims.format_blocked()`` to stderr when a task has been stuck that long;
``asyncprims.report_on_signal()`` prints it whenever the process receives
SIGUSR1 (POSIX).

When the watchdog reports
-------------------------
A wait is *stalled* when it has lasted ``after`` seconds or more (each wait's
start is noted when its waiter is queued: starting a watchdog switches wait
timing on; a wait that began before counts from when the watchdog first saw
it).  Primitives hand over in FIFO order, so a stalled waiter means its
primitive made no progress towards it for that long.  By default only waits
to acquire a Lock or a Semaphore (a Condition's and a Barrier's lock
included) count: a worker waiting on an empty Queue, or a server waiting on
its shutdown Event, is idle, not stuck.  ``idle=True``
counts every wait.

One report per episode: the watchdog reports when a counted wait becomes
stalled, then stays quiet until no counted wait is stalled any more (the
episode is over), or, with ``repeat=True``, reports again every ``after``
seconds while the episode lasts.  The report lists every blocked task, idle
ones included, with any wait-for cycle.

The watchdog reads tasks from its own thread; see :mod:`asyncprims._live`
for how a snapshot stays consistent.  It runs in a copy of the context that
started it, so a trace active there names the primitives as the trace does.
Sampling every ``min(after / 4, 0.5)`` seconds, it reports within about
``after + after / 4`` seconds of a stall.
Its cost per sample is a pass over the process's tasks; chains are walked
only for tasks whose waiter future changed since the previous sample.
"""

from __future__ import annotations

import asyncio
import contextvars
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import IO, Any

from ._deadlock import _walk
from ._live import BlockedSnapshot, blocked, every_task, format_blocked, wait_start
from ._waiters import time_waits
from .locks import Lock
from .semaphores import Semaphore

__all__ = ["SignalReport", "Watchdog", "report_on_signal", "watchdog"]


def _write(text: str, file: IO[str] | None) -> None:
    """Write ``text`` and a newline to ``file`` (sys.stderr as it is now if None)."""
    stream = sys.stderr if file is None else file
    if stream is None:
        return
    try:
        stream.write(text + "\n")
        stream.flush()
    except (OSError, ValueError):  # closed, or a broken pipe: nothing to report to
        pass


class Watchdog:
    """A daemon thread reporting stalled waits; :func:`watchdog` starts one.

    ``stop()`` (or leaving its ``with`` block) ends it and waits for the
    thread.  ``reports`` counts the reports made so far.
    """

    def __init__(
        self,
        after: float,
        *,
        file: IO[str] | None = None,
        repeat: bool = False,
        idle: bool = False,
        on_stall: Callable[[BlockedSnapshot], object] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not isinstance(after, (int, float)) or isinstance(after, bool) or not after > 0:
            raise ValueError(f"after must be a positive number of seconds, not {after!r}")
        self.after = float(after)
        self.file = file
        self.repeat = repeat
        self.idle = idle
        self.on_stall = on_stall
        self.loop = loop
        self.reports = 0
        self.interval = min(self.after / 4, 0.5)
        self._stop = threading.Event()
        self._cache: dict[tuple[int, int], tuple[float, bool] | None] = {}
        self._in_episode = False
        self._last_report = 0.0
        self._failed = False
        # The caller's context: a trace active there names the primitives in the report.
        self._context = contextvars.copy_context()
        self._thread = threading.Thread(target=self._run, name="asyncprims-watchdog", daemon=True)
        time_waits()

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (idempotent); returns once the thread has ended."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> Watchdog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._thread.is_alive() else "stopped"
        return f"<asyncprims.Watchdog {state} after={self.after:g}s reports={self.reports}>"

    # -- the thread ------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._context.run(self.check)
            except Exception as error:  # noqa: BLE001 - say it once, keep watching
                if not self._failed:
                    self._failed = True
                    _write(f"asyncprims watchdog: a check failed: {error!r}", self.file)

    def _classify(self, task: Any, waiter: Any) -> tuple[float, bool] | None:
        """(start, counted) of a wait on a primitive; None for any other wait."""
        _, found = _walk(task)
        if not found:
            return None
        prim = found[-1][1]
        start = wait_start(prim, waiter)
        if start is None:  # began before timing was on: count from the first sight
            start = time.monotonic()
        return start, self.idle or isinstance(prim, (Lock, Semaphore))

    def stalled(self) -> bool:
        """Is a counted wait stalled now?  (One sample; the thread calls it.)"""
        now = time.monotonic()
        cache: dict[tuple[int, int], tuple[float, bool] | None] = {}
        stalled = False
        for task in every_task(self.loop):
            waiter = getattr(task, "_fut_waiter", None)
            if waiter is None or waiter.done():
                continue
            key = (id(task), id(waiter))
            if key in self._cache:
                info = self._cache[key]
            else:
                try:
                    info = self._classify(task, waiter)
                except Exception:  # noqa: BLE001 - it moved while read: not stuck
                    continue
            cache[key] = info
            if info is not None and info[1] and now - info[0] >= self.after:
                stalled = True
        self._cache = cache
        return stalled

    def check(self) -> bool:
        """Take one sample and report if due; True if a report was made."""
        if not self.stalled():
            self._in_episode = False
            return False
        now = time.monotonic()
        due = not self._in_episode or (self.repeat and now - self._last_report >= self.after)
        self._in_episode = True
        if not due:
            return False
        self._last_report = now
        self.reports += 1
        snapshot = blocked(self.loop)
        if self.on_stall is not None:
            self.on_stall(snapshot)
        else:
            what = "a wait" if self.idle else "a wait for a lock or semaphore"
            header = f"asyncprims watchdog: {what} has made no progress for {self.after:g} s"
            _write(f"{header}\n{format_blocked(snapshot)}", self.file)
        return True


def watchdog(
    after: float,
    *,
    file: IO[str] | None = None,
    repeat: bool = False,
    idle: bool = False,
    on_stall: Callable[[BlockedSnapshot], object] | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
) -> Watchdog:
    """Start a watchdog thread that prints the blocked-task report to ``file``
    (stderr) when a wait has made no progress for ``after`` seconds.

    ``on_stall`` replaces the printing: it is called, in the watchdog's thread,
    with the snapshot.  ``loop`` restricts it to one loop's tasks.  See the
    module docstring for ``repeat`` and ``idle``.  Returns the running
    :class:`Watchdog`; ``stop()`` it, or use it in a ``with`` statement.
    """
    return Watchdog(
        after, file=file, repeat=repeat, idle=idle, on_stall=on_stall, loop=loop
    ).start()


class SignalReport:
    """The handler :func:`report_on_signal` installs; ``stop()`` puts back the
    handler it replaced."""

    def __init__(self, signum: int, file: IO[str] | None, chain: bool) -> None:
        self.signum = signum
        self.file = file
        self.chain = chain
        self.reports = 0
        time_waits()
        self._installed = True
        self._previous: Any = signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        # Take the snapshot here, in the main thread, between two bytecodes; write
        # it from another thread, since the main thread may be inside a write to
        # the same stream, which a direct write would re-enter.
        try:
            text = format_blocked()
        except Exception as error:  # noqa: BLE001 - a report must not crash the program
            text = f"asyncprims: could not take the snapshot: {error!r}"
        self.reports += 1
        header = f"asyncprims: report on signal {signal.Signals(signum).name}"
        writer = threading.Thread(
            target=_write,
            args=(f"{header}\n{text}", self.file),
            name="asyncprims-signal-report",
            daemon=True,
        )
        writer.start()
        previous = self._previous
        if self.chain and callable(previous):
            previous(signum, frame)

    def stop(self) -> None:
        """Put back the previous handler, if ours is still installed (idempotent)."""
        if self._installed and signal.getsignal(self.signum) == self._handle:
            previous = self._previous
            signal.signal(self.signum, signal.SIG_DFL if previous is None else previous)
        self._installed = False

    def __enter__(self) -> SignalReport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def report_on_signal(
    signum: int | None = None, *, file: IO[str] | None = None, chain: bool = True
) -> SignalReport:
    """Print the blocked-task report to ``file`` (stderr) whenever the process
    receives ``signum`` (default SIGUSR1), as ``faulthandler.register`` does.

    POSIX only for the default; must be called from the main thread (Python
    runs signal handlers there).  ``chain``: also call the handler that was
    installed before, if it is a Python function.  A later
    ``loop.add_signal_handler()`` or ``signal.signal()`` for the same signal
    replaces this one.
    """
    if signum is None:
        signum = getattr(signal, "SIGUSR1", None)
        if signum is None:
            raise ValueError("this platform has no SIGUSR1: pass another signal number")
    if threading.current_thread() is not threading.main_thread():
        raise ValueError("report_on_signal() must be called from the main thread")
    return SignalReport(signum, file, chain)
