"""Mistakes and moving around: error messages, what is kept, Back/Forward/reload, and the
helpers of step 2 (new CAPTCHA, text question, show password, clear)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.pages import (
    FIELD_LABEL,
    PERSON,
    complete_steps_before,
    expect_step,
    field,
    fill_personal,
    identify,
    submit,
)
from tests.helpers import ELIGIBLE, FIXED_CAPTCHA

pytestmark = pytest.mark.browser

JS = [pytest.param(True, id="js"), pytest.param(False, id="nojs")]

BAD_ID = "A123456788"  # checksum off by one
BAD_ID_MESSAGE = "身分證號檢查碼不符，請逐碼確認是否輸入正確"
LANDLINE = "02-23961266"
LANDLINE_MESSAGE = "手機門號應以 09 開頭"

#: What step 2 shows again for the demo person (the server's own formatting of the number).
KEPT = {
    "手機門號": ELIGIBLE["msisdn"],
    "健保卡號": ELIGIBLE["nhi_card"],
    "出生日期": ELIGIBLE["birth_date"],
    "姓名": ELIGIBLE["name"],
}


def error_summary(page: Page) -> Locator:
    return page.get_by_role("alert").filter(has_text="請修正以下問題")


def expect_announced_error(page: Page, label: str, text: str) -> None:
    """The message is beside the field and tied to it for assistive technology."""
    control = field(page, label)
    expect(control).to_have_attribute("aria-invalid", "true")
    described_by = control.get_attribute("aria-describedby") or ""
    message_ids = [i for i in described_by.split() if i.endswith("-error")]
    assert len(message_ids) == 1, f"{label}: aria-describedby={described_by!r}"
    expect(page.locator(f"#{message_ids[0]}")).to_contain_text(text)
    expect(control).to_have_accessible_description(re.compile(re.escape(text)))


def expect_person_kept(page: Page, *, except_: tuple[str, ...] = ()) -> None:
    expect(field(page, "電信業者")).to_have_value(ELIGIBLE["carrier"])
    for label, value in KEPT.items():
        if label not in except_:
            expect(field(page, label)).to_have_value(value)


def open_page(new_context: Callable[..., BrowserContext], js: bool) -> Page:
    return new_context("desktop", js=js).new_page()


# --- step 1 ------------------------------------------------------------------------------


@pytest.mark.parametrize("js", JS)
def test_a_bad_national_id_is_explained_beside_the_field_and_in_the_summary(
    new_context: Callable[..., BrowserContext], js: bool
) -> None:
    page = open_page(new_context, js)
    page.goto("/login")
    identify(page, BAD_ID)

    summary = error_summary(page)
    expect(summary).to_contain_text(BAD_ID_MESSAGE)
    expect_announced_error(page, "身分證號", BAD_ID_MESSAGE)
    expect(field(page, "身分證號")).to_have_value(BAD_ID)
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page).to_have_title(re.compile(r"^錯誤："))
    if js:
        # The summary takes focus after the swap, so a screen reader reads it first.
        expect(summary).to_be_focused()

    summary.get_by_role("link", name=BAD_ID_MESSAGE).click()
    expect(field(page, "身分證號")).to_be_focused()

    # Fixing it moves on.
    identify(page, ELIGIBLE["national_id"])
    expect_step(page, "personal")


# --- step 2: a bad number ----------------------------------------------------------------


@pytest.mark.parametrize("js", JS)
def test_a_bad_phone_number_keeps_everything_else_typed(
    new_context: Callable[..., BrowserContext], js: bool
) -> None:
    page = open_page(new_context, js)
    complete_steps_before(page, "personal")
    fill_personal(page, msisdn=LANDLINE)

    expect(error_summary(page)).to_contain_text(LANDLINE_MESSAGE)
    expect_announced_error(page, "手機門號", LANDLINE_MESSAGE)
    if js:
        expect(error_summary(page)).to_be_focused()
    expect(page).to_have_url(re.compile(r"/register/personal$"))
    # What was typed is still there, the bad number too, so it can be corrected...
    expect_person_kept(page, except_=("手機門號",))
    expect(field(page, "手機門號")).to_have_value(LANDLINE)
    # ...but the passwords and the CAPTCHA are never sent back.
    for label in ("設定憑證密碼", "確認憑證密碼", "驗證碼"):
        expect(field(page, label)).to_have_value("")
    # Only the bad field is marked.
    for label in ("健保卡號", "出生日期", "姓名"):
        expect(field(page, label)).not_to_have_attribute("aria-invalid", "true")

    fill_personal(page, carrier=None, nhi_card=None, birth_date=None, name=None)
    expect_step(page, "device")


# --- Back, Forward, reload ---------------------------------------------------------------


@pytest.mark.parametrize("js", JS)
def test_back_from_step_3_shows_step_2_filled_in_and_forward_returns(
    new_context: Callable[..., BrowserContext], js: bool
) -> None:
    page = open_page(new_context, js)
    complete_steps_before(page, "device")

    page.go_back()
    expect_step(page, "personal")
    expect(page).to_have_title(re.compile(r"^輸入個人資料及手機門號"))
    expect_person_kept(page)
    # With JavaScript, the page restored from history is enhanced again.
    expect(page.get_by_role("button", name="顯示密碼")).to_have_count(2 if js else 0)

    page.go_forward()
    expect_step(page, "device")
    expect(page).to_have_title(re.compile(r"^選擇您的裝置"))

    # Back again, and carry on from step 2: the password on file stays when left empty.
    page.go_back()
    expect_step(page, "personal")
    expect(page.get_by_text("已設定憑證密碼")).to_be_visible()
    fill_personal(
        page,
        carrier=None,
        msisdn=None,
        nhi_card=None,
        birth_date=None,
        name=None,
        password=None,
        password_confirm=None,
    )
    expect_step(page, "device")


@pytest.mark.parametrize("js", JS)
def test_reload_on_step_2_keeps_what_was_sent(
    new_context: Callable[..., BrowserContext], js: bool
) -> None:
    page = open_page(new_context, js)
    complete_steps_before(page, "personal")
    fill_personal(page, msisdn=LANDLINE)
    expect(error_summary(page)).to_be_visible()

    page.reload()
    expect_step(page, "personal")
    expect_person_kept(page, except_=("手機門號",))


@pytest.mark.parametrize("js", JS)
def test_reload_after_coming_back_keeps_everything(
    new_context: Callable[..., BrowserContext], js: bool
) -> None:
    page = open_page(new_context, js)
    complete_steps_before(page, "device")
    page.go_back()
    expect_step(page, "personal")
    page.reload()
    expect_step(page, "personal")
    expect_person_kept(page)


# --- step 2's helpers --------------------------------------------------------------------


def captcha_image(page: Page) -> Locator:
    return page.get_by_role("img", name=re.compile("驗證碼圖片"))


def expect_image_loaded(image: Locator) -> None:
    """The picture arrived and decoded (a broken image has no natural width)."""
    expect(image).to_be_visible()
    image.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )


def test_new_captcha_replaces_only_the_image(page: Page) -> None:
    complete_steps_before(page, "personal")
    fill_personal(page, captcha=None, submit_form=False)
    image = captcha_image(page)
    expect_image_loaded(image)
    old_src = image.get_attribute("src")
    page.evaluate("window.__marker = 1; document.getElementById('name').__marker = 1")

    page.get_by_role("button", name="重新產生驗證碼").click()
    expect(image).not_to_have_attribute("src", old_src or "")
    expect_image_loaded(image)
    expect(page.get_by_role("status").filter(has_text="已產生新的驗證碼")).to_be_attached()

    # Nothing else moved: same page, same form elements, everything typed still there.
    assert page.evaluate("window.__marker") == 1
    assert page.evaluate("document.getElementById('name').__marker") == 1
    expect(page).to_have_url(re.compile(r"/register/personal$"))
    expect_person_kept(page)
    for name in ("password", "password_confirm"):
        expect(field(page, FIELD_LABEL[name])).to_have_value(ELIGIBLE["password"])
    expect(error_summary(page)).to_have_count(0)

    field(page, "驗證碼").fill(FIXED_CAPTCHA)
    submit(page)
    expect_step(page, "device")


def test_new_captcha_without_javascript_keeps_what_was_typed(nojs_context: BrowserContext) -> None:
    page = nojs_context.new_page()
    complete_steps_before(page, "personal")
    fill_personal(page, captcha=None, submit_form=False)
    old_src = captcha_image(page).get_attribute("src")

    page.get_by_role("button", name="重新產生驗證碼").click()
    expect(captcha_image(page)).not_to_have_attribute("src", old_src or "")
    expect_image_loaded(captcha_image(page))
    expect_person_kept(page)
    expect(error_summary(page)).to_have_count(0)


@pytest.mark.parametrize("js", JS)
def test_a_text_question_replaces_the_image_on_request(
    new_context: Callable[..., BrowserContext], js: bool
) -> None:
    page = open_page(new_context, js)
    complete_steps_before(page, "personal")
    fill_personal(page, captcha=None, submit_form=False)

    page.get_by_role("button", name="改用文字題").click()
    question = page.locator(".captcha-question")
    expect(question).to_be_visible()
    expect(question).to_contain_text("請以數字回答")
    expect(captcha_image(page)).to_have_count(0)
    # The answer box is described by the question.
    expect(field(page, "驗證碼")).to_have_accessible_description(re.compile("請以數字回答"))
    expect(page.get_by_role("button", name="改用圖片")).to_be_visible()
    expect_person_kept(page)

    fill_personal(page, carrier=None, msisdn=None, nhi_card=None, birth_date=None, name=None)
    expect_step(page, "device")


def test_show_password_switches_the_input_type(page: Page) -> None:
    complete_steps_before(page, "personal")
    password = field(page, "設定憑證密碼")
    password.fill(PERSON["設定憑證密碼"])
    expect(password).to_have_attribute("type", "password")

    toggles = page.get_by_role("button", name="顯示密碼")
    expect(toggles).to_have_count(2)
    toggle = page.locator("button[aria-controls=password]")
    expect(toggle).to_have_text("顯示密碼：設定憑證密碼")
    toggle.click()
    expect(password).to_have_attribute("type", "text")
    expect(toggle).to_have_text("隱藏密碼：設定憑證密碼")
    expect(toggle).to_have_accessible_name(re.compile(r"^隱藏密碼\s*：設定憑證密碼\s*$"))
    expect(password).to_have_value(PERSON["設定憑證密碼"])
    expect(field(page, "確認憑證密碼")).to_have_attribute("type", "password")

    toggle.click()
    expect(password).to_have_attribute("type", "password")
    expect(toggle).to_have_text("顯示密碼：設定憑證密碼")
    expect(toggle).to_have_accessible_name(re.compile(r"^顯示密碼\s*：設定憑證密碼\s*$"))


def test_without_javascript_there_is_no_password_toggle(nojs_context: BrowserContext) -> None:
    page = nojs_context.new_page()
    complete_steps_before(page, "personal")
    expect(field(page, "設定憑證密碼")).to_have_attribute("type", "password")
    expect(page.get_by_role("button", name="顯示密碼")).to_have_count(0)


def expect_all_empty(page: Page) -> None:
    expect(field(page, "電信業者")).to_have_value("")
    for label in FIELD_LABEL.values():
        if label != "電信業者":
            expect(field(page, label)).to_have_value("")


@pytest.mark.parametrize("js", JS)
def test_clear_empties_the_fields(new_context: Callable[..., BrowserContext], js: bool) -> None:
    page = open_page(new_context, js)
    complete_steps_before(page, "personal")
    # A first try with a bad number leaves a draft of the rest on file.
    fill_personal(page, msisdn=LANDLINE)
    expect(error_summary(page)).to_be_visible()
    fill_personal(page, carrier=None, nhi_card=None, birth_date=None, name=None, submit_form=False)

    # Something typed: it asks first, keeping everything; 保留資料 changes nothing.
    page.get_by_role("button", name="清空輸入區").click()
    confirm = page.get_by_role("alert").filter(has_text="要清空輸入區嗎？")
    expect(confirm).to_be_visible()
    if js:
        expect(confirm).to_be_focused()
    expect(field(page, "姓名")).to_have_value(PERSON["姓名"])
    confirm.get_by_role("button", name="保留資料").click()
    expect(field(page, "姓名")).to_have_value(PERSON["姓名"])
    expect(page.get_by_role("alert").filter(has_text="要清空輸入區嗎？")).to_have_count(0)
    page.get_by_role("button", name="清空輸入區").click()
    page.get_by_role("button", name="確定清空").click()
    expect_all_empty(page)
    expect_step(page, "personal")
    # Cleared for good: a reload does not bring the draft back.
    page.reload()
    expect_step(page, "personal")
    expect_all_empty(page)


@pytest.mark.parametrize("js", JS)
def test_clear_empties_the_fields_after_coming_back(
    new_context: Callable[..., BrowserContext], js: bool
) -> None:
    page = open_page(new_context, js)
    complete_steps_before(page, "device")
    page.go_back()
    expect_step(page, "personal")
    expect_person_kept(page)

    page.get_by_role("button", name="清空輸入區").click()
    page.get_by_role("button", name="確定清空").click()
    expect_all_empty(page)

    # Nothing typed (and nothing on file any more): nothing to ask, nothing lost.
    page.get_by_role("button", name="清空輸入區").click()
    expect(page.get_by_role("button", name="確定清空")).to_have_count(0)
    expect_all_empty(page)
