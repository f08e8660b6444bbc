"""The measuring machinery shared by the runners: one timed run, interleaved rounds.

``PRIMS`` is the ``asyncprims`` package, or ``asyncio`` itself (with a note)
while the core cannot be imported, so the harness works before the core exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import sys
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

__all__ = [
    "PRIMS",
    "PRIMS_NOTE",
    "Factory",
    "growth_exponent",
    "interleave",
    "log",
    "measure",
    "ratio",
    "verdict",
]

try:
    import asyncprims

    PRIMS: Any = asyncprims
    PRIMS_NOTE = ""
except ImportError as _exc:  # the core is not written yet: measure asyncio against itself
    PRIMS = asyncio
    PRIMS_NOTE = f"asyncprims not importable ({_exc}); the asyncprims column is asyncio"

Factory = Callable[[], Coroutine[Any, Any, float]]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _no_trace() -> Iterator[None]:
    yield


def measure(factory: Factory, traced: bool = False) -> float:
    """One measurement: fresh loop, gc collected first and disabled throughout."""
    tracer = PRIMS.trace() if traced and PRIMS is not asyncio else _no_trace()
    gc.collect()
    gc.disable()
    try:
        with tracer:
            return asyncio.run(factory())
    finally:
        gc.enable()


def interleave(
    variants: dict[str, tuple[Factory, bool]], rounds: int, warmup: dict[str, Factory] | None = None
) -> dict[str, list[float]]:
    """Run every variant once per round, rotating which goes first; return the samples."""
    names = list(variants)
    for name, factory in (warmup or {}).items():
        measure(factory, variants[name][1])
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            factory, traced = variants[name]
            samples[name].append(measure(factory, traced))
    return samples


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "MISS")


def growth_exponent(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of log(time) against log(n)."""
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den
