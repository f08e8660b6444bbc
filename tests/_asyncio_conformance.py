"""CPython's installed ``test.test_asyncio``, with and without ``asyncprims.patch()``.

    python tests/_asyncio_conformance.py compare [--modules M1,M2] [--json FILE]
    python tests/_asyncio_conformance.py run [--patched] [--modules ...] --json FILE

``run`` (the worker) runs the modules of ``test.test_asyncio`` (all of them by
default) in this process with ``unittest`` and writes what happened as JSON:
tests run, and the ids of failures, errors, skips, expected failures and
unexpected successes.  With ``--patched`` it calls ``asyncprims.patch()``
before importing any test module, checks that the swap is in force, and counts
the asyncprims waiter queues created, so the result proves our classes ran.

``compare`` runs the worker twice in fresh subprocesses, unpatched then
patched, and compares the outcome sets.  Tests whose outcome differs are run
again one by one, in both modes, up to ``--reruns`` times: a test that differs
only sometimes is timing-dependent in CPython's own suite (reported as flaky,
not as a difference); one that differs every time is a real difference.
Exit status 0 when there is none.

No pytest dependency: the Makefile's ``conformance`` target and
``tests/test_asyncio_conformance.py`` both use it.
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib
import json
import os
import pkgutil
import subprocess
import sys
import time
import unittest
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTCOMES = ("failures", "errors", "skipped", "expected_failures", "unexpected_successes")
#: A worker that runs longer than this is stuck (seconds): faulthandler dumps every
#: thread's stack and ends it.  The patched run gets a bound scaled from the unpatched one.
WORKER_TIMEOUT = 1500.0
#: Bound for the patched run: this many times the unpatched run's time, plus a minute.
SLOWDOWN_LIMIT = 3.0


def all_modules() -> list[str]:
    """Every test module of the installed ``test.test_asyncio`` package."""
    package = importlib.import_module("test.test_asyncio")
    return sorted(
        name
        for _, name, is_package in pkgutil.iter_modules(package.__path__)
        if name.startswith("test_") and not is_package
    )


class _Recorder(unittest.TextTestResult):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes: dict[str, list[str]] = {name: [] for name in OUTCOMES}

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self.outcomes["failures"].append(test.id())

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self.outcomes["errors"].append(test.id())

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        self.outcomes["skipped"].append(test.id())

    def addExpectedFailure(self, test: Any, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self.outcomes["expected_failures"].append(test.id())

    def addUnexpectedSuccess(self, test: Any) -> None:
        super().addUnexpectedSuccess(test)
        self.outcomes["unexpected_successes"].append(test.id())

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            kind = "failures" if issubclass(err[0], test.failureException) else "errors"
            self.outcomes[kind].append(subtest.id())


def run_worker(modules: list[str], patched: bool, tests: list[str] | None) -> dict[str, Any]:
    """Run the suite in this process; return the outcome record."""
    created = [0]
    if patched:
        import asyncio

        import asyncprims
        from asyncprims._waiters import WaiterQueue

        asyncprims.patch()
        original_init = WaiterQueue.__init__

        def counting_init(self: WaiterQueue) -> None:
            created[0] += 1
            original_init(self)

        WaiterQueue.__init__ = counting_init  # type: ignore[method-assign]
        assert asyncio.Lock is asyncprims.Lock and asyncio.queues.Queue is asyncprims.Queue
    loader = unittest.TestLoader()
    skipped_modules = []
    if tests:
        suite = loader.loadTestsFromNames(tests)
    else:
        suite = unittest.TestSuite()
        for name in modules:
            try:
                suite.addTest(loader.loadTestsFromName(f"test.test_asyncio.{name}"))
            except unittest.SkipTest:  # a module that skips itself at import (Windows only)
                skipped_modules.append(f"test.test_asyncio.{name}")
    started = time.monotonic()
    with open(os.devnull, "w") as sink:
        runner = unittest.TextTestRunner(stream=sink, resultclass=_Recorder, verbosity=0)
        result = runner.run(suite)
    assert isinstance(result, _Recorder)
    record: dict[str, Any] = {
        "python": sys.version.split()[0],
        "patched": patched,
        "modules": modules if not tests else [],
        "tests_run": result.testsRun,
        "seconds": round(time.monotonic() - started, 1),
        "asyncprims_waiter_queues_created": created[0],
    }
    record.update({name: sorted(ids) for name, ids in result.outcomes.items()})
    record["skipped"] = sorted(record["skipped"] + skipped_modules)
    if patched:
        import asyncio

        import asyncprims

        record["still_patched"] = asyncio.Lock is asyncprims.Lock
    return record


def _spawn(
    modules: list[str],
    patched: bool,
    tests: list[str] | None = None,
    timeout: float = WORKER_TIMEOUT,
) -> dict[str, Any]:
    """Run the worker in a fresh interpreter (this one's), return its record.

    RuntimeError, with the worker's stderr (a stack dump if it hung), if it
    fails or runs past ``timeout`` seconds.
    """
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"asyncprims-conformance-{os.getpid()}.json"
    command = [sys.executable, str(Path(__file__).resolve()), "run", "--json", str(out)]
    command += ["--modules", ",".join(modules), "--timeout", str(timeout)]
    if patched:
        command.append("--patched")
    if tests:
        command += ["--tests", ",".join(tests)]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    completed = subprocess.run(
        command,
        env=env,
        timeout=timeout + 60,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0 or not out.exists():
        raise RuntimeError(f"worker failed ({completed.returncode}):\n{completed.stderr[-4000:]}")
    try:
        return json.loads(out.read_text())  # type: ignore[no-any-return]
    finally:
        out.unlink()


def _outcome_map(record: dict[str, Any]) -> dict[str, str]:
    return {test: name for name in OUTCOMES for test in record[name]}


def compare(modules: list[str], reruns: int = 2) -> dict[str, Any]:
    """Both runs, the differences, and the reruns that classify them."""
    plain = _spawn(modules, patched=False)
    patched = _spawn(modules, patched=True, timeout=SLOWDOWN_LIMIT * plain["seconds"] + 60)
    first, second = _outcome_map(plain), _outcome_map(patched)
    differing = sorted(t for t in set(first) | set(second) if first.get(t) != second.get(t))
    if plain["tests_run"] != patched["tests_run"]:
        differing.append("<tests run>")
    real, flaky = [], []
    for test in differing:
        if test == "<tests run>":
            real.append(test)
            continue
        module_test = test.split(" ")[0]
        agree = 0
        for _ in range(reruns):
            again = [
                _outcome_map(_spawn([], p, [module_test], timeout=300)).get(test)
                for p in (False, True)
            ]
            agree += again[0] == again[1]
        (flaky if agree else real).append(test)
    return {"unpatched": plain, "patched": patched, "differences": real, "flaky": flaky}


def summary(result: dict[str, Any]) -> str:
    lines = []
    for side in ("unpatched", "patched"):
        record = result[side]
        counts = ", ".join(f"{len(record[name])} {name.replace('_', ' ')}" for name in OUTCOMES)
        extra = ""
        if side == "patched":
            extra = f"; {record['asyncprims_waiter_queues_created']:,} asyncprims waiter queues"
        lines.append(
            f"Python {record['python']} {side:9}: {record['tests_run']} tests in "
            f"{record['seconds']} s ({counts}){extra}"
        )
    lines.append(f"differences: {result['differences'] or 'none'}")
    if result["flaky"]:
        lines.append(f"flaky in CPython's suite (agreed on a rerun): {result['flaky']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("run", "compare"))
    parser.add_argument("--modules", default="", help="comma-separated; default: all")
    parser.add_argument("--tests", default="", help="run: these test ids only")
    parser.add_argument("--patched", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--reruns", type=int, default=2)
    parser.add_argument(
        "--timeout",
        type=float,
        default=WORKER_TIMEOUT,
        help="run: dump stacks and exit after this many seconds",
    )
    args = parser.parse_args(argv)
    modules = [m for m in args.modules.split(",") if m] or all_modules()
    if args.mode == "run":
        faulthandler.dump_traceback_later(args.timeout, exit=True)
        tests = [t for t in args.tests.split(",") if t] or None
        record = run_worker(modules, args.patched, tests)
        if args.json:
            args.json.write_text(json.dumps(record, indent=1))
        return 0
    result = compare(modules, args.reruns)
    print(summary(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 1 if result["differences"] else 0


if __name__ == "__main__":
    sys.exit(main())
