"""Export a timeline in Chrome's trace-event format (the Perfetto UI, ui.perfetto.dev).

Layout: one process (pid 1, named ``asyncprims``); one thread lane per task
(tid = lane index + 1, in order of first appearance, named after the task);
``X`` complete events for waiting, holding and working spans; ``i`` instants
for set, notify, put, get, cancellations, deadlocks, ...; ``C`` counters for
waiter counts and queue sizes; ``s``/``f`` flow events from each wake to the
resume it caused, and from each put to the get of the same item.

Causal order survives the export: events that share a timestamp (every
hand-off in virtual time) are moved apart by ``_NUDGE_NS`` nanoseconds each,
in causal order, so no two events of a trace share a timestamp.

Flows bind to slices: a viewer attaches a flow start to the slice enclosing it
on its track, and a flow end (``"bp": "e"``) likewise, else it may drop the
arrow.  So every wake, resume, put and get that a flow starts or ends at gets a
short slice of its own (``_MARK_NS`` long) on its task's track, and the flow
point lies strictly inside it.  No span boundary falls inside such a slice
(events are ``_NUDGE_NS`` apart), so it nests on the task's first track.

Complete events on one thread must nest.  A task's own spans usually do, but
hand-over-hand locking (acquire B, then release A) makes two holds overlap
partially; such a span is moved to an extra lane of that task, named
``"<task> (2)"``, so the invariant holds on every tid.  Timestamps are
microseconds from the timeline's origin, in whole nanoseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .timeline import Span, Timeline

PID = 1
_NUDGE_NS = 10
_MARK_NS = 4


def _us(nanoseconds: int) -> float:
    return round(nanoseconds / 1000, 3)


def _timestamps(timeline: Timeline) -> dict[int, int]:
    """``{seq: nanoseconds from the origin}``, strictly increasing in causal order."""
    origin = timeline.origin
    stamps: dict[int, int] = {}
    previous = -_NUDGE_NS
    for event in sorted(timeline.events, key=lambda e: (e.time, e.seq)):
        stamp = max(round((event.time - origin) * 1e9), previous + _NUDGE_NS)
        stamps[event.seq] = previous = stamp
    return stamps


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _assign_sublanes(bounds: list[tuple[int, int]]) -> list[int]:
    """For one task's spans, as (start, end): a sublane per span such that on
    each sublane the intervals nest (contain each other or do not overlap)."""
    order = sorted(range(len(bounds)), key=lambda i: (bounds[i][0], -bounds[i][1]))
    stacks: list[list[int]] = []  # per sublane: ends of the enclosing open intervals
    result = [0] * len(bounds)
    for i in order:
        start, end = bounds[i]
        for lane, stack in enumerate(stacks):
            while stack and stack[-1] <= start:
                stack.pop()
            if not stack or stack[-1] >= end:
                stack.append(end)
                result[i] = lane
                break
        else:
            stacks.append([end])
            result[i] = len(stacks) - 1
    return result


def chrome_trace(timeline: Timeline) -> dict[str, Any]:
    """``{"traceEvents": [...], "displayTimeUnit": "ms"}``; json.dump-able.

    Metadata (``M``) events come first, then every other event sorted by
    timestamp (stable: a span comes before the marks it encloses).
    """
    events = timeline.events
    stamps = _timestamps(timeline)
    end = max(stamps.values(), default=0) + _NUDGE_NS
    tasks = timeline.tasks
    by_task: dict[str, list[Span]] = {task: [] for task in tasks}
    for span in timeline.spans():
        by_task.setdefault(span.task, []).append(span)

    tids: dict[tuple[str, int], int] = {}
    meta: list[dict[str, Any]] = [
        {"ph": "M", "name": "process_name", "pid": PID, "tid": 0, "args": {"name": "asyncprims"}},
    ]

    def tid_of(task: str, sublane: int = 0) -> int:
        key = (task, sublane)
        if key not in tids:
            tids[key] = len(tids) + 1
            name = task if sublane == 0 else f"{task} ({sublane + 1})"
            meta.append(
                {
                    "ph": "M",
                    "name": "thread_name",
                    "pid": PID,
                    "tid": tids[key],
                    "args": {"name": name},
                }
            )
            meta.append(
                {
                    "ph": "M",
                    "name": "thread_sort_index",
                    "pid": PID,
                    "tid": tids[key],
                    "args": {"sort_index": tids[key]},
                }
            )
        return tids[key]

    for task in by_task:
        tid_of(task)
    body: list[dict[str, Any]] = []
    for task, task_spans in by_task.items():
        bounds = [
            (stamps[s.start_seq], end if s.end_seq is None else stamps[s.end_seq])
            for s in task_spans
        ]
        for span, (start, stop), sublane in zip(
            task_spans, bounds, _assign_sublanes(bounds), strict=True
        ):
            args: dict[str, Any] = {
                "primitive": span.primitive,
                "kind": span.kind,
                "detail": span.detail,
            }
            if span.open:
                args["open"] = True
            if span.woken_by is not None:
                args["woken_by"] = span.woken_by
            if span.item is not None:
                args["item"] = span.item
            name = f"{span.state} {timeline.describe(span.primitive)}"
            if span.state == "working" and span.item is not None:
                name = f"working on item {span.item} of {timeline.describe(span.primitive)}"
            body.append(
                {
                    "ph": "X",
                    "name": name,
                    "cat": span.state,
                    "ts": _us(start),
                    "dur": _us(stop - start),
                    "pid": PID,
                    "tid": tid_of(task, sublane),
                    "args": args,
                }
            )

    def mark(task: str, seq: int, name: str, category: str) -> tuple[float, int]:
        """A short slice for a flow to bind to; returns the flow point (ts, tid)."""
        tid = tid_of(task)
        body.append(
            {
                "ph": "X",
                "name": name,
                "cat": category,
                "ts": _us(stamps[seq]),
                "dur": _us(_MARK_NS),
                "pid": PID,
                "tid": tid,
                "args": {"seq": seq},
            }
        )
        return _us(stamps[seq] + _MARK_NS // 2), tid

    for event in events:
        what = timeline.describe(event.primitive) if event.primitive else ""
        if timeline.marker_of(event) is not None or event.action == "deadlock":
            args = {"primitive": event.primitive, "kind": event.kind, "seq": event.seq}
            if event.detail:
                args["detail"] = event.detail
            if event.value is not None:
                args["value"] = _number(event.value)
            if event.target is not None:
                args["target"] = event.target
            number = timeline.item_number(event) if event.action in ("put", "get") else None
            if number is not None:
                args["item"] = number
            name = f"{event.action} {what}".rstrip()
            body.append(
                {
                    "ph": "i",
                    "s": "t",
                    "name": name,
                    "cat": event.action,
                    "ts": _us(stamps[event.seq]),
                    "pid": PID,
                    "tid": tid_of(event.task),
                    "args": args,
                }
            )
    for wake, resume in timeline.wakes():
        flow = {"name": "wake", "cat": "wake", "id": wake.seq, "pid": PID}
        ts, tid = mark(wake.task, wake.seq, f"wake {resume.task} ({wake.detail})", "wake")
        body.append({**flow, "ph": "s", "ts": ts, "tid": tid})
        ts, tid = mark(resume.task, resume.seq, f"resume (woken by {wake.task})", "resume")
        body.append({**flow, "ph": "f", "bp": "e", "ts": ts, "tid": tid})
    for put, get, number in timeline.item_flows():
        flow = {"name": "item", "cat": "item", "id": put.seq, "pid": PID}
        ts, tid = mark(put.task, put.seq, f"put item {number}", "put")
        body.append({**flow, "ph": "s", "ts": ts, "tid": tid})
        ts, tid = mark(get.task, get.seq, f"get item {number}", "get")
        body.append({**flow, "ph": "f", "bp": "e", "ts": ts, "tid": tid})
    for deadlock in timeline.deadlocks():
        text = "deadlock"
        if deadlock.cycle:
            text += ": cycle " + " -> ".join(deadlock.cycle)
        body.append(
            {
                "ph": "i",
                "s": "g",
                "name": text,
                "cat": "deadlock",
                "ts": _us(stamps[deadlock.seq]),
                "pid": PID,
                "tid": 0,
                "args": {"tasks": deadlock.tasks},
            }
        )
    body += _counters(timeline, stamps)
    # Stable sort by time; at one time a longer slice first, so that it encloses.
    body.sort(key=lambda e: (e["ts"], -e.get("dur", 0.0)))
    return {
        "traceEvents": meta + body,
        "displayTimeUnit": "ms",
        "otherData": {"producer": "asyncprims", "dropped_events": timeline.dropped},
    }


def _counters(timeline: Timeline, stamps: dict[int, int]) -> list[dict[str, Any]]:
    """``C`` events: tasks waiting per primitive, and queue sizes, at every change."""
    counters: list[dict[str, Any]] = []
    pending: dict[tuple[str, str], int] = {}
    waiting: dict[str, int] = {}
    for event in sorted(timeline.events, key=lambda e: (e.time, e.seq)):
        key = (event.task, event.primitive)
        ts = _us(stamps[event.seq])
        what = timeline.describe(event.primitive) if event.primitive else ""
        if event.action == "wait":
            pending[key] = pending.get(key, 0) + 1
            waiting[event.primitive] = waiting.get(event.primitive, 0) + 1
        elif event.action in ("resume", "cancel", "timeout") and pending.get(key):
            pending[key] -= 1
            waiting[event.primitive] -= 1
        elif event.action in ("put", "get", "shutdown") and event.value is not None:
            counters.append(
                {
                    "ph": "C",
                    "name": f"size {what}",
                    "ts": ts,
                    "pid": PID,
                    "args": {"size": _number(event.value)},
                }
            )
            continue
        else:
            continue
        counters.append(
            {
                "ph": "C",
                "name": f"waiting {what}",
                "ts": ts,
                "pid": PID,
                "args": {"waiting": waiting[event.primitive]},
            }
        )
    return counters
