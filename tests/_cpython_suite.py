"""Run CPython's own asyncio lock and queue tests against another implementation.

The running interpreter ships ``test/test_asyncio/test_locks.py`` and
``test_queues.py`` in its standard library.  :func:`load_suite` executes a
*fresh copy* of each file under a private module name.  Inside those copies the
name ``asyncio`` is bound to a proxy module: every attribute comes from the real
``asyncio`` except the synchronization classes and their exceptions, which come
from the implementation under test (``asyncprims`` in the test suite).

Invariants (checked by ``tests/test_cpython_suite.py``):

* The real ``asyncio`` package and its submodules are never modified; only the
  copies see the proxy.
* The swap happens for every way a copy could reach a class: ``asyncio.Lock``,
  ``asyncio.locks.Lock``, ``from asyncio import locks`` and
  ``from asyncio.locks import Lock``.  The copies are executed with their own
  ``__import__`` so that even module-level code sees the proxy.
* A name is swapped only where the running ``asyncio`` has it, so the copies see
  the same namespace shape as on a stock interpreter of that version.

This module has no pytest dependency, so it can be used from a plain script.
"""

from __future__ import annotations

import asyncio
import builtins
import importlib.util
import sys
import sysconfig
import types
import unittest
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The names the implementation under test replaces.
SWAPPED_NAMES: tuple[str, ...] = (
    "Lock",
    "Event",
    "Condition",
    "Semaphore",
    "BoundedSemaphore",
    "Barrier",
    "BrokenBarrierError",
    "Queue",
    "PriorityQueue",
    "LifoQueue",
    "QueueEmpty",
    "QueueFull",
    "QueueShutDown",
)

#: Submodules of asyncio that define (or re-export) swapped names.
_SUBMODULES: tuple[str, ...] = ("locks", "queues", "exceptions", "mixins")

#: The CPython test files that are loaded, by stem.
SUITE_STEMS: tuple[str, ...] = ("test_locks", "test_queues")

_COPY_PREFIX = "_asyncprims_cpython_copy"


class AsyncioProxy(types.ModuleType):
    """A module object that looks like ``asyncio`` with some names overridden.

    Names stored on the proxy itself win; every other lookup falls through to
    the wrapped real module.  Assigning to the proxy never touches the real one.
    """

    def __init__(self, name: str, real: types.ModuleType, overrides: Mapping[str, Any]) -> None:
        super().__init__(name, real.__doc__)
        self.__dict__["_proxied_module"] = real
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_proxied_module"], name)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self.__dict__["_proxied_module"])) | set(self.__dict__))

    def __repr__(self) -> str:
        return f"<asyncio proxy for {self.__name__!r}>"


def build_proxy(implementation: types.ModuleType) -> AsyncioProxy:
    """Return an ``asyncio`` look-alike whose synchronization names come from
    *implementation*, including proxies for ``asyncio.locks`` and friends."""
    top_overrides: dict[str, Any] = {
        name: getattr(implementation, name)
        for name in SWAPPED_NAMES
        if hasattr(asyncio, name) and hasattr(implementation, name)
    }
    for sub in _SUBMODULES:
        real_sub = getattr(asyncio, sub, None)
        if not isinstance(real_sub, types.ModuleType):
            continue
        sub_overrides = {
            name: getattr(implementation, name)
            for name in SWAPPED_NAMES
            if hasattr(real_sub, name) and hasattr(implementation, name)
        }
        top_overrides[sub] = AsyncioProxy(real_sub.__name__, real_sub, sub_overrides)
    return AsyncioProxy("asyncio", asyncio, top_overrides)


def _make_import(proxy: AsyncioProxy) -> Any:
    """An ``__import__`` that hands out *proxy* wherever ``asyncio`` is imported."""
    real_import = builtins.__import__

    def proxied_import(
        name: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> types.ModuleType:
        module = real_import(name, globals, locals, fromlist or (), level)
        if level != 0 or not (name == "asyncio" or name.startswith("asyncio.")):
            return module
        if not fromlist or name == "asyncio":
            # `import asyncio`, `import asyncio.locks`, `from asyncio import locks`
            return proxy
        # `from asyncio.locks import Lock`: return the matching submodule proxy.
        target: Any = proxy
        for part in name.split(".")[1:]:
            target = getattr(target, part)
        return target  # type: ignore[no-any-return]

    return proxied_import


def locate(stem: str) -> Path:
    """Path of ``test/test_asyncio/<stem>.py`` in the running interpreter's stdlib."""
    candidate = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_asyncio" / f"{stem}.py"
    if candidate.is_file():
        return candidate
    spec = importlib.util.find_spec(f"test.test_asyncio.{stem}")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            f"CPython's test.test_asyncio.{stem} is not installed for {sys.executable}"
        )
    return Path(spec.origin)


def load_copy(stem: str, proxy: AsyncioProxy, tag: str) -> types.ModuleType:
    """Execute a fresh copy of CPython's ``test.test_asyncio.<stem>`` with *proxy*."""
    path = locate(stem)
    module_name = f"{_COPY_PREFIX}_{tag}_{stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    private_builtins = dict(vars(builtins))
    private_builtins["__import__"] = _make_import(proxy)
    # exec() keeps an existing __builtins__, so the copy resolves imports through us.
    module.__dict__["__builtins__"] = private_builtins
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    if module.__dict__.get("asyncio") is not proxy:
        raise RuntimeError(f"{path}: `asyncio` was not bound to the proxy")
    return module


def test_case_classes(module: types.ModuleType) -> list[type[unittest.TestCase]]:
    """The concrete TestCase classes defined by *module*, in a stable order."""
    loader = unittest.TestLoader()
    found = []
    for name, obj in sorted(vars(module).items()):
        if (
            isinstance(obj, type)
            and issubclass(obj, unittest.TestCase)
            and obj.__module__ == module.__name__
            and not name.startswith("_")
            and loader.getTestCaseNames(obj)
        ):
            found.append(obj)
    return found


@dataclass
class LoadedSuite:
    """The copies of CPython's test modules and the proxy they were given."""

    proxy: AsyncioProxy
    modules: dict[str, types.ModuleType] = field(default_factory=dict)

    def classes(self) -> list[tuple[str, type[unittest.TestCase]]]:
        """``(stem, TestCase class)`` pairs across every loaded copy."""
        return [
            (stem, cls)
            for stem, module in self.modules.items()
            for cls in test_case_classes(module)
        ]


_cache: dict[str, LoadedSuite] = {}


def load_suite(implementation: types.ModuleType) -> LoadedSuite:
    """Load (once per implementation) every file in :data:`SUITE_STEMS`."""
    tag = implementation.__name__.replace(".", "_")
    if tag not in _cache:
        proxy = build_proxy(implementation)
        suite = LoadedSuite(proxy)
        for stem in SUITE_STEMS:
            suite.modules[stem] = load_copy(stem, proxy, tag)
        _cache[tag] = suite
    return _cache[tag]
