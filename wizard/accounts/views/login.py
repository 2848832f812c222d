"""The login page 個人登入: the login methods, step 1 (行動電話認證's national ID, which starts a
registration) and, on a bound browser, the four-field panel (posted to account.login)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from wizard import clock
from wizard.accounts import accounts, devices
from wizard.accounts.methods import METHODS
from wizard.database import db
from wizard.database.models import DeviceBinding
from wizard.kiosk import kiosk
from wizard.registration import flow, registrations
from wizard.registration.steps import go
from wizard.rules import identity
from wizard.web import limits
from wizard.web.forms import IdentifyForm, LoginForm
from wizard.web.rendering import render

bp = Blueprint("login", __name__)


MOBILE = "mobile"


@bp.get("/")
def home() -> Response:
    return redirect(url_for("login.index"))


@bp.route("/login", methods=["GET", "POST"])
@limits.per_ip("identify", methods=["POST"])
def index() -> Response:
    """Step 1: ask the national ID and start (or continue) a registration."""
    session = db.session()
    registration = registrations.current(session)
    current_id = registration.national_id if registration else None
    form = IdentifyForm(current=current_id)
    if form.validate_on_submit():
        national_id = form.cleaned["national_id"]
        limits.count("identify", national_id)
        if registration is None or registration.national_id != national_id:
            if registration is not None:
                # A different person (or a typo fixed): nothing typed for the old ID carries over.
                registrations.audit(session, "registration.replaced", registration)
                registration.expires_at = clock.now()
            registration = registrations.start(session)
            registration.national_id = national_id
            registrations.apply(
                registration,
                flow.advance(
                    registrations.state(registration), flow.Step.IDENTIFY, flow.Event.SUBMIT_ID
                ),
            )
            registrations.audit(session, "registration.started", registration)
        session.commit()
        return go(flow.Step.PERSONAL)
    return render_login(form=form)


def device_cookie() -> str:
    """The device credential's cookie name (``__Host-`` prefixed in production)."""
    return str(current_app.config["DEVICE_COOKIE_NAME"])


def bound_binding() -> DeviceBinding | None:
    if kiosk.is_kiosk():
        return None  # a counter kiosk is never bound: no four-field login, no device key used
    return devices.from_cookie(db.session(), request.cookies.get(device_cookie()))


def login_context(form: LoginForm | None = None) -> dict[str, object]:
    """What the login page needs to show the four-field panel on a bound browser."""
    database = db.session()
    binding = bound_binding()
    if binding is None:
        return {}
    now = clock.now()
    nonce = devices.new_challenge(database, now)
    database.commit()
    until = accounts.locked_until(binding.account, now)
    return {
        "binding": binding,
        "challenge": nonce,
        "login_form": form or LoginForm(),
        "locked_until": clock.local_time(until) if until else None,
    }


def render_login(form: IdentifyForm | None = None, login_form: LoginForm | None = None) -> Response:
    """The login page: on a bound browser the four-field panel, else (or when re-applying)
    the national ID that starts a registration."""
    registration = registrations.current(db.session())
    current_id = registration.national_id if registration else None
    form = form or IdentifyForm(current=current_id)
    context = login_context(login_form)
    reapply = request.args.get("reapply") == "1" or (
        request.method == "POST" and request.endpoint == "login.index"
    )
    has_errors = (
        bool(form.errors)
        or bool(login_form and login_form.errors)
        or bool(context.get("locked_until") and login_form is not None)
    )
    return render(
        "accounts/login.html",
        form=form,
        methods=METHODS,
        current_id=identity.mask_national_id(current_id) if current_id else None,
        reapply=reapply,
        title=_("個人登入"),
        errors=has_errors,
        **context,
    )


@bp.get("/login/method/<code>")
def method(code: str) -> Response:
    """A login method this site does not serve: where it is offered and what it needs."""
    chosen = next((m for m in METHODS if m.code == code), None)
    if chosen is None:
        abort(404)
    return render("accounts/method.html", method=chosen, methods=METHODS, title=str(chosen.name))


@bp.post("/register/restart")
def restart() -> Response:
    """重新申請行動認證: abandon this registration and start from step 1."""
    session = db.session()
    registration = registrations.current(session)
    if registration is not None:
        registrations.audit(session, "registration.restarted", registration)
        registration.expires_at = clock.now()
        session.commit()
    registrations.forget()
    flash(_("已清除先前輸入的資料，請重新開始。"), "info")
    return go(flow.Step.IDENTIFY)
