"""Issue 13 item 4: one step count, the manual's seven steps, on every page of the wizard."""

from __future__ import annotations

import re

from werkzeug.test import TestResponse

from tests.helpers import WizardClient, csrf_token

PHONE_4G = {"X-Sim-Network": "4g", "X-Sim-Msisdn": "0912345678"}


def captions(response: TestResponse) -> list[str]:
    return re.findall(r'<p class="step-caption">([^<]*)</p>', response.get_data(as_text=True))


def test_every_page_counts_the_same_seven_steps(wizard: WizardClient) -> None:
    seen: list[tuple[str, list[str]]] = []

    def at(url: str, **kwargs: object) -> None:
        seen.append((url, captions(wizard.get(url, **kwargs))))

    at("/login")
    wizard.identify()
    at("/register/personal")
    assert wizard.personal().status_code == 303
    at("/register/device")
    assert wizard.device("desktop").status_code == 303
    at("/register/qr")
    wizard.post("/register/device", {"device": "phone"})
    at("/register/verify", headers=PHONE_4G)
    response = wizard.post("/register/verify", {"terms": "yes"}, headers=PHONE_4G)
    assert response.headers["Location"] == "/register/done"
    at("/register/done")
    done = wizard.get("/register/done").get_data(as_text=True)
    bound = wizard.client.post("/register/bind", data={"csrf_token": csrf_token(done)})
    assert bound.headers["Location"] == "/notice"
    at("/notice")
    wizard.post("/notice", {})
    wizard.post("/logout", {})
    at("/login")  # this browser is bound now: the four-field login, the manual's step 7

    assert seen == [
        ("/login", ["步驟 1／7"]),
        ("/register/personal", ["步驟 2／7"]),
        ("/register/device", ["步驟 3／7"]),
        ("/register/qr", ["步驟 4／7"]),
        ("/register/verify", ["步驟 5／7"]),
        ("/register/done", ["步驟 5／7"]),
        ("/notice", ["步驟 6／7"]),
        ("/login", ["步驟 7／7"]),
    ]


def test_the_count_in_english(wizard: WizardClient) -> None:
    wizard.identify()
    assert captions(wizard.get("/register/personal?lang=en", follow_redirects=True)) == [
        "Step 2 of 7"
    ]
