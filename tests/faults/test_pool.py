"""The connection pool after the server has dropped its connections (wizard.database.db): a
connection that sat idle is pinged and replaced before a request sees it; a connection in
constant use is not pinged (the round trip the ping costs every request), and if the server
dropped it, the one request that meets it fails and the rest of the pool is renewed.

Runs on the fault tests' own PostgreSQL cluster: the server's side of a dead connection is made
with ``pg_terminate_backend`` (what a restart does to every connection at once)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from tests.faults.postgres import Cluster
from wizard.database import db


@pytest.fixture
def engine(cluster: Cluster) -> Iterator[Engine]:
    engine = db.make_engine(cluster.url())
    yield engine
    engine.dispose()


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(cluster: Cluster, pid: int) -> None:
    cluster.execute(f"SELECT pg_terminate_backend({pid})")
    time.sleep(0.1)


def pings(engine: Engine) -> list[str]:
    seen: list[str] = []
    original = engine.dialect.do_ping

    def counting(dbapi_connection):  # type: ignore[no-untyped-def]
        seen.append("ping")
        return original(dbapi_connection)

    engine.dialect.do_ping = counting  # type: ignore[method-assign]
    return seen


def test_an_idle_connection_the_server_dropped_is_replaced_unseen(
    cluster: Cluster, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.2)
    seen = pings(engine)
    first = backend_pid(engine)
    terminate(cluster, first)
    time.sleep(0.3)  # idle longer than PING_AFTER_IDLE
    second = backend_pid(engine)  # no error: the ping found it dead, a fresh one was used
    assert second != first
    assert seen == ["ping"]


def test_a_connection_in_constant_use_is_not_pinged(engine: Engine) -> None:
    seen = pings(engine)
    pids = {backend_pid(engine) for _ in range(50)}
    assert len(pids) == 1  # the same pooled connection every time
    assert seen == []  # and never the extra round trip


def test_a_busy_connection_the_server_dropped_fails_one_request_then_recovers(
    cluster: Cluster, engine: Engine
) -> None:
    first = backend_pid(engine)
    terminate(cluster, first)
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.execute(text("SELECT 1"))  # used within PING_AFTER_IDLE: no ping
    assert backend_pid(engine) != first  # the pool was renewed
