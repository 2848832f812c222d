"""Cross-site requests and production cookies (wizard/web/origin.py, wizard/config.py).

Over HTTPS Flask-WTF used to demand a same-origin Referer on every POST, which the site's
``Referrer-Policy: no-referrer`` meant browsers never sent: every form failed in production
(the first test failed before the fix). The policy is now ``same-origin``. The token stays;
``Origin`` and ``Sec-Fetch-Site`` now say where a request comes from.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import make_test_app
from tests.helpers import ELIGIBLE, WizardClient, csrf_token
from tests.web.test_account import register_and_bind
from tests.web.test_production import made, production_config
from wizard.clock import FrozenClock

EXPIRED = "頁面已過期"


@pytest.fixture
def proxied(tmp_path: Path) -> Flask:
    """The site behind one TLS-terminating proxy, as production runs it."""
    app = make_test_app(tmp_path, FrozenClock(), TRUSTED_PROXIES=1)
    yield app
    app.extensions["db_engine"].dispose()


HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "Host": "bli.example"}


def _step1(client: FlaskClient, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    page = client.get("/login", headers=HTTPS)
    token = csrf_token(page.get_data(as_text=True))
    return client.post(
        "/login",
        data={"csrf_token": token, "national_id": ELIGIBLE["national_id"]},
        headers={**HTTPS, **headers},
    )


def test_a_same_origin_post_over_https_without_a_referer_is_accepted(proxied: Flask) -> None:
    response = _step1(
        proxied.test_client(), {"Origin": "https://bli.example", "Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_post_with_neither_header_still_works_with_its_token(proxied: Flask) -> None:
    assert _step1(proxied.test_client(), {}).status_code == 303


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "http://bli.example"},  # the same host over plain http is another origin
        {"Origin": "null"},
        {"Origin": "https://bli.example", "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_site_posts_are_refused_with_the_friendly_page(
    proxied: Flask, headers: dict[str, str]
) -> None:
    response = _step1(proxied.test_client(), headers)
    assert response.status_code == 400
    assert EXPIRED in response.get_data(as_text=True)


def test_a_cross_site_post_is_refused_even_with_a_valid_token_and_no_session_change(
    app: Flask, wizard: WizardClient
) -> None:
    """Logout forced from another site: the session survives."""
    register_and_bind(wizard)
    page = wizard.client.get("/notice")
    token = csrf_token(page.get_data(as_text=True))
    refused = wizard.client.post(
        "/logout", data={"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert refused.status_code == 400
    assert wizard.client.get("/notice").status_code == 200


def test_the_api_authenticates_by_key_not_by_origin(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/share-checks", json={}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 401  # no key: the Origin check does not apply


def test_production_cookies_are_host_prefixed_and_secure(tmp_path: Path) -> None:
    app = made(production_config(tmp_path))
    config = app.config
    assert config["SESSION_COOKIE_NAME"] == "__Host-bli_session"
    assert config["DEVICE_COOKIE_NAME"] == "__Host-bli_device"
    assert config["SESSION_COOKIE_SECURE"] is True and config["SESSION_COOKIE_PATH"] == "/"
    assert config["SESSION_COOKIE_DOMAIN"] is False
    assert config["WTF_CSRF_SSL_STRICT"] is False


def test_host_prefixed_cookies_as_sent_carry_every_flag(tmp_path: Path) -> None:
    """The production cookie settings on the embedded stack (same code path), over https:
    both cookies __Host- prefixed, Secure, Path=/, no Domain, HttpOnly, SameSite=Lax."""
    app = make_test_app(
        tmp_path,
        FrozenClock(),
        SESSION_COOKIE_NAME="__Host-bli_session",
        DEVICE_COOKIE_NAME="__Host-bli_device",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=False,
    )
    try:
        client = app.test_client()
        client.environ_base["wsgi.url_scheme"] = "https"
        wizard = WizardClient(client, app)
        register_and_bind(wizard)
        cookies = {
            c.key: c
            for c in (
                client.get_cookie("__Host-bli_session"),
                client.get_cookie("__Host-bli_device"),
            )
            if c
        }
        assert set(cookies) == {"__Host-bli_session", "__Host-bli_device"}
        for cookie in cookies.values():
            assert cookie.secure and cookie.http_only and cookie.path == "/"
            assert cookie.domain in ("localhost", "") and not cookie.domain.startswith(".")
            assert cookie.same_site == "Lax"
        # The four-field login reads the prefixed device cookie.
        assert 'id="device-login"' in client.get("/login").get_data(as_text=True)
    finally:
        app.extensions["db_engine"].dispose()


def test_the_referrer_policy_is_same_origin(client: FlaskClient) -> None:
    """Not no-referrer: browsers would then send Origin: null on every form post."""
    assert client.get("/login").headers["Referrer-Policy"] == "same-origin"
