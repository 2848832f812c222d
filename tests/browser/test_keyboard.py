"""The whole registration and login with the keyboard alone (WCAG 2.1.1), and where focus goes.

On the desktop, every action is a key press (Tab, Shift+Tab, Enter, Space, arrow keys, End)
or text typed into the field that has the focus: no click(), fill(), check() or
select_option(). Locators are used only to read the page (which element has the focus, what
it shows). Navigation by URL happens once, as a person types the site's address. The phone
that scans the QR code is another device and is driven normally.

Checked on the way: the skip link appears when focused and moves the focus to <main>; after
each htmx swap the focus is on the new step's heading (or on the error summary when the step
came back with errors); the summary's links move the focus to their fields; the focus ring is
visible on whatever has the focus; the CAPTCHA's text question (its accessible alternative) is
reached, read and answered by keyboard; the login of a bound browser works the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.pages import (
    HEADING,
    LOGIN,
    ON_4G,
    PERSON,
    POLL_MS,
    URL,
    agree_and_start,
    heading,
    printed_qr_link,
    url_pattern,
)
from tests.helpers import ELIGIBLE
from wizard.clock import FrozenClock

pytestmark = pytest.mark.browser

NewContext = Callable[..., BrowserContext]


IS_FOCUSED_JS = "el => el === document.activeElement"
#: What has the focus now: tag, id, and its accessible-ish text (for failure messages).
FOCUS_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "<body>";
  const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim();
  return `<${el.tagName.toLowerCase()}${el.id ? " id=" + el.id : ""}> ${text.slice(0, 40)}`;
}
"""
#: The focus ring as drawn: outline (style, width, colour) and box-shadow of the focused element.
RING_JS = """
() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  return {outline: s.outlineStyle, width: parseFloat(s.outlineWidth), shadow: s.boxShadow};
}
"""
#: The page has loaded (deferred scripts ran) and no htmx request, swap or settle is under way.
SETTLED_JS = """
() => document.readyState === "complete" && !!window.htmx
  && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")
"""
#: The focused element's box, and whether any of it is inside the viewport.
ON_SCREEN_JS = """
() => {
  const r = document.activeElement.getBoundingClientRect();
  return r.width > 1 && r.height > 1 && r.bottom > 0 && r.right > 0
    && r.top < innerHeight && r.left < innerWidth;
}
"""


# --- keyboard verbs -----------------------------------------------------------------------


def focused(page: Page) -> str:
    return str(page.evaluate(FOCUS_JS))


def has_focus(target: Locator) -> bool:
    return bool(target.evaluate(IS_FOCUSED_JS))


def tab_to(page: Page, target: Locator, *, back: bool = False, limit: int = 60) -> int:
    """Press Tab (Shift+Tab with ``back``) until ``target`` has the focus; the number of
    presses. Fails if it is not reached: that is a control the keyboard cannot get to."""
    key = "Shift+Tab" if back else "Tab"
    for presses in range(limit + 1):
        if has_focus(target):
            return presses
        page.keyboard.press(key)
    raise AssertionError(f"{key} x{limit} never reached {target}; the focus is on {focused(page)}")


def type_into(page: Page, target: Locator, text: str) -> None:
    """Tab to a text field, select what is in it (Ctrl+A) and type ``text``."""
    tab_to(page, target)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    expect(target).to_have_value(text)


def press(page: Page, target: Locator, key: str = "Enter") -> None:
    """Tab to a control and press ``key`` on it (Enter for links and buttons, Space too).

    Waits first until the page is settled (SETTLED_JS): the URL changes when a load commits or
    a swap pushes it, before htmx has boosted the new links; a key pressed then follows the
    link as a plain load, which does not move the focus to the new heading (a person would not
    notice; the test would)."""
    page.wait_for_function(SETTLED_JS)
    tab_to(page, target)
    expect_ring(page)
    page.keyboard.press(key)


def expect_focus(page: Page, target: Locator) -> None:
    """``target`` has the focus (soon: a swap moves it), and the page has settled: wizard.js
    moves the focus at the swap, about 20 ms before htmx has boosted the new step's links and
    forms (its settle delay). A person's next key comes later than that; this test's comes
    at once, and would otherwise follow a form as a plain page load."""
    expect(target).to_be_focused()
    page.wait_for_function(SETTLED_JS)
    assert page.evaluate(ON_SCREEN_JS), f"the focused {focused(page)} is off screen"


def expect_ring(page: Page) -> None:
    """The focused control shows the site's focus ring: a 3 px outline and a dark halo."""
    ring = page.evaluate(RING_JS)
    assert ring["outline"] != "none" and ring["width"] >= 2, (focused(page), ring)
    assert ring["shadow"] != "none", (focused(page), ring)


def label(page: Page, text: str) -> Locator:
    return page.get_by_label(text)


def button(page: Page, name: str) -> Locator:
    return page.get_by_role("button", name=name, exact=True)


ZH_DIGITS = {c: i + 1 for i, c in enumerate("一二三四五六七八九")}


def solve(question: str) -> str:
    """The CAPTCHA's text question (e.g. 七減二等於多少？請以數字回答。), answered."""
    found = re.search(r"([一二三四五六七八九])(加上|加|減去|減)([一二三四五六七八九])", question)
    assert found, question
    a, op, b = ZH_DIGITS[found.group(1)], found.group(2), ZH_DIGITS[found.group(3)]
    return str(a + b if op.startswith("加") else a - b)


# --- 1. registration through the QR code, by keyboard ----------------------------------------


def test_the_desktop_qr_registration_by_keyboard_alone(new_context: NewContext) -> None:
    page = new_context("desktop").new_page()
    page.goto(URL["identify"])  # the address, typed

    # The skip link: the first Tab stop, shown when focused; Enter moves the focus to <main>.
    skip = page.get_by_role("link", name="跳到主要內容")
    page.keyboard.press("Tab")
    expect_focus(page, skip)
    expect_ring(page)
    page.keyboard.press("Enter")
    expect_focus(page, page.locator("main"))

    # Step 1 with a wrong ID: the error summary gets the focus; its link moves it to the field.
    field_id = label(page, "身分證號")
    type_into(page, field_id, "A123456788")
    page.keyboard.press("Enter")  # submits the one-field form
    summary = page.locator("#error-summary")
    expect_focus(page, summary)
    page.keyboard.press("Tab")
    summary_link = summary.get_by_role("link")
    expect_focus(page, summary_link)
    page.keyboard.press("Enter")
    expect_focus(page, field_id)
    page.keyboard.press("Control+A")
    page.keyboard.type(ELIGIBLE["national_id"])
    page.keyboard.press("Enter")

    # Step 2: the focus is on the new heading.
    expect(page).to_have_url(url_pattern("personal"))
    expect_focus(page, heading(page))
    expect(heading(page)).to_have_text(HEADING["personal"])
    carrier = label(page, "電信業者")
    tab_to(page, carrier)
    expect_ring(page)
    page.keyboard.press("ArrowDown")  # the first carrier after 請選擇: 中華電信
    expect(carrier).to_have_value(ELIGIBLE["carrier"])
    type_into(page, label(page, "手機門號"), PERSON["手機門號"])
    type_into(page, label(page, "健保卡號"), PERSON["健保卡號"])
    type_into(page, label(page, "出生日期"), PERSON["出生日期"])
    # The name left empty and the CAPTCHA not answered: 送出 by keyboard.
    press(page, button(page, "送出"))

    # Back with errors: the summary has the focus and links to each field in turn.
    expect_focus(page, summary)
    expect(page).to_have_title(re.compile("^錯誤："))
    links = summary.get_by_role("link")
    expect(links).not_to_have_count(0)
    targets = [str(link.get_attribute("href")) for link in links.all()]
    assert "#name" in targets and "#captcha" in targets, targets
    for index, href in enumerate(targets):
        # The first link is the next Tab stop after the summary; from a field, the later
        # links are above it: Shift+Tab.
        tab_to(page, links.nth(index), back=index > 0)
        page.keyboard.press("Enter")
        expect_focus(page, page.locator(href))
    # What was typed is still there (passwords and the CAPTCHA are never sent back).
    expect(label(page, "手機門號")).to_have_value(PERSON["手機門號"])

    # The CAPTCHA's accessible alternative: 改用文字題 by keyboard, read, answer.
    press(page, button(page, "改用文字題"))
    question = page.locator(".captcha-question")
    expect(question).to_be_visible()
    # The pressed button was replaced: the focus goes to the new block's first button.
    expect_focus(page, button(page, "重新產生驗證碼"))
    type_into(page, label(page, "姓名"), PERSON["姓名"])
    type_into(page, label(page, "驗證碼"), solve(question.inner_text()))
    type_into(page, label(page, "設定憑證密碼"), PERSON["設定憑證密碼"])
    type_into(page, label(page, "確認憑證密碼"), PERSON["確認憑證密碼"])
    page.keyboard.press("Enter")  # Enter in a field submits the form, as 送出 does

    # Step 3: heading focused; arrow keys move along the radios, Space is not needed.
    expect(page).to_have_url(url_pattern("device"))
    expect_focus(page, heading(page))
    desktop_radio = page.get_by_role("radio", name="桌上型電腦", exact=True)
    tab_to(page, page.get_by_role("radio", checked=True))
    expect_ring(page)
    page.keyboard.press("ArrowDown")  # 平板電腦: the SIM question appears
    expect(page.get_by_role("radio", name="平板電腦", exact=True)).to_be_checked()
    expect(page.locator("#sim-question")).to_be_visible()
    page.keyboard.press("ArrowUp")  # back to 桌上型電腦: the question goes away
    expect(desktop_radio).to_be_checked()
    expect(page.locator("#sim-question")).to_be_hidden()
    press(page, button(page, "送出"), "Space")

    # Step 4: heading focused; the QR link read off the page goes to the phone.
    expect(page).to_have_url(url_pattern("qr"))
    expect_focus(page, heading(page))
    phone_context = new_context("phone")
    phone_context.set_extra_http_headers(ON_4G)
    phone = phone_context.new_page()
    phone.goto(printed_qr_link(page))
    agree_and_start(phone)
    expect(phone.get_by_text("請回到您的電腦確認認證結果")).to_be_visible()

    # The desktop goes on by itself (a full page load): Tab starts again at the skip link.
    expect(page).to_have_url(url_pattern("done"), timeout=POLL_MS)
    expect(heading(page)).to_have_text(HEADING["done"])
    press(page, button(page, "完成綁定並登入"))

    # 使用須知 is the page: End scrolls it to its end, which enables 開始使用.
    expect(page).to_have_url(re.compile(r"/notice$"))
    start = button(page, "開始使用")
    expect(start).to_be_disabled()
    page.keyboard.press("End")
    expect(start).to_be_enabled()
    tab_to(page, start)
    expect_ring(page)
    press(page, start)
    expect(page).to_have_url(re.compile(r"/portal$"))

    # The portal's links by keyboard: 個人投保資料查詢 (an htmx swap: its heading is focused).
    press(page, page.get_by_role("link", name="個人投保資料查詢", exact=True))
    expect(heading(page)).to_have_text("個人投保資料查詢")
    expect_focus(page, heading(page))


# --- 2. login on a bound browser, by keyboard ------------------------------------------------


@pytest.mark.parametrize("live_clock", ["frozen"], indirect=True)
def test_login_on_a_bound_browser_by_keyboard_alone(
    new_context: NewContext, live_clock: FrozenClock
) -> None:
    """Register with the usual verbs (that is test 1's business), then log out and back in
    with the keyboard only: a wrong password first, then the right one; then keep the session
    when the idle warning comes (the server's clock and the page's move together)."""
    from tests.browser.test_login_and_portal import (
        bind_and_read_notice,
        register_on_desktop_through_qr,
    )

    page = register_on_desktop_through_qr(new_context)
    bind_and_read_notice(page)

    press(page, page.get_by_role("button", name="登出"))
    panel = page.locator("#device-login")
    expect(panel).to_be_visible()

    def four_fields(password: str) -> None:
        for name, value in {**LOGIN, "憑證密碼": password}.items():
            type_into(page, panel.get_by_label(name), value)

    four_fields("not my password at all")
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("登入資料有誤")
    expect_focus(page, summary)
    four_fields(LOGIN["憑證密碼"])
    press(page, panel.get_by_role("button", name="登入", exact=True))
    expect(page).to_have_url(re.compile(r"/portal$"))
    expect(heading(page)).to_have_text("查詢作業")

    # WCAG 2.2.1: the idle logout is announced two minutes ahead, with the focus on 繼續使用;
    # Enter extends the session (the server restarts its idle time: 204).
    page.clock.install()
    page.reload()
    warning = page.get_by_role("alertdialog", name="即將自動登出")
    expect(warning).to_be_hidden()
    page.clock.fast_forward("13:05")
    live_clock.advance(minutes=13, seconds=5)
    expect(warning).to_be_visible()
    carry_on = warning.get_by_role("button", name="繼續使用", exact=True)
    expect_focus(page, carry_on)
    expect_ring(page)
    with page.expect_response(re.compile(r"/session/extend$")) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 204
    expect(warning).to_be_hidden()
    page.clock.fast_forward("12:30")  # 25:35 since the login, 12:30 since 繼續使用
    live_clock.advance(minutes=12, seconds=30)
    expect(warning).to_be_hidden()
    page.reload()  # the server agrees: without 繼續使用 the session would have ended
    expect(page).to_have_url(re.compile(r"/portal$"))
    expect(heading(page)).to_have_text("查詢作業")
