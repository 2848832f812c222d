"""Settings: defaults, then instance/config.py, then FLASK_* environment variables."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

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
    # Fault tests only (with the simulator, never in production): a file holding seconds by
    # which the server's clock is moved (wizard.clock.OffsetFileClock).
    "CLOCK_OFFSET_FILE": None,
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
    # The Referer check that Flask-WTF adds over HTTPS cannot work with the site's
    # Referer being stripped (privacy tools, proxies): wizard/web/origin.py checks Origin and
    # Sec-Fetch-Site instead.
    "WTF_CSRF_SSL_STRICT": False,
    # The device credential's cookie (steps 6-7); production makes it __Host-bli_device.
    "DEVICE_COOKIE_NAME": "bli_device",
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    # Off: the X-RateLimit-* headers cost two more storage round trips (Redis in production) on
    # every limited request, the step-4 poll among them; a refusal's Retry-After and "try again
    # at HH:MM" come from wizard.web.errors.
    "RATELIMIT_HEADERS_ENABLED": False,
    "BABEL_DEFAULT_LOCALE": "zh_Hant_TW",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Taipei",
    # translations/ at the top level (babel.cfg, messages.pot, en/LC_MESSAGES/messages.po, .mo).
    "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent.parent / "translations"),
    # Redis (RATELIMIT_STORAGE_URI=redis://...): a dead or unreachable server fails fast.
    "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    # Reverse proxies in front of the site that append to X-Forwarded-For / -Proto (0: none).
    # Set it to their number, or every citizen shares the proxy's address in per-IP limits.
    "TRUSTED_PROXIES": 0,
    # Counter kiosks (wizard/kiosk/kiosk.py): the terminals' networks (CIDR, e.g. ["10.20.0.0/24"]),
    # as the site sees them (behind proxies, set TRUSTED_PROXIES). Single terminals can also be
    # enrolled by address: flask --app wsgi kiosk enroll ADDRESS --label "...".
    "KIOSK_NETWORKS": [],
    # On a kiosk: seconds without input before the warning, then the warning's seconds before
    # everything is wiped (the warning's 繼續使用 starts again: WCAG 2.2.1).
    "KIOSK_IDLE_SECONDS": 120,
    "KIOSK_WARNING_SECONDS": 30,
    # A production deployment sets FLASK_PRODUCTION=true; the checks below then apply.
    "PRODUCTION": False,
}

#: Production needs a SECRET_KEY of at least this many characters, set explicitly.
MIN_SECRET_KEY_LENGTH = 32


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
    instance = Path(app.instance_path)
    if not app.config.get("SECRET_KEY") and not app.config["PRODUCTION"]:
        # The embedded default; production must set its key explicitly (check() says so).
        app.config["SECRET_KEY"] = _instance_secret(instance)
    if app.config["PRODUCTION"]:
        # (Flask's own default is False, so this cannot be a mere default.) Browsers reach a
        # production site over https only, whatever terminates TLS.
        app.config["SESSION_COOKIE_SECURE"] = True
        # __Host-: Secure, Path=/ and no Domain, enforced by the browser (no sibling host or
        # plain-http page can set or shadow them).
        for key, name in (
            ("SESSION_COOKIE_NAME", "bli_session"),
            ("DEVICE_COOKIE_NAME", "bli_device"),
        ):
            if app.config[key] == name:
                app.config[key] = "__Host-" + name
        app.config["SESSION_COOKIE_PATH"] = "/"
        app.config["SESSION_COOKIE_DOMAIN"] = False
    key_file = instance / "secret_key"
    check(app.config, key_file.read_text().strip() if key_file.is_file() else None)


def _instance_secret(instance: Path) -> str:
    """Read instance/secret_key, creating it (random, owner-only) the first time."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def check(config: dict[str, object], instance_secret: str | None = None) -> None:
    """Refuse settings that would weaken a real deployment, saying which. In production every
    problem is named, all in one message. ``instance_secret``: the generated
    instance/secret_key, if there is one (production must not use it)."""
    problems = production_problems(config, instance_secret) if config["PRODUCTION"] else []
    try:
        _check(config)
    except ConfigError as error:
        problems.insert(0, str(error))
    if len(problems) == 1:
        raise ConfigError(problems[0])
    if problems:
        raise ConfigError(
            "The site refuses to start with this configuration:\n"
            + "\n".join(f"- {problem}" for problem in problems)
        )


def production_problems(config: dict[str, object], instance_secret: str | None) -> list[str]:
    """What a production deployment (PRODUCTION=true) must not run with, each named."""
    problems = []
    url = str(config.get("DATABASE_URL") or "")
    try:
        backend: str | None = make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        backend = None  # (the URL is never repeated: it may hold a password)
    if backend == "sqlite":
        problems.append(
            "DATABASE_URL is SQLite: production needs PostgreSQL shared by all workers"
            " (postgresql+psycopg://user@host/db)."
        )
    elif backend != "postgresql":
        problems.append(
            "DATABASE_URL is not a PostgreSQL URL: production needs PostgreSQL"
            " (postgresql+psycopg://user@host/db)."
        )
    if config["CARRIER_GATEWAY"] == "simulator":
        problems.append(
            "PRODUCTION is set but CARRIER_GATEWAY is the simulator: configure the carrier"
            " gateway (CARRIER_GATEWAY=http, see docs/carrier-gateway.md)."
        )
    if config.get("CAPTCHA_FIXED_ANSWER"):
        problems.append(
            "CAPTCHA_FIXED_ANSWER is for automated tests with the carrier simulator only: unset it."
        )
    problems += _clock_hook_problems(config)
    if config.get("DEBUG"):
        problems.append("DEBUG is on: turn it off (FLASK_DEBUG=0, no --debug).")
    if config.get("WTF_CSRF_ENABLED") is False:
        problems.append("WTF_CSRF_ENABLED is off: forms need their CSRF protection.")
    secret = str(config.get("SECRET_KEY") or "")
    if not secret:
        problems.append(
            "SECRET_KEY is not set: production sets its own (FLASK_SECRET_KEY, at least"
            f" {MIN_SECRET_KEY_LENGTH} random characters, the same on every worker and host)."
        )
    elif instance_secret is not None and secret == instance_secret:
        problems.append(
            "SECRET_KEY is the one generated in instance/secret_key: production sets its own"
            " explicitly (FLASK_SECRET_KEY), the same on every worker and host."
        )
    elif len(secret) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters: use a long random"
            " one (python3 -c 'import secrets; print(secrets.token_hex(32))')."
        )
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "")
    if not storage.startswith(REDIS_SCHEMES):
        # Only the scheme: the rest may hold a password.
        shown = repr(storage.split("://", 1)[0] + "://") if "://" in storage else "not set"
        problems.append(
            f"RATELIMIT_STORAGE_URI is {shown}: workers would not share rate-limit"
            " counters; production needs Redis (redis://host:6379/0)."
        )
    return problems


def _clock_hook_problems(config: dict[str, object]) -> list[str]:
    if config.get("CLOCK_OFFSET_FILE"):
        return [
            "CLOCK_OFFSET_FILE moves the server's clock for fault tests with the simulator"
            " only: unset it."
        ]
    return []


#: Rate-limit storages that every worker and host share.
REDIS_SCHEMES = (
    "redis://",
    "rediss://",
    "redis+unix://",
    "redis+sentinel://",
    "redis+cluster://",
)


def _check(config: dict[str, object]) -> None:
    simulator = config["CARRIER_GATEWAY"] == "simulator"
    if config["CARRIER_GATEWAY"] not in ("simulator", "http"):
        raise ConfigError(
            f"CARRIER_GATEWAY must be 'simulator' or 'http', not {config['CARRIER_GATEWAY']!r}"
        )
    if not simulator:
        _check_http_gateway(config)
    else:
        _check_simulator(config)
    if config.get("CAPTCHA_FIXED_ANSWER") and not simulator and not config["PRODUCTION"]:
        # (In production, production_problems() names it with the others.)
        raise ConfigError(
            "CAPTCHA_FIXED_ANSWER is for automated tests with the carrier simulator only;"
            " unset it for this configuration."
        )
    if config.get("CLOCK_OFFSET_FILE") and not simulator and not config["PRODUCTION"]:
        raise ConfigError(
            "CLOCK_OFFSET_FILE is for fault tests with the carrier simulator only;"
            " unset it for this configuration."
        )
    if not simulator and not config["RATELIMIT_ENABLED"]:
        # Turning rate limits off is honoured only while the simulator is in use.
        config["RATELIMIT_ENABLED"] = True
    _check_kiosk(config)
    proxies = _number(config, "TRUSTED_PROXIES", 0, 5)
    if proxies != int(proxies):
        raise ConfigError("TRUSTED_PROXIES must be a whole number.")


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


def _check_kiosk(config: dict[str, object]) -> None:
    """KIOSK_NETWORKS must be networks (a typo must not silently make no terminal a kiosk).
    The timings are the operator's (tests use short ones); WCAG 2.2.1 asks for a warning of
    at least 20 s, the default is 30."""
    from wizard.kiosk.kiosk import parse_networks

    try:
        config["KIOSK_NETWORKS"] = parse_networks(config.get("KIOSK_NETWORKS"))
    except ValueError as error:
        raise ConfigError(f"KIOSK_NETWORKS: {error}") from None
    _number(config, "KIOSK_IDLE_SECONDS", 1, 3600)
    _number(config, "KIOSK_WARNING_SECONDS", 1, 600)


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
