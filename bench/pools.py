"""Registrations prepared in the database before a benchmark, so every measured POST changes
the state of a registration of its own, as a person's would.

One template person walks the wizard in-process (Flask's test client, the site's own code, on
the benchmark's PostgreSQL) to the state a benchmark needs; its rows are then copied N times
with fresh references and, where it matters, another eligible person's data, and a session
cookie is signed for each copy with the site's own serializer. Copying rows is what makes a
pool of thousands take seconds: walking each one through step 2 would cost an argon2 hash.
The preparing app uses cheap argon2 parameters (as the tests do); the measured server does not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from tests.helpers import Desktop, Phone, WizardClient, csrf_token, sim_headers
from wizard.carrier.simulator import import_rows
from wizard.database.models import Account, Carrier, Handoff, Registration, UserSession
from wizard.registration import handoff
from wizard.rules.identity import national_id_checksum_ok

PASSWORD = "a long benchmark passphrase"
CAPTCHA = "BENCH"
SESSION_REF = "registration"  # wizard.registration.registrations.SESSION_KEY
QR_TOKEN = "qr_token"  # wizard.registration.views.verify.QR_TOKEN_KEY
PHONE_REF = "phone_handoff"  # wizard.registration.views.verify.PHONE_KEY
USER_REF = "login"  # wizard.accounts.auth.SESSION_KEY


def person(n: int) -> dict[str, str]:
    """Eligible simulator subscriber number ``n`` (a 中華電信 monthly plan), distinct from the
    demo people: national IDs Q1/Q2…, numbers 099…."""
    body = f"Q{1 + n % 2}{n // 2:07d}"
    national_id = next(body + d for d in "0123456789" if national_id_checksum_ok(body + d))
    given = "明華安平志豪文"
    return {
        "national_id": national_id,
        "name": f"測{given[n % 7]}{given[(n // 7) % 7]}",
        "birth_date": (dt.date(1960, 1, 1) + dt.timedelta(days=n % 15000)).isoformat(),
        "nhi_card": f"9{n:011d}",
        "carrier": "cht",
        "msisdn": f"099{n:07d}",
        "plan": "monthly",
        "account": "personal",
        "mvno": "0",
    }


def step2_form(row: dict[str, str]) -> dict[str, str]:
    """What a person types at step 2 (the fixed benchmark CAPTCHA answer)."""
    return {
        "carrier": row["carrier"],
        "msisdn": row["msisdn"],
        "nhi_card": row["nhi_card"],
        "birth_date": row["birth_date"].replace("-", "/"),
        "name": row["name"],
        "captcha": CAPTCHA,
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "action": "submit",
    }


def import_people(app: Flask, count: int) -> list[dict[str, str]]:
    """Add ``count`` eligible subscribers to the simulator's registry (as its CSV import)."""
    rows = [person(n) for n in range(count)]
    with app.app_context(), app.extensions["db_sessionmaker"]() as db:
        for start in range(0, count, 500):
            import_rows(db, rows[start : start + 500])
        db.commit()
    return rows


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class Template:
    """A person walked to some state: their browser's session and the rows behind it."""

    stage: str
    desktop: dict[str, Any]
    registration_id: int
    phone: dict[str, Any] | None = None
    handoff_id: int | None = None
    user_session_id: int | None = None


class Preparer:
    """Walks template people in-process and copies their state into pools."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        self.cookie_name = app.config["SESSION_COOKIE_NAME"]
        self.sessionmaker = app.extensions["db_sessionmaker"]
        self._carriers: dict[str, int] = {}
        # The walks' request log lines would drown the benchmark's output.
        logging.getLogger("wizard.requests").setLevel(logging.WARNING)

    # --- cookies ------------------------------------------------------------------------

    def session_of(self, client: Any) -> dict[str, Any]:
        cookie = client.get_cookie(self.cookie_name)
        assert cookie is not None, "this browser has no session"
        return dict(self.serializer.loads(cookie.value))

    def cookie(self, session: dict[str, Any]) -> str:
        return f"{self.cookie_name}={self.serializer.dumps(session)}"

    def fresh(self) -> dict[str, str]:
        """A new visitor's browser after it was shown /login: its cookie and CSRF token."""
        client = self.app.test_client()
        client.get("/login")
        session = self.session_of(client)
        return {"desktop": self.cookie(session), "csrf": self._csrf(session)}

    # --- the template walk ----------------------------------------------------------------

    def walk(self, stage: str, row: dict[str, str]) -> Template:
        """Take ``row``'s person to ``stage``: personal (step 2 shown), device, qr (step 4
        shown), opened (the phone opened the QR link), verified (step 6 shown, unbound),
        notice (bound and signed in)."""
        wizard = WizardClient(self.app.test_client(), self.app)
        wizard.identify(row["national_id"])
        wizard.get("/register/personal")
        if stage == "personal":
            return self._template(stage, wizard.client)
        form = step2_form(row)
        response = wizard.post("/register/personal", form)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        if stage == "device":
            wizard.get("/register/device")
            return self._template(stage, wizard.client)
        assert wizard.device("desktop").status_code == 303
        desktop = Desktop(wizard)
        link = desktop.qr_path()
        if stage == "qr":
            return self._template(stage, wizard.client)
        phone = Phone(self.app)
        assert phone.open(link).status_code == 303
        if stage == "opened":
            template = self._template(stage, wizard.client)
            template.phone = self.session_of(phone.client)
            return template
        verified = phone.verify("4g", row["msisdn"])
        assert verified.status_code == 200, verified.status_code
        page = wizard.get("/register/done")
        assert page.status_code == 200, page.status_code
        if stage == "verified":
            return self._template(stage, wizard.client)
        template = self._template(stage, wizard.client)
        token = csrf_token(page.get_data(as_text=True))
        bound = wizard.client.post("/register/bind", data={"csrf_token": token})
        assert bound.status_code == 303, bound.status_code
        wizard.get("/notice")
        # Signing in renews the whole session: it no longer names the registration.
        template.desktop = self.session_of(wizard.client)
        with self.sessionmaker() as db:
            reference = template.desktop[USER_REF]
            template.user_session_id = db.scalars(
                select(UserSession.id).where(UserSession.ref_hash == _hash(reference))
            ).one()
        return template

    def _template(self, stage: str, client: Any) -> Template:
        session = self.session_of(client)
        with self.sessionmaker() as db:
            registration_id = db.scalars(
                select(Registration.id).where(Registration.ref_hash == _hash(session[SESSION_REF]))
            ).one()
            newest = db.scalars(
                select(Handoff.id)
                .where(Handoff.registration_id == registration_id)
                .order_by(Handoff.id.desc())
            ).first()
        return Template(stage, session, registration_id, handoff_id=newest)

    # --- copies ---------------------------------------------------------------------------

    def _copy(
        self, db: Session, table: Table, row_id: int, changes: Iterable[dict[str, Any]]
    ) -> list[int]:
        """Insert copies of one row, each with its ``changes``; their new ids in order."""
        original = db.execute(select(table).where(table.c.id == row_id)).mappings().one()
        base = {key: value for key, value in original.items() if key != "id"}
        rows = [{**base, **change} for change in changes]
        if not rows:
            return []
        result = db.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        return list(result.scalars())

    def _person_columns(self, db: Session, row: dict[str, str]) -> dict[str, Any]:
        if row["carrier"] not in self._carriers:
            self._carriers[row["carrier"]] = db.scalars(
                select(Carrier.id).where(Carrier.code == row["carrier"])
            ).one()
        carrier_id = self._carriers[row["carrier"]]
        return {
            "national_id": row["national_id"],
            "name": row["name"],
            "birth_date": dt.date.fromisoformat(row["birth_date"]),
            "nhi_card": row["nhi_card"],
            "msisdn": row["msisdn"],
            "carrier_id": carrier_id,
        }

    def pool(self, template: Template, people: list[dict[str, str]]) -> list[dict[str, str]]:
        """One copy of ``template`` per person in ``people``: for each, the Cookie header of the
        desktop (``desktop``) and its CSRF token (``csrf``), of the phone (``phone`` and
        ``phone_csrf``, when the template has one), the QR path (``link``, for a hand-off still
        waiting) and the person's row (``person``)."""
        now = dt.datetime.now(dt.UTC)
        out: list[dict[str, str]] = []
        with self.sessionmaker() as db:
            references = [secrets.token_urlsafe(32) for _ in people]
            fresh = {"created_at": now, "updated_at": now}
            registration_ids = self._copy(
                db,
                Registration.__table__,  # type: ignore[arg-type]
                template.registration_id,
                [
                    {
                        "ref_hash": _hash(ref),
                        **self._person_columns(db, row),
                        **fresh,
                        "expires_at": now + self.app.config["REGISTRATION_IDLE"],
                    }
                    for ref, row in zip(references, people, strict=True)
                ],
            )
            registration = db.get(Registration, template.registration_id)
            assert registration is not None
            account_ids: list[int | None] = [None] * len(people)
            if registration.step == "verified":
                account_ids = list(
                    self._copy_accounts(db, registration.national_id or "", people, now)
                )
            for index, (ref, row, new_id, account_id) in enumerate(
                zip(references, people, registration_ids, account_ids, strict=True)
            ):
                desktop = dict(template.desktop)
                if SESSION_REF in desktop:
                    desktop[SESSION_REF] = ref
                item = {"person": row}
                if template.stage == "qr":
                    # A waiting QR code: a real token, issued by the site's own function.
                    copy = Registration(id=new_id)
                    _, token = handoff.issue(db, copy, now, self.app.secret_key)  # type: ignore[arg-type]
                    desktop[QR_TOKEN] = token
                    item["link"] = f"/h/{token}"
                elif template.stage == "opened":
                    assert template.phone is not None and template.handoff_id is not None
                    phone_ref = secrets.token_urlsafe(32)
                    self._copy(
                        db,
                        Handoff.__table__,  # type: ignore[arg-type]
                        template.handoff_id,
                        [
                            {
                                "registration_id": new_id,
                                "token_hash": _hash(secrets.token_urlsafe(16)),
                                "phone_ref_hash": handoff.phone_ref_hash(phone_ref),
                                "created_at": now,
                                "opened_at": now,
                                "expires_at": now + handoff.LIFETIME,
                            }
                        ],
                    )
                    desktop.pop(QR_TOKEN, None)
                    phone = {**template.phone, PHONE_REF: phone_ref}
                    item["phone"] = self.cookie(phone)
                    item["phone_csrf"] = self._csrf(phone)
                    # The copies keep the template's number (the desktop would show it).
                    template_handoff = db.get(Handoff, template.handoff_id)
                    assert template_handoff is not None
                    item["match"] = str(template_handoff.match_number)
                if template.user_session_id is not None:
                    user_ref = secrets.token_urlsafe(32)
                    self._copy(
                        db,
                        UserSession.__table__,  # type: ignore[arg-type]
                        template.user_session_id,
                        [
                            {
                                "ref_hash": _hash(user_ref),
                                "account_id": account_id,
                                "created_at": now,
                                "last_seen_at": now,
                            }
                        ],
                    )
                    desktop[USER_REF] = user_ref
                item["desktop"] = self.cookie(desktop)
                item["csrf"] = self._csrf(desktop)
                out.append(item)
                if index % 500 == 499:
                    db.flush()
            db.commit()
        return out

    def _copy_accounts(
        self, db: Session, national_id: str, people: list[dict[str, str]], now: dt.datetime
    ) -> list[int]:
        """A verified registration has its account (made at the carrier's confirmation)."""
        account_id = db.scalars(select(Account.id).where(Account.national_id == national_id)).one()
        return self._copy(
            db,
            Account.__table__,  # type: ignore[arg-type]
            account_id,
            [
                {
                    "national_id": row["national_id"],
                    "name": row["name"],
                    "birth_date": dt.date.fromisoformat(row["birth_date"]),
                    "msisdn": row["msisdn"],
                    "created_at": now,
                    "updated_at": now,
                }
                for row in people
            ],
        )

    def _csrf(self, session: dict[str, Any]) -> str:
        """A CSRF token for ``session`` (Flask-WTF signs the session's raw token)."""
        from flask_wtf.csrf import generate_csrf

        with self.app.test_request_context():
            from flask import session as flask_session

            flask_session.update(session)
            return generate_csrf()


def sim(row: dict[str, str]) -> dict[str, str]:
    """The phone's simulated network identity for ``row``'s number (4G)."""
    return sim_headers("4g", row["msisdn"])
