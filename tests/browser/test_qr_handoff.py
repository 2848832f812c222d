"""Steps 4-5 in real browsers: the QR hand-off between a desktop and a phone, and the direct
path on a phone and on a tablet with a SIM.

The desktop's QR code is read the way a phone's camera reads it: from a screenshot, with a QR
decoder, never from the page's markup. The phone is an emulated Android phone whose requests
carry the carrier simulator's network identity (``X-Sim-Network`` / ``X-Sim-Msisdn``), as a
carrier's header enrichment would. The desktop is never touched after the phone acts (except
where a person would press a button): it must move on by itself, by htmx polling every ~2 s.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from http import HTTPStatus

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.pages import (
    HEADING,
    MSISDN,
    ON_4G,
    POLL_MS,
    agree_and_start,
    choose_device,
    complete_steps_before,
    expect_step,
    heading,
    not_me,
    printed_qr_link,
    qr_image,
    regenerate_qr,
    scan_qr,
    url_pattern,
)
from tests.helpers import ELIGIBLE
from wizard.clock import FrozenClock

pytestmark = pytest.mark.browser

ON_WIFI = {"X-Sim-Network": "wifi", "X-Sim-Msisdn": MSISDN}

BACK_TO_COMPUTER = "請回到您的電腦確認認證結果"
DONE_HEADING = "行動電話認證成功"
WIFI_ADVICE = "關閉 WiFi"
NewContext = Callable[..., BrowserContext]


def desktop_at_qr(new_context: NewContext, *, js: bool = True) -> Page:
    """A desktop that went through steps 1-3 as 桌上型電腦 and shows step 4's QR code."""
    page = new_context("desktop", js=js).new_page()
    complete_steps_before(page, "qr")
    expect(qr_image(page)).to_be_visible()
    return page


def phone_on(new_context: NewContext, network: dict[str, str]) -> Page:
    """A phone whose every request carries the simulator's network identity."""
    context = new_context("phone")
    context.set_extra_http_headers(network)
    return context.new_page()


def qr_status(page: Page) -> Locator:
    """The live status beneath the QR code (a polite live region)."""
    return page.get_by_role("status").filter(has=page.locator("#qr-status"))


def summary_value(page: Page, term: str) -> Locator:
    return page.locator(".summary-list div").filter(has=page.get_by_text(term, exact=True))


def expect_phone_verify_page(phone: Page) -> None:
    """The phone shows step 5 for the scanned hand-off: the token has left the address bar,
    the data is masked, and it says what is being bound and from where."""
    expect(phone).to_have_url(url_pattern("phone"))
    expect(heading(phone)).to_have_text(HEADING["verify"])
    expect(summary_value(phone, "驗證類別")).to_contain_text("行動電話驗證")
    expect(summary_value(phone, "電信業者")).to_contain_text("中華電信")
    expect(summary_value(phone, "門號資訊")).to_contain_text("09****78")
    expect(summary_value(phone, "身分證號")).to_contain_text("A12345****")
    expect(
        phone.get_by_text(re.compile(r"一台使用 Chrome / Windows 的裝置於 \d\d:\d\d 開始這項申請"))
    ).to_be_visible()
    expect(phone.get_by_role("button", name="這不是我申請的", exact=True)).to_be_visible()
    html = phone.content()
    for secret in (ELIGIBLE["national_id"], MSISDN, ELIGIBLE["msisdn"]):
        assert secret not in html, "the phone page shows an unmasked ID or number"


def expect_desktop_moves_on(desktop: Page) -> None:
    """Without any click, the desktop reaches step 6."""
    expect(desktop).to_have_url(url_pattern("done"), timeout=POLL_MS)
    expect(heading(desktop)).to_have_text(DONE_HEADING)


def open_dead_link(phone: Page, link: str, title: str, problems: list[str]) -> None:
    """The phone opens a link that cannot be used: a clear page (410 Gone) that offers no
    verification. Chromium logs any 4xx page as a console error: only that one is expected."""
    logged = f"the server responded with a status of {HTTPStatus.GONE.value}"
    with phone.expect_console_message(lambda message: logged in message.text):
        response = phone.goto(link)
    assert response is not None and response.status == HTTPStatus.GONE
    problems[:] = [
        p for p in problems if not (logged in p and p.startswith(f"console error on {link} "))
    ]
    expect(heading(phone)).to_have_text(title)
    expect(phone.get_by_role("button", name="開始驗證")).to_have_count(0)


def test_a_phone_on_4g_scans_the_desktops_qr_code_and_the_desktop_moves_on_by_itself(
    new_context: NewContext, live_server: str, problems: list[str]
) -> None:
    desktop = desktop_at_qr(new_context)
    expect(desktop.get_by_text("請確認已關閉 WIFI 網路，開啟 4G/5G 網路連線")).to_be_visible()
    expect(qr_status(desktop)).to_contain_text("等待手機掃描")
    link = scan_qr(desktop)
    assert link == printed_qr_link(desktop)
    assert link.startswith(f"{live_server}/h/")

    phone = phone_on(new_context, ON_4G)
    phone.goto(link)
    expect_phone_verify_page(phone)
    expect(qr_status(desktop)).to_contain_text("已在手機上開啟", timeout=POLL_MS)
    expect(desktop).to_have_url(url_pattern("qr"))  # polling does not touch the address bar

    agree_and_start(phone)
    expect(phone.get_by_text(BACK_TO_COMPUTER)).to_be_visible()
    expect_desktop_moves_on(desktop)

    open_dead_link(phone, link, "這個 QR Code 已使用過", problems)  # single use


def test_a_phone_on_wifi_is_told_to_switch_it_off_and_succeeds_on_4g(
    new_context: NewContext,
) -> None:
    desktop = desktop_at_qr(new_context)
    phone = phone_on(new_context, ON_WIFI)
    phone.goto(scan_qr(desktop))
    expect_phone_verify_page(phone)

    agree_and_start(phone)
    expect(phone.get_by_role("alert")).to_contain_text(WIFI_ADVICE)
    expect(qr_status(desktop)).to_contain_text(WIFI_ADVICE, timeout=POLL_MS)
    expect(desktop).to_have_url(url_pattern("qr"))

    phone.context.set_extra_http_headers(ON_4G)
    agree_and_start(phone)
    expect(phone.get_by_text(BACK_TO_COMPUTER)).to_be_visible()
    expect_desktop_moves_on(desktop)


def test_this_was_not_me_cancels_on_the_phone_and_the_desktop_says_so(
    new_context: NewContext, problems: list[str]
) -> None:
    desktop = desktop_at_qr(new_context)
    link = scan_qr(desktop)
    phone = phone_on(new_context, ON_4G)
    phone.goto(link)
    expect_phone_verify_page(phone)

    not_me(phone)
    expect(heading(phone)).to_contain_text("已取消")
    expect(phone.get_by_role("button", name="開始驗證")).to_have_count(0)

    expect(qr_status(desktop)).to_contain_text("本次申請已取消", timeout=POLL_MS)
    regenerate = desktop.get_by_role("button", name="重新產生QRCode")
    expect(regenerate).to_have_count(0)
    expect(desktop).to_have_url(url_pattern("qr"))

    desktop.reload()  # and it stays so
    expect(qr_status(desktop)).to_contain_text("本次申請已取消")
    expect(regenerate).to_have_count(0)
    open_dead_link(phone, link, "這個 QR Code 已使用過", problems)


@pytest.mark.parametrize("live_clock", ["frozen"], indirect=True)
def test_an_expired_qr_code_is_refused_and_a_new_one_works(
    new_context: NewContext, live_clock: FrozenClock, problems: list[str]
) -> None:
    desktop = desktop_at_qr(new_context)
    old = scan_qr(desktop)

    live_clock.advance(minutes=5, seconds=1)
    expect(qr_status(desktop)).to_contain_text("QR Code 已逾時", timeout=POLL_MS)
    # The dead code and its countdown leave the page with the status (no reload needed).
    expect(desktop.locator(".qr-image svg")).to_have_count(0)
    expect(desktop.get_by_text("驗證有效時間")).to_have_count(0)
    phone = phone_on(new_context, ON_4G)
    open_dead_link(phone, old, "QR Code 已逾時", problems)

    regenerate_qr(desktop)
    expect(qr_status(desktop)).to_contain_text("等待手機掃描")
    new = scan_qr(desktop)
    assert new != old
    assert new == printed_qr_link(desktop)
    phone.goto(new)
    expect_phone_verify_page(phone)
    agree_and_start(phone)
    expect(phone.get_by_text(BACK_TO_COMPUTER)).to_be_visible()
    expect_desktop_moves_on(desktop)


def test_regenerating_kills_the_old_qr_code_at_once(
    new_context: NewContext, problems: list[str]
) -> None:
    desktop = desktop_at_qr(new_context)
    first = scan_qr(desktop)
    regenerate_qr(desktop)
    expect(desktop.locator(".qr-link")).not_to_have_text(first)
    second = scan_qr(desktop)
    assert second != first
    assert second == printed_qr_link(desktop)

    phone = phone_on(new_context, ON_4G)
    open_dead_link(phone, first, "已有較新的 QR Code", problems)
    phone.goto(second)
    expect_phone_verify_page(phone)
    agree_and_start(phone)
    expect(phone.get_by_text(BACK_TO_COMPUTER)).to_be_visible()
    expect_desktop_moves_on(desktop)


@pytest.mark.parametrize(
    ("kind", "sim", "network"),
    [
        pytest.param("phone", None, ON_4G, id="phone-on-4g"),
        pytest.param("tablet", "yes", None, id="tablet-with-sim-via-simulator-panel"),
    ],
)
def test_a_phone_or_a_tablet_with_sim_verifies_on_the_same_device(
    new_context: NewContext, kind: str, sim: str | None, network: dict[str, str] | None
) -> None:
    context = new_context(kind)
    if network:
        context.set_extra_http_headers(network)
    page = context.new_page()
    complete_steps_before(page, "device")
    choose_device(page, kind, sim)
    expect_step(page, "verify")
    expect(summary_value(page, "門號資訊")).to_contain_text("09****78")
    expect(summary_value(page, "身分證號")).to_contain_text("A12345****")
    expect(page.get_by_role("button", name="這不是我申請的")).to_have_count(0)
    panel = page.get_by_role("group", name=re.compile("電信網路模擬器"))
    if network:
        expect(panel).to_have_count(0)
    else:  # no header enrichment: the clearly marked simulator panel says what the network is
        panel.get_by_label("網路", exact=True).select_option(label="4G 行動數據")
        seen = panel.get_by_label("行動網路辨識到的門號")
        expect(seen).to_have_value("same")  # the registration's own number, never shown whole
        expect(seen.locator("option[value=same]")).to_contain_text("09****78")
        expect(page.locator("body")).not_to_contain_text(MSISDN)

    agree_and_start(page)
    expect(page).to_have_url(url_pattern("done"))
    expect(heading(page)).to_have_text(DONE_HEADING)


def test_without_javascript_the_desktop_checks_with_a_button(new_context: NewContext) -> None:
    desktop = desktop_at_qr(new_context, js=False)
    link = scan_qr(desktop)
    assert link == printed_qr_link(desktop)
    check = desktop.get_by_role("button", name="我已在手機完成驗證", exact=True)
    check.click()  # too early: it says so and stays
    expect_step(desktop, "qr")
    expect(desktop.get_by_role("status").first).to_contain_text("手機上還沒有完成驗證")

    phone = phone_on(new_context, ON_4G)
    phone.goto(link)
    expect_phone_verify_page(phone)
    agree_and_start(phone)
    expect(phone.get_by_text(BACK_TO_COMPUTER)).to_be_visible()

    expect_step(desktop, "qr")  # nothing moves by itself without JavaScript
    check.click()
    expect(desktop).to_have_url(url_pattern("done"))
    expect(heading(desktop)).to_have_text(DONE_HEADING)


def test_the_countdown_shows_the_time_left_and_counts_down(new_context: NewContext) -> None:
    desktop = desktop_at_qr(new_context)
    countdown = desktop.locator(".countdown")
    expect(countdown).to_contain_text("驗證有效時間")
    clock_text = countdown.locator(".countdown-clock")
    start = clock_text.inner_text()
    assert re.fullmatch(r"05:00|04:[45]\d", start), start
    expect(clock_text).not_to_have_text(start, timeout=2_500)
    assert clock_text.inner_text() < start
    # Screen readers hear the time at a few moments (4, 3, 2, 1 min ...), not every second.
    expect(desktop.locator("#countdown-announce")).to_have_text("")
