"""The institutions' area: server CPU per request, in this process, against the bare-Flask ceiling.

    .venv/bin/python bench/checks.py [--requests 200] [--warmup 20]

No servers and no wrk: one app (a throw-away instance folder, SQLite, the demo data and the
demo institutions, cheap argon2id as the tests use) driven by the Flask test client, and the
bare app of bench/bare_app.py beside it. Each request is timed with ``time.process_time()``
(user + system CPU of this process) after ``--warmup`` untimed ones; what a request needs
first (a fresh share, made in the database) is done outside the timed part. The test client's
own work is inside both the site's and the ceiling's figures, so compare the ratios (as
bench/run.py does: CPU of the small template / CPU of the request), not the milliseconds
with the gunicorn benchmarks. The ceiling is measured before and after; their mean is the
reference.

Measured: 查驗 (POST /institution/, a staff member checking a fresh share code), the API's
POST /api/v1/share-checks (a fresh share each), 文件驗證 (POST /documents/verify of a
records CSV's number and code; each one recorded and announced), 投保證明分享 (GET
/portal/shares, a person with five shares), and the bare app's small template.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import machine  # noqa: E402

PERSON = "A123456789"  # 王小明 of the demo data: insured now, with a long history
#: The preparing app hashes cheaply, as the tests do (a staff login is done once, untimed).
CHEAP_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1}
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass(frozen=True)
class Result:
    name: str
    count: int
    cpu_ms: float


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def measure(
    name: str,
    count: int,
    warmup: int,
    send: Callable[[Any], Any],
    expect: Callable[[Any], bool],
    prepare: Callable[[], Any] = lambda: None,
) -> Result:
    """CPU ms per ``send(prepare())``, ``prepare`` untimed; every answer must pass ``expect``."""
    for _ in range(warmup):
        response = send(prepare())
        if not expect(response):
            raise SystemExit(f"{name}: unexpected answer {response.status_code} in warm-up")
    total = 0.0
    for _ in range(count):
        argument = prepare()
        start = time.process_time()
        response = send(argument)
        total += time.process_time() - start
        if not expect(response):
            raise SystemExit(f"{name}: unexpected answer {response.status_code}")
    return Result(name, count, total * 1000 / count)


def _token(html: str) -> str:
    match = _CSRF.search(html)
    if not match:
        raise SystemExit("page has no CSRF token")
    return match.group(1)


def make_app(tmp: Path) -> Any:
    """The site on a fresh SQLite database with the demo data and institutions."""
    os.environ["WIZARD_INSTANCE_PATH"] = str(tmp)
    from wizard import create_app
    from wizard.database.models import Base
    from wizard.ops.operations import REQUEST_LOG
    from wizard.ops.seed import seed, seed_institutions

    # The request log to a file, as the servers' goes to one (bench/common.GUNICORN_SETTINGS).
    handler = logging.FileHandler(tmp / "requests.log")
    REQUEST_LOG.addHandler(handler)
    REQUEST_LOG.setLevel(logging.INFO)
    REQUEST_LOG.propagate = False
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "RATELIMIT_ENABLED": False,
            "CAPTCHA_FIXED_ANSWER": "BENCH",
            **CHEAP_ARGON2,
        }
    )
    with app.app_context():
        Base.metadata.create_all(app.extensions["db_engine"])
        with app.extensions["db_sessionmaker"]() as database:
            seed(database)
            seed_institutions(database, app.config["SECRET_KEY"], app.extensions["hasher"])
            database.commit()
    return app


def new_share(app: Any, national_id: str = PERSON) -> str:
    """A fresh share (used once) made straight in the database; its code."""
    from wizard.institutions import shares

    choice = shares.Choice(purpose="training", scope="status", years=0, days=30, max_uses=1)
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        _share, code = shares.create(
            database, app.config["SECRET_KEY"], national_id, choice, dt.datetime.now(dt.UTC)
        )
        database.commit()
    return code


def staff_client(app: Any) -> tuple[Any, str]:
    """The demo training centre's staff member, logged in (password + TOTP); a CSRF token."""
    import pyotp

    from wizard.ops.seed import DEMO_INSTITUTIONS

    username, _name, password, secret = DEMO_INSTITUTIONS[0]["staff"]  # type: ignore[misc]
    client = app.test_client()
    token = _token(client.get("/institution/login").get_data(as_text=True))
    response = client.post(
        "/institution/login",
        data={
            "csrf_token": token,
            "username": username,
            "password": password,
            "otp": pyotp.TOTP(secret).now(),
        },
    )
    if response.status_code != 303:
        raise SystemExit(f"staff login failed: {response.status_code}")
    return client, _token(client.get("/institution/").get_data(as_text=True))


def api_key(app: Any) -> str:
    result = app.test_cli_runner().invoke(
        args=["institution", "api-key", "DEMO-TRAINING", "--label", "bench"]
    )
    if result.exit_code != 0:
        raise SystemExit(f"api-key: {result.output}")
    return str(result.output.strip())


def records_document(citizen: Any) -> tuple[str, str]:
    """A records CSV downloaded by the person: its 文件編號 and 驗證碼."""
    response = citizen.get("/portal/records.csv")
    if response.status_code != 200:
        raise SystemExit(f"records.csv: {response.status_code}")
    text = response.get_data(as_text=True)
    number = re.search(r"BLI-\d{4}-\d{6}", text)
    code = re.search(r"\b([A-Z2-9]{5}-[A-Z2-9]{5})\b", text)
    if not (number and code):
        raise SystemExit("records.csv has no number and code")
    return number.group(0), code.group(1)


def ceiling(count: int, warmup: int) -> Result:
    from bench.bare_app import app as bare

    client = bare.test_client()
    return measure(
        "bare Flask: small template (GET /template)",
        count,
        warmup,
        lambda _: client.get("/template"),
        lambda r: r.status_code == 200,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per row")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests first")
    args = parser.parse_args()
    n, warm = args.requests, args.warmup
    from tests.accounts import login_as

    tmp = Path(tempfile.mkdtemp(prefix="bench-checks-"))
    try:
        say("preparing the app, the demo data and the institutions")
        app = make_app(tmp)
        citizen = app.test_client()
        login_as(app, citizen, PERSON)
        staff, staff_token = staff_client(app)
        key = api_key(app)
        number, code = records_document(citizen)
        public = app.test_client()
        public_token = _token(public.get("/documents/verify").get_data(as_text=True))
        for _ in range(5):
            new_share(app)

        results: list[Result] = []
        ceilings = [ceiling(n, warm)]
        say("GET /portal/shares")
        results.append(
            measure(
                "投保證明分享: GET /portal/shares (five shares)",
                n,
                warm,
                lambda _: citizen.get("/portal/shares"),
                lambda r: r.status_code == 200,
            )
        )
        say("POST /institution/")
        results.append(
            measure(
                "查驗: POST /institution/ (a fresh share each)",
                n,
                warm,
                lambda share_code: staff.post(
                    "/institution/",
                    data={"csrf_token": staff_token, "national_id": PERSON, "code": share_code},
                ),
                lambda r: r.status_code == 303 and "/institution/checks/" in r.headers["Location"],
                prepare=lambda: new_share(app),
            )
        )
        say("POST /api/v1/share-checks")
        results.append(
            measure(
                "API: POST /api/v1/share-checks (a fresh share each)",
                n,
                warm,
                lambda share_code: app.test_client().post(
                    "/api/v1/share-checks",
                    json={"national_id": PERSON, "share_code": share_code},
                    headers={"Authorization": f"Bearer {key}"},
                ),
                lambda r: r.status_code == 201,
                prepare=lambda: new_share(app),
            )
        )
        say("POST /documents/verify")
        results.append(
            measure(
                "文件驗證: POST /documents/verify (a genuine document)",
                n,
                warm,
                lambda _: public.post(
                    "/documents/verify",
                    data={"csrf_token": public_token, "number": number, "code": code},
                ),
                lambda r: r.status_code == 200 and number in r.get_data(as_text=True),
            )
        )
        ceilings.append(ceiling(n, warm))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    small = sum(c.cpu_ms for c in ceilings) / len(ceilings)
    print()
    print(
        f"{dt.date.today()}, {machine()}; in one process with the Flask test client, SQLite, "
        f"{n} timed requests per row after {warm} untimed."
    )
    print()
    print("| request | server CPU ms/req (process_time) | ceiling / page (CPU) |")
    print("|---|---|---|")
    print(f"| bare Flask: small template (mean of 2 runs) | {small:.3f} | 1.00 |")
    for r in results:
        print(f"| {r.name} | {r.cpu_ms:.3f} | {small / r.cpu_ms:.3f} |")
    spread = ", ".join(f"{c.cpu_ms:.3f}" for c in ceilings)
    print(
        f"\nSmall template ms/req in its {len(ceilings)} runs: {spread}"
        " (the mean is the reference)."
    )


if __name__ == "__main__":
    main()
