"""Multi-request verbs for route tests: a person going through the wizard with the test client."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

FIXED_CAPTCHA = "TESTCAPTCHA"

#: 王小明 of the demo data: eligible, 中華電信, monthly plan.
ELIGIBLE: dict[str, str] = {
    "national_id": "A123456789",
    "carrier": "cht",
    "msisdn": "0912-345678",
    "nhi_card": "000012345678",
    "birth_date": "1980/01/01",
    "name": "王小明",
    "password": "my cat is called flower",
}

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def errors_of(response: TestResponse) -> list[str]:
    """The messages shown beside fields (not the summary), in page order."""
    html = response.get_data(as_text=True)
    found = re.findall(r'<p class="error-message" id="([^"]+)-error">.*?</span>(.*?)</p>', html, re.S)
    return [unescape(text) for _id, text in found]


def error_for(response: TestResponse, field: str) -> str | None:
    html = response.get_data(as_text=True)
    match = re.search(
        rf'<p class="error-message" id="{re.escape(field)}-error">.*?</span>(.*?)</p>', html, re.S
    )
    return unescape(match.group(1)) if match else None


def value_of(response: TestResponse, field: str) -> str | None:
    """The value an input is rendered with (what the person sees typed)."""
    html = response.get_data(as_text=True)
    match = re.search(rf'<input[^>]*\bid="{re.escape(field)}"[^>]*>', html)
    if not match:
        return None
    value = re.search(r'\bvalue="([^"]*)"', match.group(0))
    return unescape(value.group(1)) if value else ""


def selected_of(response: TestResponse, field: str) -> str | None:
    html = response.get_data(as_text=True)
    select = re.search(rf'<select[^>]*id="{re.escape(field)}".*?</select>', html, re.S)
    if not select:
        return None
    option = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                       select.group(0))
    return (option.group(1) or option.group(2)) if option else None


class WizardClient:
    """A person with one browser: each verb fetches the page, then submits its form."""

    def __init__(self, client: FlaskClient, app: Flask) -> None:
        self.client = client
        self.app = app

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, str], **kwargs: Any) -> TestResponse:
        page = self.client.get(url)
        if page.status_code != 200:
            page = self.client.get("/login")
        return self.client.post(url, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                           **data}, **kwargs)

    def identify(self, national_id: str = ELIGIBLE["national_id"]) -> TestResponse:
        return self.post("/login", {"national_id": national_id})

    def personal(self, **overrides: str) -> TestResponse:
        data = {k: v for k, v in ELIGIBLE.items() if k != "national_id"}
        data["password_confirm"] = data["password"]
        data["captcha"] = FIXED_CAPTCHA
        data.update(overrides)
        return self.post("/register/personal", data)

    def device(self, device: str, sim: str | None = None) -> TestResponse:
        data = {"device": device}
        if sim:
            data["sim"] = sim
        return self.post("/register/device", data)

    def complete_steps_before(self, step: str, national_id: str = ELIGIBLE["national_id"],
                              **personal: str) -> None:
        """Go through the wizard up to (not including) ``step``: personal, device, qr, verify."""
        order = ["identify", "personal", "device"]
        target = order.index(step) if step in order else len(order)
        if target > 0:
            assert self.identify(national_id).status_code == 303
        if target > 1:
            response = self.personal(**personal)
            assert response.status_code == 303, errors_of(response)
        if target > 2:
            device = {"qr": ("desktop", None), "verify": ("phone", None)}[step]
            assert self.device(*device).status_code == 303
