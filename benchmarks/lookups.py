"""What it costs to find the running task, on the running Python.

    python benchmarks/lookups.py

Owner and holder tracking (``statistics()``, the deadlock report) needs the
task that is running; so does the tracer, to label each event.  This prints the
cost of each way of asking, measured inside a running event loop (outside one,
``_get_running_loop()`` returns early and is cheap everywhere).  On 3.10 and
3.11 asking for the running loop includes a ``getpid()`` system call, so the
``os.getpid()`` line is printed for comparison.
"""

from __future__ import annotations

import asyncio
import os
import sys
import timeit
from contextvars import ContextVar
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from asyncprims._base import _tasks_get

NUMBER = 500_000


async def measure() -> list[tuple[str, float]]:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    var: ContextVar[object] = ContextVar("probe", default=None)
    names = {
        "asyncio.events._get_running_loop()": asyncio.events._get_running_loop,
        "asyncio.current_task()": asyncio.current_task,
        "_tasks_get(_get_running_loop())": lambda: _tasks_get(asyncio.events._get_running_loop()),
        "_tasks_get(loop), loop known": lambda: _tasks_get(loop),
        "ContextVar.get()": var.get,
        "task.get_name()": task.get_name if task is not None else (lambda: None),
        "loop.time()": loop.time,
        "os.getpid()": os.getpid,
        "(empty call, for reference)": lambda: None,
    }
    return [
        (label, min(timeit.repeat(fn, number=NUMBER, repeat=5)) / NUMBER * 1e9)
        for label, fn in names.items()
    ]


def main() -> int:
    print(f"Python {sys.version.split()[0]}, inside a running loop, best of 5 x {NUMBER:,} calls")
    for label, ns in asyncio.run(measure()):
        print(f"  {label:40s} {ns:7.1f} ns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
