"""Fault 5: the server's clock jumping forward and backward under running registrations.

gunicorn runs with CLOCK_OFFSET_FILE (wizard.clock.OffsetFileClock): the test writes the
seconds by which every worker's clock is moved. The setting is refused in production and
with a real carrier gateway (checked at the end)."""

from __future__ import annotations

import pytest

from tests.faults.conftest import MakeSite
from tests.faults.people import ELIGIBLE_IDS, HX, ONCE, Person, ledger, qr_link
from wizard.config import DEFAULTS, ConfigError, check

MINUTE = 60.0


def finish(person: Person) -> None:
    import time

    person.run(time.monotonic() + 30)


def test_clock_jumps_lose_nothing_and_say_what_happened(make_site: MakeSite) -> None:
    """Running: gunicorn with 2 workers on PostgreSQL; four people, each stopped at a
    moment where time matters; the server's clock moved for all workers at once.

    Injected and checked, in turn:
    - +6 min while a desktop shows its QR code (5-minute lifetime): the phone that scans it
      is told the code expired and to make a new one; the desktop says so; 重新產生QRCode
      gives a code that works and the registration completes once.
    - +31 min while a person is at step 3 (30 minutes idle): the next page says the idle
      registration was cleared and to start again, and the old one can no longer be used;
      starting again completes once.
    - +16 min after logging in (15 minutes idle): the next page logs the person out, saying
      why; the binding made stays (one).
    - -10 min (backwards) while a desktop shows its QR code and again after verification:
      the code still works, nothing expires early or twice, completes once.
    """
    site = make_site(workers=2, clock_offset=True)
    offset = 0.0

    def move(seconds: float) -> None:
        nonlocal offset
        offset += seconds
        site.move_clock(offset)

    expired_qr, idle, logged_in, backwards = (Person(site.base, n) for n in ELIGIBLE_IDS[:4])

    # +6 min at step 4: the QR code has expired.
    expired_qr.walk_to("open")
    old_code = expired_qr.qr
    move(6 * MINUTE)
    scan = expired_qr.phone.get(old_code or "")
    assert scan.status == 410 and "QR Code 已逾時" in scan.text
    desktop = expired_qr.desktop.get("/register/qr")
    assert "QR Code 已逾時（有效時間 5 分鐘）" in desktop.text and qr_link(desktop.text) is None
    expired_qr.force_new_qr = True
    expired_qr.stage = "qr"
    finish(expired_qr)
    assert expired_qr.qr != old_code

    # +31 min at step 3: the registration has expired (30 minutes idle).
    idle.walk_to("device")
    move(31 * MINUTE)
    page = idle.desktop.get("/register/device")
    assert (page.status, page.location) == (303, "/login")
    login = idle.desktop.get("/login")
    assert "您的申請已閒置超過 30 分鐘，為保護您的個人資料已清除，請重新開始。" in login.text
    assert idle.desktop.get("/register/device").location == "/login"  # not back to life
    idle.stage = "identify"
    finish(idle)

    # +16 min after logging in (15 minutes idle): logged out, told why.
    finish(logged_in)
    assert logged_in.desktop.get("/account/devices").status == 200
    move(16 * MINUTE)
    page = logged_in.desktop.get("/account/devices")
    assert page.status == 303 and page.location.startswith("/login")
    login = logged_in.desktop.get(page.location)
    assert "閒置超過 15 分鐘已自動登出" in login.text

    # -10 min at step 4 and again after the carrier's confirmation.
    backwards.walk_to("open")
    move(-10 * MINUTE)
    backwards.walk_to("poll")
    move(-10 * MINUTE)
    status = backwards.desktop.get("/register/qr/status?seen=", HX)
    assert status.headers.get("HX-Redirect", "").endswith("/register/done")
    finish(backwards)
    again = backwards.desktop.get("/register/done")
    if again.status == 200:  # binding a second time is refused, saying so
        second = backwards.desktop.post("/register/bind", {"csrf_token": again.csrf()})
        assert second.status == 303 and second.location.startswith("/login")

    people = [expired_qr, idle, logged_in, backwards]
    assert ledger(site.database_url) == {p.national_id: ONCE for p in people}
    print(
        "\nclock: +6 min expired the QR code (new one completed), +31 min cleared an idle"
        " registration (restarted, completed), +16 min logged out an idle session, -20 min"
        " changed nothing; 4/4 registrations completed once"
    )


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"PRODUCTION": True}, "CLOCK_OFFSET_FILE moves the server's clock"),
        (
            {
                "CARRIER_GATEWAY": "http",
                "CARRIER_GATEWAY_URL": "https://gw",
                "CARRIER_GATEWAY_TOKEN": "t",
            },
            "CLOCK_OFFSET_FILE is for fault tests with the carrier simulator only",
        ),
    ],
)
def test_the_clock_hook_is_refused_outside_tests(
    settings: dict[str, object], complaint: str
) -> None:
    """The clock offset can never move a production server's clock."""
    config = {**DEFAULTS, "CLOCK_OFFSET_FILE": "/tmp/offset", **settings}
    with pytest.raises(ConfigError, match=complaint):
        check(config)
