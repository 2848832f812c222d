"""The institutions' loop in Chromium, two people at once: a citizen logs in (the four-field
login on a bound browser), makes a 投保證明分享碼 after its preview and reads the code off the
page; a training institution's staff member logs in with password + TOTP (computed here, as
their authenticator app would), checks the code, downloads the receipt; the citizen sees the
check in 誰查看了我的資料 and revokes the code; the staff member's next check is refused. The
receipt's QR code, read from the PDF's rendered image, opens 文件驗證, which confirms it.
Then axe on every page and state of the area, in both languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pyotp
import pypdfium2
import pytest
import zxingcpp
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from tests.accounts import make_account
from tests.browser.bilingual import LANGUAGES, Say
from tests.browser.pages import heading, log_in
from tests.browser.test_accessibility import Sweep
from tests.helpers import ELIGIBLE
from wizard.accounts import devices
from wizard.database.models import Account
from wizard.ops.seed import DEMO_INSTITUTIONS, seed_institutions

pytestmark = pytest.mark.browser

NewContext = Callable[..., BrowserContext]
TRAINER = DEMO_INSTITUTIONS[0]["staff"]
AGENCY = DEMO_INSTITUTIONS[1]["staff"]
UNKNOWN_CODE = "查無有效的分享碼"


def _seed(app: Flask) -> None:
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        seed_institutions(database, app.config["SECRET_KEY"], app.extensions["hasher"])
        database.commit()


def bound_browser(app: Flask, context: BrowserContext, base_url: str) -> None:
    """The citizen's browser as after steps 1-6 (their own tests): an account, and this
    browser bound to it with the cookie credential."""
    account_id = make_account(app, ELIGIBLE["national_id"], ELIGIBLE["password"])
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        account = database.get(Account, account_id)
        assert account is not None
        account.notice_read_at = app.extensions["clock"].now()
        _binding, cookie = devices.bind(
            database, account, "Chrome / Windows", account.created_at, None
        )
        database.commit()
    context.add_cookies([{"name": devices.COOKIE, "value": cookie, "url": base_url}])


def staff_log_in(page: Page, who: tuple, say: Say | None = None) -> None:  # type: ignore[type-arg]
    say = say or Say("zh-TW")
    username, _name, password, secret = who
    page.get_by_label(say("帳號")).fill(username)
    # 密碼 alone, not 動態密碼 (the label also holds the required field's hidden "*").
    page.get_by_label(re.compile(rf"(^|\s){re.escape(say('密碼'))}$")).fill(password)
    page.get_by_label(say("動態密碼")).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=say("登入"), exact=True).click()


def staff_check(page: Page, national_id: str, code: str) -> None:
    page.get_by_label("身分證號").fill(national_id)
    page.get_by_label("分享碼").fill(code)
    page.get_by_role("button", name="查驗").click()


def qr_urls_in(pdf: bytes) -> list[str]:
    """The QR codes on the PDF's first page, rendered at 200 dpi as a printer would."""
    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=200 / 72).to_pil()
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [code.text for code in found]


def test_a_citizen_shares_an_institution_checks_the_citizen_sees_and_revokes(
    new_context: NewContext, live_app: Flask, live_server: str
) -> None:
    _seed(live_app)
    citizen_context = new_context("desktop")
    bound_browser(live_app, citizen_context, live_server)
    citizen = citizen_context.new_page()
    citizen.goto("/login")
    log_in(citizen)
    expect(citizen).to_have_url(re.compile(r"/portal$"))

    # The share: periods of the last 2 years, 2 uses; the preview first.
    citizen.get_by_role("link", name="投保證明分享").click()
    expect(heading(citizen)).to_have_text("投保證明分享")
    citizen.get_by_label("另加最近幾年的投保期間").check()
    citizen.get_by_label("投保期間的年數").select_option(label="最近 2 年")
    citizen.get_by_label("可查驗次數").select_option(label="2 次")
    citizen.get_by_role("button", name="預覽").click()
    preview = citizen.locator(".share-preview")
    expect(preview).to_contain_text("預覽：機構會看到的內容")
    expect(preview).to_contain_text("最近 2 年的投保期間")
    citizen.get_by_role("button", name="確認建立分享碼").click()
    expect(heading(citizen)).to_have_text("分享碼已建立")
    code = citizen.locator("#share-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{3}-[A-Z2-9]{3}-[A-Z2-9]{3}", code)
    expect(citizen.locator(".share-qr svg")).to_be_visible()

    # The institution, in its own browser.
    staff = new_context("desktop").new_page()
    staff.goto("/institution/login")
    expect(heading(staff)).to_have_text("機構登入")
    staff_log_in(staff, TRAINER)
    expect(heading(staff)).to_have_text("投保資料查驗")
    staff_check(staff, ELIGIBLE["national_id"], code.lower())  # read over the phone, typed small
    expect(heading(staff)).to_have_text("查驗結果")
    expect(staff.locator("#check-meta")).to_contain_text("示範職業訓練中心")
    expect(staff.locator("#result-facts")).to_contain_text("投保中，自")
    number = staff.locator("#check-meta dd").first.inner_text()
    with staff.expect_download() as download:
        staff.get_by_role("link", name="下載 PDF 查驗結果").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")

    # The citizen sees the check, then revokes the code.
    citizen.goto("/portal")
    citizen.get_by_role("link", name="誰查看了我的資料").click()
    entry = citizen.locator(".check-list > li").first
    expect(entry).to_contain_text("示範職業訓練中心")
    expect(entry).to_contain_text(number)
    expect(entry).to_contain_text("參加職業訓練")
    citizen.goto("/portal/shares")
    citizen.get_by_role("button", name=re.compile("^撤銷")).click()
    expect(citizen.locator(".share-status").first).to_have_text("已撤銷")

    # One use was left, but the code is revoked: refused, with what was typed kept.
    staff.goto("/institution/")
    staff_check(staff, ELIGIBLE["national_id"], code)
    expect(staff.get_by_role("alert").first).to_contain_text(UNKNOWN_CODE)
    expect(staff.get_by_label("分享碼")).to_have_value(code)

    # The receipt's QR code opens 文件驗證, which confirms it.
    urls = qr_urls_in(pdf)
    assert len(urls) == 1 and urls[0].startswith(live_server + "/documents/verify?")
    reader = new_context("phone").new_page()
    reader.goto(urls[0])
    expect(reader.locator("#verify-result")).to_contain_text("這份文件是勞保局核發的真實文件")
    expect(reader.locator("#verify-result")).to_contain_text(number)


def test_the_records_pdf_carries_a_qr_code_that_verifies_it(
    new_context: NewContext, live_app: Flask, live_server: str
) -> None:
    context = new_context("desktop")
    bound_browser(live_app, context, live_server)
    page = context.new_page()
    page.goto("/login")
    log_in(page)
    page.goto("/portal/records")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("PDF")).first.click()
    pdf = Path(download.value.path()).read_bytes()
    urls = qr_urls_in(pdf)
    assert len(urls) == 1
    page.goto(urls[0])
    expect(page.locator("#verify-result")).to_contain_text("這份文件是勞保局核發的真實文件")
    expect(page.locator("#verify-result")).to_contain_text("A12345****")


@pytest.fixture(params=LANGUAGES)
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_every_page_of_the_institutions_area_passes_axe(
    new_context: NewContext, live_app: Flask, live_server: str, lang: str
) -> None:
    _seed(live_app)
    say = Say(lang)
    sweep = Sweep()
    q = "?lang=en" if lang == "en" else "?lang=zh-TW"

    public = new_context("desktop").new_page()
    public.goto("/documents/verify" + q)
    sweep.check(public, "文件驗證", zoom=True)
    public.get_by_role("button", name=say("驗證")).click()
    expect(public.locator("#error-summary")).to_be_visible()
    sweep.check(public, "文件驗證 with errors")
    public.get_by_label(say("文件編號")).fill("BLI-2026-000001")
    public.get_by_label(say("驗證碼")).fill("AAAAA-AAAAA")
    public.get_by_role("button", name=say("驗證")).click()
    expect(public.locator("#verify-result")).to_be_visible()
    sweep.check(public, "文件驗證 unknown")

    citizen_context = new_context("desktop")
    bound_browser(live_app, citizen_context, live_server)
    citizen = citizen_context.new_page()
    citizen.goto("/login" + q)
    login = {
        "身分證號": ELIGIBLE["national_id"],
        "出生日期": ELIGIBLE["birth_date"],
        "姓名": ELIGIBLE["name"],
        "憑證密碼": ELIGIBLE["password"],
    }
    panel = citizen.locator("#device-login")
    for label, value in login.items():
        panel.get_by_label(say(label)).fill(value)
    panel.get_by_role("button", name=say("登入"), exact=True).click()
    expect(citizen).to_have_url(re.compile(r"/portal$"))
    citizen.goto("/portal/shares")
    sweep.check(citizen, "投保證明分享", zoom=True)
    citizen.get_by_label(say("有效天數")).fill("120")
    citizen.get_by_role("button", name=say("預覽")).click()
    expect(citizen.locator("#error-summary")).to_be_visible()
    sweep.check(citizen, "投保證明分享 with an error")
    citizen.get_by_label(say("有效天數")).fill("30")
    citizen.get_by_label(say("另加最近幾年的投保期間")).check()
    citizen.get_by_role("button", name=say("預覽")).click()
    expect(citizen.locator(".share-preview")).to_be_visible()
    sweep.check(citizen, "投保證明分享 preview")
    citizen.get_by_role("button", name=say("確認建立分享碼")).click()
    expect(heading(citizen)).to_have_text(say("分享碼已建立"))
    code = citizen.locator("#share-code").inner_text().strip()
    sweep.check(citizen, "分享碼已建立", zoom=True)

    staff = new_context("desktop").new_page()
    staff.goto("/institution/login" + q)
    sweep.check(staff, "機構登入", zoom=True)
    staff.get_by_role("button", name=say("登入"), exact=True).click()
    expect(staff.locator("#error-summary")).to_be_visible()
    sweep.check(staff, "機構登入 with errors")
    staff_log_in(staff, AGENCY, say)
    expect(heading(staff)).to_have_text(say("投保資料查驗"))
    sweep.check(staff, "投保資料查驗", zoom=True)
    staff.get_by_label(say("身分證號")).fill("A12345678")
    staff.get_by_label(say("分享碼")).fill("K0P")
    staff.get_by_role("button", name=say("查驗")).click()
    expect(staff.locator("#error-summary")).to_be_visible()
    sweep.check(staff, "投保資料查驗 with errors")
    staff.get_by_label(say("身分證號")).fill(ELIGIBLE["national_id"])
    staff.get_by_label(say("分享碼")).fill(code)
    staff.get_by_role("button", name=say("查驗")).click()
    expect(staff.locator("#result-facts")).to_be_visible()
    sweep.check(staff, "查驗結果", zoom=True)
    staff.goto("/institution/query")
    expect(heading(staff)).to_have_text(say("機關查詢"))
    sweep.check(staff, "機關查詢")
    staff.get_by_label(say("身分證號")).fill(ELIGIBLE["national_id"])
    staff.get_by_label(say("案號")).fill("WDA-115-0042")
    staff.get_by_role("button", name=say("查詢")).click()
    expect(staff.locator("#result-facts")).to_be_visible()
    sweep.check(staff, "機關查詢結果")

    citizen.goto("/portal/checks")
    expect(citizen.locator(".check-list > li")).to_have_count(2)
    sweep.check(citizen, "誰查看了我的資料", zoom=True)
    citizen.locator("details summary").first.click()
    sweep.check(citizen, "誰查看了我的資料, details open")
    sweep.assert_clean()
