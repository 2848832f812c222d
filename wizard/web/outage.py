"""The database cannot be reached (stopped, restarting, unreachable, out of connections): a
clear 503 "please try again" page instead of the generic 500, and nothing half-written.

Every step commits its changes in one transaction, so a request that fails on the database
has changed nothing: the person's registration is as it was after their last completed step,
and the page says so. For a form that was being sent, the page offers 再試一次, which posts
what was typed again (never a password or a CAPTCHA answer: those are typed again, as
everywhere). The waiting desktop's status poll gets 204 ("nothing new"), so its page keeps
polling and carries on once the database is back. No worker restart is needed for that: the
engine's ping of idle pooled connections (wizard/database/db.py) replaces the dead ones.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from wizard.web.rendering import is_htmx, render

#: Seconds a client is asked to wait (Retry-After) before trying again.
RETRY_AFTER = 10

#: What a driver raises when the server is down, restarting, unreachable or drops the
#: connection (OperationalError, InterfaceError), or when the pool has no connection to give.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeout)

#: Posted fields never sent back to the browser (typed again by the person, as on any page).
_NEVER_ECHOED = frozenset({"csrf_token", "password", "password_confirm", "captcha"})

#: The waiting desktop's poll (registration/views/verify.py): answered "nothing new" meanwhile.
_POLL_ENDPOINT = "verify.qr_status"


def _discard_session() -> None:
    """Give the request's broken session back (its connection is dead or never came)."""
    db_session = g.pop("db_session", None)
    if db_session is None:
        return
    try:
        db_session.close()
    except Exception:  # noqa: S110 - closing a dead connection may fail too; nothing to keep
        pass


def _resent_fields() -> tuple[list[tuple[str, str]], bool]:
    """The posted fields the 再試一次 form sends again, and whether any was left out."""
    fields = [
        (name, value)
        for name, values in request.form.lists()
        for value in values
        if name not in _NEVER_ECHOED
    ]
    dropped = any(name in _NEVER_ECHOED - {"csrf_token"} for name in request.form)
    return fields, dropped


def database_unavailable(error: Exception) -> Response:
    """503 with Retry-After: the database did not answer this request."""
    _discard_session()
    # The header's logged-in state is read from the database (wizard.web.templating): show the
    # page without it rather than fail again while rendering it.
    g.user_session = None
    # Only the class: a driver's message may quote the statement or the server's address.
    cause = getattr(error, "orig", None) or error
    current_app.logger.warning(
        "database unavailable (%s) during %s %s: answered 503",
        type(cause).__name__,
        request.method,
        request.url_rule.rule if request.url_rule is not None else "-",
    )
    if request.endpoint == _POLL_ENDPOINT and is_htmx():
        return Response(status=204, headers={"Retry-After": str(RETRY_AFTER)})
    posted = request.method == "POST"
    fields, dropped = _resent_fields() if posted else ([], False)
    response = render(
        "web/outage.html",
        status=503,
        title=_("系統暫時忙碌，請稍後再試"),
        text=_("系統暫時無法存取資料，這次的操作沒有完成；您先前完成的步驟都還保留著。"),
        hint=_("請稍候約 10 秒再試一次。"),
        posted=posted,
        fields=fields,
        dropped=dropped,
        action=request.full_path.rstrip("?"),
        errors=True,
    )
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def init_app(app: Flask) -> None:
    for error in OUTAGE_ERRORS:
        app.register_error_handler(error, database_unavailable)
