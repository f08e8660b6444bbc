"""Export a timeline in Chrome's trace-event format (Perfetto, chrome://tracing).

Layout: one process (pid 1, named ``asyncprims``); one thread lane per task
(tid = lane index + 1, in order of first appearance, named after the task);
``X`` complete events for waiting and holding spans; ``i`` instants for set,
notify, put, get, ... and for wake-ups; ``C`` counters for waiter counts and
queue sizes; ``s``/``f`` flow events from each wake to the resume it caused.

Complete events on one thread must nest.  A task's own spans usually do, but
hand-over-hand locking (acquire B, then release A) makes two holds overlap
partially; such a span is moved to an extra lane of that task, named
``"<task> (2)"``, so the invariant holds on every tid.  Timestamps are
microseconds from the timeline's origin, rounded to nanoseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .timeline import instant_kind

if TYPE_CHECKING:
    from .timeline import Span, Timeline

PID = 1


def _us(seconds: float) -> float:
    return round(seconds * 1e6, 3)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _assign_sublanes(spans: list[Span]) -> list[int]:
    """For one task's spans (sorted by start): a sublane per span such that on
    each sublane the intervals nest (contain each other or do not overlap)."""
    order = sorted(range(len(spans)), key=lambda i: (_us(spans[i].start), -_us(spans[i].end)))
    stacks: list[list[float]] = []  # per sublane: ends of the enclosing open intervals
    result = [0] * len(spans)
    for i in order:
        start, end = _us(spans[i].start), _us(spans[i].end)
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
    timestamp (stable, so equal timestamps keep recording order).
    """
    events = timeline.events
    origin = timeline.origin
    tasks = timeline.tasks
    spans = timeline.spans()
    by_task: dict[str, list[Span]] = {task: [] for task in tasks}
    for span in spans:
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
        for span, sublane in zip(task_spans, _assign_sublanes(task_spans), strict=True):
            start, end = _us(span.start), _us(span.end)
            args: dict[str, Any] = {
                "primitive": span.primitive,
                "kind": span.kind,
                "detail": span.detail,
            }
            if span.open:
                args["open"] = True
            if span.woken_by is not None:
                args["woken_by"] = span.woken_by
            body.append(
                {
                    "ph": "X",
                    "name": f"{span.state} {timeline.describe(span.primitive)}",
                    "cat": span.state,
                    "ts": start,
                    "dur": round(end - start, 3),
                    "pid": PID,
                    "tid": tid_of(task, sublane),
                    "args": args,
                }
            )

    wakes: dict[int, tuple[float, int]] = {}
    for event in events:
        ts = _us(event.time - origin)
        what = timeline.describe(event.primitive)
        if event.action == "wake" or instant_kind(event) is not None:
            args = {"primitive": event.primitive, "kind": event.kind, "seq": event.seq}
            if event.detail:
                args["detail"] = event.detail
            if event.value is not None:
                args["value"] = _number(event.value)
            if event.target is not None:
                args["target"] = event.target
            name = f"{event.action} {what}" if event.action != "wake" else f"wake {event.target}"
            body.append(
                {
                    "ph": "i",
                    "s": "t",
                    "name": name,
                    "cat": event.action,
                    "ts": ts,
                    "pid": PID,
                    "tid": tid_of(event.task),
                    "args": args,
                }
            )
        if event.action == "wake":
            wakes[event.seq] = (ts, tid_of(event.task))
        elif event.action == "resume" and event.cause in wakes:
            wake_ts, wake_tid = wakes[event.cause]
            flow = {"name": "wake", "cat": "wake", "id": event.cause, "pid": PID}
            body.append({**flow, "ph": "s", "ts": wake_ts, "tid": wake_tid})
            body.append({**flow, "ph": "f", "bp": "e", "ts": ts, "tid": tid_of(event.task)})

    for primitive, points in timeline.waiter_counts().items():
        name = f"waiting {timeline.describe(primitive)}"
        body += [
            {"ph": "C", "name": name, "ts": _us(t), "pid": PID, "args": {"waiting": n}}
            for t, n in points
        ]
    for primitive, depth in timeline.queue_depths().items():
        name = f"size {timeline.describe(primitive)}"
        body += [
            {"ph": "C", "name": name, "ts": _us(t), "pid": PID, "args": {"size": n}}
            for t, n in depth
        ]
    body.sort(key=lambda e: e["ts"])
    return {
        "traceEvents": meta + body,
        "displayTimeUnit": "ms",
        "otherData": {"producer": "asyncprims", "dropped_events": timeline.dropped},
    }
