"""The global swap: asyncio's synchronization classes replaced by asyncprims' own.

``asyncprims.patch()`` rebinds the names below in ``asyncio``, ``asyncio.locks``
and ``asyncio.queues`` to the asyncprims classes; ``asyncprims.unpatch()`` puts
asyncio's back.  While the swap is in force, ``asyncio.Lock()`` anywhere in the
process, in your code or in a library's, builds an :class:`asyncprims.Lock`,
which a ``trace()`` records and ``asyncprims.blocked()`` can explain.

What is swapped
---------------
``Lock``, ``Event``, ``Condition``, ``Semaphore``, ``BoundedSemaphore``,
``Barrier``, ``Queue``, ``PriorityQueue`` and ``LifoQueue``: each only where the
running Python's module has the name (``Barrier`` appears in asyncio on 3.11;
on 3.10 the swap adds no name asyncio lacks).  Exceptions are not swapped:
asyncprims raises asyncio's own ``QueueEmpty``, ``QueueFull``,
``BrokenBarrierError`` and (3.13) ``QueueShutDown``, so ``except`` clauses keep
working either way.

Who sees the swap
-----------------
A name is looked up when code runs, so the swap reaches:

* code that writes ``asyncio.Lock()``, ``asyncio.locks.Lock()`` or
  ``asyncio.queues.Queue()`` at call time, whenever it was imported;
* asyncio's own internals, which look the classes up through those modules at
  call time (``staggered`` builds ``locks.Event()``, ``as_completed`` a
  ``Queue``);
* modules imported *after* the swap, including their ``from asyncio import
  Lock`` and their subclasses of ``asyncio.Queue``, whose base is then ours.

It does not reach what was bound *before* the swap: a module that ran ``from
asyncio import Lock`` or defined ``class JobQueue(asyncio.Queue)`` keeps
asyncio's class, and primitives created before the swap stay asyncio's (and
``isinstance(old_lock, asyncio.Lock)`` is then false).  The earliest point to
patch is therefore before anything imports the code you want to see: the first
lines of your ``__main__``, a ``conftest.py`` (or the pytest plugin's option),
or ``python -m asyncprims trace``, which patches before the program's first
line runs.

Nesting and threads
-------------------
* ``asyncprims.patch()`` as a plain call swaps now and keeps the swap until
  ``asyncprims.unpatch()``.  Plain calls are idempotent: one ``unpatch()``
  ends any number of them.
* ``with asyncprims.patch():`` swaps for the block.  Blocks nest and may run in
  several threads at once: asyncio's classes come back when the last block
  exits, unless a plain ``patch()`` is still in force.
* ``unpatch()`` ends the plain-call patch; if ``with`` blocks are still open,
  the swap stays until the last of them exits.  When nothing is patched it
  does nothing.

All state changes happen under one lock, so concurrent calls from several
threads are safe.  The swap itself rebinds module attributes one by one: a
thread creating primitives *during* the swap may get a mix, so patch before
starting threads that use asyncio.  On restore, a name is put back only if it
still holds our class: a later rebinding by someone else (a ``mock.patch``
still active, another tool) is left alone.
"""

from __future__ import annotations

import asyncio
import asyncio.locks
import asyncio.queues
import threading
import types
from typing import Any

from . import barrier, locks, queues

__all__ = ["SWAPPED_NAMES", "Patch", "is_patched", "patch", "unpatch"]

#: The class names the swap replaces (each only where asyncio has it).
SWAPPED_NAMES: tuple[str, ...] = (
    "Lock",
    "Event",
    "Condition",
    "Semaphore",
    "BoundedSemaphore",
    "Barrier",
    "Queue",
    "PriorityQueue",
    "LifoQueue",
)

_OURS: dict[str, type] = {
    "Lock": locks.Lock,
    "Event": locks.Event,
    "Condition": locks.Condition,
    "Semaphore": locks.Semaphore,
    "BoundedSemaphore": locks.BoundedSemaphore,
    "Barrier": barrier.Barrier,
    "Queue": queues.Queue,
    "PriorityQueue": queues.PriorityQueue,
    "LifoQueue": queues.LifoQueue,
}

_MODULES: tuple[types.ModuleType, ...] = (asyncio, asyncio.locks, asyncio.queues)

_guard = threading.RLock()
#: A plain ``patch()`` call is in force.
_plain = False
#: ``with patch():`` blocks currently open, in any thread.
_scopes = 0
#: ``(module, name) -> value before the swap`` while swapped, else None.
_saved: dict[tuple[types.ModuleType, str], Any] | None = None


def _apply() -> None:
    global _saved
    if _saved is not None:
        return
    saved: dict[tuple[types.ModuleType, str], Any] = {}
    for module in _MODULES:
        for name in SWAPPED_NAMES:
            if name in module.__dict__:
                saved[(module, name)] = module.__dict__[name]
                setattr(module, name, _OURS[name])
    _saved = saved


def _restore() -> None:
    global _saved
    if _saved is None:
        return
    for (module, name), original in _saved.items():
        if module.__dict__.get(name) is _OURS[name]:
            setattr(module, name, original)
    _saved = None


class Patch:
    """What :func:`patch` returns: the swap is already in force.

    Used in a ``with`` statement, it turns that call into a block: the swap
    ends at the block's exit, unless another block or a plain ``patch()``
    still holds it.  Use it in a ``with`` statement right away or not at all.
    """

    def __init__(self, made_plain: bool) -> None:
        self._made_plain = made_plain
        self._state = "called"  # -> "entered" -> "exited"

    def __enter__(self) -> Patch:
        global _plain, _scopes
        with _guard:
            if self._state != "called":
                raise RuntimeError("a patch() handle can be entered only once")
            if self._made_plain:
                _plain = False  # this call was a block, not a plain patch()
            _scopes += 1
            self._state = "entered"
            _apply()
        return self

    def __exit__(self, *exc_info: object) -> None:
        global _scopes
        with _guard:
            if self._state != "entered":
                return
            self._state = "exited"
            _scopes -= 1
            if _scopes == 0 and not _plain:
                _restore()

    def __repr__(self) -> str:
        return f"<asyncprims.Patch {self._state}, {'patched' if is_patched() else 'unpatched'}>"


def patch() -> Patch:
    """Swap asyncio's synchronization classes for asyncprims' own, process-wide.

    A plain call keeps the swap until :func:`unpatch`; ``with patch():`` keeps
    it for the block (see the module docstring for nesting and threads).
    Idempotent: calling it while patched changes nothing but the bookkeeping.
    """
    global _plain
    with _guard:
        made_plain = not _plain
        _plain = True
        _apply()
        return Patch(made_plain)


def unpatch() -> None:
    """End the plain-call patch; asyncio's classes return once no ``with patch()``
    block is open.  Does nothing when not patched."""
    global _plain
    with _guard:
        _plain = False
        if _scopes == 0:
            _restore()


def is_patched() -> bool:
    """True while asyncio's names are bound to the asyncprims classes."""
    return _saved is not None
