"""Request rate limits (Flask-Limiter). In memory by default; Redis when configured."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])

#: Step 1 and 2 submissions per address. A person rarely needs more than a few; a counter
#: kiosk or an office behind one address may send many, hence the generous hourly figure.
STEP_SUBMISSIONS = "20 per minute; 300 per hour"
CAPTCHA_REFRESHES = "30 per minute"


def init_app(app: Flask) -> None:
    limiter.init_app(app)
