"""Step 1: the login page, the other login methods, the help links and the national ID."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import WizardClient, csrf_token, error_for, errors_of, value_of
from tests.web.support import outline, summary_items, text_of, title_of
from wizard.rules.identity import national_id_checksum_ok
from wizard.web.messages import MESSAGES, message

METHOD_NAMES = ("自然人憑證", "勞保憑證", "行動自然人憑證", "行動電子憑證", "行動電話認證")
OTHER_METHODS = {
    "moica": "自然人憑證",
    "bli-cert": "勞保憑證",
    "tw-fido": "行動自然人憑證",
    "mobile-id": "行動電子憑證",
}

#: Resident-certificate numbers with a valid checksum (foreigners, incl. mainland Chinese).
FOREIGN_NEW = ("A800001235", "F912345678")
FOREIGN_OLD = ("AC12345679", "AA00001239", "AD00001235")

# (typed, code, params): one row at least for every id.* code of wizard/web/messages.py.
BAD_IDS: list[tuple[str, str, dict[str, object]]] = [
    ("", "id.empty", {}),
    ("   ", "id.empty", {}),
    ("A1234-6789", "id.characters", {}),
    ("王123456789", "id.characters", {}),
    ("A12345678!", "id.characters", {}),
    ("A12345678", "id.length", {"length": 9}),
    ("A1234567890", "id.length", {"length": 11}),
    ("A", "id.length", {"length": 1}),
    ("1123456789", "id.first_letter", {}),
    ("0A23456789", "id.first_letter", {}),
    *((nid, "id.foreign_new", {}) for nid in FOREIGN_NEW),
    ("a800001235", "id.foreign_new", {}),
    *((nid, "id.foreign_old", {}) for nid in FOREIGN_OLD),
    ("ac12345679", "id.foreign_old", {}),
    ("A323456789", "id.second_digit", {}),
    ("AE12345678", "id.second_digit", {}),
    ("A12345678B", "id.digits", {}),
    ("A2A4567890", "id.digits", {}),
    ("A123456780", "id.checksum", {}),
    ("F223456714", "id.checksum", {}),
    ("A800001236", "id.checksum", {}),  # resident shape, wrong checksum: a typo, not a foreigner
    ("AC12345670", "id.checksum", {}),
]

GOOD_IDS = [
    "A123456789",
    "a123456789",
    " A123456789 ",
    "A 123 456 789",
    "Ａ１２３４５６７８９",
    "ａ１２３　４５６　７８９",
]


def test_resident_numbers_in_the_table_have_valid_checksums() -> None:
    for nid in FOREIGN_NEW + FOREIGN_OLD:
        assert national_id_checksum_ok(nid), nid
    assert all(nid[1] in "89" for nid in FOREIGN_NEW)
    assert all(nid[1] in "ABCD" for nid in FOREIGN_OLD)


def test_table_covers_every_id_code() -> None:
    codes = {code for code in MESSAGES if code.startswith("id.")}
    assert {code for _typed, code, _params in BAD_IDS} == codes


def test_login_page_lists_the_five_methods(client: FlaskClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    html = text_of(page)
    nav = re.search(r'<nav aria-label="登入方式">(.*?)</nav>', html, re.S)
    assert nav
    names = [
        re.sub(r"<[^>]+>", "", n).strip() for n in re.findall(r"<li>(.*?)</li>", nav.group(1), re.S)
    ]
    assert names == list(METHOD_NAMES)
    assert "個人登入" in outline(page).h1
    assert "請選擇登入方式" in html
    # The mobile method asks for the national ID and has a 驗證 button.
    assert '<label for="national_id">' in html
    assert re.search(r'<button type="submit"[^>]*>驗證</button>', html)


def test_root_redirects_to_login(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code in (301, 302, 303, 308)
    assert response.headers["Location"].endswith("/login")


def test_notes_link_to_manual_and_tutorial(client: FlaskClient) -> None:
    html = text_of(client.get("/login"))
    notes = re.search(r'<ol class="notes">(.*?)</ol>', html, re.S)
    assert notes
    items = re.findall(r"<li>(.*?)</li>", notes.group(1), re.S)
    assert len(items) == 3
    # ① query functions only; applications need another login method.
    assert "查詢功能" in items[0] and "其他方式登入" in items[0]
    assert 'href="/help/manual"' in items[1]
    assert 'href="/help/tutorial"' in items[2]
    manual = client.get("/help/manual")
    assert manual.status_code == 200
    assert "行動電話認證操作手冊" in outline(manual).h1
    for words in ("限本國自然人", "月租型門號", "親子卡", "企業戶", "MVNO"):
        assert words in text_of(manual)
    tutorial = client.get("/help/tutorial")
    assert tutorial.status_code == 200
    assert "行動電話認證教學" in outline(tutorial).h1
    assert "69/01/01" in text_of(tutorial)


@pytest.mark.parametrize(
    ("link_text", "h1", "content"),
    [
        ("問題導引", "問題導引", "居留證"),
        ("常見問題", "行動電話認證常見問題", "預付卡"),
    ],
)
def test_help_links_lead_to_pages_with_content(
    client: FlaskClient, link_text: str, h1: str, content: str
) -> None:
    html = text_of(client.get("/login"))
    hrefs = set(re.findall(rf'<a href="([^"]+)">[^<]*{link_text}</a>', html))
    assert hrefs, f"no link {link_text}"
    for href in hrefs:
        page = client.get(href)
        assert page.status_code == 200, href
        assert outline(page).h1 == [h1]
        body = text_of(page)
        assert content in body
        main = re.search(r"<main.*?</main>", body, re.S)
        assert main and len(re.sub(r"<[^>]+>|\s", "", main.group(0))) > 200


@pytest.mark.parametrize(("code", "name"), sorted(OTHER_METHODS.items()))
def test_other_method_page_says_where_it_is_offered(
    client: FlaskClient, code: str, name: str
) -> None:
    html = text_of(client.get("/login"))
    assert f'href="/login/method/{code}">{name}</a>' in html
    page = client.get(f"/login/method/{code}")
    assert page.status_code == 200
    assert outline(page).h1 == [name]
    body = text_of(page)
    assert 'href="https://edesk.bli.gov.tw/me/"' in body
    assert "申辦作業" in body  # what that method allows and phone login does not
    assert "只提供查詢功能" in body
    assert 'href="/login"' in body


def test_unknown_method_is_a_friendly_404(client: FlaskClient) -> None:
    page = client.get("/login/method/nope")
    assert page.status_code == 404
    assert "找不到這個頁面" in text_of(page)


@pytest.mark.parametrize(("typed", "code", "params"), BAD_IDS)
def test_bad_id_is_explained_beside_the_field(
    wizard: WizardClient, app: Flask, typed: str, code: str, params: dict[str, object]
) -> None:
    response = wizard.identify(typed)
    assert response.status_code == 200
    with app.test_request_context():
        expected = message(code, params)
    assert error_for(response, "national_id") == expected
    assert errors_of(response) == [expected]
    assert summary_items(response) == [expected]
    assert title_of(response).startswith("錯誤：")
    assert value_of(response, "national_id") == typed
    assert 'aria-invalid="true"' in text_of(response)


@pytest.mark.parametrize("nid", FOREIGN_NEW + FOREIGN_OLD)
def test_foreigners_are_told_which_methods_they_can_use(wizard: WizardClient, nid: str) -> None:
    text = error_for(wizard.identify(nid), "national_id") or ""
    assert "本國自然人" in text and "外國人（含大陸人）" in text
    assert "自然人憑證" in text and "臨櫃" in text


@pytest.mark.parametrize("typed", GOOD_IDS)
def test_valid_id_in_any_form_is_accepted(wizard: WizardClient, app: Flask, typed: str) -> None:
    response = wizard.identify(typed)
    assert response.status_code == 303
    assert response.headers["Location"] == "/register/personal"
    page = wizard.get("/register/personal")
    assert page.status_code == 200
    assert "A12345****" in text_of(page)
    assert "A123456789" not in text_of(page)


@pytest.mark.parametrize(
    "typed",
    [
        "\x00",
        "A12345678\x00",
        "<script>",
        "'; DROP TABLE x; --",
        "𠀀" * 30,
        "A" * 5000,
        "A123456789\u200b",
        "١٢٣",
        "A١٢٣٤٥٦٧٨٩",
    ],
)
def test_odd_input_never_gives_a_server_error(wizard: WizardClient, typed: str) -> None:
    response = wizard.identify(typed)
    assert response.status_code in (200, 303)
    if response.status_code == 200:
        assert error_for(response, "national_id")
        assert "<script>" not in re.sub(r"<script src=[^>]*></script>", "", text_of(response))


def test_invalid_utf8_never_gives_a_server_error(client: FlaskClient, app: Flask) -> None:
    token = csrf_token(text_of(client.get("/login")))
    body = f"csrf_token={token}&national_id=%ED%A0%80%FFA123".encode()
    response = client.post("/login", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    with app.test_request_context():
        assert error_for(response, "national_id") == message("id.characters")
