"""The swap, the live report, the watchdog and cycle detection inside a real ipykernel,
on the kernel's own running loop."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from test_clock_in_kernel import _errors, _execute, _stderr, _stdout

pytestmark = pytest.mark.notebook

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _kernel_can_import_asyncprims(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("MPLBACKEND", raising=False)


def test_patch_blocked_watchdog_and_cycles_in_a_kernel() -> None:
    notebook = _execute(
        """
        import asyncio, sys
        import asyncprims
        asyncprims.patch()
        asyncprims.time_waits()  # the report then says how long each task has waited
        print(asyncio.Lock is asyncprims.Lock, asyncio.Queue is asyncprims.Queue)
        """,
        """
        first, second = asyncio.Lock(), asyncio.Lock()

        async def cross(a, b):
            async with a:
                await asyncio.sleep(0)
                async with b:
                    pass

        tasks = [asyncio.create_task(cross(first, second), name="forward"),
                 asyncio.create_task(cross(second, first), name="backward")]
        await asyncio.sleep(0.05)
        print(asyncprims.format_blocked())
        """,
        """
        seen = []
        dog = asyncprims.watchdog(0.05, on_stall=seen.append)
        for _ in range(400):
            await asyncio.sleep(0.05)
            if seen:
                break
        dog.stop()
        print(dog.reports, seen[0].cycles)
        """,
        """
        loud = asyncprims.watchdog(0.05)  # prints to the kernel's stderr
        for _ in range(400):
            await asyncio.sleep(0.05)
            if loud.reports:
                break
        await asyncio.sleep(0.1)
        loud.stop()
        """,
        """
        with asyncprims.detect_cycles("raise"):
            again = asyncio.Lock()
            async with again:
                try:
                    await again.acquire()
                except asyncprims.DeadlockError as error:
                    print(error.report.splitlines()[-1].startswith("  cycle: "))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        asyncprims.unpatch()
        print(asyncprims.is_patched(), asyncprims.format_blocked().split(" (")[0])
        """,
    )
    patched, deadlock, watchdog, loud, cycles = notebook.cells
    for cell in notebook.cells:
        assert _errors(cell) == []
    for cell in (patched, deadlock, watchdog, cycles):
        assert _stderr(cell) == ""
    assert _stdout(patched) == "True True\n"
    lines = _stdout(deadlock).splitlines()
    assert lines[0] == "asyncprims: 2 tasks blocked on a primitive"
    assert re.fullmatch(
        r"  task 'forward' waits to acquire Lock #\d \(held by 'backward'\), for \d+ ms, "
        r"at \S+:6 in cross",
        lines[2],
    ), lines
    assert lines[3] == "  cycle: 'backward' -> 'forward' -> 'backward'"
    assert _stdout(watchdog) == "1 (('backward', 'forward', 'backward'),)\n"
    assert "asyncprims watchdog: a wait for a lock or semaphore" in _stderr(loud)
    assert "cycle: 'backward' -> 'forward' -> 'backward'" in _stderr(loud)
    assert _stdout(cycles) == (
        "True\nFalse asyncprims: no task is blocked on an asyncprims primitive\n"
    )
