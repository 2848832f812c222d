"""The carrier-network simulator: answers like the real gateway, from a registry in the database.

The registry (table ``sim_subscriber``) is loaded from CSV with
``flask --app wsgi simulator import FILE.csv``; rows are upserted by national ID.
"""

from __future__ import annotations

import csv
import datetime as dt
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

import click
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from wizard import identity
from wizard.carrier import PersonClaim, PrecheckOutcome, PrecheckResult
from wizard.models import Carrier, SimSubscriber

CSV_HEADER = ("national_id", "name", "birth_date", "nhi_card", "carrier", "msisdn", "plan",
              "account", "mvno")
PLANS = ("monthly", "prepaid", "family")
ACCOUNTS = ("personal", "enterprise")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class SimulatorGateway:
    """Decides like a carrier would, from the simulator's registry."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._session_factory = session_factory

    def precheck(self, claim: PersonClaim) -> PrecheckResult:
        with self._session_factory() as db_session:
            subscriber = db_session.scalars(
                select(SimSubscriber).where(SimSubscriber.msisdn == claim.msisdn)
            ).first()
            chosen = db_session.scalars(
                select(Carrier).where(Carrier.code == claim.carrier_code)
            ).first()
            return PrecheckResult(_decide(claim, subscriber, chosen))


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

    try:
        national_id = identity.parse_national_id(row["national_id"])
        name = identity.parse_name(row["name"])
        nhi_card = identity.parse_nhi_card(row["nhi_card"])
        msisdn = identity.parse_msisdn(row["msisdn"])
    except identity.Invalid as exc:
        raise fail(exc.code.split(".")[0], exc.code) from exc
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
    }


def read_csv(handle: IO[str]) -> list[dict[str, str]]:
    reader = csv.DictReader(handle)
    missing = [c for c in CSV_HEADER if c not in (reader.fieldnames or [])]
    if missing:
        raise CsvRowError(f"missing column(s): {', '.join(missing)}; header must be "
                           + ",".join(CSV_HEADER))
    return list(reader)


@click.group("simulator")
def simulator_cli() -> None:
    """The carrier simulator's registry."""


@simulator_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
def import_command(file: IO[str]) -> None:
    """Load subscribers from FILE.csv (header: national_id,name,birth_date,nhi_card,carrier,
    msisdn,plan,account,mvno), upserting by national_id."""
    from wizard.db import create_all

    create_all()
    rows = read_csv(file)
    with current_app.extensions["db_sessionmaker"]() as db_session:
        report = import_rows(db_session, rows)
        db_session.commit()
    click.echo(f"Imported {report.added + report.updated} subscribers "
               f"({report.added} added, {report.updated} updated).")
