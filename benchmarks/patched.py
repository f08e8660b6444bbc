"""``benchmarks/run.py`` with ``asyncprims.patch()`` in force.

    python benchmarks/patched.py [run.py's options, e.g. --only everyday --no-anyio]

The process looks like one under ``python -m asyncprims trace`` or the pytest
plugin's swap: ``asyncio.Lock`` and friends are asyncprims' classes.  The
"asyncio" side of every workload still gets asyncio's own classes (saved before
the swap, handed over through a stand-in module), so the ratios compare the
same two implementations as ``run.py`` does and show whether the swap itself
costs anything (it should not: it only rebinds module attributes).
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


class _Asyncio(types.ModuleType):
    """``asyncio``, except that the swapped names are asyncio's own classes."""

    def __init__(self, originals: dict[str, Any]) -> None:
        super().__init__("asyncio")
        self.__dict__.update(originals)

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)


def main(argv: list[str] | None = None) -> int:
    originals = {name: getattr(asyncio, name) for name in SWAPPED_NAMES if hasattr(asyncio, name)}
    asyncprims.patch()
    assert asyncio.Lock is asyncprims.Lock
    from benchmarks import run

    run.asyncio = _Asyncio(originals)  # type: ignore[attr-defined]
    print("asyncprims.patch() is in force: asyncio.Lock is asyncprims.Lock; the asyncio "
          "column uses asyncio's own classes, saved before the swap", file=sys.stderr)
    return run.main(argv)


if __name__ == "__main__":
    sys.exit(main())
