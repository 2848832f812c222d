"""Each wizard step's GET and POST under wrk, against the ceiling, in one run.

Reads rotate over a hundred registrations at that step (showing a page again changes
nothing). Every POST is a state change of a registration of its own: a pool prepared in the
database beforehand (bench/pools.py), each item sent once, so a step's POST is measured as a
person's first submission of it. Each response is checked (status, where it leads, and for the
phone's 開始驗證 the success page); one wrong answer stops the benchmark.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import pools
from bench.common import settle

LUA = Path(__file__).resolve().parent / "pool.lua"


@dataclass(frozen=True)
class Item:
    """One request: path, Cookie header, form body, extra headers ("Name: value|...")."""

    path: str
    cookie: str = ""
    body: str = ""
    extra: str = ""


@dataclass(frozen=True)
class Result:
    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    count: int
    #: Server CPU (gunicorn workers, and PostgreSQL for the site) per answered request.
    cpu_ms: float = float("nan")


def ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run(
    base: str,
    name: str,
    method: str,
    items: list[Item],
    expect: tuple[int, str, str],
    seconds: int,
    rotate: bool,
    connections: int = 16,
    cpu_of: Callable[[], float] | None = None,
) -> Result:
    """wrk over ``items`` (see pool.lua); ``expect`` is (status, location part, body part).
    ``cpu_of()``, when given, tells the server's CPU seconds so far."""
    status, location, body_mark = expect
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        for item in items:
            handle.write(f"{item.path}\t{item.cookie}\t{item.body}\t{item.extra}\n")
    threads = 2
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(LUA),
        base,
        "--",
        method,
        str(status),
        location,
        body_mark,
        "1" if rotate else "0",
        handle.name,
        str(threads),
    ]
    if cpu_of:
        settle(cpu_of)
    cpu = cpu_of() if cpu_of else 0.0
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    cpu = cpu_of() - cpu if cpu_of else float("nan")
    Path(handle.name).unlink()
    rows = re.findall(r"^POOL (\d+) (\d+) ([\d.]+) ([\d.]+) ?(.*)$", out, re.MULTILINE)
    got = sum(int(r[0]) for r in rows)
    bad = [r for r in rows if int(r[1])]
    if bad or not got:
        raise SystemExit(f"{name}: {sum(int(r[1]) for r in bad)} wrong answers, e.g. {bad}")
    elapsed = max(float(r[3]) for r in rows) - min(float(r[2]) for r in rows if float(r[2]))
    p50 = ms(re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = ms(re.search(r"^\s*99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return Result(name, got / elapsed, p50, p99, got, cpu * 1000 / got)


def form(item: dict[str, object], cookie_key: str = "desktop", **fields: str) -> Item:
    """A POST of ``fields`` with the item's CSRF token, from its desktop or phone."""
    body = urllib.parse.urlencode({"csrf_token": item["csrf"], **fields})
    return Item("", str(item[cookie_key]), body)


def with_path(item: Item, path: str, extra: str = "") -> Item:
    return Item(path, item.cookie, item.body, extra)


def step_benchmarks(
    base: str,
    preparer: pools.Preparer,
    people: list[dict[str, str]],
    seconds: int,
    cpu_of: Callable[[], float],
) -> list[Result]:
    """Every step's GET and POST; ``people`` supplies the persons (each used once)."""
    take = iter(people)

    def persons(count: int) -> list[dict[str, str]]:
        return [next(take) for _ in range(count)]

    def pool(stage: str, count: int) -> list[dict[str, str]]:
        chosen = persons(count + 1)
        template = preparer.walk(stage, chosen[0])
        return preparer.pool(template, chosen[1:])  # type: ignore[return-value]

    results: list[Result] = []

    def get(name: str, items: list[Item], status: int = 200, location: str = "") -> None:
        expect = (status, location, "")
        results.append(run(base, name, "GET", items, expect, seconds, True, cpu_of=cpu_of))

    def post(
        name: str,
        items: list[Item],
        location: str,
        body: str = "",
        status: int = 303,
        rotate: bool = False,
    ) -> None:
        expect = (status, location, body)
        results.append(run(base, name, "POST", items, expect, seconds, rotate, cpu_of=cpu_of))

    # Step 1: a new visitor's page, and its ID starting a registration.
    get("1 個人登入: GET /login (new visitor)", [Item("/login")])
    fresh = [preparer.fresh() for _ in range(20)]
    post(
        "1 個人登入: POST /login (starts a registration)",
        [
            with_path(form(f, national_id=p["national_id"]), "/login")
            for f, p in zip(fresh, persons(20), strict=True)
        ],
        "/register/personal",
        rotate=True,  # a session without a registration starts a new one on every POST
    )
    # Step 2: the form with its CAPTCHA; the POST checks everything, asks the carrier's
    # precheck (simulator) and hashes the password (argon2id, production parameters).
    reads = pool("personal", 100)
    get(
        "2 個人資料: GET /register/personal",
        [Item("/register/personal", r["desktop"]) for r in reads],
    )
    post(
        "2 個人資料: POST /register/personal (argon2id hash)",
        [
            with_path(form(r, **pools.step2_form(r["person"])), "/register/personal")  # type: ignore[arg-type]
            for r in pool("personal", 60)
        ],
        "/register/device",
    )
    reads = pool("device", 100)
    get("3 裝置: GET /register/device", [Item("/register/device", r["desktop"]) for r in reads])
    post(
        "3 裝置: POST /register/device (desktop)",
        [with_path(form(r, device="desktop"), "/register/device") for r in pool("device", 2000)],
        "/register/qr",
    )
    # Step 4: the page draws the QR code (segno) on every view; polls are in bench/poll.py.
    reads = pool("qr", 100)
    get("4 QR code: GET /register/qr", [Item("/register/qr", r["desktop"]) for r in reads])
    hx = "HX-Request: true"
    get(
        "4 QR code: poll, unchanged (204)",
        [Item("/register/qr/status?seen=waiting:", r["desktop"], "", hx) for r in reads],
        status=204,
    )
    get(
        "4 QR code: poll, status fragment (200)",
        [Item("/register/qr/status", r["desktop"], "", hx) for r in reads],
    )
    post(
        "4 QR code: POST /register/qr/regenerate",
        [with_path(form(r), "/register/qr/regenerate") for r in pool("qr", 1500)],
        "/register/qr",
    )
    # Step 5 on the phone: opening the QR link, its page, 開始驗證 (the simulated carrier).
    post_get = pool("qr", 2000)
    results.append(
        run(
            base,
            "5 開始驗證: GET /h/<token> (phone opens the QR link)",
            "GET",
            [Item(str(r["link"])) for r in post_get],
            (303, "/phone/verify", ""),
            seconds,
            False,
            cpu_of=cpu_of,
        )
    )
    reads = pool("opened", 100)
    get("5 開始驗證: GET /phone/verify", [Item("/phone/verify", r["phone"]) for r in reads])
    verifying = pool("opened", 600)
    post(
        "5 開始驗證: POST /phone/verify (carrier check)",
        [
            Item(
                "/phone/verify",
                str(r["phone"]),
                urllib.parse.urlencode(
                    {"csrf_token": r["phone_csrf"], "match": r["match"], "terms": "yes"}
                ),
                "X-Sim-Network: 4g|X-Sim-Msisdn: " + r["person"]["msisdn"],  # type: ignore[index]
            )
            for r in verifying
        ],
        "",
        body="驗證成功",
        status=200,
    )
    reads = pool("verified", 100)
    get("6 使用須知: GET /register/done", [Item("/register/done", r["desktop"]) for r in reads])
    post(
        "6 使用須知: POST /register/bind (cookie binding)",
        [with_path(form(r), "/register/bind") for r in pool("verified", 1200)],
        "/notice",
    )
    reads = pool("notice", 100)
    get("6 使用須知: GET /notice", [Item("/notice", r["desktop"]) for r in reads])
    post(
        "6 使用須知: POST /notice (開始使用)",
        [with_path(form(r), "/notice") for r in pool("notice", 2000)],
        "/portal",
    )
    return results
