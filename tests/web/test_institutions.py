"""The institutions' area through its routes: shares made and revoked by the person, checks by
staff (password + TOTP), the agency's query, receipts, 文件驗證, 誰查看了我的資料, and every
refusal, including the IDOR ones (another institution's check, another person's share, a
disabled institution's staff)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.accounts import login_as
from tests.helpers import csrf_token
from wizard.clock import FrozenClock
from wizard.database.models import (
    AuditEvent,
    DataCheck,
    Institution,
    Share,
    SmsMessage,
    StaffMember,
)
from wizard.institutions import shares
from wizard.ops.seed import DEMO_INSTITUTIONS, seed_institutions

PERSON = "A123456789"  # 王小明 in the demo data: insured now, with a long history
OTHER = "F223456713"  # 陳美玲
TRAINER = DEMO_INSTITUTIONS[0]["staff"]
AGENCY = DEMO_INSTITUTIONS[1]["staff"]


@pytest.fixture
def app(app: Flask) -> Flask:
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        seed_institutions(database, app.config["SECRET_KEY"], app.extensions["hasher"])
        database.commit()
    return app


def _post(client: FlaskClient, url: str, data: dict[str, str], page: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def staff_login(app: Flask, clock: FrozenClock, who: tuple = TRAINER) -> FlaskClient:  # type: ignore[type-arg]
    client = app.test_client()
    username, _name, password, secret = who
    response = _post(
        client,
        "/institution/login",
        {"username": username, "password": password, "otp": pyotp.TOTP(secret).at(clock.now())},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    clock.advance(seconds=31)  # the next login needs the next code
    return client


def make_share(app: Flask, client: FlaskClient, **choice: str) -> str:
    data = {"purpose": "training", "scope": "status", "years": "3", "days": "30", "max_uses": "1"}
    data.update(choice)
    preview = _post(client, "/portal/shares", {**data, "step": "preview"})
    assert preview.status_code == 200
    made = _post(client, "/portal/shares", {**data, "step": "confirm"}, page="/portal/shares")
    html = made.get_data(as_text=True)
    found = re.search(r'id="share-code"[^>]*>([A-Z2-9-]{11})<', html)
    assert found, html
    return found.group(1)


@pytest.fixture
def citizen(app: Flask) -> FlaskClient:
    client = app.test_client()
    login_as(app, client, PERSON)
    return client


def check(client: FlaskClient, national_id: str, code: str):  # type: ignore[no-untyped-def]
    return _post(client, "/institution/", {"national_id": national_id, "code": code})


def test_a_share_is_previewed_made_checked_and_seen_by_the_person(
    app: Flask, clock: FrozenClock, citizen: FlaskClient
) -> None:
    preview = _post(
        citizen,
        "/portal/shares",
        {"purpose": "training", "scope": "status", "years": "3", "days": "30", "max_uses": "1"},
    ).get_data(as_text=True)
    assert "預覽：機構會看到的內容" in preview and "投保中，自" in preview
    # What is confirmed is what was previewed: no field left to change on the preview.
    assert 'type="radio"' not in preview and 'name="scope" value="status"' in preview
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        assert database.scalars(select(Share)).all() == []  # a preview makes nothing
    code = make_share(app, citizen)
    staff = staff_login(app, clock)
    answer = check(staff, PERSON, code.lower().replace("-", " "))
    assert answer.status_code == 303
    result = staff.get(answer.headers["Location"]).get_data(as_text=True)
    assert "當事人同意顯示的內容" in result and "A12345****" in result
    assert "示範職業訓練中心" in result and "投保中，自" in result
    assert "投保單位" not in result and "薪資" not in result  # only what was chosen
    mine = citizen.get("/portal/checks").get_data(as_text=True)
    assert "示範職業訓練中心" in mine and "分享碼查驗" in mine and "參加職業訓練" in mine
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        texts = database.scalars(select(SmsMessage.body)).all()
        assert any("示範職業訓練中心 查驗了您的投保資料" in t for t in texts)
    # Used once (the default): a second check answers as an unknown code.
    again = check(staff, PERSON, code)
    assert "查無有效的分享碼" in again.get_data(as_text=True)


def test_periods_are_shown_only_when_chosen_and_only_dates(
    app: Flask, clock: FrozenClock, citizen: FlaskClient
) -> None:
    code = make_share(app, citizen, scope="periods", years="2")
    staff = staff_login(app, clock)
    result = staff.get(check(staff, PERSON, code).headers["Location"]).get_data(as_text=True)
    assert "最近 2 年的投保期間" in result
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        shown = json.loads(database.scalars(select(DataCheck.shown)).one())
    assert shown["scope"] == "periods" and shown["periods"]
    oldest = min(dt.date.fromisoformat(p["from"]) for p in shown["periods"])
    assert oldest >= clock.now().date().replace(year=clock.now().year - 2)
    assert set(shown["periods"][0]) == {"type", "from", "to"}


@pytest.mark.parametrize(
    ("typed_id", "typed_code", "words"),
    [
        ("A12345678", "K7P-Q4M-X9T", "身分證號格式不正確"),
        ("A123456789", "K7P-Q4M", "分享碼是 9 個字元"),
        ("A123456789", "K0P-Q4M-X9T", "沒有 0、1、I、L、O"),
        ("A123456789", "", "請輸入分享碼"),
        ("A123456789", "KKK-KKK-KKK", "查無有效的分享碼"),
    ],
)
def test_malformed_and_unknown_input_is_told_beside_the_field_and_kept(
    app: Flask, clock: FrozenClock, typed_id: str, typed_code: str, words: str
) -> None:
    staff = staff_login(app, clock)
    response = check(staff, typed_id, typed_code)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and words in html
    assert f'value="{typed_id}"' in html
    if typed_code:
        assert f'value="{typed_code}"' in html


def test_a_code_for_another_id_answers_as_unknown_and_counts(
    app: Flask, clock: FrozenClock, citizen: FlaskClient
) -> None:
    code = make_share(app, citizen)
    staff = staff_login(app, clock)
    for _ in range(shares.MAX_WRONG_IDS):
        assert "查無有效的分享碼" in check(staff, OTHER, code).get_data(as_text=True)
    # Now blocked: even the right ID gets the same answer.
    assert "查無有效的分享碼" in check(staff, PERSON, code).get_data(as_text=True)
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        assert database.scalars(select(DataCheck)).all() == []
        failed = select(Institution.failed_checks).where(Institution.code == "DEMO-TRAINING")
        assert database.scalars(failed).one() == 6


def test_expired_and_revoked_codes_answer_as_unknown(
    app: Flask, clock: FrozenClock, citizen: FlaskClient
) -> None:
    expiring = make_share(app, citizen, days="1")
    revoked = make_share(app, citizen, max_uses="3")
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        revoked_id = max(database.scalars(select(Share.id)).all())
    page = citizen.get("/portal/shares").get_data(as_text=True)
    assert page.count(">撤銷<") == 2
    response = _post(citizen, f"/portal/shares/{revoked_id}/revoke", {}, page="/portal/shares")
    assert response.status_code == 303
    assert "已撤銷" in citizen.get("/portal/shares").get_data(as_text=True)
    clock.advance(days=1, seconds=1)
    staff = staff_login(app, clock)
    for code in (expiring, revoked):
        assert "查無有效的分享碼" in check(staff, PERSON, code).get_data(as_text=True)


def test_a_citizen_cannot_revoke_or_see_another_citizens_shares(
    app: Flask, citizen: FlaskClient
) -> None:
    make_share(app, citizen)
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        share_id = database.scalars(select(Share.id)).one()
    other = app.test_client()
    login_as(app, other, OTHER)
    assert "您還沒有建立分享碼" in other.get("/portal/shares").get_data(as_text=True)
    response = _post(other, f"/portal/shares/{share_id}/revoke", {}, page="/portal/shares")
    assert response.status_code == 404
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        assert database.get(Share, share_id).revoked_at is None  # type: ignore[union-attr]


def test_another_institutions_check_is_not_found(
    app: Flask, clock: FrozenClock, citizen: FlaskClient
) -> None:
    code = make_share(app, citizen)
    trainer = staff_login(app, clock)
    location = check(trainer, PERSON, code).headers["Location"]
    agency = staff_login(app, clock, AGENCY)
    assert agency.get(location).status_code == 404
    assert agency.get(location + ".pdf").status_code == 404
    assert trainer.get(location).status_code == 200


def test_a_disabled_institutions_staff_are_refused_at_once(
    app: Flask, clock: FrozenClock, citizen: FlaskClient
) -> None:
    code = make_share(app, citizen)
    staff = staff_login(app, clock)
    token = csrf_token(staff.get("/institution/").get_data(as_text=True))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["institution", "disable", "DEMO-TRAINING"]).exit_code == 0
    response = staff.post(
        "/institution/", data={"csrf_token": token, "national_id": PERSON, "code": code}
    )
    assert response.status_code == 303 and "/institution/login" in response.headers["Location"]
    assert "已停用" in staff.get(response.headers["Location"]).get_data(as_text=True)
    username, _name, password, secret = TRAINER
    login = _post(
        app.test_client(),
        "/institution/login",
        {"username": username, "password": password, "otp": pyotp.TOTP(secret).at(clock.now())},
    )
    assert "已停用" in login.get_data(as_text=True)


def test_a_purpose_the_institution_may_not_use_is_refused(
    app: Flask, clock: FrozenClock, citizen: FlaskClient
) -> None:
    code = make_share(app, citizen, purpose="subsidy_review")
    staff = staff_login(app, clock)
    html = check(staff, PERSON, code).get_data(as_text=True)
    assert "不在貴單位獲准的查驗目的內" in html and "政府補助資格審查" in html


def test_staff_login_needs_all_three_and_locks(app: Flask, clock: FrozenClock) -> None:
    username, _name, password, secret = TRAINER
    client = app.test_client()
    wrong_otp = {"username": username, "password": password, "otp": "000000"}
    for left in (4, 3, 2, 1):
        html = _post(client, "/institution/login", wrong_otp).get_data(as_text=True)
        assert f"再錯 {left} 次" in html
        assert f'value="{username}"' in html and 'value="000000"' not in html
    assert "暫停登入" in _post(client, "/institution/login", wrong_otp).get_data(as_text=True)
    right = {"username": username, "password": password, "otp": pyotp.TOTP(secret).at(clock.now())}
    assert "暫停登入" in _post(client, "/institution/login", right).get_data(as_text=True)
    clock.advance(minutes=16)
    right["otp"] = pyotp.TOTP(secret).at(clock.now())
    assert _post(client, "/institution/login", right).status_code == 303
    # The same code again (a replay) is refused.
    replay = _post(app.test_client(), "/institution/login", right)
    assert "帳號、密碼或動態密碼有誤" in replay.get_data(as_text=True)


def test_demo_staff_are_refused_in_production_mode(app: Flask, clock: FrozenClock) -> None:
    app.config["PRODUCTION"] = True
    username, _name, password, secret = TRAINER
    response = _post(
        app.test_client(),
        "/institution/login",
        {"username": username, "password": password, "otp": pyotp.TOTP(secret).at(clock.now())},
    )
    assert "示範帳號不能在正式環境登入" in response.get_data(as_text=True)


def test_the_agency_queries_without_a_code_minimised_and_audited(
    app: Flask, clock: FrozenClock, citizen: FlaskClient
) -> None:
    trainer = staff_login(app, clock)
    assert trainer.get("/institution/query").status_code == 404  # not for a training centre
    agency = staff_login(app, clock, AGENCY)
    missing = _post(
        agency,
        "/institution/query",
        {"national_id": PERSON, "purpose": "training_allowance", "case_number": ""},
    )
    assert "請輸入案號" in missing.get_data(as_text=True)
    response = _post(
        agency,
        "/institution/query",
        {"national_id": PERSON, "purpose": "training_allowance", "case_number": "WDA-115-0042"},
    )
    assert response.status_code == 303
    html = agency.get(response.headers["Location"]).get_data(as_text=True)
    assert "WDA-115-0042" in html and "投保中，自" in html and "投保期間" not in html
    mine = citizen.get("/portal/checks").get_data(as_text=True)
    assert "機關查詢" in mine and "WDA-115-0042" in mine and "勞動力發展署" in mine
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        row = database.scalars(select(DataCheck)).one()
        member = database.get(StaffMember, row.staff_id)
        assert (row.kind, row.purpose, member.username) == (
            "agency",
            "training_allowance",
            "agency",
        )  # type: ignore[union-attr]


def test_the_receipt_is_a_verifiable_document(
    app: Flask, clock: FrozenClock, citizen: FlaskClient
) -> None:
    import io

    from pypdf import PdfReader

    code = make_share(app, citizen)
    staff = staff_login(app, clock)
    location = check(staff, PERSON, code).headers["Location"]
    pdf = staff.get(location + ".pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    number = re.search(r"BLI-\d{4}-\d{6}", text).group(0)  # type: ignore[union-attr]
    verification = re.search(r"([A-Z2-9]{5}-[A-Z2-9]{5})", text).group(1)  # type: ignore[union-attr]
    public = app.test_client()
    page = _post(public, "/documents/verify", {"number": number, "code": verification})
    html = page.get_data(as_text=True)
    assert "這份文件是勞保局核發的真實文件" in html and "投保資料線上查驗結果" in html
    assert "示範職業訓練中心" in html and "A12345****" in html and "王*明" in html
    wrong = _post(public, "/documents/verify", {"number": number, "code": "AAAAA-AAAAA"})
    assert "查無符合的文件" in wrong.get_data(as_text=True)
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        logged = database.scalars(
            select(AuditEvent.kind).where(AuditEvent.detail == number).order_by(AuditEvent.id)
        ).all()
    assert logged == ["document.verified", "document.unknown"]
    mine = citizen.get("/portal/checks").get_data(as_text=True)
    assert "文件驗證頁" in mine and number in mine


def test_the_share_form_keeps_what_was_chosen_on_bad_input(citizen: FlaskClient) -> None:
    response = _post(
        citizen,
        "/portal/shares",
        {"purpose": "training", "scope": "periods", "years": "5", "days": "91", "max_uses": "2"},
    )
    html = response.get_data(as_text=True)
    assert "有效天數須為 1 至 90 天" in html and 'value="91"' in html
    assert re.search(r'<input[^>]*checked[^>]*value="periods"|value="periods"[^>]*checked', html)


@pytest.mark.parametrize("url", ["/documents/verify", "/institution/login"])
def test_the_areas_first_pages_with_what_they_load_are_at_most_30_kb(
    client: FlaskClient, url: str
) -> None:
    """A trainer's counter PC or a reader's phone opens these first (the wizard's budget)."""
    from tests.web.test_page_weight import (
        FIRST_PAGE_BUDGET,
        NAVIGATION,
        Resources,
        _fetch,
        plain,
        wire_bytes,
    )

    page = client.get(url, headers=NAVIGATION)
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
    parser = Resources()
    parser.feed(plain(page).decode())
    total = wire_bytes(page) + sum(wire_bytes(_fetch(client, u)) for u in set(parser.urls))
    assert total <= FIRST_PAGE_BUDGET, f"{url} weighs {total:,} bytes over the wire"


@pytest.mark.parametrize("url", ["/portal/shares", "/portal/checks"])
def test_the_portal_pages_of_the_area_as_partials_are_at_most_4_kb(
    citizen: FlaskClient, url: str
) -> None:
    from tests.web.test_page_weight import HTMX_SWAP, PARTIAL_BUDGET, plain, wire_bytes

    response = citizen.get(url, headers=HTMX_SWAP)
    assert response.status_code == 200 and "<html" not in plain(response).decode()
    assert wire_bytes(response) <= PARTIAL_BUDGET


def test_tampered_share_choices_get_the_sites_own_words_beside_each_field(
    citizen: FlaskClient,
) -> None:
    """Values no form offers (a script, an old page): a message beside each field, in the
    site's words (WTForms' own are Simplified Chinese), nothing made, never a 500."""
    response = _post(
        citizen,
        "/portal/shares",
        {"purpose": "bogus", "scope": "periods", "years": "abc", "days": "３０", "max_uses": "99"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for words in ("請選擇用途。", "請選擇投保期間的年數", "請選擇可查驗次數"):
        assert words in html
    assert "选择" not in html and "有效天數須為" not in html  # full-width ３０ is 30
    scope = _post(citizen, "/portal/shares", {"purpose": "training", "scope": "x", "days": "1"})
    assert "請選擇分享的內容。" in scope.get_data(as_text=True)
