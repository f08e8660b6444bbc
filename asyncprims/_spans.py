"""Events -> spans: the pairing rules behind :meth:`Timeline.spans` (see
:mod:`asyncprims.timeline` for the contract), and the deadlock record."""

from __future__ import annotations

from dataclasses import dataclass

from .tracing import TraceEvent

__all__ = ["Deadlock", "Span", "pair_spans", "signal_marks", "signal_primitives"]

_WAIT_ENDINGS = {"resume": "resumed", "cancel": "cancelled", "timeout": "timed out"}


@dataclass(frozen=True, slots=True)
class Span:
    """An interval on one task's lane.

    ``state`` is ``"waiting"``, ``"holding"`` or ``"working"`` (on a queue
    item, between get and task_done); ``start <= end`` (seconds from the
    timeline's origin); ``open`` is true when the trace ended (or the run
    deadlocked) first; ``kind`` is the primitive's class name; ``woken_by``
    names the task that woke a waiting span ended by ``resume``; ``operation``
    is what a waiting span waits for (a key of ``WAIT_OPERATIONS``); ``item``
    the queue item a working span works on; ``start_seq``/``end_seq`` the
    events it runs between (module docstring).
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
    start_seq: int = -1
    end_seq: int | None = None
    operation: str = ""
    item: int | None = None

    @property
    def duration(self) -> float:
        """``end - start`` in seconds."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Deadlock:
    """A deadlock that :func:`asyncprims.run` recorded: when, which tasks were stuck on
    what, and the wait-for cycle (task names, first repeated last) if there is one.

    ``edges`` are ``(task, primitive, holder)``: the task waits on the primitive,
    which the holder holds (``holder`` is None when nobody holds it).
    """

    seq: int
    time: float
    edges: tuple[tuple[str, str, str | None], ...]
    cycle: tuple[str, ...]

    @property
    def tasks(self) -> list[str]:
        """The stuck tasks, in report order."""
        return list(dict.fromkeys(task for task, _, _ in self.edges))


def cycle_of(edges: list[tuple[str, str | None]]) -> tuple[str, ...]:
    """The cycle through ``(task, next task)`` edges, from the first edge's task."""
    if not edges:
        return ()
    following = dict(edges)
    path = [edges[0][0]]
    while len(path) <= len(edges):
        step = following.get(path[-1])
        if step is None:
            return ()
        path.append(step)
        if step == path[0]:
            return tuple(path)
    return ()


def number_items(events: list[TraceEvent]) -> dict[int, int]:
    """``{put seq: item number}``, numbering each queue's puts from 1."""
    counters: dict[str, int] = {}
    numbers: dict[int, int] = {}
    for event in events:
        if event.action == "put":
            counters[event.primitive] = counters.get(event.primitive, 0) + 1
            numbers[event.seq] = counters[event.primitive]
    return numbers


SEMAPHORE_KINDS = frozenset({"Semaphore", "BoundedSemaphore"})


def signal_primitives(events: list[TraceEvent]) -> set[str]:
    """Semaphores used as signals: some task (not a callback) released a permit it
    did not hold.

    Their permits are handed from task to task (a producer's release lets a
    consumer's acquire through), so an acquire is not the start of a hold:
    holds on them are only those a task took and released itself.
    """
    return {
        e.primitive
        for e in events
        if e.action == "release"
        and e.kind in SEMAPHORE_KINDS
        and e.target != e.task
        and e.task != "callback"  # a timer giving a task's permit back ends that hold
    }


def signal_marks(events: list[TraceEvent], signals: set[str]) -> dict[int, str]:
    """``{seq: "take" or "give"}``: on signal semaphores, the acquires that no release
    by the same task ended, and the releases that ended no hold of their task."""
    marks: dict[int, str] = {}
    opened: dict[tuple[str, str], list[int]] = {}
    for event in events:
        if event.primitive not in signals:
            continue
        key = (event.task, event.primitive)
        if event.action == "acquire":
            opened.setdefault(key, []).append(event.seq)
        elif event.action == "release":
            if opened.get(key):
                opened[key].pop()
            else:
                marks[event.seq] = "give"
    for seqs in opened.values():
        for seq in seqs:
            marks[seq] = "take"
    return marks


def pair_spans(
    events: list[TraceEvent],
    origin: float,
    items: dict[int, int],
    signals: frozenset[str] | set[str] = frozenset(),
) -> list[Span]:
    """Pair wait/ending, acquire/release and get/task_done events into spans
    (module docstring); on the ``signals`` semaphores a hold is only what a task
    took and released itself."""
    if not events:
        return []
    lanes = {task: index for index, task in enumerate(dict.fromkeys(e.task for e in events))}
    end = events[-1].time - origin
    waits: dict[tuple[str, str], list[TraceEvent]] = {}
    holds: dict[tuple[str, str], list[TraceEvent]] = {}
    work: dict[tuple[str, str], list[TraceEvent]] = {}
    done_queues = {e.primitive for e in events if e.action == "task_done"}
    spans: list[Span] = []

    def close_open(task: str | None, ending: TraceEvent | None) -> None:
        """Close the open spans (of ``task``, or all) at ``ending`` (None: the end)."""
        stop = end if ending is None else ending.time - origin
        for state, table, note in (
            ("waiting", waits, "still waiting"),
            ("holding", holds, "still held"),
            ("working", work, "still working"),
        ):
            for (owner, _), opened in table.items():
                if task is not None and owner != task:
                    continue
                if ending is not None:
                    note = "deadlocked" if state == "waiting" else note
                for start in opened:
                    spans.append(_open_span(start, state, note, origin, stop, ending, items))
                opened.clear()

    for event in events:
        action = event.action
        key = (event.task, event.primitive)
        if action == "wait":
            waits.setdefault(key, []).append(event)
        elif action in _WAIT_ENDINGS:
            opened = waits.get(key)
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
                    start_seq=start.seq,
                    end_seq=event.seq,
                    operation=start.detail,
                )
            )
        elif action == "acquire":
            holds.setdefault(key, []).append(event)
        elif action == "release" and event.primitive in signals:
            opened = holds.get(key)  # only the releaser's own permit ends a hold
            if opened:
                start = opened.pop()
                spans.append(
                    Span(
                        event.task,
                        event.primitive,
                        "holding",
                        start.time - origin,
                        event.time - origin,
                        "",
                        kind=event.kind,
                        start_seq=start.seq,
                        end_seq=event.seq,
                    )
                )
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
                    start_seq=start.seq,
                    end_seq=event.seq,
                )
            )
        elif action == "get" and event.primitive in done_queues:
            work[key] = [event]  # an earlier get without task_done starts no span
        elif action == "task_done":
            opened = work.pop(key, None)
            if opened:
                start = opened[0]
                item = items.get(start.cause) if start.cause is not None else None
                spans.append(
                    Span(
                        event.task,
                        event.primitive,
                        "working",
                        start.time - origin,
                        event.time - origin,
                        "" if item is None else f"item {item}",
                        kind=event.kind,
                        start_seq=start.seq,
                        end_seq=event.seq,
                        item=item,
                    )
                )
        elif action == "deadlock":
            close_open(event.task, event)
    for (_, primitive), opened in holds.items():
        if primitive in signals:  # permits taken, not held: drawn as "take" marks
            opened.clear()
    close_open(None, None)
    spans.sort(key=lambda s: (s.start, lanes.get(s.task, 0), _STATE_ORDER[s.state], s.end))
    return spans


_STATE_ORDER = {"holding": 0, "working": 1, "waiting": 2}


def _open_span(
    start: TraceEvent,
    state: str,
    note: str,
    origin: float,
    stop: float,
    ending: TraceEvent | None,
    items: dict[int, int],
) -> Span:
    item = items.get(start.cause) if state == "working" and start.cause is not None else None
    if state == "waiting":
        detail = f"{start.detail}, {note}"
    elif state == "working" and item is not None:
        detail = f"item {item}, {note}"
    else:
        detail = note
    return Span(
        start.task,
        start.primitive,
        state,
        start.time - origin,
        max(stop, start.time - origin),
        detail,
        open=True,
        kind=start.kind,
        start_seq=start.seq,
        end_seq=None if ending is None else ending.seq,
        operation=start.detail if state == "waiting" else "",
        item=item,
    )
