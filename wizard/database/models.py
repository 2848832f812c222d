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
    MetaData,
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
    #: Named constraints, the same on every backend: migrations (migrations/, Alembic) can
    #: then alter or drop them by name, also on SQLite (batch mode).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


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
    #: "active" or "suspended" (suspended, reported lost or in arrears: the carrier refuses it).
    status: Mapped[str] = mapped_column(String(10), default="active", server_default="active")

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
    #: Failed carrier network checks (step 5). Never reset by a new QR code; at the limit the
    #: registration is locked and must be started again.
    verify_failures: Mapped[int] = mapped_column(Integer, default=0)
    #: Set while a direct (same-device) carrier check runs: a compare-and-set on it makes a
    #: double tap ask the carrier once.
    checking_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When the applying browser was bound (step 6); a registration binds at most once.
    bound_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When the carrier confirmed the number.
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    carrier: Mapped[Carrier | None] = relationship()


class Handoff(Base):
    """One QR code of step 4: the link a phone opens to verify a desktop's registration.

    Only the SHA-256 of the token's random part is stored. ``status`` moves only by atomic
    compare-and-set (UPDATE ... WHERE status = expected), so two phones, a double tap or a
    regeneration racing a verification all end with exactly one outcome.
    """

    __tablename__ = "handoff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    #: SHA-256 (hex) of the token's random part (at least 128 bits).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: waiting, opened, checking, verified, failed, cancelled, replaced (see handoff.Status).
    status: Mapped[str] = mapped_column(String(12), default="waiting")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: SHA-256 of the opening phone's own session reference: only that phone may go on.
    phone_ref_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    #: Coarse description of the phone ("Chrome / Android") for the audit trail.
    phone_summary: Mapped[str | None] = mapped_column(String(80))
    #: When the phone's 開始驗證 started the carrier check (a check older than a minute is
    #: presumed dead, e.g. its worker was killed, and may be taken over).
    checking_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Why the hand-off failed: the carrier's answer (carrier.NetworkOutcome value), or
    #: ``number_mismatch`` when the phone picked another number than the desktop showed.
    outcome: Mapped[str | None] = mapped_column(String(20))
    #: Number matching: the two-digit number the desktop shows beside the QR code, and the
    #: three the phone offers ("17,48,83", sorted). Stored, so a refresh offers the same three
    #: (new decoys on every refresh would single out the right one).
    match_number: Mapped[int | None] = mapped_column(Integer)
    match_choices: Mapped[str | None] = mapped_column(String(8))

    registration: Mapped[Registration] = relationship()


class Account(Base):
    """A person whose number a carrier confirmed: what the four-field login checks.

    Created (or updated, on re-application) when a registration is verified; the password is
    the one set at step 2 (argon2id hash).
    """

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    national_id: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    password_hash: Mapped[str] = mapped_column(String(200))
    #: The verified number and its brand, for notices ("a new device was bound").
    msisdn: Mapped[str] = mapped_column(String(10))
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("carrier.id"))
    #: Consecutive failed logins; reset by a successful one.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    #: How many times the account has been locked: each lock lasts twice the previous one.
    lock_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Set once the person has read the 使用須知 (step 6) after their first login.
    notice_read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    carrier: Mapped[Carrier | None] = relationship()


class DeviceBinding(Base):
    """A browser bound to an account: the device half of the two-factor login (step 7).

    ``kind`` "webcrypto": a non-extractable ECDSA P-256 key lives in the browser's IndexedDB;
    the server keeps its public key and checks a signature over a fresh challenge at each
    login. ``kind`` "cookie" (the weaker fallback where WebCrypto is missing): a long-lived
    HttpOnly cookie holds a random secret of which only the SHA-256 is stored.
    """

    __tablename__ = "device_binding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    #: Public handle the browser sends with its signature (random, not secret).
    handle: Mapped[str] = mapped_column(String(43), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    #: SubjectPublicKeyInfo (DER, base64) for "webcrypto".
    public_key: Mapped[str | None] = mapped_column(Text)
    #: SHA-256 of the cookie secret for "cookie".
    secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: Coarse description ("Chrome / Windows") for the device list.
    label: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Why: "replaced" (re-applied on this device), "user" (device list), "not_me" (SMS link).
    revoked_reason: Mapped[str | None] = mapped_column(String(12))

    account: Mapped[Account] = relationship()


class LoginChallenge(Base):
    """A single-use nonce the device key signs at login (replay protection)."""

    __tablename__ = "login_challenge"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SmsMessage(Base):
    """A text message the carrier simulator "sent" (its outbox page shows them)."""

    __tablename__ = "sms_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    msisdn: Mapped[str] = mapped_column(String(10), index=True)
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class UserSession(Base):
    """A logged-in session, server-side: logout and timeouts end it here, whatever the cookie
    says. The cookie holds only a random reference; this row its SHA-256."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    binding_id: Mapped[int | None] = mapped_column(ForeignKey("device_binding.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship()


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


# --- insurance records (the portal's data)

from sqlalchemy import UniqueConstraint  # noqa: E402  (kept with the tables that use it)


class InsuranceRecord(Base):
    """One period of one insurance (勞保, 就保 or 職保) with one unit at one insured salary.

    A salary adjustment (調整投保薪資) with the same unit is the next period, starting the day
    after this one ends. Both dates are inclusive: coverage runs from the start of
    ``enrolled_on`` to the end of ``withdrawn_on`` (None: still enrolled).
    """

    __tablename__ = "insurance_record"
    __table_args__ = (
        UniqueConstraint(
            "national_id",
            "insurance_type",
            "unit_number",
            "enrolled_on",
            name="uq_insurance_record_period",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    national_id: Mapped[str] = mapped_column(String(10), index=True)
    #: "labor" (勞保), "employment" (就保) or "occupational" (職保).
    insurance_type: Mapped[str] = mapped_column(String(12))
    #: 投保單位名稱.
    unit_name: Mapped[str] = mapped_column(String(100))
    #: 投保單位保險證號: 8 or 9 digits and a check letter, kept as text (leading zeros).
    unit_number: Mapped[str] = mapped_column(String(12))
    #: 月投保薪資 in NTD (a bracket of the 投保薪資分級表 in force at the time).
    insured_salary: Mapped[int] = mapped_column(Integer)
    #: 加保日期 (or the effective date of a salary adjustment).
    enrolled_on: Mapped[dt.date] = mapped_column(Date)
    #: 退保日期, inclusive; None while still enrolled.
    withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)


class CovidApplication(Base):
    """A COVID-19 related benefit application and its status (the manual's 確認COVID-19申辦)."""

    __tablename__ = "covid_application"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    national_id: Mapped[str] = mapped_column(String(10), index=True)
    #: What was applied for, as the BLI names it (e.g. 確診普通傷病給付).
    kind: Mapped[str] = mapped_column(String(60))
    applied_on: Mapped[dt.date] = mapped_column(Date)
    #: 受理中, 已核付 or 不予給付.
    status: Mapped[str] = mapped_column(String(10))
    paid_amount: Mapped[int | None] = mapped_column(Integer)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)


class IssuedDocument(Base):
    """A downloaded record document (PDF or CSV): what an institution checks later.

    The printed verification code is never stored, only SHA-256 of "<document number>:<code>".
    ``summary`` (JSON) says what the document contained: the filters, the number of records
    and SHA-256 of the records themselves (``content_sha256``) and of the file.
    """

    __tablename__ = "issued_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "BLI-2026-000123": the year of issue (Taipei time) and the row's id.
    document_number: Mapped[str] = mapped_column(String(40), unique=True)
    national_id: Mapped[str] = mapped_column(String(10), index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    verification_code_hash: Mapped[str] = mapped_column(String(64))
    #: "pdf" or "csv".
    format: Mapped[str] = mapped_column(String(4))
    summary: Mapped[str] = mapped_column(Text)


# --- counter kiosks


class KioskTerminal(Base):
    """A single counter terminal an operator enrolled as a kiosk (``flask kiosk enroll``),
    by the network address the site sees it at. Whole counter networks are in the
    ``KIOSK_NETWORKS`` setting instead. Never anything the person at the terminal can change
    (a cookie would be: 結束使用 wipes them)."""

    __tablename__ = "kiosk_terminal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Canonical form (ipaddress' ``compressed``; IPv4-mapped IPv6 as plain IPv4).
    address: Mapped[str] = mapped_column(String(45), unique=True)
    #: Where it stands, for operators, e.g. "台北總局 3 號櫃檯".
    label: Mapped[str] = mapped_column(String(100))
    enrolled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# --- institutions: consent shares and the checks made on a person's data


class Institution(Base):
    """A training institution or the Workforce Development Agency, enrolled by an operator
    (``flask institution add``). ``purposes`` (JSON list of purpose codes) says what its staff
    may check for; only an institution with ``may_query`` may query without a share code
    (Web IR: a statutory duty, 個資法 §15/§16, not consent)."""

    __tablename__ = "institution"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Short operator-given code, e.g. "TC-TAIPEI-01".
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    #: "training" or "agency".
    kind: Mapped[str] = mapped_column(String(10))
    purposes: Mapped[str] = mapped_column(Text, default="[]")
    may_query: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Consecutive failed share-code checks by its staff (NIST SP 800-63B: at most 100); at
    #: the cap its checks pause until ``checks_locked_until``.
    failed_checks: Mapped[int] = mapped_column(Integer, default=0)
    checks_locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class StaffMember(Base):
    """A person at an institution: password (argon2id) plus TOTP (RFC 6238) second factor."""

    __tablename__ = "staff_member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    #: 帳號, unique across institutions.
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(200))
    #: The TOTP secret, encrypted with a key derived from the app's secret (Fernet).
    totp_secret: Mapped[str] = mapped_column(Text)
    #: The last TOTP time step accepted: a code is never accepted twice.
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    #: A demo member (``make run``'s seed): refused in production.
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    lock_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    institution: Mapped[Institution] = relationship()


class StaffSession(Base):
    """A staff member's logged-in session, server-side (as ``UserSession`` for citizens)."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[StaffMember] = relationship()


class ApiKey(Base):
    """An institution's key for ``/api/v1``: shown once, stored as SHA-256 (256 random bits)."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters, for operators telling keys apart ("bli_k_3f9a…").
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    institution: Mapped[Institution] = relationship()


class Share(Base):
    """投保證明分享碼: the person's consent to show chosen facts for one purpose.

    Only an HMAC of the code (keyed with the app's secret) is stored. ``scope`` is "status"
    (insured now: yes/no, which types, since when) or "periods" (also the periods of the last
    ``years`` years). Used at most ``max_uses`` times, until ``expires_at`` or revocation.
    """

    __tablename__ = "share"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    national_id: Mapped[str] = mapped_column(String(10), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(30))
    scope: Mapped[str] = mapped_column(String(10))
    years: Mapped[int] = mapped_column(Integer, default=0)
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    #: Checks that named this code with another 身分證號: at 5 the code stops working.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DataCheck(Base):
    """One look at a person's data by someone else: a share code used, an agency query, or a
    document verified on the public page. 誰查看了我的資料 lists these; ``shown`` (JSON) is
    exactly what the checker saw."""

    __tablename__ = "data_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "CHK-2026-000123", printed on the receipt.
    check_number: Mapped[str] = mapped_column(String(40), unique=True)
    national_id: Mapped[str] = mapped_column(String(10), index=True)
    #: "share", "agency" or "document".
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    #: "web" (a staff member's page), "api" (an API key) or "public" (the verification page).
    channel: Mapped[str] = mapped_column(String(10))
    purpose: Mapped[str] = mapped_column(String(30))
    case_number: Mapped[str | None] = mapped_column(String(40))
    share_id: Mapped[int | None] = mapped_column(ForeignKey("share.id"))
    document_number: Mapped[str | None] = mapped_column(String(40))
    shown: Mapped[str] = mapped_column(Text)

    institution: Mapped[Institution | None] = relationship()
    staff: Mapped[StaffMember | None] = relationship()
