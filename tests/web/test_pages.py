"""Every page of steps 1-5 and the help pages, as a full page and as an HTMX partial: structure,
labels, forms, headers; CSRF, error pages, and the pinned htmx file."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import WizardClient, csrf_token
from tests.web.support import HX, outline, text_of, title_of, token_of, typed
from wizard import ROOT
from wizard.web.assets import hashed_name
from wizard.web.templating import HTMX_FILE, HTMX_SHA256

SITE = " - 勞保局e化服務系統"


def _get(
    url: str, before: str | None = None
) -> Callable[[WizardClient, dict[str, str]], TestResponse]:
    def fetch(wizard: WizardClient, headers: dict[str, str]) -> TestResponse:
        if before is not None:
            wizard.complete_steps_before(before)
        return wizard.get(url, headers=headers)

    return fetch


def _login_error(wizard: WizardClient, headers: dict[str, str]) -> TestResponse:
    return wizard.post("/login", {"national_id": "A123456780"}, headers=headers)


def _personal_error(wizard: WizardClient, headers: dict[str, str]) -> TestResponse:
    wizard.complete_steps_before("personal")
    return wizard.post(
        "/register/personal", typed(msisdn="12", name="", captcha=""), headers=headers
    )


def _personal_mismatch(wizard: WizardClient, headers: dict[str, str]) -> TestResponse:
    wizard.complete_steps_before("personal")
    return wizard.post("/register/personal", typed(nhi_card="000000000000"), headers=headers)


def _personal_text_captcha(wizard: WizardClient, headers: dict[str, str]) -> TestResponse:
    wizard.complete_steps_before("personal")
    return wizard.post("/register/personal", {"action": "text_captcha"}, headers=headers)


def _device_error(wizard: WizardClient, headers: dict[str, str]) -> TestResponse:
    wizard.complete_steps_before("device")
    return wizard.post("/register/device", {"device": "tablet"}, headers=headers)


def _not_found(wizard: WizardClient, headers: dict[str, str]) -> TestResponse:
    return wizard.get("/no/such/page", headers=headers)


def _csrf_failure(wizard: WizardClient, headers: dict[str, str]) -> TestResponse:
    return wizard.client.post("/login", data={"national_id": "A123456789"}, headers=headers)


# name -> (fetch, status, shows an error)
PAGES: dict[str, tuple[Callable[[WizardClient, dict[str, str]], TestResponse], int, bool]] = {
    "login": (_get("/login"), 200, False),
    "login with an ID on file": (_get("/login", "device"), 200, False),
    "login error": (_login_error, 200, True),
    "method moica": (_get("/login/method/moica"), 200, False),
    "method bli-cert": (_get("/login/method/bli-cert"), 200, False),
    "method tw-fido": (_get("/login/method/tw-fido"), 200, False),
    "method mobile-id": (_get("/login/method/mobile-id"), 200, False),
    "manual": (_get("/help/manual"), 200, False),
    "tutorial": (_get("/help/tutorial"), 200, False),
    "faq": (_get("/help/faq"), 200, False),
    "guide": (_get("/help/guide"), 200, False),
    "terms": (_get("/help/terms"), 200, False),
    "personal": (_get("/register/personal", "personal"), 200, False),
    "personal, back from step 3": (_get("/register/personal", "device"), 200, False),
    "personal errors": (_personal_error, 200, True),
    "personal mismatch": (_personal_mismatch, 200, True),
    "personal text CAPTCHA": (_personal_text_captcha, 200, False),
    "device": (_get("/register/device", "device"), 200, False),
    "device error": (_device_error, 200, True),
    "qr": (_get("/register/qr", "qr"), 200, False),
    "verify": (_get("/register/verify", "verify"), 200, False),
    "not found": (_not_found, 404, True),
    "csrf failure": (_csrf_failure, 400, True),
}


@pytest.fixture(params=sorted(PAGES))
def page_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=[False, True], ids=["full", "htmx"])
def htmx(request: pytest.FixtureRequest) -> bool:
    return request.param


@pytest.fixture
def page(wizard: WizardClient, page_name: str, htmx: bool) -> TestResponse:
    fetch, status, _error = PAGES[page_name]
    response = fetch(wizard, HX if htmx else {})
    assert response.status_code == status, (page_name, response.status_code)
    return response


def test_page(page: TestResponse, page_name: str, htmx: bool) -> None:
    """One request per page and form (they are costly): every check below on it."""
    check_structure(page, page_name)
    check_full_page_or_partial(page, htmx)
    check_security_headers(page)
    check_no_inline_scripts_or_styles(page)


def check_structure(page: TestResponse, page_name: str) -> None:
    shape = outline(page)
    assert len(shape.h1) == 1, shape.h1
    h1 = " ".join(shape.h1[0].split())
    assert h1
    assert len(shape.title) == 1
    title = title_of(page)
    error = PAGES[page_name][2]
    assert title == ("錯誤：" if error else "") + h1 + SITE
    duplicates = [i for i, n in Counter(shape.ids).items() if n > 1]
    assert not duplicates
    for form in shape.forms:
        assert form.action, form
        assert form.method == "post", form
        assert form.has_csrf, form
    for kind, field_id, name in shape.fields:
        if kind in ("hidden", "submit", "button"):
            continue
        assert field_id, (kind, name)
        assert field_id in shape.label_for, f"no <label for={field_id}>"


def check_full_page_or_partial(page: TestResponse, htmx: bool) -> None:
    html = text_of(page)
    shape = outline(page)
    assert "HX-Request" in page.headers.get("Vary", "")
    if htmx:
        assert "<html" not in html and "<body" not in html and "<main" not in html
        assert "html" not in shape.tags and "body" not in shape.tags
        assert "title" in shape.tags
        assert "HX-Push-Url" in page.headers
        assert not shape.scripts
    else:
        assert html.lstrip().lower().startswith("<!doctype html>")
        assert '<html lang="zh-Hant-TW">' in html
        assert "HX-Push-Url" not in page.headers
        # The pinned file under its content-hashed name (wizard.web.assets): cacheable for good.
        assert f"/static/{hashed_name(HTMX_FILE, HTMX_SHA256)}" in shape.scripts
        assert 'id="main"' in html


def check_security_headers(page: TestResponse) -> None:
    csp = page.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] in (
        "no-referrer",
        "same-origin",
        "strict-origin-when-cross-origin",
    )
    assert "no-store" in page.headers["Cache-Control"]
    assert page.mimetype == "text/html"


def check_no_inline_scripts_or_styles(page: TestResponse) -> None:
    html = text_of(page)
    assert "<script>" not in html and "<style" not in html
    assert " style=" not in html
    assert " onclick=" not in html and " onload=" not in html


def test_htmx_push_url(wizard: WizardClient) -> None:
    response = wizard.get("/help/faq?x=1", headers=HX)
    assert response.headers["HX-Push-Url"] == "/help/faq?x=1"
    response = wizard.get("/help/faq", headers=HX)
    assert response.headers["HX-Push-Url"] == "/help/faq"
    # A form shown again with its errors stays where it was.
    response = _login_error(wizard, HX)
    assert response.headers["HX-Push-Url"] == "false"
    # A history restore gets the full page.
    restore = wizard.get("/help/faq", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in text_of(restore)


@pytest.mark.parametrize("path", [HTMX_FILE, "css/site.css", "js/wizard.js"])
def test_static_files_may_be_cached(client: FlaskClient, path: str) -> None:
    response = client.get(f"/static/{path}")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_pinned_htmx_file() -> None:
    vendored = ROOT / "static" / HTMX_FILE
    assert hashlib.sha256(vendored.read_bytes()).hexdigest() == HTMX_SHA256
    licence = vendored.parent / "htmx-LICENSE.txt"
    assert licence.is_file() and licence.stat().st_size > 0
    assert "2.0.11" in Path(HTMX_FILE).name


def test_served_htmx_is_the_pinned_file(client: FlaskClient) -> None:
    response = client.get(f"/static/{HTMX_FILE}")
    assert hashlib.sha256(response.data).hexdigest() == HTMX_SHA256
    response.close()


# --- CSRF ----------------------------------------------------------------------------------

CSRF_POSTS = [
    "/login",
    "/register/personal",
    "/register/device",
    "/register/captcha",
    "/register/restart",
]


def assert_expired_page(response: TestResponse) -> None:
    assert response.status_code == 400
    html = text_of(response)
    assert "頁面已過期" in html
    assert title_of(response).startswith("錯誤：頁面已過期")
    assert "Traceback" not in html and "CSRF" not in html and "Bad Request" not in html
    assert 'href="/login"' in html


@pytest.mark.parametrize("url", CSRF_POSTS)
def test_post_without_token_gets_the_friendly_page(wizard: WizardClient, url: str) -> None:
    wizard.complete_steps_before("device")
    response = wizard.client.post(
        url, data={"national_id": "A123456789", "device": "phone", "action": "clear"}
    )
    assert_expired_page(response)
    # Nothing happened: the registration is where it was.
    assert wizard.get("/register/device").status_code == 200


@pytest.mark.parametrize("url", CSRF_POSTS)
def test_post_with_a_forged_token_gets_the_friendly_page(
    wizard: WizardClient, app: Flask, url: str
) -> None:
    wizard.complete_steps_before("device")
    other = app.test_client()
    forged = token_of(other, "/login")  # valid, but for another browser
    response = wizard.client.post(url, data={"csrf_token": forged, "device": "phone"})
    assert_expired_page(response)


def test_token_from_the_page_is_accepted(client: FlaskClient) -> None:
    token = csrf_token(text_of(client.get("/login")))
    response = client.post("/login", data={"csrf_token": token, "national_id": "A123456789"})
    assert response.status_code == 303


# --- error pages ---------------------------------------------------------------------------


def test_not_found_is_friendly(client: FlaskClient) -> None:
    response = client.get("/register/nothing-here")
    assert response.status_code == 404
    assert "找不到這個頁面" in text_of(response)
    assert title_of(response).startswith("錯誤：找不到這個頁面")
    assert "<footer" in text_of(response)


def test_wrong_method_is_friendly(client: FlaskClient) -> None:
    response = client.get("/register/restart")
    assert response.status_code == 405
    assert "無法這樣使用這個頁面" in text_of(response)


@pytest.mark.parametrize("url", ["/login", "/register/personal"])
def test_too_large_body_is_friendly(wizard: WizardClient, app: Flask, url: str) -> None:
    wizard.complete_steps_before("personal")
    token = token_of(wizard.client, url)
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = wizard.client.post(url, data={"csrf_token": token, "name": "王" * limit})
    assert response.status_code == 413
    html = text_of(response)
    assert "送出的資料太大" in html and "Traceback" not in html
    assert title_of(response).startswith("錯誤：")
