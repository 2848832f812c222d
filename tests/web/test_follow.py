"""wizard/web/follow.py: an htmx POST answered with a redirect gets the next step at once (one round
trip instead of two on a slow network); everything else is answered as before."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask

from tests.helpers import ELIGIBLE, FIXED_CAPTCHA, WizardClient, csrf_token
from tests.web.support import HX, registration_row
from wizard.web.follow import _cookie_updates, _with_cookies


def test_step_1_by_htmx_answers_with_step_2(app: Flask, wizard: WizardClient) -> None:
    response = wizard.post("/login", {"national_id": ELIGIBLE["national_id"]}, headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "/register/personal"  # the address bar's URL
    html = response.get_data(as_text=True)
    assert "<html" not in html  # the partial, as the GET after a redirect gave it
    assert "健保卡號" in html  # step 2's form
    # The session cookie the POST renewed reached the browser, and it holds the registration.
    assert any(h.startswith("bli_session=") for h in response.headers.getlist("Set-Cookie"))
    assert registration_row(app).national_id == ELIGIBLE["national_id"]
    assert wizard.client.get("/register/personal").status_code == 200


def test_without_htmx_the_redirect_is_kept(wizard: WizardClient) -> None:
    response = wizard.post("/login", {"national_id": ELIGIBLE["national_id"]})
    assert response.status_code == 303
    assert response.headers["Location"] == "/register/personal"


def test_a_form_with_errors_is_answered_as_it_was(wizard: WizardClient) -> None:
    response = wizard.post("/login", {"national_id": "A123"}, headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "false"  # stays at the URL it was posted to
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_the_whole_desktop_path_by_htmx(app: Flask, wizard: WizardClient) -> None:
    wizard.post("/login", {"national_id": ELIGIBLE["national_id"]}, headers=HX)
    data = {k: v for k, v in ELIGIBLE.items() if k != "national_id"}
    data.update(password_confirm=ELIGIBLE["password"], captcha=FIXED_CAPTCHA)
    step_3 = wizard.post("/register/personal", data, headers=HX)
    assert step_3.headers["HX-Push-Url"] == "/register/device"
    step_4 = wizard.client.post(
        "/register/device",
        data={"device": "desktop", "csrf_token": csrf_token(step_3.get_data(as_text=True))},
        headers=HX,
    )
    assert step_4.status_code == 200
    assert step_4.headers["HX-Push-Url"] == "/register/qr"
    assert "<svg" in step_4.get_data(as_text=True)  # the QR code, in the same answer
    assert registration_row(app).step == "qr"


def test_both_requests_are_logged(wizard: WizardClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wizard.requests")
    wizard.post("/login", {"national_id": ELIGIBLE["national_id"]}, headers=HX)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "wizard.requests"]
    assert [(line["method"], line["path"], line["status"]) for line in lines[-2:]] == [
        ("POST", "/login", 303),
        ("GET", "/register/personal", 200),
    ]


def test_a_redirect_elsewhere_is_not_followed() -> None:
    from wizard.web.follow import FollowHtmxRedirects

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("303 See Other", [("Location", "https://example.org/x")])
        return [b""]

    seen: list[str] = []
    wrapped = FollowHtmxRedirects(app)
    environ = {"REQUEST_METHOD": "POST", "HTTP_HX_REQUEST": "true", "PATH_INFO": "/"}
    wrapped(environ, lambda status, headers, exc_info=None: seen.append(status))
    assert seen == ["303 See Other"]


def test_cookies_set_and_deleted_by_the_post_reach_the_get() -> None:
    headers = [
        ("Set-Cookie", "session=new; HttpOnly; Path=/; SameSite=Lax"),
        ("Set-Cookie", "bli_device=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"),
        ("Set-Cookie", "other=x; Path=/account"),
        ("Content-Type", "text/html"),
    ]
    updates = _cookie_updates(headers, "/register/personal")
    assert updates == {"session": "new", "bli_device": None}
    assert _with_cookies("session=old; bli_device=abc; lang=en", updates) == (
        "session=new; lang=en"
    )


def test_a_cookie_expired_by_a_negative_max_age_is_deleted() -> None:
    updates = _cookie_updates([("Set-Cookie", "lang=; Max-Age=-1; Path=/")], "/")
    assert updates == {"lang": None}


def test_under_a_prefix_the_cookie_path_and_the_encoded_path_are_followed() -> None:
    """Mounted at /eservice: the session cookie's Path is the prefix, Location holds it and is
    percent-encoded; the GET gets the new cookie and the decoded PATH_INFO."""
    from wizard.web.follow import FollowHtmxRedirects

    seen: dict[str, str] = {}

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        if environ["REQUEST_METHOD"] == "POST":
            start_response(
                "303 See Other",
                [
                    ("Location", "/eservice/register/%E5%80%8B?x=1"),
                    ("Set-Cookie", "bli_session=new; HttpOnly; Path=/eservice"),
                ],
            )
            return [b""]
        seen.update(
            path=environ["PATH_INFO"], query=environ["QUERY_STRING"], cookie=environ["HTTP_COOKIE"]
        )
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"next step"]

    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "HTTP_HX_REQUEST": "true",
        "SCRIPT_NAME": "/eservice",
        "PATH_INFO": "/login",
        "HTTP_COOKIE": "bli_session=old",
    }
    body = FollowHtmxRedirects(app)(
        environ, lambda status, headers, exc_info=None: statuses.append(status)
    )
    assert b"".join(body) == b"next step" and statuses == ["200 OK"]
    assert seen == {
        "path": "/register/個".encode().decode("latin-1"),
        "query": "x=1",
        "cookie": "bli_session=new",
    }
