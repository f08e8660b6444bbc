"""asyncio's synchronization primitives, re-implemented, with a timeline of who waited.

``import asyncprims as asyncio_sync`` and use ``asyncio_sync.Lock()`` and friends
where you used asyncio's: same API, exceptions, reprs and scheduling.  Wrap a
run in ``asyncprims.trace()`` to record every wait, hand-off, notify, put and get.
"""

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

__all__ = [
    "Barrier",
    "BarrierStatistics",
    "BoundedSemaphore",
    "BrokenBarrierError",
    "Condition",
    "ConditionStatistics",
    "DeadlockError",
    "Event",
    "EventStatistics",
    "LifoQueue",
    "Lock",
    "LockStatistics",
    "PriorityQueue",
    "Queue",
    "QueueEmpty",
    "QueueFull",
    "QueueShutDown",
    "QueueStatistics",
    "Semaphore",
    "SemaphoreStatistics",
    "Span",
    "Timeline",
    "TraceEvent",
    "run",
    "trace",
]

__version__ = "0.1.0"
