"""One round trip per step on slow networks: an htmx POST answered with a redirect gets the
page it leads to at once.

Every step ends the same way: the form is posted, the view answers 303 to the next step, and
the browser's XHR follows with a GET. On a phone on 3G each of those is a 2-second round trip
(bench/throttled.py). This WSGI middleware does the browser's part on the server: for an htmx
POST (``HX-Request: true``) answered 303 with a ``Location`` on this site, it makes that GET
itself — same headers, the cookies the POST just set — and answers with its response (which
carries ``HX-Push-Url``, so the address bar shows the step's own URL, as after a redirect).

Nothing else changes: the POST and the GET are two requests to the app (two log lines, each
rate-limited and guarded as before), the POST's ``Set-Cookie`` headers go first and the GET's
after them (the later one wins, as in the browser), and without htmx (no JavaScript) the
redirect is answered as it was, so the same URLs work as full pages.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

Headers = list[tuple[str, str]]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

#: Request headers that belong to the POST's body, not to the GET that follows it.
_BODY_KEYS = ("CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH")


def _header(headers: Headers, name: str) -> str | None:
    name = name.lower()
    return next((value for key, value in headers if key.lower() == name), None)


def _cookie_updates(headers: Headers, path: str) -> dict[str, str | None]:
    """name → value (None: deleted) for each ``Set-Cookie`` of ``headers`` sent to ``path``."""
    updates: dict[str, str | None] = {}
    for key, value in headers:
        if key.lower() != "set-cookie":
            continue
        pair, *attributes = value.split(";")
        name, _, cookie_value = pair.strip().partition("=")
        options = {
            option.strip().partition("=")[0].lower(): option.strip().partition("=")[2]
            for option in attributes
        }
        if not path.startswith(options.get("path") or "/"):
            continue
        max_age = options.get("max-age", "")
        deleted = max_age.lstrip("-").isdigit() and int(max_age) <= 0
        deleted = deleted or "1970" in options.get("expires", "")
        updates[name] = None if deleted else cookie_value
    return updates


def _with_cookies(header: str, updates: dict[str, str | None]) -> str:
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            cookies[name] = value
    for name, value in updates.items():
        if value is None:
            cookies.pop(name, None)
        else:
            cookies[name] = value
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


class FollowHtmxRedirects:
    """Wraps the app's WSGI callable (see the module docstring)."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or environ.get("HTTP_HX_REQUEST") != "true"
            or environ.get("HTTP_HX_HISTORY_RESTORE_REQUEST") == "true"
        ):
            return self.app(environ, start_response)
        first: dict[str, Any] = {}

        def capture(status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes], None]:
            first["status"], first["headers"] = status, headers
            return lambda _data: None

        body = self.app(environ, capture)
        status, headers = first["status"], first["headers"]
        target = self._target(status, headers, environ)
        if target is None:
            start_response(status, headers)
            return body
        if hasattr(body, "close"):
            body.close()
        path, query, raw = target
        follow = {key: value for key, value in environ.items() if key not in _BODY_KEYS}
        follow.update(
            REQUEST_METHOD="GET",
            PATH_INFO=path,
            QUERY_STRING=query,
            RAW_URI=raw,
            REQUEST_URI=raw,
        )
        follow["wsgi.input"] = io.BytesIO(b"")
        follow.pop("werkzeug.request", None)
        # The cookies' Path is the URL's, SCRIPT_NAME included.
        url_path = environ.get("SCRIPT_NAME", "") + path
        cookies = _with_cookies(environ.get("HTTP_COOKIE", ""), _cookie_updates(headers, url_path))
        if cookies:
            follow["HTTP_COOKIE"] = cookies
        else:
            follow.pop("HTTP_COOKIE", None)
        set_cookies = [(key, value) for key, value in headers if key.lower() == "set-cookie"]

        def start_second(status: str, second: Headers, exc_info: Any = None) -> Any:
            return start_response(status, set_cookies + second, exc_info)

        return self.app(follow, start_second)

    @staticmethod
    def _target(
        status: str, headers: Headers, environ: dict[str, Any]
    ) -> tuple[str, str, str] | None:
        """(PATH_INFO, QUERY_STRING, the raw request target) when the answer is a 303 to a
        page of this site, else None."""
        if not status.startswith("303"):
            return None
        location = _header(headers, "Location")
        if not location:
            return None
        parts = urlsplit(location)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            return None  # another site, or a form the browser must resolve itself
        script = environ.get("SCRIPT_NAME", "")
        if script and not parts.path.startswith(script + "/"):
            return None
        # PATH_INFO is decoded (PEP 3333: bytes as latin-1), Location is not.
        path = unquote(parts.path[len(script) :], encoding="latin-1")
        raw = parts.path + ("?" + parts.query if parts.query else "")
        return path, parts.query, raw
