"""Carriers of the manual and the demo people of the carrier simulator (see README.md)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from wizard.carrier.simulator import import_rows
from wizard.database.models import Carrier, SimSubscriber

#: (code, brand, English name, operator code or None, merged on). The manual lists five brands;
#: 台灣之星 merged into 台灣大哥大 on 2023-12-01 and 亞太電信 into 遠傳電信 on
#: 2023-12-15, and people still pick the brand on their SIM, so the brands stay and point
#: to their operator.
CARRIERS: tuple[tuple[str, str, str, str | None, dt.date | None], ...] = (
    ("cht", "中華電信", "Chunghwa Telecom", None, None),
    ("twm", "台灣大哥大", "Taiwan Mobile", None, None),
    ("tstar", "台灣之星", "Taiwan Star", "twm", dt.date(2023, 12, 1)),
    ("fet", "遠傳電信", "Far EasTone", None, None),
    ("aptg", "亞太電信", "Asia Pacific Telecom", "fet", dt.date(2023, 12, 15)),
)

#: Columns of a demo person: the CSV import's, then its optional "status" (default "active").
_DEMO_COLUMNS = (
    "national_id",
    "name",
    "birth_date",
    "nhi_card",
    "carrier",
    "msisdn",
    "plan",
    "account",
    "mvno",
    "status",
)

#: Demo people: one for every answer the simulator gives. Same columns as the CSV import; a row
#: may leave out the last, optional column (status), as a CSV file may.
DEMO_PEOPLE: tuple[dict[str, str], ...] = tuple(
    dict(zip(_DEMO_COLUMNS[: max(len(row), len(_DEMO_COLUMNS) - 1)], row, strict=True))
    for row in (
        (
            "A123456789",
            "王小明",
            "1980-01-01",
            "000012345678",
            "cht",
            "0912345678",
            "monthly",
            "personal",
            "0",
        ),
        (
            "F223456713",
            "陳美玲",
            "1975-06-15",
            "000023456789",
            "twm",
            "0923456781",
            "monthly",
            "personal",
            "0",
        ),
        (
            "B120987653",
            "林志豪",
            "1990-12-31",
            "000034567890",
            "fet",
            "0934567812",
            "monthly",
            "personal",
            "0",
        ),
        (
            "E228765430",
            "張雅婷",
            "1988-02-29",
            "000045678901",
            "tstar",
            "0945678123",
            "monthly",
            "personal",
            "0",
        ),
        (
            "H122334450",
            "黃建國",
            "1962-10-10",
            "000056789012",
            "aptg",
            "0956781234",
            "monthly",
            "personal",
            "0",
        ),
        (
            "N223450986",
            "瓦歷斯·諾幹",
            "1961-08-05",
            "000067890123",
            "cht",
            "0967812345",
            "monthly",
            "personal",
            "0",
        ),
        (
            "Y120011223",
            "林𡘙",
            "2001-03-03",
            "000078901234",
            "twm",
            "0978123456",
            "monthly",
            "personal",
            "0",
        ),
        (
            "K224567899",
            "李淑芬",
            "1970-04-04",
            "000089012345",
            "cht",
            "0981234567",
            "prepaid",
            "personal",
            "0",
        ),
        (
            "S129876548",
            "吳家豪",
            "2010-05-05",
            "000090123456",
            "twm",
            "0912876543",
            "family",
            "personal",
            "0",
        ),
        (
            "T221122331",
            "劉怡君",
            "1985-07-07",
            "000001234567",
            "fet",
            "0928765432",
            "monthly",
            "enterprise",
            "0",
        ),
        (
            "R127654329",
            "蔡宗翰",
            "1992-09-09",
            "000011223344",
            "cht",
            "0938765421",
            "monthly",
            "personal",
            "1",
        ),
        (
            "L224680137",
            "周佩君",
            "1983-03-21",
            "000022446688",
            "fet",
            "0963579246",
            "monthly",
            "personal",
            "0",
            "suspended",
        ),
    )
)


def seed_carriers(db_session: Session) -> int:
    existing = {c.code: c for c in db_session.scalars(select(Carrier))}
    added = 0
    for order, (code, name, name_en, _operator, merged_on) in enumerate(CARRIERS):
        if code not in existing:
            existing[code] = Carrier(
                code=code, name=name, name_en=name_en, merged_on=merged_on, sort_order=order
            )
            db_session.add(existing[code])
            added += 1
    db_session.flush()
    for code, _name, _en, operator, _merged in CARRIERS:
        if operator is not None:
            existing[code].operator_id = existing[operator].id
    db_session.flush()
    return added


def seed_records(db_session: Session) -> int:
    """The demo people's insurance histories and COVID-19 applications (wizard/records/demo.py),
    when there are no insurance records at all yet."""
    from wizard.database.models import CovidApplication, InsuranceRecord
    from wizard.records.demo import covid_rows, record_rows

    if db_session.scalars(select(InsuranceRecord.id).limit(1)).first() is not None:
        return 0
    records = [InsuranceRecord(**values) for values in record_rows()]
    applications = [CovidApplication(**values) for values in covid_rows()]
    db_session.add_all([*records, *applications])
    db_session.flush()
    return len(records) + len(applications)


def seed(db_session: Session) -> int:
    """Add the carriers and, when the simulator's registry is empty, the demo people; and the
    demo people's insurance records when there are none."""
    added = seed_carriers(db_session)
    if db_session.scalars(select(SimSubscriber.id).limit(1)).first() is None:
        added += import_rows(db_session, DEMO_PEOPLE).added
    added += seed_records(db_session)
    return added


#: The demo institutions and staff (README "Institutions"): TOTP secrets printed for the demo
#: only. A demo member is refused at login in production (``StaffMember.demo``).
DEMO_INSTITUTIONS: tuple[dict[str, object], ...] = (
    {
        "code": "DEMO-TRAINING",
        "name": "示範職業訓練中心",
        "kind": "training",
        "purposes": ["training", "training_allowance"],
        "may_query": False,
        "staff": ("trainer", "陳訓練", "demo-trainer-2026", "BLIDEMOTRAINERSTAFFTOTPSECRET234"),
    },
    {
        "code": "DEMO-WDA",
        "name": "勞動部勞動力發展署（示範）",
        "kind": "agency",
        "purposes": ["training", "training_allowance", "employment_service", "subsidy_review"],
        "may_query": True,
        "staff": ("agency", "林發展", "demo-agency-2026", "BLIDEMOAGENCYSTAFFTOTPSECRET2345"),
    },
)


def seed_institutions(db_session: Session, secret_key: str, hasher: object) -> int:
    """The demo institutions and their staff, when there are no institutions yet."""
    import json

    from wizard.database.models import Institution, StaffMember
    from wizard.institutions import staff

    if db_session.scalars(select(Institution.id).limit(1)).first() is not None:
        return 0
    now = dt.datetime.now(dt.UTC)
    for demo in DEMO_INSTITUTIONS:
        institution = Institution(
            code=demo["code"],
            name=demo["name"],
            kind=demo["kind"],
            purposes=json.dumps(demo["purposes"]),
            may_query=demo["may_query"],
            failed_checks=0,
            created_at=now,
        )
        db_session.add(institution)
        db_session.flush()
        username, name, password, totp_secret = demo["staff"]  # type: ignore[misc]
        db_session.add(
            StaffMember(
                institution_id=institution.id,
                username=username,
                display_name=name,
                password_hash=hasher.hash(password),  # type: ignore[attr-defined]
                totp_secret=staff.seal(secret_key, totp_secret),
                totp_last_step=0,
                demo=True,
                failed_logins=0,
                lock_count=0,
                created_at=now,
            )
        )
    return 2 * len(DEMO_INSTITUTIONS)
