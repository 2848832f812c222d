"""1,000 desktops waiting on step 4, each polling every 2 s as its page does.

An open-loop load generator (asyncio, this process): desktop i sends its poll at
``start + i * 2 s / 1000 + k * 2 s`` whatever the server's answers, so a slow server shows as
latency and a missed rate, not as a politely slower client. Each poll is a new connection (the
sync workers close every connection, as they do for browsers). Measured over the window: the
polls answered and their latency, the gunicorn workers' CPU (utime + stime from /proc) and the
statements PostgreSQL ran for them (pg_stat_statements, reset at the start).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import psycopg

INTERVAL = (
    2.0  # seconds: templates/registration/_qr_status.html, hx-trigger="every {{ poll_seconds }}s"
)


@dataclass
class Polling:
    desktops: int
    #: The window the polls were sent in, and the time until the last was answered.
    seconds: float
    wall: float
    intended: float
    sent: int
    answered: int
    wrong: dict[str, int]
    latencies: list[float]
    server_cpu: float
    client_cpu: float
    statements: list[tuple[int, str]]

    @property
    def rate(self) -> float:
        """Polls answered per second, from the first sent to the last answered."""
        return self.answered / self.wall

    def latency_ms(self, percent: int) -> float:
        cuts = statistics.quantiles(sorted(self.latencies), n=100, method="inclusive")
        return cuts[percent - 1] * 1000

    @property
    def calls(self) -> int:
        return sum(calls for calls, _ in self.statements)


#: A poll unanswered after this long counts as failed (the page would have polled twice more).
TIMEOUT = 10.0


async def _poll(host: str, port: int, request: bytes) -> tuple[int, float]:
    start = time.perf_counter()

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(request)
        data = await reader.read()
        writer.close()
        return data

    data = await asyncio.wait_for(exchange(), TIMEOUT)
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, time.perf_counter() - start


async def _run(host: str, port: int, cookies: list[str], seconds: float) -> tuple[int, list]:
    requests = [
        (
            "GET /register/qr/status?seen=waiting: HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\nHX-Request: true\r\nCookie: {cookie}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        for cookie in cookies
    ]
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1
    tasks: list[asyncio.Task] = []
    step = INTERVAL / len(requests)
    k = 0
    while True:
        moment = start + k * step
        if moment - start >= seconds:
            break
        delay = moment - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_poll(host, port, requests[k % len(requests)])))
        k += 1
    results = await asyncio.gather(*tasks, return_exceptions=True)
    return k, results


def run(
    host: str, port: int, cookies: list[str], seconds: float, database_url: str, cpu_of
) -> Polling:
    """Poll with every cookie every INTERVAL for ``seconds``. ``cpu_of()`` gives the server's
    CPU seconds so far."""
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute("SELECT pg_stat_statements_reset()")
        server, client, wall = cpu_of(), time.process_time(), time.perf_counter()
        sent, results = asyncio.run(_run(host, port, cookies, seconds))
        wall = time.perf_counter() - wall
        server, client = cpu_of() - server, time.process_time() - client
        rows = pg.execute(
            "SELECT calls, query FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND query NOT ILIKE '%pg_stat_statements%' ORDER BY calls DESC"
        ).fetchall()
    answered = [r for r in results if isinstance(r, tuple) and r[0] == 204]
    wrong: dict[str, int] = {}
    for r in results:
        if not (isinstance(r, tuple) and r[0] == 204):
            kind = f"status {r[0]}" if isinstance(r, tuple) else type(r).__name__
            wrong[kind] = wrong.get(kind, 0) + 1
    return Polling(
        desktops=len(cookies),
        seconds=seconds,
        wall=wall,
        intended=len(cookies) / INTERVAL,
        sent=sent,
        answered=len(answered),
        wrong=wrong,
        latencies=[latency for _, latency in answered],
        server_cpu=server,
        client_cpu=client,
        statements=[(int(calls), " ".join(query.split())) for calls, query in rows],
    )
