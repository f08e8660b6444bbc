"""asyncprims.run() inside a real ipykernel, whose own event loop is running."""

from __future__ import annotations

import os
import queue
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
jupyter_client = pytest.importorskip("jupyter_client")

pytestmark = pytest.mark.notebook

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _kernel_can_import_asyncprims(monkeypatch: pytest.MonkeyPatch) -> None:
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) if not path else f"{ROOT}{os.pathsep}{path}")
    monkeypatch.delenv("MPLBACKEND", raising=False)


def _execute(*sources: str) -> Any:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(textwrap.dedent(src)) for src in sources]
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=60,
        allow_errors=True,
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()
    return notebook


def _stdout(cell: Any) -> str:
    return "".join(
        out.get("text", "")
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stdout"
    )


def _stderr(cell: Any) -> str:
    return "".join(
        out.get("text", "")
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stderr"
    )


def _errors(cell: Any) -> list[str]:
    return [f"{out.ename}: {out.evalue}" for out in cell.outputs if out.output_type == "error"]


def test_run_in_a_cell_keeps_output_order_and_the_kernel_loop() -> None:
    notebook = _execute(
        """
        import asyncio
        import asyncprims
        kernel_loop = asyncio.get_running_loop()
        print("ready")
        """,
        """
        async def main():
            print("inside: start")
            await asyncio.sleep(0.1)
            print(f"inside: {asyncio.get_running_loop().time():.3f}")
            await asyncio.sleep(0.1)
            print(f"inside: {asyncio.get_running_loop().time():.3f}")
            return 42

        kernel_task = asyncio.current_task()
        print("before")
        result = asyncprims.run(main(), virtual_time=True)
        print("after", result)
        print("kernel loop back:", asyncio.get_running_loop() is kernel_loop)
        task_back = kernel_task is not None and asyncio.current_task() is kernel_task
        print("kernel task back:", task_back)
        """,
        """
        await asyncio.sleep(0.01)
        print("top-level await on kernel loop:", asyncio.get_running_loop() is kernel_loop)
        """,
        """
        with asyncprims.trace() as timeline:
            asyncprims.run(asyncio.sleep(0.5), virtual_time=True)
        async def contended():
            lock = asyncprims.Lock(name="L")
            async def user():
                async with lock:
                    await asyncio.sleep(0.1)
            await asyncio.gather(*(asyncio.create_task(user(), name=f"u{i}") for i in range(2)))
        with asyncprims.trace() as timeline:
            asyncprims.run(contended(), virtual_time=True)
        print(len(timeline.events) > 0, sorted({e.task for e in timeline.events}))
        """,
    )
    ready, ran, awaited, traced = notebook.cells
    for cell in notebook.cells:
        assert _errors(cell) == []
        assert _stderr(cell) == ""
    assert _stdout(ready) == "ready\n"
    assert _stdout(ran) == (
        "before\n"
        "inside: start\n"
        "inside: 0.100\n"
        "inside: 0.200\n"
        "after 42\n"
        "kernel loop back: True\n"
        "kernel task back: True\n"
    )
    assert _stdout(awaited) == "top-level await on kernel loop: True\n"
    assert _stdout(traced) == "True ['u0', 'u1']\n"


def test_deadlock_in_a_cell_raises_and_the_kernel_goes_on() -> None:
    notebook = _execute(
        """
        import asyncio
        import asyncprims
        kernel_loop = asyncio.get_running_loop()

        async def main():
            queue = asyncprims.Queue(name="jobs")
            await asyncio.create_task(queue.get(), name="consumer")

        asyncprims.run(main(), virtual_time=True)
        """,
        """
        await asyncio.sleep(0)
        print(asyncio.get_running_loop() is kernel_loop)
        """,
    )
    failing, after = notebook.cells
    assert _errors(failing) == [
        "DeadlockError: deadlock: 2 tasks are blocked and nothing can wake them\n"
        "  task 'consumer' waits to get from Queue 'jobs' (empty)\n"
        "  task 'main' awaits task 'consumer'"
    ]
    assert _stderr(failing) == ""
    assert _stdout(after) == "True\n"


def _collect_until_idle(client: Any, msg_id: str, timeout: float = 30) -> dict[str, Any]:
    """stdout text and error names of one execution, read from iopub."""
    found: dict[str, Any] = {"stdout": "", "stderr": "", "errors": []}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = client.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            found[content["name"]] += content["text"]
        elif kind == "error":
            found["errors"].append(content["ename"])
        elif kind == "status" and content["execution_state"] == "idle":
            return found
    raise AssertionError(f"no idle status within {timeout} s: {found}")


@pytest.mark.parametrize("virtual", [False, True])
def test_kernel_interrupt_cancels_the_run_cleanly(virtual: bool) -> None:
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", cwd=str(ROOT))
    try:
        setup = client.execute(
            textwrap.dedent(
                """
            import asyncio
            import asyncprims
            kernel_loop = asyncio.get_running_loop()
            cleanups = []

            async def worker():
                try:
                    await asyncio.sleep(3600)
                finally:
                    cleanups.append("worker")

            async def main():
                asyncio.create_task(worker(), name="worker")
                try:
                    while True:  # in virtual time this spins as fast as it can
                        await asyncio.sleep(0.01)
                finally:
                    await asyncio.sleep(1)  # cleanup may still await
                    cleanups.append("main")
            """
            )
        )
        assert _collect_until_idle(client, setup)["errors"] == []
        running = client.execute(
            textwrap.dedent(
                f"""
            print("started", flush=True)
            asyncprims.run(main(), virtual_time={virtual})
            """
            )
        )
        deadline = time.monotonic() + 30
        started = False
        while not started and time.monotonic() < deadline:
            try:
                msg = client.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            started = (
                msg["parent_header"].get("msg_id") == running
                and msg["msg_type"] == "stream"
                and "started" in msg["content"]["text"]
            )
        assert started
        time.sleep(0.3)
        manager.interrupt_kernel()
        outcome = _collect_until_idle(client, running)
        assert outcome["errors"] == ["KeyboardInterrupt"]
        check = client.execute(
            textwrap.dedent(
                """
            await asyncio.sleep(0)
            print(sorted(cleanups), asyncio.get_running_loop() is kernel_loop)
            """
            )
        )
        after = _collect_until_idle(client, check)
        assert after["errors"] == []
        assert after["stdout"] == "['main', 'worker'] True\n"
        assert after["stderr"] == ""
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
