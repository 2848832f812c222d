"""Operator commands: ``init-db`` (migrate and seed), ``db`` (wizard/ops/migrations.py), ``purge``
(abandoned registrations), ``records import`` (wizard/records/cli.py). The kiosk and simulator
groups come with their areas."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from wizard import clock
from wizard.database import db
from wizard.ops import migrations
from wizard.ops import seed as seeding
from wizard.records.cli import records_cli
from wizard.registration import registrations


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete the personal data of registrations left idle past their 30-minute expiry."""
    with current_app.extensions["db_sessionmaker"]() as db_session:
        count = registrations.purge(db_session, clock.now())
        db_session.commit()
    click.echo(f"Purged the personal data of {count} expired registration(s).")


@click.command("init-db")
@click.option("--seed/--no-seed", default=True, help="Also load the demo people and records.")
@with_appcontext
def init_db_command(seed: bool) -> None:
    """Migrate to the newest schema (db upgrade: tables, carriers); with --seed (the default)
    also load the demo people and their records if absent."""
    try:
        migrations.upgrade(db.engine())
    except migrations.MigrationError as error:
        raise click.ClickException(str(error)) from None
    if seed:
        with current_app.extensions["db_sessionmaker"]() as db_session:
            added = seeding.seed(db_session)
            added += seeding.seed_institutions(
                db_session, str(current_app.config["SECRET_KEY"]), current_app.extensions["hasher"]
            )
            db_session.commit()
        click.echo(f"Database ready ({added} demo rows added).")
    else:
        click.echo("Database ready.")


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(migrations.db_cli)
    app.cli.add_command(purge_command)
    app.cli.add_command(records_cli)
