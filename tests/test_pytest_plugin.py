"""The pytest plugin (asyncprims.pytest_plugin), driven through pytester in subprocesses.

Each inner run is a separate ``python -m pytest`` with a timeout, so a plugin
that failed to stop a deadlock or to jump a virtual clock fails here instead
of hanging: the deadlocking test and the hour-long sleep would never finish
without it.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

pytest_plugins = ["pytester"]

#: Generous: an inner run takes about a second; a hang is what this catches.
TIMEOUT = 120

DEADLOCK = """
import asyncio, pytest, asyncprims

@pytest.mark.asyncprims(virtual_time=True)
async def test_two_forks():
    a, b = asyncprims.Lock(name="fork A"), asyncprims.Lock(name="fork B")

    async def philosopher(first, second):
        async with first:
            await asyncio.sleep(1)
            async with second:
                pass

    await asyncio.gather(asyncio.create_task(philosopher(a, b), name="Plato"),
                         asyncio.create_task(philosopher(b, a), name="Kant"))
"""


#: The plugins an inner run loads (entry-point autoloading is off: faster, and
#: only these can interfere); ``autoload=True`` loads every installed one.
PLUGINS = tuple(
    name
    for name in ("asyncprims.pytest_plugin", "pytest_asyncio.plugin", "anyio.pytest_plugin")
    if importlib.util.find_spec(name.split(".")[0]) is not None
)


def run(
    pytester: pytest.Pytester,
    *args: str,
    plugins: tuple[str, ...] = PLUGINS,
    autoload: bool = False,
) -> pytest.RunResult:
    options = ["-p", "no:cacheprovider"]
    if not autoload:
        pytester._monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        for plugin in plugins:
            options += ["-p", plugin]
    else:
        pytester._monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    return pytester.runpytest_subprocess(*options, *args, timeout=TIMEOUT)


def test_a_deadlocking_test_fails_at_once_with_the_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_deadlock=DEADLOCK)
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_two_forks deadlocked under asyncprims.run*",
            "*task 'Kant' waits to acquire Lock 'fork A' (held by 'Plato')*",
            "*cycle: 'Kant' -> 'Plato' -> 'Kant'*",
        ]
    )


def test_an_hour_of_virtual_sleep_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio, pytest

        @pytest.mark.asyncprims(virtual_time=True)
        async def test_nap():
            loop = asyncio.get_running_loop()
            await asyncio.sleep(3600)
            assert loop.time() == 3600.0
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_ini_default_for_virtual_time_and_auto_mode(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncprims_mode = auto\nasyncprims_virtual_time = true\n")
    pytester.makepyfile(
        """
        import asyncio, pytest

        async def test_unmarked_is_run_in_virtual_time():
            await asyncio.sleep(3600)
            assert asyncio.get_running_loop().time() == 3600.0

        @pytest.mark.asyncprims(virtual_time=False)
        async def test_marked_real_time():
            assert asyncio.get_running_loop().time() > 0

        def test_plain_function_untouched():
            assert True
        """
    )
    run(pytester).assert_outcomes(passed=3)


def test_fixtures_reach_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture
        def answer():
            return 42

        @pytest.mark.asyncprims
        @pytest.mark.parametrize("offset", [0, 1])
        async def test_sum(answer, offset):
            assert answer + offset in (42, 43)
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_traces_are_written_and_failures_carry_the_timeline(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_traced="""
        import asyncio, pytest, asyncprims

        async def hand_over(fail):
            lock = asyncprims.Lock(name="db")

            async def worker():
                async with lock:
                    await asyncio.sleep(0.1)

            await asyncio.gather(*(asyncio.create_task(worker(), name=f"w{n}") for n in (1, 2)))
            assert not fail, "on purpose"

        @pytest.mark.asyncprims(virtual_time=True)
        async def test_passes():
            await hand_over(False)

        @pytest.mark.asyncprims(virtual_time=True)
        async def test_fails():
            await hand_over(True)

        def test_sync_records_nothing():
            pass
        """
    )
    folder = pytester.path / "traces"
    result = run(pytester, f"--asyncprims-trace={folder}")
    result.assert_outcomes(passed=2, failed=1)
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "test_traced.py_test_fails.json",
        "test_traced.py_test_fails.txt",
        "test_traced.py_test_passes.json",
        "test_traced.py_test_passes.txt",
    ]
    trace = json.loads((folder / "test_traced.py_test_passes.json").read_text())
    assert any(e.get("ph") == "s" for e in trace["traceEvents"])  # the hand-off's flow
    text = (folder / "test_traced.py_test_passes.txt").read_text()
    assert "w1 -> w2  release Lock 'db'" in text
    result.stdout.fnmatch_lines(["*asyncprims timeline*", "*w1 -> w2  release Lock 'db'*"])
    assert result.stdout.str().count("asyncprims timeline") == 1  # only the failing test


def test_usage_errors_are_clear(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncprims
        @pytest.mark.asyncio
        async def test_both():
            pass

        @pytest.mark.asyncprims(virtual=True)
        async def test_typo():
            pass
        """
    )
    result = run(pytester, plugins=("asyncprims.pytest_plugin",))
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*usage error: *test_both is marked both 'asyncprims' and 'asyncio'*",
            "*usage error: *test_typo: @pytest.mark.asyncprims takes only keyword arguments "
            "virtual_time, detect_deadlocks; got virtual*",
        ]
    )
    pytester.makeini("[pytest]\nasyncprims_mode = sometimes\n")
    bad = run(pytester)
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*asyncprims_mode must be 'strict' or 'auto', not 'sometimes'*"])


def test_off_unless_asked(pytester: pytest.Pytester) -> None:
    """Installed but not enabled: unmarked async tests are not run by us (pytest
    reports them as it would without the plugin), and nothing is patched."""
    pytester.makepyfile(
        """
        import asyncio

        def test_asyncio_is_untouched():
            assert asyncio.Lock.__module__ == "asyncio.locks"

        async def test_unmarked_coroutine():
            pass
        """
    )
    # the entry point loads the plugin: nothing asks for it
    with_plugin = run(pytester, "-p", "no:asyncio", "-p", "no:anyio", autoload=True)
    without = run(
        pytester, "-p", "no:asyncio", "-p", "no:anyio", "-p", "no:asyncprims", autoload=True
    )
    assert "asyncprims" in with_plugin.stdout.str()  # the plugin was loaded...
    assert with_plugin.parseoutcomes() == without.parseoutcomes()  # ...and changed nothing
    assert with_plugin.parseoutcomes() == {"passed": 1, "failed": 1}


pytest_asyncio_suite = """
import asyncio, pytest, pytest_asyncio

@pytest_asyncio.fixture
async def ready_event():
    event = asyncio.Event()
    event.set()
    return event

@pytest.mark.asyncio
async def test_fixture_and_loop(ready_event):
    assert await ready_event.wait()
    assert type(asyncio.get_running_loop()).__module__.startswith("asyncio")

@pytest.mark.asyncio
async def test_queue_round_trip():
    queue = asyncio.Queue()
    await queue.put(1)
    assert await queue.get() == 1

async def test_unmarked():
    await asyncio.sleep(0)
"""


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_a_pytest_asyncio_suite_behaves_as_before(pytester: pytest.Pytester, mode: str) -> None:
    pytest.importorskip("pytest_asyncio")
    pytester.makeini(
        f"[pytest]\nasyncio_mode = {mode}\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(test_suite=pytest_asyncio_suite)
    with_plugin = run(pytester, "-rA")
    without = run(pytester, "-rA", plugins=("pytest_asyncio.plugin", "anyio.pytest_plugin"))
    assert with_plugin.parseoutcomes() == without.parseoutcomes()
    # strict mode leaves the unmarked coroutine to nobody: pytest fails it, as without us
    expected = {"passed": 3} if mode == "auto" else {"passed": 2, "failed": 1}
    assert with_plugin.parseoutcomes() == expected


def test_marked_tests_are_ours_even_in_pytest_asyncio_auto_mode(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_asyncio")
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(
        """
        import asyncio, pytest

        @pytest.mark.asyncprims(virtual_time=True)
        async def test_ours():
            await asyncio.sleep(3600)
            assert asyncio.get_running_loop().time() == 3600.0

        async def test_theirs():
            assert asyncio.get_running_loop().time() > 0
        """
    )
    run(pytester).assert_outcomes(passed=2)
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncprims_mode = auto\n")
    clash = run(pytester)
    assert clash.ret == pytest.ExitCode.USAGE_ERROR
    clash.stderr.fnmatch_lines(["*asyncprims_mode = auto and asyncio_mode = auto*"])


def test_anyio_tests_stay_anyio_s(pytester: pytest.Pytester) -> None:
    pytest.importorskip("anyio.pytest_plugin")
    pytester.makepyfile(
        """
        import asyncio, pytest

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.mark.anyio
        async def test_theirs():
            loop = asyncio.get_running_loop()
            assert not type(loop).__module__.startswith("asyncprims")

        @pytest.mark.anyio
        @pytest.mark.asyncprims
        async def test_both():
            pass
        """
    )
    for plugins in (
        ("asyncprims.pytest_plugin", "anyio.pytest_plugin"),
        ("anyio.pytest_plugin", "asyncprims.pytest_plugin"),
    ):  # either order
        result = run(pytester, plugins=plugins)
        result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*marked both 'asyncprims' and 'anyio'*"])


@pytest.mark.skipif(sys.version_info < (3, 10), reason="the package needs 3.10")
def test_patch_option(pytester: pytest.Pytester) -> None:
    import asyncprims

    if not hasattr(asyncprims, "patch"):
        pytest.skip("asyncprims.patch() is not there yet")
    pytester.makepyfile(
        """
        import asyncio, asyncprims

        def test_patched():
            assert asyncio.Lock is asyncprims.Lock
            assert asyncio.Queue is asyncprims.Queue
        """
    )
    run(pytester, "--asyncprims-patch").assert_outcomes(passed=1)
    run(pytester).assert_outcomes(failed=1)
