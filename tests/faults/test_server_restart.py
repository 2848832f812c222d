"""Fault 2: the whole server restarted (SIGTERM to gunicorn's master, then started again) in
the middle of registrations."""

from __future__ import annotations

import time

from tests.faults.conftest import MakeSite
from tests.faults.drive import Crowd
from tests.faults.people import ELIGIBLE_IDS, ONCE, Person, ledger, qr_link


def test_a_restart_loses_no_registration(make_site: MakeSite) -> None:
    """Running: gunicorn with 2 workers on PostgreSQL. Three people stopped at known places:
    one at step 3 (device), one whose desktop shows its QR code (step 4), one whose phone
    has opened the QR link (step 5); four more registering at a person's pace.

    Injected: SIGTERM to gunicorn's master (graceful: requests under way finish), then a new
    gunicorn on the same port: every worker is new.

    Checked: each of the three goes on from exactly where they were, with the cookies their
    browsers kept: the same QR code is shown again (not a new one), the phone's hand-off is
    still its own; the four in flight retried what was refused while the server was down;
    every registration completed exactly once, served after the restart only by new workers.
    """
    site = make_site(workers=2)
    server = site.server
    at_device, at_qr, at_phone = (Person(site.base, n) for n in ELIGIBLE_IDS[:3])
    at_device.walk_to("device")
    at_qr.walk_to("open")
    at_phone.walk_to("verify")
    code_before = at_qr.qr
    crowd = Crowd([Person(site.base, n) for n in ELIGIBLE_IDS[3:]], pause=0.2).start()
    time.sleep(0.5)
    old_master, old_workers = server.master, set(server.workers())
    stopped = time.monotonic()
    server.stop()
    stopping = time.monotonic() - stopped
    server.start()
    downtime = time.monotonic() - stopped
    new_workers = set(server.workers())
    assert server.master != old_master and not new_workers & old_workers

    # Where they were: step 3's page, the same QR code, the phone's step-5 page.
    device_page = at_device.desktop.get("/register/device")
    assert device_page.status == 200 and "選擇您的裝置" in device_page.text
    qr_page = at_qr.desktop.get("/register/qr")
    assert qr_page.status == 200 and qr_link(qr_page.text) == code_before
    phone_page = at_phone.phone.get("/phone/verify")
    assert phone_page.status == 200 and "開始驗證" in phone_page.text

    Crowd([at_device, at_qr, at_phone]).start().join()
    crowd.join()
    people = [at_device, at_qr, at_phone, *crowd.people]
    assert all(person.done for person in people)
    assert ledger(site.database_url) == {p.national_id: ONCE for p in people}
    assert crowd.dropped() >= 1, "the people in flight were refused while nothing listened"
    served_after = {
        int(line["pid"])  # type: ignore[arg-type]
        for line in server.request_log()[-20:]
    }
    assert served_after <= new_workers
    print(
        f"\nserver restart: down {downtime:.1f} s ({stopping:.1f} s to stop gracefully),"
        f" {crowd.dropped()} requests refused meanwhile; 7/7 registrations completed once"
    )
