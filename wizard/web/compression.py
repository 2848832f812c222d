"""gzip for text responses (HTML, CSS, JavaScript, SVG, JSON, CSV), for phones on slow networks.

Flask and Werkzeug never compress, and there is no proxy in front of ``make serve`` that would:
an ``after_request`` hook compresses a dynamic response when the client accepts gzip, the body
is at least ``MIN_SIZE`` bytes, and it is an ordinary buffered body (never a streamed or
``direct_passthrough`` one such as ``send_file``'s, never one already encoded). Static files
are not handled here: ``wizard.web.assets`` keeps each one gzipped once, in memory, at start.

BREACH (compression + a secret in the body + attacker-controlled text reflected in the same
body + an observer of response sizes). Our pages hold secrets: the CSRF token, which Flask-WTF
does *not* mask per response (``generate_csrf`` signs the session's raw token with
itsdangerous: the payload part is the same for the whole session, only the timestamp and
signature change, once a second), the QR hand-off link on step 4 (a bearer token), and
personal data. And they reflect input: typed values shown again with their errors, the
portal's filters. So a page is compressed only when the browser says, in the Fetch Metadata
header ``Sec-Fetch-Site``, that the request was made by one of our own pages (``same-origin``)
or by the person themself (``none``: typed address, bookmark, reload). A request another site
makes the victim's browser send (``cross-site``, and ``same-site`` from a sibling host) is
answered uncompressed, so the attacker can no longer inject guesses and read the secret from
the compressed size; a request without the header (an old browser, a script) is also
answered uncompressed. Browsers set the header themselves and a page cannot forge it
(Chromium 76+, Firefox 90+, Safari 16.4+). This is the BREACH paper's "separate secrets from
user input" mitigation turned around: we separate attacker-chosen requests from compression.
Defence in depth beside it: the session cookie is ``SameSite=Lax`` (no cookies on the
cross-site sub-requests BREACH needs in volume), the pages are rate limited, and every secret
above is per session and short-lived. Responses that vary this way say so:
``Vary: Accept-Encoding, Sec-Fetch-Site`` (the pages are ``no-store`` anyway).
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

#: What is worth compressing (text); images other than SVG, PDFs and fonts are compressed
#: already or not at all.
COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "image/svg+xml",
        "application/json",
        "text/csv",
    }
)

#: Below this a body fits in one packet anyway, and gzip's 20-byte frame may make it larger.
MIN_SIZE = 512

#: zlib's default: most of level 9's gain at a fraction of its time (pages are made per request).
LEVEL = 6

#: Fetch Metadata values of requests no other site can start (see the module docstring).
_OWN_REQUESTS = ("same-origin", "none")


def accepts_gzip() -> bool:
    """The client accepts gzip (``Accept-Encoding: gzip``, or ``*``, with q > 0)."""
    return request.accept_encodings["gzip"] > 0


def gzip_bytes(data: bytes, level: int = LEVEL) -> bytes:
    """gzip with a zero timestamp: the same input gives the same bytes (stable sizes, ETags)."""
    return gzip.compress(data, compresslevel=level, mtime=0)


def _compressible(response: Response) -> bool:
    return (
        request.endpoint != "static"  # wizard.web.assets serves those, compressed once
        and response.mimetype in COMPRESSIBLE
        and response.status_code >= 200
        and response.status_code not in (204, 304)
        and response.is_sequence
        and not response.direct_passthrough
        and "Content-Encoding" not in response.headers
    )


def compress(response: Response) -> Response:
    """``after_request``: gzip the body when it is worth it and safe (module docstring)."""
    if not _compressible(response):
        return response
    body = response.get_data()
    if len(body) < MIN_SIZE:
        return response
    response.vary.add("Accept-Encoding")
    response.vary.add("Sec-Fetch-Site")
    if not accepts_gzip() or request.headers.get("Sec-Fetch-Site") not in _OWN_REQUESTS:
        return response
    compressed = gzip_bytes(body)
    if len(compressed) >= len(body):
        return response
    response.set_data(compressed)
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag:
        # Another representation: another entity tag.
        response.set_etag(f"{etag}-gzip", weak)
    return response


def init_app(app: Flask) -> None:
    app.after_request(compress)
