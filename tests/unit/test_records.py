"""The portal's query service (wizard.records.records), the demo histories, and the documents
(wizard.records.documents): merging, filters, totals, CSV, PDF, verification codes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from wizard.database.models import Base, InsuranceRecord, IssuedDocument
from wizard.ops.seed import DEMO_PEOPLE, seed
from wizard.records import documents, records
from wizard.records.demo import HISTORIES
from wizard.records.records import Duration, merge, span

D = dt.date
TODAY = D(2026, 11, 30)
NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
TITLE = "勞工保險、就業保險、職業災害保險 投保資料"

#: 投保薪資分級表 amounts (勞保/就保 up to 45800, 職保 up to 72800; older and part-time ones).
BRACKETS = {
    11100, 12540, 13500, 15840, 16500, 17280, 17880, 18300, 19047, 19200, 20008, 20100, 21000,
    21009, 21900, 22000, 22800, 23100, 23800, 24000, 25200, 25250, 26400, 27470, 27600, 28590,
    28800, 29500, 30300, 31800, 33300, 34800, 36300, 38200, 40100, 42000, 43900, 45800,
    48200, 50600, 53000, 55400, 57800, 60800, 63800, 66800, 69800, 72800,
}  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        seed(session)
        session.commit()
        yield session
    engine.dispose()


@pytest.fixture
def empty_db(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def add(session: Session, *periods: tuple[str, str, D, D | None], nid: str = "A123456789") -> None:
    """(type, unit number, enrolled, withdrawn) rows with one unit name per unit number."""
    for kind, unit, start, end in periods:
        session.add(
            InsuranceRecord(
                national_id=nid,
                insurance_type=kind,
                unit_name=f"單位{unit}",
                unit_number=unit,
                insured_salary=30300,
                enrolled_on=start,
                withdrawn_on=end,
            )
        )
    session.flush()


# --- merging and totals ---------------------------------------------------------------------


def test_merge_joins_overlapping_and_adjacent_periods() -> None:
    periods = [
        (D(2020, 1, 1), D(2020, 6, 30)),
        (D(2020, 3, 1), D(2020, 4, 30)),  # inside the first
        (D(2020, 7, 1), D(2020, 12, 31)),  # the next day: adjacent
        (D(2021, 1, 2), D(2021, 1, 31)),  # one day's gap: separate
    ]
    assert merge(periods, TODAY) == [
        (D(2020, 1, 1), D(2020, 12, 31)),
        (D(2021, 1, 2), D(2021, 1, 31)),
    ]


def test_merge_counts_open_periods_to_today_and_ignores_future_ones() -> None:
    periods = [(D(2026, 1, 1), None), (D(2026, 12, 1), None), (D(2025, 1, 1), D(2027, 1, 1))]
    assert merge(periods, TODAY) == [(D(2025, 1, 1), TODAY)]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2020, 1, 1), D(2020, 12, 31), (1, 0, 0)),
        (D(2020, 1, 15), D(2020, 2, 14), (0, 1, 0)),
        (D(2020, 1, 15), D(2020, 2, 13), (0, 0, 30)),
        # A month from the 31st ends at the month's last day (Jan 31 + 1 month = Feb 29).
        (D(2020, 1, 31), D(2020, 2, 28), (0, 1, 0)),
        (D(2020, 1, 31), D(2020, 2, 29), (0, 1, 1)),
        (D(2020, 2, 1), D(2020, 2, 29), (0, 1, 0)),
        (D(2020, 5, 1), D(2020, 5, 1), (0, 0, 1)),
        (D(2002, 7, 15), D(2005, 3, 31), (2, 8, 17)),
    ],
)
def test_span_is_calendar_years_months_days(
    start: D, end: D, expected: tuple[int, int, int]
) -> None:
    assert span(start, end) == expected


def test_duration_adds_parts_and_carries_thirty_days_into_a_month() -> None:
    total = Duration.of([(D(2020, 1, 1), D(2020, 1, 20)), (D(2021, 1, 1), D(2021, 1, 20))])
    assert (total.days, total.years, total.months, total.rest_days) == (40, 0, 1, 10)
    assert total.text() == "1 月 10 日"
    years = Duration.of([(D(2010, 1, 1), D(2019, 12, 31)), (D(2021, 1, 1), D(2023, 6, 30))])
    assert (years.years, years.months, years.rest_days) == (12, 6, 0)
    assert years.decimal_years == 12.5
    assert years.long_text() == "12 年 6 月（4,563 日，約 12.5 年）"
    assert Duration.of([]).text() == "0 日"


def test_parallel_enrolments_are_not_counted_twice(empty_db: Session) -> None:
    add(
        empty_db,
        ("labor", "11111111A", D(2020, 1, 1), D(2020, 12, 31)),
        ("labor", "22222222B", D(2020, 7, 1), D(2021, 6, 30)),  # a second job for a year
    )
    labor = records.summary(empty_db, "A123456789", TODAY)["labor"]
    assert labor.total.days == (D(2021, 6, 30) - D(2020, 1, 1)).days + 1
    assert labor.total.text() == "1 年 6 月"
    assert not labor.enrolled and labor.last_withdrawn_on == D(2021, 6, 30)
    assert labor.status_text == "未在保（2021/06/30 退保）"


def test_summary_of_the_demo_people(db: Session) -> None:
    # 林志豪 had two part-time jobs at once (2021-09 to 2023-06): merged, not doubled.
    summary = records.summary(db, "B120987653", TODAY)
    rows = records.history(db, "B120987653", ["labor"])
    raw_days = sum(((r.withdrawn_on or TODAY) - r.enrolled_on).days + 1 for r in rows)
    assert summary["labor"].total.days < raw_days
    assert summary["labor"].total.days == sum(
        (end - start).days + 1
        for start, end in merge(((r.enrolled_on, r.withdrawn_on) for r in rows), TODAY)
    )
    assert [r.unit_name for r in summary["labor"].current] == ["晶鑽半導體股份有限公司"]
    assert summary["labor"].salary == 45800 and summary["occupational"].salary == 66800
    # 張雅婷 left her last job in May 2024.
    nurse = records.summary(db, "E228765430", TODAY)
    assert not any(item.enrolled for item in nurse.values())
    assert nurse["labor"].status_text == "未在保（2024/05/31 退保）"
    # 瓦歷斯·諾幹: old-age benefit taken, re-employed with 職保 only.
    retired = records.summary(db, "N223450986", TODAY)
    assert [retired[k].enrolled for k in records.TYPES] == [False, False, True]
    # Asked before a period starts, it does not count.
    assert not records.summary(db, "N223450986", D(2026, 8, 15))["occupational"].enrolled
    # The type filter limits the summary.
    assert list(records.summary(db, "A123456789", TODAY, ["employment"])) == ["employment"]


def test_summary_for_someone_without_records(empty_db: Session) -> None:
    summary = records.summary(empty_db, "A123456789", TODAY)
    assert list(summary) == list(records.TYPES)
    assert all(s.status_text == "無投保紀錄" and s.total.days == 0 for s in summary.values())


# --- history and its filters -----------------------------------------------------------------


def test_history_filters_by_type_and_overlapping_date_range(empty_db: Session) -> None:
    add(
        empty_db,
        ("labor", "11111111A", D(2010, 1, 1), D(2012, 12, 31)),
        ("labor", "22222222B", D(2015, 1, 1), None),
        ("employment", "22222222B", D(2015, 1, 1), None),
        ("occupational", "22222222B", D(2022, 5, 1), None),
    )
    everything = records.history(empty_db, "A123456789")
    assert [(r.insurance_type, r.unit_number) for r in everything] == [
        ("labor", "11111111A"),
        ("labor", "22222222B"),
        ("employment", "22222222B"),
        ("occupational", "22222222B"),
    ]
    assert len(records.history(empty_db, "A123456789", ["labor", "occupational"])) == 3

    def units(date_from: D | None, date_to: D | None) -> list[str]:
        found = records.history(empty_db, "A123456789", ["labor"], date_from, date_to)
        return [r.unit_number for r in found]

    assert units(D(2012, 12, 31), D(2012, 12, 31)) == ["11111111A"]  # inclusive end
    assert units(D(2013, 1, 1), D(2014, 12, 31)) == []  # the gap
    assert units(D(2014, 12, 31), D(2015, 1, 1)) == ["22222222B"]  # inclusive start
    assert units(D(2030, 1, 1), None) == ["22222222B"]  # still enrolled
    assert units(None, D(2011, 1, 1)) == ["11111111A"]
    assert units(D(2011, 1, 1), D(2016, 1, 1)) == ["11111111A", "22222222B"]


def test_history_is_only_the_persons_own(db: Session) -> None:
    mine = {r.unit_name for r in records.history(db, "A123456789")}
    theirs = {r.unit_name for r in records.history(db, "F223456713")}
    assert "大同智慧物流股份有限公司" in mine and "大同智慧物流股份有限公司" not in theirs
    assert records.history(db, "Z199999999") == []


def test_history_refuses_an_unknown_type(db: Session) -> None:
    with pytest.raises(ValueError, match="unknown insurance type"):
        records.history(db, "A123456789", ["pension"])


def test_salary_adjustments_are_marked(empty_db: Session) -> None:
    add(
        empty_db,
        ("labor", "11111111A", D(2019, 1, 1), D(2019, 12, 31)),
        ("labor", "11111111A", D(2020, 1, 1), D(2020, 12, 31)),
        ("labor", "11111111A", D(2021, 1, 1), None),
        ("labor", "22222222B", D(2019, 1, 1), D(2019, 12, 31)),
    )
    notes = [(r.unit_number, r.note) for r in records.history(empty_db, "A123456789")]
    assert notes == [
        ("11111111A", "次日調薪"),
        ("22222222B", ""),  # another unit: not an adjustment
        ("11111111A", "調薪生效；次日調薪"),
        ("11111111A", "調薪生效"),
    ]


# --- the demo histories -------------------------------------------------------------------


def test_every_demo_person_has_a_realistic_history(db: Session) -> None:
    for person in DEMO_PEOPLE:
        nid = person["national_id"]
        rows = records.history(db, nid)
        assert rows, f"{nid} has no records"
        for row in rows:
            assert row.enrolled_on >= records.TYPE_STARTS[row.insurance_type], row
            assert row.withdrawn_on is None or row.withdrawn_on >= row.enrolled_on, row
            assert row.insured_salary in BRACKETS, row
            if row.insurance_type != "occupational":
                assert row.insured_salary <= 45800, row
    assert set(HISTORIES) == {p["national_id"] for p in DEMO_PEOPLE}
    # Occupational-union members have no 就保; employees have it alongside 勞保.
    union = [r for r in records.history(db, "H122334450") if "職業工會" in r.unit_name]
    assert {r.insurance_type for r in union} == {"labor", "occupational"}
    employee = records.history(db, "A123456789", date_from=D(2023, 1, 1))
    assert {r.insurance_type for r in employee} == set(records.TYPES)
    # Several employers, at least one gap, one current enrolment.
    labor = records.history(db, "A123456789", ["labor"])
    assert len({r.unit_number for r in labor}) >= 4
    assert len(merge(((r.enrolled_on, r.withdrawn_on) for r in labor), TODAY)) >= 2
    assert records.summary(db, "A123456789", TODAY)["labor"].enrolled


def test_seeding_records_twice_adds_nothing(db: Session) -> None:
    from wizard.ops.seed import seed_records

    count = db.scalar(select(func.count(InsuranceRecord.id)))
    assert seed_records(db) == 0
    assert db.scalar(select(func.count(InsuranceRecord.id))) == count


def test_covid_applications_newest_first(db: Session) -> None:
    found = records.covid(db, "F223456713")
    assert [a.applied_on for a in found] == sorted((a.applied_on for a in found), reverse=True)
    assert {a.status for a in found} <= set(records.COVID_STATUSES)
    assert records.covid(db, "K224567899") == []


# --- dates typed into the filter ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["2020/01/31", "2020-1-31", "2020.01.31", "20200131", "2020年1月31日", "109/01/31",
     "民國109年1月31日", "２０２０／０１／３１", " 2020/01/31 "],
)  # fmt: skip
def test_parse_date_reads_what_people_type(text: str) -> None:
    assert records.parse_date(text) == D(2020, 1, 31)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("abc", "format"),
        ("2020/01", "format"),
        ("民國2020/01/01", "format"),
        ("2020/02/30", "day"),
        ("2020/13/01", "day"),
        ("1949/12/31", "range"),
        ("2100/01/01", "range"),
        ("٢٠٢٠/٠١/٣١", "format"),  # Arabic-Indic digits are not folded to ASCII
    ],
)
def test_parse_date_says_what_is_wrong(text: str, code: str) -> None:
    with pytest.raises(records.InvalidDate) as caught:
        records.parse_date(text)
    assert caught.value.code == code


# --- CSV import ---------------------------------------------------------------------------

GOOD = {
    "national_id": "A123456789",
    "insurance_type": "labor",
    "unit_name": "測試科技股份有限公司",
    "unit_number": "12312312X",
    "insured_salary": "36300",
    "enrolled_on": "2018-03-01",
    "withdrawn_on": "",
}


def test_import_adds_then_updates(empty_db: Session) -> None:
    report = records.import_rows(empty_db, [GOOD, {**GOOD, "insurance_type": "就保"}])
    assert (report.added, report.updated) == (2, 0)
    report = records.import_rows(empty_db, [{**GOOD, "withdrawn_on": "2019-02-28"}])
    assert (report.added, report.updated) == (0, 1)
    labor = records.history(empty_db, "A123456789", ["labor"])
    assert [(r.unit_name, r.withdrawn_on) for r in labor] == [
        ("測試科技股份有限公司", D(2019, 2, 28))
    ]


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [
        ("national_id", "A123456788", "id.checksum"),
        ("insurance_type", "pension", "one of labor"),
        ("unit_name", "  ", "must not be empty"),
        ("unit_number", "1234", "check letter"),
        ("insured_salary", "36,300.5", "whole number"),
        ("insured_salary", "0", "whole number"),
        ("enrolled_on", "2018/02/30", "YYYY-MM-DD"),
        ("withdrawn_on", "2017-01-01", "before enrolled_on"),
    ],
)
def test_import_names_the_line_and_column_and_writes_nothing(
    empty_db: Session, column: str, value: str, why: str
) -> None:
    rows = [GOOD, {**GOOD, "unit_number": "45645645Y"}, {**GOOD, column: value}]
    with pytest.raises(records.RecordCsvError) as caught:
        records.import_rows(empty_db, rows)
    assert str(caught.value).startswith(f"line 4, column {column}: ")
    assert why in str(caught.value)
    assert empty_db.scalar(select(func.count(InsuranceRecord.id))) == 0


def test_import_refuses_periods_before_the_insurance_existed(empty_db: Session) -> None:
    with pytest.raises(records.RecordCsvError, match="職業災害保險 began on 2022-05-01"):
        records.import_rows(empty_db, [{**GOOD, "insurance_type": "occupational"}])
    with pytest.raises(records.RecordCsvError, match="line 2, column enrolled_on"):
        records.import_rows(
            empty_db, [{**GOOD, "insurance_type": "employment", "enrolled_on": "2002-12-31"}]
        )


def test_import_refuses_the_same_period_twice_in_one_file(empty_db: Session) -> None:
    with pytest.raises(records.RecordCsvError, match="line 3, .*same period as line 2"):
        records.import_rows(empty_db, [GOOD, {**GOOD, "insured_salary": "38200"}])


def test_import_header_check() -> None:
    with pytest.raises(records.RecordCsvError, match="missing column.*withdrawn_on"):
        records.check_header(list(records.CSV_HEADER[:-1]))
    records.check_header(list(records.CSV_HEADER))


# --- documents ------------------------------------------------------------------------------

HOLDER = documents.Holder("A123456789", "王小明")


def issue(
    db: Session, fmt: str, holder: documents.Holder = HOLDER, **query: object
) -> documents.Issued:
    q = documents.Query(**query)  # type: ignore[arg-type]
    rows = records.history(db, holder.national_id, q.types, q.date_from, q.date_to)
    summaries = records.summary(db, holder.national_id, TODAY, q.types)
    return documents.issue(db, fmt, holder, q, rows, summaries, NOW)


def test_csv_has_a_bom_a_chinese_header_and_one_row_per_record(db: Session) -> None:
    issued = issue(db, "csv", types=("labor",), date_from=D(2020, 1, 1))
    assert issued.body.startswith(b"\xef\xbb\xbf")
    text = issued.body.decode("utf-8-sig")
    assert "\r\n" in text
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == list(documents.CSV_COLUMNS)
    expected = records.history(db, "A123456789", ["labor"], D(2020, 1, 1))
    assert len(table) - 1 == len(expected) == 2
    first = dict(zip(table[0], table[1], strict=True))
    assert first == {
        "姓名": "王小明",
        "身分證號": "A12345****",
        "保險別": "勞保",
        "投保單位名稱": "大同智慧物流股份有限公司",
        "投保單位保險證號": "078901234E",
        "月投保薪資": "43900",
        "加保日期": "2020/02/17",
        "退保日期": "2021/12/31",
        "備註": "次日調薪",
        "文件編號": issued.number,
        "驗證碼": documents.show_code(issued.code),
    }
    assert table[2][7] == ""  # still enrolled
    assert "A123456789" not in text


def test_csv_cells_cannot_become_spreadsheet_formulas(empty_db: Session) -> None:
    add(empty_db, ("labor", "11111111A", D(2020, 1, 1), None))
    row = records.history(empty_db, "A123456789")[0]
    evil = records.Row(**{**row.__dict__, "unit_name": '=HYPERLINK("http://x")'})
    body = documents.render_csv(HOLDER, [evil], "BLI-2026-000001", "ABCDEFGHJK")
    assert "'=HYPERLINK" in body.decode("utf-8-sig")


def test_every_document_is_recorded_and_verifiable(db: Session) -> None:
    first = issue(db, "csv")
    second = issue(db, "pdf", types=("occupational",), date_to=D(2025, 12, 31))
    assert first.number == f"BLI-2026-{first.document.id:06d}"
    assert second.number != first.number
    assert len(first.code) == documents.CODE_LENGTH
    assert set(first.code) <= set(documents.CODE_ALPHABET)
    stored = db.scalars(select(IssuedDocument).order_by(IssuedDocument.id)).all()
    assert [d.format for d in stored] == ["csv", "pdf"]
    assert first.code not in stored[0].verification_code_hash
    summary = json.loads(stored[1].summary)
    assert summary["types"] == ["occupational"]
    assert (summary["date_from"], summary["date_to"]) == (None, "2025-12-31")
    rows = records.history(db, "A123456789", ["occupational"], None, D(2025, 12, 31))
    assert summary["records"] == len(rows)
    assert summary["content_sha256"] == documents.content_hash(HOLDER, rows)
    assert len(summary["file_sha256"]) == 64
    # What an institution does later: number and code, as typed from paper.
    typed = documents.show_code(second.code).lower()
    assert documents.verify(db, second.number, typed) is stored[1]
    assert documents.verify(db, second.number, first.code) is None
    assert documents.verify(db, "BLI-2026-999999", second.code) is None


def test_content_hash_depends_on_the_records_only(db: Session) -> None:
    rows = records.history(db, "A123456789")
    assert documents.content_hash(HOLDER, rows) == documents.content_hash(HOLDER, list(rows))
    assert documents.content_hash(HOLDER, rows) != documents.content_hash(HOLDER, rows[1:])


def pdf_text(body: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(body))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_has_the_title_id_number_units_and_an_embedded_font(db: Session) -> None:
    issued = issue(db, "pdf")
    assert issued.body.startswith(b"%PDF-")
    reader, text = pdf_text(issued.body)
    for expected in (
        TITLE,
        "A12345****",
        "王小明",
        issued.number,
        documents.show_code(issued.code),
        "大同智慧物流股份有限公司",
        "中華民國115年11月30日",
        "西元2026年11月30日",
        "第 1 頁，共 1 頁",
    ):
        assert expected in text, expected
    assert "A123456789" not in text
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = []
    for ref in fonts.values():
        font = ref.get_object()
        descriptor = font.get("/FontDescriptor")
        if descriptor is not None:
            embedded.append("/FontFile2" in descriptor.get_object())
    assert embedded and all(embedded)  # every font is an embedded TrueType subset
    assert reader.metadata is not None and reader.metadata.title == TITLE


def test_pdf_of_a_long_history_numbers_its_pages(empty_db: Session) -> None:
    starts = [D(1990 + n // 12, n % 12 + 1, 1) for n in range(121)]
    add(
        empty_db,
        *[
            ("labor", f"{10000000 + n}A", starts[n], starts[n + 1] - dt.timedelta(days=1))
            for n in range(120)
        ],
    )
    _reader, text = pdf_text(issue(empty_db, "pdf").body)
    pages = len(_reader.pages)
    assert pages >= 3
    assert f"第 {pages} 頁，共 {pages} 頁" in text
    assert text.count("投保單位名稱") == pages  # the header row repeats on every page


def test_pdf_keeps_names_outside_the_bmp_searchable(db: Session) -> None:
    holder = documents.Holder("Y120011223", "林𡘙")
    _reader, text = pdf_text(issue(db, "pdf", holder).body)
    assert "林𡘙" in text and "Y12001****" in text


def test_pdf_of_an_empty_selection_says_so(db: Session) -> None:
    _reader, text = pdf_text(issue(db, "pdf", date_to=D(1960, 1, 1)).body)
    assert "沒有投保紀錄" in text


def test_a_missing_or_broken_font_records_nothing(db: Session, tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttc"
    broken.write_bytes(b"not a font")
    rows = records.history(db, "A123456789")
    for path in (str(tmp_path / "missing.ttc"), str(broken)):
        with pytest.raises(documents.FontUnavailable):
            documents.issue(db, "pdf", HOLDER, documents.Query(), rows, {}, NOW, font_path=path)
    assert db.scalar(select(func.count(IssuedDocument.id))) == 0


def test_content_disposition_has_an_ascii_name_and_rfc5987_name(db: Session) -> None:
    issued = issue(db, "pdf")
    header = issued.content_disposition()
    assert header.isascii()
    assert header.startswith(f'attachment; filename="{issued.number}.pdf"; ')
    assert "filename*=UTF-8''%E5%8B%9E" in header  # 勞…
