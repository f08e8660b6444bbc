"""The probe: records what the primitives do while a trace is active.

Usage::

    with asyncprims.trace() as timeline:
        asyncprims.run(main(), virtual_time=True)
    timeline.events

A trace is scoped by a context variable, so it sees the operations of the code
that runs in its context: tasks created inside the ``with`` block (they copy the
context) and callbacks scheduled from them.  With no trace active a primitive
pays one ``ContextVar.get()`` per operation and nothing else.

Event vocabulary (``TraceEvent.action``)
----------------------------------------
Recorded by the task whose state changes:

``wait``      the task blocks; ``detail`` names the operation
              (``acquire``, ``wait``, ``get``, ``put``, ``join``, ``barrier``)
``resume``    its wait ended because something woke it; ``cause`` is the
              ``seq`` of the ``wake`` event, ``target`` the waking task
``cancel``    its wait ended by cancellation
``timeout``   its wait ended by ``asyncio.timeout`` / ``asyncio.wait_for``
``acquire``   it now holds the lock or one permit (a holding span starts)
``release``   a hold ends; ``target`` is the holder whose hold ends (usually
              the releasing task itself, but a callback may release a lock)

Recorded by the task (or ``"callback"``) that acts on the primitive:

``wake``      it woke ``target``; ``detail`` says how (``release``, ``set``,
              ``notify``, ``put``, ``get``, ``task_done``, ``shutdown``, ...)
``set``, ``clear``, ``notify`` (``value`` = how many it woke), ``put``,
``get`` (``value`` = queue size afterwards), ``task_done`` (``value`` =
unfinished tasks), ``shutdown``, ``trip``, ``pass`` (``value`` = arrival
index), ``reset``, ``abort``

Invariants: ``seq`` increases by one per event, dropped ones included; every
``wait`` is followed by exactly one of ``resume``/``cancel``/``timeout`` from
the same task on the same primitive, unless the trace ends first.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import sys
import time as _time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .timeline import Timeline

__all__ = ["Recorder", "TraceEvent", "current_recorder", "label_of", "trace"]

WAIT_ENDINGS = frozenset({"resume", "cancel", "timeout"})


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One recorded operation.  ``time`` is ``loop.time()`` when it happened."""

    seq: int
    time: float
    task: str
    primitive: str
    kind: str
    action: str
    detail: str = ""
    target: str | None = None
    cause: int | None = None
    value: float | None = None


_active: ContextVar[Recorder | None] = ContextVar("asyncprims_trace", default=None)

#: The hot-path check: ``rec = current_recorder()``; ``None`` when not tracing.
current_recorder = _active.get


def _task_label() -> tuple[str, float]:
    """(name of the running task or ``"callback"``, current loop time)."""
    loop = asyncio.events._get_running_loop()
    if loop is None:
        return "main", _time.monotonic()
    task = asyncio.current_task(loop)
    return ("callback" if task is None else task.get_name()), loop.time()


def _cancelled_by_timeout() -> bool:
    """Is the ``cancel()`` being called right now issued by a timeout?

    Looks a few frames up for asyncio's timeout machinery: ``Timeout._on_timeout``
    (3.11+, and ``wait_for`` since 3.12) or ``_cancel_and_wait`` called by an
    expired ``wait_for`` (3.10, 3.11).
    """
    frame: FrameType | None = sys._getframe(2)
    for _ in range(6):
        if frame is None:
            return False
        code = frame.f_code
        if "asyncio" in code.co_filename:
            if code.co_name == "_on_timeout":
                return True
            if code.co_name == "wait_for":
                waiter = frame.f_locals.get("waiter")
                if waiter is not None:
                    return bool(waiter.done() and not waiter.cancelled())
                timeout = frame.f_locals.get("timeout")
                return timeout is not None and timeout <= 0
        frame = frame.f_back
    return False


class _TracedFuture(asyncio.Future):  # type: ignore[type-arg]
    """A waiter future that remembers whether a timeout cancelled it."""

    _by_timeout = False

    def cancel(self, msg: Any = None) -> bool:
        if _cancelled_by_timeout():  # a woken waiter can still be timed out
            self._by_timeout = True
        return super().cancel(msg)


class Recorder:
    """Collects events for one ``trace()``; primitives call its methods.

    Every method starts by resolving the primitive's label; events of internal
    helpers (a Queue's join Event, a Barrier's Condition) are reported under
    their owner's label, and only their waiting (not their holding or instants).
    """

    def __init__(self, max_events: int | None = None) -> None:
        if max_events is not None and max_events < 1:
            raise ValueError("max_events must be a positive integer or None")
        self.max_events = max_events
        self._store: collections.deque[tuple[Any, ...]] = collections.deque(maxlen=max_events)
        self._count = 0
        self._labels: dict[int, tuple[str, str, str | None]] = {}
        self._keep: list[object] = []  # keeps labelled primitives alive, so ids stay unique
        self._per_kind: collections.Counter[str] = collections.Counter()
        self._waiting_task: dict[object, str] = {}
        self._woken_by: dict[object, tuple[int, str]] = {}
        self._holders: dict[int, list[str]] = {}
        self.virtual_time = False

    # -- bookkeeping -------------------------------------------------------------

    @property
    def dropped(self) -> int:
        """How many of the oldest events were discarded to honour ``max_events``."""
        return self._count - len(self._store)

    def _resolve(self, prim: Any) -> tuple[str, str, str | None]:
        """(label, kind, internal operation or None) for a primitive."""
        key = id(prim)
        found = self._labels.get(key)
        if found is not None:
            return found
        owner = prim._trace_owner
        if owner is not None:
            label, kind, internal = self._resolve(owner)
            if prim._trace_operation is not None and internal is None:
                internal = prim._trace_operation
        else:
            kind = type(prim).__name__
            label = prim._name
            if label is None:
                self._per_kind[kind] += 1
                label = f"{kind}-{self._per_kind[kind]}"
            internal = None
        found = (label, kind, internal)
        self._labels[key] = found
        self._keep.append(prim)
        return found

    def _add(self, prim: Any, action: str, detail: str = "", target: str | None = None,
             cause: int | None = None, value: float | None = None,
             task: str | None = None) -> int:
        label, kind, _ = self._resolve(prim)
        name, now = _task_label()
        if not self._count and getattr(asyncio.events._get_running_loop(),
                                       "virtual_time", False):
            self.virtual_time = True
        seq = self._count
        self._count += 1
        self._store.append((seq, now, task or name, label, kind, action, detail,
                            target, cause, value))
        return seq

    # -- what primitives call -----------------------------------------------------

    def future(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[Any]:
        """A waiter future that can tell a timeout from a plain cancellation."""
        return _TracedFuture(loop=loop)

    def instant(self, prim: Any, action: str, detail: str = "",
                value: float | None = None) -> None:
        """A point event (set, clear, notify, put, get, ...); dropped for internals."""
        if self._resolve(prim)[2] is None:
            self._add(prim, action, detail, value=value)

    def wait(self, prim: Any, fut: object, operation: str) -> None:
        """The running task blocks on ``prim`` until ``fut`` is done."""
        internal = self._resolve(prim)[2]
        name, _ = _task_label()
        self._waiting_task[fut] = name
        self._add(prim, "wait", internal or operation)

    def wake(self, prim: Any, fut: object, how: str) -> None:
        """The running task (or callback) has just completed waiter ``fut``."""
        target = self._waiting_task.get(fut)
        if target is None:
            return  # the waiter began before this trace
        seq = self._add(prim, "wake", how, target=target)
        self._woken_by[fut] = (seq, _task_label()[0])

    def resume(self, prim: Any, fut: object) -> None:
        """The waiter of ``fut`` runs again after being woken."""
        if self._waiting_task.pop(fut, None) is None:
            return
        seq, waker = self._woken_by.pop(fut, (None, None))
        self._add(prim, "resume", target=waker, cause=seq)

    def interrupt(self, prim: Any, fut: object) -> None:
        """The wait on ``fut`` ended with an exception (cancellation, usually)."""
        if self._waiting_task.pop(fut, None) is None:
            return
        woken = self._woken_by.pop(fut, None)
        action = "timeout" if getattr(fut, "_by_timeout", False) else "cancel"
        self._add(prim, action, "after wake-up" if woken else "",
                  cause=None if woken is None else woken[0])

    def acquired(self, prim: Any) -> None:
        """The running task now holds ``prim`` (a lock, or one permit)."""
        if self._resolve(prim)[2] is not None:
            return
        name, _ = _task_label()
        self._holders.setdefault(id(prim), []).append(name)
        self._add(prim, "acquire")

    def released(self, prim: Any) -> None:
        """A hold on ``prim`` ends: the releasing task's own, else the oldest one."""
        if self._resolve(prim)[2] is not None:
            return
        name, _ = _task_label()
        holders = self._holders.get(id(prim))
        target = None
        if holders:
            target = name if name in holders else holders[0]
            holders.remove(target)
        self._add(prim, "release", target=target)

    # -- reading --------------------------------------------------------------------

    def events(self) -> list[TraceEvent]:
        return [TraceEvent(*row) for row in self._store]


@contextlib.contextmanager
def trace(max_events: int | None = None) -> Iterator[Timeline]:
    """Record every asyncprims operation made in this context.

    ``max_events`` bounds memory: only the newest events are kept, and
    ``timeline.dropped`` says how many were discarded.
    """
    from .timeline import Timeline

    recorder = Recorder(max_events)
    token = _active.set(recorder)
    try:
        yield Timeline(recorder)
    finally:
        _active.reset(token)


def label_of(prim: Any) -> str:
    """The name a primitive goes by: ``name=``, else the active trace's label, else its class."""
    owner = prim
    while getattr(owner, "_trace_owner", None) is not None:
        owner = owner._trace_owner
    if owner._name is not None:
        return str(owner._name)
    recorder = _active.get()
    if recorder is not None:
        return recorder._resolve(owner)[0]
    return type(owner).__name__
