"""Real-time deadlock detection: a wait that closes a cycle is reported at once.

``asyncprims.detect_cycles()`` turns it on, process-wide, until the handle it
returns is stopped.  Then, each time a task is about to block on a Lock or a
Semaphore (a Condition's lock and a Barrier's included), the task's wait-for
chain is followed through the holders:

* a task waiting for a Lock waits for its owner;
* a task waiting for a Semaphore waits for *all* its holders: any one of them
  giving a permit back would free it;
* a task awaiting another task waits for that task.

If every path comes back to the waiting task, blocked on Locks and Semaphores
all the way, the wait can never end: it closes a cycle (re-acquiring a Lock
the task already holds is the shortest one).  The check assumes what correct
programs do: a lock or permit is given back by the task holding it, not by a
third party.  Chains that leave through anything else (a task running, one
waiting for I/O, a timer, a Queue, an Event) end the check: such a wait may
still end.  Cycles closed by awaiting a task (``await other_task``) are not
checked at that moment; ``asyncprims.blocked()`` and the watchdog show them.

What happens then is the ``action``:

``"log"`` (default)
    the report goes to the ``asyncprims`` logger at ERROR level (printed on
    stderr when logging is not configured) and the task blocks, as it would
    have;
``"raise"``
    ``acquire()`` raises :class:`DeadlockError` with the report, before the
    task is queued: nothing was taken, so an ``async with`` unwinds and
    releases what the task held, which breaks the cycle;
a callable
    called with the :class:`DeadlockError` (report and records); if it
    raises, that exception comes out of ``acquire()``.

Cost: with detection off, a blocking call pays one global lookup; uncontended
calls pay nothing.  With it on, each blocking acquire reads the holders and
follows the chain while it leads through blocked tasks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from . import _base
from ._deadlock import BlockedTask, DeadlockError, _Describer, frame_location
from ._live import describe_live, primitive_wait_of, report_line
from .locks import Lock
from .semaphores import Semaphore

__all__ = ["CycleDetection", "detect_cycles"]

Action = Literal["log", "raise"] | Callable[[DeadlockError], object]

#: Steps of one check before it gives up (and lets the wait happen).
_BUDGET = 10_000
_guard = threading.Lock()
#: The primitives whose waits depend on holders (a Condition's and a Barrier's
#: waits to acquire are waits on their Lock).
_HOLDING = (Lock, Semaphore)
_active: list[CycleDetection] = []


class CycleDetection:
    """The handle :func:`detect_cycles` returns: ``stop()`` (or leaving its
    ``with`` block) turns this detection off.  Detections stack: the newest
    one active decides the action."""

    def __init__(self, action: Action) -> None:
        if action not in ("log", "raise") and not callable(action):
            raise ValueError(f"action must be 'log', 'raise' or a callable, not {action!r}")
        self.action = action
        #: How many cycles this detection has reported.
        self.reported = 0

    def stop(self) -> None:
        """Stop this detection (idempotent)."""
        with _guard:
            if self in _active:
                _active.remove(self)
            _base._wait_hook = _check if _active else None

    def __enter__(self) -> CycleDetection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "on" if self in _active else "off"
        return f"<asyncprims.CycleDetection {state} action={self.action!r}>"


def detect_cycles(action: Action = "log") -> CycleDetection:
    """Report at once any wait on a Lock or Semaphore that closes a wait-for
    cycle (see the module docstring); returns the handle that stops it."""
    detection = CycleDetection(action)
    with _guard:
        _active.append(detection)
        _base._wait_hook = _check
    return detection


def _holders(prim: Any) -> tuple[Any, ...] | None:
    """The tasks a wait on ``prim`` depends on; None if it could end otherwise
    (free, held outside any task, a permit free, not a holding primitive)."""
    stats = prim.statistics()
    if isinstance(prim, Semaphore):
        if stats.value > 0 or not stats.holders:
            return None
        return tuple(stats.holders)
    if not hasattr(stats, "owner") or not stats.locked or stats.owner is None:
        return None
    return (stats.owner,)


def _waits_for(task: Any) -> tuple[Any, ...] | None:
    """Whom a blocked task depends on, or None if its wait may end otherwise."""
    waiter = getattr(task, "_fut_waiter", None)
    if waiter is None or waiter.done() or task.done():
        return None
    if isinstance(waiter, asyncio.Task):
        return (waiter,)
    _, found, _ = primitive_wait_of(task)
    if not found:
        return None
    prim = found[-1][1]  # the innermost primitive owns the waiter the task is on
    return _holders(prim) if isinstance(prim, _HOLDING) else None


def _closing_cycle(start: Any, prim: Any) -> list[Any] | None:
    """The cycle ``[start, ..., start]`` that ``start`` closes by waiting on
    ``prim``, if every chain from it leads back to it through blocked tasks."""
    budget = [_BUDGET]

    def explore(targets: tuple[Any, ...], path: list[Any]) -> tuple[bool, list[Any] | None]:
        cycle = None
        for target in targets:
            budget[0] -= 1
            if budget[0] < 0:
                return False, None
            if target is start:
                cycle = cycle or [*path, start]
                continue
            if any(target is seen for seen in path):
                continue  # a cycle not through start: stuck, by its own loop
            following = _waits_for(target)
            if following is None:
                return False, None
            stuck, found = explore(following, [*path, target])
            if not stuck:
                return False, None
            cycle = cycle or found
        return True, cycle

    first = _holders(prim)
    if first is None:
        return None
    stuck, cycle = explore(first, [start])
    return cycle if stuck else None


def _check(prim: Any) -> None:
    """The wait hook: runs in the task about to block on ``prim``."""
    if not isinstance(prim, _HOLDING):
        return
    task = _base._tasks_get(prim._loop)
    if task is None:
        return
    cycle = _closing_cycle(task, prim)
    if cycle is None:
        return
    try:
        detection = _active[-1]
    except IndexError:  # stopped from another thread meanwhile
        return
    error = _report(task, prim, cycle)
    detection.reported += 1
    action = detection.action
    if action == "raise":
        raise error
    if action == "log":
        import logging

        logging.getLogger("asyncprims").error("%s", error.report)
        return
    assert callable(action)
    action(error)


def _caller_location() -> str | None:
    """Where the running task called into asyncprims."""
    frame: Any = sys._getframe(1)
    package = os.path.dirname(_base.__file__)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == package:
        frame = frame.f_back
    return None if frame is None else frame_location(frame)


def _report(task: Any, prim: Any, cycle: list[Any]) -> DeadlockError:
    describer = _Describer()
    first, _ = describer.primitive_wait(task, [(prim, "acquire")])
    records: list[BlockedTask] = [dataclasses.replace(first, location=_caller_location())]
    now = time.monotonic()
    for member in dict.fromkeys(cycle[1:-1]):
        entry = describe_live(describer, member, now)
        if entry is None:  # awaiting a task, not a primitive
            entry = describer.other_wait(member)
        records.append(entry[0])
    lines = [
        f"deadlock: task {task.get_name()!r} is about to wait for "
        f"{first.primitive}, which closes a wait-for cycle: no task in it can ever proceed"
    ]
    lines += [f"  {report_line(record)}" for record in records]
    lines.append(f"  cycle: {' -> '.join(repr(member.get_name()) for member in cycle)}")
    return DeadlockError("\n".join(lines), records)
