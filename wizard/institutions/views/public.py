"""文件驗證 (public): is this document genuine, and what did it say?

Anyone holding a document (a records PDF/CSV or a check's receipt) enters its 文件編號 and
驗證碼, or scans its QR code (a GET with both filled in). A genuine pair shows when it was
issued, whose it is (masked ID and name) and the facts it printed; any other pair gets one
neutral answer. Rate limited per address (``document_verify.ip``: the code's 49 bits are then
out of reach, docs "Share codes"); every verification is recorded and announced to the person.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from wizard import clock
from wizard.database import db
from wizard.database.models import Account, AuditEvent, IssuedDocument
from wizard.institutions import checks, purposes
from wizard.institutions.forms import VerifyDocumentForm
from wizard.records import documents
from wizard.records.records import TYPE_NAMES, TYPES
from wizard.rules import identity
from wizard.web import limits
from wizard.web.rendering import render

bp = Blueprint("documents", __name__)
# The area's templates: insurance type names, purpose names, Taipei times, masked IDs.
bp.add_app_template_global(TYPE_NAMES, "TYPE_NAMES")  # type: ignore[arg-type]
bp.add_app_template_global(TYPES, "TYPES")  # type: ignore[arg-type]
bp.add_app_template_global(purposes.name, "purpose_name")
bp.add_app_template_global(clock.local_time, "fmt")
bp.add_app_template_global(identity.mask_national_id, "mask_id")


def _holder_name(document: IssuedDocument) -> str | None:
    account = (
        db.session()
        .scalars(select(Account).where(Account.national_id == document.national_id))
        .first()
    )
    return identity.mask_name(account.name) if account else None


def _verify(number: str, code: str) -> dict[str, Any] | None:
    database = db.session()
    document = documents.verify(database, number, code)
    # Every verification is logged, found or not (the number only: never the code).
    database.add(
        AuditEvent(
            at=clock.now(),
            kind="document.verified" if document else "document.unknown",
            subject=identity.mask_national_id(document.national_id) if document else None,
            detail=identity.fold(number)[:40],
        )
    )
    if document is None:
        database.commit()
        return None
    summary = json.loads(document.summary)
    checks.document_verified(database, document, clock.now())
    database.commit()
    return {
        "document": document,
        "summary": summary,
        "holder_id": identity.mask_national_id(document.national_id),
        "holder_name": summary.get("holder_name") or _holder_name(document),
    }


@bp.route("/documents/verify", methods=["GET", "POST"])
@limits.per_ip("document_verify", exempt_when=lambda: _is_blank_get())
def verify() -> Response:
    """文件驗證: the form, and the answer for a posted (or scanned) number and code."""
    form = VerifyDocumentForm()
    result: dict[str, Any] | None = None
    checked = False
    if request.method == "GET" and request.args.get("n") and request.args.get("c"):
        form.number.data = request.args["n"]
        form.code.data = request.args["c"]
        checked, result = True, _verify(request.args["n"], request.args["c"])
    elif form.validate_on_submit():
        checked, result = True, _verify(form.number.data or "", form.code.data or "")
    return render(
        "institutions/verify.html",
        form=form,
        checked=checked,
        result=result,
        title=_("文件驗證"),
        errors=bool(form.errors),
    )


def _is_blank_get() -> bool:
    """Only an actual verification counts against the limit, not opening the page."""
    return request.method == "GET" and not (request.args.get("n") and request.args.get("c"))
