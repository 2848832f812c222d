"""``flask institution``: operators enrol institutions, their staff and API keys.

flask institution add CODE NAME --kind training|agency --purpose training [--may-query]
flask institution list
flask institution disable CODE        (its staff and keys are refused at once)
flask institution staff CODE USERNAME --name NAME   (prints the TOTP enrolment QR)
flask institution api-key CODE --label LABEL        (prints the key once)
"""

from __future__ import annotations

import json
import secrets

import click
import segno
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from wizard import clock
from wizard.database.db import create_all
from wizard.database.models import Institution, StaffMember
from wizard.institutions import purposes, staff


@click.group("institution")
def institution_cli() -> None:
    """Institutions that check trainees' insurance (training institutions, the agency)."""


def _session():  # type: ignore[no-untyped-def]
    create_all()
    return current_app.extensions["db_sessionmaker"]()


def _institution(database, code: str) -> Institution:  # type: ignore[no-untyped-def]
    row = staff.by_code(database, code)
    if row is None:
        raise click.ClickException(f"no institution {code!r} (see `flask institution list`)")
    return row


@institution_cli.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--kind", type=click.Choice(["training", "agency"]), default="training")
@click.option(
    "--purpose",
    "purpose_codes",
    multiple=True,
    type=click.Choice(list(purposes.PURPOSES)),
    help="An allowed purpose (repeat for several); default: training.",
)
@click.option("--may-query", is_flag=True, help="May query without a share code (Web IR).")
@with_appcontext
def add_command(
    code: str, name: str, kind: str, purpose_codes: tuple[str, ...], may_query: bool
) -> None:
    """Enrol the institution CODE called NAME."""
    with _session() as database:
        if staff.by_code(database, code) is not None:
            raise click.ClickException(f"{code!r} exists already")
        database.add(
            Institution(
                code=code,
                name=name,
                kind=kind,
                purposes=json.dumps(list(purpose_codes or (purposes.DEFAULT,))),
                may_query=may_query,
                failed_checks=0,
                created_at=clock.now(),
            )
        )
        database.commit()
    click.echo(f"Enrolled {code} ({name}).")


@institution_cli.command("list")
@with_appcontext
def list_command() -> None:
    """Every institution, its purposes and staff."""
    with _session() as database:
        rows = database.scalars(select(Institution).order_by(Institution.code)).all()
        for row in rows:
            state = "disabled" if row.disabled_at else "active"
            members = database.scalars(
                select(StaffMember.username).where(StaffMember.institution_id == row.id)
            ).all()
            click.echo(
                f"{row.code}\t{row.name}\t{row.kind}\t{state}\tpurposes={','.join(staff.allowed_purposes(row))}"
                f"\tmay_query={row.may_query}\tstaff={','.join(members) or '-'}"
            )
        if not rows:
            click.echo("No institutions enrolled.")


@institution_cli.command("disable")
@click.argument("code")
@with_appcontext
def disable_command(code: str) -> None:
    """Disable CODE: its staff's sessions and its API keys stop working at the next request."""
    with _session() as database:
        row = _institution(database, code)
        row.disabled_at = row.disabled_at or clock.now()
        database.commit()
    click.echo(f"Disabled {code}.")


@institution_cli.command("staff")
@click.argument("code")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="The person's name, as shown.")
@click.option("--password", default=None, help="Default: a random one, printed once.")
@with_appcontext
def staff_command(code: str, username: str, display_name: str, password: str | None) -> None:
    """Add USERNAME to CODE; prints the password and the authenticator app's QR code."""
    username = username.strip().lower()
    password = password or secrets.token_urlsafe(12)
    totp_secret = staff.new_totp_secret()
    with _session() as database:
        institution = _institution(database, code)
        if database.scalars(select(StaffMember).where(StaffMember.username == username)).first():
            raise click.ClickException(f"帳號 {username!r} is taken")
        member = StaffMember(
            institution_id=institution.id,
            username=username,
            display_name=display_name,
            password_hash=current_app.extensions["hasher"].hash(password),
            totp_secret=staff.seal(staff.secret_key(), totp_secret),
            totp_last_step=0,
            demo=False,
            failed_logins=0,
            lock_count=0,
            created_at=clock.now(),
        )
        database.add(member)
        database.commit()
        uri = staff.provisioning_uri(member, totp_secret)
    click.echo(f"帳號 {username} added to {code}. Password (give it in person): {password}")
    click.echo("Scan with an authenticator app (or type the secret):")
    segno.make(uri, error="m").terminal(compact=True)
    click.echo(f"Secret: {totp_secret}")


@institution_cli.command("api-key")
@click.argument("code")
@click.option("--label", required=True, help='What uses it, e.g. "報名系統".')
@with_appcontext
def api_key_command(code: str, label: str) -> None:
    """A new API key for CODE, printed once (only its hash is kept)."""
    with _session() as database:
        institution = _institution(database, code)
        key = staff.new_api_key(database, institution, label, clock.now())
        database.commit()
    click.echo(key)
