"""``flask --app wsgi records import FILE.csv``: load insurance records (README.md,
"Insurance records"). Every row is checked first; one bad row stops the import with its line
and column, and nothing is written."""

from __future__ import annotations

import csv
from typing import IO

import click
from flask import current_app
from flask.cli import with_appcontext

from wizard.records import records


@click.group("records")
def records_cli() -> None:
    """Insurance records shown in the portal."""


@records_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@with_appcontext
def import_command(file: IO[str]) -> None:
    """Load records from FILE.csv (UTF-8, BOM allowed). Header: national_id,insurance_type,
    unit_name,unit_number,insured_salary,enrolled_on,withdrawn_on. Upserted by national_id,
    insurance_type, unit_number and enrolled_on."""
    from wizard.database.db import create_all

    create_all()
    try:
        reader = csv.DictReader(file)
        records.check_header(reader.fieldnames)
        rows = list(reader)
        with current_app.extensions["db_sessionmaker"]() as db_session:
            report = records.import_rows(db_session, rows)
            db_session.commit()
    except records.RecordCsvError as exc:
        raise click.ClickException(f"{exc} (nothing was imported)") from exc
    except csv.Error as exc:
        raise click.ClickException(f"line {reader.line_num}: {exc} (nothing was imported)") from exc
    click.echo(
        f"Imported {report.added + report.updated} insurance records "
        f"({report.added} added, {report.updated} updated)."
    )
