"""Result rows and their three renderings: the console table, Markdown and JSON."""

from __future__ import annotations

import json
import math
import platform
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Row", "fmt_seconds", "median", "render_markdown", "render_table", "write_json"]

COLUMNS = ("workload", "asyncio", "asyncprims", "ratio", "anyio", "anyio ratio", "goal", "verdict")


def median(samples: list[float]) -> float | None:
    return statistics.median(samples) if samples else None


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return "—"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None or math.isnan(ratio):
        return "—"
    if ratio < 0.2:
        return f"{ratio:.3f}x ({1 / ratio:.0f}x faster)"
    return f"{ratio:.2f}x"


@dataclass
class Row:
    """One line of the results table.

    ``samples`` maps a side (``asyncio``, ``asyncprims``, ``asyncprims traced``,
    ``anyio``, ...) to its measured seconds, one per round.  ``cells`` overrides
    the rendering of a column (storm exponents, the hand-off floor, skips), and
    ``verdict`` is ``PASS``, ``MISS`` or ``""`` (information only).
    """

    name: str
    group: str
    size: int | None = None
    unit: str = ""
    samples: dict[str, list[float]] = field(default_factory=dict)
    values: dict[str, float | None] = field(default_factory=dict)
    goal: str = ""
    verdict: str = ""
    note: str = ""
    cells: dict[str, str] = field(default_factory=dict)

    def cell(self, column: str) -> str:
        if column in self.cells:
            return self.cells[column]
        if column == "workload":
            return self.name
        if column == "goal":
            return self.goal or "info"
        if column == "verdict":
            return self.verdict or "—"
        if column in ("ratio", "anyio ratio"):
            return fmt_ratio(self.values.get(column))
        return fmt_seconds(self.values.get(column))


def _widths(rows: list[Row]) -> list[int]:
    return [max(len(col), *(len(row.cell(col)) for row in rows)) for col in COLUMNS]


def render_table(rows: list[Row]) -> str:
    """A fixed-width console table; a blank line between groups."""
    if not rows:
        return "(no workload matched)"
    widths = _widths(rows)
    right = {"asyncio", "asyncprims", "ratio", "anyio", "anyio ratio"}

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if col in right else c.ljust(w) for col, c, w in zip(COLUMNS, cells, widths)
        ).rstrip()

    out = [line(list(COLUMNS)), line(["-" * w for w in widths])]
    group = rows[0].group
    for row in rows:
        if row.group != group:
            out.append("")
            group = row.group
        out.append(line([row.cell(col) for col in COLUMNS]))
    notes = [f"* {row.name}: {row.note}" for row in rows if row.note]
    if notes:
        out += ["", *notes]
    return "\n".join(out)


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }


def render_markdown(rows: list[Row], meta: dict[str, Any]) -> str:
    """A GitHub Markdown table with a one-paragraph header, ready for the README."""
    env = meta["environment"]
    head = (
        f"Measured with `python benchmarks/run.py{meta['argv']}` on Python {env['python']} "
        f"({env['platform']}), {meta['rounds']} interleaved rounds per workload, each in a "
        f"fresh event loop with the garbage collector off; medians. ratio = asyncprims / "
        f"asyncio (below 1 is faster); "
        + (
            f"anyio {meta['anyio']} on its asyncio backend."
            if meta.get("anyio")
            else "anyio not measured."
        )
    )
    out = [
        head,
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join(":--" if c in ("workload", "goal") else "--:" for c in COLUMNS) + "|",
    ]
    for row in rows:
        cells = [row.cell(col).replace("|", "\\|") for col in COLUMNS]
        if row.verdict == "MISS":
            cells[-1] = "**MISS**"
        out.append("| " + " | ".join(cells) + " |")
    notes = [f"- {row.name}: {row.note}" for row in rows if row.note]
    for extra in meta.get("notes", []):
        notes.append(f"- {extra}")
    if notes:
        out += ["", *notes]
    return "\n".join(out) + "\n"


def write_json(path: Path, rows: list[Row], meta: dict[str, Any]) -> None:
    payload = {"meta": meta, "results": [asdict(row) for row in rows]}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
