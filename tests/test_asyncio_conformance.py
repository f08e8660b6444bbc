"""CPython's own ``test.test_asyncio`` passes the same with ``asyncprims.patch()`` as without.

The runner (``_asyncio_conformance.py``) runs the installed package twice in
fresh subprocesses, unpatched and patched, and compares failures, errors, skips,
expected failures and unexpected successes test by test.

CI runs a large subset on one Python (CI's default, 3.11): every module except
the three that only exercise subprocesses and SSL and use no primitive
(``test_subprocess``, ``test_ssl``, ``test_sslproto``: about 25 s of 70 per run
on this project's machine), about 2,200 of 2,368 tests.  ``make conformance``
runs the whole package on 3.10 to 3.13.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
from _asyncio_conformance import all_modules, compare, summary

CI_PYTHON = (3, 11)
LEFT_OUT = ("test_subprocess", "test_ssl", "test_sslproto")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("test.test_asyncio") is None,
        reason="CPython's test.test_asyncio is not installed",
    ),
    pytest.mark.skipif(
        sys.version_info[:2] != CI_PYTHON,
        reason=f"CI runs it on {CI_PYTHON[0]}.{CI_PYTHON[1]} only; `make conformance` on all",
    ),
]


def test_cpython_asyncio_suite_is_unchanged_by_the_patch() -> None:
    modules = [name for name in all_modules() if name not in LEFT_OUT]
    assert len(modules) >= 20 and {"test_locks", "test_queues", "test_tasks"} <= set(modules)
    result = compare(modules)
    text = summary(result)
    plain, patched = result["unpatched"], result["patched"]
    assert result["differences"] == [], text
    assert plain["tests_run"] == patched["tests_run"] >= 1500, text
    # The patched run really used our classes, and nothing undid the swap.
    assert patched["asyncprims_waiter_queues_created"] > 100, text
    assert patched["still_patched"] is True
    assert plain["asyncprims_waiter_queues_created"] == 0
