"""A pytest plugin: async tests that deadlock fail with a report, in virtual time if asked.

Installed with the package (the ``pytest11`` entry point ``asyncprims``) and
off unless something turns it on, so installing asyncprims changes nothing for
anyone else:

``@pytest.mark.asyncprims`` (``virtual_time=``, ``detect_deadlocks=``)
    runs an ``async def`` test through :func:`asyncprims.run`: a fresh loop,
    a deadlock fails the test at once with the :class:`~asyncprims.DeadlockError`
    report as its message, and in virtual time sleeps take no wall time.
``asyncprims_mode = auto`` (ini)
    the same for every ``async def`` test that no other plugin's marker
    (``asyncio``, ``anyio``) claims; ``strict`` (the default) runs marked
    tests only.
``asyncprims_virtual_time = true`` (ini)
    the default of ``virtual_time`` for the tests this plugin runs.
``--asyncprims-patch``
    swaps asyncio's primitives for asyncprims' for the whole session
    (:func:`asyncprims.patch`), so libraries under test use ours.
``--asyncprims-trace=DIR``
    traces the call phase of every test (whoever runs it) and writes
    ``DIR/<test id>.json`` (Chrome trace, for the Perfetto UI) and ``.txt``
    (text timeline and summary) for each test that recorded something; a
    failing test also gets the timeline and summary in its report.

Coexistence: a test marked ``asyncio`` (pytest-asyncio) or ``anyio`` stays
theirs.  A test marked both ``asyncprims`` and one of those is a usage error.
Under pytest-asyncio's auto mode a test marked ``asyncprims`` is still ours
(auto mode's implicit marker is dropped for it); anyio's auto mode claims
every coroutine test itself, so marking one ``asyncprims`` there is a usage
error, as is ``asyncprims_mode = auto`` together with either auto mode.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

MARKER = "asyncprims"
_OTHER_MARKERS = ("asyncio", "anyio")
_MARKER_OPTIONS = ("virtual_time", "detect_deadlocks")

#: StashKey for a test's timeline while --asyncprims-trace is on.
_TIMELINE = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("asyncprims", "asyncprims: deadlock reports and virtual time")
    group.addoption(
        "--asyncprims-patch",
        action="store_true",
        default=False,
        help="swap asyncio's synchronization primitives for asyncprims' for the session",
    )
    group.addoption(
        "--asyncprims-trace",
        metavar="DIR",
        default=None,
        help="trace every test; write a Chrome trace and a text timeline per test to DIR",
    )
    parser.addini(
        "asyncprims_mode",
        "strict (default): run only tests marked asyncprims; auto: also every async def "
        "test that no other plugin's marker claims",
        default="strict",
    )
    parser.addini(
        "asyncprims_virtual_time",
        "default virtual_time for tests run by asyncprims (default: false)",
        type="bool",
        default=False,
    )


def _mode(config: pytest.Config) -> str:
    mode = str(config.getini("asyncprims_mode")).strip().lower()
    if mode not in ("strict", "auto"):
        raise pytest.UsageError(f"asyncprims_mode must be 'strict' or 'auto', not {mode!r}")
    return mode


def _other_auto_modes(config: pytest.Config) -> list[str]:
    found = []
    for name in ("asyncio_mode", "anyio_mode"):
        try:
            value = config.getini(name)
        except ValueError:  # that plugin is not installed
            continue
        if str(value).strip().lower() == "auto":
            found.append(name)
    return found


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(virtual_time=..., detect_deadlocks=...): run this async test through "
        "asyncprims.run (deadlocks fail at once with a report; virtual time on request)",
    )
    if _mode(config) == "auto":
        clashes = _other_auto_modes(config)
        if clashes:
            raise pytest.UsageError(
                f"asyncprims_mode = auto and {' and '.join(f'{c} = auto' for c in clashes)} "
                "would both claim every async test: set one of them to strict"
            )
    if config.getoption("asyncprims_patch"):
        import asyncprims

        patch = getattr(asyncprims, "patch", None)
        unpatch = getattr(asyncprims, "unpatch", None)
        if patch is None or unpatch is None:
            raise pytest.UsageError("--asyncprims-patch needs asyncprims.patch()")
        config.add_cleanup(unpatch)
        patch()


# -- which tests are ours ---------------------------------------------------------------


def _explicit_markers(item: pytest.Function) -> set[str]:
    """Names of the markers the user put on the test, its class or its module
    (not the ones a plugin added to the item during collection)."""
    from _pytest.mark.structures import get_unpacked_marks

    names = {mark.name for mark in get_unpacked_marks(item.function)}
    node: Any = item.parent
    while node is not None:
        names.update(mark.name for mark in getattr(node, "own_markers", ()))
        node = node.parent
    return names


def _is_ours(item: pytest.Function) -> bool:
    if not inspect.iscoroutinefunction(getattr(item, "function", None)):
        return False
    explicit = _explicit_markers(item)
    if MARKER in explicit:
        return True
    return _mode(item.config) == "auto" and not explicit & set(_OTHER_MARKERS)


def _conflict(item: pytest.Function) -> str | None:
    """Why this test, which is ours, cannot run, or None."""
    explicit = _explicit_markers(item)
    both = sorted(explicit & set(_OTHER_MARKERS))
    if both:
        return (
            f"{item.nodeid} is marked both '{MARKER}' and '{both[0]}': choose one plugin to run it"
        )
    if "anyio_backend" in item.fixturenames:
        return (
            f"{item.nodeid} is marked '{MARKER}', but anyio_mode = auto makes anyio "
            f"run it too: set anyio_mode to strict, or drop the '{MARKER}' marker"
        )
    marker = item.get_closest_marker(MARKER)
    if marker is not None:
        unknown = sorted(set(marker.kwargs) - set(_MARKER_OPTIONS))
        if marker.args or unknown:
            return (
                f"{item.nodeid}: @pytest.mark.{MARKER} takes only keyword arguments "
                f"{', '.join(_MARKER_OPTIONS)}; got {', '.join(map(repr, marker.args))}"
                f"{', ' if marker.args and unknown else ''}{', '.join(unknown)}"
            )
    return None


def _reclaim(item: Any) -> Any:
    """A plain Function for a test that pytest-asyncio's auto mode converted."""
    if type(item).__module__.split(".")[0] != "pytest_asyncio":
        return item
    plain = pytest.Function.from_parent(
        item.parent,
        name=item.name,
        callspec=getattr(item, "callspec", None),
        callobj=item.obj,
        fixtureinfo=item._fixtureinfo,
        keywords=item.keywords,
        originalname=item.originalname,
    )
    plain.own_markers = [m for m in item.own_markers if m.name != "asyncio"]
    return plain


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_pycollect_makeitem(collector: Any, name: str, obj: object) -> Generator[None, Any, None]:
    """Outermost: take back, from pytest-asyncio's auto mode, the tests that are ours."""
    outcome = yield
    result = outcome.get_result()
    if not result:
        return
    items = list(result) if isinstance(result, list | tuple) else [result]
    if not any(isinstance(i, pytest.Function) for i in items):
        return
    changed = [_reclaim(i) if isinstance(i, pytest.Function) and _is_ours(i) else i for i in items]
    outcome.force_result(changed if isinstance(result, list | tuple) else changed[0])


# -- running them -----------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test that is ours but cannot be run as asked errors out before anyone runs it
    (another plugin's pyfunc_call may come before ours)."""
    if isinstance(item, pytest.Function) and _is_ours(item):
        problem = _conflict(item)
        if problem is not None:
            pytest.fail(f"usage error: {problem}", pytrace=False)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not _is_ours(pyfuncitem):
        return None
    import asyncprims

    marker = pyfuncitem.get_closest_marker(MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    options.setdefault("virtual_time", bool(pyfuncitem.config.getini("asyncprims_virtual_time")))
    if (
        "detect_deadlocks" in options
        and "detect_deadlocks" not in inspect.signature(asyncprims.run).parameters
    ):
        options.pop("detect_deadlocks")  # an older asyncprims: detection is always on
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    try:
        asyncprims.run(pyfuncitem.obj(**arguments), **options)
    except asyncprims.DeadlockError as error:
        pytest.fail(
            f"{pyfuncitem.name} deadlocked under asyncprims.run\n{error.report}", pytrace=False
        )
    return True


# -- tracing ----------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    folder = item.config.getoption("asyncprims_trace")
    if folder is None:
        yield
        return
    import asyncprims

    with asyncprims.trace() as timeline:
        item.stash[_TIMELINE] = timeline
        yield


def _file_stem(nodeid: str) -> str:
    """A file name for a test id: safe characters only, and short enough."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")
    return stem[-150:]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, Any, None]:
    outcome = yield
    if call.when != "call":
        return
    timeline = item.stash.get(_TIMELINE, None)
    if timeline is None or not timeline.events:
        return
    import json

    text = timeline.render_text(width=100)
    summary = timeline.summary()
    folder = Path(item.config.getoption("asyncprims_trace"))
    folder.mkdir(parents=True, exist_ok=True)
    stem = _file_stem(item.nodeid)
    (folder / f"{stem}.json").write_text(json.dumps(timeline.to_chrome_trace()), encoding="utf-8")
    (folder / f"{stem}.txt").write_text(f"{item.nodeid}\n\n{text}\n\n{summary}\n", encoding="utf-8")
    report = outcome.get_result()
    if report.failed:
        report.sections.append(("asyncprims timeline", text))
        report.sections.append(("asyncprims summary", summary))
