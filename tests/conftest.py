"""Fixtures: an app per test on a fresh database (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), its test client, a frozen clock, and the wizard helper."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text

from tests.helpers import FIXED_CAPTCHA, WizardClient
from wizard import create_app
from wizard.clock import FrozenClock
from wizard.database import db as wizard_db
from wizard.database.models import Base
from wizard.ops.seed import seed

PG_URL = os.environ.get("TEST_DATABASE_URL")

#: Every engine any app makes during the tests. Tests that build a second app (another
#: "worker", a restart) leave its pool open; it is closed after the test, not whenever the
#: garbage collector gets to it (psycopg would warn then, inside some later test).
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
_make_engine = wizard_db.make_engine


def _tracked_make_engine(url: str) -> Engine:
    engine = _make_engine(url)
    _ENGINES.add(engine)
    return engine


wizard_db.make_engine = _tracked_make_engine


@pytest.fixture(autouse=True)
def _close_every_pool() -> Iterator[None]:
    yield
    for engine in list(_ENGINES):
        engine.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        # A connection a previous test left open (a server thread, a session never closed)
        # would hold locks that make DROP TABLE wait for ever: end them first.
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        Base.metadata.drop_all(connection)
        # Left by the migration tests (tests/web/test_production.py).
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


def make_test_app(tmp_path: Path, clock: FrozenClock | None, **overrides: object) -> Flask:
    if PG_URL:
        _reset_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": url,
        "CAPTCHA_FIXED_ANSWER": FIXED_CAPTCHA,
        "RATELIMIT_ENABLED": False,
        # Cheap argon2id parameters: the real ones cost ~100 ms per hash.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
    }
    config.update(overrides)
    app = create_app(config, clock=clock)
    with app.app_context():
        Base.metadata.create_all(app.extensions["db_engine"])
        with app.extensions["db_sessionmaker"]() as db_session:
            seed(db_session)
            db_session.commit()
    return app


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def app_config(request: pytest.FixtureRequest) -> dict[str, object]:
    """Override in a module, or parametrize (directly or with indirect=True), to change the
    app's settings."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
def app(tmp_path: Path, clock: FrozenClock, app_config: dict[str, object]) -> Iterator[Flask]:
    app = make_test_app(tmp_path, clock, **app_config)
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def wizard(client: FlaskClient, app: Flask) -> WizardClient:
    return WizardClient(client, app)


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()
