"""Which build of Tamas is under test: pure Python, or the mypyc-compiled one of setup.py.

scripts/test.sh sets TAMAS_EXPECT_COMPILED=1 when it runs the suite against the compiled
build; without it the suite must be running the pure source. Either way a run that tests
the other build than it claims fails here instead of passing silently.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _setup_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tamas_setup", ROOT / "setup.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _module_name(path: str) -> str:
    return path.removeprefix("src/").removesuffix(".py").replace("/", ".")


def _is_extension(name: str) -> bool:
    origin = importlib.import_module(name).__file__ or ""
    return origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def test_compiled_modules_are_the_hot_path_without_the_errors() -> None:
    names = {_module_name(p) for p in _setup_module().compiled_modules()}
    assert {"tamas.sip.message", "tamas.sip.transaction", "tamas.runtime.b2bua"} <= names
    assert "tamas.sip.errors" not in names
    assert "tamas.core.errors" not in names


def test_the_build_under_test_is_the_one_asked_for() -> None:
    expect_compiled = os.environ.get("TAMAS_EXPECT_COMPILED", "") not in ("", "0")
    names = [_module_name(p) for p in _setup_module().compiled_modules()]
    built = {name: _is_extension(name) for name in names}
    assert built == dict.fromkeys(names, expect_compiled)
    assert not _is_extension("tamas.sip.errors")
