"""The pure cores stay pure: no coroutine and no await in domain/, pipeline/ or risk/.

`lint-imports` (the contracts in pyproject.toml) keeps I/O libraries and upper layers out of them;
this keeps out the other way in, code that would need an event loop to run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import catalyst

PURE_PACKAGES = ("domain", "pipeline", "risk")
ROOT = Path(catalyst.__file__).parent


def _async_nodes(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.AsyncFunctionDef | ast.Await | ast.AsyncFor | ast.AsyncWith):
            found.append(f"line {node.lineno}: {type(node).__name__}")
    return found


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_core_package_has_no_coroutines(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"catalyst/{package} has no modules"
    offences = {
        str(path.relative_to(ROOT)): found
        for path in modules
        if (found := _async_nodes(path.read_text(encoding="utf-8")))
    }
    assert offences == {}


def test_the_check_sees_a_coroutine() -> None:
    assert _async_nodes("async def f():\n    await g()\n") == [
        "line 1: AsyncFunctionDef",
        "line 2: Await",
    ]
