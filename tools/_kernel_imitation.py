"""Child of tools/compare_pythons.py: run one notebook's code cells as the IPython kernel
would, and write what each printed to a JSON file.

    python tools/_kernel_imitation.py NOTEBOOK.ipynb OUTPUT.json   (cwd: notebooks/)

One event loop runs for the whole notebook; each cell is compiled with top-level
``await`` allowed and awaited on that loop, so ``asyncio.get_running_loop()`` works
in every cell and ``asyncio.run`` is refused, as in Jupyter.  A cell's last
expression is shown as ``repr`` unless it is ``None`` or the cell ends with ``;``.
An exception ends the cell with ``Name: message`` on its standard error.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import json
import sys
import traceback
from collections.abc import Coroutine
from types import TracebackType
from typing import Any

FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


class _StandInTaskGroup:
    """Python 3.10 only: ``asyncio.TaskGroup``'s happy path, built on gather."""

    async def __aenter__(self) -> _StandInTaskGroup:
        self._tasks: list[asyncio.Task[Any]] = []
        return self

    def create_task(
        self, coro: Coroutine[Any, Any, Any], *, name: str | None = None, context: Any = None
    ) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.append(task)
        return task

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is not None:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            return
        await asyncio.gather(*self._tasks)


class _StandInTimeout:
    """Python 3.10 only: ``asyncio.timeout()``: cancel the task when time is up, then
    raise the built-in ``TimeoutError``."""

    def __init__(self, delay: float | None) -> None:
        self._delay = delay
        self._expired = False

    async def __aenter__(self) -> _StandInTimeout:
        task = asyncio.current_task()
        assert task is not None
        self._handle = (
            None
            if self._delay is None
            else asyncio.get_running_loop().call_later(self._delay, self._expire, task)
        )
        return self

    def _expire(self, task: asyncio.Task[Any]) -> None:
        self._expired = True
        task.cancel()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self._expired and kind is asyncio.CancelledError:
            raise TimeoutError from error


def _install_stand_ins() -> None:
    if not hasattr(asyncio, "TaskGroup"):
        asyncio.TaskGroup = _StandInTaskGroup  # type: ignore[attr-defined]
    if not hasattr(asyncio, "timeout"):
        asyncio.timeout = _StandInTimeout  # type: ignore[attr-defined]


def _split(source: str) -> tuple[ast.Module, ast.Expression | None]:
    """The cell's statements, and its last expression to show (if any)."""
    tree = ast.parse(source)
    last: ast.Expression | None = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
        last = ast.Expression(tree.body.pop().value)
    return tree, last


async def _run(code: Any, namespace: dict[str, Any]) -> Any:
    result = eval(code, namespace)
    if asyncio.iscoroutine(result):
        result = await result
    return result


async def run_cells(cells: list[str]) -> list[dict[str, str]]:
    import matplotlib.pyplot as plt

    namespace: dict[str, Any] = {"__name__": "__main__", "display": lambda *a, **k: None}
    results = []
    for source in cells:
        out, err, shown = io.StringIO(), io.StringIO(), ""
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                tree, last = _split(source)
                await _run(compile(tree, "<cell>", "exec", flags=FLAGS), namespace)
                if last is not None:
                    value = await _run(compile(last, "<cell>", "eval", flags=FLAGS), namespace)
                    if value is not None:
                        shown = repr(value)
            except Exception as error:  # shown as the cell's error, as Jupyter would
                traceback.print_exc(file=sys.__stderr__)
                err.write(f"{type(error).__name__}: {error}")
        plt.close("all")
        results.append({"stdout": out.getvalue(), "stderr": err.getvalue(), "value": shown})
    return results


def main() -> None:
    notebook_path, output_path = sys.argv[1], sys.argv[2]
    with open(notebook_path, encoding="utf-8") as handle:
        notebook = json.load(handle)
    cells = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    _install_stand_ins()
    results = asyncio.run(run_cells(cells))
    with open(output_path, "w", encoding="utf-8") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
