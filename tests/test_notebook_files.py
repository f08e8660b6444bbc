"""The stored notebooks are as ``make notebooks`` writes them (tools/check_notebooks.py).

nbval checks their outputs; this checks the rest of what the file holds, in well under a
second: metadata that ``tools/run_notebooks.py`` cleans (no timings, no kernel paths, no
Python patch version) and code cells executed top to bottom in one kernel. The pre-commit
hook runs the same check on commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_saved_by_make_notebooks(path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from check_notebooks import problems
    finally:
        sys.path.remove(str(ROOT / "tools"))
    found = problems(path)
    assert not found, "re-execute with `make notebooks`:\n" + "\n".join(found)
