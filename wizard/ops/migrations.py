"""Database migrations: Alembic (``migrations/``) run against the app's own engine.

    flask --app wsgi db upgrade [REVISION]  # to the newest schema (head), add missing carriers
    flask --app wsgi db current             # the database's revision; is it the newest?
    flask --app wsgi db downgrade REVISION  # back to REVISION ("base": no tables at all)
    flask --app wsgi db stamp REVISION      # record REVISION without changing anything
    flask --app wsgi db revision -m "..."   # autogenerate the next revision from the models

The Alembic configuration is built here (no alembic.ini): the scripts' folder, and the open
connection that migrations/env.py uses. On PostgreSQL an advisory lock serialises hosts that
start at once; the whole upgrade is one transaction there (SQLite: per statement).
A database made by ``create_all`` before migrations existed is adopted: when its tables match
the models exactly it is stamped at the newest revision, otherwise the upgrade refuses, saying
what differs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import Connection, Engine, UniqueConstraint, inspect, text
from sqlalchemy.orm import Session

from wizard import ROOT
from wizard.database.models import Base

MIGRATIONS = ROOT / "migrations"

#: PostgreSQL advisory lock held while migrating ("BLI mig").
_LOCK_KEY = 0x424C496D6967


class MigrationError(RuntimeError):
    """The database cannot be migrated as it is; the message says why and what to do."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(stdout=sys.stdout)
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def differences(connection: Connection, *, names: bool = True) -> list[Any]:
    """What separates the database's schema from ``Base.metadata`` (Alembic's autogenerate
    comparison; empty when they match). ``names=False``: a unique constraint that exists under
    another name (or none) counts as the same."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    found = [d for d in compare_metadata(context, Base.metadata) if not _alembic_table(d)]
    if names:
        return found
    inspector = inspect(connection)
    return [d for d in found if not _renamed_unique(d, inspector)]


def _alembic_table(difference: Any) -> bool:
    # Alembic's own table is not part of the models.
    return (
        isinstance(difference, tuple)
        and difference[0] == "remove_table"
        and difference[1].name == "alembic_version"
    )


def _renamed_unique(difference: Any, inspector: Any) -> bool:
    """A unique constraint the other side has on the same columns under another name."""
    if not isinstance(difference, tuple) or difference[0] not in (
        "add_constraint",
        "remove_constraint",
    ):
        return False
    constraint = difference[1]
    if not isinstance(constraint, UniqueConstraint):
        return False
    table, columns = constraint.table.name, [c.name for c in constraint.columns]
    if difference[0] == "add_constraint":  # in the models, not found in the database
        found = inspector.get_unique_constraints(table)
        return any(list(u["column_names"]) == columns for u in found)
    model = Base.metadata.tables.get(table)
    return model is not None and any(
        isinstance(u, UniqueConstraint) and [c.name for c in u.columns] == columns
        for u in model.constraints
    )


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One connection, one transaction, the migration lock (PostgreSQL) and, on SQLite, foreign
    keys off (batch operations copy tables; the pragma is a no-op inside a transaction)."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
                    )
                yield connection
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _adopt(connection: Connection) -> None:
    """Stamp a database made by create_all (no alembic_version, every table) at the head."""
    tables = set(inspect(connection).get_table_names())
    ours = set(Base.metadata.tables)
    if "alembic_version" in tables or not tables & ours:
        return
    # Tables made by create_all before the models named their constraints differ only there.
    found = differences(connection, names=False)
    if found:
        listed = "\n".join(f"  {item}" for item in found[:20])
        raise MigrationError(
            "The database has tables but no migration record, and they differ from the models:\n"
            f"{listed}\n"
            "Back it up, then either remove it (the embedded default: instance/wizard.sqlite3 holds"
            " demo data) or bring it in line and record its revision with `db stamp REVISION`."
        )
    command.stamp(alembic_config(connection), "head")


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate to ``revision``; at the head, also add the carriers missing from the table
    (reference data every deployment needs; never demo people). Returns the new revision."""
    from wizard.ops.seed import seed_carriers

    with _migrating(engine) as connection:
        _adopt(connection)
        command.upgrade(alembic_config(connection), revision)
        current = current_revision(connection)
        if current == head_revision():
            with Session(bind=connection) as db_session:
                seed_carriers(db_session)
        return current


def downgrade(engine: Engine, revision: str) -> str | None:
    with _migrating(engine) as connection:
        command.downgrade(alembic_config(connection), revision)
        return current_revision(connection)


def stamp(engine: Engine, revision: str) -> str | None:
    with _migrating(engine) as connection:
        command.stamp(alembic_config(connection), revision)
        return current_revision(connection)


def _describe(revision: str | None) -> str:
    head = head_revision()
    if revision is None:
        return "none (an empty database: run `flask --app wsgi db upgrade`)"
    if revision == head:
        return f"{revision} (head)"
    return f"{revision} (the newest is {head}: run `flask --app wsgi db upgrade`)"


def _engine() -> Engine:
    return current_app.extensions["db_engine"]


@click.group("db")
def db_cli() -> None:
    """Database migrations (Alembic, migrations/)."""


@db_cli.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade_command(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest) and add missing carriers."""
    try:
        reached = upgrade(_engine(), revision)
    except MigrationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Database at revision {_describe(reached)}.")


@db_cli.command("downgrade")
@click.argument("revision")
@click.confirmation_option(prompt="Downgrading drops columns or tables and their data. Go on?")
@with_appcontext
def downgrade_command(revision: str) -> None:
    """Migrate the database back to REVISION ("base": drop every table)."""
    reached = downgrade(_engine(), revision)
    click.echo(f"Database at revision {_describe(reached)}.")


@db_cli.command("stamp")
@click.argument("revision")
@with_appcontext
def stamp_command(revision: str) -> None:
    """Record REVISION as the database's revision without changing the schema."""
    reached = stamp(_engine(), revision)
    click.echo(f"Database marked as revision {_describe(reached)}.")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@with_appcontext
def revision_command(message: str) -> None:
    """Write a new revision from what the models have that the database (at the head) lacks.
    Read it before committing: autogenerate misses renames and some type changes."""
    head = head_revision()
    with _migrating(_engine()) as connection:
        scripts = command.revision(
            alembic_config(connection),
            message=message,
            autogenerate=True,
            rev_id=f"{int(head or 0) + 1:04d}",
        )
    for script in scripts if isinstance(scripts, list) else [scripts]:
        if script is not None:
            click.echo(f"Written {script.path}: read it, then `ruff format` it.")


@db_cli.command("current")
@with_appcontext
def current_command() -> None:
    """Show the database's revision and whether it is the newest."""
    with _engine().connect() as connection:
        click.echo(f"Database revision: {_describe(current_revision(connection))}")


def init_app(app: Flask) -> None:
    """What ``wizard.database.db.create_all`` runs on an empty database: ``upgrade``."""
    from wizard.database import db

    app.extensions[db.MIGRATE] = upgrade
