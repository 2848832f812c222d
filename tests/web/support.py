"""Helpers shared by the route tests: the database row behind a browser, raw posts, page outline."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.helpers import ELIGIBLE, FIXED_CAPTCHA, csrf_token
from wizard.database.models import Registration, SimSubscriber

HX = {"HX-Request": "true"}


def registration_row(app: Flask, national_id: str | None = None) -> Registration:
    """The newest registration (of ``national_id`` when given), read straight from the database."""
    query = select(Registration).order_by(Registration.id.desc())
    if national_id is not None:
        query = query.where(Registration.national_id == national_id)
    with app.extensions["db_sessionmaker"]() as db_session:
        row = db_session.scalars(query).first()
        assert row is not None, "no registration in the database"
        db_session.expunge(row)
        return row


def all_registrations(app: Flask) -> list[Registration]:
    with app.extensions["db_sessionmaker"]() as db_session:
        rows = list(db_session.scalars(select(Registration).order_by(Registration.id)))
        db_session.expunge_all()
        return rows


def subscriber_count(app: Flask) -> int:
    with app.extensions["db_sessionmaker"]() as db_session:
        return db_session.scalar(select(func.count(SimSubscriber.id))) or 0


def typed(**overrides: str) -> dict[str, str]:
    """The step-2 form as WizardClient.personal posts it, with the overrides."""
    data = {k: v for k, v in ELIGIBLE.items() if k != "national_id"}
    data["password_confirm"] = data["password"]
    data["captcha"] = FIXED_CAPTCHA
    data.update(overrides)
    return data


def token_of(client: FlaskClient, url: str) -> str:
    """A CSRF token of this browser, taken from the page at ``url``."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return csrf_token(page.get_data(as_text=True))


def post_with(
    client: FlaskClient, url: str, token: str, data: dict[str, str], **kwargs: object
) -> TestResponse:
    """POST with a token fetched earlier: no GET in between (a GET would refresh the CAPTCHA)."""
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)  # type: ignore[arg-type]


def text_of(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def title_of(response: TestResponse) -> str:
    match = re.search(r"<title>(.*?)</title>", text_of(response), re.S)
    assert match, "page has no <title>"
    return match.group(1).strip()


def summary_items(response: TestResponse) -> list[str]:
    """The texts listed in the error summary at the top of the page."""
    html = text_of(response)
    summary = re.search(r'<div class="error-summary".*?</ul>', html, re.S)
    if not summary:
        return []
    return [
        re.sub(r"<[^>]+>", "", item).strip()
        for item in re.findall(r"<li>(.*?)</li>", summary.group(0), re.S)
    ]


def flashed(response: TestResponse) -> list[str]:
    return re.findall(
        r'<div class="notice notice-\w+" role="status"><p>(.*?)</p>', text_of(response), re.S
    )


@dataclass
class FormInfo:
    action: str | None
    method: str | None
    has_csrf: bool = False


class Outline(HTMLParser):
    """What the page checks need: headings, ids, forms, fields and their labels."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.h1: list[str] = []
        self.title: list[str] = []
        self.ids: list[str] = []
        self.forms: list[FormInfo] = []
        #: (type, id, name) of every input, select and textarea.
        self.fields: list[tuple[str, str | None, str | None]] = []
        self.label_for: list[str] = []
        self.tags: set[str] = set()
        self.scripts: list[str] = []
        self._capture: str | None = None
        self._form: FormInfo | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        if a.get("id") is not None:
            self.ids.append(a["id"] or "")
        if tag == "h1":
            self.h1.append("")
            self._capture = "h1"
        elif tag == "title":
            self.title.append("")
            self._capture = "title"
        elif tag == "form":
            self._form = FormInfo(a.get("action"), a.get("method"))
            self.forms.append(self._form)
        elif tag in ("input", "select", "textarea"):
            kind = a.get("type") or tag
            self.fields.append((kind, a.get("id"), a.get("name")))
            if (
                kind == "hidden"
                and a.get("name") == "csrf_token"
                and a.get("value")
                and self._form is not None
            ):
                self._form.has_csrf = True
        elif tag == "label" and a.get("for"):
            self.label_for.append(a["for"] or "")
        elif tag == "script" and a.get("src"):
            self.scripts.append(a["src"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "title"):
            self._capture = None
        elif tag == "form":
            self._form = None

    def handle_data(self, data: str) -> None:
        if self._capture == "h1":
            self.h1[-1] += data
        elif self._capture == "title":
            self.title[-1] += data


def outline(response: TestResponse) -> Outline:
    parser = Outline()
    parser.feed(text_of(response))
    parser.close()
    return parser


def checked_of(response: TestResponse, name: str) -> list[str]:
    """Values of the checked radio buttons / checkboxes called ``name``."""
    found = []
    for tag in re.findall(r"<input[^>]*>", text_of(response)):
        if f'name="{name}"' in tag and re.search(r"\bchecked\b", tag):
            value = re.search(r'value="([^"]*)"', tag)
            found.append(value.group(1) if value else "")
    return found
