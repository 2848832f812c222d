"""Production as it really runs: HTTPS end to end.

A self-signed certificate made here, Debian's nginx terminating TLS in front of gunicorn (3
workers) and forwarding X-Forwarded-For / X-Forwarded-Proto, the site with PRODUCTION on,
PostgreSQL (the fault cluster), Redis for the rate limits, the HTTP carrier gateway against
the fake gateway server. Chromium (accepting the self-signed certificate) registers through
the QR code with a second browser context as the phone, reads the notice, opens the portal,
downloads the records PDF, logs out and logs in with the four fields. It checks the cookies'
flags, HSTS, and that no POST was answered 4xx.

Before wizard/web/origin.py every POST here was refused (400 "頁面已過期": Flask-WTF demanded
a Referer over HTTPS, which the site's no-referrer policy meant browsers never sent); with
no-referrer and the Origin check, the phone's plain form post was refused (``Origin: null``):
the policy is now same-origin.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import Response, expect, sync_playwright
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.browser.pages import (
    agree_and_start,
    bind_device,
    choose_device,
    expect_step,
    fill_personal,
    heading,
    identify,
    log_in,
    log_out,
    notice_start,
    read_notice_to_the_end,
    scan_qr,
    url_pattern,
)
from tests.faults.conftest import MakeSite
from tests.faults.gateway import TOKEN, fake_gateway
from tests.helpers import ELIGIBLE, free_port
from tests.web.test_production import redis_url  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (P-256, a day)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


#: The terminator's settings README "Deploying behind TLS" gives, in a config of its own.
NGINX_CONF = """
worker_processes 1;
{user}
pid {folder}/nginx.pid;
error_log {folder}/error.log;
daemon off;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {folder}/body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{
      proxy_pass http://127.0.0.1:{upstream};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }}
  }}
}}
"""


def _nginx() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        pytest.fail("nginx is not installed: apt-get install nginx (make test installs it as root)")
    return found


@contextmanager
def nginx(folder: Path, upstream: str, cert: Path, key: Path) -> Iterator[str]:
    """nginx terminating TLS on a free port in front of ``upstream`` (http://host:port)."""
    folder.mkdir()
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            user="user root root;" if os.geteuid() == 0 else "",
            folder=folder,
            port=port,
            cert=cert,
            key=key,
            upstream=upstream.rsplit(":", 1)[1],
        )
    )
    process = subprocess.Popen([_nginx(), "-p", str(folder), "-c", str(conf)])
    base = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError((folder / "error.log").read_text())
            try:
                import socket

                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def captcha_answer(database_url: str, national_id: str) -> str:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return str(
                connection.execute(
                    text(
                        "SELECT captcha_answer FROM registration WHERE national_id = :id"
                        " ORDER BY id DESC LIMIT 1"
                    ),
                    {"id": national_id},
                ).scalar()
            )
    finally:
        engine.dispose()


def test_a_whole_registration_and_login_over_real_tls_in_production(
    make_site: MakeSite,
    tmp_path: Path,
    redis_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = time.monotonic()
    cert, key = certificate(tmp_path)
    # The site trusts the test's certificate (the carrier gateway is https-only in
    # production): OpenSSL reads SSL_CERT_FILE, which site_env passes on to gunicorn.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with (
        fake_gateway() as fake,
        nginx(tmp_path / "nginx-gateway", fake.url, cert, key) as gateway_url,
    ):
        site = make_site(
            workers=3,
            PRODUCTION="true",
            TRUSTED_PROXIES=1,
            CARRIER_GATEWAY="http",
            CARRIER_GATEWAY_URL=gateway_url,
            CARRIER_GATEWAY_TOKEN=TOKEN,
            CAPTCHA_FIXED_ANSWER=None,
            RATELIMIT_ENABLED=None,
            RATELIMIT_STORAGE_URI=redis_url,
        )
        with nginx(tmp_path / "nginx-site", site.base, cert, key) as base:
            _in_own_thread(_drive, base, site.database_url)
        assert [a.endpoint for a in fake.attempts] == ["precheck", "network-check"]
    print(f"\nTLS end to end: {time.monotonic() - started:.1f} s")


def _in_own_thread(function: Callable[..., None], *args: object) -> None:
    """Run ``function`` in a thread of its own: Playwright's sync API refuses a thread where
    another sync Playwright (the browser tests' session-wide one) already runs its loop."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            function(*args)
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            failure.append(error)

    thread = threading.Thread(target=run, name="tls-browser")
    thread.start()
    thread.join(timeout=300)
    assert not thread.is_alive(), "the browser part did not finish in 5 minutes"
    if failure:
        raise failure[0]


def _drive(base: str, database_url: str) -> None:
    refused: list[str] = []
    hsts: list[str | None] = []

    def watch(response: Response) -> None:
        if response.request.method == "POST" and response.status >= 400:
            refused.append(f"{response.status} {response.url}")
        if response.request.resource_type == "document":
            hsts.append(response.headers.get("strict-transport-security"))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        options = {"base_url": base, "ignore_https_errors": True, "locale": "zh-TW"}
        desktop_context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
        phone_context = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, **options
        )
        for context in (desktop_context, phone_context):
            context.set_default_timeout(20_000)
            context.on("response", watch)
        desktop = desktop_context.new_page()
        desktop.goto("/login")
        identify(desktop)
        expect_step(desktop, "personal")
        fill_personal(desktop, captcha=captcha_answer(database_url, ELIGIBLE["national_id"]))
        expect_step(desktop, "device")
        choose_device(desktop, "desktop")
        expect_step(desktop, "qr")

        link = scan_qr(desktop)
        assert link.startswith(base + "/h/"), link  # the proxy's scheme and host
        phone = phone_context.new_page()
        phone.goto(link)
        expect(phone).to_have_url(url_pattern("phone"))
        agree_and_start(phone)
        expect(heading(phone)).to_have_text("驗證成功")
        expect(desktop).to_have_url(url_pattern("done"), timeout=20_000)

        bind_device(desktop)
        read_notice_to_the_end(desktop)
        notice_start(desktop).click()
        expect(desktop).to_have_url(f"{base}/portal")
        desktop.goto("/portal/records")
        with desktop.expect_download() as download:
            desktop.get_by_role("link", name="下載 PDF 檔").click()
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
        log_out(desktop)
        expect(desktop.locator("#device-login")).to_be_visible()
        log_in(desktop)
        expect(desktop).to_have_url(f"{base}/portal")

        cookies = {c["name"]: c for c in desktop_context.cookies()}
        assert {"__Host-bli_session", "__Host-bli_device"} <= set(cookies), list(cookies)
        for name in ("__Host-bli_session", "__Host-bli_device"):
            cookie = cookies[name]
            assert cookie["secure"] and cookie["httpOnly"] and cookie["path"] == "/", cookie
            assert cookie["sameSite"] == "Lax" and cookie["domain"] == "127.0.0.1", cookie
        assert not [c for c in cookies if not c.startswith("__Host-")], list(cookies)
        browser.close()
    assert refused == [], refused
    assert hsts and all(h and h.startswith("max-age=31536000") for h in hsts), hsts
