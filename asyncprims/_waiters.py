"""The waiter queue under every primitive.

A ``WaiterQueue`` holds the futures of blocked tasks in arrival (FIFO) order.
It looks like the ``collections.deque`` asyncio uses (``append``, ``popleft``,
``remove``, ``len``, iteration, ``[0]``), because CPython's own tests poke the
``_waiters``/``_getters``/``_putters`` of the primitives, but its costs differ:

=====================  ==================  ===========================
operation              deque (asyncio)     WaiterQueue
=====================  ==================  ===========================
append, extend         O(1) per item       O(1) per item
remove (any position)  O(n)                O(1)
popleft, pop           O(1)                O(1)
appendleft             O(1)                O(1), or O(n) when a woken
                                           waiter has not run yet and
                                           the new future is not done
rotate(k)              O(k)                O(k) such moves
index                  O(n)                O(n)
count, ``in``          O(n)                O(1)
wake the next waiter   O(n) rescans        O(1) amortised
=====================  ==================  ===========================

One difference: the queue is keyed by the future, so a future can be queued
only once and ``count`` is 0 or 1.  No primitive queues a future twice, and
``append`` (the hot path) does not check; ``appendleft`` ignores a future that
is already queued.

asyncio leaves a woken future in its queue until the woken task runs again and
removes it, and the primitives' observable state depends on that (``len``,
``repr``, "is anyone still queued?").  So does this queue; it simply keeps the
futures in two ordered parts:

``_settled``
    futures that are done (woken, or found cancelled by a wake-up scan) and
    are waiting for their task to remove them;
``_pending``
    futures not yet woken; some may have been cancelled since they arrived.

Invariants:

1. every future in ``_settled`` arrived before every future in ``_pending``,
   so ``_settled + _pending`` is the arrival order;
2. every future in ``_settled`` is done;
3. a wake-up scan only ever looks at the front of ``_pending`` and moves what
   it passes to ``_settled``, so a release never rescans a waiter it has
   already woken: each future is scanned at most once while pending.

Once :func:`time_waits` has been called, a pending future's value is the
``time.monotonic()`` at which it was queued (the live report reads it); until
then, and for a settled future, it is None (a settled one may keep its time).

Both parts are ``OrderedDict`` (a plain dict would make ``popleft`` O(n) after
many deletions from the front, as deleted slots are only compacted on growth).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from itertools import chain, islice
from time import monotonic as _monotonic
from typing import Any

__all__ = ["ABSENT", "WaiterQueue", "time_waits"]

#: ``pop()`` default that tells "absent" from a stored ``None``.
ABSENT: Any = object()
_ABSENT = ABSENT


class WaiterQueue:
    """FIFO of waiter futures with O(1) removal; see the module docstring."""

    __slots__ = ("_pending", "_settled")

    #: True once :func:`time_waits` is on (``append`` then notes the time);
    #: until then the primitives may queue a future with ``_pending[fut] = None``.
    timed = False

    def __init__(self) -> None:
        self._settled: OrderedDict[Any, float | None] = OrderedDict()
        self._pending: OrderedDict[Any, float | None] = OrderedDict()

    # -- the deque-like face ------------------------------------------------------

    def append(self, fut: Any) -> None:
        """Queue ``fut`` at the back."""
        self._pending[fut] = None

    def _append_timed(self, fut: Any) -> None:
        """``append()`` once :func:`time_waits` is on: notes when ``fut`` was queued."""
        self._pending[fut] = _monotonic()

    def remove(self, fut: Any) -> None:
        """Remove ``fut`` wherever it is; ``ValueError`` if absent (like deque).

        A woken waiter removing itself is the common case, so ``_settled`` is
        tried first; ``pop`` with a default (the stored values are all None)
        avoids raising and catching ``KeyError`` on the way.
        """
        if (
            self._settled.pop(fut, _ABSENT) is _ABSENT
            and self._pending.pop(fut, _ABSENT) is _ABSENT
        ):
            raise ValueError("WaiterQueue.remove(x): x not in queue")

    def discard(self, fut: Any) -> None:
        """Remove ``fut`` if present."""
        if self._settled.pop(fut, _ABSENT) is _ABSENT:
            self._pending.pop(fut, None)

    def popleft(self) -> Any:
        """Remove and return the oldest future; ``IndexError`` if empty."""
        if self._settled:
            return self._settled.popitem(last=False)[0]
        if self._pending:
            return self._pending.popitem(last=False)[0]
        raise IndexError("pop from an empty WaiterQueue")

    def appendleft(self, fut: Any) -> None:
        """Queue ``fut`` at the front (it will be woken first)."""
        if fut in self:
            return
        if not self._settled:
            self._pending[fut] = None
            self._pending.move_to_end(fut, last=False)
        elif fut.done():  # may join the settled part, which holds done futures only
            self._settled[fut] = None
            self._settled.move_to_end(fut, last=False)
        else:  # keep "settled before pending": everything becomes pending again
            pending: OrderedDict[Any, float | None] = OrderedDict({fut: None})
            pending.update(self._settled)
            pending.update(self._pending)
            self._settled, self._pending = OrderedDict(), pending

    def extend(self, futures: Any) -> None:
        """``append`` each of ``futures``, in order."""
        for fut in futures:
            self.append(fut)

    def pop(self) -> Any:
        """Remove and return the newest future; ``IndexError`` if empty."""
        if self._pending:
            return self._pending.popitem(last=True)[0]
        if self._settled:
            return self._settled.popitem(last=True)[0]
        raise IndexError("pop from an empty WaiterQueue")

    def index(self, fut: Any, start: int = 0, stop: int | None = None) -> int:
        """Position of ``fut`` in arrival order; ``ValueError`` if it is not there."""
        size = len(self)
        start = max(start + size, 0) if start < 0 else start
        stop = size if stop is None else (max(stop + size, 0) if stop < 0 else min(stop, size))
        for position, queued in enumerate(islice(iter(self), start, stop), start):
            if queued is fut:
                return position
        raise ValueError(f"{fut!r} is not in WaiterQueue")

    def count(self, fut: Any) -> int:
        """1 if ``fut`` is queued, else 0."""
        return 1 if fut in self else 0

    def rotate(self, steps: int = 1) -> None:
        """Rotate right by ``steps`` (left if negative), as ``deque.rotate``."""
        size = len(self)
        if not size:
            return
        steps %= size
        if steps > size // 2:  # the shorter way round
            for _ in range(size - steps):
                self.append(self.popleft())
        else:
            for _ in range(steps):
                self.appendleft(self.pop())

    def __reversed__(self) -> Iterator[Any]:
        return chain(reversed(self._pending), reversed(self._settled))

    def clear(self) -> None:
        self._settled.clear()
        self._pending.clear()

    def __len__(self) -> int:
        return len(self._settled) + len(self._pending)

    def __bool__(self) -> bool:
        return bool(self._pending) or bool(self._settled)

    def __iter__(self) -> Iterator[Any]:
        return chain(self._settled, self._pending)

    def __contains__(self, fut: object) -> bool:
        return fut in self._pending or fut in self._settled

    def __getitem__(self, index: int) -> Any:
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("WaiterQueue index out of range")
        if index == 0:
            return next(iter(self))
        if index == size - 1:
            return next(reversed(self._pending or self._settled))
        return next(islice(iter(self), index, None))

    def __repr__(self) -> str:
        return f"WaiterQueue({list(self)!r})"

    # -- wake-ups -----------------------------------------------------------------

    def wake_first(self, result: Any) -> Any:
        """Wake the oldest waiter unless it is done already; return it, else None.

        This is a Lock's hand-off: if the head was woken (or cancelled) and has
        not run yet, nobody else is woken, so exactly one task proceeds.  A
        done head found in ``_pending`` (cancelled, its task not run yet) moves
        to ``_settled``, which changes nothing a caller can see.
        """
        pending = self._pending
        if self._settled or not pending:
            return None
        fut = pending.popitem(last=False)[0]
        self._settled[fut] = None
        if fut.done():
            return None
        fut.set_result(result)
        return fut

    def wake_next(self, result: Any) -> Any:
        """Wake the oldest waiter that is not done; return it, or None if none is left.

        Done futures passed on the way (cancelled ones) move to ``_settled``.
        """
        pending = self._pending
        settled = self._settled
        while pending:
            fut, _ = pending.popitem(last=False)
            settled[fut] = None
            if not fut.done():
                fut.set_result(result)
                return fut
        return None

    def wake_all(self, result: Any) -> list[Any]:
        """Wake every waiter that is not done; return the woken ones in order."""
        pending = self._pending
        if self._settled:
            self._settled.update(pending)
        else:  # the usual case: the pending part becomes the settled part as a whole
            self._settled = pending
        self._pending = OrderedDict()
        woken = []
        for fut in pending:
            if not fut.done():
                fut.set_result(result)
                woken.append(fut)
        return woken

    def all_cancelled(self) -> bool:
        """True if every queued future is cancelled (vacuously true when empty).

        Stops at the first live one, normally the head.
        """
        for fut in self._settled:
            if not fut.cancelled():
                return False
        for fut in self._pending:  # noqa: SIM110 - a loop beats all(<genexpr>) here
            if not fut.cancelled():
                return False
        return True

    def count_pending(self) -> int:
        """Waiters not woken yet (cancelled ones that were not scanned included)."""
        return len(self._pending)


def time_waits() -> None:
    """From now on, note when each waiter is queued (idempotent, process-wide).

    ``asyncprims.blocked()`` then reports how long each wait has lasted.  It
    costs one clock read per blocking call (about 50 ns; uncontended calls
    queue nothing), so it stays off until a live tool asks for it.
    """
    WaiterQueue.append = WaiterQueue._append_timed  # type: ignore[method-assign]
    WaiterQueue.timed = True


def waits_are_timed() -> bool:
    return WaiterQueue.append is WaiterQueue._append_timed
