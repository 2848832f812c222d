"""The portal after a mobile-phone login: pages, filters and their errors, downloads, the
query-only scope, and that a person only ever sees their own records."""

from __future__ import annotations

import csv
import io
import re
import urllib.parse
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from pypdf import PdfReader
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.accounts import login_as
from tests.helpers import csrf_token, error_for, value_of
from tests.web.support import HX, outline, summary_items, text_of, title_of
from wizard.database.models import AuditEvent, InsuranceRecord, IssuedDocument
from wizard.records import documents
from wizard.records.views import APPLICATIONS

ME = "A123456789"  # 王小明: four employers, enrolled now
OTHER = "F223456713"  # 陳美玲: an occupational union member
TITLE = "勞工保險、就業保險、職業災害保險 投保資料"
PAGES = ("/portal", "/portal/records", "/portal/covid")
DOWNLOADS = ("/portal/records.pdf", "/portal/records.csv")


@pytest.fixture
def me(app: Flask, client: FlaskClient) -> FlaskClient:
    login_as(app, client, ME)
    return client


def documents_issued(app: Flask) -> list[IssuedDocument]:
    with app.extensions["db_sessionmaker"]() as db:
        rows = list(db.scalars(select(IssuedDocument).order_by(IssuedDocument.id)))
        db.expunge_all()
        return rows


def table_rows(response: TestResponse, caption_id: str) -> list[list[str]]:
    """The body rows of the table whose caption has ``caption_id``, as cell texts."""
    html = text_of(response)
    match = re.search(rf'<caption id="{caption_id}">.*?</table>', html, re.S)
    assert match, f"no table {caption_id}"
    body = match.group(0).split("<tbody>", 1)[1]
    return [
        [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(
            r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]  # fmt: skip


def summary_cards(response: TestResponse) -> dict[str, dict[str, str]]:
    """投保狀態摘要: heading → {term: description}, in page order."""

    def clean(html: str) -> str:
        return unescape(re.sub(r"<[^>]+>", "", html)).strip()

    cards = {}
    for heading, body in re.findall(
        r'<section class="summary-card"[^>]*>\s*<h3[^>]*>(.*?)</h3>(.*?)</section>',
        text_of(response),
        re.S,
    ):
        pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", body, re.S)
        cards[clean(heading)] = {clean(term): clean(value) for term, value in pairs}
    return cards


# --- the pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_each_page_is_a_private_accessible_page(me: FlaskClient, url: str) -> None:
    response = me.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = outline(response)
    assert len(page.h1) == 1
    assert title_of(response).endswith("勞保局e化服務系統")
    assert ME not in text_of(response)  # never the full ID
    for kind, field_id, _name in page.fields:
        assert kind == "hidden" or field_id in page.label_for, field_id


def main_of(response: TestResponse) -> str:
    match = re.search(r"<main\b.*?</main>", text_of(response), re.S)
    assert match, "no <main>"
    return match.group(0)


def test_home_lists_queries_and_says_in_one_sentence_where_applications_are_made(
    me: FlaskClient,
) -> None:
    response = me.get("/portal")
    html = main_of(response)
    assert outline(response).h1 == ["查詢作業"]
    assert "王小明" in html and "A12345****" in html
    assert "以行動電話登入，提供查詢功能（含確認COVID-19申辦）" in html
    assert 'href="/portal/records"' in html and 'href="/portal/covid"' in html
    for application in APPLICATIONS:
        assert application.name in html
        assert f"/portal/apply/{application.kind}" not in html  # no way in
    assert "<button" not in html  # no row of disabled buttons
    note = re.search(r'<p id="apply-note"[^>]*>(.*?)</p>', html, re.S)
    assert note, "no sentence about the applications"
    sentence = re.sub(r"<[^>]+>", "", note.group(1))
    assert sentence.startswith(
        "勞保給付申請、投保薪資調整、職災給付申請、COVID-19 給付申請等申辦作業"
    )
    assert sentence.endswith(
        "請改以其他方式登入：自然人憑證、勞保憑證、行動自然人憑證、行動電子憑證。"
    )
    links = re.findall(r'<a href="(/login/method/[\w-]+)">', note.group(1))
    assert len(links) == 4
    for link in links:
        assert me.get(link).status_code == 200


def test_records_page_shows_history_summary_and_totals(me: FlaskClient) -> None:
    response = me.get("/portal/records")
    html = text_of(response)
    assert outline(response).h1 == ["個人投保資料查詢"]
    assert '<caption id="records-caption">投保明細：勞保、就保、職保；全部期間；共 20 筆' in html
    assert html.count('<th scope="col">') == 7
    rows = table_rows(response, "records-caption")
    assert len(rows) == 20
    assert rows[0] == [
        "勞保", "永信電子股份有限公司", "04123456B", "24,000", "2002/07/15", "2003/12/31",
        "次日調薪",
    ]  # fmt: skip
    assert rows[-1][0] == "職保" and rows[-1][5] == "投保中"
    summary = summary_cards(response)
    assert list(summary) == ["勞工保險（勞保）", "就業保險（就保）", "職業災害保險（職保）"]
    labor = summary["勞工保險（勞保）"]
    assert (labor["目前狀態"], labor["目前投保單位"], labor["月投保薪資"]) == (
        "投保中",
        "大同智慧物流股份有限公司",
        "45,800 元",
    )
    assert summary["職業災害保險（職保）"]["月投保薪資"] == "53,000 元"  # above the 勞保 cap
    assert labor["累計投保年資"].startswith("24 年 1 日")
    assert "約 24.0 年" in labor["累計投保年資"]
    # Filter fields with labels, and the download links keep the (empty) filter.
    page = outline(response)
    for field_id in ("types-labor", "types-employment", "types-occupational", "date_from"):
        assert field_id in page.label_for
    assert 'href="/portal/records.pdf" hx-boost="false"' in html
    assert 'href="/portal/records.csv" hx-boost="false"' in html


def test_records_page_for_someone_not_enrolled_now(app: Flask, client: FlaskClient) -> None:
    login_as(app, client, "E228765430")  # 張雅婷
    summary = summary_cards(client.get("/portal/records"))
    assert len(summary) == 3
    assert all(card["目前狀態"] == "未在保（2024/05/31 退保）" for card in summary.values())
    assert all("目前投保單位" not in card for card in summary.values())


def test_filter_by_type_and_date_range(me: FlaskClient) -> None:
    response = me.get(
        "/portal/records?types=labor&types=occupational&date_from=2010/01/01&date_to=民國101/12/31"
    )
    rows = table_rows(response, "records-caption")
    assert {row[1] for row in rows} == {"宏洋精密機械股份有限公司"}
    assert {row[0] for row in rows} == {"勞保"}  # no 職保 before 2022
    assert "勞保、職保；2010/01/01 至 2012/12/31；共 2 筆" in text_of(response)
    assert value_of(response, "date_to") == "民國101/12/31"  # what was typed stays
    assert re.search(r'value="labor" checked', text_of(response))
    assert not re.search(r'value="employment" checked', text_of(response))
    # The summary follows the types (not the dates); the downloads carry the whole filter.
    assert list(summary_cards(response)) == ["勞工保險（勞保）", "職業災害保險（職保）"]
    links = re.findall(r'href="(/portal/records\.(?:pdf|csv)\?[^"]+)"', text_of(response))
    assert len(links) == 2
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(unescape(links[0])).query)
    assert query == {
        "types": ["labor", "occupational"],
        "date_from": ["2010/01/01"],
        "date_to": ["2012/12/31"],
    }


def test_a_range_without_records_says_so(me: FlaskClient) -> None:
    response = me.get("/portal/records?date_to=1990/01/01")
    assert response.status_code == 200
    assert "勞保、就保、職保在最早 至 1990/01/01沒有投保紀錄" in text_of(response)
    assert 'id="records-caption"' not in text_of(response)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("date_from=abc", "date_from", "起日的格式不正確，請依 2020/01/31 的格式輸入"),
        ("date_from=2023/02/30", "date_from", "起日沒有這一天（2023/02/30）"),
        ("date_to=2020/13/01", "date_to", "迄日沒有這一天"),
        ("date_to=1900/01/01", "date_to", "迄日請輸入 1950 年到 2099 年之間的日期"),
        (
            "date_from=2021/01/01&date_to=2020/12/31",
            "date_to",
            "迄日（2020/12/31）不能早於起日（2021/01/01）",
        ),
        ("types=pension", "types", "請從勞保、就保、職保中選擇"),
    ],
)
def test_filter_errors_are_shown_beside_the_field(
    me: FlaskClient, query: str, field: str, message: str
) -> None:
    response = me.get(f"/portal/records?{query}")
    assert response.status_code == 200
    assert title_of(response).startswith("錯誤：")
    assert message in (error_for(response, field) or "")
    assert any(message in item for item in summary_items(response))
    assert 'id="records-caption"' not in text_of(response)
    assert "records.pdf" not in text_of(response)  # no download of a filter that is wrong
    if field.startswith("date"):
        assert 'aria-invalid="true"' in text_of(response)
        typed = urllib.parse.parse_qs(query)[field][0]
        assert value_of(response, field) == typed


def test_an_htmx_filter_request_gets_the_partial(me: FlaskClient) -> None:
    response = me.get("/portal/records?types=employment", headers=HX)
    assert response.status_code == 200
    assert "<html" not in text_of(response)
    assert response.headers["HX-Push-Url"] == "/portal/records?types=employment"
    assert response.headers["Cache-Control"] == "no-store"


def test_covid_page_lists_the_applications(me: FlaskClient) -> None:
    response = me.get("/portal/covid")
    rows = table_rows(response, "covid-caption")
    assert rows == [["確診普通傷病給付", "2022/06/20", "已核付", "3,053", "2022/07/15"]]
    assert "含確認COVID-19申辦" in text_of(response)
    assert "<button" not in main_of(response)
    assert re.search(
        r'<p id="covid-apply-note"[^>]*>COVID-19 給付申請屬於申辦作業'
        r'.*?<a href="/login/method/moica">自然人憑證</a>',
        text_of(response),
        re.S,
    )


def test_covid_page_pending_and_empty(app: Flask, client: FlaskClient) -> None:
    login_as(app, client, "Y120011223")
    assert table_rows(client.get("/portal/covid"), "covid-caption") == [
        ["確診普通傷病給付", "2026/11/20", "受理中", "—", "尚未核定"]
    ]
    other = app.test_client()
    login_as(app, other, "K224567899")
    assert "查無 COVID-19 相關申請" in text_of(other.get("/portal/covid"))


# --- downloads ------------------------------------------------------------------------------


def assert_download_headers(response: TestResponse, fmt: str) -> str:
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    number = response.headers["X-Document-Number"]
    assert re.fullmatch(r"BLI-2026-\d{6}", number)
    assert disposition == (
        f'attachment; filename="{number}.{fmt}"; '
        f"filename*=UTF-8''{urllib.parse.quote(f'勞就職保投保資料_{number}.{fmt}')}"
    )
    return number


def test_csv_download(me: FlaskClient, app: Flask) -> None:
    response = me.get("/portal/records.csv?types=occupational")
    number = assert_download_headers(response, "csv")
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert table[0] == list(documents.CSV_COLUMNS)
    assert [row[2] for row in table[1:]] == ["職保", "職保"]
    assert {row[1] for row in table[1:]} == {"A12345****"}
    assert {row[9] for row in table[1:]} == {number}
    issued = documents_issued(app)
    assert [(d.document_number, d.format, d.national_id) for d in issued] == [(number, "csv", ME)]
    with app.extensions["db_sessionmaker"]() as db:
        assert documents.verify(db, number, table[1][10]) is not None
        events = list(db.scalars(select(AuditEvent).where(AuditEvent.kind == "document.issued")))
        assert [e.subject for e in events] == ["A12345****"]
        assert number in (events[0].detail or "")


def test_pdf_download(me: FlaskClient, app: Flask) -> None:
    response = me.get("/portal/records.pdf?date_from=2020/01/01")
    number = assert_download_headers(response, "pdf")
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in (TITLE, "A12345****", "王小明", number, "大同智慧物流股份有限公司"):
        assert expected in text
    assert "宏洋精密機械股份有限公司" not in text  # ended in 2013: outside the range
    assert ME not in text
    assert [d.format for d in documents_issued(app)] == ["pdf"]


def test_pdf_has_a_letterhead_and_the_persons_identification(me: FlaskClient) -> None:
    """Issue 13 item 7: the Bureau's name as a letterhead at the top of the first page, the full
    name and the masked ID as the person's identification, and the verification URL with its QR."""
    import pypdfium2

    response = me.get("/portal/records.pdf")
    page = pypdfium2.PdfDocument(response.data)[0]
    width, height = page.get_size()
    text = page.get_textpage()
    top_band = text.get_text_bounded(0, height - 100, width, height)  # the top 35 mm
    assert "勞動部勞工保險局" in top_band
    assert "Bureau of Labor Insurance, Ministry of Labor" in top_band
    assert "02-2396-1266" in top_band
    assert "王小明" not in top_band  # the letterhead is the Bureau's alone
    below = text.get_text_bounded(0, height - 200, width / 2.5, height - 100)  # the left box
    assert "投保人" in below and "王小明" in below and "A12345****" in below
    everything = text.get_text_range()
    assert ME not in everything
    number = response.headers["X-Document-Number"]
    assert f"/documents/verify?n={number}" in everything.replace("\r\n", "")
    images = [o for o in page.get_objects() if o.type == pypdfium2.raw.FPDF_PAGEOBJ_IMAGE]
    assert len(images) == 1  # the QR code


def test_each_download_is_a_new_document(me: FlaskClient, app: Flask) -> None:
    first = me.get("/portal/records.csv").headers["X-Document-Number"]
    second = me.get("/portal/records.csv").headers["X-Document-Number"]
    assert first != second
    assert len(documents_issued(app)) == 2


@pytest.mark.parametrize("url", DOWNLOADS)
def test_a_download_with_a_bad_filter_goes_back_to_the_page(
    me: FlaskClient, app: Flask, url: str
) -> None:
    response = me.get(f"{url}?date_from=2021/01/01&date_to=2020/01/01")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/portal/records?")
    page = me.get(response.headers["Location"])
    assert "不能早於起日" in (error_for(page, "date_to") or "")
    assert documents_issued(app) == []


@pytest.mark.parametrize("app_config", [{"PDF_FONT_PATH": "/nonexistent/uming.ttc"}], indirect=True)
def test_without_the_font_the_pdf_offers_the_csv(me: FlaskClient, app: Flask) -> None:
    response = me.get("/portal/records.pdf?types=labor")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert outline(response).h1 == ["PDF 暫時無法產生"]
    assert 'href="/portal/records.csv?types=labor"' in text_of(response)
    assert documents_issued(app) == []
    assert me.get("/portal/records.csv?types=labor").status_code == 200


# --- scope: query functions only ----------------------------------------------------------

APPLY_URLS = [f"/portal/apply/{a.kind}" for a in APPLICATIONS]


def test_there_are_at_least_three_application_routes() -> None:
    assert len(APPLY_URLS) >= 3


@pytest.mark.parametrize("url", APPLY_URLS)
def test_application_get_is_refused(me: FlaskClient, url: str) -> None:
    response = me.get(url)
    assert response.status_code == 403
    assert outline(response).h1 == ["行動電話認證只提供查詢功能"]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", APPLY_URLS)
def test_application_post_is_refused(me: FlaskClient, url: str) -> None:
    token = csrf_token(text_of(me.get("/portal")))
    response = me.post(url, data={"csrf_token": token, "amount": "45800"})
    assert response.status_code == 403
    assert "申辦作業請改以" in text_of(response)


@pytest.mark.parametrize("url", APPLY_URLS)
def test_application_post_without_a_token_is_refused_too(me: FlaskClient, url: str) -> None:
    assert me.post(url, data={}).status_code in (400, 403)


def test_an_unknown_application_is_not_found(me: FlaskClient) -> None:
    assert me.get("/portal/apply/anything").status_code == 404


@pytest.mark.parametrize("url", [*PAGES, *DOWNLOADS, *APPLY_URLS])
def test_not_logged_in_goes_to_login(client: FlaskClient, app: Flask, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert documents_issued(app) == []


def test_a_logged_out_session_cannot_download(me: FlaskClient, app: Flask) -> None:
    from wizard.database.models import UserSession

    with app.extensions["db_sessionmaker"]() as db:
        for row in db.scalars(select(UserSession)):
            row.ended_at = app.extensions["clock"].now()
        db.commit()
    assert me.get("/portal/records.csv").status_code == 303


# --- a person sees only their own records ------------------------------------------------


def test_each_person_sees_only_their_own(app: Flask) -> None:
    mine, theirs = app.test_client(), app.test_client()
    login_as(app, mine, ME)
    login_as(app, theirs, OTHER)
    my_page = text_of(mine.get(f"/portal/records?national_id={OTHER}"))
    their_page = text_of(theirs.get(f"/portal/records?national_id={ME}"))
    assert "大同智慧物流股份有限公司" in my_page and "臺北市美容美髮業職業工會" not in my_page
    assert "臺北市美容美髮業職業工會" in their_page and "大同智慧物流股份有限公司" not in their_page
    my_csv = mine.get(f"/portal/records.csv?national_id={OTHER}").data.decode("utf-8-sig")
    their_csv = theirs.get("/portal/records.csv").data.decode("utf-8-sig")
    assert "A12345****" in my_csv and "F22345****" not in my_csv
    assert "F22345****" in their_csv and "A12345****" not in their_csv
    assert "陳美玲" not in my_csv and "王小明" not in their_csv
    my_covid = text_of(mine.get("/portal/covid"))
    their_covid = text_of(theirs.get("/portal/covid"))
    assert "確診普通傷病給付" in my_covid and "生活補貼" not in my_covid
    assert "生活補貼" in their_covid and "確診普通傷病給付" not in their_covid
    assert {(d.national_id, d.format) for d in documents_issued(app)} == {
        (ME, "csv"),
        (OTHER, "csv"),
    }


# --- flask --app wsgi records import ----------------------------------------------------

HEADER = "national_id,insurance_type,unit_name,unit_number,insured_salary,enrolled_on,withdrawn_on"
ROWS = [
    "A123456789,labor,測試顧問有限公司,33333333T,31800,2000-01-01,2000-06-30",
    "A123456789,就保,測試顧問有限公司,33333333T,31800,2003-01-01,2003-06-30",
]


def write_csv(tmp_path: Path, *lines: str, bom: bool = True) -> Path:
    path = tmp_path / "records.csv"
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def record_count(app: Flask) -> int:
    with app.extensions["db_sessionmaker"]() as db:
        return db.scalar(select(func.count(InsuranceRecord.id))) or 0


def test_import_command_loads_records_shown_in_the_portal(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, me: FlaskClient
) -> None:
    before = record_count(app)
    result = runner.invoke(args=["records", "import", str(write_csv(tmp_path, HEADER, *ROWS))])
    assert result.exit_code == 0, result.output
    assert "Imported 2 insurance records (2 added, 0 updated)" in result.output
    assert record_count(app) == before + 2
    assert "測試顧問有限公司" in text_of(me.get("/portal/records?date_to=2000/12/31"))
    again = runner.invoke(args=["records", "import", str(write_csv(tmp_path, HEADER, *ROWS))])
    assert "(0 added, 2 updated)" in again.output
    assert record_count(app) == before + 2


def test_import_command_stops_at_a_bad_row_and_writes_nothing(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    before = record_count(app)
    bad = "A123456789,職保,測試顧問有限公司,33333333T,31800,2022-04-30,"
    result = runner.invoke(
        args=["records", "import", str(write_csv(tmp_path, HEADER, *ROWS, bad, bom=False))]
    )
    assert result.exit_code != 0
    assert "line 4, column enrolled_on" in result.output
    assert "nothing was imported" in result.output
    assert record_count(app) == before


def test_import_command_needs_the_header(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    header = HEADER.replace(",withdrawn_on", "")
    result = runner.invoke(args=["records", "import", str(write_csv(tmp_path, header))])
    assert result.exit_code != 0
    assert "missing column(s): withdrawn_on" in result.output
