"""A throw-away PostgreSQL cluster on a free loopback port, as `.ci/test` starts one.

The benchmarks run against PostgreSQL because production does (SQLite serialises writers and
would measure its own lock, not the site). ``pg_stat_statements`` is preloaded so a benchmark
can count the statements a request runs. As root the cluster runs as the ``postgres`` user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import free_port


def _pg_bin() -> Path:
    # The newest major version (as numbers: 15 after 9.6).
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(n) for n in p.parts[-3].split(".") if n.isdigit()],
    )
    if not found:
        raise SystemExit("PostgreSQL is missing: apt-get install postgresql")
    return found[-1].parent


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass(frozen=True)
class Cluster:
    url: str  # SQLAlchemy URL
    data: Path

    def pids(self) -> list[int]:
        """The postmaster and its children (the backends serving the site, and the rest)."""
        master = int((self.data / "postmaster.pid").read_text().split()[0])
        children = (Path(f"/proc/{master}/task/{master}/children")).read_text().split()
        return [master, *(int(pid) for pid in children)]


@contextmanager
def postgres() -> Iterator[Cluster]:
    """Start a cluster (fsync off: a benchmark measures the site, not this disk); yield it;
    stop it and remove its folder afterwards, whatever happens."""
    pg_bin = _pg_bin()
    folder = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", free_port()
    subprocess.run(
        _as_postgres(
            [
                str(pg_bin / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = (
        f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off "
        "-c max_connections=200 -c shared_preload_libraries=pg_stat_statements"
    )
    started = subprocess.run(
        _as_postgres(
            [
                str(pg_bin / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(folder / "server.log"),
                "-o",
                options,
                "-w",
                "start",
            ]
        ),
        capture_output=True,
        text=True,
    )
    if started.returncode:
        log = folder / "server.log"
        raise SystemExit(f"PostgreSQL did not start:\n{log.read_text() if log.exists() else ''}")
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        subprocess.run(
            [
                str(pg_bin / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "-qc",
                "CREATE EXTENSION pg_stat_statements",
            ],
            check=True,
            capture_output=True,
        )
        yield Cluster(url, data)
    finally:
        subprocess.run(
            _as_postgres([str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def version() -> str:
    """The major version of the PostgreSQL the benchmarks start."""
    return _pg_bin().parent.name
