"""Run ``asyncprims.run()`` under a watchdog, so that a regression that makes a
run wait forever (or for an hour of real time) fails one test instead of
stalling the whole run."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import asyncprims

#: Seconds after which the guarded run's main task is cancelled.
WATCHDOG = 30.0


def run_guarded(
    main: Callable[[], Awaitable[Any]], seconds: float = WATCHDOG, **kwargs: Any
) -> Any:
    """``asyncprims.run(main(), **kwargs)``, its main task cancelled after ``seconds``.

    The watchdog is a daemon thread started before the run, so the loop does
    not watch it: it is not a possible waker until it calls in.
    """
    handed: list[Any] = []
    finished = threading.Event()

    def watchdog() -> None:
        if not finished.wait(seconds) and handed:
            loop, task = handed
            loop.call_soon_threadsafe(task.cancel)

    threading.Thread(target=watchdog, daemon=True).start()

    async def guarded() -> Any:
        handed[:] = [asyncio.get_running_loop(), asyncio.current_task()]
        return await main()

    try:
        return asyncprims.run(guarded(), **kwargs)
    finally:
        finished.set()
