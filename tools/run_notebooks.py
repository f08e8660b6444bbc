"""Re-execute the course notebooks in place, so their stored outputs are what the
package prints now (nbval compares against them).  Never edit outputs by hand.

    python tools/run_notebooks.py            # every notebook in notebooks/
    python tools/run_notebooks.py 01 03      # those whose file name starts so
    python tools/run_notebooks.py --check    # execute into memory and report
                                             # notebooks whose outputs would change
                                             # (compared as nbval does: text only,
                                             # streams joined, sanitized, ignored
                                             # cells skipped)

Metadata is kept clean: no execution timings, no kernel paths, no Python patch
version, and ids are stable.  Each notebook runs in a fresh kernel started from
this interpreter, with notebooks/ as the working directory and MPLBACKEND unset
(ipykernel selects its inline backend only then).
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _clean(nb: nbformat.NotebookNode) -> None:
    nb.metadata = nbformat.from_dict(
        {
            "kernelspec": KERNEL,
            "language_info": {"name": "python"},
        }
    )
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)


def execute(path: Path, timeout: int = 120) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    env_backend = os.environ.pop("MPLBACKEND", None)
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            record_timing=False,
        )
        client.execute()
    finally:
        if env_backend is not None:
            os.environ["MPLBACKEND"] = env_backend
    _clean(nb)
    return nb


def _ignored(cell: nbformat.NotebookNode) -> bool:
    """nbval does not compare this cell's output (its marker comment or tag)."""
    tags = cell.get("metadata", {}).get("tags", [])
    return "nbval-ignore-output" in tags or cell.source.lstrip().startswith("# NBVAL_IGNORE_OUTPUT")


def _sanitizers() -> list[tuple[re.Pattern[str], str]]:
    """The regex replacements nbval applies (tests/nbval_sanitize.cfg)."""
    config = configparser.ConfigParser()
    config.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [
        (re.compile(config[name]["regex"]), config[name]["replace"]) for name in config.sections()
    ]


def _comparable(output: nbformat.NotebookNode, sanitize: list[tuple[re.Pattern[str], str]]) -> str:
    """An output as nbval compares it: text only (images and metadata are not
    compared), with the sanitizing replacements applied."""
    kept = {
        key: value for key, value in output.items() if key not in ("metadata", "execution_count")
    }
    if "data" in kept:
        kept["data"] = {
            mime: value for mime, value in kept["data"].items() if not mime.startswith("image/")
        }
    text = json.dumps(kept, sort_keys=True)
    for pattern, replacement in sanitize:
        text = pattern.sub(replacement, text)
    return text


def _coalesced(outputs: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    """Consecutive stream outputs to one stream joined, as nbval compares them:
    where the kernel splits printed text into chunks depends on timing."""
    merged: list[nbformat.NotebookNode] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            merged[-1] = nbformat.from_dict({**previous, "text": previous["text"] + output["text"]})
        else:
            merged.append(output)
    return merged


def _outputs(nb: nbformat.NotebookNode) -> list[object]:
    """The outputs nbval compares: every code cell's, except the ignored ones."""
    sanitize = _sanitizers()
    return [
        None
        if _ignored(cell)
        else [_comparable(o, sanitize) for o in _coalesced(cell.get("outputs", []))]
        for cell in nb.cells
        if cell.cell_type == "code"
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefixes", nargs="*", help="only notebooks whose name starts so")
    parser.add_argument(
        "--check", action="store_true", help="do not write; fail if any stored output would change"
    )
    args = parser.parse_args(argv)
    paths = sorted(
        p
        for p in NOTEBOOKS.glob("*.ipynb")
        if not args.prefixes or p.name.startswith(tuple(args.prefixes))
    )
    if not paths:
        print("no notebooks matched", file=sys.stderr)
        return 1
    stale = []
    for path in paths:
        print(f"executing {path.relative_to(ROOT)}", flush=True)
        nb = execute(path)
        if args.check:
            if _outputs(nb) != _outputs(nbformat.read(path, as_version=4)):
                stale.append(path.name)
        else:
            nbformat.write(nb, path)
    if stale:
        print("outputs out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
