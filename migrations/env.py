"""Alembic's environment: the app's database and ``wizard.database.models.Base.metadata``.

Run through the app's CLI (``flask --app wsgi db upgrade``, wizard/migrations_cli.py), which
hands over an open connection of the app's engine in ``config.attributes["connection"]``:
there is no alembic.ini and no URL here.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext

from wizard.database.models import Base, UTCDateTime

target_metadata = Base.metadata


def render_item(kind: str, item: Any, _autogen_context: AutogenContext) -> str | bool:
    """Migrations hold plain SQLAlchemy types: UTCDateTime is DateTime(timezone=True) in the
    database (its UTC handling is Python-side), so a migration never imports
    wizard.database.models."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run migrations with `flask --app wsgi db ...` (wizard/migrations_cli.py)"
        )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported: run them against a database")
run_migrations()
