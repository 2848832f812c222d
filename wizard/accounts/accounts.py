"""Accounts: made from a verified registration, checked by the four-field login, locked after
repeated failures.

The failure counter and the lock live in the account's row and change only through atomic
UPDATEs, so they hold across workers and restarts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wizard.database.models import Account, Registration
from wizard.rules import identity

MAX_FAILURES = 5
FIRST_LOCK = dt.timedelta(minutes=15)
#: Locks double on each repeat, up to this.
LONGEST_LOCK = dt.timedelta(hours=24)


def from_registration(db: Session, registration: Registration, now: dt.datetime) -> Account:
    """Create the account, or update it on re-application (forgotten password, new browser,
    new phone): the verified data and the new password replace the old."""
    account = db.scalars(
        select(Account).where(Account.national_id == registration.national_id)
    ).first()
    if account is None:
        account = Account(
            national_id=registration.national_id, created_at=now, failed_logins=0, lock_count=0
        )
        db.add(account)
    account.name = registration.name or ""
    account.birth_date = registration.birth_date  # type: ignore[assignment]
    account.password_hash = registration.password_hash or ""
    account.msisdn = registration.msisdn or ""
    account.carrier_id = registration.carrier_id
    account.updated_at = now
    # A fresh, verified application ends any lock: the person proved themselves again.
    account.failed_logins, account.locked_until = 0, None
    db.flush()
    return account


def locked_until(account: Account, now: dt.datetime) -> dt.datetime | None:
    if account.locked_until is not None and account.locked_until > now:
        return account.locked_until
    return None


def lock_length(lock_count: int) -> dt.timedelta:
    return min(FIRST_LOCK * (2 ** max(0, lock_count - 1)), LONGEST_LOCK)


def record_failure(db: Session, account: Account, now: dt.datetime) -> dt.datetime | None:
    """Count a failed login; on the fifth in a row lock the account. Returns the lock's end."""
    db.execute(
        update(Account)
        .where(Account.id == account.id)
        .values(failed_logins=Account.failed_logins + 1)
    )
    db.refresh(account)
    if account.failed_logins >= MAX_FAILURES:
        account.lock_count = (account.lock_count or 0) + 1
        account.locked_until = now + lock_length(account.lock_count)
        account.failed_logins = 0
        return account.locked_until
    return None


def record_success(account: Account) -> None:
    account.failed_logins = 0
    account.lock_count = 0
    account.locked_until = None


@dataclass(frozen=True)
class Answers:
    national_id: str
    birth_date: str
    name: str
    password: str


def answers_match(account: Account, answers: Answers, today: dt.date, password_ok: bool) -> bool:
    """All four fields right. Parsing errors count as wrong answers: no hint which field."""
    try:
        same_id = identity.parse_national_id(answers.national_id) == account.national_id
        same_birth = (
            identity.parse_birth_date(answers.birth_date, today).value == account.birth_date
        )
        same_name = identity.parse_name(answers.name) == account.name
    except identity.Invalid:
        return False
    return same_id and same_birth and same_name and password_ok
