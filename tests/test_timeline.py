"""Timeline: span pairing, counts, text chart, summary, transcript and Chrome export."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from asyncprims._base import Primitive
from asyncprims.timeline import Span, Timeline, describe_primitive
from asyncprims.tracing import Recorder, TraceEvent, trace


class Script:
    """Builds a list of TraceEvents by hand (seq numbers assigned in order)."""

    KINDS = {
        "db": "Lock",
        "s": "Semaphore",
        "q": "Queue",
        "ev": "Event",
        "a": "Lock",
        "b": "Lock",
        "cond": "Condition",
    }

    def __init__(self) -> None:
        self.events: list[TraceEvent] = []

    def add(
        self,
        time: float,
        task: str,
        primitive: str,
        action: str,
        detail: str = "",
        target: str | None = None,
        cause: int | None = None,
        value: float | None = None,
    ) -> int:
        seq = len(self.events)
        self.events.append(
            TraceEvent(
                seq,
                time,
                task,
                primitive,
                self.KINDS.get(primitive, "Lock"),
                action,
                detail,
                target,
                cause,
                value,
            )
        )
        return seq

    def handoff(self, time: float, waker: str, woken: str, primitive: str = "db") -> None:
        """``waker`` releases ``primitive``, wakes ``woken``, which resumes and acquires."""
        self.add(time, waker, primitive, "release", target=waker)
        wake = self.add(time, waker, primitive, "wake", "release", target=woken)
        self.add(time, woken, primitive, "resume", target=waker, cause=wake)
        self.add(time, woken, primitive, "acquire")

    def timeline(self, **kwargs: Any) -> Timeline:
        kwargs.setdefault("virtual_time", True)
        return Timeline.from_events(self.events, **kwargs)


def lock_story() -> Script:
    """coro1 holds db; coro2 waits, gets it by hand-off; a callback releases it;
    a queue put/get; coro1 ends waiting on an Event."""
    s = Script()
    s.add(0.0, "coro1", "db", "acquire")
    s.add(0.0, "coro2", "db", "wait", "acquire")
    s.handoff(0.1, "coro1", "coro2")
    s.add(0.15, "coro1", "q", "put", value=1)
    s.add(0.2, "callback", "db", "release", target="coro2")
    s.add(0.25, "coro2", "q", "get", value=0)
    s.add(0.3, "coro1", "ev", "wait", "wait")
    return s


# -- span pairing ----------------------------------------------------------------------


def test_lock_handoff_spans() -> None:
    spans = lock_story().timeline().spans()
    assert spans == [
        Span("coro1", "db", "holding", 0.0, 0.1, "", kind="Lock", start_seq=0, end_seq=2),
        Span(
            "coro2",
            "db",
            "waiting",
            0.0,
            0.1,
            "acquire, resumed",
            kind="Lock",
            woken_by="coro1",
            start_seq=1,
            end_seq=4,
            operation="acquire",
        ),
        Span(
            "coro2",
            "db",
            "holding",
            0.1,
            0.2,
            "released by callback",
            kind="Lock",
            start_seq=5,
            end_seq=7,
        ),
        Span(
            "coro1",
            "ev",
            "waiting",
            0.3,
            0.3,
            "wait, still waiting",
            open=True,
            kind="Event",
            start_seq=9,
            end_seq=None,
            operation="wait",
        ),
    ]


def test_cancel_and_timeout_endings() -> None:
    s = Script()
    s.add(1.0, "a1", "db", "wait", "acquire")
    s.add(1.0, "a2", "q", "wait", "get")
    s.add(1.0, "a3", "db", "wait", "acquire")
    s.add(1.5, "a1", "db", "cancel")
    s.add(2.0, "a2", "q", "timeout")
    wake = s.add(2.5, "holder", "db", "wake", "release", target="a3")
    s.add(2.5, "a3", "db", "cancel", "after wake-up", cause=wake)
    details = {
        (sp.task, sp.primitive): (sp.start, sp.end, sp.detail, sp.open)
        for sp in s.timeline().spans()
    }
    assert details == {
        ("a1", "db"): (1.0, 1.5, "acquire, cancelled", False),
        ("a2", "q"): (1.0, 2.0, "get, timed out", False),
        ("a3", "db"): (1.0, 2.5, "acquire, cancelled after wake-up", False),
    }


def test_semaphore_holders_and_nested_permits() -> None:
    s = Script()
    s.add(0.0, "t1", "s", "acquire")
    s.add(1.0, "t2", "s", "acquire")
    s.add(2.0, "t1", "s", "acquire")  # a second permit for t1
    s.add(3.0, "t1", "s", "release", target="t1")  # closes t1's newest hold
    s.add(4.0, "t2", "s", "release", target="t2")
    s.add(5.0, "t1", "s", "release", target="t1")
    holds = [(sp.task, sp.start, sp.end) for sp in s.timeline().spans()]
    assert holds == [("t1", 0.0, 5.0), ("t2", 1.0, 4.0), ("t1", 2.0, 3.0)]


def test_open_spans_end_at_last_event() -> None:
    s = Script()
    s.add(0.0, "t1", "db", "acquire")
    s.add(0.5, "t2", "db", "wait", "acquire")
    s.add(2.0, "t3", "q", "put", value=1)
    spans = s.timeline().spans()
    assert [(sp.task, sp.state, sp.end, sp.open, sp.detail) for sp in spans] == [
        ("t1", "holding", 2.0, True, "still held"),
        ("t2", "waiting", 2.0, True, "acquire, still waiting"),
    ]


def test_endings_without_start_are_ignored() -> None:
    s = Script()
    s.add(0.0, "t1", "db", "resume", cause=None)
    s.add(0.1, "t1", "db", "release", target="t1")
    s.add(0.2, "t1", "db", "release", target=None)
    assert s.timeline().spans() == []


def test_origin_real_time_is_first_event() -> None:
    s = Script()
    s.add(100.0, "t1", "db", "acquire")
    s.add(100.25, "t1", "db", "release", target="t1")
    real = s.timeline(virtual_time=False)
    assert real.origin == 100.0
    assert real.spans()[0].start == 0.0 and real.spans()[0].end == 0.25
    virtual = s.timeline(virtual_time=True)
    assert virtual.origin == 0.0
    assert virtual.spans()[0].start == 100.0


def test_describe_primitive() -> None:
    assert describe_primitive("Lock", "db") == "Lock 'db'"
    assert describe_primitive("Lock", "Lock-3") == "Lock-3"
    assert describe_primitive("Queue", "Lock-3") == "Queue 'Lock-3'"


# -- counts ----------------------------------------------------------------------------


def test_waiter_counts_and_queue_depths() -> None:
    s = Script()
    s.add(0.0, "t0", "db", "acquire")
    s.add(0.0, "t1", "db", "wait", "acquire")
    s.add(0.1, "t2", "db", "wait", "acquire")
    s.add(0.2, "t3", "q", "put", value=1)
    s.add(0.2, "t3", "q", "put", value=2)
    s.add(0.3, "t1", "db", "cancel")
    s.add(0.4, "t2", "db", "timeout")
    s.add(0.45, "t1", "db", "timeout")  # no open wait: ignored
    s.add(0.5, "t4", "q", "get", value=1)
    tl = s.timeline()
    assert tl.waiter_counts() == {"db": [(0.0, 1), (0.1, 2), (0.3, 1), (0.4, 0), (0.5, 0)]}
    assert tl.queue_depths() == {"q": [(0.2, 2), (0.5, 1)]}


# -- text ------------------------------------------------------------------------------


LOCK_STORY_TEXT = """\
time (s)     0                   0.1            0.2        0.3
         --::+::---------------::+::------------+----------+
coro1      ####################>           +               ~  db, q, ev
coro2          ....................#############      -       db, q
callback                                        ^             db
legend:  # holding  . waiting to acquire  ~ waiting in wait()  + put
         - get  ^ released another's hold  > woke a waiter
scale:   1 column = 8.9 ms between instants;
         ':' one instant spread over its causal steps;
         right: primitives used
wake-ups (waker -> woken, by):
  0.1 s  coro1 -> coro2  release Lock 'db'"""


def test_render_text_known_trace() -> None:
    text = lock_story().timeline().render_text()
    assert text == LOCK_STORY_TEXT
    assert all(len(line) <= 72 and line == line.rstrip() for line in text.splitlines())


def test_render_text_without_details_and_on_a_time_axis() -> None:
    timeline = lock_story().timeline()
    assert timeline.render_text(details=False) == LOCK_STORY_TEXT.split("\nwake-ups")[0]
    assert (
        timeline.render_text(axis="time", details=False)
        == """\
time (s) 0         0.1       0.2       0.3
         +---------+---------+---------+
coro1    ##########>    +              ~  db, q, ev
coro2    ..........##########     -       db, q
callback                     ^            db
legend:  # holding  . waiting to acquire  ~ waiting in wait()  + put
         - get  ^ released another's hold  > woke a waiter
scale:   1 column = 10 ms;  right: primitives used"""
    )


def test_render_text_narrow_and_both_states() -> None:
    s = Script()
    s.add(0.0, "worker", "a", "acquire")
    s.add(0.002, "worker", "b", "wait", "acquire")
    s.add(0.004, "worker", "b", "cancel")
    s.add(0.006, "worker", "a", "release", target="worker")
    assert (
        s.timeline().render_text(width=40)
        == """\
time (s) 0                   0.005
         +-------------------+----
worker   ########%%%%%%%%x#######   a, b
legend:  # holding
         % holding while waiting
         x wait cancelled
scale:   1 column = 0.25 ms;
         right: primitives used"""
    )


def test_render_text_spreads_a_handoff_over_steps() -> None:
    s = Script()
    s.add(0.0, "t1", "db", "acquire")
    s.add(0.0, "t2", "db", "wait", "acquire")
    s.handoff(0.0104, "t1", "t2")
    s.add(0.02, "t2", "db", "release", target="t2")
    lines = s.timeline().render_text(width=50).splitlines()
    # the instant at 0.0104 s gets its own ruler section and label, and t1's
    # release/wake comes two columns before t2's resume/acquire
    assert lines[0] == "time (s)    0                 0.0104        0.02"
    assert lines[1] == "         -::+:---------------:+::-----------+"
    assert lines[2] == "t1        ###################>                 db"
    assert lines[3] == "t2           ...................############   db"
    assert lines[2].index(">") < lines[3].index("#")
    assert "%" not in "\n".join(lines)
    assert lines[-1] == "  0.0104 s  t1 -> t2  release Lock 'db'"


def test_render_text_empty_and_lane_limit_and_dropped() -> None:
    assert Timeline.from_events([]).render_text() == "(no events recorded)"
    s = Script()
    for i in range(5):
        s.add(i * 0.01, f"t{i}", "db", "wait", "acquire")
    text = s.timeline(dropped=7).render_text(max_lanes=2)
    lane_lines = [line for line in text.splitlines() if line.startswith("t")]
    assert [line.split()[0] for line in lane_lines] == ["time", "t0", "t1"]
    assert "... 3 more tasks not shown (max_lanes=2)" in text
    assert "note: 7 earlier events were dropped (max_events)" in text


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"width": 0}, ValueError, "width must be at least 1, not 0"),
        ({"width": -5}, ValueError, "width must be at least 1, not -5"),
        ({"width": "72"}, TypeError, "width must be an int, not str"),
        ({"width": 72.0}, TypeError, "width must be an int, not float"),
        ({"max_lanes": 0}, ValueError, "max_lanes must be at least 1, not 0"),
        ({"max_lanes": True}, TypeError, "max_lanes must be an int, not bool"),
    ],
)
def test_render_text_rejects_bad_sizes(kwargs: dict[str, Any], error: type, message: str) -> None:
    """A bad width or lane limit is an error, also on an empty timeline (it used
    to be clamped silently, or to fail deep inside with "'int' object is not
    iterable" for max_lanes=0)."""
    for timeline in (lock_story().timeline(), Timeline.from_events([])):
        with pytest.raises(error, match=message):
            timeline.render_text(**kwargs)
    with pytest.raises(ValueError, match="max_lanes must be at least 1"):
        lock_story().timeline().visible_lanes(-1)


def test_render_text_is_deterministic() -> None:
    assert lock_story().timeline().render_text() == lock_story().timeline().render_text()


SUMMARY_TEXT = """\
task   primitive    waits  total wait  longest wait  total held
-----  -----------  -----  ----------  ------------  ----------
coro1  Lock 'db'        0           -             -       0.100
coro1  Event 'ev'*      1       0.000         0.000           -
coro2  Lock 'db'        1       0.100         0.100       0.100
times in seconds; * still waiting or holding when the trace ended"""


def test_summary_known_trace() -> None:
    assert lock_story().timeline().summary() == SUMMARY_TEXT


def test_summary_numbers() -> None:
    s = Script()
    s.add(0.0, "t", "db", "wait", "acquire")
    s.add(0.25, "t", "db", "cancel")
    s.add(1.0, "t", "db", "wait", "acquire")
    s.add(1.75, "t", "db", "resume")
    s.add(1.75, "t", "db", "acquire")
    s.add(2.0, "t", "db", "release", target="t")
    s.add(3.0, "t", "db", "acquire")
    s.add(3.5, "t", "db", "release", target="t")
    row = s.timeline().summary().splitlines()[2].split()
    assert row == ["t", "Lock", "'db'", "2", "1.000", "0.750", "0.750"]


def test_transcript() -> None:
    lines = lock_story().timeline().transcript().splitlines()
    assert lines[0] == "   0.000  coro1     acquires Lock 'db'"
    assert lines[3] == "   0.100  coro1     wakes coro2 on Lock 'db' (release)"
    assert lines[4] == "   0.100  coro2     resumes on Lock 'db', woken by coro1"
    assert lines[6] == "   0.150  coro1     put Queue 'q', item 1, size 1"
    assert lines[7] == "   0.200  callback  releases Lock 'db' (held by coro2)"


# -- Chrome trace ----------------------------------------------------------------------


def assert_nested_per_tid(trace_events: list[dict[str, Any]]) -> None:
    by_tid: dict[int, list[tuple[float, float]]] = {}
    for e in trace_events:
        if e["ph"] == "X":
            by_tid.setdefault(e["tid"], []).append((e["ts"], round(e["ts"] + e["dur"], 3)))
    for intervals in by_tid.values():
        for i, (s1, e1) in enumerate(intervals):
            for s2, e2 in intervals[i + 1 :]:
                disjoint = e1 <= s2 or e2 <= s1
                nested = (s1 <= s2 and e2 <= e1) or (s2 <= s1 and e1 <= e2)
                assert disjoint or nested, ((s1, e1), (s2, e2))


def test_chrome_trace_structure() -> None:
    tl = lock_story().timeline()
    data = tl.to_chrome_trace()
    json.dumps(data)  # serialisable
    assert data["displayTimeUnit"] == "ms"
    events = data["traceEvents"]
    names = {
        e["args"]["name"]: e["tid"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"
    }
    assert names == {"coro1": 1, "coro2": 2, "callback": 3}
    assert {
        "ph": "M",
        "name": "process_name",
        "pid": 1,
        "tid": 0,
        "args": {"name": "asyncprims"},
    } in events
    spans = [e for e in events if e["ph"] == "X" and e["cat"] in ("waiting", "holding")]
    assert len(spans) == len(tl.spans()) == 4
    wait = next(e for e in spans if e["cat"] == "waiting" and e["tid"] == 2)
    assert wait["name"] == "waiting Lock 'db'"
    # events at one instant are 10 ns apart in causal order: the wait (seq 1)
    # starts at 0.01 us and ends at the resume (seq 4), the third event at 0.1 s
    assert (wait["ts"], wait["dur"]) == (0.01, 100000.01)
    assert wait["args"]["woken_by"] == "coro1"
    instants = sorted(e["name"] for e in events if e["ph"] == "i")
    assert instants == ["get Queue 'q'", "put Queue 'q'", "release Lock 'db'"]
    marks = [
        (e["name"], e["tid"], e["ts"], e["dur"])
        for e in events
        if e["ph"] == "X" and e["cat"] in ("wake", "resume")
    ]
    assert marks == [
        ("wake coro2 (release)", 1, 100000.01, 0.004),
        ("resume (woken by coro1)", 2, 100000.02, 0.004),
    ]
    flows = [e for e in events if e["ph"] in "sf"]
    assert [(e["ph"], e["tid"], e["ts"], e["id"]) for e in flows] == [
        ("s", 1, 100000.012, 3),
        ("f", 2, 100000.022, 3),
    ]
    assert flows[1]["bp"] == "e"
    counters = [e for e in events if e["ph"] == "C"]
    assert {e["name"] for e in counters} == {
        "waiting Lock 'db'",
        "waiting Event 'ev'",
        "size Queue 'q'",
    }
    body = [e["ts"] for e in events if e["ph"] != "M"]
    assert body == sorted(body)
    assert_nested_per_tid(events)
    assert_flows_bind_to_slices(events)


def assert_flows_bind_to_slices(events: list[dict[str, Any]]) -> None:
    """Every flow point lies strictly inside a slice on its own track, and that
    slice is the innermost one there (the one a trace viewer binds it to)."""
    slices: dict[int, list[tuple[float, float, str]]] = {}
    for e in events:
        if e["ph"] == "X":
            slices.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"], e["name"]))
    for flow in (e for e in events if e["ph"] in ("s", "f")):
        enclosing = [s for s in slices.get(flow["tid"], []) if s[0] <= flow["ts"] <= s[1]]
        assert enclosing, flow
        innermost = min(enclosing, key=lambda s: s[1] - s[0])
        assert innermost[0] < flow["ts"] < innermost[1], (flow, innermost)
        assert innermost[2].split()[0] in ("wake", "resume", "put", "get"), (flow, innermost)


def test_chrome_trace_overlapping_holds_get_extra_lane() -> None:
    s = Script()  # hand-over-hand: hold a, take b, drop a, drop b
    s.add(0.0, "walker", "a", "acquire")
    s.add(1.0, "walker", "b", "acquire")
    s.add(2.0, "walker", "a", "release", target="walker")
    s.add(3.0, "walker", "b", "release", target="walker")
    s.add(3.0, "other", "a", "acquire")
    events = s.timeline().to_chrome_trace()["traceEvents"]
    assert_nested_per_tid(events)
    threads = [e["args"]["name"] for e in events if e["name"] == "thread_name"]
    assert threads == ["walker", "other", "walker (2)"]


def test_chrome_flow_checker_can_fail() -> None:
    with pytest.raises(AssertionError):  # no slice at all
        assert_flows_bind_to_slices([{"ph": "s", "tid": 1, "ts": 5.0}])
    with pytest.raises(AssertionError):  # on the slice's edge only
        assert_flows_bind_to_slices(
            [
                {"ph": "X", "tid": 1, "ts": 0.0, "dur": 5.0, "name": "wake x"},
                {"ph": "f", "tid": 1, "ts": 5.0},
            ]
        )


def test_chrome_nesting_checker_can_fail() -> None:
    with pytest.raises(AssertionError):
        assert_nested_per_tid(
            [
                {"ph": "X", "tid": 1, "ts": 0.0, "dur": 2.0},
                {"ph": "X", "tid": 1, "ts": 1.0, "dur": 2.0},
            ]
        )


# -- a real Recorder -----------------------------------------------------------------


class Lock(Primitive):
    """A stand-in primitive: only what the Recorder reads."""

    def __init__(self, name: str | None = None) -> None:
        self._name = name


def test_events_property_rebuilds_and_dropped() -> None:
    recorder = Recorder(max_events=3)
    timeline = Timeline(recorder)
    lock = Lock("db")

    async def main() -> None:
        recorder.acquired(lock)
        assert [e.action for e in timeline.events] == ["acquire"]
        recorder.instant(lock, "set")
        recorder.released(lock)
        assert [e.action for e in timeline.events] == ["acquire", "set", "release"]
        assert timeline.dropped == 0
        recorder.instant(lock, "clear")
        recorder.instant(lock, "set")

    asyncio.run(main(), debug=False)
    assert [e.action for e in timeline.events] == ["release", "clear", "set"]
    assert [e.seq for e in timeline.events] == [2, 3, 4]
    assert timeline.dropped == 2
    assert timeline.spans() == []  # the acquire was dropped
    assert "note: 2 earlier events were dropped" in timeline.render_text()


def test_recorder_driven_wait_and_wake() -> None:
    recorder = Recorder()
    timeline = Timeline(recorder)
    lock = Lock("db")

    async def main() -> None:
        asyncio.current_task().set_name("main")  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        fut = recorder.future(loop)

        async def waiter() -> None:
            recorder.wait(lock, fut, "acquire")
            await fut
            recorder.resume(lock, fut)
            recorder.acquired(lock)

        task = asyncio.create_task(waiter(), name="waiter")
        await asyncio.sleep(0)
        recorder.acquired(lock)
        recorder.released(lock)
        fut.set_result(None)
        recorder.wake(lock, fut, "release")
        await task

    asyncio.run(main())
    spans = timeline.spans()
    assert [(s.task, s.state, s.detail, s.woken_by, s.open) for s in spans] == [
        ("waiter", "waiting", "acquire, resumed", "main", False),
        ("main", "holding", "", None, False),
        ("waiter", "holding", "still held", None, True),
    ]
    assert spans[0].end > spans[1].end > spans[1].start > spans[0].start == 0.0
    assert timeline.origin == timeline.events[0].time
    assert timeline.tasks[0] == "waiter"


def test_trace_yields_timeline() -> None:
    with trace() as timeline:
        pass
    assert isinstance(timeline, Timeline)
    assert timeline.events == [] and timeline.spans() == [] and timeline.dropped == 0
    assert repr(timeline) == "<Timeline: 0 events, 0 tasks, 0 spans>"


# -- real traced runs ----------------------------------------------------------------


def run_traced(main: Any, **trace_kwargs: Any) -> Timeline:
    with trace(**trace_kwargs) as timeline:
        asyncio.run(main())
    return timeline


def test_real_lock_contended_by_two_tasks() -> None:
    from asyncprims import Lock as RealLock

    async def main() -> None:
        lock = RealLock(name="db")

        async def worker() -> None:
            async with lock:
                await asyncio.sleep(0.01)

        await asyncio.gather(
            asyncio.create_task(worker(), name="coro1"), asyncio.create_task(worker(), name="coro2")
        )

    timeline = run_traced(main)
    spans = timeline.spans()
    assert [(s.task, s.state, s.detail) for s in spans] == [
        ("coro1", "holding", ""),
        ("coro2", "waiting", "acquire, resumed"),
        ("coro2", "holding", ""),
    ]
    first_hold, wait, second_hold = spans
    assert wait.woken_by == "coro1" and not any(s.open for s in spans)
    assert wait.end >= first_hold.end >= 0.009 and second_hold.start >= wait.end
    assert timeline.tasks == ["coro1", "coro2"]
    assert timeline.waiter_counts()["db"][1][1] == 1
    assert_nested_per_tid(timeline.to_chrome_trace()["traceEvents"])
    lines = timeline.render_text().splitlines()
    # (where the lanes start depends on whether the two first events fall within the
    # real-time resolution of one instant; what they start with does not)
    assert lines[2].startswith("coro1 ") and lines[2][5:].lstrip().startswith("#")
    assert lines[3].startswith("coro2 ") and lines[3][5:].lstrip().startswith(".")


def test_real_semaphore_holders_timeout_cancel_and_callback_release() -> None:
    from asyncprims import Semaphore

    async def main() -> None:
        sem = Semaphore(2, name="pool")

        async def holder(delay: float) -> None:
            await sem.acquire()
            await asyncio.sleep(delay)
            sem.release()

        async def impatient() -> None:
            try:
                await asyncio.wait_for(sem.acquire(), 0.005)
            except asyncio.TimeoutError:  # the builtin only from 3.11
                pass

        async def cancelled() -> None:
            await sem.acquire()

        tasks = [
            asyncio.create_task(holder(0.02), name="h1"),
            asyncio.create_task(holder(0.03), name="h2"),
        ]
        await asyncio.sleep(0)
        await asyncio.create_task(impatient(), name="impatient")
        victim = asyncio.create_task(cancelled(), name="victim")
        await asyncio.sleep(0.001)
        victim.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await sem.acquire()  # the main task holds one; a callback gives it back
        asyncio.get_running_loop().call_later(0.002, sem.release)
        await asyncio.sleep(0.005)

    timeline = run_traced(main)
    by_task = {(s.task, s.state): s for s in timeline.spans()}
    h1, h2 = by_task[("h1", "holding")], by_task[("h2", "holding")]
    assert h1.start < h2.end and h2.start < h1.end  # two holders at once
    # (before 3.12 wait_for runs the acquire in a task of its own)
    assert [s.detail for s in timeline.spans() if s.state == "waiting"] == [
        "acquire, timed out",
        "acquire, cancelled",
    ]
    assert by_task[("victim", "waiting")].detail == "acquire, cancelled"
    main_task = timeline.tasks[-2]
    assert timeline.tasks[-1] == "callback"
    released = by_task[(main_task, "holding")]
    assert released.detail == "released by callback" and not released.open
    assert "victim" in timeline.summary() and "Semaphore 'pool'" in timeline.summary()


def test_real_queue_depths_and_dropped_events() -> None:
    from asyncprims import Queue

    async def main() -> None:
        queue: Queue[int] = Queue(name="jobs")

        async def consumer() -> None:
            for _ in range(3):
                await queue.get()

        task = asyncio.create_task(consumer(), name="consumer")
        await asyncio.sleep(0)
        for i in range(3):
            await queue.put(i)
        await queue.put(99)
        await task

    full = run_traced(main)
    # an unbounded put never yields: four puts, then the consumer's three gets
    sizes = [e.value for e in full.events if e.action in ("put", "get")]
    assert sizes == [1, 2, 3, 4, 3, 2, 1]
    assert full.queue_depths()["jobs"][-1][1] == 1
    kept = run_traced(main, max_events=4)
    assert kept.dropped == len(full.events) - 4 > 0
    assert [e.seq for e in kept.events] == [e.seq for e in full.events[-4:]]
    assert "earlier events were dropped" in kept.render_text()


def test_virtual_time_run_exact_text() -> None:
    import asyncprims
    from asyncprims import Lock as RealLock

    async def main() -> None:
        lock = RealLock(name="db")

        async def worker(hold: float) -> None:
            async with lock:
                await asyncio.sleep(hold)

        await asyncio.gather(
            asyncio.create_task(worker(0.1), name="coro1"),
            asyncio.create_task(worker(0.2), name="coro2"),
        )

    with trace() as timeline:
        asyncprims.run(main(), virtual_time=True)
    assert timeline.origin == 0.0
    assert [(s.task, s.state, s.start, s.end) for s in timeline.spans()] == [
        ("coro1", "holding", 0.0, 0.1),
        ("coro2", "waiting", 0.0, 0.1),
        ("coro2", "holding", 0.1, pytest.approx(0.3)),
    ]
    assert (
        timeline.render_text()
        == """\
time (s)      0                     0.1               0.2         0.3
         --:::+::-----------------::+:::--------------+-----------+
coro1      #######################>                                  db
coro2           .......................###########################   db
legend:  # holding  . waiting to acquire  > woke a waiter
scale:   1 column = 7.8 ms between instants;
         ':' one instant spread over its causal steps;
         right: primitives used
wake-ups (waker -> woken, by):
  0.1 s  coro1 -> coro2  release Lock 'db'"""
    )
    assert timeline.summary().splitlines()[2:4] == [
        "coro1  Lock 'db'      0           -             -       0.100",
        "coro2  Lock 'db'      1       0.100         0.100       0.200",
    ]


def test_a_semaphore_used_as_a_signal_draws_takes_and_gives_not_endless_holds() -> None:
    from asyncprims import Semaphore

    async def main() -> None:
        ready = Semaphore(0, name="ready")  # a signal: the producer gives, the consumer takes
        slots = Semaphore(1, name="slots")  # a pool: each task gives back what it took

        async def consumer() -> None:
            for _ in range(2):
                await ready.acquire()
                async with slots:
                    await asyncio.sleep(0.01)

        async def producer() -> None:
            for _ in range(2):
                await asyncio.sleep(0.02)
                ready.release()

        await asyncio.gather(
            asyncio.create_task(consumer(), name="consumer"),
            asyncio.create_task(producer(), name="producer"),
        )

    timeline = run_traced(main)
    holds = [(s.task, s.primitive, s.open) for s in timeline.spans() if s.state == "holding"]
    assert holds == [("consumer", "slots", False)] * 2  # nothing held 'ready' forever
    marks = [
        (e.task, timeline.marker_of(e))
        for e in timeline.events
        if e.primitive == "ready" and timeline.marker_of(e) is not None
    ]
    assert marks == [("producer", "give"), ("consumer", "take")] * 2
    text = timeline.render_text()
    assert "a took a permit (signal)" in text and "r gave a permit (signal)" in text


def test_a_trace_over_runs_on_different_clocks_says_so() -> None:
    import warnings

    import asyncprims

    async def hold() -> None:
        async with asyncprims.Lock(name="db"):
            await asyncio.sleep(0.01)

    with trace() as timeline, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        asyncprims.run(hold(), virtual_time=True)
        assert not timeline.mixed_clocks
        asyncprims.run(hold())
    assert timeline.mixed_clocks
    assert (
        timeline.render_text()
        .splitlines()[-1]
        .startswith("note: runs on different clocks share this axis")
    )
