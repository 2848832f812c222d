"""The flow across requests: deep links, refresh, back, re-submission, expiry, purge, restart,
and the state living in the database (a second app on the same database carries on)."""

from __future__ import annotations

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.helpers import ELIGIBLE, WizardClient, errors_of, selected_of, value_of
from tests.web.support import (
    all_registrations,
    checked_of,
    flashed,
    outline,
    registration_row,
    text_of,
    token_of,
)
from wizard import create_app
from wizard.clock import FrozenClock

STEP_PAGES = ("/register/personal", "/register/device", "/register/qr", "/register/verify")
H1 = {
    "/login": "個人登入",
    "/register/personal": "輸入個人資料及手機門號",
    "/register/device": "選擇您的裝置",
    "/register/qr": "使用手機掃描 QR Code",
    "/register/verify": "核對資料並開始驗證",
}
NOT_YET = "請先完成目前的步驟"
NO_REGISTRATION = "請先輸入身分證號"
IDLE = "閒置超過 30 分鐘"


def follow(client: FlaskClient, url: str, expect: str) -> str:
    """GET ``url``: it must redirect to ``expect``; return the flash shown there."""
    response = client.get(url)
    assert response.status_code in (302, 303), (url, response.status_code)
    assert response.headers["Location"] == expect, url
    page = client.get(expect)
    assert page.status_code == 200
    assert outline(page).h1 == [H1[expect]]
    return " ".join(flashed(page))


# --- deep links ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", STEP_PAGES)
def test_without_a_registration_every_step_goes_to_login(client: FlaskClient, url: str) -> None:
    assert NO_REGISTRATION in follow(client, url, "/login")


def test_without_a_registration_posts_go_to_login(client: FlaskClient) -> None:
    token = token_of(client, "/login")
    for url in ("/register/personal", "/register/device", "/register/captcha"):
        response = client.post(url, data={"csrf_token": token})
        assert response.status_code in (302, 303), url
        assert response.headers["Location"] == "/login", url


@pytest.mark.parametrize(
    ("done_before", "current", "later"),
    [
        (
            "personal",
            "/register/personal",
            ("/register/device", "/register/qr", "/register/verify"),
        ),
        ("device", "/register/device", ("/register/qr", "/register/verify")),
        ("qr", "/register/qr", ("/register/verify",)),
        ("verify", "/register/verify", ("/register/qr",)),
    ],
)
def test_deep_link_to_a_later_step_goes_to_the_current_one(
    wizard: WizardClient, done_before: str, current: str, later: tuple[str, ...]
) -> None:
    wizard.complete_steps_before(done_before)
    for url in later:
        assert NOT_YET in follow(wizard.client, url, current)


def test_a_later_step_cannot_be_posted_early(wizard: WizardClient) -> None:
    wizard.complete_steps_before("personal")
    token = token_of(wizard.client, "/register/personal")
    response = wizard.client.post("/register/device", data={"csrf_token": token, "device": "phone"})
    assert response.status_code in (302, 303)
    assert response.headers["Location"] == "/register/personal"
    assert registration_row(wizard.app).device is None


# --- refresh and back ----------------------------------------------------------------------


@pytest.mark.parametrize("step", ["personal", "device", "qr", "verify"])
def test_refresh_shows_the_same_step(wizard: WizardClient, step: str) -> None:
    wizard.complete_steps_before(step)
    url = f"/register/{step}"
    first = wizard.get(url)
    second = wizard.get(url)
    assert first.status_code == second.status_code == 200
    assert outline(first).h1 == outline(second).h1 == [H1[url]]


def test_refresh_after_an_error_post_redirect_get(wizard: WizardClient) -> None:
    wizard.complete_steps_before("personal")
    assert wizard.personal(name="").status_code == 200
    # The next GET shows the draft of what was valid; the page is the same step.
    page = wizard.get("/register/personal")
    assert page.status_code == 200
    assert value_of(page, "msisdn") == "0912-345678"
    assert value_of(page, "name") == ""
    assert errors_of(page) == []


def test_tablet_answer_is_shown_again(wizard: WizardClient) -> None:
    wizard.complete_steps_before("device")
    assert wizard.device("tablet", "no").headers["Location"] == "/register/qr"
    device = wizard.get("/register/device")
    assert checked_of(device, "device") == ["tablet"]
    assert checked_of(device, "sim") == ["no"]


def test_back_links_show_earlier_steps_with_the_data_kept(wizard: WizardClient) -> None:
    wizard.complete_steps_before("verify")  # a phone, from a desktop browser: not a guess
    verify = wizard.get("/register/verify")
    assert 'href="/register/device"' in text_of(verify)
    device = wizard.get("/register/device")
    assert device.status_code == 200
    assert checked_of(device, "device") == ["phone"]
    assert 'href="/register/personal"' in text_of(device)
    personal = wizard.get("/register/personal")
    assert personal.status_code == 200
    assert selected_of(personal, "carrier") == ELIGIBLE["carrier"]
    assert value_of(personal, "msisdn") == "0912-345678"
    assert value_of(personal, "nhi_card") == ELIGIBLE["nhi_card"]
    assert value_of(personal, "birth_date") == ELIGIBLE["birth_date"]
    assert value_of(personal, "name") == ELIGIBLE["name"]
    assert value_of(personal, "password") == ""
    login = wizard.get("/login")
    assert "目前為 A12345****" in text_of(login)
    assert "A123456789" not in text_of(login)
    # Looking back moves nothing: the furthest step is still reachable.
    assert wizard.get("/register/verify").status_code == 200


def test_same_id_again_keeps_the_data(wizard: WizardClient, app: Flask) -> None:
    wizard.complete_steps_before("qr")
    before = registration_row(app)
    response = wizard.identify("a 123456789")
    assert response.status_code == 303
    assert response.headers["Location"] == "/register/personal"
    after = registration_row(app)
    assert after.id == before.id and after.msisdn == "0912345678"
    page = wizard.get("/register/personal")
    assert value_of(page, "name") == ELIGIBLE["name"]
    assert wizard.get("/register/qr").status_code == 200


def test_empty_id_with_one_on_file_keeps_it(wizard: WizardClient, app: Flask) -> None:
    wizard.complete_steps_before("device")
    before = registration_row(app)
    response = wizard.identify("")
    assert response.status_code == 303
    assert registration_row(app).id == before.id


def test_a_different_id_starts_afresh(wizard: WizardClient, app: Flask) -> None:
    wizard.complete_steps_before("qr")
    old = registration_row(app)
    response = wizard.identify("F223456713")
    assert response.status_code == 303
    assert response.headers["Location"] == "/register/personal"
    new = registration_row(app)
    assert new.id != old.id and new.national_id == "F223456713"
    page = wizard.get("/register/personal")
    html = text_of(page)
    assert "F22345****" in html and "A12345" not in html
    for name in ("msisdn", "nhi_card", "birth_date", "name"):
        assert value_of(page, name) == "", name
    assert selected_of(page, "carrier") in (None, "")
    assert ELIGIBLE["name"] not in html
    assert 'value="0912-345678"' not in html and ELIGIBLE["nhi_card"] not in html
    assert "已設定憑證密碼" not in html
    # The old registration is over: its later steps are out of reach, and it expired.
    assert NOT_YET in follow(wizard.client, "/register/qr", "/register/personal")
    rows = {row.id: row for row in all_registrations(app)}
    assert rows[old.id].expires_at <= new.created_at


def test_resubmitting_personal_clears_the_device(wizard: WizardClient, app: Flask) -> None:
    wizard.complete_steps_before("qr")
    assert registration_row(app).device == "desktop"
    response = wizard.personal(name="王小明")
    assert response.status_code == 303
    assert response.headers["Location"] == "/register/device"
    assert registration_row(app).device is None
    assert NOT_YET in follow(wizard.client, "/register/qr", "/register/device")
    assert NOT_YET in follow(wizard.client, "/register/verify", "/register/device")
    assert wizard.device("phone").headers["Location"] == "/register/verify"


def test_resubmitting_device_switches_the_path(wizard: WizardClient) -> None:
    wizard.complete_steps_before("qr")
    assert wizard.device("tablet", "yes").headers["Location"] == "/register/verify"
    assert NOT_YET in follow(wizard.client, "/register/qr", "/register/verify")


def test_tablet_without_sim_answer(wizard: WizardClient) -> None:
    wizard.complete_steps_before("device")
    response = wizard.device("tablet")
    assert response.status_code == 200
    assert errors_of(response) == ["請選擇平板電腦有無 SIM 卡（有 4G/5G 網路連線）"]
    response = wizard.device("")
    assert errors_of(response) == ["請選擇您正在使用的裝置"]


# --- idle expiry, purge, restart -----------------------------------------------------------


@pytest.mark.parametrize("step", ["personal", "device", "qr", "verify"])
def test_idle_registration_expires(wizard: WizardClient, clock: FrozenClock, step: str) -> None:
    wizard.complete_steps_before(step)
    clock.advance(minutes=29)
    assert wizard.get(f"/register/{step}").status_code == 200  # a page view is not a change
    clock.advance(minutes=2)
    assert IDLE in follow(wizard.client, f"/register/{step}", "/login")
    # Once told, the browser starts afresh.
    assert NO_REGISTRATION in follow(wizard.client, "/register/personal", "/login")


def test_activity_keeps_a_registration_alive(wizard: WizardClient, clock: FrozenClock) -> None:
    wizard.complete_steps_before("personal")
    clock.advance(minutes=25)
    assert wizard.personal(name="").status_code == 200  # a submission, even a refused one
    clock.advance(minutes=25)
    assert wizard.get("/register/personal").status_code == 200


def test_expired_registration_is_not_continued_at_login(
    wizard: WizardClient, clock: FrozenClock, app: Flask
) -> None:
    wizard.complete_steps_before("device")
    old = registration_row(app)
    clock.advance(minutes=31)
    page = wizard.get("/login")
    assert "目前為" not in text_of(page)
    assert wizard.identify().status_code == 303
    new = registration_row(app)
    assert new.id != old.id
    assert value_of(wizard.get("/register/personal"), "name") == ""


def invoke_purge(runner: FlaskCliRunner) -> Result:
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    return result


def test_purge_blanks_expired_registrations_only(
    app: Flask, clock: FrozenClock, runner: FlaskCliRunner
) -> None:
    idle = WizardClient(app.test_client(), app)
    idle.complete_steps_before("qr")
    clock.advance(minutes=31)
    live = WizardClient(app.test_client(), app)
    live.complete_steps_before(
        "device",
        national_id="F223456713",
        carrier="twm",
        msisdn="0923456781",
        nhi_card="000023456789",
        birth_date="1975/06/15",
        name="陳美玲",
    )
    result = invoke_purge(runner)
    assert "of 1 expired registration" in result.output
    rows = {row.national_id or "purged": row for row in all_registrations(app)}
    assert set(rows) == {"purged", "F223456713"}
    purged = rows["purged"]
    assert purged.purged
    for column in (
        "national_id",
        "carrier_id",
        "msisdn",
        "nhi_card",
        "birth_date",
        "name",
        "password_hash",
        "captcha_answer",
        "user_agent_summary",
    ):
        assert getattr(purged, column) is None, column
    kept = rows["F223456713"]
    assert not kept.purged
    assert kept.msisdn == "0923456781" and kept.name == "陳美玲" and kept.password_hash
    # Purging again finds nothing new; the live person carries on.
    assert "of 0 expired registration" in invoke_purge(runner).output
    assert live.get("/register/device").status_code == 200
    assert IDLE in follow(idle.client, "/register/qr", "/login")


def test_restart_starts_over(wizard: WizardClient, app: Flask, clock: FrozenClock) -> None:
    wizard.complete_steps_before("qr")
    old = registration_row(app)
    token = token_of(wizard.client, "/register/qr")
    response = wizard.client.post("/register/restart", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    login = wizard.get("/login")
    assert "已清除先前輸入的資料" in " ".join(flashed(login))
    assert "目前為" not in text_of(login)
    assert NO_REGISTRATION in follow(wizard.client, "/register/personal", "/login")
    assert registration_row(app).expires_at <= clock.now()  # over, and purge will blank it
    wizard.identify()
    page = wizard.get("/register/personal")
    assert value_of(page, "name") == ""
    assert registration_row(app).id != old.id


def test_restart_button_on_steps_4_and_5(wizard: WizardClient) -> None:
    wizard.complete_steps_before("verify")
    html = text_of(wizard.get("/register/verify"))
    assert 'action="/register/restart"' in html and "重新申請行動認證" in html


# --- the database holds the state ----------------------------------------------------------


def second_app(app: Flask, clock: FrozenClock) -> Flask:
    """Another worker: a new app object on the same database (not reset, not seeded)."""
    keys = (
        "TESTING",
        "SECRET_KEY",
        "DATABASE_URL",
        "CAPTCHA_FIXED_ANSWER",
        "RATELIMIT_ENABLED",
        "ARGON2_TIME_COST",
        "ARGON2_MEMORY_COST",
        "ARGON2_PARALLELISM",
    )
    return create_app({key: app.config[key] for key in keys}, clock=clock)


def carry_cookie(source: FlaskClient, target: FlaskClient, app: Flask) -> None:
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = source.get_cookie(name)
    assert cookie is not None
    target.set_cookie(name, cookie.value)


@pytest.mark.parametrize(
    ("step", "url"),
    [("personal", "/register/personal"), ("device", "/register/device"), ("qr", "/register/qr")],
)
def test_a_second_worker_continues_the_registration(
    wizard: WizardClient, app: Flask, clock: FrozenClock, step: str, url: str
) -> None:
    wizard.complete_steps_before(step)
    other = second_app(app, clock)
    try:
        client = other.test_client()
        carry_cookie(wizard.client, client, app)
        assert NOT_YET in follow(client, "/register/verify", url)
        page = client.get(url)
        assert page.status_code == 200 and outline(page).h1 == [H1[url]]
        if step == "device":
            # ...and carries on from there.
            second = WizardClient(client, other)
            response = second.device("phone")
            assert response.headers["Location"] == "/register/verify"
            assert wizard.get("/register/verify").status_code == 200  # the first one agrees
        if step != "personal":
            back = client.get("/register/personal")
            assert value_of(back, "name") == ELIGIBLE["name"]
    finally:
        other.extensions["db_engine"].dispose()


def test_a_restart_of_the_server_loses_nothing(
    wizard: WizardClient, app: Flask, clock: FrozenClock
) -> None:
    wizard.complete_steps_before("personal")
    assert wizard.personal(name="").status_code == 200
    app.extensions["db_engine"].dispose()
    other = second_app(app, clock)
    try:
        client = other.test_client()
        carry_cookie(wizard.client, client, app)
        page = client.get("/register/personal")
        assert value_of(page, "msisdn") == "0912-345678"
        assert value_of(page, "birth_date") == ELIGIBLE["birth_date"]
    finally:
        other.extensions["db_engine"].dispose()


def test_session_cookie_holds_no_personal_data(wizard: WizardClient, app: Flask) -> None:
    wizard.complete_steps_before("qr")
    cookie = wizard.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    with app.test_request_context():
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        data = serializer.loads(cookie.value)
    assert set(data) <= {"registration", "csrf_token", "_flashes"}
    assert isinstance(data["registration"], str) and len(data["registration"]) >= 32
    for secret in ("A123456789", "0912345678", ELIGIBLE["name"], ELIGIBLE["nhi_card"]):
        assert secret not in repr(data)
