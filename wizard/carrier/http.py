"""The client of the real carrier gateway: HTTP + JSON, standard library only.

The contract (endpoints, bodies, outcomes, auth, retries, logging) is in
docs/carrier-gateway.md. In short: ``POST {base}/v1/precheck`` and
``POST {base}/v1/network-check`` with a bearer token, each answered ``{"outcome": "..."}``.

Nothing here raises to the caller: a gateway that cannot be reached, is too slow, answers an
error or something unreadable gives ``UNAVAILABLE`` ("nothing was decided, try again").
Connection errors, timeouts and 502/503/504 are retried a bounded number of times, always with
the same ``request_id`` so the gateway asks the carrier once per logical check. Log lines carry
only the endpoint, outcome, status code, attempt and request ID: never an ID, number or name.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import TypeVar

from wizard.carrier.contract import (
    NetworkCheck,
    NetworkOutcome,
    NetworkResult,
    PersonClaim,
    PrecheckOutcome,
    PrecheckResult,
)

log = logging.getLogger(__name__)

#: Answers worth another attempt: the gateway's own upstream is having trouble.
RETRY_STATUSES = frozenset({502, 503, 504})
#: An outcome is a few dozen bytes; anything much larger is not an answer.
MAX_RESPONSE_BYTES = 16 * 1024

#: A bearer token travels in a header: visible ASCII only.
TOKEN_PATTERN = re.compile(r"[\x21-\x7e]+", re.ASCII)
#: What a request ID may look like on the wire (it travels in a header too).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}", re.ASCII)
_REQUEST_ID_NAMESPACE = uuid.UUID("1b0c6f64-5a8e-4a57-9a43-2f0c3d8c6a11")

Outcome = TypeVar("Outcome", PrecheckOutcome, NetworkOutcome)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: following it would resend the bearer token elsewhere (and turn
    the POST into a GET)."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class _Retry(Exception):
    """This attempt failed in a way another attempt may fix."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class _Fail(Exception):
    """This check failed for good: the answer is UNAVAILABLE without another attempt."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def new_request_id() -> str:
    """A random ID naming one logical check (no personal data in it)."""
    return uuid.uuid4().hex


def wire_request_id(given: str | None) -> str:
    """The caller's request ID when it is safe on the wire, else one derived from it (the same
    for the same input, so de-duplication still works), else a new one."""
    if given is None:
        return new_request_id()
    if _REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid5(_REQUEST_ID_NAMESPACE, given).hex


class HttpGateway:
    """:class:`wizard.carrier.CarrierGateway` over HTTP.

    ``timeout`` is per attempt (seconds); ``retries`` is the most extra attempts after a
    connection error, timeout or 502/503/504, waiting ``backoff``, then twice that, and so on,
    in between. ``sleep`` and ``opener`` are there for tests.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.2,
        *,
        sleep: Callable[[float], object] = time.sleep,
        opener: urllib.request.OpenerDirector | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        if not TOKEN_PATTERN.fullmatch(token or ""):
            raise ValueError("token must be printable ASCII without spaces")
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError("timeout must be positive, retries and backoff not negative")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self._sleep = sleep
        self._opener = opener or urllib.request.build_opener(_NoRedirects())

    def __repr__(self) -> str:  # never the token
        return f"HttpGateway({self.base_url!r}, timeout={self.timeout}, retries={self.retries})"

    def precheck(self, claim: PersonClaim) -> PrecheckResult:
        request_id = new_request_id()
        body = {
            "national_id": claim.national_id,
            "name": claim.name,
            "birth_date": claim.birth_date.isoformat(),
            "nhi_card": claim.nhi_card,
            "carrier": claim.carrier_code,
            "msisdn": claim.msisdn,
            "request_id": request_id,
        }
        outcome = self._ask("precheck", body, request_id, PrecheckOutcome)
        return PrecheckResult(outcome)

    def network_check(self, check: NetworkCheck) -> NetworkResult:
        # check.identity is the simulator's input: the real gateway finds the network itself.
        request_id = wire_request_id(check.request_id)
        body = {
            "national_id": check.national_id,
            "carrier": check.carrier_code,
            "msisdn": check.msisdn,
            "client_ip": check.client_ip,
            "request_id": request_id,
        }
        outcome = self._ask("network-check", body, request_id, NetworkOutcome)
        return NetworkResult(outcome)

    # --- one logical check: attempts, retries, logging ------------------------------------

    def _ask(
        self, endpoint: str, body: dict[str, str], request_id: str, outcomes: type[Outcome]
    ) -> Outcome:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        url = f"{self.base_url}/v1/{endpoint}"
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                self._sleep(self.backoff * 2 ** (attempt - 2))
            try:
                status, raw = self._post(url, data, request_id)
                outcome = _read_outcome(raw, outcomes, status)
            except _Retry as retry:
                _log(logging.WARNING, endpoint, retry.reason, retry.status, request_id, attempt)
                continue
            except _Fail as fail:
                _log(logging.WARNING, endpoint, fail.reason, fail.status, request_id, attempt)
                return outcomes("unavailable")
            except Exception as exc:  # the contract: never raise to the view
                # Only the class: an exception's text may quote what was being sent.
                what = f"client error ({type(exc).__name__})"
                _log(logging.ERROR, endpoint, what, None, request_id, attempt)
                return outcomes("unavailable")
            level = logging.INFO if outcome.value != "unavailable" else logging.WARNING
            _log(level, endpoint, f"outcome {outcome.value}", status, request_id, attempt)
            return outcome
        _log(logging.ERROR, endpoint, "gave up", None, request_id, attempts)
        return outcomes("unavailable")

    def _post(self, url: str, data: bytes, request_id: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={
                "Authorization": f"Bearer {self._token}",
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "X-Request-Id": request_id,
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code in RETRY_STATUSES:
                raise _Retry("upstream trouble", exc.code) from None
            raise _Fail("refused", exc.code) from None
        except (TimeoutError, urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            # Timeouts, refused or reset connections, DNS failures, broken responses. Only the
            # exception's class is logged: its text may quote the request.
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            if isinstance(reason, TimeoutError):
                raise _Retry("timeout") from None
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise _Fail("certificate not trusted") from None
            raise _Retry(f"connection error ({type(reason).__name__})") from None


def _read_outcome(raw: bytes, outcomes: type[Outcome], status: int) -> Outcome:
    if len(raw) > MAX_RESPONSE_BYTES:
        raise _Fail("response too large", status)
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _Fail("malformed JSON", status) from None
    value = payload.get("outcome") if isinstance(payload, dict) else None
    try:
        return outcomes(value)
    except ValueError:
        # The value itself is not logged: a broken gateway might echo anything.
        raise _Fail("unknown outcome", status) from None


def _log(
    level: int, endpoint: str, what: str, status: int | None, request_id: str, attempt: int
) -> None:
    log.log(
        level,
        "carrier gateway %s: %s (status %s, request %s, attempt %d)",
        endpoint,
        what,
        status if status is not None else "-",
        request_id,
        attempt,
    )
