"""A guess of the device type from the browser's own description, for preselection only.

The guess is never trusted: the person's choice at step 3 wins. iPadOS Safari describes itself
as a Mac, so a tablet can look like a desktop; that is why the question is asked at all.
"""

from __future__ import annotations

import re

_TABLET = re.compile(r"iPad|Tablet|PlayBook|Silk|Kindle|(Android(?!.*Mobile))", re.I)
_PHONE = re.compile(r"iPhone|iPod|Mobile|Windows Phone|Opera Mini|IEMobile", re.I)

_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS", "Firefox"),
    ("CriOS", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def guess_device(user_agent: str, ch_mobile: str | None = None) -> str:
    """'desktop', 'tablet' or 'phone'. ``ch_mobile`` is the Sec-CH-UA-Mobile client hint."""
    if ch_mobile == "?1":
        return "phone"
    if _TABLET.search(user_agent or ""):
        return "tablet"
    if _PHONE.search(user_agent or ""):
        return "phone"
    return "desktop"


def summary(user_agent: str, unknown: str = "瀏覽器") -> str:
    """Coarse words for the browser: 'Chrome / Windows'. Never the full string (fingerprint).
    ``unknown`` names a browser not recognised (the caller translates it)."""
    ua = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in ua), unknown)
    system = next((name for token, name in _SYSTEMS if token in ua), "")
    return f"{browser} / {system}" if system else browser
