"""Argument handling: ``name=`` must be text; ``Condition.notify(n)`` treats ``n``
exactly as the running Python's asyncio does (checked against it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

import asyncprims

FACTORIES: dict[str, Callable[..., Any]] = {
    "Lock": asyncprims.Lock,
    "Event": asyncprims.Event,
    "Condition": asyncprims.Condition,
    "Semaphore": asyncprims.Semaphore,
    "BoundedSemaphore": asyncprims.BoundedSemaphore,
    "Barrier": lambda **kwargs: asyncprims.Barrier(2, **kwargs),
    "Queue": asyncprims.Queue,
    "PriorityQueue": asyncprims.PriorityQueue,
    "LifoQueue": asyncprims.LifoQueue,
}


class Label(str):
    """A str subclass is a str."""


@pytest.mark.parametrize("kind", FACTORIES)
@pytest.mark.parametrize("bad", [123, 1.5, b"db", ["db"], object()])
def test_a_name_that_is_not_text_is_a_type_error(kind: str, bad: object) -> None:
    with pytest.raises(TypeError, match=r"name must be a str or None, not "):
        FACTORIES[kind](name=bad)


@pytest.mark.parametrize("kind", FACTORIES)
def test_text_and_none_are_fine_names(kind: str) -> None:
    assert FACTORIES[kind](name="db").name == "db"
    assert FACTORIES[kind](name=Label("db")).name == "db"
    assert FACTORIES[kind](name=None).name is None
    assert FACTORIES[kind]().name is None


def test_a_bad_name_fails_at_construction_not_at_rendering() -> None:
    with asyncprims.trace() as timeline, pytest.raises(TypeError):
        asyncprims.Lock(name=123)  # type: ignore[arg-type]
    assert timeline.render_text() is not None


def _notify_outcome(module: Any, n: object, waiting: int) -> tuple[str, int]:
    """Run ``notify(n)`` with ``waiting`` tasks in ``wait()``; say what happened."""

    async def main() -> tuple[str, int]:
        condition = module.Condition()
        woken: list[int] = []

        async def waiter(index: int) -> None:
            async with condition:
                await condition.wait()
                woken.append(index)

        tasks = [asyncio.create_task(waiter(index)) for index in range(waiting)]
        for _ in range(3):
            await asyncio.sleep(0)
        async with condition:
            try:
                condition.notify(n)
                outcome = "ok"
            except TypeError as error:
                outcome = f"TypeError: {error}"
        for _ in range(3):
            await asyncio.sleep(0)
        count = len(woken)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return outcome, count

    return asyncio.run(main())


@pytest.mark.parametrize("waiting", [0, 3])
@pytest.mark.parametrize("n", [None, 0, -1, 1, 2, 1.5, True, 10, "2"])
def test_notify_handles_its_argument_as_asyncio_does(n: object, waiting: int) -> None:
    assert _notify_outcome(asyncprims, n, waiting) == _notify_outcome(asyncio, n, waiting)


def test_notify_none_with_nobody_waiting_is_a_no_op() -> None:
    assert _notify_outcome(asyncprims, None, 0) == ("ok", 0)
