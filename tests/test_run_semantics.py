"""run() and the tracer across runs: an error raised after Ctrl-C stays visible,
nested runs tell their main tasks apart, and a trace spanning runs on different
clocks says so."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import warnings
from typing import Any

import pytest

import asyncprims

main_thread_only = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signals reach the main thread only",
)


# -- 7. after SIGINT, an error raised while being cancelled propagates -----------------------


def _raises_while_cancelled() -> Any:
    async def main() -> None:
        asyncio.get_running_loop().call_later(0.05, signal.raise_signal, signal.SIGINT)
        try:
            await asyncio.sleep(3600)
        finally:
            raise ValueError("cleanup failed")

    return main


@main_thread_only
@pytest.mark.parametrize("virtual", [True, False])
def test_an_error_raised_while_interrupted_is_not_swallowed(virtual: bool) -> None:
    with pytest.raises(ValueError, match="cleanup failed") as caught:
        asyncprims.run(_raises_while_cancelled()(), virtual_time=virtual)
    assert isinstance(caught.value.__context__, asyncio.CancelledError)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@main_thread_only
@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.run handles SIGINT from 3.11")
def test_asyncio_run_shows_the_same_error() -> None:
    with pytest.raises(ValueError, match="cleanup failed"):
        asyncio.run(_raises_while_cancelled()())


@main_thread_only
def test_a_plain_interrupt_is_still_a_keyboard_interrupt() -> None:
    async def main() -> None:
        asyncio.get_running_loop().call_later(0.05, signal.raise_signal, signal.SIGINT)
        await asyncio.sleep(3600)

    with pytest.raises(KeyboardInterrupt):
        asyncprims.run(main(), virtual_time=True)


@main_thread_only
def test_a_main_task_that_absorbs_the_interrupt_returns_its_result() -> None:
    async def main() -> str:
        asyncio.get_running_loop().call_later(0.05, signal.raise_signal, signal.SIGINT)
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            return "absorbed"
        return "slept"

    assert asyncprims.run(main(), virtual_time=True) == "absorbed"


# -- 8. nested runs and mixed clocks -----------------------------------------------------


def test_nested_runs_name_their_main_tasks_apart() -> None:
    async def innermost() -> str:
        return asyncio.current_task().get_name()  # type: ignore[union-attr]

    async def inner() -> tuple[str, str]:
        name = asyncio.current_task().get_name()  # type: ignore[union-attr]
        return name, asyncprims.run(innermost())

    async def outer() -> tuple[str, tuple[str, str]]:
        name = asyncio.current_task().get_name()  # type: ignore[union-attr]
        return name, asyncprims.run(inner())

    assert asyncprims.run(outer()) == ("main", ("main-2", "main-3"))
    assert asyncprims.run(innermost()) == "main"  # depth is per call, not global


def test_a_trace_over_a_nested_run_keeps_two_lanes_and_warns() -> None:
    from asyncprims.tracing import MixedClocksWarning

    async def inner() -> None:
        async with asyncprims.Lock(name="inner"):
            await asyncio.sleep(1)

    async def outer() -> None:
        async with asyncprims.Lock(name="outer"):
            await asyncio.sleep(1)
            asyncprims.run(inner(), virtual_time=True)

    with asyncprims.trace() as timeline, pytest.warns(MixedClocksWarning, match="one axis"):
        asyncprims.run(outer(), virtual_time=True)
    assert {(event.task, event.primitive) for event in timeline.events} == {
        ("main", "outer"),
        ("main-2", "inner"),
    }


@pytest.mark.parametrize("first, second", [(True, True), (True, False), (False, True)])
def test_runs_on_different_clocks_in_one_trace_warn(first: bool, second: bool) -> None:
    from asyncprims.tracing import MixedClocksWarning

    async def main() -> None:
        async with asyncprims.Lock():
            await asyncio.sleep(0.01)

    with asyncprims.trace():
        asyncprims.run(main(), virtual_time=first)
        with pytest.warns(MixedClocksWarning, match="use one trace"):
            asyncprims.run(main(), virtual_time=second)


def test_real_time_runs_share_one_clock_and_do_not_warn() -> None:
    async def main() -> None:
        async with asyncprims.Lock():
            await asyncio.sleep(0.01)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with asyncprims.trace():
            asyncprims.run(main())
            asyncprims.run(main())
        with asyncprims.trace():
            asyncprims.run(main(), virtual_time=True)
        with asyncprims.trace():
            asyncio.run(main())
            asyncprims.run(main())
