"""Explain a deadlock: which task waits on what, and who holds it.

The loop in :mod:`asyncprims.clock` decides *that* nothing can ever wake it
again; this module says *why*, from the blocked tasks alone:

* What a task waits on is read from its suspended coroutine chain
  (``task.get_coro()``, then ``cr_await`` repeatedly).  The **outermost** frame
  whose ``self`` is an :class:`~asyncprims._base.Primitive` names the primitive
  and the method name (``co_name``) the operation.  Outermost, because
  primitives wait inside helpers of their own: a Barrier inside its Condition,
  ``Queue.join`` inside an Event.
* Who holds a lock or a semaphore comes from its ``statistics()``.
* Anything else a task awaits (another task, a gather, a bare future) comes
  from ``task._fut_waiter``, the future the task is suspended on.

The report is deterministic: task names only, sorted naturally
(``Task-9`` before ``Task-10``), no addresses and no wall-clock times.
Unnamed primitives are numbered in the order the report first mentions them.
Wait-for cycles are found on the tasks themselves, not on their names, so two
tasks that share a name never make a false cycle.

The live report (:mod:`asyncprims._live`) and the real-time cycle check
(:mod:`asyncprims._cycles`) describe tasks with the same pieces; they add how
long each wait has lasted and where the task awaits.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, TypeVar

from ._base import Primitive
from .tracing import label_of

__all__ = [
    "BlockedTask",
    "DeadlockError",
    "describe_blocked_tasks",
    "find_cycles",
    "frame_location",
]

_ASYNCIO_DIR = os.path.dirname(asyncio.__file__)
_OPERATION_ALIASES = {"__aenter__": "acquire"}


@dataclass(frozen=True)
class BlockedTask:
    """One task found blocked when a run deadlocked.

    ``operation`` is the primitive method it is suspended in (``acquire``,
    ``wait``, ``get``, ``put``, ``join``, ...) or ``"await"`` when it awaits
    something that is not a primitive.  ``primitive`` is the display name used
    in the report (``"Lock 'fork-a'"``), ``kind`` its class name; both are None
    for a non-primitive wait.  ``holders`` names the tasks holding the lock or
    permits it waits for, ``awaiting`` the tasks it awaits directly.  Only
    strings are kept, so the record keeps no task or primitive alive.
    """

    task: str
    operation: str
    description: str
    primitive: str | None = None
    kind: str | None = None
    holders: tuple[str, ...] = ()
    awaiting: tuple[str, ...] = field(default=())
    #: Live reports only: seconds (``time.monotonic``) since the wait began,
    #: None when unknown (it began before wait timing was switched on).  Real
    #: seconds, even on a virtual-time loop.
    waited: float | None = None
    #: Live reports only: ``"file:line in function"`` of the await in the
    #: code that called the primitive, None when the task runs the
    #: primitive's method directly.
    location: str | None = None

    def __str__(self) -> str:
        return f"task {self.task!r} {self.description}"


class DeadlockError(RuntimeError):
    """Raised by :func:`asyncprims.run` when no task can ever run again.

    ``report`` is the human-readable explanation (also ``str(error)``);
    ``blocked`` lists one :class:`BlockedTask` per blocked task, in report order.
    By the time this is raised the blocked tasks have been cancelled and the
    loop closed.
    """

    def __init__(self, report: str, blocked: list[BlockedTask] | None = None) -> None:
        super().__init__(report)
        self.report = report
        self.blocked: list[BlockedTask] = list(blocked or [])


def _natural_key(name: str) -> list[Any]:
    """Sort key placing ``Task-9`` before ``Task-10``."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name)]


def _frames(task: asyncio.Task[Any]) -> Iterator[FrameType]:
    """The frames of the task's suspended coroutine chain, outermost first."""
    coro: Any = task.get_coro()
    for _ in range(10_000):  # a chain is finite; this bounds a pathological one
        if coro is None:
            return
        frame = (
            getattr(coro, "cr_frame", None)
            or getattr(coro, "gi_frame", None)
            or getattr(coro, "ag_frame", None)
        )
        if frame is not None:
            yield frame
        following = getattr(coro, "cr_await", None)
        if following is None:
            following = getattr(coro, "gi_yieldfrom", None)
        coro = following


def _walk(task: asyncio.Task[Any]) -> tuple[list[FrameType], list[tuple[int, Primitive, str]]]:
    """The chain's frames, outermost first, and ``(index, primitive, method name)``
    for each frame whose ``self`` is a primitive.

    Only frames whose code has a ``self`` variable have their locals read.
    """
    frames = list(_frames(task))
    found = []
    for index, frame in enumerate(frames):
        if "self" not in frame.f_code.co_varnames:
            continue
        owner = frame.f_locals.get("self")
        if isinstance(owner, Primitive):
            found.append((index, owner, frame.f_code.co_name))
    return frames, found


def _primitive_frames(task: asyncio.Task[Any]) -> list[tuple[Primitive, str]]:
    """(primitive, method name) for each chain frame whose ``self`` is a primitive."""
    return [(prim, method) for _, prim, method in _walk(task)[1]]


def frame_location(frame: FrameType) -> str:
    """``"file:line in function"``; the path relative to the working directory
    when the file lies under it."""
    code = frame.f_code
    path = code.co_filename
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        relative = path
    if not relative.startswith(os.pardir):
        path = relative
    return f"{path}:{frame.f_lineno} in {getattr(code, 'co_qualname', code.co_name)}"


def _task_name(task: object) -> str:
    get_name = getattr(task, "get_name", None)
    return str(get_name()) if get_name is not None else "a future"


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(repr(name) for name in names)


#: A task's description and the tasks it waits for (its wait-for edges).
Described = tuple[BlockedTask, tuple[Any, ...]]


class _Describer:
    """Builds the per-task lines; numbers unnamed primitives as it meets them."""

    def __init__(self) -> None:
        self._unnamed: dict[int, str] = {}
        self._keep: list[object] = []

    def name_of(self, prim: Primitive) -> str:
        kind = type(prim).__name__
        label = label_of(prim)
        if prim.name is not None or label != kind:
            return f"{kind} {label!r}"
        known = self._unnamed.get(id(prim))
        if known is None:
            count = sum(1 for text in self._unnamed.values() if text.startswith(kind + " #"))
            known = f"{kind} #{count + 1}"
            self._unnamed[id(prim)] = known
            self._keep.append(prim)
        return known

    @staticmethod
    def holders_of(prim: Primitive) -> tuple[tuple[Any, ...], str]:
        """(holder tasks, parenthesised holder text) for a lock-like primitive."""
        stats_source: Any = getattr(prim, "_lock", prim)  # a Condition's lock
        statistics = getattr(stats_source, "statistics", None)
        if statistics is None:
            return (), ""
        stats = statistics()
        if hasattr(stats, "owner"):
            if not stats.locked:
                return (), " (not held)"
            tasks = () if stats.owner is None else (stats.owner,)
        elif hasattr(stats, "holders"):
            tasks = tuple(stats.holders)
            if not tasks:
                free = getattr(stats, "value", 0)
                return (), f" ({free} permits free)" if free else " (no permit free)"
        else:
            return (), ""
        if not tasks:
            return (), " (held outside any task)"
        parts = [repr(task.get_name()) + (" [finished]" if task.done() else "") for task in tasks]
        return tasks, f" (held by {', '.join(parts)})"

    def describe(self, task: asyncio.Task[Any]) -> Described:
        """Why ``task`` (pending, not running) is suspended, and whom it waits for."""
        frames, found = _walk(task)
        if found:
            return self.primitive_wait(task, [(prim, method) for _, prim, method in found])
        return self.other_wait(task, frames)

    def primitive_wait(self, task: Any, found: list[tuple[Primitive, str]]) -> Described:
        prim, method = found[0]
        while prim._trace_owner is not None:  # a helper acquired directly: name its owner
            prim = prim._trace_owner
        operation = _OPERATION_ALIASES.get(method, method)
        kind = type(prim).__name__
        name = self.name_of(prim)
        holders: tuple[Any, ...] = ()
        stats: Any = prim.statistics() if hasattr(prim, "statistics") else None
        if hasattr(prim, "notify"):  # Condition
            holders, held = self.holders_of(prim)
            if operation == "acquire":
                text = f"waits to acquire {name}{held}"
            elif len(found) > 1 and not hasattr(found[-1][0], "notify"):
                text = f"waits to re-acquire the lock of {name}{held}"
            else:
                holders = ()
                text = f"waits for a notify on {name}"
        elif operation == "acquire":
            holders, held = self.holders_of(prim)
            text = f"waits to acquire {name}{held}"
        elif kind.endswith("Queue") and operation in ("get", "put", "join"):
            if operation == "get":
                text = f"waits to get from {name} (empty)"
            elif operation == "put":
                text = f"waits to put into {name} (full: {stats.size} of {stats.maxsize})"
            else:
                text = f"waits in join() of {name} ({stats.unfinished_tasks} unfinished)"
        elif hasattr(prim, "is_set") and operation == "wait":
            text = f"waits for {name} to be set"
        elif hasattr(prim, "parties") and operation == "wait":
            if stats.state == "filling":
                text = f"waits at {name} ({stats.n_waiting} of {stats.parties} arrived)"
            else:
                text = f"waits at {name} ({stats.state})"
        else:
            text = f"waits in {method}() of {name}"
        names = tuple(holder.get_name() for holder in holders)
        return BlockedTask(task.get_name(), operation, text, name, kind, names), holders

    @staticmethod
    def other_wait(task: asyncio.Task[Any], frames: list[FrameType] | None = None) -> Described:
        waiter = getattr(task, "_fut_waiter", None)
        name = task.get_name()
        if isinstance(waiter, asyncio.Task):
            awaited: tuple[str, ...] = (waiter.get_name(),)
            record = BlockedTask(name, "await", f"awaits task {awaited[0]!r}", awaiting=awaited)
            return record, (waiter,)
        children = getattr(waiter, "_children", None)
        if children is not None:  # asyncio.gather
            tasks = tuple(child for child in children if isinstance(child, asyncio.Task))
            awaited = tuple(_task_name(child) for child in tasks)
            others = len(children) - len(awaited)
            text = "awaits gather of "
            text += f"tasks {_quoted(awaited)}" if awaited else "nothing but futures"
            if awaited and others:
                text += f" and {others} other future{'s' if others > 1 else ''}"
            return BlockedTask(name, "await", text, awaiting=awaited), tasks
        if frames is None:
            frames = list(_frames(task))
        for frame in frames:  # outermost asyncio helper: asyncio.wait(), TaskGroup, ...
            if os.path.dirname(frame.f_code.co_filename) == _ASYNCIO_DIR:
                qualname = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
                if qualname == "TaskGroup.__aexit__":
                    return BlockedTask(name, "await", "waits for the tasks of its TaskGroup"), ()
                return BlockedTask(name, "await", f"awaits asyncio.{qualname}()"), ()
        where = ""
        if frames:
            code = frames[-1].f_code
            where = f" in {getattr(code, 'co_qualname', code.co_name)}()"
        what = "a future" if waiter is not None else "nothing that is known"
        return BlockedTask(name, "await", f"awaits {what}{where}"), ()


_K = TypeVar("_K", bound=Hashable)


def find_cycles(edges: Mapping[_K, Iterable[_K]], *, first_only: bool = False) -> list[list[_K]]:
    """Wait-for cycles, each as ``[start, ..., start]``, tried from each node in
    ``edges`` order; steps only into nodes that are keys of ``edges``.

    A node belongs to at most one reported cycle.
    """
    cycles: list[list[_K]] = []
    used: set[_K] = set()
    for start in edges:
        if start in used:
            continue
        path = [start]
        seen = {start}
        stack = [iter(edges[start])]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                path.pop()
                continue
            if step == start:
                cycles.append([*path, start])
                used.update(path)
                break
            if step in edges and step not in seen and step not in used:
                seen.add(step)
                path.append(step)
                stack.append(iter(edges[step]))
        if cycles and first_only:
            break
    return cycles


#: One wait-for edge of a deadlock, for the trace: (task name, primitive or
#: None, operation, the task it waits for or None, part of the cycle).
DeadlockEdge = tuple[str, Any, str, "str | None", bool]


def describe_blocked_tasks(
    tasks: Iterable[asyncio.Task[Any]], edges: list[DeadlockEdge] | None = None
) -> DeadlockError:
    """A :class:`DeadlockError` explaining why ``tasks`` (all pending) are stuck.

    Call it before the tasks are cancelled: it reads their suspended frames.
    With ``edges``, also appends the wait-for edges (see ``DeadlockEdge``), in
    report order, for :meth:`~asyncprims.tracing.Recorder.deadlock`.
    """
    pending = sorted(
        (task for task in tasks if not task.done()), key=lambda task: _natural_key(task.get_name())
    )
    describer = _Describer()
    described = [describer.describe(task) for task in pending]
    records = [record for record, _ in described]
    waited_on = [
        _owner_of(found[0][0]) if (found := _primitive_frames(task)) else None for task in pending
    ]
    count = len(records)
    verb = "task is" if count == 1 else "tasks are"
    lines = [f"deadlock: {count} {verb} blocked and nothing can wake them"]
    lines += [f"  {record}" for record in records]
    graph = {
        id(task): [id(target) for target in targets]
        for task, (_, targets) in zip(pending, described)
    }
    names = {id(task): task.get_name() for task in pending}
    in_cycle: set[tuple[str, str]] = set()
    for cycle in find_cycles(graph, first_only=True):
        lines.append(f"  cycle: {' -> '.join(repr(names[key]) for key in cycle)}")
        in_cycle |= {(names[a], names[b]) for a, b in itertools.pairwise(cycle)}
    if edges is not None:
        for record, prim in zip(records, waited_on):
            targets: tuple[str | None, ...] = record.holders + record.awaiting or (None,)
            for target in targets:
                edges.append(
                    (record.task, prim, record.operation, target, (record.task, target) in in_cycle)
                )
    return DeadlockError("\n".join(lines), records)


def _owner_of(prim: Primitive) -> Primitive:
    """The primitive a helper stands for (a Queue's join Event, a Barrier's Condition)."""
    while prim._trace_owner is not None:
        prim = prim._trace_owner
    return prim
