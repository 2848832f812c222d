"""The check's PDF: the printout that replaces paper, itself verifiable.

Each download is issued as a document (``IssuedDocument``, kind "check" in its summary) with
its own number and verification code, printed with the public page's URL and a QR code of it
(number and code in the query): whoever holds the paper can confirm it on 文件驗證. It shows
exactly what the check showed, the check number, the time and the institution; nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from wizard import clock
from wizard.database.models import DataCheck, IssuedDocument
from wizard.institutions import purposes
from wizard.records import documents
from wizard.records.records import TYPE_NAMES, TYPES
from wizard.rules import identity


def describe(shown: dict[str, Any]) -> list[tuple[str, str]]:
    """The shown facts as (label, value) lines, in the current language."""
    lines: list[tuple[str, str]] = []
    for kind in TYPES:
        status = shown.get("status", {}).get(kind)
        if status is None:
            continue
        value = (
            _("投保中，自 %(since)s 起", since=status["since"])
            if status["insured"]
            else _("未在保")
        )
        lines.append((_(TYPE_NAMES[kind]), value))
    for period in shown.get("periods", []):
        lines.append(
            (
                _("%(type)s 投保期間", type=_(TYPE_NAMES[period["type"]])),
                f"{period['from']} ～ {period['to'] or _('至今')}",
            )
        )
    return lines


def issue(
    db: Session,
    check: DataCheck,
    holder_name: str | None,
    now: dt.datetime,
    verify_url: Callable[[str, str], str],
    font_path: str,
    font_index: int,
) -> tuple[IssuedDocument, bytes]:
    """Issue the receipt of ``check`` (flushed; the caller commits). ``verify_url(number,
    code)`` makes the public page's link. Raises ``documents.FontUnavailable`` first."""
    font = documents.load_font(font_path, font_index)
    document, code = documents.record(db, check.national_id, "pdf", now)
    number = document.document_number
    shown = json.loads(check.shown)
    summary = {
        "kind": "check",
        "check_number": check.check_number,
        "checked_at": check.at.isoformat(),
        "institution": check.institution.name if check.institution else None,
        "purpose": check.purpose,
        "holder_id": identity.mask_national_id(check.national_id),
        "holder_name": identity.mask_name(holder_name) if holder_name else None,
        "shown": shown,
    }
    body = _render(check, summary, number, code, verify_url(number, code), font)
    summary["file_sha256"] = hashlib.sha256(body).hexdigest()
    document.summary = json.dumps(summary, ensure_ascii=False, sort_keys=True)
    db.flush()
    return document, body


def _render(
    check: DataCheck, summary: dict[str, Any], number: str, code: str, url: str, font: str
) -> bytes:
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=15, leading=21, alignment=TA_CENTER)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(documents._covered(font, text)), style)

    rows = [
        (_("查驗編號"), check.check_number),
        (_("查驗時間"), clock.local_time(check.at, "%Y-%m-%d %H:%M")),
        (_("查驗單位"), summary["institution"] or ""),
        (_("查驗目的"), _(purposes.name(check.purpose))),
        (_("身分證號"), summary["holder_id"]),
    ]
    if summary["holder_name"]:
        rows.append((_("姓名"), summary["holder_name"]))
    if check.case_number:
        rows.append((_("案號"), check.case_number))
    rows += [(_("資料日期"), summary["shown"]["as_of"])]
    rows += describe(summary["shown"])
    grid = TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    story: list[object] = [
        documents.letterhead(font),
        p(_("投保資料線上查驗結果"), title),
        Spacer(1, 5 * mm),
        Table([[p(k), p(v)] for k, v in rows], colWidths=[40 * mm, 140 * mm], style=grid),
        Spacer(1, 5 * mm),
        p(
            _(
                "本結果依當事人同意（分享碼）或法定職務（機關查詢）提供，僅顯示上列資料。"
                "掃描 QR Code 或至文件驗證頁輸入文件編號及驗證碼，可確認本文件。"
            )
        ),
        Spacer(1, 4 * mm),
        documents.verification_block(
            url,
            font,
            [f"{_('文件編號')}：{number}", f"{_('驗證碼')}：{documents.show_code(code)}"],
        ),
    ]
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=number,
        author=documents.ISSUER,
    ).build(story)
    return out.getvalue()
