"""Steps 1-3 in a real browser, for each device type, with JavaScript on and off.

With JavaScript the steps are htmx partials swapped into <main> (hx-boost): the address bar,
the document title and the focus must follow each step as if a page had loaded.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.pages import (
    DEVICE_LABEL,
    HEADING,
    choose_device,
    complete_steps_before,
    expect_step,
    fill_personal,
    heading,
    identify,
    sim_question,
    submit,
)

pytestmark = pytest.mark.browser

TITLE_SUFFIX = " - 勞保局e化服務系統"

#: (context kind, device, SIM answer, where the person lands)
PATHS = [
    pytest.param("desktop", "desktop", None, "qr", id="desktop-to-qr"),
    pytest.param("tablet", "tablet", "yes", "verify", id="tablet-with-sim-to-verify"),
    pytest.param("tablet", "tablet", "no", "qr", id="tablet-without-sim-to-qr"),
    pytest.param("phone", "phone", None, "verify", id="phone-to-verify"),
]
JS = [pytest.param(True, id="js"), pytest.param(False, id="nojs")]


def device_radio(page: Page, device: str) -> Locator:
    return page.get_by_role("radio", name=DEVICE_LABEL[device], exact=True)


def expect_swapped_step(page: Page, step: str) -> None:
    """After an htmx swap: URL and h1 (expect_step), title, focus on the new h1, no page load."""
    expect_step(page, step)
    expect(page).to_have_title(HEADING[step] + TITLE_SUFFIX)
    expect(heading(page)).to_be_focused()
    assert page.evaluate("document.activeElement.tagName") == "H1"
    assert page.evaluate("window.__marker") == 1, "the page was reloaded instead of swapped"


@pytest.mark.parametrize("js", JS)
@pytest.mark.parametrize(("kind", "device", "sim", "lands_on"), PATHS)
def test_a_person_completes_steps_1_to_3(
    new_context: Callable[..., BrowserContext],
    kind: str,
    device: str,
    sim: str | None,
    lands_on: str,
    js: bool,
) -> None:
    page = new_context(kind, js=js).new_page()
    page.goto("/login")
    expect_step(page, "identify")
    expect(page).to_have_title(HEADING["identify"] + TITLE_SUFFIX)
    if js:
        page.evaluate("window.__marker = 1")

    identify(page)
    if js:
        expect_swapped_step(page, "personal")
    else:
        expect_step(page, "personal")
        expect(page).to_have_title(HEADING["personal"] + TITLE_SUFFIX)

    fill_personal(page)
    if js:
        expect_swapped_step(page, "device")
    else:
        expect_step(page, "device")
        expect(page).to_have_title(HEADING["device"] + TITLE_SUFFIX)

    # The device type is guessed from the browser's description.
    expect(device_radio(page, device)).to_be_checked()
    choose_device(page, device, sim)
    if js:
        expect_swapped_step(page, lands_on)
    else:
        expect_step(page, lands_on)
        expect(page).to_have_title(HEADING[lands_on] + TITLE_SUFFIX)


@pytest.mark.parametrize(
    ("kind", "guessed"),
    [("desktop", "desktop"), ("tablet", "tablet"), ("phone", "phone")],
)
def test_the_device_is_preselected_from_the_browser(
    new_context: Callable[..., BrowserContext], kind: str, guessed: str
) -> None:
    page = new_context(kind).new_page()
    complete_steps_before(page, "device")
    expect(device_radio(page, guessed)).to_be_checked()
    for other in set(DEVICE_LABEL) - {guessed}:
        expect(device_radio(page, other)).not_to_be_checked()


@pytest.mark.parametrize("js", JS)
@pytest.mark.parametrize(
    ("kind", "device", "sim", "lands_on"),
    [
        pytest.param("phone", "desktop", None, "qr", id="phone-says-desktop"),
        pytest.param("desktop", "tablet", "yes", "verify", id="desktop-says-tablet-with-sim"),
        pytest.param("tablet", "phone", None, "verify", id="tablet-says-phone"),
    ],
)
def test_the_persons_choice_wins_over_the_guess(
    new_context: Callable[..., BrowserContext],
    kind: str,
    device: str,
    sim: str | None,
    lands_on: str,
    js: bool,
) -> None:
    page = new_context(kind, js=js).new_page()
    complete_steps_before(page, "device")
    expect(device_radio(page, device)).not_to_be_checked()
    choose_device(page, device, sim)
    expect_step(page, lands_on)


def test_with_javascript_the_sim_question_waits_for_a_tablet(page: Page) -> None:
    complete_steps_before(page, "device")
    question = sim_question(page)
    expect(question).to_be_hidden()

    choose_device(page, "tablet", send=False)
    expect(question).to_be_visible()
    expect(question.get_by_role("radio", name="有", exact=True)).to_be_enabled()

    choose_device(page, "phone", send=False)
    expect(question).to_be_hidden()

    choose_device(page, "tablet", send=False)
    expect(question).to_be_visible()
    # Not answering it is an error, and the question stays on screen with its message.
    submit(page)
    expect(page.locator("#sim-error")).to_contain_text("請選擇平板電腦有無 SIM 卡")
    expect(sim_question(page)).to_be_visible()
    expect(device_radio(page, "tablet")).to_be_checked()
    choose_device(page, "tablet", "no")
    expect_step(page, "qr")


def test_with_javascript_a_hidden_sim_answer_is_not_sent(page: Page) -> None:
    """An answer given for a tablet does not count once the person picks a phone instead."""
    complete_steps_before(page, "device")
    choose_device(page, "tablet", "no", send=False)
    choose_device(page, "phone")
    expect_step(page, "verify")


def test_without_javascript_the_sim_question_is_shown_and_asked_of_tablets_only(
    nojs_context: BrowserContext,
) -> None:
    page = nojs_context.new_page()
    complete_steps_before(page, "device")
    question = sim_question(page)
    expect(question).to_be_visible()
    expect(question).to_contain_text("只有選「平板電腦」時需要回答")

    choose_device(page, "tablet")
    expect_step(page, "device")
    expect(page.locator("#sim-error")).to_contain_text("請選擇平板電腦有無 SIM 卡")
    expect(page.locator("#error-summary")).to_contain_text("請選擇平板電腦有無 SIM 卡")
    expect(device_radio(page, "tablet")).to_be_checked()

    # A desktop needs no answer.
    choose_device(page, "desktop")
    expect_step(page, "qr")


def test_each_step_is_one_round_trip(page: Page, live_server: str) -> None:
    """wizard/web/follow.py: pressing 送出 sends one request, and the next step comes back in its
    answer (no redirect for the browser to follow: on 3G that was a second 2-second wait)."""
    page.goto(live_server + "/login")
    page.evaluate("window.__marker = 1")
    requests: list[str] = []
    page.on(
        "request",
        lambda request: (
            requests.append(f"{request.method} {request.url}")
            if request.resource_type in ("document", "xhr", "fetch")
            else None
        ),
    )
    identify(page)
    expect_swapped_step(page, "personal")
    fill_personal(page)
    expect_swapped_step(page, "device")
    choose_device(page, "desktop")
    expect_swapped_step(page, "qr")
    posts = [r.replace(live_server, "") for r in requests]
    assert [r for r in posts if "/register/qr/status" not in r] == [
        "POST /login",
        "POST /register/personal",
        "POST /register/device",
    ]
