"""The carrier-network simulator: answers like the real gateway, from a registry in the database.

The registry (table ``sim_subscriber``) is loaded from CSV with
``flask --app wsgi simulator import FILE.csv``; rows are upserted by national ID. Besides the
contract's columns a file may carry an optional ``status`` column (``active`` or
``suspended``; ``active`` when the column is absent or the cell empty).

Step 5 needs to know how the phone's request reached us. The real gateway finds that out from
its own network; the simulator is told, by the ``X-Sim-Network`` / ``X-Sim-Msisdn`` headers a
carrier's header enrichment would add, or by the marked simulator panel on the phone's page
(:meth:`SimulatorGateway.identity_from`). ``SIM_LATENCY`` and ``SIM_FAILURE_RATE`` make the
step-5 check slow or flaky, to show what a person sees when the carrier is.
"""

from __future__ import annotations

import csv
import datetime as dt
import hmac
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import IO

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from wizard.carrier.contract import (
    Network,
    NetworkCheck,
    NetworkIdentity,
    NetworkOutcome,
    NetworkResult,
    PersonClaim,
    PrecheckOutcome,
    PrecheckResult,
)
from wizard.database.models import Carrier, SimSubscriber
from wizard.rules import identity

CSV_HEADER = (
    "national_id",
    "name",
    "birth_date",
    "nhi_card",
    "carrier",
    "msisdn",
    "plan",
    "account",
    "mvno",
)
#: Columns a file may add to the contract's header.
OPTIONAL_COLUMNS = ("status",)
PLANS = ("monthly", "prepaid", "family")
ACCOUNTS = ("personal", "enterprise")
STATUSES = ("active", "suspended")

#: Header names of the simulated header enrichment, and the simulator panel's form fields.
NETWORK_HEADER = "X-Sim-Network"
MSISDN_HEADER = "X-Sim-Msisdn"
NETWORK_FIELD = "sim_network"
MSISDN_FIELD = "sim_msisdn"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class SimulatorGateway:
    """Decides like a carrier would, from the simulator's registry.

    ``latency`` (seconds) and ``failure_rate`` (0..1: the share of step-5 checks answered
    UNAVAILABLE) come from ``SIM_LATENCY`` / ``SIM_FAILURE_RATE``; ``rng`` and ``sleep`` are
    there for tests. Nothing here needs Flask.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        latency: float = 0.0,
        failure_rate: float = 0.0,
        rng: random.Random | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if latency < 0:
            raise ValueError("latency must not be negative")
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate must be between 0 and 1")
        self._session_factory = session_factory
        self.latency = float(latency)
        self.failure_rate = float(failure_rate)
        self._rng = rng or random.Random()
        self._sleep = sleep

    def precheck(self, claim: PersonClaim) -> PrecheckResult:
        with self._session_factory() as db_session:
            subscriber, chosen = _registry_rows(db_session, claim.msisdn, claim.carrier_code)
            return PrecheckResult(_decide(claim, subscriber, chosen))

    def network_check(self, check: NetworkCheck) -> NetworkResult:
        """Step 5, decided as a carrier would, most specific network reason first.

        1. ``SIM_LATENCY`` is waited; then ``SIM_FAILURE_RATE`` of the checks are UNAVAILABLE.
        2. How the request arrived: no network identity at all (no headers, no panel choice)
           is what the real gateway sees over WiFi, a number it cannot see: WIFI. Then
           WIFI, ROAMING and VPN as the network reports them.
        3. Over 4G/5G the network reports a number; any other number than ``check.msisdn``
           (including none, or one that could not be read) is OTHER_NUMBER: on a dual-SIM
           phone, mobile data runs on the other SIM.
        4. The registry: no subscriber with that number, or one with another national ID, is
           NOT_OWNER; then MVNO. A number on another network than the chosen brand's (a brand
           merged into an operator counts as that operator) cannot happen after the step-2
           precheck unless the number was ported in between: the number is then no longer the
           one the person registered with that carrier, so NOT_OWNER as well (the interface
           has no wrong-carrier answer at step 5, and the person must start again anyway).
        5. Then ENTERPRISE, PREPAID, FAMILY, SUSPENDED, else OK.
        """
        if self.latency > 0:
            self._sleep(self.latency)
        if self.failure_rate > 0 and self._rng.random() < self.failure_rate:
            return NetworkResult(NetworkOutcome.UNAVAILABLE)
        by_network = _network_outcome(check)
        if by_network is not None:
            return NetworkResult(by_network)
        with self._session_factory() as db_session:
            subscriber, chosen = _registry_rows(db_session, check.msisdn, check.carrier_code)
            return NetworkResult(_decide_network(check, subscriber, chosen))

    @staticmethod
    def identity_from(
        headers: Mapping[str, str], form: Mapping[str, str]
    ) -> NetworkIdentity | None:
        """The phone's network identity as the simulator is told it.

        From the headers ``X-Sim-Network`` (4g, 5g, wifi, roaming, vpn; any case) and
        ``X-Sim-Msisdn``; else from the simulator panel's fields ``sim_network`` and
        ``sim_msisdn``; else None. A source counts only when its network is one of those
        values. The number is normalised like the step-2 field; one that cannot be read
        becomes None (the network then reports no usable number).
        """
        sources: tuple[tuple[Mapping[str, str], str, str], ...] = (
            (headers, NETWORK_HEADER, MSISDN_HEADER),
            (form, NETWORK_FIELD, MSISDN_FIELD),
        )
        for source, network_key, msisdn_key in sources:
            network = _network(_lookup(source, network_key))
            if network is not None:
                return NetworkIdentity(network, _msisdn(_lookup(source, msisdn_key)))
        return None


def _lookup(mapping: Mapping[str, str], key: str) -> str | None:
    """``mapping[key]``; case-insensitive for plain dicts too (werkzeug's headers already are)."""
    value = mapping.get(key)
    if value is None:
        lowered = key.lower()
        for name, candidate in mapping.items():
            if name.lower() == lowered:
                return candidate
    return value


def _network(raw: str | None) -> Network | None:
    if raw is None:
        return None
    try:
        return Network(raw.strip().lower())
    except ValueError:
        return None


def _msisdn(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return identity.parse_msisdn(raw)
    except identity.Invalid:
        return None


_NETWORK_OUTCOMES = {
    Network.WIFI: NetworkOutcome.WIFI,
    Network.ROAMING: NetworkOutcome.ROAMING,
    Network.VPN: NetworkOutcome.VPN,
}


def _network_outcome(check: NetworkCheck) -> NetworkOutcome | None:
    """The answer decided by how the request arrived, or None when it came over 4G/5G from
    the number being checked."""
    seen = check.identity
    if seen is None:
        return NetworkOutcome.WIFI
    if seen.network in _NETWORK_OUTCOMES:
        return _NETWORK_OUTCOMES[seen.network]
    if seen.msisdn is None or not _same(seen.msisdn, check.msisdn):
        return NetworkOutcome.OTHER_NUMBER
    return None


def _decide_network(
    check: NetworkCheck, subscriber: SimSubscriber | None, chosen: Carrier | None
) -> NetworkOutcome:
    if subscriber is None or not _same(subscriber.national_id, check.national_id):
        return NetworkOutcome.NOT_OWNER
    if subscriber.mvno:
        return NetworkOutcome.MVNO
    if chosen is None or subscriber.carrier.network.id != chosen.network.id:
        # Ported to another network since step 2: no longer the number registered with that
        # carrier (see SimulatorGateway.network_check).
        return NetworkOutcome.NOT_OWNER
    if subscriber.account == "enterprise":
        return NetworkOutcome.ENTERPRISE
    if subscriber.plan == "prepaid":
        return NetworkOutcome.PREPAID
    if subscriber.plan == "family":
        return NetworkOutcome.FAMILY
    if subscriber.status == "suspended":
        return NetworkOutcome.SUSPENDED
    return NetworkOutcome.OK


def _registry_rows(
    db_session: Session, msisdn: str, carrier_code: str
) -> tuple[SimSubscriber | None, Carrier | None]:
    """The registry's holder of ``msisdn`` and the brand the person chose."""
    subscriber = db_session.scalars(
        select(SimSubscriber).where(SimSubscriber.msisdn == msisdn)
    ).first()
    chosen = db_session.scalars(select(Carrier).where(Carrier.code == carrier_code)).first()
    return subscriber, chosen


def _decide(
    claim: PersonClaim, subscriber: SimSubscriber | None, chosen: Carrier | None
) -> PrecheckOutcome:
    # Identity first, with every field compared, so a mismatch says nothing about which one.
    if subscriber is None or chosen is None:
        return PrecheckOutcome.MISMATCH
    matches = [
        _same(subscriber.national_id, claim.national_id),
        _same(subscriber.name, claim.name),
        subscriber.birth_date == claim.birth_date,
        _same(subscriber.nhi_card, claim.nhi_card),
    ]
    if not all(matches):
        return PrecheckOutcome.MISMATCH
    # The number is this person's: now each reason it cannot be used, most specific first.
    if subscriber.mvno:
        return PrecheckOutcome.MVNO
    if subscriber.carrier.network.id != chosen.network.id:
        return PrecheckOutcome.WRONG_CARRIER
    if subscriber.account == "enterprise":
        return PrecheckOutcome.ENTERPRISE
    if subscriber.plan == "prepaid":
        return PrecheckOutcome.PREPAID
    if subscriber.plan == "family":
        return PrecheckOutcome.FAMILY
    return PrecheckOutcome.OK


class CsvRowError(click.ClickException):
    """A CSV row that cannot be loaded; the message names the line and the column."""


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0


def import_rows(db_session: Session, rows: Iterable[dict[str, str]]) -> ImportReport:
    """Validate every row, then upsert by national ID. Nothing is written if any row is bad."""
    carriers = {c.name: c for c in db_session.scalars(select(Carrier))}
    carriers.update({c.code: c for c in carriers.values()})
    report = ImportReport()
    parsed: list[dict[str, object]] = []
    for line, row in enumerate(rows, start=2):
        parsed.append(_parse_row(line, row, carriers))
    for values in parsed:
        existing = db_session.scalars(
            select(SimSubscriber).where(SimSubscriber.national_id == values["national_id"])
        ).first()
        if existing is None:
            db_session.add(SimSubscriber(**values))
            report.added += 1
        else:
            for key, value in values.items():
                setattr(existing, key, value)
            report.updated += 1
        db_session.flush()
    return report


def _parse_row(line: int, row: dict[str, str], carriers: dict[str, Carrier]) -> dict[str, object]:
    def fail(column: str, why: str) -> CsvRowError:
        return CsvRowError(f"line {line}, column {column}: {why}")

    # A short row has None for its missing cells: an empty cell, refused like one.
    row = {key: value or "" for key, value in row.items() if key is not None}
    parsed: dict[str, str] = {}
    for column, parse in (
        ("national_id", identity.parse_national_id),
        ("name", identity.parse_name),
        ("nhi_card", identity.parse_nhi_card),
        ("msisdn", identity.parse_msisdn),
    ):
        try:
            parsed[column] = parse(row[column])
        except identity.Invalid as exc:
            raise fail(column, exc.code) from exc
    national_id, name = parsed["national_id"], parsed["name"]
    nhi_card, msisdn = parsed["nhi_card"], parsed["msisdn"]
    try:
        birth_date = dt.date.fromisoformat(row["birth_date"].strip())
    except ValueError as exc:
        raise fail("birth_date", "expected YYYY-MM-DD") from exc
    carrier = carriers.get(row["carrier"].strip())
    if carrier is None:
        raise fail("carrier", f"unknown carrier {row['carrier']!r}")
    plan, account, mvno = (row[k].strip().lower() for k in ("plan", "account", "mvno"))
    if plan not in PLANS:
        raise fail("plan", f"one of {', '.join(PLANS)}")
    if account not in ACCOUNTS:
        raise fail("account", f"one of {', '.join(ACCOUNTS)}")
    if mvno not in ("0", "1"):
        raise fail("mvno", "0 or 1")
    # Optional column: absent (or an empty cell) means active.
    status = (row.get("status") or "").strip().lower() or "active"
    if status not in STATUSES:
        raise fail("status", f"one of {', '.join(STATUSES)}")
    return {
        "national_id": national_id,
        "name": name,
        "birth_date": birth_date,
        "nhi_card": nhi_card,
        "carrier_id": carrier.id,
        "msisdn": msisdn,
        "plan": plan,
        "account": account,
        "mvno": mvno == "1",
        "status": status,
    }


def read_csv(handle: IO[str]) -> list[dict[str, str]]:
    reader = csv.DictReader(handle)
    missing = [c for c in CSV_HEADER if c not in (reader.fieldnames or [])]
    if missing:
        raise CsvRowError(
            f"missing column(s): {', '.join(missing)}; header must be " + ",".join(CSV_HEADER)
        )
    return list(reader)


@click.group("simulator")
def simulator_cli() -> None:
    """The carrier simulator's registry."""


@simulator_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@with_appcontext
def import_command(file: IO[str]) -> None:
    """Load subscribers from FILE.csv (header: national_id,name,birth_date,nhi_card,carrier,
    msisdn,plan,account,mvno, optionally status: active|suspended), upserting by national_id."""
    from wizard.database.db import create_all

    create_all()
    rows = read_csv(file)
    with current_app.extensions["db_sessionmaker"]() as db_session:
        report = import_rows(db_session, rows)
        db_session.commit()
    click.echo(
        f"Imported {report.added + report.updated} subscribers "
        f"({report.added} added, {report.updated} updated)."
    )
