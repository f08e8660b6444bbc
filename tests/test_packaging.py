"""The repository's packaging files agree with each other.

- the lock (requirements/dev.txt) pins, for every supported Python, a version that satisfies
  every requirement pyproject.toml states (a dependency added without ``make relock``
  fails here, not as an ImportError somewhere else);
- pyproject.toml keeps open lower bounds (pins belong in the lock, not in the metadata);
- environment.yml lists the ``test`` extra's packages, pinned as the lock pins them on
  Python 3.11 (``make lock`` rewrites them);
- the build lock covers ``[build-system] requires``; no lock names an index host;
- CHANGELOG.md has a section for the version the package declares;
- the pre-commit configuration is valid.

These read files only (and run ``pre-commit validate-config``), so they run on the default
interpreter only (marker ``packaging``; tomllib needs 3.11).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "dev.txt"
BUILD_LOCK = ROOT / "requirements" / "build.txt"
SUPPORTED_PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
ENVIRONMENT_PYTHON = "3.11"
PACKAGE = "asyncprims"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str | None


def read_pins(path: Path) -> list[Pin]:
    """The ``name==version ; marker`` lines of a lock file written by uv pip compile."""
    pins = []
    for line in path.read_text().splitlines():
        if not line or line[0] in "# -":
            continue
        requirement, _, marker = line.partition(";")
        name, separator, version = requirement.partition("==")
        assert separator, f"{path.name}: not a pin: {line!r}"
        pins.append(Pin(normalize(name.strip()), version.strip(), marker.strip() or None))
    return pins


def environment_for(python: str) -> dict[str, str]:
    """Marker variables for CPython ``python`` on x86-64 Linux (what CI runs)."""
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }


def pins_for(pins: list[Pin], python: str) -> dict[str, list[str]]:
    """name -> the versions the lock installs on ``python`` (one, unless the lock is broken)."""
    from packaging.markers import Marker

    chosen: dict[str, list[str]] = {}
    for pin in pins:
        if pin.marker is None or Marker(pin.marker).evaluate(environment_for(python)):
            chosen.setdefault(pin.name, []).append(pin.version)
    return chosen


def pyproject() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def expand_extra(extra: str) -> list:
    """The requirements of ``extra``, with ``asyncprims[...]`` self-references expanded."""
    from packaging.requirements import Requirement

    extras = pyproject()["project"]["optional-dependencies"]
    expanded = []
    for text in extras[extra]:
        requirement = Requirement(text)
        if normalize(requirement.name) == PACKAGE:
            for inner in sorted(requirement.extras):
                expanded += expand_extra(inner)
        else:
            expanded.append(requirement)
    return expanded


def all_requirements() -> list:
    from packaging.requirements import Requirement

    project = pyproject()["project"]
    found = [Requirement(text) for text in project.get("dependencies", [])]
    for extra in project["optional-dependencies"]:
        found += expand_extra(extra)
    return found


def test_lock_satisfies_every_requirement_on_every_python() -> None:
    pins = read_pins(LOCK)
    problems = []
    for python in SUPPORTED_PYTHONS:
        chosen = pins_for(pins, python)
        for name, versions in chosen.items():
            if len(versions) != 1:
                problems.append(f"Python {python}: {name} pinned {len(versions)} times {versions}")
        for requirement in all_requirements():
            if requirement.marker and not requirement.marker.evaluate(environment_for(python)):
                continue
            versions = chosen.get(normalize(requirement.name))
            if not versions:
                problems.append(f"Python {python}: {requirement} is not in the lock")
            elif not requirement.specifier.contains(versions[0], prereleases=True):
                problems.append(f"Python {python}: lock pins {versions[0]}, needs {requirement}")
    unique = list(dict.fromkeys(problems))  # an extra included by another is checked twice
    assert not unique, "run `make relock`:\n" + "\n".join(unique)


def test_pyproject_keeps_open_lower_bounds() -> None:
    closed = [
        str(requirement)
        for requirement in all_requirements()
        if any(spec.operator != ">=" for spec in requirement.specifier)
    ]
    assert not closed, f"pin versions in the lock, not in pyproject.toml: {closed}"


def test_build_lock_covers_build_requires() -> None:
    from packaging.requirements import Requirement

    chosen = pins_for(read_pins(BUILD_LOCK), ENVIRONMENT_PYTHON)
    for text in pyproject()["build-system"]["requires"]:
        requirement = Requirement(text)
        versions = chosen.get(normalize(requirement.name))
        assert versions, f"{requirement} is not in {BUILD_LOCK.name}; run `make relock`"
        assert requirement.specifier.contains(versions[0]), (requirement, versions)


def test_locks_name_no_index_host() -> None:
    for path in (LOCK, BUILD_LOCK):
        text = path.read_text()
        assert "://" not in text, f"{path.name} names an index; uv must not emit it"
        assert "--index-url" not in text and "--extra-index-url" not in text


def read_environment() -> dict[str, tuple[str | None, str | None]]:
    """environment.yml's packages: normalized name -> (operator, version), or (None, None)."""
    import yaml

    document = yaml.safe_load((ROOT / "environment.yml").read_text())
    entries: list[str] = []
    for dependency in document["dependencies"]:
        if isinstance(dependency, dict):
            entries += [e for e in dependency["pip"] if not e.startswith("-")]
        else:
            entries.append(dependency)
    packages: dict[str, tuple[str | None, str | None]] = {}
    for entry in entries:
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:(==|=|>=)\s*(\S+))?", entry)
        assert match, f"environment.yml: cannot read {entry!r}"
        name, operator, version = match.groups()
        packages[normalize(name)] = (operator, version)
    return packages


def test_environment_yml_lists_the_test_extra() -> None:
    wanted = {normalize(r.name) for r in expand_extra("test")}
    listed = set(read_environment()) - {"python", "pip"}
    assert listed == wanted, (
        f"environment.yml and the test extra differ: only in environment.yml "
        f"{sorted(listed - wanted)}, only in the extra {sorted(wanted - listed)}"
    )


def test_environment_yml_pins_match_the_lock() -> None:
    chosen = pins_for(read_pins(LOCK), ENVIRONMENT_PYTHON)
    environment = read_environment()
    differ = {
        name: (f"{operator or ''}{version or ''}", chosen.get(name))
        for name, (operator, version) in environment.items()
        if name not in {"python", "pip"} and (operator != "==" or [version] != chosen.get(name))
    }
    assert not differ, f"environment.yml != lock on Python 3.11 (run `make relock`): {differ}"
    assert environment["python"] == ("=", ENVIRONMENT_PYTHON), environment["python"]


def test_changelog_has_a_section_for_the_current_version() -> None:
    import asyncprims

    changelog = (ROOT / "CHANGELOG.md").read_text()
    heading = re.compile(rf"^## \[{re.escape(asyncprims.__version__)}\]", re.MULTILINE)
    assert heading.search(changelog), (
        f"CHANGELOG.md has no '## [{asyncprims.__version__}]' section for __version__"
    )


def test_pre_commit_config_is_valid() -> None:
    executable = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.fail("pre-commit is not installed in this environment (it is in the dev extra)")
    done = subprocess.run(
        [executable, "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
