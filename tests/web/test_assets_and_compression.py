"""Hashed static URLs with long-lived caching (wizard.web.assets) and gzip (wizard.web.compression),
including the BREACH rule: pages are compressed only for requests our own pages or the person
made (Sec-Fetch-Site same-origin / none)."""

from __future__ import annotations

import gzip
import hashlib
import re
import time
from pathlib import Path

import pytest
from flask import Flask, Response, send_file, stream_with_context
from flask.testing import FlaskClient

from wizard import ROOT
from wizard.web.assets import IMMUTABLE, Manifest, compact, hashed_name
from wizard.web.templating import HTMX_FILE, HTMX_SHA256

GZIP = {"Accept-Encoding": "gzip, deflate, br"}
OWN_PAGE = {**GZIP, "Sec-Fetch-Site": "same-origin"}
STATIC = ROOT / "static"


def _static_urls(client: FlaskClient) -> list[str]:
    html = client.get("/login").get_data(as_text=True)
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


def _file_of(url: str) -> Path:
    """static/css/site.<hash>.css → static/css/site.css"""
    return STATIC / re.sub(r"\.[0-9a-f]{12}(?=\.[^./]+$)", "", url.removeprefix("/static/"))


def served(file: Path) -> bytes:
    return compact(file.relative_to(STATIC).as_posix(), file.read_bytes())


def test_our_css_and_js_are_served_without_comments_but_with_every_rule() -> None:
    css = (STATIC / "css/site.css").read_bytes()
    small = served(STATIC / "css/site.css")
    assert b"/*" not in small and b"\n" not in small and len(small) < 0.85 * len(css)
    without_comments = re.sub(rb"/\*.*?\*/", b"", css, flags=re.S)
    for mark in (b"{", b"}", b";", b'"', b"@media"):
        assert small.count(mark) == without_comments.count(mark), mark
    js = (STATIC / "js/wizard.js").read_bytes()
    small_js = served(STATIC / "js/wizard.js")
    assert not re.search(rb"(?m)^\s*//", small_js) and len(small_js) < 0.85 * len(js)
    code_lines = [line.strip() for line in js.splitlines() if not line.strip().startswith(b"//")]
    assert small_js.splitlines() == code_lines  # every line of code, whole and in order
    htmx = STATIC / HTMX_FILE
    assert served(htmx) == htmx.read_bytes()  # vendored files as pinned


def test_pages_load_static_files_by_content_hash(client: FlaskClient) -> None:
    urls = _static_urls(client)
    assert len(urls) >= 3  # site.css, htmx, wizard.js
    for url in urls:
        file = _file_of(url)
        digest = hashlib.sha256(served(file)).hexdigest()
        assert url == f"/static/{hashed_name(file.relative_to(STATIC).as_posix(), digest)}"


def test_hashed_static_files_are_immutable_and_keep_the_security_headers(
    client: FlaskClient,
) -> None:
    for url in _static_urls(client):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.data == served(_file_of(url))


def test_the_served_htmx_under_its_hashed_name_is_the_pinned_file(client: FlaskClient) -> None:
    url = f"/static/{hashed_name(HTMX_FILE, HTMX_SHA256)}"
    assert url in _static_urls(client)
    for headers in ({}, GZIP):
        response = client.get(url, headers=headers)
        body = response.data
        if response.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        assert hashlib.sha256(body).hexdigest() == HTMX_SHA256


def test_static_files_are_gzipped_for_clients_that_accept_it(client: FlaskClient) -> None:
    for url in _static_urls(client):
        plain = client.get(url)
        assert "Content-Encoding" not in plain.headers
        assert "Accept-Encoding" in plain.headers["Vary"]
        packed = client.get(url, headers=GZIP)
        assert packed.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data)
        assert gzip.decompress(packed.data) == plain.data
        assert packed.headers["ETag"] != plain.headers["ETag"]  # two representations
        refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
        assert "Content-Encoding" not in refused.headers


def test_plain_and_stale_static_names_revalidate(client: FlaskClient) -> None:
    """Plain names and a previous release's hash still get the file, revalidated each time."""
    for url in ("/static/css/site.css", "/static/css/site.000000000000.css"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.data == served(STATIC / "css/site.css")
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and not again.data


@pytest.mark.parametrize(
    "url",
    ["/static/nope.css", "/static/css/nope.0123456789ab.css", "/static/../wizard/__init__.py"],
)
def test_unknown_static_files_are_a_plain_404(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"


def test_the_manifest_rescans_a_changed_folder(tmp_path: Path) -> None:
    (tmp_path / "css").mkdir()
    css = tmp_path / "css" / "a.css"
    css.write_text("body { color: black; }\n")
    (tmp_path / "LICENSE").write_text("0BSD\n")
    manifest = Manifest(tmp_path)
    first = manifest.url_name("css/a.css")
    assert re.fullmatch(r"css/a\.[0-9a-f]{12}\.css", first)
    assert re.fullmatch(r"LICENSE\.[0-9a-f]{12}", manifest.url_name("LICENSE"))
    assert manifest.find(first) == (manifest.by_path["css/a.css"], True)
    assert not manifest.changed()
    time.sleep(0.01)
    css.write_text("body { color: navy; }\n")
    assert manifest.changed()
    manifest.scan()
    assert manifest.url_name("css/a.css") != first
    assert manifest.find(first) == (manifest.by_path["css/a.css"], False)  # stale: revalidate
    with pytest.raises(LookupError):
        manifest.url_name("css/b.css")


# --- pages: gzip, and the BREACH rule ---------------------------------------------------------


@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_pages_our_own_pages_ask_for_are_gzipped(client: FlaskClient, site: str) -> None:
    response = client.get("/login", headers={**GZIP, "Sec-Fetch-Site": site})
    assert response.headers["Content-Encoding"] == "gzip"
    assert int(response.headers["Content-Length"]) == len(response.data)
    html = gzip.decompress(response.data).decode()
    assert html.lstrip().lower().startswith("<!doctype html>") and "</html>" in html
    vary = response.headers["Vary"]
    assert "Accept-Encoding" in vary and "Sec-Fetch-Site" in vary and "HX-Request" in vary
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("site", ["cross-site", "same-site", None])
def test_pages_other_sites_ask_for_are_never_compressed(client: FlaskClient, site: str) -> None:
    """BREACH: a request another site made the browser send (or an old browser's) must not
    reveal, by its compressed size, how much of a guess matches the CSRF token on the page."""
    headers = dict(GZIP) if site is None else {**GZIP, "Sec-Fetch-Site": site}
    response = client.get("/login", headers=headers)
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert 'name="csrf_token"' in response.get_data(as_text=True)


def test_pages_without_accept_encoding_are_plain(client: FlaskClient) -> None:
    response = client.get("/login", headers={"Sec-Fetch-Site": "same-origin"})
    assert "Content-Encoding" not in response.headers
    assert "<!doctype html>" in response.get_data(as_text=True).lower()


@pytest.fixture
def odd_routes(app: Flask) -> Flask:
    """Responses the compressor must leave alone, next to a normal one."""
    filler = "<p>" + "勞保局 " * 400 + "</p>"

    @app.get("/_test/tiny")
    def tiny() -> str:
        return "<p>ok</p>"

    @app.get("/_test/streamed")
    def streamed() -> Response:
        return Response(stream_with_context(iter([filler, filler])), mimetype="text/html")

    @app.get("/_test/file")
    def file() -> Response:
        return send_file(STATIC / "css" / "site.css", mimetype="text/css")

    @app.get("/_test/json")
    def json() -> dict[str, str]:
        return {"filler": filler}

    @app.get("/_test/png")
    def png() -> Response:
        return Response(b"\x89PNG" + bytes(4000), mimetype="image/png")

    return app


@pytest.mark.parametrize(
    ("url", "compressed"),
    [
        ("/_test/tiny", False),
        ("/_test/streamed", False),
        ("/_test/file", False),
        ("/_test/png", False),
        ("/_test/json", True),
    ],
)
def test_what_is_compressed(odd_routes: Flask, url: str, compressed: bool) -> None:
    client = odd_routes.test_client()
    response = client.get(url, headers=OWN_PAGE)
    assert response.status_code == 200
    assert (response.headers.get("Content-Encoding") == "gzip") is compressed
    if compressed:
        assert gzip.decompress(response.data).startswith(b"{")
    response.close()
