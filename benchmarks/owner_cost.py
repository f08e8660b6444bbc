"""What knowing a Lock's owner costs on the uncontended ``async with`` cycle.

    python benchmarks/owner_cost.py [--rounds 9] [--n 200000]

asyncio keeps no owner; asyncprims names it exactly in ``statistics()`` (and the
deadlock report), which means finding the running task and keeping a weak
reference to it on every acquire.  This times, side by side in one process,
interleaved round by round, the uncontended cycle with:

- ``asyncio.Lock``;
- ``asyncprims.Lock`` as shipped;
- ``asyncprims.Lock`` with the task lookup replaced by ``NoneType()`` (a C call
  that returns None, so no owner is found and no weak reference is made).

The third is not a mode of the package: it shows how much of the gap to asyncio
is the owner, which is what issue #12's untraced goal for this workload rests on.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncprims
import asyncprims.locks as locks_module


async def cycle(lock: Any, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        async with lock:
            pass
    return time.perf_counter() - started


def one(factory: Any, n: int, *, owner: bool) -> float:
    saved = locks_module.current_task, locks_module.running_task
    if not owner:
        locks_module.current_task = type(None)
        locks_module.running_task = type(None)
    try:
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(cycle(factory(), n))
        finally:
            loop.close()
    finally:
        locks_module.current_task, locks_module.running_task = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    cases = {
        "asyncio.Lock": (asyncio.Lock, True),
        "asyncprims.Lock": (asyncprims.Lock, True),
        "asyncprims.Lock, no owner": (asyncprims.Lock, False),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    gc.disable()
    try:
        for _ in range(args.rounds):
            for name, (factory, owner) in cases.items():
                times[name].append(one(factory, args.n, owner=owner))
    finally:
        gc.enable()
    base = statistics.median(times["asyncio.Lock"])
    print(
        f"Python {sys.version.split()[0]}: uncontended `async with lock`, "
        f"{args.n:,} cycles, median of {args.rounds} interleaved rounds"
    )
    for name in cases:
        median = statistics.median(times[name])
        print(f"  {name:<27} {median * 1e9 / args.n:6.0f} ns per cycle  {median / base:5.2f}x")


if __name__ == "__main__":
    main()
