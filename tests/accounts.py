"""Test helpers for logged-in people: an account from a demo person, and a session for it."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from wizard.accounts import auth
from wizard.database.models import Account, SimSubscriber, UserSession


def make_account(
    app: Flask, national_id: str = "A123456789", password: str = "my cat is called flower"
) -> int:
    """An account for a demo person of the simulator (as if they had registered)."""
    with app.app_context():
        with app.extensions["db_sessionmaker"]() as db:
            person = db.scalars(
                select(SimSubscriber).where(SimSubscriber.national_id == national_id)
            ).one()
            now = app.extensions["clock"].now()
            account = Account(
                national_id=person.national_id,
                name=person.name,
                birth_date=person.birth_date,
                password_hash=app.extensions["hasher"].hash(password),
                msisdn=person.msisdn,
                carrier_id=person.carrier_id,
                created_at=now,
                updated_at=now,
            )
            db.add(account)
            db.commit()
            return account.id


def login_as(
    app: Flask, client: FlaskClient, national_id: str = "A123456789", notice_read: bool = True
) -> int:
    """Log ``client`` in as the demo person (a server-side session, like a real login)."""
    account_id = make_account(app, national_id)
    reference = secrets.token_urlsafe(32)
    with app.app_context():
        with app.extensions["db_sessionmaker"]() as db:
            now = app.extensions["clock"].now()
            account = db.get(Account, account_id)
            if notice_read:
                account.notice_read_at = now - dt.timedelta(days=1)
            db.add(
                UserSession(
                    ref_hash=hashlib.sha256(reference.encode()).hexdigest(),
                    account_id=account_id,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            db.commit()
    with client.session_transaction() as cookie_session:
        cookie_session[auth.SESSION_KEY] = reference
    return account_id
