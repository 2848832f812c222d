"""The HTTP carrier gateway client against a fake gateway on loopback, and the site using it.

The fake is a ThreadingHTTPServer in a thread (port 0) that answers from a script: an outcome,
a status code, broken JSON, or silence longer than the client's timeout. It records every
call, so retries, request IDs and the bearer token can be checked.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import make_test_app
from tests.helpers import ELIGIBLE, WizardClient, errors_of, free_port
from tests.web.support import registration_row, text_of
from wizard import carrier
from wizard.carrier import (
    Network,
    NetworkCheck,
    NetworkIdentity,
    NetworkOutcome,
    PersonClaim,
    PrecheckOutcome,
)
from wizard.carrier.http import HttpGateway, wire_request_id
from wizard.config import DEFAULTS, ConfigError, check

TOKEN = "s3cret-test-token"

CLAIM = PersonClaim(
    national_id="A123456789",
    name="王小明",
    birth_date=dt.date(1980, 1, 1),
    nhi_card="000012345678",
    carrier_code="cht",
    msisdn="0912345678",
)
CHECK = NetworkCheck(
    national_id="A123456789",
    carrier_code="cht",
    msisdn="0912345678",
    client_ip="203.0.113.7",
    identity=NetworkIdentity(Network.WIFI, None),
)
#: What must never appear in a log line.
SECRETS = ("A123456789", "0912345678", "0912-345678", "王小明", "000012345678", TOKEN)


# --- the fake gateway ----------------------------------------------------------------------


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: dict[str, object]


@dataclass
class Answer:
    status: int = 200
    body: bytes = b'{"outcome": "ok"}'
    #: Seconds to stay silent first (longer than the client's timeout: a timeout).
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def outcome(value: str) -> Answer:
    return Answer(body=json.dumps({"outcome": value}).encode())


class FakeGateway:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        #: Answers used one per call, in order; then ``default``.
        self.script: list[Answer] = []
        self.default = outcome("ok")
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.url = ""

    def answer(self, call: Call) -> Answer:
        with self.lock:
            self.calls.append(call)
            if call.headers.get("authorization") != f"Bearer {TOKEN}":
                return Answer(401, b'{"error": "unauthorized"}')
            return self.script.pop(0) if self.script else self.default

    def request_ids(self) -> list[object]:
        return [c.body.get("request_id") for c in self.calls]


def handler_for(fake: FakeGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                body = {"unparsed": raw.decode("utf-8", "replace")}
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = fake.answer(Call(self.path, headers, body))
            if answer.delay and fake.release.wait(answer.delay):
                return  # the test is over
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)
            except OSError:
                pass  # the client gave up waiting

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[FakeGateway]:
    fake = FakeGateway()
    server = QuietServer(("127.0.0.1", 0), handler_for(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


#: Makes a client of the fake gateway: client_of(timeout=..., retries=..., token=...).
MakeClient = Callable[..., HttpGateway]


@pytest.fixture
def client_of(fake: FakeGateway, sleeps: Sleeps) -> MakeClient:
    def make(**options: object) -> HttpGateway:
        settings: dict[str, object] = {"timeout": 2.0, "retries": 2, "backoff": 0.05}
        settings.update(options)
        token = str(settings.pop("token", TOKEN))
        return HttpGateway(fake.url, token, sleep=sleeps, **settings)  # type: ignore[arg-type]

    return make


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog
    for secret in SECRETS:
        assert secret not in caplog.text, "personal data or the token in a log line"


# --- answers -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", list(PrecheckOutcome))
def test_precheck_returns_each_outcome(
    fake: FakeGateway, client_of: MakeClient, value: PrecheckOutcome
) -> None:
    fake.default = outcome(value.value)
    assert client_of().precheck(CLAIM).outcome is value
    assert len(fake.calls) == 1


@pytest.mark.parametrize("value", list(NetworkOutcome))
def test_network_check_returns_each_outcome(
    fake: FakeGateway, client_of: MakeClient, value: NetworkOutcome
) -> None:
    fake.default = outcome(value.value)
    assert client_of().network_check(CHECK).outcome is value
    assert len(fake.calls) == 1


def test_precheck_request(fake: FakeGateway, client_of: MakeClient) -> None:
    assert client_of().precheck(CLAIM).ok
    (call,) = fake.calls
    assert call.path == "/v1/precheck"
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.headers["content-type"].startswith("application/json")
    request_id = call.body.pop("request_id")
    assert isinstance(request_id, str) and len(request_id) >= 16
    assert call.headers["x-request-id"] == request_id
    assert call.body == {
        "national_id": "A123456789",
        "name": "王小明",
        "birth_date": "1980-01-01",
        "nhi_card": "000012345678",
        "carrier": "cht",
        "msisdn": "0912345678",
    }


def test_network_check_request(fake: FakeGateway, client_of: MakeClient) -> None:
    assert client_of().network_check(CHECK).ok
    (call,) = fake.calls
    assert call.path == "/v1/network-check"
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    request_id = call.body["request_id"]
    assert isinstance(request_id, str) and len(request_id) >= 16
    assert call.headers["x-request-id"] == request_id
    # The simulator's network identity is never sent: the real gateway finds the network.
    assert call.body == {
        "national_id": "A123456789",
        "carrier": "cht",
        "msisdn": "0912345678",
        "client_ip": "203.0.113.7",
        "request_id": request_id,
    }


def test_each_logical_check_has_its_own_request_id(
    fake: FakeGateway, client_of: MakeClient
) -> None:
    gateway = client_of()
    gateway.network_check(CHECK)
    gateway.network_check(CHECK)
    gateway.precheck(CLAIM)
    assert len(set(fake.request_ids())) == 3


def test_callers_request_id_is_used(fake: FakeGateway, client_of: MakeClient) -> None:
    gateway = client_of()
    gateway.network_check(NetworkCheck(**{**CHECK.__dict__, "request_id": "handoff-42.1"}))
    assert fake.request_ids() == ["handoff-42.1"]
    # One that cannot travel in a header is replaced, the same way each time.
    odd = NetworkCheck(**{**CHECK.__dict__, "request_id": "交接 42\n"})
    gateway.network_check(odd)
    gateway.network_check(odd)
    assert fake.request_ids()[1] == fake.request_ids()[2] == wire_request_id("交接 42\n")
    assert fake.calls[1].headers["x-request-id"] == fake.request_ids()[1]


# --- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_trouble_is_retried_with_the_same_request_id(
    fake: FakeGateway, client_of: MakeClient, sleeps: Sleeps, status: int
) -> None:
    fake.script = [Answer(status, b"busy"), outcome("ok")]
    assert client_of().network_check(CHECK).ok
    assert len(fake.calls) == 2
    ids = fake.request_ids()
    assert ids[0] == ids[1]
    assert fake.calls[0].headers["x-request-id"] == fake.calls[1].headers["x-request-id"]
    assert sleeps.calls == [0.05]


def test_retries_are_bounded_with_growing_backoff(
    fake: FakeGateway, client_of: MakeClient, sleeps: Sleeps
) -> None:
    fake.default = Answer(503, b"")
    assert client_of(retries=3).precheck(CLAIM).outcome is PrecheckOutcome.UNAVAILABLE
    assert len(fake.calls) == 4
    assert len(set(fake.request_ids())) == 1
    assert sleeps.calls == [0.05, 0.1, 0.2]


def test_no_retries_when_set_to_zero(
    fake: FakeGateway, client_of: MakeClient, sleeps: Sleeps
) -> None:
    fake.default = Answer(503, b"")
    assert client_of(retries=0).network_check(CHECK).outcome is NetworkOutcome.UNAVAILABLE
    assert len(fake.calls) == 1
    assert sleeps.calls == []


def test_repeated_timeouts_give_up_unavailable(fake: FakeGateway, client_of: MakeClient) -> None:
    fake.default = Answer(delay=5.0)
    started = time.monotonic()
    result = client_of(timeout=0.2, retries=2).network_check(CHECK)
    elapsed = time.monotonic() - started
    assert result.outcome is NetworkOutcome.UNAVAILABLE
    assert len(fake.calls) == 3
    assert len(set(fake.request_ids())) == 1
    assert elapsed < 3.0, "a timeout per attempt, a bounded number of attempts"


def test_one_timeout_then_an_answer(fake: FakeGateway, client_of: MakeClient) -> None:
    fake.script = [Answer(delay=5.0), outcome("suspended")]
    assert client_of(timeout=0.2).network_check(CHECK).outcome is NetworkOutcome.SUSPENDED
    assert len(fake.calls) == 2
    assert fake.request_ids()[0] == fake.request_ids()[1]


def test_connection_refused_is_retried_then_unavailable(sleeps: Sleeps) -> None:
    port = free_port()  # nothing listens there
    gateway = HttpGateway(f"http://127.0.0.1:{port}", TOKEN, timeout=1, retries=2, sleep=sleeps)
    assert gateway.precheck(CLAIM).outcome is PrecheckOutcome.UNAVAILABLE
    assert len(sleeps.calls) == 2


# --- answers that are not answers ---------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429, 500, 501])
def test_other_errors_are_not_retried(
    fake: FakeGateway, client_of: MakeClient, sleeps: Sleeps, status: int
) -> None:
    fake.default = Answer(status, b'{"outcome": "ok"}')
    assert client_of().network_check(CHECK).outcome is NetworkOutcome.UNAVAILABLE
    assert client_of().precheck(CLAIM).outcome is PrecheckOutcome.UNAVAILABLE
    assert len(fake.calls) == 2
    assert sleeps.calls == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"outcome": "ok"',
        b"\xff\xfe",
        b'["ok"]',
        b'"ok"',
        b"{}",
        b'{"outcome": null}',
        b'{"outcome": 1}',
        b'{"result": "ok"}',
        b"[" * 5000,
        b'{"outcome": "ok", "pad": "' + b"x" * 20000 + b'"}',
    ],
)
def test_malformed_answers_are_unavailable(
    fake: FakeGateway, client_of: MakeClient, body: bytes
) -> None:
    fake.default = Answer(200, body)
    assert client_of().network_check(CHECK).outcome is NetworkOutcome.UNAVAILABLE
    assert len(fake.calls) == 1


@pytest.mark.parametrize("value", ["maybe", "OK", " ok", "wrong_carrier"])
def test_unknown_outcomes_are_unavailable(
    fake: FakeGateway, client_of: MakeClient, value: str
) -> None:
    # "wrong_carrier" is a precheck answer, not a network-check one.
    fake.default = outcome(value)
    assert client_of().network_check(CHECK).outcome is NetworkOutcome.UNAVAILABLE
    assert len(fake.calls) == 1


def test_bearer_token_is_checked(fake: FakeGateway, client_of: MakeClient, sleeps: Sleeps) -> None:
    assert client_of(token="wrong").precheck(CLAIM).outcome is PrecheckOutcome.UNAVAILABLE
    assert fake.calls[0].headers["authorization"] == "Bearer wrong"
    assert len(fake.calls) == 1
    assert client_of().precheck(CLAIM).ok


def test_redirects_are_not_followed(fake: FakeGateway, client_of: MakeClient) -> None:
    fake.default = Answer(307, b"", headers={"Location": "http://127.0.0.1:9/v1/precheck"})
    assert client_of().precheck(CLAIM).outcome is PrecheckOutcome.UNAVAILABLE
    assert len(fake.calls) == 1


def test_an_unexpected_client_error_is_unavailable_too(sleeps: Sleeps) -> None:
    class Broken(urllib.request.OpenerDirector):
        def open(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            raise UnicodeEncodeError("ascii", "王小明", 0, 1, "no")

    gateway = HttpGateway("https://gw.example", TOKEN, sleep=sleeps, opener=Broken())
    assert gateway.network_check(CHECK).outcome is NetworkOutcome.UNAVAILABLE
    assert sleeps.calls == []


@pytest.mark.parametrize("token", ["", "two words", "line\nbreak", "令牌"])
def test_tokens_that_cannot_travel_in_a_header_are_refused(token: str) -> None:
    with pytest.raises(ValueError, match="token"):
        HttpGateway("https://gw.example", token)


def test_logs_say_what_happened_without_personal_data(
    fake: FakeGateway, client_of: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake.script = [Answer(503, b""), outcome("ok"), Answer(200, b"junk"), Answer(400, b"")]
    gateway = client_of()
    gateway.network_check(CHECK)
    gateway.precheck(CLAIM)
    gateway.precheck(CLAIM)
    ids = fake.request_ids()
    text = caplog.text
    assert f"status 503, request {ids[0]}" in text
    assert f"outcome ok (status 200, request {ids[0]}, attempt 2)" in text
    assert f"malformed JSON (status 200, request {ids[2]}" in text
    assert f"refused (status 400, request {ids[3]}" in text
    assert "s3cret" not in repr(gateway)
    # The autouse fixture then checks that no ID, number, name, card or token was logged.


# --- configuration -------------------------------------------------------------------------


def settings(**overrides: object) -> dict[str, object]:
    return {**DEFAULTS, "CARRIER_GATEWAY": "http", **overrides}


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({}, "CARRIER_GATEWAY_URL and CARRIER_GATEWAY_TOKEN"),
        ({"CARRIER_GATEWAY_TOKEN": TOKEN}, "needs CARRIER_GATEWAY_URL "),
        ({"CARRIER_GATEWAY_URL": "https://gw.example"}, "needs CARRIER_GATEWAY_TOKEN "),
    ],
)
def test_http_gateway_needs_url_and_token(overrides: dict[str, object], missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        check(settings(**overrides))


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"CARRIER_GATEWAY_URL": "gw.example"}, "http"),
        ({"PRODUCTION": True, "CARRIER_GATEWAY_URL": "http://gw.example"}, "https"),
        ({"CARRIER_GATEWAY_TIMEOUT": 0}, "CARRIER_GATEWAY_TIMEOUT"),
        ({"CARRIER_GATEWAY_TIMEOUT": "soon"}, "CARRIER_GATEWAY_TIMEOUT"),
        ({"CARRIER_GATEWAY_RETRIES": -1}, "CARRIER_GATEWAY_RETRIES"),
        ({"CARRIER_GATEWAY_RETRIES": 1.5}, "CARRIER_GATEWAY_RETRIES"),
        ({"CARRIER_GATEWAY_BACKOFF": -1}, "CARRIER_GATEWAY_BACKOFF"),
        ({"CAPTCHA_FIXED_ANSWER": "X"}, "CAPTCHA_FIXED_ANSWER"),
        ({"CARRIER_GATEWAY_TOKEN": "two words"}, "CARRIER_GATEWAY_TOKEN"),
    ],
)
def test_http_gateway_settings_are_checked(overrides: dict[str, object], complaint: str) -> None:
    base = {"CARRIER_GATEWAY_URL": "https://gw.example", "CARRIER_GATEWAY_TOKEN": TOKEN}
    with pytest.raises(ConfigError, match=complaint):
        check(settings(**{**base, **overrides}))


def test_http_gateway_settings_that_pass() -> None:
    config = settings(
        CARRIER_GATEWAY_URL="https://gw.example/carrier",
        CARRIER_GATEWAY_TOKEN=TOKEN,
        PRODUCTION=True,
        # What production needs besides the gateway (tests/web/test_production.py).
        DATABASE_URL="postgresql+psycopg://wizard@db.example/wizard",
        SECRET_KEY="s" * 32,
        RATELIMIT_STORAGE_URI="redis://redis.example:6379/0",
    )
    check(config)
    assert config["RATELIMIT_ENABLED"] is True


# --- the site with CARRIER_GATEWAY=http ------------------------------------------------------


@pytest.fixture
def http_app(tmp_path: Path, fake: FakeGateway) -> Iterator[Flask]:
    app = make_test_app(
        tmp_path,
        None,
        CARRIER_GATEWAY="http",
        CARRIER_GATEWAY_URL=fake.url,
        CARRIER_GATEWAY_TOKEN=TOKEN,
        CARRIER_GATEWAY_TIMEOUT=1.0,
        CARRIER_GATEWAY_RETRIES=1,
        CARRIER_GATEWAY_BACKOFF=0.0,
        # Refused with a real gateway: step 2 is posted with the real CAPTCHA answer.
        CAPTCHA_FIXED_ANSWER=None,
    )
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def http_wizard(http_app: Flask) -> WizardClient:
    return WizardClient(http_app.test_client(), http_app)


def submit_step_2(wizard: WizardClient):
    """Steps 1 and 2 as 王小明, answering the CAPTCHA the page really shows."""
    assert wizard.identify().status_code == 303
    assert wizard.get("/register/personal").status_code == 200
    answer = registration_row(wizard.app).captcha_answer
    assert answer, "step 2 made no CAPTCHA"
    return wizard.personal(captcha=answer)


def test_app_builds_the_http_gateway(http_app: Flask, fake: FakeGateway) -> None:
    gateway = http_app.extensions["carrier_gateway"]
    assert isinstance(gateway, HttpGateway)
    assert (gateway.base_url, gateway.timeout, gateway.retries) == (fake.url, 1.0, 1)
    with http_app.app_context():
        headers = {"X-Sim-Network": "4g", "X-Sim-Msisdn": "0912345678"}
        assert carrier.network_identity(headers, {"sim_network": "4g"}) is None


def test_step_2_through_the_real_gateway_reaches_step_3(
    http_wizard: WizardClient, fake: FakeGateway
) -> None:
    response = submit_step_2(http_wizard)
    assert response.status_code == 303, errors_of(response)
    assert response.headers["Location"].endswith("/register/device")
    assert http_wizard.get("/register/device").status_code == 200
    (call,) = fake.calls
    assert call.path == "/v1/precheck"
    assert call.body["national_id"] == ELIGIBLE["national_id"]
    assert call.body["msisdn"] == "0912345678"
    assert call.body["birth_date"] == "1980-01-01"
    assert call.body["carrier"] == "cht"


def test_step_2_shows_the_mvno_message(http_wizard: WizardClient, fake: FakeGateway) -> None:
    fake.default = outcome("mvno")
    response = submit_step_2(http_wizard)
    assert response.status_code == 200
    assert "虛擬行動網路業者（MVNO）的門號無法使用行動電話認證" in text_of(response)
    assert registration_row(http_wizard.app).step == "personal"


def test_step_2_says_try_again_when_the_gateway_is_down(
    http_wizard: WizardClient, fake: FakeGateway
) -> None:
    fake.default = Answer(503, b"")
    response = submit_step_2(http_wizard)
    assert response.status_code == 200
    assert "電信業者目前沒有回應" in text_of(response)
    assert len(fake.calls) == 2, "one retry, as configured"
    assert len(set(fake.request_ids())) == 1
