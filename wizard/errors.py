"""Friendly pages for every error: never a stack trace, never a bare status line."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from wizard.rendering import render


def _page(status: int, title: str, text: str) -> Response:
    return render("pages/error.html", status=status, title=title, text=text, errors=True)


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
        429: (_("嘗試次數過多"), _("為了保護您的帳號，請稍候幾分鐘再試。")),
    }
    title, text = texts.get(status, (_("無法處理這個要求"), _("請回到上一頁再試一次。")))
    if status == 429:
        retry = getattr(error, "retry_after", None)
        if retry:
            text = _("為了保護您的帳號，請於 %(time)s 後再試。", time=retry)
    return _page(status, title, text)


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
