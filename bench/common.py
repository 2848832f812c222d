"""Helpers every benchmark shares: ports, gunicorn, wrk, a prepared instance and database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.helpers import free_port  # noqa: F401  (the benchmarks import it from here)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def wait_up(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


#: The gunicorn settings of every benchmark, the ceiling's and the site's alike: sync workers
#: (as ``make serve``), the default timeout, no access log (the site writes its own JSON line
#: per request to stdout, which goes to a file, as it would go to a journal).
GUNICORN_SETTINGS = "sync workers, --log-level warning, request log to a file"


def gunicorn(
    app: str,
    port: int,
    workers: int,
    env: dict[str, str],
    cwd: Path,
    pidfile: Path,
    stdout: Path | None = None,
) -> subprocess.Popen[bytes]:
    """gunicorn serving ``app``; its stdout (the site's request log) goes to ``stdout``, else
    beside the pid file."""
    log = (stdout or pidfile.with_suffix(".log")).open("ab")
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--pid",
            str(pidfile),
            "--log-level",
            "warning",
            app,
        ],
        cwd=cwd,
        env=env,
        stdout=log,
    )


def wrk(
    url: str, seconds: int, headers: list[str], connections: int = 32, script: Path | None = None
) -> tuple[float, str]:
    """Requests per second and the median latency; any error response stops the benchmark."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        args += ["-H", header]
    if script is not None:
        args += ["-s", str(script)]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} error responses")
    return rate, p50


def prepare(prefix: str, database_url: str | None, **extra: str) -> tuple[Path, dict[str, str]]:
    """A fresh instance folder and database (SQLite there unless ``database_url``), made with
    ``init-db``, and the environment the servers run with."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = dict(
        os.environ,
        WIZARD_INSTANCE_PATH=str(tmp),
        FLASK_SECRET_KEY="bench",
        FLASK_RATELIMIT_ENABLED="false",
        FLASK_DATABASE_URL=database_url or f"sqlite:///{tmp}/bench.sqlite3",
        **extra,
    )
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "init-db"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return tmp, env


def worker_pids(pidfile: Path) -> list[int]:
    """The gunicorn master's children (its workers), from /proc."""
    master = int(pidfile.read_text().strip())
    children: list[int] = []
    for task in Path(f"/proc/{master}/task").iterdir():
        text = (task / "children").read_text().split()
        children += [int(pid) for pid in text]
    return children


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (utime + stime in /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue  # a worker recycled meanwhile: its time is lost, say so where it matters
        total += int(fields[11]) + int(fields[12])
    return total / tick


def settle(cpu_of: Callable[[], float], limit: float = 20.0) -> None:
    """Wait until the server is idle (under 5% of a core for a quarter of a second), so the
    requests a previous load generator left queued are not counted in the next benchmark."""
    deadline = time.perf_counter() + limit
    last = cpu_of()
    while time.perf_counter() < deadline:
        time.sleep(0.25)
        now = cpu_of()
        if now - last < 0.0125:
            return
        last = now
