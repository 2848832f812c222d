"""One worker's memory under 10,000 mixed requests (`make bench`, issue 14).

A gunicorn with a single sync worker serves the site; plain HTTP requests (a new connection
each, as sync workers close them) go round the wizard and the portal: a new visitor's /login,
step 1's POST starting a registration, steps 2 to 6 shown from registrations prepared at each
(bench/pools.py), the step-4 poll unchanged and with its fragment, the phone's step 5, and a
signed-in person's portal and records. The worker's resident set (VmRSS in /proc) is read
after a warm-up and every 1,000 requests. Growth after the warm-up is what a leak looks like:
caches that keep filling (the QR codes, the templates, the statements) must level off.
"""

from __future__ import annotations

import http.client
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

from bench import pools
from bench.steps import Item, form, with_path

WARM_UP = 500
TOTAL = 10_000
EVERY = 1_000


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def mixed(
    preparer: pools.Preparer, persons: Iterator[dict[str, str]], each: int = 50
) -> list[tuple[str, Item, int]]:
    """(method, request, expected status) round the journey, ``each`` browsers per kind."""

    def pool(stage: str) -> list[dict[str, str]]:
        chosen = [next(persons) for _ in range(each + 1)]
        return preparer.pool(preparer.walk(stage, chosen[0]), chosen[1:])  # type: ignore[return-value]

    hx = "HX-Request: true"
    at = {stage: pool(stage) for stage in ("personal", "device", "qr", "opened", "verified")}
    signed_in = pool("notice")
    fresh = [preparer.fresh() for _ in range(each)]
    kinds: list[list[tuple[str, Item, int]]] = [
        [("GET", Item("/login"), 200)],
        [
            ("POST", with_path(form(f, national_id=p["national_id"]), "/login"), 303)
            for f, p in zip(fresh, [next(persons) for _ in fresh], strict=True)
        ],
        [("GET", Item("/register/personal", r["desktop"]), 200) for r in at["personal"]],
        [("GET", Item("/register/device", r["desktop"]), 200) for r in at["device"]],
        [("GET", Item("/register/qr", r["desktop"]), 200) for r in at["qr"]],
        [
            ("GET", Item("/register/qr/status?seen=waiting:", r["desktop"], "", hx), 204)
            for r in at["qr"]
        ],
        [("GET", Item("/register/qr/status", r["desktop"], "", hx), 200) for r in at["qr"]],
        [("GET", Item("/phone/verify", r["phone"]), 200) for r in at["opened"]],
        [("GET", Item("/register/done", r["desktop"]), 200) for r in at["verified"]],
        [("GET", Item("/notice", r["desktop"]), 200) for r in signed_in],
        [("GET", Item("/portal", r["desktop"]), 200) for r in signed_in],
        [("GET", Item("/portal/records", r["desktop"]), 200) for r in signed_in],
    ]
    width = len(kinds)
    return [kinds[i % width][i // width % len(kinds[i % width])] for i in range(width * each)]


def send(port: int, method: str, item: Item) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept-Encoding": "gzip"}
    if item.cookie:
        headers["Cookie"] = item.cookie
    if item.body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    for extra in filter(None, item.extra.split("|")):
        name, value = extra.split(": ", 1)
        headers[name] = value
    try:
        connection.request(method, item.path, body=item.body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def run(
    port: int,
    requests: list[tuple[str, Item, int]],
    worker: Callable[[], int],
    total: int = TOTAL,
) -> list[tuple[int, int]]:
    """(requests answered, RSS KiB) after the warm-up and every EVERY requests up to ``total``;
    a wrong status or a recycled worker stops the run."""
    pid = worker()
    round_robin = itertools.cycle(requests)
    samples: list[tuple[int, int]] = []
    for count in range(1, WARM_UP + total + 1):
        method, item, expected = next(round_robin)
        status = send(port, method, item)
        if status != expected:
            raise SystemExit(f"memory: {method} {item.path} answered {status}, not {expected}")
        if count == WARM_UP or (count > WARM_UP and (count - WARM_UP) % EVERY == 0):
            if worker() != pid:
                raise SystemExit("memory: the worker was replaced during the run")
            samples.append((count - WARM_UP, rss_kib(pid)))
    return samples
