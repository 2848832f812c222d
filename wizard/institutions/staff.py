"""Institutions' staff: who may log in, with what, and for how long; and API keys.

A staff member logs in with 帳號, 密碼 (argon2id, the citizens' hasher) and 動態密碼, a TOTP
code (RFC 6238, 30 s, 6 digits, pyotp) from an authenticator app enrolled by QR. A code is
accepted once only (``totp_last_step``) and one step either side of now (clock drift).
Five failures lock the member for 15 minutes, doubling, as for citizens. The TOTP secret is
stored encrypted (Fernet, a key derived from ``SECRET_KEY`` by HKDF): a copy of the database
alone does not give the second factor. Sessions are server-side rows (idle 15 min, at most
8 h), in the Flask session under their own key, beside (never instead of) a citizen's.

A disabled institution's staff and keys are refused at every request, not only at login.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyotp
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, flash, g, redirect, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wizard import clock
from wizard.accounts import accounts, auth
from wizard.database import db
from wizard.database.models import ApiKey, Institution, StaffMember, StaffSession

SESSION_KEY = "staff"
#: As for citizens: the same idle and absolute limits, the same lock after the same failures.
IDLE, ABSOLUTE = auth.IDLE, auth.ABSOLUTE
MAX_FAILURES = accounts.MAX_FAILURES
lock_length = accounts.lock_length
API_KEY_PREFIX = "bli_k_"
ISSUER = "BLI 投保查驗"


# --- the TOTP secret at rest ----------------------------------------------------------------


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"staff-totp").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, totp_secret: str) -> str:
    return _fernet(secret_key).encrypt(totp_secret.encode()).decode()


def unseal(secret_key: str, sealed: str) -> str:
    return _fernet(secret_key).decrypt(sealed.encode()).decode()


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 160 bits


def provisioning_uri(member: StaffMember, totp_secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the enrolment QR."""
    return pyotp.TOTP(totp_secret).provisioning_uri(name=member.username, issuer_name=ISSUER)


def totp_step(totp_secret: str, otp: str, now: dt.datetime, last_step: int) -> int | None:
    """The time step ``otp`` belongs to (now or one either side), if after ``last_step``."""
    totp = pyotp.TOTP(totp_secret)
    otp = "".join(ch for ch in otp if ch.isdigit())
    if len(otp) != 6:
        return None
    step_now = int(now.timestamp()) // totp.interval
    for step in (step_now, step_now - 1, step_now + 1):
        if step > last_step and secrets.compare_digest(totp.generate_otp(step), otp):
            return step
    return None


# --- institutions --------------------------------------------------------------------------


def allowed_purposes(institution: Institution) -> list[str]:
    return list(json.loads(institution.purposes or "[]"))


def by_code(database: Session, code: str) -> Institution | None:
    return database.scalars(select(Institution).where(Institution.code == code)).first()


# --- login ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    member: StaffMember | None
    #: "ok", "wrong" (any of the three), "locked", "disabled", "demo".
    outcome: str
    locked_until: dt.datetime | None = None
    left: int = 0


def authenticate(
    database: Session,
    hasher: Any,
    secret_key: str,
    username: str,
    password: str,
    otp: str,
    now: dt.datetime,
    production: bool,
) -> LoginResult:
    """Check the three fields. An unknown 帳號 costs a hash too (no timing oracle) and says
    the same as a wrong password."""
    member = database.scalars(
        select(StaffMember).where(StaffMember.username == username.strip().lower())
    ).first()
    if member is None:
        hasher.verify(_DUMMY_HASH.get(hasher), password)
        return LoginResult(None, "wrong")
    if member.locked_until is not None and member.locked_until > now:
        return LoginResult(member, "locked", member.locked_until)
    password_ok = hasher.verify(member.password_hash, password)
    step = totp_step(unseal(secret_key, member.totp_secret), otp, now, member.totp_last_step)
    if not (password_ok and step is not None):
        member.failed_logins += 1
        if member.failed_logins >= MAX_FAILURES:
            member.lock_count += 1
            member.failed_logins = 0
            member.locked_until = now + lock_length(member.lock_count)
            return LoginResult(member, "locked", member.locked_until)
        return LoginResult(member, "wrong", left=MAX_FAILURES - member.failed_logins)
    if member.disabled_at is not None or member.institution.disabled_at is not None:
        return LoginResult(member, "disabled")
    if member.demo and production:
        return LoginResult(member, "demo")
    # Compare-and-set: the same code posted twice at once is accepted once.
    taken = database.execute(
        update(StaffMember)
        .where(StaffMember.id == member.id, StaffMember.totp_last_step < step)
        .values(totp_last_step=step, failed_logins=0, lock_count=0, locked_until=None)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]
        return LoginResult(member, "wrong", left=MAX_FAILURES - member.failed_logins)
    if hasher.needs_rehash(member.password_hash):
        member.password_hash = hasher.hash(password)
    return LoginResult(member, "ok")


class _DummyHashes:
    """One hash per hasher's settings, made on first use, for unknown 帳號."""

    def __init__(self) -> None:
        self._by_hasher: dict[int, str] = {}

    def get(self, hasher: Any) -> str:
        key = id(hasher)
        if key not in self._by_hasher:
            self._by_hasher[key] = hasher.hash(secrets.token_urlsafe(16))
        return self._by_hasher[key]


_DUMMY_HASH = _DummyHashes()


# --- sessions -------------------------------------------------------------------------------


def _hash(reference: str) -> str:
    return hashlib.sha256(reference.encode()).hexdigest()


def sign_in(database: Session, member: StaffMember, now: dt.datetime) -> None:
    reference = secrets.token_urlsafe(32)
    database.add(
        StaffSession(
            ref_hash=_hash(reference), staff_id=member.id, created_at=now, last_seen_at=now
        )
    )
    session.pop(SESSION_KEY, None)
    session[SESSION_KEY] = reference


def current(database: Session) -> StaffSession | None:
    """This browser's live staff session (touched), or None; ended when its member or
    institution has been disabled since."""
    if "staff_session" in g:
        return g.staff_session
    reference = session.get(SESSION_KEY)
    if not isinstance(reference, str):
        return None
    row = database.scalars(
        select(StaffSession).where(StaffSession.ref_hash == _hash(reference))
    ).first()
    now = clock.now()
    if row is None or row.ended_at is not None:
        return None
    member = row.staff
    disabled = member.disabled_at is not None or member.institution.disabled_at is not None
    if disabled or now - row.last_seen_at >= IDLE or now - row.created_at >= ABSOLUTE:
        g.staff_session_ended = "disabled" if disabled else "timeout"
        row.ended_at = now
        database.commit()
        return None
    row.last_seen_at = now
    database.commit()
    g.staff_session = row
    return row


def sign_out(database: Session, now: dt.datetime) -> None:
    row = current(database)
    if row is not None:
        row.ended_at = now
    session.pop(SESSION_KEY, None)


def staff_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view runs only for a live staff session (``g.staff_session``)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current(db.session()) is None:
            had = SESSION_KEY in session
            session.pop(SESSION_KEY, None)
            if g.get("staff_session_ended") == "disabled":
                flash(_("這個帳號或所屬單位已停用，無法登入。請洽勞保局。"), "warning")
            elif had:
                flash(_("您已登出，或閒置超過 15 分鐘已自動登出。請重新登入。"), "info")
            else:
                flash(_("請先登入。"), "info")
            return redirect(url_for("institution.login"), code=303)
        return view(*args, **kwargs)

    return wrapped


# --- API keys -------------------------------------------------------------------------------


def new_api_key(database: Session, institution: Institution, label: str, now: dt.datetime) -> str:
    """A new key (256 random bits), returned once; only its SHA-256 is kept."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    database.add(
        ApiKey(
            institution_id=institution.id,
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            prefix=key[:12],
            label=label,
            created_at=now,
        )
    )
    return key


def institution_for_key(database: Session, key: str) -> ApiKey | None:
    """The key row for ``key`` unless unknown or revoked, or None (a disabled institution's
    key is refused by the check itself: 403 "disabled")."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    row = database.scalars(
        select(ApiKey).where(ApiKey.key_hash == hashlib.sha256(key.encode()).hexdigest())
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    return row


def secret_key() -> str:
    return str(current_app.config["SECRET_KEY"])
