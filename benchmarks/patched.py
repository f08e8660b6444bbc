"""``benchmarks/run.py`` with asyncprims measured while ``asyncprims.patch()`` is in force.

    python benchmarks/patched.py [run.py's options, e.g. --only everyday --no-anyio]

The question: does a process under the swap (``python -m asyncprims trace``,
the pytest plugin's option) still meet the untraced goals?  Each side gets a
stand-in module whose first primitive lookup, before the workload starts its
clock, puts the process in that side's state: asyncprims' workloads run with
the swap in force, asyncio's without it.  Without the switch the asyncio
column would not be asyncio: its ``Condition`` builds ``asyncio.locks.Lock``
and its ``Queue`` builds ``asyncio.locks.Event`` at call time, which the swap
makes ours.  The ratios are then comparable with ``run.py``'s.
"""

from __future__ import annotations

import asyncio
import sys
import types
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncprims
from asyncprims.patching import SWAPPED_NAMES


class _Side(types.ModuleType):
    """``real``, except that reading a swapped name first patches (or unpatches)."""

    def __init__(self, real: types.ModuleType, patched: bool) -> None:
        super().__init__(real.__name__)
        self._real = real
        self._patched = patched

    def __getattr__(self, name: str) -> Any:
        if name in SWAPPED_NAMES:
            if self._patched:
                asyncprims.patch()
                assert asyncio.Lock is asyncprims.Lock
            else:
                asyncprims.unpatch()
                assert asyncio.Lock is not asyncprims.Lock
        return getattr(self._real, name)


def main(argv: list[str] | None = None) -> int:
    from benchmarks import run

    run.asyncio = _Side(asyncio, patched=False)  # type: ignore[attr-defined]
    run.PRIMS = _Side(asyncprims, patched=True)
    print(
        "asyncprims' workloads run with asyncprims.patch() in force, asyncio's without",
        file=sys.stderr,
    )
    return run.main(argv)


if __name__ == "__main__":
    sys.exit(main())
