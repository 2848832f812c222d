"""Step 4's polling request against a bare Flask response, side by side under one gunicorn setup.

    .venv/bin/python bench/poll.py [--seconds 10] [--workers 2] [--database-url URL]

Starts gunicorn twice (the site, and bench/bare_app.py), drives one registration to step 4 over
HTTP like a browser would (fixed CAPTCHA, simulator), then runs wrk against the polling URL
(answered 204 while nothing changes, the common case) and against the bare responses. Prints
requests per second and the ratio to the bare app. Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import re
import shutil
import signal
import sys
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cluster  # noqa: E402
from bench.common import ROOT, free_port, gunicorn, prepare, wait_up, wrk  # noqa: E402


def drive_to_step_4(base: str) -> str:
    """A person's steps 1-3 on a desktop; returns the Cookie header of that browser."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post(path: str, data: dict[str, str]) -> str:
        page = opener.open(base + path).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"csrf_token": token, **data}).encode()
        return opener.open(base + path, body).geturl()

    post("/login", {"national_id": "A123456789"})
    post(
        "/register/personal",
        {
            "carrier": "cht",
            "msisdn": "0912345678",
            "nhi_card": "000012345678",
            "birth_date": "1980/01/01",
            "name": "王小明",
            "captcha": "BENCH",
            "password": "a long benchmark passphrase",
            "password_confirm": "a long benchmark passphrase",
            "action": "submit",
        },
    )
    landed = post("/register/device", {"device": "desktop"})
    assert landed.endswith("/register/qr"), landed
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="else a throw-away PostgreSQL")
    args = parser.parse_args()
    with ExitStack() as stack:
        url = args.database_url or stack.enter_context(cluster.postgres()).url
        rows = _measure(url, args.seconds, args.workers)
    ceiling = rows[0][1]
    print(
        f"| request ({args.workers} gunicorn workers, wrk -t2 -c32 -d{args.seconds}s) "
        "| req/s | p50 | ratio to bare plain |"
    )
    print("|---|---|---|---|")
    for name, rate, p50 in rows:
        print(f"| {name} | {rate:,.0f} | {p50} | {rate / ceiling:.2f} |")


def _measure(url: str, seconds: int, workers: int) -> list[tuple[str, float, str]]:
    tmp, env = prepare("bench-", url, FLASK_CAPTCHA_FIXED_ANSWER="BENCH")
    site_port, bare_port = free_port(), free_port()
    servers = [
        gunicorn("wsgi:app", site_port, workers, env, ROOT, tmp / "site.pid"),
        gunicorn("bare_app:app", bare_port, workers, env, ROOT / "bench", tmp / "bare.pid"),
    ]
    try:
        site, bare = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{bare_port}"
        wait_up(site + "/login")
        wait_up(bare + "/plain")
        cookie = drive_to_step_4(site)
        poll_headers = [f"Cookie: {cookie}", "HX-Request: true"]
        rows = [
            ("bare Flask: plain response", *wrk(bare + "/plain", seconds, [])),
            ("bare Flask: small template", *wrk(bare + "/template", seconds, [])),
            (
                "step 4 poll (204, unchanged)",
                *wrk(site + "/register/qr/status?seen=waiting:", seconds, poll_headers),
            ),
            (
                "step 4 poll (200, status fragment)",
                *wrk(site + "/register/qr/status", seconds, poll_headers),
            ),
        ]
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


if __name__ == "__main__":
    main()
