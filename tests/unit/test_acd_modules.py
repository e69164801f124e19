"""The ACD engine's modules fit together: every event has a handler, the compiled build
(setup.py ACD_HOT) covers every module the engine's parts import, and the errors are one set.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import get_args

import tamas.acd
from tamas.acd import api, engine, errors

ROOT = Path(__file__).resolve().parents[2]
ACD = ROOT / "src" / "tamas" / "acd"
#: The engine's parts: the event table in engine.py, and the modules it hands events to.
PARTS = ("engine", "selection", "callback", "presence")
#: Imported by the parts but deliberately interpreted (setup.py): types and exceptions only.
NOT_HOT = {"api", "errors"}


def _acd_imports(module: str) -> set[str]:
    """The tamas.acd modules ``module`` imports at run time (not under TYPE_CHECKING)."""
    tree = ast.parse((ACD / f"{module}.py").read_text())
    found: set[str] = set()
    for node in tree.body:  # (module level only: an ``if TYPE_CHECKING:`` block is skipped)
        if isinstance(node, ast.ImportFrom) and node.module == "tamas.acd":
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tamas.acd."):
            found.add((node.module or "").removeprefix("tamas.acd."))
    return found


def _acd_hot() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("tamas_setup", ROOT / "setup.py")
    assert spec and spec.loader
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)
    hot: tuple[str, ...] = setup.ACD_HOT
    return hot


def test_every_event_has_exactly_one_handler() -> None:
    assert set(engine._HANDLERS) == set(get_args(api.Event))


def test_the_compiled_build_covers_every_module_the_engine_runs() -> None:
    hot = set(_acd_hot())
    assert set(PARTS) <= hot
    for part in PARTS:
        imported = _acd_imports(part) - NOT_HOT
        assert imported <= hot, (part, imported - hot)
    # The check can fail: engine.py imports callback and presence at run time.
    assert {"selection", "callback", "presence", "model"} <= _acd_imports("engine")


def test_the_errors_are_the_same_classes_wherever_imported() -> None:
    for name in errors.__all__:
        assert getattr(engine, name) is getattr(errors, name)
        assert getattr(tamas.acd, name) is getattr(errors, name)
        assert issubclass(getattr(errors, name), errors.AcdError)
