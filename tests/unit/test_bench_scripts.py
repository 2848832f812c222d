"""The benchmark scripts (`make bench`) are not run by the tests (they take minutes and want
an idle machine), but each must at least import: a circular import between two of them once
went unnoticed until the next `make bench`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem != "__init__")


def test_every_script_is_listed() -> None:
    assert {"run", "throttled", "poll", "login", "common", "cluster"} <= set(SCRIPTS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_each_script_imports_on_its_own(name: str) -> None:
    """In a fresh interpreter, as `python bench/<name>.py` would: nothing else imported first."""
    result = subprocess.run(
        [sys.executable, "-c", f"import importlib; importlib.import_module('bench.{name}')"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_the_scripts_show_their_usage() -> None:
    """`run.py --help` parses its arguments without starting anything."""
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()
