"""Checks for the exercises of notebooks 04 (Queue), 05 (Semaphore), 06 (Barrier)
and 07 (Queue variants).

Each ``check_*`` takes the reader's coroutine function, runs it in a fixed
scenario (virtual time, traced) and prints a verdict.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..barrier import Barrier
from ..queues import Queue
from ._check import Verdict, attempt
from .signals import AsyncFunction


def check_worker(worker: AsyncFunction) -> None:
    """04: ``worker(jobs, done)`` handles jobs forever; a job that raises ``ValueError``
    must still count as handled, so ``jobs.join()`` returns."""
    jobs: Queue[int] = Queue(name="jobs")
    done: list[int] = []

    async def boss() -> None:
        crew = [asyncio.create_task(worker(jobs, done), name=f"worker {n}") for n in range(2)]
        for job in range(5):
            jobs.put_nowait(job)
        joined = asyncio.create_task(jobs.join(), name="boss: join")
        # join() returns, or a worker ends (a worker should loop until cancelled)
        await asyncio.wait([joined, *crew], return_when=asyncio.FIRST_COMPLETED)
        for task in [joined, *crew]:
            task.cancel()
        ended = await asyncio.gather(*crew, return_exceptions=True)
        crashed = [result for result in ended if isinstance(result, Exception)]
        if crashed:
            raise crashed[0]

    run = attempt(boss)
    verdict = Verdict("join() returned: every job, failed or not, was marked done")
    verdict.expect_ended(
        run,
        "join() never returned: some job was taken with get() but never "
        "marked with task_done() (a job that fails must be marked too: "
        "call task_done() in a finally: block)",
    )
    stats = jobs.statistics()
    verdict.expect(
        stats.unfinished_tasks == 0,
        f"{stats.unfinished_tasks} job(s) are still unfinished at the end",
    )
    verdict.expect(
        sorted(done) == [0, 1, 2, 4],
        f"the jobs handled successfully should be [0, 1, 2, 4], not {sorted(done)}",
    )
    verdict.report()


def check_downloads(download_all: AsyncFunction) -> None:
    """05: ``download_all(urls, fetch)`` fetches every URL, at most 3 at a time
    (each ``await fetch(url)`` takes 0.1 s), as fast as that limit allows."""
    in_flight = 0
    most = 0
    fetched: list[str] = []

    async def fetch(url: str) -> str:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await asyncio.sleep(0.1)
        finally:
            in_flight -= 1
        fetched.append(url)
        return f"<page {url}>"

    urls = [f"/page/{n}" for n in range(8)]

    async def main() -> float:
        await download_all(urls, fetch)
        return asyncio.get_running_loop().time()

    run = attempt(main)
    verdict = Verdict("8 pages fetched, never more than 3 at once, in 0.3 s")
    verdict.expect(run.error is None, run.problem_with_error() or "")
    verdict.expect(
        sorted(fetched) == sorted(urls), f"{len(fetched)} of the {len(urls)} pages were fetched"
    )
    verdict.expect(
        most <= 3,
        f"{most} fetches ran at the same time; the limit is 3 "
        "(share one Semaphore(3) between all downloads)",
    )
    if run.error is None and most <= 3 and run.result is not None:
        verdict.expect(
            run.result <= 0.3 + 1e-9,
            f"it took {run.result:.1f} s; with 3 at a time it takes 0.3 s "
            "(hold a permit only around one fetch, not around the whole loop)",
        )
    verdict.report()


def check_phases(stage: AsyncFunction) -> None:
    """06: ``stage(n, barrier, log)`` runs two phases (``await work(n, phase)``) and
    nobody starts phase 2 before everyone has finished phase 1; the last stage to
    finish each phase (and only it) logs ``"report"``."""
    parties = 3
    barrier = Barrier(parties, name="phase line")
    log: list[str] = []

    async def crew() -> None:
        await asyncio.gather(
            *(
                asyncio.create_task(stage(n, barrier, log), name=f"stage {n}")
                for n in range(parties)
            )
        )

    run = attempt(crew)
    verdict = Verdict(
        "phase 2 started only after every stage finished phase 1, "
        "and exactly one report was written per phase"
    )
    verdict.expect(run.error is None, run.problem_with_error() or "")
    starts_2 = [i for i, line in enumerate(log) if line.startswith("start 2")]
    ends_1 = [i for i, line in enumerate(log) if line.startswith("end 1")]
    verdict.expect(
        len(ends_1) == parties and len(starts_2) == parties,
        "every stage should log 'end 1 ...' and 'start 2 ...' (use work())",
    )
    if ends_1 and starts_2:
        verdict.expect(
            max(ends_1) < min(starts_2),
            f"'{log[min(starts_2)]}' came before '{log[max(ends_1)]}': wait at "
            "the barrier between the phases",
        )
    reports = [line for line in log if line.startswith("report")]
    verdict.expect(
        len(reports) == 2,
        f"expected 2 reports (one per phase), saw {len(reports)}: "
        "let the arrival index that wait() returns pick one stage",
    )
    verdict.report()


async def work(n: int, phase: int, log: list[str]) -> None:
    """06's unit of work: stage ``n`` needs ``(n + 1) * 0.05`` s for a phase."""
    log.append(f"start {phase} (stage {n})")
    await asyncio.sleep(0.05 * (n + 1))
    log.append(f"end {phase} (stage {n})")


def check_kitchen(kitchen: AsyncFunction) -> None:
    """07: ``kitchen(orders, cooked)`` puts the orders in a queue, runs two cooks that
    append what they cook to ``cooked``, and returns once both cooks have gone home."""
    orders = ["soup", "salad", "pasta", "pie", "tea"]
    cooked: list[str] = []

    async def evening() -> Any:
        return await kitchen(list(orders), cooked)

    run = attempt(evening)
    verdict = Verdict("every order was cooked exactly once and both cooks went home")
    verdict.expect_ended(
        run,
        "a cook is still waiting for orders that will never come: "
        "close the queue with shutdown() once every order is in "
        "(or send one stop signal per cook)",
    )
    verdict.expect(
        sorted(cooked) == sorted(orders), f"cooked {cooked}, expected each of {orders} once"
    )
    leftover = [span.task for span in run.spans("waiting") if span.open]
    verdict.expect(not leftover, f"still waiting at the end: {', '.join(leftover)}")
    verdict.report()


__all__ = ["check_downloads", "check_kitchen", "check_phases", "check_worker", "work"]
