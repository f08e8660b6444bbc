"""Benchmarks: asyncprims against asyncio (and anyio where it applies), in one process.

    python benchmarks/run.py [--quick] [--rounds N] [--only PATTERN] [--full]
                             [--json FILE] [--markdown FILE]

(``python -m benchmarks`` is the same.)  Every workload runs with each side in
turn, interleaved round by round (asyncio, asyncprims, asyncprims traced,
anyio, then the next round starting one side later, so no side always goes
first), each measurement in a fresh event loop (``asyncio.run``) after a
``gc.collect()`` and with the garbage collector disabled while it runs.  The
workloads time themselves with ``time.perf_counter`` (see ``workloads.py``);
the table shows medians.  This is not a test suite: pytest must not collect it.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `asyncprims` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import app_workload, footprint, plot_workload
from benchmarks import workloads as w
from benchmarks.anyio_workloads import ANYIO, anyio_version
from benchmarks.harness import (
    PRIMS,
    PRIMS_NOTE,
    Factory,
    growth_exponent,
    interleave,
    log,
    measure,
    ratio,
    verdict,
)
from benchmarks.report import (
    Row,
    environment,
    fmt_seconds,
    median,
    render_markdown,
    render_table,
    write_json,
)

#: Untraced goal per Python: finding the running loop costs a getpid() system
#: call on 3.10 and 3.11, hence a looser goal there.
GOAL_EVERYDAY = 1.05 if sys.version_info >= (3, 12) else 1.10
GOAL_TRACED = 2.0
GOAL_EVENT_SECONDS = 0.25e-6
GOAL_APP_TRACED = 1.05
GOAL_STORM_FLOOR = 1.25
GOAL_STORM_SPEEDUP = 20.0
GOAL_EXPONENT = 1.25
GOAL_PLOT_SECONDS = 0.5
GOAL_TEXT_SECONDS = 1.0
#: Above this many waiters asyncio's O(n²) storms are skipped unless --full.
ASYNCIO_STORM_CAP = 40_000

# --------------------------------------------------------------------------- everyday


def run_everyday(wl: w.Workload, args: argparse.Namespace) -> list[Row]:
    size = wl.quick_size if args.quick else wl.size
    warm = max(1, size // 10)
    run = wl.run
    variants: dict[str, tuple[Factory, bool]] = {
        "asyncio": (lambda: run(asyncio, size), False),
        "asyncprims": (lambda: run(PRIMS, size), False),
        "asyncprims traced": (lambda: run(PRIMS, size), True),
    }
    warmup: dict[str, Factory] = {
        "asyncio": lambda: run(asyncio, warm),
        "asyncprims": lambda: run(PRIMS, warm),
    }
    anyio_fn = ANYIO.get(run) if not args.no_anyio else None
    if anyio_fn is not None:
        variants["anyio"] = (lambda: anyio_fn(size), False)
        warmup["anyio"] = lambda: anyio_fn(warm)
    handoff = run is w.lock_handoff
    if handoff:
        variants["sleep(0)"] = (lambda: w.sleep_round_trips(size), False)
    samples = interleave(variants, args.rounds, warmup)

    med = {side: median(s) for side, s in samples.items()}
    label = f"{wl.name} [{size:,} {wl.unit}]"
    base = med["asyncio"]
    plain = Row(
        label,
        "everyday",
        size,
        wl.unit,
        samples={k: v for k, v in samples.items() if k in ("asyncio", "asyncprims", "anyio")},
    )
    plain.values = {
        "asyncio": base,
        "asyncprims": med["asyncprims"],
        "ratio": ratio(med["asyncprims"], base),
    }
    if "anyio" in med:
        plain.values |= {"anyio": med["anyio"], "anyio ratio": ratio(med["anyio"], base)}
    plain.goal = f"≤{GOAL_EVERYDAY}x"
    pratio = plain.values["ratio"]
    plain.verdict = verdict(pratio <= GOAL_EVERYDAY if pratio is not None else None)

    traced = Row(
        f"traced: {wl.name}",
        "traced",
        size,
        wl.unit,
        samples={"asyncio": samples["asyncio"], "asyncprims traced": samples["asyncprims traced"]},
    )
    traced.values = {
        "asyncio": base,
        "asyncprims": med["asyncprims traced"],
        "ratio": ratio(med["asyncprims traced"], base),
    }
    traced.goal = f"≤{GOAL_TRACED}x"
    tratio = traced.values["ratio"]
    traced.verdict = verdict(tratio <= GOAL_TRACED if tratio is not None else None)
    rows = [plain, traced]
    events = _events_recorded(lambda: run(PRIMS, size))
    if events:
        cost = (med["asyncprims traced"] - med["asyncprims"]) / events
        per = Row(f"per event: {wl.name}", "per event", events, "events")
        per.cells = {"asyncio": "—", "asyncprims": f"{cost * 1e6:.2f} µs", "ratio": "—"}
        per.values = {"asyncprims": cost}
        per.goal = f"≤{GOAL_EVENT_SECONDS * 1e6:.2f} µs"
        per.verdict = verdict(cost <= GOAL_EVENT_SECONDS)
        per.note = f"(traced - untraced) / {events:,} events recorded per run"
        rows.append(per)

    if handoff:
        floor = med["sleep(0)"]
        per = {side: ratio(med[side], floor) for side in ("asyncio", "asyncprims")}
        row = Row(
            f"hand-off floor [{w.HANDOFF_TASKS} tasks]",
            "floor",
            size,
            wl.unit,
            samples={"sleep(0)": samples["sleep(0)"]},
        )
        row.values = {
            "asyncio": per["asyncio"],
            "asyncprims": per["asyncprims"],
            "ratio": ratio(per["asyncprims"], per["asyncio"]),
        }
        cost = floor / (size * w.HANDOFF_TASKS)
        row.cells = {
            "asyncio": f"{per['asyncio']:.2f}x sleep(0)" if per["asyncio"] else "—",
            "asyncprims": f"{per['asyncprims']:.2f}x sleep(0)" if per["asyncprims"] else "—",
            "anyio": (f"{ratio(med['anyio'], floor):.2f}x sleep(0)" if "anyio" in med else "—"),
        }
        row.note = (
            f"one contended acquire/sleep(0)/release cycle costs this many bare "
            f"`await asyncio.sleep(0)` round trips ({cost * 1e6:.2f} µs each, "
            f"{w.HANDOFF_TASKS} tasks)"
        )
        rows.append(row)
    return rows


def _events_recorded(factory: Factory) -> int:
    """Events one traced run of ``factory`` records (0 when asyncprims cannot trace)."""
    if PRIMS is asyncio:
        return 0
    with PRIMS.trace() as timeline:
        asyncio.run(factory())
    return int(timeline.dropped + len(timeline.events))


# --------------------------------------------------------------------------- app


def run_app(args: argparse.Namespace) -> list[Row]:
    """The application-like workload, untraced and traced, against plain asyncio."""
    clients = app_workload.CLIENTS // 4 if args.quick else app_workload.CLIENTS
    variants: dict[str, tuple[Factory, bool]] = {
        "asyncio": (lambda: app_workload.run(asyncio, clients), False),
        "asyncprims": (lambda: app_workload.run(PRIMS, clients), False),
        "asyncprims traced": (lambda: app_workload.run(PRIMS, clients), True),
    }
    samples = interleave(
        variants,
        args.rounds,
        {
            "asyncio": lambda: app_workload.run(asyncio, 10),
            "asyncprims": lambda: app_workload.run(PRIMS, 10),
        },
    )
    med = {side: median(values) for side, values in samples.items()}
    name = (
        f"app: {clients} TCP clients, Semaphore({app_workload.POOL}) pool, "
        f"{app_workload.WORKERS} queue workers"
    )
    rows = []
    for side, group, goal in (
        ("asyncprims", "app", None),
        ("asyncprims traced", "app", GOAL_APP_TRACED),
    ):
        row = Row(
            name if side == "asyncprims" else f"traced: {name}",
            group,
            clients,
            "clients",
            samples={"asyncio": samples["asyncio"], side: samples[side]},
        )
        row.values = {
            "asyncio": med["asyncio"],
            "asyncprims": med[side],
            "ratio": ratio(med[side], med["asyncio"]),
        }
        if goal is not None:
            row.goal = f"≤{goal}x"
            value = row.values["ratio"]
            row.verdict = verdict(value <= goal if value is not None else None)
        rows.append(row)
    rows[0].note = (
        f"{app_workload.REQUESTS} requests per client over localhost TCP through a "
        f"pooled connection, each reply hashed and JSON round-tripped by a worker"
    )
    return rows


# --------------------------------------------------------------------------- footprint


def run_footprint(args: argparse.Namespace) -> list[Row]:
    """Memory per blocked waiter and import time, asyncio against asyncprims."""
    waiters = 1_000 if args.quick else 5_000
    theirs, ours = footprint.waiter_bytes(asyncio, waiters), footprint.waiter_bytes(PRIMS, waiters)
    memory = Row(f"memory per task blocked on a Lock [{waiters:,} waiters]", "footprint")
    memory.values = {"asyncio": theirs, "asyncprims": ours, "ratio": ratio(ours, theirs)}
    memory.cells = {"asyncio": f"{theirs:,.0f} B", "asyncprims": f"{ours:,.0f} B"}
    memory.note = "tracemalloc: the task, its frames, the waiter future and the bookkeeping"
    runs = 3 if args.quick else 7
    base, ours_import = (
        footprint.import_seconds("asyncio", runs),
        footprint.import_seconds("asyncprims", runs),
    )
    imports = Row("import time (cumulative, fresh interpreter)", "footprint")
    imports.values = {"asyncio": base, "asyncprims": ours_import, "ratio": ratio(ours_import, base)}
    imports.note = (
        f"`python -X importtime`, median of {runs}; asyncprims includes asyncio: "
        f"{(ours_import - base) * 1e3:.1f} ms more"
    )
    return [memory, imports]


# --------------------------------------------------------------------------- storms


def run_storm(storm: w.StormWorkload, args: argparse.Namespace) -> list[Row]:
    sizes = w.STORM_SIZES_QUICK if args.quick else w.STORM_SIZES
    rounds = args.storm_rounds
    run = storm.run
    measure(lambda: run(asyncio, 1000))  # warm-up
    measure(lambda: run(PRIMS, 1000))
    rows: list[Row] = []
    points: dict[str, list[tuple[int, float]]] = {"asyncio": [], "asyncprims": []}
    skipped = []
    for n in sizes:
        variants: dict[str, tuple[Factory, bool]] = {}
        if n <= ASYNCIO_STORM_CAP or args.full:
            variants["asyncio"] = ((lambda n=n: run(asyncio, n)), False)  # type: ignore[misc]
        else:
            skipped.append(n)
        variants["asyncprims"] = ((lambda n=n: run(PRIMS, n)), False)  # type: ignore[misc]
        if n == sizes[0]:  # the floor, interleaved with the storms it is compared with
            variants["floor"] = ((lambda n=n: footprint.bare_storm(n)), False)  # type: ignore[misc]
        started = time.perf_counter()
        samples = interleave(variants, rounds)
        floor = median(samples.pop("floor")) if "floor" in samples else None
        med = {side: median(s) for side, s in samples.items()}
        log(
            f"  {storm.name} n={n:,}: "
            + ", ".join(f"{k} {fmt_seconds(v)}" for k, v in med.items())
            + f" ({time.perf_counter() - started:.0f} s)"
        )
        for side, value in med.items():
            if value is not None:
                points[side].append((n, value))
        row = Row(f"{storm.name} [{n:,} waiters]", "storms", n, "waiters", samples=samples)
        row.values = {
            "asyncio": med.get("asyncio"),
            "asyncprims": med["asyncprims"],
            "ratio": ratio(med["asyncprims"], med.get("asyncio")),
        }
        if "asyncio" not in med:
            row.cells["asyncio"] = "skipped"
        if n == w.STORM_SIZES[0]:  # the goal is set at 20k waiters: not judged by --quick
            row.goal = f"≥{GOAL_STORM_SPEEDUP:.0f}x faster"
            speedup = ratio(med.get("asyncio"), med["asyncprims"])
            row.verdict = verdict(speedup >= GOAL_STORM_SPEEDUP if speedup else None)
        rows.append(row)
        if floor is not None:
            against = Row(f"{storm.name} against its floor [{n:,} waiters]", "storms", n, "waiters")
            against.values = {
                "asyncio": floor,
                "asyncprims": med["asyncprims"],
                "ratio": ratio(med["asyncprims"], floor),
            }
            against.goal = f"≤{GOAL_STORM_FLOOR}x"
            value = against.values["ratio"]
            against.verdict = verdict(value <= GOAL_STORM_FLOOR if value is not None else None)
            against.note = (
                "asyncio column: the same storm on bare futures, no primitive "
                "(cancelling n tasks by itself), in the same interleaved rounds"
            )
            rows.append(against)
    exponents = {side: growth_exponent(pts) for side, pts in points.items()}
    span = {
        side: f"{pts[0][0] // 1000}k→{pts[-1][0] // 1000}k" if pts else ""
        for side, pts in points.items()
    }
    grow = Row(f"{storm.name} growth exponent", "storms")
    grow.values = {"asyncio": exponents["asyncio"], "asyncprims": exponents["asyncprims"]}
    grow.cells = {
        side: (f"n^{e:.2f} ({span[side]})" if e is not None else "—")
        for side, e in exponents.items()
    }
    grow.cells["ratio"] = "—"
    grow.goal = f"≈1 (≤{GOAL_EXPONENT})"
    e = exponents["asyncprims"]
    grow.verdict = verdict(e <= GOAL_EXPONENT if e is not None else None)
    if skipped:
        grow.note = (
            f"asyncio skipped at {', '.join(f'{n:,}' for n in skipped)} waiters "
            f"(O(n²): minutes); pass --full to include it"
        )
    rows.append(grow)
    return rows


# --------------------------------------------------------------------------- plot


def run_plot(args: argparse.Namespace) -> list[Row]:
    name = f"plot {plot_workload.PLOT_TASKS} tasks × ~{2 * plot_workload.PLOT_CYCLES} spans"
    row = Row(name, "plot", plot_workload.PLOT_TASKS, "tasks")
    row.goal = f"<{GOAL_PLOT_SECONDS} s"
    row.cells = {"asyncio": "—", "ratio": "—"}
    try:
        timeline, facts = plot_workload.prepare()
        plot_workload.measure_plot(timeline)  # warm-up: font cache, first-draw costs
        samples = [plot_workload.measure_plot(timeline) for _ in range(args.plot_rounds)]
    except plot_workload.Unavailable as exc:
        row.cells["asyncprims"] = "unavailable"
        row.note = str(exc)
        return [row]
    except Exception as exc:  # noqa: BLE001 - a broken plot must not sink the whole run
        row.cells["asyncprims"] = "unavailable"
        row.note = f"plot failed: {type(exc).__name__}: {exc}"
        return [row]
    row.samples = {"asyncprims": samples}
    value = median(samples)
    row.values = {"asyncprims": value}
    row.verdict = verdict(value is not None and value < GOAL_PLOT_SECONDS)
    row.note = (
        f"timeline.plot() + canvas.draw() (Agg) of a traced virtual-time run: "
        f"{facts['tasks']} tasks, {facts['spans']:,} spans, {facts['events']:,} events "
        f"(recorded in {fmt_seconds(facts['record_seconds'])}, spans built in "
        f"{fmt_seconds(facts['spans_seconds'])}, not timed)"
    )
    text = Row(f"text timeline of {facts['events']:,} events", "plot", facts["events"], "events")
    text.goal = f"<{GOAL_TEXT_SECONDS} s"
    text.cells = {"asyncio": "—", "ratio": "—"}
    text_samples = [plot_workload.measure_text(timeline) for _ in range(args.plot_rounds)]
    text.samples = {"asyncprims": text_samples}
    text.values = {"asyncprims": median(text_samples)}
    text.verdict = verdict(median(text_samples) < GOAL_TEXT_SECONDS)
    text.note = (
        "Timeline.from_events(events).render_text() of the same trace: pairing the "
        "spans, placing the causal axis and rendering, timed together"
    )
    return [row, text]


# --------------------------------------------------------------------------- main


def _selected(name: str, group: str, patterns: list[str]) -> bool:
    if not patterns:
        return True
    hay = [name.lower(), group.lower()]
    for pattern in patterns:
        pat = pattern.lower()
        wildcard = any(c in pat for c in "*?[")
        if any(fnmatch.fnmatch(h, pat) if wildcard else pat in h for h in hay):
            return True
    return False


def _shown_argv(argv: list[str]) -> str:
    """The command-line options worth repeating in a report (not the output files)."""
    shown: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--json", "--markdown"):
            skip = True
        elif not arg.startswith(("--json=", "--markdown=")):
            shown.append(arg)
    return "".join(f" {a}" for a in shown)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="interleaved rounds per workload (default 7, --quick 3)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PATTERN",
        help="run workloads whose name or group (everyday, traced, app, storms, "
        "footprint, plot) "
        "contains PATTERN (or matches it as a glob); repeatable, "
        "comma-separated",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help=f"also run asyncio's storms above {ASYNCIO_STORM_CAP:,} waiters",
    )
    parser.add_argument(
        "--storm-rounds",
        type=int,
        default=None,
        help="rounds for the cancellation storms (default min(rounds, 3))",
    )
    parser.add_argument("--no-anyio", action="store_true", help="skip the anyio column")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    parser.add_argument(
        "--markdown", type=Path, metavar="FILE", help="write the results as a Markdown table"
    )
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 7
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.storm_rounds is None:
        args.storm_rounds = min(args.rounds, 3)
    args.plot_rounds = args.rounds
    args.patterns = [p.strip() for spec in args.only for p in spec.split(",") if p.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    if PRIMS_NOTE:
        log(f"warning: {PRIMS_NOTE}")
    rows: list[Row] = []
    for wl in w.EVERYDAY:
        if _selected(wl.name, "everyday", args.patterns):
            log(f"{wl.name} ...")
            rows += run_everyday(wl, args)
    for storm in w.STORMS:
        if _selected(storm.name, "storms", args.patterns):
            log(f"{storm.name} ...")
            rows += run_storm(storm, args)
    if _selected("app", "app", args.patterns):
        log("app ...")
        rows += run_app(args)
    if _selected("footprint", "footprint", args.patterns):
        log("footprint ...")
        rows += run_footprint(args)
    if _selected("plot timeline", "plot", args.patterns):
        log("plot ...")
        rows += run_plot(args)
    order = ["everyday", "floor", "traced", "per event", "app", "storms", "footprint", "plot"]
    rows.sort(key=lambda r: order.index(r.group))

    elapsed = time.perf_counter() - started
    meta: dict[str, Any] = {
        "argv": _shown_argv(sys.argv[1:] if argv is None else argv),
        "environment": environment(),
        "rounds": args.rounds,
        "storm_rounds": args.storm_rounds,
        "quick": args.quick,
        "full": args.full,
        "anyio": None if args.no_anyio else anyio_version(),
        "seconds": round(elapsed, 1),
        "date": time.strftime("%Y-%m-%d"),
        "notes": [note for note in [PRIMS_NOTE] if note],
    }
    print(
        f"\nasyncprims benchmarks — Python {meta['environment']['python']}, "
        f"{args.rounds} rounds ({args.storm_rounds} for storms), medians; "
        f"ratio = asyncprims / asyncio; anyio {meta['anyio'] or 'skipped'}\n"
    )
    print(render_table(rows))
    misses = [row.name for row in rows if row.verdict == "MISS"]
    print(
        f"\n{sum(r.verdict == 'PASS' for r in rows)} PASS, {len(misses)} MISS"
        + (f" ({'; '.join(misses)})" if misses else "")
        + f" — {elapsed:.0f} s"
    )
    if args.json:
        write_json(args.json, rows, meta)
        log(f"wrote {args.json}")
    if args.markdown:
        args.markdown.write_text(render_markdown(rows, meta), encoding="utf-8")
        log(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
