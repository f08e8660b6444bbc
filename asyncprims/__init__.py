"""asyncio's synchronization primitives, re-implemented, with a timeline of who waited.

``import asyncprims as asyncio_sync`` and use ``asyncio_sync.Lock()`` and friends
where you used asyncio's: same API, exceptions, reprs and scheduling.  Wrap a
run in ``asyncprims.trace()`` to record every wait, hand-off, notify, put and get.
"""

from typing import TYPE_CHECKING, Any

from .barrier import Barrier, BarrierStatistics, BrokenBarrierError
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
from .tracing import TraceEvent, trace

if TYPE_CHECKING:
    from ._cycles import CycleDetection, detect_cycles
    from ._deadlock import BlockedTask
    from ._live import BlockedSnapshot, blocked, format_blocked
    from ._waiters import time_waits
    from ._watchdog import SignalReport, Watchdog, report_on_signal, watchdog
    from .clock import DeadlockError, run
    from .patching import Patch, is_patched, patch, unpatch
    from .timeline import Span, Timeline

#: Imported on first use, so that ``import asyncprims`` costs little more than
#: ``import asyncio``: run() and its deadlock report, the timeline (spans, the
#: causal axis), and the engineers' tools.  ``asyncprims.clock`` and the other
#: submodules are attributes on first use too, as after ``import asyncprims.clock``.
_LAZY = {
    "BlockedTask": "_deadlock",
    "DeadlockError": "clock",
    "run": "clock",
    "Span": "timeline",
    "Timeline": "timeline",
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


_SUBMODULES = frozenset(
    {"clock", "timeline", "plotting", "patching", "demos", "problems", "course", "statistics"}
)


def __getattr__(name: str) -> Any:
    from importlib import import_module

    module = _LAZY.get(name)
    if module is None:
        if name in _SUBMODULES:  # importing it binds it here, as the import system does
            return import_module(f".{name}", __name__)
        raise AttributeError(f"module 'asyncprims' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
