"""The probe: records what the primitives do while a trace is active.

Usage::

    with asyncprims.trace() as timeline:
        asyncprims.run(main(), virtual_time=True)
    timeline.events

A trace is scoped by a context variable, so it sees the operations of the code
that runs in its context: tasks created inside the ``with`` block (they copy the
context) and callbacks scheduled from them, until the block ends.  With no
trace active anywhere a primitive pays one test of a global list per operation
(``tracing``) and nothing else.  The rows and their cost are described in
:mod:`asyncprims._recorder`.

Event vocabulary (``TraceEvent.action``)
----------------------------------------
Recorded by the task whose state changes:

``wait``      the task blocks; ``detail`` names the operation
              (``acquire``, ``wait``, ``get``, ``put``, ``join``, ``barrier``)
``resume``    its wait ended because something woke it; ``cause`` is the
              ``seq`` of the ``wake`` event, ``target`` the waking task
``cancel``    its wait ended by cancellation
``timeout``   its wait ended by ``asyncio.timeout`` / ``asyncio.wait_for``
``acquire``   it now holds the lock or one permit (a holding span starts)
``release``   a hold ends; ``target`` is the holder whose hold ends (usually
              the releasing task itself, but a callback may release a lock)

Recorded by the task (or ``"callback"``) that acts on the primitive:

``wake``      it woke ``target``; ``detail`` says how (``release``, ``set``,
              ``notify``, ``put``, ``get``, ``task_done``, ``shutdown``, ...)
``set``, ``clear``, ``notify`` (``value`` = how many it woke), ``put``,
``get`` (``value`` = queue size afterwards; for ``get``, ``cause`` = the
``seq`` of the ``put`` that brought the item, when this trace saw it),
``task_done`` (``value`` = unfinished tasks), ``shutdown``, ``trip``, ``pass``
(``value`` = arrival index), ``reset``, ``abort``

Recorded by :func:`asyncprims.run` when it finds a deadlock, one per blocked
task and wait-for edge, all at the same moment, before the stuck tasks are
cancelled (their cancellation is not recorded):

``deadlock``  ``task`` is stuck on ``primitive`` (``""`` when it awaits a task,
              not a primitive); ``detail`` the operation; ``target`` the task
              it waits for (a holder, or the awaited task), or None;
              ``value`` 1 when the edge is part of the wait-for cycle, else 0

Invariants: ``seq`` increases by one per event, dropped ones included; every
``wait`` is followed by exactly one of ``resume``/``cancel``/``timeout`` from
the same task on the same primitive, unless the trace ends first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from ._recorder import MixedClocksWarning, Recorder, TraceEvent

if TYPE_CHECKING:
    from .timeline import Timeline

__all__ = [
    "MixedClocksWarning",
    "Recorder",
    "TraceEvent",
    "current_recorder",
    "label_of",
    "trace",
    "tracing",
]

WAIT_ENDINGS = frozenset({"resume", "cancel", "timeout"})

_active: ContextVar[Recorder | None] = ContextVar("asyncprims_trace", default=None)

#: The recorder of the trace active in this context, or None.
current_recorder = _active.get
#: The recorders of every ``trace()`` block being run, in any context or thread.
#: The hot paths test this list first (a global load, cheaper than the
#: context lookup): ``rec = current_recorder() if tracing else None``.
tracing: list[Recorder] = []


@contextlib.contextmanager
def trace(max_events: int | None = None) -> Iterator[Timeline]:
    """Record every asyncprims operation made in this context until the block ends
    (tasks created in it and still running after it are no longer recorded).

    ``max_events`` bounds memory: only the newest events are kept, and
    ``timeline.dropped`` says how many were discarded.
    """
    from .timeline import Timeline

    recorder = Recorder(max_events)
    token = _active.set(recorder)
    tracing.append(recorder)
    try:
        yield Timeline(recorder)
    finally:
        tracing.remove(recorder)
        _active.reset(token)


def label_of(prim: Any) -> str:
    """The name a primitive goes by: ``name=``, else the active trace's label, else its class."""
    owner = prim
    while getattr(owner, "_trace_owner", None) is not None:
        owner = owner._trace_owner
    if owner._name is not None:
        return str(owner._name)
    recorder = _active.get()
    if recorder is not None:
        return recorder._resolve(owner)[0]
    return type(owner).__name__
