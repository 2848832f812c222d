"""Number matching on the QR hand-off (issue 12): the desktop shows a two-digit number beside
the QR code, and the phone must pick it among three before the carrier is asked.

A relayed QR code (an attacker's desktop, the victim's phone) fails here: the victim's phone
does not see the attacker's screen. A wrong pick ends the hand-off, counts as a failed check
and both screens say so; no pick asks again beside the field and changes nothing; the direct
path (no second screen) has no number at all.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask

from tests.helpers import (
    PHONE_UA,
    CountingGateway,
    Desktop,
    Phone,
    WizardClient,
    poll_url,
    shown_number,
    sim_headers,
)
from tests.web.support import registration_row, text_of
from tests.web.test_handoff import audit_kinds, handoffs, new_desktop, opened_phone, words
from wizard.database.models import Handoff
from wizard.registration import handoff
from wizard.registration.verification import MAX_FAILURES, NUMBER_MISMATCH

MSISDN = "0912345678"  # 王小明's number, as normalised
_CHOICE = re.compile(r'<input type="radio" id="match-(\d)" name="match" value="(\d\d)"([^>]*)>')


def choices(html: str) -> list[str]:
    """The numbers the phone offers, in the page's order."""
    return [value for _index, value, _rest in _CHOICE.findall(html)]


def wrong_pick(desktop_html: str, phone_html: str) -> str:
    right = shown_number(desktop_html)
    return next(number for number in choices(phone_html) if number != right)


@pytest.fixture
def desktop(app: Flask) -> Desktop:
    return new_desktop(app)


def test_the_desktop_shows_a_number_the_phone_offers_among_three(
    app: Flask, desktop: Desktop
) -> None:
    page = text_of(desktop.qr_page())
    number = shown_number(page)
    assert 10 <= int(number) <= 99
    assert "手機驗證數字" in page and "手機開啟連結後，請在手機上選擇這個數字。" in page

    phone = opened_phone(app, desktop.qr_path())
    html = text_of(phone.page())
    offered = choices(html)
    assert len(offered) == 3 and len(set(offered)) == 3
    assert number in offered
    assert offered == sorted(offered)  # the order says nothing about which one is right
    assert all(10 <= int(n) <= 99 for n in offered)
    assert "請選擇電腦畫面上 QR Code 旁顯示的數字" in html
    # Radio buttons with visible numbers, inside a fieldset whose legend names the question.
    assert re.search(r'<label for="match-0">\d\d</label>', html)
    assert "<legend>請選擇電腦畫面上 QR Code 旁顯示的數字</legend>" in html
    # A refresh offers the same three: new decoys each time would single out the right one.
    assert choices(text_of(phone.page())) == offered
    # The desktop's refresh shows the same number for the same QR code.
    assert shown_number(text_of(desktop.qr_page())) == number


def test_every_hand_off_gets_its_own_number_and_decoys() -> None:
    seen = {handoff.match_numbers() for _ in range(300)}
    assert len({right for right, _ in seen}) > 50  # spread over 10..99
    for right, offered in seen:
        numbers = [int(n) for n in offered.split(",")]
        assert right in numbers and len(set(numbers)) == 3 and numbers == sorted(numbers)
    # Each position holds the right number about a third of the time.
    positions = [offered.split(",").index(str(right)) for right, offered in seen]
    assert all(60 < positions.count(i) < 140 for i in range(3)), positions


def test_no_pick_asks_beside_the_field_and_changes_nothing(app: Flask, desktop: Desktop) -> None:
    gateway = CountingGateway(app)
    phone = opened_phone(app, desktop.qr_path())
    phone.page()
    answer = phone.verify(match="")
    html = text_of(answer)
    assert answer.status_code == 200
    assert 'id="match-error"' in html and words(app, "match.missing") in unescape(html)
    assert '<a href="#match-0">' in html  # the summary links to the first choice
    assert 'name="terms" value="yes" checked' in html  # what was ticked stays ticked
    assert gateway.calls == 0
    assert [h.status for h in handoffs(app)] == ["opened"]
    assert registration_row(app).verify_failures == 0
    # A number that was not offered is no pick either.
    assert 'id="match-error"' in text_of(phone.verify(match="00"))
    assert [h.status for h in handoffs(app)] == ["opened"]


def test_a_forgotten_tick_keeps_the_number_picked(app: Flask, desktop: Desktop) -> None:
    phone = opened_phone(app, desktop.qr_path())
    phone.page()
    right = shown_number(text_of(desktop.qr_page()))
    html = text_of(phone.verify(terms=False))
    assert f'value="{right}" checked' in html
    assert words(app, "terms.unchecked") in unescape(html)
    assert 'id="match-error"' not in html


def test_the_right_pick_verifies(app: Flask, desktop: Desktop) -> None:
    phone = opened_phone(app, desktop.qr_path())
    phone.page()
    right = shown_number(text_of(desktop.qr_page()))
    answer = phone.verify("4g", MSISDN, match=right)
    assert "請回到您的電腦確認認證結果" in text_of(answer)
    assert [h.status for h in handoffs(app)] == ["verified"]


def test_a_wrong_pick_ends_the_hand_off_counts_and_both_screens_say_so(
    app: Flask, desktop: Desktop
) -> None:
    gateway = CountingGateway(app)
    desktop_html = text_of(desktop.qr_page())
    path = desktop.qr_path()
    phone = opened_phone(app, path)
    wrong = wrong_pick(desktop_html, text_of(phone.page()))

    answer = phone.verify(match=wrong)
    html = unescape(text_of(answer))
    assert answer.status_code == 200
    assert words(app, "network.number_mismatch") in html
    assert "開始驗證</button>" not in html  # the form is gone: this code is used up
    assert gateway.calls == 0  # the carrier was never asked
    (row,) = handoffs(app)
    assert (row.status, row.outcome) == ("failed", NUMBER_MISMATCH)
    assert registration_row(app).verify_failures == 1
    assert "handoff.number_mismatch" in audit_kinds(app)

    # The phone's refresh says the same; the link is dead; a second try changes nothing.
    assert words(app, "network.number_mismatch") in unescape(text_of(phone.page()))
    assert Phone(app).open(path).status_code == 410
    phone.verify(match=shown_number(desktop_html))
    assert registration_row(app).verify_failures == 1 and gateway.calls == 0

    # The desktop's poll: the failure in its words, the dead QR code taken off the page.
    poll = text_of(desktop.poll())
    assert "手機上選擇的數字與這個畫面上的數字不同，這個 QR Code 已失效。" in poll
    assert 'id="qr-figure" hx-swap-oob="outerHTML"' in poll
    assert poll_url(poll) is None  # it stops polling: nothing more can happen to this code
    assert "重新產生QRCode" in poll

    # A new QR code comes with a new number, and the right pick then verifies.
    desktop.regenerate()
    again = text_of(desktop.qr_page())
    phone = opened_phone(app, desktop.qr_path())
    phone.page()
    assert "請回到您的電腦確認認證結果" in text_of(
        phone.verify("4g", MSISDN, match=shown_number(again))
    )
    assert registration_row(app).verify_failures == 1


def test_wrong_picks_count_towards_the_failure_limit(app: Flask, desktop: Desktop) -> None:
    for attempt in range(MAX_FAILURES):
        if attempt:
            desktop.regenerate()
        desktop_html = text_of(desktop.qr_page())
        phone = opened_phone(app, desktop.qr_path())
        phone.verify(match=wrong_pick(desktop_html, text_of(phone.page())))
    assert registration_row(app).verify_failures == MAX_FAILURES
    assert words(app, "network.too_many") in unescape(text_of(desktop.poll()))
    assert "重新產生QRCode" not in text_of(desktop.qr_page())


def test_the_number_is_asked_in_english_too(app: Flask, desktop: Desktop) -> None:
    phone = opened_phone(app, desktop.qr_path())
    phone.client.get("/?lang=en")
    html = text_of(phone.page())
    assert "Pick the number shown beside the QR code on the computer" in unescape(html)
    assert len(choices(html)) == 3
    desktop.client.get("/register/qr?lang=en")
    english = text_of(desktop.qr_page())
    assert "Number to pick on your phone" in english


def test_the_direct_path_has_no_number(app: Flask) -> None:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = PHONE_UA
    wizard = WizardClient(client, app)
    wizard.complete_steps_before("verify")
    html = text_of(client.get("/register/verify", headers=sim_headers("4g")))
    assert "開始驗證" in html
    assert 'name="match"' not in html and "QR Code 旁顯示的數字" not in html


def test_a_hand_off_without_a_number_never_matches() -> None:
    """Hand-offs made before migration 0005 have no number (the migration replaces the live
    ones): no pick can match them."""
    legacy = Handoff(match_number=None, match_choices=None)
    assert handoff.choices_of(legacy) == []
    assert not handoff.number_matches(legacy, "")
    assert not handoff.number_matches(legacy, "None")
    current = Handoff(match_number=47, match_choices="12,47,80")
    assert handoff.number_matches(current, "47") and not handoff.number_matches(current, "12")
