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
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_up(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def gunicorn(
    app: str, port: int, workers: int, env: dict[str, str], cwd: Path, pidfile: Path
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--pid",
            str(pidfile),
            "--log-level",
            "warning",
            app,
        ],
        cwd=cwd,
        env=env,
    )


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


def wrk(
    url: str, seconds: int, headers: list[str], connections: int = 32, script: Path | None = None
) -> tuple[float, str]:
    """Requests per second and the median latency; any error response stops the benchmark."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        args += ["-H", header]
    if script is not None:
        args += ["-s", str(script)]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} error responses")
    return rate, p50


def prepare(prefix: str, database_url: str | None, **extra: str) -> tuple[Path, dict[str, str]]:
    """A fresh instance folder and database (SQLite there unless ``database_url``), made with
    ``init-db``, and the environment the servers run with."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = dict(
        os.environ,
        WIZARD_INSTANCE_PATH=str(tmp),
        FLASK_SECRET_KEY="bench",
        FLASK_RATELIMIT_ENABLED="false",
        FLASK_DATABASE_URL=database_url or f"sqlite:///{tmp}/bench.sqlite3",
        **extra,
    )
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "init-db"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return tmp, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    tmp, env = prepare("bench-", args.database_url, FLASK_CAPTCHA_FIXED_ANSWER="BENCH")
    site_port, bare_port = free_port(), free_port()
    servers = [
        gunicorn("wsgi:app", site_port, args.workers, env, ROOT, tmp / "site.pid"),
        gunicorn("bare_app:app", bare_port, args.workers, env, ROOT / "bench", tmp / "bare.pid"),
    ]
    try:
        site, bare = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{bare_port}"
        wait_up(site + "/login")
        wait_up(bare + "/plain")
        cookie = drive_to_step_4(site)
        poll_headers = [f"Cookie: {cookie}", "HX-Request: true"]
        rows = [
            ("bare Flask: plain response", *wrk(bare + "/plain", args.seconds, [])),
            ("bare Flask: small template", *wrk(bare + "/template", args.seconds, [])),
            (
                "step 4 poll (204, unchanged)",
                *wrk(site + "/register/qr/status?seen=waiting:", args.seconds, poll_headers),
            ),
            (
                "step 4 poll (200, status fragment)",
                *wrk(site + "/register/qr/status", args.seconds, poll_headers),
            ),
        ]
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=10)
    ceiling = rows[0][1]
    print(
        f"| request ({args.workers} gunicorn workers, wrk -t2 -c32 -d{args.seconds}s) "
        "| req/s | p50 | ratio to bare plain |"
    )
    print("|---|---|---|---|")
    for name, rate, p50 in rows:
        print(f"| {name} | {rate:,.0f} | {p50} | {rate / ceiling:.2f} |")


if __name__ == "__main__":
    main()
