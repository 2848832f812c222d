"""Issue 13: what a person sees, measured in Chromium where a look is the point.

The records table uses a desktop's width and turns into cards on a phone; the language switch
sits at the header's top right; the CAPTCHA is shown at its full size; every input uses the
page's font stack. And the watch that fails every browser test on a console error or a CSP
violation (conftest.py) is proven to catch one.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.pages import complete_steps_before, field, heading, log_in
from tests.browser.test_institutions import bound_browser
from wizard.rules import captcha

pytestmark = pytest.mark.browser

NewContext = Callable[..., BrowserContext]
#: Where the screenshots taken on the way go, to look at after a run (not compared).
SHOTS = Path(tempfile.gettempdir()) / "bli-look"
SHOTS.mkdir(exist_ok=True)


def logged_in(new_context: NewContext, live_app: Flask, live_server: str, kind: str) -> Page:
    context = new_context(kind)
    bound_browser(live_app, context, live_server)
    page = context.new_page()
    page.goto("/login")
    log_in(page)
    expect(page).to_have_url(re.compile(r"/portal$"))
    return page


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_records_use_a_desktops_width(
    new_context: NewContext, live_app: Flask, live_server: str
) -> None:
    page = logged_in(new_context, live_app, live_server, "desktop")
    page.get_by_role("link", name="個人投保資料查詢", exact=True).click()
    expect(heading(page)).to_have_text("個人投保資料查詢")
    table = page.locator("table.records-table")
    last_header = table.locator("thead th").last
    expect(last_header).to_have_text("備註")
    width = page.evaluate("window.innerWidth")
    box = last_header.bounding_box()
    assert box and box["x"] + box["width"] <= width - 16, box  # inside the window, not cut
    scroller = page.locator(".table-scroll")
    assert scroller.evaluate("el => el.scrollWidth <= el.clientWidth"), "the table scrolls"
    assert (table.bounding_box() or {}).get("width", 0) > 900  # not squeezed into 640 px
    for row in table.locator("tbody tr").all():  # every record on one line: nothing squeezed
        assert (row.bounding_box() or {}).get("height", 99) < 50
    page.screenshot(path=str(SHOTS / "records-1280.png"), full_page=True)
    # The reading text keeps its comfortable measure.
    intro = page.locator("main > p").first
    assert (intro.bounding_box() or {}).get("width", 0) <= 42 * 16 + 1
    assert no_sideways_scroll(page)


def test_records_on_a_phone_are_cards_without_sideways_scrolling(
    new_context: NewContext, live_app: Flask, live_server: str
) -> None:
    page = logged_in(new_context, live_app, live_server, "phone")
    page.get_by_role("link", name="個人投保資料查詢", exact=True).click()
    expect(heading(page)).to_have_text("個人投保資料查詢")
    page.screenshot(path=str(SHOTS / "records-390.png"), full_page=True)
    first = page.locator("table.records-table tbody tr").first
    assert first.evaluate("el => getComputedStyle(el).display") != "table-row"  # a card
    title = first.locator("th").bounding_box()
    kind = first.locator("td").first.bounding_box()
    assert title and kind and title["y"] < kind["y"]  # the unit's name heads the card
    assert no_sideways_scroll(page)
    assert page.locator(".table-scroll").evaluate("el => el.scrollWidth <= el.clientWidth")
    width = page.evaluate("window.innerWidth")
    for row in page.locator("table.records-table tbody tr").all()[:5]:
        box = row.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    # Each value is labelled in the card, the unit's name is the card's title.
    withdrawn = first.locator("td").nth(4)
    expect(withdrawn).to_have_text("2003/12/31")
    label = withdrawn.evaluate("el => getComputedStyle(el, '::before').content")
    assert label == '"退保日期"'
    expect(first.locator("th")).to_have_css("font-weight", "700")


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_the_language_switch_is_at_the_headers_top_right(
    new_context: NewContext, live_app: Flask, live_server: str, kind: str
) -> None:
    page = logged_in(new_context, live_app, live_server, kind)
    switch = page.get_by_role("navigation", name="語言").get_by_role("link", name="English")
    header = page.locator(".site-header").bounding_box()
    box = switch.bounding_box()
    width = page.evaluate("window.innerWidth")
    assert header and box
    assert box["x"] + box["width"] >= width - 40, (box, width)  # at the right edge
    name = page.locator(".site-name").bounding_box()
    assert name and box["x"] > name["x"] + name["width"]  # after the site's name
    if kind == "desktop":
        assert box["y"] < header["y"] + 30  # on the first row, not below
    # It switches the page shown now.
    page.goto("/account/devices")
    switch.click()
    expect(page).to_have_url(re.compile(r"/account/devices"))
    expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_step_2_captcha_size_and_one_font_stack(new_context: NewContext, kind: str) -> None:
    page = new_context(kind).new_page()
    complete_steps_before(page, "personal")
    image = page.locator("img.captcha-image")
    expect(image).to_be_visible()
    box = image.bounding_box()
    assert box and box["width"] >= captcha.WIDTH and box["height"] >= captcha.HEIGHT, box
    # The box has its size from the attributes at once; the image itself may still be loading.
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("el => el.naturalWidth") == captcha.WIDTH
    name = field(page, "姓名")
    name.fill("王小明")
    body_font = page.evaluate("getComputedStyle(document.body).fontFamily")
    for label in ("姓名", "手機門號", "電信業者", "設定憑證密碼", "驗證碼"):
        assert field(page, label).evaluate("el => getComputedStyle(el).fontFamily") == body_font
    button = page.get_by_role("button", name="送出")
    assert button.evaluate("el => getComputedStyle(el).fontFamily") == body_font


def test_the_watch_catches_a_csp_violation(page: Page, problems: list[str]) -> None:
    """Every browser test fails on a CSP violation: prove the watch sees one (an inline style,
    the kind the hand-off once logged thirty times), then forget it."""
    page.goto("/login")
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    expect(page.locator("body")).not_to_have_css("color", "rgb(255, 0, 0)")  # refused
    page.wait_for_timeout(200)
    caught = [p for p in problems if "CSP violation" in p or "Content Security Policy" in p]
    assert caught, problems
    problems.clear()
