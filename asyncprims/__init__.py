"""asyncio's synchronization primitives, re-implemented, with a timeline of who waited.

``import asyncprims as asyncio_sync`` and use ``asyncio_sync.Lock()`` and friends
where you used asyncio's: same API, exceptions, reprs and scheduling.  Wrap a
run in ``asyncprims.trace()`` to record every wait, hand-off, notify, put and get.
"""

from typing import TYPE_CHECKING, Any

from ._deadlock import BlockedTask
from .barrier import Barrier, BarrierStatistics, BrokenBarrierError
from .clock import DeadlockError, run
from .locks import (
    BoundedSemaphore,
    Condition,
    ConditionStatistics,
    Event,
    EventStatistics,
    Lock,
    LockStatistics,
    Semaphore,
    SemaphoreStatistics,
)
from .queues import (
    LifoQueue,
    PriorityQueue,
    Queue,
    QueueEmpty,
    QueueFull,
    QueueShutDown,
    QueueStatistics,
)
from .timeline import Span, Timeline
from .tracing import TraceEvent, trace

if TYPE_CHECKING:
    from ._cycles import CycleDetection, detect_cycles
    from ._live import BlockedSnapshot, blocked, format_blocked
    from ._waiters import time_waits
    from ._watchdog import SignalReport, Watchdog, report_on_signal, watchdog
    from .patching import Patch, is_patched, patch, unpatch

#: The engineers' tools, imported on first use (``import asyncprims`` stays cheap).
_LAZY = {
    "BlockedSnapshot": "_live",
    "blocked": "_live",
    "format_blocked": "_live",
    "CycleDetection": "_cycles",
    "detect_cycles": "_cycles",
    "SignalReport": "_watchdog",
    "Watchdog": "_watchdog",
    "report_on_signal": "_watchdog",
    "watchdog": "_watchdog",
    "Patch": "patching",
    "is_patched": "patching",
    "patch": "patching",
    "unpatch": "patching",
    "time_waits": "_waiters",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'asyncprims' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "Barrier",
    "BarrierStatistics",
    "BlockedSnapshot",
    "BlockedTask",
    "BoundedSemaphore",
    "BrokenBarrierError",
    "Condition",
    "ConditionStatistics",
    "CycleDetection",
    "DeadlockError",
    "Event",
    "EventStatistics",
    "LifoQueue",
    "Lock",
    "LockStatistics",
    "Patch",
    "PriorityQueue",
    "Queue",
    "QueueEmpty",
    "QueueFull",
    "QueueShutDown",
    "QueueStatistics",
    "Semaphore",
    "SemaphoreStatistics",
    "SignalReport",
    "Span",
    "Timeline",
    "TraceEvent",
    "Watchdog",
    "blocked",
    "detect_cycles",
    "format_blocked",
    "is_patched",
    "patch",
    "report_on_signal",
    "run",
    "time_waits",
    "trace",
    "unpatch",
    "watchdog",
]

__version__ = "0.1.0"
