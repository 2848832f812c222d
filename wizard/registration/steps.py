"""Shared by the step views: where each step lives and the guard that enforces the flow."""

from __future__ import annotations

from flask import Flask, flash, redirect, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from wizard.database.models import Registration
from wizard.registration import flow, registrations

ENDPOINT: dict[flow.Step, str] = {
    flow.Step.IDENTIFY: "login.index",
    flow.Step.PERSONAL: "register.personal",
    flow.Step.DEVICE: "register.device",
    flow.Step.QR_SCAN: "verify.qr",
    flow.Step.VERIFY: "verify.verify",
    flow.Step.VERIFIED: "verify.done",
}


def url_for_step(step: flow.Step) -> str:
    return url_for(ENDPOINT[step])


def go(step: flow.Step) -> Response:
    """303: after a POST the browser must GET the next step (no resubmission on refresh)."""
    return redirect(url_for_step(step), code=303)


def guard(db: Session, step: flow.Step) -> tuple[Registration | None, Response | None]:
    """The registration, if ``step`` may be shown now; else a redirect to where to go."""
    registration = registrations.current(db)
    if registration is None:
        if registrations.had_expired(db):
            registrations.forget()
            flash(
                _("您的申請已閒置超過 30 分鐘，為保護您的個人資料已清除，請重新開始。"), "warning"
            )
        else:
            flash(_("請先輸入身分證號，開始申請行動電話認證。"), "info")
        return None, go(flow.Step.IDENTIFY)
    state = registrations.state(registration)
    if not flow.is_allowed(state, step):
        flash(_("請先完成目前的步驟，已帶您回到目前的步驟。"), "info")
        return None, go(flow.latest(state))
    return registration, None


def init_app(app: Flask) -> None:
    """``STEP_NUMBER`` in every template: the step captions."""
    app.jinja_env.globals["STEP_NUMBER"] = {step.value: n for step, n in flow.STEP_NUMBER.items()}
