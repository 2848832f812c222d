"""Settings the site refuses, the instance secret key, the CLI (simulator import, init-db,
purge), rate limiting, and personal data kept out of the logs."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from tests.helpers import ELIGIBLE, WizardClient, csrf_token
from tests.web.support import subscriber_count, text_of, title_of
from wizard import config as wizard_config
from wizard import create_app
from wizard.config import ConfigError
from wizard.database.models import Carrier, SimSubscriber
from wizard.ops.seed import CARRIERS, DEMO_PEOPLE
from wizard.web.security import mask_text

# --- refusals ------------------------------------------------------------------------------


def base_config(tmp_path: Path, **overrides: object) -> dict[str, object]:
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'config-test.sqlite3'}",
        "RATELIMIT_ENABLED": False,
    }
    config.update(overrides)
    return config


#: A real gateway, configured well enough that nothing else is refused.
HTTP_GATEWAY: dict[str, object] = {
    "CARRIER_GATEWAY": "http",
    "CARRIER_GATEWAY_URL": "https://gateway.example.test",
    "CARRIER_GATEWAY_TOKEN": "token",
}


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"CAPTCHA_FIXED_ANSWER": "X", **HTTP_GATEWAY}, "CAPTCHA_FIXED_ANSWER"),
        ({"CAPTCHA_FIXED_ANSWER": "X", "PRODUCTION": True}, "CAPTCHA_FIXED_ANSWER"),
        ({"CAPTCHA_FIXED_ANSWER": "X", "PRODUCTION": True, **HTTP_GATEWAY}, "CAPTCHA_FIXED_ANSWER"),
        ({"PRODUCTION": True}, "simulator"),
        ({"PRODUCTION": True, "CARRIER_GATEWAY": "simulator"}, "simulator"),
        ({"CARRIER_GATEWAY": "carrier-pigeon"}, "CARRIER_GATEWAY"),
    ],
)
def test_refused_configurations(tmp_path: Path, overrides: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        create_app(base_config(tmp_path, **overrides))


def test_refused_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The contract's FLASK_* variables are read, and refused the same way."""
    monkeypatch.setenv("WIZARD_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("FLASK_CAPTCHA_FIXED_ANSWER", "XXXX")
    monkeypatch.setenv("FLASK_PRODUCTION", "true")
    with pytest.raises(ConfigError, match="CAPTCHA_FIXED_ANSWER"):
        create_app()


@pytest.mark.parametrize("production", [False, True])
def test_rate_limits_cannot_be_turned_off_with_a_real_gateway(production: bool) -> None:
    settings = {
        **wizard_config.DEFAULTS,
        **HTTP_GATEWAY,
        "RATELIMIT_ENABLED": False,
        "PRODUCTION": production,
        # What production needs besides the gateway (tests/web/test_production.py).
        "DATABASE_URL": "postgresql+psycopg://wizard@db.example/wizard",
        "SECRET_KEY": "s" * 32,
        "RATELIMIT_STORAGE_URI": "redis://redis.example:6379/0",
    }
    wizard_config.check(settings)
    assert settings["RATELIMIT_ENABLED"] is True


def test_rate_limits_can_be_turned_off_with_the_simulator() -> None:
    settings = {**wizard_config.DEFAULTS, "RATELIMIT_ENABLED": False, "CAPTCHA_FIXED_ANSWER": "X"}
    wizard_config.check(settings)
    assert settings["RATELIMIT_ENABLED"] is False


def test_fixed_captcha_and_no_limits_are_fine_with_the_simulator(tmp_path: Path) -> None:
    app = create_app(base_config(tmp_path, CAPTCHA_FIXED_ANSWER="X"))
    try:
        assert app.config["CAPTCHA_FIXED_ANSWER"] == "X"
        assert app.config["RATELIMIT_ENABLED"] is False
        assert app.config["SESSION_COOKIE_SECURE"] is False
    finally:
        app.extensions["db_engine"].dispose()


# --- the instance secret key ---------------------------------------------------------------


def test_secret_key_is_made_once_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "instance"
    monkeypatch.setenv("WIZARD_INSTANCE_PATH", str(instance))
    config = base_config(tmp_path)
    del config["SECRET_KEY"]
    first = create_app(dict(config))
    try:
        key_file = instance / "secret_key"
        assert key_file.is_file()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text().strip()
        assert len(key) >= 64 and first.config["SECRET_KEY"] == key
        second = create_app(dict(config))
        try:
            assert second.config["SECRET_KEY"] == key
            assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        finally:
            second.extensions["db_engine"].dispose()
    finally:
        first.extensions["db_engine"].dispose()


def test_each_instance_gets_its_own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = []
    for name in ("one", "two"):
        monkeypatch.setenv("WIZARD_INSTANCE_PATH", str(tmp_path / name))
        config = base_config(tmp_path)
        del config["SECRET_KEY"]
        app = create_app(config)
        keys.append(app.config["SECRET_KEY"])
        app.extensions["db_engine"].dispose()
    assert keys[0] != keys[1]


def test_a_session_survives_a_second_app_with_the_instance_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIZARD_INSTANCE_PATH", str(tmp_path / "instance"))
    config = base_config(tmp_path)
    del config["SECRET_KEY"]
    first, second = create_app(dict(config)), create_app(dict(config))
    try:
        client = first.test_client()
        token = csrf_token(text_of(client.get("/login")))
        other = second.test_client()
        cookie = client.get_cookie(first.config["SESSION_COOKIE_NAME"])
        assert cookie is not None
        other.set_cookie(first.config["SESSION_COOKIE_NAME"], cookie.value)
        # The second app accepts the first one's CSRF token: same key.
        response = other.post("/login", data={"csrf_token": token, "national_id": "A12"})
        assert response.status_code == 200
        assert "頁面已過期" not in text_of(response)
    finally:
        first.extensions["db_engine"].dispose()
        second.extensions["db_engine"].dispose()


# --- simulator import ----------------------------------------------------------------------

HEADER = "national_id,name,birth_date,nhi_card,carrier,msisdn,plan,account,mvno"
NEW_ROW = "B123456780,周杰倫,1979-01-18,000099887766,中華電信,0955-123456,monthly,personal,0"
UPDATED_ROW = "A123456789,王小明,1980-01-01,000012345678,twm,0912345678,prepaid,personal,0"


def write_csv(tmp_path: Path, *lines: str, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def subscribers(app: Flask) -> dict[str, SimSubscriber]:
    with app.extensions["db_sessionmaker"]() as db_session:
        rows = list(db_session.scalars(select(SimSubscriber)))
        for row in rows:
            _ = row.carrier.code
        db_session.expunge_all()
        return {row.national_id: row for row in rows}


def test_import_upserts_by_national_id(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    before = subscribers(app)
    path = write_csv(tmp_path, HEADER, NEW_ROW, UPDATED_ROW)
    result = runner.invoke(args=["simulator", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 added, 1 updated" in result.output
    after = subscribers(app)
    assert len(after) == len(before) + 1
    new = after["B123456780"]
    assert (
        new.name,
        new.msisdn,
        new.nhi_card,
        new.carrier.code,
        new.plan,
        new.account,
        new.mvno,
    ) == ("周杰倫", "0955123456", "000099887766", "cht", "monthly", "personal", False)
    assert new.birth_date.isoformat() == "1979-01-18"
    updated = after["A123456789"]
    assert updated.id == before["A123456789"].id
    assert (updated.carrier.code, updated.plan) == ("twm", "prepaid")
    # Running the same file again only updates.
    result = runner.invoke(args=["simulator", "import", str(path)])
    assert "0 added, 2 updated" in result.output
    assert len(subscribers(app)) == len(before) + 1


def test_imported_person_can_register(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, wizard: WizardClient
) -> None:
    path = write_csv(tmp_path, HEADER, NEW_ROW)
    assert runner.invoke(args=["simulator", "import", str(path)]).exit_code == 0
    wizard.identify("B123456780")
    response = wizard.personal(
        carrier="cht",
        msisdn="0955123456",
        nhi_card="000099887766",
        birth_date="1979/01/18",
        name="周杰倫",
    )
    assert response.status_code == 303


def test_import_accepts_a_bom_and_column_order(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    columns = HEADER.split(",")
    values = dict(zip(columns, NEW_ROW.split(","), strict=True))
    order = list(reversed(columns))
    path = tmp_path / "bom.csv"
    path.write_text(
        "\ufeff" + ",".join(order) + "\n" + ",".join(values[c] for c in order) + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["simulator", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "B123456780" in subscribers(app)


@pytest.mark.parametrize(
    ("bad_row", "column"),
    [
        (
            "A123456780,王小明,1980-01-01,000012345678,cht,0912345678,monthly,personal,0",
            "national_id",
        ),
        (
            "A800001235,王小明,1980-01-01,000012345678,cht,0912345678,monthly,personal,0",
            "national_id",
        ),
        ("C123456781,,1980-01-01,000012345678,cht,0912345678,monthly,personal,0", "name"),
        ("C123456781,林一,1980-13-01,000012345678,cht,0912345678,monthly,personal,0", "birth_date"),
        ("C123456781,林一,1980-01-01,12345,cht,0912345678,monthly,personal,0", "nhi_card"),
        (
            "C123456781,林一,1980-01-01,000012345678,亞太行動,0912345678,monthly,personal,0",
            "carrier",
        ),
        ("C123456781,林一,1980-01-01,000012345678,cht,0212345678,monthly,personal,0", "msisdn"),
        ("C123456781,林一,1980-01-01,000012345678,cht,0912345678,yearly,personal,0", "plan"),
        ("C123456781,林一,1980-01-01,000012345678,cht,0912345678,monthly,company,0", "account"),
        ("C123456781,林一,1980-01-01,000012345678,cht,0912345678,monthly,personal,yes", "mvno"),
    ],
)
def test_a_bad_row_is_refused_and_nothing_written(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, bad_row: str, column: str
) -> None:
    before = subscribers(app)
    # A good new row, a good update, then the bad row on line 4.
    path = write_csv(tmp_path, HEADER, NEW_ROW, UPDATED_ROW, bad_row)
    result = runner.invoke(args=["simulator", "import", str(path)])
    assert result.exit_code != 0
    assert f"line 4, column {column}" in result.output
    assert "Traceback" not in result.output
    after = subscribers(app)
    assert set(after) == set(before)
    assert after["A123456789"].plan == before["A123456789"].plan == "monthly"


def test_a_short_row_is_refused_with_its_line(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    before = subscriber_count(app)
    path = write_csv(tmp_path, HEADER, NEW_ROW, "C123456781,林一,1980-01-01")
    result = runner.invoke(args=["simulator", "import", str(path)])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "line 3" in result.output
    assert subscriber_count(app) == before


@pytest.mark.parametrize("missing", ["mvno", "national_id", "carrier"])
def test_a_file_missing_a_column_is_refused(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, missing: str
) -> None:
    columns = HEADER.split(",")
    index = columns.index(missing)
    values = NEW_ROW.split(",")
    del columns[index], values[index]
    path = write_csv(tmp_path, ",".join(columns), ",".join(values))
    before = subscriber_count(app)
    result = runner.invoke(args=["simulator", "import", str(path)])
    assert result.exit_code != 0
    assert "missing column" in result.output and missing in result.output
    assert subscriber_count(app) == before


# --- init-db and purge ---------------------------------------------------------------------


def carrier_codes(app: Flask) -> list[str]:
    with app.extensions["db_sessionmaker"]() as db_session:
        return sorted(db_session.scalars(select(Carrier.code)))


def test_init_db_is_idempotent(app: Flask, runner: FlaskCliRunner) -> None:
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "Database ready" in result.output
    assert carrier_codes(app) == sorted(code for code, *_rest in CARRIERS)
    assert subscriber_count(app) == len(DEMO_PEOPLE)
    with app.extensions["db_sessionmaker"]() as db_session:
        tstar = db_session.scalars(select(Carrier).where(Carrier.code == "tstar")).one()
        assert tstar.operator is not None and tstar.operator.code == "twm"
        assert db_session.scalar(select(func.count(Carrier.id))) == len(CARRIERS)


def test_init_db_does_not_overwrite_an_imported_registry(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, HEADER, UPDATED_ROW)
    assert runner.invoke(args=["simulator", "import", str(path)]).exit_code == 0
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert subscribers(app)["A123456789"].plan == "prepaid"


def test_purge_with_nothing_to_do(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "of 0 expired registration" in result.output


# --- rate limiting -------------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}], indirect=True)
def test_the_21st_login_post_in_a_minute_is_refused(client: FlaskClient, app: Flask) -> None:
    assert app.config["RATELIMIT_ENABLED"] is True
    token = csrf_token(text_of(client.get("/login")))
    for attempt in range(20):
        response = client.post("/login", data={"csrf_token": token, "national_id": "A12"})
        assert response.status_code == 200, attempt
    response = client.post("/login", data={"csrf_token": token, "national_id": "A12"})
    assert response.status_code == 429
    html = text_of(response)
    assert "嘗試次數過多" in html and "Traceback" not in html
    assert title_of(response).startswith("錯誤：嘗試次數過多")
    assert "Retry-After" in response.headers
    # Pages stay readable.
    assert client.get("/login").status_code == 200


def test_limits_are_off_in_the_test_configuration(client: FlaskClient) -> None:
    token = csrf_token(text_of(client.get("/login")))
    for _ in range(25):
        response = client.post("/login", data={"csrf_token": token, "national_id": "A12"})
        assert response.status_code == 200


# --- logs ----------------------------------------------------------------------------------


def test_no_personal_data_in_the_logs(
    wizard: WizardClient, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # An operator turning on SQL statement logging (echo=True's level) must not see personal
    # data either. (DEBUG on sqlalchemy.engine also logs result rows: a deliberate dump.)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    app.logger.setLevel(logging.DEBUG)
    wizard.identify("A123456789")
    wizard.personal(name="")  # a refused try: the draft is stored
    wizard.personal(nhi_card="000012345679")  # the carrier says no
    wizard.complete_steps_before("qr")
    assert wizard.get("/register/qr").status_code == 200
    app.logger.info("a log line with A123456789 and 0912-345678 in it")
    secrets = (
        "A123456789",
        "0912345678",
        "0912-345678",
        ELIGIBLE["name"],
        ELIGIBLE["password"],
        ELIGIBLE["nhi_card"],
    )
    assert caplog.records, "nothing was logged: the test would prove nothing"
    for record in caplog.records:
        text = record.getMessage() + repr(record.args) + str(record.exc_text or "")
        for secret in secrets:
            assert secret not in text, (record.name, text[:300])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("A123456789", "A1********"),
        ("id=a123456789;", "id=a1********;"),
        ("身分證A223456789已送出", "身分證A2********已送出"),
        ("AC12345679", "AC********"),
        ("A812345671", "A8********"),
        ("0912345678", "09********"),
        ("0912-345678", "09*********"),
        ("0912-345-678", "09**********"),
        ("0912 345 678", "09**********"),
        ("+886912345678", "+8***********"),
        ("call +886 912 345 678 now", "call +8************** now"),
        ("886912345678", "88**********"),
    ],
)
def test_mask_text_hides_ids_and_numbers(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "no personal data here",
        "A12345****",
        "09****78",
        "step 2 of 5",
        "ABCDEFGHIJ",
        "order 1234567890",
        "2026-11-30 09:00:00",
    ],
)
def test_mask_text_leaves_other_text_alone(text: str) -> None:
    assert mask_text(text) == text
