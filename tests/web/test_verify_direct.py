"""Step 5 on the applying device itself (a phone, or a tablet with a SIM): no QR code, the same
browser asks the carrier and goes on to step 6."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.helpers import (
    PHONE_UA,
    CountingGateway,
    WizardClient,
    csrf_token,
    demo_person,
    demo_personal,
    sim_headers,
    upsert_subscriber,
)
from tests.web.support import flashed, outline, registration_row, text_of
from wizard.clock import FrozenClock
from wizard.database.models import AuditEvent, Handoff, Registration
from wizard.registration.verification import MAX_FAILURES, STALE_CHECK
from wizard.web.messages import message

MSISDN = "0912345678"
TABLET_UA = (
    "Mozilla/5.0 (Linux; Android 14; SM-X910) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
IN_PROGRESS = "驗證進行中"


def words(app: Flask, code: str) -> str:
    with app.test_request_context():
        return message(code)


def page_text(response: TestResponse) -> str:
    return unescape(text_of(response))


def token(client: FlaskClient) -> str:
    page = client.get("/register/verify")
    assert page.status_code == 200, page.status_code
    return csrf_token(text_of(page))


def submit(
    client: FlaskClient,
    network: str | None = "4g",
    msisdn: str | None = MSISDN,
    terms: bool = True,
    form: dict[str, str] | None = None,
    csrf: str | None = None,
) -> TestResponse:
    data = {"csrf_token": csrf or token(client), **(form or {})}
    if terms:
        data["terms"] = "yes"
    headers = sim_headers(network, msisdn) if network else {}
    return client.post("/register/verify", data=data, headers=headers)


def set_registration(app: Flask, **values: object) -> None:
    with app.extensions["db_sessionmaker"]() as db_session:
        row = db_session.get(Registration, registration_row(app).id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)
        db_session.commit()


def audit_kinds(app: Flask) -> list[str]:
    with app.extensions["db_sessionmaker"]() as db_session:
        return list(db_session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))


@pytest.fixture
def phone(wizard: WizardClient) -> FlaskClient:
    """The applying phone, at step 5."""
    wizard.client.environ_base["HTTP_USER_AGENT"] = PHONE_UA
    wizard.complete_steps_before("verify")
    return wizard.client


def test_the_page_shows_the_data_and_the_simulator_panel(app: Flask, phone: FlaskClient) -> None:
    page = phone.get("/register/verify")
    assert page.status_code == 200
    assert outline(page).h1 == ["核對資料並開始驗證"]
    text = page_text(page)
    for label, value in (
        ("驗證類別", "行動電話驗證"),
        ("驗證單位", "勞動部勞工保險局"),
        ("電信業者", "中華電信"),
        ("門號資訊", "09****78"),
        ("身分證號", "A12345****"),
    ):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in text
    assert "A123456789" not in text
    assert "我已閱讀並同意使用者約定條款" in text
    assert 'href="/help/terms"' in text
    # Nothing of the QR path: no binding notice, no 這不是我申請的.
    assert "這不是我申請的" not in text
    assert "開始這項申請" not in text
    # Without header enrichment, the simulator's panel, clearly marked.
    assert "電信網路模擬器（測試用，正式環境不會出現）" in text
    assert {"sim_network", "sim_number"} <= set(outline(page).label_for)
    assert MSISDN not in text  # the panel names the number masked, and posts only "same"
    # No hand-off is made for a device that verifies itself.
    with app.extensions["db_sessionmaker"]() as db_session:
        assert db_session.scalars(select(Handoff.id)).first() is None


def test_with_header_enrichment_there_is_no_panel(phone: FlaskClient) -> None:
    page = phone.get("/register/verify", headers=sim_headers("4g", MSISDN))
    text = page_text(page)
    assert "電信網路模擬器" not in text
    assert MSISDN not in text and "09****78" in text


def test_4g_with_the_matching_number_goes_on(app: Flask, phone: FlaskClient) -> None:
    counter = CountingGateway(app)
    response = submit(phone, "4g", MSISDN)
    assert response.status_code == 303
    assert response.headers["Location"] == "/register/done"
    assert counter.calls == 1
    row = registration_row(app)
    assert (row.step, row.checking_since, row.verify_failures) == ("verified", None, 0)
    assert row.verified_at is not None
    assert phone.get("/register/done").status_code == 200
    assert phone.get("/register/verify").headers["Location"] == "/register/done"
    assert audit_kinds(app)[-1] == "verify.verified"


def test_the_simulator_panel_decides_without_headers(app: Flask, phone: FlaskClient) -> None:
    response = submit(phone, None, form={"sim_network": "5g", "sim_msisdn": "0912 345 678"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/register/done"


def test_the_panels_number_choice(app: Flask, phone: FlaskClient) -> None:
    other = submit(phone, None, form={"sim_network": "4g", "sim_number": "other"})
    assert words(app, "network.other_number") in page_text(other)
    same = submit(phone, None, form={"sim_network": "4g", "sim_number": "same"})
    assert same.headers["Location"] == "/register/done"


def test_wifi_then_success_on_retry(app: Flask, phone: FlaskClient) -> None:
    wifi = submit(phone, "wifi", None)
    assert wifi.status_code == 200
    text = page_text(wifi)
    assert words(app, "network.wifi") in text
    assert 'role="alert"' in text
    assert 'id="verify-form"' in text  # the same page, ready for another try
    row = registration_row(app)
    assert (row.step, row.checking_since, row.verify_failures) == ("verify", None, 1)
    assert audit_kinds(app)[-1] == "verify.failed"

    again = submit(phone, "4g", MSISDN, csrf=csrf_token(text_of(wifi)))
    assert again.status_code == 303
    assert again.headers["Location"] == "/register/done"
    assert registration_row(app).verify_failures == 1


@pytest.mark.parametrize(
    ("outcome", "network", "seen"),
    [("roaming", "roaming", MSISDN), ("vpn", "vpn", None), ("other_number", "4g", "0987000111")],
)
def test_network_failures_have_their_own_message(
    app: Flask, phone: FlaskClient, outcome: str, network: str, seen: str | None
) -> None:
    response = submit(phone, network, seen)
    assert response.status_code == 200
    assert words(app, f"network.{outcome}") in page_text(response)
    assert registration_row(app).step == "verify"


def test_a_registry_refusal_has_its_own_message(app: Flask, phone: FlaskClient) -> None:
    upsert_subscriber(app, {**demo_person("A123456789"), "plan": "prepaid"})
    response = submit(phone, "4g", MSISDN)
    assert response.status_code == 200
    assert words(app, "network.prepaid") in page_text(response)


def test_a_tablet_with_a_sim_verifies_directly(app: Flask) -> None:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = TABLET_UA
    wizard = WizardClient(client, app)
    wizard.complete_steps_before("device", national_id="F223456713", **demo_personal("F223456713"))
    chosen = wizard.device("tablet", "yes")
    assert chosen.headers["Location"] == "/register/verify"
    page = client.get("/register/verify")
    assert "<dt>電信業者</dt><dd>台灣大哥大</dd>" in page_text(page)
    assert "<dt>門號資訊</dt><dd>09****81</dd>" in page_text(page)
    number = demo_person("F223456713")["msisdn"]
    assert words(app, "network.wifi") in page_text(submit(client, "wifi", None))
    done = submit(client, "5g", number)
    assert done.headers["Location"] == "/register/done"
    assert registration_row(app).device == "tablet_sim"


def test_terms_not_ticked_asks_nobody(app: Flask, phone: FlaskClient) -> None:
    counter = CountingGateway(app)
    response = submit(phone, "4g", MSISDN, terms=False)
    assert response.status_code == 200
    assert words(app, "terms.unchecked") in page_text(response)
    assert counter.calls == 0
    row = registration_row(app)
    assert (row.step, row.checking_since, row.verify_failures) == ("verify", None, 0)


def test_a_second_submission_while_a_check_runs(
    app: Flask, clock: FrozenClock, phone: FlaskClient
) -> None:
    csrf = token(phone)
    set_registration(app, checking_since=clock.now())
    counter = CountingGateway(app)
    response = submit(phone, "4g", MSISDN, csrf=csrf)
    assert response.status_code == 303
    assert response.headers["Location"] == "/register/verify"
    assert counter.calls == 0
    page = phone.get("/register/verify")
    assert any(IN_PROGRESS in item for item in flashed(page))
    row = registration_row(app)
    assert (row.step, row.checking_since) == ("verify", clock.now())

    # A check that never finished (its worker died) does not block the person for ever.
    clock.advance(seconds=STALE_CHECK.total_seconds() + 1)
    response = submit(phone, "4g", MSISDN, csrf=csrf)
    assert response.headers["Location"] == "/register/done"
    assert counter.calls == 1


def test_the_failure_limit_locks(app: Flask, phone: FlaskClient) -> None:
    for _ in range(MAX_FAILURES - 1):
        assert submit(phone, "wifi", None).status_code == 200
    last = submit(phone, "wifi", None)
    assert words(app, "network.too_many") in page_text(last)
    assert 'id="verify-form"' not in text_of(last)
    assert registration_row(app).verify_failures == MAX_FAILURES
    counter = CountingGateway(app)
    response = submit(phone, "4g", MSISDN, csrf=csrf_token(text_of(last)))
    assert words(app, "network.too_many") in page_text(response)
    assert counter.calls == 0
    assert registration_row(app).step == "verify"


@pytest.mark.parametrize("app_config", [{"SIM_FAILURE_RATE": 1.0}], indirect=True)
def test_carrier_unavailable_is_not_counted(app: Flask, phone: FlaskClient) -> None:
    response = submit(phone, "4g", MSISDN)
    assert response.status_code == 200
    assert words(app, "network.unavailable") in page_text(response)
    row = registration_row(app)
    assert (row.verify_failures, row.checking_since) == (0, None)


def test_checking_since_is_recorded_only_during_the_check(
    app: Flask, clock: FrozenClock, phone: FlaskClient
) -> None:
    seen: list[dt.datetime | None] = []
    counter = CountingGateway(app)
    original = counter.network_check

    def network_check(check):  # type: ignore[no-untyped-def]
        seen.append(registration_row(app).checking_since)
        return original(check)

    counter.network_check = network_check  # type: ignore[method-assign]
    submit(phone, "wifi", None)
    assert seen == [clock.now()]
    assert registration_row(app).checking_since is None
