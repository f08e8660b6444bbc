"""Checks for the exercises of notebooks 01 (Lock), 02 (Event) and 03 (Condition).

Each ``check_*`` takes the reader's coroutine function, runs it in a fixed
scenario (virtual time, traced) and prints a verdict.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

from ..locks import Condition, Event, Lock
from ._check import Verdict, attempt

AsyncFunction = Callable[..., Coroutine[Any, Any, Any]]

JOBS = (("alice", 3), ("jammed", 3), ("bob", 2))


def check_print_job(print_job: AsyncFunction) -> None:
    """01: ``print_job(printer, name, pages, paper)`` prints a job's pages as one block,
    and a job that jams (``OSError``) must not leave the printer locked."""
    printer = Lock(name="printer")
    paper: list[str] = []

    async def office() -> list[Any]:
        jobs = [
            asyncio.create_task(print_job(printer, name, pages, paper), name=name)
            for name, pages in JOBS
        ]
        return await asyncio.gather(*jobs, return_exceptions=True)

    run = attempt(office)
    verdict = Verdict("every job printed as one block, the jam raised, the printer is free")
    verdict.expect(run.error is None, run.problem_with_error() or "")
    blocks = [line.split()[0] for line in paper]
    changes = sum(1 for a, b in itertools.pairwise(blocks) if a != b)
    verdict.expect(
        changes <= len(JOBS) - 1,
        f"pages of different jobs are interleaved on the paper: {paper}; "
        "a job must hold the printer while it prints all its pages",
    )
    verdict.expect(
        paper.count("bob p2") == 1 and paper.count("alice p3") == 1,
        "alice's and bob's jobs did not print all their pages",
    )
    results = run.result or []
    verdict.expect(
        any(isinstance(result, OSError) for result in results),
        "the paper jam's OSError did not reach the caller: do not swallow it",
    )
    verdict.expect(
        not printer.locked(),
        "the printer lock is still taken at the end: the jammed job never "
        "released it (use 'async with printer:', which releases on errors too)",
    )
    verdict.report()


def check_ready_signal(server: AsyncFunction, client: AsyncFunction) -> None:
    """02: ``server(ready, startup, log)`` gets ready after ``startup`` seconds;
    ``client(ready, name, log)`` sends only once the server is ready."""
    verdict = Verdict(
        "every client waited for the event and sent right after the server "
        "was ready, whatever its start-up time"
    )
    for startup in (0.2, 0.35):
        ready = Event(name="ready")
        log: list[tuple[float, str]] = []

        async def both(
            startup: float = startup, ready: Event = ready, log: list[tuple[float, str]] = log
        ) -> None:
            tasks = [asyncio.create_task(server(ready, startup, log), name="server")]
            tasks += [
                asyncio.create_task(client(ready, f"client {n}", log), name=f"client {n}")
                for n in range(3)
            ]
            await asyncio.gather(*tasks)

        run = attempt(both)
        if not verdict.expect(run.error is None, run.problem_with_error() or ""):
            break
        ready_at = next((time for time, what in log if what == "server ready"), None)
        if ready_at is None:
            verdict.expect(False, "the server never logged 'server ready'")
            break
        sends = [(time, what) for time, what in log if what.endswith("sends")]
        verdict.expect(len(sends) == 3, f"expected 3 clients to send, saw {len(sends)}")
        for time, what in sends:
            verdict.expect(
                time >= ready_at,
                f"with a {startup} s start-up, {what[:-6]} sent at "
                f"{time:.2f} s, before the server was ready at {ready_at:.2f} s",
            )
            verdict.expect(
                time <= ready_at,
                f"with a {startup} s start-up, {what[:-6]} sent at "
                f"{time:.2f} s, {time - ready_at:.2f} s after the server was ready: "
                "a fixed sleep guesses, an event knows",
            )
        woken = {
            span.task
            for span in run.spans("waiting")
            if span.primitive == "ready" and span.woken_by == "server"
        }
        verdict.expect(
            len(woken) == 3,
            "not every client waited on the 'ready' event and was woken by the server's set()",
        )
        if verdict.problems:
            break
    verdict.report()


def check_customers(customer: AsyncFunction) -> None:
    """03: ``customer(shop, stock, wants, basket)`` takes ``wants`` items from ``stock``
    once there are enough; a supplier adds one item every 0.1 s and calls notify_all()."""
    shop = Condition(name="shop")
    stock: list[str] = []
    baskets: dict[str, list[str]] = {"ann": [], "ben": []}
    wants = {"ann": 2, "ben": 1}

    async def day() -> None:
        async def supplier() -> None:
            for n in range(3):
                await asyncio.sleep(0.1)
                async with shop:
                    stock.append(f"loaf {n}")
                    shop.notify_all()

        tasks = [
            asyncio.create_task(customer(shop, stock, wants[name], baskets[name]), name=name)
            for name in baskets
        ]
        tasks.append(asyncio.create_task(supplier(), name="supplier"))
        await asyncio.gather(*tasks)

    run = attempt(day)
    verdict = Verdict(
        "each customer waited until the shelf held enough, then took exactly what it wanted"
    )
    if isinstance(run.error, IndexError):
        verdict.expect(
            False,
            "a customer took from an empty shelf (IndexError): waking up "
            "does not mean there is enough stock; wait until it is true "
            "(wait_for with a predicate)",
        )
    else:
        verdict.expect(run.error is None, run.problem_with_error() or "")
    for name, basket in baskets.items():
        verdict.expect(
            len(basket) == wants[name], f"{name} wanted {wants[name]} item(s) and got {len(basket)}"
        )
    verdict.expect(not shop.locked(), "the shop's lock is still held at the end")
    verdict.report()
