"""The person's side in the portal: 投保證明分享 (make a share after a preview of exactly what
will be seen, list, 撤銷) and 誰查看了我的資料 (every check made on their data)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from wizard import clock
from wizard.accounts import auth
from wizard.database import db
from wizard.database.models import Account
from wizard.institutions import checks, codes, facts, purposes, shares
from wizard.institutions.forms import ShareForm
from wizard.registration import handoff
from wizard.web import limits
from wizard.web.rendering import render

bp = Blueprint("shares", __name__, url_prefix="/portal")


def _account() -> Account:
    row = auth.current(db.session())
    assert row is not None  # login_required ran first
    return row.account


def _today() -> dt.date:
    return clock.now().astimezone(clock.TAIPEI).date()


def _list(form: ShareForm, preview: dict[str, object] | None = None, status: int = 200) -> Response:
    account = _account()
    now = clock.now()
    rows = [
        (share, shares.status(share, now))
        for share in shares.mine(db.session(), account.national_id)
    ]
    response = render(
        "institutions/shares.html",
        form=form,
        rows=rows,
        preview=preview,
        purposes=purposes,
        title=_("投保證明分享"),
        errors=bool(form.errors),
    )
    response.status_code = status
    return response


@bp.get("/shares")
@auth.login_required
def shares_page() -> Response:
    """投保證明分享: the person's shares and the form for a new one."""
    return _list(ShareForm())


@bp.post("/shares")
@auth.login_required
@limits.per_ip("share_create")
def create() -> Response:
    """預覽 (step "preview") shows exactly what an institution will see; 確認建立 makes it."""
    form = ShareForm()
    if not form.validate_on_submit():
        return _list(form)
    account = _account()
    choice = form.choice()
    choice.check()  # the form has checked each field: a ValueError here is a bug
    database = db.session()
    preview = facts.shown(database, account.national_id, _today(), choice.scope, choice.years)
    if form.step.data != "confirm":
        form.step.data = "confirm"
        return _list(form, preview={"choice": choice, "shown": preview})
    try:
        share, code = shares.create(
            database,
            str(current_app.config["SECRET_KEY"]),
            account.national_id,
            choice,
            clock.now(),
        )
    except shares.TooManyShares:
        form.form_errors.append(
            _("您已有 %(n)s 個有效的分享碼，請先撤銷不再需要的分享碼。", n=shares.MAX_LIVE)
        )
        return _list(form)
    database.commit()
    return render(
        "institutions/share_made.html",
        share=share,
        code=codes.show(code),
        qr_svg=handoff.qr_svg(codes.show(code)),
        shown=preview,
        purposes=purposes,
        title=_("分享碼已建立"),
    )


@bp.post("/shares/<int:share_id>/revoke")
@auth.login_required
def revoke(share_id: int) -> Response:
    """撤銷: the person's own share only (another's answers 404)."""
    database = db.session()
    if not shares.revoke(database, _account().national_id, share_id, clock.now()):
        abort(404)
    database.commit()
    flash(_("分享碼已撤銷，機構無法再以它查驗。"), "success")
    return redirect(url_for("shares.shares_page"), code=303)


@bp.get("/checks")
@auth.login_required
def checks_page() -> Response:
    """誰查看了我的資料."""
    rows = checks.of_person(db.session(), _account().national_id)
    return render(
        "institutions/my_checks.html",
        rows=[(row, checks.shown(row)) for row in rows],
        purposes=purposes,
        title=_("誰查看了我的資料"),
    )
