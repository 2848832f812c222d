"""結束使用 on a counter kiosk: wipe everything of the person, then a neutral start page.

Only kiosks have these routes (elsewhere they are 404): the button is on every kiosk page
(templates/layout.html), and static/js/kiosk.js presses it after the idle warning.
"""

from __future__ import annotations

from flask import Blueprint, abort, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from wizard import db, kiosk
from wizard.rendering import full_redirect, render

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")


@bp.before_request
def _kiosks_only() -> None:
    if not kiosk.is_kiosk():
        abort(404)


@bp.post("/end")
def end() -> Response:
    """結束使用: the server forgets the person (kiosk.wipe), the browser is told to forget
    everything of this site (Clear-Site-Data), and a fresh page follows."""
    database = db.session()
    kiosk.wipe(database)
    database.commit()
    response = full_redirect(url_for("kiosk.ended"))
    response.headers["Clear-Site-Data"] = kiosk.CLEAR_SITE_DATA
    return response


@bp.get("/ended")
def ended() -> Response:
    """After 結束使用 (or the idle timeout): nothing of the previous person, a way to start."""
    return render("pages/kiosk_ended.html", title=_("已結束使用"), kiosk_idle=False)
