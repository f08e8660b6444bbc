"""Soak test for ``asyncprims.run()``: random programs mixing virtual sleeps (up to
1e9 s), real subprocesses, localhost sockets, executor jobs and threads, some with
a deadlock planted in them.

Each program is generated from its seed alone, runs in a worker process, and
must either finish with every actor's result checked, or, when a deadlock was
planted, raise :class:`asyncprims.DeadlockError` naming the planted primitives.
A false deadlock, a missed one, a wrong result and a hang (no answer within
``--timeout`` seconds: the worker is killed and restarted) are failures.

    python tests/soak.py --programs 1000          # the full soak (make soak)
    python tests/soak.py --programs 40 --first 7  # a sample

Workers print one JSON line per program; the parent enforces the timeouts.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import math
import os
import queue
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

#: A pool that exists before any program runs: its threads are not "new".
_OLD_POOL = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="soak-old-pool")
_CHILD = "import sys, time; time.sleep({delay}); sys.stdout.write({token!r})"
_PLANTS = ("lock-cycle", "event", "queue", "event-with-infinite-timer")


@dataclass
class Program:
    """One random program: which actors run beside each other, on which clock."""

    seed: int
    virtual: bool
    actors: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    plant: str | None = None


def generate(seed: int) -> Program:
    rng = random.Random(seed)
    program = Program(seed, virtual=rng.random() < 0.7)
    kinds = [
        "sleeps",
        "subprocess",
        "socket",
        "executor",
        "old-pool",
        "thread-callback",
        "thread-coroutine",
        "primitives",
        "wait-for-real",
        "timeout-on-real",
    ]
    for _ in range(rng.randint(1, 5)):
        kind = rng.choice(kinds)
        delay = round(rng.uniform(0, 0.08), 3)
        params: dict[str, Any] = {"delay": delay, "token": f"{kind}-{rng.randrange(10**6)}"}
        if kind == "sleeps":
            top = 9 if program.virtual else -1.5  # log10 of the longest sleep
            params["sleeps"] = [10 ** rng.uniform(-6, top) for _ in range(rng.randint(1, 6))]
        elif kind == "thread-callback":
            params["daemon"] = rng.random() < 0.5
        elif kind == "primitives":
            params["items"] = rng.randint(1, 20)
            params["step"] = 10 ** rng.uniform(-3, 6 if program.virtual else -2)
        program.actors.append((kind, params))
    if rng.random() < 0.3:
        program.plant = rng.choice(_PLANTS)
    return program


# -- the actors: each does real or virtual work and checks its own result -----------------


async def _sleeps(params: dict[str, Any]) -> str:
    loop = asyncio.get_running_loop()
    for delay in params["sleeps"]:
        deadline = loop.time() + delay
        await asyncio.sleep(delay)
        slack = max(2e-9, 2 * math.ulp(deadline))
        assert loop.time() >= deadline - slack, (loop.time(), deadline)
    return params["token"]


async def _subprocess(params: dict[str, Any]) -> str:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-S", "-c", _CHILD.format(**params), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await child.communicate()
    assert child.returncode == 0
    return out.decode()


async def _socket(params: dict[str, Any]) -> str:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.readline()
        await asyncio.sleep(params["delay"])
        writer.write(data)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(params["token"].encode() + b"\n")
        await writer.drain()
        line = await reader.readline()
        writer.close()
        return line.decode().strip()
    finally:
        server.close()
        await server.wait_closed()


def _blocking_job(params: dict[str, Any]) -> str:
    time.sleep(params["delay"])
    return str(params["token"])


async def _executor(params: dict[str, Any]) -> str:
    return await asyncio.to_thread(_blocking_job, params)


async def _old_pool(params: dict[str, Any]) -> str:
    return await asyncio.wrap_future(_OLD_POOL.submit(_blocking_job, params))


async def _thread_callback(params: dict[str, Any]) -> str:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def body() -> None:
        loop.call_soon_threadsafe(future.set_result, _blocking_job(params))

    threading.Thread(target=body, daemon=params["daemon"]).start()
    return await future


async def _thread_coroutine(params: dict[str, Any]) -> str:
    import asyncprims

    loop = asyncio.get_running_loop()
    inbox: asyncprims.Queue[str] = asyncprims.Queue()
    threading.Thread(
        target=lambda: asyncio.run_coroutine_threadsafe(
            inbox.put(_blocking_job(params)), loop
        ).result()
    ).start()
    return await inbox.get()


async def _primitives(params: dict[str, Any]) -> str:
    import asyncprims

    lock = asyncprims.Lock()
    items: asyncprims.Queue[int] = asyncprims.Queue(maxsize=3)
    done = asyncprims.Event()
    total = []

    async def producer() -> None:
        for item in range(params["items"]):
            async with lock:
                await asyncio.sleep(params["step"])
            await items.put(item)
        await items.join()
        done.set()

    async def consumer() -> None:
        while not done.is_set():
            try:
                item = await asyncio.wait_for(items.get(), params["step"] * 10 + 1)
            except asyncio.TimeoutError:
                continue
            total.append(item)
            items.task_done()

    await asyncio.gather(producer(), consumer())
    assert sorted(total) == list(range(params["items"])), total
    return params["token"]


async def _wait_for_real(params: dict[str, Any]) -> str:
    # A generous timeout around real work must not fire, whatever the clock.
    return await asyncio.wait_for(_executor(params), 30)


async def _timeout_on_real(params: dict[str, Any]) -> str:
    # A short timeout around slower real work fires, but no earlier than in real time.
    started = time.monotonic()
    try:
        await asyncio.wait_for(asyncio.to_thread(time.sleep, 0.2), 0.05)
    except asyncio.TimeoutError:
        assert time.monotonic() - started >= 0.045, time.monotonic() - started
        return params["token"]
    raise AssertionError("the timeout did not fire")


_ACTORS: dict[str, Callable[[dict[str, Any]], Awaitable[str]]] = {
    "sleeps": _sleeps,
    "subprocess": _subprocess,
    "socket": _socket,
    "executor": _executor,
    "old-pool": _old_pool,
    "thread-callback": _thread_callback,
    "thread-coroutine": _thread_coroutine,
    "primitives": _primitives,
    "wait-for-real": _wait_for_real,
    "timeout-on-real": _timeout_on_real,
}


def _planted(plant: str) -> tuple[list[Callable[[], Awaitable[Any]]], list[str]]:
    """Coroutines that deadlock by themselves, and the names the report must mention."""
    import asyncprims

    if plant == "lock-cycle":
        first, second = asyncprims.Lock(name="planted-a"), asyncprims.Lock(name="planted-b")

        async def take(one: asyncprims.Lock, other: asyncprims.Lock) -> None:
            async with one:
                await asyncio.sleep(0.001)
                async with other:
                    pass

        return [lambda: take(first, second), lambda: take(second, first)], ["planted-a"]
    if plant == "queue":
        inbox: asyncprims.Queue[int] = asyncprims.Queue(name="planted-queue")
        return [inbox.get], ["planted-queue"]
    event = asyncprims.Event(name="planted-event")
    waits: list[Callable[[], Awaitable[Any]]] = [event.wait]
    if plant == "event-with-infinite-timer":
        waits.append(lambda: asyncio.sleep(math.inf))
    return waits, ["planted-event"]


def run_program(program: Program) -> dict[str, Any]:
    """Run one program in this process; the outcome as a JSON-able dict."""
    import asyncprims

    expected = [params["token"] for _, params in program.actors]
    names: list[str] = []

    async def main() -> list[str]:
        stuck: list[asyncio.Task[Any]] = []
        if program.plant is not None:  # blocked while the real work goes on
            makers, names[:] = _planted(program.plant)
            stuck = [asyncio.create_task(make()) for make in makers]  # type: ignore[arg-type]
        results = list(
            await asyncio.gather(*(_ACTORS[kind](params) for kind, params in program.actors))
        )
        assert results == expected, f"{results!r} != {expected!r}"
        await asyncio.gather(*stuck)  # the deadlock, once the real work is over
        return results

    started = time.monotonic()
    outcome: dict[str, Any] = {"seed": program.seed, "plant": program.plant}
    try:
        results = asyncprims.run(main(), virtual_time=program.virtual)
    except asyncprims.DeadlockError as error:
        missing = [name for name in names if name not in error.report]
        outcome["status"] = "deadlock" if program.plant and not missing else "false-deadlock"
        outcome["detail"] = error.report
    except BaseException as error:  # noqa: BLE001 - every failure is reported
        outcome["status"] = "error"
        outcome["detail"] = f"{type(error).__name__}: {error}"
    else:
        good = results == expected and program.plant is None
        outcome["status"] = "ok" if good else ("missed-deadlock" if program.plant else "wrong")
        outcome["detail"] = "" if good else f"{results!r} != {expected!r}"
    outcome["seconds"] = round(time.monotonic() - started, 3)
    return outcome


def _worker(seeds: list[int]) -> None:
    for seed in seeds:
        print(json.dumps(run_program(generate(seed))), flush=True)


# -- the parent: workers, timeouts, summary --------------------------------------------------


@dataclass
class SoakResult:
    outcomes: list[dict[str, Any]]
    seconds: float

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [o for o in self.outcomes if o["status"] not in ("ok", "deadlock")]

    def summary(self) -> str:
        counts = Counter(outcome["status"] for outcome in self.outcomes)
        slowest = max((o.get("seconds", 0) for o in self.outcomes), default=0)
        parts = ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))
        return (
            f"{len(self.outcomes)} programs in {self.seconds:.1f} s ({parts}); "
            f"slowest program {slowest:.2f} s"
        )


def _run_worker(seeds: list[int], timeout: float, results: list[dict[str, Any]]) -> None:
    """Run ``seeds`` in worker processes, one at a time, restarting after a hang."""
    remaining = list(seeds)
    while remaining:
        child = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", ",".join(map(str, remaining))],
            stdout=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def read(stream: Any = child.stdout, lines: queue.Queue[str | None] = lines) -> None:
            for line in stream:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        while remaining:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                child.kill()
                results.append(
                    {
                        "seed": remaining.pop(0),
                        "status": "hang",
                        "detail": f"no answer within {timeout} s",
                    }
                )
                break
            if line is None:  # the worker died
                results.append(
                    {
                        "seed": remaining.pop(0),
                        "status": "crash",
                        "detail": f"worker exited with {child.wait()}",
                    }
                )
                break
            outcome = json.loads(line)
            remaining.remove(outcome["seed"])
            results.append(outcome)
        child.wait()


def run_soak(programs: int, first: int = 0, workers: int = 2, timeout: float = 60.0) -> SoakResult:
    """Run seeds ``first .. first + programs - 1`` over ``workers`` processes."""
    started = time.monotonic()
    seeds = list(range(first, first + programs))
    results: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=_run_worker, args=(seeds[i::workers], timeout, results))
        for i in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return SoakResult(sorted(results, key=lambda o: o["seed"]), time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=1000)
    parser.add_argument("--first", type=int, default=0, help="first seed")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds a program may take before it counts as hung",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        _worker([int(seed) for seed in args.worker.split(",")])
        return 0
    result = run_soak(args.programs, args.first, args.workers, args.timeout)
    print(result.summary())
    for failure in result.failures:
        print(json.dumps(failure))
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
