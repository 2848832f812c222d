"""Settings: defaults, then instance/config.py, then FLASK_* environment variables."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from pathlib import Path

from flask import Flask

DEFAULTS: dict[str, object] = {
    # "simulator" (default, demos and tests) or "http" (a real carrier gateway, see
    # docs/carrier-gateway.md: then CARRIER_GATEWAY_URL and CARRIER_GATEWAY_TOKEN are required).
    "CARRIER_GATEWAY": "simulator",
    "CARRIER_GATEWAY_URL": None,
    "CARRIER_GATEWAY_TOKEN": None,
    # Seconds per attempt; extra attempts after a connection error, timeout or 502/503/504,
    # waiting BACKOFF, then twice that, ... in between.
    "CARRIER_GATEWAY_TIMEOUT": 5.0,
    "CARRIER_GATEWAY_RETRIES": 2,
    "CARRIER_GATEWAY_BACKOFF": 0.2,
    # Simulator only: seconds each step-5 check takes, and the share (0..1) answered UNAVAILABLE.
    "SIM_LATENCY": 0.0,
    "SIM_FAILURE_RATE": 0.0,
    # When set (and only with the simulator), every CAPTCHA accepts this answer: automated tests.
    "CAPTCHA_FIXED_ANSWER": None,
    "CAPTCHA_LIFETIME": dt.timedelta(minutes=10),
    # Incomplete registrations expire after this long without a change.
    "REGISTRATION_IDLE": dt.timedelta(minutes=30),
    # argon2id parameters (argon2-cffi's defaults: ~100 ms here). Tests lower them.
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,
    "ARGON2_PARALLELISM": 4,
    # A registration form is a few kilobytes; anything much larger is not a person typing.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "bli_session",
    "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=8),
    "WTF_CSRF_TIME_LIMIT": 3600,
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "BABEL_DEFAULT_LOCALE": "zh_Hant_TW",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Taipei",
    # A production deployment sets FLASK_PRODUCTION=true; the checks below then apply.
    "PRODUCTION": False,
}


class ConfigError(RuntimeError):
    """The site refuses to start with this configuration."""


def load(app: Flask, test_config: dict[str, object] | None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "wizard.sqlite3")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env()
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    app.config["SESSION_COOKIE_SECURE"] = app.config.get(
        "SESSION_COOKIE_SECURE", bool(app.config["PRODUCTION"])
    )
    check(app.config)


def _instance_secret(instance: Path) -> str:
    """Read instance/secret_key, creating it (random, owner-only) the first time."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def check(config: dict[str, object]) -> None:
    """Refuse settings that would weaken a real deployment, saying which one."""
    simulator = config["CARRIER_GATEWAY"] == "simulator"
    if config["CARRIER_GATEWAY"] not in ("simulator", "http"):
        raise ConfigError(
            f"CARRIER_GATEWAY must be 'simulator' or 'http', not {config['CARRIER_GATEWAY']!r}"
        )
    if not simulator:
        _check_http_gateway(config)
    else:
        _check_simulator(config)
    if config.get("CAPTCHA_FIXED_ANSWER") and (not simulator or config["PRODUCTION"]):
        raise ConfigError(
            "CAPTCHA_FIXED_ANSWER is for automated tests with the carrier simulator only;"
            " unset it for this configuration."
        )
    if not simulator and not config["RATELIMIT_ENABLED"]:
        # Turning rate limits off is honoured only while the simulator is in use.
        config["RATELIMIT_ENABLED"] = True
    if config["PRODUCTION"] and simulator:
        raise ConfigError("PRODUCTION is set but CARRIER_GATEWAY is the simulator.")


def _number(config: dict[str, object], key: str, low: float, high: float | None = None) -> float:
    value = config.get(key)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = float("nan")
    if not (number >= low and (high is None or number <= high)):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{key} must be a number {bounds}, not {value!r}.")
    return number


def _check_http_gateway(config: dict[str, object]) -> None:
    """CARRIER_GATEWAY=http: the gateway's address and token, and sane timeouts."""
    missing = [k for k in ("CARRIER_GATEWAY_URL", "CARRIER_GATEWAY_TOKEN") if not config.get(k)]
    if missing:
        raise ConfigError(
            f"CARRIER_GATEWAY=http needs {' and '.join(missing)}"
            " (the gateway's base URL and its bearer token)."
        )
    if not re.fullmatch(r"[\x21-\x7e]+", str(config["CARRIER_GATEWAY_TOKEN"]), re.ASCII):
        raise ConfigError("CARRIER_GATEWAY_TOKEN must be printable ASCII without spaces.")
    url = str(config["CARRIER_GATEWAY_URL"])
    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"CARRIER_GATEWAY_URL must be an http(s) URL, not {url!r}.")
    if config["PRODUCTION"] and not url.startswith("https://"):
        raise ConfigError("CARRIER_GATEWAY_URL must use https:// in production.")
    if _number(config, "CARRIER_GATEWAY_TIMEOUT", 0.001) > 60:
        raise ConfigError("CARRIER_GATEWAY_TIMEOUT is per attempt: at most 60 seconds.")
    retries = _number(config, "CARRIER_GATEWAY_RETRIES", 0, 5)
    if retries != int(retries):
        raise ConfigError("CARRIER_GATEWAY_RETRIES must be a whole number.")
    _number(config, "CARRIER_GATEWAY_BACKOFF", 0, 10)


def _check_simulator(config: dict[str, object]) -> None:
    _number(config, "SIM_LATENCY", 0, 60)
    _number(config, "SIM_FAILURE_RATE", 0, 1)
