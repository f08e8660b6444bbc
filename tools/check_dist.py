"""Check the built sdist and wheel, then install the wheel into clean venvs and try it.

    python tools/check_dist.py DIST_DIR --uv UV [--python PYTHON ...]

``make dist-check`` builds DIST_DIR with ``uv build`` and runs ``twine check --strict``
first. This script then checks, without installing anything:

- DIST_DIR holds exactly one wheel and one sdist, both for the version that
  ``asyncprims/__init__.py`` declares, which is a valid PEP 440 version;
- the wheel holds every module of ``asyncprims/`` in the source tree, ``py.typed`` and the
  licence, and nothing outside ``asyncprims/`` and its ``.dist-info`` (no tests, notebooks,
  docs, tools or benchmarks); its metadata declares no dependency outside extras;
- the sdist holds what a rebuild and the test suite need (pyproject.toml, README, LICENSE,
  CHANGELOG, the package, every file of tests/ that git tracks).

Then, for each ``--python``: a fresh venv (``uv venv``, no seed packages), the wheel installed
with no extras, and, from an empty temporary folder with ``-I`` (no PYTHONPATH, no user site,
no current folder on sys.path), the checks in ``SMOKE`` below: the package imports from the
venv, pulls in no third-party module, ships ``py.typed``, installed no file outside its own
folders, and ``python -m asyncprims demo lock`` runs cleanly.

Exit status 0 when everything holds; 1 with one line per failure otherwise.
"""

from __future__ import annotations

import argparse
import ast
import email.parser
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "asyncprims"
# PEP 440, public versions only (what we publish).
VERSION_PATTERN = re.compile(
    r"^(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?$"
)
SDIST_REQUIRED = ["pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "MANIFEST.in"]

# Runs inside the clean venv (python -I -c SMOKE); prints a JSON list of failures.
SMOKE = r"""
import importlib.metadata, importlib.resources, json, subprocess, sys, sysconfig
from pathlib import Path

failures = []
before = set(sys.modules)
import asyncprims
loaded = sorted(set(sys.modules) - before)
third_party = sorted({
    name.partition(".")[0] for name in loaded
    if name.partition(".")[0] not in sys.stdlib_module_names
    and name.partition(".")[0] != "asyncprims"
})
if third_party:
    failures.append(f"import asyncprims imported third-party modules: {third_party}")
purelib = Path(sysconfig.get_paths()["purelib"]).resolve()
if not Path(asyncprims.__file__).resolve().is_relative_to(purelib):
    failures.append(f"asyncprims imported from {asyncprims.__file__}, not from {purelib}")
if not importlib.resources.files("asyncprims").joinpath("py.typed").is_file():
    failures.append("py.typed is not installed")
distribution = importlib.metadata.distribution("asyncprims")
if distribution.version != asyncprims.__version__:
    failures.append(
        f"installed version {distribution.version} != __version__ {asyncprims.__version__}"
    )
outside = [
    str(path) for path in distribution.files or []
    if path.parts[0] != "asyncprims" and not path.parts[0].endswith(".dist-info")
]
if outside:
    failures.append(f"the wheel installed files outside asyncprims/: {outside}")
demo = subprocess.run(
    [sys.executable, "-I", "-m", "asyncprims", "demo", "lock"],
    capture_output=True, text=True, timeout=120,
)
if demo.returncode != 0 or demo.stderr or "lock" not in demo.stdout:
    failures.append(
        f"python -m asyncprims demo lock: exit {demo.returncode}, "
        f"stderr {demo.stderr[-2000:]!r}, stdout {demo.stdout[-500:]!r}"
    )
print(json.dumps({"python": sys.version.split()[0], "failures": failures}))
"""


def declared_version() -> str:
    """``__version__`` from asyncprims/__init__.py, read without importing the package."""
    tree = ast.parse((ROOT / PACKAGE / "__init__.py").read_text())
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
            and isinstance(node.value, ast.Constant)
        ):
            return str(node.value.value)
    raise SystemExit("asyncprims/__init__.py declares no __version__ = '...'")


def tracked_files(folder: str) -> list[str]:
    """Files git tracks under ``folder`` (empty outside a git checkout)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--", folder],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return [name for name in listed.decode().split("\0") if name]


def check_wheel(wheel: Path, version: str) -> list[str]:
    failures: list[str] = []
    dist_info = f"{PACKAGE}-{version}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = email.parser.Parser().parsestr(archive.read(f"{dist_info}/METADATA").decode())
    strays = [n for n in names if not n.startswith((f"{PACKAGE}/", f"{dist_info}/"))]
    if strays:
        failures.append(f"wheel: files outside {PACKAGE}/ and {dist_info}/: {strays}")
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / PACKAGE).rglob("*.py")}
    missing = sorted(modules - set(names))
    if missing:
        failures.append(f"wheel: modules of the source tree missing: {missing}")
    for required in (f"{PACKAGE}/py.typed", f"{dist_info}/licenses/LICENSE"):
        if required not in names:
            failures.append(f"wheel: {required} missing")
    unconditional = [r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r]
    if unconditional:
        failures.append(f"wheel: dependencies outside extras: {unconditional}")
    if metadata["Version"] != version:
        failures.append(f"wheel: METADATA Version {metadata['Version']} != {version}")
    if metadata["License-Expression"] != "MIT":
        failures.append(f"wheel: License-Expression is {metadata['License-Expression']!r}")
    placeholders = [url for url in metadata.get_all("Project-URL") or [] if ".invalid" in url]
    if placeholders:
        print(f"note: placeholder project URLs (replace before uploading): {placeholders}")
    return failures


def check_sdist(sdist: Path, version: str) -> list[str]:
    prefix = f"{PACKAGE}-{version}/"
    with tarfile.open(sdist) as archive:
        names = {member.name.removeprefix(prefix) for member in archive.getmembers()}
    wanted = [
        *SDIST_REQUIRED,
        *(p.relative_to(ROOT).as_posix() for p in (ROOT / PACKAGE).rglob("*.py")),
        f"{PACKAGE}/py.typed",
        *tracked_files("tests"),
    ]
    missing = sorted(set(wanted) - names)
    return [f"sdist: missing {missing}"] if missing else []


def smoke(wheel: Path, uv: str, python: str) -> list[str]:
    """Install ``wheel`` into a fresh venv made from ``python`` and run SMOKE there."""
    with tempfile.TemporaryDirectory(prefix="asyncprims-wheel-") as folder:
        venv = Path(folder) / "venv"
        empty = Path(folder) / "cwd"
        empty.mkdir()
        environment = {
            key: value
            for key, value in os.environ.items()
            if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONSTARTUP", "MPLBACKEND"}
        }
        steps = [
            [uv, "venv", "--quiet", "--python", python, str(venv)],
            [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, env=environment)
            if done.returncode != 0:
                return [f"{python}: {' '.join(step)} failed: {done.stderr.strip()}"]
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-I", "-c", SMOKE],
            cwd=empty,
            capture_output=True,
            text=True,
            env=environment,
            timeout=300,
        )
        if done.returncode != 0:
            return [f"{python}: smoke test crashed: {done.stderr.strip()[-2000:]}"]
        report = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"    wheel smoke test on Python {report['python']}: "
            f"{'ok' if not report['failures'] else 'FAILED'}"
        )
        return [f"Python {report['python']}: {failure}" for failure in report["failures"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dist", type=Path, help="folder holding the sdist and the wheel")
    parser.add_argument("--uv", required=True, help="the uv executable")
    parser.add_argument(
        "--python", action="append", default=[], help="interpreter to smoke-test (repeatable)"
    )
    args = parser.parse_args(argv)

    version = declared_version()
    failures: list[str] = []
    if not VERSION_PATTERN.match(version):
        failures.append(f"__version__ {version!r} is not a public PEP 440 version")
    wheels = sorted(args.dist.glob("*.whl"))
    sdists = sorted(args.dist.glob("*.tar.gz"))
    expected_wheel = f"{PACKAGE}-{version}-py3-none-any.whl"
    expected_sdist = f"{PACKAGE}-{version}.tar.gz"
    if [w.name for w in wheels] != [expected_wheel] or [s.name for s in sdists] != [expected_sdist]:
        failures.append(
            f"{args.dist} should hold exactly {expected_wheel} and {expected_sdist}, "
            f"holds {[p.name for p in wheels + sdists]}"
        )
    else:
        failures += check_wheel(wheels[0], version)
        failures += check_sdist(sdists[0], version)
        for python in args.python:
            failures += smoke(wheels[0], args.uv, python)
    for failure in failures:
        print(f"FAILED: {failure}")
    if not failures:
        print(f"==> {expected_wheel} and {expected_sdist}: all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
