"""Operator commands: purge abandoned registrations; ``records import`` (wizard/records_cli.py)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from wizard import clock, registrations
from wizard.records_cli import records_cli


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete the personal data of registrations left idle past their 30-minute expiry."""
    with current_app.extensions["db_sessionmaker"]() as db_session:
        count = registrations.purge(db_session, clock.now())
        db_session.commit()
    click.echo(f"Purged the personal data of {count} expired registration(s).")


def init_app(app: Flask) -> None:
    app.cli.add_command(purge_command)
    app.cli.add_command(records_cli)
