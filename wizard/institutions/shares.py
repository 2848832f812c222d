"""投保證明分享碼: the person's consent, made, listed, revoked and found.

Only an HMAC-SHA256 of the code keyed with the app's secret is stored (a plain hash of a
44-bit code is reversed by trying them all). A share answers a check only while it is live:
not revoked, not expired, uses left, fewer than :data:`MAX_WRONG_IDS` checks that named it with
another 身分證號. Whatever of these fails, the checker hears the same "unknown code"
(``find`` returns None): a revoked or expired code tells nothing an unknown one does not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wizard.database.models import Share
from wizard.institutions import codes, facts, purposes

DEFAULT_DAYS = 30
MAX_DAYS = 90
MAX_USES = 5
#: Checks naming a live code with another person's 身分證號 before the code stops working.
MAX_WRONG_IDS = 5
#: Live shares a person may hold at once (a bound on what a guesser could hit).
MAX_LIVE = 10


@dataclass(frozen=True)
class Choice:
    """What the person chose: validated by the form, checked again here."""

    purpose: str
    scope: str
    years: int
    days: int
    max_uses: int

    def check(self) -> None:
        if self.purpose not in purposes.PURPOSES:
            raise ValueError("purpose")
        if self.scope not in facts.SCOPES:
            raise ValueError("scope")
        if self.scope == "periods" and not 1 <= self.years <= facts.MAX_YEARS:
            raise ValueError("years")
        if not 1 <= self.days <= MAX_DAYS:
            raise ValueError("days")
        if not 1 <= self.max_uses <= MAX_USES:
            raise ValueError("max_uses")


class TooManyShares(Exception):
    """The person already holds :data:`MAX_LIVE` live shares."""


def code_hash(secret: str, code: str) -> str:
    return hmac.new(secret.encode(), f"share:{code}".encode(), hashlib.sha256).hexdigest()


def is_live(share: Share, now: dt.datetime) -> bool:
    return (
        share.revoked_at is None
        and share.expires_at > now
        and share.uses < share.max_uses
        and share.failures < MAX_WRONG_IDS
    )


def status(share: Share, now: dt.datetime) -> str:
    """ "live", "revoked", "expired", "used" or "blocked" (too many wrong IDs)."""
    if share.revoked_at is not None:
        return "revoked"
    if share.uses >= share.max_uses:
        return "used"
    if share.failures >= MAX_WRONG_IDS:
        return "blocked"
    if share.expires_at <= now:
        return "expired"
    return "live"


def mine(db: Session, national_id: str) -> list[Share]:
    """The person's shares, newest first."""
    return list(
        db.scalars(select(Share).where(Share.national_id == national_id).order_by(Share.id.desc()))
    )


def create(
    db: Session, secret: str, national_id: str, choice: Choice, now: dt.datetime
) -> tuple[Share, str]:
    """A new share and its code (shown once: only its HMAC is kept). Flushed."""
    choice.check()
    if sum(is_live(s, now) for s in mine(db, national_id)) >= MAX_LIVE:
        raise TooManyShares
    code = codes.new()
    share = Share(
        national_id=national_id,
        code_hash=code_hash(secret, code),
        purpose=choice.purpose,
        scope=choice.scope,
        years=choice.years if choice.scope == "periods" else 0,
        max_uses=choice.max_uses,
        uses=0,
        failures=0,
        created_at=now,
        expires_at=now + dt.timedelta(days=choice.days),
    )
    db.add(share)
    db.flush()
    return share, code


def revoke(db: Session, national_id: str, share_id: int, now: dt.datetime) -> bool:
    """Revoke the person's own share; False when it is not theirs (or already revoked)."""
    result = db.execute(
        update(Share)
        .where(Share.id == share_id, Share.national_id == national_id, Share.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def find(db: Session, secret: str, code: str) -> Share | None:
    """The share with this (canonical) code, whatever its state."""
    return db.scalars(select(Share).where(Share.code_hash == code_hash(secret, code))).first()


def use(db: Session, share: Share, now: dt.datetime) -> bool:
    """Take one use, atomically (two checks at once cannot both take the last). False when
    nothing was left."""
    result = db.execute(
        update(Share)
        .where(
            Share.id == share.id,
            Share.revoked_at.is_(None),
            Share.expires_at > now,
            Share.uses < Share.max_uses,
            Share.failures < MAX_WRONG_IDS,
        )
        .values(uses=Share.uses + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def wrong_id(db: Session, share: Share) -> None:
    """A check named this code with another 身分證號."""
    db.execute(update(Share).where(Share.id == share.id).values(failures=Share.failures + 1))
