"""Blueprints: login (step 1 and the other methods), register (steps 2-3), verify (steps 4-5
and the phone), account, help pages, portal (the query functions after login), kiosk
(結束使用 on counter terminals)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from wizard.views import account, help, kiosk, login, portal, register, verify

    app.register_blueprint(login.bp)
    app.register_blueprint(register.bp)
    app.register_blueprint(verify.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(help.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(kiosk.bp)
