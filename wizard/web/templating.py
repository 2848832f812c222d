"""Template globals every area uses: the pinned htmx file, the rejection messages; Jinja's
settings. Areas add their own (step numbers: registration.steps; the logged-in header:
accounts.auth)."""

from __future__ import annotations

from flask import Flask

from wizard.web.messages import message

#: The vendored htmx (npm package htmx.org, dist/htmx.min.js); tests check its SHA-256.
HTMX_FILE = "vendor/htmx-2.0.11.min.js"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        HTMX_FILE=HTMX_FILE,
        message=message,
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
