"""Four-field login throughput against the cost of the password hash alone (the ceiling).

    .venv/bin/python bench/login.py [--seconds 10] [--workers 2]

1. The ceiling: ``workers`` processes each verifying argon2id hashes with the site's
   production parameters for ``seconds``: verifications per second in total.
2. The site under gunicorn (``workers`` workers): an account with a bound browser (cookie
   binding), then wrk POSTing the right four fields to /login/device with that browser's
   cookies. Each request verifies the password once, as a person's login does.
Prints both and their ratio. Needs wrk.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cluster  # noqa: E402
from bench.common import ROOT, free_port, gunicorn, prepare, wait_up, wrk  # noqa: E402

PASSWORD = "a long benchmark passphrase"


def _verify_for(seconds: float, stored: str, queue: multiprocessing.Queue) -> None:
    from wizard.rules.passwords import Hasher

    hasher, count, end = Hasher(), 0, time.perf_counter() + seconds
    cpu = time.process_time()
    while time.perf_counter() < end:
        hasher.verify(stored, PASSWORD)
        count += 1
    queue.put((count, time.process_time() - cpu))


def hash_ceiling(seconds: float, workers: int) -> tuple[float, float]:
    """argon2id verifications per second in ``workers`` processes, and CPU ms per one."""
    from wizard.rules.passwords import Hasher

    stored = Hasher().hash(PASSWORD)
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_verify_for, args=(seconds, stored, queue))
        for _ in range(workers)
    ]
    for proc in procs:
        proc.start()
    counts, cpus = zip(*(queue.get() for _ in procs), strict=True)
    for proc in procs:
        proc.join()
    return sum(counts) / seconds, sum(cpus) * 1000 / sum(counts)


def make_bound_account(env: dict[str, str]) -> str:
    """An account for demo person A123456789 and a cookie binding; returns the cookie value."""
    script = f"""
import datetime as dt
from wizard import create_app
from wizard.accounts import devices
from wizard.database.models import Account
app = create_app()
with app.app_context():
    db = app.extensions["db_sessionmaker"]()
    now = dt.datetime.now(dt.UTC)
    account = Account(national_id="A123456789", name="王小明", birth_date=dt.date(1980, 1, 1),
                      password_hash=app.extensions["hasher"].hash({PASSWORD!r}),
                      msisdn="0912345678", created_at=now, updated_at=now,
                      notice_read_at=now, failed_logins=0, lock_count=0)
    db.add(account); db.flush()
    binding, cookie = devices.bind(db, account, "bench", now, None)
    db.commit()
    print(cookie)
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.strip().splitlines()[-1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _check_one_login(base: str, body: str, cookies: str) -> None:
    """The request wrk repeats must be a successful login (303 to the portal), not a page
    of errors that would also count as 200."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(
        base + "/login/device", data=body.encode(), headers={"Cookie": cookies}
    )
    try:
        opener.open(request)
    except urllib.error.HTTPError as exc:
        if exc.code == 303 and exc.headers["Location"].endswith("/portal"):
            return
        raise SystemExit(
            f"login did not succeed: {exc.code} {exc.headers.get('Location')}"
        ) from exc
    raise SystemExit("login did not succeed: 200 (the form came back with errors)")


def login_benchmark(
    base: str,
    device_cookie: str,
    tmp: Path,
    seconds: int,
    cpu_of: Callable[[], float] = lambda: 0.0,
) -> tuple[tuple[float, str, float], tuple[float, str, float]]:
    """The bound browser's login page (GET /login, four fields) and the four-field login POST
    repeated by wrk: for each (req/s, p50, server CPU ms per request, from ``cpu_of()``, the
    server's CPU seconds so far)."""
    request = urllib.request.Request(
        base + "/login", headers={"Cookie": f"bli_device={device_cookie}"}
    )
    with urllib.request.urlopen(request) as response:
        html = response.read().decode()
        session_cookie = response.headers["Set-Cookie"].split(";")[0]
    if 'name="password"' not in html:
        raise SystemExit("the bound browser's /login has no four-field form")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode(
        {
            "csrf_token": token,
            "national_id": "A123456789",
            "birth_date": "1980/01/01",
            "name": "王小明",
            "password": PASSWORD,
        }
    )
    cookies = f"{session_cookie}; bli_device={device_cookie}"
    _check_one_login(base, body, cookies)
    cpu = cpu_of()
    page, page_p50 = wrk(base + "/login", seconds, [f"Cookie: bli_device={device_cookie}"], 16)
    page_cpu = (cpu_of() - cpu) * 1000 / (page * seconds)
    script = tmp / "login.lua"
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = {body!r}\n'.replace("'", '"')
        + 'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        + f'wrk.headers["Cookie"] = "{cookies}"\n'
    )
    cpu = cpu_of()
    logins, p50 = wrk(base + "/login/device", seconds, [], connections=8, script=script)
    login_cpu = (cpu_of() - cpu) * 1000 / (logins * seconds)
    return (page, page_p50, page_cpu), (logins, p50, login_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="else a throw-away PostgreSQL")
    args = parser.parse_args()
    with ExitStack() as stack:
        url = args.database_url or stack.enter_context(cluster.postgres()).url
        tmp, env = prepare("bench-login-", url)
        device_cookie = make_bound_account(env)
        port = free_port()
        server = gunicorn("wsgi:app", port, args.workers, env, ROOT, tmp / "site.pid")
        try:
            base = f"http://127.0.0.1:{port}"
            wait_up(base + "/help/faq")
            _, (logins, p50, _) = login_benchmark(base, device_cookie, tmp, args.seconds)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    ceiling, _ = hash_ceiling(args.seconds, args.workers)
    print(f"| measure ({args.workers} workers) | per second | p50 |")
    print("|---|---|---|")
    print(f"| argon2id verify alone (ceiling) | {ceiling:.1f} | |")
    print(f"| four-field login POST | {logins:.1f} | {p50} |")
    print(f"| ratio | {logins / ceiling:.2f} | |")


if __name__ == "__main__":
    main()
