"""Languages: zh-TW first, English complete.

The choice is made with ``?lang=en`` or ``?lang=zh-TW`` on any GET (the header's language switch)
and kept in the session under ``lang``; without a choice the site is in Traditional Chinese
(Accept-Language is deliberately not consulted: zh-TW first). Session resets
(:func:`clear_session`) keep the choice, so it survives starting a registration, logging in and
logging out. A GET with ``lang`` is answered with a redirect to the same URL without it, so the
wizard's state (kept in the database) is shown again in the new language.

On step 2 the switch also keeps what was typed but not yet sent: with JavaScript, a click on the
switch posts the form natively (``action=language``) and the page comes back in the other language
with every box as it was; nothing goes to web storage.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Flask, has_request_context, redirect, request, session
from flask_babel import format_date, get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from werkzeug.wrappers import Response

SESSION_KEY = "lang"
#: ``?lang=`` values and the Babel locale each one selects.
LOCALES = {"zh-TW": "zh_Hant_TW", "en": "en"}
DEFAULT = "zh-TW"
#: The ``lang`` attribute of <html> for each choice.
HTML_LANG = {"zh-TW": "zh-Hant-TW", "en": "en"}


def N_(text: str) -> str:
    """Marks ``text`` for extraction (babel.cfg's keyword N_); it is translated where shown."""
    return text


def _choice_from(value: str | None) -> str | None:
    if value is None:
        return None
    folded = value.strip().replace("_", "-").lower()
    if folded in ("en", "en-us", "en-gb"):
        return "en"
    if folded in ("zh-tw", "zh-hant-tw", "zh-hant", "zh"):
        return "zh-TW"
    return None


def current() -> str:
    """``'en'`` or ``'zh-TW'``: the request's language (a ``lang`` argument wins)."""
    if not has_request_context():
        return DEFAULT
    from_args = _choice_from(request.args.get("lang"))
    if from_args is not None:
        return from_args
    return session.get(SESSION_KEY) if session.get(SESSION_KEY) in LOCALES else DEFAULT


def is_english() -> bool:
    return current() == "en"


def select_locale() -> str:
    return LOCALES[current()]


def clear_session() -> None:
    """``session.clear()`` that keeps the language choice."""
    choice = session.get(SESSION_KEY)
    session.clear()
    if choice in LOCALES and choice != DEFAULT:
        session[SESSION_KEY] = choice


def _remember_choice() -> Response | None:
    choice = _choice_from(request.args.get("lang"))
    if choice is None or request.endpoint in (None, "static"):
        return None
    if choice == DEFAULT:
        session.pop(SESSION_KEY, None)
    else:
        session[SESSION_KEY] = choice
    if request.method not in ("GET", "HEAD"):
        return None
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return redirect(request.path + ("?" + urlencode(rest) if rest else ""), code=303)


def switch_url(choice: str) -> str:
    """This page's URL with ``lang=choice`` (other arguments kept)."""
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.path + "?" + urlencode([*rest, ("lang", choice)])


def day(value: dt.date | None) -> str:
    """A date for people: 2026/11/30 in Chinese, 30 Nov 2026 in English."""
    if value is None:
        return ""
    if is_english():
        return format_date(value, "d MMM y")
    return value.strftime("%Y/%m/%d")


def carrier_name(carrier: object) -> str:
    """A carrier's name in the page's language."""
    if carrier is None:
        return ""
    if is_english():
        return str(getattr(carrier, "name_en", None) or carrier.name)  # type: ignore[attr-defined]
    return str(carrier.name)  # type: ignore[attr-defined]


@functools.cache  # one entry per catalogue: the two languages
def _bound(translations: Any) -> dict[str, Callable[..., Any]]:
    """``gettext`` and ``ngettext`` for templates, bound to one catalogue.

    Flask-Babel's own template callables look the catalogue up again on every ``_()``
    (the request context, the domain, the locale: about nine context-local lookups each);
    a page makes 30 to 300 of those calls. Bound once per render (the context processor
    below), each ``_()`` is a dictionary lookup. They keep Jinja's "newstyle" meaning: the
    result is Markup under autoescaping, and ``%(name)s`` placeholders are filled (escaped).
    """
    lookup, plural = translations.ugettext, translations.ungettext

    @pass_context
    def gettext(context: Context, string: str, **variables: Any) -> str:
        text = lookup(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        if not variables and "%" not in text:
            return text  # what ``text % {}`` gives, without formatting (most calls)
        return text % variables

    @pass_context
    def ngettext(context: Context, singular: str, several: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = plural(singular, several, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    # ``_`` too: the i18n extension's own ``_`` is an alias that resolves ``gettext`` in the
    # context and calls it, two template calls for each ``_()``.
    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}


def _globals() -> dict[str, object]:
    if request.endpoint == "static":
        return {}
    choice = current()
    other = "zh-TW" if choice == "en" else "en"
    return {
        "lang_code": choice,
        "html_lang": HTML_LANG[choice],
        "lang_switch": {
            "url": switch_url(other),
            "code": other,
            "label": "中文" if other == "zh-TW" else "English",
            "html_lang": HTML_LANG[other],
        },
        "is_english": choice == "en",
        "locale_name": str(get_locale()),
        **_bound(get_translations()),
    }


def init_app(app: Flask) -> None:
    app.before_request(_remember_choice)
    app.context_processor(_globals)
    app.jinja_env.globals.update(carrier_name=carrier_name, day=day)
