"""Races of steps 4-5 with real concurrency: threads, each with a test client of its own,
released together by a barrier against one app and one database (SQLite here, PostgreSQL when
TEST_DATABASE_URL says so). Exactly one outcome wins, decided in the database, and the carrier
is asked once.

Each race is run several times (ROUNDS), each round on a fresh registration. The carrier check
is slowed down (CountingGateway's delay) to keep the window between claim and result open.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from html import unescape
from typing import TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.helpers import (
    DESKTOP_UA,
    ELIGIBLE,
    PHONE_UA,
    CountingGateway,
    Desktop,
    Phone,
    WizardClient,
    clone_client,
    csrf_token,
    demo_person,
    qr_path,
    sim_headers,
    upsert_subscriber,
)
from tests.web.support import registration_row, text_of
from wizard.database.models import Account, AuditEvent, Handoff
from wizard.registration import handoff

ROUNDS = 5
#: How long the carrier takes in these tests (seconds): the window a second request falls into.
DELAY = 0.2
MSISDN = "0912345678"
VERIFIED_ON_PHONE = "請回到您的電腦確認認證結果"
IN_PROGRESS = "驗證進行中"
TAKEN = "已在另一支手機開啟"
REPLACED = "已有較新的 QR Code"
PHONE_BUSY = "手機正在驗證中"

T = TypeVar("T")


def together(*calls: Callable[[], T], timeout: float = 20) -> list[T]:
    """Run each call in its own thread, all released at once; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout)
            results[index] = call()
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]


def page_text(response: TestResponse) -> str:
    return unescape(text_of(response))


def accounts_of(app: Flask) -> list[str]:
    """National IDs of the accounts made by a confirmed number."""
    with app.extensions["db_sessionmaker"]() as db_session:
        return list(db_session.scalars(select(Account.national_id)))


def handoffs_of(app: Flask, registration_id: int) -> list[Handoff]:
    with app.extensions["db_sessionmaker"]() as db_session:
        rows = list(
            db_session.scalars(
                select(Handoff)
                .where(Handoff.registration_id == registration_id)
                .order_by(Handoff.id)
            )
        )
        db_session.expunge_all()
        return rows


def audit_count(app: Flask, registration_id: int, kind: str) -> int:
    with app.extensions["db_sessionmaker"]() as db_session:
        return len(
            list(
                db_session.scalars(
                    select(AuditEvent.id).where(
                        AuditEvent.registration_id == registration_id, AuditEvent.kind == kind
                    )
                )
            )
        )


def new_desktop(app: Flask) -> tuple[Desktop, int]:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = DESKTOP_UA
    wizard = WizardClient(client, app)
    wizard.complete_steps_before("qr")
    desktop = Desktop(wizard)
    desktop.qr_page()
    return desktop, registration_row(app).id


def opened(app: Flask) -> tuple[Desktop, Phone, int]:
    desktop, registration_id = new_desktop(app)
    phone = Phone(app)
    assert phone.open(desktop.qr_path()).status_code == 303
    return desktop, phone, registration_id


def assert_no_server_error(*responses: TestResponse) -> None:
    for response in responses:
        assert response.status_code < 500, page_text(response)
        assert "Traceback" not in text_of(response)


@pytest.fixture
def counter(app: Flask) -> Iterator[CountingGateway]:
    gateway = CountingGateway(app, delay=DELAY)
    yield gateway
    app.extensions["carrier_gateway"] = gateway.inner


# --- (a) two phones open the same QR link ---------------------------------------------------


def two_phones_open(app: Flask) -> None:
    desktop, registration_id = new_desktop(app)
    path = desktop.qr_path()
    phones = [Phone(app), Phone(app)]
    results = together(*(lambda p=p: p.client.get(path) for p in phones))
    assert_no_server_error(*results)
    won = [i for i, r in enumerate(results) if r.status_code == 303]
    lost = [i for i, r in enumerate(results) if r.status_code == 410]
    assert len(won) == 1 and len(lost) == 1, [r.status_code for r in results]
    assert results[won[0]].headers["Location"] == "/phone/verify"
    assert TAKEN in page_text(results[lost[0]])
    # Only the winner holds the hand-off.
    assert phones[won[0]].client.get("/phone/verify").status_code == 200
    assert phones[lost[0]].client.get("/phone/verify").status_code == 400
    [row] = handoffs_of(app, registration_id)
    assert row.status == "opened"
    assert audit_count(app, registration_id, "handoff.opened") == 1
    assert audit_count(app, registration_id, "handoff.misuse.taken") == 1


def test_two_phones_opening_the_same_link(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    # Both phones read the hand-off as waiting before either writes: the UPDATE decides.
    find = handoff.find

    def slow_find(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = find(*args, **kwargs)
        time.sleep(0.05)
        return found

    monkeypatch.setattr(handoff, "find", slow_find)
    for _ in range(ROUNDS):
        two_phones_open(app)


# --- (b) a double tap on 開始驗證 on the phone ----------------------------------------------


def double_tap_on_the_phone(app: Flask, counter: CountingGateway) -> None:
    _desktop, phone, registration_id = opened(app)
    phone.page()
    calls = counter.calls
    taps = (phone, phone.same_browser(app))
    results = together(*(lambda p=p: p.verify("4g", MSISDN, follow_redirects=True) for p in taps))
    assert_no_server_error(*results)
    assert counter.calls - calls == 1
    texts = [page_text(r) for r in results]
    assert sum(VERIFIED_ON_PHONE in t for t in texts) >= 1
    for text in texts:
        # The other tap shows where things are: in progress, or already verified.
        assert VERIFIED_ON_PHONE in text or IN_PROGRESS in text, text
    assert [h.status for h in handoffs_of(app, registration_id)] == ["verified"]
    assert registration_row(app).step == "verified"
    assert audit_count(app, registration_id, "handoff.verified") == 1


def test_double_tap_on_the_phone_asks_the_carrier_once(
    app: Flask, counter: CountingGateway
) -> None:
    for _ in range(ROUNDS):
        double_tap_on_the_phone(app, counter)


# --- (c) the desktop regenerates while the phone verifies ----------------------------------


def check_one_winner(
    app: Flask,
    registration_id: int,
    phone_result: TestResponse,
    desktop_result: TestResponse,
    calls: int,
) -> str:
    """Either the verification won (no new QR code) or the new QR code did (the phone's check
    did not happen); never both. Returns which."""
    assert_no_server_error(phone_result, desktop_result)
    rows = handoffs_of(app, registration_id)
    step = registration_row(app).step
    first = rows[0]
    assert first.status in handoff.FINISHED, first.status
    if first.status == "verified":
        assert len(rows) == 1, [r.status for r in rows]  # no new QR code was issued
        assert step == "verified"
        assert calls == 1
        assert VERIFIED_ON_PHONE in page_text(phone_result)
        assert desktop_result.status_code == 303
        return "verified"
    assert [r.status for r in rows] == ["replaced", "waiting"]
    assert step == "qr"
    assert calls == 0
    assert phone_result.status_code == 410
    assert REPLACED in page_text(phone_result)
    assert audit_count(app, registration_id, "handoff.verified") == 0
    return "replaced"


def regenerate_while_verifying(app: Flask, counter: CountingGateway) -> str:
    desktop, phone, registration_id = opened(app)
    phone.page()
    desktop.csrf()
    calls = counter.calls
    phone_result, desktop_result = together(
        lambda: phone.verify("4g", MSISDN, follow_redirects=True),
        desktop.regenerate,
    )
    winner = check_one_winner(
        app, registration_id, phone_result, desktop_result, counter.calls - calls
    )
    page = desktop.client.get("/register/qr", follow_redirects=True)
    if winner == "verified":
        assert page.request.path == "/register/done"
    else:
        assert "/h/" in text_of(page)
    return winner


def test_regenerate_while_the_phone_verifies(app: Flask, counter: CountingGateway) -> None:
    for _ in range(ROUNDS):
        regenerate_while_verifying(app, counter)


def claim_between_read_and_replace(
    app: Flask, counter: CountingGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    desktop, phone, registration_id = opened(app)
    phone.page()
    desktop.csrf()
    phone_results: list[TestResponse] = []
    phone_thread = threading.Thread(
        target=lambda: phone_results.append(phone.verify("4g", MSISDN, follow_redirects=True))
    )
    counter.entered.clear()
    move = handoff.move

    def move_after_the_claim(db, handoff_id, expected, to, now, **values):  # type: ignore[no-untyped-def]
        if to is handoff.Status.REPLACED:
            phone_thread.start()
            assert counter.entered.wait(10)
        return move(db, handoff_id, expected, to, now, **values)

    calls = counter.calls
    with monkeypatch.context() as patch:
        patch.setattr(handoff, "move", move_after_the_claim)
        desktop_result = desktop.regenerate()
    phone_thread.join(10)
    [phone_result] = phone_results
    winner = check_one_winner(
        app, registration_id, phone_result, desktop_result, counter.calls - calls
    )
    assert winner == "verified"
    shown = desktop.client.get(desktop_result.headers["Location"])
    if shown.status_code == 200:
        assert PHONE_BUSY in page_text(shown)
    else:
        assert shown.headers["Location"] == "/register/done"


def test_regenerate_reads_before_the_phone_claims_and_writes_after(
    app: Flask, counter: CountingGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The narrowest window: the desktop has read the hand-off as opened, then the phone's
    開始驗證 claims it, then the desktop's replace runs. The replace must lose and say so."""
    for _ in range(ROUNDS):
        claim_between_read_and_replace(app, counter, monkeypatch)


# --- (d) a double tap on the direct path ----------------------------------------------------


def direct_phone(app: Flask) -> tuple[FlaskClient, str]:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = PHONE_UA
    WizardClient(client, app).complete_steps_before("verify")
    page = client.get("/register/verify")
    return client, csrf_token(text_of(page))


def double_tap_direct(app: Flask, counter: CountingGateway) -> None:
    client, csrf = direct_phone(app)
    clients = [client, clone_client(client, app)]
    calls = counter.calls

    def tap(browser: FlaskClient) -> TestResponse:
        return browser.post(
            "/register/verify",
            data={"csrf_token": csrf, "terms": "yes"},
            headers=sim_headers("4g", MSISDN),
        )

    results = together(*(lambda c=c: tap(c) for c in clients))
    assert_no_server_error(*results)
    assert counter.calls - calls == 1
    assert all(r.status_code == 303 for r in results), [r.status_code for r in results]
    locations = [r.headers["Location"] for r in results]
    assert "/register/done" in locations
    assert set(locations) <= {"/register/done", "/register/verify"}
    row = registration_row(app)
    assert (row.step, row.checking_since, row.verify_failures) == ("verified", None, 0)
    if "/register/verify" in locations:
        loser = clients[locations.index("/register/verify")]
        shown = loser.get("/register/verify", follow_redirects=True)
        assert shown.request.path == "/register/done"


def test_double_tap_on_the_direct_path_asks_the_carrier_once(
    app: Flask, counter: CountingGateway
) -> None:
    for _ in range(ROUNDS):
        double_tap_direct(app, counter)


# --- (e) a double click on 重新產生QRCode ----------------------------------------------------


def double_regenerate(app: Flask) -> None:
    desktop, registration_id = new_desktop(app)
    old = desktop.qr_path()
    csrf = desktop.csrf()
    clients = [desktop.client, clone_client(desktop.client, app)]

    def click(browser: FlaskClient) -> TestResponse:
        return browser.post("/register/qr/regenerate", data={"csrf_token": csrf})

    results = together(*(lambda c=c: click(c) for c in clients))
    assert_no_server_error(*results)
    assert [r.headers["Location"] for r in results] == ["/register/qr", "/register/qr"]
    # Exactly one new code: the old one and any other are dead, one is live.
    statuses = [h.status for h in handoffs_of(app, registration_id)]
    assert statuses.count("waiting") == 1, statuses
    assert set(statuses) == {"replaced", "waiting"}
    assert audit_count(app, registration_id, "handoff.issued") == len(statuses)
    assert Phone(app).open(old).status_code == 410
    shown = [c.get("/register/qr") for c in clients]
    paths = {qr_path(text_of(page)) for page in shown if "/h/" in text_of(page)}
    assert len(paths) == 1
    assert Phone(app).open(paths.pop()).status_code == 303


def test_double_click_on_regenerate_makes_one_live_code(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    latest_for = handoff.latest_for

    def slow_latest_for(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = latest_for(*args, **kwargs)
        time.sleep(0.05)  # both clicks read the same hand-off before either replaces it
        return found

    monkeypatch.setattr(handoff, "latest_for", slow_latest_for)
    for _ in range(ROUNDS):
        double_regenerate(app)


# --- (f) the applying browser changes its data while the carrier is being asked -------------

NEW_NUMBER = "0912000999"


def during_the_check(counter: CountingGateway, change: Callable[[], None]) -> list[str]:
    """After the carrier has answered, before the answer is recorded, run ``change`` (another
    request, in its own thread). Returns the steps the change went through."""
    original = counter.network_check
    errors: list[BaseException] = []

    def change_safely() -> None:
        try:
            change()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    def network_check(check):  # type: ignore[no-untyped-def]
        result = original(check)
        thread = threading.Thread(target=change_safely)
        thread.start()
        thread.join(10)
        counter.network_check = original  # type: ignore[method-assign]
        return result

    counter.network_check = network_check  # type: ignore[method-assign]
    return errors  # type: ignore[return-value]


def move_number(app: Flask) -> None:
    """The person now holds another number at the carrier (so step 2 accepts it)."""
    upsert_subscriber(app, {**demo_person(ELIGIBLE["national_id"]), "msisdn": NEW_NUMBER})


def test_data_changed_on_the_desktop_during_the_phones_check(
    app: Flask, counter: CountingGateway
) -> None:
    """The carrier confirmed the old number; meanwhile the desktop went back to step 2 and
    entered another one. The answer is about data that is gone: nothing is verified."""
    desktop, phone, registration_id = opened(app)
    phone.page()
    other_tab = WizardClient(clone_client(desktop.client, app), app)

    def change() -> None:
        move_number(app)
        response = other_tab.personal(msisdn=NEW_NUMBER)
        assert response.headers["Location"] == "/register/device", response.status_code

    errors = during_the_check(counter, change)
    response = phone.verify("4g", MSISDN, follow_redirects=True)
    assert not errors, errors
    assert_no_server_error(response)
    assert VERIFIED_ON_PHONE not in page_text(response)
    assert response.status_code == 409
    assert "電腦上的申請已回到前面的步驟" in page_text(response)
    row = registration_row(app)
    assert (row.step, row.msisdn, row.verified_at) == ("device", NEW_NUMBER, None)
    assert [h.status for h in handoffs_of(app, registration_id)] == ["opened"]
    assert accounts_of(app) == []

    # Back at step 4 with the new number, the same phone verifies that one.
    assert other_tab.device("desktop").headers["Location"] == "/register/qr"
    assert phone.open(desktop.qr_path()).status_code == 303
    assert "09****99" in page_text(phone.page())
    assert VERIFIED_ON_PHONE in page_text(phone.verify("4g", NEW_NUMBER))
    assert registration_row(app).step == "verified"


def test_data_changed_in_another_tab_during_a_direct_check(
    app: Flask, counter: CountingGateway
) -> None:
    client, csrf = direct_phone(app)
    other_tab = WizardClient(clone_client(client, app), app)

    def change() -> None:
        move_number(app)
        assert other_tab.personal(msisdn=NEW_NUMBER).status_code == 303
        assert other_tab.device("phone").headers["Location"] == "/register/verify"

    errors = during_the_check(counter, change)
    response = client.post(
        "/register/verify",
        data={"csrf_token": csrf, "terms": "yes"},
        headers=sim_headers("4g", MSISDN),
    )
    assert not errors, errors
    assert_no_server_error(response)
    assert response.headers.get("Location") != "/register/done"
    row = registration_row(app)
    assert (row.step, row.msisdn, row.verified_at, row.checking_since) == (
        "verify",
        NEW_NUMBER,
        None,
        None,
    )
    assert accounts_of(app) == []
    # The new number is checked on its own.
    again = client.post(
        "/register/verify",
        data={"csrf_token": csrf, "terms": "yes"},
        headers=sim_headers("4g", NEW_NUMBER),
    )
    assert again.headers["Location"] == "/register/done"
