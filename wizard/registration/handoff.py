"""Step 4's hand-off: the QR code a phone scans to verify a desktop's registration.

The token in the QR code is ``<handoff id>.<random>`` signed with itsdangerous: the random part
has 128 bits and only its SHA-256 is stored, so a copy of the database cannot make a working
link. The server's clock, through the row's ``expires_at``, decides expiry (5 minutes).

Every status change is an atomic compare-and-set in the database (:func:`move`): an UPDATE that
only matches the status the caller expects. Two phones, a double tap on 開始驗證 or a
regeneration racing a verification therefore end with exactly one winner, on any worker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import segno
from itsdangerous import BadSignature, Signer
from sqlalchemy import Connection, Select, bindparam, func, select, update
from sqlalchemy.orm import Session

from wizard.database.models import Handoff, Registration

LIFETIME = dt.timedelta(minutes=5)
#: Bytes of randomness in a token (128 bits, the floor NIST sets for such secrets).
TOKEN_BYTES = 16


class Status(StrEnum):
    WAITING = "waiting"  # shown on the desktop, not yet opened
    OPENED = "opened"  # a phone opened the link and holds it
    CHECKING = "checking"  # the phone pressed 開始驗證: the carrier is being asked
    VERIFIED = "verified"
    FAILED = "failed"  # the carrier said no (see Handoff.outcome)
    CANCELLED = "cancelled"  # the phone said 這不是我申請的
    EXPIRED = "expired"
    REPLACED = "replaced"  # 重新產生QRCode made a newer one


#: Statuses in which the QR code can still be used.
LIVE = (Status.WAITING, Status.OPENED)
FINISHED = (Status.VERIFIED, Status.FAILED, Status.CANCELLED, Status.EXPIRED, Status.REPLACED)


class Misuse(Exception):
    """A link that cannot be used: ``kind`` says why, for its own clear page."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _signer(secret_key: str) -> Signer:
    return Signer(secret_key, salt="handoff-token")


def match_numbers() -> tuple[int, str]:
    """Number matching: the two-digit number the desktop shows, and the three the phone offers
    (it and two other distinct two-digit numbers, sorted: each of three independent random
    numbers is equally likely to be the smallest, middle or largest, so the order tells
    nothing). Someone relaying a QR code to a victim's phone is not seen by that phone: the
    victim picks at random and is right one time in three; a wrong pick ends the hand-off and
    counts as a failed check (five stop the registration)."""
    right = 10 + secrets.randbelow(90)
    choices = {right}
    while len(choices) < 3:
        choices.add(10 + secrets.randbelow(90))
    return right, ",".join(str(number) for number in sorted(choices))


def choices_of(handoff: Handoff) -> list[str]:
    """The three numbers the phone offers, as the form sends them back."""
    return handoff.match_choices.split(",") if handoff.match_choices else []


def number_matches(handoff: Handoff, picked: str) -> bool:
    """Whether the phone's pick is the number the desktop shows (compared in constant time)."""
    if handoff.match_number is None:
        return False
    return hmac.compare_digest(picked.encode(), str(handoff.match_number).encode())


def issue(
    db: Session, registration: Registration, now: dt.datetime, secret_key: str
) -> tuple[Handoff, str]:
    """A new hand-off for ``registration`` and its token (shown once, in the QR code)."""
    random_part = secrets.token_urlsafe(TOKEN_BYTES)
    number, choices = match_numbers()
    handoff = Handoff(
        registration_id=registration.id,
        token_hash=_hash(random_part),
        status=Status.WAITING.value,
        created_at=now,
        expires_at=now + LIFETIME,
        match_number=number,
        match_choices=choices,
    )
    db.add(handoff)
    db.flush()
    token = _signer(secret_key).sign(f"{handoff.id}.{random_part}").decode()
    return handoff, token


def find(db: Session, token: str, secret_key: str) -> Handoff:
    """The hand-off a token names, or :class:`Misuse` ("invalid": tampered, truncated or
    unknown; the status-specific kinds are left to :func:`check_usable`)."""
    try:
        payload = _signer(secret_key).unsign(token.encode()).decode()
        handoff_id, random_part = payload.split(".", 1)
        key = int(handoff_id)
    except (BadSignature, ValueError, UnicodeError) as exc:
        raise Misuse("invalid") from exc
    handoff = db.get(Handoff, key)
    if handoff is None or not hmac.compare_digest(handoff.token_hash, _hash(random_part)):
        raise Misuse("invalid")
    return handoff


def effective_status(handoff: Handoff, now: dt.datetime) -> Status:
    """The status, counting a live hand-off past its expiry as expired."""
    status = Status(handoff.status)
    if status in LIVE and handoff.expires_at <= now:
        return Status.EXPIRED
    return status


def move(
    db: Session,
    handoff_id: int,
    expected: tuple[Status, ...],
    to: Status,
    now: dt.datetime,
    **values: object,
) -> bool:
    """Compare-and-set: move to ``to`` only from one of ``expected`` (and, for a live
    hand-off, only before expiry). True when this caller won."""
    condition = [Handoff.id == handoff_id, Handoff.status.in_([s.value for s in expected])]
    if set(expected) & set(LIVE) and to not in (Status.EXPIRED, Status.REPLACED, Status.CANCELLED):
        condition.append(Handoff.expires_at > now)
    if to in FINISHED:
        values.setdefault("finished_at", now)
    result = db.execute(update(Handoff).where(*condition).values(status=to.value, **values))
    return (result.rowcount or 0) == 1


def latest_for(db: Session, registration_id: int) -> Handoff | None:
    return db.scalars(
        select(Handoff)
        .where(Handoff.registration_id == registration_id)
        .order_by(Handoff.id.desc())
        .limit(1)
    ).first()


@dataclass(frozen=True)
class PollView:
    """What the desktop's status poll needs, read in one statement."""

    step: str
    live: bool  # the registration exists, is not purged and has not expired
    verify_failures: int
    status: str | None  # the latest hand-off's stored status (None: no hand-off yet)
    expires_at: dt.datetime | None
    outcome: str | None

    def effective_status(self, now: dt.datetime) -> Status:
        if self.status is None:
            return Status.EXPIRED
        status = Status(self.status)
        if status in LIVE and self.expires_at is not None and self.expires_at <= now:
            return Status.EXPIRED
        return status


def _poll_query() -> Select[Any]:
    newest = (
        select(func.max(Handoff.id))
        .where(Handoff.registration_id == Registration.id)
        .correlate(Registration)
        .scalar_subquery()
    )
    return (
        select(
            Registration.step,
            Registration.purged,
            Registration.expires_at,
            Registration.verify_failures,
            Handoff.status,
            Handoff.expires_at,
            Handoff.outcome,
        )
        .outerjoin(Handoff, Handoff.id == newest)
        .where(Registration.ref_hash == bindparam("ref_hash"))
    )


#: Built once: constructing the statement cost more than SQLAlchemy's compiled-cache lookup.
_POLL_QUERY = _poll_query()


def poll_view(db: Connection, ref_hash: str, now: dt.datetime) -> PollView | None:
    """One indexed read for the polling request (it runs every 2 s on every waiting desktop):
    the registration by its unique reference hash, joined to its newest hand-off. ``db`` is
    a connection outside any transaction (``wizard.database.db.autocommit``): the statement is
    its own snapshot, and bench/desktops.py counts one message per poll."""
    row = db.execute(_POLL_QUERY, {"ref_hash": ref_hash}).first()
    if row is None:
        return None
    step, purged, expires_at, failures, status, handoff_expires, outcome = row
    return PollView(
        step=step,
        live=not purged and expires_at > now,
        verify_failures=failures or 0,
        status=status,
        expires_at=handoff_expires,
        outcome=outcome,
    )


def phone_ref_hash(reference: str) -> str:
    return _hash(reference)


#: Rendered QR codes kept per worker: segno's encoding (choosing the best of eight masks) costs
#: about 10 ms, and a desktop loads step 4 several times per token (the page, htmx swaps, the
#: language switch, a reload). A pure function of the link: every worker draws the same code,
#: so this is a cache, not wizard state. 256 codes of ~7 KB each at most.
QR_CACHE_SIZE = 256


@lru_cache(maxsize=QR_CACHE_SIZE)
def qr_svg(url: str) -> str:
    """The QR code as inline SVG (dark modules on white, quiet zone included)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer,
        kind="svg",
        scale=5,
        border=4,
        xmldecl=False,
        svgns=True,
        svgclass="qr-code",
        lineclass=None,
        omitsize=False,
    )
    return buffer.getvalue().decode()
