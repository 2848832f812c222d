"""The portal's query service: a person's insurance history, its summary, COVID-19 applications.

Pure queries over the database (no Flask): the views and the document builders call these with
the request's session. Dates are calendar dates in Taiwan; periods are inclusive at both ends
(``withdrawn_on`` None: still enrolled).

Totals (年資): the periods of one insurance type are merged first (overlapping or adjacent ones
become one), so parallel enrolments with two units are not counted twice; an open period counts
up to ``today``. A total is shown as X 年 Y 月 Z 日: each merged period is measured in calendar
years, months and days (2020-01-15 to 2020-03-14 is 2 months, see :func:`span`), the parts are
added, and 30 days carry into a month, 12 months into a year. The exact day count and
years with one decimal (days / 365.25) are given beside it.

``flask --app wsgi records import FILE.csv`` loads more records through :func:`import_rows`
(columns in :data:`CSV_HEADER`, README.md "Insurance records").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from wizard.database.models import CovidApplication, InsuranceRecord
from wizard.rules import identity
from wizard.web import i18n
from wizard.web.i18n import N_

#: Insurance types in display order, and their short and full names.
TYPES: tuple[str, ...] = ("labor", "employment", "occupational")
TYPE_NAMES: dict[str, str] = {
    "labor": N_("勞保"),
    "employment": N_("就保"),
    "occupational": N_("職保"),
}
TYPE_FULL_NAMES: dict[str, str] = {
    "labor": N_("勞工保險"),
    "employment": N_("就業保險"),
    "occupational": N_("職業災害保險"),
}
#: The first day each insurance existed: 就業保險法 took effect on 2003-01-01, 勞工職業災害保險及
#: 保護法 on 2022-05-01 (勞保 itself dates from 1950).
TYPE_STARTS: dict[str, dt.date] = {
    "labor": dt.date(1950, 3, 1),
    "employment": dt.date(2003, 1, 1),
    "occupational": dt.date(2022, 5, 1),
}

COVID_STATUSES: tuple[str, ...] = (N_("受理中"), N_("已核付"), N_("不予給付"))

_ONE_DAY = dt.timedelta(days=1)


# --- history ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One period as shown: the stored record plus what its neighbours say about it."""

    insurance_type: str
    unit_name: str
    unit_number: str
    insured_salary: int
    enrolled_on: dt.date
    withdrawn_on: dt.date | None
    #: It starts the day after a period with the same unit ended: a salary adjustment.
    adjusted: bool = False
    #: It ends the day before a period with the same unit starts: followed by an adjustment.
    continued: bool = False

    @property
    def type_name(self) -> str:
        return _(TYPE_NAMES[self.insurance_type])

    @property
    def note(self) -> str:
        """備註: 調薪生效 when the period starts with a salary adjustment (not a new enrolment),
        次日調薪 when its end is followed by one (not a real withdrawal)."""
        parts = []
        if self.adjusted:
            parts.append(_("調薪生效"))
        if self.continued:
            parts.append(_("次日調薪"))
        return _("；").join(parts)

    def overlaps(self, date_from: dt.date | None, date_to: dt.date | None) -> bool:
        if date_to is not None and self.enrolled_on > date_to:
            return False
        return not (
            date_from is not None
            and self.withdrawn_on is not None
            and self.withdrawn_on < date_from
        )

    def as_dict(self) -> dict[str, object]:
        """Plain values (JSON): what a document's content hash is computed over."""
        return {
            "type": self.insurance_type,
            "unit_name": self.unit_name,
            "unit_number": self.unit_number,
            "insured_salary": self.insured_salary,
            "enrolled_on": self.enrolled_on.isoformat(),
            "withdrawn_on": self.withdrawn_on.isoformat() if self.withdrawn_on else None,
        }


def _records(db: Session, national_id: str) -> list[InsuranceRecord]:
    return list(
        db.scalars(
            select(InsuranceRecord)
            .where(InsuranceRecord.national_id == national_id)
            .order_by(InsuranceRecord.enrolled_on, InsuranceRecord.id)
        )
    )


def _rows(records: Sequence[InsuranceRecord]) -> list[Row]:
    """Rows with their adjustment marks, sorted by type, then date."""
    ends = {
        (r.insurance_type, r.unit_number, r.withdrawn_on)
        for r in records
        if r.withdrawn_on is not None
    }
    starts = {(r.insurance_type, r.unit_number, r.enrolled_on) for r in records}
    rows = [
        Row(
            insurance_type=r.insurance_type,
            unit_name=r.unit_name,
            unit_number=r.unit_number,
            insured_salary=r.insured_salary,
            enrolled_on=r.enrolled_on,
            withdrawn_on=r.withdrawn_on,
            adjusted=(r.insurance_type, r.unit_number, r.enrolled_on - _ONE_DAY) in ends,
            continued=r.withdrawn_on is not None
            and (r.insurance_type, r.unit_number, r.withdrawn_on + _ONE_DAY) in starts,
        )
        for r in records
        if r.insurance_type in TYPES
    ]
    rows.sort(key=lambda row: (TYPES.index(row.insurance_type), row.enrolled_on, row.unit_number))
    return rows


def periods(db: Session, national_id: str) -> list[Row]:
    """All of the person's periods, read once: a page that shows both the history and the
    summary passes them to :func:`history_of` and :func:`summary_of`."""
    return _rows(_records(db, national_id))


def history(
    db: Session,
    national_id: str,
    types: Iterable[str] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[Row]:
    """The person's periods of the chosen types (all when ``types`` is empty or None) that
    overlap ``[date_from, date_to]`` (either end open when None), by type, then date."""
    return history_of(periods(db, national_id), types, date_from, date_to)


def history_of(
    rows: Sequence[Row],
    types: Iterable[str] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[Row]:
    """:func:`history` of periods already read."""
    chosen = set(types or ()) or set(TYPES)
    unknown = chosen - set(TYPES)
    if unknown:
        raise ValueError(f"unknown insurance type(s): {', '.join(sorted(unknown))}")
    return [
        row for row in rows if row.insurance_type in chosen and row.overlaps(date_from, date_to)
    ]


# --- totals -------------------------------------------------------------------------------


def merge(
    periods: Iterable[tuple[dt.date, dt.date | None]], today: dt.date
) -> list[tuple[dt.date, dt.date]]:
    """Merge overlapping or adjacent inclusive periods; an open end counts up to ``today``.

    Periods that start after ``today`` are left out, and none runs past ``today``.
    """
    closed = sorted((start, min(end or today, today)) for start, end in periods if start <= today)
    merged: list[tuple[dt.date, dt.date]] = []
    for start, end in closed:
        if end < start:
            continue
        if merged and start <= merged[-1][1] + _ONE_DAY:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - _ONE_DAY).day
    return dt.date(year, month, min(day.day, last))


def span(start: dt.date, end: dt.date) -> tuple[int, int, int]:
    """Calendar length of the inclusive period [start, end] as (years, months, days).

    Measured from ``start`` to the day after ``end``: 2020-01-01..2020-12-31 is (1, 0, 0),
    2020-01-15..2020-02-14 is (0, 1, 0), 2020-01-15..2020-02-13 is (0, 0, 30). A month from
    a day the target month lacks ends at that month's last day (Jan 31 + 1 month = Feb 29).
    """
    after = end + _ONE_DAY
    months = (after.year - start.year) * 12 + after.month - start.month
    if _add_months(start, months) > after:
        months -= 1
    days = (after - _add_months(start, months)).days
    return months // 12, months % 12, days


@dataclass(frozen=True)
class Duration:
    """A total insured time: the exact days, and X 年 Y 月 Z 日 (30 days carry into a month)."""

    days: int
    years: int
    months: int
    rest_days: int

    @classmethod
    def of(cls, periods: Iterable[tuple[dt.date, dt.date]]) -> Duration:
        total_days = years = months = days = 0
        for start, end in periods:
            total_days += (end - start).days + 1
            y, m, d = span(start, end)
            years, months, days = years + y, months + m, days + d
        months += days // 30
        years += months // 12
        return cls(total_days, years, months % 12, days % 30)

    @property
    def decimal_years(self) -> float:
        """Years with one decimal (days / 365.25)."""
        return round(self.days / 365.25, 1)

    def text(self) -> str:
        """'12 年 3 月 4 日' (zero parts left out except when everything is zero)."""
        parts = [
            text
            for value, text in (
                (self.years, ngettext("%(num)s 年", "%(num)s 年", self.years)),
                (self.months, ngettext("%(num)s 月", "%(num)s 月", self.months)),
                (self.rest_days, ngettext("%(num)s 日", "%(num)s 日", self.rest_days)),
            )
            if value
        ]
        return " ".join(parts) or ngettext("%(num)s 日", "%(num)s 日", 0)

    def long_text(self) -> str:
        """'12 年 3 月 4 日（4,478 日，約 12.3 年）'."""
        days = f"{self.days:,}"
        return _(
            "%(text)s（%(days)s 日，約 %(years)s 年）",
            text=self.text(),
            days=days,
            years=self.decimal_years,
        )


@dataclass(frozen=True)
class TypeSummary:
    insurance_type: str
    #: Periods covering ``today`` (several when enrolled with two units at once).
    current: tuple[Row, ...]
    total: Duration
    first_enrolled_on: dt.date | None
    #: The end of the latest period, when not enrolled now.
    last_withdrawn_on: dt.date | None
    has_records: bool = field(default=False)

    @property
    def type_name(self) -> str:
        return _(TYPE_NAMES[self.insurance_type])

    @property
    def full_name(self) -> str:
        return _(TYPE_FULL_NAMES[self.insurance_type])

    @property
    def enrolled(self) -> bool:
        return bool(self.current)

    @property
    def status_text(self) -> str:
        """投保中, 未在保（YYYY/MM/DD 退保）, or 無投保紀錄."""
        if self.current:
            return _("投保中")
        if self.last_withdrawn_on is not None:
            return _("未在保（%(date)s 退保）", date=i18n.day(self.last_withdrawn_on))
        return _("無投保紀錄")

    @property
    def salary(self) -> int | None:
        """The current insured salary (the sum when enrolled with several units)."""
        return sum(r.insured_salary for r in self.current) if self.current else None


def summary(
    db: Session, national_id: str, today: dt.date, types: Iterable[str] | None = None
) -> dict[str, TypeSummary]:
    """Per insurance type (in :data:`TYPES` order, only ``types`` when given): enrolled now?
    with which unit(s) and salary; the merged total insured time up to ``today``."""
    return summary_of(periods(db, national_id), today, types)


def summary_of(
    rows: Sequence[Row], today: dt.date, types: Iterable[str] | None = None
) -> dict[str, TypeSummary]:
    """:func:`summary` of periods already read."""
    chosen = set(types or ()) or set(TYPES)
    result: dict[str, TypeSummary] = {}
    for kind in TYPES:
        if kind not in chosen:
            continue
        mine = [r for r in rows if r.insurance_type == kind and r.enrolled_on <= today]
        current = tuple(r for r in mine if r.withdrawn_on is None or r.withdrawn_on >= today)
        ends = [r.withdrawn_on for r in mine if r.withdrawn_on is not None]
        result[kind] = TypeSummary(
            insurance_type=kind,
            current=current,
            total=Duration.of(merge(((r.enrolled_on, r.withdrawn_on) for r in mine), today)),
            first_enrolled_on=min((r.enrolled_on for r in mine), default=None),
            last_withdrawn_on=None if current or not ends else max(ends),
            has_records=bool(mine),
        )
    return result


# --- COVID-19 applications ----------------------------------------------------------------


@dataclass(frozen=True)
class CovidRow:
    kind: str
    applied_on: dt.date
    status: str
    paid_amount: int | None
    decided_on: dt.date | None


def covid(db: Session, national_id: str) -> list[CovidRow]:
    """The person's COVID-19 related applications, newest first."""
    found = db.scalars(
        select(CovidApplication)
        .where(CovidApplication.national_id == national_id)
        .order_by(CovidApplication.applied_on.desc(), CovidApplication.id.desc())
    )
    return [CovidRow(a.kind, a.applied_on, a.status, a.paid_amount, a.decided_on) for a in found]


# --- dates typed into the filter ----------------------------------------------------------

_ROC_OFFSET = 1911
_ROC_PREFIX = re.compile(r"(?:中華)?民國")
_SEPARATED = re.compile(r"([0-9]{2,4})[/.\-]([0-9]{1,2})[/.\-]([0-9]{1,2})", re.ASCII)
_CJK = re.compile(r"([0-9]{2,4})年([0-9]{1,2})月([0-9]{1,2})日?", re.ASCII)
_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})", re.ASCII)
EARLIEST = dt.date(1950, 1, 1)
LATEST = dt.date(2099, 12, 31)


class InvalidDate(ValueError):
    """``code``: "format" (unreadable), "day" (no such day), "range" (before 1950, after 2099)."""

    def __init__(self, code: str, text: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.text = text


def parse_date(raw: str) -> dt.date:
    """A date as people type it: 2020/01/31, 2020-01-31, 20200131, 2020年1月31日, or 民國
    109/01/31 (a 2- or 3-digit year is 民國). Full-width digits and spaces are folded."""
    text = identity.fold(raw)
    prefixed = _ROC_PREFIX.match(text)
    if prefixed:
        text = text[prefixed.end() :]
    match = _SEPARATED.fullmatch(text) or _CJK.fullmatch(text) or _COMPACT.fullmatch(text)
    if match is None:
        raise InvalidDate("format", raw)
    year_text, month, day = match.groups()
    year = int(year_text)
    if len(year_text) < 4:
        year += _ROC_OFFSET
    elif prefixed:
        raise InvalidDate("format", raw)
    try:
        value = dt.date(year, int(month), int(day))
    except ValueError:
        raise InvalidDate("day", raw) from None
    if not EARLIEST <= value <= LATEST:
        raise InvalidDate("range", raw)
    return value


def slash(day: dt.date | None) -> str:
    """YYYY/MM/DD, or '' for None."""
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}" if day else ""


def roc(day: dt.date) -> str:
    """中華民國115年11月30日."""
    return f"中華民國{day.year - _ROC_OFFSET}年{day.month}月{day.day}日"


# --- CSV import ---------------------------------------------------------------------------

CSV_HEADER = (
    "national_id",
    "insurance_type",
    "unit_name",
    "unit_number",
    "insured_salary",
    "enrolled_on",
    "withdrawn_on",
)
#: Accepted spellings of insurance_type.
TYPE_ALIASES: dict[str, str] = {
    **{kind: kind for kind in TYPES},
    **{name: kind for kind, name in TYPE_NAMES.items()},
}
_UNIT_NUMBER = re.compile(r"[0-9]{8,9}[A-Z]", re.ASCII)
_SALARY = re.compile(r"[0-9]{1,7}", re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}", re.ASCII)
UNIT_NAME_MAX = 100
SALARY_MAX = 999_999


class RecordCsvError(ValueError):
    """A row that cannot be loaded: the message names the line and the column."""

    def __init__(self, line: int | None, column: str | None, why: str) -> None:
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(where + why)
        self.line = line
        self.column = column


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0


def check_header(fieldnames: Sequence[str] | None) -> None:
    missing = [c for c in CSV_HEADER if c not in (fieldnames or [])]
    if missing:
        raise RecordCsvError(
            None,
            None,
            f"missing column(s): {', '.join(missing)}; header must be " + ",".join(CSV_HEADER),
        )


def _csv_date(line: int, column: str, raw: str) -> dt.date:
    text = raw.strip()
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError
        return dt.date(int(text[:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        raise RecordCsvError(line, column, f"expected YYYY-MM-DD, not {raw!r}") from None


def parse_row(line: int, row: dict[str, str | None]) -> dict[str, object]:
    """One CSV row → InsuranceRecord values, or :class:`RecordCsvError` naming line and column."""
    cells = {key: (value or "") for key, value in row.items() if key is not None}

    def fail(column: str, why: str) -> RecordCsvError:
        return RecordCsvError(line, column, why)

    try:
        national_id = identity.parse_national_id(cells.get("national_id", ""))
    except identity.Invalid as exc:
        raise fail("national_id", exc.code) from exc
    kind = TYPE_ALIASES.get(cells.get("insurance_type", "").strip().lower())
    if kind is None:
        raise fail("insurance_type", "one of labor, employment, occupational (or 勞保, 就保, 職保)")
    unit_name = " ".join(unicodedata.normalize("NFC", cells.get("unit_name", "")).split())
    if not unit_name:
        raise fail("unit_name", "must not be empty")
    if len(unit_name) > UNIT_NAME_MAX:
        raise fail("unit_name", f"at most {UNIT_NAME_MAX} characters")
    unit_number = identity.fold(cells.get("unit_number", ""))
    if not _UNIT_NUMBER.fullmatch(unit_number):
        raise fail("unit_number", "8 or 9 digits and a check letter, e.g. 01234567A")
    salary_text = cells.get("insured_salary", "").strip().replace(",", "")
    if not _SALARY.fullmatch(salary_text) or not 1 <= int(salary_text) <= SALARY_MAX:
        raise fail("insured_salary", f"a whole number of NTD from 1 to {SALARY_MAX}")
    enrolled_on = _csv_date(line, "enrolled_on", cells.get("enrolled_on", ""))
    if enrolled_on < TYPE_STARTS[kind]:
        raise fail(
            "enrolled_on",
            f"{TYPE_FULL_NAMES[kind]} began on {TYPE_STARTS[kind].isoformat()};"
            f" {enrolled_on.isoformat()} is earlier",
        )
    withdrawn_text = cells.get("withdrawn_on", "").strip()
    withdrawn_on = _csv_date(line, "withdrawn_on", withdrawn_text) if withdrawn_text else None
    if withdrawn_on is not None and withdrawn_on < enrolled_on:
        raise fail("withdrawn_on", "must not be before enrolled_on")
    return {
        "national_id": national_id,
        "insurance_type": kind,
        "unit_name": unit_name,
        "unit_number": unit_number,
        "insured_salary": int(salary_text),
        "enrolled_on": enrolled_on,
        "withdrawn_on": withdrawn_on,
    }


def import_rows(db: Session, rows: Iterable[dict[str, str | None]]) -> ImportReport:
    """Validate every row (line numbers count the header as line 1), then upsert each by
    (national_id, insurance_type, unit_number, enrolled_on). Nothing is written if any row is
    bad; the caller commits."""
    parsed: list[dict[str, object]] = []
    seen: dict[tuple[object, ...], int] = {}
    for line, row in enumerate(rows, start=2):
        values = parse_row(line, row)
        key = tuple(
            values[k] for k in ("national_id", "insurance_type", "unit_number", "enrolled_on")
        )
        if key in seen:
            raise RecordCsvError(
                line, "enrolled_on", f"the same period as line {seen[key]} (same unit and date)"
            )
        seen[key] = line
        parsed.append(values)
    report = ImportReport()
    for values in parsed:
        existing = db.scalars(
            select(InsuranceRecord).where(
                InsuranceRecord.national_id == values["national_id"],
                InsuranceRecord.insurance_type == values["insurance_type"],
                InsuranceRecord.unit_number == values["unit_number"],
                InsuranceRecord.enrolled_on == values["enrolled_on"],
            )
        ).first()
        if existing is None:
            db.add(InsuranceRecord(**values))
            report.added += 1
        else:
            for key in ("unit_name", "insured_salary", "withdrawn_on"):
                setattr(existing, key, values[key])
            report.updated += 1
    db.flush()
    return report
