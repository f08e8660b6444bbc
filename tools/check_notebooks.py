"""Cheap check that notebooks were last saved by ``make notebooks`` (the pre-commit hook).

    python tools/check_notebooks.py [NOTEBOOK.ipynb ...]     (default: notebooks/*.ipynb)

Re-executing the notebooks (``tools/run_notebooks.py --check``) is the real check that their
stored outputs are current; it takes a while, so the pre-commit hook runs this instead, in
well under a second, and the output check runs before a push. A notebook passes when:

- its metadata is what ``tools/run_notebooks.py`` writes (the same ``_clean``: no execution
  timings, no local kernel paths, no Python patch version), so saving from JupyterLab by
  hand shows up;
- its code cells ran top to bottom in one kernel: every cell with code has an execution
  count, and the counts read 1, 2, 3, ... in order (a cell re-run by hand, or left
  unexecuted, breaks the sequence);
- no cell without an execution count keeps outputs.

Exit status 0 when every notebook passes; 1 with one line per problem otherwise.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_notebooks import NOTEBOOKS, _clean


def problems(path: Path) -> list[str]:
    """What is wrong with the notebook at ``path`` (empty when it passes)."""
    notebook = nbformat.read(path, as_version=4)
    found = []
    cleaned = copy.deepcopy(notebook)
    _clean(cleaned)
    if cleaned.metadata != notebook.metadata:
        found.append(f"notebook metadata is not what make notebooks writes: {notebook.metadata}")
    for index, cell in enumerate(notebook.cells):
        if cleaned.cells[index].metadata != cell.metadata:
            found.append(f"cell {index}: stale cell metadata {dict(cell.metadata)}")
    expected = 1
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        count = cell.get("execution_count")
        if not cell.source.strip():
            continue
        if count is None:
            if cell.get("outputs"):
                found.append(f"cell {index}: outputs but no execution count")
            else:
                found.append(f"cell {index}: never executed")
            continue
        if count != expected:
            found.append(f"cell {index}: execution count {count}, expected {expected}")
        expected = count + 1
    return found


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in arguments] or sorted(NOTEBOOKS.glob("*.ipynb"))
    failed = False
    for path in paths:
        for problem in problems(path):
            failed = True
            print(f"{path}: {problem}")
    if failed:
        print("re-execute with `make notebooks` (never edit outputs by hand)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
