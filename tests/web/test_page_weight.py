"""Page-weight budgets for phones on slow networks (issue 5): the first page of the wizard with
everything it loads at most 30 KB over the wire, each later step's HTMX partial at most 4 KB,
no web fonts.

Sizes are what the app sends a browser that accepts gzip (``Accept-Encoding`` and the Fetch
Metadata ``Sec-Fetch-Site`` Chromium sends: ``none`` for the typed first page, ``same-origin``
for what the page loads and for HTMX swaps; see wizard.web.compression), counted as body bytes plus
the HTTP/1.1 status line and headers. KB = 1,024 bytes. Run with ``-s`` to see the figures
(README, "Slow networks")."""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import Desktop, Phone, WizardClient, csrf_token, demo_personal

KB = 1024
FIRST_PAGE_BUDGET = 30 * KB
PARTIAL_BUDGET = 4 * KB

#: What Chromium sends when a person types the address (the first page) ...
NAVIGATION = {"Accept-Encoding": "gzip, deflate, br, zstd", "Sec-Fetch-Site": "none"}
#: ... and for what that page loads and for htmx's requests.
SUBRESOURCE = {"Accept-Encoding": "gzip, deflate, br, zstd", "Sec-Fetch-Site": "same-origin"}
HTMX_SWAP = {**SUBRESOURCE, "HX-Request": "true"}

PHONE_4G = {"X-Sim-Network": "4g", "X-Sim-Msisdn": "0912345678"}
FONT_FILES = re.compile(r"\.(woff2?|ttf|otf|eot)(\?|$)", re.I)


def wire_bytes(response: TestResponse) -> int:
    """Body as sent (gzip when encoded) plus the HTTP/1.1 status line and header block."""
    head = f"HTTP/1.1 {response.status}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in response.headers.items()
    )
    return len(head.encode("latin-1")) + 2 + len(response.data)


def plain(response: TestResponse) -> bytes:
    if response.headers.get("Content-Encoding") == "gzip":
        return gzip.decompress(response.data)
    return response.data


class Resources(HTMLParser):
    """What a browser fetches for a page: stylesheets, scripts, images, preloads, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.font_preloads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        url = {"script": a.get("src"), "img": a.get("src"), "link": a.get("href")}.get(tag)
        if tag == "link" and not {"stylesheet", "preload", "modulepreload", "icon"} & set(
            a.get("rel", "").lower().split()
        ):
            url = None
        if tag == "link" and a.get("as") == "font":
            self.font_preloads.append(a.get("href", ""))
        if url and not url.startswith("data:"):
            self.urls.append(url)


def _css_urls(css: str) -> list[str]:
    found = re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", css)
    return [url for url in found if not url.startswith("data:")]


def _fetch(client: FlaskClient, url: str) -> TestResponse:
    parts = urlsplit(url)
    assert not parts.netloc, f"the first page loads {url} from another site"
    response = client.get(url, headers=SUBRESOURCE)
    assert response.status_code == 200, (url, response.status_code)
    return response


def _report(title: str, rows: list[tuple[str, int, int]]) -> None:
    print(f"\n{title}\n| resource | bytes unzipped | bytes over the wire |\n|---|---|---|")
    for name, raw, wire in rows:
        print(f"| {name} | {raw:,} | {wire:,} |")


def test_the_first_page_with_everything_it_loads_is_at_most_30_kb(
    client: FlaskClient, record_property: pytest.RecordProperty
) -> None:
    page = client.get("/login", headers=NAVIGATION)
    assert page.status_code == 200
    assert page.headers["Content-Encoding"] == "gzip"
    html = plain(page).decode()
    parser = Resources()
    parser.feed(html)
    assert parser.font_preloads == []
    assert any(u.endswith(".css") for u in parser.urls) and any(".js" in u for u in parser.urls)
    rows = [("/login (step 1)", len(html.encode()), wire_bytes(page))]
    queue, seen = list(parser.urls), set()
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        assert not FONT_FILES.search(url), f"a web font: {url}"
        response = _fetch(client, url)
        body = plain(response)
        if response.mimetype in ("text/css", "text/javascript", "image/svg+xml"):
            # Text is worth compressing: it must come gzipped (wizard.web.assets).
            assert response.headers.get("Content-Encoding") == "gzip", url
        if response.mimetype == "text/css":
            css = body.decode()
            assert "@font-face" not in css, f"{url} declares a web font"
            queue += _css_urls(css)
        rows.append((url, len(body), wire_bytes(response)))
    total = sum(wire for _name, _raw, wire in rows)
    rows.append(("total", sum(raw for _name, raw, _wire in rows), total))
    _report("First page (GET /login) and what it loads", rows)
    record_property("first_page_wire_bytes", total)
    assert total <= FIRST_PAGE_BUDGET, f"first page weighs {total:,} bytes over the wire"


def _measure(client: FlaskClient, url: str) -> TestResponse:
    response = client.get(url, headers=HTMX_SWAP)
    assert response.status_code == 200, (url, response.status_code)
    assert "<html" not in plain(response).decode(), f"{url} sent a full page, not the partial"
    return response


def test_each_later_step_partial_is_at_most_4_kb(
    app: Flask, wizard: WizardClient, record_property: pytest.RecordProperty
) -> None:
    measured: list[tuple[str, TestResponse]] = []

    def measure(name: str, client: FlaskClient, url: str) -> TestResponse:
        response = _measure(client, url)
        measured.append((f"{name} {url}", response))
        return response

    # Steps 2-4 on a desktop, the phone's step 5 after the QR scan.
    assert wizard.identify().status_code == 303
    measure("2 個人資料", wizard.client, "/register/personal")
    assert wizard.personal().status_code == 303
    measure("3 裝置", wizard.client, "/register/device")
    assert wizard.device("desktop").status_code == 303
    measure("4 QR code", wizard.client, "/register/qr")
    phone = Phone(app)
    assert phone.open(Desktop(wizard).qr_path()).status_code == 303
    measure("5 開始驗證 (QR path)", phone.client, "/phone/verify")

    # Step 5 on a phone directly; then steps 6 and 7 on another phone that registers.
    other = WizardClient(app.test_client(), app)
    other.complete_steps_before("verify", national_id="F223456713", **demo_personal("F223456713"))
    measure("5 開始驗證 (phone)", other.client, "/register/verify")
    mine = WizardClient(app.test_client(), app)
    mine.complete_steps_before("verify")
    verified = mine.post("/register/verify", {"terms": "yes"}, headers=PHONE_4G)
    assert verified.headers["Location"] == "/register/done"
    measure("6 認證成功", mine.client, "/register/done")
    done = mine.get("/register/done").get_data(as_text=True)
    bound = mine.client.post("/register/bind", data={"csrf_token": csrf_token(done)})
    assert bound.headers["Location"] == "/notice"
    measure("6 使用須知", mine.client, "/notice")
    assert mine.post("/notice", {}).headers["Location"] == "/portal"
    portal = mine.get("/portal").get_data(as_text=True)
    mine.client.post("/logout", data={"csrf_token": csrf_token(portal)})
    login = measure("7 登入 (bound browser)", mine.client, "/login")
    assert "憑證密碼" in plain(login).decode()  # the bound browser's four-field login

    rows = [(name, len(plain(r)), wire_bytes(r)) for name, r in measured]
    _report("Later steps: HTMX partials", rows)
    over = [(name, wire) for name, _raw, wire in rows if wire > PARTIAL_BUDGET]
    for name, _raw, wire in rows:
        record_property(name, wire)
    assert not over, f"partials over {PARTIAL_BUDGET:,} bytes over the wire: {over}"
    for name, response in measured:
        if len(plain(response)) >= 512:
            assert response.headers.get("Content-Encoding") == "gzip", name


def test_no_web_fonts_anywhere_in_static() -> None:
    """The page uses the system's fonts (zh-TW fonts are megabytes): none may creep in."""
    from wizard import ROOT

    static = ROOT / "static"
    assert not [p for p in static.rglob("*") if FONT_FILES.search(p.name)]
    for css in static.rglob("*.css"):
        assert "@font-face" not in css.read_text(encoding="utf-8"), css
