"""Counter kiosks through the test client: recognition (KIOSK_NETWORKS, enrolled terminals,
behind a proxy), the fixed QR path, no binding, autocomplete off, 結束使用 and what it wipes.

The kiosk is a test client whose address is in the kiosk network; the phone that scans its QR
code is another client at an ordinary address. The browser's side of the wipe (Clear-Site-Data,
the back button, bfcache, storage, the idle timeout) is in tests/browser/test_kiosk.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from tests.helpers import ELIGIBLE, Desktop, Phone, WizardClient, csrf_token, sim_headers
from tests.web.support import HX, registration_row
from wizard.config import ConfigError
from wizard.database.models import AuditEvent, DeviceBinding, Handoff, KioskTerminal, UserSession
from wizard.kiosk import kiosk
from wizard.registration import registrations

KIOSK_ADDRESS = "10.20.0.7"
OTHER_ADDRESS = "203.0.113.9"
MSISDN = "0912345678"  # 王小明's number as the mobile network reports it
END = "結束使用"
#: What of 王小明 a page could show: name, masked ID and number, card, the ID as typed (the
#: login page's hint shows "A123456789" as an example, so the ID is looked for in a value).
TRACES = ("王小明", "A12345****", "09****78", "000012345678", 'value="A123456789"')
CLEAR_SITE_DATA = '"cache", "cookies", "storage", "executionContexts"'


@pytest.fixture
def app_config(request: pytest.FixtureRequest) -> dict[str, object]:
    """The kiosk network, a non-default idle time; a test may parametrize more (indirect)."""
    return {
        "KIOSK_NETWORKS": ["10.20.0.0/24"],
        "KIOSK_IDLE_SECONDS": 90,
        **getattr(request, "param", {}),
    }


def at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def terminal(app: Flask) -> WizardClient:
    """A person at the counter kiosk."""
    return WizardClient(at(app, KIOSK_ADDRESS), app)


def rows(app: Flask, statement):  # type: ignore[no-untyped-def]
    with app.extensions["db_sessionmaker"]() as db_session:
        found = list(db_session.scalars(statement))
        db_session.expunge_all()
        return found


class _Controls(HTMLParser):
    """Every form control of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("input", "select", "textarea"):
            self.controls.append({"tag": tag, **dict(attrs)})


def controls(html: str) -> list[dict[str, str | None]]:
    parser = _Controls()
    parser.feed(html)
    return [c for c in parser.controls if c.get("type") != "hidden"]


def end_button(html: str) -> bool:
    return bool(re.search(r'<form[^>]*action="/kiosk/end"', html)) and END in html


def register_on_kiosk(app: Flask, terminal: WizardClient) -> Desktop:
    """Steps 1-5 on the kiosk, the phone (an ordinary address) scanning its QR code."""
    terminal.complete_steps_before("device")
    response = terminal.device("desktop")
    assert response.headers["Location"] == "/register/qr"
    desktop = Desktop(terminal)
    phone = Phone(app)
    phone.client.environ_base["REMOTE_ADDR"] = OTHER_ADDRESS
    assert phone.open(desktop.qr_path()).status_code == 303
    assert "請回到您的電腦確認認證結果" in phone.verify("4g", MSISDN).get_data(as_text=True)
    assert terminal.get("/register/done").status_code == 200
    return desktop


def finish(terminal: WizardClient):  # type: ignore[no-untyped-def]
    """Step 6 on the kiosk: 完成並登入 (no binding)."""
    page = terminal.get("/register/done").get_data(as_text=True)
    return terminal.client.post("/register/bind", data={"csrf_token": csrf_token(page)})


def end(client: FlaskClient, page: str = "/login", **kwargs):  # type: ignore[no-untyped-def]
    html = client.get(page).get_data(as_text=True)
    match = re.search(r'value="([^"]+)" id="kiosk-end-csrf"', html)
    assert match, "no 結束使用 form on " + page
    return client.post("/kiosk/end", data={"csrf_token": match.group(1)}, **kwargs)


# --- recognition ----------------------------------------------------------------------------


def test_an_ordinary_address_sees_no_kiosk(app: Flask) -> None:
    client = at(app, OTHER_ADDRESS)
    html = client.get("/login").get_data(as_text=True)
    assert not end_button(html)
    assert 'class="kiosk"' not in html and "kiosk.js" not in html and "kiosk-warning" not in html
    assert "/kiosk." not in html  # neither kiosk.js nor kiosk.css: phones never download them
    assert client.post("/kiosk/end", data={}).status_code in (400, 404)
    assert client.get("/kiosk/ended").status_code == 404
    # Its step 2 keeps the autofill hints a person's own browser is helped by.
    wizard = WizardClient(client, app)
    wizard.complete_steps_before("personal")
    personal = wizard.get("/register/personal").get_data(as_text=True)
    assert 'autocomplete="name"' in personal and 'autocomplete="bday"' in personal


def test_a_kiosk_address_gets_the_kiosk_page(app: Flask) -> None:
    html = at(app, KIOSK_ADDRESS).get("/login").get_data(as_text=True)
    assert end_button(html)
    assert re.search(r'<body[^>]*class="kiosk"', html)
    assert re.search(r'<script src="[^"]*kiosk[^"]*\.js"', html)
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]*kiosk[^"]*\.css)"', html)
    assert stylesheet and "body.kiosk" in at(app, KIOSK_ADDRESS).get(stylesheet.group(1)).get_data(
        as_text=True
    )
    warning = re.search(r'<div[^>]*id="kiosk-warning"[^>]*>', html)
    assert warning and 'role="alertdialog"' in warning.group(0) and "hidden" in warning.group(0)
    assert 'data-idle-seconds="90"' in warning.group(0)  # KIOSK_IDLE_SECONDS
    assert 'data-warn-seconds="30"' in warning.group(0)  # the default
    assert "繼續使用" in html
    # The button is a plain form post: never boosted by htmx.
    form = re.search(r'<form[^>]*action="/kiosk/end"[^>]*>', html)
    assert form and 'hx-boost="false"' in form.group(0)


def test_enrolled_terminals_by_cli(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    address = "192.0.2.44"
    assert not end_button(at(app, address).get("/login").get_data(as_text=True))
    result = runner.invoke(args=["kiosk", "enroll", address, "--label", "台北總局 3 號櫃檯"])
    assert result.exit_code == 0, result.output
    assert [(r.address, r.label) for r in rows(app, select(KioskTerminal))] == [
        (address, "台北總局 3 號櫃檯")
    ]
    assert end_button(at(app, address).get("/login").get_data(as_text=True))
    # The same terminal as a dual-stack server reports it.
    assert end_button(at(app, "::ffff:" + address).get("/login").get_data(as_text=True))
    assert not end_button(at(app, "192.0.2.45").get("/login").get_data(as_text=True))
    listed = runner.invoke(args=["kiosk", "list"])
    assert address in listed.output and "台北總局 3 號櫃檯" in listed.output
    assert "10.20.0.0/24" in listed.output  # KIOSK_NETWORKS is shown too
    # Enrolling again relabels; it is still one row.
    runner.invoke(args=["kiosk", "enroll", address, "--label", "3 號櫃檯"])
    assert [r.label for r in rows(app, select(KioskTerminal))] == ["3 號櫃檯"]
    result = runner.invoke(args=["kiosk", "remove", address])
    assert result.exit_code == 0, result.output
    assert rows(app, select(KioskTerminal)) == []
    assert not end_button(at(app, address).get("/login").get_data(as_text=True))


def test_cli_refuses_what_is_not_one_terminal(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["kiosk", "enroll", "10.0.0.0/24", "--label", "x"])
    assert result.exit_code != 0 and "KIOSK_NETWORKS" in result.output
    result = runner.invoke(args=["kiosk", "enroll", "10.0.0.1"])
    assert result.exit_code != 0 and "--label" in result.output
    result = runner.invoke(args=["kiosk", "remove", "10.0.0.1"])
    assert result.exit_code != 0 and "not enrolled" in result.output


@pytest.mark.parametrize(
    "app_config", [{"KIOSK_NETWORKS": ["10.1.2.0/24"], "TRUSTED_PROXIES": 1}], indirect=True
)
def test_behind_a_proxy_the_terminals_own_address_counts(app: Flask) -> None:
    """The proxy's address is not a kiosk; the terminal's (X-Forwarded-For) is."""
    client = at(app, "127.0.0.1")
    html = client.get("/login", headers={"X-Forwarded-For": "10.1.2.3"}).get_data(as_text=True)
    assert end_button(html)
    html = client.get("/login", headers={"X-Forwarded-For": "10.1.3.3"}).get_data(as_text=True)
    assert not end_button(html)


def test_kiosk_networks_setting_is_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_test_app

    with pytest.raises(ConfigError, match="KIOSK_NETWORKS: 'counter' is not a network"):
        make_test_app(tmp_path, None, KIOSK_NETWORKS=["10.0.0.0/24", "counter"])
    # FLASK_KIOSK_NETWORKS may be one string: commas or spaces between networks.
    assert [str(n) for n in kiosk.parse_networks("10.0.0.0/24, 10.9.0.5")] == [
        "10.0.0.0/24",
        "10.9.0.5/32",
    ]


# --- on the kiosk ----------------------------------------------------------------------------


def test_step_3_is_fixed_to_the_qr_path(app: Flask, terminal: WizardClient) -> None:
    terminal.complete_steps_before("device")
    html = terminal.get("/register/device").get_data(as_text=True)
    assert "臨櫃服務機" in html
    assert 'type="radio"' not in html  # nothing to choose
    # Whatever is posted (a phone, a tablet with a SIM), the kiosk takes the QR path.
    response = terminal.post("/register/device", {"device": "phone"})
    assert response.status_code == 303 and response.headers["Location"] == "/register/qr"
    assert registration_row(app).device == "desktop"
    terminal.get("/register/device")
    response = terminal.post("/register/device", {"device": "tablet", "sim": "yes"})
    assert response.headers["Location"] == "/register/qr"
    # The direct path (step 5 on this device) is not allowed.
    assert terminal.get("/register/verify").status_code == 303


def test_every_input_has_autocomplete_off(app: Flask, terminal: WizardClient) -> None:
    pages = {"/login": terminal.get("/login").get_data(as_text=True)}
    terminal.complete_steps_before("personal")
    pages["/register/personal"] = terminal.get("/register/personal").get_data(as_text=True)
    # Shown again with errors (values kept) is a page too.
    pages["step 2 with errors"] = terminal.personal(name="").get_data(as_text=True)
    terminal.personal()
    pages["/register/device"] = terminal.get("/register/device").get_data(as_text=True)
    register_on_kiosk_from_device(app, terminal)
    pages["/register/done"] = terminal.get("/register/done").get_data(as_text=True)
    finish(terminal)
    pages["/notice"] = terminal.get("/notice").get_data(as_text=True)
    terminal.post("/notice", {})
    pages["/portal/records"] = terminal.get("/portal/records").get_data(as_text=True)
    counted = 0
    for name, html in pages.items():
        for control in controls(html):
            counted += 1
            assert control.get("autocomplete") == "off", (name, control)
    assert counted >= 12  # ID, the step-2 fields, the password boxes, the records filter


def register_on_kiosk_from_device(app: Flask, terminal: WizardClient) -> None:
    response = terminal.device("desktop")
    assert response.headers["Location"] == "/register/qr"
    desktop = Desktop(terminal)
    phone = Phone(app)
    phone.client.environ_base["REMOTE_ADDR"] = OTHER_ADDRESS
    phone.open(desktop.qr_path())
    assert "請回到您的電腦確認認證結果" in phone.verify("4g", MSISDN).get_data(as_text=True)


def test_no_device_credential_is_made_or_used(app: Flask, terminal: WizardClient) -> None:
    register_on_kiosk(app, terminal)
    done = terminal.get("/register/done").get_data(as_text=True)
    # No key-making form (wizard.js enhances #bind-form only), no public key field.
    assert 'id="bind-form"' not in done and 'name="public_key"' not in done
    assert "不會綁定" in done
    response = finish(terminal)
    assert response.status_code == 303 and response.headers["Location"] == "/notice"
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("bli_device=")]
    assert rows(app, select(DeviceBinding)) == []
    kinds = [e.kind for e in rows(app, select(AuditEvent))]
    assert "binding.skipped.kiosk" in kinds
    # Logged in, for queries, without a binding.
    assert terminal.get("/portal").status_code == 200


def test_a_device_cookie_from_elsewhere_is_ignored_on_a_kiosk(app: Flask) -> None:
    """A browser bound before its terminal became a kiosk: the four-field login (and the key
    it would use) is not offered there."""
    person = WizardClient(at(app, OTHER_ADDRESS), app)
    person.complete_steps_before("verify")
    person.post("/register/verify", {"terms": "yes"}, headers=sim_headers("4g", MSISDN))
    finish(person)
    assert person.client.get_cookie("bli_device") is not None
    assert 'id="device-login"' in person.get("/login").get_data(as_text=True)
    person.client.environ_base["REMOTE_ADDR"] = KIOSK_ADDRESS
    assert 'id="device-login"' not in person.get("/login").get_data(as_text=True)


# --- 結束使用 -----------------------------------------------------------------------------------


def test_end_wipes_the_person_and_clears_the_site(app: Flask, terminal: WizardClient) -> None:
    register_on_kiosk(app, terminal)
    finish(terminal)
    terminal.post("/notice", {})
    portal = terminal.get("/portal")
    assert portal.status_code == 200
    shown = [t for t in TRACES if t in portal.get_data(as_text=True)]
    assert shown, "the portal shows the person (else the checks below prove nothing)"
    before = registration_row(app)
    assert before.national_id == ELIGIBLE["national_id"]

    response = end(terminal.client, "/portal")
    assert response.status_code == 303
    assert response.headers["Location"] == "/kiosk/ended"
    assert response.headers["Clear-Site-Data"] == CLEAR_SITE_DATA
    assert response.headers["Cache-Control"] == "no-store"
    # The session cookie is deleted too (for browsers without Clear-Site-Data).
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("bli_session=;") for c in cookies), cookies

    after = registration_row(app)
    assert after.purged
    for column in registrations.PERSONAL_COLUMNS:
        assert getattr(after, column) is None, column
    sessions = rows(app, select(UserSession))
    assert sessions and all(s.ended_at is not None for s in sessions)
    event = rows(app, select(AuditEvent).where(AuditEvent.kind == "kiosk.wiped"))[0]
    assert event.subject and event.subject.startswith("A1") and "A123456789" not in event.subject

    ended = terminal.get("/kiosk/ended")
    html = ended.get_data(as_text=True)
    assert ended.status_code == 200 and "已結束使用" in html
    assert end_button(html) and "kiosk-warning" not in html  # no idle timer on this page
    for path in ("/portal", "/notice", "/register/done", "/register/qr", "/register/personal"):
        page = terminal.get(path, follow_redirects=True).get_data(as_text=True)
        for trace in TRACES:
            assert trace not in page, (path, trace)
    assert rows(app, select(DeviceBinding)) == []


def test_end_at_step_4_stops_the_qr_code(app: Flask, terminal: WizardClient) -> None:
    """A phone that scanned the previous person's code cannot verify after 結束使用."""
    terminal.complete_steps_before("device")
    terminal.device("desktop")
    desktop = Desktop(terminal)
    phone = Phone(app)
    phone.client.environ_base["REMOTE_ADDR"] = OTHER_ADDRESS
    phone.open(desktop.qr_path())
    assert end(terminal.client, "/register/qr").status_code == 303
    assert [h.status for h in rows(app, select(Handoff))] == ["expired"]
    page = phone.page()
    assert page.status_code == 410 and "A1" not in page.get_data(as_text=True)
    assert phone.verify("4g", MSISDN, follow_redirects=True).status_code == 410
    assert registration_row(app).step == "qr"  # never verified


def test_end_wipes_even_without_a_csrf_token(app: Flask, terminal: WizardClient) -> None:
    """A stale or missing token must not leave the person on the terminal (the idle timer
    posts the form of a page that may be an hour old)."""
    terminal.complete_steps_before("device")
    response = terminal.client.post("/kiosk/end", data={})
    assert response.status_code == 303
    assert response.headers["Clear-Site-Data"] == CLEAR_SITE_DATA
    assert registration_row(app).purged


def test_end_wipes_the_browser_when_the_database_fails(
    app: Flask, terminal: WizardClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The server's part fails (here a real error from the database: the table it writes is
    gone); the browser's part still happens, and nothing of the person is reachable from it."""
    terminal.complete_steps_before("device")
    with app.extensions["db_engine"].begin() as connection:
        connection.execute(text("ALTER TABLE handoff RENAME TO handoff_gone"))
    try:
        response = end(terminal.client, "/register/device")
        assert response.status_code == 303
        assert response.headers["Clear-Site-Data"] == CLEAR_SITE_DATA
        cookies = response.headers.getlist("Set-Cookie")
        assert any(c.startswith("bli_session=;") for c in cookies), cookies
        assert "wipe without the database" in caplog.text
        assert terminal.get("/register/personal").headers["Location"] == "/login"
    finally:
        with app.extensions["db_engine"].begin() as connection:
            connection.execute(text("ALTER TABLE handoff_gone RENAME TO handoff"))


def test_a_swap_that_renewed_the_session_renews_the_end_token(
    app: Flask, terminal: WizardClient
) -> None:
    """Step 1 starts a new session; htmx swaps only <main>, so the partial carries the
    header's new token out of band, and 結束使用 works with it."""
    html = terminal.get("/login").get_data(as_text=True)
    response = terminal.client.post(
        "/login",
        data={"csrf_token": csrf_token(html), "national_id": ELIGIBLE["national_id"]},
        headers=HX,
        follow_redirects=True,
    )
    partial = response.get_data(as_text=True)
    oob = re.search(r'<input[^>]*id="kiosk-end-csrf"[^>]*>', partial)
    assert oob and 'hx-swap-oob="true"' in oob.group(0)
    token = re.search(r'value="([^"]+)"', oob.group(0))
    assert token
    response = terminal.client.post("/kiosk/end", data={"csrf_token": token.group(1)})
    assert response.status_code == 303
    assert registration_row(app).purged


def test_end_by_htmx_reloads_the_whole_page(app: Flask, terminal: WizardClient) -> None:
    response = end(terminal.client, "/login", headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/kiosk/ended"
    assert response.headers["Clear-Site-Data"] == CLEAR_SITE_DATA


def test_the_next_person_starts_in_chinese(terminal: WizardClient) -> None:
    """The language choice is the previous person's too: 結束使用 forgets it."""
    assert terminal.get("/login?lang=en").status_code == 303
    assert "End session" in terminal.get("/login").get_data(as_text=True)
    end(terminal.client)
    html = terminal.get("/kiosk/ended").get_data(as_text=True)
    assert 'lang="zh-Hant-TW"' in html and "已結束使用" in html


def test_a_failed_read_of_the_terminals_is_tried_again_soon(
    app: Flask,
    runner,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """A worker that could not read the enrolled terminals (a real database error: the table
    is gone) must not take them for people's own browsers for the usual 30 s once it can."""
    from wizard.kiosk import kiosk as kiosks

    assert runner.invoke(args=["kiosk", "enroll", "192.0.2.50", "--label", "L"]).exit_code == 0
    kiosks.forget_enrolled(app)
    monkeypatch.setattr(kiosks, "RETRY_SECONDS", 0.0)  # "soon" is now, for the test
    engine = app.extensions["db_engine"]
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE kiosk_terminal RENAME TO kiosk_terminal_gone"))
    try:
        assert kiosks.enrolled_addresses(app) == frozenset()
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE kiosk_terminal_gone RENAME TO kiosk_terminal"))
    assert kiosks.enrolled_addresses(app) == frozenset({"192.0.2.50"})
    # A good read is kept for REFRESH_SECONDS: no database read per request.
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM kiosk_terminal"))
    assert kiosks.enrolled_addresses(app) == frozenset({"192.0.2.50"})
