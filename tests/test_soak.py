"""A sample of the soak (tests/soak.py): random programs mixing virtual sleeps,
subprocesses, sockets, executor jobs and threads, some with a planted deadlock.

CI runs ``SOAK_SAMPLE`` programs (a few seconds).  The full soak is opt-in:
``ASYNCPRIMS_SOAK=1000 pytest tests/test_soak.py`` or ``make soak``.
"""

from __future__ import annotations

import os

import pytest
from soak import run_soak

SOAK_SAMPLE = 40


def _check(programs: int, first: int) -> None:
    result = run_soak(programs, first=first, workers=2, timeout=60)
    print(result.summary())
    assert len(result.outcomes) == programs
    assert not result.failures, "\n".join(map(str, result.failures))
    statuses = {outcome["status"] for outcome in result.outcomes}
    assert statuses == {"ok", "deadlock"}  # both kinds were exercised


def test_soak_sample() -> None:
    _check(SOAK_SAMPLE, first=0)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("ASYNCPRIMS_SOAK"),
    reason="the full soak is opt-in: ASYNCPRIMS_SOAK=<programs>",
)
def test_soak_full() -> None:
    _check(int(os.environ["ASYNCPRIMS_SOAK"]), first=0)
