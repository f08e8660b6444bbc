"""Events -> spans: who waited on what, who held what, and for how long.

A :class:`Timeline` is a live view of a :class:`~asyncprims.tracing.Recorder`:
every query rebuilds from the recorder when events were added since the last
one, so a timeline taken inside ``with trace() as timeline:`` is already
complete once the block has run.

Pairing rules (the contract of :meth:`Timeline.spans`)
------------------------------------------------------
* **waiting**: from a ``wait`` event of task *T* on primitive *P* to the next
  ``resume`` / ``cancel`` / ``timeout`` of *T* on *P*.  ``detail`` is the
  operation and how the wait ended (``"acquire, resumed"``,
  ``"get, cancelled"``, ``"acquire, timed out"``, ``"wait, still waiting"``).
* **holding**: from an ``acquire`` by *T* on *P* to the first ``release`` on
  *P* whose ``target`` is *T*.  When *T* holds several permits of one
  semaphore, a release closes *T*'s most recent open hold, so *T*'s holds on
  one primitive always nest.  ``detail`` is ``"released by X"`` when another
  task or a callback released it.
* **working** (queues): from a task's ``get`` on a queue to its next
  ``task_done`` on that queue: the task works on that item.  ``item`` is the
  item's number on that queue (1 for the first item put), known from the
  ``get`` event's ``cause`` (the ``seq`` of the ``put`` that brought it).  Only
  for queues whose trace contains a ``task_done``; a get followed by another
  get before any task_done starts no working span.
* A span still open when the trace ends ends at the last event's time and has
  ``open=True``; one still open when a later ``deadlock`` event names its task
  ends there instead (``"deadlocked"`` in ``detail``).  Endings whose start was
  dropped (``trace(max_events=...)``) are ignored.
* All times are seconds relative to :attr:`Timeline.origin`; ``start_seq`` and
  ``end_seq`` name the events a span runs between (``end_seq`` is the deadlock
  event, or None, for an open span), which places it on the causal axis.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._axis import Axis
from ._spans import (
    _WAIT_ENDINGS,
    Deadlock,
    Span,
    cycle_of,
    number_items,
    pair_spans,
    signal_marks,
    signal_primitives,
)
from .tracing import TraceEvent

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .tracing import Recorder

__all__ = [
    "INSTANT_ACTIONS",
    "Deadlock",
    "Span",
    "Timeline",
    "describe_primitive",
    "instant_kind",
]

#: Point events drawn as markers (in the chart, the text chart and the Chrome trace),
#: plus ``"release"`` for a release of a hold that belongs to another task.
INSTANT_ACTIONS = (
    "set",
    "clear",
    "notify",
    "put",
    "get",
    "task_done",
    "shutdown",
    "trip",
    "pass",
    "reset",
    "abort",
    "cancel",
    "timeout",
    "release",
    "take",
    "give",
)

#: What a waiting span waits for, by the ``wait`` event's operation, in words.
WAIT_OPERATIONS = {
    "acquire": "to acquire",
    "wait": "in wait()",
    "get": "to get",
    "put": "to put",
    "join": "in join()",
    "barrier": "at a barrier",
}


def instant_kind(event: TraceEvent) -> str | None:
    """The marker kind of a point event, or None for events drawn otherwise.

    Releases count only when the releaser is not the holder (a callback
    releasing a task's lock): the holder's own release is the end of its bar.
    A ``cancel`` or ``timeout`` marks where a wait was given up.
    """
    if event.action == "release":
        return "release" if event.target not in (None, event.task) else None
    return event.action if event.action in INSTANT_ACTIONS else None


def describe_primitive(kind: str, label: str) -> str:
    """``Lock 'db'`` for a named primitive, ``Lock-1`` for an automatic label."""
    if not kind or re.fullmatch(re.escape(kind) + r"-\d+", label):
        return label
    return f"{kind} '{label}'"


class _EventList:
    """A recorder stand-in holding a fixed list of events (see ``Timeline.from_events``)."""

    def __init__(self, events: list[TraceEvent], dropped: int, virtual_time: bool) -> None:
        self._events = events
        self.dropped = dropped
        self.virtual_time = virtual_time
        self.count = dropped + len(events)

    def events(self) -> list[TraceEvent]:
        return list(self._events)


def _check_positive_int(name: str, value: object) -> None:
    """TypeError unless ``value`` is an int (not a bool); ValueError unless it is >= 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")


class Timeline:
    """What a ``trace()`` saw, with derived views (spans, counts, text, chart, export)."""

    def __init__(self, recorder: Recorder | _EventList) -> None:
        self._recorder = recorder
        self._version = -1
        self._events: list[TraceEvent] = []
        self._spans: list[Span] = []
        self._items: dict[int, int] = {}
        self._axes: dict[tuple[str, float | None], Axis] = {}
        self._kinds: dict[str, str] = {}
        self._signal_marks: dict[int, str] = {}
        self._signals: set[str] = set()

    @classmethod
    def from_events(
        cls, events: Iterable[TraceEvent], *, dropped: int = 0, virtual_time: bool = False
    ) -> Timeline:
        """A timeline over a fixed list of events (for tests, or a saved trace)."""
        return cls(_EventList(list(events), dropped, virtual_time))

    # -- raw data --------------------------------------------------------------------

    def _refresh(self) -> None:
        version = self._recorder.count
        if version != self._version:
            self._events = self._recorder.events()
            self._items = number_items(self._events)
            self._signals = signals = signal_primitives(self._events)
            self._signal_marks = signal_marks(self._events, signals)
            self._spans = pair_spans(
                self._events, self._origin_of(self._events), self._items, signals
            )
            self._axes = {}
            self._kinds = {}
            for event in self._events:
                if event.primitive:  # a deadlock edge of a task awaiting a task has none
                    self._kinds.setdefault(event.primitive, event.kind)
            self._version = version

    @property
    def events(self) -> list[TraceEvent]:
        """The recorded events, oldest first (a fresh list; the newest kept ones
        when ``max_events`` dropped some)."""
        self._refresh()
        return list(self._events)

    @property
    def mixed_clocks(self) -> bool:
        """True when the trace recorded runs on different clocks (a virtual-time run
        and another run): their times do not share one axis (see ``MixedClocksWarning``)."""
        return bool(getattr(self._recorder, "mixed_clocks", False))

    @property
    def dropped(self) -> int:
        """How many of the oldest events ``trace(max_events=...)`` discarded."""
        return int(self._recorder.dropped)

    def _origin_of(self, events: list[TraceEvent]) -> float:
        if self._recorder.virtual_time or not events:
            return 0.0
        return events[0].time

    @property
    def origin(self) -> float:
        """Time zero of every derived view: 0.0 under virtual time, else the
        first kept event's loop time."""
        self._refresh()
        return self._origin_of(self._events)

    @property
    def end(self) -> float:
        """The last event's time relative to the origin (0.0 when empty)."""
        self._refresh()
        return self._events[-1].time - self.origin if self._events else 0.0

    @property
    def tasks(self) -> list[str]:
        """Task labels in order of first appearance: the lanes, top to bottom."""
        self._refresh()
        return list(dict.fromkeys(e.task for e in self._events))

    def visible_lanes(self, max_lanes: int | None) -> tuple[list[str], int]:
        """The first ``max_lanes`` lanes (all when None) and how many were left out.

        ``max_lanes`` must be None or a positive int: TypeError or ValueError otherwise.
        """
        if max_lanes is not None:
            _check_positive_int("max_lanes", max_lanes)
        lanes = self.tasks
        if max_lanes is None or len(lanes) <= max_lanes:
            return lanes, 0
        return lanes[:max_lanes], len(lanes) - max_lanes

    # -- derived views ---------------------------------------------------------------------

    def spans(self) -> list[Span]:
        """Waiting and holding intervals, ordered by start, then lane, then state
        (see the module docstring for the pairing rules)."""
        self._refresh()
        return list(self._spans)

    def waiter_counts(self) -> dict[str, list[tuple[float, int]]]:
        """``{primitive: [(time, tasks waiting), ...]}`` as a step series.

        Each series starts with ``(first event time, 0)``, has one point per
        time at which its count changed (the count after all events at that
        time) and ends at the last event's time.  Only primitives that saw a
        ``wait`` appear.
        """
        self._refresh()
        origin = self.origin
        pending: dict[tuple[str, str], int] = {}
        counts: dict[str, int] = {}
        series: dict[str, list[tuple[float, int]]] = {}
        for event in self._events:
            key = (event.task, event.primitive)
            if event.action == "wait":
                pending[key] = pending.get(key, 0) + 1
                delta = 1
            elif event.action in _WAIT_ENDINGS and pending.get(key):
                pending[key] -= 1
                delta = -1
            else:
                continue
            name = event.primitive
            if name not in series:
                series[name] = [(self._events[0].time - origin, 0)]
            counts[name] = counts.get(name, 0) + delta
            _append_step(series[name], event.time - origin, counts[name])
        for points in series.values():
            if points[-1][0] < self.end:
                points.append((self.end, points[-1][1]))
        return series

    def queue_depths(self) -> dict[str, list[tuple[float, float]]]:
        """``{queue: [(time, size), ...]}`` from the ``value`` of put, get and
        shutdown events (the size afterwards); one point per distinct time."""
        self._refresh()
        origin = self.origin
        series: dict[str, list[tuple[float, float]]] = {}
        for event in self._events:
            if event.action in ("put", "get", "shutdown") and event.value is not None:
                value = event.value
                if float(value).is_integer():
                    value = int(value)
                _append_step(series.setdefault(event.primitive, []), event.time - origin, value)
        return series

    def primitive_kinds(self) -> dict[str, str]:
        """``{primitive label: class name}`` in order of first appearance."""
        self._refresh()
        return dict(self._kinds)

    # -- the causal story ----------------------------------------------------------

    def axis(self, mode: str = "causal", *, resolution: float | None = None) -> Axis:
        """Where each event sits on the x axis of the chart and the text (see
        :mod:`asyncprims._axis`): ``"causal"`` (default) spreads the events of one
        instant over steps and keeps time to scale between instants, ``"time"``
        is loop time only, ``"steps"`` one step per causal step."""
        self._refresh()
        key = (mode, resolution)
        axis = self._axes.get(key)
        if axis is None:
            axis = self._axes[key] = Axis(self._events, self.origin, mode, resolution)
        return axis

    def marker_of(self, event: TraceEvent) -> str | None:
        """The marker kind of ``event`` on the chart and in the text, or None:
        :func:`instant_kind`, except on a semaphore used as a signal (a task
        released a permit it did not hold), where a permit taken and never given
        back by its taker is a ``take`` and a permit given by a task that held
        none is a ``give``, instead of holds that would never end."""
        self._refresh()
        mark = self._signal_marks.get(event.seq)
        if mark is not None:
            return mark
        if event.action == "release" and event.primitive in self._signals:
            return None  # a permit given back by its taker: the end of its bar
        return instant_kind(event)

    def wakes(self) -> list[tuple[TraceEvent, TraceEvent]]:
        """``(wake, ending)`` event pairs: who woke whom, in order of the wake.

        The ending is the woken task's ``resume``, or its ``cancel`` / ``timeout``
        when it was cancelled after being woken and before it could run (then it
        passes the wake-up on: a ``wake`` with detail ``pass-on`` follows).
        """
        self._refresh()
        wakes = {e.seq: e for e in self._events if e.action == "wake"}
        pairs = [
            (wakes[e.cause], e)
            for e in self._events
            if e.action in _WAIT_ENDINGS and e.cause is not None and e.cause in wakes
        ]
        pairs.sort(key=lambda pair: pair[0].seq)
        return pairs

    def item_flows(self) -> list[tuple[TraceEvent, TraceEvent, int]]:
        """``(put, get, item number)`` for every item whose put and get were both
        recorded: which task got which item.  Items are numbered from 1 per
        queue, in the order they were put."""
        self._refresh()
        puts = {e.seq: e for e in self._events if e.action == "put"}
        return [
            (puts[e.cause], e, self._items[e.cause])
            for e in self._events
            if e.action == "get" and e.cause is not None and e.cause in puts
        ]

    def item_number(self, event: TraceEvent) -> int | None:
        """The item number a ``put`` brought or a ``get`` took, if known."""
        self._refresh()
        seq = event.seq if event.action == "put" else event.cause
        return None if seq is None else self._items.get(seq)

    def deadlocks(self) -> list[Deadlock]:
        """The deadlocks ``asyncprims.run()`` recorded under this trace, in order."""
        self._refresh()
        found: list[Deadlock] = []
        edges: list[tuple[str, str, str | None]] = []
        in_cycle: list[tuple[str, str | None]] = []
        first: TraceEvent | None = None
        for event in [*self._events, None]:
            if event is not None and event.action == "deadlock":
                if first is None:
                    first = event
                edges.append((event.task, event.primitive, event.target))
                if event.value:
                    in_cycle.append((event.task, event.target))
                continue
            if first is not None:
                found.append(
                    Deadlock(first.seq, first.time - self.origin, tuple(edges), cycle_of(in_cycle))
                )
                first, edges, in_cycle = None, [], []
        return found

    def describe(self, primitive: str) -> str:
        """A primitive's display name, e.g. ``Lock 'db'`` (see ``describe_primitive``)."""
        self._refresh()
        return describe_primitive(self._kinds.get(primitive, ""), primitive)

    # -- renderings --------------------------------------------------------------------

    def render_text(
        self,
        width: int = 72,
        *,
        max_lanes: int | None = None,
        axis: str = "causal",
        details: bool = True,
    ) -> str:
        """The chart as monospace text (deterministic; see ``asyncprims._text``).

        ``axis`` as in :meth:`axis`; ``details`` adds who woke whom, which task
        got which item and any deadlock below the lanes.  ``width`` (lines are
        at most ``max(width, 40)`` characters) and ``max_lanes`` (the first
        lanes shown, all when None) must be positive ints: TypeError or
        ValueError otherwise.
        """
        from ._text import render_chart

        return render_chart(self, width=width, max_lanes=max_lanes, axis=axis, details=details)

    def summary(self) -> str:
        """A fixed-width table per task and primitive: waits, total/longest wait, held."""
        from ._text import render_summary

        return render_summary(self)

    def transcript(self) -> str:
        """One line per event, in order, in words."""
        from ._text import render_transcript

        return render_transcript(self)

    def to_chrome_trace(self) -> dict[str, Any]:
        """The trace in Chrome trace-event format (see ``asyncprims._chrome``)."""
        from ._chrome import chrome_trace

        return chrome_trace(self)

    def plot(
        self,
        ax: Axes | None = None,
        *,
        counts: bool = False,
        arrows: bool = True,
        max_lanes: int | None = None,
        axis: str = "causal",
    ) -> Axes:
        """Draw the chart with matplotlib (see ``asyncprims.plotting.plot_timeline``)."""
        from .plotting import plot_timeline

        return plot_timeline(
            self, ax=ax, counts=counts, arrows=arrows, max_lanes=max_lanes, axis=axis
        )

    def __repr__(self) -> str:
        self._refresh()
        dropped = f", {self.dropped} dropped" if self.dropped else ""
        return (
            f"<Timeline: {len(self._events)} events{dropped}, {len(self.tasks)} tasks, "
            f"{len(self._spans)} spans>"
        )


def _append_step(points: list[tuple[float, Any]], time: float, value: Any) -> None:
    """Append to a step series, replacing the last point when it has the same time."""
    if points and points[-1][0] == time:
        points[-1] = (time, value)
    else:
        points.append((time, value))
