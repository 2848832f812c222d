"""How Debian's Chromium is launched here: by the browser tests, `make screenshots`
(docs/screenshots.py) and the throttled timings (bench/throttled.py).

From /work/shared/toolchain.md: Playwright cannot download its own browser on these machines.
"""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
