"""Step 2: personal data, the number, the CAPTCHA, the password and the carrier's precheck."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import (
    ELIGIBLE,
    FIXED_CAPTCHA,
    WizardClient,
    error_for,
    errors_of,
    selected_of,
    value_of,
)
from tests.web.support import (
    HX,
    outline,
    post_with,
    registration_row,
    summary_items,
    text_of,
    title_of,
    token_of,
    typed,
)
from wizard.clock import FrozenClock
from wizard.ops.seed import DEMO_PEOPLE
from wizard.web.messages import message

PASSWORD = ELIGIBLE["password"]
TEXT_FIELDS = ("msisdn", "nhi_card", "birth_date", "name")
SECRET_FIELDS = ("password", "password_confirm", "captcha")

# (field, overrides, code, params): what is typed wrong, where the message goes, what it says.
FIELD_CASES: list[tuple[str, dict[str, str], str, dict[str, object]]] = [
    ("carrier", {"carrier": ""}, "carrier.empty", {}),
    ("carrier", {"carrier": "nope"}, "carrier.empty", {}),
    ("msisdn", {"msisdn": ""}, "phone.empty", {}),
    ("msisdn", {"msisdn": "0912-34567a"}, "phone.characters", {}),
    ("msisdn", {"msisdn": "02-2396-1266"}, "phone.prefix", {}),
    ("msisdn", {"msisdn": "+1 912 345 678"}, "phone.prefix", {}),
    ("msisdn", {"msisdn": "0912-34567"}, "phone.length", {"length": 9}),
    ("msisdn", {"msisdn": "0912-3456789"}, "phone.length", {"length": 11}),
    ("nhi_card", {"nhi_card": ""}, "card.empty", {}),
    ("nhi_card", {"nhi_card": "0000-1234-567X"}, "card.characters", {}),
    ("nhi_card", {"nhi_card": "00001234567"}, "card.length", {"length": 11}),
    ("birth_date", {"birth_date": ""}, "date.empty", {}),
    ("birth_date", {"birth_date": "一九八〇年"}, "date.format", {}),
    ("birth_date", {"birth_date": "1980/1"}, "date.format", {}),
    ("birth_date", {"birth_date": "1980/02/30"}, "date.invalid", {"text": "1980/02/30"}),
    ("birth_date", {"birth_date": "69/13/01"}, "date.invalid", {"text": "69/13/01"}),
    ("birth_date", {"birth_date": "2026/11/30"}, "date.future", {}),  # the clock's today
    ("birth_date", {"birth_date": "1899/12/31"}, "date.too_old", {}),
    ("name", {"name": ""}, "name.empty", {}),
    ("name", {"name": "王\x00小明"}, "name.control", {}),
    ("name", {"name": "王小明1"}, "name.characters", {"chars": "1"}),
    ("name", {"name": "王" * 51}, "name.length", {"max": 50}),
    ("captcha", {"captcha": ""}, "captcha.empty", {}),
    ("captcha", {"captcha": "WRONG"}, "captcha.wrong", {}),
    ("password", {"password": "", "password_confirm": ""}, "password.empty", {}),
    (
        "password",
        {"password": "cat dog", "password_confirm": "cat dog"},
        "password.too_short",
        {"min": 8, "length": 7},
    ),
    (
        "password",
        {"password": "long words " * 6 + "more", "password_confirm": "x"},
        "password.too_long",
        {"max": 64, "length": 70},
    ),
    (
        "password",
        {"password": "my cat\x01is flower", "password_confirm": "my cat\x01is flower"},
        "password.control",
        {},
    ),
    (
        "password",
        {"password": "Password123", "password_confirm": "Password123"},
        "password.common",
        {},
    ),
    (
        "password",
        {"password": "1qaz2wsx3edc", "password_confirm": "1qaz2wsx3edc"},
        "password.common",
        {},
    ),
    (
        "password",
        {"password": "my id a123456789!", "password_confirm": "my id a123456789!"},
        "password.contains.national_id",
        {},
    ),
    (
        "password",
        {"password": "call 0912-345-678", "password_confirm": "call 0912-345-678"},
        "password.contains.msisdn",
        {},
    ),
    (
        "password",
        {"password": "born 1980.01.01 ok", "password_confirm": "born 1980.01.01 ok"},
        "password.contains.birth_date",
        {},
    ),
    (
        "password",
        {"password": "born 69/01/01 is me", "password_confirm": "born 69/01/01 is me"},
        "password.contains.birth_date",
        {},
    ),
    (
        "password",
        {"password": "我是王小明的好朋友", "password_confirm": "我是王小明的好朋友"},
        "password.contains.name",
        {},
    ),
    ("password_confirm", {"password_confirm": ""}, "password_confirm.empty", {}),
    ("password_confirm", {"password_confirm": PASSWORD + "!"}, "password.mismatch", {}),
]


def expected(app: Flask, code: str, params: dict[str, object] | None = None) -> str:
    with app.test_request_context():
        return message(code, params)


def form_error(response: TestResponse) -> str | None:
    match = re.search(
        r'<div class="form-error" id="form-error"[^>]*><p class="error-message">'
        r'<span class="visually-hidden">錯誤：</span>(.*?)</p>',
        text_of(response),
        re.S,
    )
    return match.group(1) if match else None


def assert_kept(response: TestResponse, data: dict[str, str]) -> None:
    """Everything typed is shown again, except the passwords and the CAPTCHA."""
    for name in TEXT_FIELDS:
        assert value_of(response, name) == data[name], name
    carriers = {"cht", "twm", "tstar", "fet", "aptg"}
    if data["carrier"] in carriers:
        assert selected_of(response, "carrier") == data["carrier"]
    else:
        assert selected_of(response, "carrier") in (None, "")
    for name in SECRET_FIELDS:
        assert value_of(response, name) == "", name
    html = text_of(response)
    if data.get("password"):
        assert data["password"] not in html


@pytest.fixture
def at_personal(wizard: WizardClient) -> WizardClient:
    assert wizard.identify().status_code == 303
    return wizard


# --- one bad field at a time -----------------------------------------------------------------


@pytest.mark.parametrize(("field", "overrides", "code", "params"), FIELD_CASES)
def test_bad_field_message_beside_it_and_the_rest_kept(
    at_personal: WizardClient,
    app: Flask,
    field: str,
    overrides: dict[str, str],
    code: str,
    params: dict[str, object],
) -> None:
    response = at_personal.personal(**overrides)
    assert response.status_code == 200
    text = expected(app, code, params)
    assert error_for(response, field) == text
    assert errors_of(response) == [text]
    assert summary_items(response) == [text]
    assert title_of(response).startswith("錯誤：")
    assert_kept(response, typed(**overrides))
    # Nothing was accepted: the next step is still out of reach.
    assert at_personal.get("/register/device").headers["Location"] == "/register/personal"


def test_several_bad_fields_each_get_their_message(at_personal: WizardClient, app: Flask) -> None:
    data = typed(msisdn="12345", nhi_card="", birth_date="1980/02/30", name="", captcha="")
    response = at_personal.personal(**data)
    assert response.status_code == 200
    assert error_for(response, "msisdn") == expected(app, "phone.length", {"length": 5})
    assert error_for(response, "nhi_card") == expected(app, "card.empty")
    assert error_for(response, "birth_date") == expected(
        app, "date.invalid", {"text": "1980/02/30"}
    )
    assert error_for(response, "name") == expected(app, "name.empty")
    assert error_for(response, "captcha") == expected(app, "captcha.empty")
    assert len(summary_items(response)) == 5
    assert_kept(response, data)


@pytest.mark.parametrize(
    ("msisdn", "nhi_card", "birth_date"),
    [
        ("0912345678", "0000-1234-5678", "1980-01-01"),
        ("+886 912 345 678", "０００ ０１２３４５６７８", "1980.1.1"),
        ("0912 345 678", "000012345678", "民國69年1月1日"),
        ("886912345678", "000012345678", "069/01/01"),
    ],
)
def test_accepted_spellings_pass(
    at_personal: WizardClient, msisdn: str, nhi_card: str, birth_date: str
) -> None:
    response = at_personal.personal(msisdn=msisdn, nhi_card=nhi_card, birth_date=birth_date)
    assert response.status_code == 303, errors_of(response)
    assert response.headers["Location"] == "/register/device"


# --- 民國 dates ------------------------------------------------------------------------------


def test_roc_date_is_accepted(at_personal: WizardClient, app: Flask) -> None:
    response = at_personal.personal(birth_date="69/01/01")
    assert response.status_code == 303, errors_of(response)
    assert registration_row(app).birth_date.isoformat() == "1980-01-01"
    back = at_personal.get("/register/personal")
    assert value_of(back, "birth_date") == "1980/01/01"


def test_roc_date_note_shown_when_a_later_field_fails(at_personal: WizardClient) -> None:
    response = at_personal.personal(birth_date="69/01/01", name="")
    assert response.status_code == 200
    assert error_for(response, "birth_date") is None
    assert value_of(response, "birth_date") == "69/01/01"
    assert "已將民國日期 69/01/01 讀為西元 1980/01/01" in text_of(response)
    assert 'aria-describedby="birth_date-hint birth_date-note"' in text_of(response)


# --- CAPTCHA with the real answer ------------------------------------------------------------

REAL_CAPTCHA = pytest.mark.parametrize(
    "app_config", [{"CAPTCHA_FIXED_ANSWER": None}], indirect=True
)


@REAL_CAPTCHA
def test_real_captcha_right_answer_passes(
    at_personal: WizardClient, client: FlaskClient, app: Flask
) -> None:
    assert app.config["CAPTCHA_FIXED_ANSWER"] is None
    token = token_of(client, "/register/personal")
    answer = registration_row(app).captcha_answer
    assert answer
    response = post_with(client, "/register/personal", token, typed(captcha=answer.lower()))
    assert response.status_code == 303, errors_of(response)
    assert response.headers["Location"] == "/register/device"


@REAL_CAPTCHA
def test_real_captcha_fixed_answer_is_not_accepted(at_personal: WizardClient, app: Flask) -> None:
    response = at_personal.personal(captcha=FIXED_CAPTCHA)
    assert error_for(response, "captcha") == expected(app, "captcha.wrong")


@REAL_CAPTCHA
def test_wrong_answer_fails_and_makes_a_new_challenge(
    at_personal: WizardClient, client: FlaskClient, app: Flask
) -> None:
    token = token_of(client, "/register/personal")
    before = registration_row(app)
    wrong = "WRONG"  # 'O' is not in the CAPTCHA alphabet: never right
    response = post_with(client, "/register/personal", token, typed(captcha=wrong))
    assert response.status_code == 200
    assert error_for(response, "captcha") == expected(app, "captcha.wrong")
    assert_kept(response, typed(captcha=wrong))
    after = registration_row(app)
    assert after.captcha_answer and after.captcha_answer != before.captcha_answer
    assert after.captcha_serial == before.captcha_serial + 1
    assert f"/register/captcha.png?v={after.captcha_serial}" in text_of(response)
    # The new challenge works.
    response = post_with(client, "/register/personal", token, typed(captcha=after.captcha_answer))
    assert response.status_code == 303, errors_of(response)


@REAL_CAPTCHA
def test_an_answer_is_single_use(
    at_personal: WizardClient, client: FlaskClient, app: Flask
) -> None:
    token = token_of(client, "/register/personal")
    answer = registration_row(app).captcha_answer
    assert answer
    # Right CAPTCHA, but another field is wrong: the challenge is used up all the same.
    first = post_with(client, "/register/personal", token, typed(captcha=answer, name=""))
    assert first.status_code == 200
    assert error_for(first, "captcha") is None
    assert error_for(first, "name")
    assert registration_row(app).captcha_answer != answer
    again = post_with(client, "/register/personal", token, typed(captcha=answer))
    assert again.status_code == 200
    assert error_for(again, "captcha") == expected(app, "captcha.wrong")


@REAL_CAPTCHA
def test_expired_challenge(
    at_personal: WizardClient, client: FlaskClient, app: Flask, clock: FrozenClock
) -> None:
    token = token_of(client, "/register/personal")
    before = registration_row(app)
    clock.advance(minutes=11)
    response = post_with(
        client, "/register/personal", token, typed(captcha=before.captcha_answer or "")
    )
    assert response.status_code == 200
    assert error_for(response, "captcha") == expected(app, "captcha.expired")
    after = registration_row(app)
    assert after.captcha_serial == before.captcha_serial + 1
    assert after.captcha_expires_at > clock.now()


@REAL_CAPTCHA
def test_expired_challenge_is_replaced_on_refresh(
    at_personal: WizardClient, client: FlaskClient, app: Flask, clock: FrozenClock
) -> None:
    client.get("/register/personal")
    before = registration_row(app)
    client.get("/register/personal")
    assert registration_row(app).captcha_serial == before.captcha_serial  # refresh: same one
    clock.advance(minutes=11)
    client.get("/register/personal")
    assert registration_row(app).captcha_serial == before.captcha_serial + 1


@REAL_CAPTCHA
def test_buttons_without_javascript_keep_the_fields(
    at_personal: WizardClient, client: FlaskClient, app: Flask
) -> None:
    token = token_of(client, "/register/personal")
    first = registration_row(app)
    assert first.captcha_kind == "image"
    data = typed(captcha="", password="", password_confirm="", name="")
    # 改用文字題: a question instead of the picture; nothing typed is lost, no errors shown.
    response = post_with(client, "/register/personal", token, {**data, "action": "text_captcha"})
    assert response.status_code == 200
    assert_kept(response, data)
    assert errors_of(response) == [] and summary_items(response) == []
    assert not title_of(response).startswith("錯誤：")
    row = registration_row(app)
    assert row.captcha_kind == "text" and row.captcha_serial == first.captcha_serial + 1
    assert 'class="hint captcha-question"' in text_of(response)
    assert "captcha.png" not in text_of(response)
    assert 'value="image_captcha"' in text_of(response)
    # 重新產生驗證碼 keeps the kind chosen.
    response = post_with(client, "/register/personal", token, {**data, "action": "new_captcha"})
    assert_kept(response, data)
    again = registration_row(app)
    assert again.captcha_kind == "text" and again.captcha_serial == row.captcha_serial + 1
    # The question's answer is accepted like the picture's.
    response = post_with(
        client, "/register/personal", token, typed(captcha=again.captcha_answer or "")
    )
    assert response.status_code == 303, errors_of(response)


@REAL_CAPTCHA
def test_back_to_the_picture(at_personal: WizardClient, client: FlaskClient, app: Flask) -> None:
    token = token_of(client, "/register/personal")
    post_with(client, "/register/personal", token, {**typed(), "action": "text_captcha"})
    response = post_with(
        client, "/register/personal", token, {**typed(), "action": "image_captcha"}
    )
    assert registration_row(app).captcha_kind == "image"
    assert "/register/captcha.png?v=" in text_of(response)
    assert_kept(response, typed())


def test_htmx_new_captcha_returns_only_the_block(
    at_personal: WizardClient, client: FlaskClient, app: Flask
) -> None:
    token = token_of(client, "/register/personal")
    before = registration_row(app)
    response = post_with(client, "/register/captcha", token, {"kind": "text"}, headers=HX)
    assert response.status_code == 200
    html = text_of(response).strip()
    assert html.startswith('<div class="captcha" id="captcha-block">')
    assert html.endswith("</div>")
    for absent in ("<html", "<body", "<form", "<h1", "<main", 'name="national_id"'):
        assert absent not in html
    assert 'class="hint captcha-question"' in html
    assert "已產生新的驗證碼" in html  # announced to screen readers
    row = registration_row(app)
    assert row.captcha_kind == "text" and row.captcha_serial == before.captcha_serial + 1
    # Same kind again when no kind is sent.
    response = post_with(client, "/register/captcha", token, {}, headers=HX)
    assert registration_row(app).captcha_kind == "text"
    response = post_with(client, "/register/captcha", token, {"kind": "image"}, headers=HX)
    assert "/register/captcha.png?v=" in text_of(response)


def test_captcha_image_is_a_png(at_personal: WizardClient, client: FlaskClient, app: Flask) -> None:
    client.get("/register/personal")
    response = client.get(f"/register/captcha.png?v={registration_row(app).captcha_serial}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert "no-store" in response.headers["Cache-Control"]


def test_no_captcha_image_without_a_registration_or_for_a_text_question(
    client: FlaskClient, at_personal: WizardClient
) -> None:
    token = token_of(client, "/register/personal")
    post_with(client, "/register/captcha", token, {"kind": "text"}, headers=HX)
    assert client.get("/register/captcha.png").status_code == 404
    assert client.application.test_client().get("/register/captcha.png").status_code == 404


# --- passwords -------------------------------------------------------------------------------


def test_full_width_password_matches_its_half_width_confirmation(at_personal: WizardClient) -> None:
    response = at_personal.personal(
        password="ｍｙ　ｃａｔ　ｉｓ　ｆｌｏｗｅｒ", password_confirm="my cat is flower"
    )
    assert response.status_code == 303, errors_of(response)


def test_long_password_of_64_characters_is_not_truncated(
    at_personal: WizardClient, app: Flask
) -> None:
    password = "a long sentence I will remember at every login, and a cat named F"
    assert len(password) == 65
    response = at_personal.personal(password=password, password_confirm=password)
    assert error_for(response, "password") == expected(
        app, "password.too_long", {"max": 64, "length": 65}
    )
    password = password[:64]
    response = at_personal.personal(password=password, password_confirm=password)
    assert response.status_code == 303, errors_of(response)


def test_password_on_file_is_kept_when_both_boxes_are_empty(
    wizard: WizardClient, app: Flask
) -> None:
    wizard.complete_steps_before("device")
    stored = registration_row(app).password_hash
    assert stored
    page = wizard.get("/register/personal")
    assert page.status_code == 200
    assert "已設定憑證密碼" in text_of(page)
    assert value_of(page, "password") == "" and value_of(page, "password_confirm") == ""
    response = wizard.personal(password="", password_confirm="")
    assert response.status_code == 303, errors_of(response)
    assert response.headers["Location"] == "/register/device"
    assert registration_row(app).password_hash == stored
    # Typing a new one replaces it.
    response = wizard.personal(
        password="a brand new sentence", password_confirm="a brand new sentence"
    )
    assert response.status_code == 303
    assert registration_row(app).password_hash != stored


def test_password_is_hashed_never_stored(wizard: WizardClient, app: Flask) -> None:
    wizard.complete_steps_before("device")
    row = registration_row(app)
    assert row.password_hash and row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash


# --- the carrier's precheck --------------------------------------------------------------------


def person(national_id: str) -> dict[str, str]:
    return next(p for p in DEMO_PEOPLE if p["national_id"] == national_id)


def person_form(p: dict[str, str], **overrides: str) -> dict[str, str]:
    data = {
        "carrier": p["carrier"],
        "msisdn": p["msisdn"],
        "nhi_card": p["nhi_card"],
        "birth_date": p["birth_date"].replace("-", "/"),
        "name": p["name"],
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "captcha": FIXED_CAPTCHA,
    }
    data.update(overrides)
    return data


ELIGIBLE_PEOPLE = [
    p["national_id"]
    for p in DEMO_PEOPLE
    if p["plan"] == "monthly" and p["account"] == "personal" and p["mvno"] == "0"
]

# (national ID, field the message goes beside, code)
REFUSED_PEOPLE = [
    ("K224567899", "msisdn", "precheck.prepaid"),
    ("S129876548", "msisdn", "precheck.family"),
    ("T221122331", "msisdn", "precheck.enterprise"),
    ("R127654329", "msisdn", "precheck.mvno"),
]


def test_demo_people_cover_every_answer() -> None:
    assert len(ELIGIBLE_PEOPLE) + len(REFUSED_PEOPLE) == len(DEMO_PEOPLE)
    assert {"A123456789", "E228765430", "H122334450", "N223450986", "Y120011223"} <= set(
        ELIGIBLE_PEOPLE
    )


@pytest.mark.parametrize("national_id", ELIGIBLE_PEOPLE)
def test_each_eligible_demo_person_passes(wizard: WizardClient, national_id: str) -> None:
    assert wizard.identify(national_id).status_code == 303
    response = wizard.personal(**person_form(person(national_id)))
    assert response.status_code == 303, (errors_of(response), form_error(response))
    assert response.headers["Location"] == "/register/device"


@pytest.mark.parametrize(("national_id", "field", "code"), REFUSED_PEOPLE)
def test_each_refused_demo_person_gets_their_own_message(
    wizard: WizardClient, app: Flask, national_id: str, field: str, code: str
) -> None:
    assert wizard.identify(national_id).status_code == 303
    data = person_form(person(national_id))
    response = wizard.personal(**data)
    assert response.status_code == 200
    text = expected(app, code)
    assert error_for(response, field) == text
    assert errors_of(response) == [text]
    assert summary_items(response) == [text]
    assert form_error(response) is None
    assert_kept(response, data)
    assert "改用其他登入方式" in text


@pytest.mark.parametrize(
    ("national_id", "chosen"),
    [("E228765430", "tstar"), ("E228765430", "twm"), ("H122334450", "aptg"), ("H122334450", "fet")],
)
def test_merged_brands_share_their_operators_network(
    wizard: WizardClient, national_id: str, chosen: str
) -> None:
    assert wizard.identify(national_id).status_code == 303
    response = wizard.personal(**person_form(person(national_id), carrier=chosen))
    assert response.status_code == 303, (errors_of(response), form_error(response))


@pytest.mark.parametrize(
    ("national_id", "chosen"),
    [
        ("A123456789", "twm"),
        ("A123456789", "tstar"),
        ("E228765430", "cht"),
        ("E228765430", "fet"),
        ("H122334450", "twm"),
    ],
)
def test_wrong_carrier_is_shown_beside_the_carrier(
    wizard: WizardClient, app: Flask, national_id: str, chosen: str
) -> None:
    assert wizard.identify(national_id).status_code == 303
    data = person_form(person(national_id), carrier=chosen)
    response = wizard.personal(**data)
    assert response.status_code == 200
    assert error_for(response, "carrier") == expected(app, "precheck.wrong_carrier")
    assert errors_of(response) == [expected(app, "precheck.wrong_carrier")]
    assert_kept(response, data)
    # Choosing the right one then passes (the password on file from the try is kept).
    response = wizard.personal(**person_form(person(national_id)))
    assert response.status_code == 303, errors_of(response)


MISMATCHES: list[tuple[str, dict[str, str]]] = [
    ("A123456789", {"nhi_card": "000012345679"}),
    ("A123456789", {"name": "王小華"}),
    ("A123456789", {"birth_date": "1980/01/02"}),
    ("A123456789", {"msisdn": "0912-000000"}),  # a number nobody holds
    ("A123456789", {"msisdn": "0923-456781"}),  # 陳美玲's number
    ("F123456784", {}),  # right number and card, another person's ID
]


def test_mismatch_is_one_message_whichever_field_is_wrong(wizard: WizardClient, app: Flask) -> None:
    text = expected(app, "precheck.mismatch")
    for word in ("身分證號", "手機門號", "健保卡號", "出生日期", "姓名"):
        assert word in text
    pages = []
    for national_id, overrides in MISMATCHES:
        assert wizard.identify(national_id).status_code == 303
        data = person_form(person("A123456789"), **overrides)
        response = wizard.personal(**data)
        assert response.status_code == 200, (national_id, overrides)
        assert form_error(response) == text, (national_id, overrides)
        assert errors_of(response) == [], "a mismatch must not point at a field"
        assert summary_items(response) == [text]
        assert title_of(response).startswith("錯誤：")
        assert_kept(response, data)
        main = re.search(r"<main.*?</main>", text_of(response), re.S)
        assert main
        page = re.sub(
            r'value="[^"]*"|aria-[a-z]+="[^"]*"|\?v=\d+|[A-Z]\d{5}\*{4}', "", main.group(0)
        )
        pages.append(page)
    # Apart from the values typed, the pages are the same: nothing tells which field was wrong.
    assert all(page == pages[0] for page in pages)


def test_carrier_down_keeps_everything(at_personal: WizardClient, app: Flask) -> None:
    from wizard.carrier import PrecheckOutcome, PrecheckResult

    class Down:
        def precheck(self, claim: object) -> PrecheckResult:
            return PrecheckResult(PrecheckOutcome.UNAVAILABLE)

    app.extensions["carrier_gateway"] = Down()
    response = at_personal.personal()
    assert response.status_code == 200
    assert form_error(response) == expected(app, "precheck.unavailable")
    assert_kept(response, typed())


# --- 清空輸入區 -----------------------------------------------------------------------------


def assert_empty(response: TestResponse) -> None:
    assert response.status_code == 200
    for name in (*TEXT_FIELDS, *SECRET_FIELDS):
        assert value_of(response, name) == "", name
    assert selected_of(response, "carrier") in (None, "")
    assert errors_of(response) == []


def confirm_box(response: TestResponse) -> str:
    match = re.search(r'<div[^>]*id="confirm-clear".*?</div>\s*</div>', text_of(response), re.S)
    return match.group(0) if match else ""


def test_clear_with_something_typed_asks_first_and_keeps_everything(
    at_personal: WizardClient,
) -> None:
    response = at_personal.post("/register/personal", {**typed(), "action": "clear"})
    box = confirm_box(response)
    assert "要清空輸入區嗎？" in box
    assert 'value="clear_confirmed"' in box and 'value="keep"' in box
    assert_kept(response, typed())
    assert errors_of(response) == []  # asking is not an error
    kept = at_personal.post("/register/personal", {**typed(), "action": "keep"})
    assert_kept(kept, typed())
    assert confirm_box(kept) == ""


def test_clear_confirmed_empties_the_fields(at_personal: WizardClient) -> None:
    response = at_personal.post("/register/personal", {**typed(), "action": "clear_confirmed"})
    assert_empty(response)
    assert confirm_box(response) == ""


def test_clear_with_nothing_typed_asks_nothing(at_personal: WizardClient) -> None:
    blank = dict.fromkeys(typed(), "")
    response = at_personal.post("/register/personal", {**blank, "action": "clear"})
    assert confirm_box(response) == ""
    assert_empty(response)


def test_clear_is_apart_from_submit(at_personal: WizardClient) -> None:
    html = text_of(at_personal.get("/register/personal"))
    actions = re.search(
        r'<div class="actions">(.*?)</div>', html[html.index("首次設定密碼") :], re.S
    )
    assert actions and "送出" in actions.group(1) and "清空輸入區" not in actions.group(1)
    assert html.index("清空輸入區") < html.index('id="carrier"')  # at the top, far from 送出
    assert re.search(
        r'<button type="submit" class="button-link" name="action" value="clear">', html
    )


def test_clear_also_forgets_the_draft(at_personal: WizardClient, app: Flask) -> None:
    failed = at_personal.personal(name="")
    assert value_of(failed, "msisdn") == "0912-345678"
    assert registration_row(app).msisdn == "0912345678"  # the draft of what was valid
    asked = at_personal.post("/register/personal", {**typed(name=""), "action": "clear"})
    assert confirm_box(asked) and registration_row(app).msisdn == "0912345678"  # not yet
    response = at_personal.post(
        "/register/personal", {**typed(name=""), "action": "clear_confirmed"}
    )
    assert_empty(response)
    assert_empty(at_personal.get("/register/personal"))
    assert registration_row(app).msisdn is None


def test_clear_after_going_back_empties_the_fields(wizard: WizardClient) -> None:
    wizard.complete_steps_before("device")
    asked = wizard.post("/register/personal", {**typed(), "action": "clear"})
    assert confirm_box(asked)  # what is typed counts as something to lose
    response = wizard.post("/register/personal", {**typed(), "action": "clear_confirmed"})
    assert_empty(response)


def test_page_outline(at_personal: WizardClient) -> None:
    page = at_personal.get("/register/personal")
    shape = outline(page)
    assert shape.h1 == ["輸入個人資料及手機門號"]
    for label in (
        "身分證號",
        "電信業者",
        "手機門號",
        "健保卡號",
        "出生日期",
        "姓名",
        "驗證碼",
        "設定憑證密碼",
        "確認憑證密碼",
        "清空輸入區",
        "送出",
        "重新產生驗證碼",
        "首次設定密碼務必謹記",
    ):
        assert label in text_of(page), label
    options = re.findall(r'<option[^>]*value="(\w*)"', text_of(page))
    assert options == ["", "cht", "twm", "tstar", "fet", "aptg"]
    assert "台灣之星（已併入台灣大哥大）" in text_of(page)
    assert "A12345****" in text_of(page) and "A123456789" not in text_of(page)


@pytest.mark.parametrize(
    "junk",
    [
        "\x00",
        "<script>alert(1)</script>",
        "𠀀" * 40,
        "١٢٣٤",
        "'; DROP TABLE registration; --",
        "\u202e0912345678",
        "9" * 500,
    ],
)
def test_junk_in_every_field_never_gives_a_server_error(
    at_personal: WizardClient, junk: str
) -> None:
    fields = (
        "carrier",
        "msisdn",
        "nhi_card",
        "birth_date",
        "name",
        "captcha",
        "password",
        "password_confirm",
    )
    response = at_personal.personal(**dict.fromkeys(fields, junk))
    assert response.status_code == 200
    assert errors_of(response)
    assert "<script>alert" not in text_of(response)
    for action in ("new_captcha", "text_captcha", "clear", "clear_confirmed", "keep", "nonsense"):
        response = at_personal.post(
            "/register/personal", {**dict.fromkeys(fields, junk), "action": action}
        )
        assert response.status_code == 200, action
