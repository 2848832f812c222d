"""Fixtures of the fault tests: a PostgreSQL cluster of their own (whatever TEST_DATABASE_URL
says: these tests stop and start it), a database per test copied from a migrated and seeded
template, and gunicorn serving the site on it.

.ci/test runs this package in its SQLite pass only (``--ignore=tests/faults`` in the
PostgreSQL pass): it brings its own PostgreSQL, so a second pass would test the same thing.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.postgres import Cluster
from tests.faults.server import ROOT, Gunicorn
from tests.helpers import FIXED_CAPTCHA

TEMPLATE = "wizard_template"
_numbers = itertools.count(1)


def site_env(database_url: str, instance: Path, **settings: object) -> dict[str, str]:
    """The environment of ``flask`` / gunicorn: this machine's, less any FLASK_* setting of
    the caller's, plus the test settings (the simulator, a fixed CAPTCHA answer, cheap argon2id
    parameters, no rate limits) and ``settings`` (``None`` removes one)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FLASK_", "WIZARD_")) and key != "TEST_DATABASE_URL"
    }
    values: dict[str, object] = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "fault-tests-secret-key-0123456789abcdef",
        "CAPTCHA_FIXED_ANSWER": FIXED_CAPTCHA,
        "RATELIMIT_ENABLED": "false",
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
    }
    values.update(settings)
    env.update({f"FLASK_{key}": str(value) for key, value in values.items() if value is not None})
    env["WIZARD_INSTANCE_PATH"] = str(instance)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    folder = Path(tempfile.mkdtemp(prefix="wizard-faults-pg-"))
    cluster = Cluster(folder)
    try:
        cluster.init()
        cluster.start()
        cluster.execute(f"CREATE DATABASE {TEMPLATE}")
        env = site_env(cluster.url(TEMPLATE), folder / "instance")
        # The migrations and the demo people, as an operator's `flask init-db` makes them.
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "init-db"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        yield cluster
    finally:
        if cluster.running():
            cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Site:
    server: Gunicorn
    database_url: str
    folder: Path
    #: CLOCK_OFFSET_FILE when the site was made with clock_offset=True.
    clock_file: Path

    @property
    def base(self) -> str:
        return self.server.base

    def move_clock(self, seconds: float) -> None:
        """The server's clock, from now on: the real time plus ``seconds``."""
        self.clock_file.write_text(str(seconds))


MakeSite = Callable[..., Site]


@pytest.fixture
def make_site(cluster: Cluster, tmp_path: Path) -> Iterator[MakeSite]:
    """make_site(workers=3, clock_offset=False, **FLASK settings): a fresh database (a copy
    of the template) and gunicorn serving it, stopped after the test."""
    made: list[Site] = []

    def make(workers: int = 3, clock_offset: bool = False, **settings: object) -> Site:
        if not cluster.running():
            cluster.start()
        name = f"faults_{os.getpid()}_{next(_numbers)}"
        cluster.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        folder = tmp_path / name
        folder.mkdir()
        clock_file = folder / "clock-offset"
        if clock_offset:
            settings["CLOCK_OFFSET_FILE"] = clock_file
        url = cluster.url(name)
        server = Gunicorn(folder, site_env(url, folder / "instance", **settings), workers)
        site = Site(server, url, folder, clock_file)
        made.append(site)
        server.start()
        return site

    yield make
    for site in made:
        site.server.stop()
    if not cluster.running():
        cluster.start()
