"""Time to a usable step 1 and step 5 on a phone over throttled networks, in Chromium.

    .venv/bin/python bench/throttled.py [--runs 3] [--workers 2] [--database-url URL]

Serves the site with gunicorn (``prepare()`` of bench/common.py: a fresh instance, SQLite, the
simulator with a fixed CAPTCHA) and drives Debian's Chromium through Playwright with a phone's
viewport and user agent. The network is throttled by the DevTools protocol,
``Network.emulateNetworkConditions``, with Chrome DevTools' presets:

| profile | latency added per request | download | upload |
|---|---|---|---|
| Slow 4G (was "Fast 3G") | 150 ms x 3.75 = 562.5 ms | 1.6 Mbit/s x 0.9 | 750 kbit/s x 0.9 |
| 3G ("Slow 3G") | 400 ms x 5 = 2,000 ms | 500 kbit/s x 0.8 | 500 kbit/s x 0.8 |

The values are those of Puppeteer's ``PredefinedNetworkConditions`` ('Slow 4G' is an alias of
'Fast 3G'), which it keeps "generally aligned with DevTools" (DevTools' own
front_end/core/sdk/NetworkManager.ts):
https://unpkg.com/puppeteer-core@24.41.0/src/cdp/PredefinedNetworkConditions.ts and
https://pptr.dev/api/puppeteer.predefinednetworkconditions/ . The multipliers turn a packet
round trip into the per-request delay this kind of throttling can add (request-level, not
packet-level, as in DevTools). The CPU is not throttled.

Measured, for each profile, with a cold cache (a new browser context, or the cache cleared by
``Network.clearBrowserCache``) and a warm one (the same page visited once before):

* step 1 usable: ``page.goto('/login')`` (as when the address is typed) until
  DOMContentLoaded has ended. The scripts are ``defer``, so by then the stylesheet, htmx and
  wizard.js have run; the script checks that ``window.htmx`` is there and the form is shown.
* step 5 usable: a phone that has done steps 1-3 (over HTTP, in the same browser context)
  loads ``/register/verify`` the same way, until DOMContentLoaded with htmx and the
  開始驗證 button.
* step 3 → 5 (warm only, as it happens in a session): on step 3 the phone presses 送出; htmx
  posts and swaps in step 5's partial, which comes back in the POST's own answer
  (wizard/web/follow.py): the time from the click until step 5's heading is on the screen (one
  request, one latency; two before follow.py, when htmx followed the 303 with a GET).

Each figure is the median of ``--runs`` runs, in milliseconds, from the navigation's start
(``performance.getEntriesByType('navigation')``), or from the click for the swap.
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, prepare, wait_up  # noqa: E402
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PHONE: dict[str, Any] = {
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36"
    ),
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-TW",
}

#: Chrome DevTools' presets (see the module docstring): bytes per second, milliseconds.
PROFILES: dict[str, dict[str, float]] = {
    "Slow 4G": {
        "latency": 150 * 3.75,
        "downloadThroughput": 1.6 * 1000 * 1000 / 8 * 0.9,
        "uploadThroughput": 750 * 1000 / 8 * 0.9,
    },
    "3G": {
        "latency": 400 * 5,
        "downloadThroughput": 500 * 1000 / 8 * 0.8,
        "uploadThroughput": 500 * 1000 / 8 * 0.8,
    },
}

CAPTCHA = "BENCH"
PERSON = {
    "carrier": "cht",
    "msisdn": "0912345678",
    "nhi_card": "000012345678",
    "birth_date": "1980/01/01",
    "name": "王小明",
    "captcha": CAPTCHA,
    "password": "a long benchmark passphrase",
    "password_confirm": "a long benchmark passphrase",
    "action": "submit",
}
STEP_5_HEADING = "核對資料並開始驗證"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

#: Milliseconds from the navigation's start to the end of DOMContentLoaded, once htmx is there,
#: and the bytes the page and what it loaded took over the wire (Resource Timing's
#: transferSize: headers and encoded body; 0 for what came from the cache).
_USABLE_AFTER = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  if (!window.htmx || !nav || !nav.domContentLoadedEventEnd) return null;
  const entries = [nav, ...performance.getEntriesByType("resource")];
  return [nav.domContentLoadedEventEnd - nav.startTime,
          entries.reduce((sum, entry) => sum + entry.transferSize, 0)];
}"""


def _serve(env: dict[str, str], tmp: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    """gunicorn as ``make serve`` runs it; the request log (stdout) goes to a file."""
    log = (tmp / "site.log").open("ab")
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--pid", str(tmp / "site.pid"), "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log,
    )  # fmt: skip


def _throttle(page: Any, profile: str | None) -> Any:
    """A DevTools session on ``page`` with the network conditions of ``profile``."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    conditions = PROFILES[profile] if profile else {"latency": 0, "downloadThroughput": -1,
                                                     "uploadThroughput": -1}  # fmt: skip
    cdp.send("Network.emulateNetworkConditions", {"offline": False, **conditions})
    return cdp


#: Bytes over the wire of each measured step-1 load, by cache state (reported with the timings).
TRANSFERRED: dict[str, list[int]] = {"cold": [], "warm": []}


def _usable(page: Any, url: str, ready: str) -> tuple[float, int]:
    response = page.goto(url, wait_until="domcontentloaded", timeout=120_000)
    if response is None or response.header_value("content-encoding") != "gzip":
        raise SystemExit(f"{url}: the page was not sent gzipped (wizard.web.compression)")
    page.locator(ready).first.wait_for(state="visible", timeout=120_000)
    measured = page.evaluate(_USABLE_AFTER)
    if measured is None:
        raise SystemExit(f"{url}: htmx did not load")
    elapsed, transferred = measured
    return float(elapsed), int(transferred)


def _steps_1_to_3(context: Any, base: str) -> None:
    """A phone's steps 1-3 over HTTP with the browser context's cookies (not measured)."""

    def post(path: str, data: dict[str, str]) -> str:
        page = context.request.get(base + path).text()
        token = _CSRF.search(page)
        assert token, f"{path}: no CSRF token"
        response = context.request.post(base + path, form={"csrf_token": token.group(1), **data})
        assert response.ok, (path, response.status)
        return response.url

    post("/login", {"national_id": "A123456789"})
    post("/register/personal", PERSON)
    landed = post("/register/device", {"device": "phone"})
    assert landed.endswith("/register/verify"), landed


def _median(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def step_1(browser: Any, base: str, profile: str, warm: bool) -> float:
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        _throttle(page, profile)
        if warm:
            _usable(page, base + "/login", "#national_id")
        elapsed, transferred = _usable(page, base + "/login", "#national_id")
        TRANSFERRED["warm" if warm else "cold"].append(transferred)
        return elapsed
    finally:
        context.close()


def step_5(browser: Any, base: str, profile: str, warm: bool) -> float:
    context = browser.new_context(**PHONE)
    try:
        _steps_1_to_3(context, base)
        page = context.new_page()
        cdp = _throttle(page, profile)
        cdp.send("Network.clearBrowserCache")
        if warm:
            _usable(page, base + "/register/verify", "text=開始驗證")
        return _usable(page, base + "/register/verify", "text=開始驗證")[0]
    finally:
        context.close()


def swap_3_to_5(browser: Any, base: str, profile: str) -> float:
    """Step 3's 送出 with htmx (warm cache: step 3 was loaded on this phone) until step 5 shows."""
    context = browser.new_context(**PHONE)
    try:
        _steps_1_to_3(context, base)
        page = context.new_page()
        cdp = _throttle(page, None)
        page.goto(base + "/register/device")
        page.wait_for_function("() => window.htmx !== undefined")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, **PROFILES[profile]})
        page.locator("input[name=device][value=phone]").check()
        start = time.perf_counter()
        page.locator("#device-form button[type=submit]").click()
        page.get_by_role("heading", level=1, name=STEP_5_HEADING).wait_for(timeout=120_000)
        return (time.perf_counter() - start) * 1000
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    tmp, env = prepare("bench-throttled-", args.database_url, FLASK_CAPTCHA_FIXED_ANSWER=CAPTCHA)
    port = free_port()
    server = _serve(env, tmp, port, args.workers)
    rows: list[tuple[str, str, float, float, float | None]] = []
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(base + "/healthz")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for profile in PROFILES:
                    for warm in (False, True):
                        first = _median(args.runs, partial(step_1, browser, base, profile, warm))
                        fifth = _median(args.runs, partial(step_5, browser, base, profile, warm))
                        swap = (
                            _median(args.runs, partial(swap_3_to_5, browser, base, profile))
                            if warm
                            else None
                        )
                        rows.append((profile, "warm" if warm else "cold", first, fifth, swap))
            finally:
                browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    print(
        f"| network (Chromium, phone, median of {args.runs}) | cache | step 1 usable "
        "| step 5 usable | step 3 → 5 (htmx swap) |"
    )
    print("|---|---|---|---|---|")
    for profile, cache, first, fifth, swap in rows:
        swapped = f"{swap:,.0f} ms" if swap is not None else "—"
        print(f"| {profile} | {cache} | {first:,.0f} ms | {fifth:,.0f} ms | {swapped} |")
    print(
        "\nStep 1 with what it loads, over the wire (Chromium's transferSize, the largest "
        f"seen): cold cache {max(TRANSFERRED['cold']):,} bytes, "
        f"warm cache {max(TRANSFERRED['warm']):,} bytes."
    )


if __name__ == "__main__":
    main()
