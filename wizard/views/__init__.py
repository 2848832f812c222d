"""Blueprints: login (step 1 and the other methods), register (steps 2-5), help pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from wizard.views import help, login, register

    app.register_blueprint(login.bp)
    app.register_blueprint(register.bp)
    app.register_blueprint(help.bp)
