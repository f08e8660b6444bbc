"""``python -m asyncprims trace``: a program runs unchanged, traced, and reports at exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from asyncprims._trace_cli import parse

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
#: A program that behaves badly must still end; no test waits anywhere near this long.
TIMEOUT = 120

PROGRAM = textwrap.dedent(
    """
    import asyncio, sys
    print("argv", sys.argv[1:], "name", __name__, "path0", sys.path[0])
    print("file", __file__, "lock", asyncio.Lock.__module__)
    print("to stderr", file=sys.stderr)

    async def main():
        lock = asyncio.Lock()
        async def user(n):
            async with lock:
                await asyncio.sleep(0.01)
        await asyncio.gather(*(asyncio.create_task(user(n), name=f"user-{n}") for n in range(3)))

    asyncio.run(main())
    {ending}
    """
)


def _run(args: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        **kwargs,
    )


def _traced(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return _run(["-m", "asyncprims", "trace", *args], cwd)


def _script(tmp_path: Path, ending: str) -> Path:
    (tmp_path / "sub").mkdir(exist_ok=True)
    script = tmp_path / "sub" / "prog.py"
    script.write_text(PROGRAM.replace("{ending}", ending))
    return script


def _split_report(stderr: str) -> tuple[str, str]:
    program, marker, report = stderr.partition("\n=== asyncprims trace: ")
    assert marker, stderr
    return program, marker.lstrip("\n") + report


@pytest.mark.parametrize(
    ("ending", "code"),
    [("", 0), ("sys.exit(3)", 3), ("sys.exit('bad input')", 1), ("raise ValueError('boom')", 1)],
)
def test_a_script_runs_unchanged(tmp_path: Path, ending: str, code: int) -> None:
    script = _script(tmp_path, ending)
    plain = _run(["sub/prog.py", "--flag", "x"], tmp_path)
    traced = _traced(["-o", "out.json", "sub/prog.py", "--flag", "x"], tmp_path)
    assert plain.returncode == traced.returncode == code
    assert traced.stdout == plain.stdout.replace("lock asyncio.locks", "lock asyncprims.locks")
    assert f"argv ['--flag', 'x'] name __main__ path0 {script.parent}" in traced.stdout
    program_stderr, report = _split_report(traced.stderr)
    assert program_stderr == plain.stderr  # tracebacks included, without the runner's frames
    assert "asyncprims" not in program_stderr
    assert report.splitlines()[0].endswith(" events, 3 tasks, 1 primitive ===")
    assert "Lock-1" in report and "user-2" in report
    assert "Chrome trace written to out.json" in report
    trace = json.loads((tmp_path / "out.json").read_text())
    names = {event.get("args", {}).get("name") for event in trace["traceEvents"]}
    assert {"user-0", "user-1", "user-2"} <= names


def test_a_module_runs_with_its_arguments(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tool.py").write_text(PROGRAM.replace("{ending}", ""))
    traced = _traced(["-o", "t.json", "--text", "-m", "pkg.tool", "-o", "--text"], tmp_path)
    plain = _run(["-m", "pkg.tool", "-o", "--text"], tmp_path)
    assert traced.returncode == plain.returncode == 0
    assert traced.stdout == plain.stdout.replace("lock asyncio.locks", "lock asyncprims.locks")
    assert "argv ['-o', '--text'] name __main__" in traced.stdout
    assert f"path0 {tmp_path}" in traced.stdout
    _, report = _split_report(traced.stderr)
    assert "legend:" in report  # --text was ours, before -m
    assert (tmp_path / "t.json").exists()


@pytest.mark.parametrize("module", ["pkg.broken", "pkg.missing"])
def test_a_failing_module_fails_as_under_python(tmp_path: Path, module: str) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "broken.py").write_text("def f():\n    raise KeyError('k')\n\nf()\n")
    plain = _run(["-m", module], tmp_path)
    traced = _traced(["-o", "t.json", "-m", module], tmp_path)
    assert traced.returncode == plain.returncode == 1
    program_stderr, _ = _split_report(traced.stderr)
    assert program_stderr == plain.stderr  # runpy's frames as Python shows them, not ours
    assert "KeyError: 'k'" in plain.stderr or "No module named pkg.missing" in plain.stderr


def test_max_events_keeps_the_newest(tmp_path: Path) -> None:
    _script(tmp_path, "")
    traced = _traced(["--max-events", "5", "-o", "t.json", "sub/prog.py"], tmp_path)
    assert traced.returncode == 0
    _, report = _split_report(traced.stderr)
    assert report.splitlines()[0].startswith("=== asyncprims trace: 5 events (the oldest ")


def test_errors_before_the_program_starts(tmp_path: Path) -> None:
    missing = _traced(["nowhere.py"], tmp_path)
    assert missing.returncode == 2 and "can't open file" in missing.stderr
    nothing = _traced(["--text"], tmp_path)
    assert nothing.returncode == 2 and "give the program to run" in nothing.stderr
    bad = _traced(["--max-events", "0", "x.py"], tmp_path)
    assert bad.returncode == 2 and "--max-events must be a positive integer" in bad.stderr


def test_options_stop_at_the_program() -> None:
    target = parse(["--text", "-o", "a.json", "app.py", "--text", "-o", "b"])
    assert target.script == "app.py" and target.args == ["--text", "-o", "b"]
    assert target.options.text and target.options.output == "a.json"
    target = parse(["-mhttp.server", "8000", "--bind", "::"])
    assert target.options.module == "http.server" and target.args == ["8000", "--bind", "::"]
    target = parse(["--watchdog", "2", "--", "-odd-name.py", "-x"])
    assert target.script == "-odd-name.py" and target.args == ["-x"]
    assert target.options.watchdog == 2.0


def test_echo_server_traced_shows_the_server_waits(tmp_path: Path) -> None:
    traced = _traced(
        [
            "-o",
            "echo.json",
            str(EXAMPLES / "echo_server.py"),
            "--seconds",
            "0.5",
            "--clients",
            "8",
            "--slots",
            "2",
        ],
        tmp_path,
    )
    assert traced.returncode == 0, traced.stderr
    lines = traced.stdout.splitlines()
    assert lines[0].startswith("listening on 127.0.0.1:")
    assert lines[1].startswith("8 clients, ") and "served by 2 workers" in lines[1]
    _, report = _split_report(traced.stderr)
    assert "Semaphore-1" in report and "Queue-1" in report
    events = json.loads((tmp_path / "echo.json").read_text())["traceEvents"]
    waits = {(event["name"], event.get("cat")) for event in events if event.get("ph") == "X"}
    assert any("Semaphore-1" in name for name, _ in waits), sorted(waits)[:20]
    assert any("Queue-1" in name for name, _ in waits), sorted(waits)[:20]


def test_deadlocking_server_gets_the_watchdog_report(tmp_path: Path) -> None:
    traced = _traced(
        [
            "--watchdog",
            "0.5",
            "--detect-cycles",
            "-o",
            "dl.json",
            str(EXAMPLES / "deadlock_server.py"),
            "--seconds",
            "3",
        ],
        tmp_path,
    )
    assert traced.returncode == 1  # the program's own status: clients got no answer
    assert "clients got no answer within 3 s" in traced.stdout
    program_stderr, report = _split_report(traced.stderr)
    header = "asyncprims watchdog: a wait for a lock or semaphore has made no progress for 0.5 s"
    assert header in program_stderr
    watchdog_report = program_stderr[program_stderr.index(header) :]
    assert "cycle: 'handler-1' -> 'handler-2' -> 'handler-1'" in watchdog_report
    assert "waits to acquire Lock 'Lock-2' (held by 'handler-2')" in watchdog_report
    assert "examples/deadlock_server.py:" in watchdog_report
    # --detect-cycles logged the closing wait at once, through the logging module.
    assert "which closes a wait-for cycle" in program_stderr
    assert "Lock-1" in report


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="POSIX signals")
def test_ctrl_c_writes_the_report_and_dies_by_sigint(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "asyncprims",
            "trace",
            "--signal",
            "-o",
            "int.json",
            str(EXAMPLES / "echo_server.py"),
            "--seconds",
            "60",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("listening on")
        time.sleep(0.3)
        process.send_signal(signal.SIGUSR1)  # the on-demand report, while it runs
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGINT
    assert "asyncprims: report on signal SIGUSR1" in stderr
    assert "Traceback (most recent call last):" in stderr and "KeyboardInterrupt" in stderr
    program_stderr, report = _split_report(stderr)
    assert "_trace_cli" not in program_stderr
    assert "Semaphore-1" in report
    assert json.loads((tmp_path / "int.json").read_text())["traceEvents"]


@pytest.mark.plotting
def test_plot_writes_a_chart(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    _script(tmp_path, "")
    traced = _traced(["--plot", "chart.png", "-o", "t.json", "sub/prog.py"], tmp_path)
    assert traced.returncode == 0, traced.stderr
    assert "chart written to chart.png" in traced.stderr
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
