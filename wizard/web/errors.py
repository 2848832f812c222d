"""Friendly pages for every error: never a stack trace, never a bare status line."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable

from flask import Flask, current_app, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, TooManyRequests
from werkzeug.wrappers import Response

from wizard import clock
from wizard.web import i18n, limits
from wizard.web.rendering import is_htmx, render


def _page(status: int, title: str, text: str) -> Response:
    return render("web/error.html", status=status, title=title, text=text, errors=True)


def _csrf(_error: CSRFError) -> Response:
    return _page(
        400,
        _("頁面已過期"),
        _("為了保護您的資料，這個頁面已過期。請回到上一頁重新整理後再送出一次。"),
    )


def _http(error: HTTPException) -> Response:
    status = error.code or 500
    texts = {
        404: (_("找不到這個頁面"), _("網址可能有誤，或頁面已移除。")),
        405: (_("無法這樣使用這個頁面"), _("請從首頁重新開始。")),
        413: (_("送出的資料太大"), _("請檢查輸入的內容後再送出一次。")),
    }
    if status == 429:
        return _too_many(error)
    title, text = texts.get(status, (_("無法處理這個要求"), _("請回到上一頁再試一次。")))
    return _page(status, title, text)


# --- 429: "too many attempts, try again at HH:MM" ----------------------------------------

#: Endpoints that show the refusal in place of their own content, keeping what was typed
#: (step 2's form, the CAPTCHA block): endpoint → function of the refusal's sentence that
#: returns the response, or None for the plain page. Registered by the views.
_IN_PLACE: dict[str, Callable[[str], Response | None]] = {}

#: Where the plain page's link goes back to, for endpoints that have no page of their own.
_BACK: dict[str, str] = {
    "verify.qr_status": "verify.qr",
    "verify.qr_regenerate": "verify.qr",
    "verify.qr_check": "verify.qr",
    "verify.phone_verify": "verify.phone",
    "verify.verify_submit": "verify.verify",
    "register.new_captcha": "register.personal",
    "account.login": "login.index",
    "account.bind": "verify.done",
    "portal.records_pdf": "portal.records_page",
    "portal.records_csv": "portal.records_page",
}


def too_many_in_place(endpoint: str) -> Callable[[Callable[[str], Response | None]], object]:
    """Decorator: ``endpoint`` shows a 429 with this function (see ``_IN_PLACE``)."""

    def register(function: Callable[[str], Response | None]) -> object:
        _IN_PLACE[endpoint] = function
        return function

    return register


def retry_moment(error: TooManyRequests) -> tuple[int, dt.datetime]:
    """Seconds to wait (for ``Retry-After``) and the moment, in the app's clock, from which the
    request will be accepted again.

    The limiter's windows run on real time (``time.time()``, Redis TTLs); the site's dates come
    from ``clock.now()``, which a test freezes or a fault test moves. The page shows
    ``clock.now()`` plus what is left of the window, so it agrees with the rest of the site
    (the lockout's 已暫停至 HH:MM) and with ``Retry-After``.
    """
    reset = limits.reset_at(error)
    seconds = 60 if reset is None else max(1, math.ceil(reset - time.time()))
    return seconds, clock.now() + dt.timedelta(seconds=seconds)


def _wall_clock(moment: dt.datetime) -> str:
    """HH:MM in Taipei, rounded up to the minute (at 17:04:10 the limit still holds: 17:05)."""
    local = moment.astimezone(clock.TAIPEI)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    shown = local.strftime("%H:%M")
    if local.date() != clock.now().astimezone(clock.TAIPEI).date():
        shown = f"{i18n.day(local.date())} {shown}"
    return shown


def _back_url() -> str:
    """The page to go back to: the refused page itself, or the one its action belongs to."""
    endpoint = request.endpoint or "login.index"
    try:
        return url_for(_BACK.get(endpoint, endpoint))
    except Exception:  # noqa: BLE001 - an endpoint that needs arguments: start from step 1
        return url_for("login.index")


def _too_many(error: HTTPException) -> Response:
    assert isinstance(error, TooManyRequests)
    seconds, moment = retry_moment(error)
    text = _(
        "為了保護您的資料，這項操作暫時停止。請於 %(time)s（臺灣時間）後再試。",
        time=_wall_clock(moment),
    )
    keeper = _IN_PLACE.get(request.endpoint or "")
    response = keeper(text) if keeper else None
    if response is None:
        response = render(
            "web/too_many.html",
            status=429,
            title=_("嘗試次數過多"),
            text=text,
            back=_back_url(),
            errors=True,
        )
        if is_htmx():
            # Whatever region the request meant to replace (a poll's status, a button), the
            # message takes the main region, as a page would (layout.html swaps 4xx).
            response.headers["HX-Retarget"] = "#main"
            response.headers["HX-Reswap"] = "innerHTML"
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    if is_htmx():
        # The refused URL (a poll, a POST) must not become the address bar's.
        response.headers["HX-Push-Url"] = "false"
    return response


def query_only_refusal() -> Response:
    """403 for an application (申辦) asked for by a mobile-phone login."""
    return _page(
        403,
        _("行動電話認證只提供查詢功能"),
        _("申辦作業請改以自然人憑證、勞保憑證、行動自然人憑證或行動電子憑證登入後辦理。"),
    )


def _server(error: Exception) -> Response:
    current_app.logger.error("unhandled error", exc_info=error)
    return _page(
        500,
        _("系統暫時無法處理"),
        _("您輸入的資料沒有遺失。請稍後再試一次；若持續發生，請聯絡勞保局。"),
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(InternalServerError, _server)
    app.register_error_handler(Exception, _server)
