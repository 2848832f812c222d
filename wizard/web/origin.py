"""Where a state-changing request comes from: refused unless from this site.

Flask-WTF's token stays on every form. Its HTTPS-only Referer check (``WTF_CSRF_SSL_STRICT``)
is off: it refused every POST over HTTPS while the site sent ``Referrer-Policy: no-referrer``
(no Referer at all), and a Referer is still stripped by privacy tools and proxies. The site now
sends ``same-origin`` (wizard/web/security.py: nothing leaks to other sites, and browsers send
a real ``Origin`` on this site's own form posts; with no-referrer they send ``Origin: null``).
In the Referer check's place, on every POST/PUT/PATCH/DELETE, the two headers browsers send:

* ``Sec-Fetch-Site`` (Fetch Metadata): anything but ``same-origin`` or ``none`` (the person's
  own action, e.g. a bookmark) is refused: ``cross-site`` and ``same-site`` (a sibling host);
* ``Origin``: when present it must be this site's own origin (scheme and host as the site
  sees them, ``TRUSTED_PROXIES`` honoured); ``null`` (a sandboxed frame, a data: page) is refused.

A request with neither (an old browser, a script without cookies) still needs the token.
The API (``/api/v1``, a Bearer key, no cookies) is exempt; refusals are the friendly 400 of
an expired page (``errors``), and are logged without personal data.
"""

from __future__ import annotations

import logging

from flask import Flask, request
from flask_wtf.csrf import CSRFError

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})
#: Blueprints that authenticate without cookies (a cross-site request carries no credential).
EXEMPT_BLUEPRINTS = frozenset({"api"})

log = logging.getLogger(__name__)


def refusal() -> str | None:
    """Why this request is refused as cross-site, or None."""
    if request.method not in UNSAFE or request.blueprint in EXEMPT_BLUEPRINTS:
        return None
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site.lower() not in ALLOWED_FETCH_SITES:
        return f"Sec-Fetch-Site: {fetch_site[:20]}"
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") != request.host_url.rstrip("/"):
        return "Origin: another site" if origin != "null" else "Origin: null"
    return None


def _check() -> None:
    why = refusal()
    if why is not None:
        log.warning("cross-site %s %s refused (%s)", request.method, request.path, why)
        raise CSRFError(why)


def init_app(app: Flask) -> None:
    app.before_request(_check)
