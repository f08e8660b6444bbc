"""Barrier: ``parties`` tasks wait for each other, as ``asyncio.Barrier`` (3.11+).

Available on Python 3.10 too.  ``BrokenBarrierError`` is asyncio's own class
where it exists, so ``except asyncio.BrokenBarrierError`` catches ours.

The barrier cycles through four states: *filling* (tasks arrive and wait),
*draining* (the last arrival tripped it; waiters leave, and newcomers wait
until all have left), *resetting* (``reset()`` was called while tasks were
inside; they leave with BrokenBarrierError) and *broken* (``abort()``: every
current and future ``wait()`` raises BrokenBarrierError until ``reset()``).
"""

from __future__ import annotations

import asyncio
import enum

from ._base import Primitive, _checked_name
from .locks import Condition
from .statistics import BarrierStatistics
from .tracing import current_recorder

__all__ = ["Barrier", "BarrierStatistics", "BrokenBarrierError"]

if hasattr(asyncio, "BrokenBarrierError"):
    BrokenBarrierError = asyncio.BrokenBarrierError
else:

    class BrokenBarrierError(RuntimeError):  # type: ignore[no-redef]
        """The barrier was reset or aborted while (or before) a task waited on it."""

    BrokenBarrierError.__module__ = "asyncprims"


class _State(enum.Enum):
    FILLING = "filling"
    DRAINING = "draining"
    RESETTING = "resetting"
    BROKEN = "broken"


class Barrier(Primitive):
    """Block ``parties`` tasks in ``wait()`` until the last one arrives.

    ``wait()`` returns each task's arrival index, 0 to ``parties - 1``.
    Invariant: ``_count`` is the number of tasks inside ``wait()`` past the
    entry check; the state returns to *filling* when the last of them leaves.
    """

    def __init__(self, parties: int, *, name: str | None = None) -> None:
        if parties < 1:
            raise ValueError("parties must be > 0")
        self._cond = Condition()
        self._cond._trace_owner = self
        self._cond._trace_operation = "barrier"
        self._parties = parties
        self._state = _State.FILLING
        self._count = 0
        self._name = _checked_name(name)

    def __repr__(self) -> str:
        extra = self._state.value
        if not self.broken:
            extra += f", waiters:{self.n_waiting}/{self.parties}"
        return self._repr_with(extra)

    def statistics(self) -> BarrierStatistics:
        return BarrierStatistics(
            self._parties, self.n_waiting, self._state.value, len(self._cond._waiters)
        )

    async def __aenter__(self) -> int:
        return await self.wait()

    async def __aexit__(self, *args: object) -> None:
        return None

    async def wait(self) -> int:
        """Wait for all parties; return this task's arrival index.

        BrokenBarrierError if the barrier is broken, or is reset or aborted
        while this task waits.
        """
        async with self._cond:
            await self._cond.wait_for(
                lambda: self._state not in (_State.DRAINING, _State.RESETTING)
            )
            if self._state is _State.BROKEN:
                raise BrokenBarrierError("Barrier aborted")
            try:
                index = self._count
                self._count += 1
                if index + 1 == self._parties:
                    self._state = _State.DRAINING
                    rec = current_recorder()
                    if rec is not None:
                        rec.instant(self, "trip", value=self._parties)
                    self._wake_all("trip")
                else:
                    await self._cond.wait_for(lambda: self._state is not _State.FILLING)
                    if self._state in (_State.BROKEN, _State.RESETTING):
                        raise BrokenBarrierError("Abort or reset of barrier")
                rec = current_recorder()
                if rec is not None:
                    rec.instant(self, "pass", value=index)
                return index
            finally:
                self._count -= 1
                self._leave()

    def _leave(self) -> None:
        # The last task out lets the next round fill, and wakes those waiting for it.
        if self._count == 0:
            if self._state in (_State.RESETTING, _State.DRAINING):
                self._state = _State.FILLING
            self._wake_all("drained")

    def _wake_all(self, how: str) -> None:
        """``notify_all()`` of the inner Condition (whose lock the caller holds),
        with its wake-ups traced as caused by ``how`` (trip, reset, ...)."""
        self._cond._notify(len(self._cond._waiters), how)

    async def reset(self) -> None:
        """Return to the empty *filling* state; tasks waiting now get BrokenBarrierError."""
        async with self._cond:
            if self._count > 0:
                self._state = _State.RESETTING
            else:
                self._state = _State.FILLING
            rec = current_recorder()
            if rec is not None:
                rec.instant(self, "reset")
            self._wake_all("reset")

    async def abort(self) -> None:
        """Break the barrier: current and future waits raise BrokenBarrierError."""
        async with self._cond:
            self._state = _State.BROKEN
            rec = current_recorder()
            if rec is not None:
                rec.instant(self, "abort")
            self._wake_all("abort")

    @property
    def parties(self) -> int:
        """Number of tasks needed to trip the barrier."""
        return self._parties

    @property
    def n_waiting(self) -> int:
        """Tasks currently waiting for the barrier to fill."""
        return self._count if self._state is _State.FILLING else 0

    @property
    def broken(self) -> bool:
        return self._state is _State.BROKEN
