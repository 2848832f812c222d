"""What screen readers are told on step 4, and how often (WCAG 4.1.3 status messages).

The QR code's countdown shows every second, but its live region (polite) changes only at a
few moments: 4, 3, 2 and 1 minutes left, 30 seconds left, and the end. The hand-off's status
sits in a polite status region whose content changes only when the hand-off's state does: the
poll's "nothing changed" answers (204) leave it untouched, so nothing is read out again.

The server's clock is frozen (``live_clock``), so the hand-off stays valid while the page's
own clock (Playwright's, installed before the page loads) is stepped one second at a time
through the whole five minutes, and the live regions are read after every step.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.pages import ON_4G, complete_steps_before, printed_qr_link
from wizard.clock import FrozenClock

pytestmark = pytest.mark.browser

NewContext = Callable[..., BrowserContext]

WAITING = "等待手機掃描 QR Code⋯"
OPENED = "已在手機上開啟。請在手機上核對資料，勾選同意條款後按「開始驗證」。"
#: What the countdown's live region says, in order, and at how many seconds left.
ANNOUNCED = [
    (240, "剩下 4 分鐘"),
    (180, "剩下 3 分鐘"),
    (120, "剩下 2 分鐘"),
    (60, "剩下 1 分鐘"),
    (30, "剩下 30 秒"),
    (0, "QR Code 已逾時"),
]
#: Counts every change of content inside the hand-off's status region from now on (htmx's
#: htmx-request class comes and goes with each poll: attributes are not read out).
WATCH_STATUS_JS = """
() => {
  window.__statusChanges = 0;
  new MutationObserver((records) => { window.__statusChanges += records.length; })
    .observe(document.querySelector(".qr-status-region"),
             {subtree: true, childList: true, characterData: true});
}
"""
SAMPLE_JS = """
() => [
  document.querySelector(".countdown-clock").textContent,
  document.getElementById("countdown-announce").textContent,
  document.querySelector(".qr-status-region").innerText.trim(),
  window.__statusChanges,
]
"""
#: The nearest live region around an element (null when it is in none).
LIVE_ANCESTOR_JS = """
(el) => {
  const live = el.closest("[aria-live], [role=status], [role=alert], [role=log], [role=timer]");
  return live ? live.outerHTML.slice(0, 80) : null;
}
"""


def seconds_left(clock_text: str) -> int:
    minutes, seconds = clock_text.split(":")
    return int(minutes) * 60 + int(seconds)


@pytest.mark.parametrize("live_clock", ["frozen"], indirect=True)
def test_the_countdown_and_the_hand_off_status_are_announced_politely_and_sparingly(
    new_context: NewContext, live_clock: FrozenClock
) -> None:
    page: Page = new_context("desktop").new_page()
    page.clock.install()
    complete_steps_before(page, "qr")

    announce = page.locator("#countdown-announce")
    region = page.locator(".qr-status-region")
    expect(announce).to_have_attribute("aria-live", "polite")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_have_attribute("role", "status")
    expect(region).to_have_text(WAITING)
    # The ticking clock itself is in no live region (it would be read out every second).
    assert page.locator(".countdown-clock").evaluate(LIVE_ANCESTOR_JS) is None

    page.evaluate(WATCH_STATUS_JS)
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 0.5)  # seconds, not ms
    samples: list[tuple[int, str, str, int]] = []
    phone: Page | None = None
    for second in range(305):
        clock_text, said, status, changes = page.evaluate(SAMPLE_JS)
        samples.append((seconds_left(clock_text), said, status, changes))
        if second == 100:  # the phone opens the link: the status changes once
            context = new_context("phone")
            context.set_extra_http_headers(ON_4G)
            phone = context.new_page()
            phone.goto(printed_qr_link(page))
            expect(phone.get_by_role("button", name="這不是我申請的")).to_be_visible()
        if second == 103:  # a poll went out within the last 2 s: let its answer arrive
            expect(region).to_have_text(OPENED)
        page.clock.run_for(1000)

    # The clock counted down every second, from 5:00 to 0:00.
    shown = [left for left, *_ in samples]
    assert shown[0] >= 299 and shown[-1] == 0, shown
    assert len(set(shown)) >= 295, "the visible countdown did not tick every second"
    assert all(a >= b for a, b in zip(shown, shown[1:], strict=False)), "the countdown went up"

    # The live region changed six times, each at its moment, and said nothing else.
    changes: list[tuple[int, str]] = []
    for left, said, *_ in samples:
        if said != (changes[-1][1] if changes else ""):
            changes.append((left, said))
    assert changes == ANNOUNCED, changes

    # The status region: untouched by ~50 unchanged polls, changed once when the phone opened
    # the link, then untouched again by the polls after.
    assert phone is not None
    statuses = [status for *_, status, _changes in samples]
    counts = [count for *_, count in samples]
    opened_at = statuses.index(OPENED)
    assert set(statuses[:opened_at]) == {WAITING} and set(statuses[opened_at:]) == {OPENED}
    assert 100 < opened_at <= 104, opened_at  # with the next poll (every 2 s)
    assert counts[opened_at - 1] == 0, "the status region changed while nothing happened"
    assert counts[opened_at] > 0
    assert counts[-1] == counts[opened_at + 2], "the status region changed again, unchanged"
