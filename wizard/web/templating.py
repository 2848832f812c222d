"""Template globals every area uses: the pinned htmx file, the rejection messages; Jinja's
settings. Areas add their own (step numbers: registration.steps; the logged-in header:
accounts.auth)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask import url_for as flask_url_for

from wizard.web.messages import message

#: The vendored htmx (npm package htmx.org, dist/htmx.min.js); tests check its SHA-256.
HTMX_FILE = "vendor/htmx-2.0.11.min.js"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def url_for(endpoint: str, **values: Any) -> str:
    """Flask's ``url_for`` for templates, with the URLs that take no values built once.

    A page links to 10-20 fixed addresses (the header, the footer, the help links, its form's
    action); each ``url_for`` walks the request context, the blueprint, the URL defaults and
    werkzeug's rule builder (about 3 us, an eighth of rendering /login). URLs with values
    (which may come from a person's data) are Flask's, built each time."""
    if values:
        return flask_url_for(endpoint, **values)
    return fixed_url(endpoint)


def fixed_url(endpoint: str, **values: str) -> str:
    """The relative URL of ``endpoint`` with ``values`` that are the site's own constants (a
    static file's hashed name, none at all), built once per path prefix: it depends only on
    them and SCRIPT_NAME, which are the cache's key. ``.``-relative endpoints, an app with URL
    defaults and calls outside a request go to Flask's."""
    app = current_app
    if endpoint[:1] == "." or not has_request_context() or any(app.url_default_functions.values()):
        return flask_url_for(endpoint, **values)
    fixed: dict[tuple[str, str, tuple[tuple[str, str], ...]], str] = app.extensions[FIXED_URLS]
    key = (request.script_root, endpoint, tuple(values.items()))
    url = fixed.get(key)
    if url is None:
        if len(fixed) >= FIXED_URLS_MAX:
            fixed.clear()
        url = fixed[key] = flask_url_for(endpoint, **values)
    return url


#: ``app.extensions`` key of the fixed URLs built so far, and their most (one per endpoint and
#: path prefix; a bound, not a size anyone reaches).
FIXED_URLS = "fixed_urls"
FIXED_URLS_MAX = 4096


def init_app(app: Flask) -> None:
    app.extensions[FIXED_URLS] = {}
    app.jinja_env.globals.update(
        HTMX_FILE=HTMX_FILE,
        message=message,
        url_for=url_for,
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
