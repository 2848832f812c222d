"""結束使用 on a counter kiosk: wipe everything of the person, then a neutral start page.

Only kiosks have these routes (elsewhere they are 404): the button is on every kiosk page
(templates/layout.html), and static/js/kiosk.js presses it after the idle warning.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, session, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from wizard import csrf
from wizard.database import db
from wizard.kiosk import kiosk
from wizard.web.rendering import full_redirect, render

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")


@bp.before_request
def _kiosks_only() -> None:
    if not kiosk.is_kiosk():
        abort(404)


@bp.post("/end")
@csrf.exempt
def end() -> Response:
    """結束使用: the server forgets the person (kiosk.wipe), the browser is told to forget
    everything of this site (Clear-Site-Data), and a fresh page follows.

    It must never fail, or the next person at the terminal finds this one's session: so no
    CSRF token (a stale one would refuse the wipe; only kiosk addresses reach this route, and
    the worst a forged post can do is end someone's use early), and when the database cannot
    be written the browser's side is still wiped (its cookie, the only way back to the
    registration, goes; the row itself expires after 30 minutes)."""
    database = db.session()
    try:
        kiosk.wipe(database)
        database.commit()
    except SQLAlchemyError as error:
        database.rollback()
        session.clear()
        current_app.logger.error("kiosk: wipe without the database (%s)", type(error).__name__)
    response = full_redirect(url_for("kiosk.ended"))
    response.headers["Clear-Site-Data"] = kiosk.CLEAR_SITE_DATA
    return response


@bp.get("/ended")
def ended() -> Response:
    """After 結束使用 (or the idle timeout): nothing of the previous person, a way to start."""
    return render("kiosk/ended.html", title=_("已結束使用"), kiosk_idle=False)
