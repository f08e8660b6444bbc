"""Fixtures for the end-to-end test: a real JupyterLab server and Debian's Chromium.

Environment variables:

- ``ASYNCPRIMS_NOTEBOOKS_DIR``: the notebooks to test (default: the repository's ``notebooks/``).
- ``ASYNCPRIMS_CHROMIUM``: the Chromium binary (default ``/usr/bin/chromium``).
- ``ASYNCPRIMS_E2E_TIMEOUT``: seconds one notebook may take to run (default 120).
- ``CI``: when true, a missing browser or an empty notebooks folder fails instead of skipping.

The ``e2e`` marker is registered in pyproject.toml.

The server runs on a temporary copy of the notebooks folder, with Jupyter's configuration,
data, runtime, IPython and workspace folders isolated in temporary folders, and token
authentication on (a fresh random token per run). The kernel is the ``python3`` kernel of the
interpreter running pytest; the repository root is put on its ``PYTHONPATH`` so the notebooks
import the working tree's ``asyncprims``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_TIMEOUT = 60.0
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"

# User settings that keep the run quiet and deterministic: no news or update checks (the
# network is closed), no restart confirmation, and every cell kept in the DOM (no windowing)
# so prompts, outputs and images of all cells can be inspected.
LAB_USER_SETTINGS: dict[str, dict[str, object]] = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/apputils-extension/sessionDialogs.jupyterlab-settings": {
        "skipKernelRestartDialog": True,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
    },
}


def in_ci() -> bool:
    """Whether we run under CI, where skipping the e2e test would hide a broken setup."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> None:
    """Skip locally; fail in CI (``.ci/run`` installs everything the test needs)."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def notebooks_dir() -> Path:
    """The folder whose ``*.ipynb`` files are tested."""
    configured = os.environ.get("ASYNCPRIMS_NOTEBOOKS_DIR")
    return Path(configured).resolve() if configured else REPO_ROOT / "notebooks"


def notebook_paths() -> list[Path]:
    """The notebooks to test, sorted by name (their numbering gives the course order)."""
    return sorted(notebooks_dir().glob("*.ipynb"))


def run_timeout() -> float:
    """Seconds one notebook may take from "restart and run all" to the last cell's result."""
    return float(os.environ.get("ASYNCPRIMS_E2E_TIMEOUT", "120"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Record each phase's report on the item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@dataclass(frozen=True)
class JupyterServer:
    """A running JupyterLab server; ``root`` is the temporary copy of the notebooks."""

    base_url: str
    token: str
    root: Path
    log_path: Path

    def lab_url(self, notebook_name: str) -> str:
        # ``reset``: start from an empty workspace, not with the previous notebooks reopened.
        return f"{self.base_url}/lab/tree/{notebook_name}?reset&token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_environment(home: Path) -> dict[str, str]:
    """The server's environment: isolated Jupyter folders, this venv first, MPLBACKEND unset."""
    environment = {
        key: value
        for key, value in os.environ.items()
        # MPLBACKEND must stay unset: ipykernel installs the inline backend only then.
        # JUPYTER_PATH / JUPYTER_CONFIG_PATH would add the user's extra folders back.
        if key not in {"MPLBACKEND", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_TOKEN"}
    }
    for name, folder in {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "IPYTHONDIR": "ipython",
    }.items():
        path = home / folder
        path.mkdir(parents=True, exist_ok=True)
        environment[name] = str(path)
    environment["JUPYTER_PLATFORM_DIRS"] = "1"
    scripts = str(Path(sys.executable).parent)
    environment["PATH"] = os.pathsep.join([scripts, environment.get("PATH", "")])
    python_path = environment.get("PYTHONPATH")
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *([python_path] if python_path else [])]
    )
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


def _write_user_settings(settings_dir: Path) -> None:
    for relative, values in LAB_USER_SETTINGS.items():
        path = settings_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2))


def _server_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (localhost)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server (it shuts its kernels down), then its process group if anything is left."""
    if process.poll() is None:
        process.terminate()  # jupyter_server stops gracefully on SIGTERM
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # leftover kernels in the server's own group
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's Chromium (Playwright's own browser download cannot work on this network)."""
    executable = os.environ.get("ASYNCPRIMS_CHROMIUM", DEFAULT_CHROMIUM)
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        skip_or_fail(f"Debian chromium not found at {executable}; run .ci/install-browser")
    return executable


@pytest.fixture(scope="module")
def jupyter_server(
    chromium_executable: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JupyterServer]:
    """A JupyterLab server on a free localhost port, serving a temporary copy of the notebooks."""
    home = tmp_path_factory.mktemp("jupyter-home")
    root = home / "notebooks"
    shutil.copytree(
        notebooks_dir(), root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    )
    settings_dir = home / "lab-user-settings"
    workspaces_dir = home / "lab-workspaces"
    workspaces_dir.mkdir()
    _write_user_settings(settings_dir)

    token = secrets.token_hex(24)
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={workspaces_dir}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")

    log_path = home / "jupyterlab.log"
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=_server_environment(home),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = JupyterServer(base_url=base_url, token=token, root=root, log_path=log_path)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _server_answers(f"{base_url}/api/status?token={token}"):
            if process.poll() is not None:
                pytest.fail(
                    f"JupyterLab exited with code {process.returncode} while starting:\n"
                    f"{server.log_tail()}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"JupyterLab did not answer within {SERVER_START_TIMEOUT:.0f} s:\n"
                    f"{server.log_tail()}",
                    pytrace=False,
                )
            time.sleep(0.2)
        yield server
    finally:
        _stop(process)
        if (ARTIFACTS_DIR.exists() or in_ci()) and log_path.exists():
            ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log_path, ARTIFACTS_DIR / "jupyterlab.log")


@pytest.fixture(scope="module")
def browser(chromium_executable: str) -> Iterator[Browser]:
    """One headless Chromium for all notebooks of the module."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser page; a full-page screenshot is saved when the test fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            folder = ARTIFACTS_DIR / "failures"
            folder.mkdir(parents=True, exist_ok=True)
            name = request.node.name.replace("/", "_").replace("[", "-").rstrip("]")
            try:
                new_page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            except Exception as error:  # noqa: BLE001 (best effort; keep the real failure)
                print(f"could not save a failure screenshot: {error}")
        context.close()
