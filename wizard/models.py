"""Database tables: carriers, the simulator's subscriber registry, registrations, audit events.

Personal data (national ID, number, card, birth date, name) lives only in ``registration``
and ``sim_subscriber`` rows; ``flask --app wsgi purge`` blanks it in registrations that were
abandoned. Nothing here imports Flask.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime")
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(
        self, value: dt.datetime | None, dialect: object
    ) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    pass


class Carrier(Base):
    """A brand a person can pick (電信業者). Merged brands point to the operator that runs them."""

    __tablename__ = "carrier"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Stable code used in forms, CSV files and the gateway protocol, e.g. "cht".
    code: Mapped[str] = mapped_column(String(16), unique=True)
    #: The brand as people know it, e.g. "台灣之星".
    name: Mapped[str] = mapped_column(String(40), unique=True)
    #: English name for the English interface.
    name_en: Mapped[str] = mapped_column(String(60))
    #: The operator that now runs this brand's network (None: it is an operator itself).
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("carrier.id"))
    #: When the brand merged into its operator, for the note shown beside it.
    merged_on: Mapped[dt.date | None] = mapped_column(Date)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    #: Brands that stop being offered in the list keep their row for old records.
    listed: Mapped[bool] = mapped_column(Boolean, default=True)

    operator: Mapped[Carrier | None] = relationship(remote_side=[id])

    @property
    def network(self) -> Carrier:
        """The carrier whose network actually serves this brand's numbers."""
        return self.operator or self


class SimSubscriber(Base):
    """The carrier simulator's registry: who holds which number, on which kind of plan."""

    __tablename__ = "sim_subscriber"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    national_id: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    nhi_card: Mapped[str] = mapped_column(String(12))
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carrier.id"))
    msisdn: Mapped[str] = mapped_column(String(10), index=True)
    #: "monthly", "prepaid" or "family".
    plan: Mapped[str] = mapped_column(String(10))
    #: "personal" or "enterprise".
    account: Mapped[str] = mapped_column(String(10))
    #: True when the number is sold by a virtual operator on this carrier's network.
    mvno: Mapped[bool] = mapped_column(Boolean, default=False)

    carrier: Mapped[Carrier] = relationship()


class Registration(Base):
    """One run through the wizard, from step 1 to the carrier's confirmation.

    The browser's session holds only an opaque random reference; this row stores its SHA-256,
    so neither a copied database nor a log line can be turned back into a session.
    """

    __tablename__ = "registration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 (hex) of the session's opaque reference.
    ref_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: flow.Step value: the furthest step reached.
    step: Mapped[str] = mapped_column(String(16), default="identify")
    #: flow.Device value, once chosen at step 3.
    device: Mapped[str | None] = mapped_column(String(16))
    #: Normalised national ID (step 1).
    national_id: Mapped[str | None] = mapped_column(String(10), index=True)
    #: The brand chosen at step 2.
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("carrier.id"))
    #: Mobile number, normalised to 09xxxxxxxx.
    msisdn: Mapped[str | None] = mapped_column(String(10))
    #: 健保卡號, 12 digits.
    nhi_card: Mapped[str | None] = mapped_column(String(12))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    #: Name as typed (NFC, spaces collapsed).
    name: Mapped[str | None] = mapped_column(String(50))
    #: argon2id hash of the 憑證密碼; the password itself is never stored.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    #: Current CAPTCHA: kind ("image"/"text"), answer and expiry. Cleared on every check, so
    #: each challenge is answered at most once.
    captcha_kind: Mapped[str | None] = mapped_column(String(8))
    captcha_answer: Mapped[str | None] = mapped_column(String(16))
    captcha_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Seed the challenge was made from (re-renders the same image or question). Secret: the
    #: image URL carries only the serial, which increments with each new challenge.
    captcha_seed: Mapped[int | None] = mapped_column(BigInteger)
    captcha_serial: Mapped[int] = mapped_column(Integer, default=0)
    #: Device type guessed from the browser at step 3 (a preselection only).
    device_hint: Mapped[str | None] = mapped_column(String(16))
    #: Coarse description of the applying browser ("Chrome on Windows"), for the phone's page.
    user_agent_summary: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: Idle expiry: 30 minutes after the last change; then purge blanks the personal data.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    #: Set when purge blanked the personal data of an abandoned registration.
    purged: Mapped[bool] = mapped_column(Boolean, default=False)

    carrier: Mapped[Carrier | None] = relationship()


class AuditEvent(Base):
    """What happened, when, to whom (masked). Never a secret, never a full ID or number."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    registration_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: Masked subject, e.g. "A12345****".
    subject: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
