"""The benchmarks keep working as the code under them changes.

`make bench` is not part of the test command (its figures take minutes), so a benchmark broken
by a refactor would go unnoticed until someone needs its figures: every script in bench/ must
import (each as `python bench/X.py` would, with bench/ first on the path), and the shortest
benchmark that drives the whole daemon runs to its figures.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import REPO

BENCH = REPO / "bench"
SCRIPTS = sorted(path.stem for path in BENCH.glob("*.py"))


def test_there_are_benchmarks_to_check() -> None:
    assert {"cycle", "cycle_probe", "halted_requests", "strategy"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_benchmark_script_imports(script: str) -> None:
    code = f"import sys; sys.path.insert(0, {str(BENCH)!r}); import {script}"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_halted_requests_benchmark_prints_its_figures() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "halted_requests.py"), "--minutes", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "fewer requests while halted" in result.stdout, result.stdout
