"""Accessibility (WCAG 2.1 AA) of every page and state, in a real browser.

axe-core (bundled with axe-playwright-python, run offline, also under the strict CSP) checks
each page at a phone size and a desktop size with the WCAG 2.0/2.1 A and AA rules, and there
must be no violation at all: no rule is turned off and no node is left out. The pages are
reached the way a person reaches them (through the UI, with the carrier simulator's phone
opening the QR code's link), several per test where they share the way there. Every test
runs twice, in Chinese and in English (chosen on the first page; tests/browser/bilingual.py
finds the English words in the site's own catalogue): 41 states x 2 sizes x 2 languages.

Some things axe does not judge are checked by hand: one <main> and one <h1> on every page, a
visible focus outline on links, buttons and inputs, no horizontal scrolling at 320 px on steps
1-5, and targets of at least 44x44 px for buttons, radios and checkboxes on steps 2, 3 and 5;
and at 200% and 400% zoom every page of steps 1-7 and the portal keeps every control: no
sideways scrolling, each one reached by Tab and inside the window while focused.
(Keyboard-only journeys: test_keyboard.py; live regions: test_announcements.py.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.bilingual import (
    LANGUAGES,
    Say,
    agree_and_start,
    bind_device,
    choose_device,
    complete_steps_before,
    expect_step,
    fill_personal,
    heading,
    identify,
    link,
    log_in,
    log_out,
    login_panel,
    not_me,
    notice_start,
    printed_qr_link,
    qr_status,
    read_notice_to_the_end,
    regenerate_qr,
    sim_question,
    simulator_network,
    start,
    submit,
)
from tests.browser.pages import ON_4G, POLL_MS, url_pattern
from wizard.clock import FrozenClock

pytestmark = pytest.mark.browser

NewContext = Callable[..., BrowserContext]

#: The WCAG 2.0 and 2.1 rules of levels A and AA (axe's rule tags).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
AXE_SCRIPT = Axe().axe_script
SIZES = {
    "phone 390x844": {"width": 390, "height": 844},
    "desktop 1280x800": {"width": 1280, "height": 800},
}

WRONG_PASSWORD = "not my password at all"
WRONG_LOGIN = "登入資料有誤，請重新輸入。再錯 %(left)s 次，這個裝置的登入會暫停。"
ON_WIFI = (
    "您的手機正在使用 WiFi，電信業者無法辨識門號。請關閉 WiFi、開啟 4G/5G 行動數據後，"
    "再按一次「開始驗證」。"
)
#: <html lang> in each language.
HTML_LANG = {"zh-TW": "zh-Hant-TW", "en": "en"}


# --- the sweep ----------------------------------------------------------------------------


@dataclass
class Sweep:
    """Runs axe on pages and collects what it finds; fails once, with everything, at the end."""

    found: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    zoomed: list[str] = field(default_factory=list)

    def check(self, page: Page, name: str, *, zoom: bool = False) -> None:
        """axe at both sizes (the page's own size is restored after), and the page's structure;
        with ``zoom``, also the page at 200% and 400% zoom (zoom_problems)."""
        self.checked.append(name)
        self.found.extend(f"{name}: {problem}" for problem in structure_problems(page))
        if zoom:
            self.zoomed.append(name)
            self.found.extend(zoom_problems(page, name))
        original = page.viewport_size
        for size_name, size in SIZES.items():
            page.set_viewport_size(size)
            for violation in run_axe(page):
                self.found.append(f"{name} [{size_name}]: {describe(violation)}")
        if original:
            page.set_viewport_size(original)

    def assert_clean(self) -> None:
        assert not self.found, (
            f"{len(self.found)} accessibility problem(s) on {len(self.checked)} page(s):\n"
            + "\n".join(self.found)
        )


def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        page.evaluate(AXE_SCRIPT)
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return list(results["violations"])


def describe(violation: dict[str, Any]) -> str:
    """One violation: rule id, impact, what it means, and each node's target and problem."""
    lines = [f"{violation['id']} ({violation['impact']}): {violation['help']}"]
    for node in violation["nodes"]:
        target = " ".join(str(part) for part in node["target"])
        summary = " ".join((node.get("failureSummary") or "").split())
        lines.append(f"    - {target}: {summary}")
    return "\n".join(lines)


def structure_problems(page: Page) -> list[str]:
    """Exactly one <main> and one <h1> (axe leaves these to its best-practice rules)."""
    counts = page.evaluate(
        "() => [document.querySelectorAll('main').length, document.querySelectorAll('h1').length]"
    )
    problems = []
    if counts[0] != 1:
        problems.append(f"{counts[0]} <main> elements (expected 1)")
    if counts[1] != 1:
        problems.append(f"{counts[1]} <h1> elements (expected 1)")
    return problems


@pytest.fixture
def sweep() -> Sweep:
    return Sweep()


@pytest.fixture(params=LANGUAGES)
def lang(request: pytest.FixtureRequest) -> str:
    """Each sweep runs in Chinese and in English (the choice made on the first page)."""
    return str(request.param)


# --- verbs --------------------------------------------------------------------------------


def goto_status(page: Page, url: str, status: int, problems: list[str]) -> None:
    """Open a page the server answers with ``status``. Chromium logs every 4xx page as a
    console error: only that one is expected."""
    logged = f"the server responded with a status of {status}"
    with page.expect_console_message(lambda message: logged in message.text):
        response = page.goto(url)
    assert response is not None and response.status == status, url
    here = f"console error on {page.url} "
    problems[:] = [p for p in problems if not (logged in p and p.startswith(here))]


# --- 1. steps 1-5 over the QR hand-off, then steps 6-7 and the portal ---------------------


def test_every_page_of_a_registration_through_the_qr_code_and_the_portal(
    new_context: NewContext, sweep: Sweep, lang: str
) -> None:
    say = Say(lang)
    desktop = new_context("desktop").new_page()

    # Step 1, empty and with an error.
    start(desktop, lang)
    expect_step(desktop, say, "identify")
    expect(desktop.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    sweep.check(desktop, "login (step 1)", zoom=True)
    identify(desktop, say, "A123456788")  # checksum off by one
    expect(desktop.locator("#national_id-error")).to_be_visible()
    sweep.check(desktop, "login (step 1) with an error")

    # Step 2: empty, every field wrong, the text CAPTCHA.
    identify(desktop, say)
    expect_step(desktop, say, "personal")
    sweep.check(desktop, "step 2")
    submit(desktop, say)
    expect(desktop.locator("#error-summary")).to_be_visible()
    for name in ("carrier", "msisdn", "nhi_card", "birth_date", "name", "captcha", "password"):
        expect(desktop.locator(f"#{name}-error")).to_be_visible()
    sweep.check(desktop, "step 2 with errors on every field", zoom=True)
    desktop.get_by_role("button", name=say("改用文字題")).click()
    expect(desktop.locator(".captcha-question")).to_be_visible()
    sweep.check(desktop, "step 2 with the text CAPTCHA")

    # Step 3: the tablet's SIM question, then its error.
    fill_personal(desktop, say)
    expect_step(desktop, say, "device")
    choose_device(desktop, say, "tablet", send=False)
    expect(sim_question(desktop)).to_be_visible()
    sweep.check(desktop, "step 3 with the SIM question", zoom=True)
    submit(desktop, say)
    expect(desktop.locator("#sim-error")).to_be_visible()
    sweep.check(desktop, "step 3 with the SIM question's error")

    # Step 4 waiting; the phone (no header enrichment: the simulator panel) opens the link.
    choose_device(desktop, say, "desktop")
    expect_step(desktop, say, "qr")
    expect(qr_status(desktop, "waiting")).to_be_visible()
    sweep.check(desktop, "step 4 waiting", zoom=True)
    phone = new_context("phone").new_page()
    start(phone, lang)
    phone.goto(printed_qr_link(desktop))
    expect(phone).to_have_url(url_pattern("phone"))
    expect(heading(phone)).to_have_text(say("核對資料並開始驗證"))
    sweep.check(phone, "phone step 5 (binding notice, simulator panel)", zoom=True)
    expect(qr_status(desktop, "opened")).to_be_visible(timeout=POLL_MS)
    sweep.check(desktop, "step 4 opened on the phone")

    # WiFi: the phone says how to fix it, the desktop says the phone failed.
    simulator_network(phone, "wifi")
    agree_and_start(phone, say)
    expect(phone.get_by_role("alert")).to_contain_text(say(ON_WIFI))
    sweep.check(phone, "phone step 5 failed on WiFi")
    expect(qr_status(desktop, "opened")).to_contain_text(say(ON_WIFI), timeout=POLL_MS)
    sweep.check(desktop, "step 4 failed on the phone's WiFi")

    # 4G: success on the phone; the desktop moves on to /register/done.
    simulator_network(phone, "4g")
    agree_and_start(phone, say)
    expect(heading(phone)).to_have_text(say("驗證成功"))
    sweep.check(phone, "phone step 5 verified")
    expect(desktop).to_have_url(url_pattern("done"), timeout=POLL_MS)
    sweep.check(desktop, "/register/done", zoom=True)

    # Step 6: the notice, then the portal.
    bind_device(desktop, say)
    expect(desktop).to_have_url(re.compile(r"/notice$"))
    sweep.check(desktop, "使用須知 (notice)", zoom=True)
    read_notice_to_the_end(desktop, say)
    notice_start(desktop, say).click()
    expect(desktop).to_have_url(re.compile(r"/portal$"))
    sweep.check(desktop, "portal home", zoom=True)
    link(desktop, say, "個人投保資料查詢").click()
    expect(desktop.locator("#records-caption")).to_be_visible()
    sweep.check(desktop, "records", zoom=True)
    desktop.goto("/portal/records?types=occupational&date_from=2020/13/45")
    expect(desktop.locator("#date_from-error")).to_be_visible()
    sweep.check(desktop, "records with a filter error")
    desktop.goto("/portal/covid")
    expect(heading(desktop)).to_have_text(say("COVID-19 申辦進度查詢"))
    sweep.check(desktop, "COVID-19 page")
    desktop.goto("/account/devices")
    expect(heading(desktop)).to_have_text(say("已綁定的裝置"))
    sweep.check(desktop, "devices", zoom=True)

    # The simulator's outbox, and the not-me link of the new binding's text message.
    desktop.goto("/simulator/outbox")
    message = desktop.locator("article.sms").filter(has=desktop.locator("a[href*='/not-me/']"))
    expect(message).to_have_count(1)
    sweep.check(desktop, "simulator outbox")
    not_me_link = message.get_by_role("link").get_attribute("href")
    assert not_me_link
    phone.goto(not_me_link)
    expect(heading(phone)).to_have_text(say("撤銷裝置綁定"))
    sweep.check(phone, "not-me confirm page")

    # Step 7: the bound browser's login, with an error, and locked.
    log_out(desktop, say)
    expect(login_panel(desktop)).to_be_visible()
    sweep.check(desktop, "login on a bound browser", zoom=True)
    for left in (4, 3, 2, 1):
        log_in(desktop, say, password=WRONG_PASSWORD)
        expect(desktop.get_by_role("alert")).to_contain_text(say(WRONG_LOGIN) % {"left": left})
        if left == 4:
            sweep.check(desktop, "login on a bound browser with an error", zoom=True)
    log_in(desktop, say, password=WRONG_PASSWORD)
    expect(desktop.get_by_role("alert")).to_contain_text(say("登入已暫停"))
    sweep.check(desktop, "login on a bound browser, locked")

    assert len(sweep.zoomed) == 12
    sweep.assert_clean()


# --- 2. step 4 expired and cancelled; the error pages ----------------------------------------


@pytest.mark.parametrize("live_clock", ["frozen"], indirect=True)
def test_step_4_expired_and_cancelled_and_the_error_pages(
    new_context: NewContext,
    live_clock: FrozenClock,
    sweep: Sweep,
    problems: list[str],
    lang: str,
) -> None:
    say = Say(lang)
    desktop = new_context("desktop").new_page()
    complete_steps_before(desktop, say, "qr")
    expect(qr_status(desktop, "waiting")).to_be_visible()
    live_clock.advance(minutes=5, seconds=1)
    expect(qr_status(desktop, "expired")).to_be_visible(timeout=POLL_MS)
    sweep.check(desktop, "step 4 expired")

    regenerate_qr(desktop, say)
    expect(qr_status(desktop, "waiting")).to_be_visible()
    context = new_context("phone")
    context.set_extra_http_headers(ON_4G)
    phone = context.new_page()
    start(phone, lang)
    phone.goto(printed_qr_link(desktop))
    expect(phone.get_by_role("button", name=say("這不是我申請的"))).to_be_visible()
    sweep.check(phone, "phone step 5 without the simulator panel")
    not_me(phone, say)
    expect(heading(phone)).to_have_text(say("已取消這項申請"))
    sweep.check(phone, "phone step 5 cancelled")
    expect(qr_status(desktop, "cancelled")).to_be_visible(timeout=POLL_MS)
    sweep.check(desktop, "step 4 cancelled")

    goto_status(phone, "/h/garbage", 400, problems)
    sweep.check(phone, "QR misuse page (/h/garbage)")
    goto_status(phone, "/no/such/page", 404, problems)
    sweep.check(phone, "404 page")

    sweep.assert_clean()


# --- 3. direct step 5 on a phone; the help pages ---------------------------------------------


def test_direct_step_5_and_the_help_pages(new_context: NewContext, sweep: Sweep, lang: str) -> None:
    say = Say(lang)
    page = new_context("phone").new_page()
    complete_steps_before(page, say, "verify")
    sweep.check(page, "direct step 5 (simulator panel)", zoom=True)
    simulator_network(page, "wifi")
    agree_and_start(page, say)
    expect(page.get_by_role("alert")).to_contain_text(say(ON_WIFI))
    sweep.check(page, "direct step 5 failed on WiFi")
    # The failed try keeps the box ticked (a retry is one tap); untick it to see the error.
    page.get_by_role("checkbox").uncheck()
    page.get_by_role("button", name=say("開始驗證"), exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()
    sweep.check(page, "direct step 5, terms not ticked")
    simulator_network(page, "4g")
    agree_and_start(page, say)
    expect(page).to_have_url(url_pattern("done"))
    sweep.check(page, "/register/done on a phone")

    for path in (
        "/help/manual",
        "/help/tutorial",
        "/help/faq",
        "/help/guide",
        "/help/terms",
        "/login/method/moica",
    ):
        page.goto(path)
        expect(heading(page)).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
        sweep.check(page, path)

    sweep.assert_clean()


# --- 4. by hand: focus, reflow at 320 px, target sizes ---------------------------------------

NARROW = {"width": 320, "height": 640}

#: The focused element: a number for it (the same on the next round), its tag, type and name,
#: its focus outline, and the best contrast (WCAG 1.4.11 asks 3:1) of the focus indicator's
#: colours (outline, box-shadow rings) with what is behind the element.
TAB_STOP_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  window.__tabStops = window.__tabStops || new Map();
  if (!window.__tabStops.has(el)) window.__tabStops.set(el, window.__tabStops.size);
  const rgba = (text) => {
    const m = text.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r, g, b, a};
  };
  const luminance = ({r, g, b}) => {
    const lin = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const contrast = (x, y) => {
    const [hi, lo] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  let behind = {r: 255, g: 255, b: 255, a: 1};
  for (let node = el.parentElement; node; node = node.parentElement) {
    const color = rgba(getComputedStyle(node).backgroundColor);
    if (color && color.a > 0) { behind = color; break; }
  }
  const style = getComputedStyle(el);
  const rings = [];
  if (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) {
    rings.push(rgba(style.outlineColor));
  }
  if (style.boxShadow !== "none") {
    for (const part of style.boxShadow.split(/,(?![^(]*\\))/)) rings.push(rgba(part));
  }
  const contrasts = rings.filter(Boolean).map((c) => contrast(c, behind));
  return {
    key: window.__tabStops.get(el),
    tag: el.tagName,
    type: el.getAttribute("type") || "",
    text: (el.innerText || el.value || el.getAttribute("aria-label") || "").slice(0, 40),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth),
    bestContrast: contrasts.length ? Math.max(...contrasts) : 0,
  };
}
"""

#: Buttons, and radios and checkboxes with their labels (a label is part of the target).
TARGETS_JS = """
() => {
  const visible = (el) =>
    el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
  const found = [];
  for (const el of document.querySelectorAll("main button, main input[type=submit]")) {
    if (!visible(el)) continue;
    const [w, h] = box(el);
    found.push({what: `button "${el.innerText.trim()}"`, boxes: [[w, h]]});
  }
  for (const el of document.querySelectorAll("main input[type=radio], main input[type=checkbox]")) {
    if (!visible(el)) continue;
    const label = document.querySelector(`label[for="${el.id}"]`);
    const boxes = [box(el)];
    if (label && visible(label)) boxes.push(box(label));
    found.push({what: `${el.type} "${label ? label.innerText.trim() : el.id}"`, boxes});
  }
  return found;
}
"""


def tab_through(page: Page, limit: int = 80) -> list[dict[str, Any]]:
    """From the page's first focusable element (the skip link), press Tab until the focus
    leaves the page or comes round again. (After an htmx swap, Tab would go on from where the
    focus was put, not from the top.)"""
    page.evaluate(
        "() => { window.scrollTo(0, 0); document.querySelector("
        "'a[href], button, input, select, textarea, [tabindex]:not([tabindex=\"-1\"])').focus(); }"
    )
    stops: list[dict[str, Any]] = []
    seen: set[int] = set()
    for _ in range(limit):
        stop = page.evaluate(TAB_STOP_JS)
        if stop is None or stop["key"] in seen:
            break
        seen.add(stop["key"])
        stops.append(stop)
        page.keyboard.press("Tab")
    return stops


@dataclass
class HandCheck:
    problems: list[str] = field(default_factory=list)

    def page(self, page: Page, name: str, *, targets: bool) -> None:
        self.problems.extend(f"{name}: {p}" for p in structure_problems(page))
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > NARROW["width"]:
            self.problems.append(f"{name}: scrolls sideways at 320 px (scrollWidth {width})")
        stops = tab_through(page)
        if not stops:
            self.problems.append(f"{name}: Tab reaches nothing")
        for stop in stops:
            what = f"{stop['tag']} {stop['type']} {stop['text']!r}"
            if stop["tag"] in ("A", "BUTTON", "INPUT", "SELECT", "TEXTAREA") and (
                stop["outlineStyle"] == "none" or stop["outlineWidth"] < 2
            ):
                self.problems.append(
                    f"{name}: no visible focus outline on {what} "
                    f"({stop['outlineStyle']} {stop['outlineWidth']}px)"
                )
            if stop["bestContrast"] < 3:
                self.problems.append(
                    f"{name}: the focus indicator of {what} has a contrast of "
                    f"{stop['bestContrast']:.2f}:1 with its background (needs 3:1)"
                )
        if targets:
            for target in page.evaluate(TARGETS_JS):
                if not any(w >= 44 and h >= 44 for w, h in target["boxes"]):
                    sizes = ", ".join(f"{w:.0f}x{h:.0f}" for w, h in target["boxes"])
                    self.problems.append(
                        f"{name}: {target['what']} is smaller than 44x44 ({sizes})"
                    )


def narrow_page(new_context: NewContext) -> Page:
    """A phone tab made 320 px wide (WCAG 1.4.10: reflow)."""
    page = new_context("phone").new_page()
    page.set_viewport_size(NARROW)
    return page


# In Chinese only: the focus ring and the target sizes do not change with the words, and the
# English pages' reflow at 320 px is checked by the zoom checks of tests 1 and 3.
@pytest.mark.parametrize("lang", ["zh-TW"])
def test_by_hand_focus_reflow_at_320px_and_target_sizes(new_context: NewContext, lang: str) -> None:
    say = Say(lang)
    check = HandCheck()
    page = narrow_page(new_context)
    start(page, lang)
    check.page(page, "step 1", targets=False)
    identify(page, say, "A123456788")
    expect(page.locator("#national_id-error")).to_be_visible()
    check.page(page, "step 1 with an error", targets=False)
    identify(page, say)
    expect_step(page, say, "personal")
    check.page(page, "step 2", targets=True)
    submit(page, say)
    expect(page.locator("#error-summary")).to_be_visible()
    check.page(page, "step 2 with errors", targets=True)
    fill_personal(page, say)
    expect_step(page, say, "device")
    choose_device(page, say, "tablet", send=False)
    expect(sim_question(page)).to_be_visible()
    check.page(page, "step 3 with the SIM question", targets=True)
    choose_device(page, say, "desktop")  # on a phone, the person's choice wins
    expect_step(page, say, "qr")
    check.page(page, "step 4", targets=False)

    phone = narrow_page(new_context)
    start(phone, lang)
    phone.goto(printed_qr_link(page))
    expect(phone).to_have_url(url_pattern("phone"))
    check.page(phone, "step 5 after the QR code", targets=True)

    direct = narrow_page(new_context)
    complete_steps_before(direct, say, "verify")
    check.page(direct, "direct step 5", targets=True)

    assert not check.problems, "\n".join(check.problems)


# --- 200% and 400% zoom (tests 1 and 3 ask for it on 13 pages of steps 1-7 and the portal) -----

#: A 1280x900 desktop window zoomed to 200% lays pages out in 640x450 CSS pixels, and at 400%
#: in 320x225 (WCAG 1.4.10's reflow width): resizing the viewport of a desktop context is what
#: browser zoom does to the layout (device_scale_factor only sharpens the pixels). 320 is
#: checked 640 px tall so that a page is not mostly header.
ZOOMS = {"200%": {"width": 640, "height": 450}, "400% (320 px)": {"width": 320, "height": 640}}

#: The focused element's number (as TAB_STOP_JS), and whether it is inside the viewport's
#: width while it has the focus.
FOCUS_BOX_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  window.__reached = window.__reached || new Map();
  if (!window.__reached.has(el)) window.__reached.set(el, window.__reached.size);
  const r = el.getBoundingClientRect();
  return {key: window.__reached.get(el), left: r.left, right: r.right, width: innerWidth,
          what: `${el.tagName} ${(el.innerText || el.value || el.id || "").trim().slice(0, 30)}`};
}
"""
#: Every control a person could use (visible, enabled) that Tab never reached. A radio counts
#: as reached when its group was (Tab stops once per group; the arrow keys do the rest).
UNREACHED_JS = """
() => {
  const reached = window.__reached || new Map();
  const visible = (el) => el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== "hidden" && !el.closest("[hidden], [inert]");
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, "
    + "[tabindex]:not([tabindex='-1'])";
  const groups = new Set([...reached.keys()].filter((el) => el.type === "radio")
    .map((el) => el.name));
  return [...document.querySelectorAll(selector)]
    .filter((el) => visible(el) && !el.disabled && el.getAttribute("tabindex") !== "-1")
    .filter((el) => !reached.has(el) && !(el.type === "radio" && groups.has(el.name)))
    .map((el) => `${el.tagName} ${(el.innerText || el.value || el.id || "").trim().slice(0, 30)}`);
}
"""


def zoom_problems(page: Page, name: str) -> list[str]:
    """At each zoom: no sideways scrolling, every control reached by Tab from the top, and
    each control inside the window's width while it has the focus."""
    problems: list[str] = []
    original = page.viewport_size
    for zoom, size in ZOOMS.items():
        page.set_viewport_size(size)
        where = f"{name} at {zoom}"
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > size["width"]:
            problems.append(f"{where}: scrolls sideways (scrollWidth {width})")
        # From the top: the first focusable element (the skip link), then Tab until the focus
        # leaves the page or comes round again.
        page.evaluate(
            "() => { window.__reached = new Map(); window.scrollTo(0, 0); "
            "document.querySelector('a[href], button, input, select, textarea').focus(); }"
        )
        seen: set[int] = set()
        for _ in range(120):
            stop = page.evaluate(FOCUS_BOX_JS)
            if stop is None or stop["key"] in seen:
                break
            seen.add(stop["key"])
            if stop["left"] < -1 or stop["right"] > stop["width"] + 1:
                problems.append(
                    f"{where}: {stop['what']!r} is cut off when focused "
                    f"({stop['left']:.0f}..{stop['right']:.0f} of {stop['width']})"
                )
            page.keyboard.press("Tab")
        problems.extend(
            f"{where}: Tab never reaches {missed!r}" for missed in page.evaluate(UNREACHED_JS)
        )
    if original:
        page.set_viewport_size(original)
    return problems
