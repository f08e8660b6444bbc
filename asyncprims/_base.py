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

#: True where asking for the running loop is cheap (3.12+); on 3.10 and 3.11
#: ``_get_running_loop()`` makes a getpid() system call (``benchmarks/lookups.py``).
CHEAP_RUNNING_LOOP = sys.version_info >= (3, 12)

#: ``asyncio.current_task``: a C function from 3.12 (the hot paths call it
#: directly there, catching its RuntimeError outside a running loop).
current_task = asyncio.current_task

if CHEAP_RUNNING_LOOP or not isinstance(_current_tasks, dict):

    def running_task() -> Any:
        """The task running now, or None (outside any loop, or in a callback)."""
        return _tasks_get(_get_running_loop())

    def forget_running_loop() -> None:
        """Nothing to forget: :func:`running_task` asks every time."""

else:
    #: A weak reference to the last loop :func:`running_task` found running, in
    #: any thread (weak: a closed loop must not be kept alive).
    def _dead() -> None:
        return None

    _last_loop: Any = _dead
    _stepping = _current_tasks  # loop -> the task it is stepping, for every loop mid-step

    def running_task() -> Any:
        """The task running now, or None (outside any loop, or in a callback).

        Without asking for the running loop when it can: if the last loop found
        running is stepping a task in this very thread, and no other loop is
        stepping one anywhere (so no loop is nested in that task's step), the
        code running now is that task's.  Else it asks (a getpid() call) and
        remembers the answer.  :func:`asyncprims.run`, whose loop runs nested in
        the caller's step, calls :func:`forget_running_loop` first.
        """
        global _last_loop
        loop = _last_loop()
        if loop is not None:
            task = _tasks_get(loop)
            if task is not None and len(_stepping) == 1 and loop._thread_id == _get_ident():
                return task
        loop = _get_running_loop()
        if loop is None:
            return None
        if getattr(loop, "_thread_id", None) is not None:  # a BaseEventLoop: checkable
            _last_loop = _ref(loop)
        return _tasks_get(loop)

    def forget_running_loop() -> None:
        """Make the next :func:`running_task` ask for the running loop."""
        global _last_loop
        _last_loop = _dead


def holder_task(task: Any) -> Any:
    """The task that holds what ``task`` acquires: ``task`` itself, or on
    3.10/3.11 the caller of ``wait_for`` when ``task`` is its inner task (a task
    whose coroutine is an ``acquire()`` itself)."""
    if (
        WAIT_FOR_USES_INNER_TASK
        and task is not None
        and getattr(task.get_coro(), "cr_code", None) in ACQUIRE_CODES
    ):
        return _wait_for_caller(task)
    return task


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
    #: The label tuple of the last trace that recorded this primitive (its cache;
    #: see asyncprims._recorder), or None.
    _trace_label: Any = None

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
        fut = loop.create_future()
        if waiters.timed:  # asyncprims.time_waits(): append() notes the time
            waiters.append(fut)
        else:  # append(), inline: saves a call per blocking operation
            waiters._pending[fut] = None
        if rec is not None:
            rec.wait(self, fut, operation, _tasks_get(loop))
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
