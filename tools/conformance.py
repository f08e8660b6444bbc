"""CPython's whole ``test.test_asyncio`` package, unpatched and with
``asyncprims.patch()``, on every installed Python from 3.10 to 3.13.

    python tools/conformance.py [--pythons 3.10,3.11,3.12,3.13] [--json-dir DIR]

For each interpreter found (under ``pyenv root``, else ``python3.X`` on PATH),
runs ``tests/_asyncio_conformance.py compare`` with that interpreter (asyncprims
is taken from this checkout through PYTHONPATH, so no virtual environment is
needed) and prints its summary.  Exit status 1 if any Python shows a
difference or fails to run; a Python that is not installed is reported as
skipped.  ``make conformance`` runs this.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "_asyncio_conformance.py"


def find_python(version: str) -> str | None:
    """An interpreter for ``version`` (``"3.12"``): pyenv's newest, else PATH's."""
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
        candidates = sorted(
            glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", "python3")),
            key=lambda path: [
                int(part) for part in Path(path).parts[-3].split(".") if part.isdigit()
            ],
        )
        if candidates:
            return candidates[-1]
    return shutil.which(f"python{version}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pythons", default="3.10,3.11,3.12,3.13")
    parser.add_argument("--json-dir", type=Path, help="keep each Python's full result here")
    args = parser.parse_args(argv)
    failed = []
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for version in args.pythons.split(","):
        python = find_python(version)
        if python is None:
            print(f"SKIPPED: python{version} not installed", flush=True)
            continue
        command = [python, str(RUNNER), "compare"]
        if args.json_dir:
            args.json_dir.mkdir(parents=True, exist_ok=True)
            command += ["--json", str(args.json_dir / f"conformance-{version}.json")]
        print(f"==> {version}: {python}", flush=True)
        started = time.monotonic()
        status = subprocess.run(command, env=env, stdin=subprocess.DEVNULL).returncode
        print(f"    ({time.monotonic() - started:.0f} s wall, exit {status})", flush=True)
        if status:
            failed.append(version)
    if failed:
        print(f"FAILED: conformance on python{', python'.join(failed)}")
        return 1
    print("==> conformance: no differences")
    return 0


if __name__ == "__main__":
    sys.exit(main())
