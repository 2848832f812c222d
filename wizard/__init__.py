"""Mobile phone authentication (行動電話認證) for the BLI e-service system."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

ROOT = Path(__file__).resolve().parent.parent

csrf = CSRFProtect()
babel = Babel()


def create_app(test_config: dict[str, object] | None = None, clock: object = None) -> Flask:
    """The application factory: settings, database, carrier gateway, views, CLI."""
    from wizard import carrier as carrier_gateway
    from wizard import clock as clocks
    from wizard import config
    from wizard.accounts import auth
    from wizard.database import db
    from wizard.institutions.cli import institution_cli
    from wizard.kiosk import kiosk
    from wizard.ops import cli, migrations, operations
    from wizard.registration import steps
    from wizard.rules import passwords
    from wizard.web import (
        assets,
        compression,
        errors,
        follow,
        html_attributes,
        i18n,
        limits,
        origin,
        outage,
        security,
        templating,
    )

    app = Flask(
        __name__,
        instance_path=os.environ.get("WIZARD_INSTANCE_PATH", str(ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    config.load(app, test_config)
    # Innermost WSGI wrapper (ProxyFix, when configured, goes around it): see wizard/web/follow.py.
    app.wsgi_app = follow.FollowHtmxRedirects(app.wsgi_app)  # type: ignore[method-assign]
    clocks.init_app(app, clock)  # type: ignore[arg-type]
    compression.init_app(app)  # first after_request registered: runs last, on the final body
    csrf.init_app(app)
    origin.init_app(app)  # cross-site POSTs refused (with the token: see its docstring)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    db.init_app(app)
    limits.init_app(app)
    security.init_app(app)
    operations.init_app(app)
    app.extensions["hasher"] = passwords.Hasher(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_COST"],
        parallelism=app.config["ARGON2_PARALLELISM"],
    )
    carrier_gateway.init_app(app)
    templating.init_app(app)
    html_attributes.install()  # the form widgets' attributes without string.Formatter
    assets.init_app(app)  # hashed static URLs (asset_url), cached for a year
    errors.init_app(app)
    outage.init_app(app)  # database outages: 503 and try again (after errors: more specific)
    kiosk.init_app(app)
    auth.init_app(app)  # the logged-in header (logout button, idle warning) in every template
    steps.init_app(app)  # step numbers in every template
    _register_blueprints(app)
    migrations.init_app(app)  # what create_all() runs on an empty database
    app.cli.add_command(institution_cli)
    cli.init_app(app)
    return app


def _register_blueprints(app: Flask) -> None:
    """Each area's pages: its own blueprint (the endpoint names templates use)."""
    from wizard.accounts.views import account, login
    from wizard.help import views as help_views
    from wizard.institutions.views import api, citizen, public, staff
    from wizard.kiosk import views as kiosk_views
    from wizard.records import views as portal
    from wizard.registration.views import register, verify

    for blueprint in (
        login.bp,
        register.bp,
        verify.bp,
        account.bp,
        help_views.bp,
        portal.bp,
        kiosk_views.bp,
        public.bp,
        citizen.bp,
        staff.bp,
        api.bp,
    ):
        app.register_blueprint(blueprint)
