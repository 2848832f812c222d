"""Screenshots of every step, on a desktop and a phone, in Chinese and English (`make screenshots`).

    .venv/bin/python docs/screenshots.py [--out docs/screenshots] [--only zh-TW]

Serves the site in this process (werkzeug on a free loopback port) on a throw-away SQLite
database with the demo people and records, the carrier simulator and a fixed CAPTCHA answer,
on a clock stopped at 2026-11-30 17:00 Taipei time so the pictures stay the same from one run
to the next. Debian's Chromium (Playwright) then goes through the wizard the way a person does:

- desktop (1280x900): steps 1-4 over the QR code, the phone's verification page (390x844),
  steps 6-7, the portal, the records, the login of a bound browser;
- phone (390x844): steps 1-3, step 5 on the phone itself, steps 6-7, the portal, the records;
- error states: step 2 sent empty, the QR code expired, a wrong login.

Each page is written as ``<lang>-<device>-<NN>-<name>.png`` (whole page, CSS pixels,
quantized to 64 colours: the text stays sharp and the files small). It lives here, beside the
pictures it makes, because it documents the site; bench/ measures it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import logging
import os
import secrets
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.helpers import ELIGIBLE  # noqa: E402
from wizard import create_app  # noqa: E402
from wizard.clock import FrozenClock  # noqa: E402

CAPTCHA = "DEMO"
#: 王小明 of the demo data (README "Demo people").
PERSON = ELIGIBLE
DESKTOP = {
    "viewport": {"width": 1280, "height": 900},
    "user_agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36"
    ),
}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36"
    ),
}
#: The simulator's identity of a phone on 4G with the person's number (no simulator panel).
ON_4G = {"X-Sim-Network": "4g", "X-Sim-Msisdn": "0912345678"}
WAIT_MS = 15_000


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve(clock: FrozenClock) -> Iterator[str]:
    """The site with the demo data on a loopback port; yields its base URL."""
    with tempfile.TemporaryDirectory(prefix="screenshots-") as folder:
        os.environ["WIZARD_INSTANCE_PATH"] = folder
        app = create_app(
            {
                "SECRET_KEY": secrets.token_hex(32),
                "DATABASE_URL": f"sqlite:///{folder}/demo.sqlite3",
                "CAPTCHA_FIXED_ANSWER": CAPTCHA,
                "RATELIMIT_ENABLED": False,
            },
            clock=clock,
        )
        logging.disable(logging.WARNING)  # the request log would bury the file list
        runner = app.test_cli_runner()
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            app.extensions["db_engine"].dispose()


class Camera:
    """Writes a page's picture under ``out`` as ``<lang>-<device>-<name>.png``."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: list[Path] = []

    def window(self, page: Page, lang: str, device: str, name: str) -> None:
        """The window only (what a person sees without scrolling), not the whole page."""
        self._save(page.screenshot(animations="disabled", caret="hide"), lang, device, name)

    def pdf(self, path: Path, lang: str, device: str, name: str) -> None:
        """The first page of a downloaded PDF, at 100 dpi."""
        import pypdfium2

        image = pypdfium2.PdfDocument(path)[0].render(scale=100 / 72).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        self._save(buffer.getvalue(), lang, device, name)

    def _save(self, png: bytes, lang: str, device: str, name: str) -> None:
        image = Image.open(io.BytesIO(png)).convert("RGB")
        small = image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        path = self.out / f"{lang}-{device}-{name}.png"
        small.save(path, optimize=True)
        self.written.append(path)
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    def shoot(self, page: Page, lang: str, device: str, name: str) -> None:
        page.wait_for_load_state("networkidle")
        # No caret blinking or focus ring caught half-way: the picture is the page at rest.
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        self._save(
            page.screenshot(full_page=True, animations="disabled", caret="hide"), lang, device, name
        )


class _NoCamera(Camera):
    """Takes no pictures (a journey that only gets somewhere)."""

    def __init__(self) -> None:
        super().__init__(Path("."))

    def _save(self, png: bytes, lang: str, device: str, name: str) -> None:
        pass

    def shoot(self, page: Page, lang: str, device: str, name: str) -> None:
        pass


NO_CAMERA = _NoCamera()


@dataclass
class Shooter:
    """One page's pictures: ``shoot("02-personal")`` (whole page), ``.window()``, ``.pdf()``."""

    camera: Camera
    page: Page
    lang: str
    device: str

    def __call__(self, name: str) -> None:
        self.camera.shoot(self.page, self.lang, self.device, name)

    def window(self, name: str) -> None:
        self.camera.window(self.page, self.lang, self.device, name)

    def pdf(self, path: Path, name: str) -> None:
        self.camera.pdf(path, self.lang, self.device, name)


def words(lang: str) -> dict[str, str]:
    """The few names the script presses, in each language (what a person reads on screen)."""
    zh = {
        "id": "身分證號",
        "verify": "驗證",
        "submit": "送出",
        "carrier": "電信業者",
        "birth": "出生日期",
        "name": "姓名",
        "desktop": "桌上型電腦",
        "tablet": "平板電腦",
        "phone": "手機",
        "terms": "我已閱讀並同意使用者約定條款",
        "start": "開始驗證",
        "bind": "完成綁定並登入",
        "notice_end": "— 使用須知到此結束 —",
        "clear": "清空輸入區",
        "keep": "保留資料",
        "pdf": "下載 PDF 檔",
        "begin": "開始使用",
        "records": "個人投保資料查詢",
        "logout": "登出",
        "login": "登入",
        "login_password": "憑證密碼",
    }
    if lang == "zh-TW":
        return zh
    from babel.messages.mofile import read_mo

    with (ROOT / "translations/en/LC_MESSAGES/messages.mo").open("rb") as handle:
        catalogue = read_mo(handle)
    return {key: str(catalogue.get(text).string) for key, text in zh.items()}


def new_page(browser: Browser, base: str, device: dict[str, object], lang: str) -> Page:
    context: BrowserContext = browser.new_context(
        base_url=base,
        locale="zh-TW",
        timezone_id="Asia/Taipei",
        device_scale_factor=1,
        **device,  # type: ignore[arg-type]
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(f"/login?lang={lang}")
    return page


def steps_1_to_3(page: Page, w: dict[str, str], shoot: Shooter, device_choice: str) -> None:
    shoot("01-login")
    page.get_by_label(w["id"]).fill(PERSON["national_id"])
    page.get_by_role("button", name=w["verify"], exact=True).click()
    expect(page.locator("#personal-form")).to_be_visible()
    shoot("02-personal")
    if device_choice == "desktop":  # 清空輸入區 with something typed asks first (once is enough)
        page.get_by_label(w["name"]).fill(PERSON["name"])
        page.get_by_role("button", name=w["clear"], exact=True).click()
        expect(page.locator("#confirm-clear")).to_be_visible()
        shoot("02-personal-clear-asks")
        page.get_by_role("button", name=w["keep"], exact=True).click()
        expect(page.locator("#confirm-clear")).to_have_count(0)
    page.get_by_role("button", name=w["submit"], exact=True).click()
    expect(page.locator("#error-summary")).to_be_visible()
    shoot("02-personal-errors")
    page.get_by_label(w["carrier"]).select_option(value=PERSON["carrier"])
    for field in ("msisdn", "nhi_card", "birth_date", "name", "password"):
        page.locator(f"#{field}").fill(PERSON[field])
    page.locator("#password_confirm").fill(PERSON["password"])
    page.locator("#captcha").fill(CAPTCHA)
    page.get_by_role("button", name=w["submit"], exact=True).click()
    expect(page.locator("#device-form")).to_be_visible()
    page.get_by_role("radio", name=w["tablet"], exact=True).check()
    expect(page.locator("#sim-question")).to_be_visible()
    shoot("03-device")
    page.get_by_role("radio", name=w[device_choice], exact=True).check()
    page.get_by_role("button", name=w["submit"], exact=True).click()


def steps_6_7_and_portal(page: Page, w: dict[str, str], shoot: Shooter) -> None:
    shoot("06-done")
    page.get_by_role("button", name=w["bind"], exact=True).click()
    expect(page.locator("#notice-text")).to_be_visible()
    # The window as it opens (開始使用 not yet usable, its reason beside it), then read to the end.
    shoot.window("06-notice-unread")
    shoot("06-notice")
    page.get_by_text(w["notice_end"]).scroll_into_view_if_needed()
    expect(page.get_by_role("button", name=w["begin"], exact=True)).to_be_enabled()
    shoot.window("06-notice-read")
    page.get_by_role("button", name=w["begin"], exact=True).click()
    expect(page.locator("#apply-note")).to_be_visible()
    shoot("08-portal")
    page.get_by_role("link", name=w["records"], exact=True).click()
    expect(page.locator("#records-caption")).to_be_visible()
    shoot("09-records")
    if shoot.device == "desktop":  # the same PDF on either device: its first page once
        with page.expect_download() as download:
            page.get_by_role("link", name=w["pdf"], exact=True).click()
        shoot.pdf(download.value.path(), "09-records-pdf")
    page.locator(".site-header").get_by_role("button", name=w["logout"]).click()
    expect(page.locator("#device-login")).to_be_visible()
    shoot("07-login")
    panel = page.locator("#device-login")
    for key, value in (
        ("id", PERSON["national_id"]),
        ("birth", PERSON["birth_date"]),
        ("name", PERSON["name"]),
        ("login_password", "not my password"),
    ):
        panel.get_by_label(w[key]).fill(value)
    panel.get_by_role("button", name=w["login"], exact=True).click()
    expect(page.locator("#form-error")).to_be_visible()
    shoot("07-login-error")


def desktop_journey(browser: Browser, base: str, lang: str, camera: Camera) -> None:
    w = words(lang)
    page = new_page(browser, base, DESKTOP, lang)

    shoot = Shooter(camera, page, lang, "desktop")
    steps_1_to_3(page, w, shoot, "desktop")
    expect(page.locator(".qr-link")).to_be_visible()
    page.wait_for_timeout(300)  # the countdown's first tick
    shoot("04-qr")

    phone = new_page(browser, base, PHONE, lang)
    phone.context.set_extra_http_headers(ON_4G)
    number = page.locator(".match-number").inner_text().strip()  # read off the screen
    phone.goto(page.locator(".qr-link").inner_text().strip())
    expect(phone.locator("#verify-form")).to_be_visible()
    camera.shoot(phone, lang, "phone", "05-phone-verify-after-qr")
    expect(page.locator("#qr-status.qr-status-opened")).to_be_visible()
    shoot("04-qr-opened-on-phone")
    phone.get_by_role("radio", name=number, exact=True).check()
    phone.get_by_role("checkbox", name=w["terms"], exact=True).check()
    phone.get_by_role("button", name=w["start"], exact=True).click()
    expect(phone.locator(".notice-success")).to_be_visible()
    camera.shoot(phone, lang, "phone", "05-phone-verified-after-qr")
    phone.context.close()

    expect(page.locator("#bind-form")).to_be_visible()
    steps_6_7_and_portal(page, w, shoot)
    page.context.close()


def expired_qr(browser: Browser, base: str, lang: str, clock: FrozenClock, camera: Camera) -> None:
    """An error state of step 4: the QR code's five minutes are over."""
    w = words(lang)
    page = new_page(browser, base, DESKTOP, lang)
    page.get_by_label(w["id"]).fill("F223456713")  # 陳美玲: a second person, a fresh session
    page.get_by_role("button", name=w["verify"], exact=True).click()
    page.get_by_label(w["carrier"]).select_option(value="twm")
    for selector, value in (
        ("#msisdn", "0923456781"),
        ("#nhi_card", "000023456789"),
        ("#birth_date", "1975/06/15"),
        ("#name", "陳美玲"),
        ("#captcha", CAPTCHA),
        ("#password", PERSON["password"]),
        ("#password_confirm", PERSON["password"]),
    ):
        page.locator(selector).fill(value)
    page.get_by_role("button", name=w["submit"], exact=True).click()
    page.get_by_role("radio", name=w["desktop"], exact=True).check()
    page.get_by_role("button", name=w["submit"], exact=True).click()
    expect(page.locator(".qr-link")).to_be_visible()
    clock.advance(minutes=5, seconds=1)
    expect(page.locator("#qr-status.qr-status-expired")).to_be_visible()
    camera.shoot(page, lang, "desktop", "04-qr-expired")
    clock.advance(minutes=-5, seconds=-1)
    page.context.close()


def phone_journey(browser: Browser, base: str, lang: str, camera: Camera) -> None:
    w = words(lang)
    page = new_page(browser, base, PHONE, lang)
    page.context.set_extra_http_headers(ON_4G)

    shoot = Shooter(camera, page, lang, "phone")
    steps_1_to_3(page, w, shoot, "phone")
    expect(page.locator("#verify-form")).to_be_visible()
    shoot("05-verify")
    page.get_by_role("checkbox", name=w["terms"], exact=True).check()
    page.get_by_role("button", name=w["start"], exact=True).click()
    expect(page.locator("#bind-form")).to_be_visible()
    steps_6_7_and_portal(page, w, shoot)
    page.context.close()


def institutions_journey(
    browser: Browser, base: str, lang: str, clock: FrozenClock, camera: Camera
) -> None:
    """The institutions' loop: the person re-applies on a phone (pictures of those steps are
    phone_journey's) and makes a share; the demo trainer checks it on a desktop; the person
    sees the check; 文件驗證. Fields by id, the same in both languages."""
    import pyotp

    from wizard.ops.seed import DEMO_INSTITUTIONS

    citizen = new_page(browser, base, PHONE, lang)
    citizen.context.set_extra_http_headers(ON_4G)
    w = words(lang)
    steps_1_to_3(citizen, w, Shooter(NO_CAMERA, citizen, lang, "phone"), "phone")
    citizen.get_by_role("checkbox", name=w["terms"], exact=True).check()
    citizen.get_by_role("button", name=w["start"], exact=True).click()
    citizen.get_by_role("button", name=w["bind"], exact=True).click()
    citizen.get_by_text(w["notice_end"]).scroll_into_view_if_needed()
    citizen.get_by_role("button", name=w["begin"], exact=True).click()
    citizen.goto("/portal/shares")
    camera.shoot(citizen, lang, "phone", "10-shares")
    citizen.locator("input[name=scope][value=periods]").check()
    citizen.locator("form[action$='/portal/shares'] button[type=submit]").click()
    expect(citizen.locator(".share-preview")).to_be_visible()
    camera.shoot(citizen, lang, "phone", "10-share-preview")
    citizen.locator("form[action$='/portal/shares'] button[type=submit]").click()
    code = citizen.locator("#share-code").inner_text().strip()
    camera.shoot(citizen, lang, "phone", "10-share-made")

    staff = new_page(browser, base, DESKTOP, lang)
    staff.goto(f"/institution/login?lang={lang}")
    camera.shoot(staff, lang, "desktop", "11-institution-login")
    username, _name, password, secret = DEMO_INSTITUTIONS[0]["staff"]  # type: ignore[misc]
    staff.locator("#username").fill(username)
    staff.locator("#password").fill(password)
    staff.locator("#otp").fill(pyotp.TOTP(secret).at(clock.now()))
    staff.locator("main button[type=submit]").click()
    staff.locator("#national_id").fill(PERSON["national_id"])
    staff.locator("#code").fill(code)
    staff.locator("main form[action$='/institution/'] button[type=submit]").click()
    expect(staff.locator("#result-facts")).to_be_visible()
    camera.shoot(staff, lang, "desktop", "11-check-result")
    clock.advance(seconds=31)  # the next language's login needs the next TOTP code

    citizen.goto("/portal/checks")
    citizen.locator("details summary").first.click()
    camera.shoot(citizen, lang, "phone", "10-who-looked")
    staff.goto(f"/documents/verify?lang={lang}")
    camera.shoot(staff, lang, "desktop", "12-document-verification")
    citizen.context.close()
    staff.context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", choices=("zh-TW", "en"), help="one language only")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.png"):
        if args.only is None or old.name.startswith(f"{args.only}-"):
            old.unlink()
    camera = Camera(args.out)
    # 2026-11-30 17:00 in Taipei: the day the demo records are shown for.
    clock = FrozenClock(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC))
    langs = [args.only] if args.only else ["zh-TW", "en"]
    with serve(clock) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for lang in langs:
            print(f"{lang}:")
            desktop_journey(browser, base, lang, camera)
            phone_journey(browser, base, lang, camera)
            expired_qr(browser, base, lang, clock, camera)
            institutions_journey(browser, base, lang, clock, camera)
        browser.close()
    total = sum(path.stat().st_size for path in camera.written)
    print(f"{len(camera.written)} screenshots, {total / 1024:.0f} KB in {args.out}")


if __name__ == "__main__":
    main()
