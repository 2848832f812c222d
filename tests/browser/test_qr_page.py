"""Step 4's page as a person sees it (issue 13, item 3): a QR code comfortably scannable at every
size, the printed link whole and copyable, and no green "done" button inviting a press before
the phone has verified. (Every test here also fails on any console error or CSP violation: see
conftest.py; the hand-off's every status is driven in test_qr_handoff.py.)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.pages import complete_steps_before, qr_image, scan_qr

pytestmark = pytest.mark.browser

NewContext = Callable[..., BrowserContext]

#: The width of each line the link's text is laid out in, in px (Range client rects).
LINE_WIDTHS_JS = """
el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const lines = new Map();
  for (const rect of range.getClientRects()) {
    const top = Math.round(rect.top);
    lines.set(top, (lines.get(top) || 0) + rect.width);
  }
  return [...lines.values()];
}
"""
BUTTON_LOOK_JS = """
el => { const s = getComputedStyle(el); return [s.backgroundColor, s.color, s.borderColor]; }
"""


def qr_page(new_context: NewContext, kind: str, viewport: dict[str, int] | None = None) -> Page:
    context = new_context(kind)
    page = context.new_page()
    if viewport:
        page.set_viewport_size(viewport)
    complete_steps_before(page, "qr")
    expect(qr_image(page)).to_be_visible()
    return page


@pytest.mark.parametrize(
    ("kind", "viewport", "smallest"),
    [
        ("desktop", None, 240),  # 1280x900
        ("desktop", {"width": 1024, "height": 768}, 240),
        ("tablet", None, 200),  # iPad 820x1180
        ("tablet", {"width": 768, "height": 1024}, 200),
    ],
)
def test_the_qr_code_is_big_enough_to_scan(
    new_context: NewContext, kind: str, viewport: dict[str, int] | None, smallest: int
) -> None:
    page = qr_page(new_context, kind, viewport)
    box = page.locator(".qr-image svg").bounding_box()
    assert box is not None
    assert box["width"] >= smallest and box["height"] >= smallest, box
    assert scan_qr(page).startswith("http")


def test_the_printed_link_is_whole_and_can_be_copied(new_context: NewContext) -> None:
    page = qr_page(new_context, "desktop")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    link = page.locator(".qr-link code")
    widths = link.evaluate(LINE_WIDTHS_JS)
    # Broken where it must be (after /h/ when it does not fit), never a lone character or
    # two on a line of their own.
    assert len(widths) <= 2 and min(widths) >= 0.25 * max(widths), widths
    box = link.bounding_box()
    assert box and box["x"] + box["width"] <= page.viewport_size["width"]  # type: ignore[index]

    copy = page.get_by_role("button", name="複製網址", exact=True)
    expect(copy).to_be_visible()
    copy.click()
    expect(page.locator("#qr-link-copied")).to_have_text("已複製網址")
    assert page.evaluate("navigator.clipboard.readText()") == link.inner_text().strip()


def test_the_done_button_is_not_the_primary_action_while_waiting(new_context: NewContext) -> None:
    page = qr_page(new_context, "desktop")
    done = page.get_by_role("button", name="我已在手機完成驗證", exact=True)
    again = page.get_by_role("button", name="重新產生QRCode", exact=True)
    expect(done).to_have_class("button-secondary")
    assert done.evaluate(BUTTON_LOOK_JS) == again.evaluate(BUTTON_LOOK_JS)  # quiet, like it
    primary = page.locator("button.button").all()
    assert not primary, "step 4 has a primary (green) button while waiting"
