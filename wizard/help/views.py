"""Help pages: the operating manual, tutorial, FAQ, question guide and the terms of use."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from wizard.web.rendering import render

bp = Blueprint("help", __name__, url_prefix="/help")


@bp.get("/manual")
def manual() -> Response:
    """② 行動電話認證操作手冊: the seven steps of the manual, as a page."""
    return render("help/manual.html", title=_("行動電話認證操作手冊"))


@bp.get("/tutorial")
def tutorial() -> Response:
    """③ 教學: the registration walked through, with what each screen asks."""
    return render("help/tutorial.html", title=_("行動電話認證教學"))


@bp.get("/faq")
def faq() -> Response:
    """常見問題, built from the eligibility rules of the manual."""
    return render("help/faq.html", title=_("行動電話認證常見問題"))


@bp.get("/guide")
def guide() -> Response:
    """問題導引: from a symptom to what to do."""
    return render("help/guide.html", title=_("問題導引"))


@bp.get("/terms")
def terms() -> Response:
    """使用者約定條款."""
    return render("help/terms.html", title=_("使用者約定條款"))
