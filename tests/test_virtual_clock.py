"""The virtual clock: exact deadlines at any magnitude, infinite timers, and the
rule for real work (the clock follows real time while real work is in flight).

Programs that used to hang run in a fresh interpreter (``run_isolated``), so a
regression fails one test instead of stalling the run.  Real-time checks use
generous margins and assert on behaviour, never on speed.
"""

from __future__ import annotations

import asyncio
import math
import ssl
import sys
import time
from typing import Any

import pytest
from _isolated import run_isolated
from _watchdog import run_guarded

import asyncprims
from asyncprims.clock import ClockedEventLoop

# -- 1. an integer clock: no deadline is ever stuck ------------------------------------


def test_a_short_sleep_after_fifty_days_returns() -> None:
    out = run_isolated(
        """
        import asyncio, asyncprims
        async def main():
            await asyncio.sleep(4320071.4)   # 50 days
            await asyncio.sleep(0.001)       # used to spin forever, one float short
            return asyncio.get_running_loop().time()
        print(asyncprims.run(main(), virtual_time=True))
        """,
        timeout=60,
    )
    assert float(out) == pytest.approx(4320071.401, abs=1e-6)


def test_deadlines_at_every_magnitude_are_reached() -> None:
    out = run_isolated(
        """
        import asyncio, random, asyncprims
        rng = random.Random(11)
        delays = [rng.uniform(1e6, 8e6) for _ in range(300)]  # ~2% used to stick
        delays += [2.0**24, 2.0**24 + 1e-9, 1e9, 1e12, 1e15, 1e300]
        async def main():
            loop = asyncio.get_running_loop()
            reached = 0
            for delay in delays:
                await asyncio.sleep(delay)
                await asyncio.sleep(1e-9)
                await asyncio.sleep(0.001)
                when = loop.time() + 0.25
                await asyncio.sleep(0.25)
                assert loop.time() >= when, (loop.time(), when)
                reached += 1
            return reached
        print(asyncprims.run(main(), virtual_time=True))
        """,
        timeout=120,
    )
    assert int(out) == 306


def test_call_at_any_float_fires_with_the_clock_at_or_past_it() -> None:
    out = run_isolated(
        """
        import asyncio, math, random, asyncprims
        rng = random.Random(3)
        targets = sorted(rng.uniform(0, 1e10) for _ in range(500))
        targets += [math.nextafter(targets[-1], math.inf), 2.0**53, 2.0**53 + 2]
        async def main():
            loop = asyncio.get_running_loop()
            fired = []
            done = loop.create_future()
            for target in targets:
                loop.call_at(target, lambda t=target: fired.append((t, loop.time())))
            loop.call_at(targets[-1], done.set_result, None)
            await done
            return fired
        fired = asyncprims.run(main(), virtual_time=True)
        assert [target for target, _ in fired] == targets
        assert all(now >= target for target, now in fired)
        print(len(fired))
        """,
        timeout=60,
    )
    assert int(out) == 503


def test_readback_stays_exact_for_small_steps() -> None:
    async def main() -> tuple[float, float]:
        for _ in range(3):
            await asyncio.sleep(0.1)
        first = asyncio.get_running_loop().time()
        for _ in range(10_000):
            await asyncio.sleep(0.0001)
        return first, asyncio.get_running_loop().time()

    assert asyncprims.run(main(), virtual_time=True) == (0.3, 1.3)


# -- 3. a timer at +inf is not a way to be woken -------------------------------------


@pytest.mark.parametrize("virtual", [True, False])
def test_a_timer_at_infinity_does_not_hide_a_deadlock(virtual: bool) -> None:
    out = run_isolated(
        f"""
        import asyncio, math, asyncprims
        async def main():
            asyncio.create_task(asyncio.sleep(math.inf), name="forever")
            asyncio.get_running_loop().call_at(math.inf, print, "never")
            await asyncprims.Event(name="go").wait()
        try:
            asyncprims.run(main(), virtual_time={virtual})
        except asyncprims.DeadlockError as error:
            print(error.report)
        """,
        timeout=60,
    )
    assert "task 'main' waits for Event 'go' to be set" in out
    assert "task 'forever'" in out
    assert "never" not in out


def test_a_finite_timer_beside_an_infinite_one_still_fires() -> None:
    async def main() -> float:
        forever = asyncio.create_task(asyncio.sleep(math.inf))
        event = asyncprims.Event()
        asyncio.get_running_loop().call_later(1e6, event.set)
        await event.wait()
        assert not forever.done()
        return asyncio.get_running_loop().time()

    assert asyncprims.run(main(), virtual_time=True) == 1e6


# -- 4. real work under virtual time ---------------------------------------------------

_SLOW_CHILD = "import sys, time; time.sleep({delay}); sys.stdout.write('done')"


async def _ticker() -> None:
    while True:
        await asyncio.sleep(0.001)


def test_virtual_clock_does_not_run_ahead_of_real_io_and_does_not_spin() -> None:
    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        ticker = asyncio.create_task(_ticker())
        sleeper = asyncio.create_task(asyncio.sleep(1e6))  # a far timer: no reason to wait
        started_real, started_cpu, started_virtual = (
            time.monotonic(),
            time.process_time(),
            loop.time(),
        )
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _SLOW_CHILD.format(delay=0.5), stdout=asyncio.subprocess.PIPE
        )
        output = await child.stdout.read()  # type: ignore[union-attr]
        await child.wait()
        real = time.monotonic() - started_real
        cpu = time.process_time() - started_cpu
        virtual = loop.time() - started_virtual
        ticker.cancel()
        sleeper.cancel()
        return {"output": output, "real": real, "cpu": cpu, "virtual": virtual}

    result = asyncprims.run(main(), virtual_time=True)
    assert result["output"] == b"done"
    assert result["real"] >= 0.5
    # The clock followed real time (it used to race 18 to 40 s ahead)...
    assert result["virtual"] <= result["real"] + 0.001
    # ...and the loop waited instead of spinning (it used to burn 100% CPU).
    assert result["cpu"] < 0.5 * result["real"]


@pytest.mark.parametrize("virtual", [True, False])
def test_a_timeout_on_real_io_fires_no_earlier_than_in_real_time(virtual: bool) -> None:
    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _SLOW_CHILD.format(delay=30), stdout=asyncio.subprocess.PIPE
        )
        started, started_loop = time.monotonic(), loop.time()
        try:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(child.stdout.read(), 0.5)  # type: ignore[union-attr]
            return time.monotonic() - started, loop.time() - started_loop
        finally:
            child.kill()
            await child.wait()

    real, on_loop_clock = asyncprims.run(main(), virtual_time=virtual)
    assert real >= 0.5 - 0.005  # the poll rounds its timeout up to the millisecond
    assert on_loop_clock >= 0.5 - 1e-6  # a timer is due within the clock's resolution


def test_tls_handshake_timeout_waits_in_real_time() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads the ClientHello, never answers
        writer.close()

    async def main() -> float:
        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        context = ssl.create_default_context()
        started = time.monotonic()
        try:
            with pytest.raises((asyncio.TimeoutError, ConnectionError)):
                await asyncio.open_connection(
                    "127.0.0.1",
                    port,
                    ssl=context,
                    server_hostname="localhost",
                    ssl_handshake_timeout=0.5,
                )
            return time.monotonic() - started
        finally:
            server.close()

    assert asyncprims.run(main(), virtual_time=True) >= 0.5 - 0.005


def test_executor_job_keeps_the_clock_in_step_with_real_time() -> None:
    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        started, started_loop = time.monotonic(), loop.time()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.to_thread(time.sleep, 2), 0.3)
        return time.monotonic() - started, loop.time() - started_loop

    real, virtual = asyncprims.run(main(), virtual_time=True)
    assert real >= 0.3 - 0.005
    assert 0.3 - 1e-6 <= virtual <= real + 0.001


def test_the_clock_jumps_again_once_real_work_is_over() -> None:
    async def main() -> tuple[float, float]:
        await asyncio.to_thread(time.sleep, 0.05)
        started = time.monotonic()
        await asyncio.sleep(3600)
        return time.monotonic() - started, asyncio.get_running_loop().time()

    real, virtual = run_guarded(main, virtual_time=True)
    assert virtual >= 3600
    assert real < 30  # an hour of virtual time, not of real time


def test_a_signal_handler_alone_does_not_slow_the_clock() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        import signal

        loop.add_signal_handler(signal.SIGUSR1, lambda: None)
        try:
            started = time.monotonic()
            await asyncio.sleep(3600)
            return time.monotonic() - started
        finally:
            loop.remove_signal_handler(signal.SIGUSR1)

    assert run_guarded(main, virtual_time=True) < 30


def test_the_resolution_makes_the_earliest_timer_due() -> None:
    loop = ClockedEventLoop(virtual_time=True)
    try:
        for deadline in (0.3, 4320071.401, 2.0**23 + 1e-9, 1e9 + 0.001, 1e300):
            loop._jump_to(deadline)
            assert loop.time() + loop._clock_resolution > deadline
            assert loop._clock_resolution <= max(2e-9, 2 * math.ulp(loop.time()))
    finally:
        loop.close()
