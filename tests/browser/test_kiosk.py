"""A counter kiosk in Chromium: a whole registration on the kiosk (its QR code scanned by the
person's own phone), then 結束使用; and, separately, the idle warning and the wipe after it.
After either, nothing of the person can be reached: not by the back button (whether Chromium
would restore the page from the back-forward cache or load it again), not by reloading, not in
htmx's history, web storage, IndexedDB or cookies; and no device binding exists.

The live server sits behind one trusted proxy (TRUSTED_PROXIES=1), as in production: each
browser context says where it is with ``X-Forwarded-For``. The kiosk is in KIOSK_NETWORKS; the
phone is at an ordinary address (it is the person's own phone, not a kiosk).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from tests.browser.pages import (
    POLL_MS,
    URL,
    agree_and_start,
    expect_step,
    fill_personal,
    heading,
    identify,
    notice_start,
    qr_image,
    read_notice_to_the_end,
    scan_qr,
    submit,
    url_pattern,
)
from wizard.database.models import DeviceBinding, Registration, UserSession

pytestmark = pytest.mark.browser

NewContext = Callable[..., BrowserContext]
KIOSK = {"X-Forwarded-For": "10.20.0.7"}
PHONE = {"X-Forwarded-For": "203.0.113.9", "X-Sim-Network": "4g", "X-Sim-Msisdn": "0912345678"}
#: What of 王小明 a page could show (the login page's hint shows "A123456789" as an example,
#: so the ID as typed is looked for in form values, not in the text).
TRACES = ("王小明", "A12345****", "09****78", "0912-345678", "000012345678")
TYPED = ("A123456789", "王小明", "0912-345678", "000012345678", "1980/01/01")

BEHIND_A_PROXY = {"KIOSK_NETWORKS": ["10.20.0.0/24"], "TRUSTED_PROXIES": 1}


#: axe-core's WCAG 2.0/2.1 A and AA rules (as tests/browser/test_accessibility.py runs them).
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def expect_accessible(page: Page, state: str) -> None:
    """No axe violations on the kiosk's page as it is now (its own states: the fixed step 3,
    step 6 without binding, the idle warning, the page after 結束使用)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(Axe().axe_script)
    violations = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)["violations"]
    found = [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in violations]
    assert not found, f"{state}: {found}"


def kiosk_page(new_context: NewContext) -> Page:
    context = new_context("desktop")
    context.set_extra_http_headers(KIOSK)
    return context.new_page()


def end_button(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("banner").get_by_role("button", name="結束使用", exact=True)


def expect_no_autofill(page: Page) -> int:
    """Every form control on the page has autocomplete="off". Returns how many there were."""
    found = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                 .map(e => [e.name || e.id, e.getAttribute('autocomplete')])"""
    )
    for name, value in found:
        assert value == "off", f"{name} has autocomplete={value!r} on {page.url}"
    return len(found)


def leave_probes(page: Page) -> None:
    """Things only Clear-Site-Data removes (kiosk.js clears web storage itself, but never
    IndexedDB or cookies): an IndexedDB database and a cookie."""
    page.evaluate(
        """() => new Promise((resolve, reject) => {
             const request = indexedDB.open('probe', 1);
             request.onupgradeneeded = () => request.result.createObjectStore('s');
             request.onsuccess = () => { request.result.close(); resolve(); };
             request.onerror = () => reject(request.error);
           })"""
    )
    base = page.url.split("/", 3)
    page.context.add_cookies([{"name": "probe", "value": "1", "url": "/".join(base[:3])}])
    page.evaluate(
        "() => { localStorage.setItem('probe', '1'); sessionStorage.setItem('probe', '1'); }"
    )


def storage(page: Page) -> dict[str, object]:
    """What this origin keeps in the browser besides cookies."""
    return page.evaluate(
        """async () => ({
             local: Object.fromEntries(Object.entries(localStorage)),
             session: Object.fromEntries(Object.entries(sessionStorage)),
             databases: (await indexedDB.databases()).map(d => d.name),
           })"""
    )


def expect_empty_storage(page: Page) -> None:
    """Nothing in web storage or IndexedDB, and no htmx history snapshot; htmx keeps only the
    path of the page on screen (sessionStorage 'htmx-current-path-for-history')."""
    state = storage(page)
    path = page.evaluate("() => location.pathname + location.search")
    session = dict(state["session"])  # type: ignore[call-overload]
    assert session.pop("htmx-current-path-for-history", path) == path, state
    assert state["local"] == {} and session == {} and state["databases"] == [], state


def shows_nothing_of_the_person(page: Page, where: str) -> None:
    text = page.locator("body").inner_text()
    for trace in TRACES:
        assert trace not in text, f"{where}: {page.url} shows {trace!r}"
    values = page.evaluate(
        "() => [...document.querySelectorAll('input, select, textarea')].map(e => e.value)"
    )
    for typed in TYPED:
        assert typed not in values, f"{where}: {page.url} has {typed!r} in a field"


def expect_nothing_reachable(page: Page, app: Flask) -> None:
    """After the wipe: the back button (every step of the history), reload, storage, cookies
    and the database hold nothing of the person."""
    expect(heading(page)).to_have_text("已結束使用")
    shows_nothing_of_the_person(page, "after the wipe")
    expect_empty_storage(page)
    names = {c["name"] for c in page.context.cookies()}
    assert "probe" not in names and "bli_device" not in names, names
    expect(page.get_by_role("link", name="開始申請或登入")).to_be_visible()
    # Back through every entry of this tab's history (the Navigation API knows where it is;
    # a page may answer a step with a redirect to the login page, so URLs repeat).
    visited = []
    while page.evaluate("() => navigation.canGoBack"):
        page.go_back(wait_until="load")
        visited.append(page.evaluate("() => [navigation.currentEntry.index, location.pathname]"))
        shows_nothing_of_the_person(page, f"back to {visited[-1]}")
        expect_empty_storage(page)
        page.reload(wait_until="load")
        shows_nothing_of_the_person(page, f"back to {visited[-1]}, reloaded")
        assert len(visited) < 30
    print("went back through:", visited)
    assert visited, "the back button led nowhere"
    page.goto("/portal")
    expect(page).to_have_url(url_pattern("identify"))
    shows_nothing_of_the_person(page, "portal after the wipe")
    with app.extensions["db_sessionmaker"]() as db_session:
        assert db_session.scalars(select(DeviceBinding)).all() == []
        registration = db_session.scalars(select(Registration)).one()
        assert registration.purged and registration.national_id is None
        assert registration.name is None and registration.msisdn is None
        assert all(s.ended_at is not None for s in db_session.scalars(select(UserSession)))


@pytest.mark.parametrize("app_config", [BEHIND_A_PROXY], indirect=True)
def test_a_whole_registration_on_a_kiosk_then_end_session(
    new_context: NewContext, live_app: Flask
) -> None:
    kiosk = kiosk_page(new_context)
    kiosk.goto(URL["identify"])
    expect(kiosk.locator("body")).to_have_class(re.compile(r"\bkiosk\b"))
    expect(end_button(kiosk)).to_be_visible()
    controls = expect_no_autofill(kiosk)
    identify(kiosk)
    expect_step(kiosk, "personal")
    fill_personal(kiosk, submit_form=False)
    controls += expect_no_autofill(kiosk)
    submit(kiosk)

    # Step 3: nothing to choose, the QR path is set.
    expect_step(kiosk, "device")
    expect(kiosk.get_by_role("radio")).to_have_count(0)
    expect(kiosk.get_by_text("臨櫃服務機（無 SIM 卡，以手機掃描 QR Code 驗證）")).to_be_visible()
    expect_accessible(kiosk, "step 3 on a kiosk")
    submit(kiosk)
    expect_step(kiosk, "qr")
    expect(qr_image(kiosk)).to_be_visible()
    expect(end_button(kiosk)).to_be_visible()

    # The person's own phone (not a kiosk) scans the code and verifies.
    phone_context = new_context("phone")
    phone_context.set_extra_http_headers(PHONE)
    phone = phone_context.new_page()
    phone.goto(scan_qr(kiosk))
    expect(phone.get_by_role("button", name="結束使用")).to_have_count(0)
    agree_and_start(phone)
    expect(phone.get_by_text("請回到您的電腦確認認證結果")).to_be_visible()

    # Step 6 on the kiosk: no device key, no binding; queries work.
    expect(kiosk).to_have_url(url_pattern("done"), timeout=POLL_MS)
    expect(kiosk.get_by_role("button", name="完成綁定並登入")).to_have_count(0)
    expect_accessible(kiosk, "step 6 on a kiosk")
    kiosk.get_by_role("button", name="完成並登入", exact=True).click()
    read_notice_to_the_end(kiosk)
    notice_start(kiosk).click()
    expect(kiosk.get_by_text(re.compile("王小明，您好"))).to_be_visible()
    kiosk.get_by_role("link", name="個人投保資料查詢").click()
    expect(heading(kiosk)).to_have_text("個人投保資料查詢")
    controls += expect_no_autofill(kiosk)
    assert controls >= 12
    assert storage(kiosk)["databases"] == []  # no WebCrypto key was made and stored
    leave_probes(kiosk)

    end_button(kiosk).click()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ended$"))
    expect_accessible(kiosk, "after 結束使用")
    expect_nothing_reachable(kiosk, live_app)


#: Long enough for the checks (an axe scan among them) to finish before the wipe on a busy
#: machine: the wipe must come from the test's silence, not from its slowness.
WARNING_SECONDS = 15


@pytest.mark.parametrize(
    "app_config",
    [{**BEHIND_A_PROXY, "KIOSK_IDLE_SECONDS": 2, "KIOSK_WARNING_SECONDS": WARNING_SECONDS}],
    indirect=True,
)
def test_idle_warning_continue_then_the_wipe(new_context: NewContext, live_app: Flask) -> None:
    kiosk = kiosk_page(new_context)
    kiosk.goto(URL["identify"])
    identify(kiosk)
    expect_step(kiosk, "personal")
    # Typed but never sent: only the browser has it.
    kiosk.get_by_label("姓名").fill("王小明")
    kiosk.get_by_label("手機門號").fill("0912-345678")
    leave_probes(kiosk)

    warning = kiosk.get_by_role("alertdialog", name="還在使用嗎？")
    expect(warning).to_be_visible(timeout=6_000)  # after 2 s without input
    keep = warning.get_by_role("button", name="繼續使用")
    expect(keep).to_be_focused()  # a keyboard or screen-reader user lands on the answer
    expect(warning).to_contain_text(re.compile(r"0:[01]\d"))
    expect_accessible(kiosk, "the idle warning")
    keep.press("Enter")
    expect(warning).to_be_hidden()
    expect(kiosk.get_by_label("姓名")).to_have_value("王小明")  # nothing was lost
    expect(kiosk).to_have_url(url_pattern("personal"))

    # No answer this time: after the warning's seconds, everything is wiped.
    expect(warning).to_be_visible(timeout=6_000)
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ended$"), timeout=(WARNING_SECONDS + 10) * 1000)
    expect_nothing_reachable(kiosk, live_app)


@pytest.mark.parametrize("app_config", [BEHIND_A_PROXY], indirect=True)
def test_an_ordinary_computer_sees_no_kiosk(new_context: NewContext) -> None:
    context = new_context("desktop")
    context.set_extra_http_headers({"X-Forwarded-For": "198.51.100.20"})
    page = context.new_page()
    page.goto(URL["identify"])
    expect(end_button(page)).to_have_count(0)
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bkiosk\b"))
    assert page.evaluate("() => [...document.scripts].some(s => s.src.includes('kiosk'))") is False
