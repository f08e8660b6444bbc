"""The live wait-for graph: which task is blocked on which primitive, right now.

``asyncprims.blocked()`` takes a snapshot; ``asyncprims.format_blocked()``
renders it in the words of the DeadlockError report (both built from the same
pieces in :mod:`asyncprims._deadlock`), plus how long each wait has lasted and
where the task awaits.  Only asyncprims primitives are seen: swap asyncio's for
them with ``asyncprims.patch()`` to see a library's locks and queues.

Which tasks are visible
-----------------------
Every unfinished task of every event loop in the process, in any thread:
Python 3.10 to 3.13 keep all tasks in process-wide registries
(``asyncio.tasks._all_tasks``, or ``_scheduled_tasks`` and ``_eager_tasks``
from 3.12), which this module copies the way ``asyncio.all_tasks()`` does,
retrying when another thread changes them mid-copy.  From 3.14 (not installed
here, so untested) C tasks are kept per thread instead, and this module falls
back to ``asyncio.all_tasks()`` of the loops it knows: the calling thread's
running loop and any loop passed to ``blocked()`` or ``watchdog()``.

Reading another thread's tasks
------------------------------
A snapshot taken inside a loop (a task, a callback, a signal handler in the
loop's thread) sees that loop's tasks at rest: none of them is running.  Taken
from another thread (the watchdog's), a task may move while it is read, so
each task is read with a check: the future it waits on must be the same before
and after, else the task is left out (it was making progress, so it was not
stuck).  Errors from a task changing under the reader are treated the same
way.  Tasks that stay blocked, the ones a watchdog reports, are read exactly.

A task counts as blocked when it is suspended on a primitive's waiter future
that is not done yet.  A waiter that was woken but has not run yet is not
blocked: it runs at the loop's next iteration.

How long a task has waited is known when wait timing was on as the wait
began: timing costs a clock read per blocking call, so it is off until
``blocked()`` is first called, a watchdog or signal report starts,
``python -m asyncprims trace`` runs the program, or
:func:`asyncprims.time_waits` is called.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

from ._base import Primitive, _get_running_loop, _tasks_get
from ._deadlock import (
    _ASYNCIO_DIR,
    BlockedTask,
    _Describer,
    _frames,
    _natural_key,
    _walk,
    find_cycles,
    frame_location,
)
from ._waiters import WaiterQueue, time_waits

__all__ = [
    "BlockedSnapshot",
    "blocked",
    "every_task",
    "format_blocked",
    "report_line",
]

_REGISTRIES = ("_all_tasks", "_scheduled_tasks", "_eager_tasks")
_PACKAGE_DIR = os.path.dirname(__file__)
_ABSENT: Any = object()
#: Loops seen by blocked()/watchdog() (used only where no task registry exists).
_known_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


@dataclass(frozen=True)
class BlockedSnapshot:
    """What :func:`asyncprims.blocked` saw.

    ``tasks``: one :class:`BlockedTask` per task blocked on a primitive, in
    natural name order, with ``waited`` and ``location`` filled in.
    ``others``: the tasks they wait for (lock owners, semaphore holders,
    awaited tasks) that are not themselves blocked on a primitive, and what
    those are doing.  ``cycles``: each wait-for cycle as task names, first
    name repeated last.  Iterating or taking ``len()`` gives ``tasks``;
    ``str()`` gives :func:`format_blocked`'s report.  Only strings are kept.
    """

    tasks: tuple[BlockedTask, ...] = ()
    others: tuple[BlockedTask, ...] = ()
    cycles: tuple[tuple[str, ...], ...] = ()

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self) -> Iterator[BlockedTask]:
        return iter(self.tasks)

    def __bool__(self) -> bool:
        return bool(self.tasks)

    def __str__(self) -> str:
        return format_blocked(self)


def _copy(registry: Any) -> list[Any]:
    """``list(registry)``, retried while another thread changes it (as asyncio does)."""
    for _ in range(1000):
        try:
            return list(registry)
        except RuntimeError:
            continue
    return []


def every_task(loop: asyncio.AbstractEventLoop | None = None) -> list[asyncio.Task[Any]]:
    """The unfinished tasks of every open loop in the process, or of ``loop``."""
    running = _get_running_loop()
    if running is not None:
        _known_loops.add(running)
    if loop is not None:
        _known_loops.add(loop)
    found: list[Any] = []
    registries = [getattr(asyncio.tasks, name, None) for name in _REGISTRIES]
    # From 3.14 the C tasks live in per-thread lists; the registries that remain
    # hold only other task types, so they cannot be trusted to be complete.
    if sys.version_info < (3, 14) and any(registry is not None for registry in registries):
        for registry in registries:
            if registry is not None:
                found += _copy(registry)
    else:  # pragma: no cover - not an installed Python
        for known in [loop] if loop is not None else _copy(_known_loops):
            if not known.is_closed():
                found += asyncio.all_tasks(known)
    tasks = {}
    for task in found:
        task_loop = task.get_loop()
        # A pending task of a closed loop can never run again: it is litter, not blocked.
        if not task.done() and (loop is None or task_loop is loop) and not task_loop.is_closed():
            tasks[id(task)] = task
    return list(tasks.values())


def wait_start(prim: Primitive, fut: Any) -> float | None:
    """When ``fut`` (not woken yet) was queued on one of ``prim``'s waiter
    queues, as a ``time.monotonic()`` value; None when unknown (the queue was
    replaced by a plain deque, as CPython's tests do)."""
    for name in ("_waiters", "_getters", "_putters"):  # attributes or slots (a Lock's)
        value = getattr(prim, name, None)
        if isinstance(value, WaiterQueue):
            start = value._pending.get(fut, _ABSENT)
            if start is not _ABSENT:
                return start if isinstance(start, float) else None
    return None


def primitive_wait_of(task: Any) -> tuple[list[FrameType], list[tuple[int, Primitive, str]], Any]:
    """(frames, primitive frames, waiter future) when ``task`` is suspended on a
    primitive's waiter that is not done; empty primitive frames otherwise."""
    waiter = getattr(task, "_fut_waiter", None)
    if waiter is None or waiter.done():
        return [], [], None
    frames, found = _walk(task)
    return frames, found, waiter


def user_location(frames: list[FrameType]) -> str | None:
    """The innermost frame outside asyncio and asyncprims, as ``file:line in function``."""
    for frame in reversed(frames):
        directory = os.path.dirname(frame.f_code.co_filename)
        if directory not in (_ASYNCIO_DIR, _PACKAGE_DIR):
            return frame_location(frame)
    return None


def describe_live(
    describer: _Describer, task: Any, now: float
) -> tuple[BlockedTask, tuple[Any, ...]] | None:
    """The description of a task blocked on a primitive (with ``waited`` and
    ``location``) and whom it waits for; None if it is not blocked on one or
    moved while being read."""
    frames, found, waiter = primitive_wait_of(task)
    if not found:
        return None
    start = wait_start(found[-1][1], waiter)  # the innermost primitive owns the waiter
    record, targets = describer.primitive_wait(task, [(prim, name) for _, prim, name in found])
    first = found[0][0]
    location = frame_location(frames[first - 1]) if first > 0 else None
    if getattr(task, "_fut_waiter", None) is not waiter:
        return None
    waited = None if start is None else max(0.0, now - start)
    return dataclasses.replace(record, waited=waited, location=location), targets


def _describe_other(describer: _Describer, task: Any) -> tuple[BlockedTask, tuple[Any, ...]]:
    """A holder or awaited task that is not blocked on a primitive."""
    name = task.get_name()
    if task.done():
        return BlockedTask(name, "finished", "has finished"), ()
    waiter = getattr(task, "_fut_waiter", None)
    if waiter is None or waiter.done():
        loop = task.get_loop()
        state = "is running" if _tasks_get(loop) is task else "is ready to run"
        return BlockedTask(name, "running", state), ()
    frames = list(_frames(task))
    record, targets = describer.other_wait(task, frames)
    return dataclasses.replace(record, location=user_location(frames)), targets


def blocked(loop: asyncio.AbstractEventLoop | None = None) -> BlockedSnapshot:
    """A snapshot of every task blocked on an asyncprims primitive (of ``loop``
    only, if given): what it waits for, who holds it, for how long, and where.

    Safe to call from any thread and from a signal handler; see the module
    docstring for what a snapshot from another thread can miss.  The first
    call switches wait timing on (:func:`asyncprims.time_waits`): a wait that
    began before that has ``waited=None``.
    """
    time_waits()
    now = time.monotonic()
    describer = _Describer()
    described: dict[int, tuple[Any, BlockedTask, tuple[Any, ...]]] = {}
    for task in every_task(loop):
        try:
            entry = describe_live(describer, task, now)
        except Exception:  # noqa: BLE001 - the task changed under us: it was moving
            continue
        if entry is not None:
            described[id(task)] = (task, *entry)
    primitive_ids = list(described)
    others: list[Any] = [t for _, _, targets in described.values() for t in targets]
    while others:
        task = others.pop()
        if id(task) in described:
            continue
        try:
            record, targets = _describe_other(describer, task)
        except Exception:  # noqa: BLE001
            continue
        described[id(task)] = (task, record, targets)
        others += targets
    names = {key: record.task for key, (_, record, _) in described.items()}

    def order(keys: list[int]) -> list[BlockedTask]:
        keys = sorted(keys, key=lambda key: _natural_key(names[key]))
        return [described[key][1] for key in keys]

    # Cycles are searched from each task in name order, so reports are repeatable.
    edges = {
        key: [id(t) for t in described[key][2]]
        for key in sorted(described, key=lambda key: _natural_key(names[key]))
    }
    cycles = find_cycles(edges)

    blocked_ids = set(primitive_ids)
    return BlockedSnapshot(
        tuple(order(primitive_ids)),
        tuple(order([key for key in described if key not in blocked_ids])),
        tuple(tuple(names[key] for key in cycle) for cycle in cycles),
    )


def report_line(record: BlockedTask) -> str:
    """``str(record)`` plus, when known, how long it has waited and where."""
    text = str(record)
    if record.waited is not None:
        waited = record.waited
        text += f", for {waited:.1f} s" if waited >= 1 else f", for {waited * 1000:.0f} ms"
    if record.location is not None:
        text += f", at {record.location}"
    return text


def format_blocked(
    snapshot: BlockedSnapshot | None = None, *, loop: asyncio.AbstractEventLoop | None = None
) -> str:
    """The report of ``snapshot`` (a new :func:`blocked` snapshot if None), in
    the words of the DeadlockError report, one task per line, then any cycles
    and what the tasks they wait for are doing."""
    if snapshot is None:
        snapshot = blocked(loop)
    if not snapshot.tasks:
        text = "asyncprims: no task is blocked on an asyncprims primitive"
        from .patching import is_patched

        if not is_patched():
            text += " (asyncio's own primitives are not seen: asyncprims.patch() swaps them)"
        return text
    count = len(snapshot.tasks)
    lines = [f"asyncprims: {count} task{'' if count == 1 else 's'} blocked on a primitive"]
    lines += [f"  {report_line(record)}" for record in snapshot.tasks]
    lines += [f"  cycle: {' -> '.join(repr(name) for name in cycle)}" for cycle in snapshot.cycles]
    if snapshot.others:
        lines.append("the tasks they wait for:")
        lines += [f"  {report_line(record)}" for record in snapshot.others]
    return "\n".join(lines)
