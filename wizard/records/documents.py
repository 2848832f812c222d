"""The downloadable record documents: CSV (UTF-8 with BOM, for Excel) and PDF (reportlab).

Every document issued is recorded as an :class:`~wizard.database.models.IssuedDocument` with
a number ("BLI-2026-000123") and a random 10-character verification code printed on it; only
SHA-256("<number>:<code>") is stored, and :func:`verify` checks a pair later (what a training
institution does instead of asking for paper). The record's ``summary`` holds what the document
contained: the filters, the number of records, SHA-256 of the records themselves
(``content_sha256``, canonical JSON) and of the file.

The PDF embeds a TrueType subset of a Traditional Chinese font (``PDF_FONT_PATH``, default
Debian's fonts-arphic-uming; ``PDF_FONT_INDEX`` picks the face of a .ttc collection). When the
font cannot be read :class:`FontUnavailable` is raised before anything is recorded, and the view
offers the CSV instead. No Flask here.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import os
import secrets
import threading
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import segno
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from wizard.database.models import IssuedDocument
from wizard.records.records import TYPE_NAMES, TYPES, Row, TypeSummary, roc, slash
from wizard.rules import identity
from wizard.web import i18n
from wizard.web.i18n import N_

DEFAULT_FONT_PATH = "/usr/share/fonts/truetype/arphic/uming.ttc"
TITLE = N_("勞工保險、就業保險、職業災害保險 投保資料")
ISSUER = N_("勞動部勞工保險局")
#: The letterhead: the Bureau's name in both its official languages, whatever the document's
#: language, and where to reach it (as on the site's footer).
ISSUER_ZH = "勞動部勞工保險局"
ISSUER_EN = "Bureau of Labor Insurance, Ministry of Labor"
ISSUER_CONTACT = N_("100232 臺北市中正區羅斯福路1段4號　電話 02-2396-1266　www.bli.gov.tw")
BRAND = "#005a9c"
#: Taiwan has kept UTC+8 without daylight saving since 1980.
TAIPEI = dt.timezone(dt.timedelta(hours=8), "Asia/Taipei")
#: No 0/O, 1/I/L: read aloud or typed from paper without confusion (31**10, about 49 bits;
#: useful only together with its document number, and checked at a rate-limited page).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
FORMATS = ("pdf", "csv")
MIMETYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}

CSV_COLUMNS = (
    N_("姓名"),
    N_("身分證號"),
    N_("保險別"),
    N_("投保單位名稱"),
    N_("投保單位保險證號"),
    N_("月投保薪資"),
    N_("加保日期"),
    N_("退保日期"),
    N_("備註"),
    N_("文件編號"),
    N_("驗證碼"),
)


class FontUnavailable(RuntimeError):
    """The PDF font file is missing or unreadable (the CSV still works)."""


@dataclass(frozen=True)
class Holder:
    """Whose records: printed masked (A12345****) with the name."""

    national_id: str
    name: str

    @property
    def masked_id(self) -> str:
        return identity.mask_national_id(self.national_id)


@dataclass(frozen=True)
class Query:
    """What was asked for: types (empty: all) and an inclusive date range (None: open)."""

    types: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def chosen(self) -> tuple[str, ...]:
        return tuple(t for t in TYPES if t in self.types) if self.types else TYPES

    def describe_types(self) -> str:
        return _("、").join(_(TYPE_NAMES[t]) for t in self.chosen)

    def describe_range(self) -> str:
        if self.date_from is None and self.date_to is None:
            return _("全部期間")
        start = i18n.day(self.date_from) if self.date_from else _("最早")
        end = i18n.day(self.date_to) if self.date_to else _("今日")
        return _("%(start)s 至 %(end)s", start=start, end=end)


@dataclass(frozen=True)
class Issued:
    document: IssuedDocument
    code: str
    body: bytes
    format: str

    @property
    def number(self) -> str:
        return self.document.document_number

    @property
    def mimetype(self) -> str:
        return MIMETYPES[self.format]

    @property
    def filename(self) -> str:
        """Safe ASCII name: the document number."""
        return f"{self.number}.{self.format}"

    @property
    def filename_utf8(self) -> str:
        return _("勞就職保投保資料_%(number)s.%(ext)s", number=self.number, ext=self.format)

    def content_disposition(self) -> str:
        """attachment with an ASCII ``filename`` and the RFC 5987 ``filename*``."""
        quoted = urllib.parse.quote(self.filename_utf8, safe="")
        return f"attachment; filename=\"{self.filename}\"; filename*=UTF-8''{quoted}"


# --- codes and numbers --------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def show_code(code: str) -> str:
    """As printed: two groups of five, 'ABCDE-FGHJK'."""
    return f"{code[:5]}-{code[5:]}"


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in identity.fold(raw) if ch not in "- ")


def code_hash(number: str, code: str) -> str:
    """SHA-256 of "<number>:<code>": the number salts it, so one table of hashes of all codes
    does not serve every document."""
    return hashlib.sha256(f"{number}:{code}".encode()).hexdigest()


def verify(db: Session, number: str, code: str) -> IssuedDocument | None:
    """The document with this number, when ``code`` is its verification code, else None."""
    number = identity.fold(number)
    document = db.scalars(
        select(IssuedDocument).where(IssuedDocument.document_number == number)
    ).first()
    expected = document.verification_code_hash if document else code_hash("-", "-")
    given = code_hash(number, normalise_code(code))
    if hmac.compare_digest(expected, given) and document is not None:
        return document
    return None


def content_hash(holder: Holder, rows: Sequence[Row]) -> str:
    """SHA-256 of the records as canonical JSON (with whose they are)."""
    payload = {"national_id": holder.national_id, "records": [row.as_dict() for row in rows]}
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --- issuing ------------------------------------------------------------------------------


def record(db: Session, national_id: str, fmt: str, now: dt.datetime) -> tuple[IssuedDocument, str]:
    """A new document's row (flushed: its id makes its number) and its verification code,
    printed once and stored only as :func:`code_hash`. The caller fills in ``summary``."""
    code = new_code()
    document = IssuedDocument(
        document_number="pending-" + secrets.token_hex(16),
        national_id=national_id,
        issued_at=now,
        verification_code_hash="",
        format=fmt,
        summary="{}",
    )
    db.add(document)
    db.flush()
    number = f"BLI-{now.astimezone(TAIPEI).year}-{document.id:06d}"
    document.document_number = number
    document.verification_code_hash = code_hash(number, code)
    return document, code


def issue(
    db: Session,
    fmt: str,
    holder: Holder,
    query: Query,
    rows: Sequence[Row],
    summaries: Mapping[str, TypeSummary],
    now: dt.datetime,
    font_path: str = DEFAULT_FONT_PATH,
    font_index: int = 0,
    verify_url: Callable[[str, str], str] | None = None,
) -> Issued:
    """Build the document and record it (flushed; the caller commits).

    For a PDF the font is loaded first: :class:`FontUnavailable` leaves nothing recorded.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    font = load_font(font_path, font_index) if fmt == "pdf" else ""
    document, code = record(db, holder.national_id, fmt, now)
    number = document.document_number
    if fmt == "csv":
        body = render_csv(holder, rows, number, code)
    else:
        url = verify_url(number, code) if verify_url else None
        body = render_pdf(holder, query, rows, summaries, number, code, now, font, url)
    document.summary = json.dumps(
        {
            "format": fmt,
            "types": list(query.chosen),
            "date_from": query.date_from.isoformat() if query.date_from else None,
            "date_to": query.date_to.isoformat() if query.date_to else None,
            "records": len(rows),
            # What the verification page shows a reader to compare with the paper: dates and
            # status only (no unit, no salary).
            "periods": [
                {
                    "type": row.insurance_type,
                    "from": row.enrolled_on.isoformat(),
                    "to": row.withdrawn_on.isoformat() if row.withdrawn_on else None,
                }
                for row in rows
            ],
            "status": {kind: s.enrolled for kind, s in summaries.items()},
            "content_sha256": content_hash(holder, rows),
            "file_sha256": hashlib.sha256(body).hexdigest(),
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    db.flush()
    return Issued(document=document, code=code, body=body, format=fmt)


# --- CSV ----------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(holder: Holder, rows: Sequence[Row], number: str, code: str) -> bytes:
    """UTF-8 with BOM (Excel then reads it as UTF-8), CRLF, a Traditional Chinese header row,
    one row per record; dates YYYY/MM/DD; 退保日期 empty while still enrolled."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_(column) for column in CSV_COLUMNS])
    for row in rows:
        writer.writerow(
            [
                _cell(holder.name),
                holder.masked_id,
                row.type_name,
                _cell(row.unit_name),
                row.unit_number,
                row.insured_salary,
                slash(row.enrolled_on),
                slash(row.withdrawn_on),
                row.note,
                number,
                show_code(code),
            ]
        )
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


# --- PDF ----------------------------------------------------------------------------------

_font_lock = threading.Lock()
_fonts: dict[tuple[str, int, float], str] = {}
#: reportlab keeps per-document state in shared font objects: one PDF at a time per process
#: (about 15 ms each).
_build_lock = threading.Lock()


def _to_unicode_cmap(fontname: str, subset: Sequence[int]) -> str:
    """reportlab's ToUnicode CMap, but with UTF-16 (surrogate pairs) for characters outside
    the BMP such as 𡘙: reportlab writes their code point as odd-length hex, which readers
    reject, so copying or searching the text lost them."""

    def utf16(code: int) -> str:
        return chr(code).encode("utf-16-be", "surrogatepass").hex().upper()

    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo",
            f"<< /Registry ({fontname})",
            f"/Ordering ({fontname})",
            "/Supplement 0",
            ">> def",
            f"/CMapName /{fontname} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            f"{len(subset)} beginbfchar",
            *(f"<{index:02X}> <{utf16(code)}>" for index, code in enumerate(subset)),
            "endbfchar",
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


def load_font(path: str, index: int = 0) -> str:
    """Register the TrueType font (a face of a .ttc) once per process; its reportlab name."""
    from reportlab.pdfbase import pdfmetrics, ttfonts

    try:
        mtime = os.stat(path).st_mtime
    except OSError as exc:
        raise FontUnavailable(f"PDF font not found: {path}") from exc
    key = (path, index, mtime)
    with _font_lock:
        if key in _fonts:
            return _fonts[key]
        name = "BLIDoc" + hashlib.sha256(repr(key).encode()).hexdigest()[:12]
        try:
            font = ttfonts.TTFont(name, path, subfontIndex=index)
        except Exception as exc:  # unreadable, not TrueType, no such face, embedding refused
            raise FontUnavailable(f"PDF font unusable: {path} ({exc})") from exc
        ttfonts.makeToUnicodeCMap = _to_unicode_cmap  # type: ignore[assignment]
        pdfmetrics.registerFont(font)
        _fonts[key] = name
        return name


def _covered(font: str, text: str) -> str:
    """Characters the font has no glyph for become □ (a blank box would hide them)."""
    from reportlab.pdfbase import pdfmetrics

    glyphs = pdfmetrics.getFont(font).face.charToGlyph  # type: ignore[attr-defined]
    return "".join(ch if ord(ch) in glyphs or ch in "\n" else "□" for ch in text)


def letterhead(font: str) -> Any:
    """A flowable: the Bureau's name (Chinese large, English under it) and its address, over a
    rule in the site's blue. Shared by every PDF the site issues."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Table, TableStyle

    blue = colors.HexColor(BRAND)
    name = ParagraphStyle("issuer", fontName=font, fontSize=18, leading=23, textColor=blue)
    english = ParagraphStyle("issuer-en", fontName=font, fontSize=9, leading=12, textColor=blue)
    contact = ParagraphStyle(
        "contact", fontName=font, fontSize=8, leading=11, alignment=TA_RIGHT, wordWrap="CJK"
    )
    return Table(
        [
            [
                [Paragraph(ISSUER_ZH, name), Paragraph(ISSUER_EN, english)],
                Paragraph(escape(_covered(font, _(ISSUER_CONTACT))), contact),
            ]
        ],
        colWidths=[100 * mm, 80 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (0, 0), (-1, 0), 1.5, blue),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("RIGHTPADDING", (-1, 0), (-1, 0), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        ),
        spaceAfter=5 * mm,
    )


def verification_block(url: str, font: str, lines: list[str]) -> Any:
    """A flowable: the QR code of ``url`` (the verification page, number and code filled in)
    beside ``lines`` and the URL in print. Shared by every PDF the site issues."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, Table, TableStyle

    png = io.BytesIO()
    segno.make(url, error="m").save(png, kind="png", scale=6, border=2)
    png.seek(0)
    qr = Image(png, width=30 * mm, height=30 * mm)
    style = ParagraphStyle("verify", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    text = [Paragraph(escape(line), style) for line in lines]
    text.append(Paragraph(escape(url), ParagraphStyle("url", parent=style, fontSize=7.5)))
    return Table(
        [[qr, text]],
        colWidths=[34 * mm, 146 * mm],
        style=TableStyle(
            [("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("BOX", (0, 0), (-1, -1), 0.5, "#888888")]
        ),
        spaceBefore=2 * mm,
        spaceAfter=2 * mm,
    )


def render_pdf(
    holder: Holder,
    query: Query,
    rows: Sequence[Row],
    summaries: Mapping[str, TypeSummary],
    number: str,
    code: str,
    issued_at: dt.datetime,
    font: str,
    verify_url: str | None = None,
) -> bytes:
    """A4 portrait: title, holder, issue date (民國 and 西元), number and code, the summary per
    type, the records (header repeated on each page), page numbers on every page."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    def p(text: str, style: ParagraphStyle) -> Paragraph:
        """Text that may wrap (names, long values)."""
        return Paragraph(escape(_covered(font, text)), style)

    def c(text: str) -> str:
        """A short cell that never wraps (plain strings lay out several times faster)."""
        return _covered(font, text)

    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11)
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22, alignment=TA_CENTER)
    heading = ParagraphStyle("heading", parent=body, fontSize=12, leading=18, spaceBefore=8)
    local = issued_at.astimezone(TAIPEI)
    issued_text = (
        f"{format_date(local.date(), 'd MMM y')} {local:%H:%M}"
        if i18n.is_english()
        else f"{roc(local.date())}（西元{local.year}年{local.month}月{local.day}日） {local:%H:%M}"
    )
    grid = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), 8.5),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
            ("ALIGN", (3, 1), (3, -1), "RIGHT"),  # 月投保薪資 in both tables
        ]
    )
    story: list[object] = [letterhead(font), p(_(TITLE), title), Spacer(1, 3 * mm)]
    # Whose document (the full name and the masked ID, as the person's own identification) beside
    # what it is: two boxes side by side.
    label = ParagraphStyle(
        "label",
        parent=small,
        textColor=colors.HexColor("#4a4a4a"),
        wordWrap=None if i18n.is_english() else "CJK",  # English labels break between words
    )
    big = ParagraphStyle("big", parent=body, fontSize=13, leading=18)
    person = [
        p(_("投保人"), label),
        p(holder.name, big),
        p(f"{_('身分證號')}　{holder.masked_id}", body),
    ]
    facts = [
        (
            _("查詢範圍"),
            _("%(types)s；%(range)s", types=query.describe_types(), range=query.describe_range()),
        ),
        (_("列印日期"), issued_text),
        (_("文件編號"), number),
        (_("驗證碼"), show_code(code)),
    ]
    about = Table(
        [[p(k, label), p(v, body)] for k, v in facts],
        colWidths=[28 * mm, 84 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        ),
    )
    story.append(
        Table(
            [[person, about]],
            colWidths=[64 * mm, 116 * mm],
            style=TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BOX", (0, 0), (0, 0), 0.75, colors.black),
                    ("BOX", (1, 0), (1, 0), 0.5, colors.HexColor("#888888")),
                    ("TOPPADDING", (0, 0), (-1, -1), 4),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ]
            ),
            spaceAfter=2 * mm,
        )
    )
    story.append(
        p(
            _(
                "本文件由%(issuer)se化服務系統產生，免用印。職業訓練機構等單位可憑文件編號及驗證碼"
                "向本局查驗本文件的真偽與內容。",
                issuer=_(ISSUER),
            ),
            small,
        )
    )
    if verify_url:
        story.append(
            verification_block(
                verify_url,
                font,
                [
                    _("掃描 QR Code 或至文件驗證頁輸入文件編號與驗證碼，確認本文件："),
                    f"{_('文件編號')}：{number}　{_('驗證碼')}：{show_code(code)}",
                ],
            )
        )
    story.append(p(_("投保狀態摘要（累計年資：同一保險別重疊的期間只計一次）"), heading))
    summary_rows: list[list[object]] = [
        [
            c(_(h))
            for h in (
                N_("保險別"),
                N_("目前狀態"),
                N_("目前投保單位"),
                N_("月投保薪資"),
                N_("累計投保年資"),
            )
        ]
    ]
    for kind, item in summaries.items():
        summary_rows.append(
            [
                c(_(TYPE_NAMES[kind])),
                p(item.status_text, small),
                p(_("、").join(r.unit_name for r in item.current) or "—", small),
                c(f"{item.salary:,}" if item.salary else "—"),
                p(item.total.long_text(), small),
            ]
        )
    story.append(
        Table(summary_rows, colWidths=[14 * mm, 32 * mm, 52 * mm, 20 * mm, 62 * mm], style=grid)
    )
    story.append(p(_("投保明細（%(count)s 筆）", count=len(rows)), heading))
    if rows:
        header = (
            _("保險別"),
            _("投保單位名稱"),
            _("保險證號"),
            _("月投保薪資"),
            _("加保日期"),
            _("退保日期"),
            _("備註"),
        )
        table_rows: list[list[object]] = [[c(h) for h in header]]
        for row in rows:
            table_rows.append(
                [
                    c(row.type_name),
                    p(row.unit_name, small),
                    c(row.unit_number),
                    c(f"{row.insured_salary:,}"),
                    c(i18n.day(row.enrolled_on)),
                    c(i18n.day(row.withdrawn_on) or _("投保中")),
                    c(row.note),
                ]
            )
        story.append(
            Table(
                table_rows,
                colWidths=[14 * mm, 48 * mm, 22 * mm, 20 * mm, 21 * mm, 21 * mm, 34 * mm],
                repeatRows=1,
                style=grid,
            )
        )
    else:
        story.append(p(_("查詢範圍內沒有投保紀錄。"), body))

    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=_(TITLE),
        author=_(ISSUER),
        subject=f"{number} {holder.masked_id}",
        creator=_("勞保局e化服務系統"),
        lang="en" if i18n.is_english() else "zh-TW",
    )
    with _build_lock:
        document.build(story, canvasmaker=_numbered_canvas(font, number))  # type: ignore[arg-type]
    return out.getvalue()


def _numbered_canvas(font: str, number: str) -> type:
    """A canvas that writes "文件編號 … 第 n 頁，共 N 頁" at the foot of every page (the total
    is known only at the end, so pages are kept until then)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs["initialFontName"] = font
            kwargs["initialFontSize"] = 10
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self._pages: list[dict[str, object]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(font, 8.5)
                self.drawString(15 * mm, 10 * mm, _("文件編號 %(number)s", number=number))
                self.drawRightString(
                    A4[0] - 15 * mm,
                    10 * mm,
                    _("第 %(page)s 頁，共 %(total)s 頁", page=self._pageNumber, total=total),
                )
                super().showPage()
            super().save()

    return NumberedCanvas
