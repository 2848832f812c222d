"""Request rate limits: per address and per person, one table (``LIMITS``).

Two counters guard each costly or guessable action:

* **per address** (Flask-Limiter decorators, ``per_ip(action)``): a flood from one machine.
  Generous, because many people share one address (an office NAT, a counter kiosk; behind a
  proxy set ``TRUSTED_PROXIES`` or everyone shares the proxy's);
* **per person** (``count(action, subject)``): the national ID where it is known (step 1 posts
  it, later steps have it on the registration, the four-field login has the account), or the
  registration for step 4's polling. Counted under an HMAC of the ID keyed with the secret:
  nothing in the limiter's storage gives an ID back. This is what stops someone holding a
  victim's ID who changes address.

Counts and windows are aligned with the lockouts the site already has, so a person meets the
lockout's own message (which says what to do), never a bare "too many" in its place:

* The four-field login locks after ``accounts.MAX_FAILURES`` (5) failures for
  ``accounts.FIRST_LOCK`` (15 min, doubling). Its per-ID limit counts only the password checks
  (an attempt while locked is refused before the check, uncounted) in the same 15 minutes, with
  twice the count: the lock always comes first. The window opens at the first check and the lock
  at the fifth failure, so the window has always ended when the lock lifts: a person whose lock
  has expired starts with a whole allowance. The limit is the ceiling for what the lock cannot
  see: concurrent guesses that all read "not locked" before the first failure is written, and
  argon2 CPU.
* Step 5's carrier check locks a registration after ``verification.MAX_FAILURES`` (5) failures;
  a new registration needs step 1 and a carrier precheck at step 2. The per-ID limits of the
  registration (step 1, step 2, prechecks, CAPTCHA, QR codes) therefore share one window, the
  hour, so they expire together; the precheck's 10 is the tightest (each registration that
  reaches step 5 costs one), the others sit above it so that a mismatch streak meets the
  precheck's own inline message first. The QR failure counters survive a new code, so
  regenerating never buys more carrier checks.
* The registration itself expires after 30 idle minutes; every per-ID window is at least that
  long, so abandoning a registration and starting again does not reset a counter.

Storage: ``RATELIMIT_STORAGE_URI``, ``memory://`` in the embedded default (one process) and
Redis in production (every worker and host counts in one place; ``config.check`` refuses
``memory://`` there). Windows are fixed (Flask-Limiter's default), opened by the first hit, in
real time: ``reset_at()`` gives the moment in epoch seconds and ``errors`` shows it on the
"try again at HH:MM" page (429, ``Retry-After``) in the app's clock.

``RATELIMIT_ENABLED=False`` (honoured only with the carrier simulator) switches all of it off:
most tests run that way, and ``tests/web/test_limits.py`` switches it on.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

limiter = Limiter(key_func=get_remote_address, default_limits=[])

#: Every rate limit: ``"<action>.<counted per>"`` → limit, where "ip" is the client address,
#: "id" the national ID (hashed), "registration" the registration (its reference hash) and
#: "session" the logged-in browser. Read at each request, so a test may change an entry.
LIMITS: dict[str, str] = {
    # -- step 1, POST /login (the national ID that starts a registration; it never says
    #    whether an ID exists, so what is limited is rows made and carrier work downstream)
    # 20 a minute is one every 3 s from one address, all day; 300 an hour lets a busy
    # office or counter start 300 registrations an hour behind one address.
    "identify.ip": "20 per minute; 300 per hour",
    # 10 an hour per ID: the precheck's 10 (each registration that reaches step 5 costs one),
    # in the same hour window; a person restarting after a typo or a step-5 lock has room.
    "identify.id": "10 per hour",
    # -- step 2, POST /register/personal (CAPTCHA, argon2 hash of the password, precheck)
    # As step 1: an office of people each typing a few times; the hash costs ~0.1 s of CPU.
    "personal.ip": "20 per minute; 300 per hour",
    # 30 an hour per ID: three times the precheck's 10 in the same hour, so a run of carrier
    # mismatches meets the precheck's own message first; the rest covers typing errors and
    # wrong CAPTCHAs (which never reach the carrier) but stops a CAPTCHA-solving script.
    "personal.id": "30 per hour",
    # Carrier prechecks per ID (step 2, shown beside the form, not as a 429): someone holding a
    # victim's ID who tries card numbers or birth dates; 10 an hour is ample for typos.
    "precheck.id": "10 per hour",
    # -- step 3, POST /register/device: cheap, but a script walking the flow passes here too.
    "device.ip": "20 per minute; 300 per hour",
    # -- 重新產生驗證碼 / 改用文字題 / 改用圖片, POST /register/captcha (with JavaScript) and
    #    the same buttons posting step 2 without it
    # 30 a minute from one address: a few people refreshing at once; a CAPTCHA costs 1.4 ms.
    "captcha.ip": "30 per minute",
    # 30 an hour per ID, the hour of the other registration limits: a person who cannot read a
    # picture switches to the text question within a few tries; a script fishing for an easy
    # challenge needs hundreds.
    "captcha.id": "30 per hour",
    # -- 重新產生QRCode, POST /register/qr/regenerate (a segno QR, ~7 ms, and a hand-off row)
    # 30 a minute from one address: a room of desktops at step 4.
    "qr.ip": "30 per minute",
    # 12 an hour per ID: a code lives 5 minutes, so letting every one run out for an hour
    # needs 12; the step-5 failure lock survives a new code, so more codes buy nothing.
    "qr.id": "12 per hour",
    # -- step 4's poll, GET /register/qr/status (every 2 s: 30 a minute per waiting desktop)
    # 6,000 a minute: 200 desktops waiting at once behind one office NAT; still only ~100
    # requests a second from one address, each one indexed SELECT.
    "poll.ip": "6000 per minute",
    # 60 a minute per registration: the page's 30 twice over (a second tab, a reload).
    "poll.registration": "60 per minute",
    # -- step 5's 開始驗證 (POST /phone/verify, /register/verify) and step 6's binding: per
    #    person the verification's failure lock (5) and the single-use binding already bound
    #    them; per address the same as steps 1-2.
    "verify.ip": "20 per minute; 300 per hour",
    "bind.ip": "20 per minute; 300 per hour",
    # -- step 7, the four-field login, POST /login/device (argon2 verify, ~0.1 s of CPU)
    # 30 a minute is 3 s of one core a minute from one address, and an office logging in at
    # 9 o'clock behind one NAT gets through; 600 an hour, ten a minute on average.
    "login.ip": "30 per minute; 600 per hour",
    # 10 per 15 minutes per ID, counting password checks only: the lock (5 failures → 15 min)
    # always comes first, see the module docstring.
    "login.id": "10 per 15 minutes",
    # -- portal downloads (each one a recorded document), per logged-in browser: plenty for a
    #    person, not enough to flood the documents table.
    "download.session": "10 per minute; 200 per day",
    # -- the institutions' area (wizard/institutions; docs "Share codes")
    # 文件驗證, per address: a counter's worth of paper checked in a minute; with the code's
    # 49 bits, 100 an hour makes guessing a document's code hopeless (about 2**-42 a year).
    "document_verify.ip": "10 per minute; 100 per hour",
    # Staff login (argon2 verify): as the citizens' four-field login.
    "staff_login.ip": "30 per minute; 600 per hour",
    "staff_login.id": "10 per 15 minutes",
    # Share-code checks and agency queries: a training course's intake day behind one
    # address; per staff member a check a minute on average; per API key a batch system.
    "share_check.ip": "60 per minute; 1000 per hour",
    "share_check.staff": "60 per hour",
    "api.key": "120 per minute; 2000 per hour",
    # A person making shares: plenty for real use, not a table flood.
    "share_create.ip": "20 per minute; 300 per hour",
}


class TooMany(TooManyRequests):
    """A per-person limit is used up; ``reset_at`` (epoch seconds) is when its window ends."""

    def __init__(self, reset_at: float) -> None:
        super().__init__()
        self.reset_at = reset_at


def init_app(app: Flask) -> None:
    limiter.init_app(app)


def per_ip(action: str, **options: Any) -> Callable[..., Any]:
    """The Flask-Limiter decorator for ``LIMITS[action + ".ip"]`` (per client address)."""
    return limiter.limit(lambda: LIMITS[f"{action}.ip"], **options)


def _items(limit: str) -> list[RateLimitItem]:
    return parse_many(limit)


def _key(kind: str, subject: str) -> str:
    """The counter's name for ``subject``: keyed with the app's secret, because a plain hash
    of a national ID is reversed by hashing the few hundred million valid IDs (PDPA: no ID,
    nor anything that gives one back, in the limiter's storage)."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"{kind}:{subject}".encode(), hashlib.sha256).hexdigest()


def count(action: str, subject: str, per: str = "id") -> None:
    """Count one attempt at ``action`` by ``subject`` (a national ID, or a registration's
    reference hash with ``per="registration"``); raise ``TooMany`` once ``LIMITS[action.per]``
    is used up. Nothing is counted while rate limits are off."""
    name = f"{action}.{per}"
    if not limiter.enabled:
        return
    key = _key(name, subject)
    breached = [item for item in _items(LIMITS[name]) if not limiter.limiter.hit(item, name, key)]
    if breached:
        raise TooMany(max(_reset(item, name, key) for item in breached))


def allow(kind: str, subject: str, limit: str) -> bool:
    """Count one attempt of ``kind`` for ``subject`` (hashed: no ID in the limiter's storage).
    False once ``limit`` is used up. Always True when rate limits are switched off. For a
    limit shown in place (the precheck's message beside the form) rather than as a 429."""
    if not limiter.enabled:
        return True
    key = _key(kind, subject)
    return all([limiter.limiter.hit(item, kind, key) for item in _items(limit)])


def _reset(item: RateLimitItem, name: str, key: str) -> float:
    return float(limiter.limiter.get_window_stats(item, name, key).reset_time)


#: Carrier prechecks per national ID (``allow("precheck", ...)`` in views/register.py).
PRECHECKS_PER_ID = LIMITS["precheck.id"]


def reset_at(error: TooManyRequests) -> float | None:
    """When the window that refused this request ends (epoch seconds), or None if unknown.

    For a per-person limit, its own window; for a per-address one, the latest end among the
    breached limits Flask-Limiter evaluated. Either way no earlier than the route's
    per-address window Flask-Limiter reports, because Flask-Limiter raises ``Retry-After`` to
    that: the page and the header then name the same moment.
    """
    moments: list[float] = []
    if isinstance(error, TooMany):
        moments.append(error.reset_at)
    if limiter.enabled:
        try:
            evaluated = limiter.current_limits
            moments += [float(lim.reset_at) for lim in evaluated if lim.breached]
            if limiter.current_limit is not None:
                moments.append(float(limiter.current_limit.reset_at))
        except Exception:  # noqa: BLE001 - storage gone since the check: the page still shows
            pass
    return max(moments) if moments else None
