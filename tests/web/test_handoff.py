"""Step 4's cross-device hand-off, route by route: a desktop (one test client) shows the QR
code, a phone (a second test client with cookies of its own) opens its link and verifies.

Covered: the phone's page and what it says is being bound, every misuse of a link (each its own
page, nothing changed, audited), the token's strength and storage, every carrier outcome on the
phone and on the desktop's poll, the status transitions the desktop's poll sees, cancelling,
expiry, regeneration, the failure limit and the audit trail.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import Callable
from html import unescape

import pytest
from flask import Flask
from itsdangerous import Signer
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.helpers import (
    DESKTOP_UA,
    ELIGIBLE,
    CountingGateway,
    Desktop,
    Phone,
    WizardClient,
    csrf_token,
    demo_person,
    demo_personal,
    poll_url,
    qr_path,
    upsert_subscriber,
)
from tests.web.support import flashed, outline, registration_row, text_of
from wizard.clock import FrozenClock
from wizard.database.models import AuditEvent, Handoff, Registration
from wizard.registration.verification import MAX_FAILURES
from wizard.web.messages import message

MSISDN = "0912345678"  # 王小明's number (ELIGIBLE), as normalised
WAITING = "等待手機掃描 QR Code"
OPENED = "已在手機上開啟"
CHECKING = "電信業者確認中"
EXPIRED = "QR Code 已逾時（有效時間 5 分鐘）"
CANCELLED = "手機持有人按了「這不是我申請的」"
VERIFIED_ON_PHONE = "請回到您的電腦確認認證結果"
NOT_YET = "手機上還沒有完成驗證"
REGENERATE = "重新產生QRCode"


# --- helpers -------------------------------------------------------------------------------


def words(app: Flask, code: str) -> str:
    """The text of a message code, as a page shows it (HTML-unescaped)."""
    with app.test_request_context():
        return message(code)


def page_text(response: TestResponse) -> str:
    return unescape(text_of(response))


def handoffs(app: Flask) -> list[Handoff]:
    with app.extensions["db_sessionmaker"]() as db_session:
        rows = list(db_session.scalars(select(Handoff).order_by(Handoff.id)))
        db_session.expunge_all()
        return rows


def snapshot(app: Flask) -> list[tuple[object, ...]]:
    """Everything that a misuse must leave alone, for every hand-off."""
    return [
        (h.id, h.status, h.phone_ref_hash, h.opened_at, h.finished_at, h.outcome, h.expires_at)
        for h in handoffs(app)
    ]


def audit_events(app: Flask) -> list[AuditEvent]:
    with app.extensions["db_sessionmaker"]() as db_session:
        rows = list(db_session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        db_session.expunge_all()
        return rows


def audit_kinds(app: Flask) -> list[str]:
    return [event.kind for event in audit_events(app)]


def set_failures(app: Flask, registration_id: int, failures: int) -> None:
    with app.extensions["db_sessionmaker"]() as db_session:
        db_session.get(Registration, registration_id).verify_failures = failures  # type: ignore[union-attr]
        db_session.commit()


def token_of_path(path: str) -> str:
    assert path.startswith("/h/")
    return path[len("/h/") :]


def parts(token: str) -> tuple[str, str, str]:
    """``<handoff id>.<random>.<signature>``."""
    handoff_id, random_part, signature = token.split(".")
    return handoff_id, random_part, signature


def flip(text: str, index: int) -> str:
    """``text`` with the character at ``index`` replaced by another base64url character."""
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def new_desktop(app: Flask, national_id: str = ELIGIBLE["national_id"]) -> Desktop:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = DESKTOP_UA
    wizard = WizardClient(client, app)
    personal = demo_personal(national_id) if national_id != ELIGIBLE["national_id"] else {}
    wizard.complete_steps_before("qr", national_id=national_id, **personal)
    return Desktop(wizard)


def opened_phone(app: Flask, path: str) -> Phone:
    phone = Phone(app)
    response = phone.open(path)
    assert response.status_code == 303, page_text(response)
    assert response.headers["Location"] == "/phone/verify"
    return phone


def follow_poll(desktop: Desktop, url: str | None) -> tuple[TestResponse, str | None]:
    """One HTMX poll of the status region; returns it and the next polling URL it asks for."""
    assert url is not None, "the status region has stopped polling"
    response = desktop.poll(url)
    if response.status_code == 204:
        return response, url
    return response, poll_url(text_of(response))


@pytest.fixture
def desktop(app: Flask) -> Desktop:
    return new_desktop(app)


# --- the phone's page -----------------------------------------------------------------------


def test_phone_opens_the_link_read_from_the_desktop_page(app: Flask, desktop: Desktop) -> None:
    page = desktop.qr_page()
    assert page.status_code == 200
    html = text_of(page)
    assert "請確認已關閉 WIFI 網路，開啟 4G/5G 網路連線" in html
    assert '驗證有效時間: <span class="countdown-clock">05:00</span>' in html
    assert "<svg" in html and 'role="img"' in html
    path = desktop.qr_path()

    phone = Phone(app)
    opened = phone.open(path)
    assert opened.status_code == 303
    assert opened.headers["Location"] == "/phone/verify"
    # The phone's cookie is its own: the desktop's session carries no part of it.
    assert phone.client.get_cookie("bli_session").value != (  # type: ignore[union-attr]
        desktop.client.get_cookie("bli_session").value  # type: ignore[union-attr]
    )

    shown = phone.page()
    assert shown.status_code == 200
    text = page_text(shown)
    assert outline(shown).h1 == ["核對資料並開始驗證"]
    for label, value in (
        ("驗證類別", "行動電話驗證"),
        ("驗證單位", "勞動部勞工保險局"),
        ("電信業者", "中華電信"),
        ("門號資訊", "09****78"),
        ("身分證號", "A12345****"),
    ):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in text
    # What is being bound, and from where: the desktop's browser / OS and the time (Taipei).
    assert "一台使用 Chrome / Windows 的裝置於 17:00 開始這項申請" in text
    assert "開始驗證" in text and "這不是我申請的" in text
    assert 'formaction="/phone/cancel"' in text
    assert "我已閱讀並同意使用者約定條款" in text
    assert ELIGIBLE["national_id"] not in text
    assert "王小明" not in text


def test_the_phone_page_with_header_enrichment_shows_no_full_number(
    app: Flask, desktop: Desktop
) -> None:
    phone = opened_phone(app, desktop.qr_path())
    shown = phone.page(headers={"X-Sim-Network": "4g", "X-Sim-Msisdn": MSISDN})
    text = page_text(shown)
    assert "09****78" in text
    assert MSISDN not in text and "0912-345678" not in text
    assert "電信網路模擬器" not in text  # the network said who it is: no panel


def test_the_phone_gets_a_session_of_its_own(app: Flask, desktop: Desktop) -> None:
    """A phone that was itself in the middle of a registration keeps nothing of it."""
    other = WizardClient(app.test_client(), app)
    other.complete_steps_before("device", national_id="F223456713", **demo_personal("F223456713"))
    assert other.get("/register/device").status_code == 200
    response = other.client.get(desktop.qr_path())
    assert response.status_code == 303
    assert other.get("/register/device").headers["Location"] == "/login"


def test_the_same_phone_may_open_the_link_again(app: Flask, desktop: Desktop) -> None:
    path = desktop.qr_path()
    phone = opened_phone(app, path)
    before = snapshot(app)
    again = phone.open(path)
    assert again.status_code == 303
    assert again.headers["Location"] == "/phone/verify"
    assert snapshot(app) == before
    assert phone.page().status_code == 200


def test_the_desktop_cannot_act_as_the_phone(app: Flask, desktop: Desktop) -> None:
    """Only the phone that opened the link holds the hand-off: the applying browser's session
    cannot verify or cancel it."""
    opened_phone(app, desktop.qr_path())
    before = snapshot(app)
    for url in ("/phone/verify", "/phone/cancel"):
        response = desktop.client.post(url, data={"csrf_token": desktop.csrf(), "terms": "yes"})
        assert response.status_code == 400, url
        assert "請重新掃描 QR Code" in page_text(response)
    assert desktop.client.get("/phone/verify").status_code == 400
    assert snapshot(app) == before


# --- misuse of a link ----------------------------------------------------------------------

MISUSE_TITLES = {
    "invalid": "這個連結無效",
    "expired": "QR Code 已逾時",
    "replaced": "已有較新的 QR Code",
    "taken": "已在另一支手機開啟",
    "used": "這個 QR Code 已使用過",
    "session": "請重新掃描 QR Code",
}


def assert_misuse(
    app: Flask, response: TestResponse, kind: str, before: list[tuple[object, ...]]
) -> None:
    """Its own clear page, status 400/410, nothing changed, the misuse audited."""
    assert response.status_code == (400 if kind in ("invalid", "session") else 410), kind
    text = page_text(response)
    assert outline(response).h1 == [MISUSE_TITLES[kind]], text
    assert "Traceback" not in text and "Exception" not in text
    assert "回到個人登入" in text
    assert snapshot(app) == before
    assert audit_kinds(app)[-1] == f"handoff.misuse.{kind}"


def _tampered_signature(app: Flask, desktop: Desktop, path: str) -> str:
    handoff_id, random_part, signature = parts(token_of_path(path))
    return f"/h/{handoff_id}.{random_part}.{flip(signature, len(signature) // 2)}"


def _tampered_random(app: Flask, desktop: Desktop, path: str) -> str:
    handoff_id, random_part, signature = parts(token_of_path(path))
    return f"/h/{handoff_id}.{flip(random_part, 3)}.{signature}"


def _truncated(app: Flask, desktop: Desktop, path: str) -> str:
    return path[:-6]


def _signature_cut_off(app: Flask, desktop: Desktop, path: str) -> str:
    handoff_id, random_part, _signature = parts(token_of_path(path))
    return f"/h/{handoff_id}.{random_part}"


def _other_registration_edited(app: Flask, desktop: Desktop, path: str) -> str:
    """A real token of another registration's hand-off, its id edited to name this one."""
    other = new_desktop(app, "F223456713").qr_path()
    this_id = parts(token_of_path(path))[0]
    _other_id, random_part, signature = parts(token_of_path(other))
    return f"/h/{this_id}.{random_part}.{signature}"


def _other_registration_resigned(app: Flask, desktop: Desktop, path: str) -> str:
    """The same edit, even re-signed with the site's key: the random part still does not match."""
    other = new_desktop(app, "F223456713").qr_path()
    this_id = parts(token_of_path(path))[0]
    random_part = parts(token_of_path(other))[1]
    token = Signer(app.secret_key, salt="handoff-token").sign(f"{this_id}.{random_part}")  # type: ignore[arg-type]
    return "/h/" + token.decode()


def _signed_garbage(app: Flask, desktop: Desktop, path: str) -> str:
    token = Signer(app.secret_key, salt="handoff-token").sign("no-dot-here")  # type: ignore[arg-type]
    return "/h/" + token.decode()


@pytest.mark.parametrize(
    "make",
    [
        _tampered_signature,
        _tampered_random,
        _truncated,
        _signature_cut_off,
        _other_registration_edited,
        _other_registration_resigned,
        _signed_garbage,
        lambda app, desktop, path: "/h/garbage",
        lambda app, desktop, path: "/h/1.2.3",
        lambda app, desktop, path: "/h/" + "A" * 3000,
        lambda app, desktop, path: "/h/%E6%B8%AC%E8%A9%A6.%00.%FF",
        lambda app, desktop, path: "/h/../../etc/passwd",
        lambda app, desktop, path: "/h/99999.AAAAAAAAAAAAAAAAAAAAAA.x",
    ],
    ids=[
        "tampered-signature",
        "tampered-random",
        "truncated",
        "signature-cut-off",
        "other-registration-edited",
        "other-registration-resigned",
        "signed-garbage",
        "garbage",
        "dots",
        "long",
        "non-ascii",
        "traversal",
        "unknown-id",
    ],
)
def test_an_invalid_link_changes_nothing(
    app: Flask, desktop: Desktop, make: Callable[[Flask, Desktop, str], str]
) -> None:
    path = desktop.qr_path()
    bad = make(app, desktop, path)
    assert bad != path
    before = snapshot(app)
    response = Phone(app).open(bad)
    assert_misuse(app, response, "invalid", before)
    # The real link still works afterwards.
    assert Phone(app).open(path).status_code == 303


def test_an_expired_link(app: Flask, clock: FrozenClock, desktop: Desktop) -> None:
    path = desktop.qr_path()
    clock.advance(minutes=5, seconds=1)
    before = snapshot(app)
    assert [h.status for h in handoffs(app)] == ["waiting"]
    response = Phone(app).open(path)
    assert_misuse(app, response, "expired", before)
    assert "重新產生QRCode" in page_text(response)


def test_a_link_used_up_by_a_verification(app: Flask, desktop: Desktop) -> None:
    path = desktop.qr_path()
    phone = opened_phone(app, path)
    assert VERIFIED_ON_PHONE in page_text(phone.verify("4g", MSISDN))
    before = snapshot(app)
    assert [h.status for h in handoffs(app)] == ["verified"]
    # Neither another phone nor the same one can use it again.
    assert_misuse(app, Phone(app).open(path), "used", before)
    assert_misuse(app, phone.open(path), "used", before)


def test_a_link_replaced_by_a_newer_qr_code(app: Flask, desktop: Desktop) -> None:
    old = desktop.qr_path()
    assert desktop.regenerate().headers["Location"] == "/register/qr"
    new = desktop.qr_path()
    assert new != old
    before = snapshot(app)
    assert [h.status for h in handoffs(app)] == ["replaced", "waiting"]
    assert_misuse(app, Phone(app).open(old), "replaced", before)
    assert Phone(app).open(new).status_code == 303


def test_a_link_opened_by_a_second_phone(app: Flask, desktop: Desktop) -> None:
    path = desktop.qr_path()
    first = opened_phone(app, path)
    before = snapshot(app)
    response = Phone(app).open(path)
    assert_misuse(app, response, "taken", before)
    assert "已在另一支手機開啟" in page_text(response)
    # The first phone is not disturbed.
    assert first.page().status_code == 200


def test_the_phone_page_without_a_phone_session(app: Flask, desktop: Desktop) -> None:
    desktop.qr_path()
    before = snapshot(app)
    stranger = Phone(app)
    assert_misuse(app, stranger.client.get("/phone/verify"), "session", before)
    # A valid form token of its own: what is missing is a hand-off opened by this browser.
    token = csrf_token(text_of(stranger.client.get("/login")))
    for url in ("/phone/verify", "/phone/cancel"):
        response = stranger.client.post(url, data={"csrf_token": token, "terms": "yes"})
        assert_misuse(app, response, "session", before)


def test_a_phone_whose_qr_was_replaced_cannot_verify(app: Flask, desktop: Desktop) -> None:
    """The phone held the old link when the desktop made a new one: its 開始驗證 fails cleanly
    and the carrier is not asked."""
    phone = opened_phone(app, desktop.qr_path())
    counter = CountingGateway(app)
    desktop.regenerate()
    response = phone.verify("4g", MSISDN, follow_redirects=True)
    assert response.status_code == 410
    assert outline(response).h1 == [MISUSE_TITLES["replaced"]]
    assert counter.calls == 0
    assert registration_row(app).step == "qr"


# --- the token -----------------------------------------------------------------------------


def test_the_token_has_128_random_bits_and_only_its_hash_is_stored(
    app: Flask, desktop: Desktop
) -> None:
    tokens = [token_of_path(desktop.qr_path())]
    for _ in range(3):
        desktop.regenerate()
        tokens.append(token_of_path(desktop.qr_path()))
    assert len(set(tokens)) == len(tokens)
    rows = {str(h.id): h for h in handoffs(app)}
    for token in tokens:
        handoff_id, random_part, _signature = parts(token)
        raw = base64.urlsafe_b64decode(random_part + "=" * (-len(random_part) % 4))
        assert len(raw) * 8 >= 128
        assert rows[handoff_id].token_hash == hashlib.sha256(random_part.encode()).hexdigest()
    # Neither the token nor its random part is anywhere in the hand-off table.
    with app.extensions["db_engine"].connect() as connection:
        cells = [
            str(cell) for row in connection.execute(Handoff.__table__.select()) for cell in row
        ]
    for token in tokens:
        random_part = parts(token)[1]
        assert not [cell for cell in cells if random_part in cell or token in cell]


def test_a_refresh_shows_the_same_qr_code(app: Flask, desktop: Desktop) -> None:
    first = desktop.qr_path()
    assert desktop.qr_path() == first
    assert len(handoffs(app)) == 1


# --- every carrier outcome ------------------------------------------------------------------

#: A valid national ID that is in no demo row: the new holder of a number.
NEW_HOLDER = "C123456781"


def _no_change(app: Flask, national_id: str) -> None:
    return None


def _row_change(**changes: str) -> Callable[[Flask, str], None]:
    def change(app: Flask, national_id: str) -> None:
        upsert_subscriber(app, {**demo_person(national_id), **changes})

    return change


def _number_now_someone_elses(app: Flask, national_id: str) -> None:
    """Since step 2 the number moved to another person (and the person got another one)."""
    row = demo_person(national_id)
    upsert_subscriber(app, {**row, "msisdn": "0956000001"})
    upsert_subscriber(
        app,
        {**row, "national_id": NEW_HOLDER, "name": "陳大同", "nhi_card": "000099998888"},
    )


# (outcome, demo person, X-Sim-Network, X-Sim-Msisdn (None: the person's), registry change,
#  retryable)
OUTCOMES = [
    ("wifi", "A123456789", "wifi", "", _no_change, True),
    ("roaming", "F223456713", "roaming", None, _no_change, True),
    ("vpn", "B120987653", "vpn", "", _no_change, True),
    ("other_number", "E228765430", "4g", "0911000111", _no_change, True),
    ("not_owner", "H122334450", "5g", None, _number_now_someone_elses, False),
    ("prepaid", "N223450986", "4g", None, _row_change(plan="prepaid"), False),
    ("family", "Y120011223", "4g", None, _row_change(plan="family"), False),
    ("enterprise", "B120987653", "5g", None, _row_change(account="enterprise"), False),
    ("mvno", "F223456713", "4g", None, _row_change(mvno="1"), False),
    ("suspended", "L224680137", "4g", None, _no_change, False),
]


@pytest.mark.parametrize(
    ("outcome", "national_id", "network", "seen_number", "change", "retryable"),
    OUTCOMES,
    ids=[o[0] for o in OUTCOMES],
)
def test_every_carrier_outcome_has_its_own_message(
    app: Flask,
    outcome: str,
    national_id: str,
    network: str,
    seen_number: str | None,
    change: Callable[[Flask, str], None],
    retryable: bool,
) -> None:
    desktop = new_desktop(app, national_id)  # step 2's precheck passed with the demo row
    change(app, national_id)
    phone = opened_phone(app, desktop.qr_path())
    number = demo_person(national_id)["msisdn"]
    counter = CountingGateway(app)

    response = phone.verify(network, number if seen_number is None else seen_number or None)

    assert response.status_code == 200
    assert counter.calls == 1
    expected = words(app, f"network.{outcome}")
    text = page_text(response)
    assert expected in text
    assert 'role="alert"' in text
    assert "驗證成功" not in text
    # A retryable failure keeps the form for another try; a final one removes it.
    assert ('id="verify-form"' in text) is retryable
    [row] = handoffs(app)
    assert row.status == ("opened" if retryable else "failed")
    assert row.outcome == outcome
    registration = registration_row(app, national_id)
    assert registration.step == "qr"
    assert registration.verify_failures == 1
    # Nobody else's data: the new holder's name never appears.
    assert "陳大同" not in text and NEW_HOLDER not in text

    # The desktop's poll says the same.
    shown = desktop.poll()
    assert shown.status_code == 200
    assert expected in page_text(shown)
    # Its page too (what a person without JavaScript sees on a refresh).
    assert expected in page_text(desktop.qr_page())
    # And the phone's page on a refresh.
    assert expected in page_text(phone.page())


@pytest.mark.parametrize("app_config", [{"SIM_FAILURE_RATE": 1.0}], indirect=True)
def test_carrier_unavailable(app: Flask) -> None:
    desktop = new_desktop(app, "E228765430")
    phone = opened_phone(app, desktop.qr_path())
    response = phone.verify("4g", demo_person("E228765430")["msisdn"])
    expected = words(app, "network.unavailable")
    assert expected in page_text(response)
    assert 'id="verify-form"' in text_of(response)  # try again on the same page
    [row] = handoffs(app)
    assert (row.status, row.outcome) == ("opened", "unavailable")
    # Nobody's fault: it does not count as a failure.
    assert registration_row(app).verify_failures == 0
    assert expected in page_text(desktop.poll())


def test_success_on_the_phone_moves_the_desktop_on(app: Flask, desktop: Desktop) -> None:
    phone = opened_phone(app, desktop.qr_path())
    response = phone.verify("5g", MSISDN)
    assert response.status_code == 200
    assert VERIFIED_ON_PHONE in page_text(response)
    assert 'id="verify-form"' not in text_of(response)
    [row] = handoffs(app)
    assert (row.status, row.outcome) == ("verified", None)
    assert registration_row(app).step == "verified"
    polled = desktop.poll()
    assert polled.status_code == 200
    assert polled.headers["HX-Redirect"] == "/register/done"
    assert desktop.client.get("/register/done").status_code == 200
    # The phone's page stays on the success message.
    assert VERIFIED_ON_PHONE in page_text(phone.page())


def test_the_simulator_panel_works_without_headers(app: Flask, desktop: Desktop) -> None:
    phone = opened_phone(app, desktop.qr_path())
    assert "電信網路模擬器（測試用，正式環境不會出現）" in page_text(phone.page())
    wifi = phone.verify(None, form={"sim_network": "wifi", "sim_msisdn": ""})
    assert words(app, "network.wifi") in page_text(wifi)
    ok = phone.verify(None, form={"sim_network": "4g", "sim_msisdn": "0912-345-678"})
    assert VERIFIED_ON_PHONE in page_text(ok)


def test_terms_not_ticked_asks_nobody(app: Flask, desktop: Desktop) -> None:
    phone = opened_phone(app, desktop.qr_path())
    counter = CountingGateway(app)
    before = snapshot(app)
    response = phone.verify("4g", MSISDN, terms=False)
    assert response.status_code == 200
    assert words(app, "terms.unchecked") in page_text(response)
    assert counter.calls == 0
    assert snapshot(app) == before
    assert registration_row(app).verify_failures == 0


# --- what the desktop's poll sees ---------------------------------------------------------


def test_status_transitions_seen_by_the_desktop(app: Flask, desktop: Desktop) -> None:
    page = desktop.qr_page()
    assert WAITING in page_text(page)
    url = poll_url(text_of(page))
    assert url == "/register/qr/status?seen=waiting:"
    # Nothing has changed: 204, the region stays as it is.
    assert desktop.poll(url).status_code == 204

    phone = opened_phone(app, qr_path_of(page))
    response, url = follow_poll(desktop, url)
    assert response.status_code == 200
    assert OPENED in page_text(response)
    assert url == "/register/qr/status?seen=opened:"
    assert desktop.poll(url).status_code == 204

    # While the carrier is being asked, the desktop's poll says so.
    counter = CountingGateway(app)
    during: list[TestResponse] = []

    def poll_meanwhile() -> None:
        during.append(desktop.poll(url))  # type: ignore[arg-type]

    original = counter.network_check

    def network_check(check):  # type: ignore[no-untyped-def]
        thread = threading.Thread(target=poll_meanwhile)
        thread.start()
        thread.join(10)
        return original(check)

    counter.network_check = network_check  # type: ignore[method-assign]
    failed = phone.verify("wifi", "")
    assert words(app, "network.wifi") in page_text(failed)
    [checking] = during
    assert checking.status_code == 200
    assert CHECKING in page_text(checking)
    assert poll_url(text_of(checking)) == "/register/qr/status?seen=checking:"

    # The retryable failure, with its reason.
    response, url = follow_poll(desktop, poll_url(text_of(checking)))
    assert response.status_code == 200
    assert words(app, "network.wifi") in page_text(response)
    assert url == "/register/qr/status?seen=opened:wifi"
    assert desktop.poll(url).status_code == 204

    # Without JavaScript, 我已在手機完成驗證 before it is done: back to the QR page, with a word.
    check = desktop.check()
    assert check.status_code == 303
    assert check.headers["Location"] == "/register/qr"
    assert any(NOT_YET in item for item in flashed(desktop.qr_page()))

    counter.network_check = original  # type: ignore[method-assign]
    assert VERIFIED_ON_PHONE in page_text(phone.verify("4g", MSISDN))
    verified = desktop.poll(url)  # type: ignore[arg-type]
    assert verified.status_code == 200
    assert verified.headers["HX-Redirect"] == "/register/done"
    # A plain request (not HTMX) is redirected the ordinary way.
    plain = desktop.poll(url, htmx=False)  # type: ignore[arg-type]
    assert plain.status_code == 303
    assert plain.headers["Location"] == "/register/done"
    # And the button without JavaScript now goes on.
    check = desktop.check()
    assert check.status_code == 303
    assert check.headers["Location"] == "/register/done"
    assert desktop.client.get("/register/done").status_code == 200
    assert desktop.client.get("/register/qr").headers["Location"] == "/register/done"


def qr_path_of(page: TestResponse) -> str:
    return qr_path(text_of(page))


def test_cancelled_on_the_phone(app: Flask, desktop: Desktop) -> None:
    path = desktop.qr_path()
    phone = opened_phone(app, path)
    counter = CountingGateway(app)
    response = phone.cancel()
    assert response.status_code == 303
    assert response.headers["Location"] == "/phone/verify"
    shown = phone.page()
    assert "已取消這項申請" in page_text(shown)
    assert 'id="verify-form"' not in text_of(shown)
    [row] = handoffs(app)
    assert row.status == "cancelled"
    assert audit_kinds(app)[-1] == "handoff.cancelled"

    polled = desktop.poll("/register/qr/status?seen=opened:")
    assert polled.status_code == 200
    assert CANCELLED in page_text(polled)
    assert poll_url(text_of(polled)) is None  # polling stops

    # No new QR code for this registration: regenerate does not issue one, nor does the page.
    regenerated = desktop.regenerate()
    assert regenerated.status_code == 303
    page = desktop.qr_page()
    assert CANCELLED in page_text(page)
    assert "/h/" not in text_of(page)
    assert REGENERATE not in page_text(page)
    assert [h.status for h in handoffs(app)] == ["cancelled"]

    # The phone can no longer verify (the carrier is not asked); the link is dead.
    assert "已取消這項申請" in page_text(phone.verify("4g", MSISDN, follow_redirects=True))
    assert counter.calls == 0
    before = snapshot(app)
    assert_misuse(app, Phone(app).open(path), "used", before)
    assert registration_row(app).step == "qr"


def test_cancel_before_anything_else_and_twice(app: Flask, desktop: Desktop) -> None:
    phone = opened_phone(app, desktop.qr_path())
    phone.cancel()
    events = len(audit_events(app))
    assert phone.cancel().status_code == 303  # a second tap changes nothing
    assert len(audit_events(app)) == events
    assert [h.status for h in handoffs(app)] == ["cancelled"]


def test_expired_then_regenerated(app: Flask, clock: FrozenClock, desktop: Desktop) -> None:
    old = desktop.qr_path()
    clock.advance(minutes=1, seconds=16)
    assert '<span class="countdown-clock">03:44</span>' in text_of(desktop.qr_page())
    clock.advance(minutes=3, seconds=45)  # 5:01 after issue

    polled = desktop.poll("/register/qr/status?seen=waiting:")
    assert polled.status_code == 200
    assert EXPIRED in page_text(polled)
    assert poll_url(text_of(polled)) is None

    page = desktop.qr_page()
    assert EXPIRED in page_text(page)
    assert "/h/" not in text_of(page)
    assert REGENERATE in page_text(page)
    assert [h.status for h in handoffs(app)] == ["expired"]
    assert "handoff.expired" in audit_kinds(app)

    assert desktop.regenerate().headers["Location"] == "/register/qr"
    page = desktop.qr_page()
    new = qr_path_of(page)
    assert new != old
    assert '<span class="countdown-clock">05:00</span>' in text_of(page)
    assert [h.status for h in handoffs(app)] == ["replaced", "waiting"]
    phone = opened_phone(app, new)
    assert VERIFIED_ON_PHONE in page_text(phone.verify("4g", MSISDN))


def test_a_phone_that_opened_too_late_to_verify(
    app: Flask, clock: FrozenClock, desktop: Desktop
) -> None:
    """Opened in time, 開始驗證 after the five minutes: the carrier is not asked."""
    phone = opened_phone(app, desktop.qr_path())
    counter = CountingGateway(app)
    clock.advance(minutes=5, seconds=1)
    response = phone.verify("4g", MSISDN, follow_redirects=True)
    assert response.status_code == 410
    assert outline(response).h1 == [MISUSE_TITLES["expired"]]
    assert counter.calls == 0
    assert EXPIRED in page_text(desktop.poll())


def test_regeneration_keeps_the_failure_count_and_the_limit_locks(
    app: Flask, desktop: Desktop
) -> None:
    wifi = words(app, "network.wifi")
    too_many = words(app, "network.too_many")
    phone = opened_phone(app, desktop.qr_path())
    for _ in range(MAX_FAILURES - 2):
        assert wifi in page_text(phone.verify("wifi", ""))
    assert registration_row(app).verify_failures == MAX_FAILURES - 2

    desktop.regenerate()
    assert registration_row(app).verify_failures == MAX_FAILURES - 2
    phone = opened_phone(app, desktop.qr_path())
    assert wifi in page_text(phone.verify("wifi", ""))
    last = phone.verify("wifi", "")
    assert too_many in page_text(last)
    assert 'id="verify-form"' not in text_of(last)
    assert registration_row(app).verify_failures == MAX_FAILURES
    assert handoffs(app)[-1].status == "failed"

    # The desktop shows the lock and offers no new QR code; regenerate issues none.
    assert too_many in page_text(desktop.poll())
    page = desktop.qr_page()
    assert too_many in page_text(page)
    assert REGENERATE not in page_text(page)
    count = len(handoffs(app))
    desktop.regenerate()
    desktop.qr_page()
    assert len(handoffs(app)) == count
    # Even a forged tap on the phone does not ask the carrier again.
    counter = CountingGateway(app)
    phone.verify("4g", MSISDN, follow_redirects=True)
    assert counter.calls == 0
    assert registration_row(app).step == "qr"


def test_a_final_failure_can_be_retried_with_a_new_qr(app: Flask, desktop: Desktop) -> None:
    """A failure that is not retryable on the phone ends that hand-off; the desktop may make a
    new QR code (the failure still counts)."""
    upsert_subscriber(app, {**demo_person("A123456789"), "status": "suspended"})
    phone = opened_phone(app, desktop.qr_path())
    assert words(app, "network.suspended") in page_text(phone.verify("4g", MSISDN))
    assert REGENERATE in page_text(desktop.qr_page())
    upsert_subscriber(app, demo_person("A123456789") | {"status": "active"})
    desktop.regenerate()
    phone = opened_phone(app, desktop.qr_path())
    assert VERIFIED_ON_PHONE in page_text(phone.verify("4g", MSISDN))
    assert registration_row(app).verify_failures == 1


# --- the audit trail -----------------------------------------------------------------------

MASKED = re.compile(r"[A-Z][0-9]{5}\*{4}", re.ASCII)


def test_audit_trail_of_a_full_run(app: Flask, clock: FrozenClock, desktop: Desktop) -> None:
    tokens: list[str] = []

    # An expired code, which a phone then tries (misuse), regenerated.
    tokens.append(token_of_path(desktop.qr_path()))
    clock.advance(minutes=5, seconds=1)
    desktop.qr_page()
    Phone(app).open("/h/" + tokens[-1])
    desktop.regenerate()
    # Opened, a failure, a second phone (misuse), then verified.
    tokens.append(token_of_path(desktop.qr_path()))
    phone = opened_phone(app, "/h/" + tokens[-1])
    phone.verify("wifi", "")
    Phone(app).open("/h/" + tokens[-1])
    Phone(app).open("/h/" + tokens[-1][:-4])
    phone.verify("4g", MSISDN)
    # Someone else's registration, cancelled on the phone.
    other = new_desktop(app, "F223456713")
    tokens.append(token_of_path(other.qr_path()))
    opened_phone(app, "/h/" + tokens[-1]).cancel()

    events = audit_events(app)
    kinds = {event.kind for event in events}
    for kind in (
        "handoff.issued",
        "handoff.opened",
        "handoff.failed",
        "handoff.verified",
        "handoff.cancelled",
        "handoff.expired",
        "handoff.replaced",
        "handoff.misuse.expired",
        "handoff.misuse.taken",
        "handoff.misuse.invalid",
    ):
        assert kind in kinds, kind
    secrets = [ELIGIBLE["national_id"], "F223456713", MSISDN, "0923456781", "0912-345678"]
    for token in tokens:
        secrets += [token, parts(token)[1], parts(token)[2]]
    for event in events:
        assert event.at is not None
        assert event.subject is None or MASKED.fullmatch(event.subject), event.subject
        for field in (event.subject or "", event.detail or ""):
            assert not [s for s in secrets if s in field], (event.kind, field)
    subjects = {e.subject for e in events if e.kind.startswith("handoff.")}
    assert subjects <= {"A12345****", "F22345****", None}
    # Coarse device information: browser and system, no more.
    opened = [e for e in events if e.kind == "handoff.opened"]
    assert {e.detail for e in opened} == {"Safari / iOS"}
    issued = [e for e in events if e.kind == "handoff.issued"]
    assert {e.detail for e in issued} == {"Chrome / Windows"}
    assert {e.detail for e in events if e.kind == "handoff.failed"} == {"wifi"}


# --- the desktop going back, and who may collect the result -------------------------------


def test_a_desktop_gone_back_to_step_2_pauses_its_code(app: Flask, desktop: Desktop) -> None:
    """Data and device may change at steps 2-3: the phone cannot verify until the desktop is
    at step 4 again (and no error on the way)."""
    path = desktop.qr_path()
    phone = opened_phone(app, path)
    counter = CountingGateway(app)
    assert desktop.wizard.personal().headers["Location"] == "/register/device"
    before = snapshot(app)
    response = phone.verify("4g", MSISDN, follow_redirects=True)
    assert response.status_code == 409
    assert outline(response).h1 == ["電腦上的申請已回到前面的步驟"]
    assert "Traceback" not in page_text(response)
    assert counter.calls == 0
    assert snapshot(app) == before
    assert audit_kinds(app)[-1] == "handoff.misuse.withdrawn"

    # Back at step 4, the same code and the same phone go on.
    assert desktop.wizard.device("desktop").headers["Location"] == "/register/qr"
    assert desktop.qr_path() == path
    assert VERIFIED_ON_PHONE in page_text(phone.verify("4g", MSISDN))


def test_a_code_not_yet_opened_when_the_desktop_went_back(app: Flask, desktop: Desktop) -> None:
    path = desktop.qr_path()
    assert desktop.wizard.device("phone").headers["Location"] == "/register/verify"
    before = snapshot(app)
    response = Phone(app).open(path)
    assert response.status_code == 409
    assert outline(response).h1 == ["電腦上的申請已回到前面的步驟"]
    assert snapshot(app) == before


def test_only_the_applying_browser_collects_the_result(app: Flask, desktop: Desktop) -> None:
    phone = opened_phone(app, desktop.qr_path())
    phone.verify("4g", MSISDN)
    polled = phone.client.get("/register/qr/status?seen=opened:", headers={"HX-Request": "true"})
    assert polled.headers.get("HX-Redirect") != "/register/done"
    assert phone.client.get("/register/done").headers["Location"] == "/login"
    assert (
        phone.client.post("/register/qr/check", data={"csrf_token": phone.csrf()}).headers[
            "Location"
        ]
        == "/login"
    )
    assert desktop.poll().headers["HX-Redirect"] == "/register/done"


def test_a_head_request_does_not_use_the_code_up(app: Flask, desktop: Desktop) -> None:
    """Link checkers and chat previews ask with HEAD: the QR code stays usable."""
    path = desktop.qr_path()
    before = snapshot(app)
    assert app.test_client().head(path).status_code == 200
    assert snapshot(app) == before
    assert opened_phone(app, path).page().status_code == 200


def test_the_poll_is_one_database_read(app: Flask, desktop: Desktop) -> None:
    """Every waiting desktop polls every 2 s: the request reads once and writes nothing."""
    from sqlalchemy import event

    desktop.qr_path()
    statements: list[str] = []
    isolation: list[object] = []

    def record(conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)
        isolation.append(conn.get_execution_options().get("isolation_level"))

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert desktop.poll("/register/qr/status?seen=waiting:").status_code == 204
        assert desktop.poll("/register/qr/status?seen=").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 2, statements
    assert all(s.lstrip().upper().startswith("SELECT") for s in statements)
    # Outside a transaction: no BEGIN and ROLLBACK round trips around the read.
    assert isolation == ["AUTOCOMMIT", "AUTOCOMMIT"]


def test_an_ended_hand_off_takes_its_qr_code_off_the_page(
    app: Flask, desktop: Desktop, clock: FrozenClock
) -> None:
    desktop.qr_path()
    waiting = desktop.poll("/register/qr/status?seen=").get_data(as_text=True)
    assert 'id="qr-figure"' not in waiting
    clock.advance(minutes=5, seconds=1)
    expired = desktop.poll("/register/qr/status?seen=waiting:").get_data(as_text=True)
    assert '<div id="qr-figure" hx-swap-oob="outerHTML"></div>' in expired


def test_a_tokens_qr_code_is_drawn_once_per_worker() -> None:
    """segno's encoding costs ~10 ms: step 4 shown again (a swap, a reload, the language
    switch) reuses the drawing of its link; another link is drawn anew."""
    from wizard.registration import handoff

    link = "http://127.0.0.1/h/" + "A" * 43
    first = handoff.qr_svg(link)
    hits = handoff.qr_svg.cache_info().hits
    assert handoff.qr_svg(link) is first
    assert handoff.qr_svg.cache_info().hits == hits + 1
    other = handoff.qr_svg(link[:-1] + "B")
    assert other != first and other.startswith("<svg")
    assert handoff.qr_svg.cache_info().maxsize == handoff.QR_CACHE_SIZE
