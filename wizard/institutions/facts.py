"""The minimised answer a check gives, computed from the person's records.

Only dates and yes/no, never a unit's name, number or an insured salary: for each insurance
type whether the person is insured today and since when (the start of the continuous stretch
that reaches today, adjacent periods and salary adjustments merged), and, when the person chose
it, the merged periods of the last N years (clipped to that window). Plain JSON values: what is
stored in ``DataCheck.shown`` and rendered, identically, to the person's preview, the staff's
page, the receipt and the API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from wizard.records import records

SCOPES = ("status", "periods")
MAX_YEARS = 10


def _years_before(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28) + dt.timedelta(days=1)


def status(db: Session, national_id: str, today: dt.date) -> dict[str, dict[str, Any]]:
    """Per type (records.TYPES order): ``{"insured": bool, "since": "YYYY-MM-DD" | None}``."""
    return status_of(records.periods(db, national_id), today)


def status_of(rows: list[records.Row], today: dt.date) -> dict[str, dict[str, Any]]:
    """:func:`status` of the person's periods already read (``records.periods``)."""
    result: dict[str, dict[str, Any]] = {}
    for kind in records.TYPES:
        merged = records.merge(
            ((r.enrolled_on, r.withdrawn_on) for r in rows if r.insurance_type == kind), today
        )
        current = [
            (start, end)
            for start, end in merged
            if end == today and _covers_today(rows, kind, today)
        ]
        since = current[-1][0] if current else None
        result[kind] = {"insured": since is not None, "since": since.isoformat() if since else None}
    return result


def _covers_today(rows: list[records.Row], kind: str, today: dt.date) -> bool:
    return any(
        r.insurance_type == kind
        and r.enrolled_on <= today
        and (r.withdrawn_on is None or r.withdrawn_on >= today)
        for r in rows
    )


def periods(db: Session, national_id: str, today: dt.date, years: int) -> list[dict[str, Any]]:
    """The merged periods of the last ``years`` years, per type: ``{"type", "from", "to"}``
    (``to`` None while it continues today)."""
    return periods_of(records.periods(db, national_id), today, years)


def periods_of(rows: list[records.Row], today: dt.date, years: int) -> list[dict[str, Any]]:
    """:func:`periods` of the person's periods already read (``records.periods``)."""
    start = _years_before(today, years)
    rows = records.history_of(rows, date_from=start, date_to=today)
    result: list[dict[str, Any]] = []
    for kind in records.TYPES:
        mine = [r for r in rows if r.insurance_type == kind]
        for begin, end in records.merge(((r.enrolled_on, r.withdrawn_on) for r in mine), today):
            if end < start:
                continue
            ongoing = end == today and _covers_today(mine, kind, today)
            result.append(
                {
                    "type": kind,
                    "from": max(begin, start).isoformat(),
                    "to": None if ongoing else end.isoformat(),
                }
            )
    return result


def shown(db: Session, national_id: str, today: dt.date, scope: str, years: int) -> dict[str, Any]:
    """Everything a check with this scope shows (``as_of`` is the day it describes)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    rows = records.periods(db, national_id)  # one read for the status and the periods
    answer: dict[str, Any] = {
        "as_of": today.isoformat(),
        "scope": scope,
        "status": status_of(rows, today),
    }
    if scope == "periods":
        answer["years"] = years
        answer["periods"] = periods_of(rows, today, years)
    return answer
