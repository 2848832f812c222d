"""Template globals: the pinned htmx file, step numbers, the language."""

from __future__ import annotations

from flask import Flask, request, session

from wizard import auth, clock, db, flow
from wizard.messages import message

#: The vendored htmx (npm package htmx.org, dist/htmx.min.js); tests check its SHA-256.
HTMX_FILE = "vendor/htmx-2.0.11.min.js"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def _logged_in() -> dict[str, object]:
    """Header state for logged-in pages: the logout button and the idle-timeout warning."""
    if auth.SESSION_KEY not in session or request.endpoint in (None, "static"):
        return {"user_session": None}
    row = auth.current(db.session(), touch=False)
    if row is None:
        return {"user_session": None}
    return {
        "user_session": row,
        "session_seconds_left": auth.seconds_left(row, clock.now()),
        "session_warn_seconds": int(auth.WARN_BEFORE.total_seconds()),
    }


def init_app(app: Flask) -> None:
    app.context_processor(_logged_in)
    app.jinja_env.globals.update(
        HTMX_FILE=HTMX_FILE,
        message=message,
        STEP_NUMBER={step.value: n for step, n in flow.STEP_NUMBER.items()},
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
