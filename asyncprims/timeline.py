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
* A span still open when the trace ends ends at the last event's time and has
  ``open=True``.  Endings whose start was dropped (``trace(max_events=...)``)
  are ignored.
* All times are seconds relative to :attr:`Timeline.origin`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .tracing import TraceEvent

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .tracing import Recorder

__all__ = ["INSTANT_ACTIONS", "Span", "Timeline", "describe_primitive", "instant_kind"]

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
    "release",
)


def instant_kind(event: TraceEvent) -> str | None:
    """The marker kind of a point event, or None for events drawn otherwise.

    Releases count only when the releaser is not the holder (a callback
    releasing a task's lock): the holder's own release is the end of its bar.
    """
    if event.action == "release":
        return "release" if event.target not in (None, event.task) else None
    return event.action if event.action in INSTANT_ACTIONS else None


_WAIT_ENDINGS = {"resume": "resumed", "cancel": "cancelled", "timeout": "timed out"}


@dataclass(frozen=True, slots=True)
class Span:
    """An interval on one task's lane.

    ``state`` is ``"waiting"`` or ``"holding"``; ``start <= end`` (seconds from
    the timeline's origin); ``open`` is true when the trace ended first;
    ``kind`` is the primitive's class name; ``woken_by`` names the task that
    woke a waiting span ended by ``resume``.
    """

    task: str
    primitive: str
    state: str
    start: float
    end: float
    detail: str
    open: bool = False
    kind: str = ""
    woken_by: str | None = None

    @property
    def duration(self) -> float:
        """``end - start`` in seconds."""
        return self.end - self.start


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


class Timeline:
    """What a ``trace()`` saw, with derived views (spans, counts, text, chart, export)."""

    def __init__(self, recorder: Recorder | _EventList) -> None:
        self._recorder = recorder
        self._version = -1
        self._events: list[TraceEvent] = []
        self._spans: list[Span] = []

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
            self._spans = _pair_spans(self._events, self._origin_of(self._events))
            self._version = version

    @property
    def events(self) -> list[TraceEvent]:
        """The recorded events, oldest first (a fresh list; the newest kept ones
        when ``max_events`` dropped some)."""
        self._refresh()
        return list(self._events)

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
        """The first ``max_lanes`` lanes (all when None) and how many were left out."""
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
        kinds: dict[str, str] = {}
        for event in self._events:
            kinds.setdefault(event.primitive, event.kind)
        return kinds

    def describe(self, primitive: str) -> str:
        """A primitive's display name, e.g. ``Lock 'db'`` (see ``describe_primitive``)."""
        return describe_primitive(self.primitive_kinds().get(primitive, ""), primitive)

    # -- renderings --------------------------------------------------------------------

    def render_text(self, width: int = 72, *, max_lanes: int | None = None) -> str:
        """The chart as monospace text (deterministic; see ``asyncprims._text``)."""
        from ._text import render_chart

        return render_chart(self, width=width, max_lanes=max_lanes)

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
    ) -> Axes:
        """Draw the chart with matplotlib (see ``asyncprims.plotting.plot_timeline``)."""
        from .plotting import plot_timeline

        return plot_timeline(self, ax=ax, counts=counts, arrows=arrows, max_lanes=max_lanes)

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


def _pair_spans(events: list[TraceEvent], origin: float) -> list[Span]:
    """Pair wait/ending and acquire/release events into spans (module docstring)."""
    if not events:
        return []
    lanes = {task: index for index, task in enumerate(dict.fromkeys(e.task for e in events))}
    end = events[-1].time - origin
    waits: dict[tuple[str, str], list[TraceEvent]] = {}
    holds: dict[tuple[str, str], list[TraceEvent]] = {}
    spans: list[Span] = []
    for event in events:
        action = event.action
        if action == "wait":
            waits.setdefault((event.task, event.primitive), []).append(event)
        elif action in _WAIT_ENDINGS:
            opened = waits.get((event.task, event.primitive))
            if not opened:
                continue
            start = opened.pop()
            how = _WAIT_ENDINGS[action]
            if action != "resume" and event.detail:
                how = f"{how} {event.detail}"
            spans.append(
                Span(
                    event.task,
                    event.primitive,
                    "waiting",
                    start.time - origin,
                    event.time - origin,
                    f"{start.detail}, {how}",
                    kind=event.kind,
                    woken_by=event.target if action == "resume" else None,
                )
            )
        elif action == "acquire":
            holds.setdefault((event.task, event.primitive), []).append(event)
        elif action == "release" and event.target is not None:
            opened = holds.get((event.target, event.primitive))
            if not opened:
                continue
            start = opened.pop()
            detail = "" if event.task == event.target else f"released by {event.task}"
            spans.append(
                Span(
                    event.target,
                    event.primitive,
                    "holding",
                    start.time - origin,
                    event.time - origin,
                    detail,
                    kind=event.kind,
                )
            )
    for state, table, note in (
        ("waiting", waits, "still waiting"),
        ("holding", holds, "still held"),
    ):
        for opened in table.values():
            for start in opened:
                detail = f"{start.detail}, {note}" if state == "waiting" else note
                spans.append(
                    Span(
                        start.task,
                        start.primitive,
                        state,
                        start.time - origin,
                        max(end, start.time - origin),
                        detail,
                        open=True,
                        kind=start.kind,
                    )
                )
    spans.sort(key=lambda s: (s.start, lanes.get(s.task, 0), s.state != "holding", s.end))
    return spans
