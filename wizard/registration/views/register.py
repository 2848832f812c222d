"""Steps 2-5 of the registration: personal data, device type, then QR or direct verification."""

from __future__ import annotations

import random
import secrets

from flask import Blueprint, current_app, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from wizard import clock
from wizard.carrier import PersonClaim, PrecheckOutcome, gateway
from wizard.database import db
from wizard.database.models import Carrier, Registration
from wizard.kiosk import kiosk
from wizard.registration import flow, registrations
from wizard.registration.steps import go, guard
from wizard.rules import captcha, identity, passwords, useragent
from wizard.web import i18n, limits
from wizard.web.errors import too_many_in_place
from wizard.web.forms import DeviceForm, PersonalForm
from wizard.web.messages import message
from wizard.web.rendering import is_htmx, render

bp = Blueprint("register", __name__, url_prefix="/register")


#: Where each carrier answer is shown: beside the field it is about, or above the form.
PRECHECK_FIELD: dict[PrecheckOutcome, str] = {
    PrecheckOutcome.MISMATCH: "form",
    PrecheckOutcome.WRONG_CARRIER: "carrier",
    PrecheckOutcome.PREPAID: "msisdn",
    PrecheckOutcome.FAMILY: "msisdn",
    PrecheckOutcome.ENTERPRISE: "msisdn",
    PrecheckOutcome.MVNO: "msisdn",
    PrecheckOutcome.UNAVAILABLE: "form",
}

# --- CAPTCHA -------------------------------------------------------------------------------


def _new_captcha(registration: Registration, kind: captcha.Kind | None = None) -> None:
    kind = kind or captcha.Kind(registration.captcha_kind or captcha.Kind.IMAGE)
    seed = secrets.randbits(62)
    challenge = captcha.new_challenge(kind, rng=_rng(seed))
    registration.captcha_kind = kind.value
    registration.captcha_seed = seed
    registration.captcha_answer = challenge.answer
    registration.captcha_expires_at = clock.now() + current_app.config["CAPTCHA_LIFETIME"]
    registration.captcha_serial = (registration.captcha_serial or 0) + 1


def _rng(seed: int) -> random.Random:
    return random.Random(seed)


def _challenge(registration: Registration) -> captcha.Challenge:
    return captcha.new_challenge(
        captcha.Kind(registration.captcha_kind), rng=_rng(registration.captcha_seed or 0)
    )


def _ensure_captcha(registration: Registration) -> bool:
    """Make a challenge if there is none or it expired. True when one was made."""
    if registration.captcha_answer and registration.captcha_expires_at > clock.now():
        return False
    _new_captcha(registration)
    return True


def _check_captcha(registration: Registration, typed: str) -> str | None:
    """The error code, or None when right. Any attempt uses the challenge up (single use)."""
    fixed = current_app.config.get("CAPTCHA_FIXED_ANSWER")
    answer, expires = registration.captcha_answer, registration.captcha_expires_at
    registration.captcha_answer = None
    if not (typed or "").strip():
        return "captcha.empty"
    if fixed and captcha.matches(str(fixed), typed):
        return None
    if answer is None or expires is None or expires <= clock.now():
        return "captcha.expired"
    return None if captcha.matches(answer, typed) else "captcha.wrong"


# --- step 2 --------------------------------------------------------------------------------


def _carriers(session: Session) -> list[Carrier]:
    return list(session.scalars(select(Carrier).where(Carrier.listed).order_by(Carrier.sort_order)))


def _carrier_choices(carriers: list[Carrier]) -> list[SelectChoice]:
    choices = [SelectChoice("", _("請選擇"))]
    for carrier in carriers:
        label = i18n.carrier_name(carrier)
        if carrier.operator is not None:
            label = _(
                "%(brand)s（已併入%(operator)s）",
                brand=i18n.carrier_name(carrier),
                operator=i18n.carrier_name(carrier.operator),
            )
        choices.append(SelectChoice(carrier.code, label))
    return choices


def _prefill(form: PersonalForm, registration: Registration) -> None:
    """Fill the form from what is on file (GET, or after 清空輸入區 nothing)."""
    form.carrier.data = registration.carrier.code if registration.carrier else ""
    form.msisdn.data = identity.format_msisdn(registration.msisdn) if registration.msisdn else ""
    form.nhi_card.data = registration.nhi_card or ""
    form.birth_date.data = (
        registration.birth_date.strftime("%Y/%m/%d") if registration.birth_date else ""
    )
    form.name.data = registration.name or ""


def _render_personal(
    form: PersonalForm,
    registration: Registration,
    notes: dict[str, str],
    form_error: str | None = None,
    confirm_clear: bool = False,
) -> Response:
    has_errors = bool(form.errors) or bool(form_error)
    return render(
        "registration/personal.html",
        form=form,
        registration=registration,
        masked_id=identity.mask_national_id(registration.national_id or ""),
        challenge=_challenge(registration),
        notes=notes,
        form_error=form_error,
        password_on_file=bool(registration.password_hash),
        confirm_clear=confirm_clear,
        title=_("輸入個人資料及手機門號"),
        errors=has_errors,
    )


@bp.route("/personal", methods=["GET", "POST"])
@limits.per_ip("personal", methods=["POST"])
def personal() -> Response:
    """Step 2: personal data and the number, checked with the carrier on 送出."""
    session = db.session()
    registration, redirect_to = guard(session, flow.Step.PERSONAL)
    if registration is None:
        return redirect_to  # type: ignore[return-value]
    form = PersonalForm()
    form.carrier.choices = _carrier_choices(_carriers(session))
    action = request.form.get("action", "submit") if request.method == "POST" else None
    notes: dict[str, str] = {}
    if action == "clear" and (_typed_anything() or _draft_password(registration)):
        # Something would be lost: ask first, with every box as typed (the passwords, as on
        # every page shown again, are never sent back). Nothing typed: nothing to ask.
        return _render_personal(form, registration, notes, confirm_clear=True)
    if action in ("clear", "clear_confirmed"):
        action = "clear"
    if request.method == "GET" or action == "clear":
        if action == "clear":
            # Empty boxes, also after coming back from a later step (what is on file stays).
            _clear_draft(registration)
            for box in (form.carrier, form.msisdn, form.nhi_card, form.birth_date, form.name):
                box.data = ""
        else:
            _prefill(form, registration)
        if _ensure_captcha(registration) or action:
            session.commit()
        return _render_personal(form, registration, notes)
    if action in ("language", "keep"):
        # The language switch with JavaScript posts what was typed (wizard/i18n.py): show the
        # boxes again as they were, in the other language; nothing is checked or stored. As
        # everywhere, the passwords and the CAPTCHA answer are never sent back to the browser.
        return _render_personal(form, registration, notes)
    if action in ("new_captcha", "text_captcha", "image_captcha"):
        # Without JavaScript these buttons post the whole form: keep what was typed.
        kind = {"text_captcha": captcha.Kind.TEXT, "image_captcha": captcha.Kind.IMAGE}.get(action)
        limits.count("captcha", registration.national_id or "")
        _new_captcha(registration, kind)
        session.commit()
        return _render_personal(form, registration, notes)
    return _submit_personal(session, registration, form, notes)


@too_many_in_place("register.personal")
def _personal_refused(text: str) -> Response | None:
    """Step 2 refused by a rate limit: the form again as typed (never the passwords), the
    refusal above it, nothing checked or stored (the CAPTCHA is not used up)."""
    session = db.session()
    registration = registrations.current(session)
    if (
        request.method != "POST"
        or registration is None
        or not flow.is_allowed(registrations.state(registration), flow.Step.PERSONAL)
    ):
        return None
    form = PersonalForm()
    form.carrier.choices = _carrier_choices(_carriers(session))
    if _ensure_captcha(registration):
        session.commit()
    return _render_personal(form, registration, {}, form_error=text)


#: The boxes of step 2 that 清空輸入區 empties.
_TYPED_BOXES = (
    *("carrier", "msisdn", "nhi_card", "birth_date", "name"),
    *("captcha", "password", "password_confirm"),
)


def _typed_anything() -> bool:
    return any(request.form.get(box, "").strip() for box in _TYPED_BOXES)


def _draft_password(registration: Registration) -> bool:
    """A password set on step 2 and not yet taken further: 清空輸入區 would forget it."""
    return bool(registration.password_hash) and registration.step == flow.Step.PERSONAL.value


def _clear_draft(registration: Registration) -> None:
    if registration.step == flow.Step.PERSONAL.value:
        for column in ("carrier_id", "msisdn", "nhi_card", "birth_date", "name", "password_hash"):
            setattr(registration, column, None)


def _submit_personal(
    session: Session, registration: Registration, form: PersonalForm, notes: dict[str, str]
) -> Response:
    limits.count("personal", registration.national_id or "")
    valid = form.validate()
    today = clock.now().astimezone(clock.TAIPEI).date()
    try:
        birth = identity.parse_birth_date(form.birth_date.data or "", today)
        form.cleaned["birth_date"] = birth.value
        if birth.roc:
            notes["birth_date"] = _(
                "已將民國日期 %(typed)s 讀為西元 %(read)s",
                typed=(form.birth_date.data or "").strip(),
                read=birth.display(),
            )
    except identity.Invalid as exc:
        form.add_error("birth_date", message(exc.code, exc.params))
        valid = False
    captcha_error = _check_captcha(registration, form.captcha.data or "")
    if captcha_error:
        form.add_error("captcha", message(captcha_error))
        valid = False
    password_hash = _password(registration, form)
    valid = valid and password_hash is not None
    if not valid:
        return _reject(session, registration, form, notes)
    carrier = session.scalars(select(Carrier).where(Carrier.code == form.cleaned["carrier"])).one()
    claim = PersonClaim(
        national_id=registration.national_id or "",
        name=form.cleaned["name"],
        birth_date=form.cleaned["birth_date"],
        nhi_card=form.cleaned["nhi_card"],
        carrier_code=carrier.code,
        msisdn=form.cleaned["msisdn"],
    )
    if not limits.allow("precheck", claim.national_id, limits.PRECHECKS_PER_ID):
        registrations.audit(session, "precheck.limited", registration)
        return _reject(
            session,
            registration,
            form,
            notes,
            password_hash,
            form_error=message("precheck.too_many"),
        )
    result = gateway().precheck(claim)
    registrations.audit(session, f"precheck.{result.outcome.value}", registration)
    if not result.ok:
        text = message(f"precheck.{result.outcome.value}")
        where = PRECHECK_FIELD[result.outcome]
        if where != "form":
            form.add_error(where, text)
        return _reject(
            session,
            registration,
            form,
            notes,
            password_hash,
            form_error=text if where == "form" else None,
        )
    _store(registration, form, carrier, password_hash)
    registrations.apply(
        registration,
        flow.advance(
            registrations.state(registration), flow.Step.PERSONAL, flow.Event.SUBMIT_PERSONAL
        ),
    )
    session.commit()
    return go(flow.Step.DEVICE)


def _password(registration: Registration, form: PersonalForm) -> str | None:
    """The hash to store, or None with the error set on the form.

    When a password is already on file (the person came back to this step) and both boxes are
    left empty, the one on file stays.
    """
    typed, confirm = form.password.data or "", form.password_confirm.data or ""
    if registration.password_hash and not typed and not confirm:
        return registration.password_hash
    context = passwords.Context(
        national_id=registration.national_id or "",
        msisdn=form.cleaned.get("msisdn", ""),
        birth_date=form.cleaned.get("birth_date"),
        name=form.cleaned.get("name", ""),
    )
    try:
        passwords.check(typed, None, context)
    except passwords.PasswordRejected as exc:
        code = exc.code
        if code == "password.contains":
            code = f"password.contains.{exc.params.get('what')}"
        form.add_error("password", message(code, exc.params))
        return None
    if not confirm:
        form.add_error("password_confirm", message("password_confirm.empty"))
        return None
    if passwords.normalise(confirm) != passwords.normalise(typed):
        form.add_error("password_confirm", message("password.mismatch"))
        return None
    return current_app.extensions["hasher"].hash(typed)


def _reject(
    session: Session,
    registration: Registration,
    form: PersonalForm,
    notes: dict[str, str],
    password_hash: str | None = None,
    form_error: str | None = None,
) -> Response:
    """Show the form again with its errors; keep a draft of what was valid (never the CAPTCHA)."""
    if registration.step == flow.Step.PERSONAL.value:
        carrier = None
        if "carrier" in form.cleaned:
            carrier = session.scalars(
                select(Carrier).where(Carrier.code == form.cleaned["carrier"])
            ).first()
        _store(registration, form, carrier, password_hash, partial=True)
    _new_captcha(registration)
    registrations.touch(registration)
    session.commit()
    return _render_personal(form, registration, notes, form_error=form_error)


def _store(
    registration: Registration,
    form: PersonalForm,
    carrier: Carrier | None,
    password_hash: str | None,
    partial: bool = False,
) -> None:
    values = {
        "carrier_id": carrier.id if carrier else None,
        "msisdn": form.cleaned.get("msisdn"),
        "nhi_card": form.cleaned.get("nhi_card"),
        "birth_date": form.cleaned.get("birth_date"),
        "name": form.cleaned.get("name"),
        "password_hash": password_hash,
    }
    for column, value in values.items():
        if value is not None or not partial:
            setattr(registration, column, value)
    if carrier is not None:
        registration.carrier = carrier


@bp.post("/captcha")
@limits.per_ip("captcha")
def new_captcha() -> Response:
    """重新產生驗證碼 with JavaScript: a new challenge; only the CAPTCHA block is swapped."""
    session = db.session()
    registration, redirect_to = guard(session, flow.Step.PERSONAL)
    if registration is None:
        return redirect_to  # type: ignore[return-value]
    limits.count("captcha", registration.national_id or "")
    kind = {"text": captcha.Kind.TEXT, "image": captcha.Kind.IMAGE}.get(
        request.form.get("kind", "")
    )
    _new_captcha(registration, kind)
    session.commit()
    form = PersonalForm()
    return render(
        "registration/_captcha.html",
        form=form,
        challenge=_challenge(registration),
        registration=registration,
        fragment=True,
    )


@too_many_in_place("register.new_captcha")
def _captcha_refused(text: str) -> Response | None:
    """重新產生驗證碼 refused: the same challenge stays, the refusal inside the CAPTCHA block
    (the rest of the form, as typed, is not touched)."""
    if not is_htmx():
        return None
    registration = registrations.current(db.session())
    if registration is None or not registration.captcha_kind:
        return None
    return render(
        "registration/_captcha.html",
        form=PersonalForm(),
        challenge=_challenge(registration),
        registration=registration,
        refused=text,
    )


@bp.get("/captcha.png")
def captcha_image() -> Response:
    """The current challenge's picture. Its URL changes with each challenge (?v=serial)."""
    session = db.session()
    registration = registrations.current(session)
    if (
        registration is None
        or not registration.captcha_answer
        or registration.captcha_kind != captcha.Kind.IMAGE.value
    ):
        return Response(status=404)
    png = captcha.render_png(registration.captcha_answer, seed=registration.captcha_seed)
    response = Response(png, mimetype="image/png")
    return response


# --- step 3 --------------------------------------------------------------------------------

FORM_TO_DEVICE = {
    ("desktop", None): flow.Device.DESKTOP,
    ("tablet", "yes"): flow.Device.TABLET_SIM,
    ("tablet", "no"): flow.Device.TABLET_NO_SIM,
    ("phone", None): flow.Device.PHONE,
}
DEVICE_TO_FORM = {device: pair for pair, device in FORM_TO_DEVICE.items()}


@bp.route("/device", methods=["GET", "POST"])
@limits.per_ip("device", methods=["POST"])
def device() -> Response:
    """Step 3: which device this is; the answer decides between steps 4 and 5."""
    session = db.session()
    registration, redirect_to = guard(session, flow.Step.DEVICE)
    if registration is None:
        return redirect_to  # type: ignore[return-value]
    form = DeviceForm()
    if kiosk.is_kiosk():
        # A counter kiosk has no SIM: always the QR path, whatever was posted.
        form.device.data, form.sim.data = "desktop", None
    if form.validate_on_submit():
        sim = form.sim.data if form.device.data == "tablet" else None
        chosen = FORM_TO_DEVICE[(form.device.data, sim)]
        new_state = flow.advance(
            registrations.state(registration), flow.Step.DEVICE, flow.Event.CHOOSE_DEVICE, chosen
        )
        registrations.apply(registration, new_state)
        registration.user_agent_summary = useragent.summary(request.user_agent.string, _("瀏覽器"))
        registrations.audit(session, "device.chosen", registration, chosen.value)
        session.commit()
        return go(new_state.step)
    if request.method == "GET":
        if registration.device:
            form.device.data, form.sim.data = DEVICE_TO_FORM[flow.Device(registration.device)]
        else:
            form.device.data = useragent.guess_device(
                request.user_agent.string, request.headers.get("Sec-CH-UA-Mobile")
            )
    return render(
        "registration/device.html", form=form, title=_("選擇您的裝置"), errors=bool(form.errors)
    )
