"""Production configuration (issue 6, section 1): what the site refuses to start with, the
migrations, health and readiness, the JSON request log, rate-limit counters shared through
Redis, and `make serve` itself (gunicorn, several workers).

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set (then the database is wiped
before and after each test that migrates it). The Redis tests start a throw-away redis-server
on a free loopback port; without redis-server they fail, saying how to install it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, select, text
from werkzeug.test import TestResponse

from tests.conftest import PG_URL, make_test_app
from tests.helpers import (
    DESKTOP_UA,
    ELIGIBLE,
    Desktop,
    Phone,
    WizardClient,
    csrf_token,
    free_port,
)
from wizard import ROOT, create_app
from wizard import config as wizard_config
from wizard.clock import FrozenClock
from wizard.config import ConfigError
from wizard.database.models import Base, Carrier
from wizard.ops.migrations import (
    MIGRATIONS,
    alembic_config,
    current_revision,
    differences,
    downgrade,
    head_revision,
    upgrade,
)
from wizard.ops.operations import new_request_id
from wizard.ops.seed import CARRIERS
from wizard.web.limits import limiter
from wizard.web.security import mask_text

# --- helpers -------------------------------------------------------------------------------


def _wipe_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or the wiped TEST_DATABASE_URL."""
    if PG_URL:
        _wipe_postgres(PG_URL)
        yield PG_URL
        _wipe_postgres(PG_URL)
    else:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"


#: A production configuration with nothing to refuse. Nothing here is contacted when the
#: app is made (the engine, the gateway and Redis connect on first use).
GOOD_SECRET = "k" * 16 + secrets.token_hex(16)


def production_config(tmp_path: Path, **overrides: object) -> dict[str, object]:
    config: dict[str, object] = {
        "TESTING": True,
        "PRODUCTION": True,
        "SECRET_KEY": GOOD_SECRET,
        "DATABASE_URL": "postgresql+psycopg://wizard@127.0.0.1:5432/wizard",
        "CARRIER_GATEWAY": "http",
        "CARRIER_GATEWAY_URL": "https://gateway.example.test",
        "CARRIER_GATEWAY_TOKEN": "token",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    }
    config.update(overrides)
    return config


def made(config: dict[str, object]) -> Flask:
    app = create_app(config)
    app.extensions["db_engine"].dispose()
    return app


@pytest.fixture(autouse=True)
def _own_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own instance folder: never the repository's instance/secret_key."""
    monkeypatch.setenv("WIZARD_INSTANCE_PATH", str(tmp_path / "instance"))


# --- refusals ------------------------------------------------------------------------------


def test_a_good_production_configuration_starts(tmp_path: Path) -> None:
    app = made(production_config(tmp_path))
    assert app.config["PRODUCTION"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True
    # Production never reads or makes the generated key.
    assert not (tmp_path / "instance" / "secret_key").exists()


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"DATABASE_URL": "sqlite:///wizard.sqlite3"}, "DATABASE_URL is SQLite"),
        ({"DATABASE_URL": "sqlite+pysqlite:///:memory:"}, "DATABASE_URL is SQLite"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL is not a PostgreSQL URL"),
        ({"DATABASE_URL": "mysql://wizard@db/wizard"}, "DATABASE_URL is not a PostgreSQL URL"),
        ({"CARRIER_GATEWAY": "simulator"}, "CARRIER_GATEWAY is the simulator"),
        ({"CAPTCHA_FIXED_ANSWER": "XXXX"}, "CAPTCHA_FIXED_ANSWER"),
        ({"DEBUG": True}, "DEBUG is on"),
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "x" * 31}, "SECRET_KEY is shorter than 32"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI is 'memory://'"),
        ({"RATELIMIT_STORAGE_URI": None}, "production needs Redis"),
        ({"WTF_CSRF_ENABLED": False}, "WTF_CSRF_ENABLED is off"),
    ],
)
def test_each_production_refusal(tmp_path: Path, overrides: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError) as refused:
        create_app(production_config(tmp_path, **overrides))
    message = str(refused.value)
    assert named in message
    # Alone, it is the whole message (no list of one).
    assert "\n" not in message


def test_the_generated_instance_secret_is_refused(tmp_path: Path) -> None:
    """A key copied from instance/secret_key (made by an earlier non-production start)."""
    embedded = made({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'e.sqlite3'}"})
    generated = (tmp_path / "instance" / "secret_key").read_text().strip()
    assert embedded.config["SECRET_KEY"] == generated and len(generated) >= 32
    with pytest.raises(ConfigError, match="SECRET_KEY is the one generated in instance/secret_key"):
        create_app(production_config(tmp_path, SECRET_KEY=generated))
    # Without a key of its own, production does not fall back on the file either.
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app(production_config(tmp_path, SECRET_KEY=None))


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    config = production_config(
        tmp_path,
        DATABASE_URL="sqlite:///x.sqlite3",
        CARRIER_GATEWAY="simulator",
        CAPTCHA_FIXED_ANSWER="XXXX",
        DEBUG=True,
        SECRET_KEY="short",
        RATELIMIT_STORAGE_URI="memory://",
    )
    with pytest.raises(ConfigError) as refused:
        create_app(config)
    message = str(refused.value)
    problems = [line for line in message.splitlines() if line.startswith("- ")]
    assert message.startswith("The site refuses to start with this configuration:")
    assert len(problems) == 6, message
    for named in (
        "DATABASE_URL is SQLite",
        "CARRIER_GATEWAY is the simulator",
        "CAPTCHA_FIXED_ANSWER",
        "DEBUG is on",
        "SECRET_KEY is shorter",
        "RATELIMIT_STORAGE_URI",
    ):
        assert sum(named in line for line in problems) == 1, (named, message)


def test_a_gateway_problem_is_listed_with_the_production_ones(tmp_path: Path) -> None:
    config = production_config(tmp_path, CARRIER_GATEWAY_URL=None, DEBUG=True)
    with pytest.raises(ConfigError) as refused:
        create_app(config)
    assert "CARRIER_GATEWAY=http needs CARRIER_GATEWAY_URL" in str(refused.value)
    assert "DEBUG is on" in str(refused.value)


def test_passwords_in_urls_are_not_repeated(tmp_path: Path) -> None:
    config = production_config(
        tmp_path,
        DATABASE_URL="postgresql://u:hunter2@db:port/x",
        RATELIMIT_STORAGE_URI="memcached://u:hunter3@cache:11211",
    )
    with pytest.raises(ConfigError) as refused:
        create_app(config)
    message = str(refused.value)
    assert "DATABASE_URL is not a PostgreSQL URL" in message
    assert "RATELIMIT_STORAGE_URI is 'memcached://'" in message
    assert "hunter2" not in message and "hunter3" not in message


def test_refused_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FLASK_* variables as an operator sets them: every problem named."""
    monkeypatch.setenv("FLASK_PRODUCTION", "true")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("FLASK_SECRET_KEY", "too-short")
    monkeypatch.setenv("FLASK_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(ConfigError) as refused:
        create_app()
    message = str(refused.value)
    for named in ("DATABASE_URL is SQLite", "simulator", "DEBUG", "SECRET_KEY", "memory://"):
        assert named in message, message


def test_production_from_the_environment_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in production_config(tmp_path).items():
        if key != "TESTING":
            monkeypatch.setenv(f"FLASK_{key}", value if isinstance(value, str) else "true")
    app = create_app()
    app.extensions["db_engine"].dispose()
    assert app.config["PRODUCTION"] is True and not app.debug


def test_outside_production_the_embedded_default_is_fine(tmp_path: Path) -> None:
    settings = {**wizard_config.DEFAULTS, "DATABASE_URL": "sqlite://", "SECRET_KEY": "dev"}
    wizard_config.check(settings)  # SQLite, simulator, memory://, a short key: all fine


# --- trusted proxies -------------------------------------------------------------------------


def test_a_trusted_proxy_gives_the_client_address(tmp_path: Path) -> None:
    app = make_test_app(tmp_path, FrozenClock(), TRUSTED_PROXIES=1)
    try:
        seen: list[str | None] = []

        @app.get("/_address")
        def _address() -> str:
            from flask import request

            seen.append(request.remote_addr)
            return "ok"

        client = app.test_client()
        client.get("/_address", headers={"X-Forwarded-For": "203.0.113.7"})
        client.get("/_address", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.8"})
        assert seen == ["203.0.113.7", "203.0.113.8"]  # one proxy: its own entry only
    finally:
        app.extensions["db_engine"].dispose()


def test_without_trusted_proxies_forwarded_for_is_ignored(app: Flask, client: FlaskClient) -> None:
    seen: list[str | None] = []

    @app.get("/_address")
    def _address() -> str:
        from flask import request

        seen.append(request.remote_addr)
        return "ok"

    client.get("/_address", headers={"X-Forwarded-For": "203.0.113.7"})
    assert seen == ["127.0.0.1"]


@pytest.mark.parametrize("value", [-1, 1.5, "many", 6])
def test_a_bad_proxy_count_is_refused(tmp_path: Path, value: object) -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "x",
                "DATABASE_URL": "sqlite://",
                "TRUSTED_PROXIES": value,
            }
        )


# --- migrations ----------------------------------------------------------------------------


def migrated_app(url: str, **overrides: object) -> Flask:
    """An app on ``url`` with nothing created: what `make serve` starts from."""
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": url,
        "RATELIMIT_ENABLED": False,
        **overrides,
    }
    return create_app(config)


def model_tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) & set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_upgrade_of_an_empty_database_gives_exactly_the_models(database_url: str) -> None:
    app = migrated_app(database_url)
    engine = app.extensions["db_engine"]
    try:
        assert upgrade(engine) == head_revision()
        with engine.connect() as connection:
            assert differences(connection) == []  # strict: constraint names included
            assert current_revision(connection) == head_revision()
            # Every constraint and index has its conventional name on every backend.
            inspector = inspect(connection)
            uniques = {u["name"] for u in inspector.get_unique_constraints("carrier")}
            assert uniques == {"uq_carrier_code", "uq_carrier_name"}
        # The carriers (reference data) come with it; the demo people do not.
        with app.extensions["db_sessionmaker"]() as db_session:
            codes = set(db_session.scalars(select(Carrier.code)))
            assert codes == {code for code, *_rest in CARRIERS}
            assert db_session.execute(text("SELECT count(*) FROM sim_subscriber")).scalar() == 0
        # A second upgrade changes nothing and adds no second set of carriers.
        assert upgrade(engine) == head_revision()
        with app.extensions["db_sessionmaker"]() as db_session:
            assert len(list(db_session.scalars(select(Carrier.code)))) == len(CARRIERS)
    finally:
        engine.dispose()


def test_every_revision_up_and_down_one_step_at_a_time(database_url: str) -> None:
    """From the empty database through each revision to the head, back down to nothing, and
    up again: each step from its previous schema. (base <-> 0001 <-> 0002 ...)"""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    chain = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert chain[0] == "0001" and chain[-1] == head_revision()
    app = migrated_app(database_url)
    engine = app.extensions["db_engine"]
    try:
        for revision in chain:
            assert upgrade(engine, revision) == revision
        with engine.connect() as connection:
            assert differences(connection) == []
        for previous in [*reversed(chain[:-1]), None]:
            assert downgrade(engine, previous or "base") == previous
        assert model_tables(database_url) == set()
        assert upgrade(engine) == head_revision()
        with engine.connect() as connection:
            assert differences(connection) == []
    finally:
        engine.dispose()


def test_the_migration_holds_plain_types_only() -> None:
    """UTCDateTime (a TypeDecorator of wizard.database.models) renders as DateTime(timezone=True):
    a migration must not change when the models' Python code does."""
    source = "\n".join(p.read_text() for p in (MIGRATIONS / "versions").glob("*.py"))
    assert "UTCDateTime(" not in source and "import wizard" not in source
    assert "from wizard" not in source
    assert "sa.DateTime(timezone=True)" in source
    assert "sa.DateTime()" not in source  # no naive timestamps


def test_db_cli_upgrade_and_current(database_url: str) -> None:
    app = migrated_app(database_url)
    runner = app.test_cli_runner()
    try:
        result = runner.invoke(args=["db", "current"])
        assert result.exit_code == 0, result.output
        assert "none (an empty database" in result.output
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"Database at revision {head_revision()} (head)." in result.output
        result = runner.invoke(args=["db", "current"])
        assert f"Database revision: {head_revision()} (head)" in result.output
        result = runner.invoke(args=["db", "downgrade", "base"], input="n\n")
        assert result.exit_code != 0  # asks first
        assert model_tables(database_url) == set(Base.metadata.tables)
        result = runner.invoke(args=["db", "downgrade", "base", "--yes"])
        assert result.exit_code == 0, result.output
        assert model_tables(database_url) == set()
    finally:
        app.extensions["db_engine"].dispose()


def test_init_db_on_an_empty_database_migrates_and_seeds(database_url: str) -> None:
    """What `make run` does from a clean clone."""
    app = migrated_app(database_url)
    runner = app.test_cli_runner()
    try:
        for _ in range(2):
            result = runner.invoke(args=["init-db"])
            assert result.exit_code == 0, result.output
        with app.app_context(), app.extensions["db_engine"].connect() as connection:
            assert current_revision(connection) == head_revision()
            assert differences(connection) == []
            assert connection.execute(text("SELECT count(*) FROM sim_subscriber")).scalar()
    finally:
        app.extensions["db_engine"].dispose()


def test_a_database_made_by_create_all_is_adopted(database_url: str) -> None:
    """Tables made before migrations existed (create_all, constraints unnamed) are stamped at
    the head, not created again."""
    from sqlalchemy import MetaData

    app = migrated_app(database_url)
    engine = app.extensions["db_engine"]
    try:
        unnamed = MetaData()
        for table in Base.metadata.sorted_tables:
            table.to_metadata(unnamed)
        unnamed.create_all(engine)
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
    finally:
        engine.dispose()


def test_an_unversioned_database_that_differs_is_refused(database_url: str) -> None:
    app = migrated_app(database_url)
    engine = app.extensions["db_engine"]
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE audit_event"))
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code != 0
        assert "differ from the models" in result.output and "audit_event" in result.output
        assert "Traceback" not in result.output
        with engine.connect() as connection:
            assert current_revision(connection) is None
    finally:
        engine.dispose()


def test_a_cli_import_on_an_empty_database_migrates_it(database_url: str, tmp_path: Path) -> None:
    app = migrated_app(database_url)
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "national_id,name,birth_date,nhi_card,carrier,msisdn,plan,account,mvno\n"
        "B123456780,周杰倫,1979-01-18,000099887766,cht,0955123456,monthly,personal,0\n",
        encoding="utf-8",
    )
    try:
        result = app.test_cli_runner().invoke(args=["simulator", "import", str(csv_file)])
        assert result.exit_code == 0, result.output
        with app.extensions["db_engine"].connect() as connection:
            assert current_revision(connection) == head_revision()
    finally:
        app.extensions["db_engine"].dispose()


# --- health and readiness ------------------------------------------------------------------


def closed_postgres_url() -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres"


def test_healthz_is_alive_without_a_database(tmp_path: Path) -> None:
    app = migrated_app(closed_postgres_url())
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_readyz_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok"}, "failed": []}
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "application/json"


def test_readyz_503_when_the_database_is_unreachable(caplog: pytest.LogCaptureFixture) -> None:
    app = migrated_app(closed_postgres_url())
    try:
        response = app.test_client().get("/readyz")
    finally:
        app.extensions["db_engine"].dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body == {
        "status": "unavailable",
        "checks": {"database": "failed"},
        "failed": ["database"],
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert "readiness: database unreachable (OperationalError)" in caplog.text


@pytest.mark.parametrize(
    "app_config",
    [{"RATELIMIT_ENABLED": True, "RATELIMIT_APPLICATION": "3 per minute"}],
    indirect=True,
)
def test_health_endpoints_are_exempt_from_rate_limits(client: FlaskClient) -> None:
    try:
        for _ in range(10):
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 200
        statuses = [client.get("/login").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]  # the application-wide limit is in force
    finally:
        limiter.limit_manager.set_application_limits([])  # the limiter outlives this app


# --- the request log -------------------------------------------------------------------------


class CountingClient:
    """Counts the requests a test client makes, keeping each response's X-Request-Id."""

    def __init__(self, client: FlaskClient) -> None:
        self.request_ids: list[str] = []
        inner = client.open

        def counted(*args: Any, **kwargs: Any) -> TestResponse:
            response = inner(*args, **kwargs)
            self.request_ids.append(response.headers["X-Request-Id"])
            return response

        client.open = counted  # type: ignore[method-assign]


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "wizard.requests"]


def test_a_registration_logs_one_json_line_per_request_and_no_personal_data(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    counter = CountingClient(client)
    client.environ_base["HTTP_USER_AGENT"] = DESKTOP_UA
    wizard = WizardClient(client, app)
    assert wizard.identify().status_code == 303  # step 1
    assert wizard.personal(name="").status_code == 200  # a refused try: kept as a draft
    assert wizard.personal().status_code == 303  # step 2
    assert wizard.device("desktop").status_code == 303  # step 3
    assert wizard.get("/register/qr").status_code == 200  # step 4's page
    lines = request_lines(caplog)
    assert len(counter.request_ids) >= 9
    assert len(lines) == len(counter.request_ids)
    assert [line["request_id"] for line in lines] == counter.request_ids
    assert len(set(counter.request_ids)) == len(counter.request_ids)
    for line in lines:
        assert set(line) == {"method", "path", "status", "duration_ms", "request_id", "pid"}
        assert line["method"] in ("GET", "POST") and line["path"].startswith("/")
        assert "?" not in line["path"]
        assert isinstance(line["status"], int) and line["duration_ms"] >= 0
        assert line["pid"] == os.getpid()
    assert {line["path"] for line in lines} >= {
        "/login",
        "/register/personal",
        "/register/device",
        "/register/qr",
    }
    secrets_typed = (
        ELIGIBLE["national_id"],  # A123456789
        "0912345678",
        ELIGIBLE["msisdn"],  # 0912-345678
        ELIGIBLE["name"],  # 王小明
        ELIGIBLE["nhi_card"],  # 000012345678
        ELIGIBLE["password"],
        "1980/01/01",
    )
    captured = caplog.text + "\n".join(
        r.getMessage() + repr(r.args) + str(r.exc_text or "") for r in caplog.records
    )
    for secret in secrets_typed:
        assert secret not in captured, secret


def test_the_log_never_holds_the_query_string_or_a_hand_off_token(
    app: Flask, wizard: WizardClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    wizard.complete_steps_before("qr")
    qr = Desktop(wizard).qr_path()
    token = qr.removeprefix("/h/")
    Phone(app).open(qr)
    wizard.get("/login?national_id=A123456789&note=query-secret")
    text_logged = caplog.text
    assert token not in text_logged and "query-secret" not in text_logged
    paths = [line["path"] for line in request_lines(caplog)]
    assert "/h/<path:token>" in paths
    assert paths[-1] == "/login"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("3f1c2a9e-8b7d-4e60-9a1b-2c3d4e5f6a7b", True),
        ("edge.req_0001", True),
        ("short", False),
        ("x" * 129, False),
        ("has space in it", False),
        ("請求編號請求編號", False),
    ],
)
def test_request_id_from_the_header_when_valid(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, given: str, kept: bool
) -> None:
    caplog.set_level(logging.INFO)
    response = client.get("/healthz", headers={"X-Request-Id": given})
    echoed = response.headers["X-Request-Id"]
    if kept:
        assert echoed == given
    else:
        assert re.fullmatch(r"[0-9a-f]{4}(?:-[0-9a-f]{4}){7}", echoed)
    assert request_lines(caplog)[-1]["request_id"] == echoed


def test_generated_request_ids_never_look_like_personal_data() -> None:
    """A plain 32-digit hex ID matched the mobile-number mask about once in 500 (a flaky log
    test found it); the grouped form cannot hold 09 and eight more digits, nor an ID."""
    ids = [new_request_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert all(mask_text(i) == i for i in ids)
    assert mask_text("0912-345-678") != "0912-345-678"  # the mask itself still works


def test_a_request_refused_before_its_view_is_logged_too(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A missing CSRF token is refused by a before-request hook: still one line, timed."""
    caplog.set_level(logging.INFO)
    client.get("/login")
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/login", data={"national_id": "A123456789"})
    assert response.status_code == 400
    line = request_lines(caplog)[-1]
    assert (line["method"], line["path"], line["status"]) == ("POST", "/login", 400)
    assert line["duration_ms"] is not None
    assert "A123456789" not in caplog.text


def test_ids_and_numbers_in_a_path_are_masked(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/_echo/<a>/<b>")
    def _echo(a: str, b: str) -> str:
        return "ok"

    caplog.set_level(logging.INFO)
    client.get("/_echo/A123456789/0912345678")
    assert request_lines(caplog)[-1]["path"] == "/_echo/A1********/09********"


# --- Redis: counters shared by workers -------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throw-away redis-server on a free loopback port, stopped after the module."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed, and the Redis tests need it: "
            "apt-get install redis-server (make test installs it when run as root)."
        )
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    server = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--logfile",
            str(folder / "redis.log"),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log = (folder / "redis.log").read_text(errors="replace")[-2000:]
                    pytest.fail(f"redis-server did not start on port {port}:\n{log}")
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        server.terminate()
        server.wait(10)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def login_posts(app: Flask, count: int) -> list[int]:
    """``count`` step-1 submissions from one address (127.0.0.1) to ``app``."""
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return [
        client.post("/login", data={"csrf_token": token, "national_id": "A12"}).status_code
        for _ in range(count)
    ]


def _worker(tmp_path: Path, name: str, storage: str) -> Flask:
    folder = tmp_path / name
    folder.mkdir()
    return make_test_app(
        folder, FrozenClock(), RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage
    )


def test_two_workers_share_the_login_limit_through_redis(
    tmp_path: Path, redis_url: str, redis_client: Any
) -> None:
    worker_a = _worker(tmp_path, "a", redis_url)
    assert login_posts(worker_a, 20) == [200] * 20
    assert redis_client.keys("LIMITS*"), "the counters are not in Redis"
    # A second app with its own storage connection (as another worker or host would have).
    worker_b = _worker(tmp_path, "b", redis_url)
    refused = login_posts(worker_b, 1)
    assert refused == [429]
    for app in (worker_a, worker_b):
        app.extensions["db_engine"].dispose()


def test_in_memory_counters_are_not_shared(tmp_path: Path) -> None:
    """The control: with memory:// the second worker counts from zero (why production needs
    Redis)."""
    worker_a = _worker(tmp_path, "a", "memory://")
    assert login_posts(worker_a, 20) == [200] * 20
    worker_b = _worker(tmp_path, "b", "memory://")
    assert login_posts(worker_b, 1) == [200]
    for app in (worker_a, worker_b):
        app.extensions["db_engine"].dispose()


def test_readyz_checks_redis(tmp_path: Path, redis_url: str, redis_client: Any) -> None:
    app = make_test_app(tmp_path, FrozenClock(), RATELIMIT_STORAGE_URI=redis_url)
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 200
        assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}
    finally:
        app.extensions["db_engine"].dispose()


def test_readyz_503_when_redis_is_down(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = make_test_app(tmp_path, FrozenClock(), RATELIMIT_STORAGE_URI=dead)
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.get_json() == {
            "status": "unavailable",
            "checks": {"database": "ok", "redis": "failed"},
            "failed": ["redis"],
        }
        assert "readiness: Redis unreachable" in caplog.text
    finally:
        app.extensions["db_engine"].dispose()


# --- make serve --------------------------------------------------------------------------------

VENV = Path(sys.executable).parent.parent


def make_serve(env: dict[str, str], port: int, *extra: str) -> subprocess.Popen[str]:
    """`make serve` with this interpreter's venv (its install step taken as done)."""
    return subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            "-o",
            f"{VENV}/.installed",
            "serve",
            f"VENV={VENV}",
            "WORKERS=2",
            "HOST=127.0.0.1",
            f"PORT={port}",
            *extra,
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: stopped as one below
    )


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def serve_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "GUNICORN"))}
    env["WIZARD_INSTANCE_PATH"] = str(tmp_path / "instance")
    env.update({f"FLASK_{key}": value for key, value in settings.items()})
    return env


def production_settings(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "PRODUCTION": "true",
        "SECRET_KEY": GOOD_SECRET,
        "DATABASE_URL": database_url,
        "CARRIER_GATEWAY": "http",
        "CARRIER_GATEWAY_URL": "https://gateway.example.test",
        "CARRIER_GATEWAY_TOKEN": "token",
        "RATELIMIT_STORAGE_URI": redis_url,
    }


def test_make_serve_migrates_and_runs_gunicorn_workers(
    tmp_path: Path, database_url: str, redis_url: str, redis_client: Any
) -> None:
    """On PostgreSQL the real thing (FLASK_PRODUCTION=true); on SQLite the embedded default,
    which production refuses."""
    if PG_URL:
        settings = production_settings(database_url, redis_url)
    else:
        settings = {
            "SECRET_KEY": GOOD_SECRET,
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": redis_url,
        }
    port = free_port()
    server = make_serve(serve_env(tmp_path, **settings), port)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(f"{base}/healthz") == (200, "ok\n"):
                    break
            except OSError:
                pass
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "gunicorn did not come up"
            time.sleep(0.1)
        status, body = _get(f"{base}/readyz")
        assert status == 200, body
        assert json.loads(body)["checks"] == {"database": "ok", "redis": "ok"}
        assert _get(f"{base}/login?national_id=A123456789")[0] == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    assert f"Database at revision {head_revision()} (head)." in out
    assert "Booting worker" in err and err.count("Booting worker") >= 2
    # stdout: make's echo of its commands, the migration's line, then bare JSON lines.
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert {"/healthz", "/readyz", "/login"} <= {line["path"] for line in lines}
    assert all(line["pid"] != server.pid for line in lines)
    assert "A123456789" not in out + err and "national_id" not in out


def test_make_serve_refuses_a_production_configuration_with_problems(
    tmp_path: Path, redis_url: str
) -> None:
    settings = production_settings(f"sqlite:///{tmp_path / 'x.sqlite3'}", "memory://")
    settings["SECRET_KEY"] = "short"
    server = make_serve(serve_env(tmp_path, **settings), free_port())
    out, err = server.communicate(timeout=60)
    assert server.returncode != 0
    for named in ("DATABASE_URL is SQLite", "SECRET_KEY is shorter", "RATELIMIT_STORAGE_URI"):
        assert named in err, err
    assert "Booting worker" not in err
    assert not (tmp_path / "x.sqlite3").exists()
