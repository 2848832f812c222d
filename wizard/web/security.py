"""Security headers on every response, and personal data kept out of the logs."""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, request

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)

#: National IDs (and resident-certificate numbers) and mobile numbers, wherever they appear.
_PERSONAL = re.compile(
    r"\b[A-Za-z][1289A-Da-d]\d{8}\b|(?:\+?886[- ]?|0)9\d{2}[- ]?\d{3}[- ]?\d{3}", re.ASCII
)


#: The Referer goes to this site only, never to another (a hand-off token or a records filter
#: in a URL must not leak). Not "no-referrer": with it browsers send ``Origin: null`` on every
#: form POST, and the Origin check (wizard/web/origin.py) could not tell this site from a
#: sandboxed attacker's frame.
REFERRER_POLICY = "same-origin"


def mask_text(text: str) -> str:
    return _PERSONAL.sub(lambda m: m.group(0)[:2] + "*" * (len(m.group(0)) - 2), text)


class MaskPersonalData(logging.Filter):
    """Masks IDs and numbers in every log record, whoever logged them (PDPA)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


#: What every response carries unless its view set the header itself. Built once: werkzeug's
#: ``setdefault`` scans the header list once per name (15 us a response, in-process).
ALWAYS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", REFERRER_POLICY),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
_ALWAYS_KEYS = tuple((name.lower(), (name, value)) for name, value in ALWAYS)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
#: Pages may hold personal data: never kept in any cache (also not the bfcache). Replaces
#: whatever the view said; static files keep their own (a year: wizard/web/assets.py).
NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


def _headers(response: Response) -> Response:
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    missing = [pair for key, pair in _ALWAYS_KEYS if key not in present]
    if request.is_secure and "strict-transport-security" not in present:
        missing.append(HSTS)
    if request.endpoint != "static":
        if "cache-control" in present or "pragma" in present:
            headers.remove("Cache-Control")
            headers.remove("Pragma")
        missing.extend(NO_STORE)
    headers.extend(missing)
    return response


#: One filter for every logger and app (a new one per app would pile up on the root logger).
MASK = MaskPersonalData()


def init_app(app: Flask) -> None:
    app.after_request(_headers)
    mask = MASK
    for name in ("", "werkzeug", "gunicorn.access", "gunicorn.error", app.logger.name):
        logging.getLogger(name).addFilter(mask)
    for handler in logging.getLogger().handlers:
        handler.addFilter(mask)
