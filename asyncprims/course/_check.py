"""The machinery behind the course's exercises: run the reader's code, judge it, say why.

A check runs the reader's coroutine in virtual time under a trace, with its
printed output captured (:func:`attempt`), then records what it expected
(:meth:`Verdict.expect`) and prints one verdict: ``✔`` and what was right, or
``✘ not yet`` and every problem in plain words.  A check never raises for a
wrong answer (the notebooks run top to bottom in the tests, starter code
included) and returns nothing, so a notebook shows only the verdict.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from ..clock import DeadlockError, run
from ..timeline import Span, Timeline
from ..tracing import trace

PASS_MARK = "✔"
FAIL_MARK = "✘ not yet:"


@dataclass
class Attempt:
    """What the reader's code did: its output lines, the timeline, how it ended.

    ``error`` is the exception it raised (a :class:`DeadlockError` when it hung),
    ``None`` when it returned ``result``.
    """

    lines: list[str]
    timeline: Timeline
    error: BaseException | None = None
    result: Any = None

    @property
    def deadlocked(self) -> bool:
        return isinstance(self.error, DeadlockError)

    def spans(self, state: str | None = None, task: str | None = None) -> list[Span]:
        """The timeline's spans, optionally only one state and one task."""
        return [
            span
            for span in self.timeline.spans()
            if (state is None or span.state == state) and (task is None or span.task == task)
        ]

    def problem_with_error(self) -> str | None:
        """A plain-words sentence for an exception the code should not have raised."""
        if self.error is None:
            return None
        if self.deadlocked:
            first = str(self.error).splitlines()[1:2]
            where = f" ({first[0].strip()})" if first else ""
            return f"the run deadlocked: no task could ever continue{where}"
        return f"your code raised {type(self.error).__name__}: {self.error}"


def attempt(make: Callable[[], Coroutine[Any, Any, Any]]) -> Attempt:
    """Run ``make()`` on a fresh virtual-time loop under a trace, capturing what it prints."""
    captured = io.StringIO()
    error: BaseException | None = None
    result: Any = None
    with trace() as timeline, contextlib.redirect_stdout(captured):
        try:
            result = run(make(), virtual_time=True)
        except Exception as raised:  # the reader's bug, reported in words by the check
            error = raised
    return Attempt(captured.getvalue().splitlines(), timeline, error, result)


@dataclass
class Verdict:
    """Collects a check's findings and prints them as one verdict."""

    success: str
    problems: list[str] = field(default_factory=list)

    def expect(self, condition: object, problem: str) -> bool:
        """Record ``problem`` unless ``condition`` holds; return the condition."""
        if not condition:
            self.problems.append(problem)
        return bool(condition)

    def expect_ended(self, run: Attempt, deadlock_hint: str) -> bool:
        """Record ``deadlock_hint`` if ``run`` deadlocked, else the error it
        raised, if any; return whether it ended cleanly."""
        if run.deadlocked:
            return self.expect(False, deadlock_hint)
        return self.expect(run.error is None, run.problem_with_error() or "")

    def report(self) -> bool:
        """Print the verdict; return whether the answer passed."""
        if self.problems:
            print(FAIL_MARK)
            for problem in self.problems:
                print(f"  - {problem}")
            return False
        print(f"{PASS_MARK} {self.success}")
        return True


def reveal(prediction: object, answer: object, why: str, choices: tuple[object, ...] = ()) -> None:
    """Compare a reader's prediction with what the run showed, and explain it.

    ``prediction`` is ``None`` (or ``...``) while the reader has not made one;
    ``choices`` lists the valid predictions, to catch a typo before judging.
    """
    if prediction is None or prediction is Ellipsis:
        print("(no prediction made: set it in the cell above and run both cells again)")
        print(f"The run says: {answer!r}. {why}")
    elif choices and prediction not in choices:
        print(f"{prediction!r} is not one of the choices {', '.join(map(repr, choices))}.")
    elif prediction == answer:
        print(f"{PASS_MARK} Right: {answer!r}. {why}")
    else:
        print(f"{FAIL_MARK} you predicted {prediction!r}, the run says {answer!r}. {why}")
