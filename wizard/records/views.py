"""The e-service portal after a mobile-phone login: query functions only.

個人投保資料查詢 (records, filters, summary, PDF and CSV downloads) and the status of COVID-19
applications. The applications (申辦) are listed but disabled, and every application route is
decorated with :func:`wizard.accounts.auth.application_route`, which refuses it for these logins
whatever a page shows. Every response is ``no-store`` (wizard.web.security; downloads say so
themselves too).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response
from wtforms import Form, SelectChoice, SelectMultipleField, StringField

from wizard import clock
from wizard.accounts import auth
from wizard.accounts.methods import METHODS
from wizard.database import db
from wizard.database.models import Account, AuditEvent
from wizard.records import documents, records
from wizard.rules import identity
from wizard.web import i18n
from wizard.web.i18n import N_
from wizard.web.limits import LIMITS, limiter
from wizard.web.rendering import render

bp = Blueprint("portal", __name__, url_prefix="/portal")
#: Dates in the portal's templates: ``{{ day | ymd }}`` is YYYY/MM/DD in Chinese, 30 Nov 2026 in
#: English ('' for None).
bp.add_app_template_filter(i18n.day, "ymd")

#: Per logged-in browser (wizard/web/limits.py says why that number).
DOWNLOADS = LIMITS["download.session"]


@bp.record_once
def _defaults(state: Any) -> None:
    """``PDF_FONT_PATH`` / ``PDF_FONT_INDEX`` unless instance/config.py or FLASK_* set them."""
    state.app.config.setdefault("PDF_FONT_PATH", documents.DEFAULT_FONT_PATH)
    state.app.config.setdefault("PDF_FONT_INDEX", 0)


@dataclass(frozen=True)
class Application:
    kind: str
    #: Chinese, marked for extraction: translated where shown (``_(application.name)``).
    name: str
    text: str


#: The applications (申辦) of the e-service system: shown, disabled, refused by the server.
APPLICATIONS: tuple[Application, ...] = (
    Application("benefit", N_("勞保給付申請"), N_("老年、失能、生育、傷病、死亡給付的線上申請。")),
    Application("salary", N_("投保薪資調整"), N_("投保單位或職業工會會員的月投保薪資調整申報。")),
    Application(
        "occupational", N_("職災給付申請"), N_("職業傷病的醫療、傷病、失能等給付的線上申請。")
    ),
    Application(
        "covid", N_("COVID-19 給付申請"), N_("確診 COVID-19 的普通傷病給付或職業病給付申請。")
    ),
)
_APPLICATION_KINDS = ", ".join(a.kind for a in APPLICATIONS)


def _account() -> Account:
    user_session = auth.current(db.session())
    assert user_session is not None  # login_required ran first
    return user_session.account


def _today() -> dt.date:
    return clock.now().astimezone(documents.TAIPEI).date()


@bp.get("")
@auth.login_required
def home() -> Response:
    account = _account()
    return render(
        "records/home.html",
        title=_("查詢作業"),
        account=account,
        masked_id=identity.mask_national_id(account.national_id),
        application_names=_("、").join(_(a.name) for a in APPLICATIONS),
        other_methods=METHODS,
    )


# --- 個人投保資料查詢 ---------------------------------------------------------------------


class RecordsFilter(Form):
    """The filter, read from the query string (a GET form: nothing to protect with CSRF)."""

    types = SelectMultipleField(
        _l("保險別"),
        choices=[SelectChoice(kind, _l(records.TYPE_NAMES[kind])) for kind in records.TYPES],
        validate_choice=False,
    )
    date_from = StringField(_l("起日"))
    date_to = StringField(_l("迄日"))

    def __init__(self, formdata: MultiDict[str, str]) -> None:
        super().__init__(formdata)
        self.query = documents.Query()

    def check(self) -> bool:
        """Read the filter; messages beside each field. An empty filter means everything."""
        chosen = tuple(self.types.data or ())
        if any(kind not in records.TYPES for kind in chosen):
            self.types.errors = [_("請從勞保、就保、職保中選擇")]
        date_from = self._date(self.date_from)
        date_to = self._date(self.date_to)
        if date_from and date_to and date_from > date_to:
            self.date_to.errors = [
                _(
                    "迄日（%(to)s）不能早於起日（%(from)s）",
                    to=i18n.day(date_to),
                    **{"from": i18n.day(date_from)},
                )
            ]
        if self.errors:
            return False
        self.query = documents.Query(tuple(sorted(set(chosen))), date_from, date_to)
        return True

    @staticmethod
    def _date(field: StringField) -> dt.date | None:
        text = (field.data or "").strip()
        if not text:
            return None
        label = str(field.label.text)
        try:
            return records.parse_date(text)
        except records.InvalidDate as exc:
            field.errors = [
                {
                    "format": _(
                        "%(label)s的格式不正確，請依 2020/01/31 的格式輸入"
                        "（也可以輸入民國年，例如 109/01/31）",
                        label=label,
                    ),
                    "day": _(
                        "%(label)s沒有這一天（%(text)s），請檢查月份與日期", label=label, text=text
                    ),
                    "range": _("%(label)s請輸入 1950 年到 2099 年之間的日期", label=label),
                }[exc.code]
            ]
            return None


def _filter() -> RecordsFilter:
    form = RecordsFilter(request.args)
    form.check()
    return form


def _filter_args(query: documents.Query) -> dict[str, object]:
    """The query string that gives ``query`` again (download links)."""
    args: dict[str, object] = {}
    if query.types:
        args["types"] = list(query.types)
    if query.date_from:
        args["date_from"] = records.slash(query.date_from)
    if query.date_to:
        args["date_to"] = records.slash(query.date_to)
    return args


@bp.get("/records")
@auth.login_required
def records_page() -> Response:
    account = _account()
    form = _filter()
    if form.errors:
        return render(
            "records/records.html", title=_("個人投保資料查詢"), errors=True, form=form, rows=None
        )
    query = form.query
    periods = records.periods(db.session(), account.national_id)  # one read for both
    today = _today()
    return render(
        "records/records.html",
        title=_("個人投保資料查詢"),
        form=form,
        query=query,
        rows=records.history_of(periods, query.types, query.date_from, query.date_to),
        summaries=records.summary_of(periods, today, query.types),
        today=today,
        filter_args=_filter_args(query),
    )


def _download_key() -> str:
    """Rate-limit downloads per logged-in browser (a counter kiosk shares its address)."""
    reference = session.get(auth.SESSION_KEY) or request.remote_addr or ""
    return "download:" + hashlib.sha256(str(reference).encode()).hexdigest()[:24]


def _download(fmt: str) -> Response:
    account = _account()
    form = _filter()
    if form.errors:
        # The page shows what is wrong beside each field.
        return redirect(url_for("portal.records_page", **request.args.to_dict(flat=False)), 303)
    query = form.query
    session_ = db.session()
    periods = records.periods(session_, account.national_id)  # one read for both
    rows = records.history_of(periods, query.types, query.date_from, query.date_to)
    now = clock.now()
    holder = documents.Holder(account.national_id, account.name)
    try:
        issued = documents.issue(
            session_,
            fmt,
            holder,
            query,
            rows,
            records.summary_of(periods, _today(), query.types),
            now,
            font_path=str(current_app.config["PDF_FONT_PATH"]),
            font_index=int(current_app.config["PDF_FONT_INDEX"]),
            verify_url=lambda n, c: url_for("documents.verify", n=n, c=c, _external=True),
        )
    except documents.FontUnavailable as exc:
        session_.rollback()
        current_app.logger.warning("PDF unavailable: %s", exc)
        return render(
            "records/pdf_unavailable.html",
            status=503,
            title=_("PDF 暫時無法產生"),
            csv_args=_filter_args(query),
        )
    session_.add(
        AuditEvent(
            at=now,
            kind="document.issued",
            subject=holder.masked_id,
            detail=f"{issued.number} {fmt} {len(rows)} records",
        )
    )
    session_.commit()
    response = Response(issued.body, mimetype=issued.mimetype)
    response.headers["Content-Disposition"] = issued.content_disposition()
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Document-Number"] = issued.number
    return response


@bp.get("/records.pdf")
@limiter.limit(DOWNLOADS, key_func=_download_key)
@auth.login_required
def records_pdf() -> Response:
    return _download("pdf")


@bp.get("/records.csv")
@limiter.limit(DOWNLOADS, key_func=_download_key)
@auth.login_required
def records_csv() -> Response:
    return _download("csv")


# --- COVID-19 ----------------------------------------------------------------------------


@bp.get("/covid")
@auth.login_required
def covid() -> Response:
    account = _account()
    return render(
        "records/covid.html",
        title=_("COVID-19 申辦進度查詢"),
        applications=records.covid(db.session(), account.national_id),
        covid_application=next(a for a in APPLICATIONS if a.kind == "covid"),
        other_methods=METHODS,
    )


# --- applications (申辦): refused for mobile-phone logins -----------------------------------


@bp.route(f"/apply/<any({_APPLICATION_KINDS}):kind>", methods=["GET", "POST"])
@auth.application_route
def apply(kind: str) -> Response:
    """Only reachable with a login method that allows applications (not served here)."""
    raise NotFound()
