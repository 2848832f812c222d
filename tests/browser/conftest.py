"""Browser fixtures: Debian's Chromium driven by Playwright, the app served on a loopback port.

One Chromium per test session; per test, a fresh app (fresh database, SQLite or PostgreSQL as
for the other tests) served by werkzeug in a daemon thread, and browser contexts for the kinds
of device people use: a desktop, an Android phone, an iPad, and a browser with JavaScript off.

A test fails when any of its pages logs a console error, throws an uncaught exception, or
reports a Content-Security-Policy violation, and when the app raised an exception while
serving it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, got_request_exception
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import make_test_app
from tests.helpers import FIXED_CAPTCHA
from wizard.clock import FrozenClock

#: How long a locator, a navigation or expect() waits. Everything is local, but the machine
#: may be busy (2 CPUs shared with other work): generous, it costs nothing when things pass.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)

DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
TABLET_UA = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)

#: Context options per kind of device. The iPad is not `is_mobile`: Chromium would then send
#: `Sec-CH-UA-Mobile: ?1`, which Safari on an iPad never does.
DEVICES: dict[str, dict[str, Any]] = {
    "desktop": {"user_agent": DESKTOP_UA, "viewport": {"width": 1280, "height": 900}},
    "phone": {
        "user_agent": PHONE_UA,
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 3,
        "is_mobile": True,
        "has_touch": True,
    },
    "tablet": {
        "user_agent": TABLET_UA,
        "viewport": {"width": 820, "height": 1180},
        "device_scale_factor": 2,
        "has_touch": True,
    },
}

#: Reports every CSP violation on the console, where the listener below sees it. (Chromium
#: logs violations itself too; this also catches ones it reports only as events.)
_CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""

PROBLEMS = pytest.StashKey[list[str]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives Chromium: mark it (the modules say so as well)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail the test itself (not its teardown) when a page or the server reported a problem."""
    result = yield
    problems = item.stash.get(PROBLEMS, [])
    if problems:
        pytest.fail("the pages or the server reported problems:\n" + "\n".join(problems))
    return result


@pytest.fixture
def problems(request: pytest.FixtureRequest) -> list[str]:
    """Console errors, page errors, CSP violations and server exceptions of this test."""
    found: list[str] = []
    request.node.stash[PROBLEMS] = found
    return found


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


class _InFlight:
    """Requests the live server is still answering (its handler threads are daemons: shutdown()
    does not wait for them)."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def wait_idle(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count == 0, timeout=timeout)


class _Handler(WSGIRequestHandler):
    """Counts requests in flight; no access log lines (they would bury a failure's output)."""

    in_flight: _InFlight

    def run_wsgi(self) -> None:
        with self.in_flight.changed:
            self.in_flight.count += 1
        try:
            super().run_wsgi()
        finally:
            with self.in_flight.changed:
                self.in_flight.count -= 1
                self.in_flight.changed.notify_all()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture
def live_clock(request: pytest.FixtureRequest) -> FrozenClock | None:
    """The live app's clock: None (the system clock), or, for a test parametrized with
    ``@pytest.mark.parametrize("live_clock", ["frozen"], indirect=True)``, the ``clock`` fixture
    of tests/conftest.py (a FrozenClock), which the test takes as ``live_clock`` and advances."""
    if getattr(request, "param", None) == "frozen":
        return request.getfixturevalue("clock")
    return None


@pytest.fixture
def live_app(
    tmp_path: Path,
    app_config: dict[str, object],
    problems: list[str],
    live_clock: FrozenClock | None,
) -> Iterator[Flask]:
    """The app on a fresh database, with the real clock (or ``live_clock``), fixed CAPTCHA and
    no rate limits."""
    config: dict[str, object] = {
        "CAPTCHA_FIXED_ANSWER": FIXED_CAPTCHA,
        "RATELIMIT_ENABLED": False,
        **app_config,
    }
    app = make_test_app(tmp_path, live_clock, **config)

    def record(sender: Flask, exception: BaseException, **_extra: object) -> None:
        problems.append(f"server: {type(exception).__name__}: {exception}")

    got_request_exception.connect(record, app)
    yield app
    got_request_exception.disconnect(record, app)
    app.extensions["db_engine"].dispose()


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[str]:
    """The app served on 127.0.0.1 (a free port) in a daemon thread. Yields its base URL."""
    in_flight = _InFlight()
    handler = type("Handler", (_Handler,), {"in_flight": in_flight})
    server = make_server("127.0.0.1", 0, live_app, threaded=True, request_handler=handler)
    # A short poll interval: shutdown() waits for the serving loop's next look (0.5 s default).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    # A request still running (a poll sent as the browser closed) must not touch the database
    # while the next test resets it.
    assert in_flight.wait_idle(timeout=10), "the live server is still answering requests"


def _watch(page: Page, problems: list[str]) -> None:
    def on_console(message: Any) -> None:
        if message.type == "error":
            source = message.location.get("url") or page.url
            problems.append(f"console error on {page.url} ({source}): {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error on {page.url}: {error}"))


@pytest.fixture
def new_context(
    browser: Browser, live_server: str, problems: list[str]
) -> Iterator[Callable[..., BrowserContext]]:
    """Factory: ``new_context("phone", js=False)`` gives a context whose pages are watched."""
    opened: list[BrowserContext] = []

    def make(kind: str = "desktop", js: bool = True) -> BrowserContext:
        context = browser.new_context(
            base_url=live_server,
            locale="zh-TW",
            timezone_id="Asia/Taipei",
            java_script_enabled=js,
            **DEVICES[kind],
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        context.add_init_script(_CSP_REPORTER)
        context.on("page", lambda page: _watch(page, problems))
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


@pytest.fixture
def desktop_context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    return new_context("desktop")


@pytest.fixture
def phone_context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    return new_context("phone")


@pytest.fixture
def tablet_context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    return new_context("tablet")


@pytest.fixture
def nojs_context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    """A desktop browser with JavaScript turned off: every step must still work."""
    return new_context("desktop", js=False)


@pytest.fixture
def page(desktop_context: BrowserContext) -> Page:
    """A desktop tab with JavaScript on."""
    return desktop_context.new_page()
