"""Logged-in sessions: server-side rows, idle and absolute timeouts, and the query-only scope.

A mobile-phone login gives query functions only: every application (申辦) route is decorated
with :func:`application_route`, which refuses it for these sessions whatever the page shows.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask, flash, g, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from wizard import clock
from wizard.database import db
from wizard.database.models import Account, UserSession
from wizard.web import i18n
from wizard.web.rendering import full_redirect

SESSION_KEY = "login"
#: Idle timeout, the warning shown before it, and the absolute limit.
IDLE = dt.timedelta(minutes=15)
WARN_BEFORE = dt.timedelta(minutes=2)
ABSOLUTE = dt.timedelta(hours=8)


def _hash(reference: str) -> str:
    return hashlib.sha256(reference.encode()).hexdigest()


def sign_in(db: Session, account: Account, binding_id: int | None) -> UserSession:
    """Start a logged-in session. The whole cookie session is renewed (no fixation)."""
    now = clock.now()
    reference = secrets.token_urlsafe(32)
    row = UserSession(
        ref_hash=_hash(reference),
        account_id=account.id,
        binding_id=binding_id,
        created_at=now,
        last_seen_at=now,
    )
    db.add(row)
    db.flush()
    i18n.clear_session()
    session[SESSION_KEY] = reference
    return row


def _row(db: Session) -> UserSession | None:
    reference = session.get(SESSION_KEY)
    if not isinstance(reference, str):
        return None
    # With its account: nearly every logged-in page reads it (one round trip fewer).
    return db.scalars(
        select(UserSession)
        .where(UserSession.ref_hash == _hash(reference))
        .options(joinedload(UserSession.account))
    ).first()


def timed_out(row: UserSession, now: dt.datetime) -> bool:
    return now - row.last_seen_at >= IDLE or now - row.created_at >= ABSOLUTE


def current(db: Session, touch: bool = True) -> UserSession | None:
    """The live logged-in session of this browser, or None. ``touch`` counts as activity."""
    if "user_session" in g:
        return g.user_session
    row = _row(db)
    now = clock.now()
    if row is None or row.ended_at is not None:
        return None
    if timed_out(row, now):
        end(db, row, now)
        db.commit()
        return None
    if touch:
        row.last_seen_at = now
        db.commit()
    g.user_session = row
    return row


def end(db: Session, row: UserSession, now: dt.datetime) -> None:
    db.execute(
        update(UserSession)
        .where(UserSession.id == row.id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_all(db: Session, account_id: int, now: dt.datetime) -> None:
    """Log out everywhere (e.g. after a binding was revoked as "not me")."""
    db.execute(
        update(UserSession)
        .where(UserSession.account_id == account_id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def seconds_left(row: UserSession, now: dt.datetime) -> int:
    idle_end = row.last_seen_at + IDLE
    absolute_end = row.created_at + ABSOLUTE
    return max(0, int((min(idle_end, absolute_end) - now).total_seconds()))


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        from wizard.database import db

        if current(db.session()) is None:
            had = SESSION_KEY in session
            session.pop(SESSION_KEY, None)
            if had:
                flash(_("您已登出，或閒置超過 15 分鐘已自動登出。請重新登入。"), "info")
            else:
                flash(_("請先登入。"), "info")
            return full_redirect(url_for("login.index"))
        return view(*args, **kwargs)

    return wrapped


def application_route(view: Callable[..., Any]) -> Callable[..., Any]:
    """An application (申辦): refused for mobile-phone logins, which are query-only."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        from wizard.web.errors import query_only_refusal

        return query_only_refusal()

    return login_required(wrapped)


def _logged_in() -> dict[str, object]:
    """Header state for logged-in pages: the logout button and the idle-timeout warning."""
    if SESSION_KEY not in session or request.endpoint in (None, "static"):
        return {"user_session": None}
    row = current(db.session(), touch=False)
    if row is None:
        return {"user_session": None}
    return {
        "user_session": row,
        "session_seconds_left": seconds_left(row, clock.now()),
        "session_warn_seconds": int(WARN_BEFORE.total_seconds()),
    }


def init_app(app: Flask) -> None:
    app.context_processor(_logged_in)
