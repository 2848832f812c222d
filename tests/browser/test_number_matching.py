"""Number matching on the QR hand-off, in Chromium (issue 12): the desktop shows a two-digit
number beside the QR code; the phone picks it among three before 開始驗證.

Right, wrong, by keyboard only, and without JavaScript; axe on every new state, in both
languages. The person reads the number off the desktop's screen (never from the markup of the
phone's page).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.bilingual import (
    Say,
    agree_and_start,
    complete_steps_before,
    heading,
    printed_qr_link,
    qr_status,
    regenerate_qr,
    start,
)
from tests.browser.pages import ON_4G, POLL_MS, shown_number, url_pattern
from tests.browser.test_accessibility import LANGUAGES, Sweep

pytestmark = pytest.mark.browser

NewContext = Callable[..., BrowserContext]
QUESTION = "請選擇電腦畫面上 QR Code 旁顯示的數字"
MISMATCH_ON_DESKTOP = "驗證失敗：手機上選擇的數字與這個畫面上的數字不同，這個 QR Code 已失效。"
MISMATCH_ON_PHONE = (
    "手機上選擇的數字與電腦畫面上 QR Code 旁的數字不同。為了安全，這個 QR Code 已失效。"
    "若是您本人申請，請在電腦上按「重新產生QRCode」再掃描；若是別人傳給您 QR Code 或連結、"
    "要您按驗證，請不要繼續，並聯絡勞保局（02-2396-1266）。"
)
IS_FOCUSED = "el => el === document.activeElement"


@pytest.fixture(params=LANGUAGES)
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def phone_for(new_context: NewContext, lang: str, *, js: bool = True) -> Page:
    context = new_context("phone", js=js)
    context.set_extra_http_headers(ON_4G)
    phone = context.new_page()
    start(phone, lang)
    return phone


def choices(phone: Page, say: Say) -> list[str]:
    group = phone.get_by_role("group", name=say(QUESTION))
    return [radio.get_attribute("value") or "" for radio in group.get_by_role("radio").all()]


def test_right_and_wrong_picks_with_axe_on_every_state(new_context: NewContext, lang: str) -> None:
    say = Say(lang)
    sweep = Sweep()
    desktop = new_context("desktop").new_page()
    complete_steps_before(desktop, say, "qr")
    number = shown_number(desktop)
    # Beside the QR code (same row on a desktop), big and labelled.
    qr_box = desktop.locator(".qr-image").bounding_box()
    number_box = desktop.locator(".match-number").bounding_box()
    assert qr_box and number_box and number_box["x"] > qr_box["x"] + qr_box["width"] - 1
    assert number_box["y"] < qr_box["y"] + qr_box["height"]
    size = desktop.locator(".match-number").evaluate("e => getComputedStyle(e).fontSize")
    assert float(size.removesuffix("px")) >= 48, size
    expect(desktop.get_by_text(say("手機驗證數字"), exact=True)).to_be_visible()
    sweep.check(desktop, "step 4 with its number")

    # The phone offers three numbers, one of them the desktop's; no pick: asked beside it.
    phone = phone_for(new_context, lang)
    phone.goto(printed_qr_link(desktop))
    expect(phone).to_have_url(url_pattern("phone"))
    offered = choices(phone, say)
    assert len(offered) == 3 and number in offered
    for value in offered:
        expect(phone.get_by_role("radio", name=value, exact=True)).to_be_visible()
    sweep.check(phone, "phone step 5 with the number question")
    phone.get_by_role("checkbox", name=say("我已閱讀並同意使用者約定條款"), exact=True).check()
    phone.get_by_role("button", name=say("開始驗證"), exact=True).click()
    expect(phone.locator("#match-error")).to_have_text(
        say("錯誤：") + say("請選擇電腦畫面上 QR Code 旁顯示的數字")
    )
    expect(phone.get_by_role("checkbox", name=say("我已閱讀並同意使用者約定條款"))).to_be_checked()
    expect(phone.locator("#error-summary")).to_be_focused()
    sweep.check(phone, "phone step 5 without a pick")

    # A wrong pick: the hand-off ends; the phone warns; the desktop says so and offers anew.
    wrong = next(value for value in offered if value != number)
    phone.get_by_role("radio", name=wrong, exact=True).check()
    phone.get_by_role("button", name=say("開始驗證"), exact=True).click()
    expect(phone.get_by_role("alert")).to_contain_text(say(MISMATCH_ON_PHONE))
    expect(phone.get_by_role("button", name=say("開始驗證"))).to_have_count(0)
    sweep.check(phone, "phone step 5 after a wrong number")
    expect(qr_status(desktop, "failed")).to_contain_text(say(MISMATCH_ON_DESKTOP), timeout=POLL_MS)
    expect(desktop.locator(".qr-image")).to_have_count(0)
    sweep.check(desktop, "step 4 after a wrong number on the phone")

    # A new QR code, a new number; the right pick verifies and the desktop moves on.
    regenerate_qr(desktop, say)
    phone.goto(printed_qr_link(desktop))
    agree_and_start(phone, say)  # picks the number read off the desktop
    expect(heading(phone)).to_have_text(say("驗證成功"))
    expect(desktop).to_have_url(url_pattern("done"), timeout=POLL_MS)
    sweep.assert_clean()


def test_picking_the_number_by_keyboard_only(new_context: NewContext) -> None:
    say = Say("zh-TW")
    desktop = new_context("desktop").new_page()
    complete_steps_before(desktop, say, "qr")
    phone = phone_for(new_context, "zh-TW")
    phone.goto(printed_qr_link(desktop))
    number = shown_number(desktop)
    expect(heading(phone)).to_be_visible()

    # Tab reaches the group (one stop: the first radio), the arrows move within it.
    for _ in range(30):
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.name") == "match":
            break
    else:
        pytest.fail("Tab never reached the numbers")
    for _ in range(3):
        if phone.evaluate("document.activeElement.value") == number:
            break
        phone.keyboard.press("ArrowRight")
    phone.keyboard.press("Space")
    expect(phone.get_by_role("radio", name=number, exact=True)).to_be_checked()
    phone.keyboard.press("Tab")
    terms = phone.get_by_role("checkbox", name="我已閱讀並同意使用者約定條款")
    assert terms.evaluate(IS_FOCUSED)
    phone.keyboard.press("Space")
    expect(terms).to_be_checked()
    start_button = phone.get_by_role("button", name="開始驗證", exact=True)
    for _ in range(10):
        phone.keyboard.press("Tab")
        if start_button.evaluate(IS_FOCUSED):
            break
    phone.keyboard.press("Enter")
    expect(heading(phone)).to_have_text("驗證成功")
    expect(desktop).to_have_url(url_pattern("done"), timeout=POLL_MS)


def test_number_matching_without_javascript(new_context: NewContext) -> None:
    say = Say("zh-TW")
    desktop = new_context("desktop", js=False).new_page()
    complete_steps_before(desktop, say, "qr")
    number = shown_number(desktop)
    phone = phone_for(new_context, "zh-TW", js=False)
    phone.goto(printed_qr_link(desktop))
    assert number in choices(phone, say)
    # The copy button needs JavaScript: without it, it stays hidden (the link is plain text).
    expect(desktop.get_by_role("button", name="複製網址")).to_be_hidden()
    agree_and_start(phone, say)
    expect(heading(phone)).to_have_text("驗證成功")
    desktop.get_by_role("button", name="我已在手機完成驗證").click()
    expect(desktop).to_have_url(url_pattern("done"))
