"""Shared pytest configuration for asyncprims.

* Hypothesis: no per-example deadline (CI has two cores shared by xdist workers),
  and a derandomized ``ci`` profile selected automatically when ``CI`` is set, so
  a CI run is reproducible.  Choose a profile with ``HYPOTHESIS_PROFILE=...``.
* Anything under ``tests/e2e`` is marked ``e2e`` automatically, so the marker
  expression used for the extra interpreters excludes it even without
  ``--ignore``.
* The report header names the interpreter and the asyncprims version.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pytest

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis is part of every test extra; tolerate its absence anyway
    pass
else:
    settings.register_profile("dev", deadline=None)
    settings.register_profile(
        "ci",
        deadline=None,
        derandomize=True,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    _in_ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if _in_ci else "dev"))

_E2E_DIR = Path(__file__).parent / "e2e"


def pytest_report_header(config: pytest.Config) -> str:
    try:
        import asyncprims

        version = asyncprims.__version__
    except Exception as error:  # the collection errors will say more
        version = f"not importable ({type(error).__name__})"
    return f"asyncprims {version} on {platform.python_implementation()} {platform.python_version()}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
