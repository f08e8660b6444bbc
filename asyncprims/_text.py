"""Monospace renderings of a timeline: the text chart, the summary table, the transcript.

Everything here is deterministic for a given list of events (no wall clock, no
addresses, no dict-order surprises), because notebooks compare it byte for byte.
Lines never end in spaces.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .timeline import instant_kind

if TYPE_CHECKING:
    from .timeline import Timeline

WAITING_CHAR = "."
HOLDING_CHAR = "#"
BOTH_CHAR = "%"
#: Instant markers, strongest first: when several fall in one column the first wins.
INSTANT_CHARS = {
    "trip": "T",
    "abort": "A",
    "reset": "R",
    "shutdown": "X",
    "set": "!",
    "clear": "_",
    "notify": "*",
    "put": "+",
    "get": "-",
    "task_done": "=",
    "pass": ":",
    "release": "^",
    "wake": ">",
}
_INSTANT_WORDS = {
    "wake": "woke a waiter",
    "pass": "barrier pass",
    "release": "released another's hold",
}
_LABEL_WIDTH = 16
_MIN_DT = 1e-4  # ticks (every 10 columns) are then whole milliseconds


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, marked with ``..`` when cut."""
    if len(text) <= width:
        return text
    return text[: max(width - 2, 0)] + ".." if width > 2 else text[:width]


def _column_seconds(end: float, columns: int) -> float:
    """The smallest 1-2-5 step (>= 0.1 ms) such that ``columns`` cells cover ``end``."""
    raw = end / max(columns - 1, 1)
    if raw <= _MIN_DT:
        return _MIN_DT
    exponent = math.floor(math.log10(raw))
    for mantissa in (1, 2, 5, 10):
        step = round(mantissa * 10.0**exponent, 12)
        if step >= raw * (1 - 1e-9):
            return step
    return round(10.0 ** (exponent + 1), 12)  # pragma: no cover - loop always returns


def _format_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{round(seconds, 6):g} s"
    return f"{round(seconds * 1000, 6):g} ms"


def render_chart(timeline: Timeline, width: int = 72, max_lanes: int | None = None) -> str:
    """The timeline as text: a time axis, one lane per task, a legend.

    Layout: a label column (task names, at most 16 characters), the chart
    (one column = a 1-2-5 step of seconds, at least 0.1 ms, chosen so the whole
    trace fits), then a note listing the primitives each task touched.  A
    column shows ``.`` while the task waits, ``#`` while it holds something,
    ``%`` when both, and an instant marker (``+`` put, ``>`` woke a waiter, ...)
    when one happened in it.  Lines are at most ``max(width, 40)`` characters
    and carry no trailing spaces.
    """
    events = timeline.events
    if not events:
        return "(no events recorded)"
    width = max(width, 40)
    lanes, hidden = timeline.visible_lanes(max_lanes)
    lane_index = {task: i for i, task in enumerate(lanes)}
    notes: dict[str, dict[str, None]] = {task: {} for task in lanes}
    for event in events:
        if event.task in notes:
            notes[event.task].setdefault(event.primitive)
    note_text = {task: ", ".join(labels) for task, labels in notes.items()}
    label_width = min(max(len("time (s)"), *(len(t) for t in lanes)), _LABEL_WIDTH)
    note_width = min(max(len(n) for n in note_text.values()), max(12, width // 4))
    chart_width = max(width - label_width - 1 - (note_width + 2 if note_width else 0), 10)

    end = timeline.end
    dt = _column_seconds(end, chart_width)
    columns = min(int(end / dt + 1e-9) + 1, chart_width)

    def column(t: float) -> int:
        return min(max(int(t / dt + 1e-9), 0), columns - 1)

    states = _lane_states(timeline, lane_index, columns, dt)
    marks: list[list[str | None]] = [[None] * columns for _ in lanes]
    rank = {action: i for i, action in enumerate(INSTANT_CHARS)}
    used: set[str] = set()
    origin = timeline.origin
    for event in events:
        row = lane_index.get(event.task)
        kind = "wake" if event.action == "wake" else instant_kind(event)
        if row is None or kind is None:
            continue
        c = column(event.time - origin)
        current = marks[row][c]
        if current is None or rank[kind] < rank[current]:
            marks[row][c] = kind
    fill = {0: " ", 1: WAITING_CHAR, 2: HOLDING_CHAR, 3: BOTH_CHAR}
    ruler = "".join("+" if c % 10 == 0 else "-" for c in range(columns))
    lines = [
        _axis_line(label_width, dt, columns, width - label_width - 1),
        " " * (label_width + 1) + ruler,
    ]
    seen_states = 0
    for row, task in enumerate(lanes):
        cells = []
        for c in range(columns):
            seen_states |= 1 << states[row][c]
            action = marks[row][c]
            if action is not None:
                used.add(action)
                cells.append(INSTANT_CHARS[action])
            else:
                cells.append(fill[states[row][c]])
        line = f"{_fit(task, label_width):<{label_width}} {''.join(cells)}"
        if note_width:
            line = f"{line:<{label_width + 1 + columns}}  {_fit(note_text[task], note_width)}"
        lines.append(line.rstrip())
    legend = [f"{WAITING_CHAR} waiting", f"{HOLDING_CHAR} holding"]
    if seen_states & (1 << 3):
        legend.append(f"{BOTH_CHAR} holding+waiting")
    legend += [f"{INSTANT_CHARS[a]} {_INSTANT_WORDS.get(a, a)}" for a in INSTANT_CHARS if a in used]
    lines += _wrap("legend:", legend, width)
    lines += _wrap(
        "scale: ", [f"1 column = {_format_seconds(dt)};", "right: primitives used"], width
    )
    if hidden:
        lines.append(f"... {hidden} more tasks not shown (max_lanes={max_lanes})")
    if timeline.dropped:
        lines.append(f"note: {timeline.dropped} earlier events were dropped (max_events)")
    return "\n".join(lines)


def _lane_states(
    timeline: Timeline, lane_index: dict[str, int], columns: int, dt: float
) -> list[list[int]]:
    """Per lane and column: 0 idle, 1 waiting, 2 holding, 3 both.

    A column shows the state that covers most of it, where "both" is the time
    a waiting span overlaps a holding one; a column touched only by zero-length
    spans shows their state.  So a hand-off inside one column (wait ends,
    hold starts) shows one state, never a spurious "both".
    """
    per_lane: list[dict[str, list[tuple[float, float]]]] = [
        {"waiting": [], "holding": []} for _ in lane_index
    ]
    for span in timeline.spans():
        row = lane_index.get(span.task)
        if row is not None:
            per_lane[row][span.state].append((span.start, span.end))
    states = []
    for intervals in per_lane:
        cover = [[0.0, 0.0, 0.0, 0.0] for _ in range(columns)]  # by state 0..3
        touched = [0] * columns
        waiting, holding = _union(intervals["waiting"]), _union(intervals["holding"])
        both = _intersect(waiting, holding)
        for state, union in ((1, waiting), (2, holding), (3, both)):
            for start, end in union:
                first = min(int(start / dt + 1e-9), columns - 1)
                last = max(first, min(math.ceil(end / dt - 1e-9) - 1, columns - 1))
                for c in range(first, last + 1):
                    touched[c] |= state
                    overlap = min(end, (c + 1) * dt) - max(start, c * dt)
                    cover[c][state] += max(overlap, 0.0)
        row_states = []
        for c in range(columns):
            w, h, b = cover[c][1] - cover[c][3], cover[c][2] - cover[c][3], cover[c][3]
            if b > 0 and b >= w and b >= h:
                row_states.append(3)
            elif h > 0 and h >= w:
                row_states.append(2)
            elif w > 0:
                row_states.append(1)
            else:
                row_states.append(2 if touched[c] & 2 else touched[c] & 1)
        states.append(row_states)
    return states


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _intersect(
    a: list[tuple[float, float]], b: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Intersection of two sorted, disjoint interval lists (positive-length parts only)."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _axis_line(label_width: int, dt: float, columns: int, room: int) -> str:
    """``time (s)`` then a tick label every 10 columns, while it fits in ``room``."""
    tick = 10 * dt
    decimals = max(0, -math.floor(math.log10(tick) + 1e-9))
    axis = [" "] * columns
    for c in range(0, columns, 10):
        label = f"{c // 10 * tick:.{decimals}f}"
        if c + len(label) > room and c:
            break
        axis[c : c + len(label)] = label
    return f"{'time (s)':<{label_width}} {''.join(axis)}".rstrip()


def _wrap(head: str, items: list[str], width: int) -> list[str]:
    """``head`` then the items two spaces apart, continued under the head when too long."""
    lines: list[str] = []
    current = head
    for item in items:
        if len(current) + 2 + len(item) > width and current.strip():
            lines.append(current)
            current = " " * len(head)
        current = f"{current}  {item}"
    lines.append(current)
    return lines


def render_summary(timeline: Timeline) -> str:
    """Per task and primitive: waits, total and longest wait, total held (seconds, 3 decimals).

    Rows follow lane order, then the primitives' first appearance.  A ``*``
    after the primitive marks a span still open at the end of the trace (its
    time counts up to the last event).  ``-`` means never waited / never held.
    """
    spans = timeline.spans()
    if not spans:
        return "(no waiting or holding recorded)"
    lanes = {task: i for i, task in enumerate(timeline.tasks)}
    kinds = timeline.primitive_kinds()
    order = {label: i for i, label in enumerate(kinds)}
    rows: dict[tuple[str, str], list[float]] = {}  # waits, total, longest, held, open
    for span in spans:
        row = rows.setdefault((span.task, span.primitive), [0, 0.0, 0.0, -1.0, 0])
        if span.state == "waiting":
            row[0] += 1
            row[1] += span.duration
            row[2] = max(row[2], span.duration)
        else:
            row[3] = max(row[3], 0.0) + span.duration
        if span.open:
            row[4] = 1
    header = ("task", "primitive", "waits", "total wait", "longest wait", "total held")
    table = [header]
    for (task, primitive), (waits, total, longest, held, is_open) in sorted(
        rows.items(), key=lambda item: (lanes.get(item[0][0], 0), order.get(item[0][1], 0))
    ):
        name = timeline.describe(primitive) + ("*" if is_open else "")
        table.append(
            (
                task,
                name,
                str(int(waits)),
                f"{total:.3f}" if waits else "-",
                f"{longest:.3f}" if waits else "-",
                f"{held:.3f}" if held >= 0 else "-",
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = []
    for r in table:
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1])]
        cells += [r[i].rjust(widths[i]) for i in range(2, len(header))]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    footer = "times in seconds"
    if any(r[4] for r in rows.values()):
        footer += "; * still waiting or holding when the trace ended"
    lines.append(footer)
    return "\n".join(lines)


_VALUE_WORDS = {
    "put": "size {}",
    "get": "size {}",
    "shutdown": "size {}",
    "notify": "woke {}",
    "task_done": "unfinished {}",
    "pass": "arrival {}",
}


def render_transcript(timeline: Timeline) -> str:
    """One line per event: time (3 decimals, from the origin), task, what happened."""
    events = timeline.events
    if not events:
        return "(no events recorded)"
    origin = timeline.origin
    task_width = min(max(len(e.task) for e in events), _LABEL_WIDTH)
    lines = []
    if timeline.dropped:
        lines.append(f"({timeline.dropped} earlier events dropped)")
    for event in events:
        what = timeline.describe(event.primitive)
        action = event.action
        if action == "wait":
            text = f"waits on {what} ({event.detail})"
        elif action == "resume":
            text = f"resumes on {what}" + (f", woken by {event.target}" if event.target else "")
        elif action == "cancel":
            text = f"cancelled waiting on {what}" + (f" ({event.detail})" if event.detail else "")
        elif action == "timeout":
            text = f"timed out waiting on {what}"
        elif action == "acquire":
            text = f"acquires {what}"
        elif action == "release":
            owner = "" if event.target in (None, event.task) else f" (held by {event.target})"
            text = f"releases {what}{owner}"
        elif action == "wake":
            how = f" ({event.detail})" if event.detail else ""
            text = f"wakes {event.target} on {what}{how}"
        else:
            text = f"{action} {what}" + (f" ({event.detail})" if event.detail else "")
            if event.value is not None:
                value = int(event.value) if float(event.value).is_integer() else event.value
                text += ", " + _VALUE_WORDS.get(action, "value {}").format(value)
        lines.append(
            f"{event.time - origin:8.3f}  {_fit(event.task, task_width):<{task_width}}"
            f"  {text}".rstrip()
        )
    return "\n".join(lines)
