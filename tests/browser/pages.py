"""Verbs of a person using the wizard in a browser: find things by their labels and roles.

They work the same with JavaScript on (htmx swaps the steps) and off (full page loads). A verb
does what a person does and waits only for what a person would wait for; checks are the test's.
"""

from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from tests.helpers import ELIGIBLE, FIXED_CAPTCHA

#: Step URLs, and the h1 a person sees on each.
URL = {
    "identify": "/login",
    "personal": "/register/personal",
    "device": "/register/device",
    "qr": "/register/qr",
    "verify": "/register/verify",
    "phone": "/phone/verify",
    "done": "/register/done",
}
HEADING = {
    "identify": "個人登入",
    "personal": "輸入個人資料及手機門號",
    "device": "選擇您的裝置",
    "qr": "使用手機掃描 QR Code",
    "verify": "核對資料並開始驗證",
    "done": "行動電話認證成功",
}

#: The person's data as they would type it, keyed by the visible label.
PERSON: dict[str, str] = {
    "電信業者": "中華電信",  # ELIGIBLE["carrier"] == "cht"
    "手機門號": ELIGIBLE["msisdn"],
    "健保卡號": ELIGIBLE["nhi_card"],
    "出生日期": ELIGIBLE["birth_date"],
    "姓名": ELIGIBLE["name"],
    "驗證碼": FIXED_CAPTCHA,
    "設定憑證密碼": ELIGIBLE["password"],
    "確認憑證密碼": ELIGIBLE["password"],
}
#: Keyword names for fill_personal's overrides (the form's field names).
FIELD_LABEL = {
    "carrier": "電信業者",
    "msisdn": "手機門號",
    "nhi_card": "健保卡號",
    "birth_date": "出生日期",
    "name": "姓名",
    "captcha": "驗證碼",
    "password": "設定憑證密碼",
    "password_confirm": "確認憑證密碼",
}

DEVICE_LABEL = {"desktop": "桌上型電腦", "tablet": "平板電腦", "phone": "手機"}
SIM_LABEL = {"yes": "有", "no": "無"}
SIM_QUESTION = "裝置有無SIM卡"


#: The demo person's number (ELIGIBLE["msisdn"]) as the mobile network reports it, and the
#: simulator's headers for a phone on 4G with that SIM.
MSISDN = "0912345678"
ON_4G = {"X-Sim-Network": "4g", "X-Sim-Msisdn": MSISDN}
#: The QR status is polled every ~2 s: a change must show within a few polls.
POLL_MS = 10_000


def url_pattern(step: str) -> re.Pattern[str]:
    """The step's URL, whatever the host and port (and ignoring a #fragment)."""
    return re.compile(rf"^https?://[^/]+{re.escape(URL[step])}(#.*)?$")


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def field(page: Page, label: str) -> Locator:
    return page.get_by_label(label)


def submit(page: Page) -> None:
    page.get_by_role("button", name="送出", exact=True).click()


def identify(page: Page, national_id: str = ELIGIBLE["national_id"]) -> None:
    """Step 1: on the login page, type the national ID and press 驗證."""
    if not url_pattern("identify").match(page.url):
        page.goto(URL["identify"])
    field(page, "身分證號").fill(national_id)
    page.get_by_role("button", name="驗證", exact=True).click()


def fill_personal(page: Page, *, submit_form: bool = True, **overrides: str | None) -> None:
    """Step 2: fill in the person's data (``msisdn="0912"`` to type something else, ``None``
    to leave a field as it is), then press 送出 unless ``submit_form=False``."""
    unknown = set(overrides) - set(FIELD_LABEL)
    assert not unknown, f"no such field on step 2: {unknown}"
    values: dict[str, str | None] = dict(PERSON)
    for name, value in overrides.items():
        values[FIELD_LABEL[name]] = value
    for label, value in values.items():
        if value is None:
            continue
        if label == "電信業者":
            field(page, label).select_option(label=value)
        else:
            field(page, label).fill(value)
    if submit_form:
        submit(page)


def sim_question(page: Page) -> Locator:
    return page.get_by_role("group", name=re.compile(SIM_QUESTION))


def choose_device(page: Page, device: str, sim: str | None = None, *, send: bool = True) -> None:
    """Step 3: tick the device (desktop, tablet, phone), answer the SIM question if given
    (yes, no), and press 送出 unless ``send=False``."""
    page.get_by_role("radio", name=DEVICE_LABEL[device], exact=True).check()
    if sim is not None:
        sim_question(page).get_by_role("radio", name=SIM_LABEL[sim], exact=True).check()
    if send:
        submit(page)


def expect_step(page: Page, step: str) -> None:
    """The person sees ``step``: its URL in the address bar and its heading."""
    expect(page).to_have_url(url_pattern(step))
    expect(heading(page)).to_have_text(HEADING[step])


def complete_steps_before(page: Page, step: str) -> None:
    """Go through the wizard with the demo person up to (not including) ``step``:
    personal, device, qr or verify. For qr the person uses a desktop, for verify a phone."""
    order = ["identify", "personal", "device", "qr", "verify"]
    target = order.index(step)
    page.goto(URL["identify"])
    if target >= 1:
        identify(page)
        expect_step(page, "personal")
    if target >= 2:
        fill_personal(page)
        expect_step(page, "device")
    if target >= 3:
        choose_device(page, "desktop" if step == "qr" else "phone")
        expect_step(page, step)


# --- steps 4-5: the QR code and the verification page ----------------------------------------

TERMS = "我已閱讀並同意使用者約定條款"


def qr_image(page: Page) -> Locator:
    """Step 4's QR code, as assistive technology finds it (role img, named as a QR Code)."""
    return page.get_by_role("img", name=re.compile("QR Code"))


#: The number the person last read beside a QR code (scanned or typed): what they pick on the
#: phone at step 5 (number matching).
SEEN: dict[str, str] = {}


def shown_number(page: Page) -> str:
    """The two-digit number step 4 shows beside its QR code."""
    number = page.locator(".match-number").inner_text().strip()
    assert re.fullmatch(r"\d\d", number), number
    return number


def scan_qr(page: Page) -> str:
    """What a phone's camera reads from the QR code on screen: a screenshot of it, decoded
    (never the DOM). Fails unless exactly one QR code is readable. The person also reads the
    number beside it."""
    shot = Image.open(io.BytesIO(qr_image(page).screenshot()))
    found = zxingcpp.read_barcodes(shot, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"expected one readable QR code, found {len(found)}"
    SEEN["number"] = shown_number(page)
    return found[0].text


def printed_qr_link(page: Page) -> str:
    """The link printed beneath the QR code, for people who cannot scan (and the number)."""
    SEEN["number"] = shown_number(page)
    return page.locator(".qr-link").inner_text().strip()


def pick_number(page: Page, number: str | None = None) -> None:
    """Step 5 on a phone that scanned: pick the number read beside the QR code."""
    page.get_by_role("radio", name=number or SEEN["number"], exact=True).check()


def regenerate_qr(page: Page) -> None:
    page.get_by_role("button", name="重新產生QRCode", exact=True).click()


def agree_and_start(page: Page, number: str | None = None) -> None:
    """Step 5: on a phone that scanned a QR code, pick the number read beside it (``number``:
    another); tick the terms box and press 開始驗證."""
    if page.locator("input[name=match]").count():
        pick_number(page, number)
    page.get_by_role("checkbox", name=TERMS, exact=True).check()
    page.get_by_role("button", name="開始驗證", exact=True).click()


def not_me(page: Page) -> None:
    """Step 5 on a phone that scanned a QR code: press 這不是我申請的."""
    page.get_by_role("button", name="這不是我申請的", exact=True).click()


# --- steps 6-7: the device credential, the notice, the four-field login ---------------------

#: The four fields of step 7's login, as the demo person types them.
LOGIN: dict[str, str] = {
    "身分證號": ELIGIBLE["national_id"],
    "出生日期": ELIGIBLE["birth_date"],
    "姓名": ELIGIBLE["name"],
    "憑證密碼": ELIGIBLE["password"],
}
#: Keyword names for log_in's overrides.
LOGIN_LABEL = {
    "national_id": "身分證號",
    "birth_date": "出生日期",
    "name": "姓名",
    "password": "憑證密碼",
}


def bind_device(page: Page) -> None:
    """Step 6 after the carrier's check: press 完成綁定並登入 (with JavaScript the page first
    makes this browser's device key)."""
    page.get_by_role("button", name="完成綁定並登入", exact=True).click()


def notice_start(page: Page) -> Locator:
    """使用須知's 開始使用 button."""
    return page.get_by_role("button", name="開始使用", exact=True)


def read_notice_to_the_end(page: Page) -> None:
    """Scroll the page (使用須知 is the page itself) until the notice's last line is on screen."""
    page.get_by_text("— 使用須知到此結束 —").scroll_into_view_if_needed()


def login_panel(page: Page) -> Locator:
    """The four-field panel (行動電話認證登入) of a bound browser's login page."""
    return page.locator("#device-login")


def log_in(page: Page, **overrides: str) -> None:
    """Step 7: type the four fields (``password="..."`` to type something else) and press 登入."""
    unknown = set(overrides) - set(LOGIN_LABEL)
    assert not unknown, f"no such field on the login panel: {unknown}"
    values = dict(LOGIN)
    for name, value in overrides.items():
        values[LOGIN_LABEL[name]] = value
    panel = login_panel(page)
    for label, value in values.items():
        panel.get_by_label(label).fill(value)
    panel.get_by_role("button", name="登入", exact=True).click()


def log_out(page: Page) -> None:
    """登出 in the page header."""
    page.get_by_role("navigation", name="帳號").get_by_role("button", name="登出").click()
