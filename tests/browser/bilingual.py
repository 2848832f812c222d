"""The wizard's words and a person's verbs in either of the site's languages.

``Say("en")("送出")`` is the English catalogue's translation of the zh-TW source string (the
compiled ``translations/en/LC_MESSAGES/messages.mo`` the site itself uses), and fails when there
is none, so a test that speaks English also proves the words it looks for were translated.
``Say("zh-TW")`` returns the text as it is. The verbs mirror tests/browser/pages.py (which
speaks Chinese only) for the tests that run in both languages; where a name is data rather
than a message (a carrier's name, a network), they choose by value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from playwright.sync_api import Locator, Page, expect

from tests.browser import pages
from tests.browser.pages import HEADING, LOGIN, LOGIN_LABEL, PERSON, URL, url_pattern
from tests.helpers import ELIGIBLE

LANGUAGES = ("zh-TW", "en")
CATALOGUE = Path(__file__).resolve().parents[2] / "translations/en/LC_MESSAGES/messages.mo"
_catalogue: Catalog | None = None


def _english() -> Catalog:
    global _catalogue
    if _catalogue is None:
        with CATALOGUE.open("rb") as handle:
            _catalogue = read_mo(handle)
    return _catalogue


@dataclass(frozen=True)
class Say:
    """The site's words in ``lang`` (``"zh-TW"`` or ``"en"``)."""

    lang: str
    _cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __call__(self, text: str) -> str:
        if self.lang == "zh-TW":
            return text
        if text not in self._cache:
            message = _english().get(text)
            assert message is not None and message.string, f"no English for {text!r}"
            self._cache[text] = str(message.string)
        return self._cache[text]


def start(page: Page, lang: str, path: str = URL["identify"]) -> None:
    """Open ``path`` in ``lang`` (the choice stays in this browser's session)."""
    page.goto(f"{path}?lang={lang}")


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def expect_step(page: Page, say: Say, step: str) -> None:
    expect(page).to_have_url(url_pattern(step))
    expect(heading(page)).to_have_text(say(HEADING[step]))


def submit(page: Page, say: Say) -> None:
    page.get_by_role("button", name=say("送出"), exact=True).click()


def identify(page: Page, say: Say, national_id: str = ELIGIBLE["national_id"]) -> None:
    page.get_by_label(say("身分證號")).fill(national_id)
    page.get_by_role("button", name=say("驗證"), exact=True).click()


def fill_personal(page: Page, say: Say, *, submit_form: bool = True) -> None:
    """Step 2 with the demo person's data; the carrier by its value (its name is data)."""
    for label, value in PERSON.items():
        if label == "電信業者":
            page.get_by_label(say(label)).select_option(value=ELIGIBLE["carrier"])
        else:
            page.get_by_label(say(label)).fill(value)
    if submit_form:
        submit(page, say)


DEVICE = {"desktop": "桌上型電腦", "tablet": "平板電腦", "phone": "手機"}
SIM = {"yes": "有", "no": "無"}


def sim_question(page: Page) -> Locator:
    return page.locator("#sim-question fieldset")


def choose_device(
    page: Page, say: Say, device: str, sim: str | None = None, *, send: bool = True
) -> None:
    page.get_by_role("radio", name=say(DEVICE[device]), exact=True).check()
    if sim is not None:
        sim_question(page).get_by_role("radio", name=say(SIM[sim]), exact=True).check()
    if send:
        submit(page, say)


def complete_steps_before(page: Page, say: Say, step: str) -> None:
    """As pages.complete_steps_before, in ``say``'s language (chosen on the first page)."""
    order = ["identify", "personal", "device", "qr", "verify"]
    target = order.index(step)
    start(page, say.lang)
    if target >= 1:
        identify(page, say)
        expect_step(page, say, "personal")
    if target >= 2:
        fill_personal(page, say)
        expect_step(page, say, "device")
    if target >= 3:
        choose_device(page, say, "desktop" if step == "qr" else "phone")
        expect_step(page, say, step)


def qr_status(page: Page, state: str) -> Locator:
    """Step 4's status beneath the QR code, showing hand-off ``state`` (waiting, opened, ...)."""
    return page.locator(f"#qr-status.qr-status-{state}")


def printed_qr_link(page: Page) -> str:
    """The link beneath the QR code; the person reads the number beside it too."""
    pages.SEEN["number"] = pages.shown_number(page)
    return page.locator(".qr-link").inner_text().strip()


def regenerate_qr(page: Page, say: Say) -> None:
    page.get_by_role("button", name=say("重新產生QRCode"), exact=True).click()


def simulator_network(page: Page, value: str) -> None:
    """The phone page's simulator panel: the network the phone is on (4g, wifi, ...)."""
    page.locator("#sim_network").select_option(value=value)


def agree_and_start(page: Page, say: Say) -> None:
    if page.locator("input[name=match]").count():
        pages.pick_number(page)
    page.get_by_role("checkbox", name=say("我已閱讀並同意使用者約定條款"), exact=True).check()
    page.get_by_role("button", name=say("開始驗證"), exact=True).click()


def not_me(page: Page, say: Say) -> None:
    page.get_by_role("button", name=say("這不是我申請的"), exact=True).click()


def bind_device(page: Page, say: Say) -> None:
    page.get_by_role("button", name=say("完成綁定並登入"), exact=True).click()


def notice_start(page: Page, say: Say) -> Locator:
    return page.get_by_role("button", name=say("開始使用"), exact=True)


def read_notice_to_the_end(page: Page, say: Say) -> None:
    """Scroll the page (the notice is the page) until its last line is on screen."""
    page.get_by_text(say("— 使用須知到此結束 —")).scroll_into_view_if_needed()


def login_panel(page: Page) -> Locator:
    return page.locator("#device-login")


def log_in(page: Page, say: Say, **overrides: str) -> None:
    """Step 7's four fields (``password="..."`` to type something else), then 登入."""
    values = {LOGIN_LABEL[name]: value for name, value in overrides.items()}
    panel = login_panel(page)
    for label in LOGIN_LABEL.values():
        panel.get_by_label(say(label)).fill(values.get(label, LOGIN[label]))
    panel.get_by_role("button", name=say("登入"), exact=True).click()


def log_out(page: Page, say: Say) -> None:
    nav = page.get_by_role("navigation", name=say("帳號"))
    nav.get_by_role("button", name=say("登出")).click()


def link(page: Page, say: Say, text: str) -> Locator:
    return page.get_by_role("link", name=say(text), exact=True)
