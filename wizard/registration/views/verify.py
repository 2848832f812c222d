"""Steps 4 and 5: the QR hand-off on the applying device, the phone's side of it, and direct
verification on a phone or a tablet with a SIM."""

from __future__ import annotations

import datetime as dt
import secrets

from flask import Blueprint, current_app, flash, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from wizard import clock
from wizard.carrier import NetworkIdentity, NetworkOutcome, gateway, network_identity
from wizard.database import db
from wizard.database.models import Handoff, Registration
from wizard.registration import flow, handoff, registrations, verification
from wizard.registration.steps import go, guard
from wizard.rules import identity, useragent
from wizard.web import i18n, limits
from wizard.web.messages import message
from wizard.web.rendering import is_htmx, render

bp = Blueprint("verify", __name__)

#: The applying browser keeps its own QR token (signed cookie) so a refresh shows the same code.
QR_TOKEN_KEY = "qr_token"
#: The phone's own reference to the hand-off it opened (never the desktop's session).
PHONE_KEY = "phone_handoff"
POLL_SECONDS = 2


#: The simulator panel's answers for "which number does the mobile network see". The panel
#: never shows or carries the full number: "same" stands for the registration's own.
OTHER_SIM_NUMBER = "0900000000"


def _identity(registration: Registration) -> NetworkIdentity | None:
    form = dict(request.form)
    seen = form.pop("sim_number", None)
    if seen == "same":
        form["sim_msisdn"] = registration.msisdn or ""
    elif seen == "other":
        form["sim_msisdn"] = OTHER_SIM_NUMBER
    return network_identity(request.headers, form)


def _simulator_panel_needed() -> bool:
    return current_app.config["CARRIER_GATEWAY"] == "simulator" and not request.headers.get(
        "X-Sim-Network"
    )


def _pending(step: flow.Step) -> tuple[Registration | None, Response | None]:
    """``guard(step)``; and once the carrier has confirmed, send the person to step 6."""
    registration, redirect_to = guard(db.session(), step)
    if registration is not None and registration.step == flow.Step.VERIFIED.value:
        return None, go(flow.Step.VERIFIED)
    return registration, redirect_to


# --- step 4 on the applying device --------------------------------------------------------


def _live_token(latest: Handoff | None, now: dt.datetime) -> tuple[Handoff, str] | None:
    """This browser's current QR code, when it is the registration's ``latest`` hand-off and
    still usable."""
    database = db.session()
    token = session.get(QR_TOKEN_KEY)
    if not token or latest is None:
        return None
    try:
        item = handoff.find(database, token, current_app.secret_key)  # type: ignore[arg-type]
    except handoff.Misuse:
        return None
    if item.id != latest.id or handoff.effective_status(item, now) not in (
        handoff.Status.WAITING,
        handoff.Status.OPENED,
        handoff.Status.CHECKING,
    ):
        return None
    return item, token


def _issue(registration: Registration, now: dt.datetime) -> tuple[Handoff, str]:
    database = db.session()
    item, token = handoff.issue(database, registration, now, current_app.secret_key)  # type: ignore[arg-type]
    session[QR_TOKEN_KEY] = token
    registrations.audit(
        database, "handoff.issued", registration, registration.user_agent_summary or ""
    )
    return item, token


@bp.get("/register/qr")
def qr() -> Response:
    """Step 4: the QR code, its countdown and the live status of the hand-off."""
    database = db.session()
    registration, redirect_to = _pending(flow.Step.QR_SCAN)
    if registration is None:
        return redirect_to  # type: ignore[return-value]
    now = clock.now()
    latest = handoff.latest_for(database, registration.id)
    if (
        latest is not None
        and latest.status in handoff.LIVE
        and handoff.effective_status(latest, now) is handoff.Status.EXPIRED
        and handoff.move(database, latest.id, handoff.LIVE, handoff.Status.EXPIRED, now)
    ):
        registrations.audit(database, "handoff.expired", registration)
        database.commit()
    live = _live_token(latest, now)
    if live is None and _can_issue(latest, now):
        live = _issue(registration, now)
        database.commit()
    item = live[0] if live else latest
    return _render_qr(registration, item, live[1] if live else None, now)


def _can_issue(latest: Handoff | None, now: dt.datetime) -> bool:
    """A fresh code is made on arrival, but an ended hand-off is shown as it ended (failed,
    cancelled, expired) until the person asks for a new one."""
    return latest is None or latest.status == handoff.Status.REPLACED.value


def _render_qr(
    registration: Registration, item: Handoff | None, token: str | None, now: dt.datetime
) -> Response:
    status = handoff.effective_status(item, now) if item else handoff.Status.EXPIRED
    url = url_for("verify.open_link", token=token, _external=True) if token else None
    remaining = max(0, int((item.expires_at - now).total_seconds())) if item and token else 0
    return render(
        "registration/qr.html",
        registration=registration,
        item=item,
        state=status.value,
        outcome=item.outcome if item else None,
        qr_svg=handoff.qr_svg(url) if url and status in handoff.LIVE else None,
        qr_url=url,
        remaining=remaining,
        locked=verification.locked(registration),
        poll_seconds=POLL_SECONDS,
        title=_("使用手機掃描 QR Code"),
    )


@bp.get("/register/qr/status")
@limits.per_ip("poll")
def qr_status() -> Response:
    """Polled by the waiting page: reads only, one statement. 204 while nothing changed."""
    ref_hash = registrations.reference_hash()
    if ref_hash:
        limits.count("poll", ref_hash, per="registration")  # before the read: refused cheaply
    now = clock.now()
    view = None
    if ref_hash:
        with db.autocommit() as connection:
            view = handoff.poll_view(connection, ref_hash, now)
    if view is None or not view.live:
        return _finish_polling(url_for("login.index"))
    if view.step == flow.Step.VERIFIED.value:
        return _finish_polling(url_for("verify.done"))
    status = view.effective_status(now).value
    if request.args.get("seen", "") == f"{status}:{view.outcome or ''}":
        return Response(status=204)
    response = render(
        "registration/_qr_status.html",
        state=status,
        outcome=view.outcome,
        locked=view.verify_failures >= verification.MAX_FAILURES,
        poll_seconds=POLL_SECONDS,
        oob=True,
    )
    # A poll's answer is a fragment of step 4: it must not become the address bar's URL.
    response.headers["HX-Push-Url"] = "false"
    return response


def _finish_polling(target: str) -> Response:
    if is_htmx():
        response = Response(status=200)
        response.headers["HX-Redirect"] = target
        return response
    return Response(status=303, headers={"Location": target})


@bp.post("/register/qr/check")
def qr_check() -> Response:
    """我已在手機完成驗證 (works without JavaScript): go on if the phone has verified."""
    registration, redirect_to = _pending(flow.Step.QR_SCAN)
    if registration is None:
        return redirect_to  # type: ignore[return-value]
    flash(_("手機上還沒有完成驗證。請在手機上按「開始驗證」，完成後再按一次。"), "info")
    return go(flow.Step.QR_SCAN)


@bp.post("/register/qr/regenerate")
@limits.per_ip("qr")
def qr_regenerate() -> Response:
    """重新產生QRCode: the old code dies at once; failure counters stay."""
    database = db.session()
    registration, redirect_to = _pending(flow.Step.QR_SCAN)
    if registration is None:
        return redirect_to  # type: ignore[return-value]
    if verification.locked(registration):
        return go(flow.Step.QR_SCAN)
    limits.count("qr", registration.national_id or "")
    now = clock.now()
    latest = handoff.latest_for(database, registration.id)
    if latest is not None:
        replaced = handoff.move(
            database,
            latest.id,
            (
                handoff.Status.WAITING,
                handoff.Status.OPENED,
                handoff.Status.EXPIRED,
                handoff.Status.FAILED,
            ),
            handoff.Status.REPLACED,
            now,
        )
        if not replaced:
            # It moved on since it was read (the phone's 開始驗證 claimed it, or another tap
            # of this button replaced it): issue nothing, and decide on what the database
            # holds now, not on the copy read before the compare-and-set.
            database.rollback()
            database.refresh(latest)
            if latest.status in (
                handoff.Status.CHECKING.value,
                handoff.Status.VERIFIED.value,
                handoff.Status.OPENED.value,
            ):
                flash(_("手機正在驗證中，請稍候結果。"), "info")
            return go(flow.Step.QR_SCAN)
        registrations.audit(database, "handoff.replaced", registration)
    _issue(registration, now)
    registrations.touch(registration)
    database.commit()
    return go(flow.Step.QR_SCAN)


# --- the phone's side of the QR code --------------------------------------------------------


def _misuse(kind: str, item: Handoff | None = None) -> Response:
    """A clear page for a link that cannot be used; it changes nothing."""
    texts = {
        "invalid": (
            _("這個連結無效"),
            _("連結不完整或已被修改。請用手機相機直接掃描電腦畫面上的 QR Code。"),
        ),
        "expired": (
            _("QR Code 已逾時"),
            _("QR Code 只在 5 分鐘內有效。請在電腦上按「重新產生QRCode」，再掃描新的 QR Code。"),
        ),
        "replaced": (
            _("已有較新的 QR Code"),
            _("電腦上已重新產生 QR Code，這一個已失效。請掃描電腦畫面上最新的 QR Code。"),
        ),
        "taken": (
            _("已在另一支手機開啟"),
            _(
                "這個 QR Code 已在另一支手機上開啟，為了安全無法再用。"
                "若不是您，請在電腦上重新產生 QR Code。"
            ),
        ),
        "used": (
            _("這個 QR Code 已使用過"),
            _("每個 QR Code 只能使用一次。請回到電腦查看結果，或重新產生 QR Code。"),
        ),
        "session": (
            _("請重新掃描 QR Code"),
            _("找不到這支手機開啟的驗證。請用手機相機掃描電腦畫面上的 QR Code。"),
        ),
        "withdrawn": (
            _("電腦上的申請已回到前面的步驟"),
            _(
                "電腦上正在修改申請資料或裝置，這個 QR Code 暫時無法驗證。"
                "請等電腦畫面再次顯示 QR Code 後重新掃描。"
            ),
        ),
    }
    title, text = texts[kind]
    database = db.session()
    registrations.audit(
        database,
        f"handoff.misuse.{kind}",
        item.registration if item is not None else None,
        useragent.summary(request.user_agent.string, _("瀏覽器")),
    )
    database.commit()
    status = {"invalid": 400, "session": 400, "withdrawn": 409}.get(kind, 410)
    return render("web/error.html", status=status, title=title, text=text, errors=True)


@bp.get("/h/<path:token>")
def open_link(token: str) -> Response:
    """The QR code's link, opened on a phone: bind this phone to the hand-off (first one wins)."""
    database = db.session()
    now = clock.now()
    if request.method == "HEAD":
        # Link checkers and previews ask with HEAD: answer without using the code up.
        return Response(status=200)
    try:
        item = handoff.find(database, token, current_app.secret_key)  # type: ignore[arg-type]
    except handoff.Misuse:
        return _misuse("invalid")
    status = handoff.effective_status(item, now)
    mine = session.get(PHONE_KEY)
    if status in (handoff.Status.OPENED, handoff.Status.CHECKING):
        if isinstance(mine, str) and item.phone_ref_hash == handoff.phone_ref_hash(mine):
            return redirect_phone()
        return _misuse("taken", item)
    if status is not handoff.Status.WAITING:
        kind = {handoff.Status.EXPIRED: "expired", handoff.Status.REPLACED: "replaced"}.get(
            status, "used"
        )
        return _misuse(kind, item)
    if _gone_back(item):
        return _misuse("withdrawn", item)
    reference = secrets.token_urlsafe(32)
    won = handoff.move(
        database,
        item.id,
        (handoff.Status.WAITING,),
        handoff.Status.OPENED,
        now,
        phone_ref_hash=handoff.phone_ref_hash(reference),
        opened_at=now,
        phone_summary=useragent.summary(request.user_agent.string, _("瀏覽器")),
    )
    if not won:
        database.rollback()
        return _misuse("taken", item)
    registrations.audit(
        database,
        "handoff.opened",
        item.registration,
        useragent.summary(request.user_agent.string, _("瀏覽器")),
    )
    database.commit()
    # A session of the phone's own: nothing of any other registration comes along.
    i18n.clear_session()
    session[PHONE_KEY] = reference
    return redirect_phone()


def _gone_back(item: Handoff) -> bool:
    """The applying browser went back to step 2 or 3 (its data or device may change): its QR
    code cannot be used until it is at step 4 again."""
    return item.registration.step != flow.Step.QR_SCAN.value


def redirect_phone() -> Response:
    # The token leaves the address bar at once: the page after it has a plain URL.
    return Response(status=303, headers={"Location": url_for("verify.phone")})


def _phone_handoff() -> Handoff | None:
    reference = session.get(PHONE_KEY)
    if not isinstance(reference, str):
        return None
    # The registration and its carrier come in the same statement: every page of the phone
    # shows them, and 開始驗證 asks that carrier (two round trips fewer).
    return (
        db.session()
        .scalars(
            select(Handoff)
            .where(Handoff.phone_ref_hash == handoff.phone_ref_hash(reference))
            .options(joinedload(Handoff.registration).joinedload(Registration.carrier))
        )
        .first()
    )


def _render_verify(
    registration: Registration,
    *,
    item: Handoff | None,
    error: str | None = None,
    result: str | None = None,
    status: int = 200,
    match_error: str | None = None,
) -> Response:
    started = None
    if item is not None:
        started = _(
            "一台使用 %(browser)s 的裝置於 %(time)s 開始這項申請",
            browser=registration.user_agent_summary or _("瀏覽器"),
            time=clock.local_time(item.created_at),
        )
    return render(
        "registration/verify.html",
        status=status,
        registration=registration,
        item=item,
        masked_id=identity.mask_national_id(registration.national_id or ""),
        masked_msisdn=identity.mask_msisdn(registration.msisdn or ""),
        started=started,
        error=error,
        result=result,
        simulator_panel=_simulator_panel_needed(),
        locked=verification.locked(registration),
        # Number matching: only a phone that scanned a QR code (the direct path has no second
        # screen). What the person picked and ticked stays picked and ticked on a re-render.
        choices=handoff.choices_of(item) if item is not None else [],
        picked=request.form.get("match") if request.method == "POST" else None,
        terms_checked=request.method == "POST" and request.form.get("terms") == "yes",
        match_error=match_error,
        title={"verified_qr": _("驗證成功"), "cancelled": _("已取消這項申請")}.get(
            result or "", _("核對資料並開始驗證")
        ),
        errors=bool(error),
    )


@bp.get("/phone/verify")
def phone() -> Response:
    """Step 5 on the phone that scanned the QR code."""
    item = _phone_handoff()
    if item is None:
        return _misuse("session")
    status = handoff.effective_status(item, clock.now())
    if status is handoff.Status.VERIFIED:
        return _render_verify(item.registration, item=item, result="verified_qr")
    if status is handoff.Status.CANCELLED:
        return _render_verify(item.registration, item=item, result="cancelled")
    if status is handoff.Status.FAILED:
        return _render_verify(
            item.registration, item=item, result="failed", error=message(f"network.{item.outcome}")
        )
    if status in (handoff.Status.EXPIRED, handoff.Status.REPLACED):
        return _misuse("expired" if status is handoff.Status.EXPIRED else "replaced", item)
    if status in (handoff.Status.OPENED, handoff.Status.CHECKING) and _gone_back(item):
        return _misuse("withdrawn", item)
    if status is handoff.Status.CHECKING:
        # A second tap (or a refresh) while the carrier is being asked: say so.
        flash(_("驗證進行中，請稍候。"), "info")
    if status is handoff.Status.OPENED and item.outcome:
        # The last try failed in a way the person can fix: keep saying how, also on a refresh.
        return _render_verify(
            item.registration,
            item=item,
            error=_failure_text(item.registration, NetworkOutcome(item.outcome)),
        )
    return _render_verify(item.registration, item=item)


@bp.post("/phone/verify")
@limits.per_ip("verify")
def phone_verify() -> Response:
    """開始驗證 on the phone: exactly one tap asks the carrier."""
    item = _phone_handoff()
    if item is None:
        return _misuse("session")
    database = db.session()
    registration = item.registration
    picked = request.form.get("match", "")
    no_pick = picked not in handoff.choices_of(item)
    no_terms = request.form.get("terms") != "yes"
    if no_pick or no_terms:
        return _render_verify(
            registration,
            item=item,
            error=message("terms.unchecked") if no_terms else None,
            match_error=message("match.missing") if no_pick else None,
        )
    now = clock.now()
    if not handoff.number_matches(item, picked):
        return _wrong_number(item, now)
    if not verification.claim_handoff(database, item, now):
        database.rollback()
        return redirect_phone()  # someone else's tap won, or it expired: show where it is
    database.commit()
    asked = verification.asked_about(registration)
    outcome = verification.ask_carrier(
        gateway(), registration, request.remote_addr or "", _identity(registration)
    )
    if not verification.unchanged(database, registration, asked):
        # The desktop went back and changed its data during the check: the answer is about
        # data that is gone. Nothing is recorded; the code may be used again at step 4.
        handoff.move(
            database,
            item.id,
            (handoff.Status.CHECKING,),
            handoff.Status.OPENED,
            clock.now(),
            outcome=None,
            finished_at=None,
        )
        registrations.audit(database, "handoff.void", registration, outcome.value)
        database.commit()
        return redirect_phone()
    retry = verification.record_outcome(database, registration, outcome, now)
    verification.finish_handoff(database, item, outcome, retry, clock.now())
    registrations.audit(
        database,
        f"handoff.{'verified' if outcome is NetworkOutcome.OK else 'failed'}",
        registration,
        outcome.value,
    )
    database.commit()
    if outcome is NetworkOutcome.OK:
        return _render_verify(registration, item=item, result="verified_qr")
    return _render_verify(
        registration,
        item=item,
        error=_failure_text(registration, outcome),
        result=None if retry else "failed",
    )


def _wrong_number(item: Handoff, now: dt.datetime) -> Response:
    """The phone picked another number than the desktop shows: whoever holds this phone
    probably cannot see the applying screen (a relayed QR code). The hand-off ends at once,
    the failure counts, and both screens say so; the carrier is not asked."""
    database = db.session()
    registration = item.registration
    if _gone_back(item):
        return _misuse("withdrawn", item)
    if not handoff.move(
        database,
        item.id,
        (handoff.Status.OPENED,),
        handoff.Status.FAILED,
        now,
        outcome=verification.NUMBER_MISMATCH,
    ):
        database.rollback()
        return redirect_phone()  # it moved on (expired, replaced, another tap): show where
    verification.count_failure(registration)
    registrations.audit(
        database,
        "handoff.number_mismatch",
        registration,
        useragent.summary(request.user_agent.string, _("瀏覽器")),
    )
    database.commit()
    return _render_verify(
        registration,
        item=item,
        error=_failure_text(registration, verification.NUMBER_MISMATCH),
        result="failed",
    )


def _failure_text(registration: Registration, outcome: NetworkOutcome | str) -> str:
    if verification.locked(registration):
        return message("network.too_many")
    return message(f"network.{outcome}")  # a StrEnum formats as its value


@bp.post("/phone/cancel")
def phone_cancel() -> Response:
    """這不是我申請的: the hand-off is cancelled and the registration stopped."""
    item = _phone_handoff()
    if item is None:
        return _misuse("session")
    database = db.session()
    now = clock.now()
    if handoff.move(
        database,
        item.id,
        (handoff.Status.WAITING, handoff.Status.OPENED),
        handoff.Status.CANCELLED,
        now,
    ):
        registration = item.registration
        # The applying browser sees "cancelled" and gets no new QR code for this registration:
        # whoever started it must begin again from step 1 (and the event is audited).
        registrations.audit(
            database,
            "handoff.cancelled",
            registration,
            useragent.summary(request.user_agent.string, _("瀏覽器")),
        )
        database.commit()
    else:
        database.rollback()
    return redirect_phone()


# --- step 5 on the applying device itself (phone, tablet with SIM) -------------------------


@bp.get("/register/verify")
def verify() -> Response:
    """Step 5 on the device that applied (it has the SIM)."""
    registration, redirect_to = _pending(flow.Step.VERIFY)
    if registration is None:
        return redirect_to  # type: ignore[return-value]
    return _render_verify(registration, item=None)


@bp.post("/register/verify")
@limits.per_ip("verify")
def verify_submit() -> Response:
    """開始驗證 on the applying device."""
    database = db.session()
    registration, redirect_to = _pending(flow.Step.VERIFY)
    if registration is None:
        return redirect_to  # type: ignore[return-value]
    if verification.locked(registration):
        return _render_verify(registration, item=None, error=message("network.too_many"))
    if request.form.get("terms") != "yes":
        return _render_verify(registration, item=None, error=message("terms.unchecked"))
    now = clock.now()
    if not verification.claim_direct(database, registration, now):
        database.rollback()
        flash(_("驗證進行中，請稍候。"), "info")
        return go(flow.Step.VERIFY)
    database.commit()
    asked = verification.asked_about(registration)
    outcome = verification.ask_carrier(
        gateway(), registration, request.remote_addr or "", _identity(registration)
    )
    same = verification.unchanged(database, registration, asked)
    registration.checking_since = None
    if not same:
        # Changed in another tab during the check: the answer is about data that is gone.
        registrations.audit(database, "verify.void", registration, outcome.value)
        database.commit()
        return go(flow.Step.VERIFY)
    verification.record_outcome(database, registration, outcome, clock.now())
    registrations.audit(
        database,
        f"verify.{'verified' if outcome is NetworkOutcome.OK else 'failed'}",
        registration,
        outcome.value,
    )
    database.commit()
    if outcome is NetworkOutcome.OK:
        return go(flow.Step.VERIFIED)
    return _render_verify(registration, item=None, error=_failure_text(registration, outcome))


# --- after the carrier's confirmation -----------------------------------------------------


@bp.get("/register/done")
def done() -> Response:
    """The number is confirmed; steps 6-7 (the notice, the device credential) follow."""
    database = db.session()
    registration, redirect_to = guard(database, flow.Step.VERIFIED)
    if registration is None:
        return redirect_to  # type: ignore[return-value]
    return render(
        "registration/done.html",
        registration=registration,
        masked_msisdn=identity.mask_msisdn(registration.msisdn or ""),
        browser=useragent.summary(request.user_agent.string, _("瀏覽器")),
        title=_("行動電話認證成功"),
    )
