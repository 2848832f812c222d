"""Request rate limits (Flask-Limiter). In memory by default; Redis when configured."""

from __future__ import annotations

import hashlib

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse

limiter = Limiter(key_func=get_remote_address, default_limits=[])

#: Step 1 and 2 submissions per address. A person rarely needs more than a few; a counter
#: kiosk or an office behind one address may send many, hence the generous hourly figure.
STEP_SUBMISSIONS = "20 per minute; 300 per hour"
CAPTCHA_REFRESHES = "30 per minute"


def init_app(app: Flask) -> None:
    limiter.init_app(app)


#: Carrier prechecks per national ID: someone holding a victim's ID who tries card numbers or
#: birth dates from many addresses is stopped here, whatever address they use.
PRECHECKS_PER_ID = "10 per hour"


def allow(kind: str, subject: str, limit: str) -> bool:
    """Count one attempt of ``kind`` for ``subject`` (hashed: no ID in the limiter's storage).
    False once ``limit`` is used up. Always True when rate limits are switched off."""
    if not limiter.enabled:
        return True
    key = hashlib.sha256(f"{kind}:{subject}".encode()).hexdigest()
    return limiter.limiter.hit(parse(limit), kind, key)
