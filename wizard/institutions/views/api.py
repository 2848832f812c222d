"""``/api/v1``: the same checks for institutions' own enrolment systems (docs/openapi.json).

A request carries ``Authorization: Bearer <key>`` (a per-institution key, stored hashed;
``flask institution api-key``). Same rules, refusals, limits and records as the staff pages,
channel "api"; answers are JSON, never cached. Refusals are 4xx with ``{"error": reason,
"message": words}``: 401 no or bad key, 403 disabled / not allowed / purpose, 404 unknown
code, 422 malformed input, 429 limits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from wizard import clock, csrf
from wizard.database import db
from wizard.database.models import DataCheck
from wizard.institutions import checks, staff
from wizard.institutions.forms import refusal_text
from wizard.rules import identity
from wizard.web import errors, limits

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

STATUS = {
    "malformed_id": 422,
    "malformed_code": 422,
    "case_number": 422,
    "unknown": 404,
    "disabled": 403,
    "purpose": 403,
    "not_allowed": 403,
    "paused": 429,
}


def _error(status: int, reason: str, message: str) -> Response:
    response = jsonify({"error": reason, "message": message})
    response.status_code = status
    return response


@bp.before_request
def _authenticate() -> Response | None:
    scheme, _, rest = request.headers.get("Authorization", "").partition(" ")
    key = rest.strip() if scheme.lower() == "bearer" else ""  # RFC 9110: case-insensitive
    row = staff.institution_for_key(db.session(), key) if key else None
    if row is None:
        response = _error(401, "unauthorized", "A valid API key is required (Bearer).")
        response.headers["WWW-Authenticate"] = 'Bearer realm="bli"'
        return response
    g.api_key = row
    limits.count("api", str(row.id), per="key")
    return None


@bp.errorhandler(TooManyRequests)
def _too_many(error: TooManyRequests) -> Response:
    response = _error(429, "rate_limited", "Too many requests; try again later.")
    seconds, _moment = errors.retry_moment(error)
    response.headers["Retry-After"] = str(seconds)
    return response


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _answer(check: DataCheck) -> Response:
    response = jsonify(
        {
            "check_number": check.check_number,
            "checked_at": check.at.astimezone(dt.UTC).isoformat(),
            "institution": check.institution.name if check.institution else None,
            "purpose": check.purpose,
            "case_number": check.case_number,
            "national_id": identity.mask_national_id(check.national_id),
            "shown": checks.shown(check),
        }
    )
    response.status_code = 201
    return response


def _run(action: Any) -> Response:
    database = db.session()
    try:
        check = action(database, checks.Checker(g.api_key.institution, None, "api"))
    except checks.Refused as error:
        database.commit()
        response = _error(STATUS.get(error.reason, 400), error.reason, refusal_text(error))
        if error.reason == "paused":
            until = dt.datetime.fromisoformat(error.detail)
            wait = (until - clock.now()).total_seconds()
            response.headers["Retry-After"] = str(max(1, int(wait) + 1))
        return response
    database.commit()
    return _answer(check)


@bp.post("/share-checks")
def share_check() -> Response:
    """Check a share code: ``{"national_id", "share_code"}``."""
    body = _body()
    return _run(
        lambda database, checker: checks.with_share_code(
            database,
            staff.secret_key(),
            checker,
            str(body.get("national_id") or ""),
            str(body.get("share_code") or ""),
            clock.now(),
        )
    )


@bp.post("/agency-queries")
def agency_query() -> Response:
    """Query without a code (allowed institutions): ``{"national_id", "purpose",
    "case_number"}``."""
    body = _body()
    return _run(
        lambda database, checker: checks.agency_query(
            database,
            checker,
            str(body.get("national_id") or ""),
            str(body.get("purpose") or ""),
            str(body.get("case_number") or ""),
            clock.now(),
        )
    )
