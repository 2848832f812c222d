"""Templates' ``url_for`` (wizard/web/templating.py): the URLs without values are built once
per path prefix and are what Flask builds; anything else is Flask's own."""

from __future__ import annotations

from flask import Flask, render_template_string
from flask import url_for as flask_url_for

from wizard.web import templating


def test_fixed_urls_are_flasks_and_built_once_per_prefix(app: Flask) -> None:
    fixed = app.extensions[templating.FIXED_URLS]
    fixed.clear()
    source = "{{ url_for('help.faq') }}|{{ url_for('login.index') }}"
    with app.test_request_context("/login"):
        plain = render_template_string(source)
        assert plain == f"{flask_url_for('help.faq')}|{flask_url_for('login.index')}"
    with app.test_request_context("/login", base_url="http://localhost/bli"):
        prefixed = render_template_string(source)
        assert prefixed == f"{flask_url_for('help.faq')}|{flask_url_for('login.index')}"
    assert plain == "/help/faq|/login"
    assert prefixed == "/bli/help/faq|/bli/login"
    assert set(fixed) == {
        ("", "help.faq", ()),
        ("", "login.index", ()),
        ("/bli", "help.faq", ()),
        ("/bli", "login.index", ()),
    }


def test_urls_with_values_are_built_by_flask_each_time(app: Flask) -> None:
    fixed = app.extensions[templating.FIXED_URLS]
    fixed.clear()
    with app.test_request_context("/login"):
        url = render_template_string("{{ url_for('login.index', reapply=1, _anchor='x') }}")
        assert url == "/login?reapply=1#x"
    assert fixed == {}


def test_the_cache_is_bounded(app: Flask) -> None:
    fixed = app.extensions[templating.FIXED_URLS]
    fixed.clear()
    stale = {(str(n), "login.index", ()): "/stale" for n in range(templating.FIXED_URLS_MAX)}
    fixed.update(stale)
    with app.test_request_context("/login"):
        assert render_template_string("{{ url_for('login.index') }}") == "/login"
    assert fixed == {("", "login.index", ()): "/login"}


def test_static_files_hashed_urls_once_per_prefix(app: Flask) -> None:
    from wizard.web.assets import asset_url

    fixed = app.extensions[templating.FIXED_URLS]
    fixed.clear()
    for base in ("http://localhost", "http://localhost/bli"):
        with app.test_request_context("/login", base_url=base):
            name = app.extensions["assets"].url_name("css/site.css")
            hashed = flask_url_for("static", filename=name)
            assert asset_url("css/site.css") == hashed
            assert hashed.startswith(base.removeprefix("http://localhost") + "/static/css/site.")
    assert len(fixed) == 2
