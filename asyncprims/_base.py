"""What every primitive shares: loop binding and an optional display name.

Loop binding follows asyncio's rule: a primitive belongs to no loop until its
first blocking call, which binds it to the running loop.  Later blocking calls
from another loop raise ``RuntimeError('... is bound to a different event loop')``.
Fast paths (an uncontended acquire, a put into a queue with room) never look at
the loop at all, exactly as in asyncio.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from time import monotonic as _monotonic
from typing import Any

_binding_guard = threading.Lock()
_CancelledError = asyncio.CancelledError
_get_running_loop = asyncio.events._get_running_loop

# The running task, found the cheapest exact way: ``_tasks_get(_get_running_loop())``.
# On 3.10-3.13 asyncio keeps the task each running loop is stepping in a dict
# (``asyncio.tasks._current_tasks``, maintained by the C task code), so two C
# calls do it.  ``asyncio.current_task()`` is a Python function on 3.10/3.11
# and raises outside a loop.  Later Pythons keep the task elsewhere.
_current_tasks = getattr(asyncio.tasks, "_current_tasks", None)
_tasks_get: Callable[[Any], Any]
if sys.version_info < (3, 14) and isinstance(_current_tasks, dict):
    _tasks_get = _current_tasks.get
else:  # pragma: no cover - not an installed Python

    def _tasks_get(loop: Any) -> Any:
        return None if loop is None else asyncio.current_task(loop)


def _checked_name(name: object) -> str | None:
    """``name`` if it is a str or None; TypeError otherwise (a label must be text)."""
    if name is None or isinstance(name, str):
        return name
    raise TypeError(f"name must be a str or None, not {type(name).__name__}")


#: On 3.10 and 3.11 ``asyncio.wait_for(aw, timeout)`` runs ``aw`` in an inner
#: task; from 3.12 it runs in the caller's task.  What that inner task acquires
#: belongs to the task that awaits ``wait_for``.
WAIT_FOR_USES_INNER_TASK = sys.version_info < (3, 12)
_release_waiter = getattr(asyncio.tasks, "_release_waiter", None)


def _wait_for_caller(task: Any) -> Any:
    """The task that acquires on behalf of ``task``, a task whose coroutine is
    an ``acquire()`` itself: if ``task`` is ``wait_for``'s inner task (its
    done callbacks release ``wait_for``'s waiter future), the task suspended
    on that waiter; else ``task`` itself.  Costs a scan of the loop's tasks,
    so callers first check that the task's coroutine is an acquire.
    """
    waiters = [
        callback.args[0]
        for callback, *_ in getattr(task, "_callbacks", None) or ()
        if getattr(callback, "func", None) is _release_waiter and callback.args
    ]
    if not waiters:
        return task
    for other in asyncio.all_tasks(task.get_loop()):
        if getattr(other, "_fut_waiter", None) is waiters[0]:
            return other
    return task


#: The code objects of the primitives' ``acquire()`` (locks.py and semaphores.py
#: add theirs): a task whose coroutine is one of them may be ``wait_for``'s inner task.
ACQUIRE_CODES: set[Any] = set()

_ref = weakref.ref
_get_ident = threading.get_ident
_BASE_TIME = asyncio.BaseEventLoop.time

#: Who is running here, cached per context: ``(task, loop, thread, holder, clock)``
#: where ``task`` is a weak reference to the task ``loop`` was stepping when
#: this context last asked, ``thread`` the ident of the thread running
#: ``loop``, ``holder`` a weak reference to the task that holds what ``task``
#: acquires (``task`` itself, or ``wait_for``'s caller for its inner task on
#: 3.10/3.11), and ``clock`` is ``loop.time``, or ``time.monotonic`` itself for
#: loops that do not override ``time()`` (the same value, without a call).
#:
#: Why a cache: asking for the running loop costs a getpid() system call on
#: 3.10 and 3.11 (``python benchmarks/lookups.py``).  A task runs in its own
#: context, but the tasks it creates, the callbacks it schedules and the
#: threads ``to_thread`` starts run in copies of it, so an entry is trusted
#: only while ``loop`` is stepping that very task in this very thread: then
#: the code running now is that task's.  :func:`asyncprims.run`, whose loop
#: runs while the caller's loop is mid-step in the same thread, clears the
#: entry for its tasks.  Only weak references: a context outliving its task
#: (a child's copy) must not keep the task alive.
_here: ContextVar[tuple[Any, Any, int, Any, Any] | None] = ContextVar(
    "asyncprims_here", default=None)
_here_get = _here.get


def _here_now() -> tuple[Any, Any, int, Any, Any] | None:
    """The ``_here`` entry for the code running now, or None outside any task
    (no running loop, or a callback).  Refreshes the cache when it is stale."""
    here = _here_get()
    if (here is not None and _tasks_get(here[1]) is here[0]() is not None
            and here[2] == _get_ident()):
        return here
    loop = _get_running_loop()
    if loop is None:
        return None
    task = _tasks_get(loop)
    if task is None:
        return None
    ref = _ref(task)
    holder = ref
    if WAIT_FOR_USES_INNER_TASK and getattr(task.get_coro(), "cr_code", None) in ACQUIRE_CODES:
        holder = _ref(_wait_for_caller(task))
    clock = _monotonic if type(loop).time is _BASE_TIME else loop.time
    here = (ref, loop, _get_ident(), holder, clock)
    _here.set(here)
    return here


def _holder() -> Any:
    """A weak reference to the task that holds what the running code acquires
    (the running task, or on 3.10/3.11 the caller of ``wait_for`` when the
    running task is its inner task); None outside any task."""
    here = _here_get()
    if (here is not None and _tasks_get(here[1]) is here[0]() is not None
            and here[2] == _get_ident()):
        return here[3]
    here = _here_now()
    return None if here is None else here[3]
#: ``asyncprims.detect_cycles()`` sets this: called with the primitive when the
#: running task is about to block on it, before its waiter is queued.  None when
#: off, so a blocking call pays one global lookup for the feature.
_wait_hook: Callable[[Any], None] | None = None


class _ContextManagerMixin:
    """``async with primitive:`` acquires on entry and releases on exit."""

    async def __aenter__(self) -> None:
        await self.acquire()  # type: ignore[attr-defined]

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.release()  # type: ignore[attr-defined]




class Primitive:
    """Base class of every asyncprims primitive.

    ``name`` labels the primitive on timelines; it does not change the repr,
    which stays asyncio's.
    """

    _loop: asyncio.AbstractEventLoop | None = None
    _name: str | None = None
    #: Set on helpers a primitive builds for itself (a Queue's join Event, a
    #: Barrier's Condition): the trace labels their events with the owner's name.
    _trace_owner: Primitive | None = None
    #: With ``_trace_owner``: the owner's operation this helper's waits stand for
    #: (``"join"``, ``"barrier"``); such helpers record their waiting only.
    _trace_operation: str | None = None

    @property
    def name(self) -> str | None:
        """The ``name=`` given at construction, or None."""
        return self._name

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        loop = _get_running_loop()
        if self._loop is None:
            with _binding_guard:
                if self._loop is None:
                    self._loop = loop
        if loop is not self._loop:
            raise RuntimeError(f"{self!r} is bound to a different event loop")
        if loop is None:
            raise RuntimeError("no running event loop")
        return loop

    def _enqueue_waiter(self, waiters: Any, rec: Any, operation: str) -> asyncio.Future[Any]:
        """A new future for the running task to block on, queued at the back of
        ``waiters`` and, when tracing, recorded as a ``wait`` for ``operation``."""
        loop = _get_running_loop()
        if loop is not self._loop or loop is None:
            loop = self._get_loop()  # binds on first use, or raises
        if _wait_hook is not None:  # asyncprims.detect_cycles(); may raise DeadlockError
            _wait_hook(self)
        fut = loop.create_future() if rec is None else rec.future(loop)
        waiters.append(fut)
        if rec is not None:
            rec.wait(self, fut, operation)
        return fut

    def _repr_with(self, extra: str) -> str:
        """asyncio's repr shape: ``<module.Class object at 0x... [extra]>``."""
        base = object.__repr__(self)
        return f"<{base[1:-1]} [{extra}]>"

    if sys.version_info < (3, 11):

        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            # Python 3.10's asyncio explains the removed parameter in its error.
            if "loop" in kwargs:
                raise TypeError(
                    f"As of 3.10, the *loop* parameter was removed from {cls.__name__}() "
                    "since it is no longer necessary"
                )
            return super().__new__(cls)
