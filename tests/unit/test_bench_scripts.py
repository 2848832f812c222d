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


def test_goals_judge_pages_the_poll_the_hash_and_memory() -> None:
    from bench import goals

    small = 0.5
    rows = [
        ("2 個人資料: GET /register/personal", 1.0),  # 0.50: met, just
        ("3 裝置: GET /register/device", 1.1),  # 0.45: missed
        ("4 QR code: poll, unchanged (204)", 0.75),  # 0.67: under the poll's 0.7
        ("2 個人資料: POST /register/personal (argon2id hash)", 180.0),  # judged by the hash
        ("7 登入: GET /login (bound browser, four fields)", float("nan")),  # not measured
    ]
    verdicts = goals.requests(rows, small)
    assert [(v.what.split(":")[1].strip(), v.goal, v.met) for v in verdicts] == [
        ("GET /register/personal", 0.5, True),
        ("GET /register/device", 0.5, False),
        ("poll, unchanged (204)", 0.7, False),
    ]
    assert goals.registration(180.0, 146.0).met
    assert not goals.registration(220.0, 146.0).met  # 1.51, today's figure
    assert goals.memory([(0, 90_000), (10_000, 90_400)]).met
    assert not goals.memory([(0, 90_000), (10_000, 99_000)]).met
    table = goals.report(verdicts)
    assert table[2].endswith("| met |") and table[3].endswith("| **missed** |")


def test_make_bench_fails_when_a_goal_is_missed(capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(ROOT))
    from bench import run, steps

    report = run.Report(2)
    ceiling = [steps.Result("plain", 6000, 2, 4, 1, 0.2), steps.Result("small", 3000, 5, 7, 1, 0.6)]
    report.ceilings = [ceiling, ceiling]
    report.requests = [steps.Result("1 個人登入: GET /login (new visitor)", 900, 17, 35, 1, 1.0)]
    assert run.exit_status(report) == 0  # 0.60
    report.requests.append(steps.Result("4 QR code: GET /register/qr", 300, 60, 70, 1, 3.0))
    assert run.exit_status(report) == 1  # 0.20
    assert "goal missed: 4 QR code: GET /register/qr" in capsys.readouterr().err
    report.memory = [(0, 90_000), (10_000, 100_000)]
    assert sum(not v.met for v in report.verdicts()) == 2
