"""Where each event sits on the x axis: the causal axis shared by the chart and the text.

A hand-off (release, wake, resume, acquire) happens at one instant of loop
time, so an axis of time alone draws it as a line.  The causal axis keeps
clock time to scale *between* instants and spreads the events *of* one
instant over visible steps, in the order they happened:

* events are grouped into **instants**: consecutive events (in time, then
  ``seq``, order) whose times lie within ``resolution`` of the instant's first
  event (exactly equal times in virtual time; real-time bursts shorter than
  the resolution count as one instant too);
* within an instant every event gets a **step**, except that an event joins
  the step before it when the same task does both and the second is the
  immediate consequence of the first (``resume`` then ``acquire``; a
  ``release``, ``set``, ``notify``, ``put``, ... then the first ``wake`` it
  causes; a Condition's ``release`` then its ``wait``), and the ``deadlock``
  events of one deadlock share one step;
* an event's position is ``x = t + step_width * k``: ``t`` its instant's time
  from the origin, ``k`` the room taken before it by steps: every step but the
  first of each instant, plus half a step on each side of an instant that has
  several (so neighbouring expanded instants never touch, and their bands can
  be drawn ``step_width / 2`` wide around their steps).  So x is in seconds
  between instants, and each step adds ``step_width`` seconds of room.

``step_width`` gives the extra steps a share of the axis that grows with their
number (``n / (n + 8)``, at most 80 %), so a 2-task hand-off is as legible as a
500-task run.  With ``mode="time"`` x is the time itself (steps collapse);
with ``mode="steps"`` x is the global step number (time is not to scale).

Invariants: positions never decrease along the sorted events; two events on
different steps have different positions (in ``causal`` and ``steps`` mode);
every position lies in ``[0, end]``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tracing import TraceEvent

__all__ = ["AXIS_MODES", "Axis", "Instant", "nice_ticks"]

AXIS_MODES = ("causal", "time", "steps")

#: Actions whose first ``wake`` (by the same task) is drawn on the same step.
_CAUSES_WAKE = frozenset(
    {
        "release",
        "set",
        "notify",
        "put",
        "get",
        "task_done",
        "shutdown",
        "trip",
        "cancel",
        "timeout",
        "reset",
        "abort",
    }
)
_SHARE_KNEE = 8  # steps at which the extra steps take half of the axis
_MAX_SHARE = 0.8
#: Real-time bursts shorter than this share of the trace count as one instant.
_RESOLUTION_SHARE = 1e-3


@dataclass(frozen=True, slots=True)
class Instant:
    """Events that share one moment: ``time`` (seconds from the origin), their
    number of ``steps`` and the positions of the first and last step."""

    time: float
    steps: int
    start: float
    end: float

    @property
    def expanded(self) -> bool:
        """True when the instant is drawn as several steps."""
        return self.steps > 1


def _joins_previous_step(previous: TraceEvent, event: TraceEvent) -> bool:
    if event.action == "deadlock":
        return previous.action == "deadlock"
    if previous.task != event.task:
        return False
    if event.action == "acquire":
        return previous.action == "resume"
    if event.action == "wait":  # Condition.wait() releases its lock, then waits
        return previous.action == "release" and previous.primitive == event.primitive
    return event.action == "wake" and previous.action in _CAUSES_WAKE


class Axis:
    """Positions of a timeline's events; see the module docstring.

    ``events`` must be the timeline's events (any order: they are sorted by
    time, then ``seq``); ``origin`` the time that maps to 0.
    """

    def __init__(
        self,
        events: Sequence[TraceEvent],
        origin: float,
        mode: str = "causal",
        resolution: float | None = None,
    ) -> None:
        if mode not in AXIS_MODES:
            choices = ", ".join(map(repr, AXIS_MODES))
            raise ValueError(f"axis must be one of {choices}, not {mode!r}")
        if resolution is not None and not resolution >= 0:
            raise ValueError(f"resolution must be a number >= 0, not {resolution!r}")
        self.mode = mode
        ordered = sorted(events, key=lambda e: (e.time, e.seq))
        span = ordered[-1].time - ordered[0].time if ordered else 0.0
        self.duration = max(ordered[-1].time - origin, 0.0) if ordered else 0.0
        self.resolution = span * _RESOLUTION_SHARE if resolution is None else resolution

        # Instants as (time from origin, steps); each event's (instant, step within it).
        groups: list[tuple[float, int]] = []
        where: list[tuple[int, int, int]] = []  # (seq, instant index, step in instant)
        first_time = math.nan
        previous: TraceEvent | None = None
        for event in ordered:
            if previous is None or event.time - first_time > self.resolution:
                first_time = event.time
                groups.append((event.time - origin, 1))
            elif not _joins_previous_step(previous, event):
                time, steps = groups[-1]
                groups[-1] = (time, steps + 1)
            where.append((event.seq, len(groups) - 1, groups[-1][1] - 1))
            previous = event
        # Room in steps: steps - 1 per instant, plus 1 of padding per expanded one.
        extra = sum(steps for _, steps in groups if steps > 1)
        self.extra_steps = extra
        self.step_count = sum(steps for _, steps in groups)

        if mode == "causal" and extra:
            share = min(extra / (extra + _SHARE_KNEE), _MAX_SHARE)
            if self.duration > 0:
                self.step_width = share * self.duration / ((1 - share) * extra)
            else:
                self.step_width = 1.0
        else:
            self.step_width = 0.0 if mode == "time" else 1.0

        # Per instant: extra steps and all steps before it.
        extra_before: list[float] = []
        steps_before: list[int] = []
        running_extra = 0.0
        running_steps = 0
        instants: list[Instant] = []
        for time, steps in groups:
            if steps > 1:
                running_extra += 0.5
            extra_before.append(running_extra)
            steps_before.append(running_steps)
            start = self._place(time, running_extra, running_steps)
            end = self._place(time, running_extra + steps - 1, running_steps + steps - 1)
            instants.append(Instant(max(time, 0.0), steps, start, end))
            running_extra += steps - 1 + (0.5 if steps > 1 else 0)
            running_steps += steps
        self.instants = instants
        self._positions: dict[int, float] = {
            seq: self._place(
                groups[index][0], extra_before[index] + step, steps_before[index] + step
            )
            for seq, index, step in where
        }
        self.end = 0.0
        if instants:
            last = instants[-1]
            self.end = last.end + (self.step_width / 2 if last.expanded else 0.0)

    def _place(self, time: float, extra_before: float, global_step: int) -> float:
        if self.mode == "steps":
            return float(global_step)
        return max(time, 0.0) + self.step_width * extra_before

    # -- queries -------------------------------------------------------------------

    def x(self, seq: int) -> float:
        """Position of the event ``seq`` (KeyError for an unknown one)."""
        return self._positions[seq]

    def x_of_time(self, seconds: float) -> float:
        """Position of a moment (seconds from the origin) between or at instants:
        the start of an instant at its own time, else time plus the room taken
        by the steps of every earlier instant.  In ``steps`` mode: interpolated
        between the neighbouring instants."""
        if self.mode == "time" or not self.instants:
            return seconds
        if self.mode == "steps":
            return self._steps_x_of_time(seconds)
        extra = 0
        for instant in self.instants:
            if abs(instant.time - seconds) <= self.resolution:
                return instant.start
            if instant.time > seconds:
                break
            extra += instant.steps if instant.expanded else 0
        return seconds + self.step_width * extra

    def _steps_x_of_time(self, seconds: float) -> float:
        instants = self.instants
        if seconds <= instants[0].time:
            return instants[0].start
        for before, after in itertools.pairwise(instants):
            if seconds <= after.time:
                gap = after.time - before.time
                share = (seconds - before.time) / gap if gap > 0 else 0.0
                return before.end + share * (after.start - before.end)
        return instants[-1].end

    def expanded_instants(self) -> list[Instant]:
        """Instants drawn as several steps, in time order."""
        return [instant for instant in self.instants if instant.expanded]

    def ticks(
        self, max_ticks: int = 7, min_gap: float = 0.0, max_instants: int = 10
    ) -> list[tuple[float, float]]:
        """``(position, seconds)`` tick marks: round times (1-2-5 steps) between
        instants (at most ``max_ticks``) plus the middle of every expanded
        instant (when there are at most ``max_instants`` of those), keeping only
        ticks at least ``min_gap`` (a share of ``end``) apart; instants win over
        round times.  Sorted by position."""
        if not self.instants:
            return []
        wanted: list[tuple[float, float, int]] = []  # (position, seconds, priority)
        expanded = self.expanded_instants()
        if len(expanded) > max_instants:  # too many to label: round times only
            expanded = []
        for instant in expanded:
            wanted.append(((instant.start + instant.end) / 2, instant.time, 0))
        expanded_times = {instant.time for instant in expanded}
        for seconds in nice_ticks(self.duration, max_ticks):
            if seconds in expanded_times:
                continue
            wanted.append((self.x_of_time(seconds), seconds, 1))
        gap = min_gap * self.end
        chosen: list[tuple[float, float]] = []
        for position, seconds, _ in sorted(wanted, key=lambda w: (w[2], w[0])):
            if all(abs(position - other) >= gap for other, _ in chosen):
                chosen.append((position, seconds))
        return sorted(chosen)


def nice_ticks(duration: float, max_ticks: int = 7) -> list[float]:
    """Round times from 0 to ``duration`` (inclusive, when round), a 1-2-5 step apart,
    at most ``max_ticks`` of them (at least ``[0.0]``)."""
    if not duration > 0 or max_ticks < 2:
        return [0.0]
    raw = duration / (max_ticks - 1)
    exponent = math.floor(math.log10(raw))
    step = 10.0**exponent
    for mantissa in (1, 2, 2.5, 5, 10):
        step = mantissa * 10.0**exponent
        if step >= raw * (1 - 1e-9):
            break
    count = int(duration / step + 1e-9)
    return [round(i * step, 12) for i in range(count + 1)]


def format_seconds(seconds: float, step: float | None = None) -> str:
    """A tick label: ``0``, ``0.05``, ``1.5``, ``120``; with enough decimals for
    ``step`` when given (so ticks 0.025 apart read 0.025, 0.05, 0.075)."""
    if step is not None and step > 0:
        decimals = max(0, -math.floor(math.log10(step) + 1e-9))
        text = f"{seconds:.{min(decimals + 1, 9)}f}"
    else:
        text = f"{seconds:.9f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return text or "0"
