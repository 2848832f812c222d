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


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint != "static":
        # Pages may hold personal data: never keep them in any cache (also not the bfcache).
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
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
