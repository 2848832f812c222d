"""Rate limits, per address and per person (wizard/web/limits.py), with the real Flask-Limiter and
its storage (memory here, Redis at the end): each limited action refuses the request after its
count, per address and per national ID (the ID's attempts coming from many addresses); the 429
says when to try again (HH:MM, Taipei) and sends Retry-After; HTMX gets the message in the main
region; step 2 keeps what was typed; the login lockout's own message comes before the limit.

Addresses are documentation ones (192.0.2.0/24, RFC 5737) put in the WSGI environ: no traffic
goes anywhere.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import (
    ELIGIBLE,
    HX_REQUEST,
    Desktop,
    WizardClient,
    csrf_token,
    demo_personal,
    value_of,
)
from tests.web.support import post_with, text_of, token_of, typed
from tests.web.test_account import form_error, login, logout, register_and_bind
from tests.web.test_production import redis_client, redis_url  # noqa: F401 (fixtures)
from wizard.clock import FrozenClock
from wizard.registration.views.verify import POLL_SECONDS
from wizard.web import limits
from wizard.web.messages import message

TAIPEI = dt.timezone(dt.timedelta(hours=8))
#: The other eligible demo people (王小明 is ELIGIBLE).
OTHERS = ("F223456713", "B120987653")
_TIME = re.compile(
    r"(?:請於|try again at) (?:[^<:]*? )?(\d\d):(\d\d)(?:（臺灣時間）| \(Taiwan time\))"
)


@pytest.fixture
def app_config(request: pytest.FixtureRequest) -> dict[str, object]:
    """Rate limits on in this module (most other tests switch them off)."""
    return {"RATELIMIT_ENABLED": True, **getattr(request, "param", {})}


def address(n: int) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": f"192.0.2.{n}"}}


def amount(name: str) -> int:
    """The smallest count of ``LIMITS[name]`` (the one a burst meets first)."""
    return min(item.amount for item in limits._items(limits.LIMITS[name]))


def retry_after(response: TestResponse) -> int:
    """Retry-After: the seconds left of the window, rounded up. The limiter's storage keeps a
    window's end in whole seconds, so a window just opened may say one second more than its
    length (never less than what is left: a person who waits that long is let in)."""
    assert response.status_code == 429, (response.status_code, text_of(response)[:500])
    return int(response.headers["Retry-After"])


def shown_time(response: TestResponse) -> str:
    match = _TIME.search(unescape(text_of(response)))
    assert match, text_of(response)[:2000]
    return f"{match.group(1)}:{match.group(2)}"


def assert_says_when(response: TestResponse, clock: FrozenClock) -> None:
    """The page's HH:MM is the app's now plus the window's remaining seconds (Retry-After),
    rounded up to the minute: within a minute of it, and not before it (a second's slack for
    the request's own duration)."""
    wait = retry_after(response)
    assert wait >= 1
    expected = (clock.now() + dt.timedelta(seconds=wait)).astimezone(TAIPEI)
    hours, minutes = map(int, shown_time(response).split(":"))
    shown = expected.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    if shown < expected - dt.timedelta(hours=12):
        shown += dt.timedelta(days=1)
    slack = dt.timedelta(seconds=1)
    assert -slack <= shown - expected <= dt.timedelta(minutes=1) + slack, (shown, expected)


# --- step 1 ---------------------------------------------------------------------------------


def test_step1_per_address(client: FlaskClient, clock: FrozenClock) -> None:
    token = token_of(client, "/login")
    count = amount("identify.ip")
    # Invalid IDs: only the address is counted (the per-ID count needs a valid ID).
    for _ in range(count):
        assert post_with(client, "/login", token, {"national_id": "A12"}).status_code == 200
    refused = post_with(client, "/login", token, {"national_id": "A123456789"})
    assert_says_when(refused, clock)
    assert 50 <= retry_after(refused) <= 61  # the minute window opened a moment ago (+1: below)
    # From another address the same browser gets on.
    again = post_with(client, "/login", token, {"national_id": "A12"}, **address(9))
    assert again.status_code == 200


def identify_from(app: Flask, n: int, national_id: str = "A123456789") -> TestResponse:
    """Step 1 from a browser of its own at address 192.0.2.n."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n}"
    return post_with(client, "/login", token_of(client, "/login"), {"national_id": national_id})


def test_step1_per_national_id_from_many_addresses(app: Flask, clock: FrozenClock) -> None:
    for n in range(amount("identify.id")):
        assert identify_from(app, n).status_code == 303
    refused = identify_from(app, 77)
    assert_says_when(refused, clock)
    assert 3500 <= retry_after(refused) <= 3601  # the hour window
    assert "嘗試次數過多" in text_of(refused)
    # Another ID from the same address is not affected.
    assert identify_from(app, 77, OTHERS[0]).status_code == 303


# --- step 2 ---------------------------------------------------------------------------------


def test_step2_per_address_keeps_what_was_typed(wizard: WizardClient, clock: FrozenClock) -> None:
    wizard.identify()
    token = token_of(wizard.client, "/register/personal")
    # The language switch posts the form: counted per address like any step-2 POST.
    for _ in range(amount("personal.ip")):
        response = post_with(wizard.client, "/register/personal", token, {"action": "language"})
        assert response.status_code == 200
    form = typed(name="王小明", nhi_card="000012345678", msisdn="0912-345678")
    refused = post_with(wizard.client, "/register/personal", token, form)
    assert_says_when(refused, clock)
    # The step-2 form, as typed, with the refusal above it (not a page that loses the form).
    assert value_of(refused, "name") == "王小明"
    assert value_of(refused, "nhi_card") == "000012345678"
    assert value_of(refused, "msisdn") == "0912-345678"
    assert 'id="form-error"' in text_of(refused)
    assert "<title>錯誤：" in text_of(refused)


def test_step2_per_national_id_across_browsers_and_addresses(
    app: Flask, clock: FrozenClock
) -> None:
    """Two browsers (two registrations) of one ID, each submission from another address."""
    browsers = [WizardClient(app.test_client(), app) for _ in range(2)]
    tokens = []
    for n, browser in enumerate(browsers):
        browser.client.environ_base["REMOTE_ADDR"] = f"192.0.2.{200 + n}"
        assert browser.identify().status_code == 303
        tokens.append(token_of(browser.client, "/register/personal"))
    wrong = typed(captcha="WRONG")  # refused at the CAPTCHA: never reaches the carrier
    for n in range(amount("personal.id")):
        browser, token = browsers[n % 2], tokens[n % 2]
        response = post_with(browser.client, "/register/personal", token, wrong, **address(n))
        assert response.status_code == 200
        assert message("captcha.wrong") in text_of(response)
    refused = post_with(browsers[0].client, "/register/personal", tokens[0], typed(), **address(99))
    assert_says_when(refused, clock)
    assert value_of(refused, "name") == ELIGIBLE["name"]  # still the form, as typed
    # The same data for another person goes through.
    other = WizardClient(app.test_client(), app)
    other.client.environ_base["REMOTE_ADDR"] = "192.0.2.150"
    assert other.identify(OTHERS[0]).status_code == 303
    assert other.personal(**demo_personal(OTHERS[0])).status_code == 303


def test_step2_htmx_refusal_is_the_form_in_main(wizard: WizardClient, clock: FrozenClock) -> None:
    wizard.identify()
    token = token_of(wizard.client, "/register/personal")
    for _ in range(amount("personal.ip")):
        post_with(wizard.client, "/register/personal", token, {"action": "language"})
    refused = post_with(
        wizard.client, "/register/personal", token, typed(name="林小華"), headers=HX_REQUEST
    )
    assert_says_when(refused, clock)
    html = text_of(refused)
    assert "<html" not in html and value_of(refused, "name") == "林小華"
    assert "HX-Retarget" not in refused.headers  # the form's own target, the main region
    assert refused.headers["HX-Push-Url"] == "false"


def test_prechecks_per_national_id_are_limited(wizard: WizardClient) -> None:
    """The carrier precheck's own limit is shown beside the form, before step 2's 429."""
    wizard.identify()
    for _ in range(amount("precheck.id")):
        response = wizard.personal(nhi_card="999999999999")  # wrong card: a mismatch
        assert message("precheck.mismatch") in response.get_data(as_text=True)
    blocked = wizard.personal()  # even the right data is not sent to the carrier now
    assert blocked.status_code == 200
    assert message("precheck.too_many") in blocked.get_data(as_text=True)


# --- CAPTCHA refreshes -----------------------------------------------------------------------


def _captcha_refresh(browser: WizardClient, token: str, **kwargs: Any) -> TestResponse:
    return post_with(
        browser.client, "/register/captcha", token, {"kind": "image"}, headers=HX_REQUEST, **kwargs
    )


def test_captcha_refresh_per_address(app: Flask, clock: FrozenClock) -> None:
    """Three people (three IDs) behind one address: the address's count runs out first."""
    people = [ELIGIBLE["national_id"], *OTHERS]
    browsers = [WizardClient(app.test_client(), app) for _ in people]
    tokens = []
    for browser, national_id in zip(browsers, people, strict=True):
        assert browser.identify(national_id).status_code == 303
        tokens.append(token_of(browser.client, "/register/personal"))
    for n in range(amount("captcha.ip")):
        assert _captcha_refresh(browsers[n % 3], tokens[n % 3]).status_code == 200
    refused = _captcha_refresh(browsers[0], tokens[0])
    assert_says_when(refused, clock)
    # With JavaScript only the CAPTCHA block is replaced: the form around it, as typed, stays.
    html = text_of(refused)
    assert 'id="captcha-block"' in html
    assert 'id="captcha-refused"' in html and 'name="name"' not in html
    assert "HX-Retarget" not in refused.headers


def test_captcha_refresh_per_national_id(wizard: WizardClient, clock: FrozenClock) -> None:
    wizard.identify()
    token = token_of(wizard.client, "/register/personal")
    for n in range(amount("captcha.id")):
        assert _captcha_refresh(wizard, token, **address(n)).status_code == 200
    refused = _captcha_refresh(wizard, token, **address(100))
    assert_says_when(refused, clock)
    # Without JavaScript the same button posts the whole form: counted for the same ID, and
    # the refusal comes back in the form with what was typed.
    refused = post_with(
        wizard.client,
        "/register/personal",
        token,
        typed(name="林小華", action="new_captcha"),
        **address(101),
    )
    assert_says_when(refused, clock)
    assert value_of(refused, "name") == "林小華"


# --- step 4: QR regeneration and polling ------------------------------------------------------


def _at_step4(app: Flask, national_id: str, remote: str) -> Desktop:
    from tests.helpers import DESKTOP_UA

    browser = WizardClient(app.test_client(), app)
    browser.client.environ_base.update(REMOTE_ADDR=remote, HTTP_USER_AGENT=DESKTOP_UA)
    overrides = demo_personal(national_id) if national_id != ELIGIBLE["national_id"] else {}
    browser.complete_steps_before("qr", national_id, **overrides)
    desktop = Desktop(browser)
    assert desktop.qr_page().status_code == 200  # a QR code is issued: the page polls it
    return desktop


def test_qr_regeneration_per_address(app: Flask, clock: FrozenClock) -> None:
    desktops = [_at_step4(app, nid, "192.0.2.1") for nid in (ELIGIBLE["national_id"], *OTHERS)]
    for n in range(amount("qr.ip")):
        assert desktops[n % 3].regenerate().status_code == 303
    refused = desktops[0].regenerate()
    assert_says_when(refused, clock)
    assert 'href="/register/qr"' in text_of(refused)  # back to the QR page


def test_qr_regeneration_per_national_id(app: Flask, clock: FrozenClock) -> None:
    desktop = _at_step4(app, ELIGIBLE["national_id"], "192.0.2.1")
    desktop.csrf()
    for n in range(amount("qr.id")):
        desktop.client.environ_base["REMOTE_ADDR"] = f"192.0.2.{10 + n}"
        assert desktop.regenerate().status_code == 303
    desktop.client.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    refused = desktop.regenerate()
    assert_says_when(refused, clock)
    assert 3500 <= retry_after(refused) <= 3601


def test_polling_per_registration(app: Flask, clock: FrozenClock) -> None:
    desktop = _at_step4(app, ELIGIBLE["national_id"], "192.0.2.1")
    for n in range(amount("poll.registration")):
        desktop.client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n % 250}"
        assert desktop.poll().status_code in (200, 204)
    refused = desktop.poll()
    assert_says_when(refused, clock)
    # HTMX: the message replaces the main region (not the little status box that asked), and
    # the poll's URL does not become the address bar's.
    assert refused.headers["HX-Retarget"] == "#main"
    assert refused.headers["HX-Reswap"] == "innerHTML"
    assert refused.headers["HX-Push-Url"] == "false"
    html = text_of(refused)
    assert "<html" not in html and "<h1>嘗試次數過多</h1>" in html
    assert 'href="/register/qr"' in html
    # Without HTMX the same words on a whole page.
    page = desktop.poll(htmx=False)
    assert page.status_code == 429 and "<html" in text_of(page)


def test_polling_per_address(
    app: Flask, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real figure (LIMITS["poll.ip"]) is thousands a minute; the mechanism is tested with
    a small one (the table is read at each request)."""
    monkeypatch.setitem(limits.LIMITS, "poll.ip", "6 per minute")
    desktops = [_at_step4(app, nid, "192.0.2.1") for nid in (ELIGIBLE["national_id"], OTHERS[0])]
    for n in range(6):
        assert desktops[n % 2].poll().status_code in (200, 204)
    assert_says_when(desktops[1].poll(), clock)


def test_polling_limits_fit_an_office_of_waiting_desktops() -> None:
    """Each waiting page polls every POLL_SECONDS: 30 a minute. One registration may have two
    tabs; one address (an office NAT) at least 100 desktops waiting at once."""
    per_desktop = 60 // POLL_SECONDS
    assert amount("poll.registration") >= 2 * per_desktop
    assert amount("poll.ip") >= 100 * per_desktop


# --- step 7: the four-field login ---------------------------------------------------------------


def test_login_per_address(wizard: WizardClient, clock: FrozenClock) -> None:
    register_and_bind(wizard)
    logout(wizard.client)
    for n in range(amount("login.ip")):
        response = login(wizard.client, password=f"wrong {n} xxxxx")
        assert response.status_code == 200  # wrong, then locked: the page, never a 429
    refused = login(wizard.client)
    assert_says_when(refused, clock)


def test_login_per_national_id_from_many_addresses(
    wizard: WizardClient, clock: FrozenClock
) -> None:
    """Password checks per ID: four failures and a success (no lock), twice, is ten."""
    register_and_bind(wizard)
    logout(wizard.client)
    n = 0
    for _ in range(amount("login.id") // 5):
        for _ in range(4):
            wizard.client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n}"
            assert "再錯" in form_error(login(wizard.client, password=f"wrong {n} xxxxx"))
            n += 1
        wizard.client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n}"
        assert login(wizard.client).status_code == 303
        n += 1
        logout(wizard.client)
    wizard.client.environ_base["REMOTE_ADDR"] = "192.0.2.250"
    refused = login(wizard.client)
    assert_says_when(refused, clock)
    assert 800 <= retry_after(refused) <= 901  # the 15-minute window of the lock


def test_the_login_lockout_shows_before_the_limit(wizard: WizardClient, clock: FrozenClock) -> None:
    """Five failures lock with their own message (when, and what to do); pressing on, from any
    address, keeps showing it: attempts while locked are not counted by the per-ID limit."""
    register_and_bind(wizard)
    logout(wizard.client)
    for n in range(5):
        wizard.client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n}"
        response = login(wizard.client, password=f"wrong {n} xxxxx")
    assert "已暫停至 17:15" in form_error(response)
    for n in range(2 * amount("login.id")):
        wizard.client.environ_base["REMOTE_ADDR"] = f"192.0.2.{10 + n}"
        response = login(wizard.client)
        assert response.status_code == 200
        assert "已暫停至 17:15" in form_error(response)


# --- the page itself ----------------------------------------------------------------------------


def test_the_page_in_english(client: FlaskClient, clock: FrozenClock) -> None:
    client.get("/login?lang=en")
    token = token_of(client, "/login")
    for _ in range(amount("identify.ip")):
        post_with(client, "/login", token, {"national_id": "A12"})
    refused = post_with(client, "/login", token, {"national_id": "A12"})
    assert_says_when(refused, clock)
    html = unescape(text_of(refused))
    assert "Too many attempts" in html
    assert re.search(r"Please try again at \d\d:\d\d \(Taiwan time\)", html)
    assert "嘗試次數過多" not in html


def test_the_time_follows_the_apps_clock(client: FlaskClient, clock: FrozenClock) -> None:
    """The windows run on real time; the page adds what is left of one to the app's clock
    (the one the lockout's 已暫停至 uses), wherever that clock stands."""
    clock.current = dt.datetime(2026, 12, 1, 15, 30, 20, tzinfo=dt.UTC)  # 23:30:20 in Taipei
    for n in range(amount("identify.id")):
        identify_from(client.application, n)
    refused = identify_from(client.application, 99)
    assert_says_when(refused, clock)
    assert "2026/12/02 00:3" in unescape(text_of(refused))  # past midnight: the date too


# --- switched off, and shared ---------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": False}], indirect=True)
def test_limits_are_off_when_disabled(wizard: WizardClient, app: Flask) -> None:
    token = token_of(wizard.client, "/login")
    for _ in range(amount("identify.ip") + 1):
        assert post_with(wizard.client, "/login", token, {"national_id": "A12"}).status_code == 200
    for n in range(amount("identify.id") + 1):
        assert identify_from(app, n).status_code == 303
    assert wizard.identify().status_code == 303
    for _ in range(amount("precheck.id") + 1):
        wizard.personal(nhi_card="999999999999")
    assert wizard.personal().headers["Location"] == "/register/device"
    assert wizard.device("desktop").headers["Location"] == "/register/qr"
    desktop = Desktop(wizard)
    for _ in range(amount("poll.registration") + 1):
        assert desktop.poll().status_code in (200, 204)
    for _ in range(amount("qr.id") + 1):
        assert desktop.regenerate().status_code == 303


@pytest.fixture
def shared_workers(tmp_path: Any, redis_url: str, redis_client: Any) -> Iterator[list[Flask]]:  # noqa: F811
    from tests.conftest import make_test_app

    apps = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        apps.append(
            make_test_app(
                folder, FrozenClock(), RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=redis_url
            )
        )
    yield apps
    for app in apps:
        app.extensions["db_engine"].dispose()


def test_per_id_counts_are_shared_by_workers_through_redis(
    shared_workers: list[Flask],
    redis_client: Any,  # noqa: F811
) -> None:
    """Half the attempts at one worker, half at another (another app, its own Redis
    connection): the ID's count is one. No ID is stored in Redis, only hashes."""
    worker_a, worker_b = shared_workers
    started = time.monotonic()
    for n in range(amount("identify.id")):
        client = (worker_a if n % 2 else worker_b).test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n}"
        token = csrf_token(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"csrf_token": token, "national_id": "A123456789"})
        assert response.status_code == 303
    client = worker_a.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    token = csrf_token(client.get("/login").get_data(as_text=True))
    refused = client.post("/login", data={"csrf_token": token, "national_id": "A123456789"})
    assert refused.status_code == 429
    keys = b" ".join(redis_client.keys("*"))
    assert b"identify.id" in keys and b"A123456789" not in keys
    assert time.monotonic() - started < 30


def test_the_counter_keys_give_no_id_back(app: Flask) -> None:
    """A plain SHA-256 of a national ID is reversed by hashing every valid ID; the key is an
    HMAC with the app's secret, so the limiter's storage (Redis in production) holds nothing
    that leads back to the person without the secret."""
    import hashlib

    from wizard.web.limits import _key

    national_id = ELIGIBLE["national_id"]
    with app.test_request_context():
        key = _key("login.id", national_id)
        assert key == _key("login.id", national_id)  # the same counter every time
        assert key != hashlib.sha256(f"login.id:{national_id}".encode()).hexdigest()
        app.config["SECRET_KEY"] = "another-secret"
        assert _key("login.id", national_id) != key


# --- the institutions' area -------------------------------------------------------------------


def test_document_verification_per_address(client: FlaskClient, clock: FrozenClock) -> None:
    """文件驗證: the scanned GET and the posted form share the address's count; opening the
    blank page does not count; the 429 page says when to come back."""
    count = amount("document_verify.ip")
    for n in range(count):
        scanned = client.get(f"/documents/verify?n=BLI-2026-{n:06d}&c=AAAAA-AAAAA")
        assert scanned.status_code == 200 and "查無符合的文件" in text_of(scanned)
    assert client.get("/documents/verify").status_code == 200
    refused = client.get("/documents/verify?n=BLI-2026-000001&c=AAAAA-AAAAA")
    assert_says_when(refused, clock)
    other = client.get("/documents/verify?n=BLI-2026-000001&c=AAAAA-AAAAA", **address(7))
    assert other.status_code == 200


def test_staff_login_per_username_from_many_addresses(
    app: Flask, client: FlaskClient, clock: FrozenClock
) -> None:
    from wizard.ops.seed import seed_institutions

    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        seed_institutions(database, app.config["SECRET_KEY"], app.extensions["hasher"])
        database.commit()
    token = token_of(client, "/institution/login")
    count = amount("staff_login.id")
    wrong = {"username": "trainer", "password": "wrong", "otp": "123456"}
    for n in range(count):
        response = post_with(client, "/institution/login", token, wrong, **address(n + 10))
        assert response.status_code == 200
    refused = post_with(client, "/institution/login", token, wrong, **address(99))
    assert_says_when(refused, clock)
