"""Run the notebooks' code cells on other Pythons and compare what they print with the
stored outputs (those of the default Python, checked by nbval).

    python tools/compare_pythons.py                  # 3.10, 3.12 and 3.13, every notebook
    python tools/compare_pythons.py --pythons 3.10 05 08

The other interpreters have no Jupyter.  For each one the tool keeps a small venv,
``.venv-course-3.X`` (created on first use with ``-e '.[plot]'`` and nest-asyncio2),
and runs each notebook there in a child process that imitates the IPython kernel:
one event loop runs throughout, every cell is compiled with top-level ``await``
allowed and run on that loop, the value of a cell's last expression is printed as
Jupyter would show it (``repr``, not for ``None`` or a trailing ``;``), and
matplotlib draws with Agg (figures are not compared: nbval does not compare images).
Python 3.10 has neither ``asyncio.TaskGroup`` nor ``asyncio.timeout()``; there the
child provides minimal stand-ins built on ``gather`` and a cancelling timer, the
substitutions the notebooks' notes for 3.10 describe.

Compared per code cell: standard output and standard error (each joined, as nbval
joins streams), and the shown value, after the sanitizing of
tests/nbval_sanitize.cfg; cells marked ``NBVAL_IGNORE_OUTPUT`` are skipped.
Exit status 1 if any cell differs on any Python.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT / "tools"))
from run_notebooks import _ignored, _sanitizers  # noqa: E402

CHILD = Path(__file__).with_name("_kernel_imitation.py")


def find_python(version: str) -> str | None:
    """pyenv's newest python``version``, else ``python<version>`` on PATH."""
    try:
        root = subprocess.run(
            ["pyenv", "root"], capture_output=True, text=True, check=True
        ).stdout.strip()
        for candidate in sorted(Path(root, "versions").glob(f"{version}.*"), reverse=True):
            if (candidate / "bin" / "python3").exists():
                return str(candidate / "bin" / "python3")
    except (OSError, subprocess.CalledProcessError):
        pass
    for name in (f"python{version}",):
        for folder in os.environ.get("PATH", "").split(os.pathsep):
            if Path(folder, name).exists():
                return str(Path(folder, name))
    return None


def course_venv(version: str) -> Path | None:
    """``.venv-course-<version>`` with the package, matplotlib and nest-asyncio2."""
    venv = ROOT / f".venv-course-{version}"
    python = venv / "bin" / "python"
    stamp = venv / ".stamp-course"
    if stamp.exists() and stamp.stat().st_mtime >= (ROOT / "pyproject.toml").stat().st_mtime:
        return python
    base = find_python(version)
    if base is None:
        return None
    print(f"==> preparing {venv.name} with {base}", flush=True)
    if not python.exists():
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-e",
            f"{ROOT}[plot]",
            "nest-asyncio2>=1.6",
        ],
        check=True,
    )
    stamp.touch()
    return python


def stored_outputs(path: Path) -> list[dict[str, str] | None]:
    """Per code cell: what nbval compares (joined streams, shown value), or None if ignored."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells: list[dict[str, str] | None] = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        cell["source"] = "".join(cell["source"])
        if _ignored(_Cell(cell)):
            cells.append(None)
            continue
        seen = {"stdout": "", "stderr": "", "value": ""}
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                seen[output["name"]] += "".join(output["text"])
            elif output["output_type"] == "execute_result":
                seen["value"] += "".join(output["data"].get("text/plain", ""))
            elif output["output_type"] == "error":
                seen["stderr"] += f"{output['ename']}: {output['evalue']}"
        cells.append(seen)
    return cells


class _Cell(dict):  # type: ignore[type-arg]
    """A notebook cell with attribute access, as run_notebooks._ignored expects."""

    def __getattr__(self, name: str) -> object:
        return self[name]


def run_notebook(python: Path, path: Path) -> list[dict[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        result_file = Path(folder) / "outputs.json"
        env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [str(python), str(CHILD), str(path), str(result_file)],
            cwd=NOTEBOOKS,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not result_file.exists():
            raise RuntimeError(f"{path.name} on {python}: the child failed\n{done.stderr}")
        outputs: list[dict[str, str]] = json.loads(result_file.read_text())
        return outputs


def _clean(text: str) -> str:
    for pattern, replacement in _sanitizers():
        text = pattern.sub(replacement, text)
    return text


def compare(
    stored: list[dict[str, str] | None], fresh: list[dict[str, str]], name: str
) -> list[str]:
    problems = []
    for index, (expected, got) in enumerate(zip(stored, fresh, strict=True)):
        if expected is None:
            continue
        for key in ("stdout", "stderr", "value"):
            if _clean(expected[key]) != _clean(got[key]):
                problems.append(
                    f"{name} code cell {index + 1} ({key}):\n"
                    f"--- stored\n{expected[key]}--- this Python\n{got[key]}"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefixes", nargs="*", help="only notebooks whose name starts so")
    parser.add_argument("--pythons", nargs="+", default=["3.10", "3.12", "3.13"])
    args = parser.parse_args(argv)
    paths = sorted(
        p
        for p in NOTEBOOKS.glob("*.ipynb")
        if not args.prefixes or p.name.startswith(tuple(args.prefixes))
    )
    failed = False
    for version in args.pythons:
        python = course_venv(version)
        if python is None:
            print(f"SKIPPED: python{version} not installed")
            continue
        compared = ignored = 0
        problems: list[str] = []
        for path in paths:
            stored = stored_outputs(path)
            problems += compare(stored, run_notebook(python, path), path.name)
            compared += sum(cell is not None for cell in stored)
            ignored += sum(cell is None for cell in stored)
        verdict = "same" if not problems else f"{len(problems)} DIFFERENT"
        print(
            f"python{version}: {len(paths)} notebooks, {compared} code cells compared "
            f"({ignored} ignored): {verdict}"
        )
        for problem in problems:
            print(problem)
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
