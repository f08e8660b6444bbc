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
``get`` (``value`` = queue size afterwards; for ``get``, ``cause`` = the
``seq`` of the ``put`` that brought the item, when this trace saw it),
``task_done`` (``value`` = unfinished tasks), ``shutdown``, ``trip``, ``pass``
(``value`` = arrival index), ``reset``, ``abort``

Recorded by :func:`asyncprims.run` when it finds a deadlock, one per blocked
task and wait-for edge, all at the same moment, before the stuck tasks are
cancelled (their cancellation is not recorded):

``deadlock``  ``task`` is stuck on ``primitive`` (``""`` when it awaits a task,
              not a primitive); ``detail`` the operation; ``target`` the task
              it waits for (a holder, or the awaited task), or None;
              ``value`` 1 when the edge is part of the wait-for cycle, else 0

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
import warnings
import weakref
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

from ._base import _get_running_loop, running_task

if TYPE_CHECKING:
    from .timeline import Timeline

__all__ = ["MixedClocksWarning", "Recorder", "TraceEvent", "current_recorder", "label_of",
           "trace"]

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

#: The recorder of the trace active in this context, or None.
current_recorder = _active.get
#: The recorders of every ``trace()`` block being run, in any context or thread.
#: The hot paths test this list first (a global load, cheaper than the
#: context lookup): ``rec = current_recorder() if tracing else None``.
tracing: list[Recorder] = []


def _where() -> tuple[str, float]:
    """(name of the running task, or ``"callback"`` or ``"main"`` outside any task
    or loop; the running loop's ``time()``)."""
    task = running_task()
    if task is not None:
        return task.get_name(), task.get_loop().time()
    loop = _get_running_loop()
    if loop is None:
        return "main", _time.monotonic()
    return "callback", loop.time()


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


class MixedClocksWarning(UserWarning):
    """A trace now holds events from runs on different clocks (see ``Recorder.note_run``)."""


class _TracedFuture(asyncio.Future):  # type: ignore[type-arg]
    """A waiter future that remembers whether a timeout cancelled it, and,
    while its wait is recorded, (recorder, waiting task) in ``_trace_wait``
    and (seq, name) of the wake that completed it in ``_trace_woken``.

    The notes live on the future, not in the recorder, so a trace holds no
    future (and through it no loop) once the wait is over or abandoned.
    """

    _by_timeout = False
    _trace_wait: tuple[Recorder, str] | None = None
    _trace_woken: tuple[int, str] | None = None

    def cancel(self, msg: Any = None) -> bool:
        if _cancelled_by_timeout():  # a woken waiter can still be timed out
            self._by_timeout = True
        return super().cancel(msg)


class Recorder:
    """Collects events for one ``trace()``; primitives call its methods.

    Every method starts by resolving the primitive's label; events of internal
    helpers (a Queue's join Event, a Barrier's Condition) are reported under
    their owner's label, and only their waiting (not their holding or instants).

    Memory: besides the newest ``max_events`` rows, a recorder holds one small
    entry per *living* primitive it has seen (label, kind, holder names),
    keyed by ``id()`` and dropped by a weak-reference callback when the
    primitive dies, so an id reused later cannot inherit a label; and a
    counter per class for the automatic labels (``Lock-1``, ``Lock-2``, ... in
    order of first appearance, never reused).  It holds no primitive, future,
    task or loop.
    """

    def __init__(self, max_events: int | None = None) -> None:
        if max_events is not None and max_events < 1:
            raise ValueError("max_events must be a positive integer or None")
        self.max_events = max_events
        self._store: collections.deque[tuple[Any, ...]] = collections.deque(maxlen=max_events)
        self._count = 0
        self._labels: dict[int, tuple[str, str, str | None, list[str]]] = {}
        self._label_refs: dict[int, weakref.ref[Any]] = {}  # drop a label when its primitive dies
        self._per_kind: collections.Counter[str] = collections.Counter()
        # Per queue: id(item) -> seqs of the puts of the items of that identity
        # still in the queue, oldest first.  Holds no item, and no queue.
        self._items: weakref.WeakKeyDictionary[Any, dict[int, collections.deque[int]]] = (
            weakref.WeakKeyDictionary())
        self.virtual_time = False
        #: True once runs on different clocks were recorded (see :meth:`note_run`).
        self.mixed_clocks = False
        self._runs: list[bool] = []

    # -- bookkeeping -------------------------------------------------------------

    @property
    def dropped(self) -> int:
        """How many of the oldest events were discarded to honour ``max_events``."""
        return self._count - len(self._store)

    def _resolve(self, prim: Any) -> tuple[str, str, str | None, list[str]]:
        """(label, kind, internal operation or None, current holders' names) for a
        primitive; the holders list is the one the recorder updates."""
        key = id(prim)
        found = self._labels.get(key)
        if found is not None:
            return found
        owner = prim._trace_owner
        if owner is not None:
            label, kind, internal, _ = self._resolve(owner)
            if prim._trace_operation is not None and internal is None:
                internal = prim._trace_operation
        else:
            kind = type(prim).__name__
            label = prim._name
            if label is None:
                self._per_kind[kind] += 1
                label = f"{kind}-{self._per_kind[kind]}"
            internal = None
        found = (label, kind, internal, [])
        labels = self._labels
        refs = self._label_refs

        def forget(_ref: object, key: int = key) -> None:
            labels.pop(key, None)
            refs.pop(key, None)

        labels[key] = found
        refs[key] = weakref.ref(prim, forget)
        return found

    def _add(self, label: str, kind: str, name: str, now: float, action: str,
             detail: str = "", target: str | None = None, cause: int | None = None,
             value: float | None = None) -> int:
        """Store one event row; return its ``seq``.  The busiest methods below
        inline these three lines rather than pay for the call."""
        seq = self._count
        self._count = seq + 1 if seq else self._first_event()
        self._store.append((seq, now, name, label, kind, action, detail, target, cause, value))
        return seq

    def _first_event(self) -> int:
        """Note whether the first event happens on a virtual-time loop; return 1."""
        self.virtual_time = bool(getattr(_get_running_loop(), "virtual_time", False))
        return 1

    # -- what primitives call -----------------------------------------------------
    #
    # Each method resolves the primitive once (a dict hit after its first event)
    # and the running task and loop time once: from the task when the caller
    # passes it, else from _where()'s per-context cache (asking for the running
    # loop costs a getpid() system call on Python 3.10 and 3.11).  Rows are
    # appended inline: a call to _add() per event is measurable.

    def future(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[Any]:
        """A waiter future that can tell a timeout from a plain cancellation."""
        return _TracedFuture(loop=loop)

    def instant(self, prim: Any, action: str, detail: str = "",
                value: float | None = None) -> None:
        """A point event (set, clear, notify, put, get, ...); dropped for internals."""
        label, kind, internal, _ = self._labels.get(id(prim)) or self._resolve(prim)
        if internal is None:
            name, now = _where()
            seq = self._count
            self._count = seq + 1 if seq else self._first_event()
            self._store.append((seq, now, name, label, kind, action, detail, None, None, value))

    def wait(self, prim: Any, fut: Any, operation: str) -> None:
        """The running task blocks on ``prim`` until ``fut`` is done."""
        label, kind, internal, _ = self._labels.get(id(prim)) or self._resolve(prim)
        name, now = _where()
        fut._trace_wait = (self, name)  # fut comes from self.future()
        seq = self._count
        self._count = seq + 1 if seq else self._first_event()
        self._store.append((seq, now, name, label, kind, "wait",
                            internal or operation, None, None, None))

    def wake(self, prim: Any, fut: object, how: str) -> None:
        """The running task (or callback) has just completed waiter ``fut``."""
        self.wake_many(prim, (fut,), how)

    def wake_many(self, prim: Any, futs: Iterable[object], how: str) -> None:
        """``wake()`` for each of ``futs``, in order, by one operation (set, notify)."""
        label, kind, _, _ = self._labels.get(id(prim)) or self._resolve(prim)
        name, now = _where()
        for fut in futs:
            waiting = getattr(fut, "_trace_wait", None)
            if waiting is not None and waiting[0] is self:  # else it began before this trace
                seq = self._count
                self._count = seq + 1 if seq else self._first_event()
                self._store.append((seq, now, name, label, kind, "wake", how, waiting[1],
                                    None, None))
                fut._trace_woken = (seq, name)  # type: ignore[attr-defined]

    def resume(self, prim: Any, fut: Any, acquired: bool = False) -> None:
        """The waiter of ``fut`` runs again after being woken; with ``acquired``,
        it now also holds ``prim`` (same as a following ``acquired(prim)``)."""
        label, kind, internal, holders = self._labels.get(id(prim)) or self._resolve(prim)
        name, now = _where()
        store = self._store
        waiting = getattr(fut, "_trace_wait", None)
        if waiting is not None and waiting[0] is self:
            fut._trace_wait = None
            cause, waker = fut._trace_woken or (None, None)
            seq = self._count
            self._count = seq + 1 if seq else self._first_event()
            store.append((seq, now, name, label, kind, "resume", "", waker, cause, None))
        if acquired and internal is None:
            holders.append(name)
            seq = self._count
            self._count = seq + 1 if seq else self._first_event()
            store.append((seq, now, name, label, kind, "acquire", "", None, None, None))

    def interrupt(self, prim: Any, fut: object) -> None:
        """The wait on ``fut`` ended with an exception (cancellation, usually)."""
        waiting = getattr(fut, "_trace_wait", None)
        if waiting is None or waiting[0] is not self:
            return
        fut._trace_wait = None  # type: ignore[attr-defined]
        woken = getattr(fut, "_trace_woken", None)
        action = "timeout" if getattr(fut, "_by_timeout", False) else "cancel"
        label, kind, _, _ = self._labels.get(id(prim)) or self._resolve(prim)
        name, now = _where()
        self._add(label, kind, name, now, action, "after wake-up" if woken else "",
                  cause=None if woken is None else woken[0])

    def acquired(self, prim: Any, task: Any = None) -> None:
        """The running task (``task``, when the caller has it) now holds ``prim``."""
        label, kind, internal, holders = self._labels.get(id(prim)) or self._resolve(prim)
        if internal is not None:
            return
        if task is None:
            name, now = _where()
        else:
            name, now = task.get_name(), task.get_loop().time()
        holders.append(name)
        seq = self._count
        self._count = seq + 1 if seq else self._first_event()
        self._store.append((seq, now, name, label, kind, "acquire", "", None, None, None))

    def released(self, prim: Any, woken: Any = None, how: str = "release") -> None:
        """A hold on ``prim`` ends: the releasing task's own, else the oldest one.

        ``woken``: the waiter future the release completed, recorded as a
        ``wake`` right after (one context lookup for both).
        """
        label, kind, internal, holders = self._labels.get(id(prim)) or self._resolve(prim)
        name, now = _where()
        if internal is None:
            target = None
            if holders:
                target = name if name in holders else holders[0]
                holders.remove(target)
            seq = self._count
            self._count = seq + 1 if seq else self._first_event()
            self._store.append((seq, now, name, label, kind, "release", "", target, None, None))
        if woken is not None:
            waiting = getattr(woken, "_trace_wait", None)
            if waiting is not None and waiting[0] is self:
                seq = self._count
                self._count = seq + 1 if seq else self._first_event()
                self._store.append((seq, now, name, label, kind, "wake", how, waiting[1],
                                    None, None))
                woken._trace_woken = (seq, name)

    def note_run(self, virtual_time: bool) -> None:
        """:func:`asyncprims.run` starts a loop under this trace.

        Real-time loops share one clock (``time.monotonic``); every
        virtual-time run has a clock of its own that starts at 0.  When this
        trace already saw a run or events on another clock, the trace now
        mixes clocks: ``mixed_clocks`` becomes True and a
        :class:`MixedClocksWarning` says so (once per trace).
        """
        earlier_virtual = any(self._runs) or (self._count > 0 and self.virtual_time)
        earlier = bool(self._runs) or self._count > 0
        self._runs.append(virtual_time)
        if self.mixed_clocks or not (earlier_virtual or (virtual_time and earlier)):
            return
        self.mixed_clocks = True
        what = "a virtual-time run" if virtual_time else "a real-time run"
        warnings.warn(
            f"this trace() now records {what} after events on another clock (each "
            "virtual-time run starts its own clock at 0), so their times do not share "
            "one axis; use one trace() per run",
            MixedClocksWarning,
            stacklevel=3,
        )

    def put_item(self, queue: Any, item: object, size: int) -> None:
        """``item`` was put into ``queue``, which now holds ``size`` items."""
        label, kind, _, _ = self._labels.get(id(queue)) or self._resolve(queue)
        name, now = _where()
        seq = self._count
        self._count = seq + 1 if seq else self._first_event()
        self._store.append((seq, now, name, label, kind, "put", "", None, None, size))
        items = self._items.get(queue)
        if items is None:
            items = self._items[queue] = {}
        same = items.get(id(item))
        if same is None:
            items[id(item)] = collections.deque((seq,))
        else:
            same.append(seq)

    def got_item(self, queue: Any, item: object, size: int) -> None:
        """``item`` was taken from ``queue``, which now holds ``size`` items; the
        event's ``cause`` is the put that brought it (the oldest put of an object
        with the same identity still in the queue)."""
        label, kind, _, _ = self._labels.get(id(queue)) or self._resolve(queue)
        name, now = _where()
        cause = None
        items = self._items.get(queue)
        if items is not None:
            same = items.get(id(item))
            if same:
                cause = same.popleft()
                if not same:
                    del items[id(item)]
        seq = self._count
        self._count = seq + 1 if seq else self._first_event()
        self._store.append((seq, now, name, label, kind, "get", "", None, cause, size))

    def forget_items(self, queue: Any) -> None:
        """``queue`` dropped its items without a get (``shutdown(immediate=True)``)."""
        self._items.pop(queue, None)

    def deadlock(
        self, now: float, edges: Iterable[tuple[str, Any, str, str | None, bool]]
    ) -> None:
        """Record a deadlock found at loop time ``now``: ``(task name, primitive or
        None, operation, task it waits for or None, part of the cycle)`` per
        wait-for edge."""
        for task, prim, operation, target, in_cycle in edges:
            if prim is None:
                label, kind = "", ""
            else:
                label, kind, _, _ = self._labels.get(id(prim)) or self._resolve(prim)
            self._add(label, kind, task, now, "deadlock", operation, target,
                      value=1 if in_cycle else 0)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Record nothing inside the block (the stuck tasks' clean-up after a
        deadlock): events are counted as if they never happened."""
        store, count = self._store, self._count
        self._store = collections.deque(maxlen=0)
        try:
            yield
        finally:
            self._store, self._count = store, count

    @property
    def count(self) -> int:
        """Events recorded so far, dropped ones included (the next ``seq``)."""
        return self._count

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
    tracing.append(recorder)
    try:
        yield Timeline(recorder)
    finally:
        tracing.remove(recorder)
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
