"""The exercises' checks: the notebooks' starter code fails with a reason, their hidden
solutions pass, and other typical mistakes are caught and explained.

The starter and solution cells are read from the stored notebooks (plain JSON, no
Jupyter needed), so these tests run on every Python.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import asyncprims as ap
from asyncprims import course

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

# notebook, the cell that imports, the starter cell, the check cell, the solution cell
EXERCISES = [
    ("01-lock", "lock-03", "lock-ex-05", "lock-ex-06", "lock-ex-08"),
    ("02-event", "event-03", "event-ex-05", "event-ex-06", "event-ex-08"),
    ("03-condition", "condition-03", "condition-ex-05", "condition-ex-06", "condition-ex-08"),
    ("04-queue", "queue-03", "queue-ex-05", "queue-ex-06", "queue-ex-08"),
    ("05-semaphore", "05-03", "05-ex-05", "05-ex-06", "05-ex-08"),
    ("06-barrier", "06-02", "06-ex-05", "06-ex-06", "06-ex-08"),
    ("07-queue-variants", "07-02", "07-ex-05", "07-ex-06", "07-ex-08"),
    ("10-classic-problems", "10-02", "10-14", "10-15", "10-17"),
    ("10-classic-problems", "10-02", "10-36", "10-37", "10-39"),
    ("10-classic-problems", "10-02", "10-47", "10-48", "10-50"),
]


def cell_source(notebook: str, cell_id: str) -> str:
    data = json.loads(next(NOTEBOOKS.glob(f"{notebook}*.ipynb")).read_text(encoding="utf-8"))
    for cell in data["cells"]:
        if cell.get("id") == cell_id:
            return "".join(cell["source"])
    raise KeyError(f"{notebook} has no cell {cell_id!r}")


def printed(run: Callable[[], Any]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run()
    return out.getvalue()


def run_cell(source: str, namespace: dict[str, Any]) -> str:
    return printed(lambda: exec(compile(source, "<cell>", "exec"), namespace))


@pytest.mark.parametrize(
    ("notebook", "imports", "starter", "check", "solution"),
    EXERCISES,
    ids=[f"{e[0][:2]}-{e[2]}" for e in EXERCISES],
)
def test_starter_fails_and_solution_passes(
    notebook: str, imports: str, starter: str, check: str, solution: str
) -> None:
    sources = [cell_source(notebook, cell) for cell in (imports, starter, check, solution)]
    if "TaskGroup" in "".join(sources) and not hasattr(asyncio, "TaskGroup"):
        pytest.skip("the exercise uses asyncio.TaskGroup (Python 3.11+)")
    namespace: dict[str, Any] = {"__name__": "exercise"}
    run_cell(sources[0], namespace)
    run_cell(sources[1], namespace)
    verdict = run_cell(sources[2], namespace)
    assert verdict.startswith("✘ not yet:\n  - "), verdict
    assert "✔" not in verdict
    verdict = run_cell(sources[3], namespace)
    assert verdict.startswith("✔ ") and "not yet" not in verdict, verdict


def verdict_of(check: Callable[..., None], *answers: Any) -> str:
    return printed(lambda: check(*answers))


async def print_without_lock(printer: ap.Lock, name: str, pages: int, paper: list[str]) -> None:
    for page in range(1, pages + 1):
        if name == "jammed" and page == 2:
            raise OSError("paper jam")
        paper.append(f"{name} p{page}")
        await asyncio.sleep(0.01)


def test_print_job_without_a_lock_is_interleaved() -> None:
    verdict = verdict_of(course.check_print_job, print_without_lock)
    assert "interleaved" in verdict and "printer lock is still taken" not in verdict


def test_ready_signal_polling_is_caught() -> None:
    def now() -> float:
        return asyncio.get_running_loop().time()

    async def server(ready: ap.Event, startup: float, log: list[Any]) -> None:
        await asyncio.sleep(startup)
        log.append((now(), "server ready"))
        ready.set()

    async def polling_client(ready: ap.Event, name: str, log: list[Any]) -> None:
        while not ready.is_set():
            await asyncio.sleep(0.03)
        log.append((now(), f"{name} sends"))

    verdict = verdict_of(course.check_ready_signal, server, polling_client)
    assert "after the server was ready" in verdict
    assert "not every client waited on the 'ready' event" in verdict


def test_downloads_under_one_permit_are_too_slow() -> None:
    async def one_permit_for_all(urls: list[str], fetch: Any) -> None:
        slots = ap.Semaphore(3)
        async with slots:
            for url in urls:
                await fetch(url)

    verdict = verdict_of(course.check_downloads, one_permit_for_all)
    assert "it took 0.8 s" in verdict


def test_philosophers_without_locks_eat_with_one_fork() -> None:
    async def grab_nothing(n: int, forks: list[ap.Lock], eat: Any) -> None:
        for _ in range(2):
            await asyncio.sleep(0.1)
            await eat(n)

    assert "ate at the same time" in verdict_of(course.check_philosophers, grab_nothing)


def test_rendezvous_without_waiting_is_caught() -> None:
    async def first(a_arrived: Any, b_arrived: Any, log: list[str]) -> None:
        log.append("a1")
        a_arrived.release()
        log.append("a2")

    async def second(a_arrived: Any, b_arrived: Any, log: list[str]) -> None:
        log.append("b1")
        b_arrived.release()
        log.append("b2")

    assert "a2 came before b1" in verdict_of(course.check_rendezvous, first, second)


def test_producer_that_loses_items_is_caught() -> None:
    async def forgets_to_announce(
        buffer: Any, empty: Any, full: Any, mutex: Any, items: Any
    ) -> None:
        for item in items:
            await empty.acquire()
            async with mutex:
                buffer.append(item)

    verdict = verdict_of(course.check_producer, forgets_to_announce)
    assert verdict.startswith("✘ not yet:") and "deadlock" in verdict


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [
        (None, "(no prediction made"),
        ("polite", "✔ Right: 'polite'."),
        ("greedy", "✘ not yet: you predicted 'greedy', the run says 'polite'."),
        ("Polite", "'Polite' is not one of the choices 'greedy', 'polite'."),
    ],
)
def test_reveal_says_how_the_prediction_fared(prediction: object, expected: str) -> None:
    shown = printed(
        lambda: course.reveal(prediction, "polite", "Why.", choices=("greedy", "polite"))
    )
    assert shown.startswith(expected), shown


def test_an_error_in_the_answer_is_reported_in_words() -> None:
    async def broken(*args: Any) -> None:
        raise KeyError("oops")

    verdict = verdict_of(course.check_worker, broken)
    assert verdict.startswith("✘ not yet:")
