"""Where the time goes: cProfile of the hot-path workloads, asyncio beside asyncprims.

    python benchmarks/hotpaths.py [--only PATTERN] [--top N]

For the uncontended lock, the contended hand-off, the queue 1→1, the
semaphore pool, the event fan-out and the condition notify_all, runs the workload once per side under ``cProfile`` (profiling
only the timed coroutine) and lists the primitive-side functions (those of
``asyncio/locks.py``, ``queues.py``, ``mixins.py``, ``tasks.py``,
``events.py`` and of the ``asyncprims`` package) by own time, with their call
counts and per-call own and cumulative cost in nanoseconds.  A profiler
inflates every Python call by roughly the same amount, so read the per-call
numbers as relative, and the unprofiled per-operation cost (first line of each
block, from a separate plain run) as absolute.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import workloads as w

try:
    import asyncprims

    PRIMS: Any = asyncprims
except ImportError:  # the core is not written yet
    PRIMS = asyncio

#: (label, workload, size, operations per run for the per-op cost)
CASES = [
    ("lock uncontended", w.lock_uncontended, 100_000, 100_000),
    ("lock hand-off", w.lock_handoff, 400, 400 * w.HANDOFF_TASKS),
    ("queue 1→1", w.queue_one_to_one, 50_000, 50_000),
    ("semaphore pool", w.semaphore_pool, 5_000, 5_000),
    ("event fan-out", w.event_fan_out, 20_000, 20_000),
    ("condition notify_all", w.condition_notify_all, 10_000, 10_000),
]
_KEEP = (
    "asyncio/locks.py",
    "asyncio/queues.py",
    "asyncio/mixins.py",
    "asyncio/tasks.py",
    "asyncio/events.py",
    "/asyncprims/",
)


def plain_cost(fn: Any, prims: Any, size: int, ops: int, rounds: int = 5) -> float:
    """Median nanoseconds per operation, unprofiled, gc off."""
    samples = []
    for _ in range(rounds):
        gc.collect()
        gc.disable()
        try:
            samples.append(asyncio.run(fn(prims, size)))
        finally:
            gc.enable()
    samples.sort()
    return samples[len(samples) // 2] / ops * 1e9


def profile(fn: Any, prims: Any, size: int) -> pstats.Stats:
    profiler = cProfile.Profile()

    async def main() -> None:
        profiler.enable()
        try:
            await fn(prims, size)
        finally:
            profiler.disable()

    asyncio.run(main())
    return pstats.Stats(profiler)


def rows(stats: pstats.Stats, top: int) -> list[tuple[str, int, float, float]]:
    """(function, calls, own ns/call, cumulative ns/call) of the primitive-side functions."""
    out = []
    for (filename, line, name), (_cc, calls, own, cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        path = filename.replace("\\", "/")
        if not any(key in path for key in _KEEP) or not calls:
            continue
        where = path.rsplit("/", 2)
        label = f"{where[-2]}/{where[-1]}:{line}({name})"
        out.append((label, calls, own / calls * 1e9, cum / calls * 1e9, own))
    out.sort(key=lambda r: r[4], reverse=True)
    return [r[:4] for r in out[:top]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", metavar="PATTERN")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    for label, fn, size, ops in CASES:
        if args.only.lower() not in label.lower():
            continue
        base = plain_cost(fn, asyncio, size, ops)
        ours = plain_cost(fn, PRIMS, size, ops)
        print(
            f"\n=== {label}: asyncio {base:.0f} ns/op, asyncprims {ours:.0f} ns/op "
            f"({ours / base:.2f}x, {ours - base:+.0f} ns/op)"
        )
        for side in (asyncio, PRIMS):
            print(f"  -- {side.__name__} (cProfile; own and cumulative ns per call)")
            for name, calls, own, cum in rows(profile(fn, side, size), args.top):
                print(f"     {name:58s} {calls:>8,} calls  own {own:6.0f}  cum {cum:6.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
