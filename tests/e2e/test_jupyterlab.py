"""End to end: every course notebook runs cleanly in a real JupyterLab, in a real browser.

For each ``notebooks/*.ipynb`` this opens the notebook in JupyterLab (driven by Debian's
Chromium through Playwright), clears its outputs, restarts the kernel and runs all cells with
JupyterLab's own ``notebook:restart-run-all`` command (falling back to the Kernel menu when the
application object is not exposed), then checks what a reader would see:

- no cell shows an error (a traceback), except cells tagged ``raises-exception``;
- every code cell ran: it shows ``[n]:``, not ``[*]:`` (queued forever) or ``[ ]:``;
- every chart cell (tagged ``chart``, or whose source contains ``.plot(``) shows an image.

The first chart of each notebook is saved to ``test-artifacts/screenshots/<stem>.png``.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .conftest import (
    ARTIFACTS_DIR,
    JupyterServer,
    in_ci,
    notebook_paths,
    notebooks_dir,
    run_timeout,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

CHART_TAG = "chart"
RAISES_TAG = "raises-exception"
PAGE_LOAD_TIMEOUT = 90.0
POLL_INTERVAL = 0.25
# The kernel is idle and nothing is queued for this long: the run is over.
SETTLE_SECONDS = 1.0
# The kernel is idle but cells still show [*] for this long: they will never run.
STUCK_SECONDS = 15.0
SCREENSHOT_TIMEOUT_MS = 10_000
EXECUTION_COUNT = re.compile(r"^\[(\d+)\]:?$")

# The visible notebook panel (an earlier notebook may linger, hidden, in the workspace).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

# What the page shows: kernel status and, per cell, its prompt, outputs and images.
READ_STATE_JS = """
(panelSelector) => {
  const panel = document.querySelector(panelSelector);
  if (!panel) return null;
  let status = null;
  const app = window.jupyterapp;
  const widget = app && app.shell && app.shell.currentWidget;
  const kernel = widget && widget.sessionContext && widget.sessionContext.session
    && widget.sessionContext.session.kernel;
  if (kernel) status = kernel.status;
  if (!status) {
    const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
    status = indicator ? indicator.dataset.status : null;
  }
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell')];
  const models = widget && widget.content && widget.content.widgets;
  const modelPrompt = (index) => {
    const count = models && models[index] && models[index].model.executionCount;
    return typeof count === 'number' ? `[${count}]:` : '';
  };
  return {
    status,
    dialogs: [...document.querySelectorAll('.jp-Dialog')].map(d => d.innerText.slice(0, 200)),
    cells: cells.map((cell, index) => ({
      isCode: cell.classList.contains('jp-CodeCell'),
      // a cell whose source is hidden (a solution) shows no prompt: take its execution
      // count from the cell's model when JupyterLab exposes it
      prompt: ((cell.querySelector('.jp-InputArea-prompt') || {}).innerText || '').trim()
        || modelPrompt(index),
      outputs: [...cell.querySelectorAll('.jp-OutputArea-output')].map(output => ({
        mime: output.dataset.mimeType || '',
        isError: output.classList.contains('jp-mod-error')
          || Boolean(output.closest('.jp-OutputArea-child.jp-mod-error')),
        text: (output.innerText || '').slice(0, 2000),
      })),
      images: [...cell.querySelectorAll('.jp-OutputArea-output img')].map(img => ({
        complete: img.complete,
        naturalWidth: img.naturalWidth,
        naturalHeight: img.naturalHeight,
      })),
    })),
  };
}
"""

APP_READY_JS = """
(name) => {
  const app = window.jupyterapp;
  if (!app) return 'no-app';
  const widget = app.shell.currentWidget;
  if (!widget || !widget.context || widget.context.path !== name) return 'no-panel';
  if (!widget.sessionContext || !widget.sessionContext.isReady) return 'no-session';
  return 'ready';
}
"""

CLEAR_COMMAND_JS = """
async () => { await window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs'); }
"""

RUN_COMMAND_JS = """
() => {
  // Not awaited: the command resolves only when all cells have run; the test polls instead.
  window.__asyncprimsRun = 'running';
  window.jupyterapp.commands.execute('notebook:restart-run-all').then(
    value => { window.__asyncprimsRun = 'done:' + value; },
    error => { window.__asyncprimsRun = 'error:' + error; },
  );
}
"""


@dataclass(frozen=True)
class SourceCell:
    """A cell as stored in the notebook file (the DOM does not show tags)."""

    index: int
    cell_type: str
    source: str
    tags: tuple[str, ...]

    @property
    def is_chart(self) -> bool:
        return CHART_TAG in self.tags or ".plot(" in self.source

    @property
    def may_raise(self) -> bool:
        return RAISES_TAG in self.tags

    def describe(self) -> str:
        first_line = next((line for line in self.source.splitlines() if line.strip()), "")
        return f"cell {self.index} ({first_line[:60]!r})"


def read_source_cells(path: Path) -> list[SourceCell]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for index, cell in enumerate(notebook.get("cells", [])):
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        tags = cell.get("metadata", {}).get("tags", [])
        cells.append(SourceCell(index, cell.get("cell_type", ""), source, tuple(tags)))
    return cells


def _notebook_params() -> list[Any]:
    paths = notebook_paths()
    if not paths:
        return [pytest.param(None, id="no-notebooks")]
    return [pytest.param(path, id=path.stem) for path in paths]


def _read_state(page: Page) -> dict[str, Any] | None:
    state: dict[str, Any] | None = page.evaluate(READ_STATE_JS, PANEL)
    return state


def _accept_dialogs(page: Page) -> None:
    """Accept a dialog JupyterLab may raise (kernel choice, restart confirmation)."""
    accept = page.locator(".jp-Dialog .jp-mod-accept")
    if accept.count():
        accept.first.click()


def _open_notebook(page: Page, server: JupyterServer, name: str) -> bool:
    """Open the notebook and wait for an idle kernel. Return whether ``jupyterapp`` is exposed."""
    page.goto(server.lab_url(name), wait_until="domcontentloaded")
    deadline = time.monotonic() + PAGE_LOAD_TIMEOUT
    last = "not loaded"
    while time.monotonic() < deadline:
        _accept_dialogs(page)
        app_state = page.evaluate(APP_READY_JS, name)
        state = _read_state(page)
        if state is not None and state["status"] == "idle" and app_state in {"ready", "no-app"}:
            return bool(app_state == "ready")
        last = f"app: {app_state}, kernel: {state and state['status']}"
        time.sleep(POLL_INTERVAL)
    pytest.fail(
        f"{name}: no idle kernel within {PAGE_LOAD_TIMEOUT:.0f} s ({last})\n{server.log_tail()}",
        pytrace=False,
    )


def _menu(page: Page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def _restart_and_run_all(page: Page, name: str, app_exposed: bool) -> None:
    """Clear all outputs, then restart the kernel and run all cells, with JupyterLab's commands.

    Clearing first makes stored execution counts unable to pass for a fresh run.
    """
    if app_exposed:
        page.evaluate(CLEAR_COMMAND_JS)
    else:
        _menu(page, "Edit", "Clear Outputs of All Cells")
    deadline = time.monotonic() + 10
    prompts: list[str] = []
    while time.monotonic() < deadline:
        state = _read_state(page)
        prompts = [cell["prompt"] for cell in state["cells"] if cell["isCode"]] if state else []
        if state and all(not EXECUTION_COUNT.match(prompt) for prompt in prompts):
            break
        time.sleep(POLL_INTERVAL)
    else:
        pytest.fail(f"{name}: clearing all outputs left the prompts {prompts}", pytrace=False)
    if app_exposed:
        page.evaluate(RUN_COMMAND_JS)
    else:
        _menu(page, "Kernel", "Restart Kernel and Run All Cells")
    # A confirmation dialog appears unless skipKernelRestartDialog took effect.
    page.wait_for_timeout(200)
    _accept_dialogs(page)


def _wait_for_run(page: Page, name: str) -> dict[str, Any]:
    """Poll until the kernel is idle and nothing is queued; return the final page state."""
    timeout = run_timeout()
    deadline = time.monotonic() + timeout
    settled_since: float | None = None
    stuck_since: float | None = None
    state: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        _accept_dialogs(page)
        state = _read_state(page)
        now = time.monotonic()
        if state is None:
            time.sleep(POLL_INTERVAL)
            continue
        code = [cell for cell in state["cells"] if cell["isCode"]]
        queued = any("*" in cell["prompt"] for cell in code)
        started = any(EXECUTION_COUNT.match(cell["prompt"]) for cell in code) or not code
        idle = state["status"] == "idle"
        if idle and not queued and started:
            settled_since = settled_since or now
            if now - settled_since >= SETTLE_SECONDS:
                return state
        else:
            settled_since = None
        if idle and queued:
            stuck_since = stuck_since or now
            if now - stuck_since >= STUCK_SECONDS:
                return state  # the assertions report the cells left at [*]
        else:
            stuck_since = None
        time.sleep(POLL_INTERVAL)
    run = page.evaluate("() => window.__asyncprimsRun")
    prompts = [cell["prompt"] for cell in state["cells"]] if state else None
    pytest.fail(
        f"{name}: the run did not finish within {timeout:.0f} s "
        f"(kernel: {state and state['status']}, command: {run}, prompts: {prompts}); "
        "raise ASYNCPRIMS_E2E_TIMEOUT if a notebook is legitimately slow",
        pytrace=False,
    )


def _problems(name: str, source: list[SourceCell], state: dict[str, Any]) -> list[str]:
    """Everything wrong with the executed notebook, one line per problem."""
    shown = state["cells"]
    if len(shown) != len(source):
        return [f"{name}: the page shows {len(shown)} cells, the file has {len(source)}"]
    problems = []
    for cell, dom in zip(source, shown, strict=True):
        if cell.cell_type != "code":
            continue
        match = EXECUTION_COUNT.match(dom["prompt"])
        if not match:
            problems.append(
                f"{cell.describe()} did not run: its prompt is {dom['prompt'] or 'empty'!r}"
            )
        errors = [
            output
            for output in dom["outputs"]
            if output["isError"]
            or (
                output["mime"] == "application/vnd.jupyter.stderr" and "Traceback" in output["text"]
            )
        ]
        if errors and not cell.may_raise:
            problems.append(
                f"{cell.describe()} shows an error (tag it {RAISES_TAG!r} if intended):\n"
                + _last_lines(errors[0]["text"])
            )
        if cell.is_chart and match:
            drawn = [img for img in dom["images"] if img["naturalWidth"] > 0]
            if not drawn:
                problems.append(
                    f"{cell.describe()} is a chart cell but shows no image "
                    f"({len(dom['images'])} img element(s), none with a width)"
                )
    return problems


def _last_lines(text: str, count: int = 6) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join("    " + line for line in lines[-count:])


def _screenshot_first_chart(page: Page, stem: str, source: list[SourceCell]) -> str | None:
    """Save the first chart's image (an element screenshot of its ``img``).

    Return a problem description when the image cannot be captured (e.g. it is hidden).
    """
    first_chart = next((cell.index for cell in source if cell.is_chart), None)
    if first_chart is None:
        return None
    cell = page.locator(f"{PANEL} .jp-Notebook .jp-Cell").nth(first_chart)
    image = cell.locator(".jp-OutputArea-output img").first
    path = ARTIFACTS_DIR / "screenshots" / f"{stem}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        image.scroll_into_view_if_needed(timeout=SCREENSHOT_TIMEOUT_MS)
        image.screenshot(path=str(path), timeout=SCREENSHOT_TIMEOUT_MS)
    except Exception as error:  # noqa: BLE001 (Playwright's TimeoutError and friends)
        visible = image.is_visible() if image.count() else "no img element"
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return (
            f"{source[first_chart].describe()}: could not screenshot its chart "
            f"(visible: {visible}): {first_line}"
        )
    return None


def _shutdown_sessions(server: JupyterServer, name: str) -> None:
    """Stop the notebook's kernel so the next notebook starts from a quiet server."""
    api = f"{server.base_url}/api/sessions"
    headers = {"Authorization": f"token {server.token}"}
    try:
        with urllib.request.urlopen(urllib.request.Request(api, headers=headers), timeout=5) as r:  # noqa: S310
            sessions = json.load(r)
        for session in sessions:
            if session.get("path") == name:
                request = urllib.request.Request(
                    f"{api}/{session['id']}", method="DELETE", headers=headers
                )
                urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
    except OSError:
        pass  # best effort; the server shuts every kernel down at the end anyway


@pytest.mark.parametrize("notebook", _notebook_params())
def test_notebook_runs_in_jupyterlab(notebook: Path | None, request: pytest.FixtureRequest) -> None:
    if notebook is None:
        message = f"no notebooks found in {notebooks_dir()}"
        if in_ci():
            pytest.fail(f"{message}; the course must have notebooks", pytrace=False)
        pytest.skip(message)
    # Requested only now, so an empty course neither starts a server nor needs a browser.
    jupyter_server: JupyterServer = request.getfixturevalue("jupyter_server")
    page: Page = request.getfixturevalue("page")

    name = notebook.name
    source = read_source_cells(jupyter_server.root / name)
    started = time.monotonic()
    try:
        app_exposed = _open_notebook(page, jupyter_server, name)
        opened = time.monotonic()
        _restart_and_run_all(page, name, app_exposed)
        state = _wait_for_run(page, name)
        finished = time.monotonic()
        problems = _problems(name, source, state)
        if not problems:
            screenshot_problem = _screenshot_first_chart(page, notebook.stem, source)
            problems = [screenshot_problem] if screenshot_problem else []
    finally:
        _shutdown_sessions(jupyter_server, name)
    print(
        f"{name}: opened with an idle kernel in {opened - started:.1f} s, "
        f"restart and run all took {finished - opened:.1f} s"
    )
    if problems:
        pytest.fail(f"{name}:\n" + "\n".join(problems), pytrace=False)


# ---------------------------------------------------------------- one exercise, by hand
EXERCISE_NOTEBOOK = "01-lock.ipynb"
# the cells by id: the imports, the reader's answer, its check, the hidden solution
EXERCISE_CELLS = ("lock-03", "lock-ex-05", "lock-ex-06", "lock-ex-08")
# A wrong answer the starter does not give: no lock at all, so the jobs' pages interleave.
WRONG_ANSWER = """async def print_job(printer, name, pages, paper):
    for page in range(1, pages + 1):
        if name == "jammed" and page == 2:
            raise OSError("paper jam")
        paper.append(f"{name} p{page}")
        await asyncio.sleep(0.01)"""

RUN_CELL_JS = """
async (index) => {
  const app = window.jupyterapp;
  const notebook = app.shell.currentWidget.content;
  notebook.activeCellIndex = index;
  notebook.deselectAll();
  await app.commands.execute('notebook:run-cell');
}
"""

SET_SOURCE_JS = """
([index, text]) => {
  const notebook = window.jupyterapp.shell.currentWidget.content;
  notebook.widgets[index].model.sharedModel.setSource(text);
}
"""


def _cell_index(source: list[SourceCell], path: Path, cell_id: str) -> int:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    ids = [cell.get("id") for cell in notebook["cells"]]
    assert len(ids) == len(source)
    return ids.index(cell_id)


def _run_and_read(page: Page, index: int, expect: str) -> str:
    """Run cell ``index`` with JupyterLab's command; return its output once it shows ``expect``."""
    page.evaluate(RUN_CELL_JS, index)
    cell = page.locator(f"{PANEL} .jp-Notebook .jp-Cell").nth(index)
    deadline = time.monotonic() + 60
    text = ""
    while time.monotonic() < deadline:
        text = "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())
        if expect in text:
            return text
        time.sleep(POLL_INTERVAL)
    pytest.fail(f"cell {index} never showed {expect!r}; its output: {text!r}", pytrace=False)


def test_an_exercise_check_runs_in_jupyterlab(request: pytest.FixtureRequest) -> None:
    """A wrong answer gets the check's message; the revealed solution passes."""
    path = notebooks_dir() / EXERCISE_NOTEBOOK
    if not path.exists():
        pytest.skip(f"{EXERCISE_NOTEBOOK} not found")
    jupyter_server: JupyterServer = request.getfixturevalue("jupyter_server")
    page: Page = request.getfixturevalue("page")
    source = read_source_cells(jupyter_server.root / EXERCISE_NOTEBOOK)
    setup, answer, check, solution = (
        _cell_index(source, jupyter_server.root / EXERCISE_NOTEBOOK, cell_id)
        for cell_id in EXERCISE_CELLS
    )
    try:
        if not _open_notebook(page, jupyter_server, EXERCISE_NOTEBOOK):
            pytest.skip("JupyterLab does not expose its application object")
        page.evaluate(CLEAR_COMMAND_JS)  # stored outputs must not pass for fresh ones
        _run_and_read(page, setup, "")
        page.evaluate(SET_SOURCE_JS, [answer, WRONG_ANSWER])
        _run_and_read(page, answer, "")
        verdict = _run_and_read(page, check, "not yet")
        assert "interleaved" in verdict, verdict
        assert "✔" not in verdict, verdict

        cell = page.locator(f"{PANEL} .jp-Notebook .jp-Cell").nth(solution)
        editor = cell.locator(".jp-InputArea-editor")
        assert not editor.is_visible(), "the solution's source should start hidden"
        placeholder = cell.locator(".jp-InputPlaceholder")
        if placeholder.count():
            placeholder.first.click()
        else:
            cell.locator(".jp-Cell-inputCollapser").first.click()
        editor.wait_for(state="visible", timeout=SCREENSHOT_TIMEOUT_MS)
        assert "print_job_solution" in editor.inner_text()
        verdict = _run_and_read(page, solution, "✔")
        assert "not yet" not in verdict, verdict
    finally:
        _shutdown_sessions(jupyter_server, EXERCISE_NOTEBOOK)
