"""Steps 6-7 and the portal in real browsers: the device credential made at binding, the
使用須知 notice, the records and their downloads, logout, the four-field login, the lockout,
revoking a device from another one, the idle-timeout warning and the refused applications.

The desktop registers through the QR path exactly as in test_qr_handoff.py: a phone whose
requests carry the carrier simulator's network identity opens the link read from a screenshot
of the QR code, and the desktop moves on by itself. What the server stored is read from its
database; what the browser stored is read from the page (IndexedDB).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Download, Locator, Page, Response, expect
from pypdf import PdfReader
from sqlalchemy import select

from tests.browser.pages import (
    MSISDN,
    ON_4G,
    POLL_MS,
    agree_and_start,
    bind_device,
    complete_steps_before,
    heading,
    log_in,
    log_out,
    login_panel,
    notice_start,
    read_notice_to_the_end,
    scan_qr,
    url_pattern,
)
from tests.helpers import ELIGIBLE
from wizard.clock import FrozenClock
from wizard.database.models import DeviceBinding

pytestmark = pytest.mark.browser

NewContext = Callable[..., BrowserContext]

BACK_TO_COMPUTER = "請回到您的電腦確認認證結果"
BOM = b"\xef\xbb\xbf"
PDF_TITLE = "勞工保險、就業保險、職業災害保險投保資料"  # whitespace removed
#: 王小明's employer when the test clock's day comes: the only unit with 職保 rows; the first
#: one has only 勞保 and 就保 rows (2002-2005).
OCCUPATIONAL_UNIT = "大同智慧物流股份有限公司"
FIRST_UNIT = "永信電子股份有限公司"
GENERIC_FAILURE = "登入資料有誤，請重新輸入。"
LOCKED = "登入已暫停"
NOT_BOUND = "這個瀏覽器尚未綁定行動電話認證（或已被撤銷），請先申請。"

#: What the page's own IndexedDB holds under the key the device credential is kept at.
STORED_KEY_JS = """
() => new Promise((resolve, reject) => {
  const opening = indexedDB.open("bli-device");
  opening.onerror = () => reject(opening.error);
  opening.onsuccess = () => {
    const db = opening.result;
    if (!db.objectStoreNames.contains("keys")) { resolve(null); return; }
    const get = db.transaction("keys", "readonly").objectStore("keys").get("device");
    get.onerror = () => reject(get.error);
    get.onsuccess = () => {
      const key = get.result;
      if (!key) { resolve(null); return; }
      crypto.subtle.exportKey("pkcs8", key).then(
        () => "exported",
        (error) => error.name,
      ).then((export_result) => resolve({
        isCryptoKey: key instanceof CryptoKey,
        type: key.type,
        extractable: key.extractable,
        algorithm: key.algorithm.name,
        curve: key.algorithm.namedCurve,
        usages: key.usages,
        exportResult: export_result,
      }));
    };
  };
})
"""

#: Scrolls the page a third of the way down and waits until the page has seen the scroll.
SCROLL_A_THIRD_JS = """
() => new Promise((resolve) => {
  window.addEventListener("scroll", () => requestAnimationFrame(() => resolve()), { once: true });
  window.scrollTo(0, (document.documentElement.scrollHeight - window.innerHeight) / 3);
})
"""

#: What makes a button look pressable or not.
LOOK_JS = """
(el) => { const s = getComputedStyle(el);
  return [s.backgroundColor, s.color, s.borderTopStyle, s.borderTopColor, s.cursor]; }
"""


# --- verbs --------------------------------------------------------------------------------


def phone_on_4g(new_context: NewContext) -> Page:
    """A phone whose every request carries the simulator's network identity (4G)."""
    context = new_context("phone")
    context.set_extra_http_headers(ON_4G)
    return context.new_page()


def register_on_desktop_through_qr(new_context: NewContext) -> Page:
    """A desktop goes through steps 1-4; a phone on 4G scans its QR code and verifies; the
    desktop reaches /register/done by itself."""
    desktop = new_context("desktop").new_page()
    complete_steps_before(desktop, "qr")
    link = scan_qr(desktop)
    phone = phone_on_4g(new_context)
    phone.goto(link)
    agree_and_start(phone)
    expect(phone.get_by_text(BACK_TO_COMPUTER)).to_be_visible()
    phone.close()
    expect(desktop).to_have_url(url_pattern("done"), timeout=POLL_MS)
    expect(heading(desktop)).to_have_text("行動電話認證成功")
    return desktop


def register_on_phone(page: Page) -> None:
    """Steps 1-5 on a phone (the direct path), up to /register/done."""
    complete_steps_before(page, "verify")
    agree_and_start(page)
    expect(page).to_have_url(url_pattern("done"))


def bind_and_read_notice(page: Page) -> None:
    """完成綁定並登入, then 使用須知 read to its end and 開始使用: the portal."""
    bind_device(page)
    expect(page).to_have_url(re.compile(r"/notice$"))
    expect(heading(page)).to_have_text("使用須知")
    read_notice_to_the_end(page)
    expect(notice_start(page)).to_be_enabled()
    notice_start(page).click()
    expect_portal(page)


def expect_portal(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/portal$"))
    expect(heading(page)).to_have_text("查詢作業")


def expect_login_page(page: Page) -> None:
    expect(page).to_have_url(url_pattern("identify"))
    expect(heading(page)).to_have_text("個人登入")


def bindings(app: Flask) -> list[DeviceBinding]:
    """Every device binding the server stored, oldest first."""
    with app.app_context(), app.extensions["db_sessionmaker"]() as db_session:
        rows = db_session.scalars(select(DeviceBinding).order_by(DeviceBinding.id)).all()
        db_session.expunge_all()
        return list(rows)


def records_table(page: Page) -> Locator:
    return page.locator("table").filter(has=page.locator("#records-caption"))


def records_shown(page: Page) -> list[list[str]]:
    """投保明細 as the page shows it: type, unit, unit number, salary, enrolled, withdrawn."""
    rows = records_table(page).locator("tbody tr").all()
    return [row.locator("th, td").all_inner_texts()[:6] for row in rows]


def download(page: Page, link_name: str) -> tuple[Download, bytes]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name, exact=True).click()
    got = info.value
    assert got.failure() is None, got.failure()
    return got, Path(got.path()).read_bytes()


def is_login_post(response: Response) -> bool:
    """The answer to 登入 (POST /login/device)."""
    return response.request.method == "POST" and response.url.endswith("/login/device")


def pdf_text(body: bytes) -> str:
    """The PDF's text as a reader extracts it, without whitespace (CJK runs may be split)."""
    reader = PdfReader(io.BytesIO(body))
    text = "".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", "", text)


def goto_refused(page: Page, url: str, status: HTTPStatus, problems: list[str]) -> None:
    """Open a page the server refuses with ``status``. Chromium logs every 4xx page as a
    console error: only that one is expected."""
    logged = f"the server responded with a status of {status.value}"
    with page.expect_console_message(lambda message: logged in message.text):
        response = page.goto(url)
    assert response is not None and response.status == status
    problems[:] = [p for p in problems if not (logged in p and f"console error on {url} " in p)]


# --- 1. the whole journey -------------------------------------------------------------------


@pytest.mark.parametrize("live_clock", ["frozen"], indirect=True)
def test_register_on_a_desktop_use_the_records_log_in_again_and_get_locked_out(
    new_context: NewContext, live_app: Flask, live_clock: FrozenClock
) -> None:
    desktop = register_on_desktop_through_qr(new_context)

    # Step 6: the device credential is a non-extractable WebCrypto key in IndexedDB.
    bind_device(desktop)
    expect(desktop).to_have_url(re.compile(r"/notice$"))
    stored = desktop.evaluate(STORED_KEY_JS)
    assert stored == {
        "isCryptoKey": True,
        "type": "private",
        "extractable": False,
        "algorithm": "ECDSA",
        "curve": "P-256",
        "usages": ["sign"],
        "exportResult": "InvalidAccessError",
    }
    [binding] = bindings(live_app)
    assert binding.kind == "webcrypto"
    assert binding.public_key and binding.secret_hash is None
    assert binding.revoked_at is None
    device_cookie = next(c for c in desktop.context.cookies() if c["name"] == "bli_device")
    assert device_cookie["httpOnly"] and device_cookie["sameSite"] == "Lax"
    assert device_cookie["value"] == binding.handle  # a key binding: no secret in the cookie

    # 使用須知 is the page itself: 開始使用 is disabled, and looks it, with the reason beside it,
    # until the page has been scrolled to the notice's end. A press before does nothing.
    expect(heading(desktop)).to_have_text("使用須知")
    start = notice_start(desktop)
    expect(start).to_be_disabled()
    expect(start).to_have_attribute("aria-disabled", "true")
    reason = desktop.locator("#notice-reason")
    expect(reason).to_have_text("請先閱讀到使用須知最後，「開始使用」才會啟用。")
    expect(start).to_have_accessible_description("請先閱讀到使用須知最後，「開始使用」才會啟用。")
    assert desktop.evaluate("document.documentElement.scrollHeight > window.innerHeight + 100")
    assert desktop.locator(".notice-text").evaluate("el => el.scrollHeight <= el.clientHeight")
    disabled_look = start.evaluate(LOOK_JS)
    start.click(force=True)  # a person pressing it anyway
    expect(desktop).to_have_url(re.compile(r"/notice$"))
    desktop.evaluate("window.scrollTo(0, 0)")
    desktop.evaluate(SCROLL_A_THIRD_JS)
    expect(start).to_be_disabled()  # a third of the way is not the end
    desktop.mouse.wheel(0, 5000)  # the wheel, over the page
    expect(start).to_be_enabled()
    expect(reason).to_have_text("已讀到最後，可以開始使用。")
    enabled_look = start.evaluate(LOOK_JS)
    assert disabled_look[0] != enabled_look[0], (disabled_look, enabled_look)  # the fill
    assert disabled_look[2] == "dashed" and enabled_look[2] == "solid"
    assert disabled_look[4] == "not-allowed" and enabled_look[4] == "pointer"
    start.click()
    expect_portal(desktop)
    expect(desktop.get_by_text("王小明，您好")).to_be_visible()

    # 個人投保資料查詢, filtered to 職保.
    desktop.get_by_role("link", name="個人投保資料查詢", exact=True).click()
    expect(heading(desktop)).to_have_text("個人投保資料查詢")
    expect(records_table(desktop).locator("tbody th")).to_contain_text([FIRST_UNIT])
    desktop.get_by_role("checkbox", name="職保", exact=True).check()
    desktop.get_by_role("button", name="查詢", exact=True).click()
    expect(desktop).to_have_url(re.compile(r"/portal/records\?types=occupational(&|$)"))
    caption = desktop.locator("#records-caption")
    expect(caption).to_contain_text("投保明細：職保；全部期間")
    shown = records_shown(desktop)
    assert shown and {row[0] for row in shown} == {"職保"}
    assert {row[1] for row in shown} == {OCCUPATIONAL_UNIT}
    expect(caption).to_contain_text(f"共 {len(shown)} 筆")

    # The PDF: the Chinese title, the person, the records shown on the page, nothing else.
    got, body = download(desktop, "下載 PDF 檔")
    assert body.startswith(b"%PDF-")
    named = re.fullmatch(r"勞就職保投保資料_(BLI-\d{4}-\d{6})\.pdf", got.suggested_filename)
    assert named, got.suggested_filename
    text = pdf_text(body)
    assert PDF_TITLE in text
    assert "王小明" in text and "A12345****" in text
    assert ELIGIBLE["national_id"] not in text
    assert OCCUPATIONAL_UNIT in text and FIRST_UNIT not in text
    assert f"投保明細（{len(shown)}筆）" in text
    for row in shown:  # each record's cells, in order, on one line of the table
        assert "".join(row) in text, row
    assert f"文件編號{named.group(1)}" in text

    # The CSV: UTF-8 with a BOM, the same records.
    got, body = download(desktop, "下載 CSV 檔")
    named = re.fullmatch(r"勞就職保投保資料_(BLI-\d{4}-\d{6})\.csv", got.suggested_filename)
    assert named, got.suggested_filename
    assert body.startswith(BOM)
    rows = list(csv.reader(io.StringIO(body[len(BOM) :].decode("utf-8"))))
    header, records = rows[0], rows[1:]
    assert header[:4] == ["姓名", "身分證號", "保險別", "投保單位名稱"]
    column = {name: i for i, name in enumerate(header)}
    assert [
        [
            r[column["保險別"]],
            r[column["投保單位名稱"]],
            r[column["投保單位保險證號"]],
            f"{int(r[column['月投保薪資']]):,}",
            r[column["加保日期"]],
            r[column["退保日期"]] or "投保中",
        ]
        for r in records
    ] == shown
    assert {r[column["姓名"]] for r in records} == {"王小明"}
    assert {r[column["身分證號"]] for r in records} == {"A12345****"}
    assert {r[column["文件編號"]] for r in records} == {named.group(1)}

    # 登出, then back with the four fields: the key signs the server's challenge.
    log_out(desktop)
    expect_login_page(desktop)
    expect(desktop.get_by_role("status").filter(has_text="您已登出")).to_be_visible()
    expect(desktop.get_by_role("heading", name="行動電話認證登入")).to_be_visible()
    expect(login_panel(desktop)).to_have_attribute("data-device-kind", "webcrypto")
    expect(desktop.get_by_role("link", name="重新申請行動認證")).to_be_visible()
    desktop.goto("/portal")  # logged out on the server too
    expect_login_page(desktop)
    log_in(desktop)
    expect_portal(desktop)  # the notice was read already
    [binding] = bindings(live_app)
    assert binding.last_used_at is not None

    # Five wrong passwords: one generic message, then the lockout and its end.
    log_out(desktop)
    expect_login_page(desktop)
    for left in (4, 3, 2, 1):
        log_in(desktop, password="not my password at all")
        expect(desktop.get_by_role("alert")).to_contain_text(GENERIC_FAILURE)
        expect(desktop.get_by_role("alert")).to_contain_text(f"再錯 {left} 次")
    log_in(desktop, password="not my password at all")
    until = "17:15"  # the frozen clock's 09:00 UTC is 17:00 in Taipei, plus 15 minutes
    alert = desktop.get_by_role("alert")
    expect(alert).to_contain_text(LOCKED)
    expect(alert).to_contain_text(f"暫停至 {until}（台灣時間）")
    expect(desktop).to_have_title(re.compile("^錯誤："))
    with desktop.expect_response(is_login_post) as answer:
        log_in(desktop)  # the right answers do not help while it is locked
    assert answer.value.status == HTTPStatus.OK
    desktop.wait_for_load_state()
    expect(desktop.get_by_role("alert")).to_contain_text(f"暫停至 {until}")
    expect(desktop).not_to_have_url(re.compile(r"/portal"))

    # The simulator's outbox: the new binding was announced to the verified number.
    desktop.goto("/simulator/outbox")
    message = desktop.locator("article.sms").filter(has_text="綁定新裝置")
    expect(message).to_have_count(1)
    expect(message).to_contain_text("09****78")
    expect(message).to_contain_text("Chrome / Windows")
    expect(
        message.get_by_role("link", name=re.compile(r"127\.0\.0\.1:\d+\Snot-me\S"))
    ).to_be_visible()
    assert MSISDN not in desktop.content()


# --- 2. revoking a device from another one ----------------------------------------------------


def test_a_device_revoked_from_another_one_is_logged_out_and_must_register_again(
    new_context: NewContext, live_app: Flask
) -> None:
    first = register_on_desktop_through_qr(new_context)
    bind_and_read_notice(first)
    second = register_on_desktop_through_qr(new_context)
    bind_and_read_notice(second)
    first_binding, second_binding = bindings(live_app)
    assert first_binding.kind == second_binding.kind == "webcrypto"
    # The first browser has its login page open in another tab (a bound browser's panel).
    first_login = first.context.new_page()
    first_login.goto("/login")
    expect(login_panel(first_login)).to_be_visible()

    second.get_by_role("link", name="已綁定的裝置", exact=True).click()
    expect(heading(second)).to_have_text("已綁定的裝置")
    rows = second.locator("table tbody tr")
    expect(rows).to_have_count(2)
    this_one = rows.filter(has_text="目前使用中")
    expect(this_one).to_have_count(1)
    other = rows.filter(has_not_text="目前使用中")
    expect(other).to_contain_text("裝置金鑰")
    other.get_by_role("button", name=re.compile("^撤銷")).click()
    expect(second.get_by_role("status").filter(has_text="已撤銷")).to_be_visible()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("目前使用中")
    first_binding, second_binding = bindings(live_app)
    assert first_binding.revoked_at is not None and first_binding.revoked_reason == "user"
    assert second_binding.revoked_at is None

    # The second browser is still logged in.
    second.goto("/portal")
    expect_portal(second)

    # The first browser's next page load is logged out, and no four-field panel is offered.
    first.reload()
    expect_login_page(first)
    expect(first.get_by_role("status").filter(has_text="您已登出")).to_be_visible()
    expect(login_panel(first)).to_have_count(0)
    expect(first.get_by_role("button", name="驗證", exact=True)).to_be_visible()
    first.goto("/portal/records")
    expect_login_page(first)

    # The tab opened before: logging in there is refused and it is told to register.
    log_in(first_login)
    expect_login_page(first_login)
    expect(first_login.get_by_role("status").filter(has_text=NOT_BOUND)).to_be_visible()
    expect(login_panel(first_login)).to_have_count(0)
    expect(first_login.get_by_label("身分證號")).to_be_visible()
    expect(first_login.get_by_role("button", name="驗證", exact=True)).to_be_visible()


# --- 3. without JavaScript --------------------------------------------------------------------


def test_without_javascript_the_binding_is_a_cookie_and_the_four_field_login_works(
    new_context: NewContext, live_app: Flask
) -> None:
    page = new_context("phone", js=False).new_page()
    register_on_phone(page)  # 手機, and the simulator panel's 4G and number as they are
    bind_device(page)
    expect(page).to_have_url(re.compile(r"/notice$"))
    [binding] = bindings(live_app)
    assert binding.kind == "cookie"
    assert binding.public_key is None and binding.secret_hash
    device_cookie = next(c for c in page.context.cookies() if c["name"] == "bli_device")
    assert device_cookie["httpOnly"] and device_cookie["sameSite"] == "Lax"
    handle, _, secret = device_cookie["value"].partition(".")
    assert handle == binding.handle and secret and secret not in (binding.secret_hash or "")

    expect(notice_start(page)).to_be_enabled()  # nothing to wait for without JavaScript
    notice_start(page).click()
    expect_portal(page)

    log_out(page)
    expect_login_page(page)
    expect(login_panel(page)).to_have_attribute("data-device-kind", "cookie")
    log_in(page, password="not my password at all")
    expect(page.get_by_role("alert")).to_contain_text(GENERIC_FAILURE)
    log_in(page)
    expect_portal(page)


# --- 4. the idle-timeout warning ---------------------------------------------------------------


@pytest.mark.parametrize("live_clock", ["frozen"], indirect=True)
def test_the_idle_warning_shows_two_minutes_before_and_continue_keeps_the_session(
    new_context: NewContext, live_clock: FrozenClock
) -> None:
    page = phone_on_4g(new_context)
    register_on_phone(page)
    bind_and_read_notice(page)
    log_out(page)
    log_in(page)
    expect_portal(page)
    warning = page.locator("#session-warning")
    expect(warning).to_have_attribute("data-seconds-left", "900")
    expect(warning).to_be_hidden()

    # The page's timers run on Playwright's clock from here on.
    page.clock.install()
    page.reload()
    expect_portal(page)
    expect(warning).to_be_hidden()
    page.clock.fast_forward("12:00")  # 3 minutes left: no warning yet
    expect(warning).to_be_hidden()
    page.clock.fast_forward("01:30")  # 1:30 left
    dialog = page.get_by_role("alertdialog", name="即將自動登出")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("將在 1:30 後自動登出")
    carry_on = dialog.get_by_role("button", name="繼續使用", exact=True)
    expect(carry_on).to_be_focused()

    with page.expect_response(re.compile(r"/session/extend$")) as answer:
        carry_on.click()
    assert answer.value.status == HTTPStatus.NO_CONTENT
    expect(warning).to_be_hidden()
    page.clock.fast_forward("12:00")  # the idle time started again
    expect(warning).to_be_hidden()

    # Using the portal is activity too, also when htmx swaps the page instead of loading it.
    page.get_by_role("link", name="個人投保資料查詢", exact=True).click()
    expect(heading(page)).to_have_text("個人投保資料查詢")
    page.clock.fast_forward("02:00")  # 14 minutes since 繼續使用, 2 since the last page
    expect(warning).to_be_hidden()
    page.clock.fast_forward("11:30")  # 13:30 idle: warned again
    expect(dialog).to_be_visible()


# --- 5. applications are shown, disabled and refused ------------------------------------------


def test_applications_are_pointed_elsewhere_and_refused_by_the_server(
    new_context: NewContext, live_server: str, problems: list[str]
) -> None:
    page = phone_on_4g(new_context)
    register_on_phone(page)
    bind_and_read_notice(page)

    # One sentence, with the links to the other login methods; no disabled buttons.
    note = page.locator("#apply-note")
    expect(note).to_contain_text(
        "勞保給付申請、投保薪資調整、職災給付申請、COVID-19 給付申請等申辦作業"
        "無法以行動電話認證辦理"
    )
    expect(page.locator("main").get_by_role("button")).to_have_count(0)
    expect(note.get_by_role("link")).to_have_text(
        ["自然人憑證", "勞保憑證", "行動自然人憑證", "行動電子憑證"]
    )

    page.get_by_role("link", name="COVID-19 申辦進度查詢", exact=True).click()
    expect(heading(page)).to_have_text("COVID-19 申辦進度查詢")
    expect(page.locator("main").get_by_role("button")).to_have_count(0)
    page.locator("#covid-apply-note").get_by_role("link", name="自然人憑證", exact=True).click()
    expect(heading(page)).to_have_text("自然人憑證")
    page.go_back()

    for kind in ("benefit", "salary", "occupational", "covid"):
        response = page.request.get(f"/portal/apply/{kind}")
        assert response.status == HTTPStatus.FORBIDDEN, kind

    url = f"{live_server}/portal/apply/benefit"
    goto_refused(page, url, HTTPStatus.FORBIDDEN, problems)
    expect(heading(page)).to_have_text("行動電話認證只提供查詢功能")
    expect(page.get_by_text("請改以自然人憑證")).to_be_visible()
    page.goto("/portal")  # still logged in: a refusal is not a logout
    expect_portal(page)
