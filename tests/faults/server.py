"""The site as it runs for real, for the fault tests: the installed gunicorn serving
``wsgi:app`` from the repository, configured by FLASK_* variables, started and stopped (or
killed) by the test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers, for its master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


class Gunicorn:
    """``workers`` sync workers on a free loopback port (kept across restarts)."""

    def __init__(self, folder: Path, env: dict[str, str], workers: int = 3) -> None:
        self.folder = folder
        self.env = env
        self.workers_wanted = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.stdout = folder / "requests.log"
        self.stderr = folder / "gunicorn.log"

    def start(self, timeout: float = 30.0) -> float:
        """Start and wait until every worker answers; returns the seconds that took."""
        started = time.monotonic()
        with self.stdout.open("ab") as out, self.stderr.open("ab") as err:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--workers",
                    str(self.workers_wanted),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    "30",
                    "--graceful-timeout",
                    "5",
                    "--error-logfile",
                    "-",
                    "--log-level",
                    "info",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=err,
            )
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.stderr.read_text()[-3000:]}")
            if len(self.workers()) == self.workers_wanted and self.healthy():
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not come up: {self.stderr.read_text()[-3000:]}")

    @property
    def master(self) -> int:
        assert self.process is not None
        return self.process.pid

    def workers(self) -> list[int]:
        return children(self.master) if self.process is not None else []

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def ready(self) -> tuple[int, dict[str, object] | None]:
        """/readyz: its status and JSON body (0, None when nothing answered)."""
        try:
            with urllib.request.urlopen(f"{self.base}/readyz", timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read())
        except (urllib.error.URLError, OSError):
            return 0, None

    def kill_worker(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def wait_for_workers(self, exclude: set[int] = frozenset(), timeout: float = 20) -> list[int]:  # type: ignore[assignment]
        """Wait until the master has its full number of workers, none of them in ``exclude``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.workers()
            if len(pids) == self.workers_wanted and not set(pids) & exclude and self.healthy():
                return pids
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not respawn its workers: {self.workers()}")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the master (graceful: requests under way finish), then wait."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def request_log(self) -> list[dict[str, object]]:
        """The site's JSON request lines (stdout), across restarts."""
        lines = []
        for line in self.stdout.read_text().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def pid_of(self, request_id: str) -> int | None:
        """The worker that served the request with this X-Request-Id."""
        for line in self.request_log():
            if line.get("request_id") == request_id:
                return int(line["pid"])  # type: ignore[arg-type]
        return None
