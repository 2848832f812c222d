"""The institutions' area forms. What is typed is kept on every error (passwords and TOTP
codes excepted); the words of each refusal are in :data:`REFUSALS`."""

from __future__ import annotations

import datetime as dt
import unicodedata

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    ValidationError,
)
from wtforms.validators import InputRequired

from wizard import clock
from wizard.institutions import checks, facts, purposes, shares

#: Checks.Refused reasons → words for the staff member (none says anything of the person).
REFUSALS = {
    "malformed_id": _l("身分證號格式不正確，請確認後重新輸入。"),
    "malformed_code.empty": _l("請輸入分享碼。"),
    "malformed_code.length": _l("分享碼是 9 個字元（例如 K7P-Q4M-X9T），請確認後重新輸入。"),
    "malformed_code.characters": _l(
        "分享碼只含英文字母與數字 2–9（沒有 0、1、I、L、O），請確認後重新輸入。"
    ),
    "unknown": _l(
        "查無有效的分享碼：分享碼與身分證號不符、已過期、已用完或已被撤銷。請向當事人確認分享碼。"
    ),
    "disabled": _l("貴單位的查驗帳號已停用，無法查驗。請洽勞保局。"),
    "purpose": _l("用途「%(purpose)s」不在貴單位獲准的查驗目的內，無法查驗。"),
    "not_allowed": _l("貴單位未獲准不經分享碼查詢。請當事人提供分享碼。"),
    "case_number": _l("請輸入案號（1 至 40 個字元）。"),
    "paused": _l("貴單位連續查驗失敗次數過多，查驗暫停至 %(until)s。"),
}


class VerifyDocumentForm(FlaskForm):
    number = StringField(_l("文件編號"), validators=[InputRequired(_l("請輸入文件編號"))])
    code = StringField(_l("驗證碼"), validators=[InputRequired(_l("請輸入驗證碼"))])


class ShareForm(FlaskForm):
    """The person's choice. ``step`` is "preview" (show what will be seen) or "confirm".
    Every field is checked here with the site's own words (WTForms' built-in messages are
    Simplified Chinese)."""

    purpose = SelectField(
        _l("用途"),
        choices=[SelectChoice(code, _l(name)) for code, name in purposes.PURPOSES.items()],
        default=purposes.DEFAULT,
        validate_choice=False,
    )
    scope = RadioField(
        _l("分享的內容"),
        choices=[
            SelectChoice("status", _l("只顯示目前是否在保、哪些保險、自何時起")),
            SelectChoice("periods", _l("另加最近幾年的投保期間")),
        ],
        default="status",
        validate_choice=False,
    )
    years = SelectField(
        _l("投保期間的年數"),
        choices=[
            SelectChoice(str(n), _l("最近 %(n)s 年", n=n)) for n in range(1, facts.MAX_YEARS + 1)
        ],
        default="3",
        validate_choice=False,
    )
    days = StringField(_l("有效天數"), default=str(shares.DEFAULT_DAYS))
    max_uses = SelectField(
        _l("可查驗次數"),
        choices=[SelectChoice(str(n), _l("%(n)s 次", n=n)) for n in range(1, shares.MAX_USES + 1)],
        default="1",
        validate_choice=False,
    )
    step = HiddenField(default="preview")

    def validate_purpose(self, field: Field) -> None:
        if field.data not in purposes.PURPOSES:
            raise ValidationError(_("請選擇用途。"))

    def validate_scope(self, field: Field) -> None:
        if field.data not in facts.SCOPES:
            raise ValidationError(_("請選擇分享的內容。"))

    def validate_years(self, field: Field) -> None:
        if self.scope.data == "periods" and _number(field.data) not in range(
            1, facts.MAX_YEARS + 1
        ):
            raise ValidationError(_("請選擇投保期間的年數（1 至 10 年）。"))

    def validate_days(self, field: Field) -> None:
        if not (field.data or "").strip():
            raise ValidationError(_("請輸入有效天數（1 至 90）"))
        if _number(field.data) not in range(1, shares.MAX_DAYS + 1):
            raise ValidationError(_("有效天數須為 1 至 90 天"))

    def validate_max_uses(self, field: Field) -> None:
        if _number(field.data) not in range(1, shares.MAX_USES + 1):
            raise ValidationError(_("請選擇可查驗次數（1 至 5 次）。"))

    def choice(self) -> shares.Choice:
        return shares.Choice(
            purpose=str(self.purpose.data),
            scope=str(self.scope.data),
            years=_number(self.years.data) if self.scope.data == "periods" else 0,
            days=_number(self.days.data),
            max_uses=_number(self.max_uses.data),
        )


def _number(raw: object) -> int:
    """A whole number typed in any width ("３０" too), or -1."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    return int(text) if text.isascii() and text.isdigit() else -1


class StaffLoginForm(FlaskForm):
    username = StringField(_l("帳號"), validators=[InputRequired(_l("請輸入帳號"))])
    password = PasswordField(_l("密碼"), validators=[InputRequired(_l("請輸入密碼"))])
    otp = StringField(_l("動態密碼"), validators=[InputRequired(_l("請輸入動態密碼"))])


class CheckForm(FlaskForm):
    national_id = StringField(_l("身分證號"), validators=[InputRequired(_l("請輸入身分證號"))])
    code = StringField(_l("分享碼"), validators=[InputRequired(_l("請輸入分享碼"))])


class AgencyQueryForm(FlaskForm):
    national_id = StringField(_l("身分證號"), validators=[InputRequired(_l("請輸入身分證號"))])
    purpose = SelectField(_l("查詢目的"), choices=[], validate_choice=False)
    case_number = StringField(_l("案號"), validators=[InputRequired(_l("請輸入案號"))])


def refusal_text(error: checks.Refused) -> str:
    """The checker's words for a refusal (the staff pages and the API)."""
    key = error.reason
    if key == "malformed_code":
        key = f"malformed_code.{error.detail}"
    text = str(REFUSALS.get(key, REFUSALS["unknown"]))
    if error.reason == "purpose":
        if error.detail in purposes.PURPOSES:
            return text % {"purpose": _(purposes.PURPOSES[error.detail])}
        given = error.detail[:30] if error.detail.isprintable() else ""
        return text % {"purpose": given}
    if error.reason == "paused":
        return text % {"until": clock.local_time(dt.datetime.fromisoformat(error.detail))}
    return text
