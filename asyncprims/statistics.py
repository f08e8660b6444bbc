"""Snapshots returned by the primitives' ``statistics()`` methods.

asyncio offers no such view; these follow trio's and anyio's: small frozen
dataclasses, cheap to build, safe to keep (they hold no reference to the
primitive itself).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

__all__ = [
    "BarrierStatistics",
    "ConditionStatistics",
    "EventStatistics",
    "LockStatistics",
    "QueueStatistics",
    "SemaphoreStatistics",
]


@dataclass(frozen=True)
class LockStatistics:
    """``owner`` is the task that acquired the lock (None if unlocked or if
    it was acquired outside any task)."""

    locked: bool
    owner: asyncio.Task[object] | None
    tasks_waiting: int


@dataclass(frozen=True)
class EventStatistics:
    is_set: bool
    tasks_waiting: int


@dataclass(frozen=True)
class ConditionStatistics:
    """``tasks_waiting`` counts tasks in ``wait()``; ``lock`` describes the underlying lock."""

    tasks_waiting: int
    lock: LockStatistics


@dataclass(frozen=True)
class SemaphoreStatistics:
    """``value`` is the number of free permits; ``holders`` the tasks holding one,
    oldest first (a task holding two appears once)."""

    value: int
    tasks_waiting: int
    holders: tuple[asyncio.Task[object], ...]


@dataclass(frozen=True)
class BarrierStatistics:
    """``state`` is one of ``filling``, ``draining``, ``resetting``, ``broken``."""

    parties: int
    n_waiting: int
    state: str
    tasks_waiting: int


@dataclass(frozen=True)
class QueueStatistics:
    size: int
    maxsize: float
    getters_waiting: int
    putters_waiting: int
    unfinished_tasks: int
    shutdown: bool
