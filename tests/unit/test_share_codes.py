"""The share code (wizard/institutions/codes.py: pure), the share's rules
(wizard/institutions/shares.py) and the minimised answer a check gives
(wizard/institutions/facts.py), the last two on a test database."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from wizard.database.models import InsuranceRecord, Share
from wizard.institutions import codes, facts, shares

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 30)
#: IDs not in the demo data: the records of these tests are the only ones.
HOLDER = "Z100000001"
WITHDRAWN = "Z200000002"


# --- codes ----------------------------------------------------------------------------------


def test_the_alphabet_has_no_characters_read_as_another() -> None:
    assert not set("0O1IL") & set(codes.ALPHABET)
    assert len(set(codes.ALPHABET)) == len(codes.ALPHABET) == 31
    assert codes.ALPHABET == codes.ALPHABET.upper() and codes.ALPHABET.isalnum()


def test_length_and_bits() -> None:
    assert codes.LENGTH == 9
    assert codes.BITS == pytest.approx(44.6, abs=0.05)
    assert codes.BITS == pytest.approx(codes.LENGTH * math.log2(len(codes.ALPHABET)))


def test_show_groups_three_three_three() -> None:
    assert codes.show("K7PQ4MX9T") == "K7P-Q4M-X9T"


@pytest.mark.parametrize(
    "typed",
    [
        "K7P-Q4M-X9T",
        "K7PQ4MX9T",
        "k7p-q4m-x9t",
        "ｋ７ｐ－ｑ４ｍ－ｘ９ｔ",  # full-width: an IME left on
        "Ｋ７Ｐ　Ｑ４Ｍ　Ｘ９Ｔ",  # full-width letters, ideographic spaces
        " K7P Q4M X9T ",
        "K7P–Q4M—X9T",  # en dash, em dash
        "K7P‐Q4M‑X9T",  # hyphen, non-breaking hyphen
        "K7P−Q4M―X9T",  # minus sign, horizontal bar
        "K7P_Q4M.X9T",
        "K7P\tQ4M\nX9T",
    ],
)
def test_parse_accepts_what_people_type(typed: str) -> None:
    assert codes.parse(typed) == "K7PQ4MX9T"


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("- - -", "empty"),
        (None, "empty"),
        ("K7P-Q4M", "length"),
        ("K7P-Q4M-X9TT", "length"),
        ("K7P-Q4M-X9TTKK", "length"),
        ("K0P-Q4M-X9T", "characters"),  # zero
        ("KOP-Q4M-X9T", "characters"),  # letter O
        ("K1P-Q4M-X9T", "characters"),  # one
        ("KIP-Q4M-X9T", "characters"),
        ("KLP-Q4M-X9T", "characters"),
        ("klp-q4m-x9t", "characters"),  # lower-case l is L
        ("K7P-Q4M-X9#", "characters"),
        ("K7P-Q4M-分享碼", "characters"),
    ],
)
def test_parse_says_which_rule_was_broken(typed: str, rule: str) -> None:
    with pytest.raises(codes.MalformedCode) as raised:
        codes.parse(typed)
    assert raised.value.code == rule
    assert isinstance(raised.value, ValueError)


def test_new_uses_only_the_alphabet_and_is_not_constant() -> None:
    made = {codes.new() for _ in range(200)}
    assert len(made) > 190  # 31**9 codes: a repeat in 200 is about 1e-9
    for code in made:
        assert len(code) == codes.LENGTH and set(code) <= set(codes.ALPHABET)
    # Every character of the alphabet turns up (1,800 draws of 31).
    assert set("".join(made)) == set(codes.ALPHABET)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**6))
def test_a_new_code_survives_being_shown_and_read_back(_n: int) -> None:
    code = codes.new()
    assert codes.parse(codes.show(code)) == code
    assert codes.parse(codes.show(code).lower()) == code


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=codes.ALPHABET, min_size=codes.LENGTH, max_size=codes.LENGTH))
def test_any_code_of_the_alphabet_round_trips(code: str) -> None:
    assert codes.parse(codes.show(code)) == code
    assert len(codes.show(code)) == 11 and codes.show(code).count("-") == 2


# --- shares: the choice ------------------------------------------------------------------


def choice(**changes: object) -> shares.Choice:
    values: dict[str, object] = {
        "purpose": "training",
        "scope": "status",
        "years": 0,
        "days": 30,
        "max_uses": 1,
    }
    values.update(changes)
    return shares.Choice(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "ok",
    [
        {},
        {"days": 1},
        {"days": 90},
        {"max_uses": 5},
        {"scope": "periods", "years": 1},
        {"scope": "periods", "years": 10},
        {"scope": "status", "years": 99},  # years only matter for periods
        {"purpose": "subsidy_review"},
    ],
)
def test_choices_within_the_limits_pass(ok: dict[str, object]) -> None:
    choice(**ok).check()


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": 91}, "days"),
        ({"max_uses": 0}, "max_uses"),
        ({"max_uses": 6}, "max_uses"),
        ({"scope": "periods", "years": 0}, "years"),
        ({"scope": "periods", "years": 11}, "years"),
        ({"purpose": "marketing"}, "purpose"),
        ({"scope": "everything"}, "scope"),
    ],
)
def test_choices_past_the_limits_are_refused(bad: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        choice(**bad).check()


# --- shares: status -------------------------------------------------------------------------


def share(**changes: object) -> Share:
    values: dict[str, object] = {
        "national_id": HOLDER,
        "code_hash": "x" * 64,
        "purpose": "training",
        "scope": "status",
        "years": 0,
        "max_uses": 2,
        "uses": 0,
        "failures": 0,
        "created_at": NOW - dt.timedelta(days=1),
        "expires_at": NOW + dt.timedelta(days=29),
        "revoked_at": None,
    }
    values.update(changes)
    return Share(**values)


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({}, "live"),
        ({"uses": 1}, "live"),
        ({"failures": shares.MAX_WRONG_IDS - 1}, "live"),
        ({"revoked_at": NOW - dt.timedelta(hours=1)}, "revoked"),
        ({"expires_at": NOW}, "expired"),
        ({"expires_at": NOW - dt.timedelta(seconds=1)}, "expired"),
        ({"uses": 2}, "used"),
        ({"failures": shares.MAX_WRONG_IDS}, "blocked"),
        # Revoked says revoked whatever else is true; used before expired.
        ({"revoked_at": NOW, "uses": 2, "expires_at": NOW}, "revoked"),
        ({"uses": 2, "expires_at": NOW}, "used"),
    ],
)
def test_status_and_is_live_agree(changes: dict[str, object], state: str) -> None:
    row = share(**changes)
    assert shares.status(row, NOW) == state
    assert shares.is_live(row, NOW) is (state == "live")


def test_code_hash_is_keyed_by_the_secret() -> None:
    code = "K7PQ4MX9T"
    one, other = shares.code_hash("secret-one", code), shares.code_hash("secret-two", code)
    assert one != other
    assert one == shares.code_hash("secret-one", code)  # deterministic: found by lookup
    assert len(one) == 64 and code not in one
    assert shares.code_hash("secret-one", "K7PQ4MX9W") != one


# --- shares and facts on a database ---------------------------------------------------------


@pytest.fixture
def database(app: Flask) -> Iterator[Session]:
    with app.app_context(), app.extensions["db_sessionmaker"]() as session:
        yield session


def test_create_keeps_only_the_hmac_and_finds_by_it(database: Session) -> None:
    row, code = shares.create(database, "s", HOLDER, choice(scope="periods", years=3), NOW)
    database.commit()
    assert row.code_hash == shares.code_hash("s", code) and code not in row.code_hash
    assert (row.years, row.uses, row.expires_at) == (3, 0, NOW + dt.timedelta(days=30))
    assert shares.find(database, "s", code).id == row.id  # type: ignore[union-attr]
    assert shares.find(database, "another secret", code) is None
    status_only, _code = shares.create(database, "s", HOLDER, choice(years=7), NOW)
    assert status_only.years == 0  # kept only for periods


def test_create_checks_the_choice(database: Session) -> None:
    with pytest.raises(ValueError, match="days"):
        shares.create(database, "s", HOLDER, choice(days=91), NOW)


def test_at_most_max_live_shares_at_once(database: Session) -> None:
    made = [shares.create(database, "s", HOLDER, choice(), NOW)[0] for _ in range(shares.MAX_LIVE)]
    database.commit()
    with pytest.raises(shares.TooManyShares):
        shares.create(database, "s", HOLDER, choice(), NOW)
    # Another person is not affected.
    shares.create(database, "s", WITHDRAWN, choice(), NOW)
    # A revoked one no longer counts; nor does one that has expired.
    assert shares.revoke(database, HOLDER, made[0].id, NOW)
    shares.create(database, "s", HOLDER, choice(), NOW)
    with pytest.raises(shares.TooManyShares):
        shares.create(database, "s", HOLDER, choice(), NOW)
    later = NOW + dt.timedelta(days=31)
    assert len(shares.mine(database, HOLDER)) == shares.MAX_LIVE + 1
    shares.create(database, "s", HOLDER, choice(), later)


def test_use_takes_the_last_use_once(database: Session) -> None:
    row, _code = shares.create(database, "s", HOLDER, choice(max_uses=1), NOW)
    assert shares.use(database, row, NOW) is True
    assert shares.use(database, row, NOW) is False
    database.refresh(row)
    assert shares.status(row, NOW) == "used"


def _period(
    national_id: str,
    kind: str,
    start: dt.date,
    end: dt.date | None,
    unit: str = "示範股份有限公司",
    number: str = "01234567A",
    salary: int = 45800,
) -> InsuranceRecord:
    return InsuranceRecord(
        national_id=national_id,
        insurance_type=kind,
        unit_name=unit,
        unit_number=number,
        insured_salary=salary,
        enrolled_on=start,
        withdrawn_on=end,
    )


@pytest.fixture
def records(database: Session) -> Session:
    d = dt.date
    database.add_all(
        [
            # 勞保: an old stretch, a gap, then a stretch with a salary adjustment reaching today.
            _period(
                HOLDER, "labor", d(2010, 3, 1), d(2012, 12, 31), unit="舊公司", number="11111111B"
            ),
            _period(HOLDER, "labor", d(2015, 1, 1), d(2018, 6, 30), salary=30300),
            _period(HOLDER, "labor", d(2018, 7, 1), None, salary=45800),
            # 就保: two units, adjacent (one ends, the other starts the next day), to today.
            _period(HOLDER, "employment", d(2019, 1, 1), d(2024, 3, 31)),
            _period(HOLDER, "employment", d(2024, 4, 1), None, unit="另一家", number="22222222C"),
            # 職保: ended last year.
            _period(HOLDER, "occupational", d(2022, 5, 1), d(2024, 6, 30)),
            _period(HOLDER, "occupational", d(2024, 7, 1), d(2025, 12, 31), number="33333333D"),
            # Someone withdrawn from everything.
            _period(WITHDRAWN, "labor", d(2005, 1, 1), d(2020, 5, 31)),
            _period(WITHDRAWN, "employment", d(2005, 1, 1), d(2020, 5, 31)),
            _period(WITHDRAWN, "occupational", d(2022, 5, 1), d(2022, 12, 31)),
        ]
    )
    database.flush()
    return database


def test_status_is_today_and_since_the_start_of_the_stretch(records: Session) -> None:
    assert facts.status(records, HOLDER, TODAY) == {
        "labor": {"insured": True, "since": "2015-01-01"},  # adjustment merged, gap not
        "employment": {"insured": True, "since": "2019-01-01"},  # two units merged
        "occupational": {"insured": False, "since": None},
    }


def test_a_withdrawn_person_is_not_insured(records: Session) -> None:
    status = facts.status(records, WITHDRAWN, TODAY)
    assert status == {kind: {"insured": False, "since": None} for kind in facts.records.TYPES}
    # On a day they were insured, they were.
    assert facts.status(records, WITHDRAWN, dt.date(2020, 5, 31))["labor"] == {
        "insured": True,
        "since": "2005-01-01",
    }


def test_nobody_with_no_records_is_insured(records: Session) -> None:
    assert not any(s["insured"] for s in facts.status(records, "Z399999999", TODAY).values())


def test_a_period_starting_tomorrow_does_not_insure_today(database: Session) -> None:
    database.add(_period(HOLDER, "labor", TODAY + dt.timedelta(days=1), None))
    database.flush()
    assert facts.status(database, HOLDER, TODAY)["labor"] == {"insured": False, "since": None}


def test_periods_are_merged_and_clipped_to_the_window(records: Session) -> None:
    # Three years back from 2026-11-30: from 2023-12-01.
    assert facts.periods(records, HOLDER, TODAY, 3) == [
        {"type": "labor", "from": "2023-12-01", "to": None},
        {"type": "employment", "from": "2023-12-01", "to": None},
        {"type": "occupational", "from": "2023-12-01", "to": "2025-12-31"},
    ]
    # Ten years: the 2010-2012 勞保 stretch is still outside, the 2015 one clipped to 2016-12-01.
    ten = facts.periods(records, HOLDER, TODAY, 10)
    assert ten[0] == {"type": "labor", "from": "2016-12-01", "to": None}
    assert {"type": "employment", "from": "2019-01-01", "to": None} in ten
    assert {"type": "occupational", "from": "2022-05-01", "to": "2025-12-31"} in ten
    assert len(ten) == 3
    # A stretch that ended before the window is left out.
    assert facts.periods(records, WITHDRAWN, TODAY, 1) == []
    assert facts.periods(records, WITHDRAWN, TODAY, 10) == [
        {"type": "labor", "from": "2016-12-01", "to": "2020-05-31"},
        {"type": "employment", "from": "2016-12-01", "to": "2020-05-31"},
        {"type": "occupational", "from": "2022-05-01", "to": "2022-12-31"},
    ]


def test_the_window_from_29_february() -> None:
    assert facts._years_before(dt.date(2028, 2, 29), 1) == dt.date(2027, 3, 1)
    assert facts._years_before(dt.date(2026, 11, 30), 3) == dt.date(2023, 12, 1)


def test_shown_has_only_dates_and_yes_no(records: Session) -> None:
    status_only = facts.shown(records, HOLDER, TODAY, "status", 5)
    assert set(status_only) == {"as_of", "scope", "status"}
    assert status_only["as_of"] == "2026-11-30" and status_only["scope"] == "status"
    with_periods = facts.shown(records, HOLDER, TODAY, "periods", 5)
    assert set(with_periods) == {"as_of", "scope", "status", "years", "periods"}
    assert with_periods["years"] == 5
    for answer in (status_only, with_periods):
        text = json.dumps(answer, ensure_ascii=False)
        for secret in ("示範股份有限公司", "舊公司", "另一家", "01234567A", "30300", "45800"):
            assert secret not in text
        assert json.loads(text) == answer  # plain JSON values
    for period in with_periods["periods"]:
        assert set(period) == {"type", "from", "to"}
    with pytest.raises(ValueError):
        facts.shown(records, HOLDER, TODAY, "everything", 0)


def test_shown_reads_the_persons_records_once(records: Session) -> None:
    """The status and the periods of one check come from the same read, and say what they
    say when each is asked for alone."""
    from sqlalchemy import event

    ran: list[str] = []
    engine = records.get_bind()
    count = lambda _c, _k, statement, *_a: ran.append(statement)  # noqa: E731
    records.flush()
    event.listen(engine, "before_cursor_execute", count)
    try:
        answer = facts.shown(records, HOLDER, TODAY, "periods", 5)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(ran) == 1, ran
    assert answer["status"] == facts.status(records, HOLDER, TODAY)
    assert answer["periods"] == facts.periods(records, HOLDER, TODAY, 5)
