"""Steps 6-7 and the logged-in session: binding the applying browser, the four-field login,
the 使用須知 notice, logout and session extension, the device list, and the "not me" link that
the new-binding text message carries."""

from __future__ import annotations

import datetime as dt
import ipaddress

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update
from werkzeug.wrappers import Response

from wizard import clock
from wizard.accounts import accounts, auth, devices
from wizard.accounts.views.login import bound_binding, device_cookie, render_login
from wizard.database import db
from wizard.database.models import Account, DeviceBinding, Registration, SmsMessage
from wizard.kiosk import kiosk
from wizard.registration import flow, registrations
from wizard.registration.steps import guard
from wizard.rules import identity, useragent
from wizard.web import i18n, limits
from wizard.web.forms import LoginForm
from wizard.web.rendering import full_redirect, render

bp = Blueprint("account", __name__)


def _see_other(endpoint: str, **values: object) -> Response:
    return Response(status=303, headers={"Location": url_for(endpoint, **values)})


#: How long the new-binding text's "not me" link works; afterwards the devices page does.
NOT_ME_VALID = dt.timedelta(days=30)


class _AppClockSigner(TimestampSigner):
    """Timestamps on the app's clock (a test's frozen one too), not the system's."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _revoke_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.secret_key,  # type: ignore[arg-type]
        salt="binding-revoke-v2",
        signer=_AppClockSigner,
    )


def _set_device_cookie(response: Response, value: str) -> None:
    response.set_cookie(
        device_cookie(),
        value,
        max_age=devices.COOKIE_MAX_AGE,
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )


# --- step 6: bind the applying browser, then the notice --------------------------------


@bp.post("/register/bind")
@limits.per_ip("bind")
def bind() -> Response:
    """Create this browser's device credential (WebCrypto key, or the cookie fallback)."""
    database = db.session()
    registration, redirect_to = guard(database, flow.Step.VERIFIED)
    if registration is None:
        return redirect_to  # type: ignore[return-value]
    now = clock.now()
    claimed = database.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.bound_at.is_(None))
        .values(bound_at=now)
    ).rowcount
    if not claimed:
        database.rollback()
        flash(_("這次申請已完成綁定，請直接登入。"), "info")
        return _see_other("login.index")
    account = database.scalars(
        select(Account).where(Account.national_id == registration.national_id)
    ).one()
    label = useragent.summary(request.user_agent.string)
    binding_id: int | None = None
    cookie: str | None = None
    if not kiosk.is_kiosk():
        previous = devices.from_cookie(database, request.cookies.get(device_cookie()))
        if previous is not None:
            # Re-applying on a browser replaces its binding (forgotten password, new phone).
            devices.revoke(database, previous.id, "replaced", now)
        try:
            binding, cookie = devices.bind(
                database, account, label, now, request.form.get("public_key") or None
            )
        except devices.BadKey:
            binding, cookie = devices.bind(database, account, label, now, None)
        binding_id = binding.id
        _announce(database, account, binding, now)
        registrations.audit(database, f"binding.created.{binding.kind}", registration, label)
    else:
        registrations.audit(database, "binding.skipped.kiosk", registration, label)
    auth.sign_in(database, account, binding_id)
    if kiosk.is_kiosk():
        kiosk.remember(registration)  # the sign-in renewed the session: 結束使用 still finds it
    database.commit()
    response = _see_other("account.notice")
    if cookie:
        _set_device_cookie(response, cookie)
    return response


def _announce(database, account: Account, binding: DeviceBinding, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """Tell the verified number about the new binding, with a link that revokes it."""
    link = url_for("account.not_me", token=_revoke_serializer().dumps(binding.id), _external=True)
    body = _(
        "【勞保局】您的行動電話認證已於 %(time)s 綁定新裝置（%(label)s）。"
        "若不是您本人，請開啟 %(link)s 撤銷。",
        time=clock.local_time(now, "%m/%d %H:%M"),
        label=binding.label,
        link=link,
    )
    if current_app.config["CARRIER_GATEWAY"] == "simulator":
        database.add(SmsMessage(msisdn=account.msisdn, body=body, sent_at=now))


@bp.route("/notice", methods=["GET", "POST"])
@auth.login_required
def notice() -> Response:
    """Step 6: 使用須知, read to its end before 開始使用."""
    database = db.session()
    row = auth.current(database)
    assert row is not None
    if request.method == "POST":
        row.account.notice_read_at = clock.now()
        database.commit()
        return _see_other("portal.home")
    return render("accounts/notice.html", title=_("使用須知"))


# --- step 7: the four-field login on a bound browser --------------------------------------


@bp.post("/login/device")
@limits.per_ip("login")
def login() -> Response:
    """登入 with 身分證號, 出生日期, 姓名, 憑證密碼 and this browser's credential."""
    database = db.session()
    binding = bound_binding()
    if binding is None:
        flash(_("這個瀏覽器尚未綁定行動電話認證（或已被撤銷），請先申請。"), "info")
        return _see_other("login.index")
    form = LoginForm()
    if not form.validate_on_submit():
        return render_login(login_form=form)
    now = clock.now()
    account = binding.account
    until = accounts.locked_until(account, now)
    if until is not None:
        registrations_audit(database, "login.locked", account)
        database.commit()
        return render_login(login_form=form)
    # After the lock (a locked account sees its own message, uncounted), before the hash.
    limits.count("login", account.national_id)
    hasher = current_app.extensions["hasher"]
    password_ok = hasher.verify(account.password_hash, form.password.data or "")
    answers = accounts.Answers(
        form.national_id.data or "", form.birth_date.data or "", form.name.data or "", ""
    )
    device_ok = binding.kind == "cookie" or (
        devices.use_challenge(database, form.challenge.data or "", now)
        and devices.signature_ok(binding, form.challenge.data or "", form.signature.data or "")
    )
    today = now.astimezone(clock.TAIPEI).date()
    if not (accounts.answers_match(account, answers, today, password_ok) and device_ok):
        locked = accounts.record_failure(database, account, now)
        registrations_audit(database, "login.failed" if not locked else "login.lockout", account)
        database.commit()
        if locked is None:
            left = accounts.MAX_FAILURES - account.failed_logins
            form.form_errors.append(
                _("登入資料有誤，請重新輸入。再錯 %(left)s 次，這個裝置的登入會暫停。", left=left)
            )
        return render_login(login_form=form)
    accounts.record_success(account)
    binding.last_used_at = now
    if hasher.needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(form.password.data or "")
    registrations.forget()
    auth.sign_in(database, account, binding.id)
    registrations_audit(database, "login.ok", account)
    database.commit()
    return _see_other("account.notice" if account.notice_read_at is None else "portal.home")


def registrations_audit(database, kind: str, account: Account) -> None:  # type: ignore[no-untyped-def]
    from wizard.database.models import AuditEvent

    database.add(
        AuditEvent(
            at=clock.now(), kind=kind, subject=identity.mask_national_id(account.national_id)
        )
    )


# --- the logged-in session ------------------------------------------------------------


@bp.post("/logout")
def logout() -> Response:
    """登出: ends the session on the server, whatever the cookie says."""
    database = db.session()
    row = auth.current(database, touch=False)
    if row is not None:
        auth.end(database, row, clock.now())
        database.commit()
    i18n.clear_session()
    flash(_("您已登出。"), "info")
    return _see_other("login.index")


@bp.post("/session/extend")
@auth.login_required
def extend() -> Response:
    """繼續使用: the idle timer starts again (the request itself counts as activity)."""
    return Response(status=204)


# --- devices ------------------------------------------------------------------------


@bp.get("/account/devices")
@auth.login_required
def device_list() -> Response:
    """The browsers bound to this account, each with a way to revoke it."""
    database = db.session()
    row = auth.current(database)
    assert row is not None
    return render(
        "accounts/devices.html",
        bindings=devices.active(database, row.account_id),
        current_binding=row.binding_id,
        title=_("已綁定的裝置"),
        fmt=clock.local_time,
    )


@bp.post("/account/devices/<int:binding_id>/revoke")
@auth.login_required
def device_revoke(binding_id: int) -> Response:
    database = db.session()
    row = auth.current(database)
    assert row is not None
    binding = database.get(DeviceBinding, binding_id)
    if binding is None or binding.account_id != row.account_id:
        abort(404)
    now = clock.now()
    if devices.revoke(database, binding.id, "user", now):
        registrations_audit(database, "binding.revoked", row.account)
        # Sessions that logged in with that device end with it.
        database.execute(
            update(auth.UserSession)
            .where(auth.UserSession.binding_id == binding.id, auth.UserSession.ended_at.is_(None))
            .values(ended_at=now)
        )
    database.commit()
    flash(_("已撤銷「%(label)s」的綁定。", label=binding.label), "info")
    if binding.id == row.binding_id:
        i18n.clear_session()
        return full_redirect(url_for("login.index"))
    return _see_other("account.device_list")


@bp.route("/not-me/<token>", methods=["GET", "POST"])
def not_me(token: str) -> Response:
    """The text message's link: confirm, then revoke that binding and log out everywhere.
    Valid for 30 days (NOT_ME_VALID) and once: a used or expired link says so and points to
    the devices page."""
    try:
        binding_id = int(
            _revoke_serializer().loads(token, max_age=int(NOT_ME_VALID.total_seconds()))
        )
    except SignatureExpired:
        return render(
            "web/error.html",
            status=410,
            title=_("這個連結已過期"),
            text=_(
                "「不是我」連結在簡訊發出後 30 天內有效。"
                "請登入後在「已綁定的裝置」撤銷不認得的裝置，或聯絡勞保局（02-2396-1266）。"
            ),
            errors=True,
        )
    except (BadSignature, ValueError, TypeError):
        return render(
            "web/error.html",
            status=400,
            title=_("這個連結無效"),
            text=_("連結不完整或已被修改。"),
            errors=True,
        )
    database = db.session()
    binding = database.get(DeviceBinding, binding_id)
    if binding is None:
        abort(404)
    if binding.revoked_at is not None:  # single use: used already (or revoked elsewhere)
        return render(
            "web/error.html",
            status=410,
            title=_("這個連結已使用過"),
            text=_(
                "這個裝置的綁定已經撤銷，連結只能使用一次。請登入後在「已綁定的裝置」查看其他裝置。"
            ),
            errors=True,
        )
    if request.method == "POST" and binding.revoked_at is None:
        now = clock.now()
        devices.revoke(database, binding.id, "not_me", now)
        auth.end_all(database, binding.account_id, now)
        registrations_audit(database, "binding.revoked.not_me", binding.account)
        database.commit()
    return render(
        "accounts/not_me.html",
        binding=binding,
        token=token,
        revoked=binding.revoked_at is not None,
        title=_("撤銷裝置綁定"),
        fmt=clock.local_time,
    )


def _outbox_allowed() -> bool:
    """Only the machine itself (``make run`` on a laptop, the tests), or a demo whose operator
    chose to show it (``SIM_OUTBOX_PUBLIC``): never anyone's texts on a public demo."""
    if current_app.config["CARRIER_GATEWAY"] != "simulator":
        return False
    if current_app.config.get("SIM_OUTBOX_PUBLIC"):
        return True
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/simulator/outbox")
def outbox() -> Response:
    """The carrier simulator's sent text messages (demo and tests only)."""
    if not _outbox_allowed():
        abort(404)
    messages = (
        db.session().scalars(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(50)).all()
    )
    return render(
        "accounts/outbox.html",
        messages=messages,
        mask=identity.mask_msisdn,
        fmt=clock.local_time,
        title=_("簡訊模擬器：已發送簡訊"),
    )
