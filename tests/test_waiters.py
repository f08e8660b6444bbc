"""WaiterQueue: the deque-like face CPython's tests poke, and the wake-up contract."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest

from asyncprims._waiters import WaiterQueue


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def futures(loop: asyncio.AbstractEventLoop, n: int) -> list[asyncio.Future[Any]]:
    return [loop.create_future() for _ in range(n)]


def filled(loop: asyncio.AbstractEventLoop, n: int) -> tuple[WaiterQueue, list[Any]]:
    queue = WaiterQueue()
    futs = futures(loop, n)
    for fut in futs:
        queue.append(fut)
    return queue, futs


def check_invariants(queue: WaiterQueue) -> None:
    """The docstring's invariants: settled ones are done and precede the pending ones."""
    assert all(fut.done() for fut in queue._settled)
    assert list(queue) == list(queue._settled) + list(queue._pending)
    assert len(queue) == len(queue._settled) + len(queue._pending)
    assert queue.count_pending() == len(queue._pending)


# -- deque-like face ------------------------------------------------------------------


def test_empty_queue(loop: asyncio.AbstractEventLoop) -> None:
    queue = WaiterQueue()
    assert len(queue) == 0
    assert not queue
    assert list(queue) == []
    with pytest.raises(IndexError):
        queue.popleft()
    with pytest.raises(IndexError):
        queue[0]
    with pytest.raises(IndexError):
        queue[-1]
    assert queue.wake_first(True) is None
    assert queue.wake_next(True) is None
    assert queue.wake_all(True) == []
    assert queue.all_cancelled()
    assert repr(queue) == "WaiterQueue([])"


def test_append_len_bool_iter_contains(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 4)
    assert len(queue) == 4
    assert queue
    assert list(queue) == futs
    assert all(fut in queue for fut in futs)
    assert loop.create_future() not in queue
    check_invariants(queue)


def test_indexing_like_a_deque(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 5)
    reference = deque(futs)
    for index in range(-5, 5):
        assert queue[index] is reference[index], index
    for bad in (5, -6, 100):
        with pytest.raises(IndexError):
            queue[bad]
    # Indexing spans both parts once some are settled.
    queue.wake_next(None)
    queue.wake_next(None)
    assert [queue[i] for i in range(5)] == futs
    assert queue[-1] is futs[-1]
    assert queue[0] is futs[0]
    # Only settled futures left: [-1] comes from the settled part.
    for fut in futs[2:]:
        queue.remove(fut)
    assert queue[-1] is futs[1]
    assert queue[0] is futs[0]


def test_popleft_is_fifo_across_parts(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 4)
    queue.wake_next(None)
    assert [queue.popleft() for _ in range(4)] == futs
    assert not queue


def test_remove_anywhere_and_value_error(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 5)
    queue.wake_next(None)  # futs[0] settled
    queue.remove(futs[2])  # from the pending part
    queue.remove(futs[0])  # from the settled part
    assert list(queue) == [futs[1], futs[3], futs[4]]
    with pytest.raises(ValueError):
        queue.remove(futs[2])
    with pytest.raises(ValueError):
        queue.remove(loop.create_future())
    # deque raises ValueError too: code written for either works with both.
    with pytest.raises(ValueError):
        deque(futs[:1]).remove(futs[2])
    check_invariants(queue)


def test_discard_is_silent(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 3)
    queue.wake_next(None)
    queue.discard(futs[0])
    queue.discard(futs[2])
    queue.discard(futs[2])
    queue.discard(loop.create_future())
    assert list(queue) == [futs[1]]


def test_clear(loop: asyncio.AbstractEventLoop) -> None:
    queue, _ = filled(loop, 3)
    queue.wake_next(None)
    queue.clear()
    assert not queue and len(queue) == 0


def test_repr_lists_the_futures(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 2)
    assert repr(queue) == f"WaiterQueue({futs!r})"


def test_accepts_any_hashable_like_a_deque() -> None:
    """CPython's tests append mock objects to ``_waiters``; len/bool/iter must cope."""
    from unittest import mock

    queue = WaiterQueue()
    queue.append(mock.Mock())
    queue.append(mock.Mock())
    assert len(queue) == 2 and bool(queue) and len(list(queue)) == 2


# -- wake-ups ---------------------------------------------------------------------------


def test_wake_first_wakes_only_a_live_head(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 3)
    assert queue.wake_first("r") is futs[0]
    assert futs[0].result() == "r"
    # The woken head is still queued (until its task removes it): nobody else is woken.
    assert queue.wake_first("r") is None
    assert not futs[1].done()
    assert list(queue) == futs
    check_invariants(queue)
    queue.remove(futs[0])
    assert queue.wake_first("s") is futs[1]


def test_wake_first_does_not_skip_a_cancelled_head(loop: asyncio.AbstractEventLoop) -> None:
    """As asyncio's Lock: a cancelled head's own task passes the wake-up on."""
    queue, futs = filled(loop, 3)
    futs[0].cancel()
    assert queue.wake_first(True) is None
    assert not futs[1].done()
    queue.remove(futs[0])
    assert queue.wake_first(True) is futs[1]


def test_wake_next_skips_done_ones(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 5)
    futs[0].cancel()
    futs[1].cancel()
    futs[3].cancel()
    assert queue.wake_next(1) is futs[2]
    assert futs[2].result() == 1
    assert queue.wake_next(2) is futs[4]
    assert queue.wake_next(3) is None
    # Everything passed is settled, nothing left the queue.
    assert list(queue) == futs
    assert queue.count_pending() == 0
    check_invariants(queue)


def test_wake_next_leaves_later_waiters_pending(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 4)
    queue.wake_next(None)
    assert queue.count_pending() == 3
    assert not any(fut.done() for fut in futs[1:])


def test_wake_all(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 4)
    futs[2].cancel()
    woken = queue.wake_all("x")
    assert woken == [futs[0], futs[1], futs[3]]
    assert all(fut.result() == "x" for fut in woken)
    assert list(queue) == futs
    assert queue.count_pending() == 0
    check_invariants(queue)
    later = loop.create_future()
    queue.append(later)
    assert queue.wake_all("y") == [later]


def test_all_cancelled(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 3)
    assert not queue.all_cancelled()
    futs[0].cancel()
    futs[2].cancel()
    assert not queue.all_cancelled()
    futs[1].cancel()
    assert queue.all_cancelled()
    queue2, _ = filled(loop, 1)
    queue2.wake_next(True)  # woken, not cancelled
    assert not queue2.all_cancelled()


def test_appended_after_a_scan_stays_behind_settled(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 2)
    queue.wake_all(None)
    newer = loop.create_future()
    queue.append(newer)
    assert list(queue) == [*futs, newer]
    assert queue[-1] is newer
    assert queue.wake_next(None) is newer
    check_invariants(queue)


def test_each_pending_future_is_scanned_once(loop: asyncio.AbstractEventLoop) -> None:
    """A release never rescans waiters it already passed (invariant 3)."""
    scans = 0

    class Counting(asyncio.Future):  # type: ignore[type-arg]
        def done(self) -> bool:
            nonlocal scans
            scans += 1
            return super().done()

    queue = WaiterQueue()
    futs = [Counting(loop=loop) for _ in range(50)]
    for fut in futs:
        queue.append(fut)
    for fut in futs[:49]:
        fut.cancel()
    for _ in range(10):
        queue.wake_next(None)
        queue.wake_first(None)
    assert scans <= 50 + 2 * 10


def test_wake_all_with_a_settled_part_keeps_arrival_order(loop: asyncio.AbstractEventLoop) -> None:
    # wake_all() hands the whole pending part over when nothing is settled, and
    # appends it after the settled part otherwise.
    queue, futs = filled(loop, 4)
    assert queue.wake_next("a") is futs[0]  # futs[0] now settled, 1-3 pending
    futs[2].cancel()
    assert queue.wake_all("b") == [futs[1], futs[3]]
    assert list(queue) == futs
    assert list(queue._settled) == futs and not queue._pending
    check_invariants(queue)


def test_remove_and_discard_find_either_part(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 3)
    queue.wake_next(None)  # futs[0] settled
    queue.remove(futs[0])
    queue.remove(futs[2])
    assert list(queue) == [futs[1]]
    with pytest.raises(ValueError):
        queue.remove(futs[0])
    queue.discard(futs[0])  # absent: no error
    queue.discard(futs[1])
    assert not queue
    check_invariants(queue)


def test_wake_first_moves_a_done_head_aside_and_wakes_nobody(
    loop: asyncio.AbstractEventLoop,
) -> None:
    queue, futs = filled(loop, 2)
    futs[0].cancel()
    assert queue.wake_first(True) is None
    assert not futs[1].done()
    assert list(queue) == futs
    check_invariants(queue)
    queue.remove(futs[0])  # the cancelled waiter's task leaves
    assert queue.wake_first(True) is futs[1]


# -- the rest of the deque face -----------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(0, 7)),
        st.tuples(st.just("appendleft"), st.integers(0, 7)),
        st.tuples(st.just("extend"), st.lists(st.integers(0, 7), max_size=3)),
        st.tuples(st.just("pop"), st.none()),
        st.tuples(st.just("popleft"), st.none()),
        st.tuples(st.just("rotate"), st.integers(-9, 9)),
        st.tuples(st.just("remove"), st.integers(0, 7)),
        st.tuples(st.just("wake_first"), st.none()),
        st.tuples(st.just("wake_next"), st.none()),
        st.tuples(st.just("cancel"), st.integers(0, 7)),
    ),
    max_size=40,
)


@settings(max_examples=300)
@given(OPERATIONS)
def test_deque_methods_agree_with_a_deque(operations: list[tuple[str, Any]]) -> None:
    """The queue and a deque driven alike hold the same futures in the same order,
    and the invariants hold after every step (futures are never queued twice:
    the deque model skips a duplicate append, as the queue does)."""
    loop = asyncio.new_event_loop()
    try:
        futs = futures(loop, 8)
        queue, model = WaiterQueue(), deque()
        for name, arg in operations:
            if name in ("append", "appendleft", "extend"):
                new = [futs[i] for i in dict.fromkeys(arg if name == "extend" else [arg])]
                new = [fut for fut in new if fut not in model]  # queued once, ever
                for fut in new:
                    (model.appendleft if name == "appendleft" else model.append)(fut)
                if new:
                    getattr(queue, name)(new if name == "extend" else new[0])
            elif name in ("pop", "popleft"):
                if model:
                    assert getattr(queue, name)() is getattr(model, name)()
                else:
                    with pytest.raises(IndexError):
                        getattr(queue, name)()
            elif name == "rotate":
                model.rotate(arg)
                queue.rotate(arg)
            elif name == "remove":
                if futs[arg] in model:
                    model.remove(futs[arg])
                    queue.remove(futs[arg])
                else:
                    with pytest.raises(ValueError):
                        queue.remove(futs[arg])
            elif name == "cancel":
                futs[arg].cancel()
            else:  # a wake-up changes which futures are done, never the order
                getattr(queue, name)(True)
            assert list(queue) == list(model)
            assert list(reversed(queue)) == list(reversed(model))
            check_invariants(queue)
            for fut in futs:
                assert queue.count(fut) == model.count(fut)
                if fut in model:
                    assert queue.index(fut) == model.index(fut)
                else:
                    with pytest.raises(ValueError):
                        queue.index(fut)
    finally:
        loop.close()


def test_index_with_bounds(loop: asyncio.AbstractEventLoop) -> None:
    queue, futs = filled(loop, 5)
    model = deque(futs)
    for start, stop in ((1, None), (-3, None), (0, 2), (2, -1), (-9, 9)):
        for fut in futs:
            try:
                expected = (
                    model.index(fut, start, stop) if stop is not None else model.index(fut, start)
                )
            except ValueError:
                with pytest.raises(ValueError):
                    queue.index(fut, start, stop)
            else:
                assert queue.index(fut, start, stop) == expected
