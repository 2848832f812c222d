"""The institution side (``/institution``): staff log in with 帳號, 密碼 and 動態密碼, check a
trainee's share code with their 身分證號 (查驗), or, where allowed, query without a code
(the agency's Web IR), and keep the check's PDF receipt. A check's answer can be reopened by
its institution for 30 minutes (to print it); another institution's check is a 404."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from wizard import clock
from wizard.database import db
from wizard.database.models import Account
from wizard.institutions import checks, purposes, receipt, staff
from wizard.institutions.forms import AgencyQueryForm, CheckForm, StaffLoginForm, refusal_text
from wizard.records import documents
from wizard.rules import identity
from wizard.web import limits
from wizard.web.rendering import render

bp = Blueprint("institution", __name__, url_prefix="/institution")


def _member() -> Any:
    return g.staff_session.staff


@bp.route("/login", methods=["GET", "POST"])
@limits.per_ip("staff_login", methods=["POST"])
def login() -> Response:
    """登入: 帳號, 密碼, 動態密碼."""
    form = StaffLoginForm()
    form_error = None
    if form.validate_on_submit():
        database = db.session()
        now = clock.now()
        username = (form.username.data or "").strip().lower()
        limits.count("staff_login", username)
        result = staff.authenticate(
            database,
            current_app.extensions["hasher"],
            staff.secret_key(),
            username,
            form.password.data or "",
            form.otp.data or "",
            now,
            bool(current_app.config.get("PRODUCTION")),
        )
        if result.outcome == "ok" and result.member is not None:
            staff.sign_in(database, result.member, now)
            database.commit()
            return redirect(url_for("institution.home"), code=303)
        database.commit()
        if result.outcome == "locked" and result.locked_until is not None:
            form_error = _(
                "登入失敗次數過多，帳號暫停登入至 %(time)s。",
                time=clock.local_time(result.locked_until),
            )
        elif result.outcome == "disabled":
            form_error = _("這個帳號或所屬單位已停用，無法登入。請洽勞保局。")
        elif result.outcome == "demo":
            form_error = _("示範帳號不能在正式環境登入。")
        elif result.left:
            form_error = _(
                "帳號、密碼或動態密碼有誤，請重新輸入。再錯 %(left)s 次，帳號會暫停登入。",
                left=result.left,
            )
        else:
            form_error = _("帳號、密碼或動態密碼有誤，請重新輸入。")
        form.otp.data = ""
    return render(
        "institutions/login.html",
        form=form,
        form_error=form_error,
        title=_("機構登入"),
        errors=bool(form.errors or form_error),
    )


@bp.post("/logout")
def logout() -> Response:
    database = db.session()
    staff.sign_out(database, clock.now())
    database.commit()
    flash(_("您已登出。"), "info")
    return redirect(url_for("institution.login"), code=303)


def _home(form: CheckForm, form_error: str | None = None) -> Response:
    member = _member()
    recent = checks.of_institution(db.session(), member.institution_id, limit=20)
    return render(
        "institutions/home.html",
        form=form,
        form_error=form_error,
        member=member,
        institution=member.institution,
        recent=recent,
        title=_("投保資料查驗"),
        errors=bool(form.errors or form_error),
    )


@bp.route("/", methods=["GET", "POST"])
@staff.staff_required
@limits.per_ip("share_check", methods=["POST"])
def home() -> Response:
    """查驗: 身分證號 + 分享碼."""
    form = CheckForm()
    if not form.validate_on_submit():
        return _home(form)
    member = _member()
    limits.count("share_check", str(member.id), per="staff")
    database = db.session()
    checker = checks.Checker(member.institution, member, "web")
    try:
        check = checks.with_share_code(
            database,
            staff.secret_key(),
            checker,
            form.national_id.data or "",
            form.code.data or "",
            clock.now(),
        )
    except checks.Refused as error:
        database.commit()  # the failure counts
        if error.reason == "malformed_id":
            form.national_id.errors = [refusal_text(error)]
            return _home(form)
        if error.reason == "malformed_code":
            form.code.errors = [refusal_text(error)]
            return _home(form)
        return _home(form, refusal_text(error))
    database.commit()
    return redirect(url_for("institution.result", number=check.check_number), code=303)


@bp.route("/query", methods=["GET", "POST"])
@staff.staff_required
@limits.per_ip("share_check", methods=["POST"])
def query() -> Response:
    """機關查詢 (Web IR): only for an institution allowed to; purpose and case number."""
    member = _member()
    institution = member.institution
    if not institution.may_query:
        abort(404)
    form = AgencyQueryForm()
    form.purpose.choices = [
        SelectChoice(code, _(purposes.name(code))) for code in staff.allowed_purposes(institution)
    ]
    form_error = None
    if form.validate_on_submit():
        limits.count("share_check", str(member.id), per="staff")
        database = db.session()
        try:
            check = checks.agency_query(
                database,
                checks.Checker(institution, member, "web"),
                form.national_id.data or "",
                form.purpose.data or "",
                form.case_number.data or "",
                clock.now(),
            )
        except checks.Refused as error:
            database.commit()
            if error.reason == "malformed_id":
                form.national_id.errors = [refusal_text(error)]
            elif error.reason == "case_number":
                form.case_number.errors = [refusal_text(error)]
            elif error.reason == "purpose":
                form.purpose.errors = [refusal_text(error)]
            else:
                form_error = refusal_text(error)
        else:
            database.commit()
            return redirect(url_for("institution.result", number=check.check_number), code=303)
    return render(
        "institutions/query.html",
        form=form,
        form_error=form_error,
        member=member,
        institution=institution,
        title=_("機關查詢"),
        errors=bool(form.errors or form_error),
    )


def _own_check(number: str) -> Any:
    check = checks.for_institution(db.session(), _member().institution_id, number)
    if check is None:
        abort(404)
    return check


@bp.get("/checks/<number>")
@staff.staff_required
def result(number: str) -> Response:
    """The check's answer: exactly what was shown, with its number, time and institution."""
    check = _own_check(number)
    visible = checks.answer_visible(check, clock.now())
    return render(
        "institutions/result.html",
        check=check,
        shown=checks.shown(check) if visible else None,
        lines=receipt.describe(checks.shown(check)) if visible else [],
        masked_id=identity.mask_national_id(check.national_id),
        purposes=purposes,
        member=_member(),
        institution=_member().institution,
        title=_("查驗結果"),
    )


@bp.get("/checks/<number>.pdf")
@staff.staff_required
@limits.limiter.limit(lambda: limits.LIMITS["download.session"])
def receipt_pdf(number: str) -> Response:
    """The receipt: a PDF issued as a verifiable document."""
    check = _own_check(number)
    if not checks.answer_visible(check, clock.now()):
        abort(404)
    database = db.session()
    account = database.scalars(
        select(Account).where(Account.national_id == check.national_id)
    ).first()
    try:
        document, body = receipt.issue(
            database,
            check,
            account.name if account else None,
            clock.now(),
            lambda n, c: url_for("documents.verify", n=n, c=c, _external=True),
            str(current_app.config.get("PDF_FONT_PATH", documents.DEFAULT_FONT_PATH)),
            int(current_app.config.get("PDF_FONT_INDEX", 0)),
        )
    except documents.FontUnavailable:
        flash(_("目前無法產生 PDF，請改用列印本頁。"), "warning")
        return redirect(url_for("institution.result", number=number), code=303)
    database.commit()
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{check.check_number}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
