"""Monospace renderings of a timeline: the text chart, the summary table, the transcript.

Everything here is deterministic for a given list of events (no wall clock, no
addresses, no dict-order surprises), because notebooks compare it byte for byte.
Lines never end in spaces.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

from ._axis import format_seconds
from .timeline import WAIT_OPERATIONS, _check_positive_int

if TYPE_CHECKING:
    from ._axis import Axis
    from .timeline import Timeline

HOLDING_CHAR = "#"
BOTH_CHAR = "%"
WORKING_CHAR = "="
#: Fill of a waiting span, by what it waits for (``Span.operation``).
WAITING_CHARS = {
    "acquire": ".",
    "wait": "~",
    "get": ",",
    "put": ";",
    "join": "_",
    "barrier": "|",
}
_WAITING_WORDS = {
    "acquire": "waiting to acquire",
    "wait": "waiting in wait()",
    "get": "waiting to get",
    "put": "waiting to put",
    "join": "waiting in join()",
    "barrier": "waiting at a barrier",
}
#: Instant markers, strongest first: when several fall in one column the first wins.
INSTANT_CHARS = {
    "deadlock": "D",
    "trip": "T",
    "abort": "A",
    "reset": "R",
    "shutdown": "X",
    "cancel": "x",
    "timeout": "t",
    "set": "!",
    "clear": "c",
    "notify": "*",
    "put": "+",
    "get": "-",
    "task_done": "v",
    "pass": "o",
    "release": "^",
    "take": "a",
    "give": "r",
    "wake": ">",
}
_INSTANT_WORDS = {
    "deadlock": "deadlocked here",
    "wake": "woke a waiter",
    "pass": "passed the barrier",
    "release": "released another's hold",
    "take": "took a permit (signal)",
    "give": "gave a permit (signal)",
    "cancel": "wait cancelled",
    "timeout": "wait timed out",
}
_LABEL_WIDTH = 16
_DETAIL_LINES = 10  # per detail section, before "... N more"


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, marked with ``..`` when cut."""
    if len(text) <= width:
        return text
    return text[: max(width - 2, 0)] + ".." if width > 2 else text[:width]


def _nice_step(raw: float) -> float:
    """The smallest round number (1, 2, 2.5, 4 or 5 times a power of ten; each
    divides the next power of ten) >= ``raw`` (> 0)."""
    exponent = math.floor(math.log10(raw))
    for mantissa in (1, 2, 2.5, 4, 5, 10):
        step = round(mantissa * 10.0**exponent, 12)
        if step >= raw * (1 - 1e-9):
            return step
    return round(10.0 ** (exponent + 1), 12)  # pragma: no cover - loop always returns


def _format_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{round(seconds, 6):g} s"
    return f"{round(seconds * 1000, 6):g} ms"


class _Grid:
    """Positions -> columns: one column is ``unit`` (a round number of seconds
    between instants, or of steps), chosen so that the axis fits ``room``."""

    def __init__(self, axis: Axis, room: int) -> None:
        self.axis = axis
        end = axis.end
        raw = end / max(room - 1, 1)
        if end <= 0:
            self.unit = 1.0
        elif axis.mode == "time":  # round, so that round times fall on columns
            self.unit = _nice_step(raw)
        else:  # ticks are placed by position anyway: use the width, two digits
            exponent = math.floor(math.log10(raw)) - 1
            self.unit = math.ceil(raw / 10.0**exponent - 1e-9) * 10.0**exponent
        self.columns = min(int(end / self.unit + 1e-9) + 1, room) if end > 0 else 1

    def column(self, x: float) -> int:
        return min(max(int(x / self.unit + 0.5 - 1e-9), 0), self.columns - 1)


def render_chart(
    timeline: Timeline,
    width: int = 72,
    max_lanes: int | None = None,
    axis: str = "causal",
    details: bool = True,
) -> str:
    """The timeline as text: a ruler, one lane per task, a legend and details.

    Layout: a label column (task names, at most 16 characters), the chart, then
    the primitives each task touched.  Columns follow :mod:`asyncprims._axis`
    (the same positions as the matplotlib chart): on the ruler ``-`` is clock
    time (one column = a round number of seconds) and ``:`` an instant spread
    over its causal steps.  A lane shows what the task is doing (``#`` holding,
    ``=`` working on a queue item, a waiting character per operation, ``%``
    holding while waiting) and a marker where something happened (``>`` woke a
    waiter, ``+`` put, ``D`` deadlocked, ...).  With ``details``, the wake-ups,
    the items each task got and any deadlock are listed below.  Lines are at most
    ``max(width, 40)`` characters and carry no trailing spaces.
    """
    _check_positive_int("width", width)
    if max_lanes is not None:
        _check_positive_int("max_lanes", max_lanes)
    events = timeline.events
    if not events:
        return "(no events recorded)"
    width = max(width, 40)
    positions = timeline.axis(axis)
    lanes, hidden = timeline.visible_lanes(max_lanes)
    lane_index = {task: i for i, task in enumerate(lanes)}
    notes: dict[str, dict[str, None]] = {task: {} for task in lanes}
    for event in events:
        if event.task in notes and event.primitive:
            notes[event.task].setdefault(event.primitive)
    note_text = {task: ", ".join(labels) for task, labels in notes.items()}
    label_width = min(max(len("time (s)"), *(len(t) for t in lanes)), _LABEL_WIDTH)
    note_width = min(max(len(n) for n in note_text.values()), max(12, width // 4))
    room = max(width - label_width - 1 - (note_width + 2 if note_width else 0), 10)
    grid = _Grid(positions, room)
    columns = grid.columns

    cells, used = _lane_cells(timeline, grid, lane_index)
    ruler, ticks = _ruler(positions, grid)
    lines = [_axis_line(label_width, ticks, columns, width - label_width - 1, positions.mode)]
    lines.append(" " * (label_width + 1) + ruler)
    for row, task in enumerate(lanes):
        line = f"{_fit(task, label_width):<{label_width}} {''.join(cells[row])}"
        if note_width:
            line = f"{line:<{label_width + 1 + columns}}  {_fit(note_text[task], note_width)}"
        lines.append(line.rstrip())
    legend = [f"{char} {words}" for char, words in used]
    lines += _wrap("legend:", legend, width)
    lines += _wrap("scale: ", _scale_words(positions, grid), width)
    if hidden:
        lines.append(f"... {hidden} more tasks not shown (max_lanes={max_lanes})")
    if timeline.dropped:
        lines.append(f"note: {timeline.dropped} earlier events were dropped (max_events)")
    if timeline.mixed_clocks:
        lines.append(
            "note: runs on different clocks share this axis (one trace per run keeps times apart)"
        )
    if details:
        lines += _details(timeline, width)
    return "\n".join(lines)


def _lane_cells(
    timeline: Timeline, grid: _Grid, lane_index: dict[str, int]
) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """Per lane, one character per column; and the legend entries used, in order."""
    positions = grid.axis
    columns = grid.columns
    # Per lane and column: bit 1 waiting, 2 holding, 4 working; the waiting operation.
    full = [[0] * columns for _ in lane_index]
    touched = [[0] * columns for _ in lane_index]
    operation: list[list[str]] = [[""] * columns for _ in lane_index]
    bits = {"waiting": 1, "holding": 2, "working": 4}
    for span in timeline.spans():
        row = lane_index.get(span.task)
        if row is None:
            continue
        first = grid.column(positions.x(span.start_seq))
        if span.end_seq is None:
            last = columns  # open to the end of the trace: include the last column
        else:
            last = grid.column(positions.x(span.end_seq))
            if span.open:
                last += 1
        bit = bits[span.state]
        target = full if last > first else touched
        for c in range(first, max(last, first + 1)):
            target[row][c] |= bit
            if bit == 1:
                operation[row][c] = span.operation
    marks: list[list[str | None]] = [[None] * columns for _ in lane_index]
    rank = {action: i for i, action in enumerate(INSTANT_CHARS)}
    for event in timeline.events:
        row = lane_index.get(event.task)
        if row is None:
            continue
        kind = event.action if event.action in ("wake", "deadlock") else timeline.marker_of(event)
        if kind is None:
            continue
        c = grid.column(positions.x(event.seq))
        current = marks[row][c]
        if current is None or rank[kind] < rank[current]:
            marks[row][c] = kind
    used_fill: dict[str, None] = {}
    used_marks: set[str] = set()
    cells: list[list[str]] = []
    for row in range(len(lane_index)):
        line = []
        for c in range(columns):
            mark = marks[row][c]
            if mark is not None:
                used_marks.add(mark)
                line.append(INSTANT_CHARS[mark])
                continue
            state = full[row][c] or touched[row][c]
            if state & 1 and state & 2:
                char, words = BOTH_CHAR, "holding while waiting"
            elif state & 2:
                char, words = HOLDING_CHAR, "holding"
            elif state & 4:
                char, words = WORKING_CHAR, "working on an item"
            elif state & 1:
                op = operation[row][c]
                char = WAITING_CHARS.get(op, ".")
                words = _WAITING_WORDS.get(op, f"waiting in {op}")
            else:
                line.append(" ")
                continue
            used_fill.setdefault(f"{char} {words}")
            line.append(char)
        cells.append(line)
    order = [HOLDING_CHAR, WORKING_CHAR, *WAITING_CHARS.values(), BOTH_CHAR]
    legend = sorted(
        (entry.split(" ", 1) for entry in used_fill), key=lambda pair: order.index(pair[0])
    )
    legend_pairs = [(char, words) for char, words in legend]
    legend_pairs += [
        (INSTANT_CHARS[a], _INSTANT_WORDS.get(a, a)) for a in INSTANT_CHARS if a in used_marks
    ]
    return cells, legend_pairs


def _ruler(positions: Axis, grid: _Grid) -> tuple[str, list[tuple[int, float]]]:
    """The ruler (``+`` ticks, ``-`` clock time, ``:`` expanded instants) and the
    (column, seconds) ticks whose labels fit."""
    columns = grid.columns
    ruler = ["-"] * columns
    if positions.mode != "time":
        for instant in positions.expanded_instants():
            for c in range(grid.column(instant.start), grid.column(instant.end) + 1):
                ruler[c] = ":"
    ticks: list[tuple[int, float]] = []
    # Labels are up to ~6 characters: keep ticks 8 columns apart, instants first.
    gap = 8 / columns if columns > 1 else 0.0
    # Round times share the columns that clock time gets, one label per ~10;
    # instants are labelled as long as their labels fit.  When there are too
    # many instants to label (a busy real-time trace, where instants fill most
    # of the width), round times are the only labels: they spread over it all.
    max_instants = columns // 8
    if len(positions.expanded_instants()) > max_instants:
        time_columns = float(columns)
    else:
        time_columns = columns * positions.duration / positions.end if positions.end > 0 else 0
    max_ticks = max(2, int(time_columns // 10) + 1)
    for x, seconds in positions.ticks(max_ticks=max_ticks, min_gap=gap, max_instants=max_instants):
        c = grid.column(x)
        if all(c != other for other, _ in ticks):
            ticks.append((c, seconds))
    for c, _ in ticks:
        ruler[c] = "+"
    return "".join(ruler), ticks


def _axis_line(
    label_width: int, ticks: list[tuple[int, float]], columns: int, room: int, mode: str
) -> str:
    """``time (s)`` then the tick labels that fit without touching each other."""
    axis = [" "] * max(columns, 1)
    step = min((b[1] - a[1] for a, b in itertools.pairwise(ticks) if b[1] > a[1]), default=None)
    free_from = 0
    for c, seconds in ticks:
        label = format_seconds(seconds, step)
        if c < free_from or c + len(label) > room:
            continue
        if c + len(label) > len(axis):
            axis += [" "] * (c + len(label) - len(axis))
        axis[c : c + len(label)] = label
        free_from = c + len(label) + 1
    head = "time (s)"
    return f"{head:<{label_width}} {''.join(axis)}".rstrip()


def _scale_words(positions: Axis, grid: _Grid) -> list[str]:
    if positions.mode == "steps":
        return [f"1 column = {grid.unit:g} step (time not to scale);", "right: primitives used"]
    words = [f"1 column = {_format_seconds(round(grid.unit, 12))}"]
    if positions.mode == "causal" and positions.expanded_instants():
        words[0] += " between instants;"
        words.append("':' one instant spread over its causal steps;")
    else:
        words[0] += ";"
    words.append("right: primitives used")
    return words


def _details(timeline: Timeline, width: int) -> list[str]:
    """Who woke whom, who got which item, and the deadlock, each when there is any."""
    lines: list[str] = []
    origin = timeline.origin
    pairs = timeline.wakes()
    if pairs:
        lines.append("wake-ups (waker -> woken, by):")
        shown = pairs[:_DETAIL_LINES]
        stamps = [f"{format_seconds(wake.time - origin)} s" for wake, _ in shown]
        stamp_width = max(len(stamp) for stamp in stamps)
        for stamp, (wake, ending) in zip(stamps, shown):
            text = f"  {stamp:>{stamp_width}}  {wake.task} -> {ending.task}"
            text += f"  {wake.detail} {timeline.describe(wake.primitive)}"
            if ending.action != "resume":  # woken, then cancelled before it ran
                text += f" ({'cancelled' if ending.action == 'cancel' else 'timed out'})"
            lines.append(_fit(text, width))
        if len(pairs) > _DETAIL_LINES:
            lines.append(f"  ... {len(pairs) - _DETAIL_LINES} more (Timeline.wakes())")
    flows = timeline.item_flows()
    if flows:
        lines.append("items (numbered per queue in put order), by the task that got them:")
        got: dict[tuple[str, str], list[int]] = {}
        for _, get, number in flows:
            got.setdefault((get.task, get.primitive), []).append(number)
        rows = list(got.items())
        for (task, primitive), numbers in rows[:_DETAIL_LINES]:
            text = f"  {task} <- {timeline.describe(primitive)}: " + " ".join(
                f"#{n}" for n in numbers
            )
            lines.append(_fit(text, width))
        if len(rows) > _DETAIL_LINES:
            lines.append(f"  ... {len(rows) - _DETAIL_LINES} more (Timeline.item_flows())")
    for deadlock in timeline.deadlocks():
        lines.append(f"deadlock at {format_seconds(deadlock.time)} s:")
        waits: dict[tuple[str, str], list[str]] = {}
        for task, primitive, holder in deadlock.edges:
            waits.setdefault((task, primitive), []).extend([holder] if holder else [])
        for (task, primitive), holders in list(waits.items())[:_DETAIL_LINES]:
            if primitive:
                held = f", held by {', '.join(holders)}" if holders else ""
                text = f"  {task} waits for {timeline.describe(primitive)}{held}"
            else:
                text = f"  {task} awaits {', '.join(holders) or 'something'}"
            lines.append(_fit(text, width))
        if len(waits) > _DETAIL_LINES:
            lines.append(f"  ... {len(waits) - _DETAIL_LINES} more")
        if deadlock.cycle:
            lines.append(_fit("  cycle: " + " -> ".join(deadlock.cycle), width))
    return lines


def _wrap(head: str, items: list[str], width: int) -> list[str]:
    """``head`` then the items two spaces apart, continued under the head when too long."""
    lines: list[str] = []
    current = head
    for item in items:
        if len(current) + 2 + len(item) > width and current != head:
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
        if span.state == "working":
            continue
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
        elif action == "deadlock":
            if event.primitive:
                held = f", held by {event.target}" if event.target else ""
                doing = WAIT_OPERATIONS.get(event.detail, f"in {event.detail}()")
                text = f"deadlocked waiting {doing} {what}{held}"
            else:
                text = f"deadlocked awaiting {event.target}"
            if event.value:
                text += " (in the cycle)"
        else:
            text = f"{action} {what}" + (f" ({event.detail})" if event.detail else "")
            number = timeline.item_number(event) if action in ("put", "get") else None
            if number is not None:
                text += f", item {number}"
            if event.value is not None:
                value = int(event.value) if float(event.value).is_integer() else event.value
                text += ", " + _VALUE_WORDS.get(action, "value {}").format(value)
        lines.append(
            f"{event.time - origin:8.3f}  {_fit(event.task, task_width):<{task_width}}"
            f"  {text}".rstrip()
        )
    return "\n".join(lines)
