"""Run a snippet in a fresh interpreter, so that a hang fails one test instead of
stalling the whole run (a spinning loop cannot be interrupted from inside)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_isolated(source: str, timeout: float = 60.0) -> str:
    """Run ``source`` with this interpreter and return its stdout.

    AssertionError (with stderr) if it exits non-zero or runs longer than
    ``timeout`` seconds: keep that generous, a loaded machine is slow.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(source)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        raise AssertionError(
            f"still running after {timeout} s (hung?); stdout so far: {error.stdout!r}"
        ) from None
    assert done.returncode == 0, f"exit {done.returncode}:\n{done.stderr}"
    return done.stdout
