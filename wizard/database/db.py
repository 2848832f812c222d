"""Engine, one SQLAlchemy session per request, and ``create_all`` for CLI commands."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from wizard.database.models import Base


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets the browser tests' server threads read while one writes; the busy timeout makes a
    # second writer wait instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


#: Seconds (libpq's connect_timeout) to reach PostgreSQL before a request gives up.
CONNECT_TIMEOUT = 5


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # hide_parameters: SQL logging and error messages never show the values (personal data).
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # connect_timeout: while the server is unreachable a request fails within seconds
    # (answered 503 by wizard.web.outage), far inside gunicorn's worker timeout.
    engine = create_engine(
        url,
        pool_size=5,
        max_overflow=10,
        hide_parameters=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT},
    )
    _ping_idle_connections(engine)
    return engine


#: Seconds a pooled connection may sit unused before it is pinged at checkout.
PING_AFTER_IDLE = 1.0


def _ping_idle_connections(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, but only for connections that sat in the pool a while.

    After a database restart each pooled connection is found dead at checkout and replaced
    (the first one found also invalidates the rest), so the workers recover without a restart.
    ``pool_pre_ping`` pings at every checkout: one more round trip on every request (12% of
    the step-4 poll). A connection used in the last second needs none: had the server gone
    away since, the request that used it would have failed and invalidated the pool.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        since = record.info.get("checked_in")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out a fresh one (three tries).
            raise DisconnectionError() from error


def engine() -> Engine:
    return current_app.extensions["db_engine"]


def session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


@contextmanager
def autocommit() -> Iterator[Connection]:
    """A pooled connection outside the request's ORM session and outside any transaction, for
    a hot read of one statement (the step-4 poll runs every 2 s on every waiting desktop).

    One statement is its own consistent snapshot: without a transaction PostgreSQL is spared
    the BEGIN and ROLLBACK round trips, and without the ORM session the request is spared its
    transaction bookkeeping (about 65 of the poll's ~155 us of database CPU, in-process)."""
    with engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def _close_session(_exc: BaseException | None = None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


def create_all() -> None:
    """Make sure the tables exist, for CLI commands that may be the first to touch a database:
    an empty one is migrated to the newest schema (``db upgrade``); one with tables is left
    as it is (migrations change it, never this). The migrations are wired in by
    ``wizard.ops.migrations.init_app`` (``MIGRATE``): this module knows only the tables."""
    existing = set(inspect(engine()).get_table_names())
    if not existing & set(Base.metadata.tables):
        current_app.extensions[MIGRATE](engine())


#: ``app.extensions`` key of the callable that migrates an empty database to the newest schema.
MIGRATE = "db_migrate"


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    db_engine = make_engine(url)
    app.extensions["db_engine"] = db_engine
    app.extensions["db_sessionmaker"] = sessionmaker(db_engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)
