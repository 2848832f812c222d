"""Step 5's carrier check, shared by the QR path (a phone holding a hand-off) and the direct
path (the applying phone or tablet itself).

Exactly one check runs per tap: the caller first wins a compare-and-set (the hand-off's status,
or the registration's ``checking_since``), commits it, and only then asks the carrier, outside
any transaction; the result is written with a second compare-and-set.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, inspect, or_, select, update
from sqlalchemy.orm import Session

from wizard.accounts import accounts
from wizard.carrier import CarrierGateway, NetworkCheck, NetworkIdentity, NetworkOutcome
from wizard.database.models import Handoff, Registration
from wizard.registration import flow, handoff, registrations

#: Failed checks a registration may have before it is stopped (a new QR code does not reset it).
MAX_FAILURES = 5
#: A direct check that has not finished after this long is presumed dead (worker killed).
STALE_CHECK = dt.timedelta(seconds=60)

#: The hand-off's outcome when the phone picked another number than the desktop showed.
NUMBER_MISMATCH = "number_mismatch"

#: Failures the person can fix on the spot (switch off WiFi, VPN, choose the data SIM) or that
#: are nobody's fault (carrier down): the same page may try again.
RETRYABLE = frozenset(
    {
        NetworkOutcome.WIFI,
        NetworkOutcome.ROAMING,
        NetworkOutcome.VPN,
        NetworkOutcome.OTHER_NUMBER,
        NetworkOutcome.UNAVAILABLE,
    }
)


def ask_carrier(
    gateway: CarrierGateway,
    registration: Registration,
    client_ip: str,
    identity: NetworkIdentity | None,
) -> NetworkOutcome:
    check = NetworkCheck(
        national_id=registration.national_id or "",
        carrier_code=registration.carrier.code if registration.carrier else "",
        msisdn=registration.msisdn or "",
        client_ip=client_ip,
        identity=identity,
    )
    return gateway.network_check(check).outcome


def asked_about(registration: Registration) -> tuple[object, ...]:
    """What a carrier check is about. If any of it changes while the carrier is being asked
    (the person went back to step 1-3 in another tab or on the desktop), the answer is void."""
    return (
        registration.step,
        registration.device,
        registration.national_id,
        registration.carrier_id,
        registration.msisdn,
        registration.nhi_card,
        registration.birth_date,
        registration.name,
        registration.password_hash,
    )


#: Every column of a registration (what ``unchanged`` re-reads).
_COLUMNS = tuple(column.key for column in inspect(Registration).column_attrs)


def unchanged(db: Session, registration: Registration, asked: tuple[object, ...]) -> bool:
    """Re-read the registration (its row locked until commit where the database can: the
    answer and the data it is about are then recorded together) and tell whether it is still
    what the carrier was asked about."""
    # The columns only: the loaded carrier stays (and PostgreSQL refuses FOR UPDATE on the
    # nullable side of the outer join that reloading it would add).
    db.refresh(registration, attribute_names=_COLUMNS, with_for_update=True)
    return asked_about(registration) == asked


def record_outcome(
    db: Session, registration: Registration, outcome: NetworkOutcome, now: dt.datetime
) -> bool:
    """Count a failure (carrier outages do not count) or mark the registration verified.
    Returns True when the registration may still try again."""
    if outcome is NetworkOutcome.OK:
        registrations.apply(
            registration,
            flow.advance(
                registrations.state(registration),
                flow.Step(registration.step),
                flow.Event.CARRIER_CONFIRMED,
            ),
        )
        registration.verified_at = now
        accounts.from_registration(db, registration, now)
        return False
    if outcome is not NetworkOutcome.UNAVAILABLE:
        count_failure(registration)
    else:
        registrations.touch(registration)
    return outcome in RETRYABLE and not locked(registration)


def count_failure(registration: Registration) -> None:
    """One more failed check (a carrier's no, or a wrong number on the phone)."""
    registration.verify_failures = (registration.verify_failures or 0) + 1
    registrations.touch(registration)


def locked(registration: Registration) -> bool:
    return (registration.verify_failures or 0) >= MAX_FAILURES


def claim_direct(db: Session, registration: Registration, now: dt.datetime) -> bool:
    """Compare-and-set for the direct path: True when this request may ask the carrier."""
    result = db.execute(
        update(Registration)
        .where(
            Registration.id == registration.id,
            or_(
                Registration.checking_since.is_(None),
                Registration.checking_since < now - STALE_CHECK,
            ),
            Registration.step == flow.Step.VERIFY.value,
        )
        .values(checking_since=now)
    )
    return (result.rowcount or 0) == 1


def claim_handoff(db: Session, item: Handoff, now: dt.datetime) -> bool:
    """Compare-and-set for the QR path: opened (before expiry) → checking, or take over a
    check that died, while the registration is still at step 4 (not gone back to change its
    data or device). True when this request may ask the carrier."""
    result = db.execute(
        update(Handoff)
        .where(
            Handoff.id == item.id,
            Handoff.registration_id.in_(
                select(Registration.id).where(Registration.step == flow.Step.QR_SCAN.value)
            ),
            or_(
                and_(Handoff.status == handoff.Status.OPENED.value, Handoff.expires_at > now),
                and_(
                    Handoff.status == handoff.Status.CHECKING.value,
                    Handoff.checking_since < now - STALE_CHECK,
                ),
            ),
        )
        .values(status=handoff.Status.CHECKING.value, checking_since=now)
    )
    return (result.rowcount or 0) == 1


def finish_handoff(
    db: Session, item: Handoff, outcome: NetworkOutcome, retry: bool, now: dt.datetime
) -> bool:
    """Second compare-and-set of the QR path: checking → verified / opened (retry) / failed."""
    if outcome is NetworkOutcome.OK:
        target = handoff.Status.VERIFIED
    elif retry:
        target = handoff.Status.OPENED
    else:
        target = handoff.Status.FAILED
    values: dict[str, object] = {"outcome": None if outcome is NetworkOutcome.OK else outcome.value}
    if target is handoff.Status.OPENED:
        values["finished_at"] = None
    return handoff.move(db, item.id, (handoff.Status.CHECKING,), target, now, **values)
