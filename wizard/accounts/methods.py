"""The BLI's other login methods: this site serves only 行動電話認證, and points to these for
everything it does not offer (the applications, 申辦)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Method:
    code: str
    name: object
    #: What it needs and what it allows, for the page of a method this site does not serve.
    needs: object


METHODS: tuple[Method, ...] = (
    Method("moica", _l("自然人憑證"), _l("需要自然人憑證 IC 卡與讀卡機")),
    Method("bli-cert", _l("勞保憑證"), _l("需要勞保局核發的勞保憑證")),
    Method("tw-fido", _l("行動自然人憑證"), _l("需要在手機上安裝並啟用行動自然人憑證 App")),
    Method("mobile-id", _l("行動電子憑證"), _l("需要在手機上申請行動電子憑證")),
)
