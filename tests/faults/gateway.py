"""A real, tiny carrier gateway on loopback (http.server in threads) that can be slow, fail
or cut the connection, and records every attempt it sees (docs/carrier-gateway.md)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "fault-test-gateway-token"


@dataclass(frozen=True)
class Attempt:
    endpoint: str  # "precheck" or "network-check"
    request_id: str
    at: float


@dataclass
class Behaviour:
    """How the next network checks are answered: ``mode`` is "ok", "slow" (silent for
    ``delay`` seconds, then ok), "error" (HTTP ``status``) or "drop" (the connection is
    closed without an answer). ``times``: for that many attempts, then "ok"."""

    mode: str = "ok"
    delay: float = 0.0
    status: int = 500
    times: int | None = None


class FakeGateway:
    def __init__(self) -> None:
        self.attempts: list[Attempt] = []
        self.behaviour = Behaviour()
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.url = ""

    def set(self, **behaviour: object) -> None:
        with self.lock:
            self.behaviour = Behaviour(**behaviour)  # type: ignore[arg-type]

    def checks(self) -> list[Attempt]:
        with self.lock:
            return [a for a in self.attempts if a.endpoint == "network-check"]

    def _next(self, attempt: Attempt) -> Behaviour:
        with self.lock:
            self.attempts.append(attempt)
            behaviour = self.behaviour
            if attempt.endpoint != "network-check":
                return Behaviour()
            if behaviour.times is not None:
                behaviour.times -= 1
                if behaviour.times < 0:
                    return Behaviour()
            return behaviour


def _handler(fake: FakeGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            endpoint = self.path.rsplit("/", 1)[-1]
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"error": "unauthorized"})
                return
            behaviour = fake._next(Attempt(endpoint, str(body.get("request_id")), time.time()))
            if behaviour.mode == "drop":
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if behaviour.mode == "slow" and fake.closing.wait(behaviour.delay):
                return
            if behaviour.mode == "error":
                self._send(behaviour.status, {"error": "upstream"})
                return
            self._send(200, {"outcome": "ok"})

        def _send(self, status: int, payload: dict[str, str]) -> None:
            raw = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except OSError:
                pass  # the client gave up waiting

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


@contextmanager
def fake_gateway() -> Iterator[FakeGateway]:
    fake = FakeGateway()
    server = _Quiet(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.closing.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
