"""The applying browser's registration: found through the session's opaque reference.

The Flask session (a signed cookie) holds only a random reference; the registration's state
and data live in the database, so any worker, after any restart, gives the same answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app, session
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wizard import clock
from wizard.database.models import AuditEvent, Registration
from wizard.registration import flow
from wizard.web import i18n

SESSION_KEY = "registration"

#: Columns that hold personal data: blanked by purge, and by clearing a step.
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "national_id": ("national_id",),
    "carrier": ("carrier_id",),
    "msisdn": ("msisdn",),
    "nhi_card": ("nhi_card",),
    "birth_date": ("birth_date",),
    "name": ("name",),
    "password_hash": ("password_hash",),
    "device": ("device",),
    "handoff": (),
    "verification": (),
}
PERSONAL_COLUMNS = (
    "national_id",
    "carrier_id",
    "msisdn",
    "nhi_card",
    "birth_date",
    "name",
    "password_hash",
    "captcha_answer",
    "user_agent_summary",
)


def _hash(reference: str) -> str:
    return hashlib.sha256(reference.encode()).hexdigest()


def reference_hash() -> str | None:
    """SHA-256 of this browser's registration reference, or None when it has none."""
    reference = session.get(SESSION_KEY)
    return _hash(reference) if isinstance(reference, str) else None


def current(db: Session) -> Registration | None:
    """The live registration of this browser, or None (none started, or expired)."""
    reference = session.get(SESSION_KEY)
    if not isinstance(reference, str):
        return None
    registration = db.scalars(
        select(Registration).where(Registration.ref_hash == _hash(reference))
    ).first()
    if registration is None or registration.purged or registration.expires_at <= clock.now():
        return None
    return registration


def had_expired(db: Session) -> bool:
    """True when this browser's session points at a registration that has timed out."""
    reference = session.get(SESSION_KEY)
    return isinstance(reference, str) and current(db) is None


def start(db: Session) -> Registration:
    """A fresh registration for this browser, replacing any previous reference."""
    reference = secrets.token_urlsafe(32)
    now = clock.now()
    registration = Registration(
        ref_hash=_hash(reference),
        step=flow.Step.IDENTIFY.value,
        created_at=now,
        updated_at=now,
        expires_at=now + current_app.config["REGISTRATION_IDLE"],
    )
    db.add(registration)
    db.flush()
    i18n.clear_session()
    session[SESSION_KEY] = reference
    return registration


def forget() -> None:
    session.pop(SESSION_KEY, None)


def state(registration: Registration) -> flow.State:
    device = flow.Device(registration.device) if registration.device else None
    return flow.State(step=flow.Step(registration.step), device=device)


def apply(registration: Registration, new_state: flow.State) -> None:
    """Store a state returned by flow.advance, clearing what it says later steps owned."""
    for field in new_state.cleared:
        for column in FIELD_COLUMNS.get(field, ()):
            setattr(registration, column, None)
    registration.step = new_state.step.value
    registration.device = new_state.device.value if new_state.device else None
    touch(registration)


def touch(registration: Registration) -> None:
    now = clock.now()
    registration.updated_at = now
    registration.expires_at = now + current_app.config["REGISTRATION_IDLE"]


def audit(db: Session, kind: str, registration: Registration | None, detail: str = "") -> None:
    from wizard.rules.identity import mask_national_id

    subject = None
    if registration is not None and registration.national_id:
        subject = mask_national_id(registration.national_id)
    db.add(
        AuditEvent(
            at=clock.now(),
            kind=kind,
            registration_id=registration.id if registration else None,
            subject=subject,
            detail=detail or None,
        )
    )


def purge(db: Session, now: dt.datetime) -> int:
    """Blank the personal data of registrations idle past their expiry. Returns how many."""
    result = db.execute(
        update(Registration)
        .where(
            Registration.expires_at <= now,
            Registration.purged.is_(False),
            Registration.step != flow.Step.VERIFIED.value,
        )
        .values(purged=True, **dict.fromkeys(PERSONAL_COLUMNS, None))
    )
    return result.rowcount or 0
