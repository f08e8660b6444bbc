"""CPython's own asyncio tests for locks and queues, run against asyncprims.

Each ``unittest.TestCase`` of the running interpreter's ``test_locks`` and
``test_queues`` is re-exposed here as ``CPython_<ClassName>``, so every CPython
test is its own pytest item (``-k CPython_LockTests``, ``-m cpython``).  The
loading and the ``asyncio`` swap live in ``_cpython_suite.py``.

asyncprims targets CPython 3.13 semantics on every Python.  A test from an older
CPython that asserts behaviour 3.13 changed is listed in ``PRE_313_BEHAVIOUR``
and runs as ``xfail(strict=True)`` on that Python only: if it starts passing,
the entry is stale and the run fails.  Any other failure is a bug.
"""

from __future__ import annotations

import asyncio
import sys
import types
import unittest
from typing import Any

import pytest
from _cpython_suite import SUITE_STEMS, SWAPPED_NAMES, load_suite

import asyncprims

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

#: ``(python "3.X", "Class.test_method")`` -> why the test asserts pre-3.13 behaviour.
PRE_313_BEHAVIOUR: dict[tuple[str, str], str] = {}

#: Fewer collected CPython tests than this means the loading silently lost some.
MINIMUM_TESTS = {"test_locks": 45, "test_queues": 30}

# Snapshot of the real asyncio, taken before any copy is loaded.
_REAL = {
    (module.__name__, name): getattr(module, name)
    for module in (asyncio, asyncio.locks, asyncio.queues, asyncio.exceptions)
    for name in SWAPPED_NAMES
    if hasattr(module, name)
}

_suite = load_suite(asyncprims)


def _strict_xfail(function: Any, reason: str) -> Any:
    """A marked copy of *function*; the original in the CPython copy stays untouched."""
    copied = types.FunctionType(
        function.__code__,
        function.__globals__,
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    copied.__dict__.update(function.__dict__)
    copied.__qualname__ = function.__qualname__
    return pytest.mark.xfail(strict=True, reason=reason)(copied)


def _expose(base: type[unittest.TestCase]) -> type[unittest.TestCase]:
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__doc__": f"CPython {PYTHON} {base.__module__}.{base.__qualname__} on asyncprims.",
        "pytestmark": [pytest.mark.cpython],
    }
    for (python, test_id), reason in PRE_313_BEHAVIOUR.items():
        class_name, _, method = test_id.partition(".")
        if python == PYTHON and class_name == base.__name__:
            namespace[method] = _strict_xfail(getattr(base, method), reason)
    return type(f"CPython_{base.__name__}", (base,), namespace)


_exposed: list[type[unittest.TestCase]] = []
for _stem, _base in _suite.classes():
    _cls = _expose(_base)
    if _cls.__name__ in globals():
        raise RuntimeError(f"duplicate CPython test class name {_cls.__name__}")
    globals()[_cls.__name__] = _cls
    _exposed.append(_cls)
del _stem, _base, _cls


def test_every_suite_file_was_loaded() -> None:
    loader = unittest.TestLoader()
    for stem in SUITE_STEMS:
        module = _suite.modules[stem]
        count = sum(len(loader.getTestCaseNames(cls)) for s, cls in _suite.classes() if s == stem)
        assert count >= MINIMUM_TESTS[stem], f"{module.__file__}: only {count} tests found"


def test_copies_see_asyncprims_classes() -> None:
    """Guards against the harness quietly testing asyncio against itself."""
    locks_copy = _suite.modules["test_locks"]
    lock = eval("asyncio.Lock()", vars(locks_copy))
    assert type(lock) is asyncprims.Lock
    assert not isinstance(lock, type(asyncio.Lock()))
    queue = eval("asyncio.Queue()", vars(_suite.modules["test_queues"]))
    assert type(queue) is asyncprims.Queue
    for name in SWAPPED_NAMES:
        if hasattr(asyncio, name):
            assert getattr(_suite.proxy, name) is getattr(asyncprims, name), name
    assert _suite.proxy.locks.Lock is asyncprims.Lock
    assert _suite.proxy.queues.Queue is asyncprims.Queue
    # Non-swapped names fall through to the real asyncio.
    assert _suite.proxy.sleep is asyncio.sleep
    assert _suite.proxy.get_running_loop is asyncio.get_running_loop


def test_import_forms_inside_a_copy_resolve_to_asyncprims() -> None:
    code = (
        "import asyncio.locks\n"
        "from asyncio import queues\n"
        "from asyncio.locks import Event\n"
        "result = (asyncio.locks.Lock, queues.Queue, Event)\n"
    )
    namespace = vars(_suite.modules["test_locks"])
    scratch: dict[str, Any] = {"__builtins__": namespace["__builtins__"]}
    exec(code, scratch)
    assert scratch["result"] == (asyncprims.Lock, asyncprims.Queue, asyncprims.Event)
    assert scratch["asyncio"] is _suite.proxy


def test_real_asyncio_is_untouched() -> None:
    assert sys.modules["asyncio"] is asyncio
    assert not isinstance(asyncio, type(_suite.proxy))
    for (module_name, name), value in _REAL.items():
        assert getattr(sys.modules[module_name], name) is value, f"{module_name}.{name}"
    assert asyncio.Lock is not asyncprims.Lock
    assert asyncio.Queue is not asyncprims.Queue
    import builtins

    assert builtins.__import__ is __import__
    for stem in SUITE_STEMS:
        real = sys.modules.get(f"test.test_asyncio.{stem}")
        assert real is None or real.asyncio is asyncio


def test_expected_failure_table_names_real_tests() -> None:
    exposed = {cls.__name__.removeprefix("CPython_"): cls for cls in _exposed}
    for python, test_id in PRE_313_BEHAVIOUR:
        if python != PYTHON:
            continue
        class_name, _, method = test_id.partition(".")
        assert class_name in exposed, test_id
        assert hasattr(exposed[class_name], method), test_id
