"""The recorder behind :func:`asyncprims.trace`: one row per event, as cheap as it can be.

What a recorded event costs is what a traced program pays, so the rows are
lean and everything that can wait does (:meth:`Recorder.events` builds the
:class:`TraceEvent` objects):

* a row is ``(time, task name, label, action, value, target, cause, detail)``
  without its trailing defaults, where ``label`` is the primitive's label
  tuple (shared by all its rows); an event's ``seq`` is its row's position
  plus the rows dropped before it, so only the events that others point to
  (``wake``, ``put``) compute theirs;
* a primitive's label tuple is cached on the primitive (``_trace_label``),
  marked with the recorder's token, so finding it is an attribute read;
* what a wait needs to know later (who waits, which ``wake`` ended it) is kept
  in ``_waits``, keyed by ``id()`` of the waiter future: the futures stay
  asyncio's own C futures (a Python subclass would send every traced wait
  through the task's slow path), and the recorder holds no future;
* a timeout is told from a cancellation when the wait is interrupted, by
  looking at the interrupted task's frames (see :func:`_ended_by_timeout`).

The recorder holds no primitive, future, task or loop: rows hold names,
labels are dropped with their primitive (a weak-reference callback), and
``_waits`` holds names and numbers only.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import time as _time
import warnings
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ._base import (
    CHEAP_RUNNING_LOOP,
    WAIT_FOR_USES_INNER_TASK,
    _get_running_loop,
    _tasks_get,
    _wait_for_caller,
    current_task,
    running_task,
)

__all__ = ["MixedClocksWarning", "Recorder", "TraceEvent"]

_monotonic = _time.monotonic
_BASE_TIME = asyncio.BaseEventLoop.time


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


TraceEvent.__module__ = "asyncprims.tracing"


class MixedClocksWarning(UserWarning):
    """A trace now holds events from runs on different clocks (see ``Recorder.note_run``)."""


MixedClocksWarning.__module__ = "asyncprims.tracing"


if CHEAP_RUNNING_LOOP:

    def _where() -> tuple[str, float]:
        """(name of the running task, or ``"callback"`` or ``"main"`` outside any
        task or loop; the running loop's ``time()``)."""
        try:
            task = current_task()
        except RuntimeError:
            return "main", _monotonic()
        if task is None:
            loop: Any = _get_running_loop()  # running: current_task() did not raise
            return "callback", _monotonic() if type(loop).time is _BASE_TIME else loop.time()
        loop = task.get_loop()
        return task.get_name(), _monotonic() if type(loop).time is _BASE_TIME else loop.time()

else:

    def _where() -> tuple[str, float]:
        """(name of the running task, or ``"callback"`` or ``"main"`` outside any
        task or loop; the running loop's ``time()``)."""
        task = running_task()
        if task is None:
            loop = _get_running_loop()
            if loop is None:
                return "main", _monotonic()
            return "callback", _monotonic() if type(loop).time is _BASE_TIME else loop.time()
        loop = task.get_loop()
        return task.get_name(), _monotonic() if type(loop).time is _BASE_TIME else loop.time()


_Timeout: Any = getattr(asyncio, "Timeout", None)  # asyncio.timeout()'s, from 3.11


def _expired_timeout_in(coro: Any, running: bool) -> bool:
    """Does an expired ``asyncio.timeout()`` sit in ``coro`` or a coroutine it
    awaits?  Each coroutine's referents (its frame's locals and value stack,
    where ``async with`` keeps the bound ``__aexit__``) are searched.  In the
    running task the chain is the coroutines running now (``running``); in a
    suspended one it is followed through ``cr_await``."""
    for _ in range(256):  # a bound, in case of a cycle
        if coro is None:
            return False
        following = None
        for held in gc.get_referents(coro):
            scope = held if isinstance(held, _Timeout) else getattr(held, "__self__", None)
            if isinstance(scope, _Timeout) and scope.expired():
                return True
            if (
                running
                and following is None
                and held is not coro
                and (getattr(held, "cr_running", False) or getattr(held, "gi_running", False))
            ):
                following = held  # the coroutine it awaits, running too
        if not running:
            following = getattr(coro, "cr_await", None)
            if not hasattr(following, "cr_frame"):  # a future, or nothing: the end
                return False
        coro = following
    return False


def _awaiting_tasks(task: Any) -> Iterator[Any]:
    """The tasks that await ``task`` (their wake-up is among its done callbacks),
    then the tasks that await those, breadth first, at most 16 in all."""
    seen = {task}
    level = [task]
    while level and len(seen) <= 16:
        following = []
        for awaited in level:
            for callback, *_ in getattr(awaited, "_callbacks", None) or ():
                other = getattr(callback, "__self__", None)
                if isinstance(other, asyncio.Task) and other not in seen:
                    seen.add(other)
                    following.append(other)
                    yield other
        level = following


def _ended_by_timeout() -> bool:
    """Is the wait being interrupted now (in the waiting task, from the
    primitive's ``except`` block) ended by a timeout rather than a plain
    cancellation?

    From 3.11 an expired ``asyncio.timeout()`` (which ``wait_for`` uses from
    3.12) sits on the value stack of one of the running task's coroutines, as
    the bound ``__aexit__`` of its ``async with`` (or in a local): the chain of
    running coroutines is followed from the task's own, and each one's
    referents searched for a Timeout that has expired.  When the waiting task
    is itself awaited by another (``wait_for(task, t)`` from 3.12, or
    ``async with timeout(t): await task``), the timeout that cancelled the
    awaiting task reached this one through that await: the awaiting tasks are
    searched too.  On 3.10 and 3.11 ``wait_for`` runs the wait in an inner
    task: its caller waits in ``wait_for``, whose ``waiter`` is done (not
    cancelled) once the timeout fired, or whose ``timeout`` was 0 or less.
    This costs a walk of the task's coroutines, and only when a wait is
    interrupted.
    """
    task = running_task()
    if task is None:
        return False
    if _Timeout is not None:
        if _expired_timeout_in(task.get_coro(), running=True):
            return True
        for awaiting in _awaiting_tasks(task):
            if _expired_timeout_in(awaiting.get_coro(), running=False):
                return True
    if WAIT_FOR_USES_INNER_TASK:
        caller = _wait_for_caller(task)
        if caller is not task:
            awaited = caller.get_coro()
            while awaited is not None:
                code = getattr(awaited, "cr_code", None)
                if code is not None and code.co_name == "wait_for":
                    local = awaited.cr_frame.f_locals
                    waiter = local.get("waiter")
                    if waiter is not None:
                        return bool(waiter.done() and not waiter.cancelled())
                    timeout = local.get("timeout")
                    return timeout is not None and timeout <= 0
                awaited = getattr(awaited, "cr_await", None)
    return False


#: A row is ``(time, task name, label tuple, action, value, target, cause,
#: detail)`` with its trailing defaults left out (a 4-item tuple costs about
#: 50 ns less to make than an 8-item one); ``_PADDING[len(row)]`` restores them.
_PADDING: dict[int, tuple[Any, ...]] = {
    4: (None, None, None, ""),
    5: (None, None, ""),
    6: (None, ""),
    7: ("",),
    8: (),
}


class _Rows(list):  # type: ignore[type-arg]
    """The rows of an unbounded trace (``list.append`` itself, in C)."""

    dropped = 0


class _BoundedRows(_Rows):
    """The rows of a ``max_events`` trace: at most twice ``limit`` rows are held;
    the oldest are dropped in batches (the newest ``limit`` are the events)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.dropped = 0

    def append(self, row: Any) -> None:
        list.append(self, row)
        if len(self) >= 2 * self.limit:
            extra = len(self) - self.limit
            del self[:extra]
            self.dropped += extra


# A label tuple: (label, kind, internal operation or None, current holders'
# names, {id(item): seq of its put, or a deque of them} for the items still in
# a queue, recorder token).
_Label = tuple[str, str, "str | None", list[str], dict[int, Any], object]
_NO_PRIMITIVE_TOKEN = object()
_NO_PRIMITIVE: _Label = ("", "", None, [], {}, _NO_PRIMITIVE_TOKEN)


class Recorder:
    """Collects events for one ``trace()``; primitives call its methods.

    Every method starts by finding the primitive's label; events of internal
    helpers (a Queue's join Event, a Barrier's Condition) are reported under
    their owner's label, and only their waiting (not their holding or instants).

    Memory: besides the newest ``max_events`` rows (up to twice as many until
    the next batch is dropped), a recorder holds one label tuple per *living*
    primitive it has seen (dropped by a weak-reference callback when the
    primitive dies, so an id reused later cannot inherit a label), the notes
    of the waits in progress, and a counter per class for the automatic labels
    (``Lock-1``, ``Lock-2``, ... in order of first appearance, never reused).
    """

    def __init__(self, max_events: int | None = None) -> None:
        if max_events is not None and max_events < 1:
            raise ValueError("max_events must be a positive integer or None")
        self.max_events = max_events
        self._rows: _Rows = _Rows() if max_events is None else _BoundedRows(max_events)
        self._token = object()
        self._labels: dict[int, _Label] = {}
        self._label_refs: dict[int, weakref.ref[Any]] = {}
        self._per_kind: collections.Counter[str] = collections.Counter()
        #: id(waiter future) -> [waiting task's name, seq of the wake, waker's name]
        self._waits: dict[int, list[Any]] = {}
        #: True when the first events happen on a virtual-time loop: the loop
        #: running where the trace starts, or the first run (note_run).
        self.virtual_time = bool(getattr(_get_running_loop(), "virtual_time", False))
        #: True once runs on different clocks were recorded (see :meth:`note_run`).
        self.mixed_clocks = False
        #: True while every loop seen keeps asyncio's own time() (time.monotonic):
        #: then an event reads the clock directly.  Decided by the first event's
        #: loop (None until then); any asyncprims.run() (its loop has a clock of
        #: its own) or a first loop with another clock makes it False for good.
        loop = _get_running_loop()
        self._plain_clock: bool | None = None if loop is None else type(loop).time is _BASE_TIME
        self._runs: list[bool] = []

    # -- bookkeeping -------------------------------------------------------------

    @property
    def count(self) -> int:
        """Events recorded so far, dropped ones included (the next ``seq``)."""
        return self._rows.dropped + len(self._rows)

    @property
    def dropped(self) -> int:
        """How many of the oldest events were discarded to honour ``max_events``."""
        return self.count - min(len(self._rows), self.max_events or len(self._rows))

    def _label(self, prim: Any) -> _Label:
        """``prim``'s label tuple for this recorder, cached on ``prim``."""
        found = self._labels.get(id(prim)) or self._resolve(prim)
        prim._trace_label = found
        return found

    def _resolve(self, prim: Any) -> _Label:
        """The label tuple of a primitive seen for the first time (or again)."""
        key = id(prim)
        found = self._labels.get(key)
        if found is not None:
            return found
        owner = prim._trace_owner
        if owner is not None:
            label, kind, internal, _, _, _ = self._resolve(owner)
            if prim._trace_operation is not None and internal is None:
                internal = prim._trace_operation
        else:
            kind = type(prim).__name__
            label = prim._name
            if label is None:
                self._per_kind[kind] += 1
                label = f"{kind}-{self._per_kind[kind]}"
            internal = None
        found = (label, kind, internal, [], {}, self._token)
        labels = self._labels
        refs = self._label_refs

        def forget(_ref: object, key: int = key) -> None:
            labels.pop(key, None)
            refs.pop(key, None)

        labels[key] = found
        refs[key] = weakref.ref(prim, forget)
        return found

    def _now(self, task: Any) -> float:
        """The time on ``task``'s loop (the slow way; see ``_plain_clock``)."""
        loop = task.get_loop()
        plain = type(loop).time is _BASE_TIME
        if self._plain_clock is None or not plain:
            self._plain_clock = plain
        return _monotonic() if plain else loop.time()

    def _add(
        self,
        lab: _Label,
        name: str,
        now: float,
        action: str,
        detail: str = "",
        target: str | None = None,
        cause: int | None = None,
        value: float | None = None,
    ) -> None:
        """Store one row (the busy methods below append theirs inline)."""
        self._rows.append((now, name, lab, action, value, target, cause, detail))

    # -- what primitives call -----------------------------------------------------
    #
    # Each method finds the label (an attribute read once the primitive has
    # been seen) and the running task and its loop's time once, and appends
    # its row inline: a call per event is measurable.

    def future(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[Any]:
        """A waiter future: the loop's own (kept for callers of the old API)."""
        return loop.create_future()

    # In the methods below, finding who acts and when is written out inline
    # (a call to _where() and its tuple cost about 50 ns per event):
    #     task = _tasks_get(_get_running_loop()) if CHEAP_RUNNING_LOOP else running_task()
    #     name = task.get_name(); now = _monotonic() if self._plain_clock else self._now(task)
    # with _where() for the rare event outside any task.

    def instant(self, prim: Any, action: str, detail: str = "", value: float | None = None) -> None:
        """A point event (set, clear, notify, put, get, ...); dropped for internals."""
        lab = prim._trace_label
        if lab is None or lab[5] is not self._token:
            lab = self._label(prim)
        if lab[2] is None:
            task = _tasks_get(_get_running_loop()) if CHEAP_RUNNING_LOOP else running_task()
            if task is None:
                name, now = _where()
            else:
                name = task.get_name()
                now = _monotonic() if self._plain_clock else self._now(task)
            self._rows.append(
                (now, name, lab, action, value, None, None, detail)
                if detail
                else (now, name, lab, action, value)
            )

    def wait(self, prim: Any, fut: Any, operation: str, task: Any = None) -> None:
        """The running task (``task``, when the caller has it) blocks on ``prim``
        until ``fut`` is done."""
        lab = prim._trace_label
        if lab is None or lab[5] is not self._token:
            lab = self._label(prim)
        if task is None:
            task = _tasks_get(_get_running_loop()) if CHEAP_RUNNING_LOOP else running_task()
        if task is None:
            name, now = _where()
        else:
            name = task.get_name()
            now = _monotonic() if self._plain_clock else self._now(task)
        self._waits[id(fut)] = [name, None, None]
        self._rows.append((now, name, lab, "wait", None, None, None, lab[2] or operation))

    def wake(self, prim: Any, fut: object, how: str) -> None:
        """The running task (or callback) has just completed waiter ``fut``."""
        self.wake_many(prim, (fut,), how)

    def wake_many(self, prim: Any, futs: Iterable[object], how: str) -> None:
        """``wake()`` for each of ``futs``, in order, by one operation (set, notify)."""
        lab = prim._trace_label
        if lab is None or lab[5] is not self._token:
            lab = self._label(prim)
        waits = self._waits
        rows = self._rows
        name = now = None
        for fut in futs:
            waiting = waits.get(id(fut))
            if waiting is not None:  # else its wait began before this trace
                if name is None:
                    name, now = _where()
                waiting[1] = rows.dropped + len(rows)
                waiting[2] = name
                rows.append((now, name, lab, "wake", None, waiting[0], None, how))

    def resume(self, prim: Any, fut: Any, acquired: bool = False, task: Any = None) -> None:
        """The waiter of ``fut`` (``task``, when the caller has it) runs again after
        being woken; with ``acquired``, it now also holds ``prim`` (same as a
        following ``acquired(prim)``)."""
        lab = prim._trace_label
        if lab is None or lab[5] is not self._token:
            lab = self._label(prim)
        if task is None:
            task = _tasks_get(_get_running_loop()) if CHEAP_RUNNING_LOOP else running_task()
        if task is None:
            name, now = _where()
        else:
            name = task.get_name()
            now = _monotonic() if self._plain_clock else self._now(task)
        rows = self._rows
        waiting = self._waits.pop(id(fut), None)
        if waiting is not None:
            rows.append((now, name, lab, "resume", None, waiting[2], waiting[1]))
        if acquired and lab[2] is None:
            lab[3].append(name)
            rows.append((now, name, lab, "acquire"))

    def interrupt(self, prim: Any, fut: object) -> None:
        """The wait on ``fut`` ended with an exception (cancellation, usually)."""
        waiting = self._waits.pop(id(fut), None)
        if waiting is None:
            return
        action = "timeout" if _ended_by_timeout() else "cancel"
        lab = prim._trace_label
        if lab is None or lab[5] is not self._token:
            lab = self._label(prim)
        name, now = _where()
        woken = waiting[1]
        self._rows.append(
            (now, name, lab, action)
            if woken is None
            else (now, name, lab, action, None, None, woken, "after wake-up")
        )

    def acquired(self, prim: Any, task: Any = None) -> None:
        """The running task (``task``, when the caller has it) now holds ``prim``."""
        lab = prim._trace_label
        if lab is None or lab[5] is not self._token:
            lab = self._label(prim)
        if lab[2] is not None:
            return
        if task is None:
            task = _tasks_get(_get_running_loop()) if CHEAP_RUNNING_LOOP else running_task()
        if task is None:
            name, now = _where()
        else:
            name = task.get_name()
            now = _monotonic() if self._plain_clock else self._now(task)
        lab[3].append(name)
        self._rows.append((now, name, lab, "acquire"))

    def released(self, prim: Any, woken: Any = None, how: str = "release") -> None:
        """A hold on ``prim`` ends: the releasing task's own, else the oldest one.

        ``woken``: the waiter future the release completed, recorded as a
        ``wake`` right after (one task lookup for both).
        """
        lab = prim._trace_label
        if lab is None or lab[5] is not self._token:
            lab = self._label(prim)
        task = _tasks_get(_get_running_loop()) if CHEAP_RUNNING_LOOP else running_task()
        if task is None:
            name, now = _where()
        else:
            name = task.get_name()
            now = _monotonic() if self._plain_clock else self._now(task)
        rows = self._rows
        if lab[2] is None:
            holders = lab[3]
            target = None
            if holders:
                target = name if name in holders else holders[0]
                holders.remove(target)
            rows.append((now, name, lab, "release", None, target))
        if woken is not None:
            waiting = self._waits.get(id(woken))
            if waiting is not None:
                waiting[1] = rows.dropped + len(rows)
                waiting[2] = name
                rows.append((now, name, lab, "wake", None, waiting[0], None, how))

    def put_item(self, queue: Any, item: object, size: int) -> None:
        """``item`` was put into ``queue``, which now holds ``size`` items."""
        lab = queue._trace_label
        if lab is None or lab[5] is not self._token:
            lab = self._label(queue)
        task = _tasks_get(_get_running_loop()) if CHEAP_RUNNING_LOOP else running_task()
        if task is None:
            name, now = _where()
        else:
            name = task.get_name()
            now = _monotonic() if self._plain_clock else self._now(task)
        rows = self._rows
        seq = rows.dropped + len(rows)
        rows.append((now, name, lab, "put", size))
        # id(item) -> the seq of its put, or a deque of the seqs of the puts of
        # objects of that identity still in the queue (the same object twice).
        items = lab[4]
        same = items.get(id(item))
        if same is None:
            items[id(item)] = seq
        elif type(same) is int:
            items[id(item)] = collections.deque((same, seq))
        else:
            same.append(seq)

    def got_item(self, queue: Any, item: object, size: int) -> None:
        """``item`` was taken from ``queue``, which now holds ``size`` items; the
        event's ``cause`` is the put that brought it (the oldest put of an object
        with the same identity still in the queue)."""
        lab = queue._trace_label
        if lab is None or lab[5] is not self._token:
            lab = self._label(queue)
        task = _tasks_get(_get_running_loop()) if CHEAP_RUNNING_LOOP else running_task()
        if task is None:
            name, now = _where()
        else:
            name = task.get_name()
            now = _monotonic() if self._plain_clock else self._now(task)
        items = lab[4]
        cause = items.pop(id(item), None)
        if cause is not None and type(cause) is not int:
            same = cause
            cause = same.popleft()
            if same:
                items[id(item)] = same
        self._rows.append(
            (now, name, lab, "get", size)
            if cause is None
            else (now, name, lab, "get", size, None, cause)
        )

    def forget_items(self, queue: Any) -> None:
        """``queue`` dropped its items without a get (``shutdown(immediate=True)``)."""
        lab = self._labels.get(id(queue))
        if lab is not None:
            lab[4].clear()

    def deadlock(self, now: float, edges: Iterable[tuple[str, Any, str, str | None, bool]]) -> None:
        """Record a deadlock found at loop time ``now``: ``(task name, primitive or
        None, operation, task it waits for or None, part of the cycle)`` per
        wait-for edge."""
        for task, prim, operation, target, in_cycle in edges:
            lab = _NO_PRIMITIVE if prim is None else self._label(prim)
            self._add(lab, task, now, "deadlock", operation, target, value=1 if in_cycle else 0)

    def note_run(self, virtual_time: bool) -> None:
        """:func:`asyncprims.run` starts a loop under this trace.

        Real-time loops share one clock (``time.monotonic``); every
        virtual-time run has a clock of its own that starts at 0.  When this
        trace already saw a run or events on another clock, the trace now
        mixes clocks: ``mixed_clocks`` becomes True and a
        :class:`MixedClocksWarning` says so (once per trace).
        """
        earlier_virtual = any(self._runs) or (self.count > 0 and self.virtual_time)
        earlier = bool(self._runs) or self.count > 0
        if not earlier:
            self.virtual_time = virtual_time
        self._plain_clock = False
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

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Record nothing inside the block (the stuck tasks' clean-up after a
        deadlock): events are counted as if they never happened."""
        rows = self._rows
        self._rows = _Rows()
        try:
            yield
        finally:
            self._rows = rows

    # -- reading --------------------------------------------------------------------

    def events(self) -> list[TraceEvent]:
        """The events kept, oldest first (built from the rows at each call)."""
        rows = self._rows
        first = len(rows) - min(len(rows), self.max_events or len(rows))
        start = rows.dropped + first
        pad = _PADDING
        return [
            TraceEvent(
                start + index, now, name, lab[0], lab[1], action, detail, target, cause, value
            )
            for index, (now, name, lab, action, value, target, cause, detail) in enumerate(
                row + pad[len(row)] for row in (rows[first:] if first else rows)
            )
        ]
