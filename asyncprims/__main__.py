"""Command line.

``python -m asyncprims demo NAME [--plot FILE.png] [--trace FILE.json]`` runs a
scenario from :mod:`asyncprims.demos` in virtual time (``--real-time`` to really
wait), prints its transcript, then its text timeline and summary.

``python -m asyncprims trace [options] (script.py | -m module) [args ...]`` runs
a program unchanged, traced, with asyncio's primitives swapped for ours (see
:mod:`asyncprims._trace_cli`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .demos import DEMOS, run_demo


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m asyncprims",
        description="Run the course's scenarios and show who waited for what.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a scenario and print its transcript and timeline")
    demo.add_argument("name", choices=sorted(DEMOS), help="which scenario")
    demo.add_argument(
        "--plot", metavar="FILE.png", help="save the timeline chart (needs matplotlib)"
    )
    demo.add_argument(
        "--trace", metavar="FILE.json", help="save a Chrome trace-event file (open it in Perfetto)"
    )
    demo.add_argument(
        "--real-time", action="store_true", help="sleep for real instead of jumping a virtual clock"
    )
    demo.add_argument("--width", type=int, default=72, help="width of the text timeline")
    demo.add_argument(
        "--axis",
        choices=("causal", "time", "steps"),
        default="causal",
        help="x axis of the text and the chart: causal (default: time to scale "
        "between instants, same-instant events spread over steps), time, "
        "or steps",
    )
    commands.add_parser("list", help="list the scenarios")
    commands.add_parser(
        "trace",
        help="run a program unchanged, traced (python -m asyncprims trace --help)",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["trace"]:
        from ._trace_cli import main as trace_main

        return trace_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo" and args.width < 1:
        parser.error("--width must be a positive integer")
    if args.command == "list":
        for name in sorted(DEMOS):
            print(f"{name:10} {DEMOS[name].title}")
        return 0

    if args.plot:
        try:
            import matplotlib

            matplotlib.use("Agg")
        except ImportError:
            print("--plot needs matplotlib: pip install 'asyncprims[plot]'", file=sys.stderr)
            return 2

    timeline = run_demo(args.name, virtual_time=not args.real_time)
    print()
    print(timeline.render_text(width=args.width, axis=args.axis))
    print()
    print(timeline.summary())
    if args.trace:
        with open(args.trace, "w", encoding="utf-8") as handle:
            json.dump(timeline.to_chrome_trace(), handle, indent=1)
        print(f"\nChrome trace written to {args.trace} (open it in Perfetto)")
    if args.plot:
        ax = timeline.plot(counts=True, axis=args.axis)
        ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
        print(f"chart written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
