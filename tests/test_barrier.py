"""Barrier: asyncio's (3.11+) behaviour on every Python from 3.10, plus statistics()."""

from __future__ import annotations

import asyncio
import re
import sys

import pytest
import scenarios
from scenarios import run_with_timeout as run

import asyncprims

RGX_EXTRAS = re.compile(r"^<asyncprims\.barrier\.Barrier object at 0x[0-9a-f]+ \[(.*)\]>\Z")


def extras(barrier: asyncprims.Barrier) -> str:
    match = RGX_EXTRAS.match(repr(barrier))
    assert match, repr(barrier)
    return match.group(1)


def test_broken_barrier_error_class() -> None:
    if sys.version_info >= (3, 11):
        assert asyncprims.BrokenBarrierError is asyncio.BrokenBarrierError
    else:
        assert not hasattr(asyncio, "BrokenBarrierError")
        assert issubclass(asyncprims.BrokenBarrierError, RuntimeError)
        assert asyncprims.BrokenBarrierError.__module__ == "asyncprims"


@pytest.mark.parametrize("parties", [0, -1])
def test_parties_must_be_positive(parties: int) -> None:
    with pytest.raises(ValueError) as ours:
        asyncprims.Barrier(parties)
    assert str(ours.value) == "parties must be > 0"
    if hasattr(asyncio, "Barrier"):
        with pytest.raises(ValueError) as theirs:
            asyncio.Barrier(parties)
        assert str(theirs.value) == str(ours.value)


def test_wait_returns_arrival_index_and_cycles() -> None:
    async def main() -> None:
        barrier = asyncprims.Barrier(3, name="gate")
        assert barrier.name == "gate" and "gate" not in repr(barrier)
        assert barrier.parties == 3
        assert extras(barrier) == "filling, waiters:0/3"
        for _round in range(2):
            tasks = [asyncio.create_task(barrier.wait()) for _ in range(2)]
            await asyncio.sleep(0)
            assert barrier.n_waiting == 2
            assert extras(barrier) == "filling, waiters:2/3"
            assert barrier.statistics() == asyncprims.BarrierStatistics(3, 2, "filling", 2)
            async with barrier as index:
                assert index == 2
                assert extras(barrier) == "draining, waiters:0/3"
                assert barrier.statistics().state == "draining"
            assert sorted(await asyncio.gather(*tasks)) == [0, 1]
            assert extras(barrier) == "filling, waiters:0/3"

    run(main())


def test_single_party_barrier_never_blocks() -> None:
    async def main() -> list[int]:
        barrier = asyncprims.Barrier(1)
        return [await barrier.wait() for _ in range(3)]

    assert run(main()) == [0, 0, 0]


def test_abort_breaks_current_and_future_waits() -> None:
    async def main() -> None:
        barrier = asyncprims.Barrier(3)
        tasks = [asyncio.create_task(barrier.wait()) for _ in range(2)]
        await asyncio.sleep(0)
        await barrier.abort()
        assert barrier.broken
        assert extras(barrier) == "broken"
        assert barrier.statistics().state == "broken"
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncprims.BrokenBarrierError) for r in results)
        with pytest.raises(asyncprims.BrokenBarrierError):
            await barrier.wait()
        await barrier.reset()
        assert not barrier.broken
        assert extras(barrier) == "filling, waiters:0/3"

    run(main())


def test_reset_while_waiting() -> None:
    async def main() -> None:
        barrier = asyncprims.Barrier(3)
        tasks = [asyncio.create_task(barrier.wait()) for _ in range(2)]
        await asyncio.sleep(0)
        await barrier.reset()
        assert extras(barrier) == "resetting, waiters:0/3"
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncprims.BrokenBarrierError) for r in results)
        assert extras(barrier) == "filling, waiters:0/3"
        # Usable again.
        tasks = [asyncio.create_task(barrier.wait()) for _ in range(3)]
        assert sorted(await asyncio.gather(*tasks)) == [0, 1, 2]

    run(main())


def test_cancelled_waiter_leaves_the_count() -> None:
    async def main() -> None:
        barrier = asyncprims.Barrier(2)
        first = asyncio.create_task(barrier.wait())
        await asyncio.sleep(0)
        assert barrier.n_waiting == 1
        assert barrier.statistics().tasks_waiting == 1
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        assert barrier.n_waiting == 0
        assert barrier.statistics() == asyncprims.BarrierStatistics(2, 0, "filling", 0)
        results = await asyncio.gather(barrier.wait(), barrier.wait())
        assert sorted(results) == [0, 1]

    run(main())


def test_newcomers_wait_while_draining() -> None:
    async def main() -> list[str]:
        barrier = asyncprims.Barrier(2)
        log: list[str] = []

        async def party(name: str) -> None:
            index = await barrier.wait()
            log.append(f"{name}:{index}")

        tasks = [asyncio.create_task(party(f"t{i}")) for i in range(4)]
        await asyncio.gather(*tasks)
        return log

    log = run(main())
    assert sorted(log) == ["t0:0", "t1:1", "t2:0", "t3:1"]


def test_cancelling_waiters_newest_first_is_linear() -> None:
    small, large = (scenarios.cancellation_work(asyncprims, "Barrier", n) for n in (100, 400))
    assert small <= 3 * 100
    assert large <= 3 * 400
    if hasattr(asyncio, "Barrier"):
        theirs = [scenarios.cancellation_work(asyncio, "Barrier", n) for n in (100, 400)]
        assert theirs[1] >= 12 * theirs[0]
