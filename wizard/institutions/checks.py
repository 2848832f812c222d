"""A check on a person's data: a share code used, an agency query, a document verified.

Each one that shows anything is recorded as a :class:`DataCheck` (who, through which
channel, why, when, and exactly what was shown) and announced to the person's number (the
carrier simulator's outbox, as new bindings are). Refusals say what the checker did wrong and
nothing about the person: a wrong 身分證號 for a code, an expired, used-up, revoked or unknown
code all answer "unknown".

Guessing is bounded three ways (NIST SP 800-63B §5.2.2): per code (``shares.MAX_WRONG_IDS``),
per institution (:data:`MAX_CONSECUTIVE_FAILURES` failed checks in a row pause its checks for
:data:`FAILURE_PAUSE`), and per staff member, key and address by the rate limits
(``web.limits``: ``share_check.*``).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wizard import clock
from wizard.database.models import (
    Account,
    DataCheck,
    Institution,
    IssuedDocument,
    SmsMessage,
    StaffMember,
)
from wizard.institutions import codes, facts, shares, staff
from wizard.rules import identity

MAX_CONSECUTIVE_FAILURES = 100
FAILURE_PAUSE = dt.timedelta(hours=1)
#: How long a staff member may reopen a check's answer (to print it or take the PDF);
#: afterwards the institution's list shows only its number, time and masked ID.
RESULT_VISIBLE = dt.timedelta(minutes=30)


class Refused(Exception):
    """``reason``: "malformed_id", "malformed_code", "unknown", "disabled", "purpose",
    "not_allowed" (no query without a code), "case_number", "paused"."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Checker:
    """Who is checking: an institution, through a staff member's page or an API key."""

    institution: Institution
    staff: StaffMember | None
    channel: str  # "web" or "api"

    def recorded(self) -> dict[str, Any]:
        """The check's columns that say who checked."""
        return {
            "institution_id": self.institution.id,
            "institution": self.institution,
            "staff_id": self.staff.id if self.staff else None,
            "channel": self.channel,
        }


def _usable(checker: Checker, now: dt.datetime) -> None:
    if checker.institution.disabled_at is not None or (
        checker.staff is not None and checker.staff.disabled_at is not None
    ):
        raise Refused("disabled")
    until = checker.institution.checks_locked_until
    if until is not None and until > now:
        raise Refused("paused", until.isoformat())


def _national_id(raw: str) -> str:
    try:
        return identity.parse_national_id(raw)
    except identity.Invalid as error:
        raise Refused("malformed_id", error.code) from None


def _failed(db: Session, institution: Institution, now: dt.datetime) -> None:
    institution.failed_checks += 1
    if institution.failed_checks >= MAX_CONSECUTIVE_FAILURES:
        institution.failed_checks = 0
        institution.checks_locked_until = now + FAILURE_PAUSE
    db.flush()


def _number(db: Session, check: DataCheck, now: dt.datetime) -> None:
    db.flush()
    check.check_number = f"CHK-{now.astimezone(clock.TAIPEI).year}-{check.id:06d}"


def _record(db: Session, now: dt.datetime, **values: Any) -> DataCheck:
    shown = values.pop("shown")
    check = DataCheck(
        check_number="pending-" + secrets.token_hex(16),
        at=now,
        shown=json.dumps(shown, ensure_ascii=False, sort_keys=True),
        **values,
    )
    db.add(check)
    _number(db, check, now)
    _announce(db, check, now)
    return check


def _announce(db: Session, check: DataCheck, now: dt.datetime) -> None:
    """A text to the person's verified number, when they have an account."""
    account = db.scalars(select(Account).where(Account.national_id == check.national_id)).first()
    if account is None:
        return
    who = check.institution.name if check.institution is not None else "文件驗證頁"
    local = clock.local_time(now, "%m/%d %H:%M")
    body = (
        f"【勞保局】{local} {who} 查驗了您的投保資料（查驗編號 {check.check_number}）。"
        "詳情請登入 e 化服務系統「誰查看了我的資料」；若非您同意，請撤銷分享碼並洽勞保局。"
    )
    db.add(SmsMessage(msisdn=account.msisdn, body=body, sent_at=now))


def with_share_code(
    db: Session, secret_key: str, checker: Checker, raw_id: str, raw_code: str, now: dt.datetime
) -> DataCheck:
    """Check a share code for the person with this 身分證號; the check, or :class:`Refused`.
    The caller commits either way (failures are counted)."""
    _usable(checker, now)
    national_id = _national_id(raw_id)
    try:
        code = codes.parse(raw_code)
    except codes.MalformedCode as error:
        raise Refused("malformed_code", error.code) from None
    share = shares.find(db, secret_key, code)
    if share is None or not shares.is_live(share, now):
        _failed(db, checker.institution, now)
        raise Refused("unknown")
    if share.national_id != national_id:
        shares.wrong_id(db, share)
        _failed(db, checker.institution, now)
        raise Refused("unknown")
    if share.purpose not in staff.allowed_purposes(checker.institution):
        raise Refused("purpose", share.purpose)
    if not shares.use(db, share, now):
        _failed(db, checker.institution, now)
        raise Refused("unknown")
    checker.institution.failed_checks = 0
    today = now.astimezone(clock.TAIPEI).date()
    return _record(
        db,
        now,
        national_id=national_id,
        kind="share",
        **checker.recorded(),
        purpose=share.purpose,
        share_id=share.id,
        shown=facts.shown(db, national_id, today, share.scope, share.years),
    )


CASE_NUMBER_MAX = 40


def agency_query(
    db: Session,
    checker: Checker,
    raw_id: str,
    purpose: str,
    case_number: str,
    now: dt.datetime,
) -> DataCheck:
    """Web IR: an institution allowed to (the agency) asks without a code, for one of its
    purposes and a case number; the answer is the status only (yes/no per type, since)."""
    _usable(checker, now)
    if not checker.institution.may_query:
        raise Refused("not_allowed")
    national_id = _national_id(raw_id)
    if purpose not in staff.allowed_purposes(checker.institution):
        raise Refused("purpose", purpose)
    case_number = case_number.strip()
    if not case_number or len(case_number) > CASE_NUMBER_MAX or not case_number.isprintable():
        raise Refused("case_number")
    today = now.astimezone(clock.TAIPEI).date()
    return _record(
        db,
        now,
        national_id=national_id,
        kind="agency",
        **checker.recorded(),
        purpose=purpose,
        case_number=case_number,
        shown=facts.shown(db, national_id, today, "status", 0),
    )


def document_verified(db: Session, document: IssuedDocument, now: dt.datetime) -> DataCheck:
    """A document of the person's was verified on the public page."""
    return _record(
        db,
        now,
        national_id=document.national_id,
        kind="document",
        institution_id=None,
        institution=None,
        staff_id=None,
        channel="public",
        purpose="document",
        document_number=document.document_number,
        shown=json.loads(document.summary),
    )


def of_person(db: Session, national_id: str) -> list[DataCheck]:
    """誰查看了我的資料: every check on this person's data, newest first."""
    return list(
        db.scalars(
            select(DataCheck)
            .where(DataCheck.national_id == national_id)
            .order_by(DataCheck.id.desc())
        )
    )


def of_institution(db: Session, institution_id: int, limit: int = 50) -> list[DataCheck]:
    return list(
        db.scalars(
            select(DataCheck)
            .where(DataCheck.institution_id == institution_id)
            .order_by(DataCheck.id.desc())
            .limit(limit)
        )
    )


def for_institution(db: Session, institution_id: int, check_number: str) -> DataCheck | None:
    """The institution's own check by number (never another institution's: IDOR)."""
    return db.scalars(
        select(DataCheck).where(
            DataCheck.check_number == check_number, DataCheck.institution_id == institution_id
        )
    ).first()


def answer_visible(check: DataCheck, now: dt.datetime) -> bool:
    return now - check.at < RESULT_VISIBLE


def shown(check: DataCheck) -> dict[str, Any]:
    return dict(json.loads(check.shown))


def reset_failures(db: Session, institution: Institution) -> None:
    db.execute(
        update(Institution)
        .where(Institution.id == institution.id)
        .values(failed_checks=0, checks_locked_until=None)
    )
