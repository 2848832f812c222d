"""How many SQL statements each request of a registration and of the portal runs (issue 14:
"one query per page where one is enough"). Each budget is what the request needs today; a
change that adds a lazy load or a second read of the same rows fails here, on SQLite and on
PostgreSQL alike, before any benchmark would notice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

from tests.accounts import login_as
from tests.helpers import ELIGIBLE, FIXED_CAPTCHA, Phone, csrf_token, qr_path, right_number

#: The simulated carrier reads its registry in its own transaction (two statements); a real
#: carrier is an HTTP call instead. They are counted, as the benchmark counts them.
CARRIER = 2


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    ran: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        ran.append(statement)

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield ran
    finally:
        event.remove(engine, "before_cursor_execute", count)


def within(app: Flask, budget: int, request: Callable[[], TestResponse], status: int) -> None:
    with statements(app) as ran:
        response = request()
    assert response.status_code == status, response.status_code
    assert len(ran) <= budget, "\n".join(ran)


def posted(client: FlaskClient, url: str, data: dict[str, str]) -> Callable[[], TestResponse]:
    """The POST alone (its form's token read beforehand, not counted)."""
    token = csrf_token(client.get(url).get_data(as_text=True))
    return lambda: client.post(url, data={"csrf_token": token, **data})


def test_a_qr_registration_request_by_request(app: Flask, client: FlaskClient) -> None:
    client.get("/login")  # the worker's first request reads the kiosk list (then cached)
    within(app, 1, lambda: client.get("/login"), 200)
    within(app, 3, posted(client, "/login", {"national_id": ELIGIBLE["national_id"]}), 303)
    within(app, 3, lambda: client.get("/register/personal"), 200)
    personal = {k: v for k, v in ELIGIBLE.items() if k != "national_id"}
    personal |= {"password_confirm": ELIGIBLE["password"], "captcha": FIXED_CAPTCHA}
    within(app, 6 + CARRIER, posted(client, "/register/personal", personal), 303)
    within(app, 1, lambda: client.get("/register/device"), 200)
    within(app, 3, posted(client, "/register/device", {"device": "desktop"}), 303)
    qr_page = client.get("/register/qr")
    within(app, 4, lambda: client.get("/register/qr"), 200)
    poll = "/register/qr/status?seen=waiting:"
    within(app, 1, lambda: client.get(poll, headers={"HX-Request": "true"}), 204)

    link = qr_path(qr_page.get_data(as_text=True))
    phone = Phone(app)
    number = right_number(app, link)
    within(app, 4, lambda: phone.client.get(link), 303)
    within(app, 1, lambda: phone.page(), 200)
    with statements(app) as ran:
        verified = phone.verify("4g", ELIGIBLE["msisdn"].replace("-", ""), match=number)
    assert "驗證成功" in verified.get_data(as_text=True)
    assert len(ran) <= 8 + CARRIER, "\n".join(ran)
    within(app, 1, lambda: client.get(poll, headers={"HX-Request": "true"}), 200)
    within(app, 1, lambda: client.get("/register/done"), 200)


def test_the_portal_pages(app: Flask, client: FlaskClient) -> None:
    login_as(app, client)
    client.get("/portal")  # the kiosk list, read once per worker
    # Each: the session row with its account, its last-seen time written, the page's own read.
    for url, budget in (
        ("/portal", 2),
        ("/portal/records", 3),
        ("/portal/shares", 3),
        ("/portal/checks", 3),
        ("/account/devices", 3),
    ):
        app.extensions["clock"].advance(seconds=5)  # a new last-seen time to write
        within(app, budget, lambda url=url: client.get(url), 200)  # type: ignore[misc]
