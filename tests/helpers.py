"""Multi-request verbs for route tests: a person going through the wizard with the test client."""

from __future__ import annotations

import re
import socket
from html import unescape
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

FIXED_CAPTCHA = "TESTCAPTCHA"

#: 王小明 of the demo data: eligible, 中華電信, monthly plan.
ELIGIBLE: dict[str, str] = {
    "national_id": "A123456789",
    "carrier": "cht",
    "msisdn": "0912-345678",
    "nhi_card": "000012345678",
    "birth_date": "1980/01/01",
    "name": "王小明",
    "password": "my cat is called flower",
}


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released): for the servers the tests
    and the benchmarks start (gunicorn, PostgreSQL, redis-server, a gateway)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def errors_of(response: TestResponse) -> list[str]:
    """The messages shown beside fields (not the summary), in page order."""
    html = response.get_data(as_text=True)
    found = re.findall(
        r'<p class="error-message" id="([^"]+)-error">.*?</span>(.*?)</p>', html, re.S
    )
    return [unescape(text) for _id, text in found]


def error_for(response: TestResponse, field: str) -> str | None:
    html = response.get_data(as_text=True)
    match = re.search(
        rf'<p class="error-message" id="{re.escape(field)}-error">.*?</span>(.*?)</p>', html, re.S
    )
    return unescape(match.group(1)) if match else None


def value_of(response: TestResponse, field: str) -> str | None:
    """The value an input is rendered with (what the person sees typed)."""
    html = response.get_data(as_text=True)
    match = re.search(rf'<input[^>]*\bid="{re.escape(field)}"[^>]*>', html)
    if not match:
        return None
    value = re.search(r'\bvalue="([^"]*)"', match.group(0))
    return unescape(value.group(1)) if value else ""


def selected_of(response: TestResponse, field: str) -> str | None:
    html = response.get_data(as_text=True)
    select = re.search(rf'<select[^>]*id="{re.escape(field)}".*?</select>', html, re.S)
    if not select:
        return None
    option = re.search(
        r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select.group(0)
    )
    return (option.group(1) or option.group(2)) if option else None


class WizardClient:
    """A person with one browser: each verb fetches the page, then submits its form."""

    def __init__(self, client: FlaskClient, app: Flask) -> None:
        self.client = client
        self.app = app

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, str], **kwargs: Any) -> TestResponse:
        page = self.client.get(url)
        if page.status_code != 200:
            page = self.client.get("/login")
        return self.client.post(
            url, data={"csrf_token": csrf_token(page.get_data(as_text=True)), **data}, **kwargs
        )

    def identify(self, national_id: str = ELIGIBLE["national_id"]) -> TestResponse:
        return self.post("/login", {"national_id": national_id})

    def personal(self, **overrides: str) -> TestResponse:
        data = {k: v for k, v in ELIGIBLE.items() if k != "national_id"}
        data["password_confirm"] = data["password"]
        data["captcha"] = FIXED_CAPTCHA
        data.update(overrides)
        return self.post("/register/personal", data)

    def device(self, device: str, sim: str | None = None) -> TestResponse:
        data = {"device": device}
        if sim:
            data["sim"] = sim
        return self.post("/register/device", data)

    def complete_steps_before(
        self, step: str, national_id: str = ELIGIBLE["national_id"], **personal: str
    ) -> None:
        """Go through the wizard up to (not including) ``step``: personal, device, qr, verify."""
        order = ["identify", "personal", "device"]
        target = order.index(step) if step in order else len(order)
        if target > 0:
            assert self.identify(national_id).status_code == 303
        if target > 1:
            response = self.personal(**personal)
            assert response.status_code == 303, errors_of(response)
        if target > 2:
            device = {"qr": ("desktop", None), "verify": ("phone", None)}[step]
            assert self.device(*device).status_code == 303


# --- steps 4-5: the QR hand-off and the carrier's network check ----------------------------

#: A desktop browser and a phone, as their User-Agent headers describe them.
DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
_QR_LINK = re.compile(r"<code>http://localhost/h/<wbr>([^<\s]+)</code>")


def qr_path(html: str) -> str:
    """The path of the QR code's link as printed beneath it (``/h/<token>``)."""
    match = _QR_LINK.search(html)
    assert match, "page shows no QR link"
    return "/h/" + unescape(match.group(1))


_MATCH_NUMBER = re.compile(r'<p class="match-number"[^>]*>(\d\d)</p>')


def shown_number(html: str) -> str:
    """The number step 4 shows beside its QR code (what the person picks on the phone)."""
    match = _MATCH_NUMBER.search(html)
    assert match, "page shows no number beside the QR code"
    return match.group(1)


def right_number(app: Flask, link: str) -> str:
    """The number the desktop shows beside the QR code whose link is ``link`` (``/h/<token>``
    or the whole URL): what a person looking at that desktop picks on the phone."""
    from wizard.registration import handoff

    token = link.rsplit("/h/", 1)[-1]
    with app.app_context(), app.extensions["db_sessionmaker"]() as db_session:
        number = handoff.find(db_session, token, app.secret_key).match_number  # type: ignore[arg-type]
    return str(number)


def sim_headers(network: str, msisdn: str | None = None) -> dict[str, str]:
    """What a carrier's header enrichment would add (read by the simulator)."""
    headers = {"X-Sim-Network": network}
    if msisdn is not None:
        headers["X-Sim-Msisdn"] = msisdn
    return headers


def demo_person(national_id: str) -> dict[str, str]:
    """The simulator's demo row (wizard.ops.seed.DEMO_PEOPLE) of ``national_id``."""
    from wizard.ops.seed import DEMO_PEOPLE

    for row in DEMO_PEOPLE:
        if row["national_id"] == national_id:
            return dict(row)
    raise KeyError(national_id)


def demo_personal(national_id: str) -> dict[str, str]:
    """Step-2 overrides (for WizardClient.personal / complete_steps_before) of a demo person."""
    row = demo_person(national_id)
    return {
        "carrier": row["carrier"],
        "msisdn": row["msisdn"],
        "nhi_card": row["nhi_card"],
        "birth_date": row["birth_date"].replace("-", "/"),
        "name": row["name"],
    }


def upsert_subscriber(app: Flask, row: dict[str, str]) -> None:
    """Change the carrier simulator's registry (upsert by national ID), as its CSV import does."""
    from wizard.carrier.simulator import import_rows

    with app.app_context(), app.extensions["db_sessionmaker"]() as db_session:
        import_rows(db_session, [row])
        db_session.commit()


class CountingGateway:
    """Wraps the app's carrier gateway: counts step-5 checks and can make each one slow."""

    def __init__(self, app: Flask, delay: float = 0.0) -> None:
        import threading

        self.inner = app.extensions["carrier_gateway"]
        self.delay = delay
        self.calls = 0
        self._lock = threading.Lock()
        #: Set when a check has started (it is then inside the carrier, past its claim).
        self.entered = threading.Event()
        app.extensions["carrier_gateway"] = self

    def precheck(self, claim: Any) -> Any:
        return self.inner.precheck(claim)

    def network_check(self, check: Any) -> Any:
        import time

        with self._lock:
            self.calls += 1
        self.entered.set()
        if self.delay:
            time.sleep(self.delay)
        return self.inner.network_check(check)


def clone_client(client: FlaskClient, app: Flask) -> FlaskClient:
    """A second test client with the same session cookie: the same browser, another tab."""
    twin = app.test_client()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None, "this browser has no session yet"
    twin.set_cookie(cookie.decoded_key, cookie.decoded_value)
    twin.environ_base.update(client.environ_base)
    return twin


#: What the site sends an HTMX poll, and the page's polling URL in its status region.
HX_REQUEST = {"HX-Request": "true"}
_POLL = re.compile(r'hx-get="(/register/qr/status[^"]*)"')


def poll_url(html: str) -> str | None:
    """The status region's polling URL (with its ``seen``), or None once polling has stopped."""
    match = _POLL.search(html)
    return unescape(match.group(1)) if match else None


class Desktop:
    """The applying browser at step 4 (a WizardClient that has chosen 桌上型電腦)."""

    def __init__(self, wizard: WizardClient) -> None:
        self.wizard = wizard
        self.client = wizard.client
        self._csrf: str | None = None

    def qr_page(self) -> TestResponse:
        page = self.client.get("/register/qr")
        if page.status_code == 200:
            self._csrf = csrf_token(page.get_data(as_text=True))
        return page

    def qr_path(self) -> str:
        page = self.qr_page()
        assert page.status_code == 200, page.status_code
        return qr_path(page.get_data(as_text=True))

    def csrf(self) -> str:
        if self._csrf is None:
            self.qr_page()
        assert self._csrf is not None
        return self._csrf

    def poll(self, url: str = "/register/qr/status?seen=", htmx: bool = True) -> TestResponse:
        return self.client.get(url, headers=HX_REQUEST if htmx else {})

    def regenerate(self) -> TestResponse:
        return self.client.post("/register/qr/regenerate", data={"csrf_token": self.csrf()})

    def check(self) -> TestResponse:
        """我已在手機完成驗證 (the page without JavaScript)."""
        return self.client.post("/register/qr/check", data={"csrf_token": self.csrf()})


class Phone:
    """A phone with cookies of its own: scans (opens) a QR link, then uses /phone/verify."""

    def __init__(self, app: Flask, user_agent: str = PHONE_UA) -> None:
        self.client = app.test_client()
        self.client.environ_base["HTTP_USER_AGENT"] = user_agent
        self._csrf: str | None = None
        self.app = app
        self.link: str | None = None

    def open(self, path: str) -> TestResponse:
        self.link = path
        response = self.client.get(path)
        if response.status_code == 303:
            self.page()  # the CSRF token of the phone's own session
        return response

    def page(self, headers: dict[str, str] | None = None) -> TestResponse:
        page = self.client.get("/phone/verify", headers=headers or {})
        if page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True):
            self._csrf = csrf_token(page.get_data(as_text=True))
        return page

    def csrf(self) -> str:
        assert self._csrf is not None, "the phone has not shown its verification page"
        return self._csrf

    def verify(
        self,
        network: str | None = "4g",
        msisdn: str | None = None,
        terms: bool = True,
        form: dict[str, str] | None = None,
        match: str | None = None,
        **kwargs: Any,
    ) -> TestResponse:
        """開始驗證, the network identity in X-Sim-* headers (``network=None``: none sent),
        having picked the number the desktop shows (``match``: another pick, "" for none)."""
        data = {"csrf_token": self.csrf(), **(form or {})}
        if match is None:
            assert self.link is not None, "the phone has not opened a QR link"
            match = right_number(self.app, self.link)
        if match:
            data["match"] = match
        if terms:
            data["terms"] = "yes"
        headers = sim_headers(network, msisdn) if network else {}
        return self.client.post("/phone/verify", data=data, headers=headers, **kwargs)

    def cancel(self) -> TestResponse:
        """這不是我申請的."""
        return self.client.post("/phone/cancel", data={"csrf_token": self.csrf()})

    def same_browser(self, app: Flask) -> Phone:
        """This phone's browser in another tab: the same cookies and the same page's form."""
        twin = Phone(app)
        twin.client = clone_client(self.client, app)
        twin._csrf = self._csrf
        twin.link = self.link
        return twin
