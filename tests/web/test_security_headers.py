"""The security headers (wizard/web/security.py), built once: what a view set itself is kept,
except the cache headers of a page, which are always no-store; each header appears once."""

from __future__ import annotations

from collections import Counter

from flask import Flask, Response

from wizard.web import security


def _answered(app: Flask, path: str, response: Response, https: bool = False) -> Response:
    base = "https://localhost" if https else "http://localhost"
    with app.test_request_context(path, base_url=base):
        return security._headers(response)


def test_every_header_once_on_a_page(app: Flask) -> None:
    headers = _answered(app, "/login", Response("x")).headers
    for name, value in security.ALWAYS:
        assert headers.getlist(name) == [value]
    assert headers.getlist("Cache-Control") == ["no-store"]
    assert headers.getlist("Pragma") == ["no-cache"]
    assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS would be ignored
    counts = Counter(name.lower() for name in headers.keys())
    assert max(counts.values()) == 1, counts


def test_hsts_over_https_once(app: Flask) -> None:
    response = Response("x")
    response.headers["Strict-Transport-Security"] = "max-age=60"
    headers = _answered(app, "/login", response, https=True).headers
    assert headers.getlist("Strict-Transport-Security") == ["max-age=60"]  # the view's own
    headers = _answered(app, "/login", Response("x"), https=True).headers
    assert headers.getlist("Strict-Transport-Security") == [security.HSTS[1]]


def test_a_views_own_header_is_kept_but_a_page_is_never_cached(app: Flask) -> None:
    response = Response("x")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["cache-control"] = "max-age=600"  # any spelling
    response.headers["Pragma"] = "cache"
    headers = _answered(app, "/login", response).headers
    assert headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert headers.getlist("Cache-Control") == ["no-store"]
    assert headers.getlist("Pragma") == ["no-cache"]


def test_static_files_keep_their_cache_headers(app: Flask) -> None:
    response = Response("body{}")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    headers = _answered(app, "/static/css/site.css", response).headers
    assert headers.getlist("Cache-Control") == ["public, max-age=31536000, immutable"]
    assert "Pragma" not in headers
    assert headers["Content-Security-Policy"] == security.CSP
