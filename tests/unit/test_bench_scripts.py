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
    """In a fresh interpreter, with nothing else imported first (a circular import shows)."""
    result = subprocess.run(
        [sys.executable, "-c", f"import importlib; importlib.import_module('bench.{name}')"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", ["run", "throttled", "poll", "login", "hotspots"])
def test_each_command_parses_its_arguments_as_a_script(script: str) -> None:
    """`python bench/<script>.py --help`, as `make bench` runs them (their own sys.path setup,
    no package import first), parses its arguments without starting anything."""
    result = subprocess.run(
        [sys.executable, f"bench/{script}.py", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()


def test_the_hotspot_profile_runs_every_page_beside_the_bare_app() -> None:
    """bench/hotspots.py in-process (a few requests each): a line per page, its ratio, its top
    functions; every page answered as a person at that step would get it (200/204)."""
    result = subprocess.run(
        [sys.executable, "bench/hotspots.py", "--requests", "3", "--top", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for page in ("bare Flask, small template", "GET /register/personal", "GET /register/qr"):
        assert f"{page}: " in out, out
    assert out.count("vs bare small template") == 8 and out.count("by area: ") == 8
