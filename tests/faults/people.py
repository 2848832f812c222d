"""People registering over real HTTP: a desktop browser and a phone, each with its own cookie
jar (urllib + http.cookiejar: no redirects followed, so each answer is seen as sent), and the
database ledger that tells whether each registration completed exactly once.

A :class:`Person` walks steps 1-6 as a stage machine and, when a request fails (connection
refused or cut, a 5xx page), simply does that stage again, the way a person presses the
button again or reloads. Each stage is written so that doing it again is what a person
would do after not seeing an answer: the server's answer to the retry says where they are.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from html import unescape
from http.client import HTTPException
from http.cookiejar import CookieJar

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.helpers import DESKTOP_UA, FIXED_CAPTCHA, PHONE_UA, demo_person

#: The simulator's eligible demo people (wizard/ops/seed.py): one registration each per database.
ELIGIBLE_IDS = (
    "A123456789",
    "F223456713",
    "B120987653",
    "E228765430",
    "H122334450",
    "N223450986",
    "Y120011223",
)
PASSWORD = "my cat is called flower"
HX = {"HX-Request": "true"}

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_QR_LINK = re.compile(r"<code>https?://[^/<]+/h/<wbr>([^<\s]+)</code>")
_NUMBER = re.compile(r'<p class="match-number"[^>]*>(\d\d)</p>')


class Dropped(Exception):
    """No answer: connection refused, reset or closed, or a timeout."""


class Stuck(Exception):
    """The person can only continue after waiting (a carrier check a dead worker left)."""


class Unexpected(AssertionError):
    """An answer no fault explains: the test fails with it."""


@dataclass
class Page:
    method: str
    path: str
    status: int
    headers: Message
    text: str

    @property
    def location(self) -> str:
        """The redirect's target path (with its query)."""
        parts = urllib.parse.urlsplit(self.headers.get("Location", ""))
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def csrf(self) -> str:
        match = _CSRF.search(self.text)
        if not match:
            raise Unexpected(f"{self.method} {self.path}: no CSRF token in a {self.status} page")
        return match.group(1)

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} {self.status}>"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """One browser (cookies of its own) talking to the site at ``base``."""

    def __init__(self, base: str, user_agent: str, timeout: float = 30.0) -> None:
        self.base = base
        self.user_agent = user_agent
        self.timeout = timeout
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects()
        )

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Page:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(
            self.base + path,
            data=body,
            method=method,
            headers={"User-Agent": self.user_agent, **(headers or {})},
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return Page(
                    method,
                    path,
                    response.status,
                    response.headers,
                    response.read().decode("utf-8", "replace"),
                )
        except urllib.error.HTTPError as error:
            with error:
                return Page(
                    method, path, error.code, error.headers, error.read().decode("utf-8", "replace")
                )
        except (urllib.error.URLError, OSError, HTTPException) as error:
            raise Dropped(f"{method} {path}: {type(error).__name__}") from None

    def get(self, path: str, headers: dict[str, str] | None = None) -> Page:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, data: dict[str, str], headers: dict[str, str] | None = None) -> Page:
        return self.request("POST", path, data=data, headers=headers)

    def cookie(self, name: str) -> str | None:
        for cookie in self.jar:
            if cookie.name == name:
                return cookie.value
        return None


def qr_link(html: str) -> str | None:
    match = _QR_LINK.search(html)
    return "/h/" + unescape(match.group(1)) if match else None


def shown_number(html: str) -> str | None:
    """The number beside the QR code (number matching: the phone picks it)."""
    match = _NUMBER.search(html)
    return match.group(1) if match else None


@dataclass
class Person:
    """One demo person registering: desktop (step 1-4, 6) and phone (step 5)."""

    base: str
    national_id: str
    #: Step 2's CAPTCHA answer: the fixed test answer, or read from the database.
    captcha: Callable[[Person], str] = lambda person: FIXED_CAPTCHA
    #: What the simulator's carrier sees for the phone (ignored by a real gateway).
    network: dict[str, str] = field(default_factory=dict)
    stage: str = "identify"
    #: Every failed request: (stage, status or 0 for no answer, short reason).
    faults: list[tuple[str, int, str]] = field(default_factory=list)
    #: The pages that answered with a 5xx (the outage tests read them).
    error_pages: list[Page] = field(default_factory=list)
    #: Every answer, in order.
    pages: list[Page] = field(default_factory=list)
    qr: str | None = None
    #: The number the desktop showed beside that QR code.
    number: str | None = None
    force_new_qr: bool = False
    finished_at: float | None = None
    #: The page that said to wait (see Stuck).
    stuck_page: Page | None = None

    def __post_init__(self) -> None:
        self.desktop = Browser(self.base, DESKTOP_UA)
        self.phone = Browser(self.base, PHONE_UA)
        row = demo_person(self.national_id)
        if not self.network:
            self.network = {"X-Sim-Network": "4g", "X-Sim-Msisdn": row["msisdn"]}
        self.personal_data = {
            "carrier": row["carrier"],
            "msisdn": row["msisdn"],
            "nhi_card": row["nhi_card"],
            "birth_date": row["birth_date"].replace("-", "/"),
            "name": row["name"],
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        }

    # --- driving --------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.stage == "done"

    def run(self, deadline: float, pause: float = 0.0, retry_pause: float = 0.3) -> None:
        """Go on until done, stuck (raises Stuck) or past ``deadline`` (time.monotonic)."""
        while not self.done:
            if time.monotonic() > deadline:
                raise Unexpected(f"{self.national_id} not done in time, at {self.stage}")
            try:
                self.advance()
                time.sleep(pause)
            except Dropped as dropped:
                self.faults.append((self.stage, 0, str(dropped)))
                time.sleep(retry_pause)
        self.finished_at = time.monotonic()

    def walk_to(self, stage: str, timeout: float = 30.0) -> None:
        """Go on until the person is at ``stage`` (before doing it)."""
        deadline = time.monotonic() + timeout
        while self.stage != stage:
            if time.monotonic() > deadline:
                raise Unexpected(f"{self.national_id} did not reach {stage}, at {self.stage}")
            try:
                self.advance()
            except Dropped as dropped:
                self.faults.append((self.stage, 0, str(dropped)))
                time.sleep(0.3)

    def _answer(self, page: Page) -> Page:
        self.pages.append(page)
        if page.status >= 500:
            self.faults.append((self.stage, page.status, page.path))
            self.error_pages.append(page)
            retry_after = page.headers.get("Retry-After")
            # A person waits a moment before pressing again (capped: tests stay short).
            time.sleep(min(float(retry_after), 1.0) if retry_after else 0.3)
            raise _Again
        return page

    def _get(self, browser: Browser, path: str, headers: dict[str, str] | None = None) -> Page:
        return self._answer(browser.get(path, headers))

    def _post(
        self,
        browser: Browser,
        path: str,
        data: dict[str, str],
        headers: dict[str, str] | None = None,
    ) -> Page:
        return self._answer(browser.post(path, data, headers))

    def advance(self) -> None:
        """Do the current stage once (again, after a failure)."""
        try:
            getattr(self, f"_{self.stage}")()
        except _Again:
            pass

    def _expect(self, page: Page, status: int, location: str | None = None) -> None:
        if page.status != status or (location is not None and page.location != location):
            raise Unexpected(
                f"{self.national_id} at {self.stage}: {page!r} -> {page.location!r}\n"
                f"{page.text[:1500]}"
            )

    def _restart_if_sent_back(self, page: Page) -> bool:
        """A step page that sends the browser to step 1 (registration expired or lost)."""
        if page.status == 303 and page.location.startswith("/login"):
            self.stage = "identify"
            return True
        return False

    # --- the stages -----------------------------------------------------------------------

    def _identify(self) -> None:
        page = self._get(self.desktop, "/login")
        self._expect(page, 200)
        answer = self._post(
            self.desktop, "/login", {"csrf_token": page.csrf(), "national_id": self.national_id}
        )
        self._expect(answer, 303, "/register/personal")
        self.stage = "personal"

    def _personal(self) -> None:
        page = self._get(self.desktop, "/register/personal")
        if self._restart_if_sent_back(page):
            return
        self._expect(page, 200)
        data = {"csrf_token": page.csrf(), **self.personal_data, "captcha": self.captcha(self)}
        answer = self._post(self.desktop, "/register/personal", data)
        self._expect(answer, 303, "/register/device")
        self.stage = "device"

    def _device(self) -> None:
        page = self._get(self.desktop, "/register/device")
        if self._restart_if_sent_back(page):
            return
        self._expect(page, 200)
        answer = self._post(
            self.desktop, "/register/device", {"csrf_token": page.csrf(), "device": "desktop"}
        )
        self._expect(answer, 303, "/register/qr")
        self.stage = "qr"

    def _qr(self) -> None:
        page = self._get(self.desktop, "/register/qr")
        if self._restart_if_sent_back(page):
            return
        if page.status == 303 and page.location == "/register/done":
            self.stage = "bind"  # the phone verified: its answer was lost, not the result
            return
        self._expect(page, 200)
        link = qr_link(page.text)
        if link and not self.force_new_qr:
            self.qr, self.number, self.stage = link, shown_number(page.text), "open"
            return
        # No usable code on the page (its cookie was lost with an answer, or the phone could
        # not use it): 重新產生QRCode, as the page offers.
        answer = self._post(self.desktop, "/register/qr/regenerate", {"csrf_token": page.csrf()})
        self._expect(answer, 303, "/register/qr")
        self.force_new_qr = False

    def _open(self) -> None:
        assert self.qr is not None
        page = self._get(self.phone, self.qr)
        if page.status == 303 and page.location == "/phone/verify":
            self.stage = "verify"
            return
        if page.status in (400, 409, 410):
            # Taken (the answer that gave this phone the code was lost), expired, replaced or
            # used: the desktop makes a new code, the phone scans that one.
            self.stage, self.force_new_qr = "qr", page.status != 409
            return
        self._expect(page, 303, "/phone/verify")

    def verify_form(self, page: Page) -> dict[str, str]:
        """開始驗證's form: the number read off the desktop picked, the terms ticked."""
        return {"csrf_token": page.csrf(), "match": self.number or "", "terms": "yes"}

    def _verify(self) -> None:
        page = self._get(self.phone, "/phone/verify")
        if page.status in (400, 409, 410):
            self.stage, self.force_new_qr = "qr", page.status != 409
            return
        self._expect(page, 200)
        if "驗證成功" in page.text:
            self.stage = "poll"
            return
        checking = "驗證進行中" in page.text
        answer = self._post(self.phone, "/phone/verify", self.verify_form(page), self.network)
        if answer.status == 303:
            if checking:
                # Still claimed by a check: one under way, or one whose worker died, which
                # may be taken over once its claim is 60 s old. The page said to wait.
                self.stuck_page = page
                raise Stuck(self.national_id)
            return  # another tap won, or it changed: look again
        self._expect(answer, 200)
        if "驗證成功" in answer.text:
            self.stage = "poll"
        # else: the page says why (carrier not answering...): the person taps again.

    def _poll(self) -> None:
        page = self._get(self.desktop, "/register/qr/status?seen=", HX)
        target = page.headers.get("HX-Redirect", "")
        if page.status == 200 and target.endswith("/register/done"):
            self.stage = "bind"
        elif page.status == 200 and target.endswith("/login"):
            self.stage = "identify"
        else:
            time.sleep(0.2)

    def _bind(self) -> None:
        page = self._get(self.desktop, "/register/done")
        if self._restart_if_sent_back(page):
            return
        self._expect(page, 200)
        answer = self._post(self.desktop, "/register/bind", {"csrf_token": page.csrf()})
        if answer.status == 303 and answer.location.startswith("/login"):
            # "這次申請已完成綁定": the first POST bound it, its answer was lost.
            self.stage = "done"
            return
        self._expect(answer, 303, "/notice")
        if not self.desktop.cookie("bli_device"):
            raise Unexpected(f"{self.national_id}: bound without a device cookie")
        self.stage = "done"


class _Again(Exception):
    """This stage got a 5xx: do it again."""


# --- the ledger ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    """Per national ID, what the database holds at the end."""

    accounts: int
    bindings: int
    verified_registrations: int
    verifications: int  # carrier confirmations recorded (audit events)
    bound_registrations: int
    sessions: int


def ledger(database_url: str) -> dict[str, Ledger]:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:

            def counts(sql: str) -> dict[str, int]:
                return {row[0]: int(row[1]) for row in connection.execute(text(sql))}

            accounts = counts("SELECT national_id, count(*) FROM account GROUP BY national_id")
            bindings = counts(
                "SELECT a.national_id, count(*) FROM device_binding b"
                " JOIN account a ON a.id = b.account_id GROUP BY a.national_id"
            )
            verified = counts(
                "SELECT national_id, count(*) FROM registration WHERE step = 'verified'"
                " GROUP BY national_id"
            )
            verifications = counts(
                "SELECT r.national_id, count(*) FROM audit_event e"
                " JOIN registration r ON r.id = e.registration_id"
                " WHERE e.kind IN ('handoff.verified', 'verify.verified') GROUP BY r.national_id"
            )
            bound = counts(
                "SELECT national_id, count(*) FROM registration WHERE bound_at IS NOT NULL"
                " GROUP BY national_id"
            )
            sessions = counts(
                "SELECT a.national_id, count(*) FROM user_session s"
                " JOIN account a ON a.id = s.account_id GROUP BY a.national_id"
            )
    finally:
        engine.dispose()
    ids = set(accounts) | set(verified) | set(verifications) | set(bound) | set(bindings)
    return {
        national_id: Ledger(
            accounts.get(national_id, 0),
            bindings.get(national_id, 0),
            verified.get(national_id, 0),
            verifications.get(national_id, 0),
            bound.get(national_id, 0),
            sessions.get(national_id, 0),
        )
        for national_id in ids
    }


#: One registration, completed once: one account, one binding, one verified and bound
#: registration, one recorded carrier confirmation, one logged-in session.
ONCE = Ledger(1, 1, 1, 1, 1, 1)


def handoff_statuses(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT status, count(*) FROM handoff GROUP BY status"))
            return {row[0]: int(row[1]) for row in rows}
    finally:
        engine.dispose()


def captcha_from_database(database_url: str) -> Callable[[Person], str]:
    """Step 2's real CAPTCHA answer, read the way the person reads the picture: from the
    registration of this person (the newest one)."""

    def read(person: Person) -> str:
        engine = create_engine(database_url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                answer = connection.execute(
                    text(
                        "SELECT captcha_answer FROM registration WHERE national_id = :id"
                        " ORDER BY id DESC LIMIT 1"
                    ),
                    {"id": person.national_id},
                ).scalar()
        finally:
            engine.dispose()
        if not answer:
            raise Unexpected(f"{person.national_id}: step 2 shows no CAPTCHA")
        return str(answer)

    return read


def scalar(database_url: str, sql: str, **params: object) -> object:
    """One value from the site's database."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()
    finally:
        engine.dispose()
