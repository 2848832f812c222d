"""The wizard's forms. Field validators call the pure parsers and keep what they return.

Every field keeps what the person typed (WTForms re-renders ``field.data``), except the
passwords and the CAPTCHA, which are never sent back to the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    ValidationError,
)
from wtforms.validators import InputRequired

from wizard.rules import identity
from wizard.web.messages import message


def parsed(parser: Callable[[str], Any]) -> Callable[[FlaskForm, Any], None]:
    """A validator that runs ``parser`` and stores its result in ``form.cleaned``."""

    def validate(form: WizardForm, field: Any) -> None:
        try:
            form.cleaned[field.name] = parser(field.data or "")
        except identity.Invalid as exc:
            raise ValidationError(message(exc.code, exc.params)) from exc

    return validate


class WizardForm(FlaskForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cleaned: dict[str, Any] = {}

    def add_error(self, field: str, text: str) -> None:
        getattr(self, field).errors = [*getattr(self, field).errors, text]


class IdentifyForm(WizardForm):
    """Step 1: the national ID."""

    national_id = StringField(_l("身分證號"))

    def __init__(self, *args: Any, current: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The ID already on file: left empty, the field means "keep it".
        self.current = current

    def validate_national_id(self, field: Any) -> None:
        if self.current and not (field.data or "").strip():
            self.cleaned["national_id"] = self.current
            return
        parsed(identity.parse_national_id)(self, field)


class PersonalForm(WizardForm):
    """Step 2: personal data and the number the person holds, CAPTCHA, password."""

    carrier = SelectField(_l("電信業者"), choices=[], validate_choice=False)
    msisdn = StringField(_l("手機門號"), validators=[parsed(identity.parse_msisdn)])
    nhi_card = StringField(_l("健保卡號"), validators=[parsed(identity.parse_nhi_card)])
    birth_date = StringField(_l("出生日期"))
    name = StringField(_l("姓名"), validators=[parsed(identity.parse_name)])
    captcha = StringField(_l("驗證碼"))
    password = PasswordField(_l("設定憑證密碼"))
    password_confirm = PasswordField(_l("確認憑證密碼"))

    def validate_carrier(self, field: Any) -> None:
        codes = {choice.value for choice in field.choices if choice.value}
        if field.data not in codes:
            raise ValidationError(message("carrier.empty"))
        self.cleaned["carrier"] = field.data


class DeviceForm(WizardForm):
    """Step 3: the device in the person's hands."""

    device = RadioField(
        _l("您正在使用的裝置"),
        choices=[
            SelectChoice("desktop", _l("桌上型電腦")),
            SelectChoice("tablet", _l("平板電腦")),
            SelectChoice("phone", _l("手機")),
        ],
        validate_choice=False,
    )
    sim = RadioField(
        _l("裝置有無SIM卡（有4G/5G網路連線）"),
        choices=[SelectChoice("yes", _l("有")), SelectChoice("no", _l("無"))],
        validate_choice=False,
    )

    def validate_device(self, field: Any) -> None:
        if field.data not in ("desktop", "tablet", "phone"):
            raise ValidationError(message("device.empty"))

    def validate_sim(self, field: Any) -> None:
        # Asked of tablets only; without JavaScript the question is always on the page.
        if self.device.data == "tablet" and field.data not in ("yes", "no"):
            raise ValidationError(message("sim.empty"))


class LoginForm(WizardForm):
    """Step 7: the four fields on a bound browser, plus the device's signature."""

    national_id = StringField(_l("身分證號"), validators=[InputRequired(_l("請輸入身分證號"))])
    birth_date = StringField(_l("出生日期"), validators=[InputRequired(_l("請輸入出生日期"))])
    name = StringField(_l("姓名"), validators=[InputRequired(_l("請輸入姓名"))])
    password = PasswordField(_l("憑證密碼"), validators=[InputRequired(_l("請輸入憑證密碼"))])
    #: The server's single-use challenge, and the device key's signature over it (WebCrypto).
    challenge = HiddenField()
    signature = HiddenField()
