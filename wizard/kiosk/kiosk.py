"""Counter kiosks: shared terminals at BLI counters, recognised by configuration the person at
the terminal cannot change.

Recognition is by the address the site sees the request from (``request.remote_addr``; behind
reverse proxies ``TRUSTED_PROXIES`` makes that the terminal's, see wizard/ops/operations.py):

* ``KIOSK_NETWORKS``: the counters' networks (CIDR), in the settings;
* ``KioskTerminal`` rows: single terminals an operator enrolled (``flask kiosk enroll``).

Not a cookie or anything else kept in the browser: 結束使用 wipes those, and the person at the
terminal could remove or forge them. Each worker reads the enrolled addresses at most every
:data:`REFRESH_SECONDS` (a page never waits for that table; an outage page does not either).

On a kiosk (see README.md, "Counter kiosks"): step 3 is fixed to the QR path, no device
credential or binding is ever stored or used, every input has ``autocomplete="off"``, every page
has 結束使用 (:func:`wipe`, then ``Clear-Site-Data``), and kiosk.js wipes after idling.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import click
from flask import Flask, current_app, g, has_request_context, request, session
from flask.cli import with_appcontext
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.local import LocalProxy

from wizard import clock
from wizard.accounts import auth
from wizard.database.models import Handoff, KioskTerminal, Registration
from wizard.registration import handoff, registrations

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Seconds a worker keeps the enrolled addresses before reading them again.
REFRESH_SECONDS = 30.0
#: Seconds before the next attempt after a failed read.
RETRY_SECONDS = 2.0

#: What the browser is told to forget when the session ends (Chromium, Firefox and Safari
#: honour what they support and ignore the rest).
CLEAR_SITE_DATA = '"cache", "cookies", "storage", "executionContexts"'

_CACHE = "kiosk_enrolled"


def canonical(address: str) -> str:
    """One spelling per address (``ValueError`` when it is not one): compressed IPv6, and an
    IPv4-mapped IPv6 address (``::ffff:10.0.0.5``, as dual-stack servers report) as IPv4."""
    ip = ipaddress.ip_address(address.strip())
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.compressed


def parse_networks(value: object) -> tuple[Network, ...]:
    """``KIOSK_NETWORKS`` as networks: a list of CIDRs (or addresses), or one string of them
    separated by commas or spaces (``FLASK_KIOSK_NETWORKS=10.20.0.0/24``). ``ValueError``
    names the first that is not one."""
    if value is None or value == "":
        return ()
    items: Iterable[object]
    if isinstance(value, str):
        items = value.replace(",", " ").split()
    elif isinstance(value, Iterable):
        items = value
    else:
        raise ValueError(f"expected a list of networks, not {value!r}")
    networks: list[Network] = []
    for item in items:
        if isinstance(item, ipaddress.IPv4Network | ipaddress.IPv6Network):
            networks.append(item)
            continue
        try:
            networks.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not a network (e.g. 10.20.0.0/24)") from None
    return tuple(networks)


@dataclass(frozen=True)
class _Enrolled:
    addresses: frozenset[str]
    read_at: float


def enrolled_addresses(app: Flask | None = None) -> frozenset[str]:
    """The enrolled terminals' addresses, read again at most every REFRESH_SECONDS. When the
    database does not answer, the last list read is kept (and asked again later)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached: _Enrolled | None = app.extensions.get(_CACHE)
    now = time.monotonic()
    if cached is not None and now - cached.read_at < REFRESH_SECONDS:
        return cached.addresses
    addresses = cached.addresses if cached is not None else frozenset()
    try:
        with app.extensions["db_sessionmaker"]() as db_session:
            addresses = frozenset(db_session.scalars(select(KioskTerminal.address)))
    except SQLAlchemyError as error:
        logger.warning("kiosk terminals could not be read: %s", type(error).__name__)
        # Asked again after RETRY_SECONDS, not REFRESH_SECONDS: a worker that never read the
        # list must not take an enrolled terminal for a person's own browser (and offer it a
        # binding) for long once the database is back; nor ask on every request while it is
        # down (each ask may wait for the connect timeout).
        now -= REFRESH_SECONDS - RETRY_SECONDS
    app.extensions[_CACHE] = _Enrolled(addresses, now)
    return addresses


def forget_enrolled(app: Flask) -> None:
    """Read the enrolled terminals again at the next request (after enroll/remove here)."""
    app.extensions.pop(_CACHE, None)


def address_is_kiosk(address: str | None) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(canonical(address))
    except ValueError:
        return False
    networks = parse_networks(current_app.config.get("KIOSK_NETWORKS"))
    if any(ip.version == net.version and ip in net for net in networks):
        return True
    return ip.compressed in enrolled_addresses()


def is_kiosk() -> bool:
    """True when this request comes from a counter kiosk (decided once per request)."""
    if not has_request_context():
        return False
    if "kiosk" not in g:
        g.kiosk = address_is_kiosk(request.remote_addr)
    return bool(g.kiosk)


# --- 結束使用: the server's side of the wipe ----------------------------------------------------

#: Session key: the registration a kiosk sign-in came from (its reference hash, which cannot
#: be used as a reference), so that 結束使用 after step 6 still blanks it.
SIGNED_IN_FROM = "kiosk_registration"


def remember(registration: Registration) -> None:
    """Step 6 on a kiosk signed the person in (a new session, without the registration's
    reference): keep which registration 結束使用 must blank."""
    session[SIGNED_IN_FROM] = registration.ref_hash


#: Hand-off statuses in which a phone could still act for the registration.
_OPEN_HANDOFFS = (handoff.Status.WAITING, handoff.Status.OPENED, handoff.Status.CHECKING)


def wipe(db: Session, now: dt.datetime | None = None) -> None:
    """Everything of the person at this browser, on the server: the registration's personal
    data is blanked and it expires (as ``purge`` does, whatever its step), its QR codes stop
    working (a phone that scanned one sees "expired"), the logged-in session ends, and the
    Flask session is emptied (the language choice too: the next person starts in zh-TW).
    The caller commits."""
    now = now or clock.now()
    hashes = [
        h
        for h in (registrations.reference_hash(), session.get(SIGNED_IN_FROM))
        if isinstance(h, str)
    ]
    if hashes:
        for registration in db.scalars(
            select(Registration).where(Registration.ref_hash.in_(hashes))
        ).all():
            _blank(db, registration, now)
    if auth.SESSION_KEY in session:
        row = auth.current(db, touch=False)
        if row is not None:
            auth.end(db, row, now)
    session.clear()


def _blank(db: Session, registration: Registration, now: dt.datetime) -> None:
    registrations.audit(db, "kiosk.wiped", registration)  # (masked, before the blanking)
    db.execute(
        update(Handoff)
        .where(
            Handoff.registration_id == registration.id,
            Handoff.status.in_([s.value for s in _OPEN_HANDOFFS]),
        )
        .values(status=handoff.Status.EXPIRED.value, finished_at=now)
    )
    db.execute(
        update(Registration)
        .where(Registration.id == registration.id)
        .values(
            purged=True,
            expires_at=min(registration.expires_at, now),
            **dict.fromkeys(registrations.PERSONAL_COLUMNS, None),
        )
    )


# --- operators: flask --app wsgi kiosk enroll / list / remove ----------------------------------


@click.group("kiosk")
def kiosk_cli() -> None:
    """Counter kiosks enrolled one terminal at a time (whole networks: KIOSK_NETWORKS)."""


def _address_argument(value: str) -> str:
    try:
        return canonical(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an IP address (one terminal, e.g. 10.20.3.14;"
            " whole networks go in KIOSK_NETWORKS)"
        ) from None


@kiosk_cli.command("enroll")
@click.argument("address")
@click.option("--label", required=True, help='Where it stands, e.g. "台北總局 3 號櫃檯".')
@with_appcontext
def enroll_command(address: str, label: str) -> None:
    """Enroll the terminal the site sees at ADDRESS as a kiosk (or change its label)."""
    from wizard.database.db import create_all

    ip = _address_argument(address)
    label = label.strip()
    if not label or len(label) > 100:
        raise click.BadParameter("give a label of 1 to 100 characters", param_hint="--label")
    create_all()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.extensions["db_sessionmaker"]() as db_session:
        row = db_session.scalars(select(KioskTerminal).where(KioskTerminal.address == ip)).first()
        if row is None:
            db_session.add(KioskTerminal(address=ip, label=label, enrolled_at=clock.now()))
            verb = "Enrolled"
        else:
            row.label = label
            verb = "Relabelled"
        db_session.commit()
    forget_enrolled(app)
    click.echo(
        f"{verb} {ip} ({label}) as a kiosk; running workers see it within {int(REFRESH_SECONDS)} s."
    )


@kiosk_cli.command("list")
@with_appcontext
def list_command() -> None:
    """The enrolled terminals, and the KIOSK_NETWORKS setting."""
    from wizard.database.db import create_all

    create_all()
    with current_app.extensions["db_sessionmaker"]() as db_session:
        rows = db_session.scalars(select(KioskTerminal).order_by(KioskTerminal.address)).all()
        for row in rows:
            click.echo(f"{row.address}\t{row.label}\tenrolled {row.enrolled_at:%Y-%m-%d %H:%M} UTC")
    networks = parse_networks(current_app.config.get("KIOSK_NETWORKS"))
    if not rows:
        click.echo("No terminals enrolled.")
    click.echo("KIOSK_NETWORKS: " + (", ".join(str(n) for n in networks) or "none"))


@kiosk_cli.command("remove")
@click.argument("address")
@with_appcontext
def remove_command(address: str) -> None:
    """Stop treating the terminal at ADDRESS as a kiosk."""
    from wizard.database.db import create_all

    ip = _address_argument(address)
    create_all()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.extensions["db_sessionmaker"]() as db_session:
        row = db_session.scalars(select(KioskTerminal).where(KioskTerminal.address == ip)).first()
        if row is None:
            raise click.ClickException(f"{ip} is not enrolled (see `flask kiosk list`).")
        db_session.delete(row)
        db_session.commit()
    forget_enrolled(app)
    click.echo(
        f"Removed {ip}; running workers stop treating it as a kiosk within"
        f" {int(REFRESH_SECONDS)} s."
    )


def _template_globals() -> dict[str, object]:
    return {
        "kiosk_idle_seconds": int(current_app.config["KIOSK_IDLE_SECONDS"]),
        "kiosk_warning_seconds": int(current_app.config["KIOSK_WARNING_SECONDS"]),
    }


def init_app(app: Flask) -> None:
    """The ``kiosk`` CLI group, and ``kiosk`` in every template: a flag (true on a kiosk),
    also inside imported macros (templates/macros/forms.html), which see globals only."""
    app.cli.add_command(kiosk_cli)
    app.jinja_env.globals["kiosk"] = LocalProxy(is_kiosk)
    app.context_processor(_template_globals)
