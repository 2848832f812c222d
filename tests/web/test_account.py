"""Steps 6-7 through the test client: binding, the notice, the four-field login, lockouts,
device revocation, the new-binding text message and session timeouts."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.helpers import ELIGIBLE, WizardClient, csrf_token
from tests.unit.test_devices import new_key, spki, webcrypto_signature
from wizard.clock import FrozenClock
from wizard.database.models import Account, AuditEvent, DeviceBinding, SmsMessage, UserSession

PHONE_4G = {"X-Sim-Network": "4g", "X-Sim-Msisdn": "0912345678"}
FOUR_FIELDS = {
    "national_id": "A123456789",
    "birth_date": "1980/01/01",
    "name": "王小明",
    "password": ELIGIBLE["password"],
}


def register_and_bind(wizard: WizardClient, public_key: str | None = None) -> None:
    """A phone registers directly (no QR), then binds this browser."""
    wizard.complete_steps_before("verify")
    response = wizard.post("/register/verify", {"terms": "yes"}, headers=PHONE_4G)
    assert response.headers["Location"] == "/register/done", response.get_data(as_text=True)
    data = {"public_key": public_key} if public_key else {}
    response = _bind(wizard, data)
    assert response.status_code == 303 and response.headers["Location"] == "/notice"


def _bind(wizard: WizardClient, data: dict[str, str]):  # type: ignore[no-untyped-def]
    page = wizard.get("/register/done")
    return wizard.client.post(
        "/register/bind", data={"csrf_token": csrf_token(page.get_data(as_text=True)), **data}
    )


def login(client: FlaskClient, **overrides: str):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    html = page.get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), **FOUR_FIELDS, **overrides}
    challenge = re.search(r'name="challenge" value="([^"]*)"', html)
    data.setdefault("challenge", challenge.group(1) if challenge else "")
    return client.post("/login/device", data=data)


def logout(client: FlaskClient) -> None:
    page = client.get("/portal")
    client.post("/logout", data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def rows(app: Flask, statement):  # type: ignore[no-untyped-def]
    """Query the database in a session that is closed at once (no connection left open)."""
    with app.extensions["db_sessionmaker"]() as db:
        return db.scalars(statement).all()


def form_error(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'<p id="form-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    return unescape(match.group(1)) if match else ""


def test_first_login_binds_then_reads_the_notice_then_the_portal(
    wizard: WizardClient, app: Flask
) -> None:
    register_and_bind(wizard)
    notice = wizard.get("/notice")
    assert "使用須知" in notice.get_data(as_text=True)
    assert 'id="notice-start"' in notice.get_data(as_text=True)  # enabled without JS
    response = wizard.post("/notice", {})
    assert response.headers["Location"] == "/portal"
    assert wizard.get("/portal").status_code == 200
    (binding,) = rows(app, select(DeviceBinding))
    assert binding.kind == "cookie"  # no JavaScript: the weaker fallback, recorded
    assert rows(app, select(Account))[0].notice_read_at is not None


def test_the_device_cookie_is_httponly_and_samesite(wizard: WizardClient) -> None:
    wizard.complete_steps_before("verify")
    wizard.post("/register/verify", {"terms": "yes"}, headers=PHONE_4G)
    response = _bind(wizard, {})
    cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("bli_device=")]
    assert cookie and "HttpOnly" in cookie[0] and "SameSite=Lax" in cookie[0]


def test_a_registration_binds_once(wizard: WizardClient, app: Flask) -> None:
    """A double submission (the same cookie twice) binds once."""
    wizard.complete_steps_before("verify")
    wizard.post("/register/verify", {"terms": "yes"}, headers=PHONE_4G)
    page = wizard.get("/register/done").get_data(as_text=True)
    before = wizard.client.get_cookie("bli_session").value
    data = {"csrf_token": csrf_token(page)}
    assert wizard.client.post("/register/bind", data=data).headers["Location"] == "/notice"
    wizard.client.set_cookie("bli_session", before)
    again = wizard.client.post("/register/bind", data=data)
    assert again.headers["Location"] == "/login"
    assert len(rows(app, select(DeviceBinding))) == 1


def test_the_new_binding_is_announced_to_the_number_with_a_revoke_link(
    wizard: WizardClient, app: Flask, client: FlaskClient
) -> None:
    register_and_bind(wizard)
    outbox = client.get("/simulator/outbox").get_data(as_text=True)
    assert "09****78" in outbox and "綁定新裝置" in outbox
    (message,) = rows(app, select(SmsMessage))
    link = re.search(r"http://localhost(/not-me/\S+?) ", message.body).group(1)
    other = app.test_client()
    confirm = other.get(link)
    assert "撤銷這個綁定" in confirm.get_data(as_text=True)  # GET changes nothing
    assert wizard.get("/portal").status_code == 200
    done = other.post(link, data={"csrf_token": csrf_token(confirm.get_data(as_text=True))})
    assert "已撤銷" in done.get_data(as_text=True)
    # The revoked browser is logged out everywhere and can no longer log in.
    assert wizard.get("/portal").status_code == 303
    response = login(wizard.client)
    assert response.headers["Location"] == "/login"
    assert other.get("/not-me/garbage").status_code == 400


def test_login_with_the_four_fields(wizard: WizardClient, app: Flask) -> None:
    register_and_bind(wizard)
    wizard.post("/notice", {})
    logout(wizard.client)
    assert wizard.get("/portal").status_code == 303  # logged out on the server
    page = wizard.get("/login").get_data(as_text=True)
    for label in ("身分證號", "出生日期", "姓名", "憑證密碼", "登入", "重新申請行動認證"):
        assert label in page
    before = wizard.client.get_cookie("bli_session").value
    response = login(wizard.client, national_id=" a123456789 ", birth_date="69/01/01")
    assert response.headers["Location"] == "/portal"
    assert wizard.client.get_cookie("bli_session").value != before  # session renewed


@pytest.mark.parametrize(
    "wrong",
    [
        {"national_id": "F223456713"},
        {"national_id": "garbage"},
        {"birth_date": "1980/01/02"},
        {"birth_date": "not a date"},
        {"name": "王小名"},
        {"password": "wrong password here"},
    ],
)
def test_every_wrong_answer_gets_the_same_generic_message(wizard: WizardClient, wrong) -> None:
    register_and_bind(wizard)
    logout(wizard.client)
    response = login(wizard.client, **wrong)
    assert response.status_code == 200
    assert form_error(response).startswith("登入資料有誤，請重新輸入。")
    assert "<title>錯誤：" in response.get_data(as_text=True)


def test_five_failures_lock_for_15_minutes_then_longer(
    wizard: WizardClient, app: Flask, clock: FrozenClock
) -> None:
    register_and_bind(wizard)
    wizard.post("/notice", {})
    logout(wizard.client)
    for attempt in range(4):
        assert "再錯" in form_error(login(wizard.client, password=f"wrong {attempt} xxxxx"))
    locked = login(wizard.client, password="wrong again xxxxx")
    assert "已暫停至 17:15" in form_error(locked)  # 09:00 UTC + 15 min, in Taipei time
    # Even the right answers are refused while locked.
    assert "已暫停" in form_error(login(wizard.client))
    clock.advance(minutes=15)
    assert login(wizard.client).headers["Location"] == "/portal"
    logout(wizard.client)
    # A success resets the counter; a new run of five locks again.
    for attempt in range(5):
        response = login(wizard.client, password=f"wrong {attempt} yyyyy")
    assert "已暫停至 17:30" in form_error(response)
    (account,) = rows(app, select(Account))
    assert account.lock_count == 1


def test_repeated_locks_grow(wizard: WizardClient, clock: FrozenClock) -> None:
    register_and_bind(wizard)
    logout(wizard.client)
    for _ in range(5):
        login(wizard.client, password="wrong password one")
    clock.advance(minutes=15)
    for _ in range(5):
        response = login(wizard.client, password="wrong password two")
    assert "已暫停至 17:45" in form_error(response)  # 17:15 + 30 minutes


def test_the_lock_counter_is_in_the_database(
    wizard: WizardClient, app: Flask, clock: FrozenClock
) -> None:
    """Another app object on the same database (another worker, a restart) sees the lock."""
    from wizard import create_app

    register_and_bind(wizard)
    logout(wizard.client)
    for _ in range(5):
        login(wizard.client, password="wrong password one")
    second = create_app({**app.config, "TESTING": True}, clock=clock)
    client = second.test_client()
    client.set_cookie("bli_device", wizard.client.get_cookie("bli_device").value)
    assert "已暫停" in form_error(login(client))


def test_an_unbound_browser_is_sent_to_register(client: FlaskClient) -> None:
    page = client.get("/login")
    response = client.post(
        "/login/device", data={"csrf_token": csrf_token(page.get_data(as_text=True)), **FOUR_FIELDS}
    )
    assert response.headers["Location"] == "/login"
    assert "尚未綁定" in client.get("/login").get_data(as_text=True)


def test_webcrypto_binding_and_signed_login(wizard: WizardClient, app: Flask) -> None:
    key = new_key()
    register_and_bind(wizard, public_key=spki(key))
    logout(wizard.client)
    html = wizard.get("/login").get_data(as_text=True)
    assert 'data-device-kind="webcrypto"' in html
    nonce = re.search(r'name="challenge" value="([^"]*)"', html).group(1)
    good = webcrypto_signature(key, nonce)
    response = login(wizard.client, challenge=nonce, signature=good)
    assert response.headers["Location"] == "/notice"
    logout(wizard.client)
    # The same signature again (a replayed challenge) fails, as does another key's.
    assert "登入資料有誤" in form_error(login(wizard.client, challenge=nonce, signature=good))
    html = wizard.get("/login").get_data(as_text=True)
    nonce = re.search(r'name="challenge" value="([^"]*)"', html).group(1)
    other = webcrypto_signature(new_key(), nonce)
    assert "登入資料有誤" in form_error(login(wizard.client, challenge=nonce, signature=other))
    # No signature at all (the key is missing from this browser) fails too.
    assert "登入資料有誤" in form_error(login(wizard.client, signature=""))


def test_reapplying_replaces_this_browsers_binding(wizard: WizardClient, app: Flask) -> None:
    register_and_bind(wizard)
    logout(wizard.client)
    wizard.get("/login?reapply=1")
    register_and_bind(wizard)
    bindings = rows(app, select(DeviceBinding).order_by(DeviceBinding.id))
    assert [b.revoked_reason for b in bindings] == ["replaced", None]


def test_revoke_a_device_from_another_one(app: Flask, clock: FrozenClock) -> None:
    laptop = WizardClient(app.test_client(), app)
    register_and_bind(laptop)
    phone = WizardClient(app.test_client(), app)
    register_and_bind(phone)
    page = phone.get("/account/devices").get_data(as_text=True)
    assert page.count("撤銷") >= 2
    first = rows(app, select(DeviceBinding).order_by(DeviceBinding.id))[0]
    response = phone.post(f"/account/devices/{first.id}/revoke", {})
    assert response.headers["Location"] == "/account/devices"
    assert laptop.get("/portal").status_code == 303  # its session ended with the binding
    assert phone.get("/portal").status_code == 200
    # Someone else's device cannot be revoked.
    assert phone.post("/account/devices/99999/revoke", {}).status_code == 404


def test_idle_timeout_and_extension(wizard: WizardClient, clock: FrozenClock) -> None:
    register_and_bind(wizard)
    wizard.post("/notice", {})
    clock.advance(minutes=14)
    page = wizard.get("/portal").get_data(as_text=True)
    assert 'id="session-warning"' in page and 'data-seconds-left="900"' in page
    clock.advance(minutes=14)
    assert wizard.post("/session/extend", {}).status_code == 204
    clock.advance(minutes=15)
    response = wizard.get("/portal")
    assert response.status_code == 303
    assert "閒置超過 15 分鐘" in wizard.get("/login").get_data(as_text=True)


def test_absolute_timeout_of_8_hours(wizard: WizardClient, clock: FrozenClock) -> None:
    register_and_bind(wizard)
    rounds = 0
    while rounds < 40:  # active every 14.5 minutes: never idle
        rounds += 1
        clock.advance(minutes=14, seconds=30)
        if wizard.get("/portal").status_code != 200:
            break
    assert rounds == 34  # 33 x 14.5 min = 7 h 58.5 min still in; 8 h 13 min out
    assert wizard.get("/portal").status_code == 303


def test_logout_ends_the_session_on_the_server(wizard: WizardClient, app: Flask) -> None:
    register_and_bind(wizard)
    stolen = wizard.client.get_cookie("bli_session").value
    logout(wizard.client)
    thief = app.test_client()
    thief.set_cookie("bli_session", stolen)
    assert thief.get("/portal").status_code == 303
    (row,) = rows(app, select(UserSession))
    assert row.ended_at is not None


def test_audit_events_are_masked(wizard: WizardClient, app: Flask) -> None:
    register_and_bind(wizard)
    logout(wizard.client)
    login(wizard.client, password="wrong password one")
    events = rows(app, select(AuditEvent))
    kinds = {e.kind for e in events}
    assert {"binding.created.cookie", "login.failed"} <= kinds
    for event in events:
        assert "A123456789" not in f"{event.subject} {event.detail}"
        assert "0912345678" not in f"{event.subject} {event.detail}"


def test_a_timed_out_htmx_request_reloads_the_whole_page(
    wizard: WizardClient, clock: FrozenClock
) -> None:
    """An HTMX click after the timeout must not swap the login page into a logged-in
    layout: the whole page is reloaded (HX-Redirect), so the header changes too."""
    register_and_bind(wizard)
    wizard.post("/notice", {})
    clock.advance(minutes=16)
    response = wizard.get("/portal/records", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/login"


def _not_me_link(app: Flask) -> str:
    (message,) = rows(app, select(SmsMessage))
    return re.search(r"http://localhost(/not-me/\S+?) ", message.body).group(1)  # type: ignore[union-attr]


def test_a_not_me_link_works_once(wizard: WizardClient, app: Flask) -> None:
    register_and_bind(wizard)
    link = _not_me_link(app)
    other = app.test_client()
    confirm = other.get(link)
    token = csrf_token(confirm.get_data(as_text=True))
    assert "已撤銷" in other.post(link, data={"csrf_token": token}).get_data(as_text=True)
    for again in (other.get(link), other.post(link, data={"csrf_token": token})):
        assert again.status_code == 410
        assert "這個連結已使用過" in again.get_data(as_text=True)


def test_a_not_me_link_expires_after_30_days(
    wizard: WizardClient, app: Flask, clock: FrozenClock
) -> None:
    register_and_bind(wizard)
    link = _not_me_link(app)
    clock.advance(days=29, hours=23)
    assert app.test_client().get(link).status_code == 200
    clock.advance(hours=2)
    expired = app.test_client().get(link)
    assert expired.status_code == 410 and "這個連結已過期" in expired.get_data(as_text=True)
    assert "已綁定的裝置" in expired.get_data(as_text=True)  # where to go instead
    assert rows(app, select(DeviceBinding))[0].revoked_at is None


def test_the_simulator_outbox_is_for_this_machine_only(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/simulator/outbox").status_code == 200  # 127.0.0.1
    remote = {"REMOTE_ADDR": "198.51.100.20"}
    assert client.get("/simulator/outbox", environ_base=remote).status_code == 404
    app.config["SIM_OUTBOX_PUBLIC"] = True  # an operator's choice for a public demo
    assert client.get("/simulator/outbox", environ_base=remote).status_code == 200
