"""``python -m asyncprims trace``: run a program unchanged, traced, with asyncio's
primitives swapped for asyncprims' own.

    python -m asyncprims trace [options] script.py [args ...]
    python -m asyncprims trace [options] -m module [args ...]

As ``python -m cProfile`` or ``coverage run`` do, the program runs in this
process as ``__main__``, with its own ``sys.argv`` and the ``sys.path[0]``
Python would give it (the script's directory, or the working directory for
``-m``).  Before its first line, :func:`asyncprims.patch` swaps asyncio's
classes and a trace starts in the main thread's context, which every task the
program creates inherits.  At exit (normal, an exception, ``sys.exit()``, or
Ctrl-C) the Chrome trace is written and the report printed, on stderr, after
anything the program printed; then the process exits as the program would
have: same exit code, the same traceback (without this runner's frames), and
on Ctrl-C the same death by SIGINT.

What is not traced: threads the program starts run in a fresh context (Python
3.10 to 3.13), so their loops are not recorded (the watchdog and the signal
report still see them); events after the report, from non-daemon threads
still running, are lost; ``os._exit()`` and a kill by another signal end the
process without a report.
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import importlib.machinery
import importlib.util
import io
import json
import os
import runpy
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from .timeline import Timeline

__all__ = ["main"]

PROG = "python -m asyncprims trace"
#: Options that take a value (the split below must skip it).
_VALUED = (
    "-o",
    "--output",
    "--plot",
    "--max-events",
    "--max-lanes",
    "--width",
    "--watchdog",
    "--summary-rows",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=f"{PROG} [options] (script.py | -m module) [args ...]",
        description="Run a Python program unchanged with asyncio's primitives swapped for "
        "asyncprims' and a trace on; at exit write a Chrome trace and print who waited for "
        "what (on stderr).",
    )
    parser.add_argument(
        "-o",
        "--output",
        default="asyncprims-trace.json",
        metavar="FILE.json",
        help="Chrome trace-event file to write (default: %(default)s); open it in Perfetto",
    )
    parser.add_argument("--text", action="store_true", help="also print the text timeline")
    parser.add_argument("--width", type=int, default=100, help="text timeline width")
    parser.add_argument("--plot", metavar="FILE.png", help="also save the chart (needs matplotlib)")
    parser.add_argument(
        "--max-lanes",
        type=int,
        metavar="N",
        help="show at most N tasks in the text timeline and the chart",
    )
    parser.add_argument(
        "--summary-rows",
        type=int,
        default=40,
        metavar="N",
        help="print at most N rows of the per-task summary (0: all; default %(default)s)",
    )
    parser.add_argument(
        "--max-events",
        type=int,
        metavar="N",
        help="keep only the newest N events (a ring buffer, for long runs)",
    )
    parser.add_argument(
        "--watchdog",
        type=float,
        metavar="SECONDS",
        help="print the blocked-task report when a wait for a lock or "
        "semaphore makes no progress for SECONDS",
    )
    parser.add_argument(
        "--detect-cycles",
        action="store_true",
        help="log at once any wait that closes a wait-for cycle",
    )
    parser.add_argument(
        "--signal", action="store_true", help="print the blocked-task report on SIGUSR1 (POSIX)"
    )
    parser.add_argument("-m", dest="module", metavar="module", help="run a module as a script")
    return parser


@dataclass
class _Target:
    options: argparse.Namespace
    script: str | None = None
    args: list[str] = field(default_factory=list)


def parse(argv: Sequence[str]) -> _Target:
    """Split ``argv`` into our options and the program's command line, which
    starts at the script (or after ``-m module``) and is passed on untouched."""
    argv = list(argv)
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            ours, rest = argv[:index], argv[index + 1 :]
            break
        if arg == "-m" or (arg.startswith("-m") and not arg.startswith("--")):
            end = index + (2 if arg == "-m" else 1)
            ours, rest = argv[:end], argv[end:]
            break
        if not arg.startswith("-") or arg == "-":
            ours, rest = argv[:index], argv[index:]
            break
        index += 2 if arg in _VALUED else 1
    else:
        ours, rest = argv, []
    parser = _parser()
    options = parser.parse_args(ours)
    target = _Target(options)
    if options.module is not None:
        target.args = rest
    elif rest:
        target.script, target.args = rest[0], rest[1:]
    else:
        parser.error("give the program to run: a script, or -m module")
    for name in ("max_events", "max_lanes", "width"):
        value = getattr(options, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if options.watchdog is not None and not options.watchdog > 0:
        parser.error("--watchdog must be a positive number of seconds")
    if options.plot and importlib.util.find_spec("matplotlib") is None:
        parser.error("--plot needs matplotlib: pip install 'asyncprims[plot]'")
    return target


@dataclass
class _Outcome:
    exit_code: int = 0
    error: BaseException | None = None
    interrupted: KeyboardInterrupt | None = None


def _program_traceback(error: BaseException) -> TracebackType | None:
    """The traceback without this runner's frames (what Python would print)."""
    here = os.path.dirname(__file__)
    tb = error.__traceback__
    while tb is not None and os.path.dirname(tb.tb_frame.f_code.co_filename) == here:
        tb = tb.tb_next
    return tb


def _exit_code(code: Any) -> int:
    """What Python makes of ``SystemExit(code)``: the message goes to stderr."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _set_path(script: str) -> None:
    """Give ``sys.path[0]`` the value Python gives a script (``-m`` put the
    working directory there for this runner)."""
    if getattr(sys.flags, "safe_path", False):
        return  # -P / PYTHONSAFEPATH: Python adds nothing
    if os.path.isdir(script) or _is_zip(script):
        if sys.path:
            del sys.path[0]  # runpy.run_path puts the directory or archive there itself
        return
    entry = os.path.dirname(os.path.realpath(script))
    if sys.path:
        sys.path[0] = entry
    else:
        sys.path.insert(0, entry)


def _run(target: _Target) -> _Outcome:
    """Run the program as ``__main__``; catch how it ends."""
    if target.script is not None:
        sys.argv = [target.script, *target.args]
        _set_path(target.script)
    else:
        sys.argv = ["-m", *target.args]  # runpy sets argv[0] to the module's file
    try:
        if target.script is not None:
            _exec_script(target.script)
        else:
            _exec_module(target.options.module)
    except SystemExit as exit_:
        return _Outcome(_exit_code(exit_.code))
    except KeyboardInterrupt as interrupt:
        return _Outcome(130, interrupted=interrupt)
    except BaseException as error:  # noqa: BLE001 - reported as Python would, after the trace
        return _Outcome(1, error=error)
    return _Outcome(0)


def _exec_script(script: str) -> None:
    """Run a script file as Python runs ``python script.py``: a fresh
    ``__main__`` module with an absolute ``__file__`` (3.9+), code compiled from
    the absolute path (as tracebacks show it), ``argv[0]`` as given.
    Directories and zip archives go through runpy, as Python's own do."""
    if os.path.isdir(script) or _is_zip(script):
        runpy.run_path(script, run_name="__main__")
        return
    path = os.path.abspath(script)
    with io.open_code(path) as handle:
        source = handle.read()
    code = compile(source, path, "exec", dont_inherit=True)
    module = types.ModuleType("__main__")
    module.__dict__.update(
        __file__=path,
        __cached__=None,
        __loader__=importlib.machinery.SourceFileLoader("__main__", path),
        __spec__=None,
        __package__=None,
        __builtins__=builtins,
    )
    sys.modules["__main__"] = module  # as for Python's own: it stays __main__ afterwards
    exec(code, module.__dict__)


def _exec_module(name: str) -> None:
    """Run a module as ``python -m name`` does: through the function Python's
    own ``-m`` calls, so ``__main__``, ``argv[0]``, tracebacks and the "No
    module named" exit are Python's; ``runpy.run_module`` where it is missing."""
    run_as_main = getattr(runpy, "_run_module_as_main", None)
    if run_as_main is not None:
        run_as_main(name, alter_argv=True)
    else:  # pragma: no cover - every CPython from 3.10 to 3.13 has it
        runpy.run_module(name, run_name="__main__", alter_sys=True)


def _is_zip(path: str) -> bool:
    import zipfile

    return os.path.isfile(path) and zipfile.is_zipfile(path)


def _print_exception(error: BaseException) -> None:
    tb = _program_traceback(error)
    sys.excepthook(type(error), error.with_traceback(tb), tb)


def _primitive_table(timeline: Timeline) -> str:
    """Contention per primitive: tasks that waited, waits, total and longest wait."""
    rows: dict[str, list[Any]] = {}
    for span in timeline.spans():
        row = rows.setdefault(span.primitive, [set(), 0, 0.0, 0.0, 0.0])
        if span.state == "waiting":
            row[0].add(span.task)
            row[1] += 1
            row[2] += span.duration
            row[3] = max(row[3], span.duration)
        else:
            row[4] += span.duration
    if not rows:
        return ""
    table = [("primitive", "tasks waiting", "waits", "total wait", "longest wait", "total held")]
    ranked = sorted(rows.items(), key=lambda item: -item[1][2])
    for label, (tasks, waits, total, longest, held) in ranked:
        table.append(
            (
                timeline.describe(label),
                str(len(tasks)),
                str(waits),
                f"{total:.3f}",
                f"{longest:.3f}",
                f"{held:.3f}",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(6)]
    lines = [
        "  ".join([row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in range(1, 6)])
        for row in table
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _report(timeline: Timeline, options: argparse.Namespace) -> None:
    """Everything printed or written at exit; on stderr, never on stdout."""
    err = sys.stderr
    events = timeline.events
    dropped = f" (the oldest {timeline.dropped:,} dropped)" if timeline.dropped else ""
    print(
        f"\n=== asyncprims trace: {len(events):,} events{dropped}, "
        f"{_count(len(timeline.tasks), 'task')}, "
        f"{_count(len(timeline.primitive_kinds()), 'primitive')} ===",
        file=err,
    )
    if not events:
        print(
            "no waiting or holding recorded: the program created no asyncio primitive "
            "after the swap, or created them in threads",
            file=err,
        )
    else:
        print(_primitive_table(timeline), file=err)
        print(file=err)
        lines = timeline.summary().splitlines()
        limit = options.summary_rows
        if limit and len(lines) > limit + 3:
            hidden = len(lines) - limit - 3
            lines = [
                *lines[: limit + 2],
                f"... {hidden} more rows (--summary-rows 0 shows all)",
                lines[-1],
            ]
        print("\n".join(lines), file=err)
    if options.text and events:
        print(file=err)
        print(timeline.render_text(width=options.width, max_lanes=options.max_lanes), file=err)
    with open(options.output, "w", encoding="utf-8") as handle:
        json.dump(timeline.to_chrome_trace(), handle)
    print(f"\nChrome trace written to {options.output} (open it in Perfetto)", file=err)
    if options.plot:
        if not events:
            print(f"no chart written to {options.plot}: nothing was recorded", file=err)
            return
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt

        figure: Any = timeline.plot(counts=True, max_lanes=options.max_lanes).figure
        figure.savefig(options.plot, dpi=120, bbox_inches="tight")
        plt.close(figure)
        print(f"chart written to {options.plot}", file=err)


def _silence_once(error: BaseException) -> None:
    """Make the interpreter's last report of ``error`` print nothing (it was printed)."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if value is not error:
            previous(kind, value, tb)

    sys.excepthook = hook


def main(argv: Sequence[str]) -> int:
    """Run the program described by ``argv``; return its exit code.

    On Ctrl-C this raises KeyboardInterrupt (already reported) so the
    interpreter ends the process by SIGINT, as it would the program.
    """
    target = parse(argv)
    options = target.options
    output_dir = os.path.dirname(os.path.abspath(options.output))
    if not os.path.isdir(output_dir):
        _parser().error(f"-o {options.output}: directory {output_dir} does not exist")
    if target.script is not None and not os.path.exists(target.script):
        print(
            f"{PROG}: can't open file {os.path.abspath(target.script)!r}: "
            "[Errno 2] No such file or directory",
            file=sys.stderr,
        )
        return 2

    from . import _cycles, _watchdog, patching
    from ._waiters import time_waits
    from .tracing import trace

    patching.patch()
    time_waits()  # cheap next to the trace; any on-demand report then has wait times
    with trace(max_events=options.max_events) as timeline, contextlib.ExitStack() as stack:
        # Started inside the trace's context, so the reports use the trace's names.
        if options.watchdog is not None:
            stack.enter_context(_watchdog.watchdog(options.watchdog))
        if options.detect_cycles:
            stack.enter_context(_cycles.detect_cycles("log"))
        if options.signal:
            stack.enter_context(_watchdog.report_on_signal())
        outcome = _run(target)
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    if outcome.error is not None:
        _print_exception(outcome.error)
    if outcome.interrupted is not None:
        _print_exception(outcome.interrupted)
    try:  # a second Ctrl-C stops the report, not the exit code
        _report(timeline, options)
    except KeyboardInterrupt:
        print("\nasyncprims trace: report interrupted", file=sys.stderr)
    except Exception as error:  # noqa: BLE001 - the program's exit code matters more
        print(f"\nasyncprims trace: could not write the report: {error!r}", file=sys.stderr)
    if outcome.interrupted is not None:
        _silence_once(outcome.interrupted)
        raise outcome.interrupted
    return outcome.exit_code
