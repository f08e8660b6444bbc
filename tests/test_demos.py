"""The article's scenarios print the article's transcripts, and the CLI runs them."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import asyncprims
from asyncprims.demos import DEMOS, run_demo

ARTICLE = Path(__file__).parent / "data" / "article"
ARTICLE_DEMOS = sorted(name for name, demo in DEMOS.items() if demo.from_article)
# The names whose first appearance may be ordered differently (set iteration in the article).
NAME_PATTERNS = {
    "event": r"coro\d+",
    "condition": r"consumer \d+",
    "queue": r"consumer \d+",
    "lock": r"coro\d+",
}


def article_lines(name: str) -> list[str]:
    return (ARTICLE / f"{name}.txt").read_text().splitlines()


def first_appearances(lines: list[str], pattern: str) -> list[str]:
    seen: list[str] = []
    for line in lines:
        for found in re.findall(pattern, line):
            if found not in seen:
                seen.append(found)
    return seen


def expected_for(name: str, ours: list[str]) -> list[str]:
    """The article's transcript with its start order replaced by ours.

    Only a consistent renaming is allowed: the k-th name to appear in the
    article becomes the k-th name to appear in ours.
    """
    pattern = NAME_PATTERNS[name]
    theirs = article_lines(name)
    mapping = dict(zip(first_appearances(theirs, pattern), first_appearances(ours, pattern)))
    return [re.sub(pattern, lambda m: mapping[m.group(0)], line) for line in theirs]


def transcript_of(coro: object, runner: object) -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            runner(coro)  # type: ignore[operator]
        except asyncprims.DeadlockError as error:  # the deadlock demo ends so
            print(error.report)
    return out.getvalue().splitlines()


@pytest.mark.parametrize("name", ARTICLE_DEMOS)
def test_scenario_prints_the_article_transcript(name: str) -> None:
    ours = transcript_of(DEMOS[name].scenario(), lambda c: asyncprims.run(c, virtual_time=True))
    assert ours == expected_for(name, ours)


@pytest.mark.parametrize("name", ["lock", "queue"])
def test_fixed_order_scenarios_match_word_for_word(name: str) -> None:
    ours = transcript_of(DEMOS[name].scenario(), lambda c: asyncprims.run(c, virtual_time=True))
    assert ours == article_lines(name)


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_asyncio_prints_the_same_transcript(name: str) -> None:
    """The scenarios are plain asyncio code: asyncio's classes give the same lines."""
    if name == "barrier" and not hasattr(asyncio, "Barrier"):
        pytest.skip("asyncio.Barrier arrived in Python 3.11")
    ours = transcript_of(DEMOS[name].scenario(), lambda c: asyncprims.run(c, virtual_time=True))
    theirs = transcript_of(
        DEMOS[name].scenario(asyncio), lambda c: asyncprims.run(c, virtual_time=True)
    )
    # A deadlock report names asyncprims primitives only: compare what came before it.
    assert ours[: len(ours) - report_length(ours)] == theirs[: len(theirs) - report_length(theirs)]
    assert ours[:4] == theirs[:4]


def report_length(lines: list[str]) -> int:
    """How many of the last lines are a DeadlockError report (0 if none)."""
    starts = [i for i, line in enumerate(lines) if line.startswith("deadlock: ")]
    return len(lines) - starts[-1] if starts else 0


def test_condition_start_order_is_the_only_difference() -> None:
    ours = transcript_of(
        DEMOS["condition"].scenario(), lambda c: asyncprims.run(c, virtual_time=True)
    )
    assert first_appearances(ours, r"consumer \d+") == [f"consumer {n}" for n in range(5)]
    assert first_appearances(article_lines("condition"), r"consumer \d+") == [
        "consumer 3",
        "consumer 1",
        "consumer 2",
        "consumer 0",
        "consumer 4",
    ]


def test_run_demo_returns_a_timeline_of_the_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    timeline = run_demo("lock")
    assert "coro1 acquired lock" in capsys.readouterr().out
    waits = [(s.task, s.start, s.end) for s in timeline.spans() if s.state == "waiting"]
    assert ("coro1", 0.0, pytest.approx(0.1)) in waits
    assert ("coro2", 0.0, pytest.approx(0.1)) in waits
    with pytest.raises(ValueError, match="unknown demo 'nope'"):
        run_demo("nope")


def test_run_demo_parameters_reach_the_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    run_demo("event", waiters=3)
    assert "coro3 triggered" in capsys.readouterr().out


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asyncprims", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def test_cli_prints_transcript_and_text_timeline() -> None:
    done = _cli("demo", "queue")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[: len(article_lines("queue"))] == article_lines("queue")
    assert "producer" in done.stdout[len("\n".join(article_lines("queue"))) :]
    assert done.stderr == ""


def test_cli_writes_a_chrome_trace(tmp_path: Path) -> None:
    target = tmp_path / "lock.json"
    done = _cli("demo", "lock", "--trace", str(target))
    assert done.returncode == 0, done.stderr
    trace = json.loads(target.read_text())
    assert {event["ph"] for event in trace["traceEvents"]} >= {"X", "M"}


@pytest.mark.plotting
def test_cli_writes_a_chart(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "condition.png"
    done = _cli("demo", "condition", "--plot", str(target))
    assert done.returncode == 0, done.stderr
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_rejects_an_unknown_demo() -> None:
    done = _cli("demo", "spinlock")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr


def test_cli_rejects_a_width_below_one() -> None:
    done = _cli("demo", "lock", "--width", "0")
    assert done.returncode == 2
    assert "--width must be a positive integer" in done.stderr
    assert "Traceback" not in done.stderr
