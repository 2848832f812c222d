"""Full registrations by simulated people at rising concurrency, until errors or latency break.

Each simulated person is two plain-HTTP clients, a desktop and a phone, with cookies of their
own. The desktop goes through steps 1-3 (CSRF tokens read from each form, the fixed benchmark
CAPTCHA answer), reads the QR link printed under the QR code on the step-4 page and polls once;
the phone opens that link, shows step 5 and taps 開始驗證 (the carrier simulator, told the
network by X-Sim-* headers); the desktop polls until told to go on, shows step 6, binds itself
(the cookie fallback: no JavaScript here), reads the notice and starts using the site. People
start one after another without pause (a closed loop); each is a distinct eligible subscriber.

The clients are threads of this Python process and compete with the server for the same cores:
their CPU time is measured and reported beside the results.
"""

from __future__ import annotations

import http.client
import re
import statistics
import threading
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape

from bench.pools import step2_form
from tests.helpers import DESKTOP_UA, PHONE_UA

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_QR_LINK = re.compile(r"<code>https?://[^/<]+/h/<wbr>([^<\s]+)</code>")
_NUMBER = re.compile(r'<p class="match-number"[^>]*>(\d\d)</p>')

#: The steps timed, in the order a person goes through them.
STEPS = (
    "1 GET /login",
    "1 POST /login",
    "2 GET /register/personal",
    "2 POST /register/personal",
    "3 GET /register/device",
    "3 POST /register/device",
    "4 GET /register/qr",
    "4 poll (waiting)",
    "5 GET /h/<token>",
    "5 GET /phone/verify",
    "5 POST /phone/verify",
    "4 poll (verified)",
    "6 GET /register/done",
    "6 POST /register/bind",
    "6 GET /notice",
    "6 POST /notice",
)


class Failed(Exception):
    """A person's step answered other than a person expects."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str


class Browser:
    """A browser without JavaScript: cookies, one request at a time, no redirects followed."""

    def __init__(self, host: str, port: int, user_agent: str, timings: dict[str, list[float]]):
        self.host, self.port, self.user_agent = host, port, user_agent
        self.cookies: dict[str, str] = {}
        self.timings = timings

    def send(
        self,
        step: str,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = {"User-Agent": self.user_agent, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body, sent)
            response = connection.getresponse()
            text = response.read().decode()
        except OSError as exc:
            raise Failed(f"{step}: {exc.__class__.__name__}") from exc
        finally:
            connection.close()
        self.timings[step].append(time.perf_counter() - start)
        for value in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            cookie_value = rest.split(";", 1)[0]
            if "Max-Age=0" in value or "expires=Thu, 01 Jan 1970" in value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = cookie_value
        return Answer(response.status, {k: v for k, v in response.getheaders()}, text)

    def page(self, step: str, path: str) -> str:
        answer = self.send(step, "GET", path)
        if answer.status != 200:
            raise Failed(f"{step}: {answer.status} {answer.headers.get('Location', '')}")
        return answer.text

    def submit(self, step: str, path: str, page: str, fields: dict[str, str], to: str) -> Answer:
        match = _CSRF.search(page)
        if not match:
            raise Failed(f"{step}: no CSRF token in the form")
        answer = self.send(step, "POST", path, {"csrf_token": match.group(1), **fields})
        where = answer.headers.get("Location", "")
        if answer.status != 303 or not where.endswith(to):
            raise Failed(f"{step}: {answer.status} {where}")
        return answer


def register(host: str, port: int, person: dict[str, str], timings: dict[str, list[float]]):
    """One person's whole registration; raises Failed at the first unexpected answer."""
    desktop = Browser(host, port, DESKTOP_UA, timings)
    phone = Browser(host, port, PHONE_UA, timings)
    page = desktop.page("1 GET /login", "/login")
    desktop.submit(
        "1 POST /login",
        "/login",
        page,
        {"national_id": person["national_id"]},
        "/register/personal",
    )
    page = desktop.page("2 GET /register/personal", "/register/personal")
    desktop.submit(
        "2 POST /register/personal",
        "/register/personal",
        page,
        step2_form(person),
        "/register/device",
    )
    page = desktop.page("3 GET /register/device", "/register/device")
    desktop.submit(
        "3 POST /register/device", "/register/device", page, {"device": "desktop"}, "/register/qr"
    )
    page = desktop.page("4 GET /register/qr", "/register/qr")
    link = _QR_LINK.search(page)
    number = _NUMBER.search(page)  # number matching: the person reads it off the screen
    if not link or not number:
        raise Failed("4 GET /register/qr: no QR link or no number on the page")
    hx = {"HX-Request": "true"}
    poll = desktop.send("4 poll (waiting)", "GET", "/register/qr/status?seen=waiting:", headers=hx)
    if poll.status != 204:
        raise Failed(f"4 poll (waiting): {poll.status}")
    opened = phone.send("5 GET /h/<token>", "GET", "/h/" + unescape(link.group(1)))
    if opened.status != 303 or not opened.headers.get("Location", "").endswith("/phone/verify"):
        raise Failed(f"5 GET /h/<token>: {opened.status}")
    page = phone.page("5 GET /phone/verify", "/phone/verify")
    token = _CSRF.search(page)
    if not token:
        raise Failed("5 GET /phone/verify: no form")
    verified = phone.send(
        "5 POST /phone/verify",
        "POST",
        "/phone/verify",
        {"csrf_token": token.group(1), "match": number.group(1), "terms": "yes"},
        {"X-Sim-Network": "4g", "X-Sim-Msisdn": person["msisdn"]},
    )
    if verified.status != 200 or "驗證成功" not in verified.text:
        raise Failed(f"5 POST /phone/verify: {verified.status}, not verified")
    poll = desktop.send("4 poll (verified)", "GET", "/register/qr/status?seen=waiting:", headers=hx)
    if poll.status != 200 or not poll.headers.get("HX-Redirect", "").endswith("/register/done"):
        raise Failed(f"4 poll (verified): {poll.status} {poll.headers.get('HX-Redirect')}")
    page = desktop.page("6 GET /register/done", "/register/done")
    desktop.submit("6 POST /register/bind", "/register/bind", page, {}, "/notice")
    page = desktop.page("6 GET /notice", "/notice")
    desktop.submit("6 POST /notice", "/notice", page, {}, "/portal")


@dataclass
class Level:
    """What one concurrency level gave."""

    concurrency: int
    seconds: float
    completed: int
    errors: list[str]
    timings: dict[str, list[float]]
    client_cpu: float
    #: Seconds from the first request to the last of each person who completed.
    durations: list[float] = field(default_factory=list)
    server_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.completed / self.seconds

    def percentiles(self) -> dict[str, tuple[float, float, float]]:
        """p50, p95, p99 in milliseconds per step."""
        out = {}
        for step in STEPS:
            values = sorted(self.timings.get(step, []))
            if len(values) >= 2:
                cuts = statistics.quantiles(values, n=100, method="inclusive")
                out[step] = (cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000)
            elif values:
                out[step] = (values[0] * 1000,) * 3  # type: ignore[assignment]
        return out


def run_level(
    host: str, port: int, people: Iterator[dict[str, str]], concurrency: int, seconds: float
) -> Level:
    """``concurrency`` people at a time for ``seconds``; people still on their way at the end
    finish (their time counts), none start after it."""
    timings: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    completed = 0
    durations: list[float] = []
    lock = threading.Lock()
    queue = people
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        nonlocal completed
        while time.perf_counter() < deadline:
            with lock:
                person = next(queue, None)
            if person is None:
                return
            mine: dict[str, list[float]] = defaultdict(list)
            began = time.perf_counter()
            try:
                register(host, port, person, mine)
            except Failed as exc:
                with lock:
                    errors.append(str(exc))
            else:
                with lock:
                    completed += 1
                    durations.append(time.perf_counter() - began)
            with lock:
                for step, values in mine.items():
                    timings[step].extend(values)

    cpu = time.process_time()
    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - cpu
    return Level(concurrency, elapsed, completed, errors, timings, client_cpu, durations)
