"""What an operator runs the site with: health and readiness endpoints, one JSON log line per
request, and the reverse proxies trusted for the client's address.

The request log is the site's access log (gunicorn's own stays off: it cannot tell which part
of a path is a secret). Each line holds the method, the path (never the query string; the
secret hand-off and "not me" tokens of /h/<token> and /not-me/<token> replaced by their
placeholder), the status, the duration, the request id and the worker's pid: never form data,
cookies or headers. The masking filter of wizard.web.security runs on it too.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import sys
import time

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool
from werkzeug.middleware.proxy_fix import ProxyFix

from wizard.config import REDIS_SCHEMES
from wizard.database import db
from wizard.web.limits import limiter
from wizard.web.outage import RETRY_AFTER
from wizard.web.security import MASK

#: One JSON line per request (see the module's docstring).
REQUEST_LOG = logging.getLogger("wizard.requests")

#: An X-Request-Id from a proxy or client is kept when it looks like an id, else one is made.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,128}", re.ASCII)

#: URL variables that are secrets (bearer tokens): logged as their placeholder.
_SECRET_ARGS = ("token",)

bp = Blueprint("operations", __name__)
limiter.exempt(bp)

_NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive and serving: no database, no Redis."""
    return Response("ok\n", mimetype="text/plain", headers=_NO_STORE)


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready for traffic: the database answers ``SELECT 1`` and, when rate limits are kept in
    Redis, Redis answers PING. 503 names the dependency that failed (never why: the error
    itself goes to the log)."""
    checks = {"database": _check_database()}
    if _redis_uri():
        checks["redis"] = _check_redis()
    failed = [name for name, state in checks.items() if state != "ok"]
    body = jsonify(status="unavailable" if failed else "ready", checks=checks, failed=failed)
    body.headers.update(_NO_STORE)
    if failed:
        body.headers["Retry-After"] = str(RETRY_AFTER)
    return body, 503 if failed else 200


#: A readiness probe gives up on PostgreSQL after this many seconds (libpq's minimum is 2):
#: to connect, and to run its query (a hung server must not hang the probe).
READY_TIMEOUT = 2


def _probe_engine() -> Engine:
    """PostgreSQL: an unpooled engine of its own with short timeouts, so the answer is about
    the database now, not a pooled connection, and comes within seconds. SQLite: the app's."""
    engine = current_app.extensions.get("readiness_engine")
    if engine is None:
        url = make_url(str(current_app.config["DATABASE_URL"]))
        if url.get_backend_name() != "postgresql":
            return db.engine()
        engine = create_engine(
            url,
            poolclass=NullPool,
            hide_parameters=True,
            connect_args={
                "connect_timeout": READY_TIMEOUT,
                "options": f"-c statement_timeout={READY_TIMEOUT * 1000}",
            },
        )
        current_app.extensions["readiness_engine"] = engine
    return engine


def _check_database() -> str:
    try:
        with _probe_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver's error means "not ready"
        current_app.logger.warning("readiness: database unreachable (%s)", type(error).__name__)
        return "failed"
    return "ok"


def _redis_uri() -> str | None:
    uri = str(current_app.config.get("RATELIMIT_STORAGE_URI") or "")
    return uri if uri.startswith(REDIS_SCHEMES) else None


def _check_redis() -> str:
    from limits.storage import storage_from_string

    storage = current_app.extensions.get("readiness_redis")
    if storage is None:
        options = dict(current_app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        storage = storage_from_string(_redis_uri(), **options)
        current_app.extensions["readiness_redis"] = storage
    if storage.check():
        return "ok"
    current_app.logger.warning("readiness: Redis unreachable")
    return "failed"


# --- the request log ---------------------------------------------------------------------


def new_request_id() -> str:
    """128 random bits as eight groups of four hex digits. The groups matter: a plain hex run
    may hold "09" and eight more digits, which the log's personal-data mask would take for a
    mobile number and blank out (about 1 in 500 IDs), leaving a log line no one can find."""
    token = secrets.token_hex(16)
    return "-".join(token[i : i + 4] for i in range(0, 32, 4))


def _start() -> None:
    g.request_started = time.perf_counter()
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if _REQUEST_ID.fullmatch(given) else new_request_id()


def _logged_path() -> str:
    rule, args = request.url_rule, request.view_args or {}
    if rule is not None and any(name in _SECRET_ARGS for name in args):
        return rule.rule  # e.g. "/h/<path:token>"
    return request.path  # the path only: request.path never holds the query string


def _finish(response: Response) -> Response:
    started = g.pop("request_started", None)
    request_id = g.get("request_id") or new_request_id()
    response.headers["X-Request-Id"] = request_id
    duration = (time.perf_counter() - started) * 1000 if started is not None else None
    line = {
        "method": request.method,
        "path": _logged_path(),
        "status": response.status_code,
        "duration_ms": round(duration, 2) if duration is not None else None,
        "request_id": request_id,
        "pid": os.getpid(),
    }
    REQUEST_LOG.info(json.dumps(line, separators=(",", ":")))
    return response


class _JsonLines(logging.StreamHandler):  # type: ignore[type-arg]
    """The request log's own handler when the site runs for real (see log_requests_to_stdout)."""


def log_requests_to_stdout() -> None:
    """Bare JSON lines on stdout, and not again through Flask's or gunicorn's formatted
    handlers. Called by wsgi.py, the entry point of gunicorn and the flask command; tests
    read the records instead (caplog)."""
    if any(isinstance(h, _JsonLines) for h in REQUEST_LOG.handlers):
        return
    handler = _JsonLines(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(MASK)
    REQUEST_LOG.addHandler(handler)
    REQUEST_LOG.propagate = False


#: werkzeug.serving's request line, for example
#: '127.0.0.1 - - [06/Dec/2026 15:00:09] "GET /login HTTP/1.1" 200 -'.
_WERKZEUG_REQUEST_LINE = re.compile(r'^\S+ - - \[[^\]]*\] "')


class DropWerkzeugRequestLine(logging.Filter):
    """The development server's own line per request ('"GET / HTTP/1.1" 200 -'): the JSON line
    above already says it, so ``flask run`` logs each request once (its start-up lines stay)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _WERKZEUG_REQUEST_LINE.match(str(record.msg))


DROP_WERKZEUG_REQUEST_LINE = DropWerkzeugRequestLine()


def init_app(app: Flask) -> None:
    logging.getLogger("werkzeug").addFilter(DROP_WERKZEUG_REQUEST_LINE)
    hops = int(app.config["TRUSTED_PROXIES"])  # type: ignore[call-overload]
    if hops:
        # X-Forwarded-For / -Proto as set by that many proxies: the client's real address for
        # per-IP limits and the kiosk list, and https for secure cookies.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    REQUEST_LOG.setLevel(logging.INFO)
    REQUEST_LOG.addFilter(MASK)
    # First of all: a request refused early (rate limit, CSRF) is timed and logged too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.register_blueprint(bp)
