"""The same scenarios, run with asyncio's classes and with ours, give the same log.

Each scenario in ``tests/scenarios.py`` records who did what at which loop
iteration, and what the primitives looked like after each ``sleep(0)`` step.
On Python 3.13 asyncio's log and ours must be identical.  Older asyncio has
older semantics (Condition loses notifications, Semaphore lets newcomers jump
the queue, no Queue.shutdown), so the 3.13 logs are stored in
``tests/data/golden_orders.json`` and ours must match them on every Python
(per task rather than globally for the scenarios that use ``asyncio.wait_for``
on 3.10/3.11, whose wait_for runs the awaitable in an inner task).

Regenerate the golden file under Python 3.13 only::

    ASYNCPRIMS_REGEN_GOLDEN=1 python3.13 -m pytest tests/test_against_asyncio.py
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import scenarios

import asyncprims

GOLDEN = Path(__file__).parent / "data" / "golden_orders.json"
REGEN = os.environ.get("ASYNCPRIMS_REGEN_GOLDEN") == "1"
ON_313 = sys.version_info[:2] == (3, 13)
NAMES = sorted(scenarios.SCENARIOS)


def _load_golden() -> dict[str, Any]:
    if GOLDEN.exists():
        return json.loads(GOLDEN.read_text())  # type: ignore[no-any-return]
    return {}


_golden = _load_golden()


@pytest.fixture(scope="module", autouse=True)
def _write_golden() -> Any:
    yield
    if REGEN:
        if not ON_313:
            raise RuntimeError("regenerate the golden orders under Python 3.13 only")
        GOLDEN.write_text(json.dumps(_golden, indent=1, sort_keys=True) + "\n")


def _skip_unless_runnable(name: str, prims: Any) -> None:
    if not scenarios.can_run(name, prims):
        pytest.skip(f"{name} needs a newer Python")


@pytest.mark.parametrize("name", NAMES)
def test_asyncprims_matches_golden(name: str) -> None:
    _skip_unless_runnable(name, asyncprims)
    if REGEN:
        _golden[name] = scenarios.run_scenario(name, asyncio)
    assert name in _golden, f"no golden order for {name}: regenerate under 3.13"
    ours = scenarios.run_scenario(name, asyncprims)
    assert scenarios.comparable(name, ours) == scenarios.comparable(name, _golden[name])


@pytest.mark.skipif(not ON_313, reason="asyncio has 3.13 semantics only on 3.13")
@pytest.mark.parametrize("name", NAMES)
def test_asyncio_matches_golden(name: str) -> None:
    _skip_unless_runnable(name, asyncio)
    assert scenarios.run_scenario(name, asyncio) == _golden[name]


@pytest.mark.skipif(not ON_313, reason="asyncio has 3.13 semantics only on 3.13")
@pytest.mark.parametrize("name", NAMES)
def test_asyncprims_matches_asyncio(name: str) -> None:
    _skip_unless_runnable(name, asyncio)
    assert scenarios.run_scenario(name, asyncprims) == scenarios.run_scenario(name, asyncio)


def test_golden_file_covers_every_scenario() -> None:
    assert set(_golden) == set(NAMES)


def test_logs_are_not_trivial() -> None:
    """Every golden log records real events, not just empty steps."""
    for name, entries in _golden.items():
        actors = {entry[0] for entry in entries}
        assert actors - {"step", "main"}, name
