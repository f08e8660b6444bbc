"""Write the lock files and bring environment.yml in step with them (``make lock``).

    python tools/lock.py --uv UV [--upgrade]

1. ``requirements/dev.txt``: every extra of pyproject.toml, resolved with
   ``uv pip compile --universal`` for every Python the package supports (3.10 and up), so
   one file pins the environment of each interpreter (a package whose newest release
   dropped an older Python gets one pin per Python, written as an environment marker).
   Without ``--upgrade`` the pins already in the file are kept where they still fit (use it
   after editing the dependencies in pyproject.toml); with it, everything moves to the
   newest release that fits.
2. ``requirements/build.txt``: the build backend (``[build-system] requires``), used by
   ``uv build --build-constraint``.
3. ``environment.yml``: every ``name==version`` line is rewritten with the version the lock
   gives on ``ENVIRONMENT_PYTHON`` (the CI interpreter) on Linux.

Needs Python 3.11 or later (tomllib). No host names are written: uv does not emit the index.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "dev.txt"
BUILD_LOCK = ROOT / "requirements" / "build.txt"
ENVIRONMENT = ROOT / "environment.yml"
LOWEST_PYTHON = "3.10"
ENVIRONMENT_PYTHON = "3.11"
ENVIRONMENT_PLATFORM = "x86_64-unknown-linux-gnu"
PIN_LINE = re.compile(
    r"^(?P<lead>\s*-\s+)(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s#]+)"
)


def normalize(name: str) -> str:
    """PEP 503 name normalization (``Foo_Bar`` and ``foo-bar`` are one project)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def run_uv(uv: str, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [uv, "pip", "compile", "--quiet", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"uv pip compile {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def environment_pins(uv: str) -> dict[str, str]:
    """The lock's pins for the ``test`` extra on ENVIRONMENT_PYTHON, Linux: name -> version."""
    flat = run_uv(
        uv,
        "pyproject.toml",
        "--extra",
        "test",
        "--constraint",
        str(LOCK.relative_to(ROOT)),
        "--python-version",
        ENVIRONMENT_PYTHON,
        "--python-platform",
        ENVIRONMENT_PLATFORM,
        "--no-header",
        "--no-annotate",
    )
    pins = {}
    for line in flat.splitlines():
        name, separator, version = line.partition("==")
        if separator:
            pins[normalize(name.strip())] = version.strip()
    return pins


def rewrite_environment(pins: dict[str, str]) -> list[str]:
    """Rewrite environment.yml's ``name==version`` lines; return the names not in ``pins``."""
    unknown = []
    lines = ENVIRONMENT.read_text().splitlines(keepends=True)
    for index, line in enumerate(lines):
        match = PIN_LINE.match(line)
        if not match:
            continue
        version = pins.get(normalize(match["name"]))
        if version is None:
            unknown.append(match["name"])
            continue
        lines[index] = f"{match['lead']}{match['name']}=={version}{line[match.end() :]}"
    ENVIRONMENT.write_text("".join(lines))
    return unknown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uv", required=True, help="the uv executable")
    parser.add_argument("--upgrade", action="store_true", help="move every pin to the newest")
    args = parser.parse_args(argv)
    upgrade = ["--upgrade"] if args.upgrade else []
    common = [
        "--universal",
        "--python-version",
        LOWEST_PYTHON,
        "--custom-compile-command",
        "make lock",
        *upgrade,
    ]

    print(f"==> {LOCK.relative_to(ROOT)}: every extra, Python {LOWEST_PYTHON} and up")
    run_uv(args.uv, "pyproject.toml", "--all-extras", *common, "-o", str(LOCK.relative_to(ROOT)))

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requires = "\n".join(pyproject["build-system"]["requires"]) + "\n"
    print(f"==> {BUILD_LOCK.relative_to(ROOT)}: {requires.strip()}")
    run_uv(args.uv, "-", *common, "-o", str(BUILD_LOCK.relative_to(ROOT)), stdin=requires)

    print(f"==> {ENVIRONMENT.relative_to(ROOT)}: pins for Python {ENVIRONMENT_PYTHON}")
    unknown = rewrite_environment(environment_pins(args.uv))
    if unknown:
        print(f"FAILED: environment.yml pins packages outside the test extra: {unknown}")
        return 1
    print("==> done: review `git diff requirements environment.yml`, run make test, commit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
