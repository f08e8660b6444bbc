"""What asyncprims costs besides time per operation: memory, import time, the storm floor.

* ``waiter_bytes(prims, n)``: bytes allocated per task blocked in
  ``Lock.acquire()`` (the task, its coroutine frames, the waiter future and
  the primitive's bookkeeping), measured with tracemalloc over ``n`` waiters.
* ``import_seconds(module)``: the cumulative import time of ``module`` in a
  fresh interpreter, from ``python -X importtime`` (the median of a few runs);
  ``import asyncprims`` includes ``import asyncio``.
* ``storm_floor(n)``: the same cancellation storm as the storm workloads (n
  waiters cancelled newest-first) on bare futures, with no primitive at all:
  what cancelling n tasks costs by itself.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tracemalloc
from time import perf_counter
from typing import Any

__all__ = ["bare_storm", "import_seconds", "storm_floor", "waiter_bytes"]


async def _block_on_lock(prims: Any, n: int) -> float:
    lock = prims.Lock()
    await lock.acquire()

    async def waiter() -> None:
        await lock.acquire()
        lock.release()

    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    tasks = [asyncio.ensure_future(waiter()) for _ in range(n)]
    await asyncio.sleep(0)  # every waiter is now blocked in acquire()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    lock.release()
    await asyncio.gather(*tasks)
    return grown / n


def waiter_bytes(prims: Any, n: int = 5_000) -> float:
    """Bytes per task blocked on a Lock (median of three runs, each on a fresh loop)."""
    samples = []
    for _ in range(3):
        gc.collect()
        samples.append(asyncio.run(_block_on_lock(prims, n)))
    return statistics.median(samples)


def import_seconds(module: str, runs: int = 7) -> float:
    """Median cumulative import time of ``module`` in a fresh interpreter.

    With bytecode caching on, whatever the environment says, and after one
    unmeasured import that writes the caches: an installed package imports
    from compiled files (the standard library's always do), so compiling
    asyncprims' sources on every run would not be what a user pays.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    command = [sys.executable, "-X", "importtime", "-c", f"import {module}"]
    subprocess.run(command, capture_output=True, check=True, env=env)
    samples = []
    for _ in range(runs):
        result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
        for line in result.stderr.splitlines():
            # "import time: self [us] | cumulative | imported package"
            parts = [part.strip() for part in line.split("|")]
            if len(parts) == 3 and parts[2] == module:
                samples.append(int(parts[1]) / 1e6)
                break
    return statistics.median(samples)


async def bare_storm(n: int) -> float:
    """The storm on bare futures: n tasks await their own future, cancelled newest first."""
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(n)]

    async def waiter(future: asyncio.Future[None]) -> None:
        await future

    tasks = [asyncio.ensure_future(waiter(future)) for future in futures]
    await asyncio.sleep(0)
    start = perf_counter()
    for task in reversed(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return perf_counter() - start


def storm_floor(n: int) -> float:
    """Seconds to cancel n tasks awaiting bare futures, newest first (gc off)."""
    gc.collect()
    gc.disable()
    try:
        return asyncio.run(bare_storm(n))
    finally:
        gc.enable()
