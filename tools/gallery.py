"""Regenerate the chart gallery under docs/gallery/ (``make gallery``).

* one PNG per scenario of ``python -m asyncprims demo`` (its chart with the
  counts panel, exactly what ``demo NAME --plot`` writes), and
* every chart cell of the course (cells tagged ``chart``), taken from the
  notebooks' stored outputs, so run ``make notebooks`` first when the package
  changed what they draw;

plus ``docs/gallery/README.md``, an index with one caption per image.  The
README links to that index.  Stale PNGs of the gallery are removed first.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from asyncprims.demos import DEMOS, run_demo  # noqa: E402

GALLERY = ROOT / "docs" / "gallery"


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line
    return ""


def demo_charts() -> list[tuple[str, str]]:
    """(file name, caption) of each scenario's chart."""
    made = []
    for name, demo in DEMOS.items():
        with contextlib.redirect_stdout(io.StringIO()):
            timeline = run_demo(name)
        ax = timeline.plot(counts=True)
        file = f"demo-{name}.png"
        ax.figure.savefig(GALLERY / file, dpi=100, bbox_inches="tight")
        plt.close("all")
        made.append((file, f"`python -m asyncprims demo {name}`: {demo.title}"))
    return made


def notebook_charts() -> list[tuple[str, str]]:
    """(file name, caption) of each chart cell's stored image, by notebook."""
    made = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        section = ""
        count = 0
        for cell in notebook["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "markdown" and source.lstrip().startswith("#"):
                section = _first_line(source)
            if "chart" not in cell.get("metadata", {}).get("tags", []):
                continue
            for output in cell.get("outputs", []):
                png = output.get("data", {}).get("image/png")
                if png is None:
                    continue
                count += 1
                file = f"{path.stem[:2]}-{count}.png"
                (GALLERY / file).write_bytes(base64.b64decode(png))
                made.append((file, f"notebook `{path.stem}`, {section}"))
    return made


def main() -> int:
    GALLERY.mkdir(parents=True, exist_ok=True)
    for old in GALLERY.glob("*.png"):
        old.unlink()
    sections = [
        ("The scenarios of `python -m asyncprims demo`", demo_charts()),
        ("The charts of the course", notebook_charts()),
    ]
    lines = [
        "# Chart gallery",
        "",
        "Every chart of `python -m asyncprims demo ...` and of the course's notebooks, regenerated",
        "by `make gallery` (from the notebooks' stored outputs: run `make notebooks` first).",
        "The x axis is causal: clock time to scale between instants, and each instant at which",
        "several things happened spread over steps on a grey band, in the order they happened.",
        "",
    ]
    for title, images in sections:
        lines += [f"## {title}", ""]
        for file, caption in images:
            lines += [f"### {caption}", "", f"![{caption}]({file})", ""]
    (GALLERY / "README.md").write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    total = sum(len(images) for _, images in sections)
    print(f"gallery: {total} charts in {GALLERY.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
